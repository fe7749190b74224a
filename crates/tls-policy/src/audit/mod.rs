//! Endpoint audit: what does a TLS server accept, and does that meet a [`TlsPolicy`]?
//!
//! [`audit`] probes a server with ClientHellos that this module encodes itself (rustls cannot
//! ask for SSL 3.0, TLS 1.0/1.1, CBC, static RSA or DHE, and a scanner must), reads the replies
//! with tls-parser, and judges the result against a policy:
//!
//! - **versions**: one probe per version (SSL 3.0 … TLS 1.3), all at once; a version is accepted
//!   when the ServerHello (or TLS 1.3 HelloRetryRequest) selects exactly it;
//! - **cipher suites** per accepted version: offer every suite of the
//!   [`registry`](crate::registry) usable in that version, remove the one chosen, repeat until
//!   the server refuses; then offer the leftovers once more in groups by key exchange (at most
//!   64 at a time) in case the long list hid one, and continue the elimination in a group that
//!   finds one; a group the server refuses uncleanly (a close without an alert, or an alert
//!   other than handshake_failure, protocol_version or insufficient_security) has each of its
//!   suites offered alone once the version is known to be accepted. No list is offered twice.
//!   Each suite is classified (key exchange, forward secrecy, AEAD);
//! - **preference**: the accepted suites offered in reverse order; if the server still picks
//!   its first, it imposes its order (and the suites are listed in it);
//! - **groups**: TLS 1.3: one probe per known group with that group alone in
//!   `supported_groups` and an empty `key_share`, accepted when the HelloRetryRequest names it;
//!   without TLS 1.3, one TLS 1.2 probe per curve, read from the ServerKeyExchange. **DHE**: the
//!   prime size from a DHE ServerKeyExchange;
//! - **certificate chain**: from a real rustls handshake when TLS 1.2 or 1.3 works (with a
//!   verifier that accepts any certificate and is used for nothing else), else from the TLS
//!   1.0–1.2 Certificate message; key type and size, signature algorithm, validity, SANs;
//! - **session tickets** (TLS 1.2 ServerHello extension, TLS 1.3 NewSessionTicket after the
//!   rustls handshake) and **ALPN** (offered `h2, http/1.1`).
//!
//! Probes run concurrently, at most [`AuditSettings::concurrency`] connections at a time, and
//! the whole scan runs inside one deadline ([`AuditSettings::timeout`]): a server that stalls is
//! [`AuditError::Timeout`]; one that sends garbage is [`AuditError::Reply`]; one that closes in
//! the middle of a record is [`AuditError::ClosedMidRecord`]. A refusal (an alert, or a close
//! before the first byte) is an answer, not an error.
//!
//! Non-goals: no certificate path validation (the chain is reported, not trusted), no
//! vulnerability checks (Heartbleed, ROBOT, …), no SSL 2.0.
//!
//! ```no_run
//! use edgeward_tls_policy::audit::{audit, AuditSettings};
//! use edgeward_tls_policy::TlsPolicy;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = TlsPolicy::named("intermediate")?;
//! let report = audit("127.0.0.1:8443", &policy, &AuditSettings::default()).await?;
//! println!("{}", report.to_text());
//! std::process::exit(if report.verdict.compliant { 0 } else { 1 });
//! # }
//! ```
//!
//! # JSON schema (`edgeward audit --json`), version 1
//!
//! One object; fields are never removed or renamed within a schema version, new fields may be
//! added. Nullable fields are `null`, never absent.
//!
//! ```text
//! {
//!   "schema_version": 1,
//!   "target": "host:port",            // as given
//!   "address": "127.0.0.1:8443",      // the socket address probed
//!   "sni": "example.com" | null,
//!   "scanned_at": "2026-01-01T00:00:00Z",
//!   "duration_ms": 412,
//!   "probes": 37,                     // connections made
//!   "versions": [                     // always 5 entries: SSL3.0, TLS1.0, TLS1.1, TLS1.2, TLS1.3
//!     { "version": "TLS1.2", "accepted": true, "allowed": true,
//!       "preference": "server" | "client" | null,
//!       "cipher_suites": [            // in the server's order when preference is "server"
//!         { "code": "0xC02F", "name": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
//!           "openssl_name": "ECDHE-RSA-AES128-GCM-SHA256" | null,
//!           "key_exchange": "Ecdhe", "authentication": "Rsa", "encryption": "AES-128-GCM",
//!           "aead": true, "forward_secret": true, "allowed": true } ] } ],
//!   "groups": ["X25519", "P-256"],
//!   "groups_method": "TLS 1.3 key_share (HelloRetryRequest)" | "TLS 1.2 ServerKeyExchange" | null,
//!   "dhe_bits": 2048 | null,
//!   "certificate_chain": [            // leaf first
//!     { "subject": "CN=example.com", "issuer": "CN=Example CA", "key_type": "RSA" | "EC" | "Ed25519" | …,
//!       "key_bits": 2048, "curve": "P-256" | null, "signature_algorithm": "sha256WithRSAEncryption",
//!       "not_before": "…Z", "not_after": "…Z", "not_before_unix": 0, "not_after_unix": 0,
//!       "subject_alt_names": ["example.com"], "self_issued": false, "days_left": 89 } ],
//!   "certificate_source": "rustls handshake (TLS 1.3)" | "TLS 1.2 Certificate message" | null,
//!   "session_tickets": { "tls12": true | false | null, "tls13": true | false | null },
//!   "alpn": "h2" | null,
//!   "extended_master_secret": true | false | null,
//!   "secure_renegotiation": true | false | null,
//!   "notes": ["…"],                   // what could not be determined, hellos it tripped over
//!   "verdict": { "policy": "intermediate", "compliant": false,
//!     "violations": [ { "kind": "version" | "cipher_suite" | "group" | "dhe" | "certificate",
//!                       "message": "accepts TLS 1.0" } ],
//!     "warnings":   [ { "kind": "session_ticket" | "alpn", "message": "…" } ] }
//! }
//! ```
//!
//! The exit codes of `edgeward audit`: 0 compliant, 1 not compliant, 2 could not scan.

