//! Bench group `identity`: parse + validate a 3-certificate device chain (device, issuing
//! intermediate, root) with the device policy, cold and through the validation cache, next to
//! raw rustls-webpki path building (no policy) as the baseline.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use edgeward_device_identity::{
    CaSettings, CacheSettings, CertificateAuthority, CertificateInfo, CertificateStatus,
    DevicePolicy, DeviceSettings, InMemoryStatus, Validator,
};
use rustls_pki_types::UnixTime;
use time::OffsetDateTime;

fn identity(c: &mut Criterion) {
    let now = OffsetDateTime::now_utc();
    let root = CertificateAuthority::create_root(&CaSettings::new("Bench Root"), now).unwrap();
    let issuing = root
        .create_intermediate(&CaSettings::new("Bench Issuing CA"), now)
        .unwrap();
    let device = issuing
        .issue_device(&DeviceSettings::new("bench-thing"), now)
        .unwrap();
    let leaf = device.certificate.clone();
    let intermediates = vec![issuing.certificate().clone()];
    let roots = vec![root.certificate().clone()];
    let at = UnixTime::now();

    let registry = Arc::new(InMemoryStatus::new());
    registry.set(
        CertificateInfo::from_der(&leaf).unwrap().certificate_id,
        CertificateStatus::Active,
    );

    let mut group = c.benchmark_group("identity");

    // Baseline: rustls-webpki alone (path building + signatures, no device policy, no inspection).
    let anchors: Vec<_> = roots
        .iter()
        .map(|r| webpki::anchor_from_trusted_cert(r).unwrap().to_owned())
        .collect();
    let algorithms =
        rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
    group.bench_function("webpki_baseline", |b| {
        b.iter(|| {
            let ee = webpki::EndEntityCert::try_from(&leaf).unwrap();
            ee.verify_for_usage(
                algorithms.all,
                &anchors,
                &intermediates,
                at,
                webpki::KeyUsage::client_auth(),
                None,
                None,
            )
            .map(|_| ())
            .unwrap();
        })
    });

    let cold = Validator::new(&roots, DevicePolicy::device())
        .unwrap()
        .with_status_source(registry.clone());
    group.bench_function("validate_cold", |b| {
        b.iter(|| cold.validate(&leaf, &intermediates, at).unwrap());
    });

    let cached = Validator::new(&roots, DevicePolicy::device())
        .unwrap()
        .with_status_source(registry.clone())
        .with_cache(CacheSettings::default());
    cached.validate(&leaf, &intermediates, at).unwrap();
    group.bench_function("validate_cached", |b| {
        b.iter(|| cached.validate(&leaf, &intermediates, at).unwrap());
    });

    group.bench_function("inspect_leaf", |b| {
        b.iter(|| CertificateInfo::from_der(&leaf).unwrap());
    });
    group.finish();
}

criterion_group!(benches, identity);
criterion_main!(benches);
