//! Loading certificate chains, private keys and CRLs from PEM or DER, and the device identity.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rustls::sign::CertifiedKey;
use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs1KeyDer,
    PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::info::{parse_certificate, CertificateId, CertificateInfo};

/// The largest certificate, chain, CRL or key file we read (16 MiB).
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// What to do with a private key file that group or others can read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFilePermissions {
    /// Refuse it (default): a device key readable by other users is a leaked key.
    #[default]
    OwnerOnly,
    /// Accept it anyway (containers that mount secrets 0644, tests).
    AllowGroupOrOtherReadable,
}

/// Settings for loading a key file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// The permission check for private key files.
    pub key_file_permissions: KeyFilePermissions,
}

impl LoadOptions {
    /// The defaults, with a different key file permission check.
    pub fn with_key_file_permissions(mut self, permissions: KeyFilePermissions) -> Self {
        self.key_file_permissions = permissions;
        self
    }
}

fn read_bounded(path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(Error::Io {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "file larger than 16 MiB"),
        });
    }
    Ok(bytes)
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Reads a certificate chain (end entity first) from a PEM or DER file.
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bytes = read_bounded(path)?;
    parse_certificates(&bytes, &path.display().to_string())
}

/// Parses certificates from PEM (every CERTIFICATE block, in order) or from one DER certificate.
/// `source_name` names the input in errors.
pub fn parse_certificates(
    bytes: &[u8],
    source_name: &str,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs: Vec<CertificateDer<'static>> = if looks_like_pem(bytes) {
        rustls_pemfile::certs(&mut &bytes[..])
            .collect::<Result<_, _>>()
            .map_err(|e| Error::MalformedPem {
                source_name: source_name.to_owned(),
                reason: e.to_string(),
            })?
    } else if bytes.is_empty() {
        Vec::new()
    } else {
        vec![CertificateDer::from(bytes.to_vec())]
    };
    if certs.is_empty() {
        return Err(Error::NoCertificate {
            source_name: source_name.to_owned(),
        });
    }
    for (index, cert) in certs.iter().enumerate() {
        parse_certificate(cert, index)?;
    }
    Ok(certs)
}

/// Reads CRLs from a PEM (every X509 CRL block) or DER file.
pub fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, Error> {
    let bytes = read_bounded(path)?;
    parse_crls(&bytes)
}

/// Parses CRLs from PEM (every X509 CRL block) or one DER CRL; each must parse.
pub fn parse_crls(bytes: &[u8]) -> Result<Vec<CertificateRevocationListDer<'static>>, Error> {
    let crls: Vec<CertificateRevocationListDer<'static>> = if looks_like_pem(bytes) {
        rustls_pemfile::crls(&mut &bytes[..])
            .collect::<Result<_, _>>()
            .map_err(|e| Error::MalformedCrl {
                reason: e.to_string(),
            })?
    } else {
        vec![CertificateRevocationListDer::from(bytes.to_vec())]
    };
    if crls.is_empty() {
        return Err(Error::MalformedCrl {
            reason: "no X509 CRL block".into(),
        });
    }
    for crl in &crls {
        webpki::OwnedCertRevocationList::from_der(crl).map_err(|e| Error::MalformedCrl {
            reason: format!("{e:?}"),
        })?;
    }
    Ok(crls)
}

/// Reads a private key (PKCS#8, SEC1 or PKCS#1; PEM or DER), refusing a file that group or others
/// can read unless `options` allow it. The key bytes are zeroized when the result is dropped.
pub fn load_private_key(
    path: &Path,
    options: &LoadOptions,
) -> Result<Zeroizing<PrivateKeyDer<'static>>, Error> {
    check_key_file_permissions(path, options.key_file_permissions)?;
    let bytes = read_bounded(path)?;
    parse_private_key(&bytes, &path.display().to_string())
}

#[cfg(unix)]
fn check_key_file_permissions(path: &Path, permissions: KeyFilePermissions) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    if permissions == KeyFilePermissions::AllowGroupOrOtherReadable {
        return Ok(());
    }
    let metadata = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::KeyFilePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_key_file_permissions(_path: &Path, _permissions: KeyFilePermissions) -> Result<(), Error> {
    Ok(())
}

