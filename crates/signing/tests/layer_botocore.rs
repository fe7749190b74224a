//! The tower layer over a real socket: a hyper 1 server on 127.0.0.1 with `SigV4Layer`,
//! requests signed by botocore (the venv's Python from `EDGEWARD_PYTHON`) and sent with
//! urllib3; and botocore's S3 client streaming uploads with each checksum over HTTPS.
#![allow(clippy::unwrap_used)]

mod support;

use edgeward_signing::{Accept, LayerSettings, VerifierSettings};
use serde_json::{json, Value};
use support::interop::run_json_script_beside_server;
use support::sdk::UploadFile;
use support::{
    content_md5_base64, independent_checksum, sha256_hex, spaced_hex, start_server,
    start_tls_server_answering, Answers, AK, SK, TEMP_AK, TEMP_SK, TOKEN,
};

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
    // DynamoDB's `ListTables` (awsJson 1.0).
    let list_tables = |ak, sk| {
        spec(
            "POST",
            "/",
            "{}",
            ak,
            sk,
            None,
            "header",
            "dynamodb",
            json!([
                ["Content-Type", "application/x-amz-json-1.0"],
                ["X-Amz-Target", "DynamoDB_20120810.ListTables"]
            ]),
        )
    };
    let mut specs = vec![
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
        // 3: wrong secret: SignatureDoesNotMatch in query-protocol XML (the form body's
        // content type, as botocore's query serializer sends it, says which protocol).
        spec(
            "POST",
            "/",
            "Action=GetCallerIdentity",
            AK,
            "wrong",
            None,
            "header",
            "sts",
            json!([[
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8"
            ]]),
        ),
        // 4: unknown key, JSON protocol: JSON error.
        list_tables("AKIDUNKNOWN", SK),
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
        // 8: wrong secret, JSON protocol: what was signed in the message.
        list_tables(AK, "wrong"),
        // 9: wrong secret with a session token, query protocol: the token is not echoed.
        spec(
            "POST",
            "/",
            "Action=GetCallerIdentity&Version=2011-06-15",
            TEMP_AK,
            "wrong",
            Some(TOKEN),
            "header",
            "sts",
            json!([[
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8"
            ]]),
        ),
    ];
    // The answers to parse as botocore's clients do, in their service's protocol.
    for (i, protocol) in [
        (3, "query"),
        (6, "rest-xml"),
        (7, "rest-xml"),
        (8, "json"),
        (9, "query"),
    ] {
        specs[i]["protocol"] = json!(protocol);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let input = Value::Array(specs);
    let results = run_json_script_beside_server(script, input).await;
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
    // awsJson's status (DynamoDB, Cognito: see `JsonProtocol`) and its name for an unknown key
    // (`Error::json_error_code`), where the query services say InvalidClientTokenId with 403.
    assert_eq!(status(4), 400, "{}", body(4));
    let json: Value = serde_json::from_str(&body(4)).unwrap();
    assert_eq!(json["__type"], "UnrecognizedClientException");
    // The JSON services' words, with their full stop (aws-azure-login#37).
    assert_eq!(
        json["message"],
        "The security token included in the request is invalid."
    );
    assert_eq!(
        results[4]["headers"]["x-amzn-errortype"],
        "UnrecognizedClientException"
    );
    assert_eq!(status(5), 413, "{}", body(5));
    // A body without a content type names no protocol: restJson's, the most services'.
    assert!(
        body(5).contains("{\"__type\":\"EntityTooLarge\""),
        "{}",
        body(5)
    );
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
    assert_mismatches_read_as_aws_tells_them(&results);
}

