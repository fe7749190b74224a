//! `cargo xtask setup`: installs what the tests need, idempotently.
//!
//! - a Python virtualenv at `target/interop-venv` with the pinned interop peers of
//!   `xtask/requirements-interop.txt` (boto3, botocore, awscrt, awscli, moto, sslyze, s3cmd,
//!   minio); it is
//!   rebuilt only when that file changes (a stamp holds the file's contents);
//! - `cargo-fuzz`, when `cargo fuzz` is not already available;
//! - s3s-fs (the `s3s` crate's S3 server: a SigV4 verifier we did not write, for the signer's
//!   tests, and the S3 behind the layer for s3cmd, minio-py, minio-js, rclone and restic) at
//!   `target/tools/bin/s3s-fs`, when that is not already the pinned version;
//! - the Node.js peers of `xtask/js-peers/package-lock.json` (the AWS SDK for JavaScript v3:
//!   its SigV4 signer, STS, S3 and SQS clients, S3 presigners; aws4; minio-js; and
//!   playwright-core, which drives Chromium) at
//!   `target/js-peers`, by `npm ci`;
//!   reinstalled only when that lock file changes; `node` must be at least the version the
//!   manifest's `engines.node` names;
//! - rclone and restic (S3 clients with Go SigV4 signers, for the layer's tests), the AWS
//!   CLI v2 (`/usr/bin/aws`, beside the venv's v1, unless `EDGEWARD_AWS_CLI_V2` names one)
//!   and Chromium (a browser that sends POST Object forms, driven by playwright-core; unless
//!   `EDGEWARD_CHROMIUM` names one), from Debian's packages by apt-get when they are missing
//!   and setup runs as root;
//! - a check that `openssl`, `curl` and `valgrind` are on the PATH (tests start `openssl
//!   s_server`/`s_client` and use curl's own SigV4 signer as a client; the speed targets are
//!   held in instructions counted by callgrind).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};

use crate::cmd::{cargo, have, project_root, step, target_dir};

/// What the test steps need to know about the installed tools.
pub(crate) struct Tools {
    /// The venv's `python`, handed to tests as `EDGEWARD_PYTHON`.
    pub(crate) python: PathBuf,
    /// The s3s-fs binary, handed to tests as `EDGEWARD_S3S_FS`.
    pub(crate) s3s_fs: PathBuf,
    /// Where the Node.js peers are installed, handed to tests as `EDGEWARD_JS_PEERS`.
    pub(crate) js_peers: PathBuf,
    /// The AWS CLI v2, handed to tests as `EDGEWARD_AWS_CLI_V2`.
    pub(crate) aws_cli_v2: PathBuf,
    /// Chromium's binary, handed to tests as `EDGEWARD_CHROMIUM`.
    pub(crate) chromium: PathBuf,
}

/// The s3s-fs release the signer tests run against (its `rust-version` fits our toolchain).
const S3S_FS_VERSION: &str = "0.14.1";

pub(crate) fn run() -> anyhow::Result<Tools> {
    if !have("openssl", &["version"]) {
        bail!(
            "`openssl` is not on the PATH; the TLS interop tests need it (apt-get install openssl)"
        );
    }
    if !have("curl", &["--version"]) {
        bail!("`curl` is not on the PATH; the SigV4 layer tests use its signer (apt-get install curl)");
    }
    if !have("valgrind", &["--version"]) {
        bail!("`valgrind` is not on the PATH; the sigv4 speed targets are held in instructions counted by callgrind (apt-get install valgrind)");
    }
    let DebianTools {
        aws_cli_v2,
        chromium,
    } = debian_tools()?;
    let python = venv()?;
    if !have("cargo", &["fuzz", "--version"]) {
        step(
            "install cargo-fuzz",
            cargo().args(["install", "cargo-fuzz", "--locked", "--version", "0.13.1"]),
        )?;
    }
    let s3s_fs = s3s_fs()?;
    let js_peers = js_peers()?;
    Ok(Tools {
        python,
        s3s_fs,
        js_peers,
        aws_cli_v2,
        chromium,
    })
}

