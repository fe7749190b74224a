//! The scanner's probes against particular servers:
//! - `openssl s_server`s: one whose only TLS 1.3 group is one the probes send no key share
//!   for (it answers with HelloRetryRequests), a TLS 1.2-only one described from its own
//!   flight, and a default one whose refused versions take one probe each;
//! - servers that answer no TLS at all: one that closes every connection after reading the
//!   ClientHello, one that resets it (RST), both refusing every version (`NoTls`, not a failed
//!   read: a reset is how many servers refuse), and one that answers every hello with a
//!   HelloRetryRequest, which accepts no suite in any version;
//! - a TLS 1.2 server whose ECDHE curve is fixed, whatever the hello offers: only that group
//!   is reported;
//! - broken answers: an endless reply, a reset in the middle of one;
//! - an `s_server` behind a box that closes on hellos it trips over (too many suites, or one
//!   suite): the scan still finds every suite, in shorter lists, and offers no list twice.
//!
//! The hostile servers are plain TCP listeners on 127.0.0.1; the ClientHello layout read here
//! is RFC 8446 §4.1.2 (record header, handshake header, legacy_version, the 32-byte random,
//! legacy_session_id, cipher_suites).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use edgeward_tls_policy::audit::{
    scan, AuditError, AuditSettings, ProgressFn, ReplyError, ScanProgress,
};
use edgeward_tls_policy::registry;
use edgeward_tls_policy::{NamedGroup, ProtocolVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP server on a free port of 127.0.0.1 that runs `behaviour` on every connection, each in
/// a task of its own.
async fn tcp_server<F, Fut>(behaviour: F) -> u16
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(behaviour(stream));
        }
    });
    port
}

/// Reads (some of) the ClientHello, so that the reply follows it.
async fn read_hello(stream: &mut TcpStream) {
    let mut hello = [0u8; 512];
    let _ = stream.read(&mut hello).await;
}

/// Reads one whole TLS record (RFC 5246 §6.2.1: a 5-byte header, then as many bytes as it
/// says), header included; `None` if the connection ends first. Reading all of it matters:
/// a close with unread data would be a reset.
async fn read_record(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut record = vec![0u8; 5];
    stream.read_exact(&mut record).await.ok()?;
    let len = usize::from(u16::from_be_bytes([record[3], record[4]]));
    record.resize(5 + len, 0);
    stream.read_exact(&mut record[5..]).await.ok()?;
    Some(record)
}

/// What the server saw: the ClientHello randoms, one per connection.
type Seen = Arc<Mutex<Vec<[u8; 32]>>>;

/// A server that reads one ClientHello per connection and then closes it, with a reset when
/// `reset`.
async fn refusing_server(reset: bool) -> (u16, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let port = tcp_server(move |mut stream| {
        let record = Arc::clone(&record);
        async move {
            let Some(hello) = read_record(&mut stream).await else {
                return;
            };
            // Record header (5), handshake header (4: type 1, ClientHello), legacy_version
            // (2), random (32).
            if hello[0] == 22 && hello.get(5) == Some(&1) && hello.len() >= 43 {
                record
                    .lock()
                    .unwrap()
                    .push(hello[11..43].try_into().unwrap());
            }
            if reset {
                // A zero linger makes the close a reset; the socket has nothing left to
                // send, so the drop does not block.
                #[allow(deprecated)]
                stream.set_linger(Some(Duration::ZERO)).unwrap();
            }
        }
    })
    .await;
    (port, seen)
}

fn counting_progress() -> (ProgressFn, Arc<Mutex<Vec<ScanProgress>>>) {
    let calls: Arc<Mutex<Vec<ScanProgress>>> = Arc::default();
    let record = Arc::clone(&calls);
    let progress: ProgressFn = Arc::new(move |p: &ScanProgress| {
        record.lock().unwrap().push(p.clone());
    });
    (progress, calls)
}

