//! Property tests of S3's POST Object: the `multipart/form-data` head parser reads back any
//! form an RFC 7578 encoder writes (preamble, transport padding, any field text) and asks
//! for more on every shorter prefix; the policy parser reads back any conditions and never
//! panics; and a condition holds exactly as its definition says.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use edgeward_signing::{
    signing_key, Error, FixedClock, PolicyCondition, PostFileScan, PostForm, PostPolicy,
    ResolvedCredential, SecretAccessKey, StaticCredentials, VerifiedPost, Verifier,
    VerifierSettings,
};
use futures_util::FutureExt as _;
use proptest::prelude::*;
use serde_json::{json, Value};

/// A body as RFC 7578 lays it out (RFC 2046 §5.1.1's grammar), with the file part last.
fn encode(
    boundary: &str,
    preamble: &str,
    padding: &str,
    fields: &[(String, String)],
    file_name: Option<&str>,
    file: &[u8],
) -> Vec<u8> {
    let mut body = Vec::new();
    if !preamble.is_empty() {
        body.extend_from_slice(format!("{preamble}\r\n").as_bytes());
    }
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}{padding}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let file_name = file_name
        .map(|f| format!("; filename=\"{f}\""))
        .unwrap_or_default();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"{file_name}\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

fn field() -> impl Strategy<Value = (String, String)> {
    (
        "[A-Za-z0-9_-]{1,12}".prop_filter("not the file", |n| !n.eq_ignore_ascii_case("file")),
        // Any text, CR and LF included: only the delimiter may not appear in a value.
        "(\\PC|\r|\n|-){0,40}",
    )
}

proptest! {
    #[test]
    fn a_multipart_head_reads_back_and_every_shorter_prefix_asks_for_more(
        boundary in "[A-Za-z0-9'()+_,./:=?-]{0,30}[A-Za-z0-9]",
        quoted in any::<bool>(),
        preamble in "[a-z ]{0,20}",
        padding in "[ \t]{0,2}",
        fields in proptest::collection::vec(field(), 0..6),
        file_name in proptest::option::of("[^\"\r\n]{0,20}"),
        file in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let delimiter = format!("\r\n--{boundary}");
        prop_assume!(fields.iter().all(|(_, v)| !format!("\r\n{v}\r\n").contains(&delimiter)));
        prop_assume!(!preamble.contains(&boundary));
        let body = encode(&boundary, &preamble, &padding, &fields, file_name.as_deref(), &file);
        let content_type = if quoted {
            format!("multipart/form-data; boundary=\"{boundary}\"")
        } else {
            format!("multipart/form-data; boundary={boundary}")
        };
        let head = PostForm::parse_multipart(&content_type, &body).unwrap().unwrap();
        let read: Vec<(String, String)> =
            head.form.fields().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
        prop_assert_eq!(&read, &fields);
        prop_assert_eq!(head.form.file_name(), file_name.as_deref());
        prop_assert!(body[head.file_start..].starts_with(&file));
        prop_assert!(body[head.file_start + file.len()..].starts_with(&head.file_delimiter));
        for cut in 0..head.file_start {
            prop_assert_eq!(PostForm::parse_multipart(&content_type, &body[..cut]).unwrap(), None);
        }
    }

    #[test]
    fn the_multipart_parser_never_panics(
        content_type in "multipart/form-data; boundary=[a-z-]{0,4}|[ -~]{0,40}",
        body in proptest::collection::vec(prop_oneof![
            Just(b'-'), Just(b'\r'), Just(b'\n'), Just(b'a'), Just(b'"'), Just(b';'), any::<u8>()
        ], 0..256),
    ) {
        let _ = PostForm::parse_multipart(&content_type, &body);
    }

    /// Bytes after the head never change it: the parser reads no further than the file.
    #[test]
    fn what_follows_the_file_start_does_not_change_the_head(
        fields in proptest::collection::vec(field(), 0..4),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        prop_assume!(fields.iter().all(|(_, v)| !v.contains("--b0undary")));
        let body = encode("b0undary", "", "", &fields, Some("f"), b"");
        let content_type = "multipart/form-data; boundary=b0undary";
        let head = PostForm::parse_multipart(content_type, &body).unwrap().unwrap();
        let mut changed = body[..head.file_start].to_vec();
        changed.extend_from_slice(&tail);
        prop_assert_eq!(PostForm::parse_multipart(content_type, &changed).unwrap(), Some(head));
    }
}

fn condition() -> impl Strategy<Value = PolicyCondition> {
    prop_oneof![
        ("\\$?\\PC{0,12}", "\\PC{0,12}")
            .prop_map(|(field, value)| PolicyCondition::Eq { field, value }),
        ("\\$?\\PC{0,12}", "\\PC{0,12}")
            .prop_map(|(field, prefix)| PolicyCondition::StartsWith { field, prefix }),
        (any::<u64>(), any::<u64>()).prop_map(|(a, b)| PolicyCondition::ContentLengthRange {
            min: a.min(b),
            max: a.max(b)
        }),
    ]
}

