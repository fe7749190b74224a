//! `cargo xtask bench [filter]`: the criterion benches of `edgeward-benches`.

use crate::cmd::{cargo, step};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Only benchmarks whose ID matches this criterion filter (e.g. `handshake` or `sigv4/verify`).
    filter: Option<String>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let mut cmd = cargo();
    cmd.args(["bench", "-p", "edgeward-benches"]);
    if let Some(filter) = &args.filter {
        cmd.args(["--", filter]);
    }
    step("criterion benches", &mut cmd)
}
