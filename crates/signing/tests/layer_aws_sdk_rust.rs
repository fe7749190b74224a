//! aws-sdk-rust's STS and S3 clients against a hyper 1 server on 127.0.0.1 behind `SigV4Layer`:
//! the requests the SDK signs (through aws-sigv4, with the SDK's own headers:
//! `x-amz-user-agent`, `amz-sdk-invocation-id`, `amz-sdk-request`) verify, the SDK parses the
//! answer, and our refusals reach the SDK as the error codes its users match on. For S3 that
//! covers the SDK's own forms: S3 path rules, a checksum header on an in-memory body, a
//! streamed body as a signed chunk chain with a signed trailer of each checksum the SDK
//! computes, and presigned URLs. A client with a clock an hour off recovers as against AWS:
//! the SDK corrects its clock from our `RequestTimeTooSkewed` answer and retries.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_sdk_s3::types::ChecksumAlgorithm;
use base64::Engine as _;
use bytes::Bytes;
use edgeward_signing::LayerSettings;
use http_body_util::Full;
use support::sdk::{
    refusal_code, s3_client, s3_client_as_if_tls, s3_config, sts_client, PlainHttp, UploadFile,
};
use support::{
    crc32_base64, independent_checksum, send, send_for_text, sha256_hex, start_server_answering,
    Answers, AK, MULTIPART_UPLOAD_ID, SK, TEMP_AK, TEMP_SK, TOKEN,
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

/// `PutObject` and `GetObject` as the SDK sends them by default, of an in-memory body: its
/// SHA-256 signed and a CRC32 header. Each verifies, and the CRC32 the SDK reads back is the
/// server's, computed over the body the layer handed on. (A streamed body:
/// `aws_sdk_rust_s3_streamed_uploads_verify_with_every_checksum`.)
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

/// A checksum aws-sdk-s3 can send (aws-smithy-checksums computes these five and no other).
struct SdkChecksum {
    algorithm: ChecksumAlgorithm,
    trailer: &'static str,
    /// The checksum the SDK read from the service's answer to `PutObject`.
    answered: fn(&PutObjectOutput) -> Option<&str>,
}

const SDK_CHECKSUMS: [SdkChecksum; 5] = [
    SdkChecksum {
        algorithm: ChecksumAlgorithm::Crc32,
        trailer: "x-amz-checksum-crc32",
        answered: PutObjectOutput::checksum_crc32,
    },
    SdkChecksum {
        algorithm: ChecksumAlgorithm::Crc32C,
        trailer: "x-amz-checksum-crc32c",
        answered: PutObjectOutput::checksum_crc32_c,
    },
    SdkChecksum {
        algorithm: ChecksumAlgorithm::Crc64Nvme,
        trailer: "x-amz-checksum-crc64nvme",
        answered: PutObjectOutput::checksum_crc64_nvme,
    },
    SdkChecksum {
        algorithm: ChecksumAlgorithm::Sha1,
        trailer: "x-amz-checksum-sha1",
        answered: PutObjectOutput::checksum_sha1,
    },
    SdkChecksum {
        algorithm: ChecksumAlgorithm::Sha256,
        trailer: "x-amz-checksum-sha256",
        answered: PutObjectOutput::checksum_sha256,
    },
];

/// An `aws-chunked` body as it was sent, read apart from the layer: the sizes of its chunks of
/// data, and its trailer lines (the trailer signature among them, on a signed chain).
fn read_chunked(body: &[u8]) -> (Vec<usize>, Vec<(String, String)>) {
    let mut sizes = Vec::new();
    let mut at = 0;
    loop {
        let end = at + memchr::memmem::find(&body[at..], b"\r\n").unwrap();
        let header = std::str::from_utf8(&body[at..end]).unwrap();
        let size = usize::from_str_radix(header.split(';').next().unwrap(), 16).unwrap();
        at = end + 2;
        if size == 0 {
            break;
        }
        sizes.push(size);
        assert_eq!(&body[at + size..at + size + 2], b"\r\n");
        at += size + 2;
    }
    let trailers = std::str::from_utf8(&body[at..])
        .unwrap()
        .split("\r\n")
        .take_while(|line| !line.is_empty())
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect();
    (sizes, trailers)
}

/// The value of the trailer `name` in an `aws-chunked` body as it was sent.
fn sent_trailer(body: &[u8], name: &str) -> String {
    let (_, trailers) = read_chunked(body);
    trailers
        .into_iter()
        .find(|(sent, _)| sent == name)
        .unwrap_or_else(|| panic!("no {name} trailer in the body sent"))
        .1
}

/// How the SDK streams an upload: to an `http` endpoint every chunk and the trailer signed, to
/// an `https` one unsigned (the checksum trailer, vouched for by the signed `x-amz-trailer`,
/// the only check of the data); and the code a body changed on the way fails with.
struct StreamedForm {
    client: fn(SocketAddr, Credentials, &PlainHttp) -> aws_sdk_s3::Client,
    content_sha256: &'static str,
    changed: &'static str,
}

const STREAMED_FORMS: [StreamedForm; 2] = [
    StreamedForm {
        client: s3_client,
        content_sha256: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        changed: "SignatureDoesNotMatch",
    },
    StreamedForm {
        client: s3_client_as_if_tls,
        content_sha256: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        changed: "BadDigest",
    },
];

/// `PutObject` of a streamed file (the SDK reads it as it sends, so it cannot hash it first)
/// with each checksum the SDK computes, in both of its streamed forms: `aws-chunked` in
/// several 64 KiB chunks, with `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` (every chunk
/// signed, then the checksum in a signed trailer; no other client in the tests sends this
/// form) or `STREAMING-UNSIGNED-PAYLOAD-TRAILER`. Each verifies; the service is handed the
/// file's bytes (the ETag is their SHA-256) and the trailer the SDK sent, which is the file's
/// checksum where the test can compute it apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_s3_streamed_uploads_verify_with_every_checksum() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let upload = UploadFile::new();
    let etag = format!("\"{}\"", sha256_hex(&upload.contents));
    for form in STREAMED_FORMS {
        let http = PlainHttp::default();
        let s3 = (form.client)(addr, Credentials::from_keys(AK, SK, None), &http);
        for checksum in SDK_CHECKSUMS {
            let name = checksum.trailer;
            let put = upload
                .put_with(&s3, AWKWARD_KEYS[0], Some(checksum.algorithm))
                .await
                .unwrap_or_else(|e| panic!("{name}, {}: {e:?}", form.content_sha256));
            let sent = http.last_sent();
            assert_eq!(
                header(&sent, "x-amz-content-sha256"),
                form.content_sha256,
                "{sent:?}"
            );
            assert_eq!(header(&sent, "x-amz-trailer"), name);
            assert_eq!(
                header(&sent, "x-amz-decoded-content-length"),
                upload.contents.len().to_string()
            );
            let body = http.last_body();
            let (chunks, _) = read_chunked(&body);
            assert!(chunks.len() > 2, "{name}: {chunks:?}");

            let computed = sent_trailer(&body, name);
            if let Some(independent) = independent_checksum(name, &upload.contents) {
                assert_eq!(computed, independent, "{name}");
            }
            let answered = (checksum.answered)(&put);
            assert_eq!(
                answered,
                Some(computed.as_str()),
                "{name}, {}",
                form.content_sha256
            );
            assert_eq!(put.e_tag(), Some(etag.as_str()), "{name}");
        }
    }
}

