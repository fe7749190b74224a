//! The caching provider against a real container-credentials HTTP server on 127.0.0.1 that the
//! test steers, with a clock the test moves.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials;
use common::{t0, CredentialsServer, ManualClock, Mode};
use edgeward_sts_credentials::{
    BackoffJitter, CacheSettings, CachingProvider, ContainerProvider, Env, EnvironmentProvider,
    Error, ErrorClass, FixedRandomness, HttpLimits,
};

const HOUR: Duration = Duration::from_secs(3600);
const MIN: Duration = Duration::from_secs(60);

/// Every setting away from its default, so a setter that did nothing would show.
fn settings() -> CacheSettings {
    CacheSettings::default()
        .with_refresh_before_expiry(7 * MIN)
        .with_refresh_jitter(2 * MIN)
        .with_load_timeout(Duration::from_millis(800))
        .with_backoff(
            Duration::from_secs(10),
            2,
            Duration::from_secs(80),
            BackoffJitter::None,
        )
        .with_error_ttl(
            Duration::from_secs(30),
            Duration::from_secs(5),
            Duration::from_secs(60),
        )
}

fn cache(
    server: &CredentialsServer,
    clock: &ManualClock,
    settings: CacheSettings,
) -> CachingProvider {
    let upstream = ContainerProvider::new(&server.uri()).unwrap().with_limits(
        HttpLimits::default()
            .with_connect_timeout(Duration::from_secs(2))
            .with_response_timeout(Duration::from_secs(30)),
    );
    CachingProvider::builder(upstream)
        .settings(settings)
        .clock(clock.clone())
        .randomness(FixedRandomness(0.5))
        .build()
}

