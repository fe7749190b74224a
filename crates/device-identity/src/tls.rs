//! mTLS: the device's client-certificate resolver and the server's client-certificate verifier.

use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, OtherError, SignatureScheme,
};
use rustls_pki_types::{CertificateDer, UnixTime};

use crate::error::Error;
use crate::info::CertificateInfo;
use crate::load::DeviceIdentity;
use crate::policy::Validator;

/// Device side: always presents the loaded identity when the server asks for a certificate.
#[derive(Debug, Clone)]
pub struct DeviceCertResolver {
    key: Arc<CertifiedKey>,
}

impl DeviceCertResolver {
    /// A resolver presenting `identity`.
    pub fn new(identity: &DeviceIdentity) -> Self {
        Self {
            key: identity.certified_key(),
        }
    }
}

impl ResolvesClientCert for DeviceCertResolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        // Present the identity only if the server can verify its key's signatures; otherwise the
        // handshake would fail later with a less helpful error.
        if self.key.key.choose_scheme(sigschemes).is_some() {
            Some(Arc::clone(&self.key))
        } else {
            tracing::warn!(offered = ?sigschemes, "server accepts no signature scheme our device key can make");
            None
        }
    }

    fn has_certs(&self) -> bool {
        true
    }
}

impl DeviceIdentity {
    /// A rustls client-certificate resolver presenting this identity.
    pub fn client_cert_resolver(&self) -> Arc<DeviceCertResolver> {
        Arc::new(DeviceCertResolver::new(self))
    }
}

/// Whether a client must present a certificate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuthMode {
    /// The handshake fails without a valid client certificate (default).
    #[default]
    Required,
    /// A client without a certificate is let through (the application decides later); one that
    /// presents a certificate must present a valid one.
    Optional,
}

/// Server side: a rustls [`ClientCertVerifier`] that applies path validation, the
/// [`DevicePolicy`](crate::DevicePolicy), CRLs and the status hook of a [`Validator`].
///
/// A refusal reaches rustls as `CertificateError::Other` wrapping this crate's [`Error`], so the
/// server can log or report the exact rule (see [`refusal_reason`]); the client sees a TLS alert.
#[derive(Debug)]
pub struct DeviceCertVerifier {
    validator: Arc<Validator>,
    mode: ClientAuthMode,
    hints: Vec<DistinguishedName>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl DeviceCertVerifier {
    /// A verifier using `validator`, requiring a client certificate.
    pub fn new(validator: Arc<Validator>) -> Self {
        Self::with_mode(validator, ClientAuthMode::Required)
    }

    /// A verifier using `validator` with the given mode.
    pub fn with_mode(validator: Arc<Validator>, mode: ClientAuthMode) -> Self {
        let hints = validator
            .root_subjects()
            .map(|s| DistinguishedName::from(s.to_vec()))
            .collect();
        let algorithms =
            rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        Self {
            validator,
            mode,
            hints,
            algorithms,
        }
    }

    /// The validator (to update CRLs, invalidate cache entries).
    pub fn validator(&self) -> &Arc<Validator> {
        &self.validator
    }
}

impl ClientCertVerifier for DeviceCertVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mode == ClientAuthMode::Required
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        match self.validator.validate(end_entity, intermediates, now) {
            Ok(identity) => {
                tracing::debug!(certificate_id = %identity.certificate_id(), thing_name = ?identity.thing_name(), "client certificate accepted");
                Ok(ClientCertVerified::assertion())
            }
            Err(error) => {
                tracing::info!(%error, rule = error.rule().map(|r| r.code()), "client certificate refused");
                Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                    OtherError(Arc::new(error)),
                )))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// This crate's refusal inside a rustls error, if that is what the error is.
pub fn refusal_reason(error: &rustls::Error) -> Option<&Error> {
    match error {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) => {
            inner.downcast_ref::<Error>()
        }
        _ => None,
    }
}

/// The device's certificate info from an established connection (server side: the client's
/// certificate, which the [`DeviceCertVerifier`] validated during the handshake). `None` when
/// the peer presented no certificate.
pub fn peer_certificate_info(
    connection: &rustls::CommonState,
) -> Option<Result<CertificateInfo, Error>> {
    let leaf = connection.peer_certificates()?.first()?;
    Some(CertificateInfo::from_der(leaf))
}
