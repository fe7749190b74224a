//! aws-sdk-rust's STS client against a hyper 1 server on 127.0.0.1 behind `SigV4Layer`: the
//! requests the SDK signs (through aws-sigv4, with the SDK's own headers:
//! `x-amz-user-agent`, `amz-sdk-invocation-id`, `amz-sdk-request`) verify, the SDK parses the
//! answer, and our refusals reach the SDK as the error codes its users match on.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;

use aws_credential_types::Credentials;
use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use edgeward_signing::LayerSettings;
use http_body_util::Full;
use support::{send, start_server_answering, Answers, AK, SK, TEMP_AK, TEMP_SK, TOKEN};

/// The SDK's HTTP client: one plain HTTP/1.1 connection per request, with the tests' hyper
/// client (the SDK ships none without its default features, which this workspace leaves off).
#[derive(Debug, Clone)]
struct PlainHttp;

impl HttpClient for PlainHttp {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for PlainHttp {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let failed = |e: Box<dyn std::error::Error + Send + Sync>| ConnectorError::other(e, None);
        HttpConnectorFuture::new(async move {
            let request = request.try_into_http1x().map_err(|e| failed(Box::new(e)))?;
            let (parts, body) = request.into_parts();
            let body = Bytes::copy_from_slice(
                body.bytes()
                    .ok_or_else(|| failed("streaming body".into()))?,
            );
            let addr: SocketAddr = parts
                .uri
                .authority()
                .and_then(|authority| authority.as_str().parse().ok())
                .ok_or_else(|| failed("the endpoint is not an IP address and port".into()))?;
            let response = send(addr, http::Request::from_parts(parts, Full::new(body))).await;
            aws_smithy_runtime_api::http::Response::try_from(response.map(SdkBody::from))
                .map_err(|e| failed(Box::new(e)))
        })
    }
}

/// An STS client of `addr` signing with `credentials`, one attempt per call (a refusal is
/// final, and retrying it would only slow the test).
fn sts_client(addr: SocketAddr, credentials: Credentials) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(format!("http://{addr}"))
        .http_client(PlainHttp)
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

async fn start_sts_server() -> SocketAddr {
    start_server_answering(LayerSettings::default(), Answers::LikeAws).await
}

/// `GetCallerIdentity` with long-term and with temporary credentials: verified, and the SDK
/// reads the verified principal from our answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_sts_calls_verify() {
    let addr = start_sts_server().await;

    let alice = sts_client(addr, Credentials::from_keys(AK, SK, None));
    let identity = alice.get_caller_identity().send().await.unwrap();
    assert_eq!(identity.arn(), Some("arn:aws:iam::123456789012:user/alice"));
    assert_eq!(identity.account(), Some("123456789012"));
    assert_eq!(identity.user_id(), Some(AK));

    let temporary = Credentials::from_keys(TEMP_AK, TEMP_SK, Some(TOKEN.to_owned()));
    let identity = sts_client(addr, temporary)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        identity.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/r/s")
    );
}

/// A wrong secret, a missing session token and an unknown key reach the SDK as the codes STS
/// would send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_sees_our_refusals_as_sts_errors() {
    let addr = start_sts_server().await;
    let cases = [
        (
            Credentials::from_keys(AK, "not-the-secret", None),
            "SignatureDoesNotMatch",
        ),
        (
            Credentials::from_keys(TEMP_AK, TEMP_SK, None),
            "InvalidClientTokenId",
        ),
        (
            Credentials::from_keys("AKIDUNKNOWN", SK, None),
            "InvalidClientTokenId",
        ),
    ];
    for (credentials, code) in cases {
        let error = sts_client(addr, credentials)
            .get_caller_identity()
            .send()
            .await
            .unwrap_err();
        let service_error = error
            .as_service_error()
            .unwrap_or_else(|| panic!("expected {code} from the service, got {error:?}"));
        assert_eq!(service_error.code(), Some(code), "{error:?}");
    }
}
