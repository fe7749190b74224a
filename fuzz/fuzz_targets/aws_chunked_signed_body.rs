//! Signed `aws-chunked` bodies (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, with and without the
//! signed trailer): the `chunk-signature=` lines, the `x-amz-trailer-signature` line and the
//! chain, continued from one request signed once (`aws_chunked_body` covers the unsigned
//! form). Decoding never panics, never releases more bytes than it was given, and whatever
//! way the body is split the outcome is the same. The corpus starts from chains our
//! `ChunkSigner` made for this request, so the fuzzer begins past the first signature.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use edgeward_signing::{
    sign_http, FixedClock, Headers, Payload, PayloadSigning, RequestView, ResolvedCredential,
    SigningParams, SigningSettings, StaticCredentials, VerifiedRequest, Verifier, VerifierSettings,
};
use libfuzzer_sys::fuzz_target;

/// The request's time: the AWS test suite's `20150830T123600Z`.
const NOW: u64 = 1_440_938_160;

/// A signed streaming PUT (with `x-amz-trailer: x-amz-checksum-crc32` when `trailer`),
/// verified: the chain starts from its signature.
fn verified(trailer: bool) -> (VerifiedRequest, http::HeaderMap) {
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let mut request = http::Request::put("http://example.com/bucket/key")
        .header("host", "example.com")
        .header("content-encoding", "aws-chunked")
        // The seeds' data, "hello, chunked world".
        .header("x-amz-decoded-content-length", "20")
        .body(Vec::<u8>::new())
        .expect("a valid request");
    if trailer {
        request.headers_mut().insert(
            "x-amz-trailer",
            http::HeaderValue::from_static("x-amz-checksum-crc32"),
        );
    }
    let credentials = Credentials::from_keys("AKIDEXAMPLE", "secret", None);
    let mut settings = SigningSettings::s3();
    settings.payload = PayloadSigning::StreamingSigned { trailer };
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "s3",
        time: now,
    };
    sign_http(&mut request, &params, &settings).expect("the head signs");
    let lookup =
        StaticCredentials::new().with("AKIDEXAMPLE", ResolvedCredential::new("secret", "fuzz"));
    let verifier = Verifier::new(lookup, VerifierSettings::default())
        .with_clock(std::sync::Arc::new(FixedClock(now)));
    let (parts, _) = request.into_parts();
    let verified = {
        let view = RequestView::from_parts(&parts);
        let verify = pin!(verifier.verify(&view, Payload::Unavailable));
        // The static lookup is ready at once, so one poll finishes the verification.
        match verify.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(result) => result.expect("our signed head verifies"),
            Poll::Pending => panic!("a verification with a static lookup is ready at once"),
        }
    };
    (verified, parts.headers)
}

fn decode(trailer: bool, body: &[u8], piece: usize) -> (Vec<u8>, Result<(), String>) {
    static HEADS: OnceLock<[(VerifiedRequest, http::HeaderMap); 2]> = OnceLock::new();
    let heads = HEADS.get_or_init(|| [verified(false), verified(true)]);
    let (verified, headers) = &heads[usize::from(trailer)];
    let mut decoder = verified
        .streamed_body_verifier(&Headers::Map(headers))
        .expect("the signed head's chain starts")
        .expect("a streamed payload has a chain");
    let mut out = Vec::new();
    for part in body.chunks(piece) {
        if let Err(error) = decoder.push(part, &mut out) {
            return (out, Err(error.aws_error_code().to_owned()));
        }
    }
    let result = decoder
        .finish()
        .map_err(|error| error.aws_error_code().to_owned());
    (out, result)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let trailer = selector & 1 == 1;
    let piece = usize::from(selector / 2).max(1);
    let (whole_out, whole) = decode(trailer, body, body.len().max(1));
    let (split_out, split) = decode(trailer, body, piece);
    assert!(whole_out.len() <= body.len());
    assert_eq!(
        whole, split,
        "the outcome depends on how the body was split"
    );
    if whole.is_ok() {
        assert_eq!(whole_out, split_out);
    }
});
