//! STS AssumeRole through aws-sdk-sts, running on this crate's bounded HTTP client.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{self, future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_sdk_sts::error::SdkError;
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::retry::RetryConfig;
use rustls::ClientConfig;

use crate::http::{is_loopback, HttpLimits};
use crate::sdk_http::SdkHttpClient;
use crate::{Error, ErrorClass};

/// Obtains temporary credentials with `sts:AssumeRole`, signing the call with credentials from
/// any other provider.
///
/// The region defaults to `us-east-1`; the endpoint to the SDK's for the region. An `https`
/// endpoint needs a rustls configuration ([`AssumeRoleProvider::tls`]).
pub struct AssumeRoleProvider {
    role_arn: String,
    session_name: String,
    duration: Option<Duration>,
    external_id: Option<String>,
    policy: Option<String>,
    source: SharedCredentialsProvider,
    region: String,
    endpoint_url: Option<String>,
    tls: Option<Arc<ClientConfig>>,
    limits: HttpLimits,
    max_attempts: u32,
}

impl fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "** redacted **"),
            )
            .field("policy", &self.policy.is_some())
            .field("source", &self.source)
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .finish()
    }
}

impl AssumeRoleProvider {
    /// Assumes `role_arn` as `session_name`, signing with `source`'s credentials.
    pub fn new(
        role_arn: impl Into<String>,
        session_name: impl Into<String>,
        source: impl ProvideCredentials + 'static,
    ) -> Self {
        Self {
            role_arn: role_arn.into(),
            session_name: session_name.into(),
            duration: None,
            external_id: None,
            policy: None,
            source: SharedCredentialsProvider::new(source),
            region: "us-east-1".into(),
            endpoint_url: None,
            tls: None,
            limits: HttpLimits::default(),
            max_attempts: 3,
        }
    }

    /// `DurationSeconds` (STS accepts 900 to 43200; the role's maximum applies).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }
    /// `ExternalId`.
    pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }
    /// A session policy (JSON) further restricting the role's permissions.
    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }
    /// The signing region.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }
    /// The STS endpoint, e.g. an edgeward gateway. Plain `http` only to loopback (`localhost`,
    /// 127.0.0.0/8, `::1`), since the response carries the new secret key; anything else is
    /// refused, before any request, as [`Error::PlainHttpNotLoopback`].
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }
    /// The TLS configuration for an `https` endpoint, AWS's own included: there is no built-in
    /// trust store, and without one an `https` endpoint is refused before connecting
    /// ([`Error::MissingSetting`]).
    pub fn tls(mut self, config: Arc<ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }
    /// Connect/response timeouts and the response size limit.
    pub fn limits(mut self, limits: HttpLimits) -> Self {
        self.limits = limits;
        self
    }
    /// Attempts per call, including the first (SDK standard retry). Default 3.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    fn client(&self) -> aws_sdk_sts::Client {
        let mut config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(self.source.clone())
            .http_client(SdkHttpClient {
                tls: self.tls.clone(),
                limits: self.limits,
            })
            .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
            .retry_config(RetryConfig::standard().with_max_attempts(self.max_attempts));
        if let Some(url) = &self.endpoint_url {
            config = config.endpoint_url(url.clone());
        }
        aws_sdk_sts::Client::from_conf(config.build())
    }

    /// The endpoint URL, refused before any request when it cannot be one: the SDK would
    /// report it as a dispatch failure, which reads (and is cached) as a network fault.
    fn check_endpoint(&self) -> Result<(), Error> {
        let Some(url) = &self.endpoint_url else {
            return Ok(());
        };
        let invalid = |reason: String| Error::InvalidSetting {
            setting: "endpoint_url".into(),
            reason,
        };
        let uri: http::Uri = url
            .parse()
            .map_err(|e| invalid(format!("{url:?} is not a URL: {e}")))?;
        match uri.scheme_str() {
            Some("https") if self.tls.is_none() => Err(Error::MissingSetting {
                setting: format!("TLS client configuration for {url} (AssumeRoleProvider::tls)"),
            }),
            Some("http" | "https") if uri.host().is_none_or(str::is_empty) => {
                Err(invalid(format!("{url:?} has no host")))
            }
            // The response carries the new secret key.
            Some("http") if !is_loopback(&uri) => {
                Err(Error::PlainHttpNotLoopback { uri: url.clone() })
            }
            Some("http" | "https") => Ok(()),
            _ => Err(invalid(format!("{url:?} is not an http or https URL"))),
        }
    }

    /// Calls AssumeRole once.
    pub async fn assume_role(&self) -> Result<Credentials, Error> {
        self.check_endpoint()?;
        let mut call = self
            .client()
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name);
        if let Some(d) = self.duration {
            call = call.duration_seconds(i32::try_from(d.as_secs()).unwrap_or(i32::MAX));
        }
        if let Some(id) = &self.external_id {
            call = call.external_id(id);
        }
        if let Some(policy) = &self.policy {
            call = call.policy(policy);
        }
        let output = call.send().await.map_err(|e| sdk_error("AssumeRole", e))?;
        let creds = output
            .credentials()
            .ok_or_else(|| Error::MalformedResponse {
                reason: "AssumeRole response has no Credentials".into(),
            })?;
        let expiry =
            SystemTime::try_from(*creds.expiration()).map_err(|_| Error::MalformedResponse {
                reason: "AssumeRole Expiration out of range".into(),
            })?;
        let mut builder = Credentials::builder()
            .access_key_id(creds.access_key_id())
            .secret_access_key(creds.secret_access_key())
            .session_token(creds.session_token())
            .expiry(expiry)
            .provider_name("edgeward-assume-role");
        if let Some(account) = output
            .assumed_role_user()
            .and_then(|u| u.arn().split(':').nth(4))
            .filter(|a| !a.is_empty())
        {
            builder = builder.account_id(account);
        }
        Ok(builder.build())
    }
}

