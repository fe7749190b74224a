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
                "{:<8} accepted ({}{pref}){flag}",
                v.version.to_string(),
                counted(v.cipher_suites.len(), "suite")
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
                "NOT COMPLIANT with policy {} ({}):",
                self.verdict.policy,
                counted(self.verdict.violations.len(), "violation")
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

/// `1 suite`, `2 suites`: the report is read by people.
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
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

#[cfg(test)]
mod tests {
    //! Expected names come from the IANA TLS registry (suite names, whose parts give the
    //! encryption column), the built-in policy's definition, and arithmetic on dates.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::builtin::builtin;
    use crate::policy::Resumption;
    use crate::version::NamedGroup;
    use std::time::UNIX_EPOCH;

    /// 2030-01-01T00:00:00Z.
    const NOW_UNIX: i64 = 1_893_456_000;
    const DAY: i64 = 86_400;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW_UNIX as u64)
    }

    fn intermediate() -> TlsPolicy {
        builtin("intermediate").unwrap()
    }

    // IANA code points.
    const ECDHE_RSA_AES128_GCM: u16 = 0xC02F;
    const ECDHE_RSA_AES128_CBC: u16 = 0xC013;
    const RSA_AES128_GCM: u16 = 0x009C;
    const RSA_AES128_CBC: u16 = 0x002F;
    const ECDHE_ECDSA_NULL: u16 = 0xC006;
    const ECDHE_ECDSA_ARIA128_GCM: u16 = 0xC05C;
    const TLS13_AES128_GCM: u16 = 0x1301;

    fn scan(versions: &[(ProtocolVersion, Option<&[u16]>)]) -> ScanResult {
        ScanResult {
            target: "example.test:443".to_owned(),
            versions: versions
                .iter()
                .map(|(v, s)| (*v, s.map(<[u16]>::to_vec)))
                .collect(),
            started: Some(now()),
            ..ScanResult::default()
        }
    }

    fn tls12_only(suites: &[u16]) -> ScanResult {
        scan(&[(ProtocolVersion::Tls12, Some(suites))])
    }

    fn judge(scan: &ScanResult, policy: &TlsPolicy) -> AuditReport {
        AuditReport::judge(scan, policy, CertificateChecks::default(), now())
    }

    fn messages(findings: &[Finding], kind: &str) -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| f.message.clone())
            .collect()
    }

    #[test]
    fn a_compliant_server_has_no_findings() {
        let scan = scan(&[
            (ProtocolVersion::Tls10, None),
            (ProtocolVersion::Tls12, Some(&[ECDHE_RSA_AES128_GCM])),
            (ProtocolVersion::Tls13, Some(&[TLS13_AES128_GCM])),
        ]);
        let report = judge(&scan, &intermediate());
        assert!(report.verdict.compliant, "{:?}", report.verdict);
        assert!(report.verdict.violations.is_empty());
        assert!(report.verdict.warnings.is_empty());
        assert_eq!(report.verdict.policy, "intermediate");
        assert_eq!(report.schema_version, SCHEMA_VERSION);
        assert_eq!(report.scanned_at, "2030-01-01T00:00:00Z");
        let accepted: Vec<(ProtocolVersion, bool, bool)> = report
            .versions
            .iter()
            .map(|v| (v.version, v.accepted, v.allowed))
            .collect();
        assert_eq!(
            accepted,
            [
                (ProtocolVersion::Tls10, false, false),
                (ProtocolVersion::Tls12, true, true),
                (ProtocolVersion::Tls13, true, true),
            ]
        );
        assert!(report
            .to_text()
            .contains("COMPLIANT with policy intermediate"));
        assert!(!report.to_text().contains("NOT COMPLIANT"));
    }

    #[test]
    fn a_refused_version_is_no_violation_and_an_accepted_one_outside_the_policy_is() {
        let scan = scan(&[
            (ProtocolVersion::Ssl3, None),
            (ProtocolVersion::Tls10, Some(&[ECDHE_RSA_AES128_CBC])),
            (ProtocolVersion::Tls11, None),
            (ProtocolVersion::Tls12, Some(&[ECDHE_RSA_AES128_GCM])),
        ]);
        let report = judge(&scan, &intermediate());
        assert_eq!(
            messages(&report.verdict.violations, "version"),
            ["accepts TLS 1.0"]
        );
        assert!(!report.verdict.compliant);
    }

    #[test]
    fn a_suite_outside_the_policy_is_one_finding_naming_every_version_and_why() {
        let scan = scan(&[
            (ProtocolVersion::Tls11, Some(&[ECDHE_RSA_AES128_CBC])),
            (
                ProtocolVersion::Tls12,
                Some(&[
                    ECDHE_RSA_AES128_GCM,
                    RSA_AES128_GCM,
                    ECDHE_RSA_AES128_CBC,
                    RSA_AES128_CBC,
                    ECDHE_ECDSA_NULL,
                    ECDHE_ECDSA_ARIA128_GCM,
                ]),
            ),
        ]);
        let report = judge(&scan, &intermediate());
        assert_eq!(
            messages(&report.verdict.violations, "cipher_suite"),
            [
                // First seen in TLS 1.1, so first; one finding for both versions.
                "accepts CBC suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA in TLS 1.1, TLS 1.2",
                // Static RSA: the key exchange is said once, as "no forward secrecy".
                "accepts TLS_RSA_WITH_AES_128_GCM_SHA256 (no forward secrecy) in TLS 1.2",
                "accepts TLS_RSA_WITH_AES_128_CBC_SHA (no forward secrecy, CBC) in TLS 1.2",
                "accepts TLS_ECDHE_ECDSA_WITH_NULL_SHA (no encryption) in TLS 1.2",
                "accepts TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256 (not in the policy) in TLS 1.2",
            ]
        );
        let tls12 = &report.versions[1];
        let allowed: Vec<bool> = tls12.cipher_suites.iter().map(|s| s.allowed).collect();
        assert_eq!(allowed, [true, false, false, false, false, false]);
        let text = report.to_text();
        assert!(
            text.contains("TLS 1.1  accepted (1 suite)   <- not allowed"),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.contains("TLS_RSA_WITH_AES_128_CBC_SHA")
                    && l.ends_with(" <- not allowed")),
            "{text}"
        );
        assert!(text.contains("NOT COMPLIANT with policy intermediate (6 violations):"));
        assert!(text.contains("  - accepts TLS 1.1\n"), "{text}");
    }

    #[test]
    fn suite_columns_follow_the_iana_names() {
        let cases: &[(u16, &str, &str, &str, bool, bool)] = &[
            (
                ECDHE_RSA_AES128_GCM,
                "AES-128-GCM",
                "Ecdhe",
                "Rsa",
                true,
                true,
            ),
            (
                ECDHE_RSA_AES128_CBC,
                "AES-128-CBC",
                "Ecdhe",
                "Rsa",
                false,
                true,
            ),
            (RSA_AES128_GCM, "AES-128-GCM", "Rsa", "Rsa", true, false),
            (0xC0AC, "AES-128-CCM", "Ecdhe", "Ecdsa", true, true),
            (0xC0AE, "AES-128-CCM8", "Ecdhe", "Ecdsa", true, true),
            (0xCCA8, "CHACHA20-POLY1305", "Ecdhe", "Rsa", true, true),
            (0x000A, "3DES-168-CBC", "Rsa", "Rsa", false, false),
            (0x0005, "RC4-128", "Rsa", "Rsa", false, false),
            (ECDHE_ECDSA_NULL, "NULL", "Ecdhe", "Ecdsa", false, true),
            (0xC09E, "AES-128-CCM", "Dhe", "Rsa", true, true),
        ];
        let codes: Vec<u16> = cases.iter().map(|c| c.0).collect();
        let report = judge(&tls12_only(&codes), &intermediate());
        for (row, (code, encryption, kx, auth, aead, fs)) in
            report.versions[0].cipher_suites.iter().zip(cases)
        {
            assert_eq!(row.code, format!("0x{code:04X}"));
            assert_eq!(
                (
                    row.encryption.as_str(),
                    row.key_exchange.as_str(),
                    row.authentication.as_str(),
                    row.aead,
                    row.forward_secret
                ),
                (*encryption, *kx, *auth, *aead, *fs),
                "{}",
                row.name
            );
        }
        assert_eq!(
            report.versions[0].cipher_suites[0].openssl_name.as_deref(),
            Some("ECDHE-RSA-AES128-GCM-SHA256")
        );
    }

    #[test]
    fn preference_is_reported_per_version() {
        let mut scan = scan(&[
            (
                ProtocolVersion::Tls12,
                Some(&[ECDHE_RSA_AES128_GCM, 0xC030]),
            ),
            (ProtocolVersion::Tls13, Some(&[TLS13_AES128_GCM, 0x1302])),
            (ProtocolVersion::Tls11, None),
        ]);
        scan.server_preference = vec![
            (ProtocolVersion::Tls13, false),
            (ProtocolVersion::Tls12, true),
        ];
        let report = judge(&scan, &intermediate());
        let preference: Vec<Option<&str>> = report.versions.iter().map(|v| v.preference).collect();
        assert_eq!(preference, [Some("server"), Some("client"), None]);
        let text = report.to_text();
        assert!(
            text.contains("TLS 1.2  accepted (2 suites, server order)\n"),
            "{text}"
        );
        assert!(
            text.contains("TLS 1.3  accepted (2 suites, client order)\n"),
            "{text}"
        );
        assert!(text.contains("TLS 1.1  refused\n"), "{text}");
    }

    #[test]
    fn groups_outside_the_policy_are_violations() {
        let mut scan = tls12_only(&[ECDHE_RSA_AES128_GCM]);
        scan.groups = vec![NamedGroup::X25519, NamedGroup(0x0019), NamedGroup::P256];
        let report = judge(&scan, &intermediate());
        assert_eq!(
            messages(&report.verdict.violations, "group"),
            ["accepts key-exchange group P-521 (not in the policy)"]
        );
        assert_eq!(report.groups, ["X25519", "P-521", "P-256"]);
        assert!(report.to_text().contains("groups: X25519, P-521, P-256\n"));
    }

    #[test]
    fn dhe_groups_need_2048_bits() {
        for (bits, violations) in [(1024, 1), (2047, 1), (2048, 0), (4096, 0)] {
            let mut scan = tls12_only(&[ECDHE_RSA_AES128_GCM]);
            scan.dhe_bits = Some(bits);
            let report = judge(&scan, &intermediate());
            let found = messages(&report.verdict.violations, "dhe");
            assert_eq!(found.len(), violations, "{bits}: {found:?}");
            if violations == 1 {
                assert_eq!(
                    found[0],
                    format!("DHE group is only {bits} bits (2048 or more needed)")
                );
            }
            assert!(report
                .to_text()
                .contains(&format!("DHE group: {bits} bits\n")));
        }
        let report = judge(&tls12_only(&[ECDHE_RSA_AES128_GCM]), &intermediate());
        assert!(!report.to_text().contains("DHE group"));
    }

    #[test]
    fn tickets_are_warnings_only_when_the_policy_does_not_use_them() {
        let mut scan = tls12_only(&[ECDHE_RSA_AES128_GCM]);
        scan.tls12_tickets = Some(true);
        scan.tls13_tickets = Some(true);
        let without = intermediate().with_resumption(Resumption::new(true, false));
        let report = judge(&scan, &without);
        assert_eq!(
            messages(&report.verdict.warnings, "session_ticket"),
            [
                "issues TLS 1.2 session tickets; the policy does not use tickets",
                "issues TLS 1.3 session tickets; the policy does not use tickets",
            ]
        );
        assert!(report.verdict.compliant, "a warning is not a violation");
        let text = report.to_text();
        assert!(text.contains("session tickets: TLS 1.2 yes, TLS 1.3 yes; ALPN: none\n"));
        assert!(
            text.contains("\nwarning: issues TLS 1.2 session tickets"),
            "{text}"
        );

        let with = intermediate().with_resumption(Resumption::new(true, true));
        assert!(judge(&scan, &with).verdict.warnings.is_empty());

        scan.tls12_tickets = Some(false);
        scan.tls13_tickets = None;
        let report = judge(&scan, &without);
        assert!(report.verdict.warnings.is_empty());
        assert!(report
            .to_text()
            .contains("session tickets: TLS 1.2 no, TLS 1.3 n/a;"));
    }

    #[test]
    fn alpn_outside_the_policy_is_a_warning() {
        let mut scan = tls12_only(&[ECDHE_RSA_AES128_GCM]);
        scan.alpn = Some("http/1.1".to_owned());
        let h2_only = intermediate().with_alpn(vec!["h2".to_owned()]).unwrap();
        assert_eq!(
            messages(&judge(&scan, &h2_only).verdict.warnings, "alpn"),
            ["selects application protocol \"http/1.1\", not in the policy"]
        );
        // A policy that names no protocol does not judge ALPN.
        assert!(judge(&scan, &intermediate()).verdict.warnings.is_empty());
        scan.alpn = Some("h2".to_owned());
        assert!(judge(&scan, &h2_only).verdict.warnings.is_empty());
    }

    fn leaf(
        key_type: &str,
        key_bits: u32,
        signature: &str,
        valid: (i64, i64),
    ) -> CertificateReport {
        CertificateReport {
            info: CertificateInfo {
                subject: "CN=leaf".to_owned(),
                issuer: "CN=issuer".to_owned(),
                key_type: key_type.to_owned(),
                key_bits,
                curve: None,
                signature_algorithm: signature.to_owned(),
                not_before: "NOT-BEFORE".to_owned(),
                not_after: "NOT-AFTER".to_owned(),
                not_before_unix: valid.0,
                not_after_unix: valid.1,
                subject_alt_names: Vec::new(),
                self_issued: false,
            },
            days_left: 0,
        }
    }

    fn findings(leaf: &CertificateReport) -> Vec<String> {
        let mut out = Vec::new();
        certificate_findings(leaf, CertificateChecks::default(), now(), &mut out);
        assert!(out.iter().all(|f| f.kind == "certificate"));
        out.into_iter().map(|f| f.message).collect()
    }

    fn valid_until(not_after_unix: i64) -> Vec<String> {
        findings(&leaf(
            "EC",
            256,
            "ecdsa-with-SHA256",
            (NOW_UNIX - DAY, not_after_unix),
        ))
    }

    #[test]
    fn expiry_is_counted_in_whole_days() {
        // Expired: whole days since, rounded down.
        assert_eq!(
            valid_until(NOW_UNIX - 1),
            ["certificate expired 0 days ago (NOT-AFTER)"]
        );
        assert_eq!(
            valid_until(NOW_UNIX - DAY - DAY / 2),
            ["certificate expired 1 day ago (NOT-AFTER)"]
        );
        assert_eq!(
            valid_until(NOW_UNIX - 30 * DAY),
            ["certificate expired 30 days ago (NOT-AFTER)"]
        );
        // Expiring within the 14 days: whole days left, rounded up.
        assert_eq!(
            valid_until(NOW_UNIX),
            ["certificate expires in 0 days (NOT-AFTER)"]
        );
        assert_eq!(
            valid_until(NOW_UNIX + 1),
            ["certificate expires in 1 day (NOT-AFTER)"]
        );
        assert_eq!(
            valid_until(NOW_UNIX + 3 * DAY - 10),
            ["certificate expires in 3 days (NOT-AFTER)"]
        );
        assert_eq!(
            valid_until(NOW_UNIX + 14 * DAY - 1),
            ["certificate expires in 14 days (NOT-AFTER)"]
        );
        assert!(valid_until(NOW_UNIX + 14 * DAY).is_empty());
        assert!(valid_until(NOW_UNIX + 400 * DAY).is_empty());
    }

    #[test]
    fn a_certificate_not_yet_valid_is_a_violation() {
        let later = |not_before| {
            findings(&leaf(
                "EC",
                256,
                "ecdsa-with-SHA256",
                (not_before, NOW_UNIX + 90 * DAY),
            ))
        };
        assert_eq!(
            later(NOW_UNIX + 1),
            ["certificate is not valid before NOT-BEFORE"]
        );
        assert!(later(NOW_UNIX).is_empty());
    }

    #[test]
    fn short_rsa_keys_and_weak_signatures_are_violations() {
        let valid = (NOW_UNIX - DAY, NOW_UNIX + 90 * DAY);
        assert_eq!(
            findings(&leaf("RSA", 2047, "sha256WithRSAEncryption", valid)),
            ["certificate key is RSA 2047 bits (at least 2048 needed)"]
        );
        assert!(findings(&leaf("RSA", 2048, "sha256WithRSAEncryption", valid)).is_empty());
        // Key sizes of other algorithms are not RSA sizes.
        assert!(findings(&leaf("EC", 256, "ecdsa-with-SHA256", valid)).is_empty());
        assert_eq!(
            findings(&leaf("RSA", 4096, "sha1WithRSAEncryption", valid)),
            ["certificate is signed with sha1WithRSAEncryption"]
        );
        assert_eq!(
            findings(&leaf("RSA", 4096, "md5WithRSAEncryption", valid)),
            ["certificate is signed with md5WithRSAEncryption"]
        );
        assert_eq!(
            findings(&leaf("EC", 256, "ecdsa-with-SHA1", valid)),
            ["certificate is signed with ecdsa-with-SHA1"]
        );
        let mut strict = Vec::new();
        let checks = CertificateChecks {
            min_remaining_validity: Duration::from_secs(100 * 86_400),
            min_rsa_bits: 3072,
        };
        certificate_findings(
            &leaf("RSA", 2048, "sha256WithRSAEncryption", valid),
            checks,
            now(),
            &mut strict,
        );
        let strict: Vec<&str> = strict.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            strict,
            [
                "certificate expires in 90 days (NOT-AFTER)",
                "certificate key is RSA 2048 bits (at least 3072 needed)"
            ]
        );
    }

    /// A certificate valid from `not_before` to `not_after` (rcgen, P-256), DER.
    fn certificate(name: &str, not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(vec![format!("{name}.test")]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn only_the_leaf_is_judged_and_every_certificate_is_reported() {
        let mut scan = tls12_only(&[ECDHE_RSA_AES128_GCM]);
        // The leaf expires in 9 days; the (expired) issuer is the client's business.
        scan.chain = vec![
            certificate("leaf", (2029, 1, 1), (2030, 1, 10)),
            certificate("issuer", (2020, 1, 1), (2029, 12, 1)),
        ];
        scan.chain_source = Some("TLS 1.2 Certificate message".to_owned());
        let report = judge(&scan, &intermediate());
        assert_eq!(
            messages(&report.verdict.violations, "certificate"),
            ["certificate expires in 9 days (2030-01-10T00:00:00Z)"]
        );
        let days: Vec<i64> = report
            .certificate_chain
            .iter()
            .map(|c| c.days_left)
            .collect();
        assert_eq!(days, [9, -31]);
        let text = report.to_text();
        assert!(text.contains("TLS 1.2  accepted (1 suite)\n"), "{text}");
        assert!(
            text.contains("NOT COMPLIANT with policy intermediate (1 violation):\n"),
            "{text}"
        );
        assert!(
            text.contains("certificate: CN=leaf (EC P-256, ecdsa-with-SHA256), valid 2029-01-01T00:00:00Z to 2030-01-10T00:00:00Z (9 days left), SANs: leaf.test\n"),
            "{text}"
        );
        assert!(text.contains("  issued by: CN=issuer\n"), "{text}");
        assert!(
            text.contains("  (from the TLS 1.2 Certificate message)\n"),
            "{text}"
        );
    }

    #[test]
    fn the_text_report_names_target_probes_and_notes() {
        let mut scan = tls12_only(&[ECDHE_RSA_AES128_GCM]);
        scan.address = Some("127.0.0.1:443".parse().unwrap());
        scan.probes = 42;
        scan.duration = Duration::from_millis(2_500);
        scan.alpn = Some("h2".to_owned());
        scan.notes = vec!["groups were not probed".to_owned()];
        let report = judge(&scan, &intermediate());
        assert_eq!(report.duration_ms, 2_500);
        let text = report.to_text();
        assert!(text.starts_with(
            "edgeward audit example.test:443 (127.0.0.1:443)\n42 probes in 2.5 s, policy intermediate\n\n"
        ), "{text}");
        assert!(text.contains("; ALPN: h2\n"), "{text}");
        assert!(text.contains("note: groups were not probed\n"), "{text}");
        assert!(
            !text.contains("groups:"),
            "no groups line without groups: {text}"
        );
        assert!(!text.contains("certificate:"), "{text}");
    }
}
