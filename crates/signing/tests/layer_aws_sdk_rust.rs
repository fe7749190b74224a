//! aws-sdk-rust's STS and S3 clients against a hyper 1 server on 127.0.0.1 behind `SigV4Layer`:
//! the requests the SDK signs (through aws-sigv4, with the SDK's own headers:
//! `x-amz-user-agent`, `amz-sdk-invocation-id`, `amz-sdk-request`) verify, the SDK parses the
//! answer, and our refusals reach the SDK as the error codes its users match on. For S3 that
//! covers the SDK's own forms: S3 path rules, a checksum header on an in-memory body, a
//! streamed body as a signed chunk chain with a signed checksum trailer, and presigned URLs.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use aws_credential_types::Credentials;
use bytes::Bytes;
use edgeward_signing::LayerSettings;
use http_body_util::Full;
use support::sdk::{refusal_code, s3_client, sts_client, PlainHttp, UploadFile};
use support::{
    crc32_base64, send, send_for_text, start_server_answering, Answers, AK, MULTIPART_UPLOAD_ID,
    SK, TEMP_AK, TEMP_SK, TOKEN,
};

async fn start_sts_server() -> SocketAddr {
    start_server_answering(LayerSettings::default(), Answers::LikeAws).await
}

/// `GetCallerIdentity` with long-term and with temporary credentials: verified, and the SDK
/// reads the verified principal from our answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_sts_calls_verify() {
    let addr = start_sts_server().await;

    let alice = sts_client(addr, Credentials::from_keys(AK, SK, None));
    let identity = alice.get_caller_identity().send().await.unwrap();
    assert_eq!(identity.arn(), Some("arn:aws:iam::123456789012:user/alice"));
    assert_eq!(identity.account(), Some("123456789012"));
    assert_eq!(identity.user_id(), Some(AK));

    let temporary = Credentials::from_keys(TEMP_AK, TEMP_SK, Some(TOKEN.to_owned()));
    let identity = sts_client(addr, temporary)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        identity.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/r/s")
    );
}

/// A wrong secret, a missing session token and an unknown key reach the SDK as the codes STS
/// would send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_sees_our_refusals_as_sts_errors() {
    let addr = start_sts_server().await;
    let cases = [
        (
            Credentials::from_keys(AK, "not-the-secret", None),
            "SignatureDoesNotMatch",
        ),
        (
            Credentials::from_keys(TEMP_AK, TEMP_SK, None),
            "InvalidClientTokenId",
        ),
        (
            Credentials::from_keys("AKIDUNKNOWN", SK, None),
            "InvalidClientTokenId",
        ),
    ];
    for (credentials, code) in cases {
        let error = sts_client(addr, credentials)
            .get_caller_identity()
            .send()
            .await
            .unwrap_err();
        assert_eq!(refusal_code(&error), code);
    }
}

fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|value| value.to_str().unwrap())
        .unwrap_or_default()
}

/// Keys that the default path rules would change: a space, `+`, UTF-8, and `..` and `.`
/// segments that S3 keeps (a verifier that normalised them would compute another signature).
const AWKWARD_KEYS: [&str; 2] = ["photos/2024/cat picture+1 \u{fc}.jpg", "a/../b/./c//d"];

