//! `cargo xtask test`: the one command that proves the tree is good (CI runs exactly this).

use std::process::Command;

use crate::cmd::{cargo, have, project_root, step};
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

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let tools = setup::run()?;

    step("rustfmt", cargo().args(["fmt", "--all", "--", "--check"]))?;
    step(
        "rustfmt (fuzz crate)",
        cargo().args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]),
    )?;
    step(
        "clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;

    // `--all-features` turns on each crate's `interop` feature, which builds the test
    // targets that talk to the Python peers; plain `cargo test` leaves them out.
    let with_tools = |cmd: &mut Command| {
        cmd.env("EDGEWARD_PYTHON", &tools.python);
    };
    if have("cargo", &["nextest", "--version"]) {
        let mut nextest = cargo();
        nextest.args([
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ]);
        with_tools(&mut nextest);
        step(
            "unit, integration and interop tests (nextest)",
            &mut nextest,
        )?;
    } else {
        let mut test = cargo();
        test.args([
            "test",
            "--workspace",
            "--all-features",
            "--all-targets",
            "--no-fail-fast",
        ]);
        with_tools(&mut test);
        step("unit, integration and interop tests", &mut test)?;
    }
    let mut doc = cargo();
    doc.args(["test", "--workspace", "--all-features", "--doc"]);
    step("doc tests", &mut doc)?;

    if !args.no_fuzz {
        fuzz::smoke_all(args.fuzz_seconds)?;
    }
    eprintln!("\nall checks passed ({})", project_root().display());
    Ok(())
}
