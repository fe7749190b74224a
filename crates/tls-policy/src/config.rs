//! rustls configs that offer and accept exactly what a policy allows.

use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::client::{ResolvesClientCert, Tls12Resumption};
use rustls::crypto::{aws_lc_rs, CryptoProvider, SupportedKxGroup, WebPkiSupportedAlgorithms};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, NoServerSessionStorage, ResolvesServerCert};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{
    ClientConfig, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig,
    SignatureAlgorithm, SupportedCipherSuite, SupportedProtocolVersion,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, SubjectPublicKeyInfoDer, UnixTime};

use crate::error::Error;
use crate::evaluate::suite_weaknesses;
use crate::policy::TlsPolicy;
use crate::version::{NamedGroup, ProtocolVersion, SignatureScheme};

/// The client's certificate for mutual TLS.
#[non_exhaustive]
pub enum ClientIdentity {
    /// A chain (end entity first) and its private key.
    CertAndKey {
        /// Certificate chain, end entity first.
        chain: Vec<CertificateDer<'static>>,
        /// The private key.
        key: PrivateKeyDer<'static>,
    },
    /// A resolver that picks a certificate per connection.
    Resolver(Arc<dyn ResolvesClientCert>),
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CertAndKey { chain, .. } => f
                .debug_struct("CertAndKey")
                .field("chain_len", &chain.len())
                .field("key", &"<redacted>")
                .finish(),
            Self::Resolver(r) => f.debug_tuple("Resolver").field(r).finish(),
        }
    }
}

impl TlsPolicy {
    /// Whether rustls can enforce this policy exactly. The error lists every part it cannot:
    /// TLS 1.0/1.1, suites rustls does not implement (CBC, static RSA, DHE, …), groups and
    /// signature schemes it does not implement.
    pub fn check_enforceable(&self) -> Result<(), Error> {
        let mut parts = Vec::new();
        let old: Vec<String> = self
            .versions()
            .iter()
            .filter(|v| **v < ProtocolVersion::Tls12)
            .map(|v| v.to_string())
            .collect();
        if !old.is_empty() {
            parts.push(format!(
                "versions {} (rustls implements TLS 1.2 and TLS 1.3 only)",
                old.join(", ")
            ));
        }
        let suites: Vec<String> = self
            .cipher_suites()
            .iter()
            .filter(|s| rustls_suite(s.code).is_none())
            .map(|s| match suite_weaknesses(s.code).as_slice() {
                [] => s.iana_name.to_owned(),
                w => format!("{} ({})", s.iana_name, w.join(", ")),
            })
            .collect();
        if !suites.is_empty() {
            parts.push(format!(
                "cipher suites rustls does not implement: {}",
                suites.join(", ")
            ));
        }
        let groups: Vec<String> = self
            .groups()
            .iter()
            .filter(|g| rustls_group(**g).is_none())
            .map(|g| g.to_string())
            .collect();
        if !groups.is_empty() {
            parts.push(format!(
                "groups rustls does not implement: {}",
                groups.join(", ")
            ));
        }
        let schemes: Vec<String> = self
            .signature_schemes()
            .iter()
            .filter(|s| !rustls_schemes().contains(s))
            .map(|s| s.to_string())
            .collect();
        if !schemes.is_empty() {
            parts.push(format!(
                "signature schemes rustls does not verify: {}",
                schemes.join(", ")
            ));
        }
        if parts.is_empty() {
            Ok(())
        } else {
            Err(Error::Unenforceable {
                policy: self.name().to_owned(),
                parts,
            })
        }
    }

    /// The aws-lc-rs provider restricted to this policy's suites, groups and signature
    /// schemes, in the policy's order.
    pub fn crypto_provider(&self) -> Result<CryptoProvider, Error> {
        self.check_enforceable()?;
        let base = aws_lc_rs::default_provider();
        Ok(CryptoProvider {
            cipher_suites: self
                .cipher_suites()
                .iter()
                .filter_map(|s| rustls_suite(s.code))
                .collect(),
            kx_groups: self
                .groups()
                .iter()
                .filter_map(|g| rustls_group(*g))
                .collect(),
            signature_verification_algorithms: self.verification_algorithms(),
            ..base
        })
    }

    fn rustls_versions(&self) -> Vec<&'static SupportedProtocolVersion> {
        let mut out = Vec::new();
        if self.allows_version(ProtocolVersion::Tls13) {
            out.push(&rustls::version::TLS13);
        }
        if self.allows_version(ProtocolVersion::Tls12) {
            out.push(&rustls::version::TLS12);
        }
        out
    }

    fn restricts_schemes(&self) -> bool {
        !rustls_schemes()
            .iter()
            .all(|s| self.allows_signature_scheme(*s))
    }

    fn verification_algorithms(&self) -> WebPkiSupportedAlgorithms {
        let all = aws_lc_rs::default_provider().signature_verification_algorithms;
        if !self.restricts_schemes() {
            return all;
        }
        interned_algorithms(all, self.signature_schemes())
    }
}

