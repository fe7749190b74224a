//! The status hook: a registry's say on a certificate, keyed by certificate ID.

use std::collections::HashMap;
use std::fmt;
use std::sync::RwLock;

use serde::Serialize;

use crate::info::CertificateId;

/// A device certificate's status in a registry, as AWS IoT names them. Only
/// [`CertificateStatus::Active`] authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum CertificateStatus {
    /// May authenticate.
    Active,
    /// Registered but switched off.
    Inactive,
    /// Revoked by the operator.
    Revoked,
    /// Registered, waiting to be activated (fleet provisioning).
    PendingActivation,
}

impl CertificateStatus {
    /// The AWS IoT spelling: ACTIVE, INACTIVE, REVOKED, PENDING_ACTIVATION.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Revoked => "REVOKED",
            Self::PendingActivation => "PENDING_ACTIVATION",
        }
    }

    /// Parses the AWS IoT spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ACTIVE" => Some(Self::Active),
            "INACTIVE" => Some(Self::Inactive),
            "REVOKED" => Some(Self::Revoked),
            "PENDING_ACTIVATION" => Some(Self::PendingActivation),
            _ => None,
        }
    }
}

impl fmt::Display for CertificateStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the validator asks for a certificate's status after the path is valid.
///
/// `None` means the registry does not know the certificate, which does not authenticate either.
/// Implementations must be cheap: the validator asks on every validation, cached or not, so a
/// status change takes effect on the next handshake.
pub trait StatusSource: fmt::Debug + Send + Sync {
    /// The status of the certificate with this ID, or `None` when it is not registered.
    fn status(&self, id: &CertificateId) -> Option<CertificateStatus>;
}

/// A [`StatusSource`] held in memory: a map from certificate ID to status.
#[derive(Debug, Default)]
pub struct InMemoryStatus {
    entries: RwLock<HashMap<CertificateId, CertificateStatus>>,
}

impl InMemoryStatus {
    /// An empty registry (every certificate is unregistered).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or replaces) a certificate's status.
    pub fn set(&self, id: CertificateId, status: CertificateStatus) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.insert(id, status);
    }

    /// Forgets a certificate.
    pub fn remove(&self, id: &CertificateId) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.remove(id);
    }
}

impl StatusSource for InMemoryStatus {
    fn status(&self, id: &CertificateId) -> Option<CertificateStatus> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.get(id).copied()
    }
}
