//! Path validation: [`DevicePolicy`] on top of rustls-webpki, the status hook and the cache.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, ServerName, TrustAnchor, UnixTime,
};
use time::OffsetDateTime;
use webpki::{
    CertRevocationList, KeyPurposeIdIter, OwnedCertRevocationList, RevocationOptionsBuilder,
};

use crate::error::{CertificateRef, Error, Rule};
use crate::info::{
    format_time, parse_certificate, CertificateId, CertificateInfo, NamedCurve, PublicKeyKind,
};
use crate::status::StatusSource;

/// Which public keys a path may contain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AllowedKeys {
    /// Smallest RSA modulus in bits (default 2048).
    pub min_rsa_bits: usize,
    /// ECDSA curves allowed (default P-256 and P-384).
    pub ecdsa_curves: Vec<NamedCurve>,
    /// Whether Ed25519 is allowed (default yes).
    pub ed25519: bool,
}

impl Default for AllowedKeys {
    fn default() -> Self {
        Self {
            min_rsa_bits: 2048,
            ecdsa_curves: vec![NamedCurve::P256, NamedCurve::P384],
            ed25519: true,
        }
    }
}

impl AllowedKeys {
    /// Whether `key` is allowed.
    pub fn allows(&self, key: &PublicKeyKind) -> bool {
        match key {
            PublicKeyKind::Rsa { bits } => *bits >= self.min_rsa_bits,
            PublicKeyKind::Ec { curve } => self.ecdsa_curves.contains(curve),
            PublicKeyKind::Ed25519 => self.ed25519,
            _ => false,
        }
    }
}

/// A TLS purpose an end-entity certificate can be required to carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// id-kp-clientAuth (1.3.6.1.5.5.7.3.2): devices.
    ClientAuth,
    /// id-kp-serverAuth (1.3.6.1.5.5.7.3.1): servers.
    ServerAuth,
}

impl Purpose {
    /// The RFC 5280 name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ClientAuth => "clientAuth",
            Self::ServerAuth => "serverAuth",
        }
    }

    fn oid(&self) -> [usize; 9] {
        match self {
            Self::ClientAuth => [1, 3, 6, 1, 5, 5, 7, 3, 2],
            Self::ServerAuth => [1, 3, 6, 1, 5, 5, 7, 3, 1],
        }
    }
}

/// How the end entity's extendedKeyUsage is checked. `anyExtendedKeyUsage` does not stand in
/// for the purpose. Issuers are checked RFC 5280 style: an issuer that has the extension must
/// list the purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtendedKeyUsageRule {
    /// The extension must be present and list the purpose (default, `ClientAuth`).
    Required(Purpose),
    /// RFC 5280 only: if the extension is present it must list the purpose.
    RequiredIfPresent(Purpose),
}

impl ExtendedKeyUsageRule {
    fn purpose(&self) -> Purpose {
        match self {
            Self::Required(p) | Self::RequiredIfPresent(p) => *p,
        }
    }
}

/// What to do with a CRL whose nextUpdate has passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrlExpiry {
    /// Refuse: a stale CRL cannot vouch for anything (default).
    #[default]
    Enforce,
    /// Use it anyway.
    Ignore,
}

/// The rules a certificate path must satisfy, on top of what rustls-webpki checks (signatures,
/// names, basic constraints of intermediates, name constraints).
///
/// webpki alone accepts an expired root, weak keys and a missing EKU; this policy does not.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DevicePolicy {
    /// Keys allowed anywhere in the path (root included).
    pub allowed_keys: AllowedKeys,
    /// The end entity's extendedKeyUsage rule (default: clientAuth required).
    pub extended_key_usage: ExtendedKeyUsageRule,
    /// Most intermediates between end entity and root (default 3).
    pub max_intermediates: usize,
    /// Stale CRLs (default: refused).
    pub crl_expiry: CrlExpiry,
}

impl Default for DevicePolicy {
    fn default() -> Self {
        Self {
            allowed_keys: AllowedKeys::default(),
            extended_key_usage: ExtendedKeyUsageRule::Required(Purpose::ClientAuth),
            max_intermediates: 3,
            crl_expiry: CrlExpiry::Enforce,
        }
    }
}

impl DevicePolicy {
    /// The default device policy: clientAuth required.
    pub fn device() -> Self {
        Self::default()
    }

