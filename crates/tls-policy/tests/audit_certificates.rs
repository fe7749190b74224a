//! What the audit reads from a server's certificate, checked against what `openssl x509 -text`
//! says of the same certificate: the key's type and size, for every key type OpenSSL makes.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use edgeward_tls_policy::audit::CertificateInfo;

fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl on PATH");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
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
    let rows: [(&str, &str, Option<&str>); 8] = [
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
