//! `edgeward creds get`: formats, exit codes, and real credential endpoints: a container
//! endpoint on loopback and over https, and an IoT credentials endpoint over mutual TLS (what
//! it answers, and what the CLI sends it).
#![allow(clippy::unwrap_used)]

use std::process::Command;

mod pki_support;

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

/// The answer AWS documents for the IoT credentials provider's
/// `GET /role-aliases/ALIAS/credentials`.
const IOT_DOCUMENT: &str = r#"{"credentials":{"accessKeyId":"ASIAIOTEXAMPLE","secretAccessKey":"iot-secret","sessionToken":"iot-token","expiration":"2030-01-01T00:00:00Z"}}"#;

/// The JSON `creds get --json` printed, once it exited 0 (else its stderr in the failure).
fn succeeded(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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
    let doc = succeeded(&out);
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

/// `edgeward creds get --source iot --json` for role alias `edge-role` and thing `thing-7`
/// at `endpoint`, trusting `ca`, presenting `DEVICE.pem`/`DEVICE.key` from `pki`.
fn iot_creds(
    pki: &pki_support::TestPki,
    endpoint: std::net::SocketAddr,
    ca: &str,
    device: &str,
) -> Command {
    let mut command = edgeward();
    command
        .args(["creds", "get", "--source", "iot", "--json"])
        .args(["--role-alias", "edge-role", "--thing-name", "thing-7"])
        .args(["--endpoint-url", &endpoint.to_string(), "--ca", ca])
        .args(["--cert", &pki.arg(&format!("{device}.pem"))])
        .args(["--key", &pki.arg(&format!("{device}.key"))]);
    command
}

/// `--source iot` against `openssl s_server` as the credentials endpoint: mutual TLS
/// (`-Verify 1 -verify_return_error`: a client certificate from the test CA is required;
/// without the second, s_server only logs a failed verification), serving the document
/// AWS documents for `GET /role-aliases/ALIAS/credentials` from a file (`-WWW`). The device
/// presents `--cert`/`--key` and trusts `--ca`; a wrong `--ca`, or a device certificate from
/// a CA the endpoint does not trust, is refused with the handshake's reason.
#[test]
fn iot_source_exchanges_a_device_certificate_over_mutual_tls() {
    let pki = pki_support::TestPki::new();
    let www = pki.dir().join("www");
    std::fs::create_dir_all(www.join("role-aliases/edge-role")).unwrap();
    std::fs::write(www.join("role-aliases/edge-role/credentials"), IOT_DOCUMENT).unwrap();
    let ca = pki.arg("ca.pem");
    let server = pki_support::s_server(
        &pki,
        &www,
        &[
            "-CAfile",
            &ca,
            "-Verify",
            "1",
            "-verify_return_error",
            "-WWW",
        ],
    );
    let creds = |ca: &str, device: &str| iot_creds(&pki, server.addr, ca, device).output().unwrap();

    let out = creds(&ca, "device");
    let doc = succeeded(&out);
    assert_eq!(doc["AccessKeyId"], "ASIAIOTEXAMPLE");
    assert_eq!(doc["SecretAccessKey"], "iot-secret");
    assert_eq!(doc["SessionToken"], "iot-token");
    assert_eq!(doc["Expiration"], "2030-01-01T00:00:00Z");

    // The device does not trust the endpoint's issuer.
    let out = creds(&pki.arg("other.pem"), "device");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");

    // The endpoint does not trust the device's issuer: openssl answers with an unknown_ca alert.
    let out = creds(&ca, "stranger");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("UnknownCA"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ASIA"));
}

/// `--source container` at an https endpoint (`openssl s_server -WWW` serving AWS's documented
/// document from a file) trusts `--ca` and nothing else; with no trust store at all (no
/// `--ca`, no system bundle) it is refused before connecting, naming the bundle it could not
/// load.
#[test]
fn container_source_over_https_trusts_the_given_ca() {
    let pki = pki_support::TestPki::new();
    let www = pki.dir().join("www");
    std::fs::create_dir_all(www.join("v2/credentials")).unwrap();
    std::fs::write(
        www.join("v2/credentials/task"),
        r#"{"AccessKeyId":"ASIACONTAINEREXAMPLE","SecretAccessKey":"container-secret","Token":"container-token","Expiration":"2030-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let server = pki_support::s_server(&pki, &www, &["-WWW"]);
    let creds = |ca: &[&str]| {
        edgeward()
            .args(["creds", "get", "--source", "container", "--json"])
            .args(ca)
            .env(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                format!("https://{}/v2/credentials/task", server.addr),
            )
            .env("SSL_CERT_FILE", pki.path("no-system-bundle.pem"))
            .output()
            .unwrap()
    };
    let out = creds(&["--ca", &pki.arg("ca.pem")]);
    let doc = succeeded(&out);
    assert_eq!(doc["AccessKeyId"], "ASIACONTAINEREXAMPLE");
    assert_eq!(doc["SessionToken"], "container-token");

    let out = creds(&["--ca", &pki.arg("other.pem")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");

    let out = creds(&[]);
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("trust anchors") && stderr.contains("no-system-bundle.pem"),
        "{stderr}"
    );
}

/// What `--source iot` sends: `GET /role-aliases/ALIAS/credentials` with `--thing-name` in
/// `x-amzn-iot-thingname`, as AWS documents the call. The endpoint is a bare `openssl
/// s_server` requiring the device's certificate: the test reads the request as the endpoint
/// received it, then answers it.
#[test]
fn iot_source_sends_the_role_alias_and_thing_name() {
    use std::io::{Read, Write};
    let pki = pki_support::TestPki::new();
    let ca = pki.arg("ca.pem");
    let mut server = pki_support::s_server_piped(
        &pki,
        &["-CAfile", &ca, "-Verify", "1", "-verify_return_error"],
    );
    let mut received = server.child.stdout.take().unwrap();
    let mut reply = server.child.stdin.take().unwrap();
    let mut command = iot_creds(&pki, server.addr, &ca, "device");
    let cli = std::thread::spawn(move || command.output().unwrap());
    let (sender, head) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut request = Vec::new();
        let mut byte = [0u8];
        while !request.ends_with(b"\r\n\r\n") && matches!(received.read(&mut byte), Ok(1)) {
            request.push(byte[0]);
        }
        let _ = sender.send(String::from_utf8_lossy(&request).into_owned());
    });
    let head = head
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the endpoint received no request");
    write!(
        reply,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{IOT_DOCUMENT}",
        IOT_DOCUMENT.len()
    )
    .unwrap();
    reply.flush().unwrap();
    let doc = succeeded(&cli.join().unwrap());
    let lines: Vec<&str> = head.lines().collect();
    assert_eq!(
        lines[0], "GET /role-aliases/edge-role/credentials HTTP/1.1",
        "{head}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.eq_ignore_ascii_case("x-amzn-iot-thingname: thing-7")),
        "{head}"
    );
    assert_eq!(doc["AccessKeyId"], "ASIAIOTEXAMPLE");
}
