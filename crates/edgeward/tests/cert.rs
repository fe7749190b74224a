//! `edgeward cert`: the built binary against files, cross-checked with openssl.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod pki_support;

fn edgeward(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgeward"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = edgeward(dir, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn with_ca() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &[
            "cert",
            "ca",
            "create",
            "--name",
            "CLI Root",
            "--out",
            "ca.pem",
            "--key-out",
            "ca.key",
        ],
    );
    dir
}

#[test]
fn inspect_certificate_id_equals_openssl_sha256_of_der() {
    let dir = with_ca();
    let d = dir.path();
    assert_eq!(mode(&d.join("ca.key")), 0o600);
    let der = pki_support::openssl(d, &["x509", "-in", "ca.pem", "-outform", "DER"]);
    let mut sha = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    sha.stdin.take().unwrap().write_all(&der).unwrap();
    let expected = String::from_utf8(sha.wait_with_output().unwrap().stdout).unwrap();
    let expected = expected.split_whitespace().next().unwrap();

    let json: serde_json::Value =
        serde_json::from_str(&ok(d, &["cert", "inspect", "ca.pem", "--json"])).unwrap();
    assert_eq!(json["certificate_id"], expected);
    assert_eq!(json["common_name"], "CLI Root");
    assert_eq!(json["basic_constraints"]["ca"], true);
    assert_eq!(json["public_key"]["algorithm"], "ec");
    let text = ok(d, &["cert", "inspect", "ca.pem"]);
    assert!(text.contains(expected), "{text}");
    // DER input works too.
    std::fs::write(d.join("ca.der"), &der).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&ok(d, &["cert", "inspect", "ca.der", "--json"])).unwrap();
    assert_eq!(json["certificate_id"], expected);
}

#[test]
fn issued_device_certificate_verifies_here_and_with_openssl() {
    let dir = with_ca();
    let d = dir.path();
    ok(
        d,
        &[
            "cert",
            "issue",
            "--ca",
            "ca.pem",
            "--ca-key",
            "ca.key",
            "--device",
            "thing-cli",
            "--out",
            "dev.pem",
            "--key-out",
            "dev.key",
        ],
    );
    assert_eq!(mode(&d.join("dev.key")), 0o600);
    let json: serde_json::Value = serde_json::from_str(&ok(
        d,
        &["cert", "verify", "--ca", "ca.pem", "--json", "dev.pem"],
    ))
    .unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["thing_name"], "thing-cli");
    // openssl agrees it is a client certificate of this CA.
    pki_support::openssl(
        d,
        &[
            "verify",
            "-CAfile",
            "ca.pem",
            "-purpose",
            "sslclient",
            "dev.pem",
        ],
    );
    // openssl can use the key we wrote.
    pki_support::openssl(d, &["pkey", "-in", "dev.key", "-noout"]);
}

