//! Raw HTTP/1.1 requests (the AWS test suite's `request.txt` format): parsing never panics,
//! a parsed request re-serialises to one that parses the same, verifying it (which
//! canonicalises path, query and headers, and checks the body) never panics, and signing it
//! (either rules, either location) either refuses or signs a request whose signature the
//! verifier accepts. (Not its body: a request may declare a checksum, a hash or an
//! `aws-chunked` body its body does not match, which the signer signs as it stands.)
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use aws_credential_types::Credentials;
use edgeward_signing::{
    sign_raw, Error, FixedClock, Payload, RawRequest, RawRequestLimits, ResolvedCredential,
    SigningParams, SigningSettings, StaticCredentials, Verifier, VerifierSettings,
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
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
    let verifier = Verifier::new(lookup, VerifierSettings::default())
        .with_clock(std::sync::Arc::new(FixedClock(now)));
    let verify = |request: &RawRequest, payload: Payload<'_>| {
        let view = request.view();
        let verify = pin!(verifier.verify(&view, payload));
        // The static lookup is ready at once, so one poll finishes the verification.
        match verify.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(result) => result.map(|_| ()),
            Poll::Pending => panic!("a verification with a static lookup is ready at once"),
        }
    };
    let _ = verify(&request, Payload::Bytes(&request.body));
    // The signature alone: over the payload hash the *input* claims (a hash, a checksum or an
    // `aws-chunked` body it may not match), else the body's, so that a hash the signer adds
    // itself is still held to the body.
    let body_digest: [u8; 32] =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &request.body)
            .as_ref()
            .try_into()
            .expect("a SHA-256 is 32 bytes");
    let claims_a_hash = request.header("x-amz-content-sha256").is_some();
    let signature_only = |signed: &RawRequest| match claims_a_hash {
        true => verify(signed, Payload::Unavailable),
        false => verify(signed, Payload::Sha256(&body_digest)),
    };

    let credentials = Credentials::from_keys("AKIDEXAMPLE", "secret", None);
    for (service, rules) in [
        ("service", SigningSettings::default()),
        ("s3", SigningSettings::s3()),
    ] {
        for presign in [false, true] {
            let settings = if presign {
                rules.clone().presigned(std::time::Duration::from_secs(60))
            } else {
                rules.clone()
            };
            let params = SigningParams {
                credentials: &credentials,
                region: "us-east-1",
                service,
                time: now,
            };
            let mut signed = request.clone();
            match sign_raw(&mut signed, &params, &settings) {
                Ok(_) => {}
                Err(Error::InvalidSigningInput { .. }) => continue,
                Err(e) => panic!("signing failed with {e:?}"),
            }
            if let Err(e) = signature_only(&signed) {
                panic!(
                    "[{service} presign={presign}] the verifier refuses what the signer signed: {e}\n{}",
                    String::from_utf8_lossy(&signed.to_bytes())
                );
            }
        }
    }
});
