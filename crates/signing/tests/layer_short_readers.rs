//! Services that read a streamed upload only as far as its head says: hyper's client
//! forwarding the body (it stops polling once `Content-Length` bytes are written), a handler
//! reading `Content-Length` bytes, a handler that never reads a body of length 0. The last
//! chunk, the trailer and its checksum must still be checked before such a service has all
//! of the data: it gets the failure in place of the last bytes, and the layer answers it
//! (found by an adversarial review: a tampered upload was stored upstream and answered 200).
#![allow(clippy::unwrap_used)]

mod support;

use std::convert::Infallible;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use bytes::Bytes;
use edgeward_signing::{sign_http, PayloadSigning, SigningParams, SigningSettings, VerifiedBody};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper_util::rt::TokioIo;
use support::{AK, SK};
use tower::{Layer, ServiceExt};

/// A STREAMING-UNSIGNED-PAYLOAD-TRAILER PUT head (checksum trailer crc32), signed.
fn unsigned_trailer_put(decoded_len: usize) -> http::Request<()> {
    let mut request = http::Request::builder()
        .method("PUT")
        .uri("http://upstream.example/bucket/key")
        .header("host", "upstream.example")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", decoded_len.to_string())
        .header("x-amz-trailer", "x-amz-checksum-crc32")
        .body(Vec::<u8>::new())
        .unwrap();
    let creds = Credentials::from_keys(AK, SK, None);
    let mut settings = SigningSettings::s3();
    settings.payload = PayloadSigning::StreamingUnsignedTrailer;
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service: "s3",
        time: SystemTime::now(),
    };
    sign_http(&mut request, &params, &settings).unwrap();
    request.map(|_| ())
}

/// A body from a list of frames.
type Frames = StreamBody<
    futures_util::stream::Iter<std::vec::IntoIter<Result<http_body::Frame<Bytes>, std::io::Error>>>,
>;

/// Data frames as the peer's reads deliver them.
fn frames(parts: &[&str]) -> Frames {
    let frames: Vec<Result<_, std::io::Error>> = parts
        .iter()
        .map(|part| Ok(http_body::Frame::data(Bytes::from(part.to_string()))))
        .collect();
    StreamBody::new(futures_util::stream::iter(frames))
}

/// A service that reads the body as its head describes it: `Content-Length` bytes, then no
/// further; it answers what it read, 200 if that was all of it.
async fn read_content_length_bytes<B>(
    request: http::Request<VerifiedBody<B>>,
) -> Result<http::Response<Full<Bytes>>, Infallible>
where
    B: http_body::Body + Unpin,
    B::Error: std::fmt::Display,
{
    let (parts, mut body) = request.into_parts();
    let length: usize = parts.headers["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut got = Vec::new();
    while got.len() < length {
        match body.frame().await {
            Some(Ok(frame)) => got.extend_from_slice(&frame.into_data().unwrap_or_default()),
            _ => break,
        }
    }
    let status = if got.len() == length { 200 } else { 400 };
    Ok(http::Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(got)))
        .unwrap())
}

/// The layer's answer: status and body text.
async fn answer<B>(response: http::Response<B>) -> (u16, String)
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// An upstream HTTP/1.1 server that reads the whole body and answers `stored <n> bytes: <body>`.
async fn start_upstream() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    |request: http::Request<hyper::body::Incoming>| async move {
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(format!(
                            "stored {} bytes: {}",
                            body.len(),
                            String::from_utf8_lossy(&body)
                        )))))
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// The service behind the layer is a plain reverse proxy: it forwards the verified head and
/// body with hyper's client (the head says `Content-Length: <decoded>`, as the layer set it).
/// The body's data frames carry all the decoded bytes; the final chunk and the checksum
/// trailer come in a later frame, and the trailer's CRC32 is wrong (the data was tampered
/// with in flight; on STREAMING-UNSIGNED-PAYLOAD-TRAILER nothing but that checksum vouches
/// for it). Expected: the layer answers 400 BadDigest. Actual: hyper's client stops polling
/// the body once Content-Length bytes are written, the trailer is never read, and the
/// tampered body is stored upstream and answered with 200.
#[tokio::test]
async fn a_proxy_behind_the_layer_forwards_a_body_whose_checksum_trailer_fails() {
    let upstream = start_upstream().await;
    let data = "hello world"; // tampered: the client sent other bytes
                              // The CRC32 of what the client meant to send, not of `data`.
    let body = frames(&[
        &format!("b\r\n{data}\r\n"),
        "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
    ]);
    let request = unsigned_trailer_put(data.len()).map(|_| body);
    let service = support::test_layer(edgeward_signing::LayerSettings::default()).layer(
        tower::service_fn(move |request: http::Request<VerifiedBody<_>>| async move {
            let stream = tokio::net::TcpStream::connect(upstream).await.unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(connection);
            // A proxy answers a request body that failed as a bad gateway; the layer puts
            // the body's own failure in its place.
            let Ok(response) = sender.send_request(request).await else {
                let mut bad_gateway = http::Response::new(Full::new(Bytes::new()));
                *bad_gateway.status_mut() = http::StatusCode::BAD_GATEWAY;
                return Ok::<_, Infallible>(bad_gateway);
            };
            let (parts, body) = response.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            Ok::<_, Infallible>(http::Response::from_parts(parts, Full::new(body)))
        }),
    );
    let (status, text) = answer(service.oneshot(request).await.unwrap()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("BadDigest"), "{text}");
}

