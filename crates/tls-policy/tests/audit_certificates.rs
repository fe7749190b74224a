//! What the audit reads from a server's certificate, checked against what `openssl x509` says of
//! the same certificate: the key's type and size for every key type OpenSSL makes, names,
//! addresses, dates and signature algorithms.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use edgeward_tls_policy::audit::CertificateInfo;

fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    common::openssl_output(dir, args)
}

/// The number in openssl's "Public-Key: (N bit)" line.
fn openssl_key_bits(text: &str) -> u32 {
    let line = text
        .lines()
        .find(|l| l.contains("Public-Key: ("))
        .unwrap_or_else(|| panic!("no Public-Key line in:\n{text}"));
    let number = line.split('(').nth(1).unwrap().split(' ').next().unwrap();
    number.parse().unwrap()
}

/// RSA keys of every size, RSASSA-PSS keys (an RSA key under another OID, RFC 4055 §1.2, which
/// the weak-RSA check must see as RSA) and DSA keys (sized by their prime, RFC 3279 §2.3.2) are
/// read as openssl reads them; so are EC keys.
#[test]
fn key_type_and_size_agree_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        &[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            "dsa_paramgen_bits:2048",
            "-out",
            "dsa.param",
        ],
        d,
    );
    let rows: [(&str, &str, Option<&str>); 11] = [
        ("-newkey rsa:1024", "RSA", None),
        ("-newkey rsa:2048", "RSA", None),
        ("-newkey rsa:3072", "RSA", None),
        ("-newkey rsa-pss -pkeyopt rsa_keygen_bits:2048", "RSA", None),
        ("-newkey rsa-pss -pkeyopt rsa_keygen_bits:1024", "RSA", None),
        ("-newkey dsa:dsa.param", "DSA", None),
        (
            "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
            "EC",
            Some("P-256"),
        ),
        (
            "-newkey ec -pkeyopt ec_paramgen_curve:P-384",
            "EC",
            Some("P-384"),
        ),
        (
            "-newkey ec -pkeyopt ec_paramgen_curve:P-521",
            "EC",
            Some("P-521"),
        ),
        (
            "-newkey ec -pkeyopt ec_paramgen_curve:secp256k1",
            "EC",
            Some("secp256k1"),
        ),
        // RFC 5639 §4.1: brainpoolP256r1, named by its OID.
        (
            "-newkey ec -pkeyopt ec_paramgen_curve:brainpoolP256r1",
            "EC",
            Some("1.3.36.3.3.2.8.1.1.7"),
        ),
    ];
    for (index, (key, key_type, curve)) in rows.into_iter().enumerate() {
        let pem = format!("c{index}.pem");
        let mut args = vec!["req", "-x509", "-nodes", "-keyout", "k.pem", "-out", &pem];
        args.extend(key.split(' '));
        args.extend(["-subj", "/CN=audited", "-days", "1", "-outform", "PEM"]);
        openssl(&args, d);
        let der = openssl(&["x509", "-in", &pem, "-outform", "DER"], d);
        let text =
            String::from_utf8(openssl(&["x509", "-in", &pem, "-noout", "-text"], d)).unwrap();
        let info = CertificateInfo::from_der(&der).unwrap();
        assert_eq!(info.key_type, key_type, "{key}");
        assert_eq!(info.key_bits, openssl_key_bits(&text), "{key}");
        assert_eq!(info.curve.as_deref(), curve, "{key}");
    }
}

/// EdDSA keys, which openssl prints without a size: RFC 8032 public keys are 32 octets for
/// Ed25519 and 57 for Ed448.
#[test]
fn eddsa_keys_are_named_and_sized_by_rfc_8032() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (algorithm, key_type, bits) in [("ed25519", "Ed25519", 256), ("ed448", "Ed448", 456)] {
        let args = [
            "req", "-x509", "-nodes", "-keyout", "k.pem", "-out", "c.pem", "-newkey",
        ];
        openssl(
            &[&args[..], &[algorithm, "-subj", "/CN=ed", "-days", "1"]].concat(),
            d,
        );
        let der = openssl(&["x509", "-in", "c.pem", "-outform", "DER"], d);
        let info = CertificateInfo::from_der(&der).unwrap();
        assert_eq!((info.key_type.as_str(), info.key_bits), (key_type, bits));
        assert_eq!(info.signature_algorithm, key_type);
    }
}

/// Names, addresses, dates and signature algorithms as openssl prints them (its dates with
/// `-dateopt iso_8601`), and the days left counted in whole days, negative once expired.
#[test]
fn names_dates_and_signatures_agree_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows = [
        ("-newkey rsa:2048 -sha384", "sha384WithRSAEncryption"),
        ("-newkey rsa:2048 -sha1", "sha1WithRSAEncryption"),
        (
            "-newkey rsa-pss -pkeyopt rsa_keygen_bits:2048 -sha256",
            "rsassaPss",
        ),
        (
            "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha512",
            "ecdsa-with-SHA512",
        ),
        (
            "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256",
            "ecdsa-with-SHA256",
        ),
    ];
    for (key, signature) in rows {
        let mut args = vec![
            "req", "-x509", "-nodes", "-keyout", "k.pem", "-out", "c.pem",
        ];
        args.extend(key.split(' '));
        args.extend(["-subj", "/O=Audit/CN=audited.example", "-days", "30"]);
        args.extend([
            "-addext",
            "subjectAltName=DNS:audited.example,IP:192.0.2.7,IP:2001:db8::7",
        ]);
        openssl(&args, d);
        let der = openssl(&["x509", "-in", "c.pem", "-outform", "DER"], d);
        let info = CertificateInfo::from_der(&der).unwrap();
        assert_eq!(info.signature_algorithm, signature, "{key}");
        assert_eq!(info.subject, "O=Audit, CN=audited.example");
        assert_eq!(info.issuer, info.subject);
        assert!(info.self_issued);
        assert_eq!(
            info.subject_alt_names,
            ["audited.example", "192.0.2.7", "2001:db8::7"]
        );

        let dates = String::from_utf8(openssl(
            &[
                "x509", "-in", "c.pem", "-noout", "-dates", "-dateopt", "iso_8601",
            ],
            d,
        ))
        .unwrap();
        let date = |field: &str| {
            let line = dates.lines().find(|l| l.starts_with(field)).unwrap();
            line[field.len() + 1..].trim().replace(' ', "T")
        };
        assert_eq!(info.not_before, date("notBefore"));
        assert_eq!(info.not_after, date("notAfter"));
        assert_eq!(info.not_after_unix - info.not_before_unix, 30 * 86_400);
        let at = |unix: i64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix as u64);
        assert_eq!(info.days_left(at(info.not_before_unix)), 30);
        assert_eq!(info.days_left(at(info.not_after_unix - 86_400 - 1)), 1);
        assert_eq!(info.days_left(at(info.not_after_unix)), 0);
        assert_eq!(info.days_left(at(info.not_after_unix + 1)), -1);
    }
    // A certificate issued by another name is not self-issued.
    openssl(
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=leaf.example",
        ],
        d,
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "c.pem",
            "-CAkey",
            "k.pem",
            "-CAcreateserial",
            "-days",
            "1",
            "-out",
            "leaf.pem",
        ],
        d,
    );
    let der = openssl(&["x509", "-in", "leaf.pem", "-outform", "DER"], d);
    let leaf = CertificateInfo::from_der(&der).unwrap();
    assert_eq!(
        (leaf.subject.as_str(), leaf.issuer.as_str()),
        ("CN=leaf.example", "O=Audit, CN=audited.example")
    );
    assert!(!leaf.self_issued);
}