/// The SDK's streamed upload changed on the way, in either form and with each checksum: a
/// byte of the second chunk's data, or the trailer's checksum. Either fails the body, and the
/// SDK reads the layer's answer (not the service's): `SignatureDoesNotMatch` where the chunks
/// and trailer are signed, `BadDigest` where the checksum is the only check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_s3_streamed_uploads_changed_on_the_way_fail() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let upload = UploadFile::new();
    let tampers: [fn(&mut Vec<u8>); 2] = [
        // Past the first chunk (64 KiB of data and its header).
        |body| body[100_000] ^= 1,
        // The first character of the checksum trailer's value.
        |body| {
            let at = memchr::memmem::rfind(body, b"\r\nx-amz-checksum-").unwrap();
            let value = at + memchr::memchr(b':', &body[at..]).unwrap() + 1;
            body[value] = if body[value] == b'A' { b'B' } else { b'A' };
        },
    ];
    for form in STREAMED_FORMS {
        for checksum in SDK_CHECKSUMS {
            for tamper in tampers {
                let http = PlainHttp {
                    tamper: Some(tamper),
                    ..PlainHttp::default()
                };
                let s3 = (form.client)(addr, Credentials::from_keys(AK, SK, None), &http);
                let error = upload
                    .put_with(&s3, AWKWARD_KEYS[0], Some(checksum.algorithm.clone()))
                    .await
                    .unwrap_err();
                assert_eq!(
                    refusal_code(&error),
                    form.changed,
                    "{}, {}",
                    checksum.trailer,
                    form.content_sha256
                );
            }
        }
    }
}

