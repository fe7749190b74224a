//! `edgeward audit` against real `openssl s_server` configurations (issue 6), and against
//! servers that misbehave (garbage, stall, close mid-record): the verdict, the exit code, and
//! the accepted versions and suites, which must equal what `openssl ciphers` says the same
//! configuration offers.
#![allow(clippy::unwrap_used)]

mod audit_support;
mod pki_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use audit_support::{
    audit_json, edgeward, matrix, report_suites, report_versions, Material, Server, ALL_VERSIONS,
};

fn check_case(name: &str) {
    let case = matrix().into_iter().find(|c| c.name == name).unwrap();
    let material = Material::new();
    let server = Server::start(&case.args(&material));
    let (code, report, stderr) = audit_json(&server.target(), &[]);
    let violations: Vec<String> = report["verdict"]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        report["verdict"]["compliant"], case.compliant,
        "{name}: violations {violations:#?}\nstderr: {stderr}"
    );
    assert_eq!(
        code,
        if case.compliant { 0 } else { 1 },
        "{name}: exit code; {stderr}"
    );
    assert_eq!(report_versions(&report), case.versions, "{name}: versions");
    for v in ALL_VERSIONS {
        assert_eq!(
            report_suites(&report, v),
            case.expected_suites(v),
            "{name}: suites in {v}"
        );
    }
    for expected in &case.violations {
        assert!(
            violations.iter().any(|v| v.contains(expected)),
            "{name}: no violation contains {expected:?}: {violations:#?}"
        );
    }
    assert!(
        !report["certificate_chain"].as_array().unwrap().is_empty(),
        "{name}: no chain"
    );
}

#[test]
fn tls13_only_is_compliant() {
    check_case("tls13_only");
}

#[test]
fn tls12_ecdhe_gcm_only_is_compliant() {
    check_case("tls12_ecdhe_gcm_only");
}

#[test]
fn tls12_static_rsa_only_is_not_compliant() {
    check_case("tls12_static_rsa_only");
}

#[test]
fn tls10_and_tls11_enabled_is_not_compliant() {
    check_case("tls10_tls11_enabled");
}

#[test]
fn cbc_suites_are_not_compliant() {
    check_case("cbc_suites");
}

#[test]
fn dhe_suites_are_not_compliant_and_the_group_size_is_read() {
    check_case("dhe_suites");
    // The parameters are RFC 7919 ffdhe2048.
    let case = matrix()
        .into_iter()
        .find(|c| c.name == "dhe_suites")
        .unwrap();
    let material = Material::new();
    let server = Server::start(&case.args(&material));
    let (_, report, _) = audit_json(&server.target(), &[]);
    assert_eq!(report["dhe_bits"], 2048);
    let tls12 = &report["versions"][3];
    assert_eq!(tls12["version"], "TLS1.2");
    assert!(tls12["cipher_suites"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["key_exchange"] == "Dhe"));
}

#[test]
fn chacha20_only_is_compliant() {
    check_case("chacha20_only");
}

#[test]
fn expired_certificate_is_not_compliant() {
    check_case("expired_certificate");
}

#[test]
fn certificate_about_to_expire_is_not_compliant() {
    check_case("certificate_expires_in_3_days");
}

#[test]
fn the_report_describes_the_certificate_and_the_groups() {
    let case = matrix()
        .into_iter()
        .find(|c| c.name == "tls13_only")
        .unwrap();
    let material = Material::new();
    let server = Server::start(&case.args(&material));
    let (_, r, _) = audit_json(&server.target(), &["--sni", "localhost"]);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["sni"], "localhost");
    // s_server was given `-groups X25519:P-256:P-384`.
    assert_eq!(r["groups"], serde_json::json!(["P-256", "P-384", "X25519"]));
    let leaf = &r["certificate_chain"][0];
    assert_eq!(leaf["subject"], "CN=localhost");
    assert!(
        leaf["key_type"] == "EC" || leaf["key_type"] == "RSA",
        "{leaf}"
    );
    let sans: Vec<&str> = leaf["subject_alt_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(sans, ["localhost", "127.0.0.1"]);
    assert!(r["certificate_source"]
        .as_str()
        .unwrap()
        .starts_with("rustls handshake"));
    let tls13 = r["versions"][4]["cipher_suites"].as_array().unwrap();
    let enc = |name: &str| {
        tls13
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["encryption"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        enc("TLS_AES_128_GCM_SHA256").as_deref(),
        Some("AES-128-GCM")
    );
    assert_eq!(
        enc("TLS_CHACHA20_POLY1305_SHA256").as_deref(),
        Some("CHACHA20-POLY1305")
    );
    // OpenSSL sends two TLS 1.3 tickets by default.
    assert_eq!(r["session_tickets"]["tls13"], true);
}

#[test]
fn server_preference_order_is_detected() {
    let m = Material::new();
    let args = |pref: bool| {
        let mut a: Vec<String> = [
            "-tls1_2",
            "-cipher",
            "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        a.extend([
            "-cert".into(),
            m.file("rsa.crt"),
            "-key".into(),
            m.file("rsa.key"),
        ]);
        if pref {
            a.push("-serverpref".into());
        }
        a
    };
    let server = Server::start(&args(true));
    let (_, r, _) = audit_json(&server.target(), &[]);
    let tls12 = &r["versions"][3];
    assert_eq!(tls12["preference"], "server");
    let order: Vec<&str> = tls12["cipher_suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["openssl_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-RSA-CHACHA20-POLY1305"
        ]
    );
    drop(server);
    let server = Server::start(&args(false));
    let (_, r, _) = audit_json(&server.target(), &[]);
    assert_eq!(r["versions"][3]["preference"], "client");
}

