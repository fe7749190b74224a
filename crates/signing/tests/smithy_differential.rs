//! Differential tests against @smithy/signature-v4, the SigV4 signer of the AWS SDK for
//! JavaScript v3 (Node.js, with the packages `cargo xtask setup` installs into
//! `EDGEWARD_JS_PEERS`): the requests of the botocore test's generator
//! (`support/differential.rs`) are signed by `smithy_sign.cjs` in one Node.js process (header
//! and presigned, with and without a session token, S3 or default path rules, the payload hash
//! or `UNSIGNED-PAYLOAD`). Our verifier must accept every one, and our signer must produce the
//! byte-identical signature from the same unsigned request; with one signed part changed, our
//! verifier must refuse it with `SignatureDoesNotMatch`. A third implementation, written apart
//! from botocore and aws-c-auth, and the signer of the SDK browsers and Lambda functions use.
#![allow(clippy::unwrap_used)]

#[path = "support/differential.rs"]
mod differential;
#[path = "support/interop.rs"]
mod interop;

use differential::Peer;

#[test]
fn smithy_signed_requests_verify_and_we_sign_identically() {
    let summary = differential::run(&Peer {
        name: "@smithy/signature-v4",
        script: concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smithy_sign.cjs"),
        seed: 0x5_1717_0001,
        cases: 1000,
        // It writes the query back from its map with its parameters added; the operation's
        // keep their canonical encoding, so our signer signs the generated query.
        rewrites_presigned_query: false,
        divergence: |_| None,
    });
    assert_eq!(
        summary.ran, 1000,
        "@smithy/signature-v4 signs every generated input"
    );
}
