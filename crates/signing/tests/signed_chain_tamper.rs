//! A `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` chain signed by aws-sigv4 (through
//! `ChunkSigner`) with tiny chunks, empty and boundary bodies, and a checksum trailer: it
//! verifies, and every single-byte change (data, chunk signature, trailer value, trailer
//! signature, framing) and every truncation is refused unless what would reach the service
//! is unchanged.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::SystemTime;

use edgeward_signing::{
    FixedClock, Headers, Payload, RequestView, ResolvedCredential, StaticCredentials, Verifier,
    VerifierSettings,
};
use support::{independent_checksum, sign_chunked_head, AK, SK};

type Decoded = (Vec<u8>, Vec<(String, String)>);

/// The data and trailers the verified chain of `body` releases.
fn decode(
    verifier: &Verifier<StaticCredentials>,
    request: &http::Request<Vec<u8>>,
    body: &[u8],
) -> Result<Decoded, edgeward_signing::Error> {
    let verified = futures_util::FutureExt::now_or_never(
        verifier.verify(&RequestView::from_http(request), Payload::Unavailable),
    )
    .unwrap()?;
    let mut chain = verified
        .streamed_body_verifier(&Headers::Map(request.headers()))?
        .unwrap();
    let mut out = Vec::new();
    chain.push(body, &mut out)?;
    chain.finish()?;
    Ok((out, chain.trailers().to_vec()))
}

#[test]
fn signed_trailer_chains_verify_and_every_change_is_refused() {
    let now = SystemTime::now();
    let verifier = Verifier::new(
        StaticCredentials::new().with(AK, ResolvedCredential::new(SK, "alice")),
        VerifierSettings::default(),
    )
    .with_clock(Arc::new(FixedClock(now)));
    let mut failures = Vec::new();
    for trailer in [
        "x-amz-checksum-crc32",
        "x-amz-checksum-sha1",
        "x-amz-checksum-sha256",
    ] {
        for chunk_size in [1usize, 3] {
            for len in [0usize, 1, 3, 4, 6] {
                let data: Vec<u8> = (0..len).map(|i| (i * 37 + 5) as u8).collect();
                let mut request = http::Request::builder()
                    .method("PUT")
                    .uri("/bucket/key")
                    .header("host", "s3.amazonaws.com")
                    .header("content-encoding", "aws-chunked")
                    .header("x-amz-decoded-content-length", len.to_string())
                    .header("x-amz-trailer", trailer)
                    .body(Vec::new())
                    .unwrap();
                let mut signer =
                    sign_chunked_head(&mut request, true, now).with_decoded_length(len as u64);
                let mut body = Vec::new();
                for piece in data.chunks(chunk_size) {
                    body.extend(signer.chunk(piece).unwrap());
                }
                let value = independent_checksum(trailer, &data).unwrap();
                body.extend(signer.finish(&[(trailer, &value)]).unwrap());
                let name = format!("{trailer} chunk {chunk_size} len {len}");
                let expected = (data.clone(), vec![(trailer.to_owned(), value.clone())]);
                match decode(&verifier, &request, &body) {
                    Ok(got) if got == expected => {}
                    other => failures.push(format!("{name}: {other:?}")),
                }
                for at in 0..body.len() {
                    let mut changed = body.clone();
                    changed[at] ^= 1;
                    if let Ok(got) = decode(&verifier, &request, &changed) {
                        if got != expected {
                            failures.push(format!(
                                "{name}: byte {at} ({:?}) changed accepted: {got:?}",
                                body[at] as char
                            ));
                        }
                    }
                }
                // Every truncation; without the closing CRLF alone it is the same body, as
                // documented on `ChunkChainVerifier`.
                for end in 0..body.len() {
                    if let Ok(got) = decode(&verifier, &request, &body[..end]) {
                        if end + 2 != body.len() || got != expected {
                            failures.push(format!("{name}: truncated to {end} accepted: {got:?}"));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
