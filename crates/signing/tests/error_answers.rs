//! What a refusal says, as a client reads it: the region S3's redirect logic re-signs for,
//! JSON that a JSON parser takes whatever the error text holds, messages that name where the
//! signature was, and untrusted values clipped. The cases came from a mutation review
//! (cargo-mutants, 2026-12-04, round 3) that found each rendering unchecked by a fast test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::SystemTime;

use aws_credential_types::Credentials;
use bytes::Bytes;
use edgeward_signing::{
    parse_authorization_header, parse_presigned_query, Accept, PayloadSigning, VerifierSettings,
};
use http_body_util::Full;
use support::{sign_s3, start_server_verifying, AK, SK};

const SIG: &str = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";

/// An S3 request signed for a region other than the one the server accepts is answered as S3
/// answers it, with the region to use in `<Region>` and in `x-amz-bucket-region` (the header
/// for a `HEAD`, which has no body): botocore's `S3RegionRedirectorv2` reads either and signs
/// again for it. When more than one region is accepted there is no one region to name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_region_names_the_accepted_one_for_s3() {
    let mut one = VerifierSettings::default();
    one.regions = Accept::OneOf(vec!["eu-west-1".into()]);
    let mut two = VerifierSettings::default();
    two.regions = Accept::OneOf(vec!["eu-west-1".into(), "eu-west-2".into()]);
    let credentials = Credentials::from_keys(AK, SK, None);
    for (policy, expected) in [(one, Some("eu-west-1")), (two, None)] {
        let addr = start_server_verifying(policy).await;
        for method in ["GET", "HEAD"] {
            let mut request = http::Request::builder()
                .method(method)
                .uri(format!("http://{addr}/bucket/key"))
                .header("host", addr.to_string())
                .body(Vec::new())
                .unwrap();
            sign_s3(
                &mut request,
                &credentials,
                "us-east-1",
                PayloadSigning::Unsigned,
                SystemTime::now(),
            );
            let (parts, body) = request.into_parts();
            let response = support::send(
                addr,
                http::Request::from_parts(parts, Full::new(Bytes::from(body))),
            )
            .await;
            let text = String::from_utf8_lossy(response.body()).into_owned();
            let case = format!("{method}, expecting {expected:?}: {text}");
            assert_eq!(response.status(), 400, "{case}");
            assert_eq!(
                response
                    .headers()
                    .get("x-amz-bucket-region")
                    .map(|v| v.to_str().unwrap()),
                expected,
                "{case}"
            );
            if method == "GET" {
                assert!(
                    text.contains("<Code>AuthorizationHeaderMalformed</Code>"),
                    "{case}"
                );
                match expected {
                    Some(region) => {
                        assert!(
                            text.contains(&format!("<Region>{region}</Region>")),
                            "{case}"
                        );
                    }
                    None => assert!(!text.contains("<Region>"), "{case}"),
                }
            }
        }
    }
}

/// A refusal in JSON is JSON whatever its message holds: the quotes and backslashes that a
/// malformed `SignedHeaders` puts in the message (it quotes the name it read) are escaped,
/// and the message a JSON parser reads back is the error's text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_refusal_escapes_its_message() {
    let addr = start_server_verifying(VerifierSettings::default()).await;
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={AK}/20231114/us-east-1/dynamodb/aws4_request, \
         SignedHeaders=Q\"\\, Signature={}",
        "0".repeat(64)
    );
    let expected = parse_authorization_header(&authorization).unwrap_err();
    let message = expected.to_string();
    assert!(message.contains('"') && message.contains('\\'), "{message}");
    let request = http::Request::post(format!("http://{addr}/"))
        .header("host", addr.to_string())
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "DynamoDB_20120810.ListTables")
        .header("x-amz-date", "20231114T221320Z")
        .header("authorization", &authorization)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let response = support::send(addr, request).await;
    let text = String::from_utf8_lossy(response.body()).into_owned();
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(json["__type"], expected.json_error_code(), "{text}");
    assert_eq!(json["message"], message.as_str(), "{text}");
}

/// A parse error names where the signature was: the `Authorization` header or the presigned
/// URL's query parameters (`SignatureLocation`'s `Display`).
#[test]
fn a_malformed_signature_says_where_it_was() {
    let header = parse_authorization_header(&format!(
        "AWS4-HMAC-SHA256 Credential=AKID/20231114/us-east-1/s3/aws4_request, \
         SignedHeaders=HOST, Signature={SIG}"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        header.starts_with("malformed Authorization header: "),
        "{header}"
    );
    let query = parse_presigned_query(&format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20231114%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20231114T221320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=HOST&X-Amz-Signature={SIG}"
    ))
    .unwrap_err()
    .to_string();
    assert!(query.starts_with("malformed query parameters: "), "{query}");
}

