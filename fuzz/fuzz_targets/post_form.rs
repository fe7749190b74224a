//! S3 POST Object bodies (`multipart/form-data`): reading the head never panics; a head that
//! is read starts its file within the body and S3's 20 KiB, and reads the same from the
//! prefix up to the file (nothing after it is looked at); and verifying the form it holds
//! never panics.
#![no_main]

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, UNIX_EPOCH};

use edgeward_signing::{
    FixedClock, PostForm, ResolvedCredential, StaticCredentials, Verifier, VerifierSettings,
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

    let lookup =
        StaticCredentials::new().with("AKIDEXAMPLE", ResolvedCredential::new("secret", "fuzz"));
    let verifier = Verifier::new(lookup, VerifierSettings::default()).with_clock(Arc::new(
        FixedClock(UNIX_EPOCH + Duration::from_secs(1_440_938_160)),
    ));
    let future = std::pin::pin!(verifier.verify_post(&head.form, "bucket"));
    let mut future = future;
    let Poll::Ready(_) = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    else {
        panic!("the static lookup is ready at once");
    };
});
