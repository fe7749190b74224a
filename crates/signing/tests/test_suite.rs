//! The AWS SigV4 test suite (`tests/sigv4/aws-signing-test-suite/v4`, provenance in
//! `tests/sigv4/README.md`): for every case and both signature locations, the verifier
//! rebuilds the expected canonical request and string-to-sign byte for byte and accepts the
//! expected signed request, and the signer produces the expected signature.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use edgeward_signing::{
    sign_raw, AcceptedPathModes, ContentSha256Header, FixedClock, PathEncoding, PathMode,
    PathNormalization, Payload, PayloadSigning, RawRequest, RawRequestLimits, ResolvedCredential,
    SessionTokenPlacement, SignatureLocation, SignatureTarget, SigningParams, SigningSettings,
    StaticCredentials, Verifier, VerifierSettings,
};
use futures_util::FutureExt;
use serde::Deserialize;

#[derive(Deserialize)]
struct Context {
    credentials: Creds,
    expiration_in_seconds: u64,
    normalize: bool,
    region: String,
    service: String,
    sign_body: bool,
    timestamp: String,
    #[serde(default)]
    omit_session_token: bool,
}

#[derive(Deserialize)]
struct Creds {
    access_key_id: String,
    secret_access_key: String,
    token: Option<String>,
}

fn case_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sigv4/aws-signing-test-suite/v4")
        .join(name)
}

fn read(name: &str, file: &str) -> Vec<u8> {
    std::fs::read(case_dir(name).join(file)).unwrap_or_else(|e| panic!("{name}/{file}: {e}"))
}

fn text(name: &str, file: &str) -> String {
    String::from_utf8(read(name, file)).unwrap()
}

fn timestamp(value: &str) -> SystemTime {
    let t =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).unwrap();
    t.into()
}

fn path_mode(context: &Context) -> PathMode {
    if context.normalize {
        PathMode::DEFAULT
    } else {
        PathMode {
            encoding: PathEncoding::Double,
            normalization: PathNormalization::Disabled,
        }
    }
}

fn check_case(name: &str) {
    let context: Context = serde_json::from_slice(&read(name, "context.json")).unwrap();
    let now = timestamp(&context.timestamp);
    let limits = RawRequestLimits::default();
    let credential = match &context.credentials.token {
        Some(token) => ResolvedCredential::temporary(
            &context.credentials.secret_access_key,
            "test-suite",
            token,
            now + Duration::from_secs(3600),
        ),
        None => ResolvedCredential::new(&context.credentials.secret_access_key, "test-suite"),
    };
    let lookup = StaticCredentials::new().with(&context.credentials.access_key_id, credential);
    let mut settings = VerifierSettings::default();
    settings.path_modes = AcceptedPathModes::Only(path_mode(&context));
    let verifier = Verifier::new(lookup, settings).with_clock(Arc::new(FixedClock(now)));
    let creds = Credentials::from_keys(
        &context.credentials.access_key_id,
        &context.credentials.secret_access_key,
        context.credentials.token.clone(),
    );

    for (prefix, location) in [
        ("header", SignatureLocation::Header),
        ("query", SignatureLocation::Query),
    ] {
        let label = format!("{name} ({prefix})");
        // Verify the expected signed request.
        let signed = RawRequest::parse(
            &read(name, &format!("{prefix}-signed-request.txt")),
            &limits,
        )
        .unwrap_or_else(|e| panic!("{label}: parsing the signed request: {e}"));
        let token_placement = if context.omit_session_token {
            SessionTokenPlacement::AppendedAfterSigning
        } else {
            SessionTokenPlacement::Signed
        };
        let explained = verifier
            .explain(
                &signed.view(),
                Payload::Bytes(&signed.body),
                path_mode(&context),
                token_placement,
            )
            .unwrap_or_else(|e| panic!("{label}: explain: {e}"));
        assert_eq!(
            explained.canonical_request,
            text(name, &format!("{prefix}-canonical-request.txt")),
            "{label}: canonical request"
        );
        assert_eq!(
            explained.string_to_sign,
            text(name, &format!("{prefix}-string-to-sign.txt")),
            "{label}: string to sign"
        );
        let verified = verifier
            .verify(&signed.view(), Payload::Bytes(&signed.body))
            .now_or_never()
            .unwrap()
            .unwrap_or_else(|e| panic!("{label}: verify: {e} {:?}", e.mismatch_details()));
        assert_eq!(verified.location(), location, "{label}");
        assert_eq!(
            verified.signature(),
            text(name, &format!("{prefix}-signature.txt")).trim(),
            "{label}"
        );
        assert_eq!(
            verified.session_token().is_some(),
            context.credentials.token.is_some(),
            "{label}"
        );

        // Sign the unsigned request.
        let mut request = RawRequest::parse(&read(name, "request.txt"), &limits)
            .unwrap_or_else(|e| panic!("{label}: parsing request.txt: {e}"));
        let mut sign_settings = SigningSettings::default();
        sign_settings.path_mode = path_mode(&context);
        sign_settings.session_token = token_placement;
        sign_settings.payload = PayloadSigning::Signed;
        if location == SignatureLocation::Query {
            sign_settings.target = SignatureTarget::Query {
                expires: Duration::from_secs(context.expiration_in_seconds),
            };
        } else if context.sign_body {
            sign_settings.content_sha256 = ContentSha256Header::Include;
        }
        let params = SigningParams {
            credentials: &creds,
            region: &context.region,
            service: &context.service,
            time: now,
        };
        let signature = sign_raw(&mut request, &params, &sign_settings)
            .unwrap_or_else(|e| panic!("{label}: sign: {e}"));
        assert_eq!(
            signature,
            text(name, &format!("{prefix}-signature.txt")).trim(),
            "{label}: our signature"
        );
        // And what we signed verifies.
        let ours = verifier
            .verify(&request.view(), Payload::Bytes(&request.body))
            .now_or_never()
            .unwrap();
        assert!(
            ours.is_ok(),
            "{label}: our signed request does not verify: {ours:?}"
        );
    }
}