/// An untrusted value quoted in an error is cut to its first 64 bytes (at a character
/// boundary) and marked `…`: a value of exactly 64 bytes is quoted whole.
#[test]
fn untrusted_values_in_errors_are_clipped_to_64_bytes() {
    let message = |name: &str| {
        parse_authorization_header(&format!(
            "AWS4-HMAC-SHA256 Credential=AKID/20231114/us-east-1/s3/aws4_request, \
             SignedHeaders={name}, Signature={SIG}"
        ))
        .unwrap_err()
        .to_string()
    };
    let exact = "H".repeat(64);
    let text = message(&exact);
    assert!(text.contains(&format!("{exact:?}")), "{text}");
    let long = "H".repeat(65);
    let text = message(&long);
    assert!(text.contains(&format!("\"{}…\"", &long[..64])), "{text}");
    // `é` is two bytes, at 63 and 64: the cut falls before it.
    let straddling = format!("{}é{}", "H".repeat(63), "H".repeat(10));
    let text = message(&straddling);
    assert!(text.contains(&format!("\"{}…\"", "H".repeat(63))), "{text}");
}

/// A SigV4a request to S3 (botocore's `signature_version='s3v4a'`, or an S3 SDK given a
/// multi-region access point ARN) has the scope `AK/DATE/s3/aws4_request`, with no region: it
/// still names `s3`, so its refusal comes in S3's XML, from which S3's SDKs read a code (in
/// JSON, botocore's S3 parser reads none: `(400) Bad Request`). The header's is the answer to
/// any scheme this crate does not take, S3's `InvalidArgument`, "Unsupported Authorization
/// Type", with the scheme as `ArgumentValue`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigv4a_s3_request_is_refused_in_s3s_form() {
    let addr = support::start_server().await;
    let empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let header = http::Request::builder()
        .uri(format!("http://{addr}/bucket/k"))
        .header("host", addr.to_string())
        .header("x-amz-date", "20261205T155152Z")
        .header("x-amz-region-set", "us-east-1")
        .header("x-amz-content-sha256", empty_sha256)
        .header(
            "authorization",
            format!(
                "AWS4-ECDSA-P256-SHA256 Credential={AK}/20261205/s3/aws4_request, \
                 SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-region-set, \
                 Signature=3045022100aa"
            ),
        )
        .body(Full::new(Bytes::new()))
        .unwrap();
    let presigned = http::Request::builder()
        .uri(format!(
            "http://{addr}/bucket/k?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256\
             &X-Amz-Credential={AK}%2F20261205%2Fs3%2Faws4_request&X-Amz-Date=20261205T155152Z\
             &X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Region-Set=us-east-1\
             &X-Amz-Signature=3045022100aa"
        ))
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap();
    for (form, code, request) in [
        ("header", "InvalidArgument", header),
        ("presigned", "AuthorizationQueryParametersError", presigned),
    ] {
        let response = support::send(addr, request).await;
        let text = String::from_utf8_lossy(response.body()).into_owned();
        assert_eq!(
            response.headers()["content-type"],
            "application/xml",
            "{form}: {text}"
        );
        assert!(
            text.contains(&format!("<Error><Code>{code}</Code>")),
            "{form}: {text}"
        );
        assert!(text.contains("AWS4-ECDSA-P256-SHA256"), "{form}: {text}");
    }
}

/// A request signed with Signature Version 2 the way only S3 took it (an `AWS AKID:signature`
/// header, a presigned URL with `AWSAccessKeyId`, `Expires` and `Signature`) names no service,
/// yet its client reads S3's XML: it is refused there, with S3's `InvalidRequest` and S3's
/// words for it, which s3cmd reads to sign again with SigV4 (`S3._http_400_handler`). A
/// query-API call signed so (`Action=…&SignatureVersion=2`) is answered in the query XML.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigv2_request_is_refused_in_its_clients_form() {
    let addr = support::start_server().await;
    let request = |target: &str, authorization: Option<&str>| {
        let mut builder = http::Request::builder()
            .uri(format!("http://{addr}{target}"))
            .header("host", addr.to_string())
            .header("date", "Sun, 06 Dec 2026 15:00:00 GMT");
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        builder.body(Full::new(Bytes::new())).unwrap()
    };
    let s3_words = "<Error><Code>InvalidRequest</Code><Message>The authorization mechanism \
                    you have provided is not supported. Please use AWS4-HMAC-SHA256.</Message>";
    for (form, request, content_type, expected) in [
        (
            "header",
            request(
                "/bucket/",
                Some(&format!("AWS {AK}:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")),
            ),
            "application/xml",
            s3_words,
        ),
        (
            "presigned",
            request(
                &format!(
                    "/bucket/key?AWSAccessKeyId={AK}&Expires=1798815600\
                     &Signature=qgk2%2B6Sv9%2FoM7G3qLEjTH1a1l1g%3D"
                ),
                None,
            ),
            "application/xml",
            s3_words,
        ),
        (
            "query API",
            request(
                &format!(
                    "/?Action=DescribeRegions&AWSAccessKeyId={AK}&SignatureMethod=HmacSHA256\
                     &SignatureVersion=2&Timestamp=2026-12-06T15%3A00%3A00Z\
                     &Signature=qgk2%2B6Sv9%2FoM7G3qLEjTH1a1l1g%3D"
                ),
                None,
            ),
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidRequest</Code>",
        ),
    ] {
        let response = support::send(addr, request).await;
        let text = String::from_utf8_lossy(response.body()).into_owned();
        assert_eq!(response.status(), 400, "{form}: {text}");
        assert_eq!(
            response.headers()["content-type"],
            content_type,
            "{form}: {text}"
        );
        assert!(text.contains(expected), "{form}: {text}");
    }
}
