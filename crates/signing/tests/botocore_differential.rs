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

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use differential::{signing_time, Peer, Sent};
use edgeward_signing::{
    format_amz_date, sign_http, uses_s3_rules, FixedClock, Payload, ResolvedCredential,
    SigningParams, SigningSettings, StaticCredentials, VerifiedRequest, Verifier, VerifierSettings,
};
use futures_util::FutureExt;
use serde_json::{json, Value};

const BOTOCORE_SIGN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_sign.py");

#[test]
fn botocore_signed_requests_verify_and_we_sign_identically() {
    let summary = differential::run(&Peer {
        name: "botocore",
        script: BOTOCORE_SIGN,
        seed: 0x5147_0004,
        cases: 400,
        // botocore rewrites the operation parameters (parse_qs + re-encode) before adding its
        // own; sign what it signed.
        rewrites_presigned_query: true,
        divergence: |_| None,
    });
    assert_eq!(summary.ran, 400, "botocore signs every generated input");
}

/// `botocore_sign.py`'s input for `method` on `url` for `service` in us-east-1, signed with
/// `AKID`/`secret` at [`signing_time`] (`kind`: `header` or `query`; `s3`: botocore's S3
/// signers), no headers, no body: a test sets the fields it needs beside these.
fn spec(method: &str, url: &str, service: &str, kind: &str, s3: bool) -> Value {
    json!({
        "method": method, "url": url, "headers": [], "body": "",
        "access_key": "AKID", "secret_key": "secret", "token": null,
        "region": "us-east-1", "service": service, "amz_date": format_amz_date(signing_time()),
        "kind": kind, "s3": s3, "unsigned": false, "expires": 900,
    })
}

/// Our verifier's answer, at [`signing_time`] and with its default settings, for `sent` as a
/// server receives it: with the `Host` botocore's HTTP client adds from the URL.
fn verify_as_received(
    sent: &mut Sent,
    method: &str,
    host: &str,
) -> Result<VerifiedRequest, edgeward_signing::Error> {
    sent.headers.push(("Host".into(), host.into()));
    let lookup = StaticCredentials::new().with("AKID", ResolvedCredential::new("secret", "p"));
    Verifier::new(lookup, VerifierSettings::default())
        .with_clock(Arc::new(FixedClock(signing_time())))
        .verify(&sent.view(method), Payload::Bytes(&sent.body))
        .now_or_never()
        .unwrap()
}

/// botocore signs a URL's host without its user information (`_host_from_url`), as a client
/// sends `Host` (hyper-util: the host, and a port other than the scheme's default); so does
/// `sign_http` given such a URI and no `Host` header. The plain URL is the control.
#[test]
fn user_information_in_a_url_is_not_signed_as_the_host() {
    let urls = [
        "https://example.com/a",
        "https://user:pw@example.com/a",
        "https://user:pw@example.com:443/a",
        "http://user@example.com:8080/a",
        "http://us%40er:p%3Aw@example.com/a",
    ];
    let input: Vec<_> = urls
        .iter()
        .map(|url| spec("GET", url, "service", "header", false))
        .collect();
    let signed = interop::run_json_script(BOTOCORE_SIGN, &json!(input));
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "service",
        time: signing_time(),
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
    let input: Vec<_> = [("service", false), ("s3", true)]
        .into_iter()
        .map(|(service, s3)| {
            let mut spec = spec("GET", "https://example.com/a?b=c", service, "header", s3);
            spec["headers"] = json!([["Date", "Thu, 01 Jan 1970 00:00:00 GMT"]]);
            spec
        })
        .collect();
    let signed = interop::run_json_script(BOTOCORE_SIGN, &json!(input));
    for result in &signed {
        let mut sent = Sent::from_result(result);
        let header = |name: &str| {
            sent.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.clone())
        };
        // The signing time (the spec's amz_date) as formatdate writes it.
        let date = header("date");
        assert_eq!(
            date.as_deref(),
            Some("Tue, 14 Nov 2023 22:13:20 -0000"),
            "botocore's Date: {:?}",
            sent.headers
        );
        assert_eq!(header("x-amz-date"), None, "{:?}", sent.headers);
        verify_as_received(&mut sent, "GET", "example.com")
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
    let url = "https://ap.example.com/a%20b%2Bc/%25d//e.txt";
    let cases: Vec<(&str, &str, &str)> = ["s3-outposts", "s3-object-lambda", "s3express"]
        .into_iter()
        .flat_map(|service| [(service, "PUT", "header"), (service, "GET", "query")])
        .collect();
    let input: Vec<_> = cases
        .iter()
        .map(|&(service, method, kind)| {
            assert!(uses_s3_rules(service));
            let mut spec = spec(method, url, service, kind, true);
            spec["region"] = json!("us-west-2");
            if method == "PUT" {
                spec["body"] = json!("hello");
            }
            spec
        })
        .collect();
    let signed = interop::run_json_script(BOTOCORE_SIGN, &json!(input));
    let credentials = Credentials::from_keys("AKID", "secret", None);
    for (&(service, method, kind), botocore) in cases.iter().zip(&signed) {
        let case = format!(
            "{service} {method} {kind}: {}",
            botocore["canonical_request"]
        );
        let mut sent = Sent::from_result(botocore);
        verify_as_received(&mut sent, method, "ap.example.com")
            .unwrap_or_else(|e| panic!("{e}: {case}"));

        let params = SigningParams {
            credentials: &credentials,
            region: "us-west-2",
            service,
            time: signing_time(),
        };
        let settings = match kind {
            "header" => SigningSettings::s3(),
            _ => SigningSettings::s3().presigned(Duration::from_secs(900)),
        };
        let mut ours = http::Request::builder()
            .method(method)
            .uri(url)
            .body(sent.body.clone())
            .unwrap();
        let signature = sign_http(&mut ours, &params, &settings).unwrap();
        assert_eq!(signature, botocore["signature"].as_str().unwrap(), "{case}");
    }
}
