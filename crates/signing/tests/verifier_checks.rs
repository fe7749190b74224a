//! Every verification check, one case each: the typed error and the AWS code and status an
//! SDK expects.
#![allow(clippy::unwrap_used)]

#[path = "support/hand_signed.rs"]
mod hand_signed;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use edgeward_signing::{
    sign_raw, Accept, AcceptedPathModes, Error, FixedClock, PathMode, Payload, RawRequest,
    RawRequestLimits, ResolvedCredential, SessionTokenPlacement, SigningParams, SigningSettings,
    StaticCredentials, UnsignedSessionToken, Verifier, VerifierSettings,
};
use futures_util::FutureExt;

const NOW: u64 = 1_700_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn lookup(token_expiry: SystemTime) -> StaticCredentials {
    StaticCredentials::new()
        .with("AKID", ResolvedCredential::new("secret", "alice"))
        .with(
            "ASIA",
            ResolvedCredential::temporary("tsecret", "role", "tok", token_expiry),
        )
}

fn signed(
    settings: &SigningSettings,
    ak: &str,
    token: Option<&str>,
    at: SystemTime,
    extra: &str,
) -> RawRequest {
    let text = format!("GET /a?b=c HTTP/1.1\nHost:example.com\n{extra}\n");
    let mut request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
    let secret = if ak == "ASIA" { "tsecret" } else { "secret" };
    let creds = Credentials::from_keys(ak, secret, token.map(str::to_owned));
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service: "service",
        time: at,
    };
    sign_raw(&mut request, &params, settings).unwrap();
    request
}

fn check(
    settings: VerifierSettings,
    request: &RawRequest,
    clock: SystemTime,
    expiry: SystemTime,
) -> Result<(), Error> {
    let verifier = Verifier::new(lookup(expiry), settings).with_clock(Arc::new(FixedClock(clock)));
    verifier
        .verify(&request.view(), Payload::Bytes(&request.body))
        .now_or_never()
        .unwrap()
        .map(|_| ())
}

fn expect(result: Result<(), Error>, code: &str, status: u16, what: &str) {
    let error = result.expect_err(what);
    assert_eq!(
        (error.aws_error_code(), error.http_status()),
        (code, status),
        "{what}: {error}"
    );
}

/// `result` failed as an `Authorization` header that cannot be read: `IncompleteSignature`,
/// 400, to the query and JSON services (sources at the crate's `Error::aws_error_code`), and
/// S3's `AuthorizationHeaderMalformed`, 400.
fn expect_header_malformed(result: Result<(), Error>, what: &str) {
    let error = result.expect_err(what);
    let (aws, s3) = (error.to_aws_error(), error.to_s3_error());
    assert_eq!(
        [(aws.code, aws.status), (s3.code, s3.status)],
        [
            ("IncompleteSignature", 400),
            ("AuthorizationHeaderMalformed", 400)
        ],
        "{what}: {error}"
    );
}

/// Signs `request` with AKID's long-term key for `service`, now.
fn sign_for(request: &mut http::Request<Vec<u8>>, service: &str, settings: &SigningSettings) {
    let creds = Credentials::from_keys("AKID", "secret", None);
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service,
        time: now(),
    };
    edgeward_signing::sign_http(request, &params, settings).unwrap();
}

/// Signs `request`, the head of a streamed upload, as `STREAMING-UNSIGNED-PAYLOAD-TRAILER`
/// for `service` (with `x-amz-trailer` left unsigned unless `sign_trailer`), verifies the
/// head, and sets up its body's verifier from its headers, as the layer does.
fn streamed_body_verifier(
    request: &mut http::Request<Vec<u8>>,
    sign_trailer: bool,
) -> Result<Option<edgeward_signing::ChunkChainVerifier>, Error> {
    let mut settings = SigningSettings::default();
    settings.payload = edgeward_signing::PayloadSigning::StreamingUnsignedTrailer;
    settings.content_sha256 = edgeward_signing::ContentSha256Header::Include;
    if !sign_trailer {
        settings.excluded_headers.push("x-amz-trailer".into());
    }
    sign_for(request, "service", &settings);
    let verified = Verifier::new(
        lookup(now() + Duration::from_secs(3600)),
        VerifierSettings::default(),
    )
    .with_clock(Arc::new(FixedClock(now())))
    .verify(
        &edgeward_signing::RequestView::from_http(request),
        Payload::Unavailable,
    )
    .now_or_never()
    .unwrap()?;
    verified.streamed_body_verifier(&edgeward_signing::Headers::Map(request.headers()))
}

/// Verifies `view` with an empty body, now, with the default settings.
fn verify_view(view: &edgeward_signing::RequestView<'_>, body: &[u8]) -> Result<(), Error> {
    Verifier::new(
        lookup(now() + Duration::from_secs(3600)),
        VerifierSettings::default(),
    )
    .with_clock(Arc::new(FixedClock(now())))
    .verify(view, Payload::Bytes(body))
    .now_or_never()
    .unwrap()
    .map(|_| ())
}

