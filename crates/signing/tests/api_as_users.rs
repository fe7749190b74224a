//! Review of the public API, used as three users would, from the docs alone.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use axum::body::Body;
use axum::extract::Extension;
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use bytes::Bytes;
use edgeward_signing::{
    sign_http, ChainLink, ChunkSigner, Clock, CredentialLookup, Error, Headers, LayerSettings,
    LookupFailure, Payload, PayloadSigning, RequestView, ResolvedCredential, SessionTokenPlacement,
    SigV4Layer, SigningParams, SigningSettings, VerifiedRequest, Verifier, VerifierSettings,
};
use http_body_util::BodyExt;
use tower::ServiceExt;

const AK: &str = "ASIAREVIEWEXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FQoGZXIvYXdzEXAMPLETOKEN/with+slash=";
const LONG_AK: &str = "AKIDREVIEWLONG";

/// A clock the test moves.
#[derive(Default)]
struct TestClock(AtomicU64);
impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

/// User 2's own async lookup, backed by a HashMap.
struct MapLookup {
    map: HashMap<String, Arc<ResolvedCredential>>,
}

impl CredentialLookup for MapLookup {
    async fn lookup(
        &self,
        access_key_id: &str,
        _session_token: Option<&str>,
    ) -> Result<Option<Arc<ResolvedCredential>>, LookupFailure> {
        tokio::task::yield_now().await;
        Ok(self.map.get(access_key_id).cloned())
    }
}

const T0: u64 = 1_700_000_000; // 2023-11-14T22:13:20Z

fn lookup(expires: SystemTime) -> Arc<MapLookup> {
    let mut map = HashMap::new();
    map.insert(
        AK.to_owned(),
        Arc::new(ResolvedCredential::temporary(
            SK,
            "arn:aws:sts::1:assumed-role/r/dev",
            TOKEN,
            expires,
        )),
    );
    map.insert(
        LONG_AK.to_owned(),
        Arc::new(ResolvedCredential::new(SK, "arn:aws:iam::1:user/long")),
    );
    Arc::new(MapLookup { map })
}

fn settings(services: &[&str]) -> VerifierSettings {
    let mut s = VerifierSettings::default();
    s.regions = edgeward_signing::Accept::OneOf(vec!["us-east-1".into()]);
    s.services = edgeward_signing::Accept::OneOf(services.iter().map(|s| s.to_string()).collect());
    s
}

async fn principal(Extension(v): Extension<VerifiedRequest>, body: Bytes) -> String {
    format!("{} {}", v.principal(), String::from_utf8_lossy(&body))
}

/// User 2's app: S3 rules on one route, a JSON protocol on another, one shared lookup.
fn app(clock: Arc<TestClock>, expires: SystemTime) -> Router {
    let lookup = lookup(expires);
    let s3 =
        Arc::new(Verifier::new(Arc::clone(&lookup), settings(&["s3"])).with_clock(clock.clone()));
    let json = Arc::new(Verifier::new(lookup, settings(&["myservice"])).with_clock(clock));
    Router::new()
        .route(
            "/{bucket}/{*key}",
            get(principal)
                .put(principal)
                .layer(SigV4Layer::new(s3, LayerSettings::default())),
        )
        .route(
            "/",
            post(principal).layer(SigV4Layer::new(json, LayerSettings::default())),
        )
}

fn creds() -> Credentials {
    Credentials::new(AK, SK, Some(TOKEN.into()), None, "test")
}

fn to_axum(request: http::Request<Vec<u8>>) -> http::Request<Body> {
    request.map(Body::from)
}

async fn call(app: &Router, request: http::Request<Vec<u8>>) -> (u16, String, http::HeaderMap) {
    let response = app.clone().oneshot(to_axum(request)).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned(), headers)
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

// ---- User 1 + 2: a device signs, the service's layer verifies -----------------------------

