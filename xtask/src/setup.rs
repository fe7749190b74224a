//! `cargo xtask setup`: installs what the tests need, idempotently.
//!
//! - a Python virtualenv at `target/interop-venv` with the pinned interop peers of
//!   `xtask/requirements-interop.txt` (boto3, botocore, awscrt, awscli, moto, sslyze); it is
//!   rebuilt only when that file changes (a stamp holds the file's contents);
//! - `cargo-fuzz`, when `cargo fuzz` is not already available;
//! - a check that `openssl` and `curl` are on the PATH (tests start `openssl
//!   s_server`/`s_client`, and use curl's own SigV4 signer as a client).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};

use crate::cmd::{cargo, have, project_root, step, target_dir};

/// What the test steps need to know about the installed tools.
pub(crate) struct Tools {
    /// The venv's `python`, handed to tests as `EDGEWARD_PYTHON`.
    pub(crate) python: PathBuf,
}

pub(crate) fn run() -> anyhow::Result<Tools> {
    if !have("openssl", &["version"]) {
        bail!(
            "`openssl` is not on the PATH; the TLS interop tests need it (apt-get install openssl)"
        );
    }
    if !have("curl", &["--version"]) {
        bail!("`curl` is not on the PATH; the SigV4 layer tests use its signer (apt-get install curl)");
    }
    let python = venv()?;
    if !have("cargo", &["fuzz", "--version"]) {
        step(
            "install cargo-fuzz",
            cargo().args(["install", "cargo-fuzz", "--locked", "--version", "0.13.1"]),
        )?;
    }
    Ok(Tools { python })
}

fn venv() -> anyhow::Result<PathBuf> {
    let requirements_path = project_root().join("xtask/requirements-interop.txt");
    let requirements = std::fs::read_to_string(&requirements_path)
        .with_context(|| format!("reading {}", requirements_path.display()))?;
    let venv = target_dir().join("interop-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("edgeward-requirements.stamp");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&requirements) {
        eprintln!("==> interop venv is up to date ({})", venv.display());
        return Ok(python);
    }
    let system_python = ["python3", "python"]
        .into_iter()
        .find(|p| have(p, &["--version"]))
        .context("no python3 on the PATH; the interop tests need CPython 3.9+")?;
    step(
        "create interop venv",
        Command::new(system_python)
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
    )?;
    step(
        "install interop peers",
        Command::new(&python)
            // No wheel cache: the venv is rebuilt only when its stamp changes, so a cache outside
            // target/ would only hold disk.
            .args(["-m", "pip", "install", "--quiet", "--no-cache-dir", "-r"])
            .arg(&requirements_path),
    )?;
    std::fs::write(&stamp, requirements).context("writing the venv stamp")?;
    Ok(python)
}
