//! `edgeward`: the operator's command-line tool (TLS policy audits, device certificates,
//! temporary credentials, SigV4 signing and verification); the gateway and the device agent
//! are to come here too.
//!
//! This binary is glue: every piece of real work lives in a library crate
//! (`edgeward-tls-policy`, `edgeward-signing`, `edgeward-device-identity`,
//! `edgeward-sts-credentials`). Each subcommand is one module under `cli/`.
//!
//! Exit codes a script can rely on: 0 ok, 1 the check failed (not compliant, invalid,
//! refused), 2 usage or environment error.

// The doc comments of the `cli` argument structs are clap's `--help` text, written for a
// terminal: `[IPv6]:PORT` and `<unix seconds>` are not links or HTML.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_tracing(args.verbose);
    match cli::run(args) {
        Ok(code) => code.into(),
        Err(error) => {
            eprintln!("error: {error:#}");
            cli::Outcome::UsageOrEnvironment.into()
        }
    }
}
