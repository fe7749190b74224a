//! S3's browser uploads (POST Object) through the layer, sent by curl (`-F`) over a real
//! socket: a form whose policy allows it reaches the service whole, with the `VerifiedPost`;
//! a form its policy does not allow, a file outside the policy's size range or not what its
//! checksum fields claim, and fields over S3's 20 KiB are refused in S3's XML with S3's codes;
//! and what is not a POST Object (another path, a query, an `Authorization` header) is
//! verified as before.
#![allow(clippy::unwrap_used)]

mod support;

use std::convert::Infallible;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use edgeward_signing::{
    presign_post, LayerSettings, PolicyCondition, PostForm, PostPresignRequest, SigningParams,
    VerifiedBody, VerifiedPost, VerifierSettings,
};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::{json, Value};
use support::{curl, serve_service, test_layer_verifying, ArrivalThenLater, AK, SK};
use tower::Layer;

/// The service behind the layer: it reads the body as S3 would (the head, then the file to
/// its delimiter) and answers what it was handed, as JSON.
async fn s3_like(
    request: http::Request<VerifiedBody<Incoming>>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let verified = request.extensions().get::<VerifiedPost>().cloned();
    let content_type = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let answer = match (verified, request.into_body().collect().await) {
        (_, Err(e)) => json!({"body failed": e.aws_error_code()}),
        (None, Ok(_)) => json!({"verified": "not as a POST Object"}),
        (Some(verified), Ok(collected)) => {
            let body = collected.to_bytes();
            let head = PostForm::parse_multipart(&content_type, &body)
                .unwrap()
                .unwrap();
            let rest = &body[head.file_start..];
            let end = rest
                .windows(head.file_delimiter.len())
                .position(|w| w == head.file_delimiter.as_slice())
                .unwrap();
            json!({
                "principal": verified.principal(),
                "bucket": verified.bucket(),
                "key": verified.key(),
                "file": hex::encode(&rest[..end]),
            })
        }
    };
    Ok(http::Response::new(Full::new(Bytes::from(
        answer.to_string(),
    ))))
}

async fn start(policy: VerifierSettings) -> std::net::SocketAddr {
    let layer = test_layer_verifying(LayerSettings::default(), policy);
    serve_service(layer.layer(tower::service_fn(s3_like)), None).await
}

/// The fields of a form to `bucket` for `key`, signed at `time` with the test key by
/// `presign_post` (for an hour), with the form's other `fields` and their `conditions`.
fn signed_form(
    key: &str,
    fields: &[(&str, &str)],
    conditions: &[PolicyCondition],
    time: SystemTime,
) -> Vec<(String, String)> {
    let credentials = aws_credential_types::Credentials::from_keys(AK, SK, None);
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "s3",
        time,
    };
    let request = PostPresignRequest {
        bucket: "bucket",
        key,
        expires_in: Duration::from_secs(3600),
        fields,
        conditions,
    };
    presign_post(&params, &request)
        .unwrap()
        .fields()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

/// curl's arguments for a form with `fields` and a file of `file` bytes, to `url`.
fn form_args(fields: &[(String, String)], file: &std::path::Path, url: String) -> Vec<String> {
    let mut args = Vec::new();
    for (name, value) in fields {
        args.push("--form-string".to_owned());
        args.push(format!("{name}={value}"));
    }
    args.push("-F".to_owned());
    args.push(format!("file=@{};filename=photo.jpg", file.display()));
    args.push(url);
    args
}

fn status(head: &str) -> u16 {
    head.split(' ').nth(1).unwrap().parse().unwrap()
}

/// S3's error code in an XML answer.
fn code(body: &str) -> &str {
    body.split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or(body)
}

fn message(body: &str) -> &str {
    body.split("<Message>")
        .nth(1)
        .and_then(|rest| rest.split("</Message>").next())
        .unwrap_or(body)
}

fn file_of(size: usize) -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("photo.jpg");
    let content: Vec<u8> = (0..=255u8).cycle().take(size).collect();
    std::fs::write(&path, &content).unwrap();
    (directory, path, content)
}

