//! Group `audit`: wall time of a full `edgeward audit` scan (versions, every suite per version,
//! preference, groups, DHE size, certificate chain through rustls, tickets, ALPN) of one
//! loopback `openssl s_server` with OpenSSL 3's default configuration (TLS 1.2 + 1.3, 30
//! suites, RSA and ECDSA certificates).
//!
//! The baseline is sslyze (Python, so not a criterion routine): when `EDGEWARD_PYTHON` names
//! the interop venv's interpreter, the bench also times three runs of
//! `python -m sslyze --sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3` (the same version and
//! suite scans) against the same endpoint and prints each wall time and the mean.
#![allow(clippy::unwrap_used, missing_docs)]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use edgeward_tls_policy::audit::{audit, AuditSettings};
use edgeward_tls_policy::TlsPolicy;

struct Server {
    child: Child,
    _dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(args: &[&str], dir: &std::path::Path) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "openssl {args:?}");
}

fn start_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "rsa.key",
            "-out",
            "rsa.crt",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
        ],
        d,
    );
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ec.key",
            "-out",
            "ec.crt",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
        ],
        d,
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-www",
            "-quiet",
        ])
        .args([
            "-cert", "rsa.crt", "-key", "rsa.key", "-dcert", "ec.crt", "-dkey", "ec.key",
        ])
        .current_dir(d)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    Server {
        child,
        _dir: dir,
        port,
    }
}

fn bench(c: &mut Criterion) {
    let server = start_server();
    let target = format!("127.0.0.1:{}", server.port);
    let policy = TlsPolicy::named("intermediate").unwrap();
    let settings = AuditSettings::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let first = rt.block_on(audit(&target, &policy, &settings)).unwrap();
    eprintln!(
        "audit bench endpoint {target}: {} probes per scan",
        first.probes
    );
    let mut group = c.benchmark_group("audit");
    group.sample_size(10);
    group.bench_function("full_scan/openssl_s_server_default", |b| {
        b.iter(|| rt.block_on(audit(&target, &policy, &settings)).unwrap())
    });
    group.finish();
    if let Some(python) = std::env::var_os("EDGEWARD_PYTHON") {
        let mut times = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let out = Command::new(&python)
                .args([
                    "-m",
                    "sslyze",
                    "--sslv3",
                    "--tlsv1",
                    "--tlsv1_1",
                    "--tlsv1_2",
                    "--tlsv1_3",
                    "--quiet",
                ])
                .arg(&target)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "sslyze: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            times.push(t.elapsed().as_secs_f64());
        }
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        eprintln!("audit/sslyze_baseline (same endpoint): runs {times:.3?} s, mean {mean:.3} s");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
