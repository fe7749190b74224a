//! S3's browser-based uploads (POST Object): the S3 documentation's signed example form
//! verifies, each change to it is refused with the answer S3 gives, policies are read as the
//! documentation and S3's observed answers say, and a form curl encodes is read back field
//! for field.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use edgeward_signing::{
    signing_key, Accept, Error, FixedClock, PolicyCondition, PostFileScan, PostForm, PostPolicy,
    ResolvedCredential, SecretAccessKey, StaticCredentials, Verifier, VerifierSettings,
};
use futures_util::FutureExt as _;
use serde_json::Value;

fn example() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sigv4/s3-post-example.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A form's fields, in order.
type Fields = Vec<(String, String)>;

fn example_fields() -> Fields {
    support::field_pairs(&example()["fields"])
}

/// 2015-12-29T00:00:00Z, the example's `x-amz-date` (`date -u -d 2015-12-29 +%s`).
const SIGNED_AT: u64 = 1_451_347_200;
/// 2015-12-30T12:00:00Z, its policy's expiration.
const EXPIRES_AT: u64 = 1_451_476_800;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn verifier_at(now: SystemTime, settings: VerifierSettings) -> Verifier<StaticCredentials> {
    let v = example();
    let lookup = StaticCredentials::new()
        .with(
            v["access_key_id"].as_str().unwrap(),
            ResolvedCredential::new(v["secret_access_key"].as_str().unwrap(), "example-user"),
        )
        .with(
            "ASIATEMPORARY",
            ResolvedCredential::temporary(
                "temporary/secret",
                "role/uploader",
                "the-session-token",
                at(EXPIRES_AT),
            ),
        );
    Verifier::new(lookup, settings).with_clock(Arc::new(FixedClock(now)))
}

fn verify_with(
    verifier: &Verifier<StaticCredentials>,
    fields: &[(String, String)],
    file_name: Option<&str>,
    bucket: &str,
) -> Result<edgeward_signing::VerifiedPost, Error> {
    let mut form: PostForm = fields.iter().cloned().collect();
    form.set_file_name(file_name.map(str::to_owned));
    verifier
        .verify_post(&form, bucket)
        .now_or_never()
        .expect("the static lookup is ready at once")
}

fn verify_at(
    now: u64,
    fields: &[(String, String)],
) -> Result<edgeward_signing::VerifiedPost, Error> {
    verify_with(
        &verifier_at(at(now), VerifierSettings::default()),
        fields,
        Some("photo.jpg"),
        "sigv4examplebucket",
    )
}

