//! The tower layer over a real socket: a hyper 1 server on 127.0.0.1 with [`SigV4Layer`],
//! requests signed by botocore (the venv's Python from `EDGEWARD_PYTHON`) and sent with
//! urllib3; plus an `aws-chunked` upload signed by our [`ChunkSigner`] over hyper's client.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use bytes::Bytes;
use edgeward_signing::{
    sign_http, ChunkSigner, LayerSettings, PayloadSigning, ResolvedCredential, SigV4Layer,
    SigningParams, SigningSettings, StaticCredentials, VerifiedBody, VerifiedRequest, Verifier,
    VerifierSettings,
};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tower::{Layer, ServiceExt};

const AK: &str = "AKIDLAYERTEST";
const SK: &str = "layer-secret-key/EXAMPLE";
const TEMP_AK: &str = "ASIALAYERTEST";
const TEMP_SK: &str = "temporary-secret";
const TOKEN: &str = "session/token+value==";

fn python() -> String {
    let python = std::env::var("EDGEWARD_PYTHON").unwrap_or_else(|_| {
        panic!("EDGEWARD_PYTHON is not set: run `cargo xtask test`, or set it to the interop venv's python (target/interop-venv/bin/python)")
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "EDGEWARD_PYTHON={python} does not exist (run `cargo xtask setup`)"
    );
    python
}

async fn inner(
    request: http::Request<VerifiedBody<Incoming>>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let principal = request
        .extensions()
        .get::<VerifiedRequest>()
        .map(|v| v.principal.clone())
        .unwrap_or_default();
    let (_, body) = request.into_parts();
    let text = match body.collect().await {
        Ok(collected) => format!(
            "ok {principal} {}",
            String::from_utf8_lossy(&collected.to_bytes())
        ),
        Err(e) => format!("body failed: {} {e}", e.aws_error_code()),
    };
    Ok(http::Response::new(Full::new(Bytes::from(text))))
}

async fn start_server() -> SocketAddr {
    let lookup = StaticCredentials::new()
        .with(
            AK,
            ResolvedCredential::new(SK, "arn:aws:iam::123456789012:user/alice"),
        )
        .with(
            TEMP_AK,
            ResolvedCredential::temporary(
                TEMP_SK,
                "arn:aws:sts::123456789012:assumed-role/r/s",
                TOKEN,
                SystemTime::now() + Duration::from_secs(3600),
            ),
        );
    let verifier = Arc::new(Verifier::new(lookup, VerifierSettings::default()));
    let mut settings = LayerSettings::default();
    settings.max_body_bytes = 1024;
    let layer = SigV4Layer::new(verifier, settings);
    let service = layer.layer(tower::service_fn(inner));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = service.clone();
            tokio::spawn(async move {
                let hyper_service =
                    hyper::service::service_fn(move |request: http::Request<Incoming>| {
                        service.clone().oneshot(request)
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(5))
                    .serve_connection(TokioIo::new(stream), hyper_service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_requests_through_the_layer() {
    let python = python();
    let addr = start_server().await;
    let base = format!("http://{addr}");
    let spec = |method: &str,
                path: &str,
                body: &str,
                ak: &str,
                sk: &str,
                token: Option<&str>,
                kind: &str,
                service: &str,
                headers: Value| {
        json!({
            "method": method, "url": format!("{base}{path}"), "headers": headers, "body": body,
            "access_key": ak, "secret_key": sk, "token": token, "region": "us-east-1",
            "service": service, "kind": kind, "s3": service == "s3",
        })
    };
    let specs = vec![
        // 0: STS-style POST, header auth.
        spec(
            "POST",
            "/",
            "Action=GetCallerIdentity&Version=2011-06-15",
            AK,
            SK,
            None,
            "header",
            "sts",
            json!([[
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8"
            ]]),
        ),
        // 1: temporary credentials with a session token, S3 PUT with a reserved path.
        spec(
            "PUT",
            "/bucket/a%20b/%E1%88%B4.txt",
            "hello",
            TEMP_AK,
            TEMP_SK,
            Some(TOKEN),
            "header",
            "s3",
            json!([]),
        ),
        // 2: presigned GET.
        spec(
            "GET",
            "/bucket/key?versionId=3",
            "",
            AK,
            SK,
            None,
            "query",
            "s3",
            json!([]),
        ),
        // 3: wrong secret: SignatureDoesNotMatch in query-protocol XML.
        spec(
            "POST",
            "/",
            "Action=GetCallerIdentity",
            AK,
            "wrong",
            None,
            "header",
            "sts",
            json!([]),
        ),
        // 4: unknown key, JSON protocol: JSON error.
        spec(
            "POST",
            "/",
            "{}",
            "AKIDUNKNOWN",
            SK,
            None,
            "header",
            "dynamodb",
            json!([
                ["Content-Type", "application/x-amz-json-1.0"],
                ["X-Amz-Target", "DynamoDB_20120810.ListTables"]
            ]),
        ),
        // 5: body over the layer's limit.
        spec(
            "PUT",
            "/big",
            &"x".repeat(2000),
            AK,
            SK,
            None,
            "header",
            "service",
            json!([]),
        ),
    ];
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let input = serde_json::to_vec(&specs).unwrap();
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {python}: {e}"));
        child.stdin.take().unwrap().write_all(&input).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success(), "botocore_send.py failed");
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let status = |i: usize| results[i]["status"].as_u64().unwrap();
    let body = |i: usize| results[i]["body"].as_str().unwrap().to_owned();

    assert_eq!(status(0), 200, "{}", body(0));
    assert_eq!(
        body(0),
        "ok arn:aws:iam::123456789012:user/alice Action=GetCallerIdentity&Version=2011-06-15"
    );
    assert_eq!(status(1), 200, "{}", body(1));
    assert_eq!(
        body(1),
        "ok arn:aws:sts::123456789012:assumed-role/r/s hello"
    );
    assert_eq!(status(2), 200, "{}", body(2));
    assert_eq!(status(3), 403);
    assert!(
        body(3).starts_with(
            "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
        ),
        "{}",
        body(3)
    );
    assert_eq!(status(4), 403);
    let json: Value = serde_json::from_str(&body(4)).unwrap();
    assert_eq!(json["__type"], "InvalidClientTokenId");
    assert_eq!(
        results[4]["headers"]["x-amzn-errortype"],
        "InvalidClientTokenId"
    );
    assert_eq!(status(5), 413, "{}", body(5));
    assert!(body(5).contains("<Code>EntityTooLarge</Code>"));
}

async fn send(addr: SocketAddr, request: http::Request<Full<Bytes>>) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// An `aws-chunked` upload signed by our ChunkSigner: verified chunk by chunk; a tampered
/// chunk fails the body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_upload_through_the_layer() {
    let addr = start_server().await;
    let creds = Credentials::from_keys(AK, SK, None);
    let now = SystemTime::now();
    for tamper in [false, true] {
        let data = [b"first chunk of data ".as_slice(), b"second".as_slice()];
        let decoded_len: usize = data.iter().map(|d| d.len()).sum();
        let mut request = http::Request::builder()
            .method("PUT")
            .uri(format!("http://{addr}/bucket/chunked"))
            .header("host", addr.to_string())
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", decoded_len.to_string())
            .body(Vec::<u8>::new())
            .unwrap();
        let mut settings = SigningSettings::s3();
        settings.payload = PayloadSigning::StreamingSigned { trailer: true };
        let params = SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service: "s3",
            time: now,
        };
        let seed = sign_http(&mut request, &params, &settings).unwrap();
        let mut signer = ChunkSigner::new(&creds, "us-east-1", "s3", now, &seed);
        let mut body = Vec::new();
        for chunk in data {
            body.extend(signer.chunk(chunk).unwrap());
        }
        body.extend(
            signer
                .finish(&[("x-amz-checksum-crc32", "AAAAAA==")])
                .unwrap(),
        );
        if tamper {
            let at = body.windows(6).position(|w| w == b"second").unwrap();
            body[at] = b'S';
        }
        let (parts, _) = request.into_parts();
        let (status, text) = send(
            addr,
            http::Request::from_parts(parts, Full::new(Bytes::from(body))),
        )
        .await;
        assert_eq!(status, 200);
        if tamper {
            assert_eq!(
                text,
                "body failed: SignatureDoesNotMatch chunk 1 signature does not match"
            );
        } else {
            assert_eq!(
                text,
                "ok arn:aws:iam::123456789012:user/alice first chunk of data second"
            );
        }
    }
}
