//! The probe engine: one TCP connection per probe, a bounded number at a time, all inside one
//! deadline; and the scan that decides which probes to send.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::cert::{self, CertificateInfo};
use super::hello::{key_share_for, ClientHelloSpec, RENEGOTIATION_SCSV};
use super::reply::{self, parse_server_reply, ServerReply};
use super::{AuditError, AuditSettings, ProgressFn, ScanProgress};
use crate::registry::{self, KeyExchange};
use crate::version::{NamedGroup, ProtocolVersion};

/// Every signature scheme a probe offers (TLS 1.2+): the modern ones first, then SHA-1, SHA-224
/// and DSA so that a server with an old certificate still answers.
const SIGNATURE_ALGORITHMS: &[u16] = &[
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B, 0x0401,
    0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602, 0x0203, 0x0201, 0x0202,
];

/// Elliptic-curve groups a TLS 1.0–1.2 probe offers (finite-field groups are left out: a
/// server that follows RFC 7919 would then refuse DHE suites for a client whose ffdhe groups it
/// does not share).
const EC_GROUPS: &[u16] = &[
    0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x001A, 0x001B, 0x001C,
];

/// Groups probed one at a time in TLS 1.3 (with an empty key_share).
fn tls13_candidate_groups() -> Vec<u16> {
    NamedGroup::known().map(|g| g.0).collect()
}

/// How a probe ended, when it did not fail.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The server answered (a hello, a retry request, or an alert).
    Reply(ServerReply),
    /// The server closed or reset the connection without answering: a refusal.
    Closed,
}

/// How a server answered a probe, besides the suite it chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// A handshake_failure, protocol_version or insufficient_security alert: a clean
    /// "nothing in common".
    NothingInCommon,
    /// A hello, or another alert (a server tripping over the hello, or refusing otherwise).
    Other,
    /// A close or reset without a reply.
    Silence,
}

/// What to read before closing the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// The first answer: ServerHello, HelloRetryRequest or alert.
    Answer,
    /// The whole plaintext server flight (up to ServerHelloDone).
    Flight,
}

pub(crate) struct Prober {
    addr: SocketAddr,
    sni: Option<String>,
    deadline: Instant,
    timeout: Duration,
    permits: Semaphore,
    done: AtomicUsize,
    progress: Option<ProgressFn>,
    rng: &'static dyn rustls::crypto::SecureRandom,
}

impl Prober {
    pub(crate) fn new(
        addr: SocketAddr,
        settings: &AuditSettings,
        progress: Option<ProgressFn>,
    ) -> Self {
        Self {
            addr,
            sni: settings.sni.clone(),
            deadline: Instant::now() + settings.timeout,
            timeout: settings.timeout,
            permits: Semaphore::new(settings.concurrency.max(1)),
            done: AtomicUsize::new(0),
            progress,
            rng: settings.random,
        }
    }

    pub(crate) fn probes(&self) -> usize {
        self.done.load(Ordering::SeqCst)
    }

    fn random(&self) -> [u8; 32] {
        let mut r = [0u8; 32];
        // A failing system RNG leaves zeros: the random is not a secret in a probe.
        let _ = self.rng.fill(&mut r);
        r
    }

    fn timed_out(&self, during: &str) -> AuditError {
        AuditError::Timeout {
            timeout: self.timeout,
            during: during.to_owned(),
        }
    }

