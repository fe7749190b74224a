//! Mutual TLS under a policy that narrows the signature schemes, on both sides, against plain
//! rustls peers over real sockets on 127.0.0.1.
//!
//! rustls itself does not check that a client's `CertificateVerify` uses a scheme the server
//! asked for: the client-certificate verifier is the only guard, so the policy's wrapper
//! around it must refuse what the policy does not allow. On the client side the policy binds
//! our own key: it signs only with the policy's schemes, and says so to its resolver.
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use edgeward_tls_policy::{client_config, server_config, ClientIdentity, TlsPolicy};
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SigningKey, SingleCertAndKey};
use rustls::{
    ClientConfig, ClientConnection, PeerMisbehaved, RootCertStore, ServerConfig, ServerConnection,
    SignatureScheme, SupportedProtocolVersion,
};

/// Every read and write of a test connection gives up after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

const VERSIONS: [(&str, &SupportedProtocolVersion); 2] = [
    ("TLS 1.2", &rustls::version::TLS12),
    ("TLS 1.3", &rustls::version::TLS13),
];

/// A CA, a server certificate for `localhost` and two client certificates it issued: one with
/// an Ed25519 key (the policy's scheme) and one with a P-256 key (outside the policy).
struct Pki {
    roots: Arc<RootCertStore>,
    server: Leaf,
    client_ed25519: Leaf,
    client_p256: Leaf,
}

struct Leaf {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Leaf {
    /// This certificate and key as a policy client's identity.
    fn identity(&self) -> ClientIdentity {
        ClientIdentity::CertAndKey {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }

    fn certified(&self) -> Arc<CertifiedKey> {
        Arc::new(
            CertifiedKey::from_der(self.chain.clone(), self.key.clone_key(), &provider()).unwrap(),
        )
    }
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "client-auth test CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf = |alg: &'static rcgen::SignatureAlgorithm, name: &str| {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        }
    };
    let mut roots = RootCertStore::empty();
    roots.add(ca_cert.der().clone()).unwrap();
    Pki {
        roots: Arc::new(roots),
        server: leaf(&rcgen::PKCS_ED25519, "localhost"),
        client_ed25519: leaf(&rcgen::PKCS_ED25519, "device-1"),
        client_p256: leaf(&rcgen::PKCS_ECDSA_P256_SHA256, "device-2"),
    }
}

/// `intermediate` with one signature scheme: Ed25519.
fn ed25519_only() -> TlsPolicy {
    let mut spec = TlsPolicy::named("intermediate").unwrap().to_spec();
    spec.name = "intermediate-ed25519".into();
    spec.signature_schemes = vec!["ed25519".into()];
    TlsPolicy::from_spec(&spec).unwrap()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// rustls's client-certificate verifier with every scheme rustls verifies: whatever narrows
/// it is the policy's doing.
fn verifier(pki: &Pki, mandatory: bool) -> Arc<dyn rustls::server::danger::ClientCertVerifier> {
    let builder = WebPkiClientVerifier::builder_with_provider(pki.roots.clone(), provider());
    let builder = if mandatory {
        builder
    } else {
        builder.allow_unauthenticated()
    };
    builder.build().unwrap()
}

/// A policy server that asks for client certificates.
fn policy_server(pki: &Pki, mandatory: bool) -> ServerConfig {
    let resolver = Arc::new(SingleCertAndKey::from(pki.server.certified()));
    server_config(&ed25519_only(), resolver, Some(verifier(pki, mandatory))).unwrap()
}

/// A plain rustls client of `version` that trusts the test CA and authenticates with
/// `resolver`.
fn plain_client(
    pki: &Pki,
    version: &'static SupportedProtocolVersion,
    resolver: Arc<dyn ResolvesClientCert>,
) -> ClientConfig {
    ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(pki.roots.clone())
        .with_client_cert_resolver(resolver)
}

/// A client under the Ed25519-only policy that trusts the test CA.
fn policy_client(pki: &Pki, identity: ClientIdentity) -> ClientConfig {
    client_config(&ed25519_only(), pki.roots.clone(), Some(identity)).unwrap()
}

/// A plain rustls server of `version` that requires a client certificate from the test CA,
/// with any scheme rustls verifies.
fn plain_server(pki: &Pki, version: &'static SupportedProtocolVersion) -> ServerConfig {
    ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_client_cert_verifier(verifier(pki, true))
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(pki.server.certified())))
}

/// What a server's request for a client certificate named: root hints, signature schemes.
type Asked = (Vec<Vec<u8>>, Vec<SignatureScheme>);

