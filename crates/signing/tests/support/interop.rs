//! The interop venv's Python and the Node.js peers, for every test that starts a peer script.
//! Declared by `support/mod.rs` and, with `#[path]`, by the differential tests.

use std::process::{Command, Stdio};

use serde_json::Value;

/// The path `cargo xtask test` hands the tests in the environment variable `name`, which must
/// exist: a test that needs it fails without it rather than skipping. `what` says what to set
/// it to.
fn tool_path(name: &str, what: &str) -> String {
    let path = std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `cargo xtask test`, or set it to {what}")
    });
    assert!(
        std::path::Path::new(&path).exists(),
        "{name}={path} does not exist (run `cargo xtask setup`)"
    );
    path
}

/// The interop venv's Python (`EDGEWARD_PYTHON`).
pub(crate) fn interop_python() -> String {
    tool_path(
        "EDGEWARD_PYTHON",
        "the interop venv's python (target/interop-venv/bin/python)",
    )
}

/// The AWS CLI v2 (`EDGEWARD_AWS_CLI_V2`: Debian's `awscli`, as `/usr/bin/aws`).
#[allow(dead_code)] // the differential tests declare this module and run no CLI
pub(crate) fn aws_cli_v2() -> String {
    tool_path(
        "EDGEWARD_AWS_CLI_V2",
        "an AWS CLI v2 (apt-get install awscli: /usr/bin/aws)",
    )
}

/// Chromium's binary (`EDGEWARD_CHROMIUM`: Debian's `chromium`, as
/// `/usr/lib/chromium/chromium`), for the tests a browser takes part in.
#[allow(dead_code)] // only the POST Object peers' tests run a browser
pub(crate) fn chromium() -> String {
    tool_path(
        "EDGEWARD_CHROMIUM",
        "a Chromium binary (apt-get install chromium: /usr/lib/chromium/chromium)",
    )
}

/// The directory `cargo xtask setup` installs the Node.js peers into (`EDGEWARD_JS_PEERS`:
/// `target/js-peers`, from `xtask/js-peers/package-lock.json`); a test that needs it fails
/// without it rather than skipping.
fn js_peers() -> String {
    let peers = std::env::var("EDGEWARD_JS_PEERS").unwrap_or_else(|_| {
        panic!("EDGEWARD_JS_PEERS is not set: run `cargo xtask test`, or set it to the directory `cargo xtask setup` installs the Node.js peers into (target/js-peers)")
    });
    assert!(
        std::path::Path::new(&peers).join("node_modules").is_dir(),
        "EDGEWARD_JS_PEERS={peers} has no node_modules (run `cargo xtask setup`)"
    );
    peers
}

/// Runs `script` (a `.cjs` file with Node.js and the Node.js peers, any other with the venv's
/// Python) with `input` as JSON on stdin, and reads a JSON array of results from its stdout
/// (its stderr goes to the test's); the script must succeed.
pub(crate) fn run_json_script(script: &str, input: &Value) -> Vec<Value> {
    let mut command = if script.ends_with(".cjs") {
        let mut node = Command::new("node");
        node.env("EDGEWARD_JS_PEERS", js_peers());
        node
    } else {
        Command::new(interop_python())
    };
    let mut child = command
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
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

/// [`run_json_script`] on tokio's blocking pool, so a server the test started on the same
/// runtime keeps answering the script.
#[allow(dead_code)] // the differential tests declare this module and start no server
pub(crate) async fn run_json_script_beside_server(
    script: &'static str,
    input: Value,
) -> Vec<Value> {
    tokio::task::spawn_blocking(move || run_json_script(script, &input))
        .await
        .unwrap_or_else(|e| panic!("{script} panicked or was cancelled: {e}"))
}

/// The result whose `"name"` is `name`, from a script that names its results.
#[allow(dead_code)] // the differential tests declare this module and read results by position
pub(crate) fn result_named<'a>(results: &'a [Value], name: &str) -> &'a Value {
    results
        .iter()
        .find(|result| result["name"] == name)
        .unwrap_or_else(|| panic!("no result named {name}: {results:?}"))
}