    /// Sends one ClientHello on a fresh connection and reads the answer.
    async fn exchange(
        &self,
        spec: &ClientHelloSpec,
        until: Until,
        label: &str,
    ) -> Result<Outcome, AuditError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| self.timed_out(label))?;
        let result =
            tokio::time::timeout_at(self.deadline, self.exchange_inner(spec, until, label)).await;
        self.finished(label);
        result.map_err(|_| self.timed_out(label))?
    }

    /// Counts a finished probe and reports it to the progress callback.
    fn finished(&self, label: &str) {
        let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(p) = &self.progress {
            p(&ScanProgress {
                probes_done: n,
                last_probe: label.to_owned(),
            });
        }
    }

    async fn exchange_inner(
        &self,
        spec: &ClientHelloSpec,
        until: Until,
        label: &str,
    ) -> Result<Outcome, AuditError> {
        let mut tcp =
            TcpStream::connect(self.addr)
                .await
                .map_err(|source| AuditError::Connect {
                    address: self.addr,
                    source,
                })?;
        let _ = tcp.set_nodelay(true);
        let io_err = |source: std::io::Error| AuditError::Io {
            probe: label.to_owned(),
            source,
        };
        if let Err(e) = tcp.write_all(&spec.encode()).await {
            return if is_refusal(&e) {
                Ok(Outcome::Closed)
            } else {
                Err(io_err(e))
            };
        }
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let n = match tcp.read(&mut chunk).await {
                Ok(n) => n,
                Err(e) if is_refusal(&e) && buf.is_empty() => return Ok(Outcome::Closed),
                Err(e) => return Err(io_err(e)),
            };
            if n == 0 {
                if buf.is_empty() {
                    return Ok(Outcome::Closed);
                }
                let reply = parse_server_reply(&buf).map_err(|source| AuditError::Reply {
                    probe: label.to_owned(),
                    source,
                })?;
                if let Some(missing) = reply.incomplete {
                    return Err(AuditError::ClosedMidRecord {
                        probe: label.to_owned(),
                        missing,
                    });
                }
                return Ok(Outcome::Reply(reply));
            }
            buf.extend_from_slice(&chunk[..n]);
            // Bounded: `parse_server_reply` refuses more than `reply::MAX_REPLY` bytes.
            let reply = parse_server_reply(&buf).map_err(|source| AuditError::Reply {
                probe: label.to_owned(),
                source,
            })?;
            let done = match until {
                Until::Answer => reply.has_answer(),
                Until::Flight => reply.has_flight(),
            };
            if done {
                return Ok(Outcome::Reply(reply));
            }
        }
    }

    /// The standard hello for `version` offering `suites`.
    fn hello(&self, version: ProtocolVersion, suites: &[u16]) -> ClientHelloSpec {
        let random = self.random();
        match version {
            ProtocolVersion::Tls13 => {
                let mut s = ClientHelloSpec::new(0x0303, random, suites.to_vec());
                s.session_id = self.random().to_vec();
                s.supported_versions = vec![0x0304];
                s.groups = tls13_candidate_groups();
                let shares = [0x001D, 0x0017]
                    .iter()
                    .filter_map(|g| key_share_for(*g, &random).map(|k| (*g, k)))
                    .collect();
                s.key_shares = Some(shares);
                s.signature_algorithms = SIGNATURE_ALGORITHMS.to_vec();
                s.server_name = self.sni.clone();
                s
            }
            ProtocolVersion::Ssl3 => {
                let mut offered = suites.to_vec();
                offered.push(RENEGOTIATION_SCSV);
                let mut s = ClientHelloSpec::new(0x0300, random, offered);
                s.no_extensions = true;
                s
            }
            v => {
                let mut offered = suites.to_vec();
                offered.push(RENEGOTIATION_SCSV);
                let mut s = ClientHelloSpec::new(v.code(), random, offered);
                s.legacy_extensions = true;
                s.groups = EC_GROUPS.to_vec();
                if v >= ProtocolVersion::Tls12 {
                    s.signature_algorithms = SIGNATURE_ALGORITHMS.to_vec();
                }
                s.server_name = self.sni.clone();
                s
            }
        }
    }

    /// Offers `suites` in `version`; the suite the server chose, if it accepted in exactly
    /// that version.
    async fn choose(
        &self,
        version: ProtocolVersion,
        suites: &[u16],
    ) -> Result<Option<u16>, AuditError> {
        Ok(self.choose_detailed(version, suites).await?.0)
    }

    /// [`Self::choose`], and how the server answered.
    async fn choose_detailed(
        &self,
        version: ProtocolVersion,
        suites: &[u16],
    ) -> Result<(Option<u16>, Answer), AuditError> {
        if suites.is_empty() {
            return Ok((None, Answer::NothingInCommon));
        }
        let label = format!("{version} suites");
        let outcome = self
            .exchange(&self.hello(version, suites), Until::Answer, &label)
            .await?;
        Ok(match &outcome {
            Outcome::Reply(r) => {
                let chosen = r
                    .server_hello()
                    .filter(|h| h.version == version.code())
                    .map(|h| h.cipher_suite)
                    .or_else(|| {
                        // A HelloRetryRequest names the suite too (TLS 1.3).
                        r.hello_retry()
                            .filter(|h| h.version == 0x0304 && version == ProtocolVersion::Tls13)
                            .map(|h| h.cipher_suite)
                    });
                let answer = if matches!(r.alert(), Some((_, 40 | 70 | 71))) {
                    Answer::NothingInCommon
                } else {
                    Answer::Other
                };
                (chosen.filter(|c| suites.contains(c)), answer)
            }
            Outcome::Closed => (None, Answer::Silence),
        })
    }

    /// Every suite of `offered` the server accepts in `version`, in the order found (the
    /// server's preference order when it has one), or `None` when it refuses the version;
    /// `true` with them when the whole list met a close without a word and shorter lists found
    /// them.
    ///
    /// First the whole list by elimination: offer all that is left, remove the chosen suite,
    /// repeat. Then what is left in groups by key exchange, each by the same elimination, in
    /// case the whole list hid some: a server that chooses by certificate type, or one (or a
    /// box in front of it) that trips over long lists. A server that answers the whole list
    /// with an alert read the hello and refused the version: OpenSSL 3 answers a TLS 1.0 hello
    /// with internal_error, and offering it the groups would only cost probes. Where a group
    /// is refused uncleanly, its suites are offered one at a time, but only once the version
    /// is known to be accepted: a server that closes on every hello of a version it does not
    /// speak would cost a probe per suite.
    ///
    /// No list is offered twice: the server would answer it alike.
    async fn accepted_suites(
        &self,
        version: ProtocolVersion,
        offered: Vec<u16>,
    ) -> Result<(Option<Vec<u16>>, bool), AuditError> {
        let mut accepted = Vec::new();
        let mut remaining = offered;
        let (whole_list_silenced, last_answer) = loop {
            let (chosen, answer) = self.choose_detailed(version, &remaining).await?;
            let Some(c) = chosen else {
                break (accepted.is_empty() && answer == Answer::Silence, answer);
            };
            accepted.push(c);
            remaining.retain(|r| *r != c);
        };
        if accepted.is_empty() && !whole_list_silenced {
            return Ok((None, false));
        }

        let mut refused_uncleanly = Vec::new();
        for mut chunk in leftover_chunks(&remaining) {
            // The last list above, when it fits in one group, has had its answer.
            let mut known = (chunk == remaining).then_some(last_answer);
            loop {
                let (chosen, answer) = match known.take() {
                    Some(answered) => (None, answered),
                    None => self.choose_detailed(version, &chunk).await?,
                };
                if let Some(c) = chosen {
                    accepted.push(c);
                    chunk.retain(|r| *r != c);
                    continue;
                }
                if answer != Answer::NothingInCommon {
                    refused_uncleanly.push(chunk);
                }
                break;
            }
        }
        if accepted.is_empty() {
            return Ok((None, false));
        }
        // A group of one suite was that suite alone.
        for chunk in refused_uncleanly
            .into_iter()
            .filter(|chunk| chunk.len() > 1)
        {
            for single in chunk {
                if let Some(c) = self.choose(version, &[single]).await? {
                    accepted.push(c);
                }
            }
        }
        Ok((Some(accepted), whole_list_silenced))
    }
}

