//! A small PKI on rcgen: a root CA, server and device certificates, CSRs, CRLs, renewal.

use std::fmt;
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SecureRandom;
use rcgen::{
    BasicConstraints as RcgenBasicConstraints, CertificateParams, CertificateRevocationListParams,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, PublicKeyData, RevokedCertParams, SanType, SerialNumber,
};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::info::{parse_certificate, CertificateInfo, NamedCurve, PublicKeyKind};

fn issuing(e: impl fmt::Display) -> Error {
    Error::Issuing {
        reason: e.to_string(),
    }
}

/// The kind of key to generate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// ECDSA on P-256 with SHA-256 (default: small, fast, what AWS IoT devices use).
    #[default]
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA 2048 with SHA-256 (for peers that only speak RSA).
    Rsa2048,
    /// RSA 3072 with SHA-256.
    Rsa3072,
}

impl KeyType {
    /// Parses "p256", "p384", "ed25519", "rsa2048", "rsa3072".
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "p256" | "p-256" | "ecdsa-p256" => Some(Self::EcdsaP256),
            "p384" | "p-384" | "ecdsa-p384" => Some(Self::EcdsaP384),
            "ed25519" => Some(Self::Ed25519),
            "rsa2048" | "rsa-2048" => Some(Self::Rsa2048),
            "rsa3072" | "rsa-3072" => Some(Self::Rsa3072),
            _ => None,
        }
    }
}

/// A generated private key. `Debug` never shows it; the PKCS#8 bytes are zeroized on drop.
pub struct PrivateKey {
    pair: KeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", self.pair.algorithm())
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Generates a key of the given type with the system's secure random generator.
    pub fn generate(key_type: KeyType) -> Result<Self, Error> {
        let pair = match key_type {
            KeyType::EcdsaP256 => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(issuing)?
            }
            KeyType::EcdsaP384 => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(issuing)?
            }
            KeyType::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(issuing)?,
            KeyType::Rsa2048 | KeyType::Rsa3072 => {
                let size = if key_type == KeyType::Rsa2048 {
                    aws_lc_rs::rsa::KeySize::Rsa2048
                } else {
                    aws_lc_rs::rsa::KeySize::Rsa3072
                };
                let rsa = aws_lc_rs::rsa::KeyPair::generate(size).map_err(issuing)?;
                let pkcs8 = Zeroizing::new(rsa.as_der().map_err(issuing)?.as_ref().to_vec());
                KeyPair::from_pkcs8_der_and_sign_algo(
                    &PrivatePkcs8KeyDer::from(&pkcs8[..]),
                    &rcgen::PKCS_RSA_SHA256,
                )
                .map_err(issuing)?
            }
        };
        Ok(Self::from_pair(pair))
    }

    fn from_pair(pair: KeyPair) -> Self {
        let pkcs8 = Zeroizing::new(pair.serialize_der());
        Self { pair, pkcs8 }
    }

    /// Reads a PKCS#8 PEM private key (as [`PrivateKey::to_pem`] writes it).
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let der = crate::load::parse_private_key(pem.as_bytes(), "key PEM")?;
        Self::from_der(&der)
    }

    /// Reads a DER private key (PKCS#8; SEC1 and PKCS#1 when the crypto backend accepts them).
    pub fn from_der(der: &rustls_pki_types::PrivateKeyDer<'_>) -> Result<Self, Error> {
        let pair = KeyPair::try_from(der).map_err(|e| Error::UnsupportedKey {
            reason: e.to_string(),
        })?;
        Ok(Self::from_pair(pair))
    }

    /// The key as PKCS#8 PEM ("PRIVATE KEY"), zeroized when dropped.
    pub fn to_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(self.pair.serialize_pem())
    }

    /// The key as PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.pair.subject_public_key_info()
    }
}

/// A random positive 16-octet serial number.
fn random_serial() -> Result<SerialNumber, Error> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(issuing)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn name(common_name: &str, organization: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    if let Some(org) = organization {
        dn.push(DnType::OrganizationName, org);
    }
    dn.push(DnType::CommonName, common_name);
    dn
}

fn base_params(
    dn: DistinguishedName,
    now: OffsetDateTime,
    lifetime: Duration,
) -> Result<CertificateParams, Error> {
    if lifetime <= Duration::ZERO {
        return Err(Error::InvalidArgument(
            "certificate lifetime must be positive".into(),
        ));
    }
    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    // Back-date a little so a device whose clock is slightly behind accepts a fresh certificate.
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + lifetime;
    params.serial_number = Some(random_serial()?);
    params.use_authority_key_identifier_extension = true;
    params.key_identifier_method = KeyIdMethod::Sha256;
    Ok(params)
}

