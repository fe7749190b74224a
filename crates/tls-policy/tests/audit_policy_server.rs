//! Issue 6 acceptance: the audit of our own `policy_server` example, running the `intermediate`
//! policy, finds it compliant — with an ECDSA and with an RSA certificate — and finds exactly
//! what the policy allows for that certificate type (rustls implements every suite of it).
#![allow(clippy::unwrap_used)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use edgeward_tls_policy::audit::{audit_with_progress, AuditSettings, ProgressFn};
use edgeward_tls_policy::registry::{self, Authentication};
use edgeward_tls_policy::{ProtocolVersion, TlsPolicy};

struct Example(Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The example binary, which `cargo test` builds before the tests of this package.
fn example_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("policy_server");
    assert!(
        path.exists(),
        "policy_server example not built at {}",
        path.display()
    );
    path
}

fn start(cert: &Path, key: &Path) -> (Example, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(example_path())
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--policy",
            "intermediate",
            "--cert",
        ])
        .arg(cert)
        .arg("--key")
        .arg(key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ex = Example(child);
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(ex.0.try_wait().unwrap().is_none(), "policy_server exited");
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "policy_server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (ex, port)
}

fn check(key_args: &[&str], auth: Authentication) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    let mut cmd = Command::new("openssl");
    cmd.args([
        "req",
        "-x509",
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/CN=localhost",
    ])
    .args(["-addext", "subjectAltName=DNS:localhost"])
    .args(key_args)
    .arg("-keyout")
    .arg(&key)
    .arg("-out")
    .arg(&cert);
    assert!(cmd.output().unwrap().status.success());
    let (_server, port) = start(&cert, &key);

    let policy = TlsPolicy::named("intermediate").unwrap();
    let mut settings = AuditSettings::default();
    settings.timeout = Duration::from_secs(30);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reported = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&reported);
    let progress: ProgressFn = Arc::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let report = rt
        .block_on(audit_with_progress(
            &format!("127.0.0.1:{port}"),
            &policy,
            &settings,
            Some(progress),
        ))
        .unwrap();
    // The report counts every probe, as the progress callback saw them.
    assert!(report.probes > 10, "{}", report.probes);
    assert_eq!(report.probes, reported.load(Ordering::SeqCst));

    assert!(report.verdict.compliant, "{}", report.to_text());
    let accepted: Vec<ProtocolVersion> = report
        .versions
        .iter()
        .filter(|v| v.accepted)
        .map(|v| v.version)
        .collect();
    assert_eq!(accepted, [ProtocolVersion::Tls12, ProtocolVersion::Tls13]);
    for v in &report.versions {
        let found: Vec<&str> = v.cipher_suites.iter().map(|s| s.name.as_str()).collect();
        let mut found_sorted = found.clone();
        found_sorted.sort();
        // Every suite the policy allows in this version that the certificate can authenticate.
        let mut expected: Vec<&str> = policy
            .cipher_suites()
            .iter()
            .filter(|s| {
                v.accepted
                    && s.usable_in(v.version)
                    && (s.is_tls13() == (v.version == ProtocolVersion::Tls13))
            })
            .filter(|s| s.is_tls13() || s.auth == auth)
            .map(|s| s.iana_name)
            .collect();
        expected.sort();
        assert_eq!(found_sorted, expected, "{}", v.version);
        assert!(found.iter().all(|n| registry::lookup_name(n).is_some()));
    }
    let leaf = &report.certificate_chain[0];
    assert_eq!(leaf.info.subject_alt_names, ["localhost"]);
    assert!(report
        .certificate_source
        .as_deref()
        .unwrap()
        .starts_with("rustls handshake"));
    assert!(
        report.groups.iter().any(|g| g == "X25519"),
        "{:?}",
        report.groups
    );
}

#[test]
fn policy_server_with_intermediate_and_an_ecdsa_certificate_is_compliant() {
    check(
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        Authentication::Ecdsa,
    );
}

#[test]
fn policy_server_with_intermediate_and_an_rsa_certificate_is_compliant() {
    check(&["-newkey", "rsa:2048"], Authentication::Rsa);
}