/// Parses a private key from PEM (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY) or DER (tried
/// as PKCS#8, then SEC1, then PKCS#1). The key bytes are zeroized when the result is dropped.
pub fn parse_private_key(
    bytes: &[u8],
    source_name: &str,
) -> Result<Zeroizing<PrivateKeyDer<'static>>, Error> {
    let no_key = || Error::NoPrivateKey {
        source_name: source_name.to_owned(),
    };
    if looks_like_pem(bytes) {
        return rustls_pemfile::private_key(&mut &bytes[..])
            .map_err(|e| Error::MalformedPem {
                source_name: source_name.to_owned(),
                reason: e.to_string(),
            })?
            .map(Zeroizing::new)
            .ok_or_else(no_key);
    }
    // Candidates borrow the input, so a rejected guess leaves no copy of the key behind; only
    // the one that loads is copied, into a zeroizing owner.
    let candidates: [PrivateKeyDer<'_>; 3] = [
        PrivatePkcs8KeyDer::from(bytes).into(),
        PrivateSec1KeyDer::from(bytes).into(),
        PrivatePkcs1KeyDer::from(bytes).into(),
    ];
    for candidate in candidates {
        if rustls::crypto::aws_lc_rs::sign::any_supported_type(&candidate).is_ok() {
            return Ok(Zeroizing::new(candidate.clone_key()));
        }
    }
    Err(no_key())
}

/// A device's identity: its certificate chain and the matching private key, ready for mTLS.
///
/// The private key lives only inside the rustls signing key; `Debug` never shows it.
#[derive(Clone)]
pub struct DeviceIdentity {
    certified: Arc<CertifiedKey>,
    info: CertificateInfo,
}

impl fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("certificate_id", &self.info.certificate_id)
            .field("subject", &self.info.subject)
            .field("chain_len", &self.certified.cert.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl DeviceIdentity {
    /// Loads a chain (end entity first) and its private key from files, checking the key file's
    /// permissions and that the key matches the certificate.
    pub fn load(cert_path: &Path, key_path: &Path, options: &LoadOptions) -> Result<Self, Error> {
        let chain = load_certificates(cert_path)?;
        let key = load_private_key(key_path, options)?;
        Self::from_chain_and_key(chain, &key)
    }

    /// Builds an identity from PEM text (certificate chain, private key).
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Self, Error> {
        let chain = parse_certificates(chain_pem.as_bytes(), "certificate PEM")?;
        let key = parse_private_key(key_pem.as_bytes(), "key PEM")?;
        Self::from_chain_and_key(chain, &key)
    }

    /// Builds an identity from a parsed chain (end entity first) and key, checking they match.
    pub fn from_parts(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, Error> {
        // Zeroized on every return path, success or refusal.
        let key = Zeroizing::new(key);
        Self::from_chain_and_key(chain, &key)
    }

    fn from_chain_and_key(
        chain: Vec<CertificateDer<'static>>,
        key: &PrivateKeyDer<'_>,
    ) -> Result<Self, Error> {
        let Some(leaf) = chain.first() else {
            return Err(Error::NoCertificate {
                source_name: "chain".into(),
            });
        };
        let info = CertificateInfo::from_der(leaf)?;
        // `any_supported_type` borrows the key: handing rustls an owned copy would drop it
        // without zeroizing.
        let signing_key =
            rustls::crypto::aws_lc_rs::sign::any_supported_type(key).map_err(|e| {
                Error::UnsupportedKey {
                    reason: e.to_string(),
                }
            })?;
        let certified = CertifiedKey::new(chain, signing_key);
        if certified.keys_match().is_err() {
            return Err(Error::KeyMismatch {
                certificate: info.reference(),
            });
        }
        Ok(Self {
            certified: Arc::new(certified),
            info,
        })
    }

    /// What the end-entity certificate says.
    pub fn info(&self) -> &CertificateInfo {
        &self.info
    }

    /// The certificate ID of the end-entity certificate.
    pub fn certificate_id(&self) -> &CertificateId {
        &self.info.certificate_id
    }

    /// The thing name: the end-entity certificate's common name.
    pub fn thing_name(&self) -> Option<&str> {
        self.info.thing_name()
    }

    /// The chain, end entity first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.certified.cert
    }

    /// The chain and signing key as rustls uses them.
    pub fn certified_key(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.certified)
    }
}