async fn check(reset: bool) {
    let (port, seen) = refusing_server(reset).await;
    let (progress, calls) = counting_progress();
    let mut settings = AuditSettings::default();
    settings.timeout = Duration::from_secs(20);
    let target = format!("127.0.0.1:{port}");
    let error = scan(&target, &settings, Some(progress)).await.unwrap_err();
    assert!(
        matches!(&error, AuditError::NoTls { address } if address.to_string() == target),
        "reset={reset}: {error:?}"
    );

    // Every probe is reported once, numbered 1..=N, and was one connection.
    let calls = calls.lock().unwrap();
    let numbers: BTreeSet<usize> = calls.iter().map(|c| c.probes_done).collect();
    assert_eq!(numbers, (1..=calls.len()).collect::<BTreeSet<_>>());
    assert!(calls.iter().all(|c| !c.last_probe.is_empty()));

    // Silence may be a server tripping over a long list, so each version's key-exchange groups
    // are offered too; but never one suite at a time, which against a server that closes on
    // every hello would cost a probe per suite.
    let tls12_suites = registry::all_suites()
        .iter()
        .filter(|s| !s.signaling && !s.is_tls13() && s.usable_in(ProtocolVersion::Tls12))
        .count();
    assert!(
        calls.len() < tls12_suites,
        "reset={reset}: {} probes for {tls12_suites} TLS 1.2 suites",
        calls.len()
    );

    // Each probe sent a ClientHello of its own random (RFC 8446 §4.1.2: 32 bytes from a
    // secure random number generator).
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), calls.len(), "one ClientHello per probe");
    let distinct: BTreeSet<&[u8; 32]> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "a ClientHello random repeated");
    assert!(seen.iter().all(|r| r.iter().any(|b| *b != r[0])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_closes_every_connection_is_no_tls_server() {
    check(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_resets_every_connection_is_no_tls_server() {
    check(true).await;
}

/// A server that answers with ChangeCipherSpec records without end (each a valid record, none
/// an answer): the probe stops reading at its bound, with a clear error, long before the
/// timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_reply_is_cut_at_the_bound() {
    let port = tcp_server(|mut stream| async move {
        read_hello(&mut stream).await;
        // RFC 5246 §6.2.1 record: type 20 (change_cipher_spec), TLS 1.2, length 1, body 1.
        let records: Vec<u8> = [20u8, 3, 3, 0, 1, 1].repeat(4096);
        while stream.write_all(&records).await.is_ok() {}
    })
    .await;
    let mut settings = AuditSettings::default();
    settings.timeout = Duration::from_secs(60);
    let error = scan(&format!("127.0.0.1:{port}"), &settings, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            AuditError::Reply {
                source: ReplyError::ReplyTooLong,
                ..
            }
        ),
        "{error:?}"
    );
}

/// The TLS 1.3 probes send key shares for X25519 and P-256; a server that takes only P-384
/// answers each with a HelloRetryRequest (RFC 8446 §4.1.4), which names the suite it chose.
/// The scan still finds every TLS 1.3 suite OpenSSL enables, and P-384 as the only group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls13_suites_are_found_through_hello_retry_requests() {
    let pki = common::Pki::new(common::KeyKind::P256);
    let server = common::s_server(&pki, &["-tls1_3", "-groups", "P-384"]);
    let listed = common::openssl_output(pki.dir.path(), &["ciphers", "-s", "-stdname", "-tls1_3"]);
    let expected: BTreeSet<String> = String::from_utf8(listed)
        .unwrap()
        .lines()
        .filter(|l| l.contains("TLSv1.3"))
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(expected.len(), 3, "{expected:?}");

    let mut settings = AuditSettings::default();
    settings.timeout = Duration::from_secs(30);
    let result = scan(&server.addr.to_string(), &settings, None)
        .await
        .unwrap();
    let found: BTreeSet<String> = result
        .suites(ProtocolVersion::Tls13)
        .unwrap_or_else(|| panic!("TLS 1.3 not found: {:?}", result.versions))
        .iter()
        .map(|c| registry::suite_name(*c))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(result.accepted_versions(), [ProtocolVersion::Tls13]);
    assert_eq!(result.groups, [NamedGroup::P384]);
}

/// A reset after part of a reply is a broken reply, not a refusal: the scan fails naming the
/// read, rather than reporting the versions as refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_in_the_middle_of_a_reply_is_an_error() {
    let port = tcp_server(|mut stream| async move {
        read_hello(&mut stream).await;
        // The first three bytes of a handshake record (RFC 5246 §6.2.1), then a reset once the
        // client has had time to read them.
        let _ = stream.write_all(&[22, 3, 3]).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        #[allow(deprecated)]
        let _ = stream.set_linger(Some(Duration::ZERO));
    })
    .await;
    let mut settings = AuditSettings::default();
    settings.timeout = Duration::from_secs(30);
    let error = scan(&format!("127.0.0.1:{port}"), &settings, None)
        .await
        .unwrap_err();
    let AuditError::Io { source, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        source.kind(),
        std::io::ErrorKind::ConnectionReset,
        "{error}"
    );
}

