//! Certificate inspection: [`CertificateInfo`] and the [`CertificateId`].

use std::fmt;
use std::net::IpAddr;

use aws_lc_rs::digest;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::{Any, Tag};
use x509_parser::der_parser::oid::Oid;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::RSAPublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::error::{CertificateRef, Error};

/// The certificate ID: lowercase hex SHA-256 of the certificate's DER, as AWS IoT and
/// Greengrass use it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CertificateId(String);

impl CertificateId {
    /// The ID of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Self(hex::encode(digest::digest(&digest::SHA256, der)))
    }

    /// Parses a 64-character hex ID (any case); returns `None` if it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| Self(text.to_ascii_lowercase()))
    }

    /// The lowercase hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CertificateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a certificate says, for people and for policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CertificateInfo {
    /// Lowercase hex SHA-256 of the DER.
    pub certificate_id: CertificateId,
    /// Lowercase hex SHA-1 of the DER (for tools that still show it; never used for trust).
    pub sha1_fingerprint: String,
    /// Subject distinguished name, RFC 4514 style.
    pub subject: String,
    /// Issuer distinguished name, RFC 4514 style.
    pub issuer: String,
    /// The subject's first common name, if any.
    pub common_name: Option<String>,
    /// Subject alternative names.
    pub subject_alt_names: Vec<SubjectAltName>,
    /// Serial number, lowercase hex of the DER integer's content octets.
    pub serial: String,
    /// notBefore.
    #[serde(serialize_with = "rfc3339")]
    pub not_before: OffsetDateTime,
    /// notAfter.
    #[serde(serialize_with = "rfc3339")]
    pub not_after: OffsetDateTime,
    /// The subject public key.
    pub public_key: PublicKeyKind,
    /// The algorithm the issuer signed with.
    pub signature_algorithm: SignatureAlgorithm,
    /// basicConstraints, if present.
    pub basic_constraints: Option<BasicConstraints>,
    /// keyUsage bits by RFC 5280 name (empty when the extension is absent).
    pub key_usage: Vec<String>,
    /// extendedKeyUsage purposes by name, or dotted OID (empty when absent).
    pub extended_key_usage: Vec<String>,
    /// subjectKeyIdentifier, lowercase hex.
    pub subject_key_id: Option<String>,
    /// authorityKeyIdentifier keyIdentifier, lowercase hex.
    pub authority_key_id: Option<String>,
    /// Issuer and subject are the same name.
    pub self_issued: bool,
}

fn rfc3339<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

pub(crate) fn format_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

impl CertificateInfo {
    /// Inspects a DER-encoded certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let cert = parse_certificate(der, 0)?;
        Ok(Self::from_parsed(der, &cert))
    }

    /// The thing name of a device certificate: its common name.
    pub fn thing_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// Names this certificate in errors.
    pub fn reference(&self) -> CertificateRef {
        CertificateRef {
            subject: self.subject.clone(),
            id: self.certificate_id.clone(),
        }
    }

    pub(crate) fn from_parsed(der: &[u8], cert: &X509Certificate<'_>) -> Self {
        let tbs = &cert.tbs_certificate;
        let mut info = Self {
            certificate_id: CertificateId::of_der(der),
            sha1_fingerprint: hex::encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der)),
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            common_name: tbs
                .subject
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .map(str::to_owned),
            subject_alt_names: Vec::new(),
            serial: hex::encode(tbs.raw_serial()),
            not_before: tbs.validity.not_before.to_datetime(),
            not_after: tbs.validity.not_after.to_datetime(),
            public_key: PublicKeyKind::of(&tbs.subject_pki),
            signature_algorithm: SignatureAlgorithm::of(&cert.signature_algorithm.algorithm),
            basic_constraints: None,
            key_usage: Vec::new(),
            extended_key_usage: Vec::new(),
            subject_key_id: None,
            authority_key_id: None,
            self_issued: tbs.subject.as_raw() == tbs.issuer.as_raw(),
        };
        for ext in tbs.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    info.subject_alt_names
                        .extend(san.general_names.iter().map(SubjectAltName::of));
                }
                ParsedExtension::BasicConstraints(bc) => {
                    info.basic_constraints = Some(BasicConstraints {
                        ca: bc.ca,
                        path_len: bc.path_len_constraint,
                    });
                }
                ParsedExtension::KeyUsage(ku) => {
                    const NAMES: [&str; 9] = [
                        "digitalSignature",
                        "nonRepudiation",
                        "keyEncipherment",
                        "dataEncipherment",
                        "keyAgreement",
                        "keyCertSign",
                        "cRLSign",
                        "encipherOnly",
                        "decipherOnly",
                    ];
                    info.key_usage = NAMES
                        .iter()
                        .enumerate()
                        .filter(|(bit, _)| (ku.flags >> bit) & 1 == 1)
                        .map(|(_, n)| (*n).to_owned())
                        .collect();
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    let named = [
                        (eku.any, "anyExtendedKeyUsage"),
                        (eku.server_auth, "serverAuth"),
                        (eku.client_auth, "clientAuth"),
                        (eku.code_signing, "codeSigning"),
                        (eku.email_protection, "emailProtection"),
                        (eku.time_stamping, "timeStamping"),
                        (eku.ocsp_signing, "OCSPSigning"),
                    ];
                    info.extended_key_usage = named
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, n)| (*n).to_owned())
                        .collect();
                    info.extended_key_usage
                        .extend(eku.other.iter().map(|oid| oid.to_id_string()));
                }
                ParsedExtension::SubjectKeyIdentifier(ski) => {
                    info.subject_key_id = Some(hex::encode(ski.0))
                }
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    info.authority_key_id = aki.key_identifier.as_ref().map(|k| hex::encode(k.0));
                }
                _ => {}
            }
        }
        info
    }
}

