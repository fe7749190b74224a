//! Running child processes with the command line echoed, and the workspace's paths.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};

/// The workspace root (the parent of `xtask/`).
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The directory cargo builds into, honouring `CARGO_TARGET_DIR`.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => project_root().join("target"),
    }
}

/// The `cargo` that invoked us, so toolchain overrides carry through.
///
/// Under CI (`CI` set) incremental compilation is off: a clean clone never reuses it, and its
/// caches would take disk the build needs.
pub(crate) fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(project_root());
    if under_ci() {
        cmd.env("CARGO_INCREMENTAL", "0");
    }
    cmd
}

/// Whether this runs under CI (`CI` set and not empty): a clean clone, thrown away afterwards.
pub(crate) fn under_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Runs `cmd`, echoing it and how long it took; a non-zero exit is an error.
pub(crate) fn step(name: &str, cmd: &mut Command) -> anyhow::Result<()> {
    eprintln!("\n==> {name}\n    $ {}", render(cmd));
    let started = Instant::now();
    let status = cmd
        .status()
        .with_context(|| format!("{name}: could not start {:?}", cmd.get_program()))?;
    eprintln!(
        "<== {name}: {status} in {:.1?}{}",
        started.elapsed(),
        free_disk_note()
    );
    if !status.success() {
        bail!("{name} failed ({status})");
    }
    Ok(())
}

/// `", N MiB free on disk"` for the filesystem of the target directory, or nothing when `df`
/// cannot tell: a build that dies with "No space left on device" then shows how fast the
/// disk went.
pub(crate) fn free_disk_note() -> String {
    let mut dir = target_dir();
    // Before the first build the target directory may not exist; df needs an existing path.
    while !dir.exists() {
        match dir.parent() {
            Some(parent) => dir = parent.to_path_buf(),
            None => return String::new(),
        }
    }
    let output = Command::new("df").arg("-Pk").arg(&dir).output();
    let free_kib = output.ok().and_then(|out| {
        let text = String::from_utf8_lossy(&out.stdout);
        // POSIX format: a header line, then "fs blocks used available capacity mount".
        text.lines()
            .nth(1)?
            .split_whitespace()
            .nth(3)?
            .parse::<u64>()
            .ok()
    });
    match free_kib {
        Some(kib) => format!(", {} MiB free on disk", kib / 1024),
        None => String::new(),
    }
}

/// Whether `program --version` runs.
pub(crate) fn have(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

pub(crate) fn render(cmd: &Command) -> String {
    let mut line = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            line.push_str(&format!(
                "{}={} ",
                key.to_string_lossy(),
                value.to_string_lossy()
            ));
        }
    }
    line.push_str(&cmd.get_program().to_string_lossy());
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}