/// The documentation's form, as its page gives it, verifies during the policy's life, with
/// the key its `${filename}` makes of the file's base name (the page: "only the text
/// following the last slash (/) or backslash (\) is used").
#[test]
fn the_documentations_example_verifies() {
    let fields = example_fields();
    for (file_name, key) in [
        ("photo.jpg", "user/user1/photo.jpg"),
        ("C:\\Photos\\photo.jpg", "user/user1/photo.jpg"),
        ("dir/sub/photo.jpg", "user/user1/photo.jpg"),
    ] {
        let verified = verify_with(
            &verifier_at(at(SIGNED_AT + 3600), VerifierSettings::default()),
            &fields,
            Some(file_name),
            "sigv4examplebucket",
        )
        .unwrap();
        assert_eq!(verified.key(), key);
        assert_eq!(verified.principal(), "example-user");
        assert_eq!(verified.bucket(), "sigv4examplebucket");
        assert_eq!(verified.access_key_id(), "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(verified.scope(), ("20151229", "us-east-1", "s3"));
        assert_eq!(verified.signed_at(), at(SIGNED_AT));
        assert_eq!(verified.expires_at(), at(EXPIRES_AT));
        assert_eq!(verified.allowed_file_size(), 0..=u64::MAX);
        assert_eq!(
            verified.field("x-amz-meta-uuid").as_deref(),
            Some("14365123651274")
        );
    }
    // Without a file name, `${filename}` stays as written (S3 stores such a key literally).
    let verified = verify_with(
        &verifier_at(at(SIGNED_AT), VerifierSettings::default()),
        &fields,
        None,
        "sigv4examplebucket",
    )
    .unwrap();
    assert_eq!(verified.key(), "user/user1/${filename}");
}

/// The S3 error code, status and message a refusal answers with.
fn answer(result: Result<edgeward_signing::VerifiedPost, Error>) -> (&'static str, u16, String) {
    let error = result.expect_err("refused");
    let s3 = error.to_s3_error();
    (s3.code, s3.status, s3.message)
}

fn with(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut changed = fields.to_vec();
    let slot = changed
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .unwrap();
    slot.1 = value.to_owned();
    changed
}

fn without(fields: &[(String, String)], name: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .cloned()
        .collect()
}

fn plus(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut more = fields.to_vec();
    more.push((name.to_owned(), value.to_owned()));
    more
}

/// Each field the policy holds, changed or dropped, fails its condition with S3's 403
/// `AccessDenied` quoting it (simple conditions as the `eq` they stand for); a field no
/// condition names is an extra input field; `x-ignore-*` passes unnamed. The messages are
/// S3's as recorded against it (LocalStack's validated snapshots; boto/boto3#4514).
#[test]
fn each_field_is_held_to_its_condition() {
    let fields = example_fields();
    let condition_failed =
        |quoted: &str| format!("Invalid according to Policy: Policy Condition failed: {quoted}");
    let cases: Vec<(&str, Fields, String)> = vec![
        (
            "a key outside the prefix",
            with(&fields, "key", "user/user2/${filename}"),
            condition_failed(r#"["starts-with", "$key", "user/user1/"]"#),
        ),
        (
            "another acl",
            with(&fields, "acl", "private"),
            condition_failed(r#"["eq", "$acl", "public-read"]"#),
        ),
        (
            "the acl in another case",
            with(&fields, "acl", "PUBLIC-READ"),
            condition_failed(r#"["eq", "$acl", "public-read"]"#),
        ),
        (
            "a Content-Type that is no image",
            with(&fields, "Content-Type", "text/plain"),
            condition_failed(r#"["starts-with", "$Content-Type", "image/"]"#),
        ),
        (
            "a Content-Type list with one that is no image",
            with(&fields, "Content-Type", "image/jpg,text/plain"),
            condition_failed(r#"["starts-with", "$Content-Type", "image/"]"#),
        ),
        (
            "no x-amz-meta-uuid",
            without(&fields, "x-amz-meta-uuid"),
            condition_failed(r#"["eq", "$x-amz-meta-uuid", "14365123651274"]"#),
        ),
        (
            "no x-amz-meta-tag, which starts-with \"\" still requires",
            without(&fields, "x-amz-meta-tag"),
            condition_failed(r#"["starts-with", "$x-amz-meta-tag", ""]"#),
        ),
        (
            "a field no condition names",
            plus(&fields, "x-amz-meta-extra", "1"),
            "Invalid according to Policy: Extra input fields: x-amz-meta-extra".to_owned(),
        ),
        (
            "two fields no condition names, each named once as sent",
            plus(
                &plus(
                    &plus(&fields, "X-Amz-Storage-Class", "GLACIER"),
                    "submit",
                    "Upload",
                ),
                "x-amz-storage-class",
                "GLACIER",
            ),
            "Invalid according to Policy: Extra input fields: X-Amz-Storage-Class, submit"
                .to_owned(),
        ),
    ];
    for (name, changed, message) in cases {
        assert_eq!(
            answer(verify_at(SIGNED_AT, &changed)),
            ("AccessDenied", 403, message),
            "{name}"
        );
    }
    // A Content-Type list of images passes, as the documentation's example says (blanks after
    // a comma allowed); so does a field S3 is told to ignore, and every field name in another
    // case.
    let images = with(&fields, "Content-Type", "image/jpg, image/png,image/gif");
    assert!(verify_at(SIGNED_AT, &images).is_ok());
    assert!(verify_at(SIGNED_AT, &plus(&fields, "x-ignore-tracking", "1")).is_ok());
    for case in [str::to_ascii_lowercase, str::to_ascii_uppercase] {
        let recased: Vec<_> = fields.iter().map(|(n, v)| (case(n), v.clone())).collect();
        assert!(verify_at(SIGNED_AT, &recased).is_ok());
    }
}

/// The bucket is the request's: another is the policy's `bucket` condition failing, and a
/// `bucket` field (the JavaScript SDK sends one) must name the request's.
#[test]
fn the_bucket_is_the_requests() {
    let fields = example_fields();
    let verifier = verifier_at(at(SIGNED_AT), VerifierSettings::default());
    assert_eq!(
        answer(verify_with(&verifier, &fields, None, "otherbucket")),
        (
            "AccessDenied",
            403,
            r#"Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "sigv4examplebucket"]"#
                .to_owned()
        )
    );
    let claimed = plus(&fields, "bucket", "sigv4examplebucket");
    assert!(verify_with(&verifier, &claimed, None, "sigv4examplebucket").is_ok());
    let other = plus(&fields, "bucket", "otherbucket");
    let (code, status, _) = answer(verify_with(&verifier, &other, None, "sigv4examplebucket"));
    assert_eq!((code, status), ("InvalidArgument", 400));
}

/// The signature covers the policy's text as sent, so a policy changed by one character is
/// a `SignatureDoesNotMatch` whose string-to-sign is that text, not a malformed policy; a
/// changed signature is one too.
#[test]
fn the_signature_covers_the_policy_text() {
    let fields = example_fields();
    let policy = example()["policy"].as_str().unwrap().to_owned();
    let mut changed = policy.clone().into_bytes();
    changed[10] = if changed[10] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).unwrap();
    let error = verify_at(SIGNED_AT, &with(&fields, "Policy", &changed)).unwrap_err();
    let details = error.mismatch_details().expect("a mismatch");
    assert_eq!(details.string_to_sign, changed);
    assert_eq!(details.canonical_request, "");
    assert_eq!(details.access_key_id, "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(error.to_s3_error().code, "SignatureDoesNotMatch");
    assert_eq!(error.to_s3_error().status, 403);
    let signature = example()["signature"].as_str().unwrap().replace('8', "9");
    let (code, status, _) = answer(verify_at(
        SIGNED_AT,
        &with(&fields, "X-Amz-Signature", &signature),
    ));
    assert_eq!((code, status), ("SignatureDoesNotMatch", 403));
    // Upper-case hex is the same signature.
    let upper = example()["signature"]
        .as_str()
        .unwrap()
        .to_ascii_uppercase();
    assert!(verify_at(SIGNED_AT, &with(&fields, "X-Amz-Signature", &upper)).is_ok());
}

/// The policy is valid until its expiration, and not from that instant on.
#[test]
fn an_expired_policy_is_refused() {
    let fields = example_fields();
    assert!(verify_at(EXPIRES_AT - 1, &fields).is_ok());
    for now in [EXPIRES_AT, EXPIRES_AT + 86_400] {
        assert_eq!(
            answer(verify_at(now, &fields)),
            (
                "AccessDenied",
                403,
                "Invalid according to Policy: Policy expired.".to_owned()
            )
        );
    }
}

/// The authentication fields: each missing one named in S3's words (`InvalidArgument`, 400),
/// a repeated one refused, and the credential's algorithm, date, region and key held as for
/// a signed request. A form without them is anonymous; one with Signature Version 2's is
/// refused in S3's words.
#[test]
fn the_authentication_fields_are_checked() {
    let fields = example_fields();
    let missing = |name: &str| {
        format!(
            "Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields."
        )
    };
    for name in [
        "key",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Signature",
        "Policy",
    ] {
        assert_eq!(
            answer(verify_at(SIGNED_AT, &without(&fields, name))),
            ("InvalidArgument", 400, missing(name)),
            "{name}"
        );
    }
    let refusals = [
        (
            "X-Amz-Algorithm",
            "AWS4-HMAC-SHA512",
            "InvalidArgument",
            400,
        ),
        ("X-Amz-Date", "20151230T000000Z", "InvalidArgument", 400),
        ("X-Amz-Date", "2015-12-29", "InvalidArgument", 400),
        (
            "X-Amz-Credential",
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3",
            "InvalidArgument",
            400,
        ),
        (
            "X-Amz-Credential",
            "AKIDUNKNOWN/20151229/us-east-1/s3/aws4_request",
            "InvalidAccessKeyId",
            403,
        ),
        (
            "X-Amz-Credential",
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/sts/aws4_request",
            "InvalidArgument",
            400,
        ),
        ("X-Amz-Signature", "not-hex", "InvalidArgument", 400),
    ];
    for (name, value, code, status) in refusals {
        let (got_code, got_status, message) =
            answer(verify_at(SIGNED_AT, &with(&fields, name, value)));
        assert_eq!(
            (got_code, got_status),
            (code, status),
            "{name}={value}: {message}"
        );
    }
    let twice = plus(
        &fields,
        "x-amz-signature",
        example()["signature"].as_str().unwrap(),
    );
    assert_eq!(answer(verify_at(SIGNED_AT, &twice)).0, "InvalidArgument");

    // A region the verifier does not serve is S3's `InvalidArgument`, naming the region to use.
    let mut settings = VerifierSettings::default();
    settings.regions = Accept::OneOf(vec!["eu-west-1".to_owned()]);
    let error = verify_with(
        &verifier_at(at(SIGNED_AT), settings),
        &fields,
        None,
        "sigv4examplebucket",
    )
    .unwrap_err();
    assert_eq!(error.to_s3_error().code, "InvalidArgument");
    assert_eq!(error.expected_region(), Some("eu-west-1"));

    let anonymous = vec![
        ("key".to_owned(), "a".to_owned()),
        ("acl".to_owned(), "private".to_owned()),
    ];
    assert!(matches!(
        verify_at(SIGNED_AT, &anonymous),
        Err(Error::MissingAuthentication)
    ));
    assert_eq!(answer(verify_at(SIGNED_AT, &anonymous)).1, 403);
    let version_2 = vec![
        ("key".to_owned(), "a".to_owned()),
        (
            "AWSAccessKeyId".to_owned(),
            "AKIAIOSFODNN7EXAMPLE".to_owned(),
        ),
        (
            "policy".to_owned(),
            example()["policy"].as_str().unwrap().to_owned(),
        ),
        (
            "signature".to_owned(),
            "0RavWzkygo6QX9caELEqKi9kDbU=".to_owned(),
        ),
    ];
    assert!(matches!(
        verify_at(SIGNED_AT, &version_2),
        Err(Error::SignatureVersion2)
    ));
}

/// A form whose policy we sign here (with the documented derivation, the signing key of the
/// credential's scope over the base64 text): for the cases the example lacks.
fn signed_form(
    access_key_id: &str,
    secret: &str,
    policy: &Value,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let credential = format!("{access_key_id}/20151229/us-east-1/s3/aws4_request");
    let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    let key = signing_key(&SecretAccessKey::new(secret), "20151229", "us-east-1", "s3");
    let signature = hex::encode(key.sign(policy.as_bytes()));
    let mut fields: Vec<(String, String)> = extra
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    fields.extend([
        ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
        ("x-amz-credential".to_owned(), credential),
        ("x-amz-date".to_owned(), "20151229T000000Z".to_owned()),
        ("policy".to_owned(), policy),
        ("x-amz-signature".to_owned(), signature),
    ]);
    fields
}

fn policy_with(conditions: Value) -> Value {
    let mut all = vec![
        serde_json::json!({"bucket": "sigv4examplebucket"}),
        serde_json::json!(["starts-with", "$x-amz-credential", ""]),
        serde_json::json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
        serde_json::json!({"x-amz-date": "20151229T000000Z"}),
    ];
    all.extend(conditions.as_array().unwrap().iter().cloned());
    serde_json::json!({"expiration": "2015-12-30T12:00:00Z", "conditions": all})
}

/// Temporary credentials: the form's `x-amz-security-token` must be the session's (and named
/// by a condition, as every field); without it, or with another, the form is refused as a
/// signed request would be.
#[test]
fn a_session_token_is_checked() {
    let token_policy = policy_with(serde_json::json!([
        {"key": "k"},
        {"x-amz-security-token": "the-session-token"}
    ]));
    let form = |token: Option<&str>| {
        let mut extra = vec![("key", "k")];
        extra.extend(token.map(|t| ("x-amz-security-token", t)));
        signed_form("ASIATEMPORARY", "temporary/secret", &token_policy, &extra)
    };
    let verified = verify_at(SIGNED_AT, &form(Some("the-session-token"))).unwrap();
    assert_eq!(verified.principal(), "role/uploader");
    assert_eq!(
        verified.session_token().map(|t| t.expose()),
        Some("the-session-token")
    );
    assert_eq!(
        answer(verify_at(SIGNED_AT, &form(None))).0,
        "InvalidAccessKeyId"
    );
    assert_eq!(
        answer(verify_at(SIGNED_AT, &form(Some("another")))).0,
        "InvalidToken"
    );
    // The token the policy does not name is an extra field, though the lookup accepts it.
    let unnamed = signed_form(
        "ASIATEMPORARY",
        "temporary/secret",
        &policy_with(serde_json::json!([{"key": "k"}])),
        &[("key", "k"), ("x-amz-security-token", "the-session-token")],
    );
    assert_eq!(
        answer(verify_at(SIGNED_AT, &unnamed)).2,
        "Invalid according to Policy: Extra input fields: x-amz-security-token"
    );
}

/// `content-length-range` bounds the file's size, inclusive, as S3's 400 `EntityTooSmall` and
/// `EntityTooLarge` (LocalStack's snapshot of S3: 5..10 takes 5 and 10, refuses 1 and 12);
/// several ranges all hold; bounds written as digit strings count as numbers, as S3 takes
/// them.
#[test]
fn the_file_size_is_held_to_the_range() {
    let fields = signed_form(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        &policy_with(serde_json::json!([
            {"key": "k"},
            ["content-length-range", 5, 10],
            ["content-length-range", "0", "100"]
        ])),
        &[("key", "k")],
    );
    let verified = verify_at(SIGNED_AT, &fields).unwrap();
    assert_eq!(verified.allowed_file_size(), 5..=10);
    for size in [5, 7, 10] {
        assert!(verified.check_file_size(size).is_ok());
    }
    for (size, code) in [
        (0, "EntityTooSmall"),
        (4, "EntityTooSmall"),
        (11, "EntityTooLarge"),
    ] {
        let s3 = verified.check_file_size(size).unwrap_err().to_s3_error();
        assert_eq!((s3.code, s3.status), (code, 400), "{size}");
    }
}

/// Policies S3 refuses as `InvalidPolicyDocument` (400): its words where they are known
/// (LocalStack's snapshots, captures in issue trackers), a reason of ours elsewhere.
#[test]
fn malformed_policies_are_refused() {
    let expiration = r#""expiration": "2015-12-30T12:00:00Z""#;
    let cases: Vec<(String, &str)> = vec![
        ("not json".to_owned(), "Invalid JSON."),
        (format!("{{{expiration}}}"), "missing field `conditions`"),
        (
            r#"{"conditions": []}"#.to_owned(),
            "missing field `expiration`",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [], "Statement": []}}"#),
            "unknown field `Statement`",
        ),
        (
            format!(r#"{{{expiration}, {expiration}, "conditions": []}}"#),
            "duplicate field `expiration`",
        ),
        (
            r#"{"expiration": "2015-12-30 12:00:00 UTC", "conditions": []}"#.to_owned(),
            "Invalid 'expiration' value",
        ),
        (
            r#"{"expiration": 1451476800, "conditions": []}"#.to_owned(),
            "Invalid 'expiration' value",
        ),
        (
            format!(r#"{{{expiration}, "conditions": {{}}}}"#),
            "Invalid 'conditions' value: must be a List.",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [{{}}]}}"#),
            "Simple-Conditions must have exactly one property specified.",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [{{"a": "1", "b": "2"}}]}}"#),
            "Simple-Conditions must have exactly one property specified.",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [{{"Content-Length": 6199034}}]}}"#),
            "Invalid Simple-Condition: value must be a string.",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [[]]}}"#),
            "missing operation identifier.",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [["eq", "$a"]]}}"#),
            "Invalid eq: wrong number of arguments.",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [["ends-with", "$a", "b"]]}}"#),
            "unknown operation 'ends-with'.",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [["eq", "$a", 1]]}}"#),
            "Invalid JSON.",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [["content-length-range", 0, 512.0]]}}"#),
            "bound",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [["content-length-range", -1, 0]]}}"#),
            "bound",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [["content-length-range", 10, 5]]}}"#),
            "10 is more than 5",
        ),
        (
            format!(r#"{{{expiration}, "conditions": [123]}}"#),
            "must be a List or Object.",
        ),
    ];
    for (document, reason) in cases {
        let error = PostPolicy::from_json(document.as_bytes()).unwrap_err();
        let s3 = error.to_s3_error();
        assert_eq!(
            (s3.code, s3.status),
            ("InvalidPolicyDocument", 400),
            "{document}"
        );
        assert!(s3.message.starts_with("Invalid Policy: "), "{}", s3.message);
        assert!(s3.message.contains(reason), "{document}: {}", s3.message);
    }
    let error = PostPolicy::from_base64("not base64!").unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid Policy: invalid Base64 encoding."
    );

    // Operations in any case; a field without its `$` parses, and names no field.
    let policy = PostPolicy::from_json(
        format!(
            r#"{{{expiration}, "conditions": [["StArTs-WiTh", "$KeY", "u/"], ["eq", "acl", "x"]]}}"#
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        policy.conditions(),
        [
            PolicyCondition::StartsWith {
                field: "$KeY".into(),
                prefix: "u/".into()
            },
            PolicyCondition::Eq {
                field: "acl".into(),
                value: "x".into()
            },
        ]
    );
    assert_eq!(policy.conditions()[0].field_name(), Some("KeY"));
    assert_eq!(policy.conditions()[1].field_name(), None);
}

