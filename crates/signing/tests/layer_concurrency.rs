//! The layer and the verifier around a verification: concurrency, cancellation, and
//! collaborators that fail (a credential lookup that errs, panics or hangs, a secret rotated,
//! an inner service that errs or is not ready, a response future dropped at each await).
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use bytes::Bytes;
use edgeward_signing::{
    sign_http, CredentialLookup, Error, LayerSettings, LookupFailure, Payload, PayloadSigning,
    RequestView, ResolvedCredential, SigV4Layer, SigningParams, SigningSettings, VerifiedBody,
    Verifier, VerifierSettings,
};
use http_body_util::{BodyExt, Full, StreamBody};
use tower::{Layer, Service, ServiceExt};

const AK: &str = "AKIDCONCURRENCY";
const SK: &str = "concurrency-secret/EXAMPLE";

#[derive(Clone)]
enum Behaviour {
    Answer,
    Fail(String),
    Panic,
    Gate(Arc<tokio::sync::Semaphore>),
}

/// Counts the lookups in flight: one while a lookup future lives.
struct Live(Arc<AtomicUsize>);
impl Live {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter.clone())
    }
}
impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct Scripted {
    secrets: Mutex<HashMap<String, String>>,
    behaviour: Mutex<HashMap<String, Behaviour>>,
    calls: AtomicUsize,
    live: Arc<AtomicUsize>,
}

impl Scripted {
    fn with(self, ak: &str, secret: &str) -> Self {
        self.secrets
            .lock()
            .unwrap()
            .insert(ak.to_owned(), secret.to_owned());
        self
    }
    fn set_secret(&self, ak: &str, secret: &str) {
        self.secrets
            .lock()
            .unwrap()
            .insert(ak.to_owned(), secret.to_owned());
    }
    fn behave(&self, ak: &str, b: Behaviour) {
        self.behaviour.lock().unwrap().insert(ak.to_owned(), b);
    }
}

impl CredentialLookup for Scripted {
    async fn lookup(
        &self,
        access_key_id: &str,
        _session_token: Option<&str>,
    ) -> Result<Option<Arc<ResolvedCredential>>, LookupFailure> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let _live = Live::new(&self.live);
        let behaviour = self
            .behaviour
            .lock()
            .unwrap()
            .get(access_key_id)
            .cloned()
            .unwrap_or(Behaviour::Answer);
        match behaviour {
            Behaviour::Answer => {}
            Behaviour::Fail(text) => return Err(LookupFailure(text)),
            Behaviour::Panic => panic!("lookup backend exploded"),
            Behaviour::Gate(gate) => {
                let _permit = gate.acquire().await.unwrap();
            }
        }
        let secret = self.secrets.lock().unwrap().get(access_key_id).cloned();
        Ok(secret.map(|s| {
            Arc::new(ResolvedCredential::new(
                s,
                format!("arn:aws:iam::123456789012:user/{access_key_id}"),
            ))
        }))
    }
}

/// A PUT signed for `service` with `ak`/`secret`; S3's rules for `s3`.
fn signed(
    ak: &str,
    secret: &str,
    service: &str,
    payload: PayloadSigning,
    body: &[u8],
    content_type: Option<&str>,
) -> http::Request<Vec<u8>> {
    let mut builder = http::Request::builder()
        .method("PUT")
        .uri("http://example.com/bucket/key")
        .header("host", "example.com");
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    let mut request = builder.body(body.to_vec()).unwrap();
    let creds = Credentials::from_keys(ak, secret, None);
    let mut settings = if service == "s3" {
        SigningSettings::s3()
    } else {
        SigningSettings::default()
    };
    settings.payload = payload;
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service,
        time: SystemTime::now(),
    };
    sign_http(&mut request, &params, &settings).unwrap();
    request
}

fn s3_put(ak: &str, secret: &str, body: &[u8]) -> http::Request<Full<Bytes>> {
    signed(ak, secret, "s3", PayloadSigning::Signed, body, None).map(|b| Full::new(Bytes::from(b)))
}

type Inner = tower::util::BoxCloneSyncService<
    http::Request<VerifiedBody<Full<Bytes>>>,
    http::Response<Full<Bytes>>,
    std::convert::Infallible,
>;