/// A TLS 1.2-only server: its groups come from the ServerKeyExchange of ECDHE probes, one group
/// offered at a time; tickets from its flight. `openssl s_server` issues RFC 5077
/// tickets unless told not to, and selects `h2` when given `-alpn h2`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls12_server_is_described_from_its_own_flight() {
    let pki = common::Pki::new(common::KeyKind::Rsa2048);
    let server = common::s_server(&pki, &["-tls1_2", "-groups", "P-384:X25519", "-alpn", "h2"]);
    let mut settings = AuditSettings::default();
    settings.timeout = Duration::from_secs(30);
    let target = server.addr.to_string();
    let result = scan(&target, &settings, None).await.unwrap();
    assert_eq!(result.target, target);
    assert_eq!(result.address, Some(server.addr));
    assert_eq!(result.sni, None, "an IP address is not sent as SNI");
    assert_eq!(result.accepted_versions(), [ProtocolVersion::Tls12]);
    let groups: BTreeSet<NamedGroup> = result.groups.iter().copied().collect();
    assert_eq!(
        groups,
        BTreeSet::from([NamedGroup::X25519, NamedGroup::P384])
    );
    assert_eq!(result.groups_method, Some("TLS 1.2 ServerKeyExchange"));
    assert_eq!(result.tls12_tickets, Some(true));
    assert_eq!(result.alpn.as_deref(), Some("h2"));
    assert_eq!(
        result.chain.len(),
        1,
        "s_server sends the server certificate alone"
    );

    // Static RSA only: no ECDHE suite to learn groups from, and no method claimed.
    let server = common::s_server(
        &pki,
        &["-tls1_2", "-cipher", "AES128-GCM-SHA256", "-no_ticket"],
    );
    let result = scan(&server.addr.to_string(), &settings, None)
        .await
        .unwrap();
    assert!(result.groups.is_empty(), "{:?}", result.groups);
    assert_eq!(result.groups_method, None);
    assert_eq!(result.tls12_tickets, Some(false));
    assert_eq!(result.alpn, None);
}

/// The cipher suites a ClientHello record offers (RFC 8446 §4.1.2: handshake header, then
/// legacy_version, random, legacy_session_id, cipher_suites), or `None` if it is not one.
fn offered_suites(record: &[u8]) -> Option<Vec<u16>> {
    let body = record.get(5..)?;
    if record.first() != Some(&22) || body.first() != Some(&1) {
        return None;
    }
    let session_id_len = usize::from(*body.get(38)?);
    let at = 39 + session_id_len;
    let len = usize::from(u16::from_be_bytes(body.get(at..at + 2)?.try_into().ok()?));
    let suites = body.get(at + 2..at + 2 + len)?;
    Some(
        suites
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect(),
    )
}

/// One ClientHello that reached the box: its legacy_version, its suites, and whether the box
/// closed on it.
struct HelloAtBox {
    version: u16,
    suites: Vec<u16>,
    closed: bool,
}