/// Settings for a CA certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaSettings {
    /// Subject common name.
    pub common_name: String,
    /// Subject organization, if any.
    pub organization: Option<String>,
    /// Key type (default ECDSA P-256).
    pub key_type: KeyType,
    /// Lifetime (default 10 years).
    pub lifetime: Duration,
    /// pathLenConstraint: how many intermediates may follow (default: unconstrained).
    pub path_len: Option<u8>,
}

impl CaSettings {
    /// A CA called `common_name` with the defaults.
    pub fn new(common_name: impl Into<String>) -> Self {
        Self {
            common_name: common_name.into(),
            organization: None,
            key_type: KeyType::default(),
            lifetime: Duration::days(3650),
            path_len: None,
        }
    }

    /// With another key type.
    pub fn key_type(mut self, key_type: KeyType) -> Self {
        self.key_type = key_type;
        self
    }

    /// With another lifetime.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// With a pathLenConstraint.
    pub fn path_len(mut self, path_len: Option<u8>) -> Self {
        self.path_len = path_len;
        self
    }

    fn params(&self, now: OffsetDateTime) -> Result<CertificateParams, Error> {
        let mut params = base_params(
            name(&self.common_name, self.organization.as_deref()),
            now,
            self.lifetime,
        )?;
        params.is_ca = IsCa::Ca(match self.path_len {
            Some(n) => RcgenBasicConstraints::Constrained(n),
            None => RcgenBasicConstraints::Unconstrained,
        });
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        Ok(params)
    }
}

/// Settings for a device certificate: CN = thing name, clientAuth.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceSettings {
    /// The thing name, written as the subject common name.
    pub thing_name: String,
    /// Key type (default ECDSA P-256).
    pub key_type: KeyType,
    /// Lifetime (default 7 days, see [`RenewalPolicy`]).
    pub lifetime: Duration,
}

impl DeviceSettings {
    /// A device certificate for `thing_name` with the defaults.
    pub fn new(thing_name: impl Into<String>) -> Self {
        Self {
            thing_name: thing_name.into(),
            key_type: KeyType::default(),
            lifetime: Duration::days(7),
        }
    }

    /// With another key type.
    pub fn key_type(mut self, key_type: KeyType) -> Self {
        self.key_type = key_type;
        self
    }

    /// With another lifetime.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    fn params(&self, now: OffsetDateTime) -> Result<CertificateParams, Error> {
        if self.thing_name.is_empty() {
            return Err(Error::InvalidArgument(
                "the thing name must not be empty".into(),
            ));
        }
        let mut params = base_params(name(&self.thing_name, None), now, self.lifetime)?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        Ok(params)
    }
}

/// Settings for a server certificate: DNS/IP SANs, serverAuth.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerSettings {
    /// DNS names.
    pub dns_names: Vec<String>,
    /// IP addresses.
    pub ip_addresses: Vec<IpAddr>,
    /// Key type (default ECDSA P-256).
    pub key_type: KeyType,
    /// Lifetime (default 90 days).
    pub lifetime: Duration,
}

impl ServerSettings {
    /// A server certificate for these names: each is an IP address if it parses as one, else a
    /// DNS name.
    pub fn new<S: AsRef<str>>(names: &[S]) -> Self {
        let mut settings = Self {
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            key_type: KeyType::default(),
            lifetime: Duration::days(90),
        };
        for n in names {
            match n.as_ref().parse::<IpAddr>() {
                Ok(ip) => settings.ip_addresses.push(ip),
                Err(_) => settings.dns_names.push(n.as_ref().to_owned()),
            }
        }
        settings
    }

    /// With another key type.
    pub fn key_type(mut self, key_type: KeyType) -> Self {
        self.key_type = key_type;
        self
    }

    /// With another lifetime.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    fn params(&self, now: OffsetDateTime) -> Result<CertificateParams, Error> {
        let first = self
            .dns_names
            .first()
            .cloned()
            .or_else(|| self.ip_addresses.first().map(IpAddr::to_string))
            .ok_or_else(|| {
                Error::InvalidArgument("a server certificate needs a DNS name or IP address".into())
            })?;
        let mut params = base_params(name(&first, None), now, self.lifetime)?;
        for dns in &self.dns_names {
            let ia5 = dns.clone().try_into().map_err(issuing)?;
            params.subject_alt_names.push(SanType::DnsName(ia5));
        }
        params
            .subject_alt_names
            .extend(self.ip_addresses.iter().map(|ip| SanType::IpAddress(*ip)));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        Ok(params)
    }
}