fn is_refusal(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::UnexpectedEof
    )
}

/// Leftover suites in groups of at most 64, one key-exchange family per group.
fn leftover_chunks(remaining: &[u16]) -> Vec<Vec<u16>> {
    let family = |c: u16| match registry::lookup(c).map(|s| s.kx) {
        Some(KeyExchange::Ecdhe) => 0,
        Some(KeyExchange::Dhe) => 1,
        Some(KeyExchange::Rsa) => 2,
        _ => 3,
    };
    let mut out = Vec::new();
    for f in 0..4 {
        let fam: Vec<u16> = remaining
            .iter()
            .copied()
            .filter(|c| family(*c) == f)
            .collect();
        for chunk in fam.chunks(64) {
            out.push(chunk.to_vec());
        }
    }
    out
}

/// The suites a probe offers in `version`: every registry suite usable in it.
pub(crate) fn suites_for(version: ProtocolVersion) -> Vec<u16> {
    registry::all_suites()
        .iter()
        .filter(|s| !s.signaling && s.usable_in(version))
        .filter(|s| (version == ProtocolVersion::Tls13) == s.is_tls13())
        .map(|s| s.code)
        .collect()
}

/// What a scan found, before any policy judges it.
#[non_exhaustive]
#[derive(Debug, Clone, Default)]
pub struct ScanResult {
    /// The target as given (`host:port`).
    pub target: String,
    /// The address probed.
    pub address: Option<SocketAddr>,
    /// The server name sent (SNI), if any.
    pub sni: Option<String>,
    /// Per version (SSL 3.0 to TLS 1.3): the accepted suites in the order found, or `None`
    /// when the version is refused.
    pub versions: Vec<(ProtocolVersion, Option<Vec<u16>>)>,
    /// Per accepted version with two or more suites: whether the server imposes its own order.
    pub server_preference: Vec<(ProtocolVersion, bool)>,
    /// Accepted key-exchange groups, and how they were found (`TLS 1.3 key_share` or
    /// `TLS 1.2 ServerKeyExchange`).
    pub groups: Vec<NamedGroup>,
    /// How the groups were probed.
    pub groups_method: Option<&'static str>,
    /// DHE prime size in bits (from a DHE ServerKeyExchange).
    pub dhe_bits: Option<u32>,
    /// The certificate chain, leaf first (DER).
    pub chain: Vec<Vec<u8>>,
    /// Where the chain came from.
    pub chain_source: Option<String>,
    /// Whether the server issues TLS 1.2 (RFC 5077) tickets; `None` if not probed.
    pub tls12_tickets: Option<bool>,
    /// Whether the server sent TLS 1.3 tickets after a handshake; `None` if not probed.
    pub tls13_tickets: Option<bool>,
    /// The ALPN protocol the server selected from `h2, http/1.1`.
    pub alpn: Option<String>,
    /// Extended master secret (TLS 1.0–1.2), when probed.
    pub extended_master_secret: Option<bool>,
    /// Secure renegotiation (TLS 1.0–1.2), when probed.
    pub secure_renegotiation: Option<bool>,
    /// Number of probes sent.
    pub probes: usize,
    /// Wall time of the scan.
    pub duration: Duration,
    /// When the scan started (from the settings' clock).
    pub started: Option<SystemTime>,
    /// Notes: what could not be determined, and hellos the server tripped over (not
    /// failures).
    pub notes: Vec<String>,
}

