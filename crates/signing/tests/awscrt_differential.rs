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
/// Our query strings are
/// percent-encoded, so only the path can hold a raw `:`.
fn awscrt_divergence(spec: &Spec) -> Option<&'static str> {
    let colon = spec.path.find(':')?;
    spec.path[colon + 1..]
        .starts_with('/')
        .then_some("a raw ':' followed by '/' in the path is parsed as a URI scheme")
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