#[test]
fn each_check_has_its_error() {
    let later = now() + Duration::from_secs(3600);
    let header = SigningSettings::default();
    let ok = signed(&header, "AKID", None, now(), "");
    check(VerifierSettings::default(), &ok, now(), later).unwrap();

    // Clock skew, both ways, and the edge of the window.
    expect(
        check(
            VerifierSettings::default(),
            &ok,
            now() + Duration::from_secs(901),
            later,
        ),
        "RequestTimeTooSkewed",
        403,
        "late",
    );
    expect(
        check(
            VerifierSettings::default(),
            &ok,
            now() - Duration::from_secs(901),
            later,
        ),
        "RequestTimeTooSkewed",
        403,
        "early",
    );
    check(
        VerifierSettings::default(),
        &ok,
        now() + Duration::from_secs(900),
        later,
    )
    .unwrap();

    // Presigned: expiry, not yet valid, over 7 days.
    let presigned = signed(
        &SigningSettings::default().presigned(Duration::from_secs(60)),
        "AKID",
        None,
        now(),
        "",
    );
    check(
        VerifierSettings::default(),
        &presigned,
        now() + Duration::from_secs(60),
        later,
    )
    .unwrap();
    expect(
        check(
            VerifierSettings::default(),
            &presigned,
            now() + Duration::from_secs(61),
            later,
        ),
        "AccessDenied",
        403,
        "expired",
    );
    expect(
        check(
            VerifierSettings::default(),
            &presigned,
            now() - Duration::from_secs(901),
            later,
        ),
        "AccessDenied",
        403,
        "not yet valid",
    );
    let mut week = presigned.clone();
    week.target = week
        .target
        .replace("X-Amz-Expires=60", "X-Amz-Expires=604801");
    expect(
        check(VerifierSettings::default(), &week, now(), later),
        "AuthorizationQueryParametersError",
        400,
        "over 7 days",
    );
    // A lifetime of zero is over at once (`AccessDenied`, 403, as versitygw and Ceph's
    // s3-tests answer it), not out of range: S3's words ask for one non-negative.
    let mut zero = presigned.clone();
    zero.target = zero.target.replace("X-Amz-Expires=60", "X-Amz-Expires=0");
    let error = check(
        VerifierSettings::default(),
        &zero,
        now() + Duration::from_secs(1),
        later,
    )
    .unwrap_err();
    assert!(
        matches!(
            error,
            Error::PresignedExpired {
                expires_secs: 0,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        (error.aws_error_code(), error.http_status()),
        ("AccessDenied", 403)
    );
    let mut incomplete = presigned.clone();
    incomplete.target = incomplete
        .target
        .replace("X-Amz-Credential", "X-Amz-Kredential");
    expect(
        check(VerifierSettings::default(), &incomplete, now(), later),
        "AuthorizationQueryParametersError",
        400,
        "no credential",
    );

    // Credential-scope date differs from X-Amz-Date.
    let mut other_day = ok.clone();
    let auth = other_day
        .header("authorization")
        .unwrap()
        .replace("/20231114/", "/20231113/");
    other_day.set_header("Authorization", &auth);
    // The query and JSON services fail the signature (the IAM User Guide's "Troubleshoot
    // signed requests for AWS APIs"); S3 calls the header malformed.
    let error = check(VerifierSettings::default(), &other_day, now(), later).unwrap_err();
    let (aws, s3) = (error.to_aws_error(), error.to_s3_error());
    assert_eq!(
        [(aws.code, aws.status), (s3.code, s3.status)],
        [
            ("SignatureDoesNotMatch", 403),
            ("AuthorizationHeaderMalformed", 400)
        ],
        "scope date: {error}"
    );

    // Region and service not accepted: see
    // `a_scope_the_verifier_does_not_serve_is_answered_as_each_service_answers_it`.
    let mut settings = VerifierSettings::default();
    settings.regions = Accept::OneOf(vec!["eu-west-1".into()]);
    expect(
        check(settings, &ok, now(), later),
        "SignatureDoesNotMatch",
        403,
        "region",
    );
    let mut settings = VerifierSettings::default();
    settings.services = Accept::OneOf(vec!["s3".into()]);
    expect(
        check(settings, &ok, now(), later),
        "SignatureDoesNotMatch",
        403,
        "service",
    );

    // host / x-amz-date not signed.
    let mut unsigned_host = ok.clone();
    let auth = unsigned_host
        .header("authorization")
        .unwrap()
        .replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date");
    unsigned_host.set_header("Authorization", &auth);
    expect(
        check(VerifierSettings::default(), &unsigned_host, now(), later),
        "AccessDenied",
        403,
        "host unsigned",
    );
    let mut unsigned_date = ok.clone();
    let auth = unsigned_date
        .header("authorization")
        .unwrap()
        .replace("SignedHeaders=host;x-amz-date", "SignedHeaders=host");
    unsigned_date.set_header("Authorization", &auth);
    expect(
        check(VerifierSettings::default(), &unsigned_date, now(), later),
        "AccessDenied",
        403,
        "date unsigned",
    );

    // Malformed and incomplete Authorization; no authentication at all; no date.
    let mut malformed = ok.clone();
    malformed.set_header("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/2023/us-east-1/service/aws4_request, SignedHeaders=host, Signature=00");
    expect_header_malformed(
        check(VerifierSettings::default(), &malformed, now(), later),
        "malformed",
    );
    let mut incomplete = ok.clone();
    let auth = incomplete
        .header("authorization")
        .unwrap()
        .split(", Signature=")
        .next()
        .unwrap()
        .to_owned();
    incomplete.set_header("Authorization", &auth);
    expect(
        check(VerifierSettings::default(), &incomplete, now(), later),
        "IncompleteSignature",
        400,
        "incomplete",
    );
    let mut none = ok.clone();
    none.remove_header("authorization");
    expect(
        check(VerifierSettings::default(), &none, now(), later),
        "MissingAuthenticationToken",
        403,
        "none",
    );
    // SigV2 (here, an S3 presigned URL as `aws s3 presign` makes by default) is named as such.
    let mut sigv2 = none.clone();
    sigv2.target = format!(
        "{}?AWSAccessKeyId=AKIDEXAMPLE&Signature=wLZVygr%2FsyCdXmLdlqFKbo1%2FvTk%3D&Expires=1796177408",
        sigv2.target.split('?').next().unwrap()
    );
    expect(
        check(VerifierSettings::default(), &sigv2, now(), later),
        "InvalidRequest",
        400,
        "sigv2",
    );
    // And SigV2's header form (the example of S3's SigV2 documentation).
    let mut sigv2_header = none.clone();
    sigv2_header.set_header(
        "Authorization",
        "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
    );
    expect(
        check(VerifierSettings::default(), &sigv2_header, now(), later),
        "InvalidRequest",
        400,
        "sigv2 header",
    );
    let mut no_date = ok.clone();
    no_date.remove_header("x-amz-date");
    expect(
        check(VerifierSettings::default(), &no_date, now(), later),
        "IncompleteSignature",
        400,
        "no date",
    );

    // Unknown key.
    let unknown = signed(&header, "AKIDNOBODY", None, now(), "");
    expect(
        check(VerifierSettings::default(), &unknown, now(), later),
        "InvalidClientTokenId",
        403,
        "unknown key",
    );

    // Temporary credentials: fine, missing token, expired token, token appended unsigned.
    let temp = signed(&header, "ASIA", Some("tok"), now(), "");
    check(VerifierSettings::default(), &temp, now(), later).unwrap();
    let no_token = signed(&header, "ASIA", None, now(), "");
    expect(
        check(VerifierSettings::default(), &no_token, now(), later),
        "InvalidClientTokenId",
        403,
        "token missing",
    );
    expect(
        check(VerifierSettings::default(), &temp, now(), now()),
        "ExpiredToken",
        403,
        "token expired",
    );
    let mut after = SigningSettings::default();
    after.session_token = SessionTokenPlacement::AppendedAfterSigning;
    for settings in [
        after.clone(),
        after.clone().presigned(Duration::from_secs(60)),
    ] {
        let appended = signed(&settings, "ASIA", Some("tok"), now(), "");
        check(VerifierSettings::default(), &appended, now(), later).unwrap();
        let mut strict = VerifierSettings::default();
        strict.unsigned_session_token = UnsignedSessionToken::Reject;
        expect(
            check(strict, &appended, now(), later),
            "AccessDenied",
            403,
            "token unsigned",
        );
    }

    // Payload hash mismatch (S3 rules carry x-amz-content-sha256).
    let mut s3 = signed(&SigningSettings::s3(), "AKID", None, now(), "");
    s3.body = b"tampered".to_vec();
    let s3_check = |request: &RawRequest| {
        let verifier = Verifier::new(lookup(later), VerifierSettings::default())
            .with_clock(Arc::new(FixedClock(now())));
        verifier
            .verify(&request.view(), Payload::Bytes(&request.body))
            .now_or_never()
            .unwrap()
            .map(|_| ())
    };
    expect(s3_check(&s3), "XAmzContentSHA256Mismatch", 400, "payload");
    let mut bad_hash = signed(&SigningSettings::s3(), "AKID", None, now(), "");
    bad_hash.set_header("x-amz-content-sha256", "nothex");
    expect(
        s3_check(&bad_hash),
        "InvalidArgument",
        400,
        "malformed payload hash",
    );

    // Signature mismatch carries the canonical request and string-to-sign, never the secret.
    let mut wrong = ok.clone();
    wrong.target = "/a?b=d".into();
    let error = check(VerifierSettings::default(), &wrong, now(), later).unwrap_err();
    let details = error.mismatch_details().unwrap();
    assert!(
        details.canonical_request.starts_with("GET\n/a\nb=d\n"),
        "{details:?}"
    );
    assert!(details.string_to_sign.starts_with(
        "AWS4-HMAC-SHA256\n20231114T221320Z\n20231114/us-east-1/service/aws4_request\n"
    ));
    assert!(!format!("{error:?}{details:?}").contains("secret"));
}

/// S3 names some failures its own way (S3's error-code list in its API reference:
/// `InvalidAccessKeyId` 403, `InvalidToken` 400, `AccessDenied` 403,
/// `AuthorizationHeaderMalformed` 400; it has no `InvalidClientTokenId`,
/// `MissingAuthenticationToken` or `IncompleteSignature`), and aws-sdk-s3 matches on those. The
/// rest keep the codes S3 shares with the other services.
#[test]
fn s3_names_some_failures_its_own_way() {
    let later = now() + Duration::from_secs(3600);
    let header = SigningSettings::default();
    let ok = signed(&header, "AKID", None, now(), "");
    // `words`: S3's own for the failure (sources at the crate's `Error::aws_words`), or
    // `None` where the error keeps its own.
    let expect_s3 =
        |request: &RawRequest, clock: SystemTime, code: &str, status: u16, words: Option<&str>| {
            let error = check(VerifierSettings::default(), request, clock, later).expect_err(code);
            let s3 = error.to_s3_error();
            assert_eq!((s3.code, s3.status), (code, status), "{error}");
            assert_eq!(
                s3.message,
                words.map_or_else(|| error.to_string(), str::to_owned)
            );
        };
    const UNKNOWN: &str = "The AWS Access Key Id you provided does not exist in our records.";

    expect_s3(
        &signed(&header, "AKIDNOBODY", None, now(), ""),
        now(),
        "InvalidAccessKeyId",
        403,
        Some(UNKNOWN),
    );
    expect_s3(
        &signed(&header, "ASIA", None, now(), ""),
        now(),
        "InvalidAccessKeyId",
        403,
        Some(UNKNOWN),
    );
    expect_s3(
        &signed(&header, "ASIA", Some("another"), now(), ""),
        now(),
        "InvalidToken",
        400,
        Some("The provided token is malformed or otherwise invalid."),
    );
    let mut none = ok.clone();
    none.remove_header("authorization");
    expect_s3(&none, now(), "AccessDenied", 403, Some("Access Denied"));
    let mut no_date = ok.clone();
    no_date.remove_header("x-amz-date");
    // hubrick/vertx-s3-client#5 quotes S3's answer (for a malformed `x-amz-date`).
    const NO_DATE: &str = "AWS authentication requires a valid Date or x-amz-date header";
    expect_s3(&no_date, now(), "AccessDenied", 403, Some(NO_DATE));
    let mut malformed_date = ok.clone();
    malformed_date.set_header("X-Amz-Date", "20231114T221320+01");
    expect_s3(&malformed_date, now(), "AccessDenied", 403, Some(NO_DATE));
    let mut incomplete = ok.clone();
    let auth = ok.header("authorization").unwrap();
    incomplete.set_header("Authorization", auth.split(", Signature=").next().unwrap());
    // ex-aws/ex_aws#537 and robmcvey/cakephp-amazon-s3#15 quote S3's answer.
    expect_s3(
        &incomplete,
        now(),
        "AuthorizationHeaderMalformed",
        400,
        Some(
            "The authorization header is malformed; the authorization header requires three \
             components: Credential, SignedHeaders, and Signature.",
        ),
    );
    // krobertson/deb-s3#157 and deliciousbrains/wp-amazon-s3-and-cloudfront#460 quote S3's
    // answer.
    let mut short_credential = ok.clone();
    short_credential.set_header("Authorization", &auth.replacen("/us-east-1/", "/", 1));
    expect_s3(
        &short_credential,
        now(),
        "AuthorizationHeaderMalformed",
        400,
        Some(
            "The authorization header is malformed; the Credential is mal-formed; expecting \
             \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
        ),
    );
    let mut other_algorithm = ok.clone();
    other_algorithm.set_header(
        "Authorization",
        &auth.replacen("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1),
    );
    // versity/versitygw#1512 quotes S3's answer to a misspelt algorithm.
    expect_s3(
        &other_algorithm,
        now(),
        "InvalidArgument",
        400,
        Some("Unsupported Authorization Type"),
    );

    // Shared with the other services.
    let mut tampered = ok.clone();
    tampered.target = tampered.target.replace("b=c", "b=d");
    expect_s3(
        &tampered,
        now(),
        "SignatureDoesNotMatch",
        403,
        Some(
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method.",
        ),
    );
    expect_s3(
        &ok,
        now() + Duration::from_secs(901),
        "RequestTimeTooSkewed",
        403,
        None,
    );
}

/// A credential scoped to a region or service the verifier does not serve. STS and IAM answer
/// `SignatureDoesNotMatch`, 403, "Credential should be scoped to a valid region, not
/// 'us-east-2'." (STS's query XML in cognitect-labs/aws-api#27, IAM in JuliaCloud/AWS.jl#565;
/// the JSON services' `InvalidSignatureException`, 403, in aws/aws-sdk-js-v3#5576), and a
/// wrong service "… should be scoped to correct service: 'batch'.", naming the one it serves.
/// S3 answers
/// `AuthorizationHeaderMalformed`, 400 ("the region 'us-east-1' is wrong; expecting
/// 'eu-west-1'", which botocore's S3 region redirector reads), and for a presigned URL
/// `AuthorizationQueryParametersError`, 400.
///
/// An expired session token: `ExpiredToken`, 403, from STS (aws/aws-sdk-java-v2#1649) and IAM
/// (cfn-sphere/cfn-sphere#55 shows IAM's `403 Forbidden` with `<Code>ExpiredToken</Code>`);
/// S3's error-code list gives its `ExpiredToken` as 400.
#[test]
fn a_scope_the_verifier_does_not_serve_is_answered_as_each_service_answers_it() {
    let later = now() + Duration::from_secs(3600);
    let in_terms = |error: &Error| {
        let (aws, s3) = (error.to_aws_error(), error.to_s3_error());
        [(aws.code, aws.status), (s3.code, s3.status)]
    };
    let header = signed(&SigningSettings::default(), "AKID", None, now(), "");
    let presigned = signed(
        &SigningSettings::default().presigned(Duration::from_secs(60)),
        "AKID",
        None,
        now(),
        "",
    );
    for (request, s3_code) in [
        (&header, "AuthorizationHeaderMalformed"),
        (&presigned, "AuthorizationQueryParametersError"),
    ] {
        let mut regions = VerifierSettings::default();
        regions.regions = Accept::OneOf(vec!["eu-west-1".into()]);
        let mut services = VerifierSettings::default();
        services.services = Accept::OneOf(vec!["sts".into()]);
        for (settings, words) in [
            (
                regions,
                "Credential should be scoped to a valid region, not 'us-east-1'.",
            ),
            (
                services,
                "Credential should be scoped to correct service: 'sts'.",
            ),
        ] {
            let error = check(settings, request, now(), later).unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::RegionNotAccepted { .. } | Error::ServiceNotAccepted { .. }
                ),
                "{error}"
            );
            assert_eq!(
                in_terms(&error),
                [("SignatureDoesNotMatch", 403), (s3_code, 400)],
                "{error}"
            );
            assert_eq!(error.http_status(), 403);
            assert_eq!(error.to_aws_error().message, words);
        }
    }

    let temporary = signed(&SigningSettings::default(), "ASIA", Some("tok"), now(), "");
    let expired = check(VerifierSettings::default(), &temporary, now(), now()).unwrap_err();
    assert!(matches!(expired, Error::ExpiredToken { .. }), "{expired}");
    assert_eq!(
        in_terms(&expired),
        [("ExpiredToken", 403), ("ExpiredToken", 400)]
    );
    assert_eq!(expired.http_status(), 403);
}

/// Under `AcceptedPathModes::Both` a signature verifies one request, not two. The default
/// rules encode the path again and S3's keep it, so a canonical URI holding `%25` names a
/// different resource under each: a default-rules signature for `/docs/a%20b` (`docs/a b`)
/// is also S3's for `/docs/a%2520b` (`docs/a%20b`), and an S3 signature for the key
/// `a%20b` is also the default rules' for `/bucket/a%20b` (`a b`). Such a signature is tried
/// under the rules its scope's service picks only; one without `%25` reads the same either way
/// and is tried under both.
#[test]
fn both_path_modes_give_a_signature_one_reading() {
    let later = now() + Duration::from_secs(3600);
    let sign = |path: &str, service: &str, settings: &SigningSettings| {
        let text = format!("GET {path} HTTP/1.1\nHost:example.com\n\n");
        let mut request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
        let creds = Credentials::from_keys("AKID", "secret", None);
        if service == "s3" && settings.path_mode == PathMode::DEFAULT {
            // Our signer refuses the default rules under scope `s3` (S3 reads no path so);
            // another client's signer may not, so aws-sigv4 on its own signs it.
            let signed = sign_with_aws_sigv4(
                http::Request::get(format!("http://example.com{path}"))
                    .header("host", "example.com")
                    .body(Vec::new())
                    .unwrap(),
                creds,
                service,
                aws_sigv4::http_request::SigningSettings::default(),
                aws_sigv4::http_request::SignableBody::Bytes(b""),
            );
            for (name, value) in signed.headers() {
                if name != "host" {
                    request.set_header(name.as_str(), value.to_str().unwrap());
                }
            }
            return request;
        }
        let params = SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service,
            time: now(),
        };
        sign_raw(&mut request, &params, settings).unwrap();
        request
    };
    let verify = |request: &RawRequest, sent_path: &str| {
        let mut request = request.clone();
        request.target = sent_path.to_owned();
        let mut settings = VerifierSettings::default();
        settings.path_modes = AcceptedPathModes::Both;
        Verifier::new(lookup(later), settings)
            .with_clock(Arc::new(FixedClock(now())))
            .verify(&request.view(), Payload::Bytes(&request.body))
            .now_or_never()
            .unwrap()
            .map(|verified| verified.path_mode())
    };
    let (default_rules, s3_rules) = (SigningSettings::default(), SigningSettings::s3());
    let mismatch = |result: Result<PathMode, Error>, what: &str| match result {
        Err(Error::SignatureDoesNotMatch { .. }) => {}
        other => panic!("{what}: {other:?}"),
    };

    // A default-rules client, scope `service`: its request verifies; its signature on the
    // path that is its canonical URI does not (S3's reading of it is another resource).
    let request = sign("/docs/a%20b", "service", &default_rules);
    assert_eq!(verify(&request, "/docs/a%20b").unwrap(), PathMode::DEFAULT);
    mismatch(
        verify(&request, "/docs/a%2520b"),
        "default-rules signature as S3's",
    );

    // An S3 client with the key `a%20b`, scope `s3`: the same, the other way round.
    let request = sign("/bucket/a%2520b", "s3", &s3_rules);
    assert_eq!(verify(&request, "/bucket/a%2520b").unwrap(), PathMode::S3);
    mismatch(
        verify(&request, "/bucket/a%20b"),
        "S3 signature as the default rules'",
    );

    // Without `%25` both readings are one resource, and either client verifies under either
    // scope: an S3 client with `a b` scoped to `service`, a default-rules one with `a-b`
    // scoped to `s3`.
    let request = sign("/bucket/a%20b", "service", &s3_rules);
    assert_eq!(verify(&request, "/bucket/a%20b").unwrap(), PathMode::S3);
    let request = sign("/docs/a-b", "s3", &default_rules);
    assert_eq!(verify(&request, "/docs/a-b").unwrap(), PathMode::DEFAULT);

    // The price: a signature with `%25` under the other service's scope has the one reading
    // its scope picks. A default-rules path with an escape, scoped to `s3`, is read as S3's,
    // and an S3 key with a `%`, scoped to `service`, as the default rules'.
    let request = sign("/docs/a%20b", "s3", &default_rules);
    mismatch(verify(&request, "/docs/a%20b"), "default rules, scope s3");
    assert_eq!(verify(&request, "/docs/a%2520b").unwrap(), PathMode::S3);
    let request = sign("/bucket/a%2520b", "service", &s3_rules);
    mismatch(
        verify(&request, "/bucket/a%2520b"),
        "S3 rules, scope service",
    );
    assert_eq!(
        verify(&request, "/bucket/a%20b").unwrap(),
        PathMode::DEFAULT
    );
}

