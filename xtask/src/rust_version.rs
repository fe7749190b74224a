//! The `rust-version` each workspace crate declares, held to what its locked dependencies need.
//!
//! A crate's `rust-version` is a promise: Cargo refuses older toolchains with it, and the
//! MSRV-aware resolver of the crate's users picks versions by it. CI has one toolchain, so
//! nothing builds the crates with the version they name; what can be checked is that no
//! dependency in the lock file asks for more. The AWS crates raise theirs with their releases
//! (1.94.1 in 2026), so a `cargo update` can make a true claim false without a word.

use anyhow::{bail, Context};
use serde_json::Value;

use crate::cmd::cargo;

/// A Rust version as `rust-version` writes it: `1.94`, `1.94.1` (missing parts are 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RustVersion([u64; 3]);

impl RustVersion {
    fn parse(text: &str) -> Option<Self> {
        let mut parts = [0; 3];
        let mut pieces = text.split('.');
        for (slot, piece) in parts.iter_mut().zip(pieces.by_ref()) {
            *slot = piece.parse().ok()?;
        }
        (pieces.next().is_none() && !text.is_empty()).then_some(Self(parts))
    }
}

/// A workspace crate that declares less than one of its dependencies needs.
#[derive(Debug, PartialEq)]
struct Shortfall {
    krate: String,
    declared: String,
    /// The dependency that needs the most: `name version`, and its `rust-version`.
    needed_by: String,
    needed: String,
}

/// Every workspace crate with a `rust-version` below the highest one among its normal and build
/// dependencies (the ones its users compile), from `cargo metadata`'s JSON.
fn shortfalls(metadata: &Value) -> anyhow::Result<Vec<Shortfall>> {
    let packages = metadata["packages"]
        .as_array()
        .context("metadata without packages")?;
    let nodes = metadata["resolve"]["nodes"]
        .as_array()
        .context("metadata without a resolve graph")?;
    let package = |id: &str| packages.iter().find(|p| p["id"] == id);
    let node = |id: &str| nodes.iter().find(|n| n["id"] == id);
    let version_of = |p: &Value| -> anyhow::Result<Option<(RustVersion, String)>> {
        match p["rust_version"].as_str() {
            None => Ok(None),
            Some(text) => RustVersion::parse(text)
                .map(|v| Some((v, text.to_owned())))
                .with_context(|| format!("{}: rust-version {text:?} is not a version", p["name"])),
        }
    };

    let mut found = Vec::new();
    let members = metadata["workspace_members"]
        .as_array()
        .context("metadata without workspace members")?;
    for member in members.iter().filter_map(Value::as_str) {
        let krate = package(member).with_context(|| format!("no package {member}"))?;
        let Some((declared, declared_text)) = version_of(krate)? else {
            continue; // xtask, the benches: not for anyone else to build
        };
        let mut seen = vec![member];
        let mut stack = vec![member];
        let mut highest: Option<(RustVersion, String, String)> = None;
        while let Some(id) = stack.pop() {
            let deps = node(id).map_or(&[][..], |n| n["deps"].as_array().map_or(&[][..], |d| d));
            for dep in deps {
                let used_by_users = dep["dep_kinds"].as_array().is_some_and(|kinds| {
                    kinds
                        .iter()
                        .any(|k| k["kind"].is_null() || k["kind"] == "build")
                });
                let Some(dep_id) = dep["pkg"].as_str() else {
                    continue;
                };
                if !used_by_users || seen.contains(&dep_id) {
                    continue;
                }
                seen.push(dep_id);
                stack.push(dep_id);
                let dep_package =
                    package(dep_id).with_context(|| format!("no package {dep_id}"))?;
                if let Some((needs, text)) = version_of(dep_package)? {
                    if highest.as_ref().is_none_or(|(h, _, _)| needs > *h) {
                        let name = format!(
                            "{} {}",
                            dep_package["name"].as_str().unwrap_or("?"),
                            dep_package["version"].as_str().unwrap_or("?")
                        );
                        highest = Some((needs, text, name));
                    }
                }
            }
        }
        if let Some((needs, needed, needed_by)) = highest {
            if needs > declared {
                found.push(Shortfall {
                    krate: krate["name"].as_str().unwrap_or("?").to_owned(),
                    declared: declared_text,
                    needed_by,
                    needed,
                });
            }
        }
    }
    Ok(found)
}

/// Fails when a workspace crate's `rust-version` is below what a locked dependency needs.
pub(crate) fn check() -> anyhow::Result<()> {
    eprintln!("\n==> every crate's rust-version covers its locked dependencies");
    let output = cargo()
        .args([
            "metadata",
            "--locked",
            "--format-version",
            "1",
            "--all-features",
        ])
        .output()
        .context("could not start cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata printed no JSON")?;
    let short = shortfalls(&metadata)?;
    if short.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = short
        .iter()
        .map(|s| {
            format!(
                "{} declares rust-version {}, but {} needs {}",
                s.krate, s.declared, s.needed_by, s.needed
            )
        })
        .collect();
    bail!(
        "{} (raise it in the crate's Cargo.toml, or [workspace.package] where it inherits)",
        lines.join("; ")
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{shortfalls, RustVersion, Shortfall};

    #[test]
    fn versions_parse_as_rust_version_writes_them() {
        assert_eq!(RustVersion::parse("1.94.1"), Some(RustVersion([1, 94, 1])));
        assert_eq!(RustVersion::parse("1.88"), Some(RustVersion([1, 88, 0])));
        assert!(RustVersion::parse("1.88") < RustVersion::parse("1.94.1"));
        assert!(RustVersion::parse("1.9") < RustVersion::parse("1.10"));
        for bad in ["", "1.x", "1.2.3.4", "1..2", "-1.2"] {
            assert_eq!(RustVersion::parse(bad), None, "{bad:?}");
        }
    }

    /// A workspace crate `a` (1.85) using `b` (1.80), which uses `c` (1.90); a dev-dependency
    /// `d` (1.99) does not count, and `x` declares nothing.
    fn metadata(a_declares: &str) -> serde_json::Value {
        let package = |id: &str, rust_version: Option<&str>| serde_json::json!({"id": id, "name": id, "version": "1.0.0", "rust_version": rust_version});
        let dep = |id: &str, kind: Option<&str>| serde_json::json!({"pkg": id, "dep_kinds": [{"kind": kind, "target": null}]});
        serde_json::json!({
            "workspace_members": ["a", "x"],
            "packages": [
                package("a", Some(a_declares)), package("b", Some("1.80")),
                package("c", Some("1.90")), package("d", Some("1.99")), package("x", None),
            ],
            "resolve": {"nodes": [
                {"id": "a", "deps": [dep("b", None), dep("d", Some("dev"))]},
                {"id": "b", "deps": [dep("c", Some("build"))]},
                {"id": "c", "deps": []}, {"id": "d", "deps": []},
                {"id": "x", "deps": [dep("d", None)]},
            ]},
        })
    }

    #[test]
    fn a_crate_declaring_less_than_a_transitive_dependency_needs_is_named() {
        assert_eq!(
            shortfalls(&metadata("1.85")).unwrap(),
            [Shortfall {
                krate: "a".into(),
                declared: "1.85".into(),
                needed_by: "c 1.0.0".into(),
                needed: "1.90".into(),
            }]
        );
        assert_eq!(shortfalls(&metadata("1.90")).unwrap(), []);
        assert_eq!(shortfalls(&metadata("1.90.0")).unwrap(), []);
    }

    #[test]
    fn a_rust_version_that_is_not_one_is_an_error() {
        assert!(shortfalls(&metadata("1.9x")).is_err());
    }
}
