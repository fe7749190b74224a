//! The crate's one error type, and the error classes the cache keys its policy on.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::error::CredentialsError;

/// Everything that can go wrong in this crate.
///
/// Variants say whose fault it was: the caller's configuration ([`Error::MissingSetting`],
/// [`Error::InvalidSetting`], [`Error::ProfileNotFound`], …), the local environment
/// ([`Error::ReadFile`]), the network ([`Error::Connect`], [`Error::Timeout`], [`Error::Tls`]),
/// or the peer ([`Error::Unauthorized`], [`Error::ServerError`], [`Error::MalformedResponse`],
/// …). Session-token failures are their own group ([`Error::TokenMalformed`] …). Nothing here
/// ever carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- caller misuse / configuration -------------------------------------------------
    /// A required setting (environment variable, profile key, builder field) is absent.
    #[error("missing setting {setting}")]
    MissingSetting {
        /// The variable, key or field name.
        setting: String,
    },
    /// A setting is present but unusable.
    #[error("invalid setting {setting}: {reason}")]
    InvalidSetting {
        /// The variable, key or field name.
        setting: String,
        /// Why it was refused.
        reason: String,
    },
    /// The named profile is not in the shared config or credentials file.
    #[error("profile {profile:?} not found")]
    ProfileNotFound {
        /// The profile name.
        profile: String,
    },
    /// `role_arn` + `source_profile` chains loop or go too deep.
    #[error("profile chain loops or is too deep: {}", chain.join(" -> "))]
    ProfileChain {
        /// The profiles visited, in order.
        chain: Vec<String>,
    },
    /// A plain-HTTP credentials endpoint that is not on the loopback interface.
    #[error("refusing plain HTTP to {uri}: only loopback (and the ECS/EKS agent addresses) may use http")]
    PlainHttpNotLoopback {
        /// The refused URI.
        uri: String,
    },
    /// A TLS policy could not be turned into a client configuration.
    #[error("TLS policy: {source}")]
    TlsPolicy {
        /// The tls-policy error.
        source: edgeward_tls_policy::Error,
    },
    /// The device identity (certificate, key, trust anchors) could not be loaded.
    #[error("device identity: {source}")]
    DeviceIdentity {
        /// The device-identity error.
        source: edgeward_device_identity::Error,
    },
    /// The key ring has no key to seal with.
    #[error("the key ring is empty")]
    EmptyKeyRing,

    // ---- local environment -------------------------------------------------------------
    /// A file (profile, token file, certificate) could not be read.
    #[error("cannot read {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A shared config/credentials file line could not be parsed.
    #[error("{path}:{line}: {reason}")]
    ProfileSyntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// `credential_process` failed to run, exited non-zero, or printed something unusable.
    #[error("credential_process {command:?}: {reason}")]
    CredentialProcess {
        /// The command line (never contains secrets by convention).
        command: String,
        /// What went wrong.
        reason: String,
    },

    // ---- network -----------------------------------------------------------------------
    /// The TCP connection could not be made.
    #[error("cannot connect to {endpoint}: {source}")]
    Connect {
        /// host:port.
        endpoint: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A network stage took longer than its limit.
    #[error("{stage} to {endpoint} timed out after {after:?}")]
    Timeout {
        /// host:port.
        endpoint: String,
        /// `connect`, `tls handshake` or `response`.
        stage: &'static str,
        /// The limit that was hit.
        after: Duration,
    },
    /// The TLS handshake failed (including a server that breaks the TLS policy).
    #[error("TLS handshake with {endpoint} failed: {source}")]
    Tls {
        /// host:port.
        endpoint: String,
        /// The handshake error (wraps the rustls error).
        source: std::io::Error,
    },
    /// The HTTP exchange failed below the status line (connection reset, bad framing).
    #[error("HTTP exchange with {endpoint} failed: {source}")]
    Http {
        /// host:port.
        endpoint: String,
        /// The hyper error.
        source: hyper::Error,
    },

    // ---- peer --------------------------------------------------------------------------
    /// 401 or 403: the peer refused our identity.
    #[error("{endpoint} refused the request with HTTP {status}: {message}")]
    Unauthorized {
        /// host:port.
        endpoint: String,
        /// The HTTP status code.
        status: u16,
        /// The peer's message, truncated.
        message: String,
    },
    /// 404: the role alias, path or resource does not exist.
    #[error("{endpoint} answered HTTP 404: {message}")]
    NotFound {
        /// host:port.
        endpoint: String,
        /// The peer's message, truncated.
        message: String,
    },
    /// 429: the peer throttles us.
    #[error("{endpoint} throttled the request (HTTP 429): {message}")]
    Throttled {
        /// host:port.
        endpoint: String,
        /// The peer's message, truncated.
        message: String,
    },
    /// 5xx: the peer failed.
    #[error("{endpoint} failed with HTTP {status}: {message}")]
    ServerError {
        /// host:port.
        endpoint: String,
        /// The HTTP status code.
        status: u16,
        /// The peer's message, truncated.
        message: String,
    },
    /// Any other non-200 status.
    #[error("{endpoint} answered unexpected HTTP {status}: {message}")]
    UnexpectedStatus {
        /// host:port.
        endpoint: String,
        /// The HTTP status code.
        status: u16,
        /// The peer's message, truncated.
        message: String,
    },
    /// The response body exceeded the configured limit.
    #[error("response from {endpoint} exceeds {limit} bytes")]
    ResponseTooLarge {
        /// host:port.
        endpoint: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The response body is not the expected credentials document.
    #[error("malformed credentials response: {reason}")]
    MalformedResponse {
        /// What is wrong (never includes secret values).
        reason: String,
    },
    /// A source handed out credentials that had already expired.
    #[error("the source returned credentials that expired at {}", crate::time::rfc3339(*expired_at))]
    AlreadyExpired {
        /// Their expiry.
        expired_at: SystemTime,
    },
    /// STS (through aws-sdk-sts) refused or failed the call.
    #[error("STS {operation} failed: {message}")]
    Sts {
        /// The operation, e.g. `AssumeRole`.
        operation: &'static str,
        /// The SDK's description (error code and message).
        message: String,
        /// The error's class, from the SDK's error kind and HTTP status.
        class: ErrorClass,
    },
    /// Every provider of a chain failed; one entry per provider, in order.
    #[error(
        "no provider in the chain produced credentials: {}",
        format_failures(failures)
    )]
    ChainExhausted {
        /// `(provider name, reason)` for each provider tried.
        failures: Vec<(String, String)>,
    },

    // ---- session tokens ----------------------------------------------------------------
    /// The session token is not one of ours: bad encoding, version or length.
    #[error("malformed session token: {reason}")]
    TokenMalformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The token names a key the key ring does not hold (retired or foreign).
    #[error("session token sealed with unknown key {key_id:?}")]
    TokenUnknownKey {
        /// The key ID from the token header.
        key_id: String,
    },
    /// Authentication failed: the token was altered or sealed with another key of that ID.
    #[error("session token failed authentication (tampered or forged)")]
    TokenTampered,
    /// The token is authentic but its credentials have expired.
    #[error("session token expired at {}", crate::time::rfc3339(*expired_at))]
    TokenExpired {
        /// The expiry sealed in the token.
        expired_at: SystemTime,
    },
}