/// Waits (real time, bounded) until no refresh is running and `calls` upstream calls started.
async fn settle(cache: &CachingProvider, calls: u64) {
    for _ in 0..500 {
        let status = cache.status();
        if !status.refreshing && status.upstream_calls == calls {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "cache did not settle at {calls} calls: {:?}",
        cache.status()
    );
}

/// Calls once, and fails if the caller had to wait on the upstream (bounded real time far
/// below the upstream's hang or the load timeout).
async fn call_fast(cache: &CachingProvider) -> aws_credential_types::Credentials {
    tokio::time::timeout(Duration::from_millis(400), cache.provide_credentials())
        .await
        .expect("a caller with valid cached credentials waited on the upstream")
        .expect("cached credentials")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_refresh_happens_in_the_window_and_not_before() {
    let expiry = t0() + HOUR;
    let server = CredentialsServer::start(expiry).await;
    let clock = ManualClock::new(t0());
    let cache = cache(&server, &clock, settings());

    let first = cache.provide_credentials().await.unwrap();
    assert_eq!(first.access_key_id(), "ASIATEST000000000001");
    assert_eq!(first.expiry(), Some(expiry));
    assert_eq!(server.requests(), 1);
    // Window start: 7 min + 0.5 × 2 min jitter before expiry.
    let window = expiry - Duration::from_secs(7 * 60 + 60);
    assert_eq!(cache.status().refresh_at, Some(window));

    server.set_expiry(expiry + HOUR);
    clock.set(window - Duration::from_secs(1));
    for _ in 0..10 {
        assert_eq!(
            call_fast(&cache).await.access_key_id(),
            "ASIATEST000000000001"
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.requests(), 1, "refreshed before the window");

    clock.set(window);
    // The caller in the window still gets the cached credentials at once...
    assert_eq!(
        call_fast(&cache).await.access_key_id(),
        "ASIATEST000000000001"
    );
    settle(&cache, 2).await;
    assert_eq!(server.requests(), 2);
    // ...and the next one the refreshed credentials.
    let second = call_fast(&cache).await;
    assert_eq!(second.access_key_id(), "ASIATEST000000000002");
    assert_eq!(second.expiry(), Some(expiry + HOUR));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_make_one_upstream_call() {
    let expiry = t0() + HOUR;
    let server = CredentialsServer::start(expiry).await;
    server.set_delay(Duration::from_millis(200));
    let clock = ManualClock::new(t0());
    let cache = cache(&server, &clock, settings());

    // Cold cache: everyone waits on the one refresh.
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let cache = cache.clone();
        tasks.push(tokio::spawn(
            async move { cache.provide_credentials().await },
        ));
    }
    for task in tasks {
        assert_eq!(
            task.await.unwrap().unwrap().access_key_id(),
            "ASIATEST000000000001"
        );
    }
    assert_eq!(server.requests(), 1);

    // In the refresh window: everyone is served from the cache, one refresh runs.
    server.set_expiry(expiry + HOUR);
    clock.set(expiry - 5 * MIN);
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let cache = cache.clone();
        tasks.push(tokio::spawn(
            async move { cache.provide_credentials().await },
        ));
    }
    for task in tasks {
        assert_eq!(
            task.await.unwrap().unwrap().access_key_id(),
            "ASIATEST000000000001"
        );
    }
    settle(&cache, 2).await;
    assert_eq!(server.requests(), 2);
}

async fn failing_upstream_costs_nothing(mode: Mode, kill: bool, class: ErrorClass) {
    let expiry = t0() + HOUR;
    let mut server = CredentialsServer::start(expiry).await;
    let clock = ManualClock::new(t0());
    // A load timeout far above `call_fast`'s bound: a caller waiting on a hanging upstream
    // would be caught.
    let cache = cache(
        &server,
        &clock,
        settings().with_load_timeout(Duration::from_secs(3)),
    );
    let first = cache.provide_credentials().await.unwrap();

    server.set_mode(mode);
    if kill {
        server.kill().await;
    }
    clock.set(expiry - 5 * MIN);
    for _ in 0..50 {
        let creds = call_fast(&cache).await;
        assert_eq!(creds.access_key_id(), first.access_key_id());
    }
    settle(&cache, 2).await;
    let status = cache.status();
    assert_eq!(status.failures, 1);
    assert_eq!(status.last_error_class, Some(class));
    // Still valid one second before expiry, still served.
    clock.set(expiry - Duration::from_secs(1));
    assert_eq!(
        call_fast(&cache).await.access_key_id(),
        first.access_key_id()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_500_while_valid_costs_callers_nothing() {
    failing_upstream_costs_nothing(Mode::Status(500), false, ErrorClass::Server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_hanging_while_valid_costs_callers_nothing() {
    failing_upstream_costs_nothing(Mode::Hang, false, ErrorClass::Connection).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_garbage_while_valid_costs_callers_nothing() {
    failing_upstream_costs_nothing(Mode::Garbage, false, ErrorClass::Server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_killed_while_valid_costs_callers_nothing() {
    failing_upstream_costs_nothing(Mode::Healthy, true, ErrorClass::Connection).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_expiry_the_caller_gets_the_error_never_expired_credentials() {
    let expiry = t0() + HOUR;
    let server = CredentialsServer::start(expiry).await;
    let clock = ManualClock::new(t0());
    let cache = cache(&server, &clock, settings());
    cache.provide_credentials().await.unwrap();

    server.set_mode(Mode::Status(503));
    clock.set(expiry - MIN);
    call_fast(&cache).await;
    settle(&cache, 2).await;

    for at in [expiry, expiry + Duration::from_secs(1), expiry + HOUR] {
        clock.set(at);
        let error = cache.provide_credentials().await.unwrap_err();
        let chain = error_chain(&error);
        assert!(chain.contains("503"), "{chain}");
    }

    // The upstream handing out already-expired credentials is an error too.
    server.set_mode(Mode::Healthy);
    server.set_expiry(expiry + HOUR - Duration::from_secs(1));
    clock.set(expiry + 2 * HOUR);
    let error = cache.provide_credentials().await.unwrap_err();
    assert!(
        error_chain(&error).contains("expired"),
        "{}",
        error_chain(&error)
    );
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backoff_spacing_is_as_configured() {
    let expiry = t0() + 4 * HOUR;
    let server = CredentialsServer::start(expiry).await;
    let clock = ManualClock::new(t0());
    let cache = cache(&server, &clock, settings());
    cache.provide_credentials().await.unwrap();
    server.set_mode(Mode::Status(500));

    let mut at = expiry - 5 * MIN;
    clock.set(at);
    call_fast(&cache).await;
    let mut calls = 2;
    settle(&cache, calls).await;
    // initial 10 s, ×2, capped at 80 s, no jitter.
    for expected in [10u64, 20, 40, 80, 80] {
        let expected = Duration::from_secs(expected);
        assert_eq!(cache.status().retry_at, Some(at + expected));
        clock.set(at + expected - Duration::from_secs(1));
        call_fast(&cache).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            cache.status().upstream_calls,
            calls,
            "retried before the backoff"
        );
        at += expected;
        clock.set(at);
        call_fast(&cache).await;
        calls += 1;
        settle(&cache, calls).await;
        assert_eq!(server.requests(), calls);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backoff_jitter_is_applied() {
    let expiry = t0() + 4 * HOUR;
    let server = CredentialsServer::start(expiry).await;
    let clock = ManualClock::new(t0());
    let settings = settings().with_backoff(
        Duration::from_secs(10),
        2,
        Duration::from_secs(80),
        BackoffJitter::Equal,
    );
    let cache = cache(&server, &clock, settings);
    cache.provide_credentials().await.unwrap();
    server.set_mode(Mode::Status(500));
    let at = expiry - 5 * MIN;
    clock.set(at);
    call_fast(&cache).await;
    settle(&cache, 2).await;
    // Equal jitter with fraction 0.5: 10/2 + 0.5 × 10/2 = 7.5 s.
    assert_eq!(
        cache.status().retry_at,
        Some(at + Duration::from_millis(7500))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_cached_by_class_without_credentials() {
    let server = CredentialsServer::start(t0() + HOUR).await;
    let clock = ManualClock::new(t0());
    let cache = cache(&server, &clock, settings());

    for (mode, class, ttl) in [
        (Mode::Status(500), ErrorClass::Server, 5),
        (Mode::Status(403), ErrorClass::Client, 30),
    ] {
        server.set_mode(mode);
        let before = server.requests();
        let start = clock.get();
        cache.provide_credentials().await.unwrap_err();
        assert_eq!(server.requests(), before + 1);
        assert_eq!(cache.status().last_error_class, Some(class));
        clock.set(start + Duration::from_secs(ttl) - Duration::from_secs(1));
        for _ in 0..20 {
            cache.provide_credentials().await.unwrap_err();
        }
        assert_eq!(server.requests(), before + 1, "cached error not served");
        clock.set(start + Duration::from_secs(ttl));
        cache.provide_credentials().await.unwrap_err();
        assert_eq!(server.requests(), before + 2);
        clock.advance(HOUR);
    }

    // Connection errors: the longest TTL.
    let mut server = server;
    server.kill().await;
    let start = clock.get();
    cache.provide_credentials().await.unwrap_err();
    assert_eq!(
        cache.status().last_error_class,
        Some(ErrorClass::Connection)
    );
    assert_eq!(
        cache.status().error_until,
        Some(start + Duration::from_secs(60))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_cached_while_valid_never_outlives_the_expiry() {
    let expiry = t0() + HOUR;
    let server = CredentialsServer::start(expiry).await;
    let clock = ManualClock::new(t0());
    let cache = cache(&server, &clock, settings());
    cache.provide_credentials().await.unwrap();
    server.set_mode(Mode::Status(403));
    clock.set(expiry - Duration::from_secs(10));
    call_fast(&cache).await;
    settle(&cache, 2).await;
    // Client TTL is 30 s, but the credentials expire in 10 s.
    assert_eq!(cache.status().error_until, Some(expiry));
    // At expiry, the first caller tries afresh and the upstream recovered.
    server.set_mode(Mode::Healthy);
    server.set_expiry(expiry + HOUR);
    clock.set(expiry);
    let fresh = cache.provide_credentials().await.unwrap();
    assert_eq!(fresh.access_key_id(), "ASIATEST000000000003");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_credentials_refresh_at_half_their_lifetime() {
    // 4-minute credentials: "7 minutes before expiry" would be before they were issued.
    let server = CredentialsServer::start(t0() + 4 * MIN).await;
    let clock = ManualClock::new(t0());
    let cache = cache(&server, &clock, settings());
    cache.provide_credentials().await.unwrap();
    assert_eq!(cache.status().refresh_at, Some(t0() + 2 * MIN));
}

#[test]
fn backoff_delays_grow_and_saturate() {
    let settings = CacheSettings::default().with_backoff(
        Duration::from_secs(1),
        3,
        Duration::from_secs(100),
        BackoffJitter::Full,
    );
    let delays: Vec<u64> = (1..=7)
        .map(|n| settings.backoff.delay(n).as_secs())
        .collect();
    assert_eq!(delays, [1, 3, 9, 27, 81, 100, 100]);
    assert_eq!(settings.backoff.delay(u32::MAX), Duration::from_secs(100));
}

/// Every caller a failed refresh is served to, the first and those served from the error cache,
/// gets the upstream's kind of error (so an SDK chain moves on past a source with nothing to
/// offer, and stops at a broken configuration) with the upstream's whole reason in its chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_error_keeps_the_upstreams_kind_and_reason() {
    use aws_credential_types::provider::error::CredentialsError;
    let clock = ManualClock::new(t0());
    let build = |upstream: EnvironmentProvider| {
        CachingProvider::builder(upstream)
            .settings(settings())
            .clock(clock.clone())
            .randomness(FixedRandomness(0.5))
            .build()
    };
    let empty = build(EnvironmentProvider::with_env(
        Env::from_pairs::<&str, &str>([]),
    ));
    let bad_expiry = build(EnvironmentProvider::with_env(Env::from_pairs([
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_CREDENTIAL_EXPIRATION", "next tuesday"),
    ])));
    for attempt in ["first", "from the error cache"] {
        let err = empty.provide_credentials().await.unwrap_err();
        assert!(
            matches!(err, CredentialsError::CredentialsNotLoaded(_)),
            "{attempt}: {err:?}"
        );
        let chain = error_chain(&err);
        assert!(chain.contains("AWS_ACCESS_KEY_ID"), "{attempt}: {chain}");

        let err = bad_expiry.provide_credentials().await.unwrap_err();
        assert!(
            matches!(err, CredentialsError::InvalidConfiguration(_)),
            "{attempt}: {err:?}"
        );
        let chain = error_chain(&err);
        assert!(
            chain.contains("credentials refresh failed"),
            "{attempt}: {chain}"
        );
        assert!(chain.contains("next tuesday"), "{attempt}: {chain}");
        // The chain reaches our error, for a caller that wants more than the text.
        let ours = std::iter::successors(std::error::Error::source(&err), |e| e.source())
            .find_map(|e| e.downcast_ref::<Error>());
        assert!(
            matches!(ours, Some(Error::InvalidSetting { setting, .. }) if setting == "AWS_CREDENTIAL_EXPIRATION"),
            "{attempt}: {ours:?}"
        );
    }
    assert_eq!(empty.status().upstream_calls, 1);
    assert_eq!(bad_expiry.status().upstream_calls, 1);

    // An upstream that never answers: the load timeout, to the first caller and the next.
    let mut server = CredentialsServer::start(t0() + HOUR).await;
    server.set_mode(Mode::Hang);
    let hanging = cache(&server, &clock, settings());
    for attempt in ["first", "from the error cache"] {
        let err = hanging.provide_credentials().await.unwrap_err();
        assert!(
            matches!(err, CredentialsError::ProviderTimedOut(_)),
            "{attempt}: {err:?}"
        );
    }
    assert_eq!(hanging.status().upstream_calls, 1);
    server.kill().await;
}