mod cert;
mod hello;
mod probe;
mod reply;
mod report;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use cert::CertificateInfo;
pub use hello::{key_share_for, ClientHelloSpec, RENEGOTIATION_SCSV};
pub use probe::ScanResult;
pub use reply::{
    alert_name, dhe_prime_bits, ecdhe_group, parse_server_reply, HelloRetryInfo, ReplyError,
    ServerHelloInfo, ServerMessage, ServerReply, HRR_RANDOM, MAX_HANDSHAKE_MESSAGE,
    MAX_RECORD_BODY, MAX_REPLY,
};
pub use report::{
    AuditReport, AuditVerdict, CertificateChecks, CertificateReport, Finding, SessionTickets,
    SuiteReport, VersionReport, SCHEMA_VERSION,
};

use crate::policy::TlsPolicy;

/// Why a scan could not finish. A refusing server is not an error; these are.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Caller: the target is not `host:port`.
    #[error("invalid target {target:?}: {reason}")]
    InvalidTarget {
        /// What was given.
        target: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Environment: the host name does not resolve.
    #[error("cannot resolve {target}: {source}")]
    Resolve {
        /// The target.
        target: String,
        /// Why.
        source: std::io::Error,
    },
    /// Network: no TCP connection to the server.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Peer: the scan did not finish in time (the server stalls, or is too slow).
    #[error("scan did not finish within {timeout:?}: no answer to the {during} probe")]
    Timeout {
        /// The scan's time limit.
        timeout: Duration,
        /// The probe that was still waiting.
        during: String,
    },
    /// Peer: the server's reply is not TLS, or is malformed.
    #[error("{probe} probe: {source}")]
    Reply {
        /// The probe.
        probe: String,
        /// What is wrong with the reply.
        source: ReplyError,
    },
    /// Peer: the server closed the connection in the middle of a record or message.
    #[error("{probe} probe: the server closed the connection mid-record ({missing} received)")]
    ClosedMidRecord {
        /// The probe.
        probe: String,
        /// How far the record got.
        missing: String,
    },
    /// Network: reading or writing failed.
    #[error("{probe} probe: {source}")]
    Io {
        /// The probe.
        probe: String,
        /// Why.
        source: std::io::Error,
    },
    /// Peer: the server refused every version (not a TLS server, or nothing in common).
    #[error("{address} accepted no SSL/TLS version: every probe was refused")]
    NoTls {
        /// The address.
        address: SocketAddr,
    },
    /// A probe task failed unexpectedly (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

/// How to scan. `AuditSettings::default()` and change the fields you need.
#[non_exhaustive]
#[derive(Clone)]
pub struct AuditSettings {
    /// Server name (SNI) to send; `None`: the host of the target when it is a DNS name.
    pub sni: Option<String>,
    /// Time limit of the whole scan. Default 30 s.
    pub timeout: Duration,
    /// Most connections at a time. Default 8.
    pub concurrency: usize,
    /// ALPN protocols offered. Default `h2`, `http/1.1`.
    pub alpn: Vec<String>,
    /// Certificate checks of the verdict.
    pub certificate: CertificateChecks,
    /// The clock for the verdict (certificate validity) and the report's timestamp.
    pub clock: fn() -> SystemTime,
    /// Randomness for client randoms and X25519 key shares.
    pub random: &'static dyn rustls::crypto::SecureRandom,
}

impl std::fmt::Debug for AuditSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSettings")
            .field("sni", &self.sni)
            .field("timeout", &self.timeout)
            .field("concurrency", &self.concurrency)
            .field("alpn", &self.alpn)
            .field("certificate", &self.certificate)
            .finish_non_exhaustive()
    }
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            sni: None,
            timeout: Duration::from_secs(30),
            concurrency: 8,
            alpn: vec!["h2".to_owned(), "http/1.1".to_owned()],
            certificate: CertificateChecks::default(),
            clock: SystemTime::now,
            random: rustls::crypto::aws_lc_rs::default_provider().secure_random,
        }
    }
}

