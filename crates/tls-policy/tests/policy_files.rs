//! Policies from files and names, as `edgeward policy` and the gateway's configuration load
//! them: TOML and JSON files, a built-in name or a path, defaults a file may leave out, and
//! the limits a file must keep.
#![allow(clippy::unwrap_used)]

use edgeward_tls_policy::{Error, TlsPolicy};

const TOML: &str = r#"
name = "fleet"
description = "devices on TLS 1.3 with P-256"
versions = ["TLS1.3"]
cipher_suites = ["TLS_AES_128_GCM_SHA256"]
groups = ["P-256"]
signature_schemes = ["ecdsa_secp256r1_sha256"]
"#;

#[test]
fn a_policy_file_loads_as_toml_or_by_its_json_extension() {
    let dir = tempfile::tempdir().unwrap();
    let from_text = TlsPolicy::from_toml_str(TOML).unwrap();
    assert_eq!(from_text.name(), "fleet");
    assert_eq!(from_text.description(), "devices on TLS 1.3 with P-256");

    let toml = dir.path().join("fleet.toml");
    std::fs::write(&toml, TOML).unwrap();
    assert_eq!(TlsPolicy::load(&toml).unwrap(), from_text);

    let json = dir.path().join("fleet.JSON");
    std::fs::write(&json, serde_json::to_string(&from_text.to_spec()).unwrap()).unwrap();
    assert_eq!(TlsPolicy::load(&json).unwrap(), from_text);

    // The extension decides the parser: TOML text in a .json file is a JSON error.
    let wrong = dir.path().join("fleet.json");
    std::fs::write(&wrong, TOML).unwrap();
    let err = TlsPolicy::load(&wrong).unwrap_err().to_string();
    assert!(err.contains("JSON"), "{err}");

    let missing = dir.path().join("missing.toml");
    assert!(matches!(
        TlsPolicy::load(&missing),
        Err(Error::ReadPolicy { path, .. }) if path == missing
    ));
}

#[test]
fn a_name_is_a_built_in_policy_else_a_path_else_an_error_naming_the_built_ins() {
    assert_eq!(
        TlsPolicy::named_or_file("modern").unwrap(),
        TlsPolicy::named("modern").unwrap()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, TOML).unwrap();
    assert_eq!(
        TlsPolicy::named_or_file(file.to_str().unwrap())
            .unwrap()
            .name(),
        "fleet"
    );
    let unknown = dir.path().join("nope.toml");
    match TlsPolicy::named_or_file(unknown.to_str().unwrap()) {
        Err(Error::UnknownPolicy { name, known }) => {
            assert_eq!(name, unknown.to_str().unwrap());
            assert!(known.contains(&"intermediate"), "{known:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_file_without_resumption_keeps_resumption_on_and_tickets_off() {
    let policy = TlsPolicy::from_toml_str(TOML).unwrap();
    assert!(policy.resumption().enabled);
    assert!(!policy.resumption().tickets);
    let off = TlsPolicy::from_toml_str(&format!("{TOML}[resumption]\nenabled = false\n")).unwrap();
    assert!(!off.resumption().enabled);
    // A [resumption] table that names only tickets leaves resumption on.
    let tickets =
        TlsPolicy::from_toml_str(&format!("{TOML}[resumption]\ntickets = true\n")).unwrap();
    assert!(tickets.resumption().enabled);
    assert!(tickets.resumption().tickets);
}

#[test]
fn alpn_protocols_are_1_to_255_bytes() {
    // RFC 7301 3.1: ProtocolName is opaque<1..2^8-1>.
    let with_alpn =
        |p: &str| TlsPolicy::from_toml_str(&format!("{TOML}alpn = [\"mqtt\", \"{p}\"]\n"));
    assert!(with_alpn(&"a".repeat(255)).is_ok());
    for bad in [String::new(), "a".repeat(256)] {
        match with_alpn(&bad) {
            Err(Error::InvalidPolicy { field, reason, .. }) => {
                assert_eq!(field, "alpn[1]");
                assert_eq!(reason, "must be 1 to 255 bytes");
            }
            other => panic!("{} bytes: {other:?}", bad.len()),
        }
    }
}
