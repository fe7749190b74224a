//! SigV4 signing and verification next to their baselines, all on the same typical request
//! (an S3 GET with a range and `UNSIGNED-PAYLOAD`; see `sigv4_case`):
//!
//! - `sigv4/aws_sigv4_sign`: raw aws-sigv4 (build the signable request, sign, apply).
//! - `sigv4/sign`: edgeward-signing's `sign_http` (on aws-sigv4).
//! - `sigv4/verify_warm`: edgeward-signing's verifier with the derived key cached.
//! - `sigv4/verify_cold`: the same with the key cache disabled (4 extra HMACs).
//! - `sigv4/floor`: what any verifier must do: SHA-256 of the canonical request, one
//!   HMAC-SHA256 of the string-to-sign with a ready key, constant-time compare.
//! - `sigv4/unchecked_minimum`: for context, not a target: the request "verified" with no
//!   checks, no lookup and no key cache, then the floor's hashing (see `sigv4_case`).
//!
//! `sigv4_paired` times the same routines in alternating rounds, for ratios on a noisy machine.
#![allow(clippy::unwrap_used)] // A bench: a failure should stop it loudly.
#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

mod sigv4_case;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sigv4_case::Case;

fn bench(c: &mut Criterion) {
    let case = Case::new();
    let aws_params = case.aws_params();
    let view = case.view();
    let mut group = c.benchmark_group("sigv4");
    group.bench_function("aws_sigv4_sign", |b| {
        b.iter(|| black_box(case.aws_sigv4_sign(&aws_params)))
    });
    group.bench_function("sign", |b| b.iter(|| black_box(case.sign())));
    group.bench_function("verify_warm", |b| {
        b.iter(|| black_box(case.verify_warm(&view)))
    });
    group.bench_function("verify_cold", |b| {
        b.iter(|| black_box(case.verify_cold(&view)))
    });
    group.bench_function("floor", |b| b.iter(|| black_box(case.floor())));
    group.bench_function("unchecked_minimum", |b| {
        b.iter(|| black_box(case.unchecked_minimum()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
