//! X.509 device identity for edge fleets: how a device proves who it is, and how a server
//! decides whether to believe it.
//!
//! - **Load and inspect**: certificate chains and private keys from PEM or DER (PKCS#8, SEC1,
//!   PKCS#1) with [`DeviceIdentity::load`], which checks that the key matches the certificate and
//!   refuses a key file readable by group or others. [`CertificateInfo`] is everything a
//!   certificate says, including its [`CertificateId`] (lowercase hex SHA-256 of the DER, as AWS
//!   IoT uses) and the thing name (the common name).
//! - **Validate**: a [`Validator`] builds the path with rustls-webpki and applies a
//!   [`DevicePolicy`] on top of it: allowed keys (RSA ≥ 2048, P-256, P-384, Ed25519), no SHA-1 or
//!   MD5 signature anywhere in the path, every certificate (the root too) within its validity,
//!   the required extended key usage, CA flags and path lengths, a maximum depth, CRLs, and then
//!   a [`StatusSource`] (ACTIVE / INACTIVE / REVOKED / PENDING_ACTIVATION, keyed by certificate
//!   ID). Every refusal is [`Error::Rejected`] naming the certificate and the [`Rule`] it broke.
//!   An optional bounded cache skips revalidating chains already accepted.
//! - **mTLS**: [`DeviceCertResolver`] presents a device identity in a rustls client;
//!   [`DeviceCertVerifier`] is a rustls `ClientCertVerifier` backed by a [`Validator`];
//!   [`peer_certificate_info`] reads the device's identity from an established connection.
//! - **A small PKI** on rcgen: [`CertificateAuthority`] creates roots (ECDSA P-256 by default,
//!   RSA-2048 on request) and issues device and server certificates, signs CSRs made on devices
//!   with [`create_csr`], and issues CRLs; [`RenewalPolicy`] says when to renew.
//!
//! Non-goals: OCSP, certificate transparency, policy OIDs, fetching CRLs over the network, and
//! anything a registry does (storing certificates, status changes): the registry plugs in through
//! [`StatusSource`]. The clock is always an argument, so tests control time.
//!
//! ```
//! use std::sync::Arc;
//! use edgeward_device_identity::{
//!     CaSettings, CertificateAuthority, CertificateStatus, DevicePolicy, DeviceSettings, InMemoryStatus,
//!     Rule, Validator,
//! };
//! use rustls_pki_types::UnixTime;
//!
//! # fn main() -> Result<(), edgeward_device_identity::Error> {
//! let now = time::OffsetDateTime::now_utc();
//! let ca = CertificateAuthority::create_root(&CaSettings::new("Fleet Root"), now)?;
//! let device = ca.issue_device(&DeviceSettings::new("thermostat-42"), now)?;
//!
//! let registry = Arc::new(InMemoryStatus::new());
//! let validator = Validator::new(&[ca.certificate().clone()], DevicePolicy::device())?
//!     .with_status_source(registry.clone());
//! let at = UnixTime::now();
//!
//! // Not registered yet: refused, and the error says why.
//! let refused = validator.validate(&device.certificate, &[], at).unwrap_err();
//! assert_eq!(refused.rule(), Some(&Rule::NotRegistered));
//!
//! let identity = edgeward_device_identity::CertificateInfo::from_der(&device.certificate)?;
//! registry.set(identity.certificate_id.clone(), CertificateStatus::Active);
//! let accepted = validator.validate(&device.certificate, &[], at)?;
//! assert_eq!(accepted.thing_name(), Some("thermostat-42"));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod error;
mod info;
mod load;
mod pki;
mod policy;
mod status;
mod tls;

pub use error::{CertificateRef, Error, Rule};
pub use info::{
    BasicConstraints, CertificateId, CertificateInfo, Digest, NamedCurve, PublicKeyKind,
    SignatureAlgorithm, SubjectAltName,
};
pub use load::{
    load_certificates, load_crls, load_private_key, parse_certificates, parse_crls,
    parse_private_key, DeviceIdentity, KeyFilePermissions, LoadOptions, MAX_FILE_SIZE,
};
pub use pki::{
    certificate_pem, create_csr, crl_pem, csr_common_name, csr_pem, parse_csr_input,
    write_private_key_file, write_public_file, CaSettings, CertificateAuthority, CrlSettings,
    DeviceSettings, IssuedCertificate, KeyType, PrivateKey, Renewal, RenewalPolicy, ServerSettings,
};
pub use policy::{
    AllowedKeys, CacheSettings, CrlExpiry, DevicePolicy, ExtendedKeyUsageRule, Purpose,
    ValidatedIdentity, Validator,
};
pub use status::{CertificateStatus, InMemoryStatus, StatusSource};
pub use tls::{
    peer_certificate_info, refusal_reason, ClientAuthMode, DeviceCertResolver, DeviceCertVerifier,
};
