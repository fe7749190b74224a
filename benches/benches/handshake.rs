//! Group `handshake`: full TLS 1.3 and TLS 1.2 handshakes with P-256 and RSA-2048
//! certificates, and resumed ones, in memory (rustls `ClientConnection`/`ServerConnection`
//! pumping bytes through a buffer). Each case runs twice in the same run: with the configs
//! `edgeward-tls-policy` builds for the `intermediate` policy (`handshake/<case>/edgeward`) and
//! with rustls's default configs (`handshake/<case>/rustls_default`). Each ID first logs the
//! cipher suite and key-exchange group it negotiates (stderr): the two sides of a case measure
//! the same work only where those agree.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use edgeward_tls_policy::{client_config, server_config, TlsPolicy};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    roots: Arc<RootCertStore>,
}

fn identity(alg: &'static rcgen::SignatureAlgorithm) -> Identity {
    let key = rcgen::KeyPair::generate_for(alg).unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let der = cert.der().clone();
    let mut roots = RootCertStore::empty();
    roots.add(der.clone()).unwrap();
    Identity {
        chain: vec![der],
        key: PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        roots: Arc::new(roots),
    }
}

/// `intermediate` limited to TLS 1.2 (its TLS 1.2 suites), for the client of the TLS 1.2 cases.
fn intermediate_tls12() -> TlsPolicy {
    let mut spec = TlsPolicy::named("intermediate").unwrap().to_spec();
    spec.versions = vec!["TLS1.2".into()];
    spec.cipher_suites.retain(|s| s.contains("_WITH_"));
    TlsPolicy::from_spec(&spec).unwrap()
}

struct Pair {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
}

fn edgeward_pair(id: &Identity, tls12: bool) -> Pair {
    let server_policy = TlsPolicy::named("intermediate").unwrap();
    let client_policy = if tls12 {
        intermediate_tls12()
    } else {
        server_policy.clone()
    };
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified =
        rustls::sign::CertifiedKey::from_der(id.chain.clone(), id.key.clone_key(), &provider)
            .unwrap();
    let resolver = Arc::new(rustls::sign::SingleCertAndKey::from(certified));
    Pair {
        client: Arc::new(client_config(&client_policy, id.roots.clone(), None).unwrap()),
        server: Arc::new(server_config(&server_policy, resolver, None).unwrap()),
    }
}

fn rustls_default_pair(id: &Identity, tls12: bool) -> Pair {
    let versions: &[&'static rustls::SupportedProtocolVersion] = if tls12 {
        &[&rustls::version::TLS12]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let client = ClientConfig::builder_with_protocol_versions(versions)
        .with_root_certificates(id.roots.clone())
        .with_no_client_auth();
    let server = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(id.chain.clone(), id.key.clone_key())
        .unwrap();
    Pair {
        client: Arc::new(client),
        server: Arc::new(server),
    }
}

/// One handshake in memory; returns whether it was resumed.
fn handshake(pair: &Pair, buf: &mut Vec<u8>) -> bool {
    matches!(
        connect(pair, buf).handshake_kind(),
        Some(rustls::HandshakeKind::Resumed)
    )
}

/// One handshake in memory; returns the client's side of it.
fn connect(pair: &Pair, buf: &mut Vec<u8>) -> ClientConnection {
    let name = ServerName::try_from("localhost").unwrap();
    let mut c = ClientConnection::new(pair.client.clone(), name).unwrap();
    let mut s = ServerConnection::new(pair.server.clone()).unwrap();
    while c.is_handshaking() || s.is_handshaking() || c.wants_write() || s.wants_write() {
        buf.clear();
        while c.wants_write() {
            c.write_tls(buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            s.read_tls(&mut rd).unwrap();
        }
        s.process_new_packets().unwrap();
        buf.clear();
        while s.wants_write() {
            s.write_tls(buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).unwrap();
        }
        c.process_new_packets().unwrap();
    }
    c
}

/// What a handshake of `pair` negotiates, for the bench's log: the two sides of a case are
/// only comparable when they agree (rustls 0.23.48's defaults put P-384 ahead of X25519, so
/// its TLS 1.2 handshakes use P-384 where `intermediate`'s use X25519).
fn negotiated(pair: &Pair, buf: &mut Vec<u8>) -> String {
    let c = connect(pair, buf);
    let suite = c.negotiated_cipher_suite().map(|s| s.suite());
    let group = c.negotiated_key_exchange_group().map(|g| g.name());
    format!("{suite:?}, {group:?}")
}

fn bench(c: &mut Criterion) {
    let p256 = identity(&rcgen::PKCS_ECDSA_P256_SHA256);
    let rsa = identity(&rcgen::PKCS_RSA_SHA256);
    let cases: [(&str, &Identity, bool, bool); 6] = [
        ("tls13_full_p256", &p256, false, false),
        ("tls13_full_rsa2048", &rsa, false, false),
        ("tls12_full_p256", &p256, true, false),
        ("tls12_full_rsa2048", &rsa, true, false),
        ("tls13_resumed_p256", &p256, false, true),
        ("tls12_resumed_p256", &p256, true, true),
    ];
    let mut group = c.benchmark_group("handshake");
    let mut buf = Vec::with_capacity(16 * 1024);
    type MakePair = fn(&Identity, bool) -> Pair;
    let makers: [(&str, MakePair); 2] = [
        ("edgeward", edgeward_pair),
        ("rustls_default", rustls_default_pair),
    ];
    for (case, id, tls12, resumed) in cases {
        for (label, make) in makers {
            // The configs are built inside the routine, so a filtered run (one ID) allocates
            // only the configs it measures: the other side's allocations cannot shift its
            // memory layout.
            let mut logged = false;
            group.bench_function(BenchmarkId::new(case, label), |b| {
                let pair = make(id, tls12);
                let pair = if resumed {
                    // Prime the client's session store; every measured handshake must resume.
                    handshake(&pair, &mut buf);
                    assert!(handshake(&pair, &mut buf), "{case}/{label} did not resume");
                    pair
                } else {
                    // A fresh client config per iteration would cost an allocation; disable
                    // resumption instead so that every handshake is full.
                    let mut client = (*pair.client).clone();
                    client.resumption = rustls::client::Resumption::disabled();
                    let pair = Pair {
                        client: Arc::new(client),
                        server: pair.server,
                    };
                    assert!(!handshake(&pair, &mut buf));
                    pair
                };
                if !logged {
                    eprintln!("handshake/{case}/{label}: {}", negotiated(&pair, &mut buf));
                    logged = true;
                }
                b.iter(|| black_box(handshake(&pair, &mut buf)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
