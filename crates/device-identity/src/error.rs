//! The crate's one error type, and the rules a refused certificate broke.

use std::fmt;
use std::path::PathBuf;

use crate::info::CertificateId;
use crate::status::CertificateStatus;

/// Everything that can go wrong in this crate.
///
/// Variants say whose fault it was: [`Error::Rejected`] is a certificate that does not satisfy the
/// policy (the peer's or the input's fault); the `Malformed*`, `NoCertificate`, `NoPrivateKey`,
/// `UnsupportedKey` and `KeyMismatch` variants are bad input; `Io` and `KeyFilePermissions` are the
/// environment; `InvalidArgument` is caller misuse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A certificate was refused: it names the certificate and the rule it broke.
    #[error("certificate {certificate} refused: {rule}")]
    Rejected {
        /// The certificate that broke the rule.
        certificate: CertificateRef,
        /// The rule it broke.
        rule: Rule,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A private key file is readable by group or others.
    #[error(
        "private key file {path} is readable or writable by group or others (mode {mode:03o}); \
         fix it with `chmod 600 {path}`, or allow it explicitly with \
         KeyFilePermissions::AllowGroupOrOtherReadable"
    )]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The input held no certificate.
    #[error("no certificate found in {source_name}")]
    NoCertificate {
        /// Where we looked (a file name or "input").
        source_name: String,
    },
    /// The input held no private key (PKCS#8, SEC1 or PKCS#1).
    #[error("no private key (PKCS#8, SEC1 or PKCS#1) found in {source_name}")]
    NoPrivateKey {
        /// Where we looked (a file name or "input").
        source_name: String,
    },
    /// A certificate could not be parsed.
    #[error("malformed certificate (position {index} in the chain): {reason}")]
    MalformedCertificate {
        /// Its position in the chain (0 = end entity).
        index: usize,
        /// What the parser said.
        reason: String,
    },
    /// A PEM file could not be parsed.
    #[error("malformed PEM in {source_name}: {reason}")]
    MalformedPem {
        /// Where it came from.
        source_name: String,
        /// What the parser said.
        reason: String,
    },
    /// A certificate signing request could not be parsed or its signature is wrong.
    #[error("malformed certificate signing request: {reason}")]
    MalformedCsr {
        /// What went wrong.
        reason: String,
    },
    /// A certificate revocation list could not be parsed.
    #[error("malformed certificate revocation list: {reason}")]
    MalformedCrl {
        /// What went wrong.
        reason: String,
    },
    /// The private key is of a type we cannot use.
    #[error("unsupported private key: {reason}")]
    UnsupportedKey {
        /// What went wrong.
        reason: String,
    },
    /// The private key does not belong to the certificate.
    #[error("the private key does not match the public key of certificate {certificate}")]
    KeyMismatch {
        /// The end-entity certificate.
        certificate: CertificateRef,
    },
    /// Creating a key, certificate, CSR or CRL failed.
    #[error("issuing failed: {reason}")]
    Issuing {
        /// What rcgen or aws-lc-rs said.
        reason: String,
    },
    /// The caller passed something unusable (an empty trust store, a zero lifetime, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// The rule a refused certificate broke, when this is a refusal.
    pub fn rule(&self) -> Option<&Rule> {
        match self {
            Self::Rejected { rule, .. } => Some(rule),
            _ => None,
        }
    }

    pub(crate) fn rejected(certificate: CertificateRef, rule: Rule) -> Self {
        Self::Rejected { certificate, rule }
    }
}

/// Names a certificate in an error: its subject and its certificate ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRef {
    /// The subject distinguished name, RFC 4514 style.
    pub subject: String,
    /// The certificate ID (SHA-256 of the DER).
    pub id: CertificateId,
}

impl fmt::Display for CertificateRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\" (id {})", self.subject, self.id)
    }
}

