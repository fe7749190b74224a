//! `edgeward creds get`: formats, exit codes, and a real container-credentials endpoint.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn edgeward() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_edgeward"));
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
    command
}

fn with_env_creds(command: &mut Command) -> &mut Command {
    command
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_SESSION_TOKEN", "it's-a-token")
        .env("AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z")
}

#[test]
fn env_source_in_every_format() {
    let out = with_env_creds(edgeward().args([
        "creds",
        "get",
        "--source",
        "env",
        "--format",
        "credential-process",
    ]))
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["Version"], 1);
    assert_eq!(doc["AccessKeyId"], "AKIDEXAMPLE");
    assert_eq!(
        doc["SecretAccessKey"],
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    );
    assert_eq!(doc["SessionToken"], "it's-a-token");
    assert_eq!(doc["Expiration"], "2030-01-01T00:00:00Z");

    let out = with_env_creds(edgeward().args(["creds", "get", "--source", "env", "--json"]))
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc.get("Version").is_none());
    assert_eq!(doc["AccessKeyId"], "AKIDEXAMPLE");

    let out =
        with_env_creds(edgeward().args(["creds", "get", "--source", "env", "--format", "env"]))
            .output()
            .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("export AWS_ACCESS_KEY_ID='AKIDEXAMPLE'\n"),
        "{text}"
    );
    // The single quote is escaped for the shell; check with a real shell.
    let shell = Command::new("sh")
        .arg("-c")
        .arg(format!("{text}\nprintf %s \"$AWS_SESSION_TOKEN\""))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(shell.stdout).unwrap(), "it's-a-token");
}

#[test]
fn failures_and_usage_have_their_exit_codes() {
    let out = edgeward()
        .args(["creds", "get", "--source", "env"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AWS_ACCESS_KEY_ID"));

    let out = edgeward().args(["creds", "get"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in ["env:", "profile:", "container:"] {
        assert!(stderr.contains(name), "{stderr}");
    }

    let out = edgeward()
        .args(["creds", "get", "--source", "assume-role"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role-arn"));

    let out = edgeward()
        .args(["creds", "get", "--source", "container"])
        .env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://192.0.2.1/creds",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("plain HTTP"));

    let out = edgeward()
        .args(["creds", "get", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("credential_process"));
}
