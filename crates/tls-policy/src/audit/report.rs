//! The audit report: a scan judged against a policy, as the documented JSON schema and as a
//! human table.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::cert::{rfc3339, unix, CertificateInfo};
use super::probe::ScanResult;
use crate::evaluate::suite_weaknesses;
use crate::policy::TlsPolicy;
use crate::registry::{self, Cipher, CipherMode, CipherSuiteInfo};
use crate::version::ProtocolVersion;

/// The version of the JSON schema; bumped only on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// How strict the judgement of the certificate is.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateChecks {
    /// A leaf certificate that expires sooner than this is a violation.
    pub min_remaining_validity: Duration,
    /// RSA keys shorter than this are a violation.
    pub min_rsa_bits: u32,
}

impl Default for CertificateChecks {
    /// 14 days of remaining validity (time to renew), RSA 2048 bits.
    fn default() -> Self {
        Self {
            min_remaining_validity: Duration::from_secs(14 * 86_400),
            min_rsa_bits: 2048,
        }
    }
}

/// One finding against the policy.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `version`, `cipher_suite`, `group`, `dhe`, `certificate`, `session_ticket`, `alpn`.
    pub kind: &'static str,
    /// One sentence, e.g. `accepts TLS 1.0`.
    pub message: String,
}

/// The verdict of an audit.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerdict {
    /// The policy's name.
    pub policy: String,
    /// No violations.
    pub compliant: bool,
    /// What the policy forbids and the server accepts (exit code 1 when not empty).
    pub violations: Vec<Finding>,
    /// Worth knowing, not a violation.
    pub warnings: Vec<Finding>,
}

/// One cipher suite in the report.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuiteReport {
    /// IANA code point, `0xC02F`.
    pub code: String,
    /// IANA name.
    pub name: String,
    /// OpenSSL name, when OpenSSL knows the suite.
    pub openssl_name: Option<String>,
    /// Key exchange (the registry's `KeyExchange` variant name: `Ecdhe`, `Dhe`, `Rsa`, `Tls13`, …).
    pub key_exchange: String,
    /// Server authentication (`Rsa`, `Ecdsa`, `Tls13`, …).
    pub authentication: String,
    /// Bulk cipher, key size and mode: `AES-128-GCM`, `AES-256-CBC`, `CHACHA20-POLY1305`,
    /// `3DES-168-CBC`, `RC4-128`, `NULL`.
    pub encryption: String,
    /// The record protection is an AEAD.
    pub aead: bool,
    /// The key exchange is ephemeral.
    pub forward_secret: bool,
    /// The policy allows the suite in this version.
    pub allowed: bool,
}

/// One protocol version in the report.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionReport {
    /// `SSL3.0`, `TLS1.0` … `TLS1.3`.
    pub version: ProtocolVersion,
    /// The server accepts the version.
    pub accepted: bool,
    /// The policy allows the version.
    pub allowed: bool,
    /// `server` (the server imposes its order: `cipher_suites` is in that order), `client`
    /// (it follows the client's order), or null (fewer than two suites).
    pub preference: Option<&'static str>,
    /// Accepted suites.
    pub cipher_suites: Vec<SuiteReport>,
}

/// A certificate in the report.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateReport {
    /// What the certificate says.
    #[serde(flatten)]
    pub info: CertificateInfo,
    /// Whole days until `not_after` at scan time (negative: expired).
    pub days_left: i64,
}

/// The result of `edgeward audit`: what the server accepts, judged against a policy. Its JSON
/// form is the schema documented in [`crate::audit`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `host:port` as given.
    pub target: String,
    /// The socket address probed.
    pub address: String,
    /// The SNI sent.
    pub sni: Option<String>,
    /// Scan start, RFC 3339.
    pub scanned_at: String,
    /// Wall time of the scan in milliseconds.
    pub duration_ms: u64,
    /// Number of connections made.
    pub probes: usize,
    /// All five versions, oldest first.
    pub versions: Vec<VersionReport>,
    /// Accepted key-exchange groups.
    pub groups: Vec<String>,
    /// How groups were probed.
    pub groups_method: Option<String>,
    /// DHE prime size in bits, when a DHE suite is accepted.
    pub dhe_bits: Option<u32>,
    /// The certificate chain, leaf first.
    pub certificate_chain: Vec<CertificateReport>,
    /// Where the chain came from: `rustls handshake (TLS 1.3)` or `TLS 1.2 Certificate message`.
    pub certificate_source: Option<String>,
    /// Session tickets: `tls12` (RFC 5077, from the ServerHello), `tls13` (NewSessionTicket
    /// after a rustls handshake); null when not determined.
    pub session_tickets: SessionTickets,
    /// ALPN protocol selected from `h2, http/1.1`.
    pub alpn: Option<String>,
    /// Extended master secret (TLS 1.0–1.2).
    pub extended_master_secret: Option<bool>,
    /// Secure renegotiation (TLS 1.0–1.2).
    pub secure_renegotiation: Option<bool>,
    /// What could not be determined.
    pub notes: Vec<String>,
    /// The verdict.
    pub verdict: AuditVerdict,
}