/// A multipart upload as the SDK sends one with a checksum other than its default (CRC32C):
/// `POST ?uploads` naming the algorithm, `UploadPart` streamed (`?partNumber=1&uploadId=…`,
/// the upload ID escaped in the query; a signed chunk chain with a signed CRC32C trailer), and
/// `CompleteMultipartUpload` with its XML body (`POST ?uploadId=…`, the part's checksum in
/// it). Each verifies, and the service is handed the part's bytes and the CRC32C the SDK sent.
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
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
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
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .body(upload.stream().await)
        .send()
        .await
        .unwrap();
    // The upload ID's `+`, `/` and `=` travel escaped.
    let query = http.last_uri().query().unwrap().to_owned();
    assert!(
        query.contains("uploadId=upload%2Bid%2Fwith%3Descapes.and_safe-chars"),
        "{query}"
    );
    let sent = http.last_sent();
    assert_eq!(
        header(&sent, "x-amz-content-sha256"),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    );
    assert_eq!(header(&sent, "x-amz-trailer"), "x-amz-checksum-crc32c");
    let crc32c = sent_trailer(&http.last_body(), "x-amz-checksum-crc32c");
    assert_eq!(part.checksum_crc32_c(), Some(crc32c.as_str()));
    assert_eq!(part.checksum_crc32(), None);
    let etag = part.e_tag().unwrap();
    assert_eq!(etag, format!("\"{}\"", sha256_hex(&upload.contents)));

    let completed = s3
        .complete_multipart_upload()
        .bucket("bucket")
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(etag)
                        .checksum_crc32_c(crc32c.clone())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        completed.e_tag(),
        Some("\"completed by arn:aws:iam::123456789012:user/alice\"")
    );

    // With the whole object's checksum (`x-amz-checksum-type: FULL_OBJECT`; of one part, the
    // part's): a header no body matches, since the body is the list of parts, and S3 checks
    // it against the object. The layer refused it `BadDigest` before the review of
    // 2026-12-03.
    let completed = s3
        .complete_multipart_upload()
        .bucket("bucket")
        .key(key)
        .upload_id(upload_id)
        .checksum_crc32_c(crc32c.clone())
        .checksum_type(aws_sdk_s3::types::ChecksumType::FullObject)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(etag)
                        .checksum_crc32_c(crc32c.clone())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let sent = http.last_sent();
    assert_eq!(header(&sent, "x-amz-checksum-crc32c"), crc32c);
    assert_eq!(header(&sent, "x-amz-checksum-type"), "FULL_OBJECT");
    assert!(completed.e_tag().is_some());
}

/// A checksum header a caller can give aws-sdk-s3 (each of S3's checksums, though the SDK
/// computes only five): its name and the builder's setter.
struct GivenChecksum {
    header: &'static str,
    /// How many bytes the checksum has, by its definition (CRC-32: 32 bits; SHA-256: 256; …).
    len: usize,
    give: fn(PutObjectFluentBuilder, String) -> PutObjectFluentBuilder,
}

