//! `edgeward policy`: list the built-in TLS policies and show one (or a policy file).

use anyhow::Context as _;
use clap::{Args, Subcommand};
use edgeward_tls_policy::{builtin_names, Error, TlsPolicy};
use serde_json::json;

use super::{outln, Outcome};

/// List the built-in TLS policies or show one.
#[derive(Args)]
#[command(after_help = "Examples:
  edgeward policy list
  edgeward policy list --json
  edgeward policy show intermediate
  edgeward policy show IoTSecurityPolicy_TLS13_1_2_2022_10 --json
  edgeward policy show ./my-policy.toml     # validate a policy file

`show --json` prints the policy in its file form, so it can be saved, edited and loaded again.
Exit codes: 0 ok, 1 the policy file is invalid, 2 unknown policy or unreadable file.")]
pub(crate) struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// List the built-in policies (name, versions, whether rustls can enforce it).
    List {
        /// One JSON array on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Show a built-in policy by NAME, or validate and show a TOML/JSON policy FILE.
    Show {
        /// A built-in name (see `edgeward policy list`) or a path to a .toml/.json file.
        name: String,
        /// The policy in its file form (JSON) on stdout.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(args: PolicyArgs) -> anyhow::Result<Outcome> {
    match args.command {
        PolicyCommand::List { json } => list(json),
        PolicyCommand::Show { name, json } => show(&name, json),
    }
}

fn enforceability(policy: &TlsPolicy) -> Result<(), Vec<String>> {
    match policy.check_enforceable() {
        Ok(()) => Ok(()),
        Err(Error::Unenforceable { parts, .. }) => Err(parts),
        Err(other) => Err(vec![other.to_string()]),
    }
}

fn list(as_json: bool) -> anyhow::Result<Outcome> {
    let mut rows = Vec::new();
    for name in builtin_names() {
        let policy = TlsPolicy::named(name).with_context(|| format!("built-in policy {name}"))?;
        rows.push(policy);
    }
    if as_json {
        let out: Vec<_> = rows
            .iter()
            .map(|p| {
                json!({
                    "name": p.name(),
                    "description": p.description(),
                    "versions": p.versions().iter().map(|v| v.as_str()).collect::<Vec<_>>(),
                    "cipher_suites": p.cipher_suites().len(),
                    "enforceable": enforceability(p).is_ok(),
                    "default": p.name() == "intermediate",
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(Outcome::Ok);
    }
    outln!(
        "{:<38} {:<28} {:>6}  {:<11} DESCRIPTION",
        "NAME",
        "VERSIONS",
        "SUITES",
        "ENFORCED"
    );
    for p in &rows {
        let versions: Vec<String> = p.versions().iter().map(|v| v.to_string()).collect();
        let name = if p.name() == "intermediate" {
            format!("{} (default)", p.name())
        } else {
            p.name().to_owned()
        };
        outln!(
            "{:<38} {:<28} {:>6}  {:<11} {}",
            name,
            versions.join(", "),
            p.cipher_suites().len(),
            if enforceability(p).is_ok() {
                "rustls"
            } else {
                "audit only"
            },
            p.description()
        );
    }
    Ok(Outcome::Ok)
}

fn show(name: &str, as_json: bool) -> anyhow::Result<Outcome> {
    let policy = match TlsPolicy::named_or_file(name) {
        Ok(p) => p,
        Err(e @ (Error::InvalidPolicy { .. } | Error::PolicySyntax { .. })) => {
            eprintln!("error: {e}");
            return Ok(Outcome::CheckFailed);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(Outcome::UsageOrEnvironment);
        }
    };
    if as_json {
        outln!("{}", serde_json::to_string_pretty(&policy)?);
        return Ok(Outcome::Ok);
    }
    outln!(
        "policy       {}",
        if policy.name().is_empty() {
            "(unnamed)"
        } else {
            policy.name()
        }
    );
    if !policy.description().is_empty() {
        outln!("description  {}", policy.description());
    }
    match enforceability(&policy) {
        Ok(()) => outln!("enforced     by rustls (client_config / server_config)"),
        Err(parts) => {
            outln!("enforced     no: evaluate/audit only; rustls cannot enforce:");
            for p in parts {
                outln!("               - {p}");
            }
        }
    }
    let versions: Vec<String> = policy.versions().iter().map(|v| v.to_string()).collect();
    outln!("versions     {}", versions.join(", "));
    outln!("cipher suites (preference order):");
    for s in policy.cipher_suites() {
        outln!(
            "  0x{:04X}  {:<46} {:<32} {}{}",
            s.code,
            s.iana_name,
            s.openssl_name.unwrap_or("-"),
            if s.forward_secret { "FS" } else { "no-FS" },
            if s.aead { " AEAD" } else { " CBC/stream" },
        );
    }
    let groups: Vec<String> = policy.groups().iter().map(|g| g.to_string()).collect();
    outln!(
        "groups       {}",
        if groups.is_empty() {
            "-".to_owned()
        } else {
            groups.join(", ")
        }
    );
    let schemes: Vec<String> = policy
        .signature_schemes()
        .iter()
        .map(|s| s.to_string())
        .collect();
    outln!("signatures   {}", schemes.join(", "));
    let r = policy.resumption();
    outln!(
        "resumption   {}, session tickets {}",
        if r.enabled { "on" } else { "off" },
        if r.tickets { "on" } else { "off" }
    );
    outln!(
        "alpn         {}",
        if policy.alpn().is_empty() {
            "-".to_owned()
        } else {
            policy.alpn().join(", ")
        }
    );
    Ok(Outcome::Ok)
}
