//! Issue 6 acceptance: for every `openssl s_server` configuration of the matrix, the versions
//! and cipher suites `edgeward audit` finds EQUAL what sslyze (the venv's, through
//! `EDGEWARD_PYTHON`) finds on the same server, and the verdict and exit code are right.
//! Needs the `interop` feature (`cargo xtask test` turns it on and sets `EDGEWARD_PYTHON`).
#![allow(clippy::unwrap_used)]

mod audit_support;
mod pki_support;

use std::collections::BTreeSet;
use std::process::Command;

use audit_support::{audit_json, matrix, report_suites, Material, Server, ALL_VERSIONS};

fn python() -> String {
    let p = std::env::var("EDGEWARD_PYTHON").unwrap_or_else(|_| {
        panic!(
            "EDGEWARD_PYTHON is not set: these sslyze comparisons need the interop venv \
             (run `cargo xtask test`, or set EDGEWARD_PYTHON=target/interop-venv/bin/python)"
        )
    });
    assert!(
        std::path::Path::new(&p).exists(),
        "EDGEWARD_PYTHON={p} does not exist"
    );
    p
}

/// sslyze's accepted suites per version (`SSL3.0` … `TLS1.3`), by IANA name.
fn sslyze(target: &str) -> Vec<(&'static str, BTreeSet<String>)> {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("sslyze.json");
    let out = Command::new(python())
        .args([
            "-m",
            "sslyze",
            "--sslv3",
            "--tlsv1",
            "--tlsv1_1",
            "--tlsv1_2",
            "--tlsv1_3",
            "--quiet",
        ])
        .arg(format!("--json_out={}", out_file.display()))
        .arg(target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sslyze failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let scan = &json["server_scan_results"][0];
    assert_eq!(scan["scan_status"], "COMPLETED", "{scan}");
    let result = &scan["scan_result"];
    let keys = [
        ("SSL3.0", "ssl_3_0_cipher_suites"),
        ("TLS1.0", "tls_1_0_cipher_suites"),
        ("TLS1.1", "tls_1_1_cipher_suites"),
        ("TLS1.2", "tls_1_2_cipher_suites"),
        ("TLS1.3", "tls_1_3_cipher_suites"),
    ];
    keys.iter()
        .map(|(v, key)| {
            let attempt = &result[*key];
            assert_eq!(attempt["status"], "COMPLETED", "sslyze {key}: {attempt}");
            let names = attempt["result"]["accepted_cipher_suites"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["cipher_suite"]["name"].as_str().unwrap().to_owned())
                .collect();
            (*v, names)
        })
        .collect()
}

fn compare(name: &str) {
    let case = matrix().into_iter().find(|c| c.name == name).unwrap();
    let material = Material::new();
    let server = Server::start(&case.args(&material));
    let (code, report, stderr) = audit_json(&server.target(), &[]);
    assert_eq!(code, if case.compliant { 0 } else { 1 }, "{name}: {stderr}");
    assert_eq!(report["verdict"]["compliant"], case.compliant, "{name}");
    let theirs = sslyze(&server.target());
    for (version, sslyze_suites) in theirs {
        assert!(ALL_VERSIONS.contains(&version));
        let ours = report_suites(&report, version);
        assert_eq!(
            ours, sslyze_suites,
            "{name}: {version}: edgeward (left) vs sslyze (right)"
        );
        let accepted = report["versions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["version"] == version && v["accepted"] == true);
        assert_eq!(
            accepted,
            !sslyze_suites.is_empty(),
            "{name}: {version} accepted"
        );
    }
}

#[test]
fn tls13_only_agrees_with_sslyze() {
    compare("tls13_only");
}

#[test]
fn tls12_ecdhe_gcm_only_agrees_with_sslyze() {
    compare("tls12_ecdhe_gcm_only");
}

#[test]
fn tls12_static_rsa_only_agrees_with_sslyze() {
    compare("tls12_static_rsa_only");
}

#[test]
fn tls10_and_tls11_enabled_agrees_with_sslyze() {
    compare("tls10_tls11_enabled");
}

#[test]
fn cbc_suites_agree_with_sslyze() {
    compare("cbc_suites");
}

#[test]
fn dhe_suites_agree_with_sslyze() {
    compare("dhe_suites");
}

#[test]
fn chacha20_only_agrees_with_sslyze() {
    compare("chacha20_only");
}

#[test]
fn expired_certificate_agrees_with_sslyze() {
    compare("expired_certificate");
}
