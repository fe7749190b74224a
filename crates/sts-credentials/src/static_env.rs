//! The static and environment providers.

use aws_credential_types::provider::{self, future, ProvideCredentials};
use aws_credential_types::Credentials;

use crate::env::Env;
use crate::time::parse_rfc3339;
use crate::Error;

/// Always the same credentials (long-term keys, or a fixed session for tests).
#[derive(Debug, Clone)]
pub struct StaticProvider {
    credentials: Credentials,
}

impl StaticProvider {
    /// Wraps these credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self { credentials }
    }
}

impl ProvideCredentials for StaticProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Ok(self.credentials.clone()))
    }
}

/// `AWS_ACCESS_KEY_ID`.
pub const ENV_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// `AWS_SECRET_ACCESS_KEY`.
pub const ENV_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// `AWS_SESSION_TOKEN`.
pub const ENV_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// `AWS_CREDENTIAL_EXPIRATION` (RFC 3339).
pub const ENV_CREDENTIAL_EXPIRATION: &str = "AWS_CREDENTIAL_EXPIRATION";

/// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN` and
/// optional `AWS_CREDENTIAL_EXPIRATION` (RFC 3339) on every call.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentProvider {
    env: Env,
}

impl EnvironmentProvider {
    /// Reads the process environment.
    pub fn new() -> Self {
        Self {
            env: Env::process(),
        }
    }

    /// Reads the given environment.
    pub fn with_env(env: Env) -> Self {
        Self { env }
    }

    /// The credentials the environment holds now.
    pub fn load(&self) -> Result<Credentials, Error> {
        let access_key_id = self
            .env
            .get(ENV_ACCESS_KEY_ID)
            .ok_or(Error::MissingSetting {
                setting: ENV_ACCESS_KEY_ID.into(),
            })?;
        let secret = zeroize::Zeroizing::new(self.env.get(ENV_SECRET_ACCESS_KEY).ok_or(
            Error::MissingSetting {
                setting: ENV_SECRET_ACCESS_KEY.into(),
            },
        )?);
        let token = self.env.get(ENV_SESSION_TOKEN).map(zeroize::Zeroizing::new);
        let mut builder = Credentials::builder()
            .access_key_id(access_key_id.trim())
            .secret_access_key(secret.trim())
            .provider_name("edgeward-environment");
        if let Some(token) = token {
            builder = builder.session_token(token.trim());
        }
        if let Some(expiration) = self.env.get(ENV_CREDENTIAL_EXPIRATION) {
            let expiry = parse_rfc3339(&expiration).ok_or_else(|| Error::InvalidSetting {
                setting: ENV_CREDENTIAL_EXPIRATION.into(),
                reason: format!("{expiration:?} is not an RFC 3339 timestamp"),
            })?;
            builder = builder.expiry(expiry);
        }
        Ok(builder.build())
    }
}

impl ProvideCredentials for EnvironmentProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(
            self.load().map_err(provider::error::CredentialsError::from),
        )
    }
}