/// A malformed policy whose signature holds is refused as malformed, after the signature:
/// the order S3 is seen to check in (a truncated policy is a mismatch, not a bad document).
#[test]
fn a_signed_malformed_policy_is_invalid_policy_document() {
    let fields = signed_form(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        &serde_json::json!({"expiration": "2015-12-30T12:00:00Z", "conditions": [["eq", "$key"]]}),
        &[("key", "k")],
    );
    assert_eq!(
        answer(verify_at(SIGNED_AT, &fields)).0,
        "InvalidPolicyDocument"
    );
}

/// A form too large for S3 (20 KiB before the file) is refused before anything is computed.
#[test]
fn a_form_over_20_kib_is_refused() {
    let fields = plus(
        &example_fields(),
        "x-ignore-padding",
        &"p".repeat(20 * 1024),
    );
    assert_eq!(
        answer(verify_at(SIGNED_AT, &fields)).0,
        "MaxPostPreDataLengthExceeded"
    );
}

/// A body as curl encodes a form (`-F`), read from a real socket: the fields come back as
/// sent, in order, the file's content starts where the head says and ends at its delimiter,
/// and a field after the file is not read. Every shorter prefix of the head asks for more.
#[test]
fn a_form_curl_sends_is_read_back() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("photo.jpg");
    let content: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    std::fs::write(&file, &content).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let fields = [
        ("key", "user/user1/${filename}"),
        ("Content-Type", "image/jpeg"),
        ("x-amz-meta-tag", ""),
        ("x-amz-meta-quote", "a \"quoted\"; value=1"),
        ("x-amz-meta-unicode", "ünïcødé €"),
    ];
    let mut curl = std::process::Command::new("curl");
    curl.args(["-sS", "-o", "/dev/null", "--max-time", "20"]);
    for (name, value) in fields {
        // `-F` reads `@` and `<` at the start of a value and `;` as a separator;
        // `--form-string` takes the value as it is.
        curl.args(["--form-string", &format!("{name}={value}")]);
    }
    curl.args(["-F", &format!("file=@{};type=image/jpeg", file.display())]);
    curl.args(["--form-string", "submit=Upload"]);
    curl.arg(format!("http://127.0.0.1:{port}/sigv4examplebucket"));
    let mut child = curl.spawn().expect("curl runs (it must be on the PATH)");
    let (mut stream, _) = listener.accept().unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut request = Vec::new();
    let mut buffer = [0u8; 8192];
    let (head_end, length) = loop {
        let n = stream.read(&mut buffer).unwrap();
        assert!(n > 0, "curl closed early");
        request.extend_from_slice(&buffer[..n]);
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            if head.contains("expect: 100-continue") && request.len() == end + 4 {
                std::io::Write::write_all(&mut stream, b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
            }
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            break (end + 4, length);
        }
    };
    while request.len() < head_end + length {
        let n = stream.read(&mut buffer).unwrap();
        assert!(n > 0, "curl closed early");
        request.extend_from_slice(&buffer[..n]);
    }
    std::io::Write::write_all(&mut stream, b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
    drop(stream);
    assert!(child.wait().unwrap().success());

    let head = String::from_utf8(request[..head_end].to_vec()).unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap();
    let body = &request[head_end..];
    let parsed = PostForm::parse_multipart(&content_type, body)
        .unwrap()
        .expect("the head is whole");
    let got: Vec<(&str, &str)> = parsed.form.fields().collect();
    assert_eq!(got, fields);
    assert_eq!(parsed.form.file_name(), Some("photo.jpg"));
    assert_eq!(parsed.file_content_type.as_deref(), Some("image/jpeg"));
    let rest = &body[parsed.file_start..];
    let end = rest
        .windows(parsed.file_delimiter.len())
        .position(|w| w == parsed.file_delimiter.as_slice())
        .unwrap();
    assert_eq!(&rest[..end], content.as_slice());
    for cut in 0..parsed.file_start {
        assert_eq!(
            PostForm::parse_multipart(&content_type, &body[..cut]).unwrap(),
            None,
            "a prefix of {cut} bytes"
        );
    }
    assert_eq!(
        PostForm::parse_multipart(&content_type, &body[..parsed.file_start]).unwrap(),
        Some(parsed)
    );
}