impl ScanResult {
    /// The accepted suites of `version`, if the version is accepted.
    pub fn suites(&self, version: ProtocolVersion) -> Option<&[u16]> {
        self.versions
            .iter()
            .find(|(v, _)| *v == version)
            .and_then(|(_, s)| s.as_deref())
    }

    /// The accepted versions, oldest first.
    pub fn accepted_versions(&self) -> Vec<ProtocolVersion> {
        self.versions
            .iter()
            .filter(|(_, s)| s.is_some())
            .map(|(v, _)| *v)
            .collect()
    }

    /// The certificate chain, parsed.
    pub fn certificates(&self) -> Vec<CertificateInfo> {
        self.chain
            .iter()
            .filter_map(|d| CertificateInfo::from_der(d))
            .collect()
    }
}

/// Runs every probe against `addr`.
pub(crate) async fn run_scan(
    prober: Arc<Prober>,
    target: String,
    alpn: Vec<String>,
) -> Result<ScanResult, AuditError> {
    let start = Instant::now();
    let mut result = ScanResult {
        target,
        address: Some(prober.addr),
        sni: prober.sni.clone(),
        ..ScanResult::default()
    };

    // 1. Versions, concurrently; each version's suites by elimination.
    let mut set = JoinSet::new();
    for version in ProtocolVersion::ALL {
        let p = prober.clone();
        set.spawn(async move {
            let (suites, in_shorter_list) = p.accepted_suites(version, suites_for(version)).await?;
            Ok::<_, AuditError>((version, suites, in_shorter_list))
        });
    }
    let mut versions = join_all(&mut set).await?;
    versions.sort_by_key(|(v, _, _)| *v);
    for (version, _, in_shorter_list) in &versions {
        if *in_shorter_list {
            result.notes.push(format!(
                "{version}: a hello offering every suite met a close without an answer, and \
                 shorter ones were accepted: the server, or a box before it, trips over such a \
                 hello (its length, or a suite in it) and will refuse clients that send one"
            ));
        }
    }
    result.versions = versions.into_iter().map(|(v, s, _)| (v, s)).collect();
    if result.accepted_versions().is_empty() {
        return Err(AuditError::NoTls {
            address: prober.addr,
        });
    }

    // 2. Everything else, concurrently.
    let mut details: JoinSet<Result<Detail, AuditError>> = JoinSet::new();
    for (version, suites) in &result.versions {
        let Some(suites) = suites.clone() else {
            continue;
        };
        if suites.len() >= 2 {
            let (p, v) = (prober.clone(), *version);
            details.spawn(async move {
                let mut reversed = suites.clone();
                reversed.reverse();
                let chosen = p.choose(v, &reversed).await?;
                Ok(Detail::Preference(v, chosen == suites.first().copied()))
            });
        }
    }
    let tls13 = result.suites(ProtocolVersion::Tls13).map(<[u16]>::to_vec);
    let legacy_top = [
        ProtocolVersion::Tls12,
        ProtocolVersion::Tls11,
        ProtocolVersion::Tls10,
        ProtocolVersion::Ssl3,
    ]
    .into_iter()
    .find_map(|v| result.suites(v).map(|s| (v, s.to_vec())));
    if let Some(t13) = &tls13 {
        for g in tls13_candidate_groups() {
            let (p, suites) = (prober.clone(), t13.clone());
            details.spawn(async move {
                let mut spec = p.hello(ProtocolVersion::Tls13, &suites);
                spec.groups = vec![g];
                spec.key_shares = Some(Vec::new());
                let label = format!("TLS 1.3 group {}", NamedGroup(g));
                let out = p.exchange(&spec, Until::Answer, &label).await?;
                let ok = match &out {
                    Outcome::Reply(r) => {
                        r.hello_retry().is_some_and(|h| h.selected_group == Some(g))
                            || r.server_hello()
                                .is_some_and(|h| h.key_share_group == Some(g))
                    }
                    Outcome::Closed => false,
                };
                Ok(Detail::Group(g, ok))
            });
        }
    } else if let Some((v, suites)) = &legacy_top {
        let ecdhe: Vec<u16> = suites
            .iter()
            .copied()
            .filter(|c| registry::lookup(*c).is_some_and(|s| s.kx == KeyExchange::Ecdhe))
            .collect();
        if !ecdhe.is_empty() {
            for &g in EC_GROUPS {
                let (p, suites, v) = (prober.clone(), ecdhe.clone(), *v);
                details.spawn(async move {
                    let mut spec = p.hello(v, &suites);
                    spec.groups = vec![g];
                    let label = format!("{v} group {}", NamedGroup(g));
                    let out = p.exchange(&spec, Until::Flight, &label).await?;
                    let ok = match &out {
                        Outcome::Reply(r) => {
                            r.server_hello().is_some()
                                && r.server_key_exchange().and_then(reply::ecdhe_group) == Some(g)
                        }
                        Outcome::Closed => false,
                    };
                    Ok(Detail::Group(g, ok))
                });
            }
        }
    }
    if let Some((v, suites)) = &legacy_top {
        // DHE group size.
        let dhe: Vec<u16> = suites
            .iter()
            .copied()
            .filter(|c| registry::lookup(*c).is_some_and(|s| s.kx == KeyExchange::Dhe))
            .collect();
        if !dhe.is_empty() {
            let (p, v) = (prober.clone(), *v);
            details.spawn(async move {
                let spec = p.hello(v, &dhe);
                let out = p
                    .exchange(&spec, Until::Flight, &format!("{v} DHE parameters"))
                    .await?;
                let bits = match &out {
                    Outcome::Reply(r) => r.server_key_exchange().and_then(reply::dhe_prime_bits),
                    Outcome::Closed => None,
                };
                Ok(Detail::Dhe(bits))
            });
        }
        // The whole flight: certificate, tickets, ALPN, extensions.
        let (p, v, suites, alpn) = (prober.clone(), *v, suites.clone(), alpn.clone());
        details.spawn(async move {
            let mut spec = p.hello(v, &suites);
            if v != ProtocolVersion::Ssl3 {
                spec.session_ticket = true;
                spec.alpn = alpn;
            }
            let out = p
                .exchange(&spec, Until::Flight, &format!("{v} server flight"))
                .await?;
            Ok(match out {
                Outcome::Reply(r) => Detail::Flight(v, Box::new(r)),
                Outcome::Closed => Detail::Nothing,
            })
        });
    }
    let modern = tls13.is_some() || result.suites(ProtocolVersion::Tls12).is_some();
    if modern {
        let (p, alpn) = (prober.clone(), alpn.clone());
        details.spawn(async move {
            let _permit = p
                .permits
                .acquire()
                .await
                .map_err(|_| p.timed_out("rustls handshake"))?;
            let facts = tokio::time::timeout_at(p.deadline, async {
                let tcp = TcpStream::connect(p.addr).await?;
                cert::rustls_handshake(tcp, p.sni.as_deref(), p.addr.ip(), &alpn).await
            })
            .await
            .map_err(|_| p.timed_out("rustls handshake"))?;
            p.finished("rustls handshake");
            Ok(Detail::Rustls(facts.map_err(|e| e.to_string())))
        });
    }
    let mut flight: Option<(ProtocolVersion, Box<ServerReply>)> = None;
    let mut rustls_facts = None;
    let mut groups = BTreeSet::new();
    for d in join_all(&mut details).await? {
        match d {
            Detail::Preference(v, server) => result.server_preference.push((v, server)),
            Detail::Group(g, true) => {
                groups.insert(g);
            }
            Detail::Group(_, false) | Detail::Nothing => {}
            Detail::Dhe(bits) => result.dhe_bits = bits,
            Detail::Flight(v, r) => flight = Some((v, r)),
            Detail::Rustls(f) => rustls_facts = Some(f),
        }
    }
    result.server_preference.sort_by_key(|(v, _)| *v);
    result.groups = groups.into_iter().map(NamedGroup).collect();
    if tls13.is_some() {
        result.groups_method = Some("TLS 1.3 key_share (HelloRetryRequest)");
    } else if !result.groups.is_empty() {
        result.groups_method = Some("TLS 1.2 ServerKeyExchange");
    }
    if let Some((v, r)) = &flight {
        if let Some(h) = r.server_hello() {
            result.tls12_tickets = Some(h.session_ticket);
            result.alpn = h.alpn.clone();
            result.extended_master_secret = Some(h.extended_master_secret);
            result.secure_renegotiation = Some(h.secure_renegotiation);
        }
        if let Some(chain) = r.certificates() {
            result.chain = chain.to_vec();
            result.chain_source = Some(format!("{v} Certificate message"));
        }
    }
    match rustls_facts {
        Some(Ok(f)) => {
            let v = f.version.and_then(ProtocolVersion::from_code);
            if !f.chain.is_empty() {
                result.chain = f.chain;
                result.chain_source = Some(match v {
                    Some(v) => format!("rustls handshake ({v})"),
                    None => "rustls handshake".to_owned(),
                });
            }
            if f.alpn.is_some() {
                result.alpn = f.alpn;
            }
            if v == Some(ProtocolVersion::Tls13) {
                result.tls13_tickets = Some(f.tls13_ticket);
            }
        }
        Some(Err(e)) => result.notes.push(format!("rustls handshake failed: {e}")),
        None => {}
    }
    if result.chain.is_empty() {
        result
            .notes
            .push("no certificate chain could be read".to_owned());
    }
    result.probes = prober.probes();
    result.duration = start.elapsed();
    Ok(result)
}

