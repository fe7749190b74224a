//! boto3, configured with a profile whose `credential_process` is `edgeward creds get …
//! --format credential-process`, calls moto's STS GetCallerIdentity. moto is started by the
//! test (`EDGEWARD_PYTHON -m moto.server`) and stopped by pid. Needs the `interop` feature.
#![allow(clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

#[test]
fn boto3_uses_edgeward_as_credential_process_against_moto() {
    let python = python();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _moto = Moto(
        Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
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