const GIVEN_CHECKSUMS: [GivenChecksum; 10] = [
    GivenChecksum {
        header: "x-amz-checksum-crc32",
        len: 4,
        give: |put, value| put.checksum_crc32(value),
    },
    GivenChecksum {
        header: "x-amz-checksum-crc32c",
        len: 4,
        give: |put, value| put.checksum_crc32_c(value),
    },
    GivenChecksum {
        header: "x-amz-checksum-crc64nvme",
        len: 8,
        give: |put, value| put.checksum_crc64_nvme(value),
    },
    GivenChecksum {
        header: "x-amz-checksum-sha1",
        len: 20,
        give: |put, value| put.checksum_sha1(value),
    },
    GivenChecksum {
        header: "x-amz-checksum-sha256",
        len: 32,
        give: |put, value| put.checksum_sha256(value),
    },
    GivenChecksum {
        header: "x-amz-checksum-sha512",
        len: 64,
        give: |put, value| put.checksum_sha512(value),
    },
    GivenChecksum {
        header: "x-amz-checksum-md5",
        len: 16,
        give: |put, value| put.checksum_md5(value),
    },
    GivenChecksum {
        header: "x-amz-checksum-xxhash64",
        len: 8,
        give: |put, value| put.checksum_xxhash64(value),
    },
    GivenChecksum {
        header: "x-amz-checksum-xxhash3",
        len: 8,
        give: |put, value| put.checksum_xxhash3(value),
    },
    GivenChecksum {
        header: "x-amz-checksum-xxhash128",
        len: 16,
        give: |put, value| put.checksum_xxhash128(value),
    },
];

/// A streamed file with a checksum the caller gives: the SDK sends it as a header, the payload
/// unsigned (`UNSIGNED-PAYLOAD`, not `aws-chunked`). With each checksum header the SDK has, the
/// body's value verifies (where the test can compute it apart), and any other never reaches
/// the service: `BadDigest`, as the layer computes each of them (a checksum it could not
/// compute is refused, `InvalidRequest`: `checksum_headers_we_cannot_compute_are_refused`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_s3_given_checksums_on_streamed_uploads() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let http = PlainHttp::default();
    let s3 = s3_client(addr, Credentials::from_keys(AK, SK, None), &http);
    let upload = UploadFile::new();
    let put = || async {
        s3.put_object()
            .bucket("bucket")
            .key(AWKWARD_KEYS[0])
            .body(upload.stream().await)
    };
    for given in GIVEN_CHECKSUMS {
        let name = given.header;
        let body_s = independent_checksum(name, &upload.contents);
        if let Some(value) = body_s {
            let accepted = (given.give)(put().await, value.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(
                accepted.e_tag(),
                Some(format!("\"{}\"", sha256_hex(&upload.contents)).as_str())
            );
        }
        // Zeros as long as the checksum: a value it can have, not the body's.
        let zeros = base64::engine::general_purpose::STANDARD.encode(vec![0; given.len]);
        // One byte longer than a CRC-32: no value any of them can have.
        let five_bytes = "AAAAAAA=";
        for (value, code) in [
            (zeros.as_str(), "BadDigest"),
            (five_bytes, "InvalidRequest"),
        ] {
            let error = (given.give)(put().await, value.to_owned())
                .send()
                .await
                .expect_err(name);
            let sent = http.last_sent();
            assert_eq!(
                header(&sent, "x-amz-content-sha256"),
                "UNSIGNED-PAYLOAD",
                "{sent:?}"
            );
            assert_eq!(header(&sent, name), value);
            assert_eq!(refusal_code(&error), code, "{name} {value}");
        }
    }
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

/// A clock `offset` away from the real one, ahead or behind.
#[derive(Debug)]
struct SkewedClock {
    offset: Duration,
    ahead: bool,
}

impl aws_smithy_async::time::TimeSource for SkewedClock {
    fn now(&self) -> std::time::SystemTime {
        let now = std::time::SystemTime::now();
        match self.ahead {
            true => now + self.offset,
            false => now - self.offset,
        }
    }
}

/// The `X-Amz-Date` of each request sent, as seconds from now (negative: in the past).
fn sent_date_offsets(http: &PlainHttp) -> Vec<i64> {
    let now = std::time::SystemTime::now();
    http.sent
        .lock()
        .unwrap()
        .iter()
        .map(|(_, headers, _)| {
            let date = header(headers, "x-amz-date");
            let date = time::PrimitiveDateTime::parse(
                date,
                time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
            )
            .unwrap()
            .assume_utc();
            let now = time::OffsetDateTime::from(now);
            (date - now).whole_seconds()
        })
        .collect()
}

/// An edge device's clock is often wrong (no battery-backed clock, no time sync yet).
/// aws-sdk-rust measures its skew from the `Date` of our `RequestTimeTooSkewed` answer and
/// retries, signing with the corrected time; the retry verifies. Both ways (an hour behind, an
/// hour ahead), for STS (query protocol) and S3 (REST XML). Without retries the SDK sees the
/// refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_corrects_a_skewed_clock_from_our_refusal() {
    use aws_sdk_s3::config::retry::RetryConfig;

    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let retries = RetryConfig::standard()
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(1));
    for ahead in [false, true] {
        let clock = || SkewedClock {
            offset: Duration::from_secs(3600),
            ahead,
        };
        let check_dates = |http: &PlainHttp| {
            let offsets = sent_date_offsets(http);
            assert_eq!(offsets.len(), 2, "{offsets:?}");
            let skewed = if ahead { 3600 } else { -3600 };
            assert!((offsets[0] - skewed).abs() < 60, "{offsets:?}");
            assert!(offsets[1].abs() < 60, "{offsets:?}");
        };

        let http = PlainHttp::default();
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .credentials_provider(Credentials::from_keys(AK, SK, None))
            .endpoint_url(format!("http://{addr}"))
            .http_client(http.clone())
            .time_source(clock());
        let sts =
            aws_sdk_sts::Client::from_conf(config.clone().retry_config(retries.clone()).build());
        let identity = sts.get_caller_identity().send().await.unwrap();
        assert_eq!(identity.arn(), Some("arn:aws:iam::123456789012:user/alice"));
        check_dates(&http);
        let once =
            aws_sdk_sts::Client::from_conf(config.retry_config(RetryConfig::disabled()).build());
        let error = once.get_caller_identity().send().await.unwrap_err();
        assert_eq!(refusal_code(&error), "RequestTimeTooSkewed");
        // In STS's words, which name the side the clock is off to.
        let message =
            aws_sdk_sts::error::ProvideErrorMetadata::message(error.as_service_error().unwrap())
                .unwrap_or_default();
        let words = match ahead {
            true => "Signature not yet current: ",
            false => "Signature expired: ",
        };
        assert!(message.starts_with(words), "{message}");

        let http = PlainHttp::default();
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(Credentials::from_keys(AK, SK, None))
            .endpoint_url(format!("http://{addr}"))
            .force_path_style(true)
            .http_client(http.clone())
            .time_source(clock())
            .retry_config(retries.clone());
        let s3 = aws_sdk_s3::Client::from_conf(config.build());
        s3.put_object()
            .bucket("bucket")
            .key("clock")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"body"))
            .send()
            .await
            .unwrap();
        check_dates(&http);
    }
}