/// Maps an SDK error to ours, classing it by kind and HTTP status.
pub(crate) fn sdk_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + HasStatus,
{
    let class = match &error {
        // Our HTTP client's own error, when it is inside, knows whose fault it was (a
        // configuration it refused is not a network fault).
        SdkError::DispatchFailure(failure) => failure
            .as_connector_error()
            .and_then(|e| our_error_in(e))
            .map_or(ErrorClass::Connection, Error::class),
        SdkError::TimeoutError(_) => ErrorClass::Connection,
        SdkError::ConstructionFailure(_) => ErrorClass::Client,
        SdkError::ServiceError(service) => match service.raw().status_code() {
            429 => ErrorClass::Server,
            400..=499 => ErrorClass::Client,
            _ => ErrorClass::Server,
        },
        _ => ErrorClass::Server,
    };
    Error::Sts {
        operation,
        message: DisplayErrorContext(&error).to_string(),
        class,
    }
}

/// The HTTP status of a raw SDK response.
pub(crate) trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

impl ProvideCredentials for AssumeRoleProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.assume_role()
                .await
                .map_err(provider::error::CredentialsError::from)
        })
    }
}

/// The first of our [`Error`]s in `error`'s source chain.
fn our_error_in<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e Error> {
    let mut source = Some(error);
    while let Some(inner) = source {
        if let Some(ours) = inner.downcast_ref::<Error>() {
            return Some(ours);
        }
        source = inner.source();
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::StaticProvider;

    fn provider() -> AssumeRoleProvider {
        AssumeRoleProvider::new(
            "arn:aws:iam::123456789012:role/edge-device",
            "session",
            StaticProvider::new(Credentials::new(
                "AKIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                None,
                None,
                "test",
            )),
        )
        .max_attempts(1)
    }

    /// A listener that must not be connected to: the provider refuses before it connects.
    fn untouched() -> (std::net::TcpListener, u16) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        (listener, port)
    }

    #[tokio::test]
    async fn an_unusable_endpoint_url_is_a_configuration_error() {
        let (listener, port) = untouched();
        for (url, says) in [
            ("not a url".to_owned(), "is not a URL"),
            (
                format!("ftp://127.0.0.1:{port}/"),
                "is not an http or https URL",
            ),
            (format!("127.0.0.1:{port}"), "is not an http or https URL"),
            ("http://".to_owned(), "is not a URL"),
            ("http://[::1/".to_owned(), "is not a URL"),
            // `http::Uri` takes an authority of a port alone, with an empty host.
            ("http://:80/".to_owned(), "has no host"),
        ] {
            let err = provider()
                .endpoint_url(&url)
                .assume_role()
                .await
                .unwrap_err();
            assert!(
                matches!(&err, Error::InvalidSetting { setting, reason }
                    if setting == "endpoint_url" && reason.contains(says)),
                "{url}: {err:?}"
            );
            assert_eq!(err.class(), ErrorClass::Client, "{url}");
        }
        let err = provider()
            .endpoint_url(format!("https://127.0.0.1:{port}"))
            .assume_role()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::MissingSetting { setting }
                if setting.contains("TLS client configuration")),
            "{err:?}"
        );
        assert_eq!(err.class(), ErrorClass::Client);
        assert_eq!(
            listener.accept().map_err(|e| e.kind()).unwrap_err(),
            std::io::ErrorKind::WouldBlock,
            "nothing may connect"
        );
    }

    /// The response carries a secret key: plain HTTP is for loopback only (ARCHITECTURE's
    /// invariant for every credentials request).
    #[tokio::test]
    async fn plain_http_is_refused_beyond_loopback() {
        for url in [
            "http://10.0.0.5:5000",
            "http://sts.us-east-1.amazonaws.com",
            "http://169.254.170.2/",
            "http://[fd00:ec2::23]/",
            "http://localhost.example.com/",
        ] {
            let err = provider()
                .endpoint_url(url)
                .assume_role()
                .await
                .unwrap_err();
            assert!(
                matches!(&err, Error::PlainHttpNotLoopback { uri } if uri == url),
                "{url}: {err:?}"
            );
            assert_eq!(err.class(), ErrorClass::Client);
        }
        // Loopback is allowed: these reach the network (a closed port), and fail there.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        for url in [
            format!("http://127.0.0.1:{closed}"),
            format!("http://127.0.0.2:{closed}"),
            format!("http://LOCALHOST:{closed}/"),
            format!("http://[::1]:{closed}/"),
        ] {
            let err = provider()
                .endpoint_url(&url)
                .assume_role()
                .await
                .unwrap_err();
            assert!(
                matches!(
                    &err,
                    Error::Sts {
                        class: ErrorClass::Connection,
                        ..
                    }
                ),
                "{url}: {err:?}"
            );
        }
    }

    /// With a TLS configuration an `https` endpoint is used: the call reaches the network (a
    /// closed port) and fails there.
    #[tokio::test]
    async fn an_https_endpoint_with_a_tls_configuration_is_used() {
        let crypto = rustls::crypto::aws_lc_rs::default_provider();
        let tls = ClientConfig::builder_with_provider(Arc::new(crypto))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = provider()
            .tls(Arc::new(tls))
            .endpoint_url(format!("https://127.0.0.1:{closed}"))
            .assume_role()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Sts { class: ErrorClass::Connection, message, .. }
                if message.contains("Connection refused")),
            "{err:?}"
        );
    }

    /// The SDK's own endpoint is `https`; without a TLS configuration our HTTP client refuses
    /// before connecting, and the SDK wraps that as a dispatch failure. Its class is ours
    /// (the caller's configuration), not a network fault.
    #[tokio::test]
    async fn a_configuration_error_inside_the_sdk_keeps_its_class() {
        let err = provider().assume_role().await.unwrap_err();
        assert!(
            matches!(&err, Error::Sts { operation: "AssumeRole", class: ErrorClass::Client, message }
                if message.contains("TLS client configuration for https://sts.")),
            "{err:?}"
        );
    }
}
