//! The layer's lingering close (`drain_behind_refusal`): a request refused from its head is
//! answered at once with `Connection: close`, and its body, up to its declared length (or
//! `max_body_bytes` when none is declared), is read behind the answer before the connection closes (RFC 9112, 9.6), so the client's body meets
//! no reset. Cases cargo-mutants (2026-12-04) found no test held: HTTP/1.0, a `Content-Length`
//! of exactly the limit, and the limit on a body of unknown length.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The head of a streamed PUT whose signature is forged (its last hex digit changed): it fails
/// at the head, before any of the body is read.
fn forged_head(addr: SocketAddr, version: &str, framing: &str) -> String {
    let mut request = http::Request::builder()
        .method("PUT")
        .uri("/bucket/key")
        .header("host", addr.to_string())
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", "5")
        .body(Vec::new())
        .unwrap();
    support::sign_chunked_head(&mut request, false, SystemTime::now());
    let auth = request.headers()["authorization"]
        .to_str()
        .unwrap()
        .to_owned();
    let last = if auth.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &auth[..auth.len() - 1]);
    request
        .headers_mut()
        .insert("authorization", forged.parse().unwrap());
    let mut head = format!("PUT /bucket/key HTTP/{version}\r\n{framing}");
    for (name, value) in request.headers() {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    head + "\r\n"
}

/// Reads until `until` has come (`Some`), or `None` when the peer closes or 5 s pass.
async fn read_until(stream: &mut tokio::net::TcpStream, until: &str) -> Option<String> {
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).into_owned();
            if text.contains(until) {
                return Some(text);
            }
        }
    })
    .await
    .ok()?
}

/// Whether the server still holds the connection open: a read neither returns data, EOF nor
/// an error within a moment.
async fn still_open(stream: &mut tokio::net::TcpStream) -> bool {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut probe = [0u8; 1];
    tokio::time::timeout(Duration::from_millis(50), stream.read(&mut probe))
        .await
        .is_err()
}

/// HTTP/1.1 with 5 bytes and with exactly the limit (1,024), and HTTP/1.0 asking to keep the
/// connection: the answer comes before the body and says the connection closes; the server
/// holds the connection until the body has come, then closes cleanly. Mutants of
/// `drain_behind_refusal` ("replace > with >= / < / ==" on the version and the declared
/// length) close one of these at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_body_up_to_the_limit_is_read_before_the_close() {
    let addr = support::start_server().await; // max_body_bytes 1,024
    for (version, len) in [("1.1", 5usize), ("1.1", 1024), ("1.0", 5)] {
        let mut framing = format!("content-length: {len}\r\n");
        if version == "1.0" {
            framing.push_str("connection: keep-alive\r\n");
        }
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(forged_head(addr, version, &framing).as_bytes())
            .await
            .unwrap();
        let answer = read_until(&mut stream, "</Error>")
            .await
            .unwrap_or_else(|| panic!("HTTP/{version} {len}: no answer before the body"));
        assert!(answer.contains(" 403 "), "HTTP/{version} {len}: {answer}");
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("\r\nconnection: close\r\n"),
            "HTTP/{version} {len}: {answer}"
        );
        assert!(
            still_open(&mut stream).await,
            "HTTP/{version} {len}: closed before the body came"
        );
        stream.write_all(&vec![b'x'; len]).await.unwrap();
        let mut rest = Vec::new();
        let end = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
        assert!(
            matches!(end, Ok(Ok(0))),
            "HTTP/{version} {len}: {end:?} {}",
            String::from_utf8_lossy(&rest)
        );
    }
}

/// A body of unknown length (`Transfer-Encoding: chunked`) is read behind the refusal up to
/// `max_body_bytes`: one of exactly the limit, in two pieces, keeps the connection open until
/// its last chunk; one past it (2,000 bytes in pieces of 500) is read no further, and the
/// connection closes before its end. Mutants "replace > with ==" (reads on without bound)
/// and "replace > with < / >=" (stops at the first piece) each break one of the two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_body_of_unknown_length_is_read_up_to_the_limit() {
    let addr = support::start_server().await; // max_body_bytes 1,024
    for (total, piece, open_before_the_end) in [(1024usize, 512usize, true), (2000, 500, false)] {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = forged_head(addr, "1.1", "transfer-encoding: chunked\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = read_until(&mut stream, "</Error>")
            .await
            .unwrap_or_else(|| panic!("{total}: no answer"));
        assert!(answer.starts_with("HTTP/1.1 403"), "{total}: {answer}");
        for _ in 0..total / piece {
            let mut chunk = format!("{piece:x}\r\n").into_bytes();
            chunk.extend(std::iter::repeat_n(b'x', piece));
            chunk.extend_from_slice(b"\r\n");
            // The write fails once the server has closed: that is what the test looks for.
            let _ = stream.write_all(&chunk).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            still_open(&mut stream).await,
            open_before_the_end,
            "{total} bytes sent, the last chunk not yet"
        );
    }
}

