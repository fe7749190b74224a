//! `SigV4Layer` in front of an axum `Router` (axum 0.8, hyper 1), as the crate's docs promise:
//! the layer goes on with `Router::layer`, handlers take the verified identity with
//! `Extension<VerifiedRequest>` and the verified body with axum's own extractors, and
//! aws-sdk-rust's STS and S3 clients (real signers) call it on 127.0.0.1.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_credential_types::Credentials;
use axum::extract::{Extension, Path};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use bytes::Bytes;
use edgeward_signing::{sign_http, LayerSettings, SigningParams, SigningSettings, VerifiedRequest};
use http_body_util::Full;
use support::sdk::{refusal_code, s3_client, sts_client, PlainHttp, UploadFile};
use support::{
    asks_for_caller_identity, caller_identity_xml, crc32_base64, send_for_text, test_layer, AK, SK,
};

/// STS `GetCallerIdentity`, answered with the verified principal.
async fn sts(Extension(verified): Extension<VerifiedRequest>, body: Bytes) -> Response {
    if !asks_for_caller_identity(&body) {
        return (http::StatusCode::BAD_REQUEST, "unexpected action").into_response();
    }
    let xml = caller_identity_xml(verified.principal(), verified.access_key_id());
    ([(http::header::CONTENT_TYPE, "text/xml")], xml).into_response()
}

/// S3 `PutObject`: the body's CRC32, as S3 answers; counts the uploads it saw whole.
async fn put_object(
    Extension(uploads): Extension<Arc<AtomicUsize>>,
    Extension(verified): Extension<VerifiedRequest>,
    Path((bucket, key)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    assert_eq!(verified.scope().service, "s3");
    assert_eq!((bucket.as_str(), key.as_str()), ("bucket", "dir/a key.bin"));
    uploads.fetch_add(1, Ordering::SeqCst);
    [("x-amz-checksum-crc32", crc32_base64(&body))].into_response()
}

/// Serves `app` on 127.0.0.1 (a free port): its address.
async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Signs `request` for `service` now, with [`AK`]'s long-term key.
fn sign_now(request: &mut http::Request<Vec<u8>>, service: &str, settings: &SigningSettings) {
    let credentials = Credentials::from_keys(AK, SK, None);
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service,
        time: std::time::SystemTime::now(),
    };
    sign_http(request, &params, settings).unwrap();
}

