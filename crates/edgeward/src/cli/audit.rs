//! `edgeward audit HOST:PORT`: does this endpoint meet the TLS policy?

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use edgeward_tls_policy::audit::{self, AuditSettings, ProgressFn, ScanProgress};
use edgeward_tls_policy::TlsPolicy;

use super::{out, outln, Outcome};

/// Probe a TLS server and judge what it accepts against a policy.
///
/// Finds the accepted protocol versions (SSL 3.0 to TLS 1.3), every accepted cipher suite per
/// version and the server's preference order, the key-exchange groups, the DHE group size, the
/// certificate chain, session tickets and ALPN, then lists every violation of the policy.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  edgeward audit example.com:443
  edgeward audit 10.0.0.5:8443 --sni api.internal --policy modern
  edgeward audit 127.0.0.1:8443 --policy ./my-policy.toml --json --timeout 10

Exit codes: 0 compliant, 1 not compliant, 2 could not scan (the reason is printed).
The --json schema is documented in the edgeward_tls_policy::audit module (schema_version 1).")]
pub(crate) struct AuditArgs {
    /// The server: HOST:PORT ([IPv6]:PORT for IPv6 addresses).
    target: String,
    /// Server name to send (SNI). Default: HOST when it is a DNS name.
    #[arg(long, value_name = "NAME")]
    sni: Option<String>,
    /// A built-in policy name (intermediate, modern, legacy-pfs, IoTSecurityPolicy_…) or a
    /// TOML/JSON policy file.
    #[arg(long, value_name = "NAME|FILE", default_value = "intermediate")]
    policy: String,
    /// Print the report as JSON (stable schema) on stdout.
    #[arg(long)]
    json: bool,
    /// Time limit of the whole scan, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    timeout: f64,
    /// Most connections open at a time.
    #[arg(long, value_name = "N", default_value_t = 8)]
    concurrency: usize,
}

pub(crate) fn run(args: AuditArgs) -> anyhow::Result<Outcome> {
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    let policy = TlsPolicy::named_or_file(&args.policy)
        .with_context(|| format!("cannot load policy {:?}", args.policy))?;
    let mut settings = AuditSettings::default();
    settings.sni = args.sni.clone();
    settings.timeout = Duration::from_secs_f64(args.timeout);
    settings.concurrency = args.concurrency.max(1);

    let show_progress = std::io::stderr().is_terminal();
    let progress: Option<ProgressFn> = show_progress.then(|| {
        Arc::new(|p: &ScanProgress| {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2Kprobing: {} probes done (last: {})",
                p.probes_done, p.last_probe
            );
            let _ = err.flush();
        }) as ProgressFn
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(audit::audit_with_progress(
        &args.target,
        &policy,
        &settings,
        progress,
    ));
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            if args.json {
                let out = serde_json::json!({
                    "schema_version": audit::SCHEMA_VERSION,
                    "target": args.target,
                    "error": e.to_string(),
                });
                outln!("{out}");
            }
            eprintln!("error: cannot audit {}: {e}", args.target);
            return Ok(Outcome::UsageOrEnvironment);
        }
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!("{}", report.to_text());
    }
    Ok(if report.verdict.compliant {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}
