//! aws-sigv4's traces stay audible when a process's first presigned signing with a session
//! token fails inside aws-sigv4, and a later one succeeds.
//!
//! As in `trace_interest.rs` (which see): the silenced signing's callsites are made audible
//! again only after a silenced signing that *succeeded*, as only that one has met all of
//! them. A failed one meets `sign`'s first trace but not the query form's; had the interest
//! been recomputed after it, the query form's callsite, first met by the next (successful)
//! silent signing, would cache "never". This file holds one test, so that its process is
//! exactly that: one global subscriber, and the failed signing is the first there is.
#![allow(clippy::unwrap_used)]

#[path = "support/events.rs"]
mod events;

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use edgeward_signing::{sign_parts, Error, SigningParams, SigningSettings};
use events::Events;

const TOKEN: &str = "TOKENMARKER/FwoGZXIvYXdzEBYaDHc3+session==";

/// A presigned `GET` signed with `credentials`, with `extra` headers besides `host`.
fn presign(credentials: &Credentials, extra: &[(&str, &str)]) -> Result<(), Error> {
    let params = SigningParams {
        credentials,
        region: "us-east-1",
        service: "sts",
        time: SystemTime::now(),
    };
    let mut headers = vec![("host", "sts.example.com")];
    headers.extend_from_slice(extra);
    sign_parts(
        "GET",
        "/",
        Some("Action=GetCallerIdentity&Version=2011-06-15"),
        &headers,
        b"",
        &params,
        &SigningSettings::default().presigned(Duration::from_secs(600)),
    )
    .map(|_| ())
}

/// Mutant "replace && with || in sign_in_silence" (sign.rs:784:23) recomputes the interest
/// after the failed signing, and the query form's trace stays silent.
#[test]
fn aws_sigv4_is_heard_after_a_first_silent_signing_that_failed() {
    let events = Events::default();
    tracing::subscriber::set_global_default(events.clone()).unwrap();
    let temporary = Credentials::from_keys("ASIAEXAMPLE", "secret", Some(TOKEN.into()));

    // A control byte in a header value: aws-sigv4 refuses it building the canonical request,
    // after `sign`'s first trace and before the query form's.
    let failed = presign(&temporary, &[("x-custom", "a\u{1}b")]);
    assert!(matches!(failed, Err(Error::Signing { .. })), "{failed:?}");
    presign(&temporary, &[]).unwrap();
    let silenced = events.take();
    assert!(
        silenced.is_empty(),
        "the signings with a token in their query were heard: {silenced:?}"
    );

    presign(&Credentials::from_keys("AKIAEXAMPLE", "secret", None), &[]).unwrap();
    events.assert_aws_sigv4_heard("after a failed first silenced signing");
}