/// HTTP/2 carries the host as the `:authority` pseudo-header, which `http` puts in the URI, not
/// in a `Host` header: a signed `host` is then the authority. Without either it is missing.
#[test]
fn a_signed_host_without_a_host_header_is_the_authority() {
    let later = now() + Duration::from_secs(3600);
    let mut request = signed(&SigningSettings::default(), "AKID", None, now(), "");
    assert_eq!(request.header("host"), Some("example.com"));
    request.remove_header("host");
    let verify = |authority: Option<&str>| {
        let mut view = request.view();
        view.authority = authority;
        Verifier::new(lookup(later), VerifierSettings::default())
            .with_clock(Arc::new(FixedClock(now())))
            .verify(&view, Payload::Bytes(&request.body))
            .now_or_never()
            .unwrap()
            .map(|_| ())
    };
    verify(Some("example.com")).unwrap();
    expect(
        verify(Some("example.org")),
        "SignatureDoesNotMatch",
        403,
        "another authority",
    );
    let missing = verify(None).unwrap_err();
    assert!(
        matches!(missing, Error::SignedHeaderMissing { .. }),
        "{missing}"
    );
}

/// Signs `GET /bucket/key` for S3 (header or presigned) with the long-term key.
fn signed_for_s3(settings: &SigningSettings) -> RawRequest {
    let text = "GET /bucket/key HTTP/1.1\nHost:example.com\n\n";
    let mut request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
    let creds = Credentials::from_keys("AKID", "secret", None);
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service: "s3",
        time: now(),
    };
    sign_raw(&mut request, &params, settings).unwrap();
    request
}

/// S3 refuses a request that carries an `x-amz-*` header its signature does not cover (403
/// `AccessDenied`, "There were headers present in the request which were not signed"): those
/// headers are S3 parameters (`x-amz-acl`, `x-amz-copy-source`, `x-amz-meta-*`, …), and
/// otherwise whoever holds a presigned URL, or replays a signed request, could add them and
/// change what the request does (a presigned PUT into a copy of another object, a private
/// upload into a public one).
#[test]
fn s3_refuses_unsigned_amz_headers() {
    let later = now() + Duration::from_secs(3600);
    for settings in [
        SigningSettings::s3(),
        SigningSettings::s3().presigned(Duration::from_secs(60)),
    ] {
        let request = signed_for_s3(&settings);
        check(VerifierSettings::default(), &request, now(), later).unwrap();
        for (name, value) in [
            ("x-amz-acl", "public-read"),
            ("X-Amz-Copy-Source", "/other-bucket/secret"),
            ("x-amz-meta-owner", "mallory"),
        ] {
            let mut added = request.clone();
            added.headers.push((name.to_owned(), value.to_owned()));
            let error = check(VerifierSettings::default(), &added, now(), later).expect_err(name);
            let s3 = error.to_s3_error();
            assert_eq!(
                (s3.code, s3.status),
                ("AccessDenied", 403),
                "{name}: {error}"
            );
            assert!(
                error.to_string().contains(&name.to_ascii_lowercase()),
                "{error}"
            );
        }
    }
    // An unsigned x-amz-content-sha256 still enters the canonical request as the payload hash,
    // so it is bound anyway (and AWS answers SignatureDoesNotMatch for it).
    let mut presigned = signed_for_s3(&SigningSettings::s3().presigned(Duration::from_secs(60)));
    presigned.headers.push((
        "x-amz-content-sha256".to_owned(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_owned(),
    ));
    expect(
        check(VerifierSettings::default(), &presigned, now(), later),
        "SignatureDoesNotMatch",
        403,
        "unsigned payload hash",
    );
}

/// A presigned request that also carries an `Authorization` header (its own SigV4 signature,
/// or a bearer token a client forwarded across a redirect) is refused whatever the header
/// says: S3 answers `InvalidArgument` 400, "Only one auth mechanism allowed"; the other
/// services' code for a bad header stays.
#[test]
fn a_presigned_request_with_an_authorization_header_is_refused() {
    let later = now() + Duration::from_secs(3600);
    let presigned = signed_for_s3(&SigningSettings::s3().presigned(Duration::from_secs(60)));
    let header_signed = signed_for_s3(&SigningSettings::s3());
    let own_signature = header_signed.header("authorization").unwrap().to_owned();
    for authorization in [own_signature.as_str(), "Bearer eyJhbGciOi", "Basic YTpi"] {
        let mut both = presigned.clone();
        both.set_header("Authorization", authorization);
        let error =
            check(VerifierSettings::default(), &both, now(), later).expect_err(authorization);
        assert!(
            matches!(error, Error::MultipleAuthMechanisms { .. }),
            "{authorization}: {error:?}"
        );
        let s3 = error.to_s3_error();
        assert_eq!((s3.code, s3.status), ("InvalidArgument", 400), "{error}");
        assert!(error.to_string().contains("only one auth mechanism"));
        expect(
            Err(error),
            "AuthorizationHeaderMalformed",
            400,
            authorization,
        );
    }
    // Each alone verifies.
    check(VerifierSettings::default(), &presigned, now(), later).unwrap();
    check(VerifierSettings::default(), &header_signed, now(), later).unwrap();
}

/// The same rule for requests as `http` holds them (a `HeaderMap`, where the verifier first
/// compares the number of `x-amz-*` names with the number signed and searches only when they
/// differ): repeated and many signed `x-amz-*` headers verify; one unsigned is refused, also
/// when it stands in for a signed one that is gone (same count, different names); and a list
/// whose repeated name is not adjacent still verifies.
#[test]
fn s3_amz_header_rule_holds_for_header_maps_and_lists() {
    let verify = |view: &edgeward_signing::RequestView<'_>| verify_view(view, b"");
    let mut request = http::Request::builder()
        .method("PUT")
        .uri("http://example.com/bucket/key")
        .header("x-amz-meta-a", "1")
        .header("x-amz-meta-a", "2")
        .header("x-amz-acl", "private")
        .header("x-amz-storage-class", "STANDARD")
        .body(Vec::new())
        .unwrap();
    sign_for(&mut request, "s3", &SigningSettings::s3());
    verify(&edgeward_signing::RequestView::from_http(&request)).unwrap();

    let mut added = request.clone();
    added
        .headers_mut()
        .insert("x-amz-copy-source", "/other/secret".parse().unwrap());
    let error = verify(&edgeward_signing::RequestView::from_http(&added)).unwrap_err();
    assert!(matches!(error, Error::UnsignedAmzHeaders { .. }), "{error}");

    let mut swapped = request.clone();
    swapped.headers_mut().remove("x-amz-storage-class");
    swapped
        .headers_mut()
        .insert("x-amz-copy-source", "/other/secret".parse().unwrap());
    verify(&edgeward_signing::RequestView::from_http(&swapped)).unwrap_err();

    let mut list: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let second = list.iter().rposition(|(n, _)| n == "x-amz-meta-a").unwrap();
    let moved = list.remove(second);
    list.push(moved);
    fn view(list: &[(String, String)]) -> edgeward_signing::RequestView<'_> {
        edgeward_signing::RequestView {
            method: "PUT",
            path: "/bucket/key",
            query: None,
            headers: edgeward_signing::Headers::List(list),
            authority: Some("example.com"),
        }
    }
    // A list keeps names as sent: a signed one in another case is still signed.
    let acl = list.iter().position(|(n, _)| n == "x-amz-acl").unwrap();
    list[acl].0 = "X-Amz-Acl".to_owned();
    verify(&view(&list)).unwrap();
    list.push(("X-Amz-Tagging".to_owned(), "a=b".to_owned()));
    let error = verify(&view(&list)).unwrap_err();
    assert!(
        matches!(&error, Error::UnsignedAmzHeaders { names, .. } if names == "x-amz-tagging"),
        "{error:?}"
    );
}

