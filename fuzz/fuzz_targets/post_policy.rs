//! S3 POST policies, signed here so that verification reaches them: parsing a document never
//! panics, and a form the verifier accepts meets what the policy says: every field but the
//! exempt ones is named by a condition, and the file sizes allowed are within every
//! `content-length-range`.
#![no_main]

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use edgeward_signing::{
    signing_key, FixedClock, PolicyCondition, PostForm, PostPolicy, ResolvedCredential,
    SecretAccessKey, StaticCredentials, Verifier, VerifierSettings,
};
use libfuzzer_sys::fuzz_target;

const CREDENTIAL: &str = "AKIDEXAMPLE/20200101/us-east-1/s3/aws4_request";

fuzz_target!(|data: &[u8]| {
    // The policy document, a NUL, then `name=value` lines: the form's other fields.
    let (document, rest) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let parsed = PostPolicy::from_json(document);
    let policy = base64::engine::general_purpose::STANDARD.encode(document);
    let key = signing_key(
        &SecretAccessKey::new("secret"),
        "20200101",
        "us-east-1",
        "s3",
    );
    let mut form = PostForm::new();
    for line in String::from_utf8_lossy(rest).split('\n') {
        let (name, value) = line.split_once('=').unwrap_or((line, ""));
        form.push(name, value);
    }
    form.push("x-amz-algorithm", "AWS4-HMAC-SHA256");
    form.push("x-amz-credential", CREDENTIAL);
    form.push("x-amz-date", "20200101T000000Z");
    form.push("x-amz-signature", hex(&key.sign(policy.as_bytes())));
    form.push("policy", policy);
    form.set_file_name(Some("dir\\file.txt".to_owned()));

    let lookup =
        StaticCredentials::new().with("AKIDEXAMPLE", ResolvedCredential::new("secret", "fuzz"));
    let verifier = Verifier::new(lookup, VerifierSettings::default()).with_clock(Arc::new(
        FixedClock(UNIX_EPOCH + Duration::from_secs(1_577_836_800)),
    ));
    let mut future = std::pin::pin!(verifier.verify_post(&form, "bucket"));
    let Poll::Ready(result) = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    else {
        panic!("the static lookup is ready at once");
    };
    let Ok(verified) = result else {
        return;
    };
    let policy = parsed.expect("an accepted form's policy parses");
    for (name, _) in verified.fields() {
        let lower = name.to_ascii_lowercase();
        let exempt = ["x-amz-signature", "policy", "file"].contains(&lower.as_str())
            || lower.starts_with("x-ignore-");
        assert!(
            exempt
                || policy
                    .conditions()
                    .iter()
                    .any(|c| c.field_name().is_some_and(|f| f.eq_ignore_ascii_case(name))),
            "{name} is named by no condition"
        );
    }
    let allowed = verified.allowed_file_size();
    for condition in policy.conditions() {
        if let PolicyCondition::ContentLengthRange { min, max } = condition {
            assert!(allowed.start() >= min && allowed.end() <= max);
        }
    }
});

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