    /// The same rules for a server certificate: serverAuth required.
    pub fn server() -> Self {
        Self {
            extended_key_usage: ExtendedKeyUsageRule::Required(Purpose::ServerAuth),
            ..Self::default()
        }
    }

    /// With another EKU rule.
    pub fn with_extended_key_usage(mut self, rule: ExtendedKeyUsageRule) -> Self {
        self.extended_key_usage = rule;
        self
    }

    /// With another limit on intermediates.
    pub fn with_max_intermediates(mut self, max: usize) -> Self {
        self.max_intermediates = max;
        self
    }
}

/// Settings for the cache of already-validated chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheSettings {
    /// Most entries kept; the oldest is evicted first (default 1024).
    pub capacity: usize,
    /// How long an entry is trusted (default 5 minutes; never past a certificate's notAfter).
    pub ttl: Duration,
}

impl CacheSettings {
    /// A cache of at most `capacity` entries, each trusted for `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self { capacity, ttl }
    }
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            capacity: 1024,
            ttl: Duration::from_secs(300),
        }
    }
}

/// A chain that passed validation: the end entity and the path to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedIdentity {
    info: Arc<CertificateInfo>,
    path: Arc<[CertificateId]>,
}

impl ValidatedIdentity {
    /// What the end-entity certificate says.
    pub fn info(&self) -> &CertificateInfo {
        &self.info
    }

    /// The end entity's certificate ID.
    pub fn certificate_id(&self) -> &CertificateId {
        &self.info.certificate_id
    }

    /// The thing name (the end entity's common name).
    pub fn thing_name(&self) -> Option<&str> {
        self.info.thing_name()
    }

    /// Certificate IDs of the validated path, end entity first, root last.
    pub fn path(&self) -> &[CertificateId] {
        &self.path
    }
}

/// A trusted root, pre-inspected.
#[derive(Debug)]
struct Root {
    anchor: TrustAnchor<'static>,
    cert: ChainCert,
}

/// A certificate with the facts the policy needs.
#[derive(Debug, Clone)]
struct ChainCert {
    info: CertificateInfo,
    subject_raw: Vec<u8>,
    issuer_raw: Vec<u8>,
    serial_raw: Vec<u8>,
}

impl ChainCert {
    fn parse(der: &[u8], index: usize) -> Result<Self, Error> {
        let cert = parse_certificate(der, index)?;
        Ok(Self {
            info: CertificateInfo::from_parsed(der, &cert),
            subject_raw: cert.tbs_certificate.subject.as_raw().to_vec(),
            issuer_raw: cert.tbs_certificate.issuer.as_raw().to_vec(),
            serial_raw: cert.tbs_certificate.raw_serial().to_vec(),
        })
    }

    fn reference(&self) -> CertificateRef {
        self.info.reference()
    }
}

#[derive(Debug, Default)]
struct CrlState {
    crls: Vec<CertRevocationList<'static>>,
    /// (issuer name DER, revoked serials) per CRL, for naming the revoked certificate.
    revoked: Vec<(Vec<u8>, Vec<Vec<u8>>)>,
}