/// Debian's packages of the Go S3 clients the layer's tests run: rclone (its SigV4 signer is
/// the AWS SDK for Go v1's) and restic (MinIO's Go client, minio-go). Installed with apt-get
/// when missing and this is root (as in CI); otherwise setup says what to install. The tests
/// find them on the PATH and fail without them.
const DEBIAN_TOOLS: [&str; 2] = ["rclone", "restic"];

/// The AWS CLI v2 as Debian packages it (`awscli`: 2.9.19 in bookworm, with its own copy of
/// botocore): the layer's tests run it beside the venv's v1, which signs and uploads its own
/// way. Its `aws` cannot be looked up on the PATH, where v1 may come first. An
/// `EDGEWARD_AWS_CLI_V2` already set (an AWS CLI v2 installed another way) is taken instead.
const AWS_CLI_V2: &str = "/usr/bin/aws";

/// Chromium as Debian packages it: a browser, to send POST Object forms as a page does (its
/// own `multipart/form-data` encoder), driven by the Node.js peers' playwright-core. The
/// binary itself, not the `/usr/bin/chromium` wrapper, which adds a desktop's flags from
/// `/etc/chromium.d`. An `EDGEWARD_CHROMIUM` already set (a Chromium or Chrome installed
/// another way) is taken instead.
const CHROMIUM: &str = "/usr/lib/chromium/chromium";

/// Whether `aws` is there and says it is version 2.
fn is_aws_cli_v2(aws: &std::ffi::OsStr) -> bool {
    says_version(aws, &[b"aws-cli/2."])
}

/// Whether `browser` is there and says it is Chromium or Chrome.
fn is_chromium(browser: &std::ffi::OsStr) -> bool {
    says_version(browser, &[b"Chromium ", b"Google Chrome "])
}

/// Whether `tool --version` succeeds and starts with one of `prefixes`.
fn says_version(tool: &std::ffi::OsStr, prefixes: &[&[u8]]) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success() && prefixes.iter().any(|p| out.stdout.starts_with(p)))
}

/// The tool `variable` names, when it is set and `is` says it is the tool (`what`), or
/// `default`.
fn given_or(
    variable: &str,
    default: &str,
    is: fn(&std::ffi::OsStr) -> bool,
    what: &str,
) -> anyhow::Result<PathBuf> {
    match std::env::var_os(variable) {
        Some(given) if !is(&given) => bail!(
            "{variable}={} is not {what} (its --version does not say so); unset it to use \
             Debian's ({default})",
            given.to_string_lossy()
        ),
        Some(given) => Ok(PathBuf::from(given)),
        None => Ok(PathBuf::from(default)),
    }
}

/// The Debian tools whose paths the tests are given.
struct DebianTools {
    aws_cli_v2: PathBuf,
    chromium: PathBuf,
}