fn echo() -> Inner {
    tower::util::BoxCloneSyncService::new(tower::service_fn(
        |request: http::Request<VerifiedBody<Full<Bytes>>>| async move {
            let body = request.into_body().collect().await;
            let text = match body {
                Ok(c) => format!("ok {}", String::from_utf8_lossy(&c.to_bytes())),
                Err(e) => format!("body failed {e}"),
            };
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(text))))
        },
    ))
}

async fn answer<S>(
    service: S,
    request: http::Request<Full<Bytes>>,
) -> (u16, http::HeaderMap, String)
where
    S: Service<
        http::Request<Full<Bytes>>,
        Response = http::Response<http_body_util::Either<Full<Bytes>, Full<Bytes>>>,
        Error = std::convert::Infallible,
    >,
{
    let response = tokio::time::timeout(Duration::from_secs(20), service.oneshot(request))
        .await
        .expect("no answer in 20 s")
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

// ---------------------------------------------------------------------------------------------
// Rotation: the same access key ID resolves to another secret between two calls.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rotation_takes_effect_on_the_next_request() {
    let lookup = Arc::new(Scripted::default().with(AK, "old-secret"));
    let verifier = Verifier::new(lookup.clone(), VerifierSettings::default());
    let old = signed(AK, "old-secret", "s3", PayloadSigning::Signed, b"x", None);
    let new = signed(AK, "new-secret", "s3", PayloadSigning::Signed, b"x", None);
    async fn verify_one(
        verifier: &Verifier<Arc<Scripted>>,
        r: &http::Request<Vec<u8>>,
    ) -> Result<(), Error> {
        let view = RequestView::from_http(r);
        verifier
            .verify(&view, Payload::Bytes(r.body()))
            .await
            .map(|_| ())
    }
    let check = |r| verify_one(&verifier, r);
    check(&old).await.unwrap();
    check(&old).await.unwrap(); // warm
    assert!(matches!(
        check(&new).await,
        Err(Error::SignatureDoesNotMatch { .. })
    ));
    lookup.set_secret(AK, "new-secret");
    assert!(
        matches!(check(&old).await, Err(Error::SignatureDoesNotMatch { .. })),
        "the old secret's cached key was served after rotation"
    );
    check(&new).await.unwrap();
    check(&new).await.unwrap();
    // And back: the old secret's keys, if still cached, are the right ones for it.
    lookup.set_secret(AK, "old-secret");
    check(&old).await.unwrap();
    assert!(check(&new).await.is_err());
}

/// A body whose hash is not in a header is the payload hash, so the signature waits for it.
/// A small body (up to 64 KiB) is just read, with one lookup; a larger one is read only after
/// the head has been checked (with a lookup of its own), so that a client without a key cannot
/// have megabytes held for it: two lookups.
#[tokio::test]
async fn only_a_body_over_64_kib_is_checked_from_the_head_first() {
    for (length, lookups) in [(64 * 1024, 1), (64 * 1024 + 1, 2)] {
        let lookup = Arc::new(Scripted::default().with(AK, SK));
        let verifier = Arc::new(Verifier::new(lookup.clone(), VerifierSettings::default()));
        let service = SigV4Layer::new(verifier, LayerSettings::default()).layer(echo());
        let body = vec![b'x'; length];
        let mut request = signed(AK, SK, "sts", PayloadSigning::Signed, &body, None);
        assert!(!request.headers().contains_key("x-amz-content-sha256"));
        request.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(length),
        );
        let request = request.map(|b| Full::new(Bytes::from(b)));
        let (status, _, text) = answer(service, request).await;
        assert_eq!(
            status,
            200,
            "{length} bytes: {}",
            &text[..text.len().min(200)]
        );
        assert_eq!(
            lookup.calls.load(Ordering::SeqCst),
            lookups,
            "lookups for a body of {length} bytes"
        );
    }
}