/// The same with a service that reads the body as its head describes it: `Content-Length`
/// bytes, then answers (no proxy involved).
#[tokio::test]
async fn a_service_reading_content_length_bytes_never_sees_the_bad_trailer() {
    let data = "hello world";
    let body = frames(&[
        &format!("b\r\n{data}\r\n"),
        "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
    ]);
    let request = unsigned_trailer_put(data.len()).map(|_| body);
    let service = support::test_layer(edgeward_signing::LayerSettings::default())
        .layer(tower::service_fn(read_content_length_bytes));
    let (status, text) = answer(service.oneshot(request).await.unwrap()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("BadDigest"), "{text}");
}

/// An empty upload (`x-amz-decoded-content-length: 0`) tells the service `Content-Length: 0`,
/// so a service need not read its body at all: the layer checks the chain first. A bad
/// checksum trailer is `BadDigest` before the service runs; a good one reaches the service
/// as an HTTP trailer.
#[tokio::test]
async fn an_empty_upload_is_checked_before_a_service_that_never_reads_it() {
    let good = support::crc32_base64(b"");
    // (The CRC32 of no bytes is 0, `AAAAAA==`.)
    for (trailer, expected) in [("AAAAAQ==".to_owned(), 400u16), (good.clone(), 200)] {
        let body = frames(&["0\r\n", &format!("x-amz-checksum-crc32:{trailer}\r\n\r\n")]);
        let request = unsigned_trailer_put(0).map(|_| body);
        let called = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = std::sync::Arc::clone(&called);
        let service = support::test_layer(edgeward_signing::LayerSettings::default()).layer(
            tower::service_fn(move |request: http::Request<VerifiedBody<_>>| {
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
                async move {
                    let length = request.headers()["content-length"]
                        .to_str()
                        .unwrap()
                        .to_owned();
                    Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(length))))
                }
            }),
        );
        let (status, text) = answer(service.oneshot(request).await.unwrap()).await;
        assert_eq!(status, expected, "{text}");
        if expected == 400 {
            assert!(text.contains("BadDigest"), "{text}");
            assert!(!called.load(std::sync::atomic::Ordering::SeqCst));
        } else {
            assert_eq!(text, "0");
        }
    }
    // The trailer reaches a service that reads the body.
    let body = frames(&[&format!("0\r\nx-amz-checksum-crc32:{good}\r\n\r\n")]);
    let request = unsigned_trailer_put(0).map(|_| body);
    let service = support::test_layer(edgeward_signing::LayerSettings::default()).layer(
        tower::service_fn(|request: http::Request<VerifiedBody<_>>| async move {
            let collected = request.into_body().collect().await.unwrap();
            let trailer = collected
                .trailers()
                .and_then(|t| t.get("x-amz-checksum-crc32"))
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(trailer))))
        }),
    );
    let (_, text) = answer(service.oneshot(request).await.unwrap()).await;
    assert_eq!(text, good);
}

/// Control: the same bad trailer in the same frame as the data is refused (BadDigest), and the
/// right CRC32 split over two frames passes, through a service that reads the body to its end.
#[tokio::test]
async fn control_same_frame_is_refused_and_good_crc_passes() {
    let data = b"hello world";
    let crc = support::crc32_base64(data);
    let good_trailer = format!("0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n");
    for (parts, expected) in [
        (
            &["b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"][..],
            400u16,
        ),
        (&["b\r\nhello world\r\n", good_trailer.as_str()][..], 200),
    ] {
        let body = frames(parts);
        let request = unsigned_trailer_put(data.len()).map(|_| body);
        let service = support::test_layer(edgeward_signing::LayerSettings::default()).layer(
            tower::service_fn(|request: http::Request<VerifiedBody<_>>| async move {
                let body = request.into_body().collect().await;
                let status = if body.is_ok() { 200 } else { 400 };
                Ok::<_, Infallible>(
                    http::Response::builder()
                        .status(status)
                        .body(Full::new(Bytes::new()))
                        .unwrap(),
                )
            }),
        );
        let (status, text) = answer(service.oneshot(request).await.unwrap()).await;
        assert_eq!(status, expected, "{text}");
    }
}

/// The signed form: a chain whose final chunk's signature is wrong, sent after the data in a
/// read of its own, fails the body of a service that reads `Content-Length` bytes, with the
/// chunk signature's failure; the intact chain reaches it whole.
#[tokio::test]
async fn a_bad_final_chunk_signature_fails_a_content_length_reader() {
    let data = b"hello world";
    for tamper in [true, false] {
        let mut request = http::Request::builder()
            .method("PUT")
            .uri("http://upstream.example/bucket/key")
            .header("host", "upstream.example")
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", data.len().to_string())
            .body(Vec::<u8>::new())
            .unwrap();
        let mut signer = support::sign_chunked_head(&mut request, false, SystemTime::now());
        let first = String::from_utf8(signer.chunk(data).unwrap()).unwrap();
        let mut last = String::from_utf8(signer.finish(&[]).unwrap()).unwrap();
        if tamper {
            // The final chunk's signature, last hex digit changed.
            let at = last.find("\r\n").unwrap() - 1;
            let digit = if &last[at..=at] == "0" { "1" } else { "0" };
            last.replace_range(at..=at, digit);
        }
        let request = request.map(|_| frames(&[&first, &last]));
        let service = support::test_layer(edgeward_signing::LayerSettings::default())
            .layer(tower::service_fn(read_content_length_bytes));
        let (status, text) = answer(service.oneshot(request).await.unwrap()).await;
        if tamper {
            assert_eq!(status, 403, "{text}");
            assert!(text.contains("SignatureDoesNotMatch"), "{text}");
        } else {
            assert_eq!((status, text.as_str()), (200, "hello world"));
        }
    }
}