/// Installs [`DEBIAN_TOOLS`], the AWS CLI v2 and Chromium when they are missing.
fn debian_tools() -> anyhow::Result<DebianTools> {
    let aws_cli_v2 = given_or(
        "EDGEWARD_AWS_CLI_V2",
        AWS_CLI_V2,
        is_aws_cli_v2,
        "an AWS CLI v2",
    )?;
    let chromium = given_or("EDGEWARD_CHROMIUM", CHROMIUM, is_chromium, "Chromium")?;
    let mut missing: Vec<&str> = DEBIAN_TOOLS
        .into_iter()
        .filter(|tool| !have(tool, &["version"]))
        .collect();
    if !is_aws_cli_v2(aws_cli_v2.as_os_str()) {
        missing.push("awscli");
    }
    if !is_chromium(chromium.as_os_str()) {
        missing.push("chromium");
    }
    let tools = DebianTools {
        aws_cli_v2,
        chromium,
    };
    if missing.is_empty() {
        return Ok(tools);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
    if !root || !have("apt-get", &["--version"]) {
        let names: Vec<String> = missing
            .iter()
            .map(|&tool| match tool {
                "awscli" => format!("the AWS CLI v2 ({AWS_CLI_V2} or EDGEWARD_AWS_CLI_V2)"),
                "chromium" => format!("Chromium ({CHROMIUM} or EDGEWARD_CHROMIUM)"),
                _ => format!("`{tool}`"),
            })
            .collect();
        bail!(
            "{} {} missing; the SigV4 layer's tests run {} as a client \
             (apt-get install {}; run as root, setup does that itself)",
            names.join(" and "),
            if missing.len() == 1 { "is" } else { "are" },
            if missing.len() == 1 { "it" } else { "each" },
            missing.join(" ")
        );
    }
    step(
        "update the package lists (apt-get)",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    step(
        &format!("install {} (apt-get)", missing.join(" and ")),
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing),
    )?;
    if !is_aws_cli_v2(tools.aws_cli_v2.as_os_str()) {
        bail!("apt-get installed awscli, but {AWS_CLI_V2} --version does not say aws-cli/2.");
    }
    if !is_chromium(tools.chromium.as_os_str()) {
        bail!("apt-get installed chromium, but {CHROMIUM} --version does not say Chromium");
    }
    Ok(tools)
}

fn js_peers() -> anyhow::Result<PathBuf> {
    for tool in ["node", "npm"] {
        if !have(tool, &["--version"]) {
            bail!("`{tool}` is not on the PATH; the tests against the AWS SDK for JavaScript need Node.js and npm (apt-get install nodejs npm)");
        }
    }
    let source = project_root().join("xtask/js-peers");
    check_node_version(&source)?;
    let lock = std::fs::read_to_string(source.join("package-lock.json"))
        .context("reading xtask/js-peers/package-lock.json")?;
    let peers = target_dir().join("js-peers");
    let stamp = peers.join("edgeward-lock.stamp");
    if peers.join("node_modules").is_dir()
        && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&lock)
    {
        eprintln!("==> Node.js peers are up to date ({})", peers.display());
        return Ok(peers);
    }
    std::fs::create_dir_all(&peers).with_context(|| format!("creating {}", peers.display()))?;
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(source.join(file), peers.join(file))
            .with_context(|| format!("copying xtask/js-peers/{file}"))?;
    }
    step(
        "install Node.js peers (npm ci)",
        Command::new("npm")
            // Exactly the lock file's packages; none of them runs an install script.
            .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
            .current_dir(&peers),
    )?;
    std::fs::write(&stamp, lock).context("writing the Node.js peers stamp")?;
    Ok(peers)
}

/// Fails when `node` is older than `package.json`'s `engines.node` (`>=N`): the pinned SDK
/// packages require it, and on an older Node.js they fail at `require` or, worse, in the
/// middle of a test with an error that does not name the cause.
fn check_node_version(js_peers: &std::path::Path) -> anyhow::Result<()> {
    let manifest = std::fs::read_to_string(js_peers.join("package.json"))
        .context("reading xtask/js-peers/package.json")?;
    let manifest: serde_json::Value =
        serde_json::from_str(&manifest).context("parsing xtask/js-peers/package.json")?;
    let wanted = manifest["engines"]["node"]
        .as_str()
        .and_then(|range| range.strip_prefix(">="))
        .and_then(major_version)
        .context("xtask/js-peers/package.json: engines.node must be \">=N\"")?;
    let out = Command::new("node")
        .arg("--version")
        .output()
        .context("running `node --version`")?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let found = version
        .strip_prefix('v')
        .and_then(major_version)
        .with_context(|| format!("`node --version` printed {version:?}, not vN.N.N"))?;
    if found < wanted {
        bail!(
            "Node.js {version} is too old: the AWS SDK for JavaScript pinned in \
             xtask/js-peers needs Node.js {wanted}+ (https://nodejs.org/en/download, or \
             NodeSource's packages for Debian)"
        );
    }
    Ok(())
}

/// The major version of `20`, `20.1` or `20.1.2`.
fn major_version(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

fn s3s_fs() -> anyhow::Result<PathBuf> {
    let root = target_dir().join("tools");
    let binary = root.join("bin/s3s-fs");
    let installed = Command::new(&binary)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
    if installed.as_deref() == Some(&format!("s3s-fs {S3S_FS_VERSION}")) {
        eprintln!(
            "==> s3s-fs {S3S_FS_VERSION} is installed ({})",
            binary.display()
        );
        return Ok(binary);
    }
    step(
        "install s3s-fs (a SigV4-verifying S3 server for the signer tests)",
        cargo()
            .args(["install", "s3s-fs", "--locked", "--features", "binary"])
            .args(["--version", S3S_FS_VERSION, "--root"])
            .arg(&root),
    )?;
    Ok(binary)
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