/// Session ticket support.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionTickets {
    /// TLS 1.2 RFC 5077 tickets.
    pub tls12: Option<bool>,
    /// TLS 1.3 tickets.
    pub tls13: Option<bool>,
}

fn suite_report(code: u16, version: ProtocolVersion, policy: &TlsPolicy) -> SuiteReport {
    let info = registry::lookup(code);
    SuiteReport {
        code: format!("0x{code:04X}"),
        name: registry::suite_name(code),
        openssl_name: info.and_then(|s| s.openssl_name).map(str::to_owned),
        key_exchange: info.map(|s| format!("{:?}", s.kx)).unwrap_or_default(),
        authentication: info.map(|s| format!("{:?}", s.auth)).unwrap_or_default(),
        encryption: info.map(encryption_name).unwrap_or_default(),
        aead: info.is_some_and(|s| s.aead),
        forward_secret: info.is_some_and(|s| s.forward_secret),
        allowed: policy.allows_suite_in(code, version),
    }
}

impl AuditReport {
    /// Judges `scan` against `policy` at time `now`.
    pub fn judge(
        scan: &ScanResult,
        policy: &TlsPolicy,
        checks: CertificateChecks,
        now: SystemTime,
    ) -> Self {
        let mut violations = Vec::new();
        let mut warnings = Vec::new();
        let mut versions = Vec::new();
        // Suite → versions in which it is accepted but not allowed.
        let mut bad_suites: Vec<(u16, Vec<ProtocolVersion>)> = Vec::new();
        for (version, suites) in &scan.versions {
            let allowed = policy.allows_version(*version);
            if suites.is_some() && !allowed {
                violations.push(Finding {
                    kind: "version",
                    message: format!("accepts {version}"),
                });
            }
            let suites = suites.clone().unwrap_or_default();
            for c in &suites {
                if !policy.allows_suite_in(*c, *version) {
                    match bad_suites.iter_mut().find(|(s, _)| s == c) {
                        Some((_, vs)) => vs.push(*version),
                        None => bad_suites.push((*c, vec![*version])),
                    }
                }
            }
            let preference = scan
                .server_preference
                .iter()
                .find(|(v, _)| v == version)
                .map(|(_, server)| if *server { "server" } else { "client" });
            versions.push(VersionReport {
                version: *version,
                accepted: scan.suites(*version).is_some(),
                allowed,
                preference,
                cipher_suites: suites
                    .iter()
                    .map(|c| suite_report(*c, *version, policy))
                    .collect(),
            });
        }
        for (code, vs) in &bad_suites {
            violations.push(Finding {
                kind: "cipher_suite",
                message: suite_message(*code, vs),
            });
        }
        for g in &scan.groups {
            if !policy.allows_group(*g) {
                violations.push(Finding {
                    kind: "group",
                    message: format!("accepts key-exchange group {g} (not in the policy)"),
                });
            }
        }
        if let Some(bits) = scan.dhe_bits {
            if bits < 2048 {
                violations.push(Finding {
                    kind: "dhe",
                    message: format!("DHE group is only {bits} bits (2048 or more needed)"),
                });
            }
        }
        let chain: Vec<CertificateReport> = scan
            .certificates()
            .into_iter()
            .map(|info| CertificateReport {
                days_left: info.days_left(now),
                info,
            })
            .collect();
        if let Some(leaf) = chain.first() {
            certificate_findings(leaf, checks, now, &mut violations);
        }
        if !policy.resumption().tickets {
            if scan.tls12_tickets == Some(true) {
                warnings.push(Finding {
                    kind: "session_ticket",
                    message: "issues TLS 1.2 session tickets; the policy does not use tickets"
                        .to_owned(),
                });
            }
            if scan.tls13_tickets == Some(true) {
                warnings.push(Finding {
                    kind: "session_ticket",
                    message: "issues TLS 1.3 session tickets; the policy does not use tickets"
                        .to_owned(),
                });
            }
        }
        if let Some(p) = &scan.alpn {
            if !policy.alpn().is_empty() && !policy.alpn().contains(p) {
                warnings.push(Finding {
                    kind: "alpn",
                    message: format!("selects application protocol {p:?}, not in the policy"),
                });
            }
        }
        let started = scan.started.unwrap_or(now);
        Self {
            schema_version: SCHEMA_VERSION,
            target: scan.target.clone(),
            address: scan.address.map(|a| a.to_string()).unwrap_or_default(),
            sni: scan.sni.clone(),
            scanned_at: rfc3339(unix(started)),
            duration_ms: u64::try_from(scan.duration.as_millis()).unwrap_or(u64::MAX),
            probes: scan.probes,
            versions,
            groups: scan.groups.iter().map(|g| g.to_string()).collect(),
            groups_method: scan.groups_method.map(str::to_owned),
            dhe_bits: scan.dhe_bits,
            certificate_chain: chain,
            certificate_source: scan.chain_source.clone(),
            session_tickets: SessionTickets {
                tls12: scan.tls12_tickets,
                tls13: scan.tls13_tickets,
            },
            alpn: scan.alpn.clone(),
            extended_master_secret: scan.extended_master_secret,
            secure_renegotiation: scan.secure_renegotiation,
            notes: scan.notes.clone(),
            verdict: AuditVerdict {
                policy: policy.name().to_owned(),
                compliant: violations.is_empty(),
                violations,
                warnings,
            },
        }
    }

