//! Time and randomness as inputs: RFC 3339 helpers and the jitter source.
//!
//! The clock is `aws_smithy_async::time::SharedTimeSource` and sleeping is
//! `aws_smithy_async::rt::sleep::SharedAsyncSleep`, the vocabulary every aws-sdk-rust client
//! already uses, so a test (or an SDK config) hands the same clock to everything.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A source of uniformly distributed fractions in `[0, 1)`, used only for jitter.
///
/// Inject a fixed value in tests to make refresh times and backoff delays exact.
pub trait Randomness: Send + Sync + Debug {
    /// A fraction in `[0, 1)`.
    fn fraction(&self) -> f64;
}

/// The default [`Randomness`]: the thread-local generator of `rand`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadRandomness;

impl Randomness for ThreadRandomness {
    fn fraction(&self) -> f64 {
        rand::random::<f64>()
    }
}

/// A [`Randomness`] that always returns the same fraction (clamped into `[0, 1)`); for tests
/// and for turning jitter off.
#[derive(Debug, Clone, Copy)]
pub struct FixedRandomness(pub f64);

impl Randomness for FixedRandomness {
    fn fraction(&self) -> f64 {
        if self.0.is_nan() {
            0.0
        } else {
            self.0.clamp(0.0, 0.999_999_999)
        }
    }
}

/// A shared, clonable [`Randomness`].
pub type SharedRandomness = Arc<dyn Randomness>;

/// Formats a time as RFC 3339 UTC with second precision (`2026-11-29T06:00:00Z`), the format
/// of the container and IoT credentials endpoints and of `credential_process`.
pub fn rfc3339(at: SystemTime) -> String {
    let secs = match at.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    match OffsetDateTime::from_unix_timestamp(secs).map(|t| t.format(&Rfc3339)) {
        Ok(Ok(s)) => s,
        _ => format!("@{secs}"),
    }
}

/// Parses an RFC 3339 timestamp (`Z` or numeric offset, optional fraction).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let parsed = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    let nanos = parsed.unix_timestamp_nanos();
    if nanos >= 0 {
        let nanos = u64::try_from(nanos).ok()?;
        UNIX_EPOCH.checked_add(Duration::from_nanos(nanos))
    } else {
        let nanos = u64::try_from(-nanos).ok()?;
        UNIX_EPOCH.checked_sub(Duration::from_nanos(nanos))
    }
}

/// `d * fraction`, saturating, for fractions in `[0, 1]`.
pub(crate) fn scale(d: Duration, fraction: f64) -> Duration {
    Duration::try_from_secs_f64(d.as_secs_f64() * fraction.clamp(0.0, 1.0)).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // Expected instants from `date -u -d <text> +%s`.
    #[test]
    fn rfc3339_both_ways_around_the_epoch() {
        let cases = [
            (
                "2026-11-29T06:00:00Z",
                UNIX_EPOCH + Duration::from_secs(1_795_932_000),
            ),
            ("1969-12-31T23:59:59Z", UNIX_EPOCH - Duration::from_secs(1)),
            (
                "1960-01-01T00:00:00Z",
                UNIX_EPOCH - Duration::from_secs(315_619_200),
            ),
        ];
        for (text, at) in cases {
            assert_eq!(rfc3339(at), text);
            assert_eq!(parse_rfc3339(text), Some(at), "{text}");
        }
        // A numeric offset and a fraction name the same instants.
        let offset = parse_rfc3339("2026-11-29T07:00:00+01:00");
        assert_eq!(
            offset,
            Some(UNIX_EPOCH + Duration::from_secs(1_795_932_000))
        );
        let fraction = parse_rfc3339("1969-12-31T23:59:59.5Z");
        assert_eq!(fraction, Some(UNIX_EPOCH - Duration::from_millis(500)));
        assert_eq!(parse_rfc3339("2026-11-29 06:00:00"), None);
    }

    #[test]
    fn thread_randomness_is_spread_over_zero_to_one() {
        let draws: Vec<f64> = (0..1000).map(|_| ThreadRandomness.fraction()).collect();
        assert!(draws.iter().all(|f| (0.0..1.0).contains(f)));
        // Both halves are hit (each missed with probability 2^-1000).
        assert!(draws.iter().any(|f| *f < 0.5) && draws.iter().any(|f| *f >= 0.5));
    }
}
