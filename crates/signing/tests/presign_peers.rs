//! Presigned URLs from botocore's `generate_presigned_url` and awscrt in less common
//! configurations (signed extra headers, session tokens signed and appended, virtual-hosted
//! and path style, awkward keys, STS and EKS-style tokens, 7-day expiry) verify, and each
//! tampering is refused; our signer, given what the peer signed, makes the peer's signature.
//! `presign_peers.py` presigns.
#![allow(clippy::unwrap_used)]

#[path = "support/interop.rs"]
mod interop;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use edgeward_signing::{
    parse_amz_date, Error, FixedClock, Payload, RequestView, ResolvedCredential, StaticCredentials,
    Verifier, VerifierSettings,
};
use serde_json::{json, Value};

const AK: &str = "ASIAPEERS";
const SK: &str = "peer/secret+key";
const TOKEN: &str = "tok/en+==";

/// One presigned URL, as a client sends it.
struct Case {
    name: String,
    method: String,
    host: String,
    target: String,
    headers: Vec<(String, String)>,
}

fn cases() -> Vec<Case> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/presign_peers.py");
    interop::run_json_script(
        script,
        &json!({"access_key": AK, "secret_key": SK, "token": TOKEN}),
    )
    .into_iter()
    .map(|c: Value| {
        let url = c["url"].as_str().unwrap();
        let rest = url.split_once("://").unwrap().1;
        let slash = rest.find('/').unwrap();
        Case {
            name: c["name"].as_str().unwrap().to_owned(),
            method: c["method"].as_str().unwrap().to_owned(),
            host: rest[..slash].to_owned(),
            target: rest[slash..].to_owned(),
            headers: c["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h[0].as_str().unwrap().to_owned(),
                        h[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect(),
        }
    })
    .collect()
}

fn query_param<'a>(target: &'a str, name: &str) -> &'a str {
    let query = target.split_once('?').unwrap().1;
    query
        .split('&')
        .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
        .unwrap()
}

fn verify(
    case: &Case,
    target: &str,
    headers: &[(String, String)],
    at: SystemTime,
) -> Result<(), Error> {
    let temporary = target.contains("X-Amz-Security-Token=");
    let credential = if temporary {
        ResolvedCredential::temporary(SK, "peer", TOKEN, at + Duration::from_secs(30 * 86_400))
    } else {
        ResolvedCredential::new(SK, "peer")
    };
    let verifier = Verifier::new(
        StaticCredentials::new().with(AK, credential),
        VerifierSettings::default(),
    )
    .with_clock(Arc::new(FixedClock(at)));
    let mut builder = http::Request::builder()
        .method(case.method.as_str())
        .uri(target)
        .header("host", &case.host);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request = builder.body(()).unwrap();
    futures_util::FutureExt::now_or_never(
        verifier.verify(&RequestView::from_http(&request), Payload::Bytes(b"")),
    )
    .unwrap()
    .map(|_| ())
}

