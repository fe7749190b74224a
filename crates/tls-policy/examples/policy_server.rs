//! A TLS server that enforces a policy and says why it refuses a client.
//!
//! ```text
//! cargo run -p edgeward-tls-policy --example policy_server -- \
//!     --listen 127.0.0.1:8443 --cert CERT.pem --key KEY.pem [--policy NAME|FILE]
//! ```
//!
//! Every connection's ClientHello is evaluated against the policy (default `intermediate`)
//! before rustls sees it. Compliant clients complete the handshake and get `200 OK` for any
//! HTTP request; others get the fitting alert (`protocol_version`, `insufficient_security`,
//! `handshake_failure`). One JSON line per connection goes to stdout:
//!
//! ```text
//! {"peer":"127.0.0.1:50412","accepted":false,"reason":"offers only TLS 1.0; the policy requires TLS 1.2 or TLS 1.3","version":null,"suite":null,"alert":"protocol_version"}
//! ```
//!
//! `--listen 127.0.0.1:0` picks a free port; the address is printed on stderr as
//! `listening on ADDR`. Exit code 2 on usage or start-up errors.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use edgeward_tls_policy::{
    alert_name, server_config, AcceptSettings, Error, PolicyAcceptor, TlsPolicy,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Args {
    listen: SocketAddr,
    cert: PathBuf,
    key: PathBuf,
    policy: String,
}

const USAGE: &str =
    "usage: policy_server --listen ADDR:PORT --cert CERT.pem --key KEY.pem [--policy NAME|FILE]";

fn parse_args() -> Result<Args, String> {
    let mut listen = None;
    let mut cert = None;
    let mut key = None;
    let mut policy = "intermediate".to_owned();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => {
                let v = value()?;
                listen = Some(v.parse().map_err(|e| format!("--listen {v}: {e}"))?);
            }
            "--cert" => cert = Some(PathBuf::from(value()?)),
            "--key" => key = Some(PathBuf::from(value()?)),
            "--policy" => policy = value()?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        listen: listen.ok_or("--listen is required")?,
        cert: cert.ok_or("--cert is required")?,
        key: key.ok_or("--key is required")?,
        policy,
    })
}

fn load(args: &Args) -> Result<(TlsPolicy, rustls::ServerConfig), String> {
    let policy = TlsPolicy::named_or_file(&args.policy).map_err(|e| e.to_string())?;
    let chain = CertificateDer::pem_file_iter(&args.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", args.cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(&args.key)
        .map_err(|e| format!("{}: {e}", args.key.display()))?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified = rustls::sign::CertifiedKey::from_der(chain, key, &provider)
        .map_err(|e| format!("certificate and key: {e}"))?;
    let resolver = Arc::new(rustls::sign::SingleCertAndKey::from(certified));
    let config = server_config(&policy, resolver, None).map_err(|e| e.to_string())?;
    Ok((policy, config))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (policy, config) = match load(&args) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(2);
        }
    };
    match listener.local_addr() {
        Ok(addr) => eprintln!("listening on {addr} with policy {}", policy.name()),
        Err(e) => eprintln!("listening (address unknown: {e})"),
    }
    let acceptor = PolicyAcceptor::new(
        Arc::new(policy),
        Arc::new(config),
        AcceptSettings::default(),
    );
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let line = match acceptor.accept(tcp).await {
                Ok(mut accepted) => {
                    let line = json!({
                        "peer": peer.to_string(),
                        "accepted": true,
                        "reason": null,
                        "version": accepted.report.version.map(|v| v.to_string()),
                        "suite": accepted.report.cipher_suite.map(edgeward_tls_policy::registry::suite_name),
                        "group": accepted.report.group.map(|g| g.to_string()),
                        "sni": accepted.hello.sni,
                    });
                    // Answer one HTTP request; the request is read with a bound and a timeout.
                    let mut req = vec![0u8; 8192];
                    let mut got = 0;
                    let read = async {
                        while got < req.len() && !req[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                            match accepted.stream.read(&mut req[got..]).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => got += n,
                            }
                        }
                    };
                    let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
                    let body = "ok\n";
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = accepted.stream.write_all(resp.as_bytes()).await;
                    let _ = accepted.stream.shutdown().await;
                    line
                }
                Err(e) => {
                    let alert = e.verdict().and_then(|v| v.alert()).map(alert_name);
                    let reason = match &e {
                        Error::Refused(v) => v.to_string(),
                        other => other.to_string(),
                    };
                    json!({
                        "peer": peer.to_string(),
                        "accepted": false,
                        "reason": reason,
                        "version": null,
                        "suite": null,
                        "alert": alert,
                    })
                }
            };
            println!("{line}");
        });
    }
}
