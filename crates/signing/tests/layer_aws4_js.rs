//! aws4 (mhart's SigV4 signer for Node.js, written apart from every AWS SDK; `tests/aws4_js.cjs`)
//! against a hyper 1 server on 127.0.0.1 behind `SigV4Layer`. It signs two ways no AWS SDK
//! does and AWS accepts: S3 keys sent with sub-delimiters raw (or `%7E` escaped) and signed as
//! the key S3 reads, and query authentication for other services without `X-Amz-Expires`.
#![allow(clippy::unwrap_used)]

mod support;

use edgeward_signing::LayerSettings;
use serde_json::json;
use support::interop::{result_named, run_json_script_beside_server};
use support::{start_server_answering, Answers, AK, SK, TEMP_AK, TEMP_SK, TOKEN};

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws4_through_the_layer() {
    let addr = start_server_answering(LayerSettings::default(), Answers::Echo).await;
    let input = json!({
        "host": addr.ip().to_string(),
        "port": addr.port(),
        "alice": {"access_key": AK, "secret_key": SK},
        "temporary": {"access_key": TEMP_AK, "secret_key": TEMP_SK, "token": TOKEN},
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/aws4_js.cjs");
    let results = run_json_script_beside_server(script, input).await;
    let result = |name: &str| result_named(&results, name);
    let verified = |name: &str, principal: &str| {
        let r = result(name);
        assert_eq!(r["status"], 200, "{r}");
        let body = r["body"].as_str().unwrap();
        assert!(body.starts_with(&format!("ok {principal}")), "{r}");
        r
    };
    let refused = |name: &str, code: &str, status: u64| {
        let r = result(name);
        assert_eq!(
            (&r["code"], &r["status"]),
            (&json!(code), &json!(status)),
            "{r}"
        );
    };

    for label in ["sub_delimiters", "separators", "escaped_tilde"] {
        let get = verified(&format!("s3_get_{label}"), ALICE);
        // What went on the wire was not what was signed: the key's characters raw (or `%7E`).
        let path = get["path"].as_str().unwrap();
        assert!(path.contains(['*', ';']) || path.contains("%7E"), "{get}");
        let put = verified(
            &format!("s3_put_{label}"),
            "arn:aws:sts::123456789012:assumed-role/r/s",
        );
        assert!(
            put["body"].as_str().unwrap().ends_with("aws4 object"),
            "{put}"
        );
        let presigned = verified(
            &format!("s3_presigned_get_{label}"),
            "arn:aws:sts::123456789012:assumed-role/r/s",
        );
        assert!(
            presigned["path"]
                .as_str()
                .unwrap()
                .contains("X-Amz-Expires=86400"),
            "{presigned}"
        );
    }
    // aws4 signs a raw `+` as S3 reads it, a space; the service behind reads a plus.
    refused("s3_get_raw_plus", "SignatureDoesNotMatch", 403);
    refused("s3_get_wrong_secret", "SignatureDoesNotMatch", 403);

    for (name, principal) in [
        ("api_query", ALICE),
        (
            "iot_query_temporary",
            "arn:aws:sts::123456789012:assumed-role/r/s",
        ),
        ("api_header_post", ALICE),
    ] {
        let r = verified(name, principal);
        let path = r["path"].as_str().unwrap();
        assert!(!path.contains("X-Amz-Expires"), "{r}");
    }
    assert!(result("iot_query_temporary")["path"]
        .as_str()
        .unwrap()
        .contains("X-Amz-Security-Token="));
    // The JSON form a restJson client (API Gateway's) reads.
    refused("api_query_wrong_secret", "InvalidSignatureException", 403);
    // Without a lifetime, a query is held to the clock-skew window.
    // (`RequestTimeTooSkewed`, in the JSON form's name for it).
    refused("api_query_past_window", "InvalidSignatureException", 403);
    let past = result("api_query_past_window")["body"].as_str().unwrap();
    // In AWS's words for it (the JSON services' `InvalidSignatureException`).
    assert!(
        past.contains("Signature expired: ") && past.contains(" - 15 min.)"),
        "{past}"
    );
}
