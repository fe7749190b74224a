//! A test PKI made with the `openssl` CLI (an independent issuer: nothing here is edgeward's
//! own output), in a directory removed when the test drops it, and `openssl s_server` peers
//! on 127.0.0.1, stopped by pid on drop. Shared by the `edgeward creds`, `cert` and `audit`
//! tests.
#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `openssl ARGS` in `dir` and returns its stdout; fails the test, with openssl's
/// message, if openssl fails.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
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

/// P-256 keys throughout; every certificate is valid for two days from now.
const EC_KEY: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

/// `ca.pem` (a root), `server.pem`/`server.key` (for `IP:127.0.0.1`, server auth),
/// `device.pem`/`device.key` (client auth, CN `thing-7`), and `other.pem`, a root nobody here
/// trusts, with `stranger.pem`/`stranger.key`, a device certificate it issued. Keys are
/// owner-only (0600), as `DeviceIdentity::load` requires.
pub struct TestPki {
    dir: tempfile::TempDir,
}

impl TestPki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (name, subject) in [("ca", "/CN=edgeward test CA"), ("other", "/CN=other CA")] {
            let (key, cert) = (format!("{name}.key"), format!("{name}.pem"));
            let mut args = vec!["req", "-x509"];
            args.extend(EC_KEY);
            args.extend([
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &cert,
                "-days",
                "2",
                "-subj",
                subject,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]);
            openssl(d, &args);
        }
        issue(
            d,
            "server",
            "/CN=127.0.0.1",
            "ca",
            "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
        );
        issue(
            d,
            "device",
            "/CN=thing-7",
            "ca",
            "extendedKeyUsage=clientAuth\n",
        );
        issue(
            d,
            "stranger",
            "/CN=thing-8",
            "other",
            "extendedKeyUsage=clientAuth\n",
        );
        Self { dir }
    }

    /// The path of one of the files above.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// [`Self::path`] as a command-line argument.
    pub fn arg(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    /// The directory holding them (a test may add files, such as what `s_server -WWW` serves).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// `NAME.pem`/`NAME.key` for `subject`, issued by `ISSUER.pem`, with `extensions` after the
/// end-entity basics.
fn issue(d: &Path, name: &str, subject: &str, issuer: &str, extensions: &str) {
    let (key, csr, cert, ext) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.cnf"),
    );
    let mut args = vec!["req", "-new"];
    args.extend(EC_KEY);
    args.extend(["-nodes", "-keyout", &key, "-out", &csr, "-subj", subject]);
    openssl(d, &args);
    std::fs::write(
        d.join(&ext),
        format!(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n{extensions}"
        ),
    )
    .unwrap();
    let (issuer_cert, issuer_key) = (format!("{issuer}.pem"), format!("{issuer}.key"));
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &issuer_cert,
            "-CAkey",
            &issuer_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &cert,
        ],
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.join(&key), std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A child process killed (by its pid, through the handle) when dropped.
pub struct Peer {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `openssl s_server` on a free port of 127.0.0.1 with the PKI's server certificate, run in
/// `cwd`, with `extra` arguments; returns once it accepts connections.
pub fn s_server(pki: &TestPki, cwd: &Path, extra: &[&str]) -> Peer {
    spawn_s_server(pki, cwd, extra, Stdio::null())
}

/// [`s_server`] as a bare endpoint (no `-WWW`): what a client sends appears on its stdout
/// (`child.stdout`), and what the test writes to its stdin (`child.stdin`) goes to the client.
pub fn s_server_piped(pki: &TestPki, extra: &[&str]) -> Peer {
    spawn_s_server(pki, pki.dir(), extra, Stdio::piped())
}

fn spawn_s_server(pki: &TestPki, cwd: &Path, extra: &[&str], stdout: Stdio) -> Peer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args(["s_server", "-accept", &port.to_string(), "-cert"])
        .arg(pki.path("server.pem"))
        .arg("-key")
        .arg(pki.path("server.key"))
        .args(["-quiet"])
        .args(extra)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut peer = Peer { child, addr };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            peer.child.try_wait().unwrap().is_none(),
            "s_server exited before listening"
        );
        assert!(
            Instant::now() < deadline,
            "s_server not listening after 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    peer
}