/// A box in front of `upstream` (a middlebox, or a server's own front end) that reads each
/// ClientHello and closes the connection without a word when `trips_over` its suites, as
/// boxes that cannot parse long or unfamiliar hellos do; every other connection goes through
/// to `upstream` untouched. Returns its port and every hello it read.
async fn intolerant_box(
    upstream: std::net::SocketAddr,
    trips_over: fn(&[u16]) -> bool,
) -> (u16, Arc<Mutex<Vec<HelloAtBox>>>) {
    let seen: Arc<Mutex<Vec<HelloAtBox>>> = Arc::default();
    let record = Arc::clone(&seen);
    let port = tcp_server(move |mut client| {
        let record = Arc::clone(&record);
        async move {
            let Some(hello) = read_record(&mut client).await else {
                return;
            };
            let suites = offered_suites(&hello).unwrap_or_default();
            // Record header (5 bytes), handshake header (4), then legacy_version.
            let version = hello
                .get(9..11)
                .map_or(0, |v| u16::from_be_bytes([v[0], v[1]]));
            let closed = trips_over(&suites);
            record.lock().unwrap().push(HelloAtBox {
                version,
                suites,
                closed,
            });
            if closed {
                return;
            }
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            if server.write_all(&hello).await.is_ok() {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        }
    })
    .await;
    (port, seen)
}

/// The suites `openssl ciphers -V -s -tls1_2 LIST` names, by code point: what an `s_server
/// -tls1_2 -cipher LIST` with an RSA key accepts.
fn openssl_tls12_suites(pki: &common::Pki, list: &str) -> BTreeSet<u16> {
    let listed = common::openssl_output(pki.dir.path(), &["ciphers", "-V", "-s", "-tls1_2", list]);
    String::from_utf8(listed)
        .unwrap()
        .lines()
        .map(|line| {
            // "          0xC0,0x2F - ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=ECDH ..."
            let code = line.split_whitespace().next().unwrap();
            let (high, low) = code.split_once(',').unwrap();
            let byte = |b: &str| u8::from_str_radix(b.trim_start_matches("0x"), 16).unwrap();
            u16::from_be_bytes([byte(high), byte(low)])
        })
        .collect()
}

/// Two ECDHE suites, one DHE, two static RSA.
const SERVED: &str = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:\
                      DHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256:AES256-SHA";

/// What a scan behind the box found, what openssl says the server accepts, how many hellos
/// the box closed on, and the report's notes.
///
/// Every scan behind the box must offer no list twice in a version: a hello that offers a
/// suite the server does not take is a probe for suites, and offering the same list again
/// would be answered alike. (Hellos that offer only suites found, and the renegotiation
/// SCSV, are the later probes for groups, parameters and the flight, which offer the same
/// suites with different extensions.)
async fn scan_behind_box(
    trips_over: fn(&[u16]) -> bool,
) -> (BTreeSet<u16>, BTreeSet<u16>, usize, Vec<String>) {
    let pki = common::Pki::new(common::KeyKind::Rsa2048);
    let expected = openssl_tls12_suites(&pki, SERVED);
    assert_eq!(expected.len(), 5, "{expected:x?}");
    let server = common::s_server(&pki, &["-tls1_2", "-cipher", SERVED]);
    let (port, seen) = intolerant_box(server.addr, trips_over).await;
    let mut settings = AuditSettings::default();
    settings.timeout = Duration::from_secs(60);
    settings.sni = Some("server.example".to_owned());
    let result = scan(&format!("127.0.0.1:{port}"), &settings, None)
        .await
        .unwrap();
    assert_eq!(result.sni.as_deref(), Some("server.example"));
    assert_eq!(result.accepted_versions(), [ProtocolVersion::Tls12]);
    let found: BTreeSet<u16> = result
        .suites(ProtocolVersion::Tls12)
        .unwrap()
        .iter()
        .copied()
        .collect();
    let seen = seen.lock().unwrap();
    let not_taken =
        |s: &u16| !expected.contains(s) && !registry::lookup(*s).is_some_and(|info| info.signaling);
    let mut suite_probes = BTreeSet::new();
    for hello in seen.iter() {
        if hello.suites.iter().any(not_taken) {
            assert!(
                suite_probes.insert((hello.version, hello.suites.clone())),
                "offered twice in {:#06x}: {:04x?}",
                hello.version,
                hello.suites
            );
        }
    }
    let closed = seen.iter().filter(|hello| hello.closed).count();
    (found, expected, closed, result.notes)
}

/// A box that drops every ClientHello offering more than 100 suites: the whole list (every
/// TLS 1.2 suite the registry knows) never gets through, so the scan must find the version
/// and its suites in shorter lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suites_are_found_behind_a_box_that_drops_long_hellos() {
    let (found, expected, closed, notes) = scan_behind_box(|suites| suites.len() > 100).await;
    assert_eq!(found, expected);
    assert!(closed > 0, "the box never closed a connection");
    // Clients that offer many suites fail against it: the report says so.
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("TLS 1.2: ") && notes[0].contains("trips over such a hello"),
        "{notes:?}"
    );
}