/// Validates device (or server) certificate chains against trusted roots, CRLs, a
/// [`DevicePolicy`] and an optional [`StatusSource`], optionally caching successes.
#[derive(Debug)]
pub struct Validator {
    roots: Vec<Root>,
    anchors: Vec<TrustAnchor<'static>>,
    policy: DevicePolicy,
    crls: RwLock<CrlState>,
    status: Option<Arc<dyn StatusSource>>,
    cache: Option<Mutex<Cache>>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl Validator {
    /// A validator trusting `roots` (DER) under `policy`, with no CRLs, no status hook and no cache.
    pub fn new(roots: &[CertificateDer<'_>], policy: DevicePolicy) -> Result<Self, Error> {
        if roots.is_empty() {
            return Err(Error::InvalidArgument(
                "at least one trusted root is required".into(),
            ));
        }
        let mut parsed = Vec::with_capacity(roots.len());
        for (index, der) in roots.iter().enumerate() {
            let cert = ChainCert::parse(der, index)?;
            let anchor = webpki::anchor_from_trusted_cert(der)
                .map_err(|e| Error::MalformedCertificate {
                    index,
                    reason: format!("{e:?}"),
                })?
                .to_owned();
            parsed.push(Root { anchor, cert });
        }
        let anchors = parsed.iter().map(|r| r.anchor.clone()).collect();
        let algorithms =
            rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        Ok(Self {
            roots: parsed,
            anchors,
            policy,
            crls: RwLock::default(),
            status: None,
            cache: None,
            algorithms,
        })
    }

    /// With these CRLs (DER).
    pub fn with_crls(self, crls: &[CertificateRevocationListDer<'_>]) -> Result<Self, Error> {
        self.set_crls(crls)?;
        Ok(self)
    }

    /// With a status hook: after the path validates, only an ACTIVE certificate authenticates.
    pub fn with_status_source(mut self, status: Arc<dyn StatusSource>) -> Self {
        self.status = Some(status);
        self
    }

    /// With a bounded cache of validated chains.
    pub fn with_cache(mut self, settings: CacheSettings) -> Self {
        self.cache = Some(Mutex::new(Cache::new(settings)));
        self
    }

    /// The policy.
    pub fn policy(&self) -> &DevicePolicy {
        &self.policy
    }

    /// Subjects (DER) of the trusted roots, for the TLS CertificateRequest hints.
    pub fn root_subjects(&self) -> impl Iterator<Item = &[u8]> {
        self.roots.iter().map(|r| r.cert.subject_raw.as_slice())
    }

    /// Replaces the CRLs. Every cached validation is dropped: a new CRL may revoke any of them.
    pub fn set_crls(&self, crls: &[CertificateRevocationListDer<'_>]) -> Result<(), Error> {
        let mut state = CrlState::default();
        for der in crls {
            let owned =
                OwnedCertRevocationList::from_der(der).map_err(|e| Error::MalformedCrl {
                    reason: format!("{e:?}"),
                })?;
            state.revoked.push(crl_facts(der)?);
            state.crls.push(CertRevocationList::Owned(owned));
        }
        *self.crls.write().unwrap_or_else(|p| p.into_inner()) = state;
        self.clear_cache();
        Ok(())
    }

    /// Drops the cached validation of one certificate (call it when its status changes; the status
    /// hook is also asked on every cache hit).
    pub fn invalidate(&self, id: &CertificateId) {
        if let Some(cache) = &self.cache {
            cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove_certificate(id);
        }
    }

    /// Drops every cached validation.
    pub fn clear_cache(&self) {
        if let Some(cache) = &self.cache {
            cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    /// Number of cached validations (for tests and metrics).
    pub fn cached_len(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| {
            c.lock().unwrap_or_else(|p| p.into_inner()).entries.len()
        })
    }

    /// Validates `end_entity` with the `intermediates` it came with at time `at`: path building,
    /// the policy, CRLs, then the status hook. Successes are cached when a cache is configured.
    pub fn validate(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        at: UnixTime,
    ) -> Result<ValidatedIdentity, Error> {
        let key = self
            .cache
            .as_ref()
            .map(|_| cache_key(end_entity, intermediates));
        if let (Some(cache), Some(key)) = (&self.cache, &key) {
            let hit = cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(key, at.as_secs());
            if let Some(identity) = hit {
                if let Err(e) = self.check_status(&identity) {
                    self.invalidate(identity.certificate_id());
                    return Err(e);
                }
                return Ok(identity);
            }
        }
        let (identity, window) = self.validate_path(end_entity, intermediates, at, None)?;
        self.check_status(&identity)?;
        if let (Some(cache), Some(key)) = (&self.cache, key) {
            cache.lock().unwrap_or_else(|p| p.into_inner()).insert(
                key,
                identity.clone(),
                at.as_secs(),
                window,
            );
        }
        Ok(identity)
    }

    /// Like [`Validator::validate`], and the end entity must also be valid for `name` (for server
    /// certificates). Never cached.
    pub fn validate_for_name(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        at: UnixTime,
    ) -> Result<ValidatedIdentity, Error> {
        let (identity, _) = self.validate_path(end_entity, intermediates, at, Some(name))?;
        self.check_status(&identity)?;
        Ok(identity)
    }

    fn check_status(&self, identity: &ValidatedIdentity) -> Result<(), Error> {
        let Some(source) = &self.status else {
            return Ok(());
        };
        match source.status(identity.certificate_id()) {
            Some(crate::CertificateStatus::Active) => Ok(()),
            Some(status) => Err(Error::rejected(
                identity.info.reference(),
                Rule::StatusNotActive { status },
            )),
            None => Err(Error::rejected(
                identity.info.reference(),
                Rule::NotRegistered,
            )),
        }
    }

    /// Path building and the policy. Returns the identity and the time window (unix seconds) in
    /// which every certificate of the path is valid.
    fn validate_path(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        at: UnixTime,
        name: Option<&ServerName<'_>>,
    ) -> Result<(ValidatedIdentity, (i64, i64)), Error> {
        let leaf = ChainCert::parse(end_entity, 0)?;
        let at_time = to_datetime(at);
        let ee = webpki::EndEntityCert::try_from(end_entity).map_err(|e| {
            Error::MalformedCertificate {
                index: 0,
                reason: format!("{e:?}"),
            }
        })?;
        if let Some(name) = name {
            ee.verify_is_valid_for_subject_name(name).map_err(|_| {
                Error::rejected(
                    leaf.reference(),
                    Rule::NameMismatch {
                        expected: name.to_str().into_owned(),
                    },
                )
            })?;
        }

        let crl_state = self.crls.read().unwrap_or_else(|p| p.into_inner());
        let crl_refs: Vec<&CertRevocationList<'_>> = crl_state.crls.iter().collect();
        let revocation = match RevocationOptionsBuilder::new(&crl_refs) {
            Ok(builder) => Some(
                builder
                    .with_depth(webpki::RevocationCheckDepth::Chain)
                    .with_status_policy(webpki::UnknownStatusPolicy::Allow)
                    .with_expiration_policy(match self.policy.crl_expiry {
                        CrlExpiry::Enforce => webpki::ExpirationPolicy::Enforce,
                        CrlExpiry::Ignore => webpki::ExpirationPolicy::Ignore,
                    })
                    .build(),
            ),
            Err(_) => None,
        };

        let captured: RefCell<Option<Error>> = RefCell::new(None);
        let accepted: RefCell<Option<AcceptedPath>> = RefCell::new(None);
        let check_verified = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
            let mut chain = vec![leaf.clone()];
            for (i, cert) in path.intermediate_certificates().enumerate() {
                match ChainCert::parse(cert.der().as_ref(), i + 1) {
                    Ok(c) => chain.push(c),
                    Err(e) => {
                        captured.borrow_mut().get_or_insert(e);
                        return Err(webpki::Error::BadDer);
                    }
                }
            }
            let anchor = path.anchor();
            let Some(root) = self.roots.iter().find(|r| {
                r.anchor.subject == anchor.subject
                    && r.anchor.subject_public_key_info == anchor.subject_public_key_info
            }) else {
                return Err(webpki::Error::UnknownIssuer);
            };
            chain.push(root.cert.clone());
            match check_chain(&chain, &self.policy, at_time, true) {
                Ok(window) => {
                    *accepted.borrow_mut() = Some((chain, window));
                    Ok(())
                }
                Err(e) => {
                    captured.borrow_mut().get_or_insert(e);
                    Err(webpki::Error::UnknownIssuer)
                }
            }
        };
        let eku = EkuIfPresent(self.policy.extended_key_usage.purpose());
        let result = ee.verify_for_usage(
            self.algorithms.all,
            &self.anchors,
            intermediates,
            at,
            &eku,
            revocation,
            Some(&check_verified),
        );
        match result {
            Ok(_) => {
                let Some((chain, window)) = accepted.borrow_mut().take() else {
                    // The callback runs for every accepted path; an Ok without it cannot happen,
                    // but refuse rather than assume.
                    return Err(Error::rejected(leaf.reference(), Rule::UnknownIssuer));
                };
                let path: Vec<CertificateId> = chain
                    .iter()
                    .map(|c| c.info.certificate_id.clone())
                    .collect();
                let mut chain = chain;
                let leaf_info = chain.swap_remove(0).info;
                Ok((
                    ValidatedIdentity {
                        info: Arc::new(leaf_info),
                        path: path.into(),
                    },
                    window,
                ))
            }
            Err(webpki_error) => {
                // Explain the failure by the rule broken: first a name-based walk of the offered
                // chain checked against the policy, then what the path callback saw, then webpki.
                let naive = self.naive_chain(&leaf, intermediates);
                check_chain(&naive.chain, &self.policy, at_time, naive.complete)?;
                if let Some(e) = captured.borrow_mut().take() {
                    return Err(e);
                }
                Err(self.map_webpki_error(webpki_error, &naive, &crl_state))
            }
        }
    }

    fn naive_chain(&self, leaf: &ChainCert, intermediates: &[CertificateDer<'_>]) -> NaiveChain {
        let parsed: Vec<ChainCert> = intermediates
            .iter()
            .enumerate()
            .filter_map(|(i, d)| ChainCert::parse(d, i + 1).ok())
            .collect();
        let mut chain = vec![leaf.clone()];
        let mut used = vec![false; parsed.len()];
        while let Some(last) = chain.last() {
            let root = self
                .roots
                .iter()
                .filter_map(|r| Some((issuer_rank(last, &r.cert)?, r)))
                .min_by_key(|(rank, _)| *rank);
            if let Some((_, root)) = root {
                chain.push(root.cert.clone());
                return NaiveChain {
                    chain,
                    complete: true,
                    offered: parsed,
                };
            }
            if chain.len() > self.policy.max_intermediates + 2 {
                break;
            }
            let next = parsed
                .iter()
                .enumerate()
                .filter(|(i, c)| !used[*i] && c.subject_raw != c.issuer_raw)
                .filter_map(|(i, c)| Some((issuer_rank(last, c)?, i, c)))
                .min_by_key(|(rank, _, _)| *rank);
            match next {
                Some((_, i, c)) => {
                    used[i] = true;
                    chain.push(c.clone());
                }
                None => break,
            }
        }
        NaiveChain {
            chain,
            complete: false,
            offered: parsed,
        }
    }

    // The context-free variants are deprecated but older code paths in webpki still return them.
    #[allow(deprecated)]
    fn map_webpki_error(&self, error: webpki::Error, naive: &NaiveChain, crls: &CrlState) -> Error {
        use webpki::Error as W;
        let leaf = naive.chain[0].reference();
        let last = naive
            .chain
            .last()
            .map_or_else(|| leaf.clone(), ChainCert::reference);
        // webpki reports the gravest failure of every path it tried (an expired certificate
        // outranks a revoked one), not necessarily one of the path the certificate names. A
        // revocation on that path is the explanation, whatever webpki reported.
        let revoked = naive.chain.iter().find(|c| {
            crls.revoked
                .iter()
                .any(|(issuer, serials)| *issuer == c.issuer_raw && serials.contains(&c.serial_raw))
        });
        if let Some(revoked) = revoked {
            return Error::rejected(revoked.reference(), Rule::RevokedByCrl);
        }
        // A date failure names the certificate whose date it is, which may be one offered
        // for another path.
        let dated = |date: &dyn Fn(&CertificateInfo) -> OffsetDateTime, when: UnixTime| {
            let when = i64::try_from(when.as_secs()).unwrap_or(i64::MAX);
            naive
                .chain
                .iter()
                .chain(&naive.offered)
                .find(|c| date(&c.info).unix_timestamp() == when)
                .map_or_else(|| leaf.clone(), ChainCert::reference)
        };
        let rule = match &error {
            W::UnknownIssuer => return Error::rejected(last, Rule::UnknownIssuer),
            W::CertRevoked => return Error::rejected(leaf, Rule::RevokedByCrl),
            W::CertExpired { not_after, .. } => {
                return Error::rejected(
                    dated(&|info| info.not_after, *not_after),
                    Rule::Expired {
                        not_after: format_time(to_datetime(*not_after)),
                    },
                )
            }
            W::CertNotValidYet { not_before, .. } => {
                return Error::rejected(
                    dated(&|info| info.not_before, *not_before),
                    Rule::NotYetValid {
                        not_before: format_time(to_datetime(*not_before)),
                    },
                )
            }
            W::CaUsedAsEndEntity => Rule::CertificateAuthorityAsEndEntity,
            W::EndEntityUsedAsCa => Rule::NotACertificateAuthority,
            W::PathLenConstraintViolated => Rule::PathLengthExceeded,
            W::NameConstraintViolation => Rule::NameConstraintViolated,
            W::RequiredEkuNotFound | W::RequiredEkuNotFoundContext(_) => {
                Rule::MissingExtendedKeyUsage {
                    required: self.policy.extended_key_usage.purpose().name().into(),
                }
            }
            W::MaximumPathDepthExceeded => Rule::ChainTooDeep {
                max_intermediates: self.policy.max_intermediates,
            },
            W::InvalidSignatureForPublicKey => Rule::BadSignature,
            W::CrlExpired { .. } => Rule::UnusableCrl {
                reason: "the CRL's nextUpdate has passed".into(),
            },
            W::UnsupportedSignatureAlgorithm
            | W::UnsupportedSignatureAlgorithmContext(_)
            | W::UnsupportedSignatureAlgorithmForPublicKey
            | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                Rule::WeakSignatureAlgorithm {
                    algorithm: format!("{error:?}"),
                }
            }
            other => Rule::PathValidation {
                reason: format!("{other:?}"),
            },
        };
        Error::rejected(leaf, rule)
    }
}

/// How likely `candidate` is to have issued `child`, for explaining a refusal (lower is more
/// likely; `None`: its name is not `child`'s issuer). Among several of that name (a key
/// rollover, a cross-signature), the one whose subject key identifier is `child`'s authority
/// key identifier (RFC 5280 §4.2.1.1) comes first, then one that does not say, and one whose
/// identifier differs only when nothing else has the name.
fn issuer_rank(child: &ChainCert, candidate: &ChainCert) -> Option<u8> {
    if candidate.subject_raw != child.issuer_raw {
        return None;
    }
    Some(
        match (&child.info.authority_key_id, &candidate.info.subject_key_id) {
            (Some(wanted), Some(has)) if wanted == has => 0,
            (Some(_), Some(_)) => 2,
            _ => 1,
        },
    )
}

/// A path the policy accepted, with the window in which all its certificates are valid.
type AcceptedPath = (Vec<ChainCert>, (i64, i64));

struct NaiveChain {
    chain: Vec<ChainCert>,
    complete: bool,
    /// Every intermediate offered, on the chain or not.
    offered: Vec<ChainCert>,
}

fn crl_facts(der: &[u8]) -> Result<(Vec<u8>, Vec<Vec<u8>>), Error> {
    use x509_parser::prelude::FromDer;
    let (_, crl) =
        x509_parser::revocation_list::CertificateRevocationList::from_der(der).map_err(|e| {
            Error::MalformedCrl {
                reason: e.to_string(),
            }
        })?;
    let serials = crl
        .iter_revoked_certificates()
        .map(|r| r.raw_serial().to_vec())
        .collect();
    Ok((crl.tbs_cert_list.issuer.as_raw().to_vec(), serials))
}

fn to_datetime(at: UnixTime) -> OffsetDateTime {
    let secs = i64::try_from(at.as_secs()).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The policy over a chain: end entity first; when `complete`, the last certificate is the trusted
/// root. Returns the window (unix seconds) in which all certificates are valid.
fn check_chain(
    chain: &[ChainCert],
    policy: &DevicePolicy,
    at: OffsetDateTime,
    complete: bool,
) -> Result<(i64, i64), Error> {
    let mut window = (i64::MIN, i64::MAX);
    for (i, cert) in chain.iter().enumerate() {
        let info = &cert.info;
        let refuse = |rule| Err(Error::rejected(cert.reference(), rule));
        if at > info.not_after {
            return refuse(Rule::Expired {
                not_after: format_time(info.not_after),
            });
        }
        if at < info.not_before {
            return refuse(Rule::NotYetValid {
                not_before: format_time(info.not_before),
            });
        }
        window.0 = window.0.max(info.not_before.unix_timestamp());
        window.1 = window.1.min(info.not_after.unix_timestamp());
        if !policy.allowed_keys.allows(&info.public_key) {
            return refuse(Rule::WeakKey {
                key: info.public_key.to_string(),
            });
        }
        if info.signature_algorithm.is_broken() {
            return refuse(Rule::WeakSignatureAlgorithm {
                algorithm: info.signature_algorithm.name.clone(),
            });
        }
        if i == 0 {
            if info.basic_constraints.is_some_and(|bc| bc.ca) {
                return refuse(Rule::CertificateAuthorityAsEndEntity);
            }
            let purpose = policy.extended_key_usage.purpose();
            let has = info.extended_key_usage.iter().any(|e| e == purpose.name());
            let ok = match policy.extended_key_usage {
                ExtendedKeyUsageRule::Required(_) => has,
                ExtendedKeyUsageRule::RequiredIfPresent(_) => {
                    has || info.extended_key_usage.is_empty()
                }
            };
            if !ok {
                return refuse(Rule::MissingExtendedKeyUsage {
                    required: purpose.name().into(),
                });
            }
        } else {
            let is_root = complete && i == chain.len() - 1;
            if i > policy.max_intermediates && !is_root {
                return refuse(Rule::ChainTooDeep {
                    max_intermediates: policy.max_intermediates,
                });
            }
            let is_ca = info.basic_constraints.is_some_and(|bc| bc.ca);
            let can_sign =
                info.key_usage.is_empty() || info.key_usage.iter().any(|k| k == "keyCertSign");
            if !is_ca || !can_sign {
                return refuse(Rule::NotACertificateAuthority);
            }
            // What `EkuIfPresent` has webpki check for every intermediate, checked here too so
            // that the refusal names the intermediate rather than the end entity. Trust anchors'
            // extensions are not looked at, by webpki or here.
            let purpose = policy.extended_key_usage.purpose();
            if !is_root
                && !info.extended_key_usage.is_empty()
                && !info.extended_key_usage.iter().any(|e| e == purpose.name())
            {
                return refuse(Rule::MissingExtendedKeyUsage {
                    required: purpose.name().into(),
                });
            }
            // Intermediates between this issuer and the end entity.
            let below = i - 1;
            if let Some(path_len) = info.basic_constraints.and_then(|bc| bc.path_len) {
                if below > path_len as usize {
                    return refuse(Rule::PathLengthExceeded);
                }
            }
        }
    }
    Ok(window)
}

/// webpki's EKU check, applied to every certificate of the path: if the extension is present it
/// must list the purpose. The end entity's "must be present" is checked by [`check_chain`].
struct EkuIfPresent(Purpose);

impl webpki::ExtendedKeyUsageValidator for EkuIfPresent {
    // The context variant's fields cannot be built outside webpki; the plain variant is enough here
    // because the rule is reported from our own check.
    #[allow(deprecated)]
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        let want = self.0.oid();
        let mut empty = true;
        for id in iter {
            empty = false;
            if id?.to_decoded_oid() == want {
                return Ok(());
            }
        }
        if empty {
            Ok(())
        } else {
            Err(webpki::Error::RequiredEkuNotFound)
        }
    }
}

fn cache_key(end_entity: &[u8], intermediates: &[CertificateDer<'_>]) -> [u8; 32] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for der in std::iter::once(end_entity).chain(intermediates.iter().map(|d| d.as_ref())) {
        ctx.update(&(der.len() as u64).to_be_bytes());
        ctx.update(der);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(ctx.finish().as_ref());
    key
}

#[derive(Debug)]
struct CacheEntry {
    identity: ValidatedIdentity,
    valid_from: i64,
    valid_until: i64,
}

/// A bounded map from chain hash to validated identity; entries expire after the TTL or when a
/// certificate of the path does, and are dropped on CRL updates and status changes.
#[derive(Debug)]
struct Cache {
    settings: CacheSettings,
    entries: HashMap<[u8; 32], CacheEntry>,
    order: VecDeque<[u8; 32]>,
}

impl Cache {
    fn new(settings: CacheSettings) -> Self {
        Self {
            settings,
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn get(&mut self, key: &[u8; 32], now: u64) -> Option<ValidatedIdentity> {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let entry = self.entries.get(key)?;
        if now < entry.valid_from || now > entry.valid_until {
            self.entries.remove(key);
            return None;
        }
        Some(entry.identity.clone())
    }

    fn insert(&mut self, key: [u8; 32], identity: ValidatedIdentity, now: u64, window: (i64, i64)) {
        if self.settings.capacity == 0 {
            return;
        }
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let ttl = i64::try_from(self.settings.ttl.as_secs()).unwrap_or(i64::MAX);
        let entry = CacheEntry {
            identity,
            valid_from: window.0.max(now),
            valid_until: window.1.min(now.saturating_add(ttl)),
        };
        if self.entries.insert(key, entry).is_none() {
            self.order.push_back(key);
        }
        while self.entries.len() > self.settings.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.entries.remove(&old);
                }
                None => break,
            }
        }
        // Keep the order queue from growing with keys already removed.
        if self.order.len() > self.settings.capacity.saturating_mul(2) {
            let entries = &self.entries;
            self.order.retain(|k| entries.contains_key(k));
        }
    }

    fn remove_certificate(&mut self, id: &CertificateId) {
        self.entries
            .retain(|_, e| e.identity.certificate_id() != id);
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}
