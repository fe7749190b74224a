//! The S3 API reference's SigV4 examples (`tests/sigv4/s3-docs-examples.json`, provenance in
//! `tests/sigv4/README.md`): each request verifies (canonical request and string-to-sign
//! reproduced byte for byte), and the streaming chunk-signature chains, with and without a
//! trailer, verify through [`ChunkChainVerifier`] and are reproduced by [`ChunkSigner`].
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use aws_credential_types::Credentials;
use edgeward_signing::{
    parse_amz_date, ChainLink, ChunkChainVerifier, ChunkSigner, Error, FixedClock, Headers,
    PathMode, Payload, PayloadKind, RequestView, ResolvedCredential, SessionTokenPlacement,
    SignatureLocation, StaticCredentials, VerifiedRequest, Verifier, VerifierSettings,
};
use futures_util::FutureExt;
use serde_json::Value;

fn examples() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sigv4/s3-docs-examples.json"
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn verifier(doc: &Value) -> Verifier<StaticCredentials> {
    let now = parse_amz_date(doc["timestamp"].as_str().unwrap()).unwrap();
    let lookup = StaticCredentials::new().with(
        doc["access_key_id"].as_str().unwrap(),
        ResolvedCredential::new(doc["secret_access_key"].as_str().unwrap(), "s3-docs"),
    );
    Verifier::new(lookup, VerifierSettings::default()).with_clock(Arc::new(FixedClock(now)))
}

/// A request as it would arrive, rebuilt from an example's canonical request plus the
/// example's signature (in the Authorization header, or X-Amz-Signature when presigned).
struct Arrived {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
}

fn arrive(doc: &Value, example: &Value) -> Arrived {
    let canonical = example["canonical_request"].as_str().unwrap();
    let mut lines = canonical.split('\n');
    let method = lines.next().unwrap().to_owned();
    let path = lines.next().unwrap().to_owned();
    let query = lines.next().unwrap().to_owned();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_owned(), value.to_owned()));
    }
    let signed_headers = lines.next().unwrap();
    let signature = example["expected"].as_str().unwrap();
    let presigned = query.contains("X-Amz-Signature") || query.contains("X-Amz-Algorithm");
    let query = if presigned {
        Some(format!("{query}&X-Amz-Signature={signature}"))
    } else {
        headers.push((
            "Authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={signed_headers}, Signature={signature}",
                doc["access_key_id"].as_str().unwrap(),
                example["string_to_sign"].as_str().unwrap().split('\n').nth(2).unwrap(),
            ),
        ));
        (!query.is_empty()).then_some(query)
    };
    Arrived {
        method,
        path,
        query,
        headers,
    }
}

impl Arrived {
    fn view(&self) -> RequestView<'_> {
        RequestView {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: Headers::List(&self.headers),
            authority: None,
        }
    }
}

