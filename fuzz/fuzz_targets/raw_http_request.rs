//! Raw HTTP/1.1 requests (the AWS test suite's `request.txt` format): parsing never panics,
//! a parsed request re-serialises to one that parses the same, and verifying it (which
//! canonicalises path, query and headers) never panics.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use edgeward_signing::{
    FixedClock, Payload, RawRequest, RawRequestLimits, ResolvedCredential, StaticCredentials,
    Verifier, VerifierSettings,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = RawRequestLimits::default();
    let Ok(request) = RawRequest::parse(data, &limits) else {
        return;
    };
    let mut relaxed = limits;
    relaxed.max_head_bytes *= 2;
    let again =
        RawRequest::parse(&request.to_bytes(), &relaxed).expect("a parsed request re-parses");
    assert_eq!(again, request);

    let lookup =
        StaticCredentials::new().with("AKIDEXAMPLE", ResolvedCredential::new("secret", "fuzz"));
    let clock = std::sync::Arc::new(FixedClock(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160),
    ));
    let verifier = Verifier::new(lookup, VerifierSettings::default()).with_clock(clock);
    let view = request.view();
    let verify = pin!(verifier.verify(&view, Payload::Bytes(&request.body)));
    // The static lookup is ready at once, so one poll finishes the verification.
    assert!(matches!(
        verify.poll(&mut Context::from_waker(Waker::noop())),
        Poll::Ready(_)
    ));
});