/// `PutObject` and `GetObject` as the SDK sends them by default: an in-memory body with its
/// SHA-256 signed and a CRC32 header, and a streamed file as `aws-chunked` with
/// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` (every chunk signed, then a signed CRC32
/// trailer; no other client in the tests sends this form). Each verifies, and the CRC32 the
/// SDK reads back is the server's, computed over the body the layer handed on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_s3_uploads_verify() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let http = PlainHttp::default();
    let s3 = s3_client(addr, Credentials::from_keys(AK, SK, None), &http);

    for key in AWKWARD_KEYS {
        let body = format!("in memory, under {key}");
        let put = s3
            .put_object()
            .bucket("bucket")
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from(
                body.clone().into_bytes(),
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        assert_eq!(
            put.checksum_crc32(),
            Some(crc32_base64(body.as_bytes()).as_str())
        );
        let sent = http.last_sent();
        assert_eq!(header(&sent, "x-amz-content-sha256").len(), 64, "{sent:?}");
        assert!(sent.contains_key("x-amz-checksum-crc32"), "{sent:?}");
    }

    let upload = UploadFile::new();
    let put = upload.put(&s3, AWKWARD_KEYS[0]).await.unwrap();
    assert_eq!(
        put.checksum_crc32(),
        Some(crc32_base64(&upload.contents).as_str())
    );
    let sent = http.last_sent();
    assert_eq!(
        header(&sent, "x-amz-content-sha256"),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "{sent:?}"
    );
    assert_eq!(header(&sent, "x-amz-trailer"), "x-amz-checksum-crc32");
    assert_eq!(
        header(&sent, "x-amz-decoded-content-length"),
        upload.contents.len().to_string()
    );

    let got = s3
        .get_object()
        .bucket("bucket")
        .key(AWKWARD_KEYS[1])
        .send()
        .await
        .unwrap();
    let text = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(&text[..], b"ok arn:aws:iam::123456789012:user/alice ");
}

/// The SDK's streamed upload (a signed chunk chain and a signed trailer) changed on the way:
/// a byte of the second chunk's data, or the trailer's CRC32. Either fails the body, and the
/// SDK reads `SignatureDoesNotMatch` from the layer's answer (not the service's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_s3_streamed_uploads_changed_on_the_way_fail() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let upload = UploadFile::new();
    let tampers: [fn(&mut Vec<u8>); 2] = [
        // Past the first chunk (64 KiB of data and its header).
        |body| body[100_000] ^= 1,
        |body| {
            let at = memchr::memmem::rfind(body, b"x-amz-checksum-crc32:").unwrap();
            let value = at + "x-amz-checksum-crc32:".len();
            body[value] = if body[value] == b'A' { b'B' } else { b'A' };
        },
    ];
    for tamper in tampers {
        let http = PlainHttp {
            tamper: Some(tamper),
            ..PlainHttp::default()
        };
        let s3 = s3_client(addr, Credentials::from_keys(AK, SK, None), &http);
        let error = upload.put(&s3, AWKWARD_KEYS[0]).await.unwrap_err();
        assert_eq!(refusal_code(&error), "SignatureDoesNotMatch");
    }
}

/// A multipart upload as the SDK sends one: `POST ?uploads`, `UploadPart` streamed
/// (`?partNumber=1&uploadId=…`, the upload ID escaped in the query), and
/// `CompleteMultipartUpload` with its XML body (`POST ?uploadId=…`). Each verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_s3_multipart_upload_verifies() {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let http = PlainHttp::default();
    let s3 = s3_client(addr, Credentials::from_keys(AK, SK, None), &http);
    let key = AWKWARD_KEYS[0];
    let started = s3
        .create_multipart_upload()
        .bucket("bucket")
        .key(key)
        .send()
        .await
        .unwrap();
    let upload_id = started.upload_id().unwrap();
    assert_eq!(upload_id, MULTIPART_UPLOAD_ID);

    let upload = UploadFile::new();
    let part = s3
        .upload_part()
        .bucket("bucket")
        .key(key)
        .upload_id(upload_id)
        .part_number(1)
        .body(
            aws_sdk_s3::primitives::ByteStream::from_path(&upload.path)
                .await
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        part.checksum_crc32(),
        Some(crc32_base64(&upload.contents).as_str())
    );
    // The upload ID's `+`, `/` and `=` travel escaped.
    let query = http.last_uri().query().unwrap().to_owned();
    assert!(
        query.contains("uploadId=upload%2Bid%2Fwith%3Descapes.and_safe-chars"),
        "{query}"
    );
    assert_eq!(
        http.last_sent()["x-amz-content-sha256"],
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    );
    let etag = part.e_tag().unwrap();

    let completed = s3
        .complete_multipart_upload()
        .bucket("bucket")
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(etag).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        completed.e_tag(),
        Some("\"completed by arn:aws:iam::123456789012:user/alice\"")
    );
}