/// A body that declares no length (chunked transfer coding) and goes past its limit is
/// `EntityTooLarge`, as one that declares too much is: the limit, not a failed read. Its limit
/// is `max_body_bytes` when it must be buffered (its hash only in the canonical request, as
/// STS's), `max_streamed_body_bytes` when it is passed on past the buffer (its hash in a
/// header, as S3's).
#[tokio::test]
async fn a_body_of_no_declared_length_over_the_limit_is_entity_too_large() {
    let lookup = Arc::new(Scripted::default().with(AK, SK));
    let verifier = Arc::new(Verifier::new(lookup, VerifierSettings::default()));
    for (service, status) in [("sts", 413), ("s3", 400)] {
        let mut settings = LayerSettings::default();
        match service {
            "s3" => {
                settings.max_body_bytes = 4;
                settings.max_streamed_body_bytes = 8;
            }
            _ => settings.max_body_bytes = 8,
        }
        // STS's form body: the query protocol, answered in its XML.
        let form = (service == "sts").then_some("application/x-www-form-urlencoded");
        let request = signed(AK, SK, service, PayloadSigning::Signed, b"123456789", form)
            .map(|b| Full::new(Bytes::from(b)));
        assert!(!request.headers().contains_key(http::header::CONTENT_LENGTH));
        let (got, _, text) = answer(
            SigV4Layer::new(verifier.clone(), settings).layer(echo()),
            request,
        )
        .await;
        assert_eq!(got, status, "{service}: {text}");
        assert!(
            text.contains("<Code>EntityTooLarge</Code>"),
            "{service}: {text}"
        );
        // The limit in the words of the service's form: S3's element (with no size proposed,
        // none being declared), the error's own words elsewhere.
        let limit = match service {
            "s3" => "</Message><MaxSizeAllowed>8</MaxSizeAllowed><RequestId>",
            _ => "more than 8",
        };
        assert!(text.contains(limit), "{service}: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// A lookup that fails: code, status, and nothing of its text to the client.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_failing_lookup_is_a_generic_500_in_every_format() {
    let leak = "db at 10.1.2.3 refused user=svc password=hunter2";
    let lookup = Arc::new(Scripted::default().with(AK, SK));
    lookup.behave(AK, Behaviour::Fail(leak.to_owned()));
    let verifier = Arc::new(Verifier::new(lookup.clone(), VerifierSettings::default()));
    let layer = SigV4Layer::new(verifier, LayerSettings::default());

    // S3 (REST XML).
    let (status, headers, text) = answer(layer.layer(echo()), s3_put(AK, SK, b"data")).await;
    assert_eq!(status, 500, "{text}");
    assert!(text.contains("<Code>InternalError</Code>"), "{text}");
    assert!(
        !text.contains("hunter2") && !text.contains("10.1.2.3"),
        "{text}"
    );
    assert!(headers.contains_key("x-amz-request-id"));

    // Query protocol (STS).
    let sts = signed(
        AK,
        SK,
        "sts",
        PayloadSigning::Signed,
        b"Action=GetCallerIdentity&Version=2011-06-15",
        Some("application/x-www-form-urlencoded"),
    )
    .map(|b| Full::new(Bytes::from(b)));
    let (status, _, text) = answer(layer.layer(echo()), sts).await;
    assert_eq!(status, 500, "{text}");
    assert!(
        text.contains("<Type>Receiver</Type><Code>InternalFailure</Code>"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");

    // awsJson (DynamoDB).
    let mut ddb = signed(
        AK,
        SK,
        "dynamodb",
        PayloadSigning::Signed,
        b"{}",
        Some("application/x-amz-json-1.0"),
    );
    ddb.headers_mut().insert(
        "x-amz-target",
        http::HeaderValue::from_static("DynamoDB_20120810.ListTables"),
    );
    // (x-amz-target is not signed here: the layer answers before any signature check.)
    let (status, headers, text) =
        answer(layer.layer(echo()), ddb.map(|b| Full::new(Bytes::from(b)))).await;
    assert_eq!(status, 500, "{text}");
    assert_eq!(headers["x-amzn-errortype"], "InternalFailure");
    assert!(text.contains("\"__type\":\"InternalFailure\""), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// A lookup that panics: the server and the other connections live on; the cache still works.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_lookup_takes_down_its_connection_only() {
    let lookup = Arc::new(
        Scripted::default()
            .with(AK, SK)
            .with("AKIDPANICS", "whatever"),
    );
    lookup.behave("AKIDPANICS", Behaviour::Panic);
    let verifier = Arc::new(Verifier::new(lookup.clone(), VerifierSettings::default()));
    let service = SigV4Layer::new(verifier, LayerSettings::default()).layer(tower::service_fn(
        |request: http::Request<VerifiedBody<hyper::body::Incoming>>| async move {
            let body = request.into_body().collect().await.unwrap().to_bytes();
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(body)))
        },
    ));
    let addr = support::serve_service(service, None).await;
    let target = |r: http::Request<Full<Bytes>>| {
        let (mut parts, body) = r.into_parts();
        parts.uri = format!("http://{addr}/bucket/key").parse().unwrap();
        http::Request::from_parts(parts, body)
    };
    // Sign for the real host.
    let put = |ak: &str, secret: &str, body: &[u8]| {
        let mut request = http::Request::builder()
            .method("PUT")
            .uri(format!("http://{addr}/bucket/key"))
            .header("host", addr.to_string())
            .body(body.to_vec())
            .unwrap();
        let creds = Credentials::from_keys(ak, secret, None);
        support::sign_s3(
            &mut request,
            &creds,
            "us-east-1",
            PayloadSigning::Signed,
            SystemTime::now(),
        );
        request.map(|b| Full::new(Bytes::from(b)))
    };
    let _ = target;

    // A connection kept open across the panic, with a request before.
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut keep, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let r = keep.send_request(put(AK, SK, b"before")).await.unwrap();
    assert_eq!(r.status(), 200);

    // The panicking lookup on its own connection.
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut doomed, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let outcome = doomed
        .send_request(put("AKIDPANICS", "whatever", b"boom"))
        .await;
    eprintln!("panicking lookup: client saw {outcome:?}");
    assert!(outcome.is_err(), "an answer after a panic: {outcome:?}");

    // The other connection and new ones are served; the verifier's cache still works.
    let r = keep.send_request(put(AK, SK, b"after")).await.unwrap();
    assert_eq!(r.status(), 200);
    for _ in 0..3 {
        let r = support::send(addr, put(AK, SK, b"fresh")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(&r.body()[..], b"fresh");
    }
}

// ---------------------------------------------------------------------------------------------
// Cancellation: drop the layer's future at each await point.
// ---------------------------------------------------------------------------------------------

fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    let mut cx = Context::from_waker(std::task::Waker::noop());
    future.poll(&mut cx)
}

type FrameStream = Pin<
    Box<dyn futures_util::Stream<Item = Result<http_body::Frame<Bytes>, std::io::Error>> + Send>,
>;

/// A body that sends `first`, then nothing, for ever; counts whether it was dropped.
fn stalling_body(first: Vec<u8>, dropped: Arc<AtomicBool>) -> StreamBody<FrameStream> {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let flag = Flag(dropped);
    let head = futures_util::stream::iter(
        (!first.is_empty()).then(|| Ok(http_body::Frame::data(Bytes::from(first)))),
    );
    let tail = futures_util::stream::poll_fn(move |_| {
        let _keep = &flag;
        Poll::Pending
    });
    use futures_util::StreamExt;
    StreamBody::new(Box::pin(head.chain(tail)))
}

#[tokio::test]
async fn dropping_the_future_at_each_await_point_leaves_nothing_behind() {
    let lookup = Arc::new(Scripted::default().with(AK, SK));
    let verifier = Arc::new(Verifier::new(lookup.clone(), VerifierSettings::default()));
    let layer = SigV4Layer::new(verifier.clone(), LayerSettings::default());
    type B = StreamBody<
        Pin<
            Box<
                dyn futures_util::Stream<Item = Result<http_body::Frame<Bytes>, std::io::Error>>
                    + Send,
            >,
        >,
    >;
    let inner_called = Arc::new(AtomicUsize::new(0));
    let make = || {
        let inner_called = inner_called.clone();
        layer.layer(tower::service_fn(
            move |request: http::Request<VerifiedBody<B>>| {
                inner_called.fetch_add(1, Ordering::SeqCst);
                async move {
                    let body = request.into_body().collect().await;
                    Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(
                        format!("{:?}", body.map(|c| c.to_bytes())),
                    ))))
                }
            },
        ))
    };

    // 1. During the lookup.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    lookup.behave(AK, Behaviour::Gate(gate.clone()));
    let dropped = Arc::new(AtomicBool::new(false));
    let request = signed(AK, SK, "s3", PayloadSigning::Signed, b"hello", None)
        .map(|_| stalling_body(b"hello".to_vec(), dropped.clone()));
    let mut service = make();
    let mut future = Box::pin(service.call(request));
    assert!(poll_once(future.as_mut()).is_pending());
    assert_eq!(lookup.live.load(Ordering::SeqCst), 1, "lookup in flight");
    drop(future);
    assert_eq!(lookup.live.load(Ordering::SeqCst), 0, "lookup left behind");
    assert!(dropped.load(Ordering::SeqCst), "body left behind");
    lookup.behave(AK, Behaviour::Answer);

    // 2. During body buffering (signature already checked: x-amz-content-sha256; a length
    // declared within the buffer, or the body would be passed on unbuffered).
    let dropped = Arc::new(AtomicBool::new(false));
    let mut request = signed(AK, SK, "s3", PayloadSigning::Signed, b"hello world", None)
        .map(|_| stalling_body(b"hello".to_vec(), dropped.clone()));
    request.headers_mut().insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from_static("11"),
    );
    let mut service = make();
    let mut future = Box::pin(service.call(request));
    assert!(poll_once(future.as_mut()).is_pending());
    drop(future);
    assert!(dropped.load(Ordering::SeqCst));

    // 3. Mid-chunk of an aws-chunked body (declared length > 0: the service reads it).
    let mut head = http::Request::builder()
        .method("PUT")
        .uri("http://example.com/bucket/key")
        .header("host", "example.com")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", "10")
        .body(Vec::new())
        .unwrap();
    let creds = Credentials::from_keys(AK, SK, None);
    let now = SystemTime::now();
    let mut chunks = support::sign_chunked_head_as(&mut head, &creds, false, now);
    let encoded = chunks.chunk(b"0123456789").unwrap();
    let half = encoded[..encoded.len() - 4].to_vec();
    let dropped = Arc::new(AtomicBool::new(false));
    let request = head.map(|_| stalling_body(half, dropped.clone()));
    let mut service = make();
    let mut future = Box::pin(service.call(request));
    assert!(poll_once(future.as_mut()).is_pending());
    drop(future);
    assert!(dropped.load(Ordering::SeqCst));

    // 4. Mid-chunk of one that declares 0 bytes (the layer reads it itself).
    let mut head = http::Request::builder()
        .method("PUT")
        .uri("http://example.com/bucket/key")
        .header("host", "example.com")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", "0")
        .body(Vec::new())
        .unwrap();
    let mut chunks = support::sign_chunked_head_as(&mut head, &creds, false, now);
    let encoded = chunks.finish(&[]).unwrap();
    let half = encoded[..encoded.len() / 2].to_vec();
    let dropped = Arc::new(AtomicBool::new(false));
    let request = head.map(|_| stalling_body(half, dropped.clone()));
    let mut service = make();
    let mut future = Box::pin(service.call(request));
    assert!(poll_once(future.as_mut()).is_pending());
    drop(future);
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(
        inner_called.load(Ordering::SeqCst),
        1,
        "only case 3 reached the service"
    );

    // Everything still works, warm and cold.
    for body in [&b"again"[..], b"and again"] {
        let full = s3_put(AK, SK, body);
        let (status, _, text) = answer(layer.layer(echo()), full).await;
        assert_eq!(status, 200, "{text}");
    }
    assert_eq!(lookup.live.load(Ordering::SeqCst), 0);
}

