//! Client side against real OpenSSL: the `policy_client` example (default policy
//! `intermediate`) connects to `openssl s_server` configured compliant (exit 0) and
//! non-compliant: TLS 1.0/1.1 only, static RSA only, CBC only (exit 1, with the reason).
//! ECDSA P-256 and RSA-2048 certificates.
#![allow(clippy::unwrap_used)]

mod common;

use common::{policy_client, s_server, KeyKind, Pki};

fn run(pki: &Pki, server_args: &[&str], client_args: &[&str]) -> (i32, serde_json::Value, String) {
    let server = s_server(pki, server_args);
    let out = policy_client(server.addr, &pki.ca, client_args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), line, stderr)
}

fn compliant(pki: &Pki, server_args: &[&str], version: &str) {
    let (code, line, stderr) = run(pki, server_args, &[]);
    assert_eq!(code, 0, "{server_args:?}: {line} {stderr}");
    assert_eq!(line["accepted"], true);
    assert_eq!(line["version"], version, "{line}");
}

fn refused(pki: &Pki, server_args: &[&str], reason_part: &str) {
    let (code, line, stderr) = run(pki, server_args, &[]);
    assert_eq!(code, 1, "{server_args:?}: {line} {stderr}");
    assert_eq!(line["accepted"], false);
    let reason = line["reason"].as_str().unwrap();
    assert!(reason.contains(reason_part), "{server_args:?}: {reason}");
}

fn matrix(kind: KeyKind) {
    let pki = Pki::new(kind);
    let (ecdhe_gcm, ecdhe_cbc) = match kind {
        KeyKind::P256 => (
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384",
        ),
        KeyKind::Rsa2048 => (
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384",
        ),
    };
    compliant(&pki, &[], "TLS 1.3");
    compliant(&pki, &["-no_tls1_3", "-cipher", ecdhe_gcm], "TLS 1.2");

    let legacy = ["-cipher", "DEFAULT@SECLEVEL=0"];
    refused(&pki, &[&["-tls1"][..], &legacy].concat(), "version");
    refused(&pki, &[&["-tls1_1"][..], &legacy].concat(), "version");
    refused(
        &pki,
        &[&["-no_tls1_3", "-no_tls1_2"][..], &legacy].concat(),
        "version",
    );
    refused(
        &pki,
        &[
            "-no_tls1_3",
            "-cipher",
            "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA",
        ],
        "cipher suites",
    );
    refused(&pki, &["-no_tls1_3", "-cipher", ecdhe_cbc], "cipher suites");
}

#[test]
fn policy_client_matrix_against_s_server_p256() {
    matrix(KeyKind::P256);
}

#[test]
fn policy_client_matrix_against_s_server_rsa2048() {
    matrix(KeyKind::Rsa2048);
}

#[test]
fn policy_client_exit_codes_for_usage_and_untrusted_server() {
    let pki = Pki::new(KeyKind::P256);
    let other = Pki::new(KeyKind::P256);
    // The server's CA is not the one given: a connection error (2), not a policy refusal.
    let server = s_server(&pki, &[]);
    let out = policy_client(server.addr, &other.ca, &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A policy rustls cannot enforce is a usage error naming the part.
    let out = policy_client(server.addr, &pki.ca, &["--policy", "legacy-pfs"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("versions TLS 1.0, TLS 1.1 (rustls implements TLS 1.2 and TLS 1.3 only)"),
        "{stderr}"
    );
    // No such policy.
    let out = policy_client(server.addr, &pki.ca, &["--policy", "no-such-policy"]);
    assert_eq!(out.status.code(), Some(2));
    // The modern policy against a TLS 1.2-only server is refused for the version.
    drop(server);
    let server = s_server(&pki, &["-no_tls1_3"]);
    let out = policy_client(server.addr, &pki.ca, &["--policy", "modern"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
