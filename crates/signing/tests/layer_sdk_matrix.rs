//! An operation matrix of real SDKs (boto3, the AWS CLI, aws-sdk-rust) with their default
//! settings against `SigV4Layer` in front of a recording S3/STS-like service on 127.0.0.1.
//! Every request must verify (200 from the service) and the service must see the path and
//! body the SDK meant. The service echoes what it saw in `x-seen-*` response headers.
//! Object keys that stress path encoding in path-style, virtual-hosted and prefixed
//! endpoints; copies, batch deletes, multipart, listings with awkward prefixes, ranges,
//! every checksum algorithm, gzip with aws-chunked, presigned URLs (S3 and STS). From the SDK
//! matrix review of 2026-12-03 (boto3/botocore 1.44.8 signing through awscrt, AWS CLI 1.46.3,
//! aws-sdk-s3 1.157); `sdk_matrix.py` drives the Python side.
#![allow(clippy::unwrap_used)]

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use edgeward_signing::{LayerSettings, PayloadKind, VerifiedBody, VerifiedRequest};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::{json, Value};
use support::interop::run_json_script_beside_server;
use support::{
    asks_for_caller_identity, caller_identity_xml, sha256_hex, test_layer, AK, SK, TEMP_AK,
    TEMP_SK, TOKEN,
};
use tower::Layer;

async fn recording(
    request: http::Request<VerifiedBody<Incoming>>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let (principal, access_key_id, service) = request
        .extensions()
        .get::<VerifiedRequest>()
        .map(|v| {
            (
                v.principal().to_owned(),
                v.access_key_id().to_owned(),
                v.scope().service.to_owned(),
            )
        })
        .unwrap_or_default();
    // How the layer handed the body over: a signed SHA-256 is checked before the service
    // reads a buffered body, and by the body itself at its end when passed on unbuffered.
    let payload = match request
        .extensions()
        .get::<VerifiedRequest>()
        .map(|v| v.payload())
    {
        Some(PayloadKind::Sha256 {
            body_checked: true, ..
        }) => "sha256 buffered",
        Some(PayloadKind::Sha256 {
            body_checked: false,
            ..
        }) => "sha256 passed on",
        Some(PayloadKind::Unsigned) => "unsigned",
        Some(_) => "streamed",
        None => "",
    };
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            return Ok(http::Response::builder()
                .status(400)
                .body(Full::new(Bytes::from(format!("body failed {e}"))))
                .unwrap())
        }
    };
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let host = parts
        .headers
        .get("host")
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .unwrap_or_default();
    let encoding = parts
        .headers
        .get("content-encoding")
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .unwrap_or_default();
    let has = |name: &str| {
        query
            .split('&')
            .any(|p| p == name || p.starts_with(&format!("{name}=")))
    };
    let xml = |text: String| ("application/xml", text);
    let (content_type, text) = if service == "sts" {
        if asks_for_caller_identity(&body) || has("Action") {
            ("text/xml", caller_identity_xml(&principal, &access_key_id))
        } else {
            ("text/plain", "unexpected".to_owned())
        }
    } else if parts.method == http::Method::POST && has("uploads") {
        xml("<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key><UploadId>up+id/1=</UploadId></InitiateMultipartUploadResult>".to_owned())
    } else if parts.method == http::Method::POST && has("uploadId") {
        xml("<CompleteMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key><ETag>\"e\"</ETag></CompleteMultipartUploadResult>".to_owned())
    } else if parts.method == http::Method::POST && has("delete") {
        xml("<DeleteResult></DeleteResult>".to_owned())
    } else if parts.method == http::Method::GET && has("list-type") {
        xml("<ListBucketResult><Name>bucket</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>".to_owned())
    } else if parts.method == http::Method::PUT
        && parts.headers.contains_key("x-amz-copy-source")
        && !has("partNumber")
    {
        xml("<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>".to_owned())
    } else if parts.method == http::Method::GET && has("location") {
        xml("<LocationConstraint></LocationConstraint>".to_owned())
    } else if parts.method == http::Method::GET && path == "/" {
        xml("<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>".to_owned())
    } else if parts.method == http::Method::GET {
        ("application/octet-stream", format!("ok {principal}"))
    } else {
        ("text/plain", String::new())
    };
    let copy_source = parts
        .headers
        .get("x-amz-copy-source")
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .unwrap_or_default();
    let mut response = http::Response::builder()
        .header("content-type", content_type)
        .header("etag", format!("\"{}\"", sha256_hex(&body)))
        .header("x-seen-path", &path)
        .header("x-seen-query", &query)
        .header("x-seen-host", &host)
        .header("x-seen-sha256", sha256_hex(&body))
        .header("x-seen-len", body.len().to_string())
        .header("x-seen-encoding", &encoding)
        .header("x-seen-method", parts.method.as_str())
        .header("x-seen-payload", payload);
    if let Ok(v) = http::HeaderValue::from_str(&copy_source) {
        response = response.header("x-seen-copy-source", v);
    }
    Ok(response.body(Full::new(Bytes::from(text))).unwrap())
}