/// What a botocore client reads of the layer's refusals above, against what botocore itself
/// signed: S3's `SignatureDoesNotMatch` carries the key and signature sent, and the
/// string-to-sign and canonical request botocore computed, each again as its bytes in hex
/// (`StringToSignBytes`: two lower-case digits a byte, a space between, in S3's order, as
/// S3's answers quoted in aws/aws-cli#4356 and s3tools/s3cmd#1053 show); S3's
/// `InvalidAccessKeyId` the key. The query and JSON services' message goes on with "The
/// Canonical String for this request should have been" and the string-to-sign, as AWS's do,
/// with the session token's value left out.
fn assert_mismatches_read_as_aws_tells_them(results: &[Value]) {
    let signed = |i: usize, field: &str| results[i]["signed"][field].as_str().unwrap().to_owned();
    let error = |i: usize, field: &str| {
        results[i]["error"][field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in answer {i}: {}", results[i]["error"]))
            .to_owned()
    };
    assert_eq!(error(6, "Code"), "SignatureDoesNotMatch");
    assert_eq!(error(6, "AWSAccessKeyId"), AK);
    assert_eq!(error(6, "SignatureProvided"), signed(6, "signature"));
    assert_eq!(error(6, "StringToSign"), signed(6, "string_to_sign"));
    assert_eq!(
        error(6, "StringToSignBytes"),
        spaced_hex(&signed(6, "string_to_sign"))
    );
    assert_eq!(error(6, "CanonicalRequest"), signed(6, "canonical_request"));
    assert_eq!(
        error(6, "CanonicalRequestBytes"),
        spaced_hex(&signed(6, "canonical_request"))
    );
    assert_eq!(error(7, "Code"), "InvalidAccessKeyId");
    assert_eq!(error(7, "AWSAccessKeyId"), "AKIDUNKNOWN");
    // S3's words for each (s3tools/s3cmd#1053; S3's list of error codes).
    assert_eq!(
        error(6, "Message"),
        "The request signature we calculated does not match the signature you provided. \
         Check your key and signing method."
    );
    assert_eq!(
        error(7, "Message"),
        "The AWS Access Key Id you provided does not exist in our records."
    );

    let string_to_sign = |i: usize| {
        format!(
            "\n\nThe String-to-Sign should have been\n'{}'\n",
            signed(i, "string_to_sign")
        )
    };
    for (i, code) in [
        (3, "SignatureDoesNotMatch"),
        (8, "InvalidSignatureException"),
    ] {
        assert_eq!(error(i, "Code"), code);
        let expected = format!(
            "\n\nThe Canonical String for this request should have been\n'{}'{}",
            signed(i, "canonical_request"),
            string_to_sign(i)
        );
        // The query and JSON services' words come first (the Elasticsearch service's
        // answers in xcir/libvmod-awsrest#8 and carsales/aws-request-signer#10).
        let expected = format!(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.{expected}"
        );
        assert_eq!(error(i, "Message"), expected);
    }
    let message = error(9, "Message");
    let canonical = signed(9, "canonical_request");
    let token_line = format!("\nx-amz-security-token:{TOKEN}\n");
    let (before, after) = canonical.split_once(&token_line).unwrap();
    assert!(!message.contains(TOKEN), "{message}");
    assert!(
        message.contains(&format!(
            "should have been\n'{before}\nx-amz-security-token:** redacted, {} bytes **\n",
            TOKEN.len()
        )),
        "{message}"
    );
    assert!(
        message.ends_with(&format!("\n{after}'{}", string_to_sign(9))),
        "{message}"
    );
}

/// botocore's S3 client, `put_object` of a file with `ChecksumAlgorithm` over HTTPS, where it
/// streams the upload `aws-chunked` with `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (chunks of 1 MiB,
/// the checksum in an unsigned trailer that only the signed `x-amz-trailer` vouches for): with
/// each checksum botocore offers (CRC32C, CRC64NVME and the XXHASHes through awscrt), over
/// several chunks.
/// Each verifies; the service is handed the file's bytes (the ETag is their SHA-256) and the
/// trailer botocore sent, which is the file's checksum where the test can compute it apart.
/// The same upload changed on the way, in the second chunk's data or in the trailer's value,
/// is refused with `BadDigest` (on this form the checksum is the only check of the data).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_streamed_uploads_through_the_layer() {
    // Past two of botocore's 1 MiB chunks.
    let upload = UploadFile::with_len(2_500_000);
    let algorithms = [
        "CRC32",
        "CRC32C",
        "CRC64NVME",
        "SHA1",
        "SHA256",
        "SHA512",
        "XXHASH64",
        "XXHASH3",
        "XXHASH128",
    ];
    let tampers = [None, Some("data"), Some("trailer")];
    let uploads: Vec<Value> = algorithms
        .iter()
        .flat_map(|algorithm| {
            tampers.map(|tamper| {
                json!({"key": "dir/an object.bin", "algorithm": algorithm, "tamper": tamper})
            })
        })
        .collect();
    let results = botocore_put_objects(&upload, uploads).await;
    assert_eq!(results.len(), algorithms.len() * tampers.len());

    let etag = format!("\"{}\"", sha256_hex(&upload.contents));
    for (i, result) in results.iter().enumerate() {
        let (algorithm, tamper) = (algorithms[i / tampers.len()], tampers[i % tampers.len()]);
        let trailer = format!("x-amz-checksum-{}", algorithm.to_ascii_lowercase());
        let sent = &result["sent"];
        assert_eq!(
            sent["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "{algorithm}: {result}"
        );
        assert_eq!(sent["x-amz-trailer"], trailer.as_str(), "{result}");
        assert_eq!(sent["content-encoding"], "aws-chunked", "{result}");
        assert_eq!(
            sent["x-amz-decoded-content-length"],
            upload.contents.len().to_string(),
            "{result}"
        );
        if tamper.is_some() {
            assert_eq!(
                result["error"], "BadDigest",
                "{algorithm} {tamper:?}: {result}"
            );
            // S3's words, the algorithm named as botocore names it (aws/aws-sdk-ruby#3322
            // records S3's for CRC32).
            assert_eq!(
                result["message"],
                format!("The {algorithm} you specified did not match the calculated checksum."),
                "{result}"
            );
            assert_eq!(result["status"], 400, "{result}");
            continue;
        }
        let response = &result["response"];
        let computed = result["sent_trailer"].as_str().unwrap();
        if let Some(independent) = independent_checksum(&trailer, &upload.contents) {
            assert_eq!(computed, independent, "{algorithm}");
        }
        assert_eq!(
            response[format!("Checksum{algorithm}")],
            computed,
            "{algorithm}: {result}"
        );
        assert_eq!(response["ETag"], etag.as_str(), "{algorithm}: {result}");
    }
}

/// botocore's S3 client, `put_object` with a checksum its user computed (`ChecksumCRC32`) and
/// a `ChecksumAlgorithm`: botocore sends the given value in its header and the algorithm in
/// `x-amz-sdk-checksum-algorithm`, whichever it is. When they agree the upload is stored;
/// when they do not, S3 answers `InvalidRequest` "Value for x-amz-sdk-checksum-algorithm
/// header is invalid." (as versitygw#1598 records it), and so does the layer, before the
/// service sees the upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_given_checksums_are_held_to_the_sdk_algorithm() {
    let upload = UploadFile::with_len(100_000);
    let crc32 = independent_checksum("x-amz-checksum-crc32", &upload.contents).unwrap();
    let algorithms = ["CRC32", "SHA256"];
    let uploads: Vec<Value> = algorithms
        .iter()
        .map(|algorithm| {
            json!({"key": "given", "algorithm": algorithm, "tamper": null,
                   "given": {"ChecksumCRC32": crc32}})
        })
        .collect();
    let results = botocore_put_objects(&upload, uploads).await;
    assert_eq!(results.len(), algorithms.len());
    for (algorithm, result) in algorithms.iter().zip(&results) {
        // The set-up: botocore sent the user's value and the algorithm it was asked for.
        let sent = &result["sent"];
        assert_eq!(sent["x-amz-checksum-crc32"], crc32.as_str(), "{result}");
        assert_eq!(sent["x-amz-sdk-checksum-algorithm"], *algorithm, "{result}");
        if *algorithm == "CRC32" {
            assert_eq!(
                result["response"]["ChecksumCRC32"],
                crc32.as_str(),
                "{result}"
            );
        } else {
            assert_eq!(result["error"], "InvalidRequest", "{result}");
            assert_eq!(
                result["message"], "Value for x-amz-sdk-checksum-algorithm header is invalid.",
                "{result}"
            );
            assert_eq!(result["status"], 400, "{result}");
        }
    }
}

