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

use crate::http::HttpLimits;
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
    /// The STS endpoint, e.g. `http://127.0.0.1:5000` or an edgeward gateway.
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }
    /// The TLS configuration for an `https` endpoint.
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

    /// Calls AssumeRole once.
    pub async fn assume_role(&self) -> Result<Credentials, Error> {
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
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => ErrorClass::Connection,
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
