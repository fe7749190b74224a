//! Our signer against a verifying server we did not write: s3s-fs (the `s3s` crate's file
//! system S3 server, its own SigV4 verifier), started on 127.0.0.1 with one access key. Header
//! signatures with signed and unsigned payloads, awkward object keys, a query, presigned GET
//! and PUT URLs, and `aws-chunked` uploads signed by `ChunkSigner` are accepted; a wrong secret,
//! a tampered body and a tampered chunk are refused, so the server is seen to check.
//!
//! s3s-fs is installed by `cargo xtask setup` (`EDGEWARD_S3S_FS` names it); the test fails
//! without it rather than skipping.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use bytes::Bytes;
use edgeward_signing::{sign_http, ChunkSigner, PayloadSigning, SigningParams, SigningSettings};
use http_body_util::Full;
use support::s3s_fs::S3sFs;
use support::send_for_text;

const AK: &str = "AKIDS3SFSTEST";
const SK: &str = "s3s-fs-secret/EXAMPLE+key";

/// `request` (path and query as they go on the wire) signed with `settings` for S3.
fn signed(
    addr: SocketAddr,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    secret: &str,
    settings: &SigningSettings,
) -> (http::Request<Vec<u8>>, String) {
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path_and_query}"))
        .header("host", addr.to_string())
        .body(body.to_vec())
        .unwrap();
    let creds = Credentials::from_keys(AK, secret, None);
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service: "s3",
        time: SystemTime::now(),
    };
    let seed = sign_http(&mut request, &params, settings).unwrap();
    (request, seed)
}

async fn send(addr: SocketAddr, request: http::Request<Vec<u8>>) -> (u16, String) {
    send_for_text(addr, request.map(|body| Full::new(Bytes::from(body)))).await
}

/// Header-signed with `settings`, sent: status and body.
async fn call(
    addr: SocketAddr,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    settings: &SigningSettings,
) -> (u16, String) {
    send(
        addr,
        signed(addr, method, path_and_query, body, SK, settings).0,
    )
    .await
}

fn assert_ok((status, text): &(u16, String), what: &str) {
    assert_eq!(*status, 200, "{what}: {text}");
}

fn assert_refused((status, text): &(u16, String), code: &str, what: &str) {
    assert!(
        (400..500).contains(status) && text.contains(&format!("<Code>{code}</Code>")),
        "{what}: expected {code}, got {status} {text}"
    );
}