/// `uploads` of `upload`'s file by `botocore_put_object.py`, over HTTPS to a layer in front of
/// a service answering as S3 does; a result per upload.
async fn botocore_put_objects(upload: &UploadFile, uploads: Vec<Value>) -> Vec<Value> {
    let (addr, certificate) =
        start_tls_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let ca_bundle = upload.path.with_file_name("server-ca.pem");
    std::fs::write(&ca_bundle, certificate).unwrap();
    let input = json!({
        "endpoint": format!("https://{addr}"), "ca_bundle": ca_bundle, "access_key": AK,
        "secret_key": SK, "file": upload.path, "uploads": uploads,
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_put_object.py");
    run_json_script_beside_server(script, input).await
}

/// The request time botocore signed a `botocore_send.py` result with, as `X-Amz-Date` writes
/// it: the second line of its string-to-sign.
fn signed_request_time(result: &Value) -> String {
    result["signed"]["string_to_sign"]
        .as_str()
        .and_then(|text| text.lines().nth(1))
        .unwrap_or_else(|| panic!("no string-to-sign: {result}"))
        .to_owned()
}

/// A client whose clock is 20 minutes off, signing with botocore, reads the refusal in the
/// words of the service it called, as botocore's parser for its protocol reads them: STS's
/// "Signature expired: … is now earlier than … (… - 15 min.)" (aws/aws-cli#6676) or "Signature
/// not yet current: … is still later than … (… + 15 min.)", its request time as it signed it
/// and the server's time in the brackets (where the AWS SDKs for Java v1 and .NET read it when
/// an answer has no `Date`); DynamoDB's `InvalidSignatureException` in the same words; EC2's
/// `RequestExpired`, "Request has expired." (aws/aws-sdk-java#1443); S3's `RequestTimeTooSkewed` with `RequestTime`, `ServerTime` and
/// `MaxAllowedSkewMilliseconds` (S3's answer quoted in versitygw#1514).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_a_skewed_clock_in_each_services_words() {
    let addr = start_server().await;
    let form = json!([[
        "Content-Type",
        "application/x-www-form-urlencoded; charset=utf-8"
    ]]);
    // (service, protocol, path, body, headers, the signer's clock against the server's)
    let cases = [
        (
            "sts",
            "query",
            "/",
            "Action=GetCallerIdentity&Version=2011-06-15",
            form.clone(),
            -1200,
        ),
        (
            "sts",
            "query",
            "/",
            "Action=GetCallerIdentity&Version=2011-06-15",
            form.clone(),
            1200,
        ),
        (
            "dynamodb",
            "json",
            "/",
            "{}",
            json!([
                ["Content-Type", "application/x-amz-json-1.0"],
                ["X-Amz-Target", "DynamoDB_20120810.ListTables"]
            ]),
            -1200,
        ),
        (
            "ec2",
            "ec2",
            "/",
            "Action=DescribeRegions&Version=2016-11-15",
            form,
            -1200,
        ),
        ("s3", "rest-xml", "/bucket/key", "", json!([]), -1200),
    ];
    let specs: Vec<Value> = cases
        .iter()
        .map(|(service, protocol, path, body, headers, skew)| {
            json!({
                "method": if *service == "s3" { "GET" } else { "POST" },
                "url": format!("http://{addr}{path}"), "headers": headers, "body": body,
                "access_key": AK, "secret_key": SK, "token": null, "region": "us-east-1",
                "service": service, "kind": "header", "s3": *service == "s3",
                "protocol": protocol, "skew_seconds": skew,
            })
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let results = run_json_script_beside_server(script, Value::Array(specs)).await;
    let answered = std::time::SystemTime::now();
    let at = |text: &str| edgeward_signing::parse_amz_date(text).unwrap();
    let near_now = |time: std::time::SystemTime| {
        let apart = answered
            .duration_since(time)
            .unwrap_or_else(|e| e.duration());
        apart < std::time::Duration::from_secs(60)
    };
    let window = std::time::Duration::from_secs(900);
    for ((service, _, _, _, _, skew), result) in cases.iter().zip(&results) {
        let case = format!("{service} {skew}: {result}");
        let error = &result["error"];
        let signed_at = signed_request_time(result);
        let (code, status) = match *service {
            "dynamodb" => ("InvalidSignatureException", 400),
            "ec2" => ("RequestExpired", 400),
            _ => ("RequestTimeTooSkewed", 403),
        };
        assert_eq!(error["Code"], code, "{case}");
        assert_eq!(result["status"], status, "{case}");
        if *service == "ec2" {
            assert_eq!(error["Message"], "Request has expired.", "{case}");
            continue;
        }
        // "<words> <signed at> <is now earlier than|is still later than> <bound> (<server> ± 15 min.)"
        let message = error["Message"].as_str().unwrap();
        let (words, relation, sign) = if *skew < 0 {
            ("Signature expired:", "is now earlier than", '-')
        } else {
            ("Signature not yet current:", "is still later than", '+')
        };
        let rest = message
            .strip_prefix(&format!("{words} {signed_at} {relation} "))
            .unwrap_or_else(|| panic!("{case}"));
        let (bound, rest) = rest.split_once(" (").unwrap();
        let server = rest
            .strip_suffix(&format!(" {sign} 15 min.)"))
            .unwrap_or_else(|| panic!("{case}"));
        assert!(near_now(at(server)), "{case}");
        let expected_bound = if *skew < 0 {
            at(server) - window
        } else {
            at(server) + window
        };
        assert_eq!(at(bound), expected_bound, "{case}");
        if *service == "s3" {
            assert_eq!(error["RequestTime"], signed_at.as_str(), "{case}");
            assert_eq!(error["MaxAllowedSkewMilliseconds"], "900000", "{case}");
            let server_time = error["ServerTime"].as_str().unwrap();
            let compact: String = server_time
                .chars()
                .filter(|c| *c != '-' && *c != ':')
                .collect();
            assert_eq!(server_time.len(), "2025-09-03T16:21:50Z".len(), "{case}");
            assert_eq!(compact, server, "{case}");
        }
    }
}

/// A URL botocore presigned for S3 (for 300 seconds) on a clock 20 minutes behind or ahead,
/// read back by botocore's S3 parser: S3's `AccessDenied` (403) in S3's words, "Request has
/// expired" with `X-Amz-Expires`, `Expires` and `ServerTime` (aws/aws-sdk-php#1333 quotes S3's
/// answer), or "Request is not yet valid" with `X-Amz-Date` in milliseconds since the epoch,
/// `Expires` and `ServerTime` (minio/minio#2638, dmjio/s3-signer#16).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_s3s_words_for_a_presigned_url_out_of_its_time() {
    let addr = start_server().await;
    let skews = [-1200, 1200];
    let specs: Vec<Value> = skews
        .iter()
        .map(|skew| {
            json!({
                "method": "GET", "url": format!("http://{addr}/bucket/key"), "headers": [],
                "body": "", "access_key": AK, "secret_key": SK, "token": null,
                "region": "us-east-1", "service": "s3", "kind": "query", "s3": true,
                "protocol": "rest-xml", "skew_seconds": skew,
            })
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let results = run_json_script_beside_server(script, Value::Array(specs)).await;
    let answered = std::time::SystemTime::now();
    for (skew, result) in skews.iter().zip(&results) {
        let case = format!("{skew}: {result}");
        let error = &result["error"];
        assert_eq!(result["status"], 403, "{case}");
        assert_eq!(error["Code"], "AccessDenied", "{case}");
        // The request's time as botocore signed it, and its end 300 seconds on, in S3's
        // `YYYY-MM-DDTHH:MM:SSZ`.
        let signed_at = edgeward_signing::parse_amz_date(&signed_request_time(result)).unwrap();
        let expires = time::OffsetDateTime::from(signed_at + std::time::Duration::from_secs(300))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        assert_eq!(error["Expires"], expires.as_str(), "{case}");
        let server_time = time::OffsetDateTime::parse(
            error["ServerTime"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let apart = (time::OffsetDateTime::from(answered) - server_time).abs();
        assert!(apart < time::Duration::seconds(60), "{case}");
        if *skew < 0 {
            assert_eq!(error["Message"], "Request has expired", "{case}");
            assert_eq!(error["X-Amz-Expires"], "300", "{case}");
            assert!(error.get("X-Amz-Date").is_none(), "{case}");
        } else {
            assert_eq!(error["Message"], "Request is not yet valid", "{case}");
            let millis = signed_at
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis();
            assert_eq!(error["X-Amz-Date"], millis.to_string(), "{case}");
            assert!(error.get("X-Amz-Expires").is_none(), "{case}");
        }
    }
}

/// `x-amz-*` headers added to a request after botocore signed it for S3, in the header and
/// the presigned forms, read back by botocore's S3 parser: S3's `AccessDenied` (403), "There
/// were headers present in the request which were not signed", with the headers in
/// `HeadersNotSigned` in the order sent, `, `-separated (soto-project/soto#374 quotes S3's
/// answer for one header; a recorded answer names two so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_s3s_words_for_headers_left_unsigned() {
    let addr = start_server().await;
    let specs: Vec<Value> = ["header", "query"]
        .iter()
        .map(|kind| {
            json!({
                "method": "PUT", "url": format!("http://{addr}/bucket/key"),
                "headers": [["x-amz-meta-signed", "1"]], "body": "", "access_key": AK,
                "secret_key": SK, "token": null, "region": "us-east-1", "service": "s3",
                "kind": kind, "s3": true, "protocol": "rest-xml",
                "unsigned_headers": [["x-amz-acl", "public-read"], ["x-amz-meta-note", "n"]],
            })
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let results = run_json_script_beside_server(script, Value::Array(specs)).await;
    for result in &results {
        assert_headers_not_signed(result, "x-amz-acl, x-amz-meta-note");
    }
}

/// `result` (from `botocore_send.py`) is S3's answer to headers left unsigned, as botocore's
/// S3 parser reads it, listing `names`.
fn assert_headers_not_signed(result: &Value, names: &str) {
    let error = &result["error"];
    assert_eq!(result["status"], 403, "{result}");
    assert_eq!(error["Code"], "AccessDenied", "{result}");
    assert_eq!(
        error["Message"], "There were headers present in the request which were not signed",
        "{result}"
    );
    assert_eq!(error["HeadersNotSigned"], names, "{result}");
}

/// Required headers left unsigned, read back by botocore's S3 parser as S3 answers them:
/// `AccessDenied` (403), "There were headers present in the request which were not signed",
/// naming the header in `HeadersNotSigned`. A URL botocore presigned, sent with an empty
/// `X-Amz-SignedHeaders` (what an older amazonka presigned; S3's answer names `host`,
/// brendanhay/amazonka#272), and a header form whose `SignedHeaders` leaves out
/// `x-amz-date`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_s3s_words_for_required_headers_left_unsigned() {
    let addr = start_server().await;
    let spec = |kind: &str, edits: Value, unsigned_headers: Value| {
        json!({
            "method": "GET", "url": format!("http://{addr}/bucket/key"), "headers": [],
            "body": "", "access_key": AK, "secret_key": SK, "token": null,
            "region": "us-east-1", "service": "s3", "kind": kind, "s3": true,
            "protocol": "rest-xml", "url_edits": edits, "unsigned_headers": unsigned_headers,
        })
    };
    let now = edgeward_signing::format_amz_date(std::time::SystemTime::now());
    let without_date = format!(
        "AWS4-HMAC-SHA256 Credential={AK}/{}/us-east-1/s3/aws4_request, \
         SignedHeaders=host;x-amz-content-sha256, Signature={}",
        &now[..8],
        "0".repeat(64)
    );
    let specs = json!([
        spec(
            "query",
            json!([["X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders="]]),
            json!([]),
        ),
        spec(
            "header",
            json!([]),
            json!([["X-Amz-Date", now], ["Authorization", without_date]]),
        ),
    ]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let results = run_json_script_beside_server(script, specs).await;
    for (result, header) in results.iter().zip(["host", "x-amz-date"]) {
        assert_headers_not_signed(result, header);
    }
}

/// An `Authorization` header of a scheme the layer does not take, sent in place of the one
/// botocore signed for S3, read back by botocore's S3 parser: S3's `InvalidArgument` (400),
/// "Unsupported Authorization Type", `ArgumentName` `Authorization` (S3's answer to a
/// misspelt algorithm in versity/versitygw#1512, to `Basic` in danialfarid/ng-file-upload#615).
/// S3 echoes the whole header as `ArgumentValue`; the layer echoes the scheme alone, so that a
/// bearer token sent to the wrong server does not come back in an answer and a client's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_s3s_words_for_an_authorization_of_another_scheme() {
    // In front of S3 alone, as S3 is: a bearer token names no service to answer for.
    let mut policy = VerifierSettings::default();
    policy.services = Accept::OneOf(vec!["s3".to_owned()]);
    let addr = support::start_server_verifying(policy).await;
    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZXZpY2UifQ.c2lnbmF0dXJl";
    let misspelt = format!(
        "AWS4-HMAC-SHA25 Credential={AK}/20261207/us-east-1/s3/aws4_request, \
         SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={}",
        "0".repeat(64)
    );
    let cases = [
        (format!("Bearer {TOKEN}"), "Bearer"),
        (misspelt, "AWS4-HMAC-SHA25"),
    ];
    let specs: Vec<Value> = cases
        .iter()
        .map(|(authorization, _)| {
            json!({
                "method": "GET", "url": format!("http://{addr}/bucket/key"), "headers": [],
                "body": "", "access_key": AK, "secret_key": SK, "token": null,
                "region": "us-east-1", "service": "s3", "kind": "header", "s3": true,
                "protocol": "rest-xml", "unsigned_headers": [["Authorization", authorization]],
            })
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let results = run_json_script_beside_server(script, Value::Array(specs)).await;
    for ((_, scheme), result) in cases.iter().zip(&results) {
        let error = &result["error"];
        assert_eq!(result["status"], 400, "{result}");
        assert_eq!(error["Code"], "InvalidArgument", "{result}");
        assert_eq!(
            error["Message"], "Unsupported Authorization Type",
            "{result}"
        );
        assert_eq!(error["ArgumentName"], "Authorization", "{result}");
        assert_eq!(error["ArgumentValue"], *scheme, "{result}");
        assert!(
            !result["body"].as_str().unwrap().contains("eyJ"),
            "{result}"
        );
    }
}

/// A body that is not what its request said, signed by botocore and read back by botocore's
/// S3 parser, as an S3 client reads S3's answer: S3's words, and the values in the elements S3
/// adds beside them.
/// - A body changed after signing: `XAmzContentSHA256Mismatch`, "The provided
///   'x-amz-content-sha256' header does not match what was computed.", with the signed hash
///   as `ClientComputedContentSHA256` and the body's as `S3ComputedContentSHA256`
///   (grosskur/lua-resty-aws#2 quotes S3's answer).
/// - A `Content-MD5` of another body: `BadDigest`, "The Content-MD5 you specified did not match
///   what we received.", with the body's MD5 in base64 as `CalculatedDigest` and the claimed
///   one in hex as `ExpectedDigest` (versity/versitygw#2034, dandi/dandi-cli#1257).
/// - A `Content-MD5` that is no MD5: `InvalidDigest`, "The Content-MD5 you specified was
///   invalid.", the value as `Content-MD5` (versity/versitygw#1526).
/// - An `x-amz-checksum-sha256` of another body: `BadDigest`, "The SHA256 you specified did not
///   match the calculated checksum." (as S3 words it for CRC32 in aws/aws-sdk-ruby#3322).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_s3s_words_for_a_body_unlike_its_request() {
    use base64::Engine as _;
    let addr = start_server().await;
    let md5_hex = |data: &[u8]| -> String {
        let md5 = base64::engine::general_purpose::STANDARD
            .decode(content_md5_base64(data))
            .unwrap();
        md5.iter().map(|b| format!("{b:02x}")).collect()
    };
    let sha256_base64 = |data: &[u8]| -> String {
        let hex = sha256_hex(data);
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let no_md5 = "bm90IGFuIE1ENQ=="; // base64 of "not an MD5": 10 bytes.
    /// A request of "hello" and what S3 answers it.
    struct Case {
        headers: Value,
        /// Sent in place of the signed body.
        sent_body: Option<&'static str>,
        code: &'static str,
        message: &'static str,
        elements: Vec<(&'static str, String)>,
    }
    let cases = [
        Case {
            headers: json!([]),
            sent_body: Some("jello"),
            code: "XAmzContentSHA256Mismatch",
            message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
            elements: vec![
                ("ClientComputedContentSHA256", sha256_hex(b"hello")),
                ("S3ComputedContentSHA256", sha256_hex(b"jello")),
            ],
        },
        Case {
            headers: json!([["Content-MD5", content_md5_base64(b"other")]]),
            sent_body: None,
            code: "BadDigest",
            message: "The Content-MD5 you specified did not match what we received.",
            elements: vec![
                ("CalculatedDigest", content_md5_base64(b"hello")),
                ("ExpectedDigest", md5_hex(b"other")),
            ],
        },
        Case {
            headers: json!([["Content-MD5", no_md5]]),
            sent_body: None,
            code: "InvalidDigest",
            message: "The Content-MD5 you specified was invalid.",
            elements: vec![("Content-MD5", no_md5.to_owned())],
        },
        Case {
            headers: json!([["x-amz-checksum-sha256", sha256_base64(b"other")]]),
            sent_body: None,
            code: "BadDigest",
            message: "The SHA256 you specified did not match the calculated checksum.",
            elements: vec![],
        },
    ];
    let specs: Vec<Value> = cases
        .iter()
        .map(|case| {
            json!({
                "method": "PUT", "url": format!("http://{addr}/bucket/key"),
                "headers": case.headers, "body": "hello", "sent_body": case.sent_body,
                "access_key": AK, "secret_key": SK, "token": null, "region": "us-east-1",
                "service": "s3", "kind": "header", "s3": true, "protocol": "rest-xml",
            })
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let results = run_json_script_beside_server(script, Value::Array(specs)).await;
    assert_eq!(results.len(), cases.len());
    for (case, result) in cases.iter().zip(&results) {
        let error = &result["error"];
        assert_eq!(result["status"], 400, "{result}");
        assert_eq!(error["Code"], case.code, "{result}");
        assert_eq!(error["Message"], case.message, "{result}");
        for (name, value) in &case.elements {
            assert_eq!(error[name], value.as_str(), "{name}: {result}");
        }
    }
}