#[tokio::test]
async fn user1_json_header_form_with_sts_credentials() {
    let clock = Arc::new(TestClock(AtomicU64::new(T0)));
    let app = app(clock.clone(), at(T0 + 3600));
    let mut request = http::Request::post("http://svc.example.com/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "MyService.DoThing")
        .body(br#"{"a":1}"#.to_vec())
        .unwrap();
    let c = creds();
    let params = SigningParams {
        credentials: &c,
        region: "us-east-1",
        service: "myservice",
        time: at(T0),
    };
    sign_http(&mut request, &params, &SigningSettings::default()).unwrap();
    let (status, body, _) = call(&app, request.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with("arn:aws:sts::1:assumed-role/r/dev"),
        "{body}"
    );

    // The temporary credential expires: the same kind of request, signed at expiry + 1 s.
    clock.0.store(T0 + 3601, Ordering::SeqCst);
    let mut request = http::Request::post("http://svc.example.com/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "MyService.DoThing")
        .body(br#"{"a":1}"#.to_vec())
        .unwrap();
    let params = SigningParams {
        time: at(T0 + 3601),
        ..params
    };
    sign_http(&mut request, &params, &SigningSettings::default()).unwrap();
    let (status, body, headers) = call(&app, request).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        headers["x-amzn-errortype"], "ExpiredTokenException",
        "{body}"
    );
}

#[tokio::test]
async fn user1_s3_presigned_get_with_sts_credentials() {
    let clock = Arc::new(TestClock(AtomicU64::new(T0)));
    let app = app(clock.clone(), at(T0 + 3600));
    let mut request = http::Request::get("http://s3.example.com/bucket/dir/a%20key.txt")
        .body(Vec::new())
        .unwrap();
    let c = creds();
    let params = SigningParams {
        credentials: &c,
        region: "us-east-1",
        service: "s3",
        time: at(T0),
    };
    let settings = SigningSettings::s3().presigned(Duration::from_secs(300));
    sign_http(&mut request, &params, &settings).unwrap();
    let (status, body, _) = call(&app, request.clone()).await;
    assert_eq!(status, 200, "{body}");
    // After the URL's expiry: S3's AccessDenied ("Request has expired").
    clock.0.store(T0 + 301, Ordering::SeqCst);
    let (status, body, _) = call(&app, request).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
}

/// The aws-chunked PUT, as `PayloadSigning::StreamingSigned` and `ChunkSigner` document it.
fn chunked_put(trailer: bool, time: SystemTime) -> http::Request<Vec<u8>> {
    let data = b"hello chunked world";
    let c = creds();
    let mut builder = http::Request::put("http://s3.example.com/bucket/obj.txt")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", data.len().to_string());
    if trailer {
        builder = builder.header("x-amz-trailer", "x-amz-checksum-crc32");
    }
    let mut request = builder.body(Vec::new()).unwrap();
    let mut settings = SigningSettings::s3();
    settings.payload = PayloadSigning::StreamingSigned { trailer };
    let params = SigningParams {
        credentials: &c,
        region: "us-east-1",
        service: "s3",
        time,
    };
    let seed = sign_http(&mut request, &params, &settings).unwrap();
    let mut signer = ChunkSigner::new(&c, "us-east-1", "s3", time, &seed)
        .unwrap()
        .with_decoded_length(data.len() as u64);
    let mut body = signer.chunk(&data[..10]).unwrap();
    body.extend(signer.chunk(&data[10..]).unwrap());
    if trailer {
        let crc =
            base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(data).to_be_bytes());
        body.extend(signer.finish(&[("x-amz-checksum-crc32", &crc)]).unwrap());
    } else {
        body.extend(signer.finish(&[]).unwrap());
    }
    *request.body_mut() = body;
    request
}

#[tokio::test]
async fn user1_s3_chunked_put_with_and_without_trailer() {
    for trailer in [false, true] {
        let clock = Arc::new(TestClock(AtomicU64::new(T0)));
        let app = app(clock, at(T0 + 3600));
        let (status, body, _) = call(&app, chunked_put(trailer, at(T0))).await;
        assert_eq!(status, 200, "trailer {trailer}: {body}");
        assert!(
            body.ends_with(" hello chunked world"),
            "trailer {trailer}: {body}"
        );
    }
}

/// The verified future can be spawned (Send) with a user's own async lookup.
#[tokio::test]
async fn user2_verify_in_a_spawned_task() {
    let verifier = Arc::new(
        Verifier::new(lookup(at(T0 + 3600)), settings(&["myservice"]))
            .with_clock(Arc::new(TestClock(AtomicU64::new(T0)))),
    );
    let mut request = http::Request::post("http://svc.example.com/")
        .body(b"{}".to_vec())
        .unwrap();
    let c = creds();
    let params = SigningParams {
        credentials: &c,
        region: "us-east-1",
        service: "myservice",
        time: at(T0),
    };
    sign_http(&mut request, &params, &SigningSettings::default()).unwrap();
    let handle = tokio::spawn(async move {
        let view = RequestView::from_http(&request);
        verifier
            .verify(&view, Payload::Bytes(request.body()))
            .await
            .map(|v| v.principal().to_owned())
    });
    assert_eq!(
        handle.await.unwrap().unwrap(),
        "arn:aws:sts::1:assumed-role/r/dev"
    );
}

// ---- User 3: verification on the service's own HTTP stack -----------------------------------

/// The wire request, as the user's own stack hands it over: raw target, header lines.
struct Wire {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn to_wire(request: &http::Request<Vec<u8>>) -> Wire {
    let mut headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    if request.headers().get("host").is_none() {
        headers.push((
            "Host".into(),
            request.uri().authority().unwrap().to_string(),
        ));
    }
    Wire {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().map(str::to_owned),
        headers,
        body: request.body().clone(),
    }
}

fn view(wire: &Wire) -> RequestView<'_> {
    RequestView {
        method: &wire.method,
        path: &wire.path,
        query: wire.query.as_deref(),
        headers: Headers::List(&wire.headers),
        authority: None,
    }
}

fn json_request() -> http::Request<Vec<u8>> {
    let mut request = http::Request::post("http://svc.example.com/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "MyService.DoThing")
        .body(br#"{"a":1}"#.to_vec())
        .unwrap();
    let c = Credentials::from_keys(LONG_AK, SK, None);
    let params = SigningParams {
        credentials: &c,
        region: "us-east-1",
        service: "myservice",
        time: at(T0),
    };
    sign_http(&mut request, &params, &SigningSettings::default()).unwrap();
    request
}

fn plain_verifier() -> Verifier<Arc<MapLookup>> {
    Verifier::new(lookup(at(T0 + 3600)), settings(&["myservice", "s3"]))
        .with_clock(Arc::new(TestClock(AtomicU64::new(T0))))
}

#[tokio::test]
async fn user3_raw_lines_verify_and_mismatch_explains() {
    let verifier = plain_verifier();
    let wire = to_wire(&json_request());
    let verified = verifier
        .verify(&view(&wire), Payload::Bytes(&wire.body))
        .await
        .unwrap();
    assert_eq!(verified.principal(), "arn:aws:iam::1:user/long");

    // A changed body: SignatureDoesNotMatch, with the canonical request to compare.
    let mut tampered = to_wire(&json_request());
    tampered.body = br#"{"a":2}"#.to_vec();
    let error = verifier
        .verify(&view(&tampered), Payload::Bytes(&tampered.body))
        .await
        .unwrap_err();
    assert_eq!(error.aws_error_code(), "SignatureDoesNotMatch");
    let details = error.mismatch_details().unwrap();
    assert!(
        details.canonical_request.starts_with("POST\n/\n\n"),
        "{details:?}"
    );
    let explained = verifier
        .explain(
            &view(&tampered),
            Payload::Bytes(&tampered.body),
            edgeward_signing::PathMode::DEFAULT,
            SessionTokenPlacement::Signed,
        )
        .unwrap();
    assert_eq!(&explained, details);
}

/// The issue (and the crate docs) promise verification from "body or body hash". A service
/// that streams the body to storage while hashing it has the hash, not the bytes: a JSON
/// request (no `x-amz-content-sha256`, as SDKs sign every service but S3) verifies from its
/// digest, and the digest of another body is a mismatch. Where the request claims a hash
/// (S3), a digest that differs from it is `PayloadHashMismatch`.
#[tokio::test]
async fn user3_verifies_with_the_body_hash_alone() {
    let digest = |body: &[u8]| -> [u8; 32] {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body)
            .as_ref()
            .try_into()
            .unwrap()
    };
    let verifier = plain_verifier();
    let wire = to_wire(&json_request());
    let verified = verifier
        .verify(&view(&wire), Payload::Sha256(&digest(&wire.body)))
        .await
        .unwrap();
    assert!(matches!(
        verified.payload(),
        edgeward_signing::PayloadKind::Sha256 {
            body_checked: true,
            ..
        }
    ));
    let error = verifier
        .verify(&view(&wire), Payload::Sha256(&digest(b"another body")))
        .await
        .unwrap_err();
    assert_eq!(error.aws_error_code(), "SignatureDoesNotMatch", "{error}");

    let body = b"an object".to_vec();
    let mut request = http::Request::put("http://s3.example.com/bucket/obj.txt")
        .body(body.clone())
        .unwrap();
    let c = Credentials::from_keys(LONG_AK, SK, None);
    let params = SigningParams {
        credentials: &c,
        region: "us-east-1",
        service: "s3",
        time: at(T0),
    };
    sign_http(&mut request, &params, &SigningSettings::s3()).unwrap();
    let wire = to_wire(&request);
    let verified = verifier
        .verify(&view(&wire), Payload::Sha256(&digest(&body)))
        .await
        .unwrap();
    assert!(matches!(
        verified.payload(),
        edgeward_signing::PayloadKind::Sha256 {
            body_checked: true,
            ..
        }
    ));
    let error = verifier
        .verify(&view(&wire), Payload::Sha256(&digest(b"another object")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::PayloadHashMismatch { .. }),
        "{error}"
    );
}

/// An S3 PutObject signed `UNSIGNED-PAYLOAD` with a signed `x-amz-checksum-crc32` of its body
/// (the checksum is then all that vouches for the body).
fn checksummed_put_signed() -> http::Request<Vec<u8>> {
    let body = b"the body the client sent".to_vec();
    let crc =
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(&body).to_be_bytes());
    let mut request = http::Request::put("http://s3.example.com/bucket/obj.txt")
        .header("x-amz-checksum-crc32", crc)
        .body(body)
        .unwrap();
    let c = Credentials::from_keys(LONG_AK, SK, None);
    let params = SigningParams {
        credentials: &c,
        region: "us-east-1",
        service: "s3",
        time: at(T0),
    };
    let mut settings = SigningSettings::s3();
    settings.payload = PayloadSigning::Unsigned;
    sign_http(&mut request, &params, &settings).unwrap();
    request
}

/// User 3 verifies an S3 PutObject with the whole body in hand (`Payload::Bytes`), as
/// `Verifier::verify`'s docs show. The client sent `UNSIGNED-PAYLOAD` with a signed
/// `x-amz-checksum-crc32` (the checksum is then all that vouches for the body); the body was
/// changed in flight. The layer answers BadDigest, and so does `verify` with the body in hand
/// (it said Ok before the API review).
#[tokio::test]
async fn user3_checksum_header_with_the_body_in_hand() {
    let verifier = plain_verifier();
    let mut wire = to_wire(&checksummed_put_signed());
    wire.body = b"the body an attacker sent".to_vec();
    let result = verifier
        .verify(&view(&wire), Payload::Bytes(&wire.body))
        .await;
    assert!(
        matches!(result, Err(ref e) if e.aws_error_code() == "BadDigest"),
        "verify with the whole body: {:?}",
        result.map(|v| v.payload().clone())
    );
}

/// The layer refuses the request of `user3_checksum_header_with_the_body_in_hand` (BadDigest).
#[tokio::test]
async fn layer_refuses_the_tampered_checksum_body() {
    let clock = Arc::new(TestClock(AtomicU64::new(T0)));
    let app = app(clock, at(T0 + 3600));
    let mut request = checksummed_put_signed();
    *request.body_mut() = b"the body an attacker sent".to_vec();
    let (status, body, _) = call(&app, request).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>BadDigest</Code>"), "{body}");
}

/// User 3 verifies an aws-chunked upload with a trailer on their own stack, following
/// `PayloadKind::StreamingSigned`'s doc (it named the bare `chunk_verifier`, which refuses
/// every trailer, before the API review).
#[tokio::test]
async fn user3_streamed_body_as_payload_kind_documents() {
    let verifier = Verifier::new(lookup(at(T0 + 3600)), settings(&["s3"]))
        .with_clock(Arc::new(TestClock(AtomicU64::new(T0))));
    let wire = to_wire(&chunked_put(true, at(T0)));
    let verified = verifier
        .verify(&view(&wire), Payload::Unavailable)
        .await
        .unwrap();
    assert!(matches!(
        verified.payload(),
        edgeward_signing::PayloadKind::StreamingSigned { trailer: true }
    ));
    let mut chain = verified
        .streamed_body_verifier(&view(&wire).headers)
        .unwrap()
        .unwrap();
    let mut out = Vec::new();
    let result = chain
        .push(&wire.body, &mut out)
        .and_then(|()| chain.finish());
    assert!(
        result.is_ok(),
        "a valid signed upload with a trailer: {result:?}"
    );
    assert_eq!(out, b"hello chunked world");
}

/// User 3 buffers the whole aws-chunked body and hands it over as `Payload::Bytes` ("The whole
/// body"): a chunk changed in flight fails its chunk's signature (before the API review
/// `verify` said Ok, checking no chunk).
#[tokio::test]
async fn user3_whole_chunked_body_in_hand() {
    let verifier = Verifier::new(lookup(at(T0 + 3600)), settings(&["s3"]))
        .with_clock(Arc::new(TestClock(AtomicU64::new(T0))));
    let mut wire = to_wire(&chunked_put(false, at(T0)));
    let at_data = wire.body.windows(5).position(|w| w == b"hello").unwrap();
    wire.body[at_data..at_data + 5].copy_from_slice(b"HELLO");
    let result = verifier
        .verify(&view(&wire), Payload::Bytes(&wire.body))
        .await;
    assert!(
        matches!(
            result,
            Err(Error::ChunkSignatureMismatch {
                link: ChainLink::Chunk(0),
                ..
            })
        ),
        "a tampered chunk, whole body given: {:?}",
        result.map(|v| v.payload().clone())
    );
}

/// User 3 (own HTTP stack, routes on the path as sent) follows `Verifier::verify`'s docs. A
/// request signed for `/public/file` and sent as `/admin/../public/file` verifies (correct
/// SigV4: the AWS suite's `get-relative*` cases need it); `check_served_path` is what stops a
/// router acting on `/admin/..`, as the layer's `PathNotNormalized` does.
#[tokio::test]
async fn user3_path_as_sent_differs_from_path_signed() {
    let verifier = plain_verifier();
    let mut request = http::Request::get("http://svc.example.com/public/file")
        .body(Vec::new())
        .unwrap();
    let c = Credentials::from_keys(LONG_AK, SK, None);
    let params = SigningParams {
        credentials: &c,
        region: "us-east-1",
        service: "myservice",
        time: at(T0),
    };
    sign_http(&mut request, &params, &SigningSettings::default()).unwrap();
    let mut wire = to_wire(&request);
    let signed = verifier
        .verify(&view(&wire), Payload::Bytes(&wire.body))
        .await
        .unwrap();
    signed.check_served_path(&wire.path).unwrap();
    for sent in ["/admin/../public/file", "/public//file", "/public/./file"] {
        wire.path = sent.into();
        let verified = verifier
            .verify(&view(&wire), Payload::Bytes(&wire.body))
            .await
            .unwrap();
        let error = verified.check_served_path(sent).unwrap_err();
        assert!(
            matches!(error, Error::PathNotNormalized { .. }),
            "{sent}: {error}"
        );
        assert_eq!(error.aws_error_code(), "InvalidRequest");
    }
}

/// User 2 groups the S3 routes under a prefix with `Router::nest`, the usual axum way. axum
/// hands a nested router the path without its prefix, while the signature covers the full
/// path: so, as `SigV4Layer`'s docs say, the layer goes on the outer router, where it
/// verifies; on the nested router it refuses every request (fails closed).
#[tokio::test]
async fn user2_layer_on_a_nested_router() {
    let clock = Arc::new(TestClock(AtomicU64::new(T0)));
    let s3 = Arc::new(Verifier::new(lookup(at(T0 + 3600)), settings(&["s3"])).with_clock(clock));
    let storage = || Router::new().route("/{bucket}/{*key}", get(principal));
    let outer = Router::new()
        .nest("/storage", storage())
        .layer(SigV4Layer::new(Arc::clone(&s3), LayerSettings::default()));
    let inner = Router::new().nest(
        "/storage",
        storage().layer(SigV4Layer::new(s3, LayerSettings::default())),
    );
    let signed = || {
        let mut request = http::Request::get("http://s3.example.com/storage/bucket/obj.txt")
            .body(Vec::new())
            .unwrap();
        let c = creds();
        let params = SigningParams {
            credentials: &c,
            region: "us-east-1",
            service: "s3",
            time: at(T0),
        };
        sign_http(&mut request, &params, &SigningSettings::s3()).unwrap();
        request
    };
    let (status, body, _) = call(&outer, signed()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = call(&inner, signed()).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
}

/// User 1 signs an S3 request with `SigningSettings::default()` ("header signing with the
/// body's SHA-256"), service `s3`: signed, that is a signature over `/bucket/a%2520key.txt`,
/// which S3 (and the layer's S3 route) refuses. The signer refuses it and names the settings
/// to use; with them the layer answers 200.
#[tokio::test]
async fn user1_s3_signed_with_default_settings() {
    let clock = Arc::new(TestClock(AtomicU64::new(T0)));
    let app = app(clock, at(T0 + 3600));
    let request = || {
        http::Request::get("http://s3.example.com/bucket/a%20key.txt")
            .body(Vec::new())
            .unwrap()
    };
    let c = creds();
    let params = SigningParams {
        credentials: &c,
        region: "us-east-1",
        service: "s3",
        time: at(T0),
    };
    let error = sign_http(&mut request(), &params, &SigningSettings::default()).unwrap_err();
    assert!(
        matches!(error, Error::InvalidSigningInput { ref reason } if reason.contains("SigningSettings::s3()")),
        "{error}"
    );
    let mut signed = request();
    sign_http(&mut signed, &params, &SigningSettings::s3()).unwrap();
    let (status, body, _) = call(&app, signed).await;
    assert_eq!(status, 200, "{body}");
}

/// User 1 writes the chunked PUT as `ChunkSigner`'s docs show it: one `SigningParams` for the
/// request and its chunks (`for_request`), so one clock reading, even one a microsecond before
/// the next second (before the review, `ChunkSigner::new` took its own time, and code that read
/// the clock again broke every chunk when the second turned).
#[tokio::test]
async fn user1_chunk_signer_takes_the_requests_params() {
    let clock = Arc::new(TestClock(AtomicU64::new(T0)));
    let app = app(clock, at(T0 + 3600));
    let data = b"hello chunked world";
    let c = creds();
    let mut request = http::Request::put("http://s3.example.com/bucket/obj.txt")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", data.len().to_string())
        .body(Vec::new())
        .unwrap();
    let mut settings = SigningSettings::s3();
    settings.payload = PayloadSigning::StreamingSigned { trailer: false };
    let params = SigningParams {
        credentials: &c,
        region: "us-east-1",
        service: "s3",
        time: at(T0) + Duration::from_micros(999_999),
    };
    let seed = sign_http(&mut request, &params, &settings).unwrap();
    let mut signer = ChunkSigner::for_request(&params, &seed)
        .unwrap()
        .with_decoded_length(data.len() as u64);
    let mut body = signer.chunk(data).unwrap();
    body.extend(signer.finish(&[]).unwrap());
    *request.body_mut() = body;
    let (status, body, _) = call(&app, request).await;
    assert_eq!(status, 200, "{body}");
}