/// S3 names every `x-amz-*` header it found unsigned, `, `-separated, as a recorded answer
/// lists two (`<HeadersNotSigned>x-amz-meta-infinsnap_start, x-amz-meta-infinsnap_end`): the
/// refusal lists them all, lower-case, each once, in the order sent, and not the signed ones;
/// and however many a peer sends, the list stays within its bound.
#[test]
fn every_unsigned_amz_header_is_named_once_in_the_order_sent() {
    let list = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut request = http::Request::builder()
            .method("PUT")
            .uri("http://example.com/bucket/key")
            .header("x-amz-acl", "private")
            .body(Vec::new())
            .unwrap();
        sign_for(&mut request, "s3", &SigningSettings::s3());
        let mut list: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        list.extend(
            extra
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        );
        list
    };
    let refused = |list: &[(String, String)]| {
        let view = edgeward_signing::RequestView {
            method: "PUT",
            path: "/bucket/key",
            query: None,
            headers: edgeward_signing::Headers::List(list),
            authority: Some("example.com"),
        };
        match verify_view(&view, b"") {
            Err(Error::UnsignedAmzHeaders { names, .. }) => names,
            other => panic!("{other:?}"),
        }
    };
    let sent = list(&[
        ("X-Amz-Meta-B", "1"),
        ("x-amz-tagging", "a=b"),
        ("x-amz-meta-b", "2"),
        ("x-amzn-trace-id", "Root=1"),
    ]);
    assert_eq!(refused(&sent), "x-amz-meta-b, x-amz-tagging");

    let many: Vec<(String, String)> = (0..1000)
        .map(|i| (format!("x-amz-meta-{i:04}"), "v".to_owned()))
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let names = refused(&list(&many));
    assert!(
        names.starts_with("x-amz-meta-0000, x-amz-meta-0001, "),
        "{names}"
    );
    // 256 bytes, then the mark of a cut.
    assert_eq!(names.len(), 256 + "…".len(), "{names}");
    assert!(names.ends_with('…'), "{names}");
}

/// A presigned `X-Amz-Date` that is not `YYYYMMDD'T'HHMMSS'Z'` is a malformed query
/// parameter: S3 answers `AuthorizationQueryParametersError` (400, "X-Amz-Date must be in the
/// ISO8601 Long Format"), not `AccessDenied`.
#[test]
fn a_malformed_presigned_date_is_a_query_parameters_error() {
    let later = now() + Duration::from_secs(3600);
    let presigned = signed(
        &SigningSettings::default().presigned(Duration::from_secs(60)),
        "AKID",
        None,
        now(),
        "",
    );
    for bad in ["20231114T2213Z", "2023-11-14T22:13:20Z", "20231114T221320"] {
        let mut request = presigned.clone();
        request.target = request
            .target
            .replace("X-Amz-Date=20231114T221320Z", &format!("X-Amz-Date={bad}"));
        assert_ne!(request.target, presigned.target);
        let error = check(VerifierSettings::default(), &request, now(), later).unwrap_err();
        assert_eq!(
            (error.aws_error_code(), error.http_status()),
            ("AuthorizationQueryParametersError", 400),
            "{bad}: {error}"
        );
    }
}

/// Two `Authorization` headers are one too many: the verifier would check the first while
/// whatever reads the request after it may take the other.
#[test]
fn two_authorization_headers_are_malformed() {
    let later = now() + Duration::from_secs(3600);
    let ok = signed(&SigningSettings::default(), "AKID", None, now(), "");
    for second in [
        "AWS4-HMAC-SHA256 Credential=AKIDNOBODY/20231114/us-east-1/service/aws4_request, SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000",
        "",
    ] {
        let mut twice = ok.clone();
        twice
            .headers
            .push(("Authorization".to_owned(), second.to_owned()));
        expect_header_malformed(
            check(VerifierSettings::default(), &twice, now(), later),
            "two Authorization headers",
        );
        // The same through an http::HeaderMap.
        let mut map = http::HeaderMap::new();
        for (name, value) in &twice.headers {
            map.append(
                http::HeaderName::try_from(name.as_str()).unwrap(),
                http::HeaderValue::try_from(value.as_str()).unwrap(),
            );
        }
        let mut view = twice.view();
        view.headers = edgeward_signing::Headers::Map(&map);
        let result = Verifier::new(lookup(later), VerifierSettings::default())
            .with_clock(Arc::new(FixedClock(now())))
            .verify(&view, Payload::Bytes(&twice.body))
            .now_or_never()
            .unwrap()
            .map(|_| ());
        expect_header_malformed(result, "two, in a map");
    }
}

/// An `X-Amz-Date` that is not text is a malformed date, not an absent one: the verifier does
/// not fall back to a `Date` header next to it.
#[test]
fn an_x_amz_date_that_is_not_text_is_malformed() {
    let mut request = http::Request::builder()
        .uri("http://example.com/a")
        .header("date", "Tue, 14 Nov 2023 22:13:20 GMT")
        .body(Vec::new())
        .unwrap();
    sign_for(&mut request, "service", &SigningSettings::default());
    request.headers_mut().insert(
        "x-amz-date",
        http::HeaderValue::from_bytes(b"20231114T221320Z\xff").unwrap(),
    );
    let error = verify_view(&edgeward_signing::RequestView::from_http(&request), b"").unwrap_err();
    assert!(matches!(error, Error::MalformedDate { .. }), "{error}");
}

/// An `Authorization` header that is not text (obs-text bytes, which `http` keeps) is a
/// malformed authorization header (`AuthorizationHeaderMalformed`, 400, as S3 names it), not a
/// presigned query's error. A hand mutant (round 7) that gave it the query's location, and so
/// `AuthorizationQueryParametersError`, was missed.
#[test]
fn an_authorization_header_that_is_not_text_is_malformed() {
    let mut request = http::Request::builder()
        .uri("http://example.com/a")
        .body(Vec::new())
        .unwrap();
    sign_for(&mut request, "service", &SigningSettings::default());
    let mut value = request.headers()["authorization"].as_bytes().to_vec();
    value.push(0xff);
    request.headers_mut().insert(
        "authorization",
        http::HeaderValue::from_bytes(&value).unwrap(),
    );
    expect_header_malformed(
        verify_view(&edgeward_signing::RequestView::from_http(&request), b""),
        "Authorization not text",
    );
}

/// An `X-Amz-Content-Sha256` or `X-Amz-Security-Token` that is not text is not an absent one
/// (here unsigned, which a service other than S3 allows): the first is a malformed payload
/// hash (`InvalidArgument`), the second a token that does not match (`InvalidClientTokenId`),
/// rather than a request verified with the body's hash, or with no token, and handed on with
/// a header nobody checked.
#[test]
fn a_payload_hash_or_token_that_is_not_text_is_refused() {
    let mut request = http::Request::builder()
        .uri("http://example.com/a")
        .header("host", "example.com")
        .body(Vec::new())
        .unwrap();
    sign_for(&mut request, "service", &SigningSettings::default());
    verify_view(&edgeward_signing::RequestView::from_http(&request), b"").unwrap();
    for (name, code) in [
        ("x-amz-content-sha256", "InvalidArgument"),
        ("x-amz-security-token", "InvalidClientTokenId"),
    ] {
        let mut request = request.clone();
        request.headers_mut().insert(
            name,
            http::HeaderValue::from_bytes(b"UNSIGNED-PAYLOAD\xff").unwrap(),
        );
        let error =
            verify_view(&edgeward_signing::RequestView::from_http(&request), b"").unwrap_err();
        assert_eq!(error.aws_error_code(), code, "{name}: {error}");
    }
}

/// Two `Host` headers name two hosts: the signature would cover both (joined by a comma) and
/// whatever reads the request after the verifier may take either, so the request is refused
/// (`InvalidRequest`, 400), from a header map and from a raw request alike.
#[test]
fn two_host_headers_are_refused() {
    let mut request = http::Request::builder()
        .uri("http://example.com/a")
        .header("host", "example.com")
        .body(Vec::new())
        .unwrap();
    sign_for(&mut request, "service", &SigningSettings::default());
    request
        .headers_mut()
        .append("host", http::HeaderValue::from_static("internal.example"));
    let from_map =
        verify_view(&edgeward_signing::RequestView::from_http(&request), b"").unwrap_err();

    let later = now() + Duration::from_secs(3600);
    let mut raw = signed(&SigningSettings::default(), "AKID", None, now(), "");
    raw.headers
        .push(("Host".to_owned(), "internal.example".to_owned()));
    let from_list = check(VerifierSettings::default(), &raw, now(), later).unwrap_err();

    for error in [from_map, from_list] {
        assert!(
            matches!(error, Error::RepeatedHeader { name: "host" }),
            "{error}"
        );
        assert_eq!(
            (error.aws_error_code(), error.http_status()),
            ("InvalidRequest", 400)
        );
    }
}

/// A request signed for `example.com` (`Host`), verified from a header map with its target's
/// authority set to `authority`, with or without the `Host` header.
fn verify_with_authority(authority: &str, host: bool) -> Result<(), Error> {
    let mut request = http::Request::builder()
        .uri("/a")
        .header("host", "example.com")
        .body(Vec::new())
        .unwrap();
    sign_for(&mut request, "service", &SigningSettings::default());
    *request.uri_mut() = format!("http://{authority}/a").parse().unwrap();
    if !host {
        request.headers_mut().remove("host");
    }
    verify_view(&edgeward_signing::RequestView::from_http(&request), b"")
}

/// The same from a raw request whose target is `target` (`GET /a?b=c` signed).
fn verify_with_target(target: &str, host: bool) -> Result<(), Error> {
    let mut raw = signed(&SigningSettings::default(), "AKID", None, now(), "");
    raw.target = target.to_owned();
    if !host {
        raw.remove_header("host");
    }
    check(
        VerifierSettings::default(),
        &raw,
        now(),
        now() + Duration::from_secs(3600),
    )
}

