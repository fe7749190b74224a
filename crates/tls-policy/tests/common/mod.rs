//! Test support: certificates made with the `openssl` CLI, real OpenSSL peers, the examples.
#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Key type of the test PKI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA P-256.
    P256,
    /// RSA-2048.
    Rsa2048,
}

/// A CA and one server certificate for `localhost` / 127.0.0.1, made by `openssl`.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub chain: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    openssl_output(dir, args);
}

/// Runs `openssl args` in `dir` and returns its standard output; panics with its stderr on failure.
pub fn openssl_output(dir: &Path, args: &[&str]) -> Vec<u8> {
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

impl Pki {
    pub fn new(kind: KeyKind) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let newkey: &[&str] = match kind {
            KeyKind::P256 => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            KeyKind::Rsa2048 => &["-newkey", "rsa:2048"],
        };
        let mut ca = vec![
            "req",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=edgeward test CA",
        ];
        ca.extend_from_slice(newkey);
        ca.extend_from_slice(&["-keyout", "ca.key", "-out", "ca.pem"]);
        ca.extend_from_slice(&[
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(d, &ca);
        let mut req = vec!["req", "-nodes", "-subj", "/CN=localhost"];
        req.extend_from_slice(newkey);
        req.extend_from_slice(&["-keyout", "server.key", "-out", "server.csr"]);
        openssl(d, &req);
        std::fs::write(
            d.join("ext.cnf"),
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
                "-out",
                "server.pem",
            ],
        );
        let chain = [
            std::fs::read(d.join("server.pem")).unwrap(),
            std::fs::read(d.join("ca.pem")).unwrap(),
        ]
        .concat();
        std::fs::write(d.join("chain.pem"), chain).unwrap();
        Self {
            ca: d.join("ca.pem"),
            cert: d.join("server.pem"),
            key: d.join("server.key"),
            chain: d.join("chain.pem"),
            dir,
        }
    }
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(addr: SocketAddr, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("peer exited with {status} before listening: {err}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {addr} after 20 s");
}

/// `openssl s_server` with the PKI's certificate and extra arguments, on a free port.
pub fn s_server(pki: &Pki, extra: &[&str]) -> Peer {
    let port = free_port();
    let mut child = Command::new("openssl")
        .args(["s_server", "-accept", &port.to_string(), "-cert"])
        .arg(&pki.cert)
        .arg("-key")
        .arg(&pki.key)
        .args(["-naccept", "1000", "-quiet"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_for_port(addr, &mut child);
    Peer { child, addr }
}

/// Runs `openssl s_client` against `addr` with the given arguments; stdin is empty, so it
/// ends after the handshake. Killed after 20 s.
pub fn s_client(addr: SocketAddr, ca: &Path, extra: &[&str]) -> Output {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string(), "-CAfile"])
        .arg(ca)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Path of a built example of this crate (`cargo test` builds examples before tests).
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let path = deps.parent().unwrap().join("examples").join(name);
    assert!(
        path.exists(),
        "example {name} not built at {}",
        path.display()
    );
    path
}

/// The `policy_server` example on a free port, with its stdout (one JSON line per connection).
pub struct PolicyServer {
    pub peer: Peer,
    pub lines: BufReader<ChildStdout>,
}

impl PolicyServer {
    pub fn start(pki: &Pki, policy: &str) -> Self {
        let port = free_port();
        let mut child = Command::new(example("policy_server"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--cert"])
            .arg(&pki.chain)
            .arg("--key")
            .arg(&pki.key)
            .args(["--policy", policy])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_for_port(addr, &mut child);
        let stdout = child.stdout.take().unwrap();
        let mut server = Self {
            peer: Peer { child, addr },
            lines: BufReader::new(stdout),
        };
        // The readiness probe above was a connection too: consume its line.
        let probe = server.next_line();
        assert_eq!(probe["accepted"], false, "{probe}");
        server
    }

    /// The next connection's JSON line.
    pub fn next_line(&mut self) -> serde_json::Value {
        let mut line = String::new();
        self.lines.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }
}

/// Runs the `policy_client` example.
pub fn policy_client(addr: SocketAddr, ca: &Path, extra: &[&str]) -> Output {
    Command::new(example("policy_client"))
        .arg(addr.to_string())
        .arg("--ca")
        .arg(ca)
        .args(extra)
        .output()
        .unwrap()
}