#[test]
fn human_output_has_a_table_per_version_and_the_verdict() {
    let case = matrix()
        .into_iter()
        .find(|c| c.name == "tls12_static_rsa_only")
        .unwrap();
    let material = Material::new();
    let server = Server::start(&case.args(&material));
    let out = edgeward(&["audit", &server.target()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("TLS 1.2  accepted (3 suites"), "{text}");
    assert!(text.contains("TLS 1.3  refused"), "{text}");
    assert!(
        text.contains("NOT COMPLIANT with policy intermediate"),
        "{text}"
    );
    // No progress indicator when stderr is not a terminal.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("probing"));
}

#[test]
fn a_policy_file_is_used() {
    let case = matrix()
        .into_iter()
        .find(|c| c.name == "tls12_static_rsa_only")
        .unwrap();
    let material = Material::new();
    let server = Server::start(&case.args(&material));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rsa-ok.toml");
    std::fs::write(
        &file,
        r#"name = "static-rsa-ok"
versions = ["TLS1.2"]
cipher_suites = ["AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA256"]
groups = ["X25519", "P-256"]
signature_schemes = ["rsa_pss_rsae_sha256", "rsa_pkcs1_sha256"]
"#,
    )
    .unwrap();
    let (code, r, stderr) = audit_json(&server.target(), &["--policy", file.to_str().unwrap()]);
    assert_eq!(r["verdict"]["policy"], "static-rsa-ok");
    assert_eq!(code, 0, "{r}\n{stderr}");
    let (code, r, _) = audit_json(&server.target(), &["--policy", "modern"]);
    assert_eq!(code, 1);
    let v = r["verdict"]["violations"].to_string();
    assert!(v.contains("accepts TLS 1.2"), "{v}");
}

#[test]
fn nothing_listening_is_exit_2() {
    let port = audit_support::free_port();
    let (code, r, stderr) = audit_json(&format!("127.0.0.1:{port}"), &[]);
    assert_eq!(code, 2);
    assert!(
        r["error"].as_str().unwrap().contains("cannot connect"),
        "{r} {stderr}"
    );
}

#[test]
fn unknown_policy_and_bad_target_are_exit_2() {
    let out = edgeward(&["audit", "127.0.0.1:1", "--policy", "no-such-policy"]);
    assert_eq!(out.status.code(), Some(2));
    let out = edgeward(&["audit", "no-port-here"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HOST:PORT"));
    for timeout in ["0", "-1", "inf", "NaN"] {
        let out = edgeward(&["audit", "127.0.0.1:1", &format!("--timeout={timeout}")]);
        assert_eq!(out.status.code(), Some(2), "--timeout {timeout}");
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("--timeout must be a positive number of seconds"),
            "--timeout {timeout}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A TCP server on a free port that answers every connection with `behaviour`.
fn misbehaving_server(behaviour: fn(std::net::TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behaviour(stream));
        }
    });
    port
}

fn read_hello(s: &mut std::net::TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = s.read(&mut buf);
}

#[test]
fn garbage_is_a_clear_error() {
    let port = misbehaving_server(|mut s| {
        read_hello(&mut s);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let (code, r, _) = audit_json(&format!("127.0.0.1:{port}"), &[]);
    assert_eq!(code, 2);
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("not TLS: the reply starts with 48 54 54 50"),
        "{r}"
    );
}

#[test]
fn a_stalling_server_times_out_within_the_limit() {
    let port = misbehaving_server(|mut s| {
        read_hello(&mut s);
        std::thread::sleep(Duration::from_secs(30));
    });
    let start = Instant::now();
    let out = edgeward(&["audit", &format!("127.0.0.1:{port}"), "--timeout", "2"]);
    let elapsed = start.elapsed();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did not finish within 2s"), "{err}");
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
}

#[test]
fn closing_mid_record_is_a_clear_error() {
    let port = misbehaving_server(|mut s| {
        read_hello(&mut s);
        // A handshake record header announcing 80 bytes, then 10 of them, then close.
        let _ = s.write_all(&[
            0x16, 0x03, 0x03, 0x00, 0x50, 2, 0, 0, 0x4C, 3, 3, 0, 0, 0, 0,
        ]);
    });
    let (code, r, _) = audit_json(&format!("127.0.0.1:{port}"), &[]);
    assert_eq!(code, 2);
    let e = r["error"].as_str().unwrap();
    assert!(
        e.contains("closed the connection mid-record (10 of 80 record body bytes"),
        "{e}"
    );
}

#[test]
fn help_has_examples() {
    let out = edgeward(&["audit", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Examples:") && text.contains("--json") && text.contains("--timeout"));
}