/// An absolute-form target (`GET http://host/a`) or HTTP/2's `:authority` names the host
/// beside the `Host` header, and a server that follows RFC 9112 routes by the former. So a
/// `Host` header that names another host is refused (`InvalidRequest`, 400) rather than
/// verified for the signed host and served for the other: from a header map and from a raw
/// request alike. The same host in another case, and the authority alone, verify.
#[test]
fn a_host_header_that_is_not_the_targets_authority_is_refused() {
    verify_with_authority("example.com", true).unwrap();
    verify_with_authority("Example.COM", true).unwrap();
    let from_map = verify_with_authority("internal.example", true).unwrap_err();
    verify_with_target("http://example.com/a?b=c", true).unwrap();
    verify_with_target("http://example.com/a?b=c", false).unwrap();
    let from_list = verify_with_target("http://internal.example/a?b=c", true).unwrap_err();

    for error in [from_map, from_list] {
        assert!(
            matches!(
                &error,
                Error::HostMismatch { host, authority }
                    if host == "example.com" && authority == "internal.example"
            ),
            "{error}"
        );
        assert_eq!(
            (
                error.aws_error_code(),
                error.s3_error_code(),
                error.http_status()
            ),
            ("InvalidRequest", "InvalidRequest", 400)
        );
    }
}

/// User information in the target's authority (`http://user:password@host/a`) is refused
/// (`InvalidRequest`, 400) whatever the `Host` header says, as RFC 9110 (4.2.4) asks of a
/// recipient, from a header map and from a raw request alike, and the refusal does not repeat
/// it (it is often a password). Before, a matching `Host` was refused as another host, with
/// the password in the message, and without one the userinfo was read as part of the host.
#[test]
fn user_information_in_the_targets_authority_is_refused_unrepeated() {
    verify_with_authority("example.com", true).unwrap();
    verify_with_target("http://example.com/a?b=c", true).unwrap();
    let mut refusals = Vec::new();
    for (authority, host) in [
        ("user:s3cr3t@example.com", true),
        ("user:s3cr3t@example.com", false),
        ("s3cr3t@example.com:80", true),
        ("user:s3cr3t@other.example", true),
    ] {
        refusals.push(verify_with_authority(authority, host).unwrap_err());
        let target = format!("http://{authority}/a?b=c");
        refusals.push(verify_with_target(&target, host).unwrap_err());
    }
    for error in refusals {
        assert!(matches!(error, Error::UserinfoInAuthority), "{error}");
        assert!(!error.to_string().contains("s3cr3t"), "{error}");
        assert_eq!(
            (
                error.aws_error_code(),
                error.s3_error_code(),
                error.http_status()
            ),
            ("InvalidRequest", "InvalidRequest", 400)
        );
    }
}

/// A scheme's default port written on one side only (the target's authority or the `Host`
/// header) names the same host (RFC 9110, 4.2.3). aws-sigv4, signing on its own here, leaves
/// it out of the host it signs for `https://example.com:443`, while an HTTP/2 client sends the
/// authority as written: that verifies, and so does a client that signed the port it sent.
/// Another port, or another host, does not.
#[test]
fn a_default_port_on_one_side_names_the_same_host() {
    use aws_sigv4::http_request::{SignableBody, SigningSettings};
    use edgeward_signing::RequestView;

    let aws_signed = |uri: &str, host: Option<&str>| {
        let mut request = http::Request::get(uri);
        if let Some(host) = host {
            request = request.header("host", host);
        }
        let request = request.body(Vec::new()).unwrap();
        let credentials = Credentials::from_keys("AKID", "secret", None);
        let payload = SignableBody::Bytes(b"");
        sign_with_aws_sigv4(
            request,
            credentials,
            "service",
            SigningSettings::default(),
            payload,
        )
    };
    let at = |request: &http::Request<Vec<u8>>, uri: &str, host: Option<&str>| {
        let mut request = request.clone();
        *request.uri_mut() = uri.parse().unwrap();
        match host {
            Some(host) => request.headers_mut().insert("host", host.parse().unwrap()),
            None => request.headers_mut().remove("host"),
        };
        verify_view(&RequestView::from_http(&request), b"")
    };

    // No `Host` header: the authority as sent, port and all, stands in for it.
    for uri in ["https://example.com:443/a", "http://example.com:80/a"] {
        let signed = aws_signed(uri, None);
        assert!(signed.headers().get("host").is_none());
        verify_view(&RequestView::from_http(&signed), b"").unwrap_or_else(|e| panic!("{uri}: {e}"));
    }
    let with_port = aws_signed("https://example.com:443/a", Some("example.com:443"));
    at(&with_port, "https://example.com:443/a", None).unwrap();

    // A `Host` header beside an authority that differs from it by a default port.
    let without_port = aws_signed("https://example.com/a", Some("example.com"));
    at(
        &without_port,
        "https://example.com:443/a",
        Some("example.com"),
    )
    .unwrap();
    at(&with_port, "https://example.com/a", Some("example.com:443")).unwrap();
    at(&with_port, "https://EXAMPLE.com/a", Some("example.com:443")).unwrap();

    // Another port is another host; so is another host on the default port, and so is the
    // other default port written on each side (RFC 9110 4.2.3 folds a default port written
    // or left out, not two ports one into the other).
    for (uri, host) in [
        ("https://example.com:8443/a", "example.com"),
        ("https://example.com/a", "example.com:8443"),
        ("https://other.example:443/a", "example.com"),
    ] {
        let error = at(&without_port, uri, Some(host)).unwrap_err();
        assert!(
            matches!(error, Error::HostMismatch { .. }),
            "{uri} {host}: {error}"
        );
    }
    let with_port_80 = aws_signed("http://example.com:80/a", Some("example.com:80"));
    for (signed, uri, host) in [
        (&with_port, "http://example.com:80/a", "example.com:443"),
        (&with_port_80, "https://example.com:443/a", "example.com:80"),
    ] {
        let error = at(signed, uri, Some(host)).unwrap_err();
        assert!(
            matches!(error, Error::HostMismatch { .. }),
            "{uri} {host}: {error}"
        );
    }
    for uri in ["https://example.com:8443/a", "https://other.example:443/a"] {
        let error = at(&without_port, uri, None).unwrap_err();
        assert!(
            matches!(error, Error::SignatureDoesNotMatch { .. }),
            "{uri}: {error}"
        );
    }
}

/// The other headers the verifier reads by name are singletons too: it reads the first value
/// while the signature covers them all, so a second `X-Amz-Date`, `X-Amz-Content-Sha256` or
/// `X-Amz-Security-Token` is refused rather than read one way and signed another.
#[test]
fn repeated_singleton_headers_are_refused() {
    let later = now() + Duration::from_secs(3600);
    let signed = signed(&SigningSettings::s3(), "ASIA", Some("tok"), now(), "");
    check(VerifierSettings::default(), &signed, now(), later).unwrap();
    for name in ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token"] {
        let mut request = signed.clone();
        let value = request.header(name).unwrap().to_owned();
        request.headers.push((name.to_ascii_uppercase(), value));
        let error = check(VerifierSettings::default(), &request, now(), later).unwrap_err();
        assert!(
            matches!(error, Error::RepeatedHeader { name: repeated } if repeated == name),
            "{name}: {error}"
        );
    }
}

/// A `GET` of `uri` (host `example.com`, empty body) signed in the header by aws-sigv4 on its
/// own, not through our signer, for `service` in `us-east-1` at [`now`].
fn signed_by_aws_sigv4(uri: &str, credentials: Credentials) -> http::Request<Vec<u8>> {
    let request = http::Request::get(uri)
        .header("host", "example.com")
        .body(Vec::new())
        .unwrap();
    let settings = aws_sigv4::http_request::SigningSettings::default();
    let payload = aws_sigv4::http_request::SignableBody::Bytes(b"");
    sign_with_aws_sigv4(request, credentials, "service", settings, payload)
}

/// `request` (whose only header is `host`) signed in the header by aws-sigv4 on its own, for
/// `service` in `us-east-1` at [`now`], with `payload` as the payload it signs.
fn sign_with_aws_sigv4(
    mut request: http::Request<Vec<u8>>,
    credentials: Credentials,
    service: &str,
    settings: aws_sigv4::http_request::SigningSettings,
    payload: aws_sigv4::http_request::SignableBody<'_>,
) -> http::Request<Vec<u8>> {
    use aws_sigv4::http_request::{sign, SignableRequest};
    use aws_smithy_runtime_api::client::identity::Identity;

    let identity: Identity = credentials.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.to_str().unwrap()))
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.uri().to_string(),
        headers.into_iter(),
        payload,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request
}

/// A raw `+` in a query is a space, as aws-sigv4 (here signing on its own, not through our
/// signer) and form decoding read it: a request aws-sigv4 signed with `q=a+b` verifies, and so
/// does the same request with `%20` in place of the `+` (one value, two spellings), while `%2B`
/// (a literal plus, another value) fails.
#[test]
fn a_raw_plus_in_a_query_is_a_space() {
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let request = signed_by_aws_sigv4("http://example.com/find?q=a+b&r=c", credentials);
    verify_view(&edgeward_signing::RequestView::from_http(&request), b"").unwrap();

    let respelled = |spelling: &str| {
        let mut request = request.clone();
        let uri = request.uri().to_string().replace("q=a+b", spelling);
        *request.uri_mut() = uri.parse().unwrap();
        verify_view(&edgeward_signing::RequestView::from_http(&request), b"")
    };
    respelled("q=a%20b").unwrap();
    let error = respelled("q=a%2Bb").unwrap_err();
    assert!(
        matches!(error, Error::SignatureDoesNotMatch { .. }),
        "{error}"
    );
}

/// The trailers a streamed body may carry are the ones a *signed* `x-amz-trailer` names, for
/// any service, not only S3 (whose rule signs every `x-amz-*` header): on
/// `STREAMING-UNSIGNED-PAYLOAD-TRAILER` nothing else vouches for them, so an `x-amz-trailer`
/// added after signing is refused before the body is read; signed, the trailer it names passes.
#[test]
fn a_streamed_body_takes_its_trailers_from_a_signed_x_amz_trailer() {
    use edgeward_signing::ChunkChainVerifier;

    let body = b"5\r\nhello\r\n0\r\nx-amz-meta-role:admin\r\n\r\n";
    let decode = |sign_trailer_header: bool| -> Result<ChunkChainVerifier, Error> {
        let mut request = http::Request::put("http://example.com/upload")
            .header("host", "example.com")
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", "5")
            .header("x-amz-trailer", "x-amz-meta-role")
            .body(Vec::new())
            .unwrap();
        let mut chain = streamed_body_verifier(&mut request, sign_trailer_header)?.unwrap();
        chain.push(body, &mut Vec::new())?;
        chain.finish()?;
        Ok(chain)
    };
    let chain = decode(true).unwrap();
    assert_eq!(
        chain.trailers(),
        [("x-amz-meta-role".to_owned(), "admin".to_owned())]
    );
    let error = decode(false).map(|_| ()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::RequiredHeaderNotSigned {
                header: "x-amz-trailer",
                ..
            }
        ),
        "{error:?}"
    );
}