enum Detail {
    Preference(ProtocolVersion, bool),
    Group(u16, bool),
    Dhe(Option<u32>),
    Flight(ProtocolVersion, Box<ServerReply>),
    Rustls(Result<cert::HandshakeFacts, String>),
    Nothing,
}

/// Waits for every task; the first error aborts the rest.
async fn join_all<T: 'static>(
    set: &mut JoinSet<Result<T, AuditError>>,
) -> Result<Vec<T>, AuditError> {
    let mut out = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(v)) => out.push(v),
            Ok(Err(e)) => {
                set.abort_all();
                return Err(e);
            }
            Err(join) => {
                set.abort_all();
                return Err(AuditError::Internal(join.to_string()));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key exchange an IANA suite name spells (`TLS_<kx>_WITH_…`), as the registry's
    /// four families: the chunks are checked against the names, not against `kx`.
    fn family_by_name(code: u16) -> &'static str {
        let name = registry::suite_name(code);
        let kx = name
            .strip_prefix("TLS_")
            .and_then(|n| n.split_once("_WITH_"))
            .map_or("", |(kx, _)| kx);
        let psk = kx.ends_with("_PSK");
        if !psk && (kx.starts_with("ECDHE_") || kx == "ECDH_anon") {
            "ECDHE"
        } else if !psk && (kx.starts_with("DHE_") || kx.starts_with("DH_anon")) {
            "DHE" // Anonymous Diffie-Hellman is ephemeral too.
        } else if kx == "RSA" || kx.starts_with("RSA_EXPORT") {
            "RSA"
        } else {
            "other"
        }
    }

    #[test]
    fn leftover_chunks_split_by_key_exchange_into_at_most_64() {
        for version in ProtocolVersion::ALL {
            let offered = suites_for(version);
            let chunks = leftover_chunks(&offered);
            let mut rejoined: Vec<u16> = chunks.concat();
            rejoined.sort_unstable();
            let mut sorted = offered.clone();
            sorted.sort_unstable();
            assert_eq!(
                rejoined, sorted,
                "{version}: every suite in exactly one chunk"
            );
            for chunk in &chunks {
                assert!(
                    !chunk.is_empty() && chunk.len() <= 64,
                    "{version}: {}",
                    chunk.len()
                );
                let family = family_by_name(chunk[0]);
                assert!(
                    chunk.iter().all(|c| family_by_name(*c) == family),
                    "{version}: a chunk mixes key exchanges: {chunk:x?}"
                );
            }
        }
        // TLS 1.2 has suites of all four families, and more than 64 of some (DHE, other):
        // those fill a chunk and go on in the next.
        let chunks = leftover_chunks(&suites_for(ProtocolVersion::Tls12));
        let families: BTreeSet<&str> = chunks.iter().map(|c| family_by_name(c[0])).collect();
        assert_eq!(families.len(), 4, "{families:?}");
        assert!(
            chunks.iter().any(|c| c.len() == 64),
            "no family fills a chunk"
        );
        assert!(chunks.len() > families.len());
    }
}
