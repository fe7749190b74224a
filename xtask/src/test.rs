//! `cargo xtask test`: the one command that proves the tree is good (CI runs exactly this).
//!
//! Every check runs even when an earlier one failed, so one CI log shows every problem;
//! the command fails at the end if any check did.

use crate::cmd::{cargo, have, project_root, step, under_ci};
use crate::{fuzz, setup};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Seconds each fuzz target runs in the smoke run.
    #[arg(long, default_value_t = 20)]
    fuzz_seconds: u64,
    /// Skip the fuzz smoke run (for quick local iterations; CI never passes this).
    #[arg(long)]
    no_fuzz: bool,
}

/// Crates that would be a second crypto or TLS stack next to rustls + aws-lc-rs
/// (ARCHITECTURE.md's invariant); some dependency features quietly pull them in.
const FORBIDDEN_CRATES: &[&str] = &["ring", "openssl", "openssl-sys", "native-tls", "boring"];

/// Fails when any crate of [`FORBIDDEN_CRATES`] is in the workspace's dependency graph.
fn one_crypto_stack() -> anyhow::Result<()> {
    eprintln!(
        "\n==> one crypto stack (no {})",
        FORBIDDEN_CRATES.join(", ")
    );
    let output = cargo()
        .args(["tree", "--workspace", "--all-features", "--target", "all"])
        .args([
            "--edges",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    let mut found: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| FORBIDDEN_CRATES.contains(name))
        .collect();
    found.sort_unstable();
    found.dedup();
    let first = found.first().copied().unwrap_or_default();
    anyhow::ensure!(
        found.is_empty(),
        "second crypto stack in the dependency graph: {} (find who pulls it in with \
         `cargo tree --workspace --all-features -i {}`)",
        found.join(", "),
        first
    );
    Ok(())
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    eprintln!("==> cargo xtask test{}", crate::cmd::free_disk_note());
    let tools = setup::run()?;
    let mut failed = Vec::new();
    let mut check = |result: anyhow::Result<()>| {
        if let Err(error) = result {
            eprintln!("!!! {error:#}");
            failed.push(format!("{error:#}"));
        }
    };

    check(step(
        "rustfmt",
        cargo().args(["fmt", "--all", "--", "--check"]),
    ));
    check(step(
        "rustfmt (fuzz crate)",
        cargo().args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]),
    ));
    // cargo-fuzz has no --locked: without this a stale fuzz/Cargo.lock is silently rewritten.
    for manifest in ["Cargo.toml", "fuzz/Cargo.toml"] {
        check(step(
            &format!("the lock file of {manifest} is in sync with the manifests"),
            cargo()
                .args(["metadata", "--locked", "--format-version", "1"])
                .args(["--manifest-path", manifest])
                .stdout(std::process::Stdio::null()),
        ));
    }
    check(one_crypto_stack());
    check(crate::rust_version::check());
    check(step(
        "clippy",
        cargo()
            .args(["clippy", "--workspace", "--all-targets", "--all-features"])
            .args(["--", "-D", "warnings"]),
    ));
    // The docs are the API's manual: a broken intra-doc link is a bug like a broken test.
    check(step(
        "rustdoc (broken links and bad HTML are errors)",
        cargo()
            .args(["doc", "--workspace", "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    ));

    // `--all-features` turns on each crate's `interop` feature, which builds the test
    // targets that talk to the Python peers; plain `cargo test` leaves them out.
    let mut tests = cargo();
    if have("cargo", &["nextest", "--version"]) {
        tests.args([
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ]);
    } else {
        tests.args([
            "test",
            "--workspace",
            "--all-features",
            "--all-targets",
            "--no-fail-fast",
        ]);
    }
    tests.env("EDGEWARD_PYTHON", &tools.python);
    tests.env("EDGEWARD_S3S_FS", &tools.s3s_fs);
    tests.env("EDGEWARD_JS_PEERS", &tools.js_peers);
    tests.env("EDGEWARD_AWS_CLI_V2", &tools.aws_cli_v2);
    tests.env("EDGEWARD_CHROMIUM", &tools.chromium);
    check(step("unit, integration and interop tests", &mut tests));
    check(step(
        "doc tests",
        cargo().args(["test", "--workspace", "--all-features", "--doc"]),
    ));

    // The clone is thrown away after a CI run and CI's disk is not always large: each build
    // below is removed once nothing needs it, so the bench and fuzz builds are no new peak.
    if under_ci() {
        check(step(
            "remove the test build (CI only: room for the bench and fuzz builds)",
            cargo().args(["clean", "--profile", "dev"]),
        ));
    }
    // Instruction counts do not drift with the machine, so the speed targets can be held in
    // CI without a timed assertion.
    check(crate::instructions::gate());
    if under_ci() {
        check(step(
            "remove the bench build (CI only: room for the fuzz build)",
            cargo().args(["clean", "--profile", "bench"]),
        ));
    }

    if !args.no_fuzz {
        check(fuzz::smoke_all(args.fuzz_seconds));
    }

    if failed.is_empty() {
        eprintln!("\nall checks passed ({})", project_root().display());
        Ok(())
    } else {
        anyhow::bail!(
            "{} check(s) failed:\n  - {}",
            failed.len(),
            failed.join("\n  - ")
        )
    }
}