    /// The report as a human-readable text: a table per accepted version, then groups,
    /// certificate, extras and the verdict.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "edgeward audit {} ({})", self.target, self.address);
        let _ = writeln!(
            s,
            "{} probes in {:.1} s, policy {}\n",
            self.probes,
            self.duration_ms as f64 / 1000.0,
            self.verdict.policy
        );
        for v in &self.versions {
            if !v.accepted {
                let _ = writeln!(s, "{:<8} refused", v.version.to_string());
                continue;
            }
            let pref = match v.preference {
                Some("server") => ", server order",
                Some(_) => ", client order",
                None => "",
            };
            let flag = if v.allowed { "" } else { "   <- not allowed" };
            let _ = writeln!(
                s,
                "{:<8} accepted ({} suites{pref}){flag}",
                v.version.to_string(),
                v.cipher_suites.len()
            );
            let _ = writeln!(
                s,
                "    {:<48} {:<8} {:<6} {:<4} {:<4}",
                "suite", "kx", "auth", "FS", "AEAD"
            );
            for c in &v.cipher_suites {
                let yes = |b: bool| if b { "yes" } else { "no" };
                let _ = writeln!(
                    s,
                    "    {:<48} {:<8} {:<6} {:<4} {:<4}{}",
                    c.name,
                    c.key_exchange,
                    c.authentication,
                    yes(c.forward_secret),
                    yes(c.aead),
                    if c.allowed { "" } else { " <- not allowed" }
                );
            }
        }
        let _ = writeln!(s);
        if !self.groups.is_empty() {
            let _ = writeln!(s, "groups: {}", self.groups.join(", "));
        }
        if let Some(bits) = self.dhe_bits {
            let _ = writeln!(s, "DHE group: {bits} bits");
        }
        if let Some(leaf) = self.certificate_chain.first() {
            let key = match &leaf.info.curve {
                Some(c) => format!("{} {c}", leaf.info.key_type),
                None => format!("{} {}", leaf.info.key_type, leaf.info.key_bits),
            };
            let _ = writeln!(
                s,
                "certificate: {} ({key}, {}), valid {} to {} ({} days left), SANs: {}",
                leaf.info.subject,
                leaf.info.signature_algorithm,
                leaf.info.not_before,
                leaf.info.not_after,
                leaf.days_left,
                if leaf.info.subject_alt_names.is_empty() {
                    "none".to_owned()
                } else {
                    leaf.info.subject_alt_names.join(", ")
                }
            );
            for c in &self.certificate_chain[1..] {
                let _ = writeln!(s, "  issued by: {}", c.info.subject);
            }
            if let Some(src) = &self.certificate_source {
                let _ = writeln!(s, "  (from the {src})");
            }
        }
        let yn = |b: Option<bool>| match b {
            Some(true) => "yes",
            Some(false) => "no",
            None => "n/a",
        };
        let _ = writeln!(
            s,
            "session tickets: TLS 1.2 {}, TLS 1.3 {}; ALPN: {}",
            yn(self.session_tickets.tls12),
            yn(self.session_tickets.tls13),
            self.alpn.as_deref().unwrap_or("none")
        );
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        let _ = writeln!(s);
        for w in &self.verdict.warnings {
            let _ = writeln!(s, "warning: {}", w.message);
        }
        if self.verdict.compliant {
            let _ = writeln!(s, "COMPLIANT with policy {}", self.verdict.policy);
        } else {
            let _ = writeln!(
                s,
                "NOT COMPLIANT with policy {} ({} violations):",
                self.verdict.policy,
                self.verdict.violations.len()
            );
            for v in &self.verdict.violations {
                let _ = writeln!(s, "  - {}", v.message);
            }
        }
        s
    }
}

