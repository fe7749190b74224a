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

/// `--source container` against a container-credentials endpoint on loopback (plain HTTP, as
/// the ECS and EKS agents serve it), answering with the document AWS documents for it
/// (`AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`). Plain HTTP needs no trust store:
/// a missing system bundle is no error here. The request carries the authorization token.
#[test]
fn container_source_reads_a_loopback_endpoint() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push(line.trim_end().to_owned());
        }
        let body = r#"{"AccessKeyId":"ASIACONTAINEREXAMPLE","SecretAccessKey":"container-secret","Token":"container-token","Expiration":"2030-01-01T00:00:00Z","RoleArn":"arn:aws:iam::123456789012:role/task"}"#;
        write!(
            reader.get_mut(),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        head
    });
    let out = edgeward()
        .args(["creds", "get", "--source", "container", "--json"])
        .env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("http://127.0.0.1:{port}/v2/credentials/task"),
        )
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-auth")
        .env("SSL_CERT_FILE", "/nonexistent/bundle.pem")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["AccessKeyId"], "ASIACONTAINEREXAMPLE");
    assert_eq!(doc["SessionToken"], "container-token");
    assert_eq!(doc["Expiration"], "2030-01-01T00:00:00Z");
    let head = server.join().unwrap();
    assert_eq!(head[0], "GET /v2/credentials/task HTTP/1.1");
    assert!(
        head.iter()
            .any(|h| h.eq_ignore_ascii_case("authorization: container-auth")),
        "{head:?}"
    );
}
