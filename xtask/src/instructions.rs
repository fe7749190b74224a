//! `cargo xtask instructions`: instructions per call of each sigv4 bench routine, counted by
//! callgrind.
//!
//! Timings on a shared VM drift by tens of percent; instruction counts do not move between
//! runs, so they are what a change is judged by when its effect is a few percent. Valgrind's
//! CPU has no SHA extensions, so the counts describe a CPU without them.
//!
//! Each routine runs twice under callgrind in `sigv4_paired --calls ID N` (see that bench),
//! with `WARM` calls and with `WARM + calls` calls; the difference of the two totals divided by
//! `calls` is the steady-state cost of one call, without the set-up, the first call's key
//! derivation and the process's own start.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use crate::cmd::{cargo, have, render, target_dir};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Calls counted per routine.
    #[arg(long, default_value_t = 1000)]
    calls: u32,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// Calls made before the counted ones, in both runs: they warm the key cache and lazy
/// initialisation, and cancel out in the difference.
const WARM: u32 = 20;

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    if args.calls == 0 {
        bail!("--calls must be at least 1");
    }
    if !have("valgrind", &["--version"]) {
        bail!("valgrind is not installed (Debian/Ubuntu: apt-get install valgrind)");
    }
    let bench = build_bench()?;
    let listed = list(&bench)?;
    let out_dir = target_dir().join("callgrind");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;

    let mut counts = Vec::new();
    for id in &listed.routines {
        let id = id.as_str();
        let warm = total(&bench, &out_dir, id, WARM)?;
        let measured = total(&bench, &out_dir, id, WARM + args.calls)?;
        let Some(difference) = measured.checked_sub(warm) else {
            bail!("{id}: more calls counted fewer instructions ({warm} then {measured})");
        };
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        counts.push((id, difference as f64 / f64::from(args.calls)));
        eprintln!("    {id}: done");
    }
    let per_call = |id: &str| {
        counts
            .iter()
            .find(|(name, _)| *name == id)
            .map_or(f64::NAN, |(_, count)| *count)
    };

    if args.json {
        let routines: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            // Whole instructions: a count is non-negative and far below 2^52.
            .map(|(id, count)| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let whole = count.round() as u64;
                ((*id).to_owned(), serde_json::json!(whole))
            })
            .collect();
        let ratios: serde_json::Map<String, serde_json::Value> = listed
            .ratios
            .iter()
            .map(|(n, d, _)| {
                (
                    format!("{n}/{d}"),
                    serde_json::json!(per_call(n) / per_call(d)),
                )
            })
            .collect();
        let report = serde_json::json!({
            "calls": args.calls,
            "instructions_per_call": routines,
            "ratios": ratios,
        });
        println!("{report:#}");
    } else {
        println!(
            "instructions per call (callgrind, {} calls each; the targets are for time)",
            args.calls
        );
        for (id, count) in &counts {
            println!("  {id:<17} {count:>10.0}");
        }
        for (numerator, denominator, note) in &listed.ratios {
            println!(
                "  {numerator}/{denominator}: {:.3} ({note})",
                per_call(numerator) / per_call(denominator)
            );
        }
    }
    Ok(())
}

/// Builds `sigv4_paired` as `cargo bench` would and returns the executable's path.
fn build_bench() -> anyhow::Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args([
        "bench",
        "-p",
        "edgeward-benches",
        "--bench",
        "sigv4_paired",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    eprintln!("\n==> building sigv4_paired\n    $ {}", render(&cmd));
    let output = cmd
        .stderr(Stdio::inherit())
        .output()
        .context("could not start cargo")?;
    if !output.status.success() {
        bail!("building sigv4_paired failed ({})", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "sigv4_paired")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .context("cargo named no sigv4_paired executable")
}

/// The instructions callgrind counts for the whole process making `calls` calls of `id`.
fn total(bench: &Path, out_dir: &Path, id: &str, calls: u32) -> anyhow::Result<u64> {
    let out_file = out_dir.join(format!("{id}.{calls}.out"));
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(bench)
        .args(["--calls", id, &calls.to_string()]);
    let output = cmd
        .output()
        .with_context(|| format!("could not start {}", render(&cmd)))?;
    if !output.status.success() {
        bail!(
            "{} failed ({}):\n{}",
            render(&cmd),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let profile = std::fs::read_to_string(&out_file)
        .with_context(|| format!("reading {}", out_file.display()))?;
    profile
        .lines()
        .find_map(|line| line.strip_prefix("summary: "))
        .and_then(|count| count.trim().parse().ok())
        .with_context(|| format!("no `summary:` line in {}", out_file.display()))
}

/// What `sigv4_paired --list` names: its routines in report order, and its ratios as
/// `(numerator, denominator, note)`. The bench is their one definition.
struct Listed {
    routines: Vec<String>,
    ratios: Vec<(String, String, String)>,
}

fn list(bench: &Path) -> anyhow::Result<Listed> {
    let mut cmd = Command::new(bench);
    cmd.arg("--list");
    let output = cmd
        .output()
        .with_context(|| format!("could not start {}", render(&cmd)))?;
    if !output.status.success() {
        bail!("{} failed ({})", render(&cmd), output.status);
    }
    let mut listed = Listed {
        routines: Vec::new(),
        ratios: Vec::new(),
    };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let mut words = line.splitn(4, ' ');
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("routine"), Some(id), None, None) => listed.routines.push(id.to_owned()),
            (Some("ratio"), Some(numerator), Some(denominator), note) => listed.ratios.push((
                numerator.to_owned(),
                denominator.to_owned(),
                note.unwrap_or_default().to_owned(),
            )),
            _ => bail!("{}: unexpected line {line:?}", render(&cmd)),
        }
    }
    if listed.routines.is_empty() {
        bail!("{} listed no routines", render(&cmd));
    }
    Ok(listed)
}