// ---------------------------------------------------------------------------------------------
// Concurrency: many verifications at once, the same key and many keys, a small cache.
// ---------------------------------------------------------------------------------------------

#[test]
fn concurrent_verifications_all_verify_with_a_small_cache() {
    let keys: Vec<(String, String)> = (0..24)
        .map(|i| (format!("AKIDCONC{i:04}"), format!("secret-{i}")))
        .collect();
    let mut lookup = Scripted::default();
    for (ak, sk) in &keys {
        lookup = lookup.with(ak, sk);
    }
    let mut policy = VerifierSettings::default();
    policy.key_cache_capacity = 4;
    let verifier = Arc::new(Verifier::new(Arc::new(lookup), policy));
    // Requests: per key, a few scopes (regions) so keys churn in the cache.
    let mut requests = Vec::new();
    for (ak, sk) in &keys {
        for region in ["us-east-1", "eu-west-1", "ap-south-1"] {
            let mut request = http::Request::builder()
                .method("PUT")
                .uri("http://example.com/bucket/key")
                .header("host", "example.com")
                .body(b"payload".to_vec())
                .unwrap();
            let creds = Credentials::from_keys(ak, sk, None);
            support::sign_s3(
                &mut request,
                &creds,
                region,
                PayloadSigning::Signed,
                SystemTime::now(),
            );
            requests.push(request);
        }
    }
    let requests = Arc::new(requests);
    let failures = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let verifier = verifier.clone();
            let requests = requests.clone();
            let failures = failures.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    for round in 0..200 {
                        let i = (round * 7 + t * 13) % requests.len();
                        // Half the time the same hot request.
                        let i = if round % 2 == 0 { 0 } else { i };
                        let r = &requests[i];
                        let view = RequestView::from_http(r);
                        if let Err(e) = verifier.verify(&view, Payload::Bytes(r.body())).await {
                            eprintln!("{i}: {e}");
                            failures.fetch_add(1, Ordering::SeqCst);
                        }
                        // And a forged one now and then.
                        if round % 5 == 0 {
                            let mut forged = r.clone();
                            *forged.body_mut() = b"tampered".to_vec();
                            let view = RequestView::from_http(&forged);
                            assert!(verifier
                                .verify(&view, Payload::Bytes(forged.body()))
                                .await
                                .is_err());
                        }
                    }
                });
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(failures.load(Ordering::SeqCst), 0);
}