/// A rustls client config for `policy`: offers exactly the policy's versions, suites, groups,
/// signature schemes and ALPN protocols; resumption as the policy says (TLS 1.2 tickets only
/// when `resumption.tickets`).
pub fn client_config(
    policy: &TlsPolicy,
    roots: impl Into<Arc<RootCertStore>>,
    identity: Option<ClientIdentity>,
) -> Result<ClientConfig, Error> {
    let provider = Arc::new(policy.crypto_provider()?);
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&policy.rustls_versions())
        .map_err(Error::Config)?
        .with_root_certificates(roots);
    let restrict = policy.restricts_schemes().then(|| allowed_schemes(policy));
    let mut config = match (identity, restrict) {
        (None, _) => builder.with_no_client_auth(),
        (Some(ClientIdentity::CertAndKey { chain, key }), None) => builder
            .with_client_auth_cert(chain, key)
            .map_err(Error::Config)?,
        (Some(ClientIdentity::CertAndKey { chain, key }), Some(allowed)) => {
            let key = provider
                .key_provider
                .load_private_key(key)
                .map_err(Error::Config)?;
            let certified = Arc::new(CertifiedKey::new(chain, key));
            builder.with_client_cert_resolver(Arc::new(PolicyCertResolver {
                inner: Arc::new(rustls::sign::SingleCertAndKey::from(certified)),
                allowed,
            }))
        }
        (Some(ClientIdentity::Resolver(r)), None) => builder.with_client_cert_resolver(r),
        (Some(ClientIdentity::Resolver(r)), Some(allowed)) => {
            builder.with_client_cert_resolver(Arc::new(PolicyCertResolver { inner: r, allowed }))
        }
    };
    config.alpn_protocols = policy
        .alpn()
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
    let r = policy.resumption();
    config.resumption = if r.enabled {
        rustls::client::Resumption::in_memory_sessions(256).tls12_resumption(if r.tickets {
            Tls12Resumption::SessionIdOrTickets
        } else {
            Tls12Resumption::SessionIdOnly
        })
    } else {
        rustls::client::Resumption::disabled()
    };
    Ok(config)
}

/// A rustls server config for `policy`: accepts exactly the policy's versions, suites,
/// groups, signature schemes and ALPN protocols. Session tickets are off unless the policy
/// turns them on; resumption otherwise uses an in-memory session cache.
pub fn server_config(
    policy: &TlsPolicy,
    cert_resolver: Arc<dyn ResolvesServerCert>,
    client_verifier: Option<Arc<dyn ClientCertVerifier>>,
) -> Result<ServerConfig, Error> {
    let provider = Arc::new(policy.crypto_provider()?);
    let builder = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&policy.rustls_versions())
        .map_err(Error::Config)?;
    let restrict = policy.restricts_schemes().then(|| allowed_schemes(policy));
    let builder = match (client_verifier, &restrict) {
        (None, _) => builder.with_no_client_auth(),
        (Some(v), None) => builder.with_client_cert_verifier(v),
        (Some(v), Some(allowed)) => {
            builder.with_client_cert_verifier(Arc::new(PolicyClientVerifier {
                inner: v,
                allowed: allowed.clone(),
            }))
        }
    };
    let mut config = match restrict {
        None => builder.with_cert_resolver(cert_resolver),
        Some(allowed) => builder.with_cert_resolver(Arc::new(PolicyCertResolver {
            inner: cert_resolver,
            allowed,
        })),
    };
    config.alpn_protocols = policy
        .alpn()
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
    let r = policy.resumption();
    if !r.enabled {
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
    } else if r.tickets {
        config.ticketer = aws_lc_rs::Ticketer::new().map_err(Error::Config)?;
    }
    Ok(config)
}

fn rustls_suite(code: u16) -> Option<SupportedCipherSuite> {
    aws_lc_rs::ALL_CIPHER_SUITES
        .iter()
        .copied()
        .find(|s| u16::from(s.suite()) == code)
}

fn rustls_group(group: NamedGroup) -> Option<&'static dyn SupportedKxGroup> {
    aws_lc_rs::ALL_KX_GROUPS
        .iter()
        .copied()
        .find(|g| u16::from(g.name()) == group.0)
}

