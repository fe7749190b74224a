//! Bench group `credentials`: a cached `provide_credentials` call, alone and with 1,000
//! concurrent callers while a refresh is in flight, each next to its floor (the same calls on a
//! `StaticProvider`, which does no caching work at all).
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::provider::{future, ProvideCredentials};
use aws_credential_types::Credentials;
use aws_smithy_async::time::TimeSource;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use edgeward_sts_credentials::{CacheSettings, CachingProvider, FixedRandomness, StaticProvider};

#[derive(Debug, Clone)]
struct Clock(Arc<Mutex<SystemTime>>);

impl TimeSource for Clock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// First call answers at once; later calls (refreshes) take 500 ms, so a refresh is in flight
/// for the whole measured batch.
#[derive(Debug, Default)]
struct SlowRefresh {
    calls: AtomicU64,
}

impl ProvideCredentials for SlowRefresh {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n > 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Ok(Credentials::builder()
                .access_key_id(format!("ASIABENCH{n:011}"))
                .secret_access_key("secret")
                .session_token("token")
                .expiry(t0() + Duration::from_secs(3600 * (n + 1)))
                .provider_name("bench")
                .build())
        })
    }
}

fn creds() -> Credentials {
    Credentials::builder()
        .access_key_id("ASIABENCH")
        .secret_access_key("secret")
        .session_token("token")
        .expiry(t0() + Duration::from_secs(3600))
        .provider_name("bench")
        .build()
}

/// A cache primed with credentials expiring at t0 + 1 h, its clock at `now`.
fn primed(rt: &tokio::runtime::Runtime, now: SystemTime) -> (CachingProvider, Clock) {
    let clock = Clock(Arc::new(Mutex::new(t0())));
    let cache = CachingProvider::builder(SlowRefresh::default())
        .settings(CacheSettings::default())
        .clock(clock.clone())
        .randomness(FixedRandomness(0.0))
        .build();
    rt.block_on(cache.provide_credentials()).unwrap();
    *clock.0.lock().unwrap() = now;
    (cache, clock)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("credentials");

    let floor = StaticProvider::new(creds());
    group.bench_function("static_provider_floor", |b| {
        b.iter(|| rt.block_on(floor.provide_credentials()).unwrap())
    });
    let (cache, _clock) = primed(&rt, t0() + Duration::from_secs(60));
    group.bench_function("cached_provide_credentials", |b| {
        b.iter(|| rt.block_on(cache.provide_credentials()).unwrap())
    });

    let floor = Arc::new(StaticProvider::new(creds()));
    group.bench_function("static_provider_1000_concurrent_floor", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..1000)
                    .map(|_| {
                        let p = Arc::clone(&floor);
                        tokio::spawn(async move { p.provide_credentials().await })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap().unwrap();
                }
            })
        })
    });
    // In the refresh window (5 min before expiry): the first caller starts the 500 ms refresh,
    // all 1,000 are served from the cache while it runs.
    group.bench_function("cached_1000_concurrent_during_refresh", |b| {
        b.iter_batched(
            || primed(&rt, t0() + Duration::from_secs(3600 - 240)),
            |(cache, _clock)| {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..1000)
                        .map(|_| {
                            let c = cache.clone();
                            tokio::spawn(async move { c.provide_credentials().await })
                        })
                        .collect();
                    for t in tasks {
                        let creds = t.await.unwrap().unwrap();
                        assert_eq!(creds.access_key_id(), "ASIABENCH00000000000");
                    }
                    assert!(cache.status().refreshing);
                });
                cache
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