/// The layer, its service and the verifier are Send + Sync + Clone where a server needs it.
#[test]
fn the_layer_and_its_service_are_send_sync_clone() {
    fn assert_all<T: Send + Sync + Clone + 'static>() {}
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_all::<SigV4Layer<Scripted>>();
    assert_all::<edgeward_signing::SigV4Service<Inner, Scripted>>();
    assert_send_sync::<Verifier<Scripted>>();
    assert_all::<edgeward_signing::VerifiedRequest>();
    fn assert_send<T: Send>(_: &T) {}
    let service = SigV4Layer::new(
        Arc::new(Verifier::new(
            Scripted::default(),
            VerifierSettings::default(),
        )),
        LayerSettings::default(),
    )
    .layer(echo());
    let mut service = service;
    let future = service.call(s3_put(AK, SK, b"x"));
    assert_send(&future);
}

// ---------------------------------------------------------------------------------------------
// The inner service: readiness, errors, bodies not read.
// ---------------------------------------------------------------------------------------------

/// An inner service that records whether each call came on a ready instance: a clone is not
/// ready; `poll_ready` makes it ready when `open`; `call` consumes the readiness.
#[derive(Clone)]
struct Strict {
    ready: bool,
    open: Arc<AtomicBool>,
    unready_calls: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
}