/// The policy rule a certificate broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The validation time is after the certificate's notAfter.
    Expired {
        /// notAfter, RFC 3339.
        not_after: String,
    },
    /// The validation time is before the certificate's notBefore.
    NotYetValid {
        /// notBefore, RFC 3339.
        not_before: String,
    },
    /// The public key is not allowed (too small RSA, a curve we do not accept, ...).
    WeakKey {
        /// The key, e.g. "RSA 1024" or "ECDSA P-192".
        key: String,
    },
    /// The signature algorithm is not allowed (SHA-1, MD5, ...).
    WeakSignatureAlgorithm {
        /// The algorithm, e.g. "sha1WithRSAEncryption".
        algorithm: String,
    },
    /// The end entity lacks the required extended key usage.
    MissingExtendedKeyUsage {
        /// The usage required, e.g. "clientAuth".
        required: String,
    },
    /// A certificate used as a CA is not a CA (basicConstraints cA false or absent, or no keyCertSign).
    NotACertificateAuthority,
    /// A CA certificate was presented as the end entity.
    CertificateAuthorityAsEndEntity,
    /// A CA's pathLenConstraint is exceeded by the certificates below it.
    PathLengthExceeded,
    /// The path has more intermediates than the policy allows.
    ChainTooDeep {
        /// The policy's limit on intermediates.
        max_intermediates: usize,
    },
    /// A name constraint of an issuing CA is violated.
    NameConstraintViolated,
    /// The certificate is listed in a certificate revocation list.
    RevokedByCrl,
    /// The registry's status for the certificate is not ACTIVE.
    StatusNotActive {
        /// The registry's status.
        status: CertificateStatus,
    },
    /// The registry does not know the certificate.
    NotRegistered,
    /// No path to a trusted root: the issuer is unknown.
    UnknownIssuer,
    /// A signature in the path does not verify.
    BadSignature,
    /// The certificate is not valid for the expected peer name.
    NameMismatch {
        /// The name expected.
        expected: String,
    },
    /// A revocation list needed for the check is expired or unusable.
    UnusableCrl {
        /// Why.
        reason: String,
    },
    /// Another path-validation failure reported by rustls-webpki.
    PathValidation {
        /// webpki's description.
        reason: String,
    },
}

impl Rule {
    /// A short stable identifier for the rule, for JSON output and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not-yet-valid",
            Self::WeakKey { .. } => "weak-key",
            Self::WeakSignatureAlgorithm { .. } => "weak-signature-algorithm",
            Self::MissingExtendedKeyUsage { .. } => "missing-extended-key-usage",
            Self::NotACertificateAuthority => "not-a-ca",
            Self::CertificateAuthorityAsEndEntity => "ca-as-end-entity",
            Self::PathLengthExceeded => "path-length-exceeded",
            Self::ChainTooDeep { .. } => "chain-too-deep",
            Self::NameConstraintViolated => "name-constraint-violated",
            Self::RevokedByCrl => "revoked-by-crl",
            Self::StatusNotActive { .. } => "status-not-active",
            Self::NotRegistered => "not-registered",
            Self::UnknownIssuer => "unknown-issuer",
            Self::BadSignature => "bad-signature",
            Self::NameMismatch { .. } => "name-mismatch",
            Self::UnusableCrl { .. } => "unusable-crl",
            Self::PathValidation { .. } => "path-validation",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Expired { not_after } => write!(f, "expired (notAfter {not_after})"),
            Self::NotYetValid { not_before } => write!(f, "not yet valid (notBefore {not_before})"),
            Self::WeakKey { key } => write!(f, "key not allowed by the policy: {key}"),
            Self::WeakSignatureAlgorithm { algorithm } => {
                write!(
                    f,
                    "signature algorithm not allowed by the policy: {algorithm}"
                )
            }
            Self::MissingExtendedKeyUsage { required } => {
                write!(f, "extended key usage {required} required but not present")
            }
            Self::NotACertificateAuthority => {
                f.write_str("used as an issuer but not a CA (basicConstraints cA / keyCertSign)")
            }
            Self::CertificateAuthorityAsEndEntity => {
                f.write_str("a CA certificate used as an end entity")
            }
            Self::PathLengthExceeded => f.write_str("pathLenConstraint exceeded"),
            Self::ChainTooDeep { max_intermediates } => {
                write!(f, "more than {max_intermediates} intermediate certificates")
            }
            Self::NameConstraintViolated => f.write_str("name constraints violated"),
            Self::RevokedByCrl => f.write_str("revoked (listed in a certificate revocation list)"),
            Self::StatusNotActive { status } => {
                write!(f, "registry status is {status}, only ACTIVE authenticates")
            }
            Self::NotRegistered => f.write_str("not registered (unknown certificate ID)"),
            Self::UnknownIssuer => f.write_str("issuer unknown: no path to a trusted root"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::NameMismatch { expected } => write!(f, "not valid for name {expected}"),
            Self::UnusableCrl { reason } => write!(f, "revocation list unusable: {reason}"),
            Self::PathValidation { reason } => write!(f, "path validation failed: {reason}"),
        }
    }
}