#[tokio::test]
async fn a_form_its_policy_allows_reaches_the_service_and_others_are_refused() {
    let addr = start(VerifierSettings::default()).await;
    let url = format!("http://{addr}/bucket");
    let range = [PolicyCondition::ContentLengthRange { min: 10, max: 4096 }];
    let fields = signed_form("uploads/${filename}", &[], &range, SystemTime::now());
    let (_dir, path, content) = file_of(3000);

    let answer = curl(form_args(&fields, &path, url.clone())).await;
    assert_eq!(status(&answer.head), 200, "{}", answer.body);
    let got: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(got["principal"], "arn:aws:iam::123456789012:user/alice");
    assert_eq!(got["bucket"], "bucket");
    assert_eq!(got["key"], "uploads/photo.jpg");
    assert_eq!(got["file"], hex::encode(&content));

    // Refusals from the form, before the service is called.
    let mut extra = fields.clone();
    extra.insert(0, ("x-amz-meta-added".to_owned(), "1".to_owned()));
    let mut outside = fields.clone();
    outside[0].1 = "private/${filename}".to_owned();
    let other_bucket = format!("http://{addr}/another-bucket");
    let refusals = [
        (extra, url.clone(), 403, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-added"),
        (outside, url.clone(), 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [&quot;starts-with&quot;, &quot;$key&quot;, &quot;uploads/&quot;]"),
        (fields.clone(), other_bucket, 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [&quot;eq&quot;, &quot;$bucket&quot;, &quot;bucket&quot;]"),
    ];
    for (form, url, expected_status, expected_code, expected_message) in refusals {
        let answer = curl(form_args(&form, &path, url)).await;
        assert_eq!(status(&answer.head), expected_status, "{}", answer.body);
        assert_eq!(code(&answer.body), expected_code, "{}", answer.body);
        assert_eq!(message(&answer.body), expected_message);
    }

    // The file is held to the policy's range as it arrives: the layer's answer replaces the
    // service's, in S3's words and with its elements (as S3 was seen to answer browser uploads:
    // versitygw#2040 and apisauce#245 quote it). Too large is found before the file's end, so
    // the size proposed is what had arrived.
    for (size, expected, words, bound) in [
        (
            5000,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            "</ProposedSize><MaxSizeAllowed>4096</MaxSizeAllowed>",
        ),
        (
            5,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            "<ProposedSize>5</ProposedSize><MinSizeAllowed>10</MinSizeAllowed>",
        ),
    ] {
        let (_dir, path, _) = file_of(size);
        let answer = curl(form_args(&fields, &path, url.clone())).await;
        assert_eq!(status(&answer.head), 400, "{size}: {}", answer.body);
        assert_eq!(code(&answer.body), expected, "{size}: {}", answer.body);
        assert_eq!(message(&answer.body), words, "{size}");
        assert!(
            answer
                .body
                .contains(&format!("{words}</Message><ProposedSize>")),
            "{size}: {}",
            answer.body
        );
        assert!(answer.body.contains(bound), "{size}: {}", answer.body);
    }
    // A file of exactly the range's bounds passes.
    for size in [10, 4096] {
        let (_dir, path, content) = file_of(size);
        let answer = curl(form_args(&fields, &path, url.clone())).await;
        let got: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(got["file"], hex::encode(&content), "{size}");
    }

    // Fields over S3's 20 KiB before the file.
    let padding = "p".repeat(21 * 1024);
    let padded = signed_form(
        "k",
        &[("x-amz-meta-pad", &padding)],
        &[PolicyCondition::StartsWith {
            field: "$x-amz-meta-pad".into(),
            prefix: String::new(),
        }],
        SystemTime::now(),
    );
    let answer = curl(form_args(&padded, &path, url.clone())).await;
    assert_eq!(status(&answer.head), 400, "{}", answer.body);
    assert_eq!(code(&answer.body), "MaxPostPreDataLengthExceeded");
}

/// `openssl dgst -<digest> -binary` of `path`, in base64: a checksum field's value, from a
/// tool independent of this crate.
fn openssl_digest(digest: &str, path: &std::path::Path) -> String {
    use base64::Engine as _;
    let output = std::process::Command::new("openssl")
        .args(["dgst", &format!("-{digest}"), "-binary"])
        .arg(path)
        .output()
        .expect("openssl is on the PATH");
    assert!(output.status.success(), "openssl dgst -{digest}");
    base64::engine::general_purpose::STANDARD.encode(output.stdout)
}

/// The file is held to the `Content-MD5` and `x-amz-checksum-*` fields the form claims for
/// it, as S3 holds it: the file they describe reaches the service; another of the same size
/// is refused at its end with `BadDigest` (400), the layer's answer replacing the service's.
#[tokio::test]
async fn a_file_is_held_to_the_checksums_its_form_claims() {
    let addr = start(VerifierSettings::default()).await;
    let url = format!("http://{addr}/bucket");
    let (_dir, path, content) = file_of(3000);
    let mut other = content.clone();
    other[1234] ^= 1;
    let other_dir = tempfile::tempdir().unwrap();
    let other_path = other_dir.path().join("photo.jpg");
    std::fs::write(&other_path, &other).unwrap();
    let md5 = openssl_digest("md5", &path);
    let sha256 = openssl_digest("sha256", &path);
    for claims in [
        vec![("Content-MD5", md5.as_str())],
        vec![("x-amz-checksum-sha256", sha256.as_str())],
        vec![
            ("x-amz-checksum-sha256", sha256.as_str()),
            ("Content-MD5", md5.as_str()),
        ],
    ] {
        let conditions: Vec<PolicyCondition> = claims
            .iter()
            .map(|(name, value)| PolicyCondition::Eq {
                field: format!("${name}"),
                value: (*value).to_owned(),
            })
            .collect();
        let fields = signed_form("k", &claims, &conditions, SystemTime::now());
        let answer = curl(form_args(&fields, &path, url.clone())).await;
        let got: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(got["file"], hex::encode(&content), "{claims:?}");

        let answer = curl(form_args(&fields, &other_path, url.clone())).await;
        assert_eq!(status(&answer.head), 400, "{claims:?}: {}", answer.body);
        assert_eq!(
            code(&answer.body),
            "BadDigest",
            "{claims:?}: {}",
            answer.body
        );
    }
    // A claim that is no MD5 is refused from the form, before the service is called.
    let claims = [("Content-MD5", "not-an-md5")];
    let conditions = [PolicyCondition::Eq {
        field: "$Content-MD5".into(),
        value: "not-an-md5".into(),
    }];
    let fields = signed_form("k", &claims, &conditions, SystemTime::now());
    let answer = curl(form_args(&fields, &path, url)).await;
    assert_eq!(status(&answer.head), 400, "{}", answer.body);
    assert_eq!(code(&answer.body), "InvalidDigest", "{}", answer.body);
}

/// A form to a virtual-hosted bucket (`bucket.s3.example.com`, `POST /`) is one when the
/// verifier knows the service's domain; without it, `POST /` names no bucket and the request
/// is what it was before: unauthenticated. Nor is a form to an object's path, or with a
/// query, or a POST whose body is no form, a POST Object.
#[tokio::test]
async fn virtual_hosted_forms_need_the_domain_and_other_posts_stay_unauthenticated() {
    let fields = signed_form("k", &[], &[], SystemTime::now());
    let (_dir, path, content) = file_of(100);
    let mut with_domain = VerifierSettings::default();
    with_domain.s3_domains = vec!["s3.example.com".to_owned()];
    let addr = start(with_domain).await;
    let mut args = form_args(&fields, &path, format!("http://{addr}/"));
    args.extend(["-H".to_owned(), "Host: bucket.s3.example.com".to_owned()]);
    let answer = curl(args).await;
    let got: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(got["file"], hex::encode(&content), "{}", answer.body);
    assert_eq!(got["bucket"], "bucket", "the host's");

    let addr = start(VerifierSettings::default()).await;
    for target in ["/", "/bucket/key", "/bucket?uploads"] {
        let mut args = form_args(&fields, &path, format!("http://{addr}{target}"));
        args.extend(["-H".to_owned(), "Host: bucket.s3.example.com".to_owned()]);
        let answer = curl(args).await;
        // (In S3's XML, `AccessDenied`, but for the one with a query, which only an S3 client
        // would send, so the layer cannot tell it is one.)
        assert_eq!(status(&answer.head), 403, "{target}: {}", answer.body);
        // S3's words for no authentication ("Access Denied"); restJson's, API Gateway's
        // (brefphp/bref#1250).
        if target.contains('?') {
            assert!(
                answer
                    .body
                    .contains("\"message\":\"Missing Authentication Token\""),
                "{target}: {}",
                answer.body
            );
        } else {
            assert_eq!(code(&answer.body), "AccessDenied", "{target}");
            assert!(
                answer.body.contains("Access Denied"),
                "{target}: {}",
                answer.body
            );
        }
    }
    // A POST to a bucket that is no form is no POST Object either.
    let answer = curl(vec![
        "-H".to_owned(),
        "Content-Type: text/plain".to_owned(),
        "--data-binary".to_owned(),
        "key=k".to_owned(),
        format!("http://{addr}/bucket"),
    ])
    .await;
    assert_eq!(status(&answer.head), 403, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("\"message\":\"Missing Authentication Token\""),
        "{}",
        answer.body
    );
}

/// A verifier that accepts no service with S3's rules takes no form: a form POSTed to its
/// service (one a key it knows signed for S3) is a request without SigV4 authentication, as it
/// was before the layer read forms, not S3's upload, and is answered in the service's own
/// error format (`Auto`'s JSON, here), not S3's XML; one that names `s3` among its services
/// takes it.
#[tokio::test]
async fn only_a_verifier_for_s3_takes_forms() {
    use edgeward_signing::Accept;
    let fields = signed_form("k", &[], &[], SystemTime::now());
    let (_dir, path, content) = file_of(100);
    for (services, passes) in [
        (vec!["execute-api"], false),
        (vec!["execute-api", "s3"], true),
    ] {
        let mut settings = VerifierSettings::default();
        settings.services = Accept::OneOf(services.iter().map(|s| (*s).to_owned()).collect());
        let addr = start(settings).await;
        let answer = curl(form_args(&fields, &path, format!("http://{addr}/bucket"))).await;
        if passes {
            let got: Value = serde_json::from_str(&answer.body).unwrap();
            assert_eq!(got["file"], hex::encode(&content), "{services:?}");
        } else {
            assert_eq!(status(&answer.head), 403, "{services:?}: {}", answer.body);
            assert!(
                answer
                    .body
                    .starts_with("{\"__type\":\"MissingAuthenticationTokenException\""),
                "{services:?}: {}",
                answer.body
            );
            assert!(
                answer
                    .body
                    .contains("\"message\":\"Missing Authentication Token\""),
                "{services:?}: {}",
                answer.body
            );
        }
    }
}

/// A form is held to its policy's expiration when it arrived, not when its fields had (as a
/// signed request is held to its time window).
#[tokio::test]
async fn a_form_is_held_to_the_time_it_arrived() {
    use edgeward_signing::{ResolvedCredential, SigV4Layer, StaticCredentials, Verifier};
    use std::time::UNIX_EPOCH;
    use tower::ServiceExt as _;

    // Signed at a whole second, so that its expiration is an hour on exactly.
    let signed_at = UNIX_EPOCH
        + Duration::from_secs(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        );
    let fields = signed_form("k", &[], &[], signed_at);
    let expires = signed_at + Duration::from_secs(3600);
    let clock = ArrivalThenLater {
        read: false.into(),
        first: expires - Duration::from_secs(1),
        later: expires + Duration::from_secs(1),
    };
    let lookup = StaticCredentials::new().with(AK, ResolvedCredential::new(SK, "alice"));
    let verifier =
        Verifier::new(lookup, VerifierSettings::default()).with_clock(std::sync::Arc::new(clock));
    let service = SigV4Layer::new(std::sync::Arc::new(verifier), LayerSettings::default()).layer(
        tower::service_fn(
            |request: http::Request<VerifiedBody<Full<Bytes>>>| async move {
                let verified = request.extensions().get::<VerifiedPost>().is_some();
                let _ = request.into_body().collect().await;
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(format!(
                    "{verified}"
                )))))
            },
        ),
    );
    let mut body = Vec::new();
    for (name, value) in &fields {
        body.extend_from_slice(
            format!("--b\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--b--\r\n",
    );
    let request = http::Request::post("http://example.com/bucket")
        .header("content-type", "multipart/form-data; boundary=b")
        .header("content-length", body.len())
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let status = response.status();
    let text = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        (status.as_u16(), text.as_ref()),
        (200, b"true".as_slice()),
        "{}",
        String::from_utf8_lossy(&text)
    );
}