impl Strict {
    fn new() -> Self {
        Self {
            ready: false,
            open: Arc::new(AtomicBool::new(true)),
            unready_calls: Arc::default(),
            calls: Arc::default(),
        }
    }
}

impl<B: Send + 'static> Service<http::Request<B>> for Strict {
    type Response = http::Response<Full<Bytes>>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.open.load(Ordering::SeqCst) {
            self.ready = true;
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    fn call(&mut self, _: http::Request<B>) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if !std::mem::replace(&mut self.ready, false) {
            self.unready_calls.fetch_add(1, Ordering::SeqCst);
        }
        std::future::ready(Ok(http::Response::new(Full::new(Bytes::from_static(
            b"ok",
        )))))
    }
}

#[tokio::test]
async fn the_inner_service_is_called_only_when_ready() {
    let lookup = Arc::new(Scripted::default().with(AK, SK));
    let verifier = Arc::new(Verifier::new(lookup, VerifierSettings::default()));
    let strict = Strict::new();
    let mut service = SigV4Layer::new(verifier, LayerSettings::default()).layer(strict.clone());

    // The layer is ready at once; the inner service's readiness is awaited once the request
    // has verified, and the call waits for it.
    strict.open.store(false, Ordering::SeqCst);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    assert!(Service::<http::Request<Full<Bytes>>>::poll_ready(&mut service, &mut cx).is_ready());
    let mut waiting = service.call(s3_put(AK, SK, b"w"));
    assert!(poll_once(waiting.as_mut()).is_pending());
    assert_eq!(strict.calls.load(Ordering::SeqCst), 0);
    strict.open.store(true, Ordering::SeqCst);
    assert_eq!(waiting.await.unwrap().status(), 200);

    // Several calls in flight from one instance, each after its own poll_ready.
    let mut futures = Vec::new();
    for i in 0..5 {
        futures_util::future::poll_fn(|cx| {
            Service::<http::Request<Full<Bytes>>>::poll_ready(&mut service, cx)
        })
        .await
        .unwrap();
        futures.push(service.call(s3_put(AK, SK, format!("n{i}").as_bytes())));
    }
    // Run them in reverse order.
    while let Some(f) = futures.pop() {
        let r = f.await.unwrap();
        assert_eq!(r.status(), 200);
    }
    // A refused request (wrong secret) consumes the readiness without calling.
    ServiceExt::<http::Request<Full<Bytes>>>::ready(&mut service)
        .await
        .unwrap();
    let r = service.call(s3_put(AK, "wrong", b"x")).await.unwrap();
    assert_eq!(r.status(), 403);
    // Clones via oneshot.
    for _ in 0..3 {
        let r = service.clone().oneshot(s3_put(AK, SK, b"y")).await.unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(strict.calls.load(Ordering::SeqCst), 9);
    assert_eq!(strict.unready_calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_inner_error_is_passed_on_as_is() {
    let lookup = Arc::new(Scripted::default().with(AK, SK));
    let verifier = Arc::new(Verifier::new(lookup, VerifierSettings::default()));
    let service = SigV4Layer::new(verifier, LayerSettings::default()).layer(tower::service_fn(
        |_: http::Request<VerifiedBody<Full<Bytes>>>| async {
            Err::<http::Response<Full<Bytes>>, _>(std::io::Error::other("inner broke"))
        },
    ));
    let e = service.oneshot(s3_put(AK, SK, b"z")).await.unwrap_err();
    assert_eq!(e.to_string(), "inner broke");
}

// ---------------------------------------------------------------------------------------------
// Readiness held by requests that are not (yet) verified.
// ---------------------------------------------------------------------------------------------

type Boxed = http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>;

fn boxed_full(body: Vec<u8>) -> Boxed {
    Full::new(Bytes::from(body))
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// The inner service limited to one request at a time with tower's `ConcurrencyLimit` (its
/// permit is taken in `poll_ready`): a request from a peer with no key at all, trickling a
/// small body, holds that permit while the layer reads its body (up to `body_timeout`), so a
/// valid request waits for it; the layer passes only verified requests to the service, yet an
/// unverified one takes the service's capacity.
#[tokio::test(start_paused = true)]
async fn an_unverified_request_does_not_hold_the_inner_services_capacity() {
    let lookup = Arc::new(Scripted::default().with(AK, SK));
    let verifier = Arc::new(Verifier::new(lookup.clone(), VerifierSettings::default()));
    let inner = tower::limit::ConcurrencyLimit::new(
        tower::service_fn(|request: http::Request<VerifiedBody<Boxed>>| async move {
            let body = request.into_body().collect().await.unwrap().to_bytes();
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(body)))
        }),
        1,
    );
    let service = SigV4Layer::new(verifier, LayerSettings::default()).layer(inner);

    // The peer without a key: a made-up access key, a 100-byte body (small: read before the
    // lookup), 10 bytes of it sent, then nothing.
    let mut forged = signed(
        "AKIDNOBODYATALL",
        "made-up",
        "sts",
        PayloadSigning::Signed,
        &[b'a'; 100],
        Some("application/x-www-form-urlencoded"),
    );
    forged
        .headers_mut()
        .insert("content-length", http::HeaderValue::from_static("100"));
    let dropped = Arc::new(AtomicBool::new(false));
    let forged = forged.map(|_| stalling_body(vec![b'a'; 10], dropped.clone()).boxed_unsync());
    let forged_answer = tokio::spawn(service.clone().oneshot(forged));
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;

    // A valid signer, just after.
    let start = tokio::time::Instant::now();
    let valid = signed(AK, SK, "s3", PayloadSigning::Signed, b"valid", None).map(boxed_full);
    let response = service.clone().oneshot(valid).await.unwrap();
    let waited = start.elapsed();
    assert_eq!(response.status(), 200);
    let forged_status = forged_answer.await.unwrap().unwrap().status();
    assert!(
        waited < Duration::from_secs(1),
        "the valid request waited {waited:?} for the service's one slot, held by a peer \
         without a key (answered {forged_status} in the end)"
    );
}

/// HTTP/2: a lookup that panics on one stream ends that stream (the client is not left
/// waiting), and the other streams of the connection are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_lookup_over_http2_ends_its_stream_only() {
    let lookup = Arc::new(Scripted::default().with(AK, SK).with("AKIDPANICS", "x"));
    lookup.behave("AKIDPANICS", Behaviour::Panic);
    let verifier = Arc::new(Verifier::new(lookup.clone(), VerifierSettings::default()));
    let service = SigV4Layer::new(verifier, LayerSettings::default()).layer(tower::service_fn(
        |request: http::Request<VerifiedBody<hyper::body::Incoming>>| async move {
            let body = request.into_body().collect().await.unwrap().to_bytes();
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(body)))
        },
    ));
    let addr = support::serve_service(service, None).await;
    let put = move |ak: &str, secret: &str, body: &[u8]| {
        let mut request = http::Request::builder()
            .method("PUT")
            .uri(format!("http://{addr}/bucket/key"))
            .body(body.to_vec())
            .unwrap();
        let creds = Credentials::from_keys(ak, secret, None);
        // HTTP/2: no Host header, the authority stands in.
        request
            .headers_mut()
            .insert("host", addr.to_string().parse().unwrap());
        support::sign_s3(
            &mut request,
            &creds,
            "us-east-1",
            PayloadSigning::Signed,
            SystemTime::now(),
        );
        request.headers_mut().remove("host");
        *request.version_mut() = http::Version::HTTP_2;
        request.map(|b| Full::new(Bytes::from(b)))
    };
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let mut doomed_sender = sender.clone();
    let doomed = tokio::spawn(async move {
        tokio::time::timeout(
            Duration::from_secs(10),
            doomed_sender.send_request(put("AKIDPANICS", "x", b"boom")),
        )
        .await
    });
    let mut ok_sender = sender.clone();
    for i in 0..5 {
        let r = ok_sender
            .send_request(put(AK, SK, format!("ok{i}").as_bytes()))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let outcome = doomed.await.unwrap();
    eprintln!("HTTP/2 panicking stream: {outcome:?}");
    assert!(matches!(outcome, Ok(Err(_))), "{outcome:?}");
    let r = ok_sender.send_request(put(AK, SK, b"after")).await.unwrap();
    assert_eq!(r.status(), 200);
}

