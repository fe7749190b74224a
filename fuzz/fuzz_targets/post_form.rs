//! S3 POST Object bodies (`multipart/form-data`): reading the head never panics; a head that
//! is read starts its file within the body and S3's 20 KiB, and reads the same from the
//! prefix up to the file (nothing after it is looked at); verifying the form it holds never
//! panics; and the file scan, for a form signed here (a size range and a CRC-32 claim), finds
//! the file where its delimiter first is, and answers the same fed the body whole or a byte
//! at a time.
#![no_main]

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use edgeward_signing::{
    signing_key, Error, FixedClock, PostFileScan, PostForm, PostFormHead, ResolvedCredential,
    SecretAccessKey, StaticCredentials, VerifiedPost, Verifier, VerifierSettings,
    MAX_POST_FORM_BYTES,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first line is the Content-Type; the rest is the body.
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (
            String::from_utf8_lossy(&data[..at]).into_owned(),
            &data[at + 1..],
        ),
        None => ("multipart/form-data; boundary=b".to_owned(), data),
    };
    let Ok(Some(head)) = PostForm::parse_multipart(&content_type, body) else {
        return;
    };
    assert!(head.file_start <= body.len());
    assert!(head.file_start <= MAX_POST_FORM_BYTES);
    let again = PostForm::parse_multipart(&content_type, &body[..head.file_start]);
    assert_eq!(again.ok().flatten().as_ref(), Some(&head));

    let verifier = verifier();
    let _ = ready(verifier.verify_post(&head.form, "bucket"));

    let verified = signed_form();
    let whole = scan(&head, verified, [body]);
    let bytes = scan(&head, verified, body.chunks(1));
    match (&whole, &bytes) {
        (Ok(size), Ok(same)) => {
            assert_eq!(size, same);
            let file = &body[head.file_start..];
            let first = file
                .windows(head.file_delimiter.len())
                .position(|w| w == head.file_delimiter.as_slice());
            assert_eq!(first, Some(*size as usize));
        }
        // Too large may be seen sooner a byte at a time; the answer is the same.
        (Err(a), Err(b)) => assert_eq!(a.aws_error_code(), b.aws_error_code()),
        _ => panic!("whole: {whole:?}, a byte at a time: {bytes:?}"),
    }
});

/// The file's size by `PostFileScan` fed `pieces`, or its first error.
fn scan<'a>(
    head: &PostFormHead,
    verified: &VerifiedPost,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Result<u64, Error> {
    let mut scan = PostFileScan::new(head, verified);
    for piece in pieces {
        scan.update(piece)?;
    }
    scan.finish()
}

/// A form signed here whose policy allows files of 0 to 64 bytes and claims a CRC-32 (of
/// "123456789", the CRC catalogue's check value).
fn signed_form() -> &'static VerifiedPost {
    static FORM: OnceLock<VerifiedPost> = OnceLock::new();
    FORM.get_or_init(|| {
        let document = r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [
            {"bucket": "bucket"}, {"key": "k"}, ["content-length-range", 0, 64],
            {"x-amz-checksum-crc32": "y/Q5Jg=="},
            {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
            {"x-amz-credential": "AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request"},
            {"x-amz-date": "20150830T000000Z"}]}"#;
        let policy = base64::engine::general_purpose::STANDARD.encode(document);
        let key = signing_key(
            &SecretAccessKey::new("secret"),
            "20150830",
            "us-east-1",
            "s3",
        );
        let signature: String = key
            .sign(policy.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut form = PostForm::new();
        form.push("key", "k");
        form.push("x-amz-checksum-crc32", "y/Q5Jg==");
        form.push("x-amz-algorithm", "AWS4-HMAC-SHA256");
        form.push(
            "x-amz-credential",
            "AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request",
        );
        form.push("x-amz-date", "20150830T000000Z");
        form.push("x-amz-signature", signature);
        form.push("policy", policy);
        ready(verifier().verify_post(&form, "bucket")).expect("the form signed here verifies")
    })
}

fn verifier() -> Verifier<StaticCredentials> {
    let lookup =
        StaticCredentials::new().with("AKIDEXAMPLE", ResolvedCredential::new("secret", "fuzz"));
    Verifier::new(lookup, VerifierSettings::default()).with_clock(Arc::new(FixedClock(
        UNIX_EPOCH + Duration::from_secs(1_440_938_160),
    )))
}

/// The output of a future that the static lookup makes ready at once.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the static lookup is ready at once"),
    }
}
