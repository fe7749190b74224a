//! `PolicyAcceptor` over in-memory tokio streams: the alert bytes a refused client receives,
//! the handshake timeout, bounded reads, garbage, and a compliant handshake end to end.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use edgeward_tls_policy::{
    client_config, server_config, AcceptSettings, Error, HelloError, PeekedStream, PolicyAcceptor,
    PolicyConnector, ProtocolVersion, TlsPolicy,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

struct Fixture {
    acceptor: PolicyAcceptor,
    roots: rustls::RootCertStore,
}

fn fixture(policy: &str, settings: AcceptSettings) -> Fixture {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert: CertificateDer<'static> = ck.cert.der().clone();
    let key = PrivateKeyDer::try_from(ck.signing_key.serialize_der()).unwrap();
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified =
        rustls::sign::CertifiedKey::from_der(vec![cert.clone()], key, &provider).unwrap();
    let policy = TlsPolicy::named(policy).unwrap();
    let resolver = Arc::new(rustls::sign::SingleCertAndKey::from(certified));
    let config = Arc::new(server_config(&policy, resolver, None).unwrap());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    Fixture {
        acceptor: PolicyAcceptor::new(Arc::new(policy), config, settings),
        roots,
    }
}

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/openssl-hellos/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Sends `bytes` as the client, runs the acceptor, and returns its result and every byte the
/// client received.
async fn refuse(fx: &Fixture, bytes: &[u8]) -> (Error, Vec<u8>) {
    refuse_then(fx, bytes, false).await
}

async fn refuse_then(fx: &Fixture, bytes: &[u8], close: bool) -> (Error, Vec<u8>) {
    let (mut client, server): (DuplexStream, DuplexStream) = tokio::io::duplex(64 * 1024);
    client.write_all(bytes).await.unwrap();
    if close {
        client.shutdown().await.unwrap();
    }
    let result = fx.acceptor.accept(server).await;
    let err = match result {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    };
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(1), client.read_to_end(&mut got)).await;
    (err, got)
}

#[tokio::test]
async fn refused_hellos_get_the_fitting_alert_record() {
    let fx = fixture("intermediate", AcceptSettings::default());
    // Fatal (2) protocol_version (70), in a TLS 1.0 record for a TLS 1.0 hello.
    let (err, got) = refuse(&fx, &vector("openssl-tls1")).await;
    assert!(err.to_string().contains("offers only TLS 1.0;"), "{err}");
    assert_eq!(got, [21, 3, 1, 0, 2, 2, 70]);
    // Fatal insufficient_security (71) for static RSA only.
    let (err, got) = refuse(&fx, &vector("openssl-tls1_2-static-rsa")).await;
    assert!(
        err.to_string().contains("no forward-secret suite offered"),
        "{err}"
    );
    assert_eq!(got, [21, 3, 3, 0, 2, 2, 71]);
}

#[tokio::test]
async fn garbage_is_refused_without_panicking() {
    let fx = fixture("intermediate", AcceptSettings::default());
    // Plain HTTP: not TLS, so no alert, just the close.
    let (err, got) = refuse(&fx, b"GET / HTTP/1.1\r\n\r\n").await;
    assert!(
        matches!(
            err,
            Error::MalformedHello(HelloError::NotTls {
                first_byte: b'G',
                ..
            })
        ),
        "{err}"
    );
    assert!(got.is_empty());
    // A handshake record holding a ServerHello: unexpected_message (10).
    let (err, got) = refuse(&fx, &[22, 3, 3, 0, 4, 2, 0, 0, 0]).await;
    assert!(
        matches!(err, Error::MalformedHello(HelloError::NotClientHello(2))),
        "{err}"
    );
    assert_eq!(got, [21, 3, 3, 0, 2, 2, 10]);
    // A ClientHello claiming 16 MiB: refused from its header, record_overflow (22).
    let (err, got) = refuse(&fx, &[22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff]).await;
    assert!(
        matches!(err, Error::MalformedHello(HelloError::TooLarge { .. })),
        "{err}"
    );
    assert_eq!(got, [21, 3, 3, 0, 2, 2, 22]);
    // An SSL 2.0-format ClientHello (msg_type 1 after a two-byte length with the high bit
    // set) and a record claiming SSL major version 2: protocol_version (70) for both.
    let (err, got) = refuse(&fx, &[0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15]).await;
    assert!(
        matches!(err, Error::MalformedHello(HelloError::Sslv2)),
        "{err}"
    );
    assert_eq!(got, [21, 3, 3, 0, 2, 2, 70]);
    let (err, got) = refuse(&fx, &[22, 2, 0, 0, 4, 1, 0, 0, 0]).await;
    assert!(
        matches!(
            err,
            Error::MalformedHello(HelloError::RecordVersion(0x0200))
        ),
        "{err}"
    );
    assert_eq!(got, [21, 3, 3, 0, 2, 2, 70]);
    // A client that closes mid-hello.
    let hello = vector("openssl-default");
    let (err, _) = refuse_then(&fx, &hello[..100], true).await;
    assert!(
        matches!(err, Error::MalformedHello(HelloError::Truncated(100))),
        "{err}"
    );
}

