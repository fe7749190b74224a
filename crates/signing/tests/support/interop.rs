//! The interop venv's Python, for every test that starts a Python peer. Declared by
//! `support/mod.rs` and, with `#[path]`, by the differential tests.

/// The interop venv's Python (`EDGEWARD_PYTHON`, set by `cargo xtask test`); a test that needs
/// it fails without it rather than skipping.
pub(crate) fn interop_python() -> String {
    let python = std::env::var("EDGEWARD_PYTHON").unwrap_or_else(|_| {
        panic!("EDGEWARD_PYTHON is not set: run `cargo xtask test`, or set it to the interop venv's python (target/interop-venv/bin/python)")
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "EDGEWARD_PYTHON={python} does not exist (run `cargo xtask setup`)"
    );
    python
}
