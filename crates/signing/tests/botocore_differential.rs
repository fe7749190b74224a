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

/// botocore signs a URL's host without its user information (`_host_from_url`), as a client
/// sends `Host` (hyper-util: the host, and a port other than the scheme's default); so does
/// `sign_http` given such a URI and no `Host` header. The plain URL is the control.
#[test]
fn user_information_in_a_url_is_not_signed_as_the_host() {
    use std::time::{Duration, UNIX_EPOCH};

    use aws_credential_types::Credentials;
    use edgeward_signing::{sign_http, SigningParams, SigningSettings};
    use serde_json::json;

    let urls = [
        "https://example.com/a",
        "https://user:pw@example.com/a",
        "https://user:pw@example.com:443/a",
        "http://user@example.com:8080/a",
        "http://us%40er:p%3Aw@example.com/a",
    ];
    let input: Vec<_> = urls
        .iter()
        .map(|url| {
            json!({
                "method": "GET", "url": url, "headers": [], "body": "",
                "access_key": "AKID", "secret_key": "secret", "token": null,
                "region": "us-east-1", "service": "service", "amz_date": "20231114T221320Z",
                "kind": "header", "s3": false, "unsigned": false, "expires": 60,
            })
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_sign.py");
    let signed = interop::run_json_script(script, &json!(input));
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "service",
        // 2023-11-14T22:13:20Z, the amz_date above.
        time: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    };
    for (url, botocore) in urls.iter().zip(&signed) {
        let expected = botocore["signature"]
            .as_str()
            .unwrap_or_else(|| panic!("{url}: botocore: {botocore}"));
        let mut request = http::Request::get(*url).body(Vec::new()).unwrap();
        let ours = sign_http(&mut request, &params, &SigningSettings::default()).unwrap();
        assert_eq!(ours, expected, "{url}: {}", botocore["canonical_request"]);
    }
}

/// A request that already has a `Date` header keeps one when botocore signs it: botocore
/// replaces it with the signing time written by `email.utils.formatdate`, in RFC 2822's
/// numeric zone (`Sun, 30 Aug 2015 12:36:00 -0000`), signs it, and sends no `X-Amz-Date`.
/// Our verifier takes that date, header and S3 rules alike.
#[test]
fn botocore_signs_a_date_header_and_we_verify_it() {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use edgeward_signing::{
        FixedClock, Headers, Payload, RequestView, ResolvedCredential, StaticCredentials, Verifier,
        VerifierSettings,
    };
    use futures_util::FutureExt;
    use serde_json::json;

    let input: Vec<_> = [("service", false), ("s3", true)]
        .iter()
        .map(|(service, s3)| {
            json!({
                "method": "GET", "url": "https://example.com/a?b=c",
                "headers": [["Date", "Thu, 01 Jan 1970 00:00:00 GMT"]], "body": "",
                "access_key": "AKID", "secret_key": "secret", "token": null,
                "region": "us-east-1", "service": service, "amz_date": "20231114T221320Z",
                "kind": "header", "s3": s3, "unsigned": false, "expires": 60,
            })
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_sign.py");
    let signed = interop::run_json_script(script, &json!(input));
    // 2023-11-14T22:13:20Z, the amz_date above.
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for result in &signed {
        // As sent: botocore's headers, and the `Host` its HTTP client adds from the URL.
        let mut headers: Vec<(String, String)> = result["headers"]
            .as_array()
            .unwrap_or_else(|| panic!("botocore: {result}"))
            .iter()
            .map(|h| (h[0].as_str().unwrap().into(), h[1].as_str().unwrap().into()))
            .collect();
        headers.push(("Host".into(), "example.com".into()));
        let date = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("date"));
        assert_eq!(
            date.map(|(_, value)| value.as_str()),
            Some("Tue, 14 Nov 2023 22:13:20 -0000"),
            "botocore's Date: {headers:?}"
        );
        assert!(
            !headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("x-amz-date")),
            "{headers:?}"
        );
        let view = RequestView {
            method: "GET",
            path: "/a",
            query: Some("b=c"),
            headers: Headers::List(&headers),
            authority: None,
        };
        let lookup = StaticCredentials::new().with("AKID", ResolvedCredential::new("secret", "p"));
        Verifier::new(lookup, VerifierSettings::default())
            .with_clock(Arc::new(FixedClock(now)))
            .verify(&view, Payload::Bytes(b""))
            .now_or_never()
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}: {}", result["canonical_request"]));
    }
}