macro_rules! cases {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_case($name);
            }
        )*

        #[test]
        fn every_case_directory_has_a_test() {
            let listed = [$($name),*];
            let mut dirs: Vec<String> = std::fs::read_dir(case_dir(""))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            dirs.sort();
            assert_eq!(dirs, listed.to_vec());
        }
    };
}

cases! {
    get_header_key_duplicate => "get-header-key-duplicate",
    get_header_value_multiline => "get-header-value-multiline",
    get_header_value_order => "get-header-value-order",
    get_header_value_trim => "get-header-value-trim",
    get_relative_normalized => "get-relative-normalized",
    get_relative_relative_normalized => "get-relative-relative-normalized",
    get_relative_relative_unnormalized => "get-relative-relative-unnormalized",
    get_relative_unnormalized => "get-relative-unnormalized",
    get_slash_dot_slash_normalized => "get-slash-dot-slash-normalized",
    get_slash_dot_slash_unnormalized => "get-slash-dot-slash-unnormalized",
    get_slash_normalized => "get-slash-normalized",
    get_slash_pointless_dot_normalized => "get-slash-pointless-dot-normalized",
    get_slash_pointless_dot_unnormalized => "get-slash-pointless-dot-unnormalized",
    get_slash_unnormalized => "get-slash-unnormalized",
    get_slashes_normalized => "get-slashes-normalized",
    get_slashes_unnormalized => "get-slashes-unnormalized",
    get_space_normalized => "get-space-normalized",
    get_space_unnormalized => "get-space-unnormalized",
    get_unreserved => "get-unreserved",
    get_utf8 => "get-utf8",
    get_vanilla => "get-vanilla",
    get_vanilla_empty_query_key => "get-vanilla-empty-query-key",
    get_vanilla_query => "get-vanilla-query",
    get_vanilla_query_order_encoded => "get-vanilla-query-order-encoded",
    get_vanilla_query_order_key_case => "get-vanilla-query-order-key-case",
    get_vanilla_query_unreserved => "get-vanilla-query-unreserved",
    get_vanilla_utf8_query => "get-vanilla-utf8-query",
    get_vanilla_with_session_token => "get-vanilla-with-session-token",
    post_header_key_case => "post-header-key-case",
    post_header_key_sort => "post-header-key-sort",
    post_header_value_case => "post-header-value-case",
    post_sts_header_after => "post-sts-header-after",
    post_sts_header_before => "post-sts-header-before",
    post_vanilla => "post-vanilla",
    post_vanilla_empty_query_value => "post-vanilla-empty-query-value",
    post_vanilla_query => "post-vanilla-query",
    post_x_www_form_urlencoded => "post-x-www-form-urlencoded",
    post_x_www_form_urlencoded_parameters => "post-x-www-form-urlencoded-parameters",
}

/// `get-vanilla-query-unreserved` sent with every byte of its query written as an upper-case
/// percent-escape (`%2D%2E%5F%7E%30…`): the canonical query decodes each component and
/// re-encodes it leaving unreserved characters unencoded (SigV4: "Do not URI-encode any of the
/// unreserved characters"), so the canonical request, and the suite's signature over it, are
/// the case's own. A check that took an upper-case escape of an unreserved byte as already
/// canonical would keep `%7E` and refuse the request.
#[test]
fn escaped_unreserved_query_bytes_canonicalise_as_the_suite_case() {
    let name = "get-vanilla-query-unreserved";
    let context: Context = serde_json::from_slice(&read(name, "context.json")).unwrap();
    let now = timestamp(&context.timestamp);
    let lookup = StaticCredentials::new().with(
        &context.credentials.access_key_id,
        ResolvedCredential::new(&context.credentials.secret_access_key, "test-suite"),
    );
    let mut settings = VerifierSettings::default();
    settings.path_modes = AcceptedPathModes::Only(path_mode(&context));
    let verifier = Verifier::new(lookup, settings).with_clock(Arc::new(FixedClock(now)));

    let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let escaped: String = unreserved.bytes().map(|b| format!("%{b:02X}")).collect();
    let signed = text(name, "header-signed-request.txt");
    let sent = signed.replacen(
        &format!("/?{unreserved}={unreserved} "),
        &format!("/?{escaped}={escaped} "),
        1,
    );
    assert_ne!(sent, signed, "the case's request line changed");
    let request = RawRequest::parse(sent.as_bytes(), &RawRequestLimits::default()).unwrap();
    assert_eq!(
        request.query(),
        Some(format!("{escaped}={escaped}").as_str())
    );

    let explained = verifier
        .explain(
            &request.view(),
            Payload::Bytes(&request.body),
            path_mode(&context),
            SessionTokenPlacement::Signed,
        )
        .unwrap();
    assert_eq!(
        explained.canonical_request,
        text(name, "header-canonical-request.txt")
    );
    let verified = verifier
        .verify(&request.view(), Payload::Bytes(&request.body))
        .now_or_never()
        .unwrap()
        .unwrap_or_else(|e| panic!("verify: {e} {:?}", e.mismatch_details()));
    assert_eq!(
        verified.signature(),
        text(name, "header-signature.txt").trim()
    );
}