fn format_failures(failures: &[(String, String)]) -> String {
    failures
        .iter()
        .map(|(name, reason)| format!("{name}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// How the cache treats a failed refresh: how long the error is served before trying again.
///
/// Client errors (the request is wrong: 4xx, bad configuration) will not fix themselves soon;
/// server errors (5xx, throttling, garbage) often do; connection errors (refused, timed out,
/// TLS) mean the network or the peer is down, which on an edge device lasts longest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The request or configuration is wrong (4xx except 429, misconfiguration).
    Client,
    /// The peer failed or answered nonsense (5xx, 429, malformed response).
    Server,
    /// The peer could not be reached (connect, TLS, timeout).
    Connection,
}

impl Error {
    /// The class of this error, for retry and error-caching policy.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::MissingSetting { .. }
            | Self::InvalidSetting { .. }
            | Self::ProfileNotFound { .. }
            | Self::ProfileChain { .. }
            | Self::PlainHttpNotLoopback { .. }
            | Self::EmptyKeyRing
            | Self::TlsPolicy { .. }
            | Self::DeviceIdentity { .. }
            | Self::ReadFile { .. }
            | Self::ProfileSyntax { .. }
            | Self::CredentialProcess { .. }
            | Self::Unauthorized { .. }
            | Self::NotFound { .. }
            | Self::UnexpectedStatus { .. }
            | Self::TokenMalformed { .. }
            | Self::TokenUnknownKey { .. }
            | Self::TokenTampered
            | Self::TokenExpired { .. } => ErrorClass::Client,
            Self::Throttled { .. }
            | Self::ServerError { .. }
            | Self::ResponseTooLarge { .. }
            | Self::MalformedResponse { .. }
            | Self::AlreadyExpired { .. }
            | Self::Http { .. } => ErrorClass::Server,
            Self::Connect { .. } | Self::Timeout { .. } | Self::Tls { .. } => {
                ErrorClass::Connection
            }
            Self::Sts { class, .. } => *class,
            Self::ChainExhausted { .. } => ErrorClass::Client,
        }
    }

    /// Wraps this error for the `ProvideCredentials` trait, choosing the SDK's variant:
    /// configuration problems become `InvalidConfiguration`, missing sources `CredentialsNotLoaded`
    /// (so SDK chains move on), everything else `ProviderError`.
    pub fn into_credentials_error(self) -> CredentialsError {
        match self {
            Self::MissingSetting { .. } | Self::ProfileNotFound { .. } => {
                CredentialsError::not_loaded(self)
            }
            Self::InvalidSetting { .. }
            | Self::ProfileChain { .. }
            | Self::PlainHttpNotLoopback { .. }
            | Self::TlsPolicy { .. }
            | Self::DeviceIdentity { .. }
            | Self::ProfileSyntax { .. } => CredentialsError::invalid_configuration(self),
            other => CredentialsError::provider_error(other),
        }
    }
}

impl From<Error> for CredentialsError {
    fn from(error: Error) -> Self {
        error.into_credentials_error()
    }
}

/// The class of any `CredentialsError`: ours carry an [`Error`] whose class is used; foreign
/// ones are classed by variant (timeouts are connection errors, configuration problems client
/// errors, the rest server errors).
pub fn classify(error: &CredentialsError) -> ErrorClass {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(inner) = source {
        if let Some(ours) = inner.downcast_ref::<Error>() {
            return ours.class();
        }
        if let Some(shared) = inner.downcast_ref::<crate::cache::SharedRefreshError>() {
            return shared.class();
        }
        source = inner.source();
    }
    match error {
        CredentialsError::ProviderTimedOut(_) => ErrorClass::Connection,
        CredentialsError::CredentialsNotLoaded(_) | CredentialsError::InvalidConfiguration(_) => {
            ErrorClass::Client
        }
        _ => ErrorClass::Server,
    }
}
