//! The container-credentials provider: `GET` a local endpoint
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI` or `http://169.254.170.2` + `_RELATIVE_URI`) with an
//! optional `Authorization` token (`AWS_CONTAINER_AUTHORIZATION_TOKEN` or the file named by
//! `_TOKEN_FILE`, re-read on every call because it rotates). Edgeward's own agent serves this
//! protocol on loopback.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;

use aws_credential_types::provider::{self, future, ProvideCredentials};
use aws_credential_types::Credentials;
use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION};
use http::{Method, Request, Uri};
use http_body_util::Full;
use rustls::ClientConfig;
use zeroize::Zeroizing;

use crate::env::Env;
use crate::http::{bare_host, endpoint_of, is_loopback, send, status_error, HttpLimits};
use crate::json::parse_container_credentials;
use crate::Error;

/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
pub const ENV_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
pub const ENV_RELATIVE_URI: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
pub const ENV_AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`.
pub const ENV_AUTHORIZATION_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

const ECS_HOST: &str = "http://169.254.170.2";

enum AuthToken {
    Value(Zeroizing<String>),
    File(PathBuf),
}

/// Fetches credentials from a container-credentials endpoint.
///
/// Plain `http` is accepted only for loopback addresses and the fixed ECS/EKS agent addresses
/// (169.254.170.2, 169.254.170.23, fd00:ec2::23); anything else must be `https`, for which a
/// rustls client configuration must be supplied ([`ContainerProvider::with_tls`]).
pub struct ContainerProvider {
    uri: Uri,
    token: Option<AuthToken>,
    limits: HttpLimits,
    tls: Option<Arc<ClientConfig>>,
}

impl fmt::Debug for ContainerProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContainerProvider")
            .field("uri", &self.uri)
            .field(
                "token",
                &match &self.token {
                    None => "none",
                    Some(AuthToken::Value(_)) => "** redacted **",
                    Some(AuthToken::File(_)) => "from file",
                },
            )
            .field("limits", &self.limits)
            .finish()
    }
}

fn allowed_plain_http(uri: &Uri) -> bool {
    if is_loopback(uri) {
        return true;
    }
    let Some(host) = bare_host(uri) else {
        return false;
    };
    match host.parse::<IpAddr>() {
        Ok(ip) => {
            ip == IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2))
                || ip == IpAddr::V4(Ipv4Addr::new(169, 254, 170, 23))
                || ip == IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x23))
        }
        Err(_) => false,
    }
}

impl ContainerProvider {
    /// A provider for this full URI, refusing plain HTTP to anything but loopback.
    pub fn new(uri: &str) -> Result<Self, Error> {
        let parsed: Uri = uri.parse().map_err(|e| Error::InvalidSetting {
            setting: ENV_FULL_URI.into(),
            reason: format!("{uri:?} is not a URI: {e}"),
        })?;
        endpoint_of(&parsed)?;
        match parsed.scheme_str() {
            Some("https") => {}
            Some("http") if allowed_plain_http(&parsed) => {}
            Some("http") => return Err(Error::PlainHttpNotLoopback { uri: uri.into() }),
            _ => {
                return Err(Error::InvalidSetting {
                    setting: ENV_FULL_URI.into(),
                    reason: format!("{uri:?} is neither http nor https"),
                })
            }
        }
        Ok(Self {
            uri: parsed,
            token: None,
            limits: HttpLimits::default(),
            tls: None,
        })
    }

    /// Reads `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (preferred, as the SDKs do) or
    /// `_FULL_URI`, and `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (preferred) or `_TOKEN`.
    pub fn from_env(env: &Env) -> Result<Self, Error> {
        let mut provider = if let Some(relative) = env.get(ENV_RELATIVE_URI) {
            if !relative.starts_with('/') {
                return Err(Error::InvalidSetting {
                    setting: ENV_RELATIVE_URI.into(),
                    reason: "must start with '/'".into(),
                });
            }
            Self::new(&format!("{ECS_HOST}{relative}"))?
        } else if let Some(full) = env.get(ENV_FULL_URI) {
            Self::new(&full)?
        } else {
            return Err(Error::MissingSetting {
                setting: format!("{ENV_RELATIVE_URI} or {ENV_FULL_URI}"),
            });
        };
        if let Some(path) = env.get(ENV_AUTHORIZATION_TOKEN_FILE) {
            provider.token = Some(AuthToken::File(path.into()));
        } else if let Some(token) = env.get(ENV_AUTHORIZATION_TOKEN) {
            provider.token = Some(AuthToken::Value(Zeroizing::new(token)));
        }
        Ok(provider)
    }

    /// Sends this value as the `Authorization` header.
    pub fn with_authorization_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(AuthToken::Value(Zeroizing::new(token.into())));
        self
    }

    /// Reads the `Authorization` header value from this file on every request.
    pub fn with_authorization_token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.token = Some(AuthToken::File(path.into()));
        self
    }

    /// Timeouts and the response size limit.
    pub fn with_limits(mut self, limits: HttpLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The TLS configuration for an `https` endpoint (e.g. from `edgeward-tls-policy`).
    pub fn with_tls(mut self, config: Arc<ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// The endpoint.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Fetches credentials once (no caching: wrap in [`crate::CachingProvider`]).
    pub async fn fetch(&self) -> Result<Credentials, Error> {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(self.uri.clone())
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| Error::InvalidSetting {
                setting: ENV_FULL_URI.into(),
                reason: e.to_string(),
            })?;
        if let Some(token) = &self.token {
            let value = match token {
                AuthToken::Value(v) => Zeroizing::new(v.as_str().to_owned()),
                AuthToken::File(path) => Zeroizing::new(
                    tokio::fs::read_to_string(path)
                        .await
                        .map_err(|source| Error::ReadFile {
                            path: path.clone(),
                            source,
                        })?
                        .trim()
                        .to_owned(),
                ),
            };
            let mut header =
                HeaderValue::from_str(value.as_str()).map_err(|_| Error::InvalidSetting {
                    setting: ENV_AUTHORIZATION_TOKEN.into(),
                    reason: "not a valid HTTP header value".into(),
                })?;
            header.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, header);
        }
        let response = send(request, self.tls.as_ref(), self.limits).await?;
        let (host, port) = endpoint_of(&self.uri)?;
        if response.status() != http::StatusCode::OK {
            return Err(status_error(
                format!("{host}:{port}"),
                response.status().as_u16(),
                response.body(),
            ));
        }
        parse_container_credentials(response.body())
    }
}

impl ProvideCredentials for ContainerProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.fetch()
                .await
                .map_err(provider::error::CredentialsError::from)
        })
    }
}
