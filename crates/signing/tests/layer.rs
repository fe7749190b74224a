//! The tower layer over a real socket with hyper's client: an `aws-chunked` upload signed by
//! our `ChunkSigner` is verified chunk by chunk; a tampered chunk fails the body.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use bytes::Bytes;
use edgeward_signing::{sign_http, ChunkSigner, PayloadSigning, SigningParams, SigningSettings};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use support::{start_server, AK, SK};

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
