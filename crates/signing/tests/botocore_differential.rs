//! Differential tests against botocore (the venv's Python from `EDGEWARD_PYTHON`): many
//! seeded-random requests (methods, reserved and UTF-8 paths, repeated and empty query keys,
//! odd header whitespace, bodies, session tokens; header and presigned; S3 and other services)
//! are signed by botocore in one Python process. Our verifier must accept every one, and our
//! signer must produce the byte-identical signature from the same unsigned request. Then one
//! signed part of each botocore-signed request (method, path, query, a signed header, the
//! signature) is changed, and our verifier must refuse it with `SignatureDoesNotMatch`.
//! The generator and the checks are in `support/differential.rs`, shared with the awscrt test.
#![allow(clippy::unwrap_used)]

#[path = "support/differential.rs"]
mod differential;
#[path = "support/interop.rs"]
mod interop;

use differential::Peer;

#[test]
fn botocore_signed_requests_verify_and_we_sign_identically() {
    let summary = differential::run(&Peer {
        name: "botocore",
        script: concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_sign.py"),
        seed: 0x5147_0004,
        cases: 400,
        // botocore rewrites the operation parameters (parse_qs + re-encode) before adding its
        // own; sign what it signed.
        rewrites_presigned_query: true,
        divergence: |_| None,
    });
    assert_eq!(summary.ran, 400, "botocore signs every generated input");
}
