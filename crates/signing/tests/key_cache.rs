//! The derived-key cache (crypto.rs) through the verifier: a cached key is served only for
//! its own scope, and a scope too long to cache is derived every time. From mutation testing
//! (cargo-mutants, 2026-12-04, round 4), which left these mutants alive; each test fails under
//! the mutants its doc names.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use edgeward_signing::{
    sign_raw, Error, FixedClock, Payload, RawRequest, RawRequestLimits, ResolvedCredential,
    SigningParams, SigningSettings, StaticCredentials, Verifier, VerifierSettings,
};

const NOW: u64 = 1_440_938_160; // 2015-08-30T12:36:00Z

/// A GET signed by `aws-sigv4` (through `sign_raw`) for `region` and `service`.
fn signed_get(region: &str, service: &str) -> RawRequest {
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let creds = aws_credential_types::Credentials::from_keys("AKIDEXAMPLE", "secret", None);
    let mut request = RawRequest::parse(
        b"GET /?a=b HTTP/1.1\nHost:example.com\n\n",
        &RawRequestLimits::default(),
    )
    .unwrap();
    let params = SigningParams {
        credentials: &creds,
        region,
        service,
        time: now,
    };
    sign_raw(&mut request, &params, &SigningSettings::default()).unwrap();
    request
}

/// A verifier that knows AKIDEXAMPLE's secret, at [`NOW`], with its default key cache.
fn verifier() -> Verifier<StaticCredentials> {
    let lookup =
        StaticCredentials::new().with("AKIDEXAMPLE", ResolvedCredential::new("secret", "alice"));
    Verifier::new(lookup, VerifierSettings::default())
        .with_clock(Arc::new(FixedClock(UNIX_EPOCH + Duration::from_secs(NOW))))
}

/// Verifies a GET signed for `region` and `service` twice: when the first verification
/// cached its key, the second is served from the cache.
fn verify_twice(
    verifier: &Verifier<StaticCredentials>,
    region: &str,
    service: &str,
) -> Result<(), Error> {
    for _ in 0..2 {
        let request = signed_get(region, service);
        futures_util::FutureExt::now_or_never(
            verifier.verify(&request.view(), Payload::Bytes(&request.body)),
        )
        .expect("the static lookup is ready at once")?;
    }
    Ok(())
}

/// The key cache tells scopes apart by all three parts, not by their concatenation: a request
/// for region `ab`, service `c` and one for region `a`, service `bc` (the same secret, the
/// same day) each verify with their own key, the second after the first's key was cached.
/// Mutants "replace > with < in KeyCache::get_or_derive" and "replace > with == in
/// KeyCache::get_or_derive" (crypto.rs:265:22, the `/` between the parts never or wrongly
/// written) and "replace += with *= in KeyCache::get_or_derive" (crypto.rs:267:20, the `/`
/// overwritten) serve the first scope's key for the second, which then fails to verify.
#[test]
fn scopes_that_concatenate_alike_get_their_own_keys() {
    let verifier = verifier();
    for (region, service) in [("ab", "c"), ("a", "bc"), ("abc", "d"), ("ab", "cd")] {
        let verified = verify_twice(&verifier, region, service);
        assert!(verified.is_ok(), "{region}/{service}: {verified:?}");
    }
}

/// Scopes around the key cache's limit (128 bytes of `date/region/service`) verify, twice
/// each (the second time from the cache when it took the key): one that does not fit is
/// derived every time, not copied into the cache's fixed buffer. Mutants that let a scope of
/// 129 bytes or more reach that buffer panic: "replace || with && in KeyCache::get_or_derive"
/// (crypto.rs:256:31), "replace > with == in KeyCache::get_or_derive" (crypto.rs:256:44),
/// "replace + with - in KeyCache::get_or_derive" (crypto.rs:255:51 and 255:67: the length
/// undercounted); "replace > with >= in KeyCache::get_or_derive" (crypto.rs:265:22) writes a
/// leading `/` that overflows it at exactly 128.
#[test]
fn scopes_around_the_cache_limit_verify() {
    let verifier = verifier();
    // `20150830/` + region + `/svc`: 13 bytes besides the region.
    for scope_len in [127, 128, 129, 130, 131, 132, 200] {
        let region = "r".repeat(scope_len - 13);
        let verified = verify_twice(&verifier, &region, "svc");
        assert!(verified.is_ok(), "{scope_len}: {verified:?}");
    }
}
