//! Shared by the `edgeward audit` tests: real `openssl s_server` peers (started on 127.0.0.1
//! with a free port, stopped by pid on drop), their certificates, and the server matrix of
//! issue 6. Expected cipher suites come from `openssl ciphers -s -stdname` for the same cipher
//! string, an independent source.
#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::pki_support::openssl;

/// Certificates and parameters made with the `openssl` CLI, in a directory removed when the
/// test drops this. Each test makes its own (a static would never be dropped, and would leave
/// one directory in the system's temp directory per test process, as nextest runs them).
pub struct Material {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Material {
    pub fn file(&self, name: &str) -> String {
        self.path.join(name).to_string_lossy().into_owned()
    }
}

impl Material {
    pub fn new() -> Material {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().to_path_buf();
        let san = "subjectAltName=DNS:localhost,IP:127.0.0.1";
        openssl(
            &p,
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
                "90",
                "-subj",
                "/CN=localhost",
                "-addext",
                san,
            ],
        );
        openssl(
            &p,
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
                "90",
                "-subj",
                "/CN=localhost",
                "-addext",
                san,
            ],
        );
        // Expired yesterday: `-days -1` puts notAfter one day before notBefore (= now).
        openssl(
            &p,
            &[
                "req",
                "-new",
                "-key",
                "ec.key",
                "-subj",
                "/CN=expired.localhost",
                "-out",
                "exp.csr",
            ],
        );
        openssl(
            &p,
            &[
                "x509",
                "-req",
                "-in",
                "exp.csr",
                "-signkey",
                "ec.key",
                "-days",
                "-1",
                "-out",
                "expired.crt",
            ],
        );
        // Expires in 3 days.
        openssl(
            &p,
            &[
                "x509", "-req", "-in", "exp.csr", "-signkey", "ec.key", "-days", "3", "-out",
                "soon.crt",
            ],
        );
        // The RFC 7919 ffdhe2048 group as DH parameters for `-dhparam`.
        openssl(
            &p,
            &[
                "genpkey",
                "-genparam",
                "-algorithm",
                "DH",
                "-pkeyopt",
                "group:ffdhe2048",
                "-out",
                "dh2048.pem",
            ],
        );
        Material { _dir: dir, path: p }
    }
}

/// A running `openssl s_server`, killed (by pid) on drop.
pub struct Server {
    child: Child,
    pub port: u16,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    pub fn start(args: &[String]) -> Server {
        for _attempt in 0..3 {
            let port = free_port();
            let mut child = Command::new("openssl")
                .arg("s_server")
                .args(["-accept", &format!("127.0.0.1:{port}"), "-www", "-quiet"])
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("openssl on PATH");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        use std::io::Read;
                        let _ = e.read_to_string(&mut err);
                    }
                    if err.contains("in use") {
                        break;
                    }
                    panic!("openssl s_server {args:?} exited ({status}): {err}");
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Server { child, port };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("could not start openssl s_server {args:?}");
    }

    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which certificates a server has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certs {
    Rsa,
    Ec,
    Both,
    Expired,
    ExpiresSoon,
}

/// One server of the matrix.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    /// s_server options besides certificates.
    pub options: Vec<&'static str>,
    pub certs: Certs,
    /// The protocol versions the server is configured to accept (`TLS1.2` spelling).
    pub versions: Vec<&'static str>,
    /// The `-cipher` string (TLS 1.2 and older); `None`: OpenSSL's default.
    pub cipher: Option<&'static str>,
    /// The `-ciphersuites` string (TLS 1.3); `None`: OpenSSL's default.
    pub ciphersuites: Option<&'static str>,
    pub compliant: bool,
    /// Substrings that must each appear in some violation.
    pub violations: Vec<&'static str>,
}

const GROUPS: &str = "X25519:P-256:P-384";

