//! `edgeward policy list|show` through the built binary.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn edgeward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgeward"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn list_names_every_builtin_policy() {
    let out = edgeward(&["policy", "list"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for name in [
        "intermediate (default)",
        "modern",
        "IoTSecurityPolicy_TLS13_1_3_2022_10",
        "IoTSecurityPolicy_TLS13_1_2_2022_10",
        "IoTSecurityPolicy_TLS12_1_2_2022_10",
        "IoTSecurityPolicy_TLS12_1_0_2016_01",
        "IoTSecurityPolicy_TLS12_1_0_2015_01",
        "legacy-pfs",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    let out = edgeward(&["policy", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 8);
    let legacy = list.iter().find(|p| p["name"] == "legacy-pfs").unwrap();
    assert_eq!(legacy["enforceable"], false);
    assert_eq!(
        legacy["versions"],
        serde_json::json!(["TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"])
    );
    let default = list.iter().find(|p| p["default"] == true).unwrap();
    assert_eq!(default["name"], "intermediate");
}

#[test]
fn show_prints_the_issue_policy_and_its_json_loads_back() {
    let out = edgeward(&["policy", "show", "intermediate"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("versions     TLS 1.2, TLS 1.3"), "{text}");
    // The description the built-in policy is defined with (crates/tls-policy/src/builtin.rs).
    assert!(
        text.contains(
            "description  the default: TLS 1.2 + 1.3, ECDHE with AES-GCM or ChaCha20-Poly1305 only\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("groups       X25519MLKEM768, X25519, P-256, P-384"),
        "{text}"
    );
    assert!(
        text.contains("0xC02F  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        "{text}"
    );
    assert!(!text.contains("CBC/stream"), "{text}");

    let out = edgeward(&["policy", "show", "intermediate", "--json"]);
    assert!(out.status.success());
    let spec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(spec["versions"], serde_json::json!(["TLS1.2", "TLS1.3"]));
    assert_eq!(spec["cipher_suites"].as_array().unwrap().len(), 9);
    assert_eq!(spec["resumption"]["tickets"], false);

    // The JSON is the file form: save it, edit it, show the file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.json");
    let mut edited = spec.clone();
    edited["name"] = "mine".into();
    edited["versions"] = serde_json::json!(["TLS1.3"]);
    edited["cipher_suites"] = serde_json::json!(["TLS_AES_128_GCM_SHA256"]);
    std::fs::write(&file, edited.to_string()).unwrap();
    let out = edgeward(&["policy", "show", file.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(back["name"], "mine");
    assert_eq!(
        back["cipher_suites"],
        serde_json::json!(["TLS_AES_128_GCM_SHA256"])
    );
}

#[test]
fn show_aws_policy_marks_it_audit_only() {
    let out = edgeward(&["policy", "show", "IoTSecurityPolicy_TLS12_1_0_2015_01"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("evaluate/audit only"), "{text}");
    assert!(text.contains("TLS_DHE_RSA_WITH_AES_256_CBC_SHA"), "{text}");
}

#[test]
fn invalid_file_is_1_unknown_name_is_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "versions = [\"TLS1.2\"]\ncipher_suites = [\"ECDHE-RSA-AES128-GCM-SHA256\", \"NOPE\"]\ngroups = [\"X25519\"]\nsignature_schemes = [\"ed25519\"]\n",
    )
    .unwrap();
    let out = edgeward(&["policy", "show", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cipher_suites[1]: unknown cipher suite \"NOPE\""),
        "{err}"
    );

    let out = edgeward(&["policy", "show", "no-such-policy"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no built-in policy named \"no-such-policy\""));
}