fn rustls_schemes() -> Vec<SignatureScheme> {
    aws_lc_rs::default_provider()
        .signature_verification_algorithms
        .mapping
        .iter()
        .map(|(s, _)| SignatureScheme(u16::from(*s)))
        .collect()
}

fn allowed_schemes(policy: &TlsPolicy) -> Arc<[rustls::SignatureScheme]> {
    policy
        .signature_schemes()
        .iter()
        .map(|s| rustls::SignatureScheme::from(s.0))
        .collect()
}

type Mapping = &'static [(
    rustls::SignatureScheme,
    &'static [&'static dyn rustls::pki_types::SignatureVerificationAlgorithm],
)];

type SchemeCache = Mutex<Vec<(Vec<SignatureScheme>, Mapping)>>;

/// rustls wants `'static` mappings. Each distinct restriction is built once and kept for the
/// life of the process; there are at most 2^10 subsets of the ten schemes, in practice a few.
fn interned_algorithms(
    all: WebPkiSupportedAlgorithms,
    allowed: &[SignatureScheme],
) -> WebPkiSupportedAlgorithms {
    static CACHE: OnceLock<SchemeCache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    let mut guard = match cache.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let key = allowed.to_vec();
    let mapping = match guard.iter().find(|(k, _)| *k == key) {
        Some((_, m)) => *m,
        None => {
            // The policy's order, restricted to what rustls verifies.
            let m: Vec<_> = allowed
                .iter()
                .filter_map(|s| {
                    all.mapping
                        .iter()
                        .find(|(r, _)| u16::from(*r) == s.0)
                        .copied()
                })
                .collect();
            let m: Mapping = Box::leak(m.into_boxed_slice());
            guard.push((key, m));
            m
        }
    };
    WebPkiSupportedAlgorithms {
        all: all.all,
        mapping,
    }
}

/// Restricts the signature schemes our own key may use to the policy's.
#[derive(Debug)]
struct PolicySigningKey {
    inner: Arc<dyn SigningKey>,
    allowed: Arc<[rustls::SignatureScheme]>,
}

impl SigningKey for PolicySigningKey {
    fn choose_scheme(&self, offered: &[rustls::SignatureScheme]) -> Option<Box<dyn Signer>> {
        let offered: Vec<_> = offered
            .iter()
            .copied()
            .filter(|s| self.allowed.contains(s))
            .collect();
        self.inner.choose_scheme(&offered)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        self.inner.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.inner.algorithm()
    }
}

/// Wraps a certificate resolver (server or client side) so the key signs only with the
/// policy's schemes.
#[derive(Debug)]
struct PolicyCertResolver<R: ?Sized> {
    inner: Arc<R>,
    allowed: Arc<[rustls::SignatureScheme]>,
}

impl<R: ?Sized> PolicyCertResolver<R> {
    fn wrap(&self, key: Arc<CertifiedKey>) -> Arc<CertifiedKey> {
        Arc::new(CertifiedKey {
            cert: key.cert.clone(),
            key: Arc::new(PolicySigningKey {
                inner: key.key.clone(),
                allowed: self.allowed.clone(),
            }),
            ocsp: key.ocsp.clone(),
        })
    }
}

impl ResolvesServerCert for PolicyCertResolver<dyn ResolvesServerCert> {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.inner.resolve(client_hello).map(|k| self.wrap(k))
    }
}

impl ResolvesClientCert for PolicyCertResolver<dyn ResolvesClientCert> {
    fn resolve(
        &self,
        hints: &[&[u8]],
        schemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let schemes: Vec<_> = schemes
            .iter()
            .copied()
            .filter(|s| self.allowed.contains(s))
            .collect();
        self.inner.resolve(hints, &schemes).map(|k| self.wrap(k))
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

impl ResolvesClientCert for PolicyCertResolver<rustls::sign::SingleCertAndKey> {
    fn resolve(
        &self,
        hints: &[&[u8]],
        schemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        ResolvesClientCert::resolve(self.inner.as_ref(), hints, schemes).map(|k| self.wrap(k))
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Wraps a client-certificate verifier so it asks for and accepts only the policy's schemes.
#[derive(Debug)]
struct PolicyClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    allowed: Arc<[rustls::SignatureScheme]>,
}

impl PolicyClientVerifier {
    fn check(&self, dss: &DigitallySignedStruct) -> Result<(), rustls::Error> {
        if self.allowed.contains(&dss.scheme) {
            Ok(())
        } else {
            Err(rustls::Error::PeerMisbehaved(
                rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
            ))
        }
    }
}

impl ClientCertVerifier for PolicyClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.inner
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.check(dss)?;
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.check(dss)?;
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner
            .supported_verify_schemes()
            .into_iter()
            .filter(|s| self.allowed.contains(s))
            .collect()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }
}