/// A certificate and the key generated for it.
#[derive(Debug)]
pub struct IssuedCertificate {
    /// The certificate.
    pub certificate: CertificateDer<'static>,
    /// Its private key.
    pub key: PrivateKey,
}

impl IssuedCertificate {
    /// The certificate as PEM.
    pub fn certificate_pem(&self) -> String {
        certificate_pem(&self.certificate)
    }
}

/// A DER certificate as PEM.
pub fn certificate_pem(der: &CertificateDer<'_>) -> String {
    pem_block("CERTIFICATE", der)
}

/// A DER CRL as PEM.
pub fn crl_pem(der: &CertificateRevocationListDer<'_>) -> String {
    pem_block("X509 CRL", der)
}

fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A certificate authority: its certificate and signing key.
pub struct CertificateAuthority {
    certificate: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    key_pem: Zeroizing<String>,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field(
                "certificate_id",
                &crate::info::CertificateId::of_der(&self.certificate),
            )
            .field("key", &"<redacted>")
            .finish()
    }
}

impl CertificateAuthority {
    /// Creates a self-signed root CA, valid from `now` (minus five minutes of clock-skew slack).
    pub fn create_root(settings: &CaSettings, now: OffsetDateTime) -> Result<Self, Error> {
        let key = PrivateKey::generate(settings.key_type)?;
        let params = settings.params(now)?;
        let cert = params.self_signed(&key.pair).map_err(issuing)?;
        Ok(Self::assemble(cert.der().clone(), params, key))
    }

    /// Creates an intermediate CA signed by this one.
    pub fn create_intermediate(
        &self,
        settings: &CaSettings,
        now: OffsetDateTime,
    ) -> Result<Self, Error> {
        let key = PrivateKey::generate(settings.key_type)?;
        let params = settings.params(now)?;
        let cert = params.signed_by(&key.pair, &self.issuer).map_err(issuing)?;
        Ok(Self::assemble(cert.der().clone(), params, key))
    }

    fn assemble(
        certificate: CertificateDer<'static>,
        params: CertificateParams,
        key: PrivateKey,
    ) -> Self {
        let key_pem = key.to_pem();
        Self {
            certificate,
            issuer: Issuer::new(params, key.pair),
            key_pem,
        }
    }

    /// Loads a CA from its certificate and PKCS#8 key (PEM).
    pub fn from_pem(certificate_pem: &str, key_pem: &str) -> Result<Self, Error> {
        let certificate =
            crate::load::parse_certificates(certificate_pem.as_bytes(), "CA certificate")?
                .into_iter()
                .next()
                .ok_or_else(|| Error::NoCertificate {
                    source_name: "CA certificate".into(),
                })?;
        Self::from_parts(certificate, PrivateKey::from_pem(key_pem)?)
    }

