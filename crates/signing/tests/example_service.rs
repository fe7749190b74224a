//! The `sigv4_service` example, its own code (included, not copied), on 127.0.0.1: curl's
//! signer gets the answer its doc comment promises, an unsigned or wrongly signed request
//! the AWS error, and a client that half-closes after its request still gets an answer.
#![allow(clippy::unwrap_used)]

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/sigv4_service.rs"]
mod example;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

async fn start() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(example::serve(listener));
    addr
}

/// curl's status code and body for `url`, signing as `user` when given.
async fn curl(url: String, user: Option<String>) -> (String, String) {
    let mut command = Command::new("curl");
    command.args([
        "--silent",
        "--show-error",
        "--max-time",
        "20",
        "--write-out",
        "\n%{http_code}",
    ]);
    if let Some(user) = user {
        command
            .args(["--aws-sigv4", "aws:amz:us-east-1:execute-api"])
            .args(["--user", &user]);
    }
    command.arg(url);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("curl must be on the PATH for this test");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_answers_as_its_docs_say() {
    let addr = start().await;
    let url = format!("http://{addr}/hello");
    let key = |secret: &str| Some(format!("{}:{secret}", example::ACCESS_KEY_ID));

    let (status, body) = curl(url.clone(), key(example::SECRET_ACCESS_KEY)).await;
    assert_eq!(status, "200", "{body}");
    assert_eq!(
        body,
        "alice (AKIDEXAMPLE) signed GET /hello for execute-api in us-east-1\n"
    );

    let (status, body) = curl(url.clone(), None).await;
    assert_eq!(status, "403", "{body}");
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );

    let (status, body) = curl(url, key("not-the-secret")).await;
    assert_eq!(status, "403", "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
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