async fn start_axum() -> (SocketAddr, Arc<AtomicUsize>) {
    let uploads = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/", post(sts))
        .route("/{bucket}/{*key}", put(put_object))
        .layer(Extension(Arc::clone(&uploads)))
        .layer(test_layer(LayerSettings::default()));
    (serve(app).await, uploads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_routes_behind_the_layer() {
    let (addr, uploads) = start_axum().await;

    let identity = sts_client(addr, Credentials::from_keys(AK, SK, None))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(identity.arn(), Some("arn:aws:iam::123456789012:user/alice"));
    let error = sts_client(addr, Credentials::from_keys(AK, "not-the-secret", None))
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal_code(&error), "SignatureDoesNotMatch");

    // A streamed upload: axum's `Bytes` extractor reads the body through the chunk-chain
    // verification.
    let upload = UploadFile::new();
    let http = PlainHttp::default();
    let s3 = s3_client(addr, Credentials::from_keys(AK, SK, None), &http);
    let put = upload.put(&s3, "dir/a key.bin").await.unwrap();
    assert_eq!(
        put.checksum_crc32(),
        Some(crc32_base64(&upload.contents).as_str())
    );
    assert_eq!(
        http.last_sent()["x-amz-content-sha256"],
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    );
    assert_eq!(uploads.load(Ordering::SeqCst), 1);

    // Changed on the way: the handler never gets the body, axum's extractor answers 400 in
    // plain text, and the layer puts the AWS error the SDK reads in its place.
    let tampering = PlainHttp {
        tamper: Some(|body| body[100_000] ^= 1),
        ..PlainHttp::default()
    };
    let s3 = s3_client(addr, Credentials::from_keys(AK, SK, None), &tampering);
    let error = upload.put(&s3, "dir/a key.bin").await.unwrap_err();
    assert_eq!(refusal_code(&error), "SignatureDoesNotMatch");
    assert_eq!(uploads.load(Ordering::SeqCst), 1);
}

/// Every service but S3 signs its path normalised (dot segments removed, empty segments
/// collapsed), so a signature for `GET /public/report` also verifies when the path is sent as
/// `/admin/../public/report` or `/public//report`. axum routes on the path as sent (and with
/// `Router::layer`, before the layer runs), where the first reaches `/admin/{*rest}` with the
/// principal of a signer who asked for a public report: such a path is refused
/// (`InvalidRequest`, 400), the path the signature covered passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_the_router_reads_unlike_its_signature_is_refused() {
    async fn public(Path(name): Path<String>) -> String {
        format!("public {name}")
    }
    async fn admin(Path(rest): Path<String>) -> String {
        format!("admin {rest}")
    }
    let app = Router::new()
        .route("/public/{name}", get(public))
        .route("/admin/{*rest}", get(admin))
        .layer(test_layer(LayerSettings::default()));
    let addr = serve(app).await;

    let mut request = http::Request::builder()
        .uri(format!("http://{addr}/public/report?format=pdf"))
        .header("host", addr.to_string())
        .body(Vec::new())
        .unwrap();
    sign_now(&mut request, "execute-api", &SigningSettings::default());
    let send_path = |path: &str| {
        let mut sent = request.clone();
        *sent.uri_mut() = format!("http://{addr}{path}?format=pdf").parse().unwrap();
        send_for_text(addr, sent.map(|body| Full::new(Bytes::from(body))))
    };
    assert_eq!(
        send_path("/public/report").await,
        (200, "public report".to_owned())
    );
    for path in [
        "/admin/../public/report",
        "/public//report",
        "/public/./report",
        "/admin/x/../../public/report",
    ] {
        let (status, text) = send_path(path).await;
        assert_eq!(status, 400, "{path}: {text}");
        // API Gateway (`execute-api`) is restJson: its answer is JSON.
        assert!(
            text.starts_with("{\"__type\":\"InvalidRequest\""),
            "{path}: {text}"
        );
    }
}

/// SigV4 signs a header sent as several lines as their values joined by commas, so a signed
/// `x-amz-copy-source: source/a,b` also verifies when sent as the lines `source/a` and `b`.
/// A handler reads one value (`HeaderMap::get`): behind the layer it reads the signed value
/// whole, never the first line alone (here, the name of another object).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_header_split_into_lines_reaches_the_handler_whole() {
    async fn copy(headers: http::HeaderMap) -> String {
        let source = headers.get("x-amz-copy-source").unwrap();
        let lines = headers.get_all("x-amz-copy-source").iter().count();
        format!("{} in {lines} line", source.to_str().unwrap())
    }
    let app = Router::new()
        .route("/bucket/{key}", put(copy))
        .layer(test_layer(LayerSettings::default()));
    let addr = serve(app).await;

    let mut request = http::Request::builder()
        .method("PUT")
        .uri(format!("http://{addr}/bucket/copy"))
        .header("host", addr.to_string())
        .header("x-amz-copy-source", "source/a,b")
        .body(Vec::new())
        .unwrap();
    sign_now(&mut request, "s3", &SigningSettings::s3());
    let send = |request: http::Request<Vec<u8>>| {
        send_for_text(addr, request.map(|body| Full::new(Bytes::from(body))))
    };
    assert_eq!(
        send(request.clone()).await,
        (200, "source/a,b in 1 line".to_owned())
    );
    let mut split = request;
    split.headers_mut().remove("x-amz-copy-source");
    for line in ["source/a", "b"] {
        split
            .headers_mut()
            .append("x-amz-copy-source", http::HeaderValue::from_static(line));
    }
    assert_eq!(send(split).await, (200, "source/a,b in 1 line".to_owned()));
}
