//! Differential tests against awscrt, the Python binding of aws-c-auth (AWS's C signer; the
//! venv's Python from `EDGEWARD_PYTHON`): the requests of the botocore test's generator
//! (`support/differential.rs`) are signed by `awscrt.auth.aws_sign_request` in one Python
//! process (`awscrt_sign.py`: header and presigned, static credentials with and without a
//! session token, a pinned date, S3 or default path rules, the payload hash or
//! `UNSIGNED-PAYLOAD`). Our verifier must accept every one, and our signer must produce the
//! byte-identical signature from the same unsigned request; with one signed part changed, our
//! verifier must refuse it with `SignatureDoesNotMatch`.
//! Inputs where aws-c-auth departs from the SigV4 specification are skipped (see
//! [`awscrt_divergence`]), counted, and must still diverge.
#![allow(clippy::unwrap_used)]

#[path = "support/differential.rs"]
mod differential;
#[path = "support/interop.rs"]
mod interop;

use differential::{Peer, Spec};

/// aws-c-auth hands the request path to aws-c-common's `aws_uri_init_parse`, which looks for
/// a scheme first: the first `:` of the whole path-and-query, when a `/` follows it, is taken
/// as the end of a scheme (`source/uri.c`, `s_parse_scheme`). RFC 3986 allows a raw `:` in a
/// path segment (`pchar`), and botocore and our signer keep it in the path. Then `/a:/b` is
/// refused (`AWS_ERROR_MALFORMED_INPUT_STRING`) and `/a://b/c` is signed as scheme `/a`,
/// authority `b`, path `/c` (for `/a://b` alone: an empty path, `/` once normalised), e.g.
/// `/%27://%22a/` gets the canonical path `/` where botocore has `/%2527%3A/%2522a/`.
/// Our query strings are percent-encoded, so only the path can hold a raw `:`.
///
/// Under the default rules the two readings can still normalise to one path: in
/// `/a://../c` the `..` removes `a:` as aws-c-auth removes `/a://..`, and both sign `/c`.
/// Such a request is no divergence, and is checked like any other: a soak of 200,000 random
/// cases met seven, and the generator's pinned paths put both kinds in every run.
fn awscrt_divergence(spec: &Spec) -> Option<&'static str> {
    const SCHEME: &str = "a raw ':' followed by '/' in the path is parsed as a URI scheme";
    let colon = spec.path.find(':')?;
    let after_colon = &spec.path[colon + 1..];
    if !after_colon.starts_with('/') {
        return None;
    }
    let Some(authority_and_path) = after_colon.strip_prefix("//") else {
        return Some(SCHEME); // `/a:/b`: refused
    };
    let awscrt_path = authority_and_path
        .find('/')
        .map_or("", |slash| &authority_and_path[slash..]);
    let same_once_normalised =
        spec.service != "s3" && normalised_segments(&spec.path) == normalised_segments(awscrt_path);
    (!same_once_normalised).then_some(SCHEME)
}

/// The segments of `path` after the default rules' normalisation: empty and `.` segments
/// dropped, `..` removing the one before it (RFC 3986 5.2.4).
fn normalised_segments(path: &str) -> Vec<&str> {
    let mut kept = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            segment => kept.push(segment),
        }
    }
    kept
}

#[test]
fn awscrt_signed_requests_verify_and_we_sign_identically() {
    differential::run(&Peer {
        name: "awscrt",
        script: concat!(env!("CARGO_MANIFEST_DIR"), "/tests/awscrt_sign.py"),
        seed: 0xC47_0001,
        cases: 1000,
        // aws-c-auth appends its parameters to the query as sent.
        rewrites_presigned_query: false,
        divergence: awscrt_divergence,
    });
}
