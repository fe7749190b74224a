//! aws-sigv4's traces stay audible after a process's first presigned signing with a session
//! token.
//!
//! `sign_parts` runs that signing with no subscriber, so that aws-sigv4's trace of the query
//! line (which holds `X-Amz-Security-Token` in clear) is heard by no one. While a process has
//! a single dispatcher (a service with one global subscriber), tracing-core gives a callsite
//! met for the first time the interest of the *current thread's* subscriber, which inside that
//! signing is none: aws-sigv4's callsites would cache "never" and stay silent for the life of
//! the process. This file holds one test, so that its process is exactly that: one global
//! subscriber, and the silenced signing is the first signing there is.
#![allow(clippy::unwrap_used)]

#[path = "support/events.rs"]
mod events;

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use edgeward_signing::{sign_parts, SigningParams, SigningSettings};
use events::Events;

const TOKEN: &str = "TOKENMARKER/FwoGZXIvYXdzEBYaDHc3+session==";

fn presign(credentials: &Credentials) {
    let params = SigningParams {
        credentials,
        region: "us-east-1",
        service: "sts",
        time: SystemTime::now(),
    };
    sign_parts(
        "GET",
        "/",
        Some("Action=GetCallerIdentity&Version=2011-06-15"),
        &[("host", "sts.example.com")],
        b"",
        &params,
        &SigningSettings::default().presigned(Duration::from_secs(600)),
    )
    .unwrap();
}

#[test]
fn aws_sigv4_is_heard_after_a_first_presigned_signing_with_a_token() {
    let events = Events::default();
    tracing::subscriber::set_global_default(events.clone()).unwrap();

    presign(&Credentials::from_keys(
        "ASIAEXAMPLE",
        "secret",
        Some(TOKEN.into()),
    ));
    let silenced = events.take();
    assert!(
        silenced.is_empty(),
        "the signing with a token in its query was heard: {silenced:?}"
    );

    presign(&Credentials::from_keys("AKIAEXAMPLE", "secret", None));
    events.assert_aws_sigv4_heard("after the first silenced signing");
}