/// A request carries its session token in one place: the `X-Amz-Security-Token` query
/// parameter of a presigned request, or the header of one signed in the `Authorization`
/// header. A token in the other place as well is never compared with the credential, while
/// the service behind the verifier may read that one (to open a sealed token, say, and act for
/// its principal): it must be the same token, or the request is refused
/// (`SessionTokenMismatch`). Beside a presigned query the header need not even be signed.
#[test]
fn a_second_session_token_must_be_the_same() {
    let verify = |request: &http::Request<Vec<u8>>| {
        verify_view(
            &edgeward_signing::RequestView::from_http(request),
            request.body(),
        )
    };
    let sign = |uri: &str, settings: &SigningSettings| {
        let mut request = http::Request::builder().uri(uri).body(Vec::new()).unwrap();
        let creds = Credentials::from_keys("ASIA", "tsecret", Some("tok".to_owned()));
        let params = SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service: "service",
            time: now(),
        };
        edgeward_signing::sign_http(&mut request, &params, settings).unwrap();
        request
    };

    let presigned = sign(
        "http://example.com/a?b=c",
        &SigningSettings::default().presigned(Duration::from_secs(600)),
    );
    verify(&presigned).unwrap();
    let mut same = presigned.clone();
    same.headers_mut()
        .insert("x-amz-security-token", "tok".parse().unwrap());
    verify(&same).unwrap();
    let mut other = presigned.clone();
    other
        .headers_mut()
        .insert("x-amz-security-token", "someone-elses".parse().unwrap());
    let error = verify(&other).unwrap_err();
    assert!(matches!(error, Error::SessionTokenMismatch), "{error}");

    // Signed in the header (by aws-sigv4: our signer drops the authentication parameters
    // from a query), with the parameter signed like any other.
    let header_signed = |query: &str| {
        let credentials = Credentials::from_keys("ASIA", "tsecret", Some("tok".to_owned()));
        let request = signed_by_aws_sigv4(&format!("http://example.com/a?{query}"), credentials);
        assert_eq!(request.headers()["x-amz-security-token"], "tok");
        request
    };
    verify(&header_signed("b=c")).unwrap();
    verify(&header_signed("X-Amz-Security-Token=tok")).unwrap();
    for query in [
        "X-Amz-Security-Token=someone-elses",
        "b=c&X-Amz-Security-Token=tok&X%2DAmz-Security-Token=someone-elses",
        // The key's first character escaped, after an empty piece.
        "b=c&&%58-Amz-Security-Token=someone-elses",
    ] {
        let error = verify(&header_signed(query)).unwrap_err();
        assert!(
            matches!(error, Error::SessionTokenMismatch),
            "{query}: {error}"
        );
    }
}

/// `x-amz-decoded-content-length` is read by name and holds the decoded body to its value:
/// sent twice, it would be signed as the two values joined (`5,1000`), held to the first, and
/// handed to the service as the joined line. It is refused, as the headers the verifier reads
/// by name are, before the body is read.
#[test]
fn a_decoded_length_sent_twice_is_refused() {
    let chain_for = |lengths: &[&str]| {
        let mut request = http::Request::put("http://example.com/upload")
            .header("host", "example.com")
            .header("content-encoding", "aws-chunked");
        for length in lengths {
            request = request.header("x-amz-decoded-content-length", *length);
        }
        let mut request = request.body(Vec::new()).unwrap();
        streamed_body_verifier(&mut request, true)
            .map(|chain| chain.and_then(|chain| chain.decoded_length_declared()))
    };
    assert_eq!(chain_for(&["5"]).unwrap(), Some(5));
    for lengths in [&["5", "1000"][..], &["5", "5"]] {
        let error = chain_for(lengths).unwrap_err();
        assert!(
            matches!(
                error,
                Error::RepeatedHeader {
                    name: "x-amz-decoded-content-length"
                }
            ),
            "{lengths:?}: {error:?}"
        );
    }
}

/// A skew window too long for the clock to hold (`Duration::MAX`, "do not check the clock")
/// lets any request time pass; it does not panic on a presigned request, whose "not yet
/// valid" test adds the window to the server's time.
#[test]
fn a_skew_window_past_the_clocks_end_does_not_panic() {
    let mut settings = VerifierSettings::default();
    settings.max_skew = Duration::MAX;
    let later = now() + Duration::from_secs(3600);
    let header = signed(&SigningSettings::default(), "AKID", None, now(), "");
    check(settings.clone(), &header, now(), later).unwrap();
    let presigned = signed(
        &SigningSettings::default().presigned(Duration::from_secs(60)),
        "AKID",
        None,
        now(),
        "",
    );
    check(settings, &presigned, now(), later).unwrap();
}

/// A `PUT /bucket/key` of `hello` whose `x-amz-content-sha256` says `payload`, signed in the
/// header by aws-sigv4 on its own (not through our signer) for `service` at [`now`].
fn put_signed_by_aws_sigv4(
    service: &str,
    payload: aws_sigv4::http_request::SignableBody<'_>,
) -> http::Request<Vec<u8>> {
    use aws_sigv4::http_request::{PayloadChecksumKind, SigningSettings};

    let request = http::Request::put("http://example.com/bucket/key")
        .header("host", "example.com")
        .body(b"hello".to_vec())
        .unwrap();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let credentials = Credentials::from_keys("AKID", "secret", None);
    sign_with_aws_sigv4(request, credentials, service, settings, payload)
}

/// `UnsignedPayload::Reject` refuses every payload the signature does not cover, with the code
/// S3 answers when a bucket policy refuses them (`AccessDenied`, 403), and only once the
/// signature verified, as S3 checks a bucket policy: an unknown key or a wrong signature gets
/// the error it gets without the policy. Payloads the signature covers (a hash, a signed chunk
/// chain) still verify. The default accepts both kinds.
#[test]
fn a_service_may_require_signed_payloads() {
    use aws_sigv4::http_request::SignableBody;
    use edgeward_signing::{PayloadKind, UnsignedPayload};

    let verify_with = |policy: UnsignedPayload, request: &http::Request<Vec<u8>>| {
        let mut settings = VerifierSettings::default();
        settings.unsigned_payload = policy;
        let verifier = Verifier::new(lookup(now() + Duration::from_secs(3600)), settings)
            .with_clock(Arc::new(FixedClock(now())));
        let view = edgeward_signing::RequestView::from_http(request);
        // The policy is the subject, not the body: a streamed one (not `aws-chunked` here) is
        // verified as the layer verifies it, before its body.
        let streamed = request
            .headers()
            .get("x-amz-content-sha256")
            .is_some_and(|v| v.as_bytes().starts_with(b"STREAMING-"));
        let payload = match streamed {
            true => Payload::Unavailable,
            false => Payload::Bytes(request.body()),
        };
        verifier.verify(&view, payload).now_or_never().unwrap()
    };

    for service in ["s3", "service"] {
        for (payload, header) in [
            (SignableBody::UnsignedPayload, "UNSIGNED-PAYLOAD"),
            (
                SignableBody::StreamingUnsignedPayloadTrailer,
                "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            ),
        ] {
            let request = put_signed_by_aws_sigv4(service, payload);
            assert_eq!(request.headers()["x-amz-content-sha256"], header);
            let accepted = verify_with(UnsignedPayload::Accept, &request)
                .unwrap_or_else(|e| panic!("{service} {header}: {e}"));
            assert!(
                matches!(
                    accepted.payload(),
                    PayloadKind::Unsigned | PayloadKind::StreamingUnsignedTrailer
                ),
                "{service} {header}: {:?}",
                accepted.payload()
            );
            let error = verify_with(UnsignedPayload::Reject, &request).unwrap_err();
            assert!(
                matches!(error, Error::UnsignedPayloadRefused { payload } if payload == header),
                "{service} {header}: {error}"
            );
            assert_eq!(
                (
                    error.aws_error_code(),
                    error.s3_error_code(),
                    error.http_status()
                ),
                ("AccessDenied", "AccessDenied", 403),
                "{service} {header}"
            );
            // Only the signer learns the policy.
            let altered = |from: &str, to: &str| {
                let mut altered = request.clone();
                let auth = altered.headers()["authorization"].to_str().unwrap();
                let auth = auth.replace(from, to);
                altered
                    .headers_mut()
                    .insert("authorization", auth.parse().unwrap());
                verify_with(UnsignedPayload::Reject, &altered).unwrap_err()
            };
            let error = altered("Credential=AKID/", "Credential=NOBODY/");
            assert!(
                matches!(error, Error::UnknownAccessKey { .. }),
                "{service} {header}: {error}"
            );
            let signature = request.headers()["authorization"].to_str().unwrap();
            let signature = &signature[signature.len() - 64..];
            let flipped = if signature.starts_with('0') { "1" } else { "0" };
            let error = altered(
                &format!("Signature={}", &signature[..1]),
                &format!("Signature={flipped}"),
            );
            assert!(
                matches!(error, Error::SignatureDoesNotMatch { .. }),
                "{service} {header}: {error}"
            );
        }

        let hashed = put_signed_by_aws_sigv4(service, SignableBody::Bytes(b"hello"));
        let verified = verify_with(UnsignedPayload::Reject, &hashed)
            .unwrap_or_else(|e| panic!("{service} hashed: {e}"));
        assert!(
            matches!(
                verified.payload(),
                PayloadKind::Sha256 {
                    body_checked: true,
                    ..
                }
            ),
            "{service}: {:?}",
            verified.payload()
        );
        let chained = put_signed_by_aws_sigv4(
            service,
            SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_owned()),
        );
        let verified = verify_with(UnsignedPayload::Reject, &chained)
            .unwrap_or_else(|e| panic!("{service} chained: {e}"));
        assert!(
            matches!(
                verified.payload(),
                PayloadKind::StreamingSigned { trailer: false }
            ),
            "{service}: {:?}",
            verified.payload()
        );
    }

    // An S3 presigned URL's payload is always unsigned.
    let presigned = signed_for_s3(&SigningSettings::s3().presigned(Duration::from_secs(60)));
    let mut strict = VerifierSettings::default();
    strict.unsigned_payload = UnsignedPayload::Reject;
    let later = now() + Duration::from_secs(3600);
    check(VerifierSettings::default(), &presigned, now(), later).unwrap();
    expect(
        check(strict, &presigned, now(), later),
        "AccessDenied",
        403,
        "presigned S3 URL under Reject",
    );
}

/// `GET /` to example.com with a `Date` header and no `X-Amz-Date`, signed (`date;host`) for
/// AKID at [`now`] by hand (see `support/hand_signed.rs`). `string_to_sign_time` is the
/// string-to-sign's time.
fn signed_with_a_date_header(date: &str, string_to_sign_time: &str) -> RawRequest {
    let day = &string_to_sign_time[..8];
    let signature = hand_signed::date_header_signature(date, string_to_sign_time);
    let text = format!(
        "GET / HTTP/1.1\nHost: example.com\nDate: {date}\nAuthorization: AWS4-HMAC-SHA256 \
         Credential=AKID/{day}/us-east-1/service/aws4_request, SignedHeaders=date;host, \
         Signature={signature}\n\n"
    );
    RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap()
}