/// S3 on Outposts, S3 Object Lambda and S3 Express One Zone sign with S3's rules under their
/// own names: botocore signs them with its S3 signers (path as sent, presigned with
/// `UNSIGNED-PAYLOAD`). Our verifier, with its default settings, accepts what botocore signed
/// for each (header and presigned, a key with a space, `+`, `%` and `//`), and our signer with
/// S3's settings signs it identically. Before, the verifier read them under the default rules
/// and refused boto3's presigned URLs (`SignatureDoesNotMatch`).
#[test]
fn the_services_signed_as_s3_verify_and_sign_as_botocore_does() {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use aws_credential_types::Credentials;
    use edgeward_signing::{
        sign_http, uses_s3_rules, FixedClock, Headers, Payload, RequestView, ResolvedCredential,
        SigningParams, SigningSettings, StaticCredentials, Verifier, VerifierSettings,
    };
    use futures_util::FutureExt;
    use serde_json::json;

    let path = "/a%20b%2Bc/%25d//e.txt";
    let cases: Vec<(&str, &str, &str)> = ["s3-outposts", "s3-object-lambda", "s3express"]
        .into_iter()
        .flat_map(|service| [(service, "PUT", "header"), (service, "GET", "query")])
        .collect();
    let input: Vec<_> = cases
        .iter()
        .map(|(service, method, kind)| {
            assert!(uses_s3_rules(service));
            json!({
                "method": method, "url": format!("https://ap.example.com{path}"),
                "headers": [], "body": if *method == "PUT" { "hello" } else { "" },
                "access_key": "AKID", "secret_key": "secret", "token": null,
                "region": "us-west-2", "service": service, "amz_date": "20231114T221320Z",
                "kind": kind, "s3": true, "unsigned": false, "expires": 900,
            })
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_sign.py");
    let signed = interop::run_json_script(script, &json!(input));
    // 2023-11-14T22:13:20Z, the amz_date above.
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let credentials = Credentials::from_keys("AKID", "secret", None);
    for ((service, method, kind), botocore) in cases.iter().zip(&signed) {
        let case = format!(
            "{service} {method} {kind}: {}",
            botocore["canonical_request"]
        );
        let url = botocore["url"]
            .as_str()
            .unwrap_or_else(|| panic!("{case}: {botocore}"));
        let target = url.strip_prefix("https://ap.example.com").unwrap();
        let (sent_path, query) = target
            .split_once('?')
            .map_or((target, None), |(p, q)| (p, Some(q)));
        let mut headers: Vec<(String, String)> = botocore["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h[0].as_str().unwrap().into(), h[1].as_str().unwrap().into()))
            .collect();
        headers.push(("Host".into(), "ap.example.com".into()));
        let body: Vec<u8> = botocore["body"].as_str().unwrap().bytes().collect();
        let view = RequestView {
            method,
            path: sent_path,
            query,
            headers: Headers::List(&headers),
            authority: None,
        };
        let lookup = StaticCredentials::new().with("AKID", ResolvedCredential::new("secret", "p"));
        Verifier::new(lookup, VerifierSettings::default())
            .with_clock(Arc::new(FixedClock(now)))
            .verify(&view, Payload::Bytes(&body))
            .now_or_never()
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}: {case}"));

        let params = SigningParams {
            credentials: &credentials,
            region: "us-west-2",
            service,
            time: now,
        };
        let settings = match *kind {
            "header" => SigningSettings::s3(),
            _ => SigningSettings::s3().presigned(Duration::from_secs(900)),
        };
        let mut ours = http::Request::builder()
            .method(*method)
            .uri(format!("https://ap.example.com{path}"))
            .body(body.clone())
            .unwrap();
        let signature = sign_http(&mut ours, &params, &settings).unwrap();
        assert_eq!(signature, botocore["signature"].as_str().unwrap(), "{case}");
    }
}