/// The recording service behind the tests' layer, on HTTP (or HTTPS with a self-signed
/// certificate for 127.0.0.1 and localhost, whose PEM is returned).
async fn start(tls: bool) -> (SocketAddr, Option<String>) {
    let service = test_layer(LayerSettings::default()).layer(tower::service_fn(recording));
    let (acceptor, pem) = match tls {
        true => {
            let (acceptor, pem) =
                support::self_signed_acceptor(&["127.0.0.1", "localhost", "bucket.localhost"]);
            (Some(acceptor), Some(pem))
        }
        false => (None, None),
    };
    (support::serve_service(service, acceptor).await, pem)
}

fn check(results: &[Value]) {
    let mut failures = Vec::new();
    if std::env::var_os("SDK_MATRIX_DUMP").is_some() {
        for r in results {
            eprintln!("{r}");
        }
    }
    for r in results {
        if r["ok"] != true {
            failures.push(r.to_string());
        }
    }
    eprintln!("{} results, {} failures", results.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
}

async fn run(input: Value) -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk_matrix.py");
    run_json_script_beside_server(script, input).await
}

/// The script's input, and the directory it writes its files in (the CA bundle, a 9 MiB
/// transfer file), removed when the test drops it.
fn input(plain: SocketAddr, tls: SocketAddr, pem: &str, suite: &str) -> (Value, tempfile::TempDir) {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let input = json!({
        "suite": suite,
        "plain_port": plain.port(), "tls_port": tls.port(), "ca_bundle": ca, "dir": dir,
        "access_key": AK, "secret_key": SK,
        "temp_access_key": TEMP_AK, "temp_secret_key": TEMP_SK, "token": TOKEN,
    });
    (input, scratch)
}

macro_rules! matrix_test {
    ($name:ident, $suite:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (plain, _) = start(false).await;
            let (tls, pem) = start(true).await;
            let (input, _scratch) = input(plain, tls, &pem.unwrap(), $suite);
            let results = run(input).await;
            check(&results);
        }
    };
}

matrix_test!(boto3_keys_path_style, "keys_path");
matrix_test!(boto3_keys_virtual_host, "keys_virtual");
matrix_test!(boto3_keys_path_prefix, "keys_prefix");
matrix_test!(boto3_operations, "operations");
matrix_test!(boto3_presigned, "presigned");
matrix_test!(aws_cli_presign, "cli_presign");

mod rust_sdk {
    //! aws-sdk-rust (aws-sdk-s3 with its defaults) against the same service.
    use super::*;
    use aws_credential_types::Credentials;
    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::{ChecksumAlgorithm, Delete, ObjectIdentifier};
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_types::body::SdkBody;
    use std::sync::Mutex;

