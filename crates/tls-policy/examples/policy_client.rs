//! A TLS client that offers only what a policy allows and says why a server is refused.
//!
//! ```text
//! cargo run -p edgeward-tls-policy --example policy_client -- \
//!     HOST:PORT --ca CA.pem [--policy NAME|FILE] [--sni NAME]
//! ```
//!
//! Prints one JSON line, `{"server":…,"accepted":…,"reason":…,"version":…,"suite":…}`, and
//! exits with
//! - 0 after a compliant handshake (version and suite printed),
//! - 1 when the policy refused the server (the reason printed: e.g. the server speaks only
//!   TLS 1.0, or offers only static-RSA or CBC suites),
//! - 2 on usage or connection errors (bad arguments, unreachable server, untrusted
//!   certificate, a policy rustls cannot enforce).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use edgeward_tls_policy::{client_config, AcceptSettings, Error, PolicyConnector, TlsPolicy};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::json;

struct Args {
    server: String,
    ca: PathBuf,
    policy: String,
    sni: Option<String>,
}

const USAGE: &str = "usage: policy_client HOST:PORT --ca CA.pem [--policy NAME|FILE] [--sni NAME]";

fn parse_args() -> Result<Args, String> {
    let mut server = None;
    let mut ca = None;
    let mut policy = "intermediate".to_owned();
    let mut sni = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--ca" => ca = Some(PathBuf::from(value()?)),
            "--policy" => policy = value()?,
            "--sni" => sni = Some(value()?),
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with('-') => return Err(format!("unknown argument {flag}")),
            _ if server.is_none() => server = Some(arg),
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    Ok(Args {
        server: server.ok_or("HOST:PORT is required")?,
        ca: ca.ok_or("--ca is required")?,
        policy,
        sni,
    })
}

enum Failure {
    Refused(String),
    Usage(String),
}

async fn run(args: &Args) -> Result<serde_json::Value, Failure> {
    let usage = Failure::Usage;
    let policy = TlsPolicy::named_or_file(&args.policy).map_err(|e| usage(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(&args.ca)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| usage(format!("{}: {e}", args.ca.display())))?;
    for c in certs {
        roots
            .add(c)
            .map_err(|e| usage(format!("{}: {e}", args.ca.display())))?;
    }
    let config = client_config(&policy, roots, None).map_err(|e| usage(e.to_string()))?;
    let host = args
        .server
        .rsplit_once(':')
        .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']'))
        .ok_or_else(|| usage(format!("{} is not HOST:PORT", args.server)))?;
    let name = args.sni.clone().unwrap_or_else(|| host.to_owned());
    let server_name = ServerName::try_from(name.clone())
        .map_err(|e| usage(format!("server name {name:?}: {e}")))?;
    let connect = tokio::net::TcpStream::connect(&args.server);
    let tcp = match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => return Err(usage(format!("connect {}: {e}", args.server))),
        Err(_) => return Err(usage(format!("connect {}: timed out", args.server))),
    };
    let connector = PolicyConnector::new(
        Arc::new(policy),
        Arc::new(config),
        AcceptSettings::default(),
    );
    match connector.connect(server_name, tcp).await {
        Ok((_stream, report)) => Ok(json!({
            "server": args.server,
            "accepted": true,
            "reason": null,
            "version": report.version.map(|v| v.to_string()),
            "suite": report.cipher_suite.map(edgeward_tls_policy::registry::suite_name),
            "group": report.group.map(|g| g.to_string()),
        })),
        Err(Error::Refused(verdict)) => Err(Failure::Refused(verdict.to_string())),
        Err(e) => Err(usage(e.to_string())),
    }
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
    match run(&args).await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(Failure::Refused(reason)) => {
            let line = json!({"server": args.server, "accepted": false, "reason": reason, "version": null, "suite": null});
            println!("{line}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
