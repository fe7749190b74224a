//! The interop venv's Python, for every test that starts a Python peer. Declared by
//! `support/mod.rs` and, with `#[path]`, by the differential tests.

use std::process::{Command, Stdio};

use serde_json::Value;

/// The interop venv's Python (`EDGEWARD_PYTHON`, set by `cargo xtask test`); a test that needs
/// it fails without it rather than skipping.
pub(crate) fn interop_python() -> String {
    let python = std::env::var("EDGEWARD_PYTHON").unwrap_or_else(|_| {
        panic!("EDGEWARD_PYTHON is not set: run `cargo xtask test`, or set it to the interop venv's python (target/interop-venv/bin/python)")
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "EDGEWARD_PYTHON={python} does not exist (run `cargo xtask setup`)"
    );
    python
}

/// Runs the venv's Python on `script` with `input` as JSON on stdin, and reads a JSON array of
/// results from its stdout (its stderr goes to the test's); the script must succeed.
pub(crate) fn run_json_script(script: &str, input: &Value) -> Vec<Value> {
    let python = interop_python();
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {python}: {e}"));
    let stdin = child.stdin.take().unwrap();
    serde_json::to_writer(stdin, input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{script} failed: {:?}",
        output.status
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{script} did not print a JSON array: {e}"))
}