    /// What one request looked like: sent by the SDK, and seen by the service.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct Exchange {
        pub(crate) sent_path: String,
        pub(crate) sent_query: String,
        pub(crate) sent_headers: http::HeaderMap,
        pub(crate) status: u16,
        pub(crate) answer: http::HeaderMap,
        pub(crate) body: String,
    }

    /// Sends every request to `addr` whatever its host (so `bucket.localhost` reaches the
    /// test server), in origin form, as a real HTTP client does.
    #[derive(Debug, Clone)]
    pub(crate) struct FixedAddr {
        pub(crate) addr: SocketAddr,
        pub(crate) log: Arc<Mutex<Vec<Exchange>>>,
    }

    impl HttpClient for FixedAddr {
        fn http_connector(
            &self,
            _settings: &HttpConnectorSettings,
            _components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }

    impl HttpConnector for FixedAddr {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let failed =
                |e: Box<dyn std::error::Error + Send + Sync>| ConnectorError::other(e, None);
            let this = self.clone();
            HttpConnectorFuture::new(async move {
                let request = request.try_into_http1x().map_err(|e| failed(Box::new(e)))?;
                let (mut parts, body) = request.into_parts();
                let body = body.collect().await.map_err(failed)?.to_bytes();
                let authority = parts.uri.authority().unwrap().as_str().to_owned();
                let path = parts.uri.path().to_owned();
                let query = parts.uri.query().unwrap_or_default().to_owned();
                if !parts.headers.contains_key("host") {
                    parts.headers.insert("host", authority.parse().unwrap());
                }
                parts.uri = parts
                    .uri
                    .path_and_query()
                    .unwrap()
                    .as_str()
                    .parse()
                    .unwrap();
                let sent_headers = parts.headers.clone();
                let response =
                    support::send(this.addr, http::Request::from_parts(parts, Full::new(body)))
                        .await;
                this.log.lock().unwrap().push(Exchange {
                    sent_path: path,
                    sent_query: query,
                    sent_headers,
                    status: response.status().as_u16(),
                    answer: response.headers().clone(),
                    body: String::from_utf8_lossy(response.body()).into_owned(),
                });
                aws_smithy_runtime_api::http::Response::try_from(response.map(SdkBody::from))
                    .map_err(|e| failed(Box::new(e)))
            })
        }
    }

    pub(crate) fn client(endpoint: &str, path_style: bool, http: &FixedAddr) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(Credentials::from_keys(AK, SK, None))
            .endpoint_url(endpoint)
            .force_path_style(path_style)
            .http_client(http.clone())
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    const KEYS: &[&str] = &[
        "a b",
        "a+b",
        "100%",
        "a%2Fb",
        "tilde~x",
        "star*x",
        "quote'x",
        "bang!x",
        "caf\u{e9}",
        "cafe\u{301}",
        "emoji \u{1F600}",
        "a//b",
        "dir/",
        "a/./b",
        "a/../b",
        ".",
        "..",
        "x/..",
        "q?x=1&y=2",
        "h#frag",
        "semi;colon",
        "(paren),=@:$[]",
        "/leading",
        "sp ace/ x ",
    ];

    fn decode(path: &str) -> Vec<u8> {
        let bytes = path.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    /// Checks every exchange in `log` since `from`: 200 (or 206), the service saw the path
    /// and query sent, and, when given, the path decodes to `meant`.
    fn checked(
        failures: &mut Vec<String>,
        what: &str,
        outcome: Result<(), String>,
        log: &Arc<Mutex<Vec<Exchange>>>,
        meant: Option<&str>,
    ) {
        let log = log.lock().unwrap();
        let Some(last) = log.last() else {
            failures.push(format!("{what}: nothing sent ({outcome:?})"));
            return;
        };
        let seen = |name: &str| {
            last.answer
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let mut problems = Vec::new();
        if last.status != 200 && last.status != 206 {
            problems.push(format!("status {} {}", last.status, last.body));
        }
        if let Some(path) = seen("x-seen-path") {
            if path != last.sent_path {
                problems.push(format!(
                    "service saw {path:?}, SDK sent {:?}",
                    last.sent_path
                ));
            }
            if let Some(meant) = meant {
                // aws-sdk-s3 names a bucket `/bucket/`.
                let decoded = decode(&path);
                let trimmed = if meant == "/bucket" {
                    decoded.strip_suffix(b"/").unwrap_or(&decoded)
                } else {
                    &decoded[..]
                };
                if trimmed != meant.as_bytes() {
                    problems.push(format!("service path {path:?} is not {meant:?}"));
                }
            }
            if seen("x-seen-query").unwrap_or_default() != last.sent_query {
                problems.push(format!(
                    "query seen {:?} sent {:?}",
                    seen("x-seen-query"),
                    last.sent_query
                ));
            }
        }
        if let Err(e) = outcome {
            if last.status == 200 && problems.is_empty() {
                // The SDK failed on our minimal answer, not on the layer's.
            } else {
                problems.push(e);
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{what}: sent {} ?{} {:?}: {}",
                last.sent_path,
                last.sent_query,
                last.sent_headers.get("x-amz-content-sha256"),
                problems.join("; ")
            ));
        }
    }

    fn err<T, E: std::fmt::Debug>(r: Result<T, E>) -> Result<(), String> {
        r.map(|_| ())
            .map_err(|e| format!("{e:?}").chars().take(300).collect())
    }

    async fn keys_matrix(
        endpoint: String,
        path_style: bool,
        prefix: &str,
        addr: SocketAddr,
    ) -> Vec<String> {
        let http = FixedAddr {
            addr,
            log: Arc::default(),
        };
        let s3 = client(&endpoint, path_style, &http);
        let mut failures = Vec::new();
        let bucket_path = |key: &str| {
            if path_style {
                format!("{prefix}/bucket/{key}")
            } else {
                format!("{prefix}/{key}")
            }
        };
        for key in KEYS
            .iter()
            .copied()
            .chain([&*"k".repeat(1024), &*"\u{e9}".repeat(512)])
        {
            let short: String = key.chars().take(30).collect();
            let meant = bucket_path(key);
            let r = s3
                .put_object()
                .bucket("bucket")
                .key(key)
                .body(ByteStream::from(format!("body of {key}").into_bytes()))
                .send()
                .await;
            checked(
                &mut failures,
                &format!("put {short:?}"),
                err(r),
                &http.log,
                Some(&meant),
            );
            let r = s3.get_object().bucket("bucket").key(key).send().await;
            checked(
                &mut failures,
                &format!("get {short:?}"),
                err(r),
                &http.log,
                Some(&meant),
            );
            let r = s3.head_object().bucket("bucket").key(key).send().await;
            checked(
                &mut failures,
                &format!("head {short:?}"),
                err(r),
                &http.log,
                Some(&meant),
            );
            // aws-sdk-s3 sends `copy_source` as given, and S3 documents it URL-encoded (botocore
            // encodes it itself): since http 1.6 a header value that is not ASCII does not
            // even build.
            let copy_source = format!("bucket/{}", crate::support::encode_key(key));
            let r = s3
                .copy_object()
                .bucket("bucket")
                .key(format!("{key}-copy"))
                .copy_source(&copy_source)
                .send()
                .await;
            checked(
                &mut failures,
                &format!("copy {short:?}"),
                err(r),
                &http.log,
                Some(&bucket_path(&format!("{key}-copy"))),
            );
            let seen_source = http.log.lock().unwrap().last().and_then(|last| {
                let seen = last.answer.get("x-seen-copy-source")?;
                Some(decode(seen.to_str().ok()?))
            });
            if seen_source.as_deref() != Some(format!("bucket/{key}").as_bytes()) {
                failures.push(format!(
                    "copy {short:?}: service saw copy source {:?}",
                    seen_source.map(|s| String::from_utf8_lossy(&s).into_owned())
                ));
            }
            let presigned = s3
                .get_object()
                .bucket("bucket")
                .key(key)
                .presigned(
                    aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(300))
                        .unwrap(),
                )
                .await
                .unwrap();
            let uri: http::Uri = presigned.uri().parse().unwrap();
            let mut request = presigned.make_http_1x_request(Full::new(Bytes::new()));
            *request.uri_mut() = uri.path_and_query().unwrap().as_str().parse().unwrap();
            request
                .headers_mut()
                .insert("host", uri.authority().unwrap().as_str().parse().unwrap());
            let response = support::send(addr, request).await;
            http.log.lock().unwrap().push(Exchange {
                sent_path: uri.path().to_owned(),
                sent_query: uri.query().unwrap_or_default().to_owned(),
                sent_headers: http::HeaderMap::new(),
                status: response.status().as_u16(),
                answer: response.headers().clone(),
                body: String::from_utf8_lossy(response.body()).into_owned(),
            });
            checked(
                &mut failures,
                &format!("presigned get {short:?}"),
                Ok(()),
                &http.log,
                Some(&meant),
            );
        }
        failures
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn aws_sdk_rust_keys_path_style() {
        let (addr, _) = start(false).await;
        let failures = keys_matrix(format!("http://{addr}"), true, "", addr).await;
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn aws_sdk_rust_keys_virtual_host() {
        let (addr, _) = start(false).await;
        let failures =
            keys_matrix(format!("http://localhost:{}", addr.port()), false, "", addr).await;
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn aws_sdk_rust_keys_path_prefix() {
        let (addr, _) = start(false).await;
        let failures = keys_matrix(format!("http://{addr}/prefix/"), true, "/prefix", addr).await;
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn aws_sdk_rust_operations() {
        let (addr, _) = start(false).await;
        let mut failures = Vec::new();
        for endpoint in [format!("http://{addr}"), format!("https://{addr}")] {
            let http = FixedAddr {
                addr,
                log: Arc::default(),
            };
            let s3 = client(&endpoint, true, &http);
            let tag = if endpoint.starts_with("https") {
                "https"
            } else {
                "http"
            };
            let objects: Vec<ObjectIdentifier> = KEYS
                .iter()
                .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
                .collect();
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .build()
                .unwrap();
            let r = s3
                .delete_objects()
                .bucket("bucket")
                .delete(delete.clone())
                .send()
                .await;
            checked(
                &mut failures,
                &format!("{tag} delete_objects"),
                err(r),
                &http.log,
                Some("/bucket"),
            );
            for algorithm in [
                ChecksumAlgorithm::Crc32,
                ChecksumAlgorithm::Crc32C,
                ChecksumAlgorithm::Crc64Nvme,
                ChecksumAlgorithm::Sha1,
                ChecksumAlgorithm::Sha256,
            ] {
                let r = s3
                    .delete_objects()
                    .bucket("bucket")
                    .delete(delete.clone())
                    .checksum_algorithm(algorithm.clone())
                    .send()
                    .await;
                checked(
                    &mut failures,
                    &format!("{tag} delete_objects {algorithm:?}"),
                    err(r),
                    &http.log,
                    Some("/bucket"),
                );
                let r = s3
                    .put_object()
                    .bucket("bucket")
                    .key("ck")
                    .body(ByteStream::from_static(b"checksummed body"))
                    .checksum_algorithm(algorithm.clone())
                    .send()
                    .await;
                checked(
                    &mut failures,
                    &format!("{tag} put {algorithm:?}"),
                    err(r),
                    &http.log,
                    Some("/bucket/ck"),
                );
            }
            for (prefix, delimiter, token, start) in [
                ("a b+c%/\u{fc}?#;", "/", "1/a+b=c==", "x y"),
                ("", "+", "tok en%2F", "\u{1F600}"),
                ("dir/", "%", "a&b=c", "a+b"),
            ] {
                let r = s3
                    .list_objects_v2()
                    .bucket("bucket")
                    .prefix(prefix)
                    .delimiter(delimiter)
                    .continuation_token(token)
                    .start_after(start)
                    .send()
                    .await;
                checked(
                    &mut failures,
                    &format!("{tag} list {prefix:?} {delimiter:?} {token:?}"),
                    err(r),
                    &http.log,
                    Some("/bucket"),
                );
            }
            let r = s3
                .get_object()
                .bucket("bucket")
                .key("r k")
                .range("bytes=0-9")
                .if_none_match("\"abc\"")
                .version_id("v+1/2=")
                .response_content_disposition("attachment; filename=\"a b;c.txt\"")
                .send()
                .await;
            checked(
                &mut failures,
                &format!("{tag} get range"),
                err(r),
                &http.log,
                Some("/bucket/r k"),
            );
            for body in [Vec::new(), b"x".repeat(3 * 1024 * 1024 + 7)] {
                let len = body.len();
                let r = s3
                    .put_object()
                    .bucket("bucket")
                    .key("sized")
                    .body(ByteStream::from(body.clone()))
                    .content_encoding("gzip")
                    .send()
                    .await;
                checked(
                    &mut failures,
                    &format!("{tag} put gzip {len}"),
                    err(r),
                    &http.log,
                    Some("/bucket/sized"),
                );
                let seen = http.log.lock().unwrap().last().unwrap().answer.clone();
                if seen
                    .get("x-seen-sha256")
                    .map(|v| v.to_str().unwrap().to_owned())
                    != Some(sha256_hex(&body))
                {
                    failures.push(format!(
                        "{tag} put gzip {len}: service body {:?}",
                        seen.get("x-seen-len")
                    ));
                }
                if seen
                    .get("x-seen-encoding")
                    .map(|v| v.to_str().unwrap().replace(' ', ""))
                    != Some("gzip".to_owned())
                {
                    failures.push(format!(
                        "{tag} put gzip {len}: service encoding {:?}",
                        seen.get("x-seen-encoding")
                    ));
                }
            }
            // Streamed from a file with gzip (aws-chunked), over the SDK's chunk size.
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("f");
            let contents: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
            std::fs::write(&file, &contents).unwrap();
            let r = s3
                .put_object()
                .bucket("bucket")
                .key("streamed gz")
                .body(ByteStream::from_path(&file).await.unwrap())
                .content_encoding("gzip")
                .send()
                .await;
            checked(
                &mut failures,
                &format!("{tag} put streamed gzip"),
                err(r),
                &http.log,
                Some("/bucket/streamed gz"),
            );
            {
                let log = http.log.lock().unwrap();
                let last = log.last().unwrap();
                eprintln!(
                    "{tag} streamed gzip sent content-encoding {:?}, seen {:?}",
                    last.sent_headers
                        .get_all("content-encoding")
                        .iter()
                        .collect::<Vec<_>>(),
                    last.answer.get("x-seen-encoding")
                );
                if last
                    .answer
                    .get("x-seen-sha256")
                    .map(|v| v.to_str().unwrap().to_owned())
                    != Some(sha256_hex(&contents))
                {
                    failures.push(format!(
                        "{tag} streamed gzip: body {:?}",
                        last.answer.get("x-seen-len")
                    ));
                }
                if last
                    .answer
                    .get("x-seen-encoding")
                    .map(|v| v.to_str().unwrap().replace(' ', ""))
                    != Some("gzip".to_owned())
                {
                    failures.push(format!(
                        "{tag} streamed gzip: service encoding {:?}",
                        last.answer.get("x-seen-encoding")
                    ));
                }
            }
            // Multipart.
            let started = s3
                .create_multipart_upload()
                .bucket("bucket")
                .key("mp/a b+c")
                .send()
                .await;
            checked(
                &mut failures,
                &format!("{tag} create_multipart"),
                err(started.as_ref()),
                &http.log,
                Some("/bucket/mp/a b+c"),
            );
            if let Ok(started) = started {
                let id = started.upload_id().unwrap();
                let r = s3
                    .upload_part()
                    .bucket("bucket")
                    .key("mp/a b+c")
                    .upload_id(id)
                    .part_number(1)
                    .body(ByteStream::from(contents.clone()))
                    .send()
                    .await;
                checked(
                    &mut failures,
                    &format!("{tag} upload_part"),
                    err(r),
                    &http.log,
                    Some("/bucket/mp/a b+c"),
                );
                let r = s3
                    .upload_part_copy()
                    .bucket("bucket")
                    .key("mp/a b+c")
                    .upload_id(id)
                    .part_number(2)
                    .copy_source("bucket/src/a b+c?d")
                    .copy_source_range("bytes=0-9")
                    .send()
                    .await;
                checked(
                    &mut failures,
                    &format!("{tag} upload_part_copy"),
                    err(r),
                    &http.log,
                    Some("/bucket/mp/a b+c"),
                );
                let r = s3
                    .complete_multipart_upload()
                    .bucket("bucket")
                    .key("mp/a b+c")
                    .upload_id(id)
                    .multipart_upload(
                        aws_sdk_s3::types::CompletedMultipartUpload::builder()
                            .parts(
                                aws_sdk_s3::types::CompletedPart::builder()
                                    .part_number(1)
                                    .e_tag("\"e\"")
                                    .build(),
                            )
                            .build(),
                    )
                    .send()
                    .await;
                checked(
                    &mut failures,
                    &format!("{tag} complete"),
                    err(r),
                    &http.log,
                    Some("/bucket/mp/a b+c"),
                );
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

matrix_test!(boto3_transfers, "transfers");
matrix_test!(aws_cli_operations, "cli_ops");
