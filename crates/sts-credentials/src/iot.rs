//! The AWS IoT credentials provider (X.509): `GET https://ENDPOINT/role-aliases/ALIAS/credentials`
//! over mutual TLS, optional `x-amzn-iot-thingname`, answering
//! `{"credentials":{"accessKeyId","secretAccessKey","sessionToken","expiration"}}`.
//!
//! The core takes a ready rustls `ClientConfig` carrying the client certificate and the trust
//! anchors, so the TLS policy (versions, ECDHE AEAD suites) is whatever that config enforces.

use std::fmt;
use std::sync::Arc;

use aws_credential_types::provider::{self, future, ProvideCredentials};
use aws_credential_types::Credentials;
use bytes::Bytes;
use edgeward_device_identity::DeviceIdentity;
use edgeward_tls_policy::{client_config, ClientIdentity, TlsPolicy};
use http::{Method, Request, Uri};
use http_body_util::Full;
use percent_encoding_lite::encode_path_segment;
use rustls::{ClientConfig, RootCertStore};

use crate::http::{endpoint_of, send, status_error, HttpLimits};
use crate::json::parse_iot_credentials;
use crate::Error;

/// The thing-name header.
pub const THING_NAME_HEADER: &str = "x-amzn-iot-thingname";

/// Exchanges a device certificate for temporary credentials with the AWS IoT credentials
/// provider (or an edgeward gateway speaking the same protocol).
pub struct IotCredentialsProvider {
    uri: Uri,
    thing_name: Option<String>,
    tls: Arc<ClientConfig>,
    limits: HttpLimits,
}

impl fmt::Debug for IotCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IotCredentialsProvider")
            .field("uri", &self.uri)
            .field("thing_name", &self.thing_name)
            .field("limits", &self.limits)
            .finish()
    }
}

mod percent_encoding_lite {
    /// Percent-encodes everything but RFC 3986 unreserved characters.
    pub(super) fn encode_path_segment(segment: &str) -> String {
        let mut out = String::with_capacity(segment.len());
        for b in segment.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
}

impl IotCredentialsProvider {
    /// A provider for `endpoint` (a host, `host:port`, or an `https://` URL) and `role_alias`,
    /// using `tls` (which must hold the device's client certificate) for the mutual-TLS
    /// connection. The server name (SNI and certificate check) is the endpoint's host.
    pub fn new(endpoint: &str, role_alias: &str, tls: Arc<ClientConfig>) -> Result<Self, Error> {
        if role_alias.is_empty() || role_alias.len() > 128 {
            return Err(Error::InvalidSetting {
                setting: "role alias".into(),
                reason: "must be 1 to 128 characters".into(),
            });
        }
        let base = if endpoint.contains("://") {
            endpoint.trim_end_matches('/').to_owned()
        } else {
            format!("https://{}", endpoint.trim_end_matches('/'))
        };
        if !base.starts_with("https://") {
            return Err(Error::InvalidSetting {
                setting: "IoT credentials endpoint".into(),
                reason: "must be https".into(),
            });
        }
        let uri: Uri = format!(
            "{base}/role-aliases/{}/credentials",
            encode_path_segment(role_alias)
        )
        .parse()
        .map_err(|e| Error::InvalidSetting {
            setting: "IoT credentials endpoint".into(),
            reason: format!("{endpoint:?}: {e}"),
        })?;
        endpoint_of(&uri)?;
        Ok(Self {
            uri,
            thing_name: None,
            tls,
            limits: HttpLimits::default(),
        })
    }

    /// A provider whose mutual-TLS connection enforces `policy` (edgeward-tls-policy), trusts
    /// `roots`, and presents `identity` (edgeward-device-identity) as the client certificate.
    pub fn with_policy(
        endpoint: &str,
        role_alias: &str,
        policy: &TlsPolicy,
        roots: RootCertStore,
        identity: &DeviceIdentity,
    ) -> Result<Self, Error> {
        let config = client_config(
            policy,
            roots,
            Some(ClientIdentity::Resolver(identity.client_cert_resolver())),
        )
        .map_err(|source| Error::TlsPolicy { source })?;
        Self::new(endpoint, role_alias, Arc::new(config))
    }

    /// Sends `x-amzn-iot-thingname`.
    pub fn thing_name(mut self, name: impl Into<String>) -> Self {
        self.thing_name = Some(name.into());
        self
    }

    /// Timeouts and the response size limit.
    pub fn limits(mut self, limits: HttpLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The request URI.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Fetches credentials once.
    pub async fn fetch(&self) -> Result<Credentials, Error> {
        let mut builder = Request::builder()
            .method(Method::GET)
            .uri(self.uri.clone())
            .header(http::header::ACCEPT, "application/json");
        if let Some(thing) = &self.thing_name {
            builder = builder.header(THING_NAME_HEADER, thing);
        }
        let request = builder
            .body(Full::new(Bytes::new()))
            .map_err(|e| Error::InvalidSetting {
                setting: "thing name".into(),
                reason: e.to_string(),
            })?;
        let response = send(request, Some(&self.tls), self.limits).await?;
        if response.status() != http::StatusCode::OK {
            let (host, port) = endpoint_of(&self.uri)?;
            return Err(status_error(
                format!("{host}:{port}"),
                response.status().as_u16(),
                response.body(),
            ));
        }
        parse_iot_credentials(response.body())
    }
}

impl ProvideCredentials for IotCredentialsProvider {
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