/// aws-sdk-s3 told to compute checksums only where an operation requires one
/// (`RequestChecksumCalculation::WhenRequired`, the usual setting for S3-compatible
/// endpoints) uploads a file as one body with `UNSIGNED-PAYLOAD`, not as a chunk chain. The
/// signature covers none of it, so one past the layer's buffer (64 KiB here; the file is
/// 200,000 bytes) is passed on as read, over HTTP and as over TLS: it verifies, and the service
/// is handed the whole file (the ETag is its SHA-256).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_unsigned_payload_uploads_past_the_buffer_verify() {
    use aws_sdk_s3::config::RequestChecksumCalculation;

    let mut settings = LayerSettings::default();
    settings.max_body_bytes = 64 * 1024;
    let addr = start_server_answering(settings, Answers::LikeAws).await;
    let upload = UploadFile::new();
    let etag = format!("\"{}\"", sha256_hex(&upload.contents));
    for endpoint in [format!("http://{addr}"), format!("https://{addr}")] {
        let http = PlainHttp::default();
        let config = s3_config(&endpoint, Credentials::from_keys(AK, SK, None), &http)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(config);
        let put = upload
            .put(&s3, "big")
            .await
            .unwrap_or_else(|e| panic!("{endpoint}: {e:?}"));
        let sent = http.last_sent();
        assert_eq!(
            header(&sent, "x-amz-content-sha256"),
            "UNSIGNED-PAYLOAD",
            "{sent:?}"
        );
        assert_eq!(
            header(&sent, "content-length"),
            upload.contents.len().to_string()
        );
        assert_eq!(put.e_tag(), Some(etag.as_str()), "{endpoint}");
    }
}