/// A refusal after verification, of a body the layer has not read: a non-S3 upload whose path
/// the client sent with an empty segment and signed normalised (as botocore and aws-sigv4 sign
/// for every service but S3; botocore's `mediastore-data` `PutObject` is such an upload),
/// `UNSIGNED-PAYLOAD` past `max_body_bytes` (passed on unbuffered) or `aws-chunked`: it
/// verifies from its head, and `check_served_path` then refuses it (400 `InvalidRequest`)
/// before any of its body is read. The body is read and dropped behind the answer like every
/// other refusal's, so a client that sends its whole body before it reads the answer reads the
/// answer, not a reset (mutants "delete match arm BodyKind::Chunked / Unsigned" in the
/// post-verification refusal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_after_verification_drains_the_unread_body() {
    use aws_credential_types::Credentials;
    use edgeward_signing::{ContentSha256Header, PayloadSigning, SigningParams, SigningSettings};

    let addr = support::start_server().await; // max_body_bytes 1,024
    let len = 8usize << 20;
    for payload in [
        PayloadSigning::Unsigned,
        PayloadSigning::StreamingSigned { trailer: false },
    ] {
        let mut request = http::Request::builder()
            .method("PUT")
            .uri("/media//big")
            .header("host", addr.to_string());
        if payload != PayloadSigning::Unsigned {
            request = request
                .header("content-encoding", "aws-chunked")
                .header("x-amz-decoded-content-length", (len - 4096).to_string());
        }
        let mut request = request.body(Vec::new()).unwrap();
        let mut signing = SigningSettings::default();
        signing.payload = payload.clone();
        signing.content_sha256 = ContentSha256Header::Include;
        let credentials = Credentials::from_keys(support::AK, support::SK, None);
        let params = SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service: "mediastore",
            time: SystemTime::now(),
        };
        edgeward_signing::sign_http(&mut request, &params, &signing).unwrap();
        let mut head =
            format!("PUT /media//big HTTP/1.1\r\ncontent-length: {len}\r\n").into_bytes();
        head.extend(support::head_lines(request.headers()));
        head.extend_from_slice(b"\r\n");
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(&head).await.unwrap();
        let sent = stream.write_all(&vec![b'x'; len]).await;
        assert!(sent.is_ok(), "{payload:?}: the body met a reset: {sent:?}");
        let answer = read_until(&mut stream, "\"}").await;
        assert!(
            answer
                .as_deref()
                .is_some_and(|a| a.starts_with("HTTP/1.1 400")
                    && a.contains("InvalidRequest")
                    && a.to_ascii_lowercase().contains("\r\nconnection: close\r\n")),
            "{payload:?}: {answer:?}"
        );
    }
}

/// An `UNSIGNED-PAYLOAD` upload of no declared length, passed on as read, that fails part way
/// (past `max_streamed_body_bytes`) is answered `EntityTooLarge` with `Connection: close`
/// while the client is still sending: the rest is read and dropped behind the answer (a
/// lingering close), so the connection stays open for the client's next bytes. Written for
/// mutant "delete match arm BodyKind::Unsigned{body, drain:spawn, ..} in <impl Body for
/// VerifiedBody<B>>::poll_frame", under which the server closes at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_body_that_fails_part_way_is_drained_behind_the_answer() {
    use aws_credential_types::Credentials;
    use edgeward_signing::PayloadSigning;

    let mut settings = edgeward_signing::LayerSettings::default();
    settings.max_body_bytes = 1024;
    settings.max_streamed_body_bytes = 2048;
    let addr = support::start_server_with(settings).await;
    let mut request = http::Request::builder()
        .method("PUT")
        .uri("/bucket/big")
        .header("host", addr.to_string())
        .body(Vec::new())
        .unwrap();
    support::sign_s3(
        &mut request,
        &Credentials::from_keys(support::AK, support::SK, None),
        "us-east-1",
        PayloadSigning::Unsigned,
        SystemTime::now(),
    );
    let mut head = b"PUT /bucket/big HTTP/1.1\r\ntransfer-encoding: chunked\r\n".to_vec();
    head.extend(support::head_lines(request.headers()));
    head.extend_from_slice(b"\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(&head).await.unwrap();
    // 3,000 bytes in pieces of 500, with no last chunk: the body fails past 2,048.
    for _ in 0..6 {
        let mut chunk = b"1f4\r\n".to_vec();
        chunk.extend(std::iter::repeat_n(b'x', 500));
        chunk.extend_from_slice(b"\r\n");
        stream.write_all(&chunk).await.unwrap();
    }
    let answer = read_until(&mut stream, "</Error>").await;
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 400")
                && a.contains("<Code>EntityTooLarge</Code>")
                && a.to_ascii_lowercase().contains("\r\nconnection: close\r\n")),
        "{answer:?}"
    );
    assert!(
        still_open(&mut stream).await,
        "closed under the client's body, not drained"
    );
}

/// A client that asked `Expect: 100-continue` has not sent its body: behind a refusal from the
/// head there is nothing to drain, and the server closes at once, not after waiting for a
/// body that will not come. Written for mutant "replace || with && in drain_behind_refusal"
///, under which the layer waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_to_an_expect_continue_request_closes_at_once() {
    let addr = support::start_server().await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let framing = "content-length: 5\r\nexpect: 100-continue\r\n";
    stream
        .write_all(forged_head(addr, "1.1", framing).as_bytes())
        .await
        .unwrap();
    let answer = read_until(&mut stream, "</Error>").await;
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 403")),
        "{answer:?}"
    );
    let mut rest = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest)).await;
    assert!(
        matches!(end, Ok(Ok(0))),
        "{end:?} {}",
        String::from_utf8_lossy(&rest)
    );
}