fn as_json(condition: &PolicyCondition) -> Value {
    match condition {
        PolicyCondition::Eq { field, value } => json!(["eq", field, value]),
        PolicyCondition::StartsWith { field, prefix } => json!(["starts-with", field, prefix]),
        PolicyCondition::ContentLengthRange { min, max } => {
            json!(["content-length-range", min, max])
        }
        other => unreachable!("a condition this test does not make: {other:?}"),
    }
}

proptest! {
    /// Any conditions read back as written, from the document and from each condition's
    /// display (S3's quotation of it, which is JSON).
    #[test]
    fn policy_conditions_read_back(conditions in proptest::collection::vec(condition(), 0..6)) {
        let written: Vec<Value> = conditions.iter().map(as_json).collect();
        let document = json!({"expiration": "2030-01-01T00:00:00Z", "conditions": written});
        let policy = PostPolicy::from_json(document.to_string().as_bytes()).unwrap();
        prop_assert_eq!(policy.conditions(), conditions.as_slice());
        let quoted: Vec<Value> = conditions
            .iter()
            .map(|c| serde_json::from_str(&c.to_string()).unwrap())
            .collect();
        let requoted = json!({"expiration": "2030-01-01T00:00:00Z", "conditions": quoted});
        let policy = PostPolicy::from_json(requoted.to_string().as_bytes()).unwrap();
        prop_assert_eq!(policy.conditions(), conditions.as_slice());
    }

    #[test]
    fn the_policy_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256), text in "\\PC{0,64}") {
        let _ = PostPolicy::from_json(&bytes);
        let _ = PostPolicy::from_base64(&text);
        let _ = PostPolicy::from_json(text.as_bytes());
    }
}

/// Verifies a form with `field = value` under a policy whose one condition on it is
/// `condition`, signed here.
fn verify_one(condition: Value, value: &str) -> Result<(), Error> {
    verify_signed(
        vec![condition],
        vec![("x-amz-meta-p".to_owned(), value.to_owned())],
    )
    .map(|_| ())
}

/// Verifies a form with the `extra` fields (besides the key and the authentication) under a
/// policy with the `extra_conditions` (besides theirs), signed here.
fn verify_signed(
    extra_conditions: Vec<Value>,
    extra: Vec<(String, String)>,
) -> Result<VerifiedPost, Error> {
    let mut conditions = vec![
        json!({"bucket": "b"}),
        json!({"key": "k"}),
        json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
        json!({"x-amz-credential": "AKID/20200101/us-east-1/s3/aws4_request"}),
        json!({"x-amz-date": "20200101T000000Z"}),
    ];
    conditions.extend(extra_conditions);
    let policy = json!({"expiration": "2030-01-01T00:00:00Z", "conditions": conditions});
    let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    let key = signing_key(
        &SecretAccessKey::new("secret"),
        "20200101",
        "us-east-1",
        "s3",
    );
    let mut fields = vec![("key".to_owned(), "k".to_owned())];
    fields.extend(extra);
    fields.extend([
        ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
        (
            "x-amz-credential".to_owned(),
            "AKID/20200101/us-east-1/s3/aws4_request".to_owned(),
        ),
        ("x-amz-date".to_owned(), "20200101T000000Z".to_owned()),
        (
            "x-amz-signature".to_owned(),
            hex::encode(key.sign(policy.as_bytes())),
        ),
        ("policy".to_owned(), policy),
    ]);
    let form: PostForm = fields.into_iter().collect();
    let verifier = Verifier::new(
        StaticCredentials::new().with("AKID", ResolvedCredential::new("secret", "p")),
        VerifierSettings::default(),
    )
    .with_clock(Arc::new(FixedClock(
        UNIX_EPOCH + Duration::from_secs(1_600_000_000),
    )));
    verifier.verify_post(&form, "b").now_or_never().unwrap()
}

