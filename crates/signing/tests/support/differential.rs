//! The generator and the checks of the differential tests (`botocore_differential`,
//! `awscrt_differential`): seeded-random unsigned requests are signed by a peer in one Python
//! process (a helper script: JSON batch on stdin, JSON results on stdout), then each signed
//! request must verify, our signer must produce the peer's signature from the same unsigned
//! request, and with one signed part changed the request must be refused.
//!
//! Included with `#[path]` by those two tests only, so they do not build the layer tests'
//! server in `support/mod.rs`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use edgeward_signing::{
    format_amz_date, parse_authorization_header, parse_presigned_query, sign_parts, uri_encode,
    FixedClock, Headers, Payload, PayloadSigning, RequestView, ResolvedCredential, SigningParams,
    SigningSettings, StaticCredentials, Verifier, VerifierSettings,
};
use futures_util::FutureExt;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::interop::run_json_script;

const ACCESS_KEY: &str = "AKIDIFFERENTIAL";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYDIFFKEY";

/// Paths put in the first cases of every run whatever its seed draws: with a raw `:` that URI
/// parsers read two ways (aws-c-common takes `/a:` for a scheme and `b` in `/a://b/c` for an
/// authority), so that a peer's divergence predicate is checked against the peer on both
/// sides, those that diverge and those that only seem to; and with a byte no URI holds.
const PINNED_PATHS: &[(&str, &str)] = &[
    // `..` removes `a:` as aws-c-common drops `/a://..`: both readings sign `/c`.
    ("sts", "/a://../c"),
    ("execute-api", "/%2F://../.."),
    // `/a:/b/c` against aws-c-common's `/c`.
    ("sts", "/a://b/c"),
    // aws-c-common refuses it.
    ("iam", "/a:/b"),
    // S3's rules do not normalise: `/a://../c` against `/c`.
    ("s3", "/a://../c"),
    // Each byte no URI holds, sent raw (RFC 3986; an `http::Uri` refuses the backtick, `<`
    // and `>` in a path, so our signer canonicalises such a path itself). S3's rules are left
    // out: botocore signs an S3 path as given (`/a`b<c` raw in its canonical request), where
    // S3 reads these bytes escaped.
    ("sts", "/a`b"),
    ("sts", "/a<b"),
    ("iam", "/a>b/"),
    ("sts", "/a\"b"),
    ("sts", "/a{b}"),
    ("sts", "/a|b"),
    ("sts", "/a^b"),
    ("iam", "/a\\b"),
];

/// A signer to compare with.
pub(crate) struct Peer {
    /// Its name in messages.
    pub(crate) name: &'static str,
    /// The helper script.
    pub(crate) script: &'static str,
    pub(crate) seed: u64,
    pub(crate) cases: usize,
    /// Whether the peer rewrites the operation parameters of a presigned URL before adding its
    /// own: our signer must then sign the query the peer signed, not the generated one.
    pub(crate) rewrites_presigned_query: bool,
    /// Inputs the peer is known to treat differently from the specification: `Some(reason)`.
    /// Such a case is still signed, and must still diverge (the peer refuses it, or our
    /// verifier does), so a skip cannot outlive the divergence it names.
    pub(crate) divergence: fn(&Spec) -> Option<&'static str>,
}

/// One generated unsigned request.
pub(crate) struct Spec {
    pub(crate) method: &'static str,
    pub(crate) host: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) token: Option<String>,
    pub(crate) region: &'static str,
    pub(crate) service: &'static str,
    pub(crate) presigned: bool,
    pub(crate) unsigned: bool,
    pub(crate) expires: u64,
}

fn random_text(rng: &mut StdRng, max: usize) -> String {
    const POOL: &[&str] = &[
        "a", "b", "Z", "0", "9", "-", "_", ".", "~", " ", "!", "$", "&", "'", "(", ")", "*", "+",
        ",", ";", "=", ":", "@", "/", "?", "#", "[", "]", "%", "\"", "<", ">", "é", "ሴ", "😀", "ü",
    ];
    let len = rng.gen_range(0..=max);
    (0..len).map(|_| *POOL.choose(rng).unwrap()).collect()
}