/// Progress of a running scan, for a progress indicator.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct ScanProgress {
    /// Probes finished so far.
    pub probes_done: usize,
    /// The probe that just finished.
    pub last_probe: String,
}

/// A progress callback, called after each probe (from any task).
pub type ProgressFn = Arc<dyn Fn(&ScanProgress) + Send + Sync>;

/// Splits `host:port` (`[v6]:port` for IPv6) and resolves it.
async fn resolve(target: &str) -> Result<(SocketAddr, Option<String>), AuditError> {
    let invalid = |reason| AuditError::InvalidTarget {
        target: target.to_owned(),
        reason,
    };
    let (host, port) = target
        .rsplit_once(':')
        .ok_or_else(|| invalid("expected HOST:PORT"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| invalid("the port is not a number from 0 to 65535"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(invalid("the host is empty"));
    }
    let dns_name = host
        .parse::<std::net::IpAddr>()
        .is_err()
        .then(|| host.to_owned());
    let mut addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| AuditError::Resolve {
            target: target.to_owned(),
            source,
        })?;
    let addr = addrs.next().ok_or_else(|| AuditError::Resolve {
        target: target.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
    })?;
    Ok((addr, dns_name))
}

/// Probes `target` (`host:port`) and reports what it accepts, without judging it.
pub async fn scan(
    target: &str,
    settings: &AuditSettings,
    progress: Option<ProgressFn>,
) -> Result<ScanResult, AuditError> {
    let started = (settings.clock)();
    let deadline = tokio::time::Instant::now() + settings.timeout;
    let (addr, dns_name) = tokio::time::timeout_at(deadline, resolve(target))
        .await
        .map_err(|_| AuditError::Timeout {
            timeout: settings.timeout,
            during: "name resolution".into(),
        })??;
    let mut settings = settings.clone();
    if settings.sni.is_none() {
        settings.sni = dns_name;
    }
    let prober = Arc::new(probe::Prober::new(addr, &settings, progress));
    let mut result = probe::run_scan(prober, target.to_owned(), settings.alpn.clone()).await?;
    result.started = Some(started);
    Ok(result)
}

/// Probes `target` and judges it against `policy`: the whole of `edgeward audit`.
pub async fn audit(
    target: &str,
    policy: &TlsPolicy,
    settings: &AuditSettings,
) -> Result<AuditReport, AuditError> {
    audit_with_progress(target, policy, settings, None).await
}

/// [`audit`] with a progress callback.
pub async fn audit_with_progress(
    target: &str,
    policy: &TlsPolicy,
    settings: &AuditSettings,
    progress: Option<ProgressFn>,
) -> Result<AuditReport, AuditError> {
    let result = scan(target, settings, progress).await?;
    Ok(AuditReport::judge(
        &result,
        policy,
        settings.certificate,
        (settings.clock)(),
    ))
}
