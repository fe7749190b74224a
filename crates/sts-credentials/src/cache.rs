//! The caching provider: early background refresh with jitter, single flight, stale-while-valid,
//! exponential backoff with jitter, error caching by class, and never an expired credential.
//!
//! State machine, per call at time `now` (from the injected clock):
//!
//! 1. Cached credentials valid (`now < expiry`): return them at once. If `now` is past the
//!    refresh time (expiry − `refresh_before_expiry` − jitter), no refresh is running and the
//!    backoff gate (`retry_at`) has passed, start one refresh in the background first.
//! 2. No valid credentials, and the last refresh error is still cached (`now < serve_until`):
//!    return that error; the upstream is not called.
//! 3. Otherwise join the running refresh, or start one, and wait for its outcome.
//!
//! A refresh runs in its own task under `load_timeout`, so a caller that gives up does not
//! cancel it and any number of callers share it. Success resets the failure count; failure
//! increments it, sets `retry_at = now + backoff(failures)` (never past the expiry of the
//! credentials still held) and caches the error until `now + error_ttl(class)`, again never past
//! the expiry of credentials still held, so the first call after expiry tries afresh.

use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_smithy_async::rt::sleep::{AsyncSleep, SharedAsyncSleep, TokioSleep};
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource, TimeSource};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::error::{classify, ErrorClass};
use crate::time::{rfc3339, scale, Randomness, SharedRandomness, ThreadRandomness};

/// How backoff delays are randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackoffJitter {
    /// Exactly the exponential delay.
    None,
    /// Uniform in `[0, delay)`.
    Full,
    /// Uniform in `[delay/2, delay)`: never retries sooner than half the delay.
    Equal,
}

/// Exponential backoff between failed refreshes while cached credentials are still valid.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    /// Delay after the first failure. Default 1 s.
    pub initial: Duration,
    /// Growth factor per further failure. Default 2.
    pub multiplier: u32,
    /// Upper bound of the delay before jitter. Default 60 s.
    pub max: Duration,
    /// Randomisation. Default [`BackoffJitter::Equal`].
    pub jitter: BackoffJitter,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            multiplier: 2,
            max: Duration::from_secs(60),
            jitter: BackoffJitter::Equal,
        }
    }
}

impl Backoff {
    /// The un-jittered delay after `failures` consecutive failures (`failures >= 1`).
    pub fn delay(&self, failures: u32) -> Duration {
        let mut delay = self.initial;
        for _ in 1..failures {
            delay = delay.saturating_mul(self.multiplier.max(1));
            if delay >= self.max {
                return self.max;
            }
        }
        delay.min(self.max)
    }

    fn jittered(&self, failures: u32, fraction: f64) -> Duration {
        let delay = self.delay(failures);
        match self.jitter {
            BackoffJitter::None => delay,
            BackoffJitter::Full => scale(delay, fraction),
            BackoffJitter::Equal => delay / 2 + scale(delay / 2, fraction),
        }
    }
}

/// How long a failed refresh's error is served to callers that have no valid credentials,
/// by [`ErrorClass`], before the next caller tries again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorTtl {
    /// 4xx, bad configuration. Default 30 s.
    pub client: Duration,
    /// 5xx, throttling, garbage. Default 5 s.
    pub server: Duration,
    /// Refused, unreachable, TLS failure, timeout. Default 60 s.
    pub connection: Duration,
}

impl Default for ErrorTtl {
    fn default() -> Self {
        Self {
            client: Duration::from_secs(30),
            server: Duration::from_secs(5),
            connection: Duration::from_secs(60),
        }
    }
}

impl ErrorTtl {
    /// The TTL for this class.
    pub fn for_class(&self, class: ErrorClass) -> Duration {
        match class {
            ErrorClass::Client => self.client,
            ErrorClass::Server => self.server,
            ErrorClass::Connection => self.connection,
        }
    }
}

/// The cache's policy.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct CacheSettings {
    /// Start refreshing this long before expiry. Default 5 minutes.
    pub refresh_before_expiry: Duration,
    /// Up to this much earlier again, chosen at random per fetched credential, so a fleet that
    /// booted together does not refresh together. Default 1 minute.
    pub refresh_jitter: Duration,
    /// Upper bound on one upstream call; a hanging upstream fails with a connection-class
    /// timeout. Default 10 s.
    pub load_timeout: Duration,
    /// Backoff between failed background refreshes.
    pub backoff: Backoff,
    /// Error caching by class.
    pub error_ttl: ErrorTtl,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            refresh_before_expiry: Duration::from_secs(5 * 60),
            refresh_jitter: Duration::from_secs(60),
            load_timeout: Duration::from_secs(10),
            backoff: Backoff::default(),
            error_ttl: ErrorTtl::default(),
        }
    }
}