/// A lookup whose temporary credentials carry an expiry far in the past (a store's sentinel
/// for "revoked", say `i64::MIN` seconds): the request is refused `ExpiredToken`, without a
/// panic in rendering the error.
#[tokio::test]
async fn a_far_past_expiry_from_the_lookup_is_an_expired_token() {
    struct Revoked;
    impl CredentialLookup for Revoked {
        async fn lookup(
            &self,
            _: &str,
            _: Option<&str>,
        ) -> Result<Option<Arc<ResolvedCredential>>, LookupFailure> {
            // A store's "revoked" sentinel, `i64::MIN` seconds, read back as a time.
            let expiry = SystemTime::UNIX_EPOCH
                .checked_sub(Duration::from_secs(i64::MIN.unsigned_abs()))
                .unwrap();
            Ok(Some(Arc::new(ResolvedCredential::temporary(
                SK,
                "revoked",
                "the-token",
                expiry,
            ))))
        }
    }
    let verifier = Arc::new(Verifier::new(Revoked, VerifierSettings::default()));
    let service = SigV4Layer::new(verifier, LayerSettings::default()).layer(echo());
    let mut request = http::Request::builder()
        .method("PUT")
        .uri("http://example.com/bucket/key")
        .header("host", "example.com")
        .body(b"x".to_vec())
        .unwrap();
    let creds = Credentials::from_keys(AK, SK, Some("the-token".to_owned()));
    support::sign_s3(
        &mut request,
        &creds,
        "us-east-1",
        PayloadSigning::Signed,
        SystemTime::now(),
    );
    let request = request.map(|b| Full::new(Bytes::from(b)));
    let outcome = tokio::spawn(answer(service, request)).await;
    let (status, _, text) = outcome.expect("the layer panicked");
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("<Code>ExpiredToken</Code>"), "{text}");
}