#[tokio::test]
async fn a_peeked_stream_replays_its_prefix_and_passes_flush_and_shutdown_through() {
    let (near, mut far) = tokio::io::duplex(1024);
    let mut stream = PeekedStream::new(b"peeked ".to_vec(), tokio::io::BufWriter::new(near));
    far.write_all(b"then read").await.unwrap();
    let mut got = [0u8; 16];
    stream.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"peeked then read");

    // The write waits in the BufWriter until the flush reaches it.
    stream.write_all(b"answer").await.unwrap();
    stream.flush().await.unwrap();
    let mut answer = [0u8; 6];
    tokio::time::timeout(Duration::from_secs(5), far.read_exact(&mut answer))
        .await
        .expect("the flush did not reach the inner stream")
        .unwrap();
    assert_eq!(&answer, b"answer");

    // A TLS close_notify is followed by the transport's shutdown: the peer must see EOF.
    stream.shutdown().await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), far.read_to_end(&mut rest))
        .await
        .expect("the shutdown did not reach the inner stream")
        .unwrap();
    assert!(rest.is_empty());
}

#[tokio::test]
async fn a_hello_in_tiny_records_is_refused_once_the_buffer_holds_the_bound() {
    // A ClientHello announcing the largest body allowed, sent one byte per record: six bytes
    // on the wire per byte of hello, so it never completes within the buffer's bound.
    let fx = fixture("intermediate", AcceptSettings::default());
    let max_hello_len = AcceptSettings::default().max_hello_len;
    let [_, len_hi, len_mid, len_lo] = u32::try_from(max_hello_len).unwrap().to_be_bytes();
    let message = [1, len_hi, len_mid, len_lo]
        .into_iter()
        .chain(std::iter::repeat(3))
        .take(4 + max_hello_len);
    let records: Vec<u8> = message.flat_map(|b| [22, 3, 1, 0, 1, b]).collect();
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let writer = tokio::spawn(async move {
        // Fails once the acceptor has refused and closed: that is the point.
        let _ = client.write_all(&records).await;
    });
    let err = fx.acceptor.accept(server).await.unwrap_err();
    let bound = max_hello_len + 2 * (5 + 16_640);
    assert!(
        matches!(
            err,
            Error::MalformedHello(HelloError::TooLarge { len, limit })
                if len == bound && limit == max_hello_len
        ),
        "{err}"
    );
    writer.await.unwrap();
}

#[test]
fn an_acceptor_tells_which_policy_it_enforces() {
    let fx = fixture("modern", AcceptSettings::default());
    assert_eq!(fx.acceptor.policy(), &TlsPolicy::named("modern").unwrap());
}

#[tokio::test]
async fn a_silent_or_slow_client_hits_the_handshake_timeout() {
    let settings = AcceptSettings::default().with_handshake_timeout(Duration::from_millis(200));
    let fx = fixture("intermediate", settings);
    let (mut client, server) = tokio::io::duplex(1024);
    client.write_all(&[22, 3, 1]).await.unwrap();
    let started = std::time::Instant::now();
    let err = fx.acceptor.accept(server).await.unwrap_err();
    assert!(
        matches!(err, Error::HandshakeTimeout(d) if d == Duration::from_millis(200)),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(client);
}

#[tokio::test]
async fn a_compliant_client_completes_the_handshake_through_the_acceptor() {
    let fx = fixture("intermediate", AcceptSettings::default());
    let policy = Arc::new(TlsPolicy::named("modern").unwrap());
    let config = Arc::new(client_config(&policy, fx.roots.clone(), None).unwrap());
    let connector = PolicyConnector::new(policy, config, AcceptSettings::default());
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = async {
        let mut accepted = fx.acceptor.accept(server_io).await.unwrap();
        let mut buf = [0u8; 5];
        accepted.stream.read_exact(&mut buf).await.unwrap();
        accepted.stream.write_all(&buf).await.unwrap();
        accepted.stream.flush().await.unwrap();
        accepted
    };
    let client = async {
        let (mut tls, report) = connector
            .connect(ServerName::try_from("localhost").unwrap(), client_io)
            .await
            .unwrap();
        tls.write_all(b"hello").await.unwrap();
        let mut echo = [0u8; 5];
        tls.read_exact(&mut echo).await.unwrap();
        assert_eq!(&echo, b"hello");
        report
    };
    let (accepted, report) = tokio::join!(server, client);
    assert_eq!(report.version, Some(ProtocolVersion::Tls13));
    assert_eq!(accepted.report.version, Some(ProtocolVersion::Tls13));
    assert_eq!(accepted.hello.sni.as_deref(), Some("localhost"));
    assert_eq!(accepted.report.cipher_suite, report.cipher_suite);
}

#[test]
fn server_tickets_are_off_by_default_and_on_when_the_policy_says() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let key = PrivateKeyDer::try_from(ck.signing_key.serialize_der()).unwrap();
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified =
        rustls::sign::CertifiedKey::from_der(vec![ck.cert.der().clone()], key, &provider).unwrap();
    let resolver = Arc::new(rustls::sign::SingleCertAndKey::from(certified));
    for name in [
        "intermediate",
        "modern",
        "IoTSecurityPolicy_TLS13_1_3_2022_10",
    ] {
        let policy = TlsPolicy::named(name).unwrap();
        assert!(!policy.resumption().tickets, "{name}");
        let config = server_config(&policy, resolver.clone(), None).unwrap();
        assert!(!config.ticketer.enabled(), "{name}: tickets must be off");
    }
    let with_tickets = TlsPolicy::named("intermediate")
        .unwrap()
        .with_resumption(edgeward_tls_policy::Resumption::new(true, true));
    assert!(server_config(&with_tickets, resolver.clone(), None)
        .unwrap()
        .ticketer
        .enabled());
    let no_resumption = TlsPolicy::named("intermediate")
        .unwrap()
        .with_resumption(edgeward_tls_policy::Resumption::new(false, false));
    let config = server_config(&no_resumption, resolver, None).unwrap();
    assert_eq!(config.send_tls13_tickets, 0);
}