/// A wrong secret, a checksum header that is not the body's, an unknown key, and a temporary
/// key without its token or with another reach the SDK as S3's codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_sees_our_refusals_as_s3_errors() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let http = PlainHttp::default();
    let cases = [
        (
            Credentials::from_keys(AK, "not-the-secret", None),
            None,
            "SignatureDoesNotMatch",
        ),
        (
            Credentials::from_keys(AK, SK, None),
            Some("AAAAAA=="),
            "BadDigest",
        ),
        (
            Credentials::from_keys("AKIDUNKNOWN", SK, None),
            None,
            "InvalidAccessKeyId",
        ),
        // Temporary keys are unknown to S3 without their token.
        (
            Credentials::from_keys(TEMP_AK, TEMP_SK, None),
            None,
            "InvalidAccessKeyId",
        ),
        (
            Credentials::from_keys(TEMP_AK, TEMP_SK, Some("another token".to_owned())),
            None,
            "InvalidToken",
        ),
    ];
    for (credentials, crc32, code) in cases {
        let error = s3_client(addr, credentials, &http)
            .put_object()
            .bucket("bucket")
            .key(AWKWARD_KEYS[0])
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"body"))
            .set_checksum_crc32(crc32.map(str::to_owned))
            .send()
            .await
            .unwrap_err();
        assert_eq!(refusal_code(&error), code);
    }
}

/// How long the tests' presigned URLs are valid.
fn five_minutes() -> aws_sdk_s3::presigning::PresigningConfig {
    aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(300)).unwrap()
}

/// A URL the SDK presigns verifies when fetched; the same URL with another key does not; a
/// presigned upload verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_s3_presigned_urls_verify() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let temporary = Credentials::from_keys(TEMP_AK, TEMP_SK, Some(TOKEN.to_owned()));
    let s3 = s3_client(addr, temporary, &PlainHttp::default());
    let presigned = s3
        .get_object()
        .bucket("bucket")
        .key(AWKWARD_KEYS[0])
        .presigned(five_minutes())
        .await
        .unwrap();
    assert!(
        presigned.uri().contains("X-Amz-Security-Token="),
        "{}",
        presigned.uri()
    );
    // The SDK's own request for the presigned URL, with the URI swapped in.
    let fetch = |uri: String| {
        let mut request = presigned.make_http_1x_request(Full::new(Bytes::new()));
        *request.uri_mut() = uri.parse().unwrap();
        send_for_text(addr, request)
    };

    let (status, text) = fetch(presigned.uri().to_owned()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text, "ok arn:aws:sts::123456789012:assumed-role/r/s ");

    let tampered = presigned.uri().replacen("cat", "dog", 1);
    assert_ne!(tampered, presigned.uri());
    let (status, text) = fetch(tampered).await;
    assert_eq!(status, 403, "{text}");
    assert!(
        text.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{text}"
    );

    // A presigned upload (its payload unsigned, as every presigned URL's is), under a key
    // with the segments S3 keeps.
    let presigned_put = s3
        .put_object()
        .bucket("bucket")
        .key(AWKWARD_KEYS[1])
        .presigned(five_minutes())
        .await
        .unwrap();
    assert!(
        presigned_put.uri().contains("/a/../b/./c//d?"),
        "{}",
        presigned_put.uri()
    );
    let body = "uploaded through a presigned URL";
    let request = presigned_put.make_http_1x_request(Full::new(Bytes::from(body)));
    let response = send(addr, request).await;
    assert_eq!(response.status(), 200, "{response:?}");
    assert_eq!(
        response.headers()["x-amz-checksum-crc32"],
        crc32_base64(body.as_bytes())
    );
}
