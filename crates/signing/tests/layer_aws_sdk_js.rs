//! The AWS SDK for JavaScript v3 (Node.js, with the packages `cargo xtask setup` installs into
//! `EDGEWARD_JS_PEERS`) against a hyper 1 server on 127.0.0.1 behind `SigV4Layer`: its STS
//! client with long-term and temporary credentials, and its S3 client uploading from memory
//! (the payload's SHA-256 signed, a CRC32 header) and from a stream (`aws-chunked`, unsigned
//! payload, a CRC32, CRC32C, CRC64NVME, SHA-1 or SHA-256 trailer: its own encoder and its own
//! CRC64NVME, written apart from botocore's and aws-sdk-rust's), a multipart upload,
//! downloading, and presigning (a GET, and a PUT with temporary credentials). Everything it
//! signs verifies, the service is handed the object's bytes and checksum, and the SDK parses
//! our answers and our refusals.
#![allow(clippy::unwrap_used)]

mod support;

use edgeward_signing::LayerSettings;
use serde_json::{json, Value};
use support::interop::{result_named, run_json_script_beside_server};
use support::{
    crc32_base64, independent_checksum, sha256_hex, start_server_answering, Answers, AK,
    MULTIPART_UPLOAD_ID, SK, TEMP_AK, TEMP_SK, TOKEN,
};

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_for_javascript_through_the_layer() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let object = "an object the AWS SDK for JavaScript uploads, ሴ included\n".repeat(40);
    let input = json!({
        "endpoint": format!("http://{addr}"),
        "alice": {"access_key": AK, "secret_key": SK},
        "temporary": {"access_key": TEMP_AK, "secret_key": TEMP_SK, "token": TOKEN},
        "object": object,
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/aws_sdk_js.cjs");
    let results = run_json_script_beside_server(script, input).await;
    let result = |name: &str| result_named(&results, name);
    let ok = |name: &str| -> &Value {
        let r = result(name);
        assert_eq!(r["outcome"], "ok", "{r}");
        r
    };
    let refused = |name: &str, code: &str, status: u64| {
        let r = result(name);
        assert_eq!(
            (
                r["outcome"].as_str(),
                r["code"].as_str(),
                r["status"].as_u64()
            ),
            (Some("error"), Some(code), Some(status)),
            "{r}"
        );
    };

    // STS: the SDK parses the verified principal from our answer.
    assert_eq!(ok("sts_alice")["arn"], ALICE);
    assert_eq!(
        ok("sts_temporary")["arn"],
        "arn:aws:sts::123456789012:assumed-role/r/s"
    );
    refused("sts_wrong_secret", "SignatureDoesNotMatch", 403);

    // SQS (JSON, query-compatible): the SDK parses the verified principal from our answer,
    // and reads a refusal's query-era code from `x-amzn-query-error`, with its 403.
    assert_eq!(
        ok("sqs_alice")["queue_urls"],
        json!([format!("https://sqs.example/{ALICE}")])
    );
    refused("sqs_wrong_secret", "SignatureDoesNotMatch", 403);
    refused("sqs_unknown_key", "InvalidClientTokenId", 403);

    // S3 uploads: the service was handed the object (its SHA-256 in the ETag) and its CRC32
    // (the header's, or the trailer's), each as the SDK sent it.
    let etag = format!("\"{}\"", sha256_hex(object.as_bytes()));
    let crc32 = crc32_base64(object.as_bytes());
    let buffered = ok("s3_put_buffer");
    assert_eq!(
        buffered["content_sha256"],
        sha256_hex(object.as_bytes()),
        "{buffered}"
    );
    assert_eq!(
        (&buffered["etag"], &buffered["checksum"]),
        (&json!(etag), &json!(crc32))
    );
    let streamed = ok("s3_put_stream");
    assert_eq!(
        (&streamed["content_sha256"], &streamed["content_encoding"]),
        (
            &json!("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            &json!("aws-chunked")
        ),
        "{streamed}"
    );
    assert_eq!(
        (&streamed["etag"], &streamed["checksum"]),
        (&json!(etag), &json!(crc32))
    );
    // With each other checksum the SDK computes, the trailer the service was handed is the
    // object's (computed here where the tests have an implementation; the layer checked
    // CRC32C's against the body, or the upload would have been refused).
    for algorithm in ["CRC32C", "CRC64NVME", "SHA1", "SHA256"] {
        let upload = ok(&format!("s3_put_stream_{algorithm}"));
        assert_eq!(
            (&upload["content_sha256"], &upload["etag"]),
            (&json!("STREAMING-UNSIGNED-PAYLOAD-TRAILER"), &json!(etag)),
            "{upload}"
        );
        let trailer = format!("x-amz-checksum-{}", algorithm.to_lowercase());
        if let Some(expected) = independent_checksum(&trailer, object.as_bytes()) {
            assert_eq!(upload["checksum"], expected, "{upload}");
        } else {
            assert!(upload["checksum"].is_string(), "{upload}");
        }
    }
    refused("s3_put_stream_wrong_secret", "SignatureDoesNotMatch", 403);

    // A multipart upload: the upload ID the service gave (with characters a query escapes)
    // came back in each later request's query, which verified; the part went streamed with
    // its CRC64NVME trailer, which the layer checked against the part's bytes.
    let multipart = ok("s3_multipart");
    assert_eq!(multipart["upload_id"], MULTIPART_UPLOAD_ID, "{multipart}");
    assert_eq!(
        (&multipart["part_etag"], &multipart["part_content_sha256"]),
        (&json!(etag), &json!("STREAMING-UNSIGNED-PAYLOAD-TRAILER")),
        "{multipart}"
    );
    assert!(multipart["part_checksum"].is_string(), "{multipart}");
    assert_eq!(
        multipart["etag"],
        format!("\"completed by {ALICE}\""),
        "{multipart}"
    );
    // S3's code for a key it does not know (STS says InvalidClientTokenId).
    refused("s3_put_unknown_key", "InvalidAccessKeyId", 403);

    // Downloads: the body is the server's answer, naming the verified principal.
    assert_eq!(ok("s3_get")["body"], format!("ok {ALICE} "));
    let presigned = ok("s3_presigned_get");
    assert!(
        presigned["url"]
            .as_str()
            .unwrap()
            .contains("X-Amz-Signature="),
        "{presigned}"
    );
    assert_eq!(
        (&presigned["status"], &presigned["body"]),
        (&json!(200), &json!(format!("ok {ALICE} "))),
        "{presigned}"
    );
    let put = ok("s3_presigned_put_temporary");
    assert!(
        put["url"]
            .as_str()
            .unwrap()
            .contains("X-Amz-Security-Token="),
        "{put}"
    );
    assert_eq!(
        (&put["status"], &put["etag"]),
        (&json!(200), &json!(etag)),
        "{put}"
    );
    let other_key = ok("s3_presigned_get_other_key");
    assert_eq!(other_key["status"], 403, "{other_key}");
    assert!(
        other_key["body"]
            .as_str()
            .unwrap()
            .contains("<Code>SignatureDoesNotMatch</Code>"),
        "{other_key}"
    );
}

/// aws-sdk-js v3 over HTTP/2 (`NodeHttp2Handler`, the handler of its streaming services, h2c
/// to an `http://` endpoint): its host-header middleware replaces `host` with `:authority`,
/// and its signer signs `SignedHeaders=:authority;…` (no `host`). It verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_for_javascript_over_http2_signs_the_authority() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let input = json!({"endpoint": format!("http://{addr}"), "access_key": AK, "secret_key": SK});
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/aws_sdk_js_h2.cjs");
    let results = run_json_script_beside_server(script, input).await;
    assert_eq!(results.len(), 2, "{results:?}");
    for result in &results {
        let signed = result["signed_headers"].as_str().unwrap();
        assert!(
            signed.starts_with(":authority;") && !signed.contains("host"),
            "{result}"
        );
        assert_eq!(result["outcome"], "ok", "{result}");
    }
    assert_eq!(results[0]["arn"], ALICE);
}