impl CacheSettings {
    /// Sets [`CacheSettings::refresh_before_expiry`].
    pub fn with_refresh_before_expiry(mut self, d: Duration) -> Self {
        self.refresh_before_expiry = d;
        self
    }
    /// Sets [`CacheSettings::refresh_jitter`].
    pub fn with_refresh_jitter(mut self, d: Duration) -> Self {
        self.refresh_jitter = d;
        self
    }
    /// Sets [`CacheSettings::load_timeout`].
    pub fn with_load_timeout(mut self, d: Duration) -> Self {
        self.load_timeout = d;
        self
    }
    /// Sets the backoff: first delay, growth factor, cap, jitter.
    pub fn with_backoff(
        mut self,
        initial: Duration,
        multiplier: u32,
        max: Duration,
        jitter: BackoffJitter,
    ) -> Self {
        self.backoff = Backoff {
            initial,
            multiplier,
            max,
            jitter,
        };
        self
    }
    /// Sets the error TTLs for client, server and connection errors.
    pub fn with_error_ttl(
        mut self,
        client: Duration,
        server: Duration,
        connection: Duration,
    ) -> Self {
        self.error_ttl = ErrorTtl {
            client,
            server,
            connection,
        };
        self
    }
}

/// A refresh error shared by every caller it is served to.
#[derive(Debug, Clone)]
pub struct SharedRefreshError {
    error: Arc<CredentialsError>,
    class: ErrorClass,
}

impl SharedRefreshError {
    /// The class the cache assigned to this error.
    pub fn class(&self) -> ErrorClass {
        self.class
    }
}

impl fmt::Display for SharedRefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "credentials refresh failed: {}", self.error)?;
        let mut source = std::error::Error::source(&*self.error);
        while let Some(inner) = source {
            write!(f, ": {inner}")?;
            source = inner.source();
        }
        Ok(())
    }
}

impl std::error::Error for SharedRefreshError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

impl SharedRefreshError {
    fn to_credentials_error(&self) -> CredentialsError {
        match &*self.error {
            CredentialsError::ProviderTimedOut(t) => {
                CredentialsError::provider_timed_out(t.timeout_duration())
            }
            CredentialsError::CredentialsNotLoaded(_) => CredentialsError::not_loaded(self.clone()),
            CredentialsError::InvalidConfiguration(_) => {
                CredentialsError::invalid_configuration(self.clone())
            }
            _ => CredentialsError::provider_error(self.clone()),
        }
    }
}

/// A snapshot of the cache, for status endpoints and tests.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CacheStatus {
    /// Expiry of the cached credentials, if any are cached (they may have expired).
    pub expires_at: Option<SystemTime>,
    /// When the next background refresh becomes due (before jitter of backoff is applied).
    pub refresh_at: Option<SystemTime>,
    /// A refresh is running.
    pub refreshing: bool,
    /// Consecutive failed refreshes.
    pub failures: u32,
    /// No background retry before this time.
    pub retry_at: Option<SystemTime>,
    /// The cached error is served until this time (to callers without valid credentials).
    pub error_until: Option<SystemTime>,
    /// The class of the last error, while one is remembered.
    pub last_error_class: Option<ErrorClass>,
    /// Upstream calls started so far.
    pub upstream_calls: u64,
}

#[derive(Default)]
struct State {
    cached: Option<Credentials>,
    refresh_at: Option<SystemTime>,
    refreshing: bool,
    failures: u32,
    retry_at: Option<SystemTime>,
    last_error: Option<SharedRefreshError>,
    error_until: Option<SystemTime>,
    upstream_calls: u64,
}

impl State {
    fn valid(&self, now: SystemTime) -> Option<&Credentials> {
        self.cached
            .as_ref()
            .filter(|c| c.expiry().is_none_or(|expiry| now < expiry))
    }

    fn background_due(&self, now: SystemTime) -> bool {
        !self.refreshing
            && self.refresh_at.is_some_and(|at| now >= at)
            && self.retry_at.is_none_or(|at| now >= at)
    }
}