fn generate(rng: &mut StdRng) -> Spec {
    let service = *["s3", "sts", "execute-api", "iam", "service"]
        .choose(rng)
        .unwrap();
    let s3 = service == "s3";
    let presigned = rng.gen_bool(0.35);
    let method = if presigned {
        *["GET", "PUT", "DELETE", "HEAD"].choose(rng).unwrap()
    } else {
        *["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"]
            .choose(rng)
            .unwrap()
    };
    // Path: segments percent-encoded the way an SDK puts them on the wire, sometimes with a
    // sub-delimiter left raw, dot segments and empty segments (normalised by non-S3 services).
    let mut path = String::new();
    for _ in 0..rng.gen_range(0..5) {
        path.push('/');
        match rng.gen_range(0..10) {
            0 if !s3 => path.push('.'),
            1 if !s3 => path.push_str(".."),
            2 => {}
            _ => {
                let text = random_text(rng, 8);
                for c in text.chars() {
                    if rng.gen_bool(0.2) && "!$'()*,;=:@".contains(c) {
                        path.push(c);
                    } else {
                        path.push_str(&uri_encode(&c.to_string()));
                    }
                }
            }
        }
    }
    if path.is_empty() || rng.gen_bool(0.2) {
        path.push('/');
    }
    // Query: canonical encoding on the wire (botocore signs the raw query), repeated keys,
    // empty keys and values, keys without '='.
    let query = if rng.gen_bool(0.7) {
        let keys = ["a", "b", "list", "", "Key With Space", "ሴ", "x-id"];
        let mut pieces = Vec::new();
        let mut used = Vec::new();
        for _ in 0..rng.gen_range(1..6) {
            let key = *keys.choose(rng).unwrap();
            if presigned && (used.contains(&key) || key.is_empty()) {
                continue;
            }
            used.push(key);
            let value = random_text(rng, 6);
            if !presigned && rng.gen_bool(0.15) && !key.is_empty() {
                pieces.push(uri_encode(key));
            } else {
                pieces.push(format!("{}={}", uri_encode(key), uri_encode(&value)));
            }
        }
        (!pieces.is_empty()).then(|| pieces.join("&"))
    } else {
        None
    };
    let host = if rng.gen_bool(0.3) {
        "example.amazonaws.com:8443".to_owned()
    } else {
        "example.amazonaws.com".to_owned()
    };
    let mut headers = vec![("Host".to_owned(), host.clone())];
    for _ in 0..rng.gen_range(0..5) {
        let name = *[
            "X-Amz-Meta-Note",
            "x-custom",
            "Content-Type",
            "x-amz-meta-list",
            "User-Agent",
            "X-Trace-Id",
        ]
        .choose(rng)
        .unwrap();
        let words: Vec<String> = (0..rng.gen_range(0..4))
            .map(|_| random_text(rng, 5).replace(|c: char| !c.is_ascii_graphic(), "q"))
            .collect();
        let mut value = String::new();
        if rng.gen_bool(0.3) {
            value.push_str("  ");
        }
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                value.push_str(["  ", " ", "\t", " \t "].choose(rng).unwrap());
            }
            value.push_str(w);
        }
        if rng.gen_bool(0.3) {
            value.push(' ');
        }
        headers.push((name.to_owned(), value));
    }
    let body: Vec<u8> = if !presigned && matches!(method, "PUT" | "POST" | "PATCH") {
        (0..rng.gen_range(0..300))
            .map(|_| rng.gen_range(0x20u8..0x7f))
            .collect()
    } else {
        Vec::new()
    };
    let token = rng
        .gen_bool(0.3)
        .then(|| format!("FQoGZXIvYXdzE{}//+/token==", rng.gen_range(1000..9999)));
    Spec {
        method,
        host,
        path,
        query,
        headers,
        body,
        token,
        region: ["us-east-1", "eu-west-3", "ap-southeast-2"]
            .choose(rng)
            .unwrap(),
        service,
        presigned,
        unsigned: s3 && !presigned && rng.gen_bool(0.3),
        expires: rng.gen_range(1..=604_800),
    }
}

