//! The `sigv4_service` example, its own code (included, not copied), on 127.0.0.1: curl's
//! signer gets the answer its doc comment promises, an unsigned or wrongly signed request
//! the AWS error, a browser upload its own answer (not a 500 for the extension it lacks), and
//! a client that half-closes after its request still gets an answer.
#![allow(clippy::unwrap_used)]

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/sigv4_service.rs"]
mod example;
mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

async fn start() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(example::serve(listener));
    addr
}

/// curl's answer for `url`, signing as `user` when given.
async fn curl(url: String, user: Option<String>) -> support::CurlAnswer {
    let mut args = Vec::new();
    if let Some(user) = user {
        args.extend([
            "--aws-sigv4".to_owned(),
            "aws:amz:us-east-1:execute-api".to_owned(),
        ]);
        args.extend(["--user".to_owned(), user]);
    }
    args.push(url);
    support::curl(args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_answers_as_its_docs_say() {
    let addr = start().await;
    let url = format!("http://{addr}/hello");
    let key = |secret: &str| Some(format!("{}:{secret}", example::ACCESS_KEY_ID));

    let signed = curl(url.clone(), key(example::SECRET_ACCESS_KEY)).await;
    assert!(signed.head.starts_with("HTTP/1.1 200 "), "{}", signed.head);
    assert_eq!(
        signed.body,
        "alice (AKIDEXAMPLE) signed GET /hello for execute-api in us-east-1\n"
    );

    let unsigned = curl(url.clone(), None).await;
    assert!(
        unsigned.head.starts_with("HTTP/1.1 403 "),
        "{}",
        unsigned.head
    );
    assert!(
        unsigned
            .body
            .contains("{\"__type\":\"MissingAuthenticationTokenException\""),
        "{}",
        unsigned.body
    );

    let wrong = curl(url, key("not-the-secret")).await;
    assert!(wrong.head.starts_with("HTTP/1.1 403 "), "{}", wrong.head);
    assert!(
        wrong
            .body
            .contains("{\"__type\":\"InvalidSignatureException\""),
        "{}",
        wrong.body
    );
}

/// `half_close(true)`: without it hyper closes a connection whose client shut its side down
/// after the request, without an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_still_gets_its_answer() {
    let addr = start().await;
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream
            .write_all(b"GET /hello HTTP/1.1\r\nHost: example\r\n\r\n")
            .unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 403 "), "{answer:?}");
    assert!(answer.contains("MissingAuthenticationToken"), "{answer:?}");
}

/// A streamed upload is answered once the handler has read it: a chunk changed after signing
/// gets the layer's refusal, not the handler's 200, and a whole 1 MiB upload gets the 200.
/// Before, the handler answered without reading: the changed chunk got 200 (never checked),
/// and the client sending the rest often saw a reset where the 200 was (hyper closes a
/// connection with a body unread).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_upload_is_answered_once_read_and_verified() {
    use aws_credential_types::Credentials;
    use std::time::SystemTime;

    let addr = start().await;
    let credentials =
        Credentials::from_keys(example::ACCESS_KEY_ID, example::SECRET_ACCESS_KEY, None);
    let upload = |changed: bool| {
        let data = vec![b'x'; 1 << 20];
        let mut request = http::Request::builder()
            .method("PUT")
            .uri(format!("http://{addr}/bucket/big"))
            .header("host", addr.to_string())
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", data.len())
            .body(Vec::new())
            .unwrap();
        let mut signer =
            support::sign_chunked_head_as(&mut request, &credentials, false, SystemTime::now());
        let mut body = Vec::new();
        for chunk in data.chunks(64 * 1024) {
            body.extend(signer.chunk(chunk).unwrap());
        }
        body.extend(signer.finish(&[]).unwrap());
        if changed {
            // A byte of the first chunk's data, past its header line.
            let data_starts = body.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
            body[data_starts + 10] = b'y';
        }
        let mut raw = format!(
            "PUT /bucket/big HTTP/1.1\r\nconnection: close\r\ncontent-length: {}\r\n",
            body.len()
        )
        .into_bytes();
        raw.extend(support::head_lines(request.headers()));
        raw.extend_from_slice(b"\r\n");
        raw.extend(body);
        raw
    };
    for (changed, status, says) in [
        (
            false,
            "HTTP/1.1 200 ",
            "alice (AKIDEXAMPLE) signed PUT /bucket/big for s3 in us-east-1",
        ),
        (true, "HTTP/1.1 403 ", "<Code>SignatureDoesNotMatch</Code>"),
    ] {
        let raw = upload(changed);
        let answer = tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            let mut reader = stream.try_clone().unwrap();
            // Sent while the answer is read, as a client does; a reset ends either side.
            let writer = std::thread::spawn(move || {
                let _ = stream.write_all(&raw);
            });
            let mut answer = Vec::new();
            let _ = reader.read_to_end(&mut answer);
            writer.join().unwrap();
            String::from_utf8_lossy(&answer).into_owned()
        })
        .await
        .unwrap();
        assert!(answer.starts_with(status), "changed={changed}: {answer:?}");
        assert!(answer.contains(says), "changed={changed}: {answer:?}");
    }
}

/// A browser upload (POST Object) signed with the example's key passes the layer with a
/// `VerifiedPost`, not a `VerifiedRequest`: the example answers it too, once the file has
/// been read (and so held to the form's size range), not with an error for a missing
/// extension.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_answers_a_browser_upload() {
    use edgeward_signing::{presign_post, PolicyCondition, PostPresignRequest, SigningParams};
    let addr = start().await;
    let credentials = aws_credential_types::Credentials::from_keys(
        example::ACCESS_KEY_ID,
        example::SECRET_ACCESS_KEY,
        None,
    );
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "s3",
        time: std::time::SystemTime::now(),
    };
    let range = [PolicyCondition::ContentLengthRange { min: 1, max: 100 }];
    let form = presign_post(
        &params,
        &PostPresignRequest {
            bucket: "uploads",
            key: "photos/${filename}",
            expires_in: Duration::from_secs(60),
            fields: &[],
            conditions: &range,
        },
    )
    .unwrap();
    let directory = tempfile::tempdir().unwrap();
    let send = |size: usize| {
        let path = directory.path().join("cat.jpg");
        std::fs::write(&path, vec![b'c'; size]).unwrap();
        let mut args = Vec::new();
        for (name, value) in form.fields() {
            args.extend(["--form-string".to_owned(), format!("{name}={value}")]);
        }
        args.extend([
            "-F".to_owned(),
            format!("file=@{}", path.display()),
            format!("http://{addr}/uploads"),
        ]);
        support::curl(args)
    };
    let uploaded = send(10).await;
    assert!(
        uploaded.head.starts_with("HTTP/1.1 200 "),
        "{}",
        uploaded.head
    );
    assert_eq!(
        uploaded.body,
        "alice (AKIDEXAMPLE) may upload photos/cat.jpg to uploads\n"
    );
    let too_large = send(101).await;
    assert!(
        too_large.head.starts_with("HTTP/1.1 400 "),
        "{}",
        too_large.head
    );
    assert!(
        too_large.body.contains("<Code>EntityTooLarge</Code>"),
        "{}",
        too_large.body
    );
}
