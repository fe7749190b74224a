//! The `openssl` command line, as the OpenSSL tests drive it.

use std::path::Path;
use std::process::Command;

/// Runs `openssl args` in `dir` and returns its standard output; panics with its stderr on failure.
pub(crate) fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl on PATH");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Has openssl make `<name>.key` and a CSR for `/CN=<name>` (key options `newkey`), and sign
/// it into `<name>.pem` with `<issuer>.pem`/`<issuer>.key`, the digest option `digest` (such as
/// `-sha256`) and the extensions file `ext`.
pub(crate) fn openssl_issue(
    dir: &Path,
    name: &str,
    newkey: &[&str],
    issuer: &str,
    digest: &str,
    ext: &str,
) {
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    let subject = format!("/CN={name}");
    let mut args = vec!["req", "-new", "-nodes", "-keyout", &key, "-out", &csr];
    args.extend(newkey);
    args.extend(["-subj", &subject]);
    openssl(&args, dir);
    let (issuer_pem, issuer_key) = (format!("{issuer}.pem"), format!("{issuer}.key"));
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &issuer_pem,
            "-CAkey",
            &issuer_key,
            "-CAcreateserial",
            "-days",
            "2",
            digest,
            "-extfile",
            ext,
            "-out",
            &pem,
        ],
        dir,
    );
}

/// Has openssl make a self-signed CA `<name>.pem` / `<name>.key` (key options `newkey`, digest
/// option `digest`) with the basic constraints and key usage RFC 5280 asks of a root.
pub(crate) fn openssl_root(dir: &Path, name: &str, newkey: &[&str], digest: &str) {
    let (key, pem, subject) = (
        format!("{name}.key"),
        format!("{name}.pem"),
        format!("/CN={name}"),
    );
    let mut args = vec!["req", "-x509", "-nodes", "-keyout", &key, "-out", &pem];
    args.extend(newkey);
    args.extend([digest, "-subj", &subject, "-days", "3"]);
    args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    args.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(&args, dir);
}
