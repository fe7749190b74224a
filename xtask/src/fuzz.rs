//! `cargo xtask fuzz`: cargo-fuzz on the stable toolchain.
//!
//! cargo-fuzz passes `-Zsanitizer=…` and other unstable flags; `RUSTC_BOOTSTRAP=1` lets the
//! stable compiler accept them, so the fuzz build needs no nightly toolchain.

use std::process::Command;

use anyhow::Context;

use crate::cmd::{cargo, project_root, step};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The fuzz target (a file name under `fuzz/fuzz_targets/`, without `.rs`).
    target: String,
    /// How long to fuzz.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    fuzz_one(&args.target, args.seconds)
}

/// Builds every target once, then runs each for `seconds` on its committed seed corpus.
pub(crate) fn smoke_all(seconds: u64) -> anyhow::Result<()> {
    let targets = targets()?;
    step("build fuzz targets", &mut cargo_fuzz(&["build"]))?;
    for target in &targets {
        fuzz_one(target, seconds)?;
    }
    Ok(())
}

fn fuzz_one(target: &str, seconds: u64) -> anyhow::Result<()> {
    let corpus = project_root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus).with_context(|| format!("creating {}", corpus.display()))?;
    // The run writes new inputs to a scratch copy so the committed seeds stay as reviewed.
    let scratch = crate::cmd::target_dir().join("fuzz-corpus").join(target);
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let mut cmd = cargo_fuzz(&["run", target]);
    cmd.arg(&scratch).arg(&corpus).args([
        "--",
        &format!("-max_total_time={seconds}"),
        "-max_len=16384",
        "-rss_limit_mb=2048",
        "-print_final_stats=1",
    ]);
    step(&format!("fuzz {target} for {seconds} s"), &mut cmd)
}

fn cargo_fuzz(args: &[&str]) -> Command {
    let mut cmd = cargo();
    cmd.arg("fuzz").args(args);
    cmd.env("RUSTC_BOOTSTRAP", "1");
    cmd.current_dir(project_root());
    cmd
}

/// Every file in `fuzz/fuzz_targets/`, sorted.
fn targets() -> anyhow::Result<Vec<String>> {
    let dir = project_root().join("fuzz/fuzz_targets");
    let mut targets = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            if let Some(stem) = path.file_stem() {
                targets.push(stem.to_string_lossy().into_owned());
            }
        }
    }
    targets.sort();
    anyhow::ensure!(!targets.is_empty(), "no fuzz targets in {}", dir.display());
    Ok(targets)
}
