//! Every subcommand with a reader that stopped reading (`edgeward … | head -1`): the output
//! ends, the command does not. Its exit code still says what it concluded, and nothing goes to
//! stderr (where `println!` would have panicked and exited 101). Any other write failure is an
//! environment error.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../signing/tests/sigv4/aws-signing-test-suite/v4/get-vanilla"
);
const AK: &str = "AKIDEXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn edgeward(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_edgeward"));
    command.args(args);
    command
}

/// Runs `command` with stdout a pipe whose reading end is already closed: its exit code and
/// stderr.
fn with_closed_stdout(command: &mut Command) -> (Option<i32>, String) {
    // The pipe's only reader is a process that has exited: every write to it fails with
    // EPIPE, whenever it comes.
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let writer = reader.stdin.take().unwrap();
    assert!(reader.wait().unwrap().success());
    let output = command
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// `verify` still exits 0 for a valid request and 1 for an invalid one; `sign` exits 0.
#[test]
fn sign_and_verify_keep_their_verdict() {
    let request = format!("{SUITE}/header-signed-request.txt");
    for (now, code) in [("20150830T123600Z", 0), ("20150830T130000Z", 1)] {
        let args = ["verify", "--request", &request, "--access-key-id", AK];
        assert_eq!(
            with_closed_stdout(edgeward(&args).args(["--secret-access-key", SK, "--now", now])),
            (Some(code), String::new()),
            "{now}"
        );
    }
    let unsigned = format!("{SUITE}/request.txt");
    assert_eq!(
        with_closed_stdout(
            edgeward(&["sign", "--request", &unsigned, "--region", "us-east-1"])
                .args(["--service", "service", "--now", "20150830T123600Z"])
                .env("AWS_ACCESS_KEY_ID", AK)
                .env("AWS_SECRET_ACCESS_KEY", SK)
                .env_remove("AWS_SESSION_TOKEN")
        ),
        (Some(0), String::new())
    );
}

/// `policy`, `cert inspect`, `creds get` and `audit`, in text and JSON, exit as they would
/// with a reader.
#[test]
fn the_other_subcommands_keep_their_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let ca_key = dir.path().join("ca.key");
    let created = edgeward(&["cert", "ca", "create", "--name", "Closed Stdout Root"])
        .arg("--out")
        .arg(&ca)
        .arg("--key-out")
        .arg(&ca_key)
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let ca = ca.to_str().unwrap();

    // A port nothing listens on: the audit cannot connect, an environment error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unreachable = closed.local_addr().unwrap().to_string();
    drop(closed);

    let cases: [(&[&str], i32); 8] = [
        (&["policy", "list"], 0),
        (&["policy", "list", "--json"], 0),
        (&["policy", "show", "intermediate"], 0),
        (&["policy", "show", "intermediate", "--json"], 0),
        (&["cert", "inspect", ca], 0),
        (&["cert", "inspect", ca, "--json"], 0),
        (&["creds", "get", "--source", "env", "--format", "env"], 0),
        (&["audit", &unreachable, "--json", "--timeout", "2"], 2),
    ];
    for (args, code) in cases {
        let (status, stderr) = with_closed_stdout(
            edgeward(args)
                .env("AWS_ACCESS_KEY_ID", "AKIDCLOSEDSTDOUT")
                .env("AWS_SECRET_ACCESS_KEY", "closed-stdout-secret")
                .env_remove("AWS_SESSION_TOKEN"),
        );
        assert_eq!(status, Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// A stdout that fails for another reason than a gone reader (`/dev/full`: ENOSPC) is an
/// environment error, exit 2 with a message, not a silent success: on both output paths, the
/// whole-report one of `sign` and `verify` and the line-by-line one of the other subcommands.
#[test]
fn a_full_stdout_is_an_environment_error() {
    let request = format!("{SUITE}/header-signed-request.txt");
    let unsigned = format!("{SUITE}/request.txt");
    let verify = [
        "verify",
        "--request",
        &request,
        "--access-key-id",
        AK,
        "--secret-access-key",
        SK,
        "--now",
        "20150830T123600Z",
    ];
    let sign = [
        "sign",
        "--request",
        &unsigned,
        "--region",
        "us-east-1",
        "--service",
        "service",
        "--now",
        "20150830T123600Z",
    ];
    let cases: [&[&str]; 4] = [
        &verify,
        &sign,
        &["policy", "list"],
        &["policy", "show", "intermediate", "--json"],
    ];
    for args in cases {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = edgeward(args)
            .env("AWS_ACCESS_KEY_ID", AK)
            .env("AWS_SECRET_ACCESS_KEY", SK)
            .env_remove("AWS_SESSION_TOKEN")
            .stdin(Stdio::null())
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("No space left on device"),
            "{args:?}: {stderr}"
        );
    }
}
