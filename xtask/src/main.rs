//! `cargo xtask`: the project's workflows as code.
//!
//! Every command a contributor or CI runs lives here, one module per subcommand, so
//! that `.ci/run` is a single line and the README never drifts from what CI does.

mod bench;
mod cmd;
mod fuzz;
mod instructions;
mod rust_version;
mod setup;
mod test;

use clap::{Parser, Subcommand};

/// edgeward project workflows.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install test tools, then run fmt, clippy, every test, the speed targets in instructions
    /// and a smoke run of every fuzz target.
    ///
    /// This is exactly what CI runs (`.ci/run`).
    Test(test::Args),
    /// Install what the tests need (Python venv with interop peers, cargo-fuzz); idempotent.
    Setup,
    /// Run one fuzz target on stable Rust.
    ///
    /// Example: `cargo xtask fuzz client_hello --seconds 60`
    Fuzz(fuzz::Args),
    /// Run the criterion benches (package `edgeward-benches`).
    ///
    /// Example: `cargo xtask bench handshake`
    Bench(bench::Args),
    /// Count instructions per call of each sigv4 bench routine under callgrind (needs
    /// valgrind): deterministic where timings drift, and without SHA extensions.
    ///
    /// Examples: `cargo xtask instructions --json`, `cargo xtask instructions --check`
    Instructions(instructions::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Test(args) => test::run(&args),
        Command::Setup => setup::run().map(|_| ()),
        Command::Fuzz(args) => fuzz::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Instructions(args) => instructions::run(&args),
    }
}