/// A client resolver that presents one certificate and records what the server asked for.
#[derive(Debug)]
struct Recording {
    key: Arc<CertifiedKey>,
    asked: Mutex<Vec<Asked>>,
}

impl Recording {
    fn new(key: Arc<CertifiedKey>) -> Arc<Self> {
        Arc::new(Self {
            key,
            asked: Mutex::new(Vec::new()),
        })
    }

    /// The one request for a certificate.
    fn asked(&self) -> Asked {
        let asked = self.asked.lock().unwrap();
        assert_eq!(
            asked.len(),
            1,
            "asked for a certificate {} times",
            asked.len()
        );
        asked[0].clone()
    }
}

impl ResolvesClientCert for Recording {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.asked.lock().unwrap().push((
            root_hint_subjects.iter().map(|h| h.to_vec()).collect(),
            sigschemes.to_vec(),
        ));
        Some(self.key.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// A client key that signs with ECDSA P-256 SHA-256 whatever the server offered: what a
/// client outside the policy, or an attacker's, would send.
#[derive(Debug)]
struct SignsAnyway(Arc<dyn SigningKey>);

impl SigningKey for SignsAnyway {
    fn choose_scheme(&self, _offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        self.0
            .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
    }

    fn algorithm(&self) -> rustls::SignatureAlgorithm {
        self.0.algorithm()
    }
}

/// What each side made of one handshake: the client's result, and the server's result with
/// the client certificate chain it accepted.
struct Outcome {
    client: Result<(), rustls::Error>,
    server: Result<Option<Vec<CertificateDer<'static>>>, rustls::Error>,
}

/// One handshake over a real socket; the server runs on its own thread.
fn handshake(client: ClientConfig, server: ServerConfig) -> Outcome {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Arc::new(server);
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        bound(&socket);
        let mut conn = ServerConnection::new(server).unwrap();
        while conn.is_handshaking() {
            conn.complete_io(&mut socket).map_err(tls_error)?;
        }
        Ok(conn.peer_certificates().map(<[_]>::to_vec))
    });
    let mut socket = TcpStream::connect(addr).unwrap();
    bound(&socket);
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(Arc::new(client), name).unwrap();
    let mut client = Ok(());
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut socket) {
            client = Err(tls_error(e));
            break;
        }
    }
    Outcome {
        client,
        server: server.join().unwrap(),
    }
}

fn bound(socket: &TcpStream) {
    socket.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    socket.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
}

/// The rustls error inside an I/O error from `complete_io`, or the I/O error as text.
fn tls_error(e: io::Error) -> rustls::Error {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => tls.clone(),
        None => rustls::Error::General(e.to_string()),
    }
}

#[test]
fn a_policy_server_asks_for_its_schemes_and_takes_a_client_signing_with_them() {
    let pki = pki();
    for (label, version) in VERSIONS {
        let recording = Recording::new(pki.client_ed25519.certified());
        let outcome = handshake(
            plain_client(&pki, version, recording.clone()),
            policy_server(&pki, true),
        );
        outcome.client.unwrap();
        assert_eq!(
            outcome.server.unwrap().as_deref(),
            Some(&pki.client_ed25519.chain[..]),
            "{label}: the server did not get the client's certificate"
        );
        let (hints, schemes) = recording.asked();
        assert_eq!(schemes, [SignatureScheme::ED25519], "{label}");
        let ca_subjects: Vec<Vec<u8>> = pki
            .roots
            .subjects()
            .iter()
            .map(|s| s.as_ref().to_vec())
            .collect();
        assert_eq!(hints, ca_subjects, "{label}: the server's CA hints");
    }
}

#[test]
fn a_policy_server_refuses_a_client_signature_with_a_scheme_outside_the_policy() {
    let pki = pki();
    let certified = pki.client_p256.certified();
    let anyway = Arc::new(CertifiedKey::new(
        certified.cert.clone(),
        Arc::new(SignsAnyway(certified.key.clone())),
    ));
    for (label, version) in VERSIONS {
        let outcome = handshake(
            plain_client(&pki, version, Recording::new(anyway.clone())),
            policy_server(&pki, true),
        );
        assert_eq!(
            outcome.server.unwrap_err(),
            rustls::Error::PeerMisbehaved(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme),
            "{label}"
        );
    }
}

