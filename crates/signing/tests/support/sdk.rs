//! aws-sdk-rust clients of a test server: the HTTP client the SDKs send through, and STS and
//! S3 clients configured for 127.0.0.1.
#![allow(clippy::unwrap_used, dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_credential_types::Credentials;
use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use super::send;

/// The SDK's HTTP client: one plain HTTP/1.1 connection per request (whatever the URL's
/// scheme), with the tests' hyper client (the SDK ships none without its default features, which this workspace leaves off).
/// The body goes on the wire as the SDK encoded it (an `aws-chunked` body is read whole first:
/// the chunks and trailer are in its bytes). Every request's URI, headers and body as sent are
/// kept in `sent`, so a test can show which signing form the SDK chose and what it computed;
/// `tamper`, when set, changes the body on its way, as an attacker on the path would.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlainHttp {
    pub(crate) sent: Arc<Mutex<Vec<(http::Uri, http::HeaderMap, Bytes)>>>,
    pub(crate) tamper: Option<fn(&mut Vec<u8>)>,
}

impl PlainHttp {
    /// The headers of the last request sent.
    pub(crate) fn last_sent(&self) -> http::HeaderMap {
        self.sent.lock().unwrap().last().cloned().unwrap().1
    }

    /// The URI of the last request sent.
    pub(crate) fn last_uri(&self) -> http::Uri {
        self.sent.lock().unwrap().last().cloned().unwrap().0
    }

    /// The body of the last request, as it went on the wire (encoded, and tampered with).
    pub(crate) fn last_body(&self) -> Bytes {
        self.sent.lock().unwrap().last().cloned().unwrap().2
    }
}

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
        let sent = Arc::clone(&self.sent);
        let tamper = self.tamper;
        HttpConnectorFuture::new(async move {
            let request = request.try_into_http1x().map_err(|e| failed(Box::new(e)))?;
            let (parts, body) = request.into_parts();
            let mut body = body.collect().await.map_err(failed)?.to_bytes();
            if let Some(tamper) = tamper {
                let mut changed = body.to_vec();
                tamper(&mut changed);
                body = Bytes::from(changed);
            }
            let addr: SocketAddr = parts
                .uri
                .authority()
                .and_then(|authority| authority.as_str().parse().ok())
                .ok_or_else(|| failed("the endpoint is not an IP address and port".into()))?;
            sent.lock()
                .unwrap()
                .push((parts.uri.clone(), parts.headers.clone(), body.clone()));
            let response = send(addr, http::Request::from_parts(parts, Full::new(body))).await;
            aws_smithy_runtime_api::http::Response::try_from(response.map(SdkBody::from))
                .map_err(|e| failed(Box::new(e)))
        })
    }
}

/// An STS client of `addr` signing with `credentials`, one attempt per call (a refusal is
/// final, and retrying it would only slow the test).
pub(crate) fn sts_client(addr: SocketAddr, credentials: Credentials) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(format!("http://{addr}"))
        .http_client(PlainHttp::default())
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// An S3 client of `addr` (path-style, as for any endpoint that is not AWS's) signing with
/// `credentials` and sending through `http`, one attempt per call.
pub(crate) fn s3_client(
    addr: SocketAddr,
    credentials: Credentials,
    http: &PlainHttp,
) -> aws_sdk_s3::Client {
    s3_client_of(&format!("http://{addr}"), credentials, http)
}

/// [`s3_client`] of an `https://` URL of `addr`: the SDK signs as it does over TLS (it streams
/// an upload with an unsigned payload there), and `http` carries the request over plain HTTP,
/// as it would reach a gateway behind a TLS-terminating proxy.
pub(crate) fn s3_client_as_if_tls(
    addr: SocketAddr,
    credentials: Credentials,
    http: &PlainHttp,
) -> aws_sdk_s3::Client {
    s3_client_of(&format!("https://{addr}"), credentials, http)
}

fn s3_client_of(endpoint: &str, credentials: Credentials, http: &PlainHttp) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(s3_config(endpoint, credentials, http).build())
}

/// The configuration of [`s3_client`] (of [`s3_client_as_if_tls`] for an `https://`
/// `endpoint`), for a test to change.
pub(crate) fn s3_config(
    endpoint: &str,
    credentials: Credentials,
    http: &PlainHttp,
) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(endpoint)
        .force_path_style(true)
        .http_client(http.clone())
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
}

/// A file for streamed uploads (the SDK streams a body it reads from a file), over 64 KiB so
/// that it goes in more than one chunk; removed when dropped.
pub(crate) struct UploadFile {
    _dir: tempfile::TempDir,
    pub(crate) path: std::path::PathBuf,
    pub(crate) contents: Vec<u8>,
}

impl UploadFile {
    pub(crate) fn new() -> Self {
        Self::with_len(200_000)
    }

    /// A file of `len` bytes.
    pub(crate) fn with_len(len: u32) -> Self {
        let contents: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload.bin");
        std::fs::write(&path, &contents).unwrap();
        Self {
            _dir: dir,
            path,
            contents,
        }
    }

    /// `PutObject` of the file to `bucket/key`, streamed by `s3` (with the SDK's default
    /// checksum, CRC32).
    pub(crate) async fn put(
        &self,
        s3: &aws_sdk_s3::Client,
        key: &str,
    ) -> Result<
        aws_sdk_s3::operation::put_object::PutObjectOutput,
        aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::put_object::PutObjectError>,
    > {
        self.put_with(s3, key, None).await
    }

    /// [`Self::put`], with the checksum `algorithm` when one is given.
    pub(crate) async fn put_with(
        &self,
        s3: &aws_sdk_s3::Client,
        key: &str,
        algorithm: Option<aws_sdk_s3::types::ChecksumAlgorithm>,
    ) -> Result<
        aws_sdk_s3::operation::put_object::PutObjectOutput,
        aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::put_object::PutObjectError>,
    > {
        s3.put_object()
            .bucket("bucket")
            .key(key)
            .body(self.stream().await)
            .set_checksum_algorithm(algorithm)
            .send()
            .await
    }

    /// The file as a stream the SDK reads as it sends (it cannot buffer it, so it signs it
    /// chunk by chunk).
    pub(crate) async fn stream(&self) -> aws_sdk_s3::primitives::ByteStream {
        aws_sdk_s3::primitives::ByteStream::from_path(&self.path)
            .await
            .unwrap()
    }
}

/// The AWS error code the SDK read from the service's refusal. Panics when the call failed
/// before reaching the service, or when the SDK could not read a code from the answer.
pub(crate) fn refusal_code<E, R>(error: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    let refusal = error
        .as_service_error()
        .unwrap_or_else(|| panic!("expected a refusal from the service, got {error:?}"));
    refusal
        .code()
        .unwrap_or_else(|| panic!("the SDK read no error code: {error:?}"))
        .to_owned()
}