#[test]
fn verify_exit_codes_and_reasons() {
    let dir = with_ca();
    let d = dir.path();
    ok(
        d,
        &[
            "cert",
            "issue",
            "--ca",
            "ca.pem",
            "--ca-key",
            "ca.key",
            "--device",
            "thing-x",
            "--out",
            "dev.pem",
            "--key-out",
            "dev.key",
        ],
    );

    // Expired at a later time: exit 1 with the reason.
    let out = edgeward(
        d,
        &[
            "cert",
            "verify",
            "--ca",
            "ca.pem",
            "--at",
            "2099-01-01T00:00:00Z",
            "dev.pem",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("expired") && stdout.contains("thing-x"),
        "{stdout}"
    );

    // Another CA: unknown issuer.
    ok(
        d,
        &[
            "cert",
            "ca",
            "create",
            "--name",
            "Other Root",
            "--out",
            "other.pem",
            "--key-out",
            "other.key",
        ],
    );
    let out = edgeward(
        d,
        &["cert", "verify", "--ca", "other.pem", "--json", "dev.pem"],
    );
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rule"], "unknown-issuer");

    // Revoked by a CRL, which openssl parses and agrees lists the serial.
    ok(
        d,
        &[
            "cert", "crl", "--ca", "ca.pem", "--ca-key", "ca.key", "--revoke", "dev.pem",
            "--number", "2", "--out", "ca.crl",
        ],
    );
    let crl_text = String::from_utf8(pki_support::openssl(
        d,
        &["crl", "-in", "ca.crl", "-noout", "-text"],
    ))
    .unwrap();
    let serial = String::from_utf8(pki_support::openssl(
        d,
        &["x509", "-in", "dev.pem", "-noout", "-serial"],
    ))
    .unwrap();
    assert!(
        crl_text.contains(serial.trim().trim_start_matches("serial=")),
        "{crl_text}"
    );
    let out = edgeward(
        d,
        &[
            "cert", "verify", "--ca", "ca.pem", "--crl", "ca.crl", "--json", "dev.pem",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rule"], "revoked-by-crl");

    // Usage and environment errors: exit 2.
    assert_eq!(
        edgeward(d, &["cert", "verify", "--ca", "ca.pem", "missing.pem"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        edgeward(
            d,
            &[
                "cert",
                "verify",
                "--ca",
                "ca.pem",
                "--at",
                "yesterday",
                "dev.pem"
            ]
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        edgeward(d, &["cert", "verify", "dev.pem"]).status.code(),
        Some(2)
    );
}

#[test]
fn server_certificate_is_a_server_not_a_device() {
    let dir = with_ca();
    let d = dir.path();
    ok(
        d,
        &[
            "cert",
            "issue",
            "--ca",
            "ca.pem",
            "--ca-key",
            "ca.key",
            "--server",
            "gw.example",
            "10.0.0.7",
            "--out",
            "srv.pem",
            "--key-out",
            "srv.key",
        ],
    );
    ok(
        d,
        &[
            "cert",
            "verify",
            "--ca",
            "ca.pem",
            "--purpose",
            "server",
            "srv.pem",
        ],
    );
    let out = edgeward(
        d,
        &["cert", "verify", "--ca", "ca.pem", "--json", "srv.pem"],
    );
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rule"], "missing-extended-key-usage");
    let text = String::from_utf8(pki_support::openssl(
        d,
        &["x509", "-in", "srv.pem", "-noout", "-ext", "subjectAltName"],
    ))
    .unwrap();
    assert!(
        text.contains("DNS:gw.example") && text.contains("IP Address:10.0.0.7"),
        "{text}"
    );
}

#[test]
fn csr_on_device_signed_on_ca() {
    let dir = with_ca();
    let d = dir.path();
    ok(
        d,
        &[
            "cert",
            "csr",
            "--thing-name",
            "thing-csr",
            "--key-out",
            "dev.key",
            "--out",
            "dev.csr",
        ],
    );
    assert_eq!(mode(&d.join("dev.key")), 0o600);
    // openssl checks the CSR's self-signature independently.
    let out = pki_support::openssl(
        d,
        &["req", "-in", "dev.csr", "-noout", "-verify", "-subject"],
    );
    assert!(String::from_utf8_lossy(&out).contains("thing-csr"));
    ok(
        d,
        &[
            "cert", "sign-csr", "--ca", "ca.pem", "--ca-key", "ca.key", "--out", "dev.pem",
            "dev.csr",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&ok(
        d,
        &["cert", "verify", "--ca", "ca.pem", "--json", "dev.pem"],
    ))
    .unwrap();
    assert_eq!(json["thing_name"], "thing-csr");
    // The certificate carries the device's key: the public keys match.
    let from_key = pki_support::openssl(d, &["pkey", "-in", "dev.key", "-pubout"]);
    let from_cert = pki_support::openssl(d, &["x509", "-in", "dev.pem", "-noout", "-pubkey"]);
    assert_eq!(from_key, from_cert);
    // A CSR made by openssl is signed too, with an explicit thing name.
    pki_support::openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "o.key",
            "-out",
            "o.csr",
            "-subj",
            "/CN=ignored",
        ],
    );
    ok(
        d,
        &[
            "cert",
            "sign-csr",
            "--ca",
            "ca.pem",
            "--ca-key",
            "ca.key",
            "--thing-name",
            "thing-openssl",
            "--out",
            "o.pem",
            "o.csr",
        ],
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(d, &["cert", "inspect", "o.pem", "--json"])).unwrap();
    assert_eq!(json["common_name"], "thing-openssl");
}

#[test]
fn loose_ca_key_is_refused_with_the_fix() {
    let dir = with_ca();
    let d = dir.path();
    std::fs::set_permissions(d.join("ca.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = edgeward(
        d,
        &[
            "cert",
            "issue",
            "--ca",
            "ca.pem",
            "--ca-key",
            "ca.key",
            "--device",
            "x",
            "--out",
            "x.pem",
            "--key-out",
            "x.key",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ca.key") && stderr.contains("chmod 600"),
        "{stderr}"
    );
}

#[test]
fn rsa_ca_option() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        d,
        &[
            "cert",
            "ca",
            "create",
            "--name",
            "RSA Root",
            "--key-type",
            "rsa2048",
            "--out",
            "ca.pem",
            "--key-out",
            "ca.key",
        ],
    );
    let text = String::from_utf8(pki_support::openssl(
        d,
        &["x509", "-in", "ca.pem", "-noout", "-text"],
    ))
    .unwrap();
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert!(text.contains("CA:TRUE"), "{text}");
    assert!(text.contains("Certificate Sign, CRL Sign"), "{text}");
}

/// `cert inspect` of a file with two certificates: two blocks, one blank line between them,
/// each with the dates openssl reads from the same certificate (`-dateopt iso_8601`, the
/// RFC 3339 form with a space for the `T`); `--json` gives an array.
#[test]
fn inspect_shows_every_certificate_of_a_chain_with_openssl_dates() {
    let pki = pki_support::TestPki::new();
    let d = pki.dir();
    let mut chain = std::fs::read(d.join("device.pem")).unwrap();
    chain.extend(std::fs::read(d.join("ca.pem")).unwrap());
    std::fs::write(d.join("chain.pem"), chain).unwrap();
    let dates = |file: &str| {
        let text = String::from_utf8(pki_support::openssl(
            d,
            &[
                "x509",
                "-in",
                file,
                "-noout",
                "-startdate",
                "-enddate",
                "-dateopt",
                "iso_8601",
            ],
        ))
        .unwrap();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap()
                .replace(' ', "T")
        };
        (field("notBefore="), field("notAfter="))
    };

    let text = ok(d, &["cert", "inspect", "chain.pem"]);
    let blocks: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(blocks.len(), 2, "{text:?}");
    for (block, (file, subject)) in blocks.iter().zip([
        ("device.pem", "CN=thing-7"),
        ("ca.pem", "CN=edgeward test CA"),
    ]) {
        assert!(block.starts_with("Certificate ID:"), "{block}");
        assert!(
            block.contains(&format!("Subject:             {subject}\n")),
            "{block}"
        );
        let (not_before, not_after) = dates(file);
        assert!(
            block.contains(&format!("Not before:          {not_before}\n")),
            "{block}\nopenssl: {not_before}"
        );
        assert!(
            block.contains(&format!("Not after:           {not_after}\n")),
            "{block}\nopenssl: {not_after}"
        );
    }

    let json: serde_json::Value =
        serde_json::from_str(&ok(d, &["cert", "inspect", "chain.pem", "--json"])).unwrap();
    let array = json.as_array().unwrap();
    assert_eq!(array.len(), 2);
    assert_eq!(array[0]["common_name"], "thing-7");
    assert_eq!(array[1]["common_name"], "edgeward test CA");
}
