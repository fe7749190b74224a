//! The tower layer over a real socket: a hyper 1 server on 127.0.0.1 with `SigV4Layer`,
//! requests signed by botocore (the venv's Python from `EDGEWARD_PYTHON`) and sent with
//! urllib3.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::interop::run_json_script;
use support::{start_server, AK, SK, TEMP_AK, TEMP_SK, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_requests_through_the_layer() {
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
        // 6: S3, wrong secret: S3's XML, with what the server signed.
        spec(
            "PUT",
            "/bucket/key",
            "hello",
            AK,
            "wrong",
            None,
            "header",
            "s3",
            json!([]),
        ),
        // 7: S3, presigned with an unknown key: S3's code for it.
        spec(
            "GET",
            "/bucket/key",
            "",
            "AKIDUNKNOWN",
            SK,
            None,
            "query",
            "s3",
            json!([]),
        ),
    ];
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let input = Value::Array(specs);
    let results = tokio::task::spawn_blocking(move || run_json_script(script, &input))
        .await
        .unwrap();
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
    assert_eq!(status(6), 403);
    assert_eq!(results[6]["headers"]["content-type"], "application/xml");
    let s3_error = body(6);
    assert!(
        s3_error.contains("\n<Error><Code>SignatureDoesNotMatch</Code>"),
        "{s3_error}"
    );
    assert!(
        s3_error.contains("<StringToSign>AWS4-HMAC-SHA256\n"),
        "{s3_error}"
    );
    assert_eq!(status(7), 403);
    assert!(
        body(7).contains("\n<Error><Code>InvalidAccessKeyId</Code>"),
        "{}",
        body(7)
    );
}