    /// Loads a CA from its certificate file and key file (the key file's permissions are checked
    /// as for a device key).
    pub fn load(
        certificate: &Path,
        key: &Path,
        options: &crate::LoadOptions,
    ) -> Result<Self, Error> {
        let cert = crate::load::load_certificates(certificate)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::NoCertificate {
                source_name: certificate.display().to_string(),
            })?;
        let key = PrivateKey::from_der(&*crate::load::load_private_key(key, options)?)?;
        Self::from_parts(cert, key)
    }

    /// A CA from its certificate and key; the key must match the certificate, which must be a CA.
    pub fn from_parts(
        certificate: CertificateDer<'static>,
        key: PrivateKey,
    ) -> Result<Self, Error> {
        let info = CertificateInfo::from_der(&certificate)?;
        if info.basic_constraints.is_none_or(|bc| !bc.ca) {
            return Err(Error::InvalidArgument(format!(
                "{} is not a CA certificate",
                info.subject
            )));
        }
        let cert = parse_certificate(&certificate, 0)?;
        if cert.tbs_certificate.subject_pki.raw != key.public_key_der().as_slice() {
            return Err(Error::KeyMismatch {
                certificate: info.reference(),
            });
        }
        let key_pem = key.to_pem();
        let issuer = Issuer::from_ca_cert_der(&certificate, key.pair).map_err(issuing)?;
        Ok(Self {
            certificate,
            issuer,
            key_pem,
        })
    }

    /// The CA certificate.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.certificate
    }

    /// The CA certificate as PEM.
    pub fn certificate_pem(&self) -> String {
        certificate_pem(&self.certificate)
    }

    /// The CA's private key as PKCS#8 PEM (write it with [`write_private_key_file`]).
    pub fn key_pem(&self) -> &Zeroizing<String> {
        &self.key_pem
    }

    /// Issues a device certificate with a fresh key (CN = thing name, clientAuth).
    pub fn issue_device(
        &self,
        settings: &DeviceSettings,
        now: OffsetDateTime,
    ) -> Result<IssuedCertificate, Error> {
        let key = PrivateKey::generate(settings.key_type)?;
        let cert = settings
            .params(now)?
            .signed_by(&key.pair, &self.issuer)
            .map_err(issuing)?;
        Ok(IssuedCertificate {
            certificate: cert.der().clone(),
            key,
        })
    }

    /// Issues a server certificate with a fresh key (DNS/IP SANs, serverAuth).
    pub fn issue_server(
        &self,
        settings: &ServerSettings,
        now: OffsetDateTime,
    ) -> Result<IssuedCertificate, Error> {
        let key = PrivateKey::generate(settings.key_type)?;
        let cert = settings
            .params(now)?
            .signed_by(&key.pair, &self.issuer)
            .map_err(issuing)?;
        Ok(IssuedCertificate {
            certificate: cert.der().clone(),
            key,
        })
    }

    /// Signs a device's CSR (fleet provisioning): the certificate gets the CSR's public key, the
    /// CSR's common name as thing name (unless `thing_name` overrides it) and the device profile
    /// (clientAuth, `lifetime`). Nothing else from the CSR is copied. The CSR's signature must verify.
    pub fn sign_csr(
        &self,
        csr_der: &[u8],
        thing_name: Option<&str>,
        lifetime: Duration,
        now: OffsetDateTime,
    ) -> Result<CertificateDer<'static>, Error> {
        let csr = parse_csr(csr_der)?;
        let thing = match thing_name {
            Some(t) => t.to_owned(),
            None => csr.common_name.clone().ok_or_else(|| Error::MalformedCsr {
                reason: "no common name and no thing name given".into(),
            })?,
        };
        let settings = DeviceSettings {
            thing_name: thing,
            key_type: KeyType::default(),
            lifetime,
        };
        let cert = settings
            .params(now)?
            .signed_by(&csr.public_key, &self.issuer)
            .map_err(issuing)?;
        Ok(cert.der().clone())
    }

    /// Issues a CRL listing `revoked` (serial numbers as big-endian bytes), valid from `this_update`
    /// until `next_update`.
    pub fn issue_crl(
        &self,
        settings: &CrlSettings,
    ) -> Result<CertificateRevocationListDer<'static>, Error> {
        let params = CertificateRevocationListParams {
            this_update: settings.this_update,
            next_update: settings.next_update,
            crl_number: SerialNumber::from_slice(&settings.crl_number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs: settings
                .revoked_serials
                .iter()
                .map(|serial| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(serial),
                    revocation_time: settings.this_update,
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer).map_err(issuing)?;
        Ok(crl.der().clone())
    }
}

/// What a CRL says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CrlSettings {
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
    /// cRLNumber (monotonically increasing per CA).
    pub crl_number: u64,
    /// Revoked serial numbers, big-endian bytes as in the certificate.
    pub revoked_serials: Vec<Vec<u8>>,
}

impl CrlSettings {
    /// A CRL valid from `now` for `validity`, numbered `crl_number`, revoking nothing yet.
    pub fn new(now: OffsetDateTime, validity: Duration, crl_number: u64) -> Self {
        Self {
            this_update: now,
            next_update: now + validity,
            crl_number,
            revoked_serials: Vec::new(),
        }
    }

    /// Adds the serial number of `certificate` to the list.
    pub fn revoke(mut self, certificate: &CertificateDer<'_>) -> Result<Self, Error> {
        let cert = parse_certificate(certificate, 0)?;
        self.revoked_serials
            .push(cert.tbs_certificate.raw_serial().to_vec());
        Ok(self)
    }
}

/// A parsed, signature-checked CSR.
#[derive(Debug)]
struct ParsedCsr {
    common_name: Option<String>,
    public_key: CsrPublicKey,
}

#[derive(Debug)]
struct CsrPublicKey {
    raw: Vec<u8>,
    alg: &'static rcgen::SignatureAlgorithm,
}

impl PublicKeyData for CsrPublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.alg
    }
}

/// Parses a CSR (DER) and checks its self-signature; returns the subject common name.
pub fn csr_common_name(csr_der: &[u8]) -> Result<Option<String>, Error> {
    Ok(parse_csr(csr_der)?.common_name)
}

