//! SigV4 signing and verification next to their baselines, all on the same typical request
//! (an S3 GET with a range and `UNSIGNED-PAYLOAD`):
//!
//! - `sigv4/aws_sigv4_sign`: raw aws-sigv4 (build the signable request, sign, apply).
//! - `sigv4/sign`: edgeward-signing's `sign_http` (on aws-sigv4).
//! - `sigv4/verify_warm`: edgeward-signing's verifier with the derived key cached.
//! - `sigv4/verify_cold`: the same with the key cache disabled (4 extra HMACs).
//! - `sigv4/floor`: what any verifier must do: SHA-256 of the canonical request, one
//!   HMAC-SHA256 of the string-to-sign with a ready key, constant-time compare.
#![allow(clippy::unwrap_used)] // A bench: a failure should stop it loudly.
#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_lc_rs::{digest, hmac};
use aws_sigv4::http_request::{
    self as sigv4, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    UriPathNormalizationMode,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use edgeward_signing::{
    sign_http, FixedClock, PathMode, Payload, PayloadSigning, RequestView, ResolvedCredential,
    SessionTokenPlacement, SigningParams, SigningSettings, StaticCredentials, Verifier,
    VerifierSettings,
};
use futures_util::FutureExt;
use subtle::ConstantTimeEq;

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn typical() -> http::Request<Vec<u8>> {
    http::Request::builder()
        .method("GET")
        .uri("https://examplebucket.s3.us-east-1.amazonaws.com/photos/2024/cat%20picture.jpg?versionId=3HL4kqtJlcpXroDTDmJ%2Brmw")
        .header("host", "examplebucket.s3.us-east-1.amazonaws.com")
        .header("range", "bytes=0-1048575")
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .header("user-agent", "aws-sdk-rust/1.0 os/linux")
        .body(Vec::new())
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let creds = Credentials::from_keys(AK, SK, None);
    let identity = creds.clone().into();
    let template = typical();

    // Raw aws-sigv4 with the settings S3 clients use.
    let mut aws_settings = sigv4::SigningSettings::default();
    aws_settings.percent_encoding_mode = PercentEncodingMode::Single;
    aws_settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    aws_settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let aws_params: aws_sigv4::http_request::SigningParams<'_> =
        aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(now)
            .settings(aws_settings)
            .build()
            .unwrap()
            .into();

    let mut ours = SigningSettings::s3();
    ours.payload = PayloadSigning::Unsigned;
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service: "s3",
        time: now,
    };
    let mut signed = template.clone();
    let signature = sign_http(&mut signed, &params, &ours).unwrap();

    let lookup = StaticCredentials::new().with(AK, ResolvedCredential::new(SK, "alice"));
    let warm = Verifier::new(lookup.clone(), VerifierSettings::default())
        .with_clock(Arc::new(FixedClock(now)));
    let mut cold_settings = VerifierSettings::default();
    cold_settings.key_cache_capacity = 0;
    let cold = Verifier::new(lookup, cold_settings).with_clock(Arc::new(FixedClock(now)));
    let view = RequestView::from_http(&signed);
    assert_eq!(
        warm.verify(&view, Payload::Bytes(&[]))
            .now_or_never()
            .unwrap()
            .unwrap()
            .signature(),
        signature
    );

    // The floor's inputs, precomputed: the canonical request, the string-to-sign prefix, a ready key.
    let explained = warm
        .explain(
            &view,
            Payload::Bytes(&[]),
            PathMode::S3,
            SessionTokenPlacement::Signed,
        )
        .unwrap();
    let canonical = explained.canonical_request.into_bytes();
    let sts_prefix = explained
        .string_to_sign
        .rsplit_once('\n')
        .unwrap()
        .0
        .to_owned()
        + "\n";
    let derived = aws_sigv4::sign::v4::generate_signing_key(SK, now, "us-east-1", "s3");
    let key = hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref());
    let expected = hex::decode(&signature).unwrap();

    let mut group = c.benchmark_group("sigv4");
    group.bench_function("aws_sigv4_sign", |b| {
        b.iter(|| {
            let mut request = template.clone();
            let signable = SignableRequest::new(
                request.method().as_str(),
                request.uri().to_string(),
                request
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.to_str().unwrap())),
                SignableBody::UnsignedPayload,
            )
            .unwrap();
            let (instructions, _signature) =
                sigv4::sign(signable, &aws_params).unwrap().into_parts();
            instructions.apply_to_request_http1x(&mut request);
            black_box(request)
        })
    });
    group.bench_function("sign", |b| {
        b.iter(|| {
            let mut request = template.clone();
            sign_http(&mut request, &params, &ours).unwrap();
            black_box(request)
        })
    });
    group.bench_function("verify_warm", |b| {
        b.iter(|| {
            black_box(
                warm.verify(black_box(&view), Payload::Bytes(&[]))
                    .now_or_never()
                    .unwrap()
                    .unwrap(),
            )
        })
    });
    group.bench_function("verify_cold", |b| {
        b.iter(|| {
            black_box(
                cold.verify(black_box(&view), Payload::Bytes(&[]))
                    .now_or_never()
                    .unwrap()
                    .unwrap(),
            )
        })
    });
    group.bench_function("floor", |b| {
        b.iter(|| {
            let hash = digest::digest(&digest::SHA256, black_box(&canonical));
            let mut sts = Vec::with_capacity(sts_prefix.len() + 64);
            sts.extend_from_slice(sts_prefix.as_bytes());
            sts.extend_from_slice(hex::encode(hash.as_ref()).as_bytes());
            let tag = hmac::sign(&key, &sts);
            black_box(bool::from(tag.as_ref().ct_eq(&expected)))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