struct Shared {
    upstream: SharedCredentialsProvider,
    settings: CacheSettings,
    clock: SharedTimeSource,
    sleep: SharedAsyncSleep,
    random: SharedRandomness,
    state: RwLock<State>,
    done: watch::Sender<u64>,
}

/// A caching [`ProvideCredentials`] wrapper around any other provider.
///
/// Callers holding valid credentials never wait; see the module docs for the state machine.
/// Needs a Tokio runtime: refreshes run as spawned tasks. Cloning shares the cache.
#[derive(Clone)]
pub struct CachingProvider {
    shared: Arc<Shared>,
}

impl fmt::Debug for CachingProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingProvider")
            .field("upstream", &self.shared.upstream)
            .field("settings", &self.shared.settings)
            .finish()
    }
}

/// Builds a [`CachingProvider`]; everything but the upstream has a default.
#[derive(Debug)]
pub struct CachingProviderBuilder {
    upstream: SharedCredentialsProvider,
    settings: CacheSettings,
    clock: SharedTimeSource,
    sleep: SharedAsyncSleep,
    random: SharedRandomness,
}

impl CachingProviderBuilder {
    /// The policy.
    pub fn settings(mut self, settings: CacheSettings) -> Self {
        self.settings = settings;
        self
    }
    /// The clock that decides validity, refresh times and error TTLs.
    pub fn clock(mut self, clock: impl TimeSource + 'static) -> Self {
        self.clock = SharedTimeSource::new(clock);
        self
    }
    /// The sleep implementation behind `load_timeout`.
    pub fn sleep(mut self, sleep: impl AsyncSleep + 'static) -> Self {
        self.sleep = SharedAsyncSleep::new(sleep);
        self
    }
    /// The jitter source.
    pub fn randomness(mut self, random: impl Randomness + 'static) -> Self {
        self.random = Arc::new(random);
        self
    }
    /// The cache.
    pub fn build(self) -> CachingProvider {
        let (done, _) = watch::channel(0);
        CachingProvider {
            shared: Arc::new(Shared {
                upstream: self.upstream,
                settings: self.settings,
                clock: self.clock,
                sleep: self.sleep,
                random: self.random,
                state: RwLock::new(State::default()),
                done,
            }),
        }
    }
}

impl CachingProvider {
    /// A cache with default settings, the system clock, Tokio sleep and thread randomness.
    pub fn new(upstream: impl ProvideCredentials + 'static) -> Self {
        Self::builder(upstream).build()
    }

    /// A builder for a cache around `upstream`.
    pub fn builder(upstream: impl ProvideCredentials + 'static) -> CachingProviderBuilder {
        CachingProviderBuilder {
            upstream: SharedCredentialsProvider::new(upstream),
            settings: CacheSettings::default(),
            clock: SharedTimeSource::new(SystemTimeSource::new()),
            sleep: SharedAsyncSleep::new(TokioSleep::new()),
            random: Arc::new(ThreadRandomness),
        }
    }

    /// The current state.
    pub fn status(&self) -> CacheStatus {
        let state = self.shared.read();
        CacheStatus {
            expires_at: state.cached.as_ref().and_then(Credentials::expiry),
            refresh_at: state.refresh_at,
            refreshing: state.refreshing,
            failures: state.failures,
            retry_at: state.retry_at,
            error_until: state.error_until,
            last_error_class: state.last_error.as_ref().map(SharedRefreshError::class),
            upstream_calls: state.upstream_calls,
        }
    }

    /// Valid credentials, from the cache or, when none are held, from a (shared) refresh.
    pub async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let now = self.shared.clock.now();
        {
            let state = self.shared.read();
            if let Some(creds) = state.valid(now) {
                if !state.background_due(now) {
                    return Ok(creds.clone());
                }
            }
        }
        let mut done = {
            let mut state = self.shared.write();
            let now = self.shared.clock.now();
            if let Some(creds) = state.valid(now).cloned() {
                if state.background_due(now) {
                    debug!(
                        expires_at = %creds.expiry().map(rfc3339).unwrap_or_default(),
                        "starting background credentials refresh"
                    );
                    Shared::start_refresh(&self.shared, &mut state);
                }
                return Ok(creds);
            }
            if let (Some(error), Some(until)) = (&state.last_error, state.error_until) {
                if now < until {
                    debug!(class = ?error.class, until = %rfc3339(until), "serving cached refresh error");
                    return Err(error.to_credentials_error());
                }
            }
            let done = self.shared.done.subscribe();
            if !state.refreshing {
                debug!("no valid credentials cached; refreshing");
                Shared::start_refresh(&self.shared, &mut state);
            }
            done
        };
        loop {
            // The sender lives in `shared`, which we hold: `changed` cannot fail.
            if done.changed().await.is_err() {
                break;
            }
            let state = self.shared.read();
            if state.refreshing {
                continue;
            }
            let now = self.shared.clock.now();
            if let Some(creds) = state.valid(now) {
                return Ok(creds.clone());
            }
            if let Some(error) = &state.last_error {
                return Err(error.to_credentials_error());
            }
            break;
        }
        Err(CredentialsError::not_loaded_no_source())
    }
}