fn parse_csr(der: &[u8]) -> Result<ParsedCsr, Error> {
    let bad = |reason: String| Error::MalformedCsr { reason };
    let (rest, csr) = X509CertificationRequest::from_der(der).map_err(|e| bad(e.to_string()))?;
    if !rest.is_empty() {
        return Err(bad("trailing data after the CSR".into()));
    }
    let info = &csr.certification_request_info;
    let spki = &info.subject_pki;
    // The key is judged before the signature: the verifier cannot check a signature made with a
    // key it does not support (RSA under 2048 bits), and "signature does not verify" would send
    // the operator looking for a corrupted file instead of a weak key.
    let alg: &'static rcgen::SignatureAlgorithm = match PublicKeyKind::of(spki) {
        PublicKeyKind::Ec {
            curve: NamedCurve::P256,
        } => &rcgen::PKCS_ECDSA_P256_SHA256,
        PublicKeyKind::Ec {
            curve: NamedCurve::P384,
        } => &rcgen::PKCS_ECDSA_P384_SHA384,
        PublicKeyKind::Ed25519 => &rcgen::PKCS_ED25519,
        PublicKeyKind::Rsa { bits } if bits >= 2048 => &rcgen::PKCS_RSA_SHA256,
        other => return Err(bad(format!("public key not allowed for a device: {other}"))),
    };
    csr.verify_signature()
        .map_err(|e| bad(format!("signature does not verify: {e}")))?;
    let common_name = info
        .subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);
    Ok(ParsedCsr {
        common_name,
        public_key: CsrPublicKey {
            raw: spki.subject_public_key.data.to_vec(),
            alg,
        },
    })
}

/// Creates a CSR on the device: the key stays where it is, only the public key and the thing name
/// (as common name) leave. Returns DER.
pub fn create_csr(key: &PrivateKey, thing_name: &str) -> Result<Vec<u8>, Error> {
    if thing_name.is_empty() {
        return Err(Error::InvalidArgument(
            "the thing name must not be empty".into(),
        ));
    }
    let mut params = CertificateParams::default();
    params.distinguished_name = name(thing_name, None);
    let csr = params.serialize_request(&key.pair).map_err(issuing)?;
    Ok(csr.der().to_vec())
}

/// A DER CSR as PEM.
pub fn csr_pem(der: &[u8]) -> String {
    pem_block("CERTIFICATE REQUEST", der)
}

/// Reads a CSR from PEM ("CERTIFICATE REQUEST") or DER.
pub fn parse_csr_input(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        for item in rustls_pemfile::read_all(&mut &bytes[..]) {
            match item {
                Ok(rustls_pemfile::Item::Csr(der)) => return Ok(der.to_vec()),
                Ok(_) => continue,
                Err(e) => {
                    return Err(Error::MalformedCsr {
                        reason: e.to_string(),
                    })
                }
            }
        }
        return Err(Error::MalformedCsr {
            reason: "no CERTIFICATE REQUEST block".into(),
        });
    }
    parse_csr(bytes)?;
    Ok(bytes.to_vec())
}

/// When a certificate should be renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenewalPolicy {
    /// The lifetime new certificates get (default 7 days).
    pub lifetime: Duration,
    /// Renew when less than this is left (default 1 day).
    pub renew_when_remaining: Duration,
}

impl Default for RenewalPolicy {
    fn default() -> Self {
        Self {
            lifetime: Duration::days(7),
            renew_when_remaining: Duration::days(1),
        }
    }
}

/// The answer of [`RenewalPolicy::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Renewal {
    /// Enough lifetime left.
    NotYet {
        /// Time until notAfter.
        remaining: Duration,
    },
    /// Renew now: less than the threshold is left.
    Due {
        /// Time until notAfter.
        remaining: Duration,
    },
    /// Already expired: renewing needs another credential (e.g. a claim certificate).
    Expired,
}

impl RenewalPolicy {
    /// Certificates of `lifetime`, renewed when less than `renew_when_remaining` is left.
    pub fn new(lifetime: Duration, renew_when_remaining: Duration) -> Self {
        Self {
            lifetime,
            renew_when_remaining,
        }
    }

    /// Whether `certificate` needs renewing at `now`.
    pub fn check(&self, certificate: &CertificateInfo, now: OffsetDateTime) -> Renewal {
        let remaining = certificate.not_after - now;
        if remaining <= Duration::ZERO {
            Renewal::Expired
        } else if remaining < self.renew_when_remaining {
            Renewal::Due { remaining }
        } else {
            Renewal::NotYet { remaining }
        }
    }
}

/// Writes a private key file readable by its owner only (0600), replacing an existing file.
pub fn write_private_key_file(path: &Path, pem: &str) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // An existing file keeps its mode on open: tighten it before writing the secret.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(pem.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Writes a public file (certificate, CSR, CRL).
pub fn write_public_file(path: &Path, pem: &str) -> Result<(), Error> {
    std::fs::write(path, pem).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}