/// A `Date` header signs in place of `X-Amz-Date` in either form AWS reads: ISO 8601 basic,
/// the one AWS documents for it (General Reference, "Handling dates in Signature Version 4";
/// S3 API Reference, common request headers: "If the Date header is to be used for signing it
/// must be specified in the ISO 8601 basic format"; MinIO's `doesSignatureMatch` parses only
/// that), and the IMF-fixdate of the 2011 AWS test suite. Either is the time the window holds.
#[test]
fn a_date_header_signs_in_iso8601_basic_or_imf_fixdate_form() {
    let skewed = now() + Duration::from_secs(901);
    for date in ["20231114T221320Z", "Tue, 14 Nov 2023 22:13:20 GMT"] {
        let request = signed_with_a_date_header(date, "20231114T221320Z");
        check(VerifierSettings::default(), &request, now(), now()).unwrap();
        let late = check(VerifierSettings::default(), &request, skewed, now());
        expect(late, "RequestTimeTooSkewed", 403, date);
    }
    // The ISO form is the string-to-sign's time as sent; a signature over another is refused.
    let other_time = signed_with_a_date_header("20231114T221320Z", "20231114T221321Z");
    let mismatch = check(VerifierSettings::default(), &other_time, now(), now());
    expect(
        mismatch,
        "SignatureDoesNotMatch",
        403,
        "another string-to-sign time",
    );
}

/// A `SignatureDoesNotMatch` carries the canonical request, which holds the session token (a
/// header line, or a query parameter when presigned): its `Debug` form, which an `unwrap` or
/// a `?error` log prints, shows the token's length in its place, as every `Debug` of the
/// crate does (`redact.rs`); `canonical_request_redacted` gives that text.
#[test]
fn a_mismatch_does_not_print_the_session_token_in_debug() {
    const TOKEN: &str = "SECRETSESSIONTOKEN";
    let lookup = StaticCredentials::new().with(
        "ASIA",
        ResolvedCredential::temporary("tsecret", "role", TOKEN, now() + Duration::from_secs(60)),
    );
    let verifier =
        Verifier::new(lookup, VerifierSettings::default()).with_clock(Arc::new(FixedClock(now())));
    let presigned = SigningSettings::default().presigned(Duration::from_secs(60));
    for settings in [SigningSettings::default(), presigned] {
        let text = "GET /a HTTP/1.1\nHost:example.com\n\n";
        let mut request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
        let creds = Credentials::from_keys("ASIA", "tsecret", Some(TOKEN.to_owned()));
        let params = SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service: "service",
            time: now(),
        };
        sign_raw(&mut request, &params, &settings).unwrap();
        request.target = request.target.replacen("/a", "/b", 1);
        let error = verifier
            .verify(&request.view(), Payload::Bytes(&request.body))
            .now_or_never()
            .unwrap()
            .unwrap_err();
        let details = error.mismatch_details().expect("a mismatch");
        assert!(details.canonical_request.contains(TOKEN), "{error}");
        let debug = format!("{error:?}");
        assert!(!debug.contains(TOKEN), "{debug}");
        assert!(debug.contains("** redacted, 18 bytes **"), "{debug}");
        assert!(!details.canonical_request_redacted().contains(TOKEN));
    }
}

/// A presigned URL dated ahead of the server's clock is accepted once the skew window reaches
/// its `X-Amz-Date`; the refusal before that names that moment, not the `X-Amz-Date`, and
/// carries the request's time, its expiry and the server's clock (S3's answer shows all three).
#[test]
fn a_presigned_url_not_yet_valid_names_when_it_becomes_valid() {
    let presigned = SigningSettings::default().presigned(Duration::from_secs(60));
    let request = signed(&presigned, "AKID", None, now(), "");
    let valid_from = now() - Duration::from_secs(15 * 60);
    let early = valid_from - Duration::from_secs(1);
    let settings = VerifierSettings::default;
    match check(settings(), &request, early, now()).unwrap_err() {
        Error::PresignedNotYetValid {
            valid_from: named,
            request_time,
            expires_at,
            server_time,
        } => {
            assert_eq!(named, valid_from);
            assert_eq!(request_time, now());
            assert_eq!(expires_at, now() + Duration::from_secs(60));
            assert_eq!(server_time, early);
        }
        other => panic!("{other}"),
    }
    check(settings(), &request, valid_from, now()).unwrap();
}

/// A presigned URL past its time is refused with when it expired, its `X-Amz-Expires` and the
/// server's clock (S3's answer shows all three), and accepted up to that moment.
#[test]
fn a_presigned_url_past_its_time_names_when_it_expired() {
    let presigned = SigningSettings::default().presigned(Duration::from_secs(60));
    let request = signed(&presigned, "AKID", None, now(), "");
    let expiry = now() + Duration::from_secs(60);
    let late = expiry + Duration::from_secs(1);
    let settings = VerifierSettings::default;
    match check(settings(), &request, late, now()).unwrap_err() {
        Error::PresignedExpired {
            expired_at,
            expires_secs,
            server_time,
        } => {
            assert_eq!(expired_at, expiry);
            assert_eq!(expires_secs, 60);
            assert_eq!(server_time, late);
        }
        other => panic!("{other}"),
    }
    check(settings(), &request, expiry, now()).unwrap();
}

/// A signed header that shares `x-amz-date`'s length and its first eight or last two bytes
/// (`x-amz-dabc`, `x-amz-zzte`) does not sign the date: the request is refused as if
/// `x-amz-date` were left out. Mutants of the word-at-a-time name test
/// (`&&` → `||` at auth.rs:406) took either for it.
#[test]
fn a_look_alike_of_x_amz_date_does_not_sign_it() {
    for look_alike in ["x-amz-dabc", "x-amz-zzte"] {
        let mut request = signed(
            &SigningSettings::default(),
            "AKID",
            None,
            now(),
            &format!("{look_alike}: 1\n"),
        );
        let auth = request.header("authorization").unwrap().to_owned();
        let mut names = ["host", look_alike, "x-amz-date"];
        names.sort_unstable();
        let signed_list = format!("SignedHeaders={}", names.join(";"));
        assert!(auth.contains(&signed_list), "{auth}");
        let without_date = auth.replace(&signed_list, &format!("SignedHeaders=host;{look_alike}"));
        request.set_header("Authorization", &without_date);
        let got = check(
            VerifierSettings::default(),
            &request,
            now(),
            now() + Duration::from_secs(3600),
        );
        assert!(
            matches!(
                got,
                Err(Error::RequiredHeaderNotSigned {
                    header: "x-amz-date",
                    ..
                })
            ),
            "{look_alike}: {got:?}"
        );
    }
}

/// `GET {path}?{query}` to example.com, authenticated in its query without `X-Amz-Expires`
/// (as AWS IoT's WebSocket URLs are; the services' common query parameters have none), signed
/// `host` by hand for `service` at [`now`] (see `support/hand_signed.rs`).
fn query_signed_without_expires(service: &str) -> RawRequest {
    let time = "20231114T221320Z";
    let query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20231114%2Fus-east-1%2F\
         {service}%2Faws4_request&X-Amz-Date={time}&X-Amz-SignedHeaders=host"
    );
    let payload = if service == "s3" {
        "UNSIGNED-PAYLOAD"
    } else {
        hand_signed::EMPTY_SHA256
    };
    let canonical = format!("GET\n/mqtt\n{query}\nhost:example.com\n\nhost\n{payload}");
    let signature = hand_signed::signature(&canonical, time, service);
    let text =
        format!("GET /mqtt?{query}&X-Amz-Signature={signature} HTTP/1.1\nHost: example.com\n\n");
    RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap()
}

/// Query authentication without `X-Amz-Expires` verifies for a service other than S3 and is
/// held to the clock-skew window, as a signed header is; S3 requires the parameter.
#[test]
fn query_authentication_without_expires_is_held_to_the_skew_window() {
    let request = query_signed_without_expires("iotdevicegateway");
    for clock in [
        now() - Duration::from_secs(900),
        now() + Duration::from_secs(900),
    ] {
        check(VerifierSettings::default(), &request, clock, now()).unwrap();
    }
    for clock in [
        now() - Duration::from_secs(901),
        now() + Duration::from_secs(901),
    ] {
        let skewed = check(VerifierSettings::default(), &request, clock, now());
        expect(skewed, "RequestTimeTooSkewed", 403, "beyond the window");
    }
    let s3 = query_signed_without_expires("s3");
    let incomplete = check(VerifierSettings::default(), &s3, now(), now());
    assert!(
        matches!(
            incomplete,
            Err(Error::IncompleteSignature {
                component: "X-Amz-Expires",
                ..
            })
        ),
        "{incomplete:?}"
    );
    expect(
        incomplete,
        "AuthorizationQueryParametersError",
        400,
        "S3 without expires",
    );
}

/// An exclusion list that leaves out a header every verifier wants signed (`host`, and
/// `x-amz-date` beside an `Authorization` header) is refused by the signer, by name: raw
/// aws-sigv4 signs under the same list, and the verifier refuses what it signs for the header
/// left out. In a presigned signature `x-amz-date` leaves nothing out (its time is the
/// `X-Amz-Date` parameter): ours signs it, and it verifies.
#[test]
fn the_signer_refuses_to_leave_out_a_header_the_verifier_requires() {
    use aws_sigv4::http_request::{SignableBody, SignatureLocation};

    let credentials = Credentials::from_keys("AKID", "secret", None);
    for presign in [false, true] {
        for left_out in ["host", "x-amz-date"] {
            let request = || {
                http::Request::get("http://example.com/a?b=c")
                    .header("host", "example.com")
                    .body(Vec::new())
                    .unwrap()
            };
            let mut settings = SigningSettings::default();
            if presign {
                settings = settings.presigned(Duration::from_secs(60));
            }
            settings.excluded_headers.push(left_out.into());
            let mut ours = request();
            let params = SigningParams {
                credentials: &credentials,
                region: "us-east-1",
                service: "service",
                time: now(),
            };
            let signed = edgeward_signing::sign_http(&mut ours, &params, &settings);
            let what = format!("{left_out} left out, presign={presign}");
            if presign && left_out == "x-amz-date" {
                signed.unwrap_or_else(|e| panic!("{what}: {e}"));
                verify_view(&edgeward_signing::RequestView::from_http(&ours), b"")
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                continue;
            }
            match signed {
                Err(Error::InvalidSigningInput { reason }) => {
                    assert!(
                        reason.contains(&format!("`{left_out}`")),
                        "{what}: {reason}"
                    );
                }
                other => panic!("{what}: {other:?}"),
            }
            let unsigned = request();
            let unchanged = (ours.uri(), ours.headers()) == (unsigned.uri(), unsigned.headers());
            assert!(unchanged, "{what}: the request changed: {ours:?}");

            let mut aws = aws_sigv4::http_request::SigningSettings::default();
            aws.excluded_headers = Some(vec![left_out.into()]);
            if presign {
                aws.signature_location = SignatureLocation::QueryParams;
                aws.expires_in = Some(Duration::from_secs(60));
            }
            let theirs = sign_with_aws_sigv4(
                request(),
                credentials.clone(),
                "service",
                aws,
                SignableBody::Bytes(b""),
            );
            let got = verify_view(&edgeward_signing::RequestView::from_http(&theirs), b"");
            // A presigned signature over no header at all has an empty `X-Amz-SignedHeaders`.
            let refused = match &got {
                Err(Error::RequiredHeaderNotSigned { header, .. }) => *header == left_out,
                Err(Error::MalformedAuthorization { reason, .. }) => {
                    presign && reason == "SignedHeaders is empty"
                }
                _ => false,
            };
            assert!(refused, "{what}: aws-sigv4's signature: {got:?}");
        }
    }
}