impl Shared {
    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock leaves consistent state (every write is a plain
        // assignment), so a poisoned lock is still usable.
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    fn start_refresh(this: &Arc<Self>, state: &mut State) {
        state.refreshing = true;
        state.upstream_calls += 1;
        let shared = Arc::clone(this);
        tokio::spawn(async move {
            let timeout = shared.settings.load_timeout;
            let outcome = {
                let call = shared.upstream.provide_credentials();
                let sleep = shared.sleep.sleep(timeout);
                tokio::select! {
                    result = call => result,
                    () = sleep => Err(CredentialsError::provider_timed_out(timeout)),
                }
            };
            shared.finish_refresh(outcome);
        });
    }

    fn finish_refresh(&self, outcome: Result<Credentials, CredentialsError>) {
        let now = self.clock.now();
        let outcome = match outcome {
            Ok(creds) => match creds.expiry() {
                Some(expiry) if expiry <= now => Err(CredentialsError::provider_error(
                    crate::Error::AlreadyExpired { expired_at: expiry },
                )),
                _ => Ok(creds),
            },
            Err(e) => Err(e),
        };
        let mut state = self.write();
        state.refreshing = false;
        match outcome {
            Ok(creds) => {
                state.refresh_at = creds.expiry().map(|expiry| self.refresh_time(now, expiry));
                info!(
                    expires_at = %creds.expiry().map(rfc3339).unwrap_or_else(|| "never".into()),
                    refresh_at = %state.refresh_at.map(rfc3339).unwrap_or_else(|| "never".into()),
                    "credentials refreshed"
                );
                state.cached = Some(creds);
                state.failures = 0;
                state.retry_at = None;
                state.last_error = None;
                state.error_until = None;
            }
            Err(error) => {
                let class = classify(&error);
                state.failures = state.failures.saturating_add(1);
                let held_expiry = state.valid(now).and_then(Credentials::expiry);
                let backoff = self
                    .settings
                    .backoff
                    .jittered(state.failures, self.random.fraction());
                let mut retry_at = now + backoff;
                let mut error_until = now + self.settings.error_ttl.for_class(class);
                if let Some(expiry) = held_expiry {
                    retry_at = retry_at.min(expiry);
                    error_until = error_until.min(expiry);
                }
                warn!(
                    class = class_name(class),
                    failures = state.failures,
                    retry_in = ?backoff,
                    still_valid_until = %held_expiry.map(rfc3339).unwrap_or_else(|| "-".into()),
                    reason = %DisplayChain(&error),
                    "credentials refresh failed"
                );
                state.retry_at = Some(retry_at);
                state.error_until = Some(error_until);
                state.last_error = Some(SharedRefreshError {
                    error: Arc::new(error),
                    class,
                });
            }
        }
        drop(state);
        self.done
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// Expiry − (before + jitter), but not earlier than half the lifetime, so short-lived
    /// credentials are not refreshed continuously.
    fn refresh_time(&self, now: SystemTime, expiry: SystemTime) -> SystemTime {
        let lifetime = expiry.duration_since(now).unwrap_or_default();
        let lead = self.settings.refresh_before_expiry
            + scale(self.settings.refresh_jitter, self.random.fraction());
        let earliest = now + lifetime / 2;
        expiry
            .checked_sub(lead)
            .map_or(earliest, |at| at.max(earliest))
    }
}

fn class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Client => "client",
        ErrorClass::Server => "server",
        ErrorClass::Connection => "connection",
    }
}

struct DisplayChain<'a>(&'a CredentialsError);

impl fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(self.0);
        while let Some(inner) = source {
            write!(f, ": {inner}")?;
            source = inner.source();
        }
        Ok(())
    }
}

impl ProvideCredentials for CachingProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }
}
