//! `PolicyAcceptor` over in-memory tokio streams: the alert bytes a refused client receives,
//! the handshake timeout, bounded reads, garbage, and a compliant handshake end to end.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use edgeward_tls_policy::{
    client_config, server_config, AcceptSettings, Error, HelloError, PolicyAcceptor,
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
    // A client that closes mid-hello.
    let hello = vector("openssl-default");
    let (err, _) = refuse_then(&fx, &hello[..100], true).await;
    assert!(
        matches!(err, Error::MalformedHello(HelloError::Truncated(100))),
        "{err}"
    );
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