/// The default settings but for the one region accepted, `eu-west-1`.
fn eu_west_1_only() -> VerifierSettings {
    let mut settings = VerifierSettings::default();
    settings.regions = Accept::OneOf(vec!["eu-west-1".into()]);
    settings
}

/// The region `request` is verified as signed for, behind a verifier with `settings`.
fn region_verified(
    settings: VerifierSettings,
    request: &http::Request<Vec<u8>>,
) -> Result<String, Error> {
    Verifier::new(lookup(now()), settings)
        .with_clock(Arc::new(FixedClock(now())))
        .verify(
            &edgeward_signing::RequestView::from_http(request),
            Payload::Bytes(b""),
        )
        .now_or_never()
        .unwrap()
        .map(|verified| verified.scope().region.to_owned())
}

/// `method` `target` signed by aws-sigv4 on its own for `service` in `us-east-1` with S3's
/// settings, in the `Authorization` header or, when `presigned`, in the query.
fn location_attempt(
    method: &str,
    target: &str,
    service: &str,
    presigned: bool,
) -> http::Request<Vec<u8>> {
    location_attempt_at("example.com", method, target, service, presigned)
}

/// [`location_attempt`] to `host`.
fn location_attempt_at(
    host: &str,
    method: &str,
    target: &str,
    service: &str,
    presigned: bool,
) -> http::Request<Vec<u8>> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignatureLocation, SigningSettings,
        UriPathNormalizationMode,
    };

    let request = http::Request::builder()
        .method(method)
        .uri(format!("http://{host}{target}"))
        .header("host", host)
        .body(Vec::new())
        .unwrap();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let payload = if presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(60));
        SignableBody::UnsignedPayload
    } else {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        SignableBody::Bytes(b"")
    };
    let credentials = Credentials::from_keys("AKID", "secret", None);
    sign_with_aws_sigv4(request, credentials, service, settings, payload)
}

/// S3's bucket-location request, signed for `us-east-1` as MinIO's SDKs sign it before they
/// know a bucket's region, verifies behind a verifier that accepts `eu-west-1` alone: in each
/// of its forms (path-style with and without minio-go's trailing `/`, virtual-hosted; `location`
/// with and without `=`), with the region signed for in the verified scope and its signature
/// still checked. Anything else signed for `us-east-1` is refused as before: another method,
/// an object's path (a `/` escaped as `%2F` included), another query, another service, a
/// presigned URL, `ListBuckets`; and the location request too under
/// `LocationRequests::AcceptedRegionsOnly`.
#[test]
fn an_s3_location_request_may_name_any_region() {
    use edgeward_signing::LocationRequests;

    // `None`: the default settings'.
    let verify = |location_requests: Option<LocationRequests>, request: &http::Request<Vec<u8>>| {
        let mut settings = eu_west_1_only();
        if let Some(location_requests) = location_requests {
            settings.location_requests = location_requests;
        }
        region_verified(settings, request)
    };
    let location_forms = [
        "/bucket?location",
        "/bucket/?location=",
        "/?location",
        "/bucket?location=",
        "/Legacy_bucket.name-1?location",
    ];
    for target in location_forms {
        let request = location_attempt("GET", target, "s3", false);
        let region = verify(None, &request);
        assert_eq!(
            region.as_deref().ok(),
            Some("us-east-1"),
            "{target}: {region:?}"
        );

        let refused = verify(Some(LocationRequests::AcceptedRegionsOnly), &request).unwrap_err();
        assert!(
            matches!(refused, Error::RegionNotAccepted { .. }),
            "{target}: {refused}"
        );

        let mut forged = request.clone();
        let authorization = forged.headers()["authorization"]
            .to_str()
            .unwrap()
            .to_owned();
        let (rest, signature) = authorization.rsplit_once('=').unwrap();
        let flipped = if signature.starts_with('0') { "1" } else { "0" };
        let value = format!("{rest}={flipped}{}", &signature[1..]);
        forged
            .headers_mut()
            .insert("authorization", value.parse().unwrap());
        let mismatch = verify(None, &forged).unwrap_err();
        assert!(
            matches!(mismatch, Error::SignatureDoesNotMatch { .. }),
            "{target}: {mismatch}"
        );
    }

    for (method, target, service, presigned) in [
        ("PUT", "/bucket?location", "s3", false),
        ("HEAD", "/bucket?location", "s3", false),
        ("GET", "/bucket/key?location", "s3", false),
        ("GET", "/bucket/key/?location", "s3", false),
        ("GET", "//?location", "s3", false),
        ("GET", "/bucket%2Fkey?location", "s3", false),
        ("GET", "/bucket%2fkey/?location", "s3", false),
        ("GET", "/bucket//?location", "s3", false),
        ("GET", "/bucket?location&prefix=a", "s3", false),
        ("GET", "/bucket?location=eu-west-1", "s3", false),
        ("GET", "/bucket?locations", "s3", false),
        ("GET", "/bucket?acl", "s3", false),
        ("GET", "/bucket", "s3", false),
        ("GET", "/", "s3", false),
        ("GET", "/bucket?location", "s3express", false),
        ("GET", "/bucket?location", "execute-api", false),
        ("GET", "/bucket?location", "s3", true),
    ] {
        let request = location_attempt(method, target, service, presigned);
        let refused = verify(None, &request);
        assert!(
            matches!(refused, Err(Error::RegionNotAccepted { .. })),
            "{method} {target} for {service} (presigned: {presigned}): {refused:?}"
        );
    }
}

/// With the service's S3 domains named, its `Host` tells a path-style request from one to a
/// virtual-hosted bucket: signed for `us-east-1` behind a verifier that accepts `eu-west-1`
/// alone, a location request is accepted in the one form its host allows
/// (`/{bucket}?location` at a domain, `/?location` at a bucket's host), and `ListBuckets`
/// (`GET /` at a domain, its query none or its own parameters), as MinIO accepts them; a virtual-hosted
/// `GET /{key}?location`, which without domains cannot be told from a path-style location
/// request, and a virtual-hosted `ListObjects` (`GET /`) are refused. Host names compare
/// without regard to case, a port or a trailing dot; a host that only starts or ends like a
/// domain is another host.
#[test]
fn s3_domains_tell_path_style_from_virtual_hosted() {
    use edgeward_signing::LocationRequests;

    let verify = |location_requests: LocationRequests, request: &http::Request<Vec<u8>>| {
        let mut settings = eu_west_1_only();
        settings.location_requests = location_requests;
        settings.s3_domains = vec!["s3.example.com".into(), "[::1]".into()];
        region_verified(settings, request)
    };
    for (host, target) in [
        ("s3.example.com", "/bucket?location"),
        ("s3.example.com", "/bucket/?location="),
        ("S3.Example.COM:9000", "/bucket?location"),
        ("s3.example.com.", "/bucket?location"),
        ("bucket.s3.example.com", "/?location"),
        ("files.example.org", "/?location"),
        ("s3.example.com", "/"),
        ("s3.example.com", "/?max-buckets=10&prefix=a"),
        ("s3.example.com:443", "/?x-id=ListBuckets"),
        (
            "s3.example.com",
            "/?bucket-region=eu-west-1&continuation-token=abc",
        ),
        ("[::1]:9000", "/"),
    ] {
        let request = location_attempt_at(host, "GET", target, "s3", false);
        let region = verify(LocationRequests::AnyRegion, &request);
        assert_eq!(
            region.as_deref().ok(),
            Some("us-east-1"),
            "{host} {target}: {region:?}"
        );
        let refused = verify(LocationRequests::AcceptedRegionsOnly, &request);
        assert!(
            matches!(refused, Err(Error::RegionNotAccepted { .. })),
            "{host} {target}: {refused:?}"
        );
    }
    // Over HTTP/2 the host is the `:authority` (here the absolute URI's), with no `Host`.
    let mut request = location_attempt_at("s3.example.com", "GET", "/", "s3", false);
    request.headers_mut().remove("host");
    let region = verify(LocationRequests::AnyRegion, &request);
    assert_eq!(region.as_deref().ok(), Some("us-east-1"), "{region:?}");

    for (host, method, target, service, presigned) in [
        ("s3.example.com", "GET", "/?location", "s3", false),
        ("s3.example.com", "GET", "/?acl", "s3", false),
        ("s3.example.com", "GET", "/?max-buckets=1&acl", "s3", false),
        ("bucket.s3.example.com", "GET", "/key?location", "s3", false),
        (
            "bucket.s3.example.com",
            "GET",
            "/bucket?location",
            "s3",
            false,
        ),
        ("bucket.s3.example.com", "GET", "/", "s3", false),
        ("files.example.org", "GET", "/", "s3", false),
        ("s3.example.com.evil.org", "GET", "/", "s3", false),
        ("evil-s3.example.com", "GET", "/", "s3", false),
        ("s3.example.co", "GET", "/", "s3", false),
        ("[::2]:9000", "GET", "/", "s3", false),
        ("s3.example.com", "GET", "/bucket", "s3", false),
        ("s3.example.com", "GET", "//", "s3", false),
        ("s3.example.com", "PUT", "/", "s3", false),
        ("s3.example.com", "HEAD", "/", "s3", false),
        ("s3.example.com", "GET", "/", "s3express", false),
        ("s3.example.com", "GET", "/", "execute-api", false),
        ("s3.example.com", "GET", "/", "s3", true),
        ("s3.example.com", "GET", "/bucket?location", "s3", true),
    ] {
        let request = location_attempt_at(host, method, target, service, presigned);
        let refused = verify(LocationRequests::AnyRegion, &request);
        assert!(
            matches!(refused, Err(Error::RegionNotAccepted { .. })),
            "{method} {host} {target} for {service} (presigned: {presigned}): {refused:?}"
        );
    }
}

/// Given the whole body ([`Payload::Bytes`]), an S3 request is held to its `Content-MD5` as
/// the layer holds it: aws-sigv4 signs a PUT of `hello` with the header; its MD5 passes
/// (`printf hello | md5sum`: 5d41402abc4b2a76b9719d911017c592), another is `BadDigest`, a
/// value that is no MD5 `InvalidDigest`. Signed for another service, the header is not read.
#[test]
fn content_md5_holds_a_body_given_whole() {
    use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SigningSettings};

    let put = |service: &str, md5: &str| {
        let request = http::Request::put("http://example.com/bucket/key")
            .header("host", "example.com")
            .header("content-md5", md5)
            .body(b"hello".to_vec())
            .unwrap();
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let credentials = Credentials::from_keys("AKID", "secret", None);
        let request = sign_with_aws_sigv4(
            request,
            credentials,
            service,
            settings,
            SignableBody::Bytes(b"hello"),
        );
        verify_view(
            &edgeward_signing::RequestView::from_http(&request),
            request.body(),
        )
    };
    let md5_of_hello = "XUFAKrxLKna5cZ2REBfFkg==";
    let md5_of_empty = "1B2M2Y8AsgTpgAmY7PhCfg==";
    put("s3", md5_of_hello).unwrap();
    expect(put("s3", md5_of_empty), "BadDigest", 400, "another MD5");
    expect(put("s3", "hello"), "InvalidDigest", 400, "no MD5");
    put("execute-api", md5_of_empty).unwrap();
    put("execute-api", "hello").unwrap();
}