#[test]
fn a_policy_server_keeps_its_verifiers_choice_of_mandatory_or_optional_client_auth() {
    #[derive(Debug)]
    struct NoCertificate;
    impl ResolvesClientCert for NoCertificate {
        fn resolve(&self, _: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
            None
        }
        fn has_certs(&self) -> bool {
            false
        }
    }
    let pki = pki();
    for (label, version) in VERSIONS {
        let outcome = handshake(
            plain_client(&pki, version, Arc::new(NoCertificate)),
            policy_server(&pki, true),
        );
        assert_eq!(
            outcome.server.unwrap_err(),
            rustls::Error::NoCertificatesPresented,
            "{label}: mandatory"
        );
        let outcome = handshake(
            plain_client(&pki, version, Arc::new(NoCertificate)),
            policy_server(&pki, false),
        );
        outcome.client.unwrap();
        assert_eq!(outcome.server.unwrap(), None, "{label}: optional");
    }
}

#[test]
fn a_policy_server_given_a_verifier_that_offers_no_client_auth_asks_for_no_certificate() {
    let pki = pki();
    for (label, version) in VERSIONS {
        let recording = Recording::new(pki.client_ed25519.certified());
        let resolver = Arc::new(SingleCertAndKey::from(pki.server.certified()));
        let server = server_config(
            &ed25519_only(),
            resolver,
            Some(Arc::new(rustls::server::NoClientAuth)),
        )
        .unwrap();
        let outcome = handshake(plain_client(&pki, version, recording.clone()), server);
        outcome.client.unwrap();
        assert_eq!(outcome.server.unwrap(), None, "{label}");
        assert!(recording.asked.lock().unwrap().is_empty(), "{label}");
    }
}

#[test]
fn a_policy_client_presents_its_certificate_signing_with_the_policys_scheme() {
    let pki = pki();
    for (label, version) in VERSIONS {
        let client = policy_client(&pki, pki.client_ed25519.identity());
        let outcome = handshake(client, plain_server(&pki, version));
        outcome.client.unwrap();
        assert_eq!(
            outcome.server.unwrap().as_deref(),
            Some(&pki.client_ed25519.chain[..]),
            "{label}: certificate and key"
        );

        // The same through a resolver: it is told only the policy's schemes, although the
        // server offered every scheme rustls verifies.
        let recording = Recording::new(pki.client_ed25519.certified());
        let client = policy_client(&pki, ClientIdentity::Resolver(recording.clone()));
        let outcome = handshake(client, plain_server(&pki, version));
        outcome.client.unwrap();
        assert_eq!(
            outcome.server.unwrap().as_deref(),
            Some(&pki.client_ed25519.chain[..]),
            "{label}: resolver"
        );
        assert_eq!(recording.asked().1, [SignatureScheme::ED25519], "{label}");
    }
}

#[test]
fn a_policy_client_does_not_sign_with_a_key_the_policy_does_not_allow() {
    let pki = pki();
    for (label, version) in VERSIONS {
        let client = policy_client(&pki, pki.client_p256.identity());
        let outcome = handshake(client, plain_server(&pki, version));
        assert_eq!(
            outcome.server.unwrap_err(),
            rustls::Error::NoCertificatesPresented,
            "{label}: a P-256 key under an Ed25519-only policy must stay silent"
        );
    }
}

#[test]
fn a_client_identitys_debug_form_names_the_chain_and_hides_the_key() {
    let pki = pki();
    let shown = format!("{:?}", pki.client_ed25519.identity());
    assert_eq!(shown, r#"CertAndKey { chain_len: 1, key: "<redacted>" }"#);
}

#[test]
fn a_narrowed_scheme_list_is_built_once_and_in_the_policys_order() {
    let mut spec = ed25519_only().to_spec();
    spec.signature_schemes = vec![
        "rsa_pss_rsae_sha256".into(),
        "ecdsa_secp256r1_sha256".into(),
    ];
    let policy = TlsPolicy::from_spec(&spec).unwrap();
    let first = policy.crypto_provider().unwrap();
    let second = policy.crypto_provider().unwrap();
    let schemes: Vec<_> = first
        .signature_verification_algorithms
        .mapping
        .iter()
        .map(|(scheme, _)| *scheme)
        .collect();
    assert_eq!(
        schemes,
        [
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::ECDSA_NISTP256_SHA256
        ]
    );
    // rustls wants a `'static` list; a second config must reuse the first one's, not leak
    // another.
    assert!(std::ptr::eq(
        first.signature_verification_algorithms.mapping,
        second.signature_verification_algorithms.mapping
    ));
}