fn split_url(url: &str) -> (String, Option<String>) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path_and_query = rest.find('/').map_or("/", |i| &rest[i..]);
    match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (path_and_query.to_owned(), None),
    }
}

/// Has the peer sign the batch; one result per request.
fn sign_with_peer(peer: &Peer, input: Vec<Value>) -> Vec<Value> {
    let count = input.len();
    let results = run_json_script(peer.script, &Value::Array(input));
    assert_eq!(results.len(), count, "{} answered", peer.script);
    results
}

/// What one run covered.
#[derive(Default)]
pub(crate) struct Summary {
    /// Cases signed by the peer and checked (the rest are skipped).
    pub(crate) ran: usize,
    pub(crate) header: usize,
    pub(crate) presigned: usize,
    pub(crate) s3: usize,
    pub(crate) tokens: usize,
    pub(crate) unsigned_payload: usize,
    /// Skipped cases per divergence.
    pub(crate) skipped: BTreeMap<&'static str, usize>,
    /// Mutated cases per kind of [`MUTATIONS`].
    pub(crate) mutations: [usize; MUTATIONS.len()],
}

/// The time every differential request is signed and verified at: 2023-11-14T22:13:20Z.
pub(crate) fn signing_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// A peer's signed request as it goes on the wire: the target's path and query, the headers,
/// and the body (the scripts write it as latin-1 text, one character per byte).
pub(crate) struct Sent {
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Sent {
    /// Reads a peer script's result.
    pub(crate) fn from_result(result: &Value) -> Self {
        let url = result["url"]
            .as_str()
            .unwrap_or_else(|| panic!("no signed request: {result}"));
        let (path, query) = split_url(url);
        let headers = result["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h[0].as_str().unwrap().to_owned(),
                    h[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let body = result["body"]
            .as_str()
            .unwrap()
            .chars()
            .map(|c| c as u32 as u8)
            .collect();
        Self {
            path,
            query,
            headers,
            body,
        }
    }

    /// The view a server verifies for it, `method` as sent.
    pub(crate) fn view<'a>(&'a self, method: &'a str) -> RequestView<'a> {
        RequestView {
            method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: Headers::List(&self.headers),
            authority: None,
        }
    }
}

/// Generates `peer.cases` requests, has the peer sign them, checks each (see the module
/// documentation) and that the cases covered what the generator claims to; panics with every
/// failing case.
pub(crate) fn run(peer: &Peer) -> Summary {
    let cases = peer.cases;
    let name = peer.name;
    let mut rng = StdRng::seed_from_u64(peer.seed);
    let now = signing_time();
    let amz_date = format_amz_date(now);
    let mut specs: Vec<Spec> = (0..cases).map(|_| generate(&mut rng)).collect();
    for (spec, &(service, path)) in specs.iter_mut().zip(PINNED_PATHS) {
        spec.service = service;
        spec.path = path.to_owned();
        spec.unsigned &= service == "s3";
    }
    let input: Vec<Value> = specs
        .iter()
        .map(|s| {
            let url = format!("http://{}{}{}", s.host, s.path, s.query.as_ref().map(|q| format!("?{q}")).unwrap_or_default());
            json!({
                "method": s.method, "url": url, "headers": s.headers, "body": String::from_utf8_lossy(&s.body),
                "access_key": ACCESS_KEY, "secret_key": SECRET, "token": s.token, "region": s.region,
                "service": s.service, "amz_date": amz_date, "kind": if s.presigned { "query" } else { "header" },
                "s3": s.service == "s3", "unsigned": s.unsigned, "expires": s.expires,
            })
        })
        .collect();
    let results = sign_with_peer(peer, input);

    let mut failures = Vec::new();
    let mut summary = Summary::default();
    for (index, (spec, result)) in specs.iter().zip(&results).enumerate() {
        let divergence = (peer.divergence)(spec);
        if let Some(error) = result.get("error") {
            match divergence {
                Some(reason) => *summary.skipped.entry(reason).or_default() += 1,
                None => failures.push(format!("case {index}: {name} could not sign: {error}")),
            }
            continue;
        }
        let credential = match &spec.token {
            Some(token) => ResolvedCredential::temporary(
                SECRET,
                "differential",
                token,
                now + Duration::from_secs(3600),
            ),
            None => ResolvedCredential::new(SECRET, "differential"),
        };
        let verifier = Verifier::new(
            StaticCredentials::new().with(ACCESS_KEY, credential),
            VerifierSettings::default(),
        )
        .with_clock(Arc::new(FixedClock(now)));
        let peer_signature = result["signature"].as_str().unwrap().to_owned();

        // 1. Our verifier accepts the peer's signed request as it would arrive.
        let sent = Sent::from_result(result);
        let Sent {
            path,
            query,
            headers,
            body,
        } = &sent;
        let view = sent.view(spec.method);
        let verified = verifier
            .verify(&view, Payload::Bytes(body))
            .now_or_never()
            .unwrap();
        if let Some(reason) = divergence {
            match verified {
                Err(e) if e.aws_error_code() == "SignatureDoesNotMatch" => {
                    *summary.skipped.entry(reason).or_default() += 1;
                }
                other => failures.push(format!(
                    "case {index}: skipped as \"{reason}\", but {name} signed it and our verifier \
                     answered {other:?}, not SignatureDoesNotMatch: narrow or drop the skip\n  url {}",
                    result["url"]
                )),
            }
            continue;
        }
        match verified {
            Ok(verified) => assert_eq!(verified.signature(), peer_signature),
            Err(e) => {
                failures.push(format!(
                "case {index}: verify failed: {e}\n  url {}\n  {name} canonical:\n{}\n  ours:\n{}",
                result["url"],
                result["canonical_request"].as_str().unwrap_or("(not reported)"),
                e.mismatch_details().map(|d| d.canonical_request.clone()).unwrap_or_default()
            ))
            }
        }
        summary.ran += 1;
        summary.header += usize::from(!spec.presigned);
        summary.presigned += usize::from(spec.presigned);
        summary.s3 += usize::from(spec.service == "s3");
        summary.tokens += usize::from(spec.token.is_some());
        summary.unsigned_payload += usize::from(spec.unsigned);

        // 2b. The same request with one signed part changed is refused.
        let mutation = mutate(&mut rng, spec.method, path, query.as_deref(), headers);
        let view = RequestView {
            method: mutation.method,
            path: &mutation.path,
            query: mutation.query.as_deref(),
            headers: Headers::List(&mutation.headers),
            authority: None,
        };
        summary.mutations[mutation.kind] += 1;
        match verifier.verify(&view, Payload::Bytes(body)).now_or_never().unwrap() {
            Err(e) if e.aws_error_code() == "SignatureDoesNotMatch" => {}
            other => failures.push(format!(
                "case {index}: after changing the {}, expected SignatureDoesNotMatch, got {other:?}\n  url {}",
                MUTATIONS[mutation.kind], result["url"]
            )),
        }

        // 2. Our signer, from the same unsigned request, produces the same signature.
        let creds = Credentials::from_keys(ACCESS_KEY, SECRET, spec.token.clone());
        let params = SigningParams {
            credentials: &creds,
            region: spec.region,
            service: spec.service,
            time: now,
        };
        let mut settings = if spec.service == "s3" {
            SigningSettings::s3()
        } else {
            SigningSettings::default()
        };
        let unsigned_query;
        let sign_query = if spec.presigned {
            settings = settings.presigned(Duration::from_secs(spec.expires));
            if peer.rewrites_presigned_query {
                unsigned_query = query.as_deref().map(|q| {
                    q.split('&')
                        .filter(|p| !p.starts_with("X-Amz-"))
                        .collect::<Vec<_>>()
                        .join("&")
                });
                unsigned_query.as_deref().filter(|q| !q.is_empty())
            } else {
                spec.query.as_deref()
            }
        } else {
            if spec.unsigned {
                settings.payload = PayloadSigning::Unsigned;
            }
            spec.query.as_deref()
        };
        let header_refs: Vec<(&str, &str)> = spec
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        match sign_parts(spec.method, &spec.path, sign_query, &header_refs, &spec.body, &params, &settings) {
            Ok(signed) if signed.signature == peer_signature => {}
            Ok(signed) => failures.push(format!(
                "case {index}: our signature {} != {name} {peer_signature}\n  url {}\n  {name} canonical:\n{}",
                signed.signature,
                result["url"],
                result["canonical_request"].as_str().unwrap_or("(not reported)")
            )),
            Err(e) => failures.push(format!("case {index}: our signer failed: {e}")),
        }
    }
    eprintln!("{name}: {summary}");
    assert!(
        failures.is_empty(),
        "{} checks failed in {cases} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Skips stay the exception, and the cases that ran covered what the generator claims to.
    assert!(
        summary.ran >= cases * 9 / 10,
        "only {} of {cases} cases ran; skipped: {:?}",
        summary.ran,
        summary.skipped
    );
    assert!(
        summary.presigned > cases / 5 && summary.s3 > cases / 8 && summary.tokens > cases / 8,
        "{summary}"
    );
    assert!(
        summary.mutations.iter().all(|&n| n > cases / 10),
        "mutations per kind: {:?}",
        summary.mutations
    );
    summary
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cases ran ({} header, {} presigned; {} S3; {} with a session token; {} \
             UNSIGNED-PAYLOAD); skipped {:?}; mutations",
            self.ran,
            self.header,
            self.presigned,
            self.s3,
            self.tokens,
            self.unsigned_payload,
            self.skipped
        )?;
        for (kind, n) in MUTATIONS.iter().zip(self.mutations) {
            write!(f, " {kind}: {n}")?;
        }
        Ok(())
    }
}

pub(crate) const MUTATIONS: [&str; 5] = ["method", "path", "query", "signed header", "signature"];

/// A peer-signed request with one signed part changed.
struct Mutation {
    kind: usize,
    method: &'static str,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
}

fn mutate(
    rng: &mut StdRng,
    method: &'static str,
    path: &str,
    query: Option<&str>,
    headers: &[(String, String)],
) -> Mutation {
    let mut mutation = Mutation {
        kind: rng.gen_range(0..MUTATIONS.len()),
        method,
        path: path.to_owned(),
        query: query.map(str::to_owned),
        headers: headers.to_vec(),
    };
    let authorization = headers
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case("authorization"));
    match mutation.kind {
        0 => mutation.method = if method == "PUT" { "POST" } else { "PUT" },
        // Appending a byte changes the canonical path under either rule set.
        1 => mutation.path.push('x'),
        2 => {
            let extra = "edgeward-mutation=1";
            mutation.query = Some(match query {
                Some(q) if !q.is_empty() => format!("{q}&{extra}"),
                _ => extra.to_owned(),
            });
        }
        3 => {
            // A signed header whose change only the signature can catch (the date, payload
            // hash and token headers fail their own checks first).
            let signed: Vec<String> = match authorization {
                Some(i) => parse_authorization_header(&headers[i].1)
                    .unwrap()
                    .signed_headers
                    .split(';')
                    .map(str::to_owned)
                    .collect(),
                None => parse_presigned_query(query.unwrap())
                    .unwrap()
                    .signed_headers
                    .split(';')
                    .map(str::to_owned)
                    .collect(),
            };
            let candidates: Vec<&String> = signed
                .iter()
                .filter(|n| {
                    !matches!(
                        n.as_str(),
                        "x-amz-date" | "x-amz-content-sha256" | "x-amz-security-token"
                    )
                })
                .collect();
            let name = candidates.choose(rng).unwrap();
            let header = mutation
                .headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .unwrap();
            header.1.push('x');
        }
        _ => {
            // One hex digit of the signature, wherever it is.
            let flip = |s: &mut String, at: usize| {
                let digit = s.as_bytes()[at];
                let replacement = if digit == b'0' { "1" } else { "0" };
                s.replace_range(at..=at, replacement);
            };
            match authorization {
                Some(i) => {
                    let value = &mut mutation.headers[i].1;
                    let at = value.find("Signature=").unwrap() + "Signature=".len() + 7;
                    flip(value, at);
                }
                None => {
                    let q = mutation.query.as_mut().unwrap();
                    let at = q.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len() + 7;
                    flip(q, at);
                }
            }
        }
    }
    mutation
}