/// `upload` is refused and leaves no object at `path`. (s3s-fs answers a body that fails
/// its hash or chunk signature with 500 `InternalError`, not S3's codes: only the refusal and
/// its effect are checked.)
async fn assert_not_stored(addr: SocketAddr, upload: http::Request<Vec<u8>>, path: &str) {
    let answer = send(addr, upload).await;
    assert!(
        !(200..300).contains(&answer.0),
        "{path}: tampered upload accepted: {answer:?}"
    );
    assert_refused(
        &call(addr, "GET", path, b"", &SigningSettings::s3()).await,
        "NoSuchKey",
        path,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_accepts_what_our_signer_signs() {
    let server = S3sFs::start(Some((AK, SK)));
    let addr = server.addr;
    let s3 = SigningSettings::s3();

    // The server checks: a wrong secret is refused.
    let (wrong, _) = signed(addr, "PUT", "/bucket", b"", "not-the-secret", &s3);
    assert_refused(
        &send(addr, wrong).await,
        "SignatureDoesNotMatch",
        "wrong secret",
    );

    assert_ok(
        &call(addr, "PUT", "/bucket", b"", &s3).await,
        "CreateBucket",
    );

    // Signed payloads, keys that need encoding (S3 rules: the path as sent, encoded once).
    let keys = [
        "plain.txt",
        "dir/a b+c=d&e;f,g.txt",
        "ünïcødé/ключ 鍵.txt",
        "tilde~star*(paren)'quote'!.bin",
    ];
    for (index, key) in keys.iter().enumerate() {
        let path = format!("/bucket/{}", support::encode_key(key));
        let body = format!("object {index}: {key}");
        assert_ok(&call(addr, "PUT", &path, body.as_bytes(), &s3).await, key);
        let (status, text) = call(addr, "GET", &path, b"", &s3).await;
        assert_eq!((status, text.as_str()), (200, body.as_str()), "GET {key}");
    }

    // A query (ListObjectsV2) with a value that needs encoding.
    let (status, text) = call(
        addr,
        "GET",
        "/bucket?list-type=2&prefix=%C3%BCn%C3%AFc%C3%B8d%C3%A9%2F",
        b"",
        &s3,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("<KeyCount>1</KeyCount>"), "{text}");

    // UNSIGNED-PAYLOAD.
    let mut unsigned = SigningSettings::s3();
    unsigned.payload = PayloadSigning::Unsigned;
    assert_ok(
        &call(addr, "PUT", "/bucket/unsigned", b"unsigned body", &unsigned).await,
        "UNSIGNED-PAYLOAD",
    );

    // A body that is not the one signed is refused.
    let (mut tampered, _) = signed(addr, "PUT", "/bucket/tampered", b"signed body", SK, &s3);
    *tampered.body_mut() = b"other body!".to_vec();
    assert_not_stored(addr, tampered, "/bucket/tampered").await;

    // Presigned PUT and GET: the URL alone, sent with no signing headers.
    let presign = SigningSettings::s3().presigned(Duration::from_secs(300));
    let (mut put, _) = signed(addr, "PUT", "/bucket/presigned", b"", SK, &presign);
    *put.body_mut() = b"presigned body".to_vec();
    assert_ok(&send(addr, put).await, "presigned PUT");
    let (get, _) = signed(addr, "GET", "/bucket/presigned", b"", SK, &presign);
    let (status, text) = send(addr, get).await;
    assert_eq!((status, text.as_str()), (200, "presigned body"));
}

/// `aws-chunked` uploads signed by `ChunkSigner`, with chunks of S3's 8 KiB minimum and more
/// (and a short last one), with and without a signed CRC32 trailer, and the same uploads with
/// one chunk changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_accepts_our_chunk_chains() {
    let server = S3sFs::start(Some((AK, SK)));
    let addr = server.addr;
    assert_ok(
        &call(addr, "PUT", "/chunks", b"", &SigningSettings::s3()).await,
        "CreateBucket",
    );
    let data: Vec<u8> = (0..(64 * 1024 + 8 * 1024 + 100))
        .map(|i: u32| (i % 251) as u8)
        .collect();
    let pieces = [
        &data[..64 * 1024],
        &data[64 * 1024..72 * 1024],
        &data[72 * 1024..],
    ];
    // (tampered, with a signed CRC32 trailer)
    for (tamper, trailer) in [(true, false), (false, false), (true, true), (false, true)] {
        let path = format!("/chunks/object-{tamper}-{trailer}");
        let mut streaming = SigningSettings::s3();
        streaming.payload = PayloadSigning::StreamingSigned { trailer };
        let time = SystemTime::now();
        let mut request = http::Request::builder()
            .method("PUT")
            .uri(format!("http://{addr}{path}"))
            .header("host", addr.to_string())
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", data.len().to_string())
            .body(Vec::new())
            .unwrap();
        if trailer {
            request.headers_mut().insert(
                "x-amz-trailer",
                http::HeaderValue::from_static("x-amz-checksum-crc32"),
            );
        }
        let creds = Credentials::from_keys(AK, SK, None);
        let params = SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service: "s3",
            time,
        };
        let seed = sign_http(&mut request, &params, &streaming).unwrap();
        let mut signer = ChunkSigner::new(&creds, "us-east-1", "s3", time, &seed).unwrap();
        let mut body = Vec::new();
        for piece in pieces {
            body.extend(signer.chunk(piece).unwrap());
        }
        let crc32 = support::crc32_base64(&data);
        let trailers: &[(&str, &str)] = match trailer {
            true => &[("x-amz-checksum-crc32", &crc32)],
            false => &[],
        };
        body.extend(signer.finish(trailers).unwrap());
        if tamper {
            // A byte of the second chunk's data, just past its size line.
            let line = b";chunk-signature=";
            let second_line = body
                .windows(line.len())
                .enumerate()
                .filter(|(_, w)| *w == line)
                .nth(1)
                .unwrap()
                .0;
            let data_start = second_line
                + body[second_line..]
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .unwrap()
                + 2;
            body[data_start + 10] ^= 1;
        }
        let (parts, _) = request.into_parts();
        let request = http::Request::from_parts(parts, body);
        if tamper {
            assert_not_stored(addr, request, &path).await;
        } else {
            assert_ok(
                &send(addr, request).await,
                &format!("aws-chunked PUT, trailer {trailer}"),
            );
            let (get, _) = signed(addr, "GET", &path, b"", SK, &SigningSettings::s3());
            let response = support::send(addr, get.map(|b| Full::new(Bytes::from(b)))).await;
            assert_eq!(response.status(), 200);
            assert!(
                response.body().as_ref() == data.as_slice(),
                "the object read back differs"
            );
        }
    }
}

/// A signed trailer of two lines, sent in the order `x-amz-trailer` names them (not sorted by
/// name): s3s, like aws-sigv4, checks its signature over the lines sorted by name, and stores
/// the upload; the same trailer with a value changed is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_accepts_a_two_line_trailer_in_any_order() {
    let server = S3sFs::start(Some((AK, SK)));
    let addr = server.addr;
    assert_ok(
        &call(addr, "PUT", "/trailers", b"", &SigningSettings::s3()).await,
        "CreateBucket",
    );
    for tamper in [false, true] {
        let path = format!("/trailers/object-{tamper}");
        let mut streaming = SigningSettings::s3();
        streaming.payload = PayloadSigning::StreamingSigned { trailer: true };
        let time = SystemTime::now();
        let mut request = http::Request::builder()
            .method("PUT")
            .uri(format!("http://{addr}{path}"))
            .header("host", addr.to_string())
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", "5")
            .header("x-amz-trailer", "x-amz-meta-b,x-amz-meta-a")
            .body(Vec::new())
            .unwrap();
        let creds = Credentials::from_keys(AK, SK, None);
        let params = SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service: "s3",
            time,
        };
        let seed = sign_http(&mut request, &params, &streaming).unwrap();
        let mut signer = ChunkSigner::new(&creds, "us-east-1", "s3", time, &seed).unwrap();
        let mut body = signer.chunk(b"hello").unwrap();
        body.extend(
            signer
                .finish(&[("x-amz-meta-b", "1"), ("x-amz-meta-a", "2")])
                .unwrap(),
        );
        if tamper {
            let at = body
                .windows(14)
                .position(|w| w == b"x-amz-meta-b:1")
                .unwrap();
            body[at + 13] = b'2';
        }
        let (parts, _) = request.into_parts();
        let request = http::Request::from_parts(parts, body);
        match tamper {
            false => assert_ok(&send(addr, request).await, "two-line trailer"),
            true => assert_not_stored(addr, request, &path).await,
        }
    }
}