/// Parses a DER certificate, reporting failures with the position in the chain.
pub(crate) fn parse_certificate(der: &[u8], index: usize) -> Result<X509Certificate<'_>, Error> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(Error::MalformedCertificate {
            index,
            reason: "trailing data after the certificate".into(),
        }),
        Err(e) => Err(Error::MalformedCertificate {
            index,
            reason: e.to_string(),
        }),
    }
}

/// One subject alternative name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
#[non_exhaustive]
pub enum SubjectAltName {
    /// dNSName.
    Dns(String),
    /// iPAddress.
    Ip(IpAddr),
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// Any other kind, described.
    Other(String),
}

impl SubjectAltName {
    fn of(name: &GeneralName<'_>) -> Self {
        match name {
            GeneralName::DNSName(d) => Self::Dns((*d).to_owned()),
            GeneralName::RFC822Name(e) => Self::Email((*e).to_owned()),
            GeneralName::URI(u) => Self::Uri((*u).to_owned()),
            GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => {
                    let mut a = [0u8; 4];
                    a.copy_from_slice(bytes);
                    Self::Ip(IpAddr::from(a))
                }
                16 => {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(bytes);
                    Self::Ip(IpAddr::from(a))
                }
                _ => Self::Other(format!("IP:{}", hex::encode(bytes))),
            },
            other => Self::Other(other.to_string()),
        }
    }
}

impl fmt::Display for SubjectAltName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(d) => write!(f, "DNS:{d}"),
            Self::Ip(i) => write!(f, "IP:{i}"),
            Self::Email(e) => write!(f, "email:{e}"),
            Self::Uri(u) => write!(f, "URI:{u}"),
            Self::Other(o) => f.write_str(o),
        }
    }
}

/// basicConstraints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BasicConstraints {
    /// cA.
    pub ca: bool,
    /// pathLenConstraint.
    pub path_len: Option<u32>,
}

/// A named elliptic curve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum NamedCurve {
    /// secp192r1.
    P192,
    /// secp224r1.
    P224,
    /// secp256r1 / prime256v1.
    P256,
    /// secp384r1.
    P384,
    /// secp521r1.
    P521,
    /// secp256k1.
    Secp256k1,
    /// Another curve, by OID.
    Other(String),
}

impl fmt::Display for NamedCurve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::P192 => f.write_str("P-192"),
            Self::P224 => f.write_str("P-224"),
            Self::P256 => f.write_str("P-256"),
            Self::P384 => f.write_str("P-384"),
            Self::P521 => f.write_str("P-521"),
            Self::Secp256k1 => f.write_str("secp256k1"),
            Self::Other(oid) => write!(f, "curve {oid}"),
        }
    }
}

/// The kind and size of a subject public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "algorithm", rename_all = "lowercase")]
#[non_exhaustive]
pub enum PublicKeyKind {
    /// RSA with a modulus of `bits` bits.
    Rsa {
        /// Modulus size in bits.
        bits: usize,
    },
    /// ECDSA on a named curve.
    Ec {
        /// The curve.
        curve: NamedCurve,
    },
    /// Ed25519.
    Ed25519,
    /// Ed448.
    Ed448,
    /// DSA with a key of `bits` bits.
    Dsa {
        /// Key size in bits.
        bits: usize,
    },
    /// Anything else, by algorithm OID.
    Other {
        /// The algorithm OID.
        oid: String,
    },
}

