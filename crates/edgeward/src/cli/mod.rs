//! Command-line parsing and dispatch: one module per subcommand.

use clap::{Parser, Subcommand};

mod audit;
mod cert;
mod creds;
mod policy;
mod sign;
mod verify;

/// What a subcommand concluded, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // Constructed by the subcommands as they land.
pub(crate) enum Outcome {
    /// 0: the command did what was asked and every check passed.
    Ok,
    /// 1: the check failed: not compliant, invalid, refused.
    CheckFailed,
    /// 2: bad usage, unreadable input, or an environment problem.
    UsageOrEnvironment,
}

impl From<Outcome> for std::process::ExitCode {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Ok => Self::SUCCESS,
            Outcome::CheckFailed => Self::from(1),
            Outcome::UsageOrEnvironment => Self::from(2),
        }
    }
}

/// edgeward: TLS policy, SigV4, device identity and temporary credentials for edge fleets.
#[derive(Parser)]
#[command(name = "edgeward", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 ok, 1 check failed / not compliant / invalid, 2 usage or environment error."
)]
pub(crate) struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Audit(audit::AuditArgs),
    /// Inspect, verify and issue X.509 device certificates.
    Cert(cert::CertArgs),
    /// Obtain temporary AWS credentials (env, profile, STS AssumeRole, IoT X.509, container).
    Creds(creds::CredsArgs),
    /// List the built-in TLS policies, or show one (or validate a policy file).
    Policy(policy::PolicyArgs),
    /// Sign a raw HTTP/1.1 request with SigV4 (header or presigned).
    Sign(sign::SignArgs),
    /// Verify the SigV4 signature of a raw HTTP/1.1 request.
    Verify(verify::VerifyArgs),
}

pub(crate) fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Audit(args) => audit::run(args),
        Command::Cert(args) => cert::run(args),
        Command::Creds(args) => creds::run(args),
        Command::Policy(args) => policy::run(args),
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => verify::run(args),
    }
}

/// Writes a command's whole report to stdout. A reader that stopped reading (`| head`) is not
/// a failure of the command: what it concluded stands, so a broken pipe is not an error here
/// and the exit code still says valid or invalid.
pub(crate) fn write_stdout(report: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(report).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

/// `println!` for a command's report: a reader that stopped reading (`| head`) ends the
/// output but not the command, whose exit code still says what it concluded (`println!` would
/// panic and exit 101). Any other failure to write is an environment error (exit 2).
macro_rules! outln {
    () => {
        $crate::cli::print_report(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::print_report(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;

/// `print!` to [`outln!`] as `print!` is to `println!`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::print_report(format_args!($($arg)*))
    };
}
pub(crate) use out;

/// What [`outln!`] and [`out!`] do.
pub(crate) fn print_report(text: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    match std::io::stdout().lock().write_fmt(text) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write to stdout: {error}");
            std::process::exit(2);
        }
        _ => {}
    }
}

/// Logs go to stderr so stdout stays machine-readable.
pub(crate) fn init_tracing(verbose: u8) {
    // aws-sigv4 traces each canonical request, and a presigned one carries the session token
    // in clear: below `info` it stays quiet unless RUST_LOG asks for it by name.
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug,aws_sigv4=info",
        _ => "trace,aws_sigv4=info",
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(value) if !value.trim().is_empty() => {
            let filter = tracing_subscriber::EnvFilter::try_new(&value)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
            // `RUST_LOG=trace` names no target, yet turns aws-sigv4's traces on.
            match "aws_sigv4=info".parse() {
                Ok(quiet) if !value.contains("aws_sigv4") => filter.add_directive(quiet),
                _ => filter,
            }
        }
        _ => tracing_subscriber::EnvFilter::new(default),
    };
    // Colour only for a terminal that has not asked for none (https://no-color.org): in a
    // file or a pipe the escapes are noise.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
}
