//! Temporary AWS credentials for edge devices and the gateways they call: get them, keep them
//! fresh without ever handing out an expired one, and (server side) mint them.
//!
//! # What is here
//!
//! - **Providers**, each an [`aws_credential_types::provider::ProvideCredentials`], so they plug
//!   into aws-config and every aws-sdk-rust client unchanged: [`StaticProvider`],
//!   [`EnvironmentProvider`], [`ProfileProvider`] (shared config/credentials files, `role_arn` +
//!   `source_profile` chains, `credential_process`), [`AssumeRoleProvider`] (STS AssumeRole via
//!   aws-sdk-sts), [`IotCredentialsProvider`] (the AWS IoT X.509 credentials provider over
//!   mutual TLS), [`ContainerProvider`] (the container-credentials endpoint) and
//!   [`ChainProvider`].
//! - **The cache**, [`CachingProvider`]: refreshes early (default 5 minutes before expiry, with
//!   jitter) in the background, single flight, keeps serving valid credentials while refreshes
//!   fail, backs off with jitter, caches errors by [`ErrorClass`], and never returns expired
//!   credentials. Clock, sleep and randomness are injected.
//! - **Minting**, [`KeyRing`]: issues `ASIA…` access keys with a session token that seals
//!   (AES-256-GCM) the secret, principal, session name and expiry, so any holder of the key ring
//!   verifies a token without a lookup.
//!
//! # Non-goals
//!
//! No IMDS, SSO or web-identity providers (aws-config has them; they compose with ours through
//! the trait). No HTTP connection pooling (credentials endpoints are called once an hour). No
//! second TLS stack: HTTPS is rustls with the aws-lc-rs provider.
//!
//! # Example: mint and open a session token
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use edgeward_sts_credentials::{KeyRing, SealingKey, MintRequest};
//!
//! let ring = KeyRing::new(SealingKey::new("k1", [7u8; 32])?);
//! let now = SystemTime::now();
//! let minted = ring.mint(
//!     &MintRequest::new("arn:aws:iam::123456789012:role/device", "thing-42", Duration::from_secs(3600)),
//!     now,
//!     &aws_lc_rs::rand::SystemRandom::new(),
//! )?;
//! assert!(minted.access_key_id().starts_with("ASIA"));
//! let claims = ring.open(minted.session_token(), now)?;
//! assert_eq!(claims.principal_arn(), "arn:aws:iam::123456789012:role/device");
//! assert_eq!(claims.secret_access_key(), minted.secret_access_key());
//! # Ok::<(), edgeward_sts_credentials::Error>(())
//! ```
#![deny(missing_docs)]

mod assume_role;
mod cache;
mod chain;
mod container;
mod env;
mod error;
mod http;
mod iot;
mod json;
mod mint;
mod profile;
mod sdk_http;
mod static_env;
mod time;

pub use crate::assume_role::AssumeRoleProvider;
pub use crate::cache::{
    Backoff, BackoffJitter, CacheSettings, CacheStatus, CachingProvider, CachingProviderBuilder,
    ErrorTtl, SharedRefreshError,
};
pub use crate::chain::ChainProvider;
pub use crate::container::{
    ContainerProvider, ENV_AUTHORIZATION_TOKEN, ENV_AUTHORIZATION_TOKEN_FILE, ENV_FULL_URI,
    ENV_RELATIVE_URI,
};
pub use crate::env::Env;
pub use crate::error::{classify, Error, ErrorClass};
pub use crate::http::HttpLimits;
pub use crate::iot::{IotCredentialsProvider, THING_NAME_HEADER};
pub use crate::json::{parse_container_credentials, parse_iot_credentials};
pub use crate::mint::{
    KeyRing, MintRequest, MintedCredentials, SealingKey, SessionClaims, MAX_TOKEN_LEN,
};
pub use crate::profile::{
    parse_process_output, parse_profile_file, CredentialProcessProvider, Profile, ProfileProvider,
};
pub use crate::static_env::{
    EnvironmentProvider, StaticProvider, ENV_ACCESS_KEY_ID, ENV_CREDENTIAL_EXPIRATION,
    ENV_SECRET_ACCESS_KEY, ENV_SESSION_TOKEN,
};
pub use crate::time::{
    parse_rfc3339, rfc3339, FixedRandomness, Randomness, SharedRandomness, ThreadRandomness,
};