impl PublicKeyKind {
    pub(crate) fn of(spki: &SubjectPublicKeyInfo<'_>) -> Self {
        let oid = spki.algorithm.algorithm.to_id_string();
        match oid.as_str() {
            // rsaEncryption and id-RSASSA-PSS keys carry the same RSAPublicKey (RFC 4055 §1.2);
            // x509-parser's `parsed` only reads the first, so read the bit string ourselves.
            "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
                let key = RSAPublicKey::from_der(&spki.subject_public_key.data);
                Self::Rsa {
                    bits: key.map_or(0, |(_, rsa)| bit_length(rsa.modulus)),
                }
            }
            "1.2.840.10045.2.1" => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|c| c.to_id_string())
                    .unwrap_or_default();
                let curve = match curve.as_str() {
                    "1.2.840.10045.3.1.1" => NamedCurve::P192,
                    "1.3.132.0.33" => NamedCurve::P224,
                    "1.2.840.10045.3.1.7" => NamedCurve::P256,
                    "1.3.132.0.34" => NamedCurve::P384,
                    "1.3.132.0.35" => NamedCurve::P521,
                    "1.3.132.0.10" => NamedCurve::Secp256k1,
                    _ => NamedCurve::Other(curve),
                };
                Self::Ec { curve }
            }
            "1.3.101.112" => Self::Ed25519,
            "1.3.101.113" => Self::Ed448,
            "1.2.840.10040.4.1" => Self::Dsa {
                bits: dsa_prime_bits(spki),
            },
            _ => Self::Other { oid },
        }
    }
}

/// A DSA key's size: the bits of its prime p, the first of the Dss-Parms in the algorithm
/// parameters (RFC 3279 §2.3.2). x509-parser's `key_size` counts the octets of the public value
/// y instead, which gives 2056 or 2040 for a 2048-bit key depending on y.
fn dsa_prime_bits(spki: &SubjectPublicKeyInfo<'_>) -> usize {
    let Some(params) = spki.algorithm.parameters.as_ref() else {
        return 0;
    };
    match Any::from_der(params.data) {
        Ok((_, p)) if p.tag() == Tag::Integer => bit_length(p.data),
        _ => 0,
    }
}

/// Bits in a big-endian unsigned integer, ignoring leading zero octets.
fn bit_length(bytes: &[u8]) -> usize {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => return 0,
    };
    let lead = trimmed[0];
    (trimmed.len() - 1) * 8 + (8 - lead.leading_zeros() as usize)
}

impl fmt::Display for PublicKeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rsa { bits } => write!(f, "RSA {bits}"),
            Self::Ec { curve } => write!(f, "ECDSA {curve}"),
            Self::Ed25519 => f.write_str("Ed25519"),
            Self::Ed448 => f.write_str("Ed448"),
            Self::Dsa { bits } => write!(f, "DSA {bits}"),
            Self::Other { oid } => write!(f, "key algorithm {oid}"),
        }
    }
}

/// The digest inside a signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Digest {
    /// MD2 or MD5: broken.
    Md5,
    /// SHA-1: broken for signatures.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// Part of the algorithm (EdDSA) or given in parameters (RSASSA-PSS).
    Intrinsic,
    /// Unknown.
    Unknown,
}

/// A certificate signature algorithm, by its RFC name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureAlgorithm {
    /// The RFC name (e.g. "ecdsa-with-SHA256"), or the dotted OID when unknown.
    pub name: String,
    /// The digest it uses.
    pub digest: Digest,
}

impl SignatureAlgorithm {
    fn of(oid: &Oid<'_>) -> Self {
        let id = oid.to_id_string();
        let (name, digest) = match id.as_str() {
            "1.2.840.113549.1.1.2" => ("md2WithRSAEncryption", Digest::Md5),
            "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", Digest::Md5),
            "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", Digest::Sha1),
            "1.3.14.3.2.29" => ("sha1WithRSAEncryption (OIW)", Digest::Sha1),
            "1.2.840.113549.1.1.14" => ("sha224WithRSAEncryption", Digest::Sha224),
            "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", Digest::Sha256),
            "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", Digest::Sha384),
            "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", Digest::Sha512),
            "1.2.840.113549.1.1.10" => ("RSASSA-PSS", Digest::Intrinsic),
            "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", Digest::Sha1),
            "1.2.840.10045.4.3.1" => ("ecdsa-with-SHA224", Digest::Sha224),
            "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", Digest::Sha256),
            "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", Digest::Sha384),
            "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", Digest::Sha512),
            "1.2.840.10040.4.3" => ("dsa-with-sha1", Digest::Sha1),
            "2.16.840.1.101.3.4.3.2" => ("dsa-with-sha256", Digest::Sha256),
            "1.3.101.112" => ("Ed25519", Digest::Intrinsic),
            "1.3.101.113" => ("Ed448", Digest::Intrinsic),
            _ => {
                return Self {
                    name: id,
                    digest: Digest::Unknown,
                }
            }
        };
        Self {
            name: name.to_owned(),
            digest,
        }
    }

    /// SHA-1, MD5 or MD2: never acceptable in a path.
    pub fn is_broken(&self) -> bool {
        matches!(self.digest, Digest::Md5 | Digest::Sha1)
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bit_length_ignores_leading_zero_octets() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x7f, 0xff]), 15);
        assert_eq!(bit_length(&[0, 0]), 0);
    }

    #[test]
    fn certificate_id_parse_normalises_case() {
        let id = CertificateId::parse(&"AB".repeat(32)).unwrap();
        assert_eq!(id.as_str(), "ab".repeat(32));
        assert!(CertificateId::parse("abc").is_none());
    }
}