/// A box that trips over one suite (0xC02C, ECDHE-ECDSA, which a server with an RSA key does
/// not take) wherever it is offered: the lists that hold it are refused without an alert, so
/// the scan offers their suites one at a time, and still finds the suites of the other key
/// exchanges after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suites_are_found_behind_a_box_that_trips_over_one_suite() {
    let (found, expected, closed, _) = scan_behind_box(|suites| suites.contains(&0xC02C)).await;
    assert_eq!(found, expected);
    assert!(closed > 0, "the box never closed a connection");
}

/// A version refused with an alert takes one probe: the server read the hello, so a shorter
/// list would be refused alike. OpenSSL 3 with its defaults answers a TLS 1.0 or 1.1 hello
/// with internal_error (its security level leaves it no usable suite there), not with a
/// protocol_version alert, and neither is a close without a word.
///
/// And an accepted version's suites take one probe each and one refusal, and no more when
/// what is left fits in one key-exchange group, as TLS 1.3's suites do: that group was the
/// list just refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_versions_take_one_probe_and_accepted_ones_one_per_suite() {
    let pki = common::Pki::new(common::KeyKind::Rsa2048);
    let server = common::s_server(&pki, &[]);
    let (progress, calls) = counting_progress();
    let mut settings = AuditSettings::default();
    settings.timeout = Duration::from_secs(30);
    let result = scan(&server.addr.to_string(), &settings, Some(progress))
        .await
        .unwrap();
    assert_eq!(
        result.accepted_versions(),
        [ProtocolVersion::Tls12, ProtocolVersion::Tls13]
    );
    let calls = calls.lock().unwrap();
    for refused in ["SSL 3.0", "TLS 1.0", "TLS 1.1"] {
        let label = format!("{refused} suites");
        let probes = calls.iter().filter(|c| c.last_probe == label).count();
        assert_eq!(probes, 1, "{label}");
    }
    let tls13 = result.suites(ProtocolVersion::Tls13).unwrap();
    assert!(tls13.len() >= 2, "{tls13:04x?}");
    let probes = calls
        .iter()
        .filter(|c| c.last_probe == "TLS 1.3 suites")
        .count();
    // One per suite, one refusal, and the later preference probe (the suites reversed).
    assert_eq!(probes, tls13.len() + 2, "{tls13:04x?}");
}

/// One handshake message (RFC 5246 §7.4: type, 24-bit length, body).
fn handshake_message(kind: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap().to_be_bytes();
    let mut message = vec![kind, len[1], len[2], len[3]];
    message.extend_from_slice(body);
    message
}

/// `messages` in one handshake record (RFC 5246 §6.2.1), TLS 1.2, kept for the test's life.
fn handshake_record(messages: &[Vec<u8>]) -> &'static [u8] {
    let fragment = messages.concat();
    let mut record = vec![22, 3, 3];
    record.extend_from_slice(&u16::try_from(fragment.len()).unwrap().to_be_bytes());
    record.extend_from_slice(&fragment);
    record.leak()
}

/// Reads until the client closes, so that the server's own close resets no unread data.
async fn read_until_closed(stream: &mut TcpStream) {
    let mut rest = [0u8; 4096];
    while matches!(stream.read(&mut rest).await, Ok(n) if n > 0) {}
}