pub fn matrix() -> Vec<Case> {
    vec![
        Case {
            name: "tls13_only",
            options: vec!["-tls1_3", "-groups", GROUPS],
            certs: Certs::Both,
            versions: vec!["TLS1.3"],
            cipher: None,
            ciphersuites: None,
            compliant: true,
            violations: vec![],
        },
        Case {
            name: "tls12_ecdhe_gcm_only",
            options: vec!["-tls1_2", "-groups", GROUPS],
            certs: Certs::Both,
            versions: vec!["TLS1.2"],
            cipher: Some("ECDHE+AESGCM"),
            ciphersuites: None,
            compliant: true,
            violations: vec![],
        },
        Case {
            name: "tls12_static_rsa_only",
            options: vec!["-tls1_2"],
            certs: Certs::Rsa,
            versions: vec!["TLS1.2"],
            cipher: Some("AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256"),
            ciphersuites: None,
            compliant: false,
            violations: vec![
                "accepts TLS_RSA_WITH_AES_128_GCM_SHA256 (no forward secrecy) in TLS 1.2",
                "accepts TLS_RSA_WITH_AES_128_CBC_SHA256 (no forward secrecy, CBC) in TLS 1.2",
            ],
        },
        Case {
            name: "tls10_tls11_enabled",
            options: vec!["-min_protocol", "TLSv1", "-groups", GROUPS],
            certs: Certs::Both,
            versions: vec!["TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"],
            cipher: Some("DEFAULT@SECLEVEL=0"),
            ciphersuites: None,
            compliant: false,
            violations: vec!["accepts TLS 1.0", "accepts TLS 1.1", "accepts CBC suite"],
        },
        Case {
            name: "cbc_suites",
            options: vec!["-tls1_2", "-groups", GROUPS],
            certs: Certs::Both,
            versions: vec!["TLS1.2"],
            cipher: Some(
                "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
            ),
            ciphersuites: None,
            compliant: false,
            violations: vec![
                "accepts CBC suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA in TLS 1.2",
                "accepts CBC suite TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 in TLS 1.2",
            ],
        },
        Case {
            name: "dhe_suites",
            options: vec!["-tls1_2", "-dhparam", "@dh2048.pem"],
            certs: Certs::Rsa,
            versions: vec!["TLS1.2"],
            cipher: Some("DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-SHA"),
            ciphersuites: None,
            compliant: false,
            violations: vec![
                "accepts TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 (finite-field DHE) in TLS 1.2",
                "accepts CBC suite TLS_DHE_RSA_WITH_AES_128_CBC_SHA in TLS 1.2",
            ],
        },
        Case {
            name: "chacha20_only",
            options: vec!["-min_protocol", "TLSv1.2", "-groups", GROUPS],
            certs: Certs::Both,
            versions: vec!["TLS1.2", "TLS1.3"],
            cipher: Some("ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-CHACHA20-POLY1305"),
            ciphersuites: Some("TLS_CHACHA20_POLY1305_SHA256"),
            compliant: true,
            violations: vec![],
        },
        Case {
            name: "expired_certificate",
            options: vec!["-tls1_3", "-groups", GROUPS],
            certs: Certs::Expired,
            versions: vec!["TLS1.3"],
            cipher: None,
            ciphersuites: None,
            compliant: false,
            violations: vec!["certificate expired 1 day ago"],
        },
        Case {
            name: "certificate_expires_in_3_days",
            options: vec!["-tls1_2", "-groups", GROUPS],
            certs: Certs::ExpiresSoon,
            versions: vec!["TLS1.2"],
            cipher: Some("ECDHE+AESGCM"),
            ciphersuites: None,
            compliant: false,
            // `-days 3` from a moment ago: a little under 3 whole days are left, which the
            // report rounds up (the issue's own example wording).
            violations: vec!["certificate expires in 3 days"],
        },
    ]
}

impl Case {
    /// The full s_server argument list, naming files in `m`.
    pub fn args(&self, m: &Material) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        let mut cert = |crt: &str, key: &str, flag: (&str, &str)| {
            a.extend([
                flag.0.to_owned(),
                m.file(crt),
                flag.1.to_owned(),
                m.file(key),
            ]);
        };
        match self.certs {
            Certs::Rsa => cert("rsa.crt", "rsa.key", ("-cert", "-key")),
            Certs::Ec => cert("ec.crt", "ec.key", ("-cert", "-key")),
            Certs::Both => {
                cert("rsa.crt", "rsa.key", ("-cert", "-key"));
                cert("ec.crt", "ec.key", ("-dcert", "-dkey"));
            }
            Certs::Expired => cert("expired.crt", "ec.key", ("-cert", "-key")),
            Certs::ExpiresSoon => cert("soon.crt", "ec.key", ("-cert", "-key")),
        }
        for o in &self.options {
            a.push(match o.strip_prefix('@') {
                Some(file) => m.file(file),
                None => (*o).to_owned(),
            });
        }
        if let Some(c) = self.cipher {
            a.extend(["-cipher".to_owned(), c.to_owned()]);
        }
        if let Some(c) = self.ciphersuites {
            a.extend(["-ciphersuites".to_owned(), c.to_owned()]);
        }
        a
    }

    /// The suites OpenSSL says this configuration offers in `version` (IANA names), keeping
    /// only those the server's certificates can authenticate.
    pub fn expected_suites(&self, version: &str) -> BTreeSet<String> {
        if !self.versions.contains(&version) {
            return BTreeSet::new();
        }
        let flag = match version {
            "TLS1.0" => "-tls1",
            "TLS1.1" => "-tls1_1",
            "TLS1.2" => "-tls1_2",
            _ => "-tls1_3",
        };
        let mut cmd = Command::new("openssl");
        cmd.args(["ciphers", "-s", "-stdname", flag]);
        if let Some(cs) = self.ciphersuites {
            cmd.args(["-ciphersuites", cs]);
        }
        cmd.arg(self.cipher.unwrap_or("DEFAULT"));
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let (rsa, ec) = match self.certs {
            Certs::Rsa => (true, false),
            Certs::Both => (true, true),
            _ => (false, true),
        };
        text.lines()
            .filter(|l| (version == "TLS1.3") == l.contains("TLSv1.3"))
            .filter(|l| {
                (rsa || !l.contains("Au=RSA"))
                    && (ec || !l.contains("Au=ECDSA"))
                    && !l.contains("Au=DSS")
                    && !l.contains("Au=None")
                    && !l.contains("Au=PSK")
                    && !l.contains("Au=SRP")
            })
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect()
    }
}

/// Runs the `edgeward` binary.
pub fn edgeward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgeward"))
        .args(args)
        .output()
        .unwrap()
}

/// `edgeward audit TARGET --json`: the exit code and the parsed report.
pub fn audit_json(target: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["audit", target, "--json", "--timeout", "30"];
    args.extend_from_slice(extra);
    let out = edgeward(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// The accepted suites per version of a report, as IANA names.
pub fn report_suites(report: &serde_json::Value, version: &str) -> BTreeSet<String> {
    report["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["version"] == version && v["accepted"] == true)
        .flat_map(|v| v["cipher_suites"].as_array().unwrap().iter())
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

pub fn report_versions(report: &serde_json::Value) -> Vec<String> {
    report["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["accepted"] == true)
        .map(|v| v["version"].as_str().unwrap().to_owned())
        .collect()
}

pub const ALL_VERSIONS: [&str; 5] = ["SSL3.0", "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"];
