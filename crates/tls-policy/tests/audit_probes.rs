//! The scanner's probes against particular servers. An `openssl s_server` whose only TLS 1.3
//! group is one the probes send no key share for: it answers with HelloRetryRequests. Then servers
//! that answer no TLS at all: one that closes every connection
//! after reading the ClientHello, one that resets it (RST). Both are servers that refuse every
//! version (`NoTls`), not a failed read: a reset is how many servers refuse. The servers are plain TCP listeners on 127.0.0.1 that record what each probe
//! sent; the ClientHello layout read here is RFC 8446 §4.1.2 (record header, handshake header,
//! legacy_version, then the 32-byte random).
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
            // The whole first record: a close with unread data would be a reset too.
            let mut header = [0u8; 5];
            if stream.read_exact(&mut header).await.is_err() {
                return;
            }
            let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
            if stream.read_exact(&mut body).await.is_err() {
                return;
            }
            // Handshake header (4: type 1, ClientHello) + legacy_version (2) + random (32).
            if header[0] == 22 && body.first() == Some(&1) && body.len() >= 38 {
                record.lock().unwrap().push(body[6..38].try_into().unwrap());
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