/// A server that answers every ClientHello, whatever its version, with a HelloRetryRequest
/// (RFC 8446 §4.1.3: a ServerHello whose random is SHA-256("HelloRetryRequest"), with
/// supported_versions 0x0304) naming TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, a TLS 1.2 suite
/// the TLS 1.2 probes offer. A retry request is a TLS 1.3 message: it accepts no suite in a
/// TLS 1.2 probe, and in a TLS 1.3 probe it names a suite that probe did not offer. So the
/// server accepts nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_retry_request_to_every_version_accepts_nothing() {
    const HRR_RANDOM: [u8; 32] = [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8,
        0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8,
        0x33, 0x9C,
    ];
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&HRR_RANDOM);
    body.push(0); // legacy_session_id_echo: empty
    body.extend_from_slice(&[0xC0, 0x2F, 0]); // cipher_suite, legacy_compression_method
    let extensions = [
        0x00, 0x2B, 0x00, 0x02, 0x03, 0x04, // supported_versions: TLS 1.3
        0x00, 0x33, 0x00, 0x02, 0x00, 0x17, // key_share: selected_group secp256r1
    ];
    body.extend_from_slice(&u16::try_from(extensions.len()).unwrap().to_be_bytes());
    body.extend_from_slice(&extensions);
    let record = handshake_record(&[handshake_message(2, &body)]);

    let port = tcp_server(move |mut stream| async move {
        read_hello(&mut stream).await;
        let _ = stream.write_all(record).await;
        read_until_closed(&mut stream).await;
    })
    .await;
    let mut settings = AuditSettings::default();
    settings.timeout = Duration::from_secs(30);
    let target = format!("127.0.0.1:{port}");
    let error = scan(&target, &settings, None).await.unwrap_err();
    assert!(matches!(error, AuditError::NoTls { .. }), "{error:?}");
}

/// A TLS 1.2 server with a fixed ECDHE curve, as servers configured with one
/// (`SSL_CTX_set_tmp_ecdh` in OpenSSL 1.0) were: whatever groups a hello offers, its
/// ServerKeyExchange is on P-256 (RFC 8422 §5.4: curve_type 3 = named_curve, then the group).
/// It takes TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 in TLS 1.2 and answers any other hello with
/// a handshake_failure alert. A group probe counts only when the server used the group it
/// offered: the scan reports P-256 alone, not every curve it tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_a_fixed_curve_supports_that_curve_only() {
    let mut hello = vec![0x03, 0x03];
    hello.extend_from_slice(&[7; 32]); // random
    hello.extend_from_slice(&[0, 0xC0, 0x2F, 0, 0, 0]); // no session id, suite, null, no extensions
    let mut key_exchange = vec![3, 0x00, 0x17, 65, 4]; // named_curve secp256r1, an uncompressed point
    key_exchange.extend_from_slice(&[9; 64]);
    key_exchange.extend_from_slice(&[0x04, 0x01, 0x00, 0x02, 0xAB, 0xCD]); // rsa_pkcs1_sha256, a signature
    let answer = handshake_record(&[
        handshake_message(2, &hello),
        handshake_message(12, &key_exchange),
        handshake_message(14, &[]),
    ]);
    let handshake_failure: &'static [u8] = &[21, 3, 3, 0, 2, 2, 40];

    let port = tcp_server(move |mut stream| async move {
        let Some(record) = read_record(&mut stream).await else {
            return;
        };
        // legacy_version follows the record and handshake headers.
        let tls12 = record.get(9..11) == Some(&[3, 3][..]);
        let offers_suite = offered_suites(&record).is_some_and(|s| s.contains(&0xC02F));
        let reply = if tls12 && offers_suite {
            answer
        } else {
            handshake_failure
        };
        let _ = stream.write_all(reply).await;
        read_until_closed(&mut stream).await;
    })
    .await;
    let mut settings = AuditSettings::default();
    settings.timeout = Duration::from_secs(30);
    let result = scan(&format!("127.0.0.1:{port}"), &settings, None)
        .await
        .unwrap();
    assert_eq!(result.accepted_versions(), [ProtocolVersion::Tls12]);
    assert_eq!(result.suites(ProtocolVersion::Tls12), Some(&[0xC02F][..]));
    assert_eq!(result.groups, [NamedGroup::P256]);
    assert_eq!(result.groups_method, Some("TLS 1.2 ServerKeyExchange"));
}