/// Bodies S3 refuses before any field is checked, each with its answer: another enclosure
/// type (412 `PreconditionFailed`), a body that breaks RFC 7578 (`MalformedPOSTRequest`), one
/// that closes without a `file` part (`InvalidArgument`, "POST requires exactly one file
/// upload per request."), and one whose file starts past 20 KiB (`MaxPostPreDataLengthExceeded`).
#[test]
fn bodies_s3_refuses_are_refused() {
    let form_data = "multipart/form-data; boundary=b";
    let part = |name: &str, value: &str| {
        format!("--b\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    };
    let file = "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\ndata\r\n--b--\r\n";
    // Field names are read in any case ("The post parameters are case insensitive"), `file`'s
    // too.
    let capitalised = format!(
        "{}{}",
        part("Key", "a"),
        file.replace("\"file\"", "\"File\"")
    );
    let head = PostForm::parse_multipart(form_data, capitalised.as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(head.form.get("key").as_deref(), Some("a"));
    assert_eq!(&capitalised.as_bytes()[head.file_start..][..4], b"data");
    let cases: Vec<(&str, Vec<u8>, &str, u16)> = vec![
        ("text/plain", file.into(), "PreconditionFailed", 412),
        (
            "application/x-www-form-urlencoded",
            b"key=a".to_vec(),
            "PreconditionFailed",
            412,
        ),
        (
            "multipart/form-data",
            file.into(),
            "MalformedPOSTRequest",
            400,
        ),
        (
            form_data,
            format!("{}--b--\r\n", part("key", "a")).into(),
            "InvalidArgument",
            400,
        ),
        (
            form_data,
            "--b\r\nContent-Type: text/plain\r\n\r\na\r\n--b--\r\n".into(),
            "MalformedPOSTRequest",
            400,
        ),
        (
            form_data,
            "--b\r\nContent-Disposition: attachment; name=\"file\"\r\n\r\na\r\n--b--\r\n".into(),
            "MalformedPOSTRequest",
            400,
        ),
        (
            form_data,
            "--b\r\nContent-Disposition: form-data\r\n\r\na\r\n--b--\r\n".into(),
            "MalformedPOSTRequest",
            400,
        ),
        (
            form_data,
            [
                b"--b\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\n\xff\r\n".as_slice(),
                file.as_bytes(),
            ]
            .concat(),
            "MalformedPOSTRequest",
            400,
        ),
        (
            form_data,
            format!("--bX\r\n{file}").into(),
            "MalformedPOSTRequest",
            400,
        ),
        (
            form_data,
            format!("{}{file}", part("x-ignore-padding", &"p".repeat(20 * 1024))).into(),
            "MaxPostPreDataLengthExceeded",
            400,
        ),
    ];
    for (content_type, body, code, status) in cases {
        let error = PostForm::parse_multipart(content_type, &body).unwrap_err();
        let s3 = error.to_s3_error();
        assert_eq!(
            (s3.code, s3.status),
            (code, status),
            "{content_type}: {s3:?}"
        );
    }
    // The last byte the 20 KiB allow: a file starting exactly there is read; with no file in
    // sight by then, the body is refused without waiting for more.
    let head = format!(
        "{}{}",
        part("x-ignore-padding", ""),
        "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
    );
    let padding = "p".repeat(20 * 1024 - head.len());
    let exact = format!(
        "{}{}",
        part("x-ignore-padding", &padding),
        "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
    );
    assert_eq!(exact.len(), 20 * 1024);
    let parsed = PostForm::parse_multipart(form_data, exact.as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(parsed.file_start, 20 * 1024);
    let over = format!(
        "{}{}",
        part("x-ignore-padding", &format!("{padding}p")),
        "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
    );
    assert!(matches!(
        PostForm::parse_multipart(form_data, over.as_bytes()),
        Err(Error::PostFormTooLarge { .. })
    ));
    let unfinished = part("x-ignore-padding", &"p".repeat(21 * 1024));
    assert!(matches!(
        PostForm::parse_multipart(form_data, &unfinished.as_bytes()[..20 * 1024 + 1]),
        Err(Error::PostFormTooLarge { .. })
    ));
    assert_eq!(
        PostForm::parse_multipart(form_data, &unfinished.as_bytes()[..20 * 1024]).unwrap(),
        None
    );
}

/// The checksums a form claims for its file are read when it verifies, as S3 reads a `PUT`'s
/// headers (any case of their names; `InvalidDigest` for a `Content-MD5` that is no MD5,
/// `InvalidRequest` for two checksums or one nobody computes; `x-amz-checksum-algorithm`
/// names no value), and the scan holds the file to them at its end (`BadDigest`). The claimed
/// values are independent of this crate: the CRC catalogue's check values for "123456789"
/// (CRC-32C 0xE3069283, CRC-32 0xCBF43926), and `openssl dgst -md5 -binary | base64` and
/// `openssl dgst -sha256 -binary | base64` of it.
#[test]
fn the_files_checksum_fields_hold_the_file() {
    const MD5: &str = "JfnnlDI7RTiF9RgfG2JNCw==";
    const SHA256: &str = "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=";
    const CRC32C: &str = "4waSgw==";
    const CRC32: &str = "y/Q5Jg==";
    let form = |claims: &[(&str, &str)]| {
        let conditions: Vec<Value> = claims
            .iter()
            .map(|(name, value)| serde_json::json!({ *name: value }))
            .collect();
        let mut extra = vec![("key", "k")];
        extra.extend_from_slice(claims);
        let mut all = vec![serde_json::json!({"key": "k"})];
        all.extend(conditions);
        signed_form(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            &policy_with(Value::Array(all)),
            &extra,
        )
    };
    // Read when the form verifies, before any of the file.
    for (claims, code) in [
        (vec![("Content-MD5", "not an md5")], "InvalidDigest"),
        (vec![("content-md5", "AAAA")], "InvalidDigest"),
        (
            vec![
                ("x-amz-checksum-crc32", CRC32),
                ("X-Amz-Checksum-Sha256", SHA256),
            ],
            "InvalidRequest",
        ),
        (vec![("x-amz-checksum-whirlpool", "AAAA")], "InvalidRequest"),
    ] {
        let (got, status, _) = answer(verify_at(SIGNED_AT, &form(&claims)));
        assert_eq!((got, status), (code, 400), "{claims:?}");
    }

    let body = |file: &str| {
        format!(
            "--b\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--b\r\n\
             Content-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n{file}\r\n--b--\r\n"
        )
    };
    let scan = |claims: &[(&str, &str)], file: &str| {
        let verified = verify_at(SIGNED_AT, &form(claims)).unwrap();
        let body = body(file);
        let head = PostForm::parse_multipart("multipart/form-data; boundary=b", body.as_bytes())
            .unwrap()
            .unwrap();
        let mut scan = PostFileScan::new(&head, &verified);
        scan.update(body.as_bytes())?;
        scan.finish().map(|_| ())
    };
    for claims in [
        vec![],
        vec![("Content-MD5", MD5)],
        vec![("x-amz-checksum-sha256", SHA256)],
        vec![("X-Amz-Checksum-CRC32C", CRC32C), ("content-md5", MD5)],
        vec![("x-amz-checksum-crc32", CRC32)],
        vec![("x-amz-checksum-algorithm", "CRC32")],
    ] {
        scan(&claims, "123456789").unwrap_or_else(|e| panic!("{claims:?}: {e}"));
        let changed = scan(&claims, "123456780");
        if claims.iter().any(|(n, _)| !n.ends_with("algorithm")) {
            let s3 = changed.unwrap_err().to_s3_error();
            assert_eq!((s3.code, s3.status), ("BadDigest", 400), "{claims:?}");
        } else {
            changed.unwrap();
        }
    }
    // The MD5 and the flexible checksum each hold: a file that matches only one is refused,
    // named by the other (the empty file's MD5, by openssl too).
    for (claims, mismatched) in [
        (
            [
                ("x-amz-checksum-crc32c", CRC32C),
                ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
            ],
            "Content-MD5",
        ),
        (
            [("x-amz-checksum-crc32c", CRC32), ("Content-MD5", MD5)],
            "x-amz-checksum-crc32c",
        ),
    ] {
        let error = scan(&claims, "123456789").unwrap_err();
        assert_eq!(error.to_s3_error().code, "BadDigest", "{claims:?}");
        assert!(
            matches!(error, Error::ChecksumMismatch { name, .. } if name == mismatched),
            "{error:?}"
        );
    }
}
