//! `aws-chunked` bodies with each flexible checksum as botocore encodes them
//! (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `chunk_peers.py`), at chunk boundaries and with tiny
//! chunks, decode to the data whole or in pieces; every single-byte change and every
//! truncation is refused unless what the service would read is unchanged.
#![allow(clippy::unwrap_used)]

#[path = "support/interop.rs"]
mod interop;

use edgeward_signing::{ChunkChainVerifier, Error};
use serde_json::json;

/// One body botocore encoded.
struct Case {
    algorithm: String,
    trailer: String,
    chunk_size: u64,
    data: Vec<u8>,
    body: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/chunk_peers.py");
    let sizes = [0, 1, 2, 6, 7, 8, 14, 8191, 8192, 8193, 16384, 65536, 65537];
    let spec = json!({"sizes": sizes, "chunk_sizes": [1, 2, 7, 8192, 65536]});
    interop::run_json_script(script, &spec)
        .into_iter()
        .map(|c| Case {
            algorithm: c["algorithm"].as_str().unwrap().to_owned(),
            trailer: c["trailer"].as_str().unwrap().to_owned(),
            chunk_size: c["chunk_size"].as_u64().unwrap(),
            data: hex::decode(c["data"].as_str().unwrap()).unwrap(),
            body: hex::decode(c["body"].as_str().unwrap()).unwrap(),
        })
        .collect()
}

type Decoded = (Vec<u8>, Vec<(String, String)>);

/// The data and trailers `body` decodes to, pushed in pieces of `piece` bytes.
fn decode(case: &Case, body: &[u8], piece: usize) -> Result<Decoded, Error> {
    let mut chain = ChunkChainVerifier::unsigned()
        .with_declared_trailer(&case.trailer)?
        .with_decoded_length(case.data.len() as u64);
    let mut out = Vec::new();
    for part in body.chunks(piece.max(1)) {
        chain.push(part, &mut out)?;
    }
    chain.finish()?;
    Ok((out, chain.trailers().to_vec()))
}

/// The checksum trailer's value in `body`, as sent.
fn trailer_value(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let at = text.rfind("x-amz-checksum-").unwrap();
    let line = &text[at..];
    let line = &line[..line.find("\r\n").unwrap()];
    line.split_once(':').unwrap().1.to_owned()
}

#[test]
fn botocore_aws_chunked_bodies_decode_and_every_change_is_refused() {
    let cases = cases();
    assert_eq!(cases.len(), 5 * 5 * 13);
    let mut failures = Vec::new();
    for case in &cases {
        let name = format!(
            "{} chunk {} size {}",
            case.algorithm,
            case.chunk_size,
            case.data.len()
        );
        for piece in [case.body.len(), 1, 5, 4096] {
            if piece == 1 && case.body.len() > 20_000 {
                continue;
            }
            match decode(case, &case.body, piece) {
                Ok((out, trailers))
                    if out == case.data && trailers.len() == 1 && trailers[0].0 == case.trailer => {
                }
                other => failures.push(format!(
                    "{name} in pieces of {piece}: {:?}",
                    other.map(|(o, t)| (o.len(), t))
                )),
            }
        }
        // The trailer name in another case: the same field.
        let mut shouted = case.body.clone();
        let at = shouted
            .windows(case.trailer.len())
            .position(|w| w == case.trailer.as_bytes())
            .unwrap();
        shouted[at..at + case.trailer.len()].make_ascii_uppercase();
        if let Err(e) = decode(case, &shouted, shouted.len()) {
            failures.push(format!("{name} with the trailer name upper-case: {e:?}"));
        }
        // Every byte (for long bodies, the framing at both ends and a sample of the data)
        // changed.
        if case.chunk_size <= 7 && case.data.len() > 8193 {
            continue;
        }
        let positions: Vec<usize> = if case.body.len() <= 400 {
            (0..case.body.len()).collect()
        } else {
            let tail = case.body.len() - 120;
            (0..40)
                .chain((40..tail).step_by(997))
                .chain(tail..case.body.len())
                .collect()
        };
        let expected_trailers = [(case.trailer.clone(), trailer_value(&case.body))];
        for at in positions {
            let mut changed = case.body.clone();
            changed[at] ^= 1;
            // Accepted only if what reaches the service is what was sent.
            if let Ok((out, trailers)) = decode(case, &changed, changed.len()) {
                if out == case.data && trailers == expected_trailers {
                    continue;
                }
                failures.push(format!(
                    "{name}: byte {at} changed was accepted: {} bytes, {trailers:?}",
                    out.len()
                ));
            }
        }
        // Every truncation (short bodies), but for the closing CRLF alone: accepted, as
        // documented on `ChunkChainVerifier`.
        if case.body.len() <= 400 {
            for end in 0..case.body.len() - 1 {
                if end != case.body.len() - 2 && decode(case, &case.body[..end], end).is_ok() {
                    failures.push(format!("{name}: truncated to {end} bytes was accepted"));
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