/// A verified form whose file may be `min..=max` bytes.
fn verified_with_range(min: u64, max: u64) -> VerifiedPost {
    verify_signed(vec![json!(["content-length-range", min, max])], Vec::new()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// `eq` holds for the same text only and `starts-with` for a prefix only, in bytes (no
    /// case folding, no trimming); either is S3's `Policy Condition failed` otherwise.
    #[test]
    fn a_condition_holds_as_defined(
        value in "[aA ]{0,6}",
        operand in "[aA ]{0,6}",
        starts_with in any::<bool>(),
        field in prop::sample::select(vec!["$x-amz-meta-p", "$X-AMZ-META-P"]),
    ) {
        let (condition, holds) = if starts_with {
            (json!(["starts-with", field, operand]), value.starts_with(&operand))
        } else {
            (json!(["eq", field, operand]), value == operand)
        };
        match verify_one(condition, &value) {
            Ok(()) => prop_assert!(holds),
            Err(Error::PostPolicyConditionFailed { .. }) => prop_assert!(!holds),
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}

/// What a form claims of its file's CRC-32 in the scan's property.
#[derive(Debug, Clone, Copy)]
enum Claim {
    Nothing,
    /// The file's own (crc32fast's, a CRC-32 of its own).
    Right,
    /// That of the file with one more byte.
    Wrong,
}

proptest! {
    /// Fed a body in any pieces, the scan finds the file's end where it is (its delimiter
    /// split across pieces included), and holds its size to the range: too large as soon as
    /// more than the most allowed has surely come, too small at its end; then its bytes, and
    /// only they, to the checksum the form claims (`x-amz-checksum-crc32`).
    #[test]
    fn the_file_scan_finds_the_file_in_any_split(
        fields in proptest::collection::vec(field(), 0..3),
        // Bytes that often begin the delimiter without finishing it.
        file in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'-'), Just(b'b'), any::<u8>()], 0..200),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        min in 0u64..150,
        span in 0u64..150,
        claim in prop_oneof![Just(Claim::Nothing), Just(Claim::Right), Just(Claim::Wrong)],
    ) {
        let boundary = "bb0undary";
        prop_assume!(fields.iter().all(|(_, v)| !v.contains(boundary)));
        prop_assume!(!format!("{}\r\n", String::from_utf8_lossy(&file)).contains(&format!("\r\n--{boundary}")));
        let body = encode(boundary, "", "", &fields, Some("f"), &file);
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let head = PostForm::parse_multipart(&content_type, &body).unwrap().unwrap();
        let max = min + span;
        let crc32 = |bytes: &[u8]| {
            base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(bytes).to_be_bytes())
        };
        let claimed = match claim {
            Claim::Nothing => None,
            Claim::Right => Some(crc32(&file)),
            Claim::Wrong => Some(crc32(&[file.as_slice(), b"+"].concat())),
        };
        let mut conditions = vec![json!(["content-length-range", min, max])];
        let mut claim_fields = Vec::new();
        if let Some(claimed) = claimed {
            conditions.push(json!({"x-amz-checksum-crc32": claimed}));
            claim_fields.push(("x-amz-checksum-crc32".to_owned(), claimed));
        }
        let verified = verify_signed(conditions, claim_fields).unwrap();
        let mut scan = PostFileScan::new(&head, &verified);
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
        at.extend([0, body.len()]);
        at.sort_unstable();
        let size = file.len() as u64;
        let mut failed = None;
        for piece in at.windows(2) {
            if let Err(error) = scan.update(&body[piece[0]..piece[1]]) {
                failed = Some((error, piece[1]));
                break;
            }
        }
        if failed.is_some() {
            // A refused file stays refused, whatever else comes.
            prop_assert!(scan.update(&body[body.len()..]).is_err());
            prop_assert!(scan.finish().is_err());
        }
        let sized = (min..=max).contains(&size);
        match failed {
            None => {
                prop_assert!(sized);
                prop_assert!(!matches!(claim, Claim::Wrong));
                prop_assert_eq!(scan.finish().unwrap(), size);
            }
            Some((Error::ChecksumMismatch { name, .. }, read)) => {
                prop_assert!(sized);
                prop_assert!(matches!(claim, Claim::Wrong));
                prop_assert_eq!(name, "x-amz-checksum-crc32");
                // At the file's end: once its delimiter had come, not before.
                prop_assert!(read as u64 >= head.file_start as u64 + size + head.file_delimiter.len() as u64);
            }
            Some((Error::PostFileSize { size: reported, .. }, read)) => {
                prop_assert!(!sized);
                if size > max {
                    // Not before more than `max` bytes of the file had come.
                    prop_assert!(reported > max && reported <= size);
                    prop_assert!(read as u64 > head.file_start as u64 + max);
                } else {
                    prop_assert_eq!(reported, size);
                }
            }
            Some((other, _)) => prop_assert!(false, "{other}"),
        }
    }
}

/// A file too large fails as soon as more of it than allowed has come, before its end (a
/// client sending gigabytes is not read to the end to be refused).
#[test]
fn a_file_too_large_fails_before_its_end_arrives() {
    let body = encode("b", "", "", &[], Some("f"), &[b'x'; 10_000]);
    let head = PostForm::parse_multipart("multipart/form-data; boundary=b", &body)
        .unwrap()
        .unwrap();
    let mut scan = PostFileScan::new(&head, &verified_with_range(0, 100));
    scan.update(&body[..head.file_start + 100]).unwrap();
    let error = scan
        .update(&body[head.file_start + 100..head.file_start + 200])
        .unwrap_err();
    assert!(
        matches!(error, Error::PostFileSize { size, max: 100, .. } if size > 100 && size <= 200),
        "{error:?}"
    );
}