#[test]
fn every_s3_example_verifies() {
    let doc = examples();
    let verifier = verifier(&doc);
    let requests = doc["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 7);
    for example in requests {
        let name = example["name"].as_str().unwrap();
        let arrived = arrive(&doc, example);
        let explained = verifier
            .explain(
                &arrived.view(),
                Payload::Unavailable,
                PathMode::S3,
                SessionTokenPlacement::Signed,
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            explained.canonical_request,
            example["canonical_request"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            explained.string_to_sign,
            example["string_to_sign"].as_str().unwrap(),
            "{name}"
        );
        let verified = verifier
            .verify(&arrived.view(), Payload::Unavailable)
            .now_or_never()
            .unwrap()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            verified.signature(),
            example["expected"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(verified.path_mode(), PathMode::S3);
        if name.starts_with("presigned") {
            assert_eq!(verified.location(), SignatureLocation::Query);
            assert_eq!(*verified.payload(), PayloadKind::Unsigned);
        }
    }
}

fn chain_body(chain: &Value, tamper_chunk: Option<usize>) -> (Vec<u8>, usize) {
    let mut body = Vec::new();
    let mut decoded = 0;
    for (index, step) in chain["steps"].as_array().unwrap().iter().enumerate() {
        if let Some(line) = step["trailer"].as_str() {
            body.extend_from_slice(line.trim_end().as_bytes());
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(
                format!(
                    "x-amz-trailer-signature:{}\r\n",
                    step["expected"].as_str().unwrap()
                )
                .as_bytes(),
            );
            continue;
        }
        let len = step["chunk_len"].as_u64().unwrap() as usize;
        let byte = step["chunk_byte"].as_str().unwrap().as_bytes()[0];
        let mut data = vec![byte; len];
        if tamper_chunk == Some(index) {
            data[len / 2] ^= 1;
        }
        body.extend_from_slice(
            format!(
                "{len:x};chunk-signature={}\r\n",
                step["expected"].as_str().unwrap()
            )
            .as_bytes(),
        );
        body.extend_from_slice(&data);
        if len > 0 {
            body.extend_from_slice(b"\r\n");
        }
        decoded += len;
    }
    body.extend_from_slice(b"\r\n");
    (body, decoded)
}

/// Each of the examples' chunk chains, the name of its seed request, and that request
/// verified (its chains continue from its signature).
fn verified_chains(doc: &Value) -> Vec<(&Value, &'static str, VerifiedRequest)> {
    let verifier = verifier(doc);
    let requests = doc["requests"].as_array().unwrap();
    doc["chunk_chains"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["streaming seed", "streaming-trailer seed"])
        .map(|(chain, seed_name)| {
            let seed = requests
                .iter()
                .find(|r| r["name"].as_str().unwrap().starts_with(seed_name))
                .unwrap();
            assert_eq!(seed["expected"], chain["seed_signature"]);
            let verified = verifier
                .verify(&arrive(doc, seed).view(), Payload::Unavailable)
                .now_or_never()
                .unwrap()
                .unwrap();
            (chain, seed_name, verified)
        })
        .collect()
}

/// A chain verifier for `seed_name`'s body: the trailer seed's request signs
/// `x-amz-trailer: x-amz-checksum-crc32c`, and the example's trailer value (sOO8/Q==) is the
/// CRC32C of its 66560 bytes, so it must check out.
fn chain_verifier(verified: &VerifiedRequest, seed_name: &str) -> ChunkChainVerifier {
    let chunks = verified.chunk_verifier().unwrap();
    if seed_name == "streaming-trailer seed" {
        return chunks
            .with_declared_trailer("x-amz-checksum-crc32c")
            .unwrap();
    }
    chunks
}

#[test]
fn chunk_chains_verify_and_fail_on_the_first_bad_chunk() {
    let doc = examples();
    for (chain, seed_name, verified) in verified_chains(&doc) {
        assert!(matches!(
            verified.payload(),
            PayloadKind::StreamingSigned { .. }
        ));

        let (body, decoded_len) = chain_body(chain, None);
        if seed_name == "streaming seed" {
            // The example's Content-Length is the encoded length.
            assert_eq!(body.len(), 66824);
        }
        // The data a fresh chain verifier releases from `body`, fed in awkward pieces to
        // exercise the incremental parser.
        let decode = |body: &[u8]| {
            let mut chunks =
                chain_verifier(&verified, seed_name).with_decoded_length(decoded_len as u64);
            let mut out = Vec::new();
            for piece in body.chunks(977) {
                chunks.push(piece, &mut out).unwrap();
            }
            chunks.finish().unwrap();
            out
        };
        let out = decode(&body);
        assert_eq!(out.len(), decoded_len);
        assert!(out.iter().all(|&b| b == b'a'));

        // Without the closing CRLF alone (a client that ends the body at the final chunk or
        // the trailer's signature), the same data, as documented on `ChunkChainVerifier`.
        assert!(body.ends_with(b"\r\n\r\n"), "{seed_name}");
        assert_eq!(decode(&body[..body.len() - 2]), out, "{seed_name}");

        // A flipped byte in the second chunk fails at chunk 1, after chunk 0 was released.
        let (tampered, _) = chain_body(chain, Some(1));
        let mut chunks = verified.chunk_verifier().unwrap();
        let mut out = Vec::new();
        let error = chunks.push(&tampered, &mut out).unwrap_err();
        assert!(
            matches!(
                error,
                Error::ChunkSignatureMismatch {
                    link: ChainLink::Chunk(1),
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(error.aws_error_code(), "SignatureDoesNotMatch");
        assert_eq!(out.len(), 65536);
        assert!(chunks.finish().is_err());

        // A truncated body never finishes.
        let mut chunks = verified.chunk_verifier().unwrap();
        chunks
            .push(&body[..body.len() - 100], &mut Vec::new())
            .unwrap();
        assert!(matches!(chunks.finish(), Err(Error::IncompleteBody { .. })));
    }
}

/// A link whose signature is wrong is refused with what the verifier computed for it: the
/// string-to-sign the example gives for that step (the trailer's with its canonical line),
/// the signature it carried and the access key, as a client comparing its own needs them.
#[test]
fn a_broken_link_reports_the_string_to_sign_of_the_example() {
    let doc = examples();
    for (chain, seed_name, verified) in verified_chains(&doc) {
        let (body, _) = chain_body(chain, None);
        let body = String::from_utf8(body).unwrap();
        for (index, step) in chain["steps"].as_array().unwrap().iter().enumerate() {
            let signature = step["expected"].as_str().unwrap();
            // The last hex digit changed: the link's own bytes, and all before it, are intact.
            let last = if signature.ends_with('0') { "1" } else { "0" };
            let wrong = format!("{}{last}", &signature[..63]);
            assert_eq!(body.matches(signature).count(), 1);
            let tampered = body.replace(signature, &wrong);
            let mut chunks = chain_verifier(&verified, seed_name);
            let error = chunks
                .push(tampered.as_bytes(), &mut Vec::new())
                .and_then(|()| chunks.finish())
                .unwrap_err();
            // The documentation's trailer step is the one carrying a trailer line.
            let link = match step.get("trailer") {
                Some(_) => ChainLink::Trailer,
                None => ChainLink::Chunk(index as u64),
            };
            assert!(
                matches!(&error, Error::ChunkSignatureMismatch { link: l, .. } if *l == link),
                "{seed_name} step {index}: {error}"
            );
            assert_eq!(
                error.to_string(),
                format!("{link} signature does not match")
            );
            assert_eq!(error.aws_error_code(), "SignatureDoesNotMatch");
            let details = error.mismatch_details().unwrap();
            assert_eq!(
                details.string_to_sign,
                step["string_to_sign"].as_str().unwrap(),
                "{seed_name} step {index}"
            );
            assert_eq!(details.signature_provided, wrong);
            assert_eq!(
                details.access_key_id,
                doc["access_key_id"].as_str().unwrap()
            );
            assert_eq!(
                details.canonical_request,
                step["trailer"].as_str().unwrap_or(""),
                "{seed_name} step {index}"
            );
        }
    }
}

#[test]
fn chunk_signer_reproduces_the_chains() {
    let doc = examples();
    let creds = Credentials::from_keys(
        doc["access_key_id"].as_str().unwrap(),
        doc["secret_access_key"].as_str().unwrap(),
        None,
    );
    let time = parse_amz_date(doc["timestamp"].as_str().unwrap()).unwrap();
    for chain in doc["chunk_chains"].as_array().unwrap() {
        let mut signer = ChunkSigner::new(
            &creds,
            "us-east-1",
            "s3",
            time,
            chain["seed_signature"].as_str().unwrap(),
        )
        .unwrap();
        let mut encoded = Vec::new();
        let steps = chain["steps"].as_array().unwrap();
        for step in steps
            .iter()
            .filter(|s| s["chunk_len"].as_u64().is_some_and(|l| l > 0))
        {
            let data = vec![b'a'; step["chunk_len"].as_u64().unwrap() as usize];
            encoded.extend(signer.chunk(&data).unwrap());
        }
        let trailers: Vec<(&str, &str)> = steps
            .iter()
            .filter_map(|s| s["trailer"].as_str())
            .map(|t| t.trim_end().split_once(':').unwrap())
            .collect();
        encoded.extend(signer.finish(&trailers).unwrap());
        let text = String::from_utf8_lossy(&encoded);
        for step in steps {
            assert!(
                text.contains(step["expected"].as_str().unwrap()),
                "missing {}",
                step["expected"]
            );
        }
        assert_eq!(encoded, chain_body(chain, None).0);
    }
}