fn suite_message(code: u16, versions: &[ProtocolVersion]) -> String {
    let name = registry::suite_name(code);
    let info = registry::lookup(code);
    let in_versions = versions
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let weaknesses = suite_weaknesses(code);
    let fs = info.is_some_and(|s| s.forward_secret);
    let cbc = info.is_some_and(|s| s.mode == CipherMode::Cbc);
    if !fs {
        let mut why = vec!["no forward secrecy"];
        why.extend(
            weaknesses
                .iter()
                .filter(|w| !w.contains("key exchange"))
                .copied(),
        );
        format!("accepts {name} ({}) in {in_versions}", why.join(", "))
    } else if cbc {
        format!("accepts CBC suite {name} in {in_versions}")
    } else if weaknesses.is_empty() {
        format!("accepts {name} (not in the policy) in {in_versions}")
    } else {
        format!(
            "accepts {name} ({}) in {in_versions}",
            weaknesses.join(", ")
        )
    }
}

fn certificate_findings(
    leaf: &CertificateReport,
    checks: CertificateChecks,
    now: SystemTime,
    out: &mut Vec<Finding>,
) {
    let now_unix = unix(now);
    let left = leaf.info.not_after_unix - now_unix;
    let mut push = |message: String| {
        out.push(Finding {
            kind: "certificate",
            message,
        })
    };
    if left < 0 {
        let days = (-left) / 86_400;
        push(format!(
            "certificate expired {} ago ({})",
            days_text(days),
            leaf.info.not_after
        ));
    } else if left < i64::try_from(checks.min_remaining_validity.as_secs()).unwrap_or(i64::MAX) {
        // Rounded up: a certificate issued for 3 days a moment ago "expires in 3 days",
        // as a person reading the report would say; rounding down made the count depend on
        // which side of a second boundary the scan landed.
        push(format!(
            "certificate expires in {} ({})",
            days_text((left + 86_399) / 86_400),
            leaf.info.not_after
        ));
    }
    if leaf.info.not_before_unix > now_unix {
        push(format!(
            "certificate is not valid before {}",
            leaf.info.not_before
        ));
    }
    if leaf.info.key_type == "RSA" && leaf.info.key_bits < checks.min_rsa_bits {
        push(format!(
            "certificate key is RSA {} bits (at least {} needed)",
            leaf.info.key_bits, checks.min_rsa_bits
        ));
    }
    let sig = leaf.info.signature_algorithm.to_ascii_lowercase();
    if sig.contains("sha1") || sig.contains("md5") {
        push(format!(
            "certificate is signed with {}",
            leaf.info.signature_algorithm
        ));
    }
}

fn days_text(days: i64) -> String {
    if days == 1 {
        "1 day".to_owned()
    } else {
        format!("{days} days")
    }
}

fn encryption_name(s: &CipherSuiteInfo) -> String {
    let cipher = match s.cipher {
        Cipher::Null => return "NULL".to_owned(),
        Cipher::ChaCha20Poly1305 => return "CHACHA20-POLY1305".to_owned(),
        Cipher::Des => "DES",
        Cipher::TripleDes => "3DES",
        Cipher::Rc2 => "RC2",
        Cipher::Rc4 => "RC4",
        Cipher::Idea => "IDEA",
        Cipher::Seed => "SEED",
        Cipher::Aes => "AES",
        Cipher::Aria => "ARIA",
        Cipher::Camellia => "CAMELLIA",
        Cipher::Sm4 => "SM4",
        Cipher::Aegis => "AEGIS",
    };
    let mode = match s.mode {
        CipherMode::Cbc => "-CBC",
        CipherMode::Gcm => "-GCM",
        CipherMode::Ccm => "-CCM",
        CipherMode::Ccm8 => "-CCM8",
        _ => "",
    };
    format!("{cipher}-{}{mode}", s.key_bits)
}