#[test]
fn peer_presigned_urls_verify_and_tampering_is_refused() {
    let cases = cases();
    assert!(cases.len() > 60);
    let mut failures = Vec::new();
    for case in &cases {
        let date = parse_amz_date(query_param(&case.target, "X-Amz-Date")).unwrap();
        let expires: u64 = query_param(&case.target, "X-Amz-Expires").parse().unwrap();
        let soon = date + Duration::from_secs(1);
        let mut check =
            |what: &str, outcome: Result<(), Error>, accept: bool| match (&outcome, accept) {
                (Ok(()), true) | (Err(_), false) => {}
                _ => failures.push(format!("{} [{what}]: {outcome:?}", case.name)),
            };
        check(
            "as presigned",
            verify(case, &case.target, &case.headers, soon),
            true,
        );
        let last_second = date + Duration::from_secs(expires - 1);
        check(
            "last second",
            verify(case, &case.target, &case.headers, last_second),
            true,
        );
        let expired = date + Duration::from_secs(expires + 1);
        check(
            "expired",
            verify(case, &case.target, &case.headers, expired),
            false,
        );
        // `%2f` for `%2F` in the credential: the same parameter once decoded.
        let lower = case.target.replace(
            &format!("X-Amz-Credential={AK}%2F"),
            &format!("X-Amz-Credential={AK}%2f"),
        );
        check(
            "lower-case escape",
            verify(case, &lower, &case.headers, soon),
            true,
        );
        // One byte of the path changed.
        let (path, query) = case.target.split_once('?').unwrap();
        let changed_path = format!("{path}X?{query}");
        check(
            "path",
            verify(case, &changed_path, &case.headers, soon),
            false,
        );
        // A signed header changed, or left out.
        for (i, (name, _)) in case.headers.iter().enumerate() {
            let mut changed = case.headers.clone();
            changed[i].1.push('x');
            check(
                &format!("changed {name}"),
                verify(case, &case.target, &changed, soon),
                false,
            );
            let mut dropped = case.headers.clone();
            dropped.remove(i);
            check(
                &format!("dropped {name}"),
                verify(case, &case.target, &dropped, soon),
                false,
            );
        }
        // An S3 parameter added as an unsigned header.
        if case.target.contains("%2Fs3%2F") {
            let mut added = case.headers.clone();
            added.push(("x-amz-grant-full-control".into(), "id=attacker".into()));
            check(
                "added x-amz header",
                verify(case, &case.target, &added, soon),
                false,
            );
        }
        // Another session token.
        if case.target.contains("X-Amz-Security-Token=") {
            let other = case
                .target
                .replace("X-Amz-Security-Token=tok", "X-Amz-Security-Token=toc");
            check("token", verify(case, &other, &case.headers, soon), false);
        }
        // A query parameter added.
        let added = format!("{}&x-amz-acl=public-read-write", case.target);
        check(
            "added parameter",
            verify(case, &added, &case.headers, soon),
            false,
        );
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Our signer, given what the peer signed (method, path, the query without the presigned
/// parameters, the headers, the date and expiry), produces the peer's signature.
#[test]
fn our_presigned_signature_matches_the_peers() {
    use edgeward_signing::{
        sign_parts, PathMode, SessionTokenPlacement, SigningParams, SigningSettings,
    };
    let mut failures = Vec::new();
    for case in cases() {
        let date = parse_amz_date(query_param(&case.target, "X-Amz-Date")).unwrap();
        let expires: u64 = query_param(&case.target, "X-Amz-Expires").parse().unwrap();
        let signature = query_param(&case.target, "X-Amz-Signature");
        let (path, query) = case.target.split_once('?').unwrap();
        let rest: Vec<&str> = query
            .split('&')
            .filter(|p| !p.starts_with("X-Amz-"))
            .collect();
        let rest = rest.join("&");
        let s3 = case.target.contains("%2Fs3%2F");
        let token = case.target.contains("X-Amz-Security-Token=");
        let creds =
            aws_credential_types::Credentials::from_keys(AK, SK, token.then(|| TOKEN.to_owned()));
        let region = query_param(&case.target, "X-Amz-Credential")
            .split("%2F")
            .nth(2)
            .unwrap()
            .to_owned();
        let service = if s3 {
            "s3"
        } else if case.target.contains("%2Fsts%2F") {
            "sts"
        } else {
            "execute-api"
        };
        let params = SigningParams {
            credentials: &creds,
            region: &region,
            service,
            time: date,
        };
        let mut settings = if s3 {
            SigningSettings::s3()
        } else {
            SigningSettings::default()
        };
        settings = settings.presigned(Duration::from_secs(expires));
        if case.name.contains("appended") {
            settings.session_token = SessionTokenPlacement::AppendedAfterSigning;
        }
        assert_eq!(settings.path_mode == PathMode::S3, s3);
        let mut headers: Vec<(&str, &str)> = vec![("host", &case.host)];
        headers.extend(case.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let ours = sign_parts(
            &case.method,
            path,
            (!rest.is_empty()).then_some(rest.as_str()),
            &headers,
            b"",
            &params,
            &settings,
        );
        match ours {
            Ok(parts) if parts.signature == signature => {}
            other => failures.push(format!("{}: peer {signature}, ours {other:?}", case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
