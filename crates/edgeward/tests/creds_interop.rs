//! boto3, configured with a profile whose `credential_process` is `edgeward creds get …
//! --format credential-process`, calls moto's STS GetCallerIdentity. moto is started by the
//! test (`EDGEWARD_PYTHON -m moto.server`) and stopped by pid. Needs the `interop` feature.
#![allow(clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod pki_support;

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> String {
    let python = std::env::var("EDGEWARD_PYTHON").unwrap_or_else(|_| {
        panic!("EDGEWARD_PYTHON is not set: point it at the interop venv's python (cargo xtask test sets it)")
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "EDGEWARD_PYTHON={python} does not exist"
    );
    python
}

const BOTO3_SCRIPT: &str = r#"
import json, sys, boto3
session = boto3.Session(profile_name="edge", region_name="us-east-1")
sts = session.client("sts", endpoint_url=sys.argv[1])
identity = sts.get_caller_identity()
frozen = session.get_credentials().get_frozen_credentials()
print(json.dumps({"Arn": identity["Arn"], "Account": identity["Account"], "AccessKey": frozen.access_key,
                  "Method": session.get_credentials().method}))
"#;

/// Starts moto's server on a free port of 127.0.0.1 (`extra`: more `moto.server` arguments)
/// and waits until it accepts connections.
fn start_moto(python: &str, extra: &[&str]) -> (Moto, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let moto = Moto(
        Command::new(python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut up = false;
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(up, "moto did not start");
    (moto, port)
}

#[test]
fn boto3_uses_edgeward_as_credential_process_against_moto() {
    let python = python();
    let (_moto, port) = start_moto(&python, &[]);

    let endpoint = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let process = format!(
        "{} creds get --source assume-role --profile base --role-arn arn:aws:iam::123456789012:role/edge-device --role-session-name boto3-via-edgeward --endpoint-url {endpoint} --region us-east-1 --duration-seconds 900 --format credential-process",
        env!("CARGO_BIN_EXE_edgeward")
    );
    std::fs::write(
        &config,
        format!(
            "[profile base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\n[profile edge]\ncredential_process = {process}\n"
        ),
    )
    .unwrap();
    let mut command = Command::new(&python);
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    let out = command
        .args(["-c", BOTO3_SCRIPT, &endpoint])
        .env("AWS_CONFIG_FILE", &config)
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("no-credentials"),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "boto3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["Method"], "custom-process");
    assert!(
        result["AccessKey"].as_str().unwrap().starts_with("ASIA"),
        "{result}"
    );
    assert_eq!(result["Account"], "123456789012");
    assert_eq!(
        result["Arn"],
        "arn:aws:sts::123456789012:assumed-role/edge-device/boto3-via-edgeward"
    );
}

/// `--source profile` with a `role_arn` profile calls STS over https with the trust anchors of
/// `--ca`: here moto's STS, serving a certificate an `openssl` CA issued for 127.0.0.1.
#[test]
fn a_role_profile_assumes_over_https_with_the_given_trust_anchors() {
    let python = python();
    let pki = pki_support::TestPki::new();
    let d = pki.dir();
    let cert = d.join("server.pem");
    let key = d.join("server.key");
    let (_moto, port) = start_moto(
        &python,
        &["-c", cert.to_str().unwrap(), "-k", key.to_str().unwrap()],
    );
    let config = d.join("config");
    std::fs::write(
        &config,
        "[profile base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\n[profile edge]\nrole_arn = arn:aws:iam::123456789012:role/edge-device\nrole_session_name = over-https\nsource_profile = base\n",
    )
    .unwrap();
    let creds = |ca: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_edgeward"));
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command
            .args([
                "creds",
                "get",
                "--source",
                "profile",
                "--profile",
                "edge",
                "--json",
            ])
            .args(ca)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", d.join("no-credentials"))
            .env("AWS_ENDPOINT_URL_STS", format!("https://127.0.0.1:{port}"))
            .env("SSL_CERT_FILE", d.join("no-system-bundle.pem"))
            .output()
            .unwrap()
    };

    let ca = d.join("ca.pem");
    let out = creds(&["--ca", ca.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["AccessKeyId"].as_str().unwrap().starts_with("ASIA"),
        "{doc}"
    );
    assert!(!doc["SessionToken"].as_str().unwrap().is_empty(), "{doc}");

    // A trust store without moto's CA: the handshake fails, and says so.
    let other = d.join("other.pem");
    let out = creds(&["--ca", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");

    // No trust store at all (no `--ca`, no system bundle): refused before connecting, naming
    // what is missing.
    let out = creds(&[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TLS client configuration"), "{stderr}");

    // A `--ca` that cannot be read is an error even for a profile that would not need it.
    let out = creds(&["--ca", d.join("missing.pem").to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing.pem"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
