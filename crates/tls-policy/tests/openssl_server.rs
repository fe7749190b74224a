//! Server side against real OpenSSL: `openssl s_client` connects to the `policy_server`
//! example (which runs `PolicyAcceptor` with the `intermediate` policy); every connection's
//! JSON line must carry the verdict the issue asks for. ECDSA P-256 and RSA-2048 certificates.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;

use common::{s_client, KeyKind, Pki, PolicyServer};
use edgeward_tls_policy::{client_config, AcceptSettings, PolicyConnector, TlsPolicy};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn refused(server: &mut PolicyServer, pki: &Pki, args: &[&str], reason_prefix: &str, alert: &str) {
    let out = s_client(server.peer.addr, &pki.ca, args);
    let line = server.next_line();
    assert_eq!(line["accepted"], false, "{args:?}: {line}");
    let reason = line["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(reason_prefix),
        "{args:?}: reason {reason:?}"
    );
    assert_eq!(line["alert"], alert, "{args:?}: {line}");
    assert!(!out.status.success(), "s_client {args:?} should fail");
    // OpenSSL names the alert it received, e.g. "tlsv1 alert protocol version".
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!("alert {}", alert.replace('_', " "));
    assert!(
        stderr.contains(&expected),
        "{args:?}: s_client stderr lacks {expected:?}: {stderr}"
    );
}

fn accepted(
    server: &mut PolicyServer,
    pki: &Pki,
    args: &[&str],
    version: &str,
    suite: Option<&str>,
) {
    let out = s_client(server.peer.addr, &pki.ca, args);
    let line = server.next_line();
    assert_eq!(line["accepted"], true, "{args:?}: {line}");
    assert_eq!(line["version"], version, "{args:?}: {line}");
    if let Some(suite) = suite {
        assert_eq!(line["suite"], suite, "{args:?}: {line}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Verify return code: 0 (ok)"),
        "{args:?}: {stdout}"
    );
}

fn matrix(kind: KeyKind) {
    let pki = Pki::new(kind);
    let mut server = PolicyServer::start(&pki, "intermediate");
    let legacy = ["-cipher", "DEFAULT@SECLEVEL=0"];
    refused(
        &mut server,
        &pki,
        &[&["-tls1"][..], &legacy].concat(),
        "offers only TLS 1.0;",
        "protocol_version",
    );
    refused(
        &mut server,
        &pki,
        &[&["-tls1_1"][..], &legacy].concat(),
        "offers only TLS 1.0 and TLS 1.1;",
        "protocol_version",
    );
    refused(
        &mut server,
        &pki,
        &["-tls1_2", "-cipher", "AES128-GCM-SHA256"],
        "no forward-secret suite offered: TLS_RSA_WITH_AES_128_GCM_SHA256",
        "insufficient_security",
    );
    let (ecdhe_gcm, ecdhe_cbc, iana) = match kind {
        KeyKind::P256 => (
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES128-SHA",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ),
        KeyKind::Rsa2048 => (
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-RSA-AES128-SHA",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ),
    };
    refused(
        &mut server,
        &pki,
        &["-tls1_2", "-cipher", ecdhe_cbc],
        "no forward-secret AEAD suite offered",
        "insufficient_security",
    );
    accepted(&mut server, &pki, &[], "TLS 1.3", None);
    accepted(&mut server, &pki, &["-tls1_2"], "TLS 1.2", None);
    accepted(
        &mut server,
        &pki,
        &["-tls1_2", "-cipher", ecdhe_gcm],
        "TLS 1.2",
        Some(iana),
    );

    // Garbage gets a clear refusal, and the server keeps serving.
    let mut tcp = TcpStream::connect(server.peer.addr).unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
    let line = server.next_line();
    assert_eq!(line["accepted"], false);
    assert!(
        line["reason"]
            .as_str()
            .unwrap()
            .contains("not TLS: first byte 0x47"),
        "{line}"
    );
    drop(tcp);
    accepted(&mut server, &pki, &[], "TLS 1.3", None);
}

#[test]
fn s_client_matrix_against_policy_server_p256() {
    matrix(KeyKind::P256);
}

#[test]
fn s_client_matrix_against_policy_server_rsa2048() {
    matrix(KeyKind::Rsa2048);
}

/// The example's claim: a compliant client gets `200 OK` for an HTTP GET.
#[tokio::test]
async fn policy_server_answers_http_get_with_200() {
    let pki = Pki::new(KeyKind::P256);
    let mut server = PolicyServer::start(&pki, "intermediate");
    let policy = Arc::new(TlsPolicy::named("intermediate").unwrap());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&pki.ca).unwrap())
        .unwrap();
    let config = Arc::new(client_config(&policy, roots, None).unwrap());
    let connector = PolicyConnector::new(policy, config, AcceptSettings::default());
    let tcp = tokio::net::TcpStream::connect(server.peer.addr)
        .await
        .unwrap();
    let (mut tls, report) = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    assert_eq!(
        report.version,
        Some(edgeward_tls_policy::ProtocolVersion::Tls13)
    );
    tls.write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut resp = Vec::new();
    let _ = tls.read_to_end(&mut resp).await;
    let resp = String::from_utf8_lossy(&resp);
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    let line = server.next_line();
    assert_eq!(line["accepted"], true);
    assert_eq!(line["sni"], "localhost");
}
