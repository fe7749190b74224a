//! Verifier checks that no fast test noticed broken: cargo-mutants over verify.rs and
//! checksum.rs (2026-12-04) left these mutants alive. Each test fails under the mutant its
//! doc names (`cargo mutants --in-place -p edgeward-signing -f crates/signing/src/verify.rs`).
#![allow(clippy::unwrap_used)]

#[path = "support/hand_signed.rs"]
mod hand_signed;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use edgeward_signing::{
    AcceptedPathModes, Error, FixedClock, Headers, Payload, RequestView, ResolvedCredential,
    SigningParams, SigningSettings, StaticCredentials, VerifiedRequest, Verifier, VerifierSettings,
};
use futures_util::FutureExt;

const NOW: u64 = 1_700_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

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

/// A `GET` of `uri` with no body, signed by [`sign_for`].
fn signed_get(uri: &str, service: &str, settings: &SigningSettings) -> http::Request<Vec<u8>> {
    let mut request = http::Request::get(uri).body(Vec::new()).unwrap();
    sign_for(&mut request, service, settings);
    request
}

fn verify_with(
    settings: VerifierSettings,
    view: &RequestView<'_>,
    payload: Payload<'_>,
) -> Result<(), Error> {
    Verifier::new(
        StaticCredentials::new().with("AKID", ResolvedCredential::new("secret", "alice")),
        settings,
    )
    .with_clock(Arc::new(FixedClock(now())))
    .verify(view, payload)
    .now_or_never()
    .unwrap()
    .map(|_| ())
}

/// An IPv6 literal whose last group is empty (`[2001:db8::]`) with a default port written on
/// one side only names the same host, as `[2001:db8::1]` does (RFC 9110 4.2.3; the crate's
/// `same_host`). Mutant "replace + with - in without_default_port" reads
/// the `:` before `]` as a port separator and refuses it as `HostMismatch`.
#[test]
fn an_ipv6_literal_ending_in_colons_folds_a_default_port() {
    for (target, host) in [
        ("https://[2001:db8::]/a", "[2001:db8::]:443"),
        ("https://[2001:db8::]:443/a", "[2001:db8::]"),
    ] {
        let mut request = http::Request::get(target)
            .header("host", host)
            .body(Vec::new())
            .unwrap();
        sign_for(&mut request, "service", &SigningSettings::default());
        verify_with(
            VerifierSettings::default(),
            &RequestView::from_http(&request),
            Payload::Bytes(b""),
        )
        .unwrap_or_else(|e| panic!("{target} with Host {host}: {e}"));
    }
}

/// `GET /` to example.com signed `date;host` with an ISO 8601 basic `Date` (no `X-Amz-Date`)
/// for AKID at [`now`], worked out by hand; returned as an `http::Request` whose `Date` value
/// is `sent` (the signed value with whitespace around it).
fn date_signed_http(sent: &str) -> http::Request<Vec<u8>> {
    let time = "20231114T221320Z";
    let day = &time[..8];
    let signature = hand_signed::date_header_signature(time, time);
    http::Request::get("/")
        .header("host", "example.com")
        .header("date", sent)
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=AKID/{day}/us-east-1/service/aws4_request, \
                 SignedHeaders=date;host, Signature={signature}"
            ),
        )
        .body(Vec::new())
        .unwrap()
}

/// A header map (an `http::HeaderMap` a service builds itself, or one from a stack that keeps
/// optional whitespace) may hold an `X-Amz-Date` or `Date` with spaces or tabs around it. The
/// verifier trims them (verify.rs `request_date`, as the canonical header value is trimmed),
/// so the request verifies. Mutants of `request_date` (`||` to `&&`
/// in either trim predicate) trim nothing and refuse it.
#[test]
fn a_date_with_whitespace_around_it_in_a_header_map_verifies() {
    // X-Amz-Date, signed by the crate's signer, then padded as a header map may hold it.
    let mut request = signed_get(
        "http://example.com/a",
        "service",
        &SigningSettings::default(),
    );
    let date = request.headers()["x-amz-date"].to_str().unwrap().to_owned();
    for padded in [
        format!(" {date}"),
        format!("{date}\t"),
        format!(" \t{date} "),
    ] {
        request
            .headers_mut()
            .insert("x-amz-date", padded.parse().unwrap());
        verify_with(
            VerifierSettings::default(),
            &RequestView::from_http(&request),
            Payload::Bytes(b""),
        )
        .unwrap_or_else(|e| panic!("X-Amz-Date {padded:?}: {e}"));
    }
    // Date in ISO 8601 basic form.
    for padded in [
        " 20231114T221320Z",
        "20231114T221320Z\t",
        " \t20231114T221320Z ",
    ] {
        let request = date_signed_http(padded);
        verify_with(
            VerifierSettings::default(),
            &RequestView::from_http(&request),
            Payload::Bytes(b""),
        )
        .unwrap_or_else(|e| panic!("Date {padded:?}: {e}"));
    }
}

/// S3's rule that every `x-amz-*` header be signed has per-location exemptions (verify.rs
/// `check_amz_headers_signed`): with an `Authorization` header, `x-amz-security-token` is
/// left to [`edgeward_signing::UnsignedSessionToken`] (default `Accept`), while
/// `x-amz-user-agent` and `x-amz-checksum-mode` are exempt only on presigned requests, where
/// aws-sigv4 leaves them unsigned on purpose; `x-amz-content-sha256` is exempt in both, its
/// value being the canonical request's payload hash, which the signature binds anyway. Mutant
/// "delete match arm SignatureLocation::Header in check_amz_headers_signed" gives
/// header-signed requests the presigned list: it refuses the unsigned token the policy
/// accepts, and lets an unsigned `x-amz-user-agent` through. Hand mutants (round 7) that
/// dropped `x-amz-content-sha256` from the header-located list, or compared the exemptions with
/// the name's case, refused the unsigned payload hash.
#[test]
fn header_signed_s3_requests_have_their_own_amz_exemptions() {
    let token = "session-token";
    let expiry = now() + Duration::from_secs(3600);
    let verifier = Verifier::new(
        StaticCredentials::new()
            .with("AKID", ResolvedCredential::new("secret", "alice"))
            .with(
                "ASIA",
                ResolvedCredential::temporary("tsecret", "role", token, expiry),
            ),
        VerifierSettings::default(),
    )
    .with_clock(Arc::new(FixedClock(now())));
    let verify = |request: &http::Request<Vec<u8>>| {
        verifier
            .verify(&RequestView::from_http(request), Payload::Bytes(b""))
            .now_or_never()
            .unwrap()
    };

    // A session token header the signature does not cover: the policy (Accept) decides.
    let mut request = http::Request::get("http://example.com/bucket/key")
        .body(Vec::new())
        .unwrap();
    let mut settings = SigningSettings::s3();
    settings
        .excluded_headers
        .push("x-amz-security-token".into());
    let creds = Credentials::from_keys("ASIA", "tsecret", Some(token.to_owned()));
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service: "s3",
        time: now(),
    };
    edgeward_signing::sign_http(&mut request, &params, &settings).unwrap();
    assert!(request.headers().contains_key("x-amz-security-token"));
    let verified = verify(&request).unwrap_or_else(|e| panic!("unsigned token header: {e}"));
    assert!(!verified.session_token_signed());

    // An unsigned `x-amz-user-agent` beside an `Authorization` header is refused.
    let mut request = signed_get(
        "http://example.com/bucket/key",
        "s3",
        &SigningSettings::s3(),
    );
    request
        .headers_mut()
        .insert("x-amz-user-agent", "added/1.0".parse().unwrap());
    let error = verify(&request).unwrap_err();
    assert!(
        matches!(&error, Error::UnsignedAmzHeaders { names, .. } if names == "x-amz-user-agent"),
        "{error}"
    );

    // `x-amz-content-sha256` sent and left out of `SignedHeaders`: verifies, in any case.
    let mut settings = SigningSettings::s3();
    settings
        .excluded_headers
        .push("x-amz-content-sha256".into());
    let request = signed_get("http://example.com/bucket/key", "s3", &settings);
    assert!(request.headers().contains_key("x-amz-content-sha256"));
    let authorization = request.headers()["authorization"].to_str().unwrap();
    assert!(
        !authorization.contains("x-amz-content-sha256"),
        "{authorization}"
    );
    for result in verify_as_map_and_list(&request) {
        result.unwrap();
    }
}

/// [`edgeward_signing::VerifiedRequest::session_token_signed`] says whether the signature
/// covers a session token; with no token there is none to cover. Mutants of
/// `verify_as_of`'s token-signed test (`&&` to `||`): one reports a presigned request with no
/// token as token-signed, the other reports an unsigned `X-Amz-Security-Token` header as signed.
#[test]
fn session_token_signed_is_false_without_a_signed_token() {
    let request = signed_get(
        "http://example.com/a",
        "service",
        &SigningSettings::default().presigned(Duration::from_secs(60)),
    );
    assert!(request.uri().query().unwrap().contains("X-Amz-Signature"));
    let verified = Verifier::new(
        StaticCredentials::new().with("AKID", ResolvedCredential::new("secret", "alice")),
        VerifierSettings::default(),
    )
    .with_clock(Arc::new(FixedClock(now())))
    .verify(&RequestView::from_http(&request), Payload::Bytes(b""))
    .now_or_never()
    .unwrap()
    .unwrap();
    assert!(verified.session_token().is_none());
    assert!(!verified.session_token_signed(), "presigned, no token");

    // A header-located token the signature leaves out (policy Accept): not signed.
    let mut settings = SigningSettings::default();
    settings
        .excluded_headers
        .push("x-amz-security-token".into());
    let (_, verified) = sign_and_verify_with_session_token(&settings).unwrap();
    assert!(verified.session_token().is_some());
    assert!(!verified.session_token_signed(), "unsigned token header");
}

const SESSION_TOKEN: &str = "session-token";

/// A GET signed by aws-sigv4 (through `sign_http`) with temporary credentials and
/// [`SESSION_TOKEN`] under `settings`, and what a verifier that knows that session makes of it.
fn sign_and_verify_with_session_token(
    settings: &SigningSettings,
) -> Result<(http::Request<Vec<u8>>, VerifiedRequest), Error> {
    let creds = Credentials::from_keys("ASIA", "tsecret", Some(SESSION_TOKEN.to_owned()));
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service: "service",
        time: now(),
    };
    let mut request = http::Request::get("http://example.com/a")
        .body(Vec::new())
        .unwrap();
    edgeward_signing::sign_http(&mut request, &params, settings).unwrap();
    let session = ResolvedCredential::temporary(
        "tsecret",
        "role",
        SESSION_TOKEN,
        now() + Duration::from_secs(60),
    );
    let verified = Verifier::new(
        StaticCredentials::new().with("ASIA", session),
        VerifierSettings::default(),
    )
    .with_clock(Arc::new(FixedClock(now())))
    .verify(&RequestView::from_http(&request), Payload::Bytes(b""))
    .now_or_never()
    .unwrap()?;
    Ok((request, verified))
}

/// [`Verifier::verify`] given the whole body ([`Payload::Bytes`]) checks a flexible-checksum
/// header against it (`BadDigest`), as the crate docs and `check_buffered_body` promise. The
/// check runs only when the request has more `x-amz-*` headers than the three the verifier
/// knows; mutants of `verify_as_of`'s gate (`>` to `==` or `<`) skip it when there are, and a
/// body that does not match its signed `x-amz-checksum-crc32` verifies.
#[test]
fn a_checksum_header_is_checked_against_a_whole_body() {
    let body = b"hello".to_vec();
    for (checksum, ok) in [("NhCmhg==", true), ("AAAAAA==", false)] {
        let mut request = http::Request::put("http://example.com/a")
            .header("x-amz-checksum-crc32", checksum)
            .body(body.clone())
            .unwrap();
        sign_for(&mut request, "service", &SigningSettings::default());
        let result = verify_with(
            VerifierSettings::default(),
            &RequestView::from_http(&request),
            Payload::Bytes(&body),
        );
        match (ok, result) {
            (true, Ok(())) => {}
            (false, Err(error)) => {
                assert_eq!(error.aws_error_code(), "BadDigest", "{error}");
            }
            (_, other) => panic!("checksum {checksum}: {other:?}"),
        }
    }
}

/// A `STREAMING-UNSIGNED-PAYLOAD-TRAILER` upload of `data` in one chunk, its
/// `x-amz-checksum-crc32` trailer carrying `trailer`, signed for `service` and verified whole.
fn verify_crc32_trailed(data: &str, trailer: &str, service: &str) -> Result<(), Error> {
    let body = format!(
        "{:x}\r\n{data}\r\n0\r\nx-amz-checksum-crc32:{trailer}\r\n\r\n",
        data.len()
    )
    .into_bytes();
    let mut request = http::Request::put("http://example.com/a")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", data.len().to_string())
        .header("x-amz-trailer", "x-amz-checksum-crc32")
        .body(body.clone())
        .unwrap();
    let mut settings = if service == "s3" {
        SigningSettings::s3()
    } else {
        SigningSettings::default()
    };
    settings.payload = edgeward_signing::PayloadSigning::StreamingUnsignedTrailer;
    settings.content_sha256 = edgeward_signing::ContentSha256Header::Include;
    sign_for(&mut request, service, &settings);
    verify_with(
        VerifierSettings::default(),
        &RequestView::from_http(&request),
        Payload::Bytes(&body),
    )
}

/// A `STREAMING-UNSIGNED-PAYLOAD-TRAILER` upload given whole to [`Verifier::verify`]
/// ([`Payload::Bytes`], the `aws-chunked` bytes) is checked as a stream: its trailer checksum
/// against the decoded data. A matching trailer verifies; a wrong one is `BadDigest`.
/// Mutant "guard `streamed` to `false`" in `verify_as_of` never checks the chain, so the
/// wrong trailer verifies; mutant "guard `!streamed` to `true`" checks the
/// chunked bytes as a plain body, refusing the declared trailer of the good one.
#[test]
fn a_whole_streamed_body_is_checked_as_a_stream() {
    for (trailer, ok) in [("NhCmhg==", true), ("AAAAAA==", false)] {
        let result = verify_crc32_trailed("hello", trailer, "service");
        match (ok, result) {
            (true, Ok(())) => {}
            (false, Err(error)) => {
                assert_eq!(error.aws_error_code(), "BadDigest", "{error}");
            }
            (_, other) => panic!("trailer {trailer}: {other:?}"),
        }
    }
}

/// A flexible-checksum header whose value cannot be its checksum (not the base64 of as many
/// bytes) is refused before the body, `InvalidRequest` "Value for x-amz-checksum-crc32 header
/// is invalid.", for a plain body and an `aws-chunked` one alike: S3's answer to
/// aws-sdk-java-v2's integration test that gives "i9aeUgg=" (five bytes) for "Hello world",
/// whose CRC-32 is "i9aeUg==" (Python's zlib), and to an empty value (versitygw#1189). A value
/// of the right form that is not the body's is still `BadDigest`. (That the layer refuses it
/// before the body comes: `layer_http_edges`.)
#[test]
fn a_checksum_header_that_cannot_be_one_is_refused_before_the_body() {
    let body = b"Hello world";
    let chunked = b"b\r\nHello world\r\n0\r\n\r\n".to_vec();
    for (value, expected) in [
        ("i9aeUg==", None),
        ("  i9aeUg==\t", None),
        ("AAAAAA==", Some("BadDigest")),
        ("i9aeUgg=", Some("InvalidRequest")),
        ("", Some("InvalidRequest")),
        ("i9aeUg", Some("InvalidRequest")),
        ("i9aeUh==", Some("InvalidRequest")),
        ("!!!!!!==", Some("InvalidRequest")),
        ("AAAAAAAAAAA=", Some("InvalidRequest")),
    ] {
        for streamed in [false, true] {
            let mut builder =
                http::Request::put("http://example.com/a").header("x-amz-checksum-crc32", value);
            let mut settings = SigningSettings::default();
            let sent = if streamed {
                builder = builder
                    .header("content-encoding", "aws-chunked")
                    .header("x-amz-decoded-content-length", "11");
                settings.payload = edgeward_signing::PayloadSigning::StreamingUnsignedTrailer;
                settings.content_sha256 = edgeward_signing::ContentSha256Header::Include;
                chunked.clone()
            } else {
                body.to_vec()
            };
            let mut request = builder.body(sent.clone()).unwrap();
            sign_for(&mut request, "service", &settings);
            let label = format!("{value:?}, streamed {streamed}");
            let view = RequestView::from_http(&request);
            match (
                expected,
                verify_with(VerifierSettings::default(), &view, Payload::Bytes(&sent)),
            ) {
                (None, Ok(())) => {}
                (Some(code), Err(error)) => {
                    assert_eq!(error.aws_error_code(), code, "{label}: {error}");
                    assert_eq!(error.http_status(), 400, "{label}");
                    if code == "InvalidRequest" {
                        assert_eq!(
                            error.to_string(),
                            "Value for x-amz-checksum-crc32 header is invalid.",
                            "{label}"
                        );
                    }
                }
                (_, other) => panic!("{label}: {other:?}"),
            }
        }
    }
}

/// A checksum trailer whose value cannot be its checksum (not the base64 of as many bytes) is
/// `InvalidRequest` "Value for x-amz-checksum-crc32 trailing header is invalid.", as S3
/// answers it (the words OpenStack Swift's S3 front end, Scality's tests and versitygw's give
/// for S3's), where it was compared and called `BadDigest`. A value of the right form that is
/// not the data's is still `BadDigest`. Values as in the header test above: "i9aeUg==" is the
/// CRC-32 of "Hello world" (Python's zlib), "i9aeUgg=" five bytes.
#[test]
fn a_trailer_that_cannot_be_its_checksum_is_an_invalid_request() {
    for (value, expected) in [
        ("i9aeUg==", None),
        ("AAAAAA==", Some("BadDigest")),
        ("i9aeUgg=", Some("InvalidRequest")),
        ("", Some("InvalidRequest")),
        ("i9aeUg", Some("InvalidRequest")),
        ("!!!!!!==", Some("InvalidRequest")),
    ] {
        let result = verify_crc32_trailed("Hello world", value, "s3");
        match (expected, result) {
            (None, Ok(())) => {}
            (Some(code), Err(error)) => {
                let s3 = error.to_s3_error();
                assert_eq!((s3.code, s3.status), (code, 400), "{value:?}: {error}");
                if code == "InvalidRequest" {
                    assert_eq!(
                        s3.message, "Value for x-amz-checksum-crc32 trailing header is invalid.",
                        "{value:?}"
                    );
                } else {
                    assert_eq!(
                        s3.message,
                        "The CRC32 you specified did not match the calculated checksum.",
                        "{value:?}"
                    );
                }
            }
            (_, other) => panic!("{value:?}: {other:?}"),
        }
    }
}

/// Two flexible checksums for one body are refused in S3's words: "Expecting a single
/// x-amz-checksum- header. Multiple checksum Types are not allowed." for two headers (S3's
/// answer to OpenStack Swift's functional test, which runs against AWS too), and without the
/// second sentence for a header and a declared trailer (as Swift's and Scality's S3 front ends
/// answer for AWS's sake); for a plain body and an `aws-chunked` one.
#[test]
fn two_checksums_are_refused_in_s3s_words() {
    const TWO: &str =
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.";
    const WITH_TRAILER: &str = "Expecting a single x-amz-checksum- header";
    let chunked = b"b\r\nHello world\r\n0\r\n\r\n".to_vec();
    let trailed = b"b\r\nHello world\r\n0\r\nx-amz-checksum-crc32:i9aeUg==\r\n\r\n".to_vec();
    for (streamed, trailer, expected) in [
        (false, false, TWO),
        (true, false, TWO),
        (true, true, WITH_TRAILER),
    ] {
        let mut builder = http::Request::put("http://example.com/a")
            .header("x-amz-checksum-crc32", "i9aeUg==")
            .header("x-amz-checksum-sha1", "e1AsOh9IyGCa4hLN+2Od7jlnP14=");
        let mut settings = SigningSettings::s3();
        let body = if streamed {
            builder = builder
                .header("content-encoding", "aws-chunked")
                .header("x-amz-decoded-content-length", "11");
            settings.payload = edgeward_signing::PayloadSigning::StreamingUnsignedTrailer;
            settings.content_sha256 = edgeward_signing::ContentSha256Header::Include;
            if trailer {
                builder = http::Request::put("http://example.com/a")
                    .header("x-amz-checksum-sha1", "e1AsOh9IyGCa4hLN+2Od7jlnP14=")
                    .header("content-encoding", "aws-chunked")
                    .header("x-amz-decoded-content-length", "11")
                    .header("x-amz-trailer", "x-amz-checksum-crc32");
                trailed.clone()
            } else {
                chunked.clone()
            }
        } else {
            b"Hello world".to_vec()
        };
        let mut request = builder.body(body.clone()).unwrap();
        sign_for(&mut request, "s3", &settings);
        let label = format!("streamed {streamed}, trailer {trailer}");
        let error = verify_with(
            VerifierSettings::default(),
            &RequestView::from_http(&request),
            Payload::Bytes(&body),
        )
        .expect_err(&label);
        let s3 = error.to_s3_error();
        assert_eq!((s3.code, s3.status), ("InvalidRequest", 400), "{label}");
        assert_eq!(s3.message, expected, "{label}");
    }
}

/// Under S3's rules `x-amz-sdk-checksum-algorithm` must name the body's flexible checksum,
/// header or declared trailer, as S3 answers it: another algorithm is `InvalidRequest` "Value
/// for x-amz-sdk-checksum-algorithm header is invalid." and none at all "x-amz-sdk-checksum-
/// algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were
/// found." (S3's answers as versitygw#1598 and #1593 and HADOOP-19046 record them). Its value
/// is read in any case. Services without S3's rules have no such header: nothing is held.
#[test]
fn the_sdk_checksum_algorithm_names_the_body_checksum_under_s3_rules() {
    const INVALID: &str = "Value for x-amz-sdk-checksum-algorithm header is invalid.";
    const NONE: &str = "x-amz-sdk-checksum-algorithm specified, but no corresponding \
                        x-amz-checksum-* or x-amz-trailer headers were found.";
    // CRC-32 of "hello", by Python's zlib.crc32.
    let crc32 = "NhCmhg==";
    let header = |algorithm: &str, checksum: Option<&str>| {
        let mut builder = http::Request::put("http://example.com/a")
            .header("x-amz-sdk-checksum-algorithm", algorithm);
        if let Some(name) = checksum {
            builder = builder.header(name, crc32);
        }
        builder.body(b"hello".to_vec()).unwrap()
    };
    let trailer = |algorithm: &str| {
        http::Request::put("http://example.com/a")
            .header("x-amz-sdk-checksum-algorithm", algorithm)
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", "5")
            .header("x-amz-trailer", "x-amz-checksum-crc32")
            .body(format!("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:{crc32}\r\n\r\n").into_bytes())
            .unwrap()
    };
    let cases = [
        ("s3", header("CRC32", Some("x-amz-checksum-crc32")), None),
        ("s3", header("crc32", Some("x-amz-checksum-crc32")), None),
        ("s3", trailer("CRC32"), None),
        (
            "s3",
            header("SHA256", Some("x-amz-checksum-crc32")),
            Some(INVALID),
        ),
        (
            "s3",
            header("CRC32C", Some("x-amz-checksum-crc32")),
            Some(INVALID),
        ),
        ("s3", header("CRC32", None), Some(NONE)),
        ("s3", trailer("CRC64NVME"), Some(INVALID)),
        (
            "service",
            header("SHA256", Some("x-amz-checksum-crc32")),
            None,
        ),
        ("service", header("CRC32", None), None),
    ];
    for (service, mut request, refused) in cases {
        let mut settings = if service == "s3" {
            SigningSettings::s3()
        } else {
            SigningSettings::default()
        };
        if request.headers().contains_key("x-amz-trailer") {
            settings.payload = edgeward_signing::PayloadSigning::StreamingUnsignedTrailer;
            settings.content_sha256 = edgeward_signing::ContentSha256Header::Include;
        }
        sign_for(&mut request, service, &settings);
        let body = request.body().clone();
        let result = verify_with(
            VerifierSettings::default(),
            &RequestView::from_http(&request),
            Payload::Bytes(&body),
        );
        let label = format!("{service} {:?}", request.headers());
        match (refused, result) {
            (None, Ok(())) => {}
            (Some(message), Err(error)) => {
                assert_eq!(error.s3_error_code(), "InvalidRequest", "{label}: {error}");
                assert_eq!(error.http_status(), 400, "{label}");
                assert_eq!(error.to_string(), message, "{label}");
            }
            (_, other) => panic!("{label}: {other:?}"),
        }
    }
}

/// [`edgeward_signing::VerifiedRequest::session_token_signed`] is true when the signature
/// covers the session token: aws-sigv4 signs `x-amz-security-token` in `SignedHeaders` by
/// default, and a presigned URL's `X-Amz-Security-Token` in its canonical query. Mutant
/// verify.rs:851 (`VerifiedRequest::session_token_signed` → `false`) reported every signed
/// token as unsigned; only the false cases (above) were tested.
#[test]
fn session_token_signed_is_true_for_a_signed_token() {
    for (form, settings) in [
        ("header", SigningSettings::default()),
        (
            "presigned",
            SigningSettings::default().presigned(Duration::from_secs(60)),
        ),
    ] {
        let (request, verified) =
            sign_and_verify_with_session_token(&settings).unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(
            verified.session_token().map(|t| t.expose()),
            Some(SESSION_TOKEN),
            "{form}"
        );
        // The set-up: the token is in the signed request, where its form puts it.
        let carried = match form {
            "header" => request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("x-amz-security-token")),
            _ => request
                .uri()
                .query()
                .is_some_and(|q| q.contains("X-Amz-Security-Token=")),
        };
        assert!(carried, "{form}: the token is signed");
        assert!(verified.session_token_signed(), "{form}");
    }
}

/// `Headers::for_each` calls its closure with each value of the name, in order, and returns
/// how many (its doc), for a header map and for a list whose names are in any case. Mutants
/// verify.rs:76 (`for_each` → `0` or `1`: no call at all) and verify.rs:79 (`count += 1` →
/// `-=` or `*=`: a wrong count) were caught by no test.
#[test]
fn headers_for_each_gives_every_value_in_order_and_counts_them() {
    let (map, list) = two_values_of_one_name();
    for headers in [Headers::Map(&map), Headers::List(&list)] {
        let mut seen = Vec::new();
        let count = headers.for_each("x-amz-meta-a", |value| seen.push(value.to_vec()));
        assert_eq!(count, 2, "{headers:?}");
        assert_eq!(seen, [b"one".to_vec(), b"two".to_vec()], "{headers:?}");
        assert_eq!(headers.for_each("x-amz-meta-c", |_| panic!("no value")), 0);
    }
}

/// `x-amz-meta-a` twice (`one`, then `two`) with a `Host` between, as a header map (which also
/// holds an `x-amz-meta-b` that is not text) and as a list whose names are in mixed case.
fn two_values_of_one_name() -> (http::HeaderMap, Vec<(String, String)>) {
    let mut map = http::HeaderMap::new();
    map.append("x-amz-meta-a", "one".parse().unwrap());
    map.append("host", "example.com".parse().unwrap());
    map.append("x-amz-meta-a", "two".parse().unwrap());
    map.append(
        "x-amz-meta-b",
        http::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
    );
    let list = [
        ("X-Amz-Meta-A", "one"),
        ("Host", "example.com"),
        ("x-amz-meta-a", "two"),
    ];
    let list = list.map(|(name, value)| (name.to_owned(), value.to_owned()));
    (map, list.to_vec())
}

/// An `aws-chunked` body ends with its zero-length chunk and decodes to the length
/// `x-amz-decoded-content-length` declares (S3's "Signature calculations for the
/// Authorization header: transferring payload in multiple chunks"). Given whole to
/// [`Verifier::verify`], a body cut before its final chunk, or one that decodes to fewer
/// bytes than declared, is incomplete. A hand mutant of `check_whole_stream` that skips the
/// chain's `finish()` (round 7) accepted both: only the end of the body tells.
#[test]
fn a_whole_streamed_body_that_ends_early_is_incomplete() {
    let upload = |declared: &str, body: &str| {
        let body = body.as_bytes().to_vec();
        let mut request = http::Request::put("http://example.com/a")
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", declared)
            .body(body.clone())
            .unwrap();
        let mut settings = SigningSettings::default();
        settings.payload = edgeward_signing::PayloadSigning::StreamingUnsignedTrailer;
        settings.content_sha256 = edgeward_signing::ContentSha256Header::Include;
        sign_for(&mut request, "service", &settings);
        verify_with(
            VerifierSettings::default(),
            &RequestView::from_http(&request),
            Payload::Bytes(&body),
        )
    };
    upload("5", "5\r\nhello\r\n0\r\n\r\n").unwrap();
    for (what, declared, body) in [
        ("no final chunk", "5", "5\r\nhello\r\n"),
        ("shorter than declared", "6", "5\r\nhello\r\n0\r\n\r\n"),
    ] {
        let result = upload(declared, body);
        assert!(
            matches!(result, Err(Error::IncompleteBody { .. })),
            "{what}: {result:?}"
        );
    }
}

/// `request` as a header map and as a list of lines whose names are upper-case (a list keeps
/// names as sent, in any case), each verified with the default settings and no body.
fn verify_as_map_and_list(request: &http::Request<Vec<u8>>) -> [Result<(), Error>; 2] {
    let list: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().unwrap().to_owned();
            (name.as_str().to_ascii_uppercase(), value)
        })
        .collect();
    let map = RequestView::from_http(request);
    let listed = RequestView {
        headers: Headers::List(&list),
        ..map
    };
    [map, listed].map(|view| verify_with(VerifierSettings::default(), &view, Payload::Bytes(b"")))
}

/// An S3 presigned URL verifies with the `x-amz-user-agent` and `x-amz-checksum-mode`
/// headers an SDK sends beside it unsigned (aws-sigv4 leaves both out of a presigned
/// signature), however their names are written, while another unsigned `x-amz-*` header is
/// refused. Hand mutants of `check_amz_headers_signed` (round 7) that dropped either name from
/// the presigned exemptions, or compared the exemptions with the name's case, were missed.
#[test]
fn a_presigned_s3_url_verifies_with_the_sdk_headers_it_leaves_unsigned() {
    let request = signed_get(
        "http://example.com/bucket/key",
        "s3",
        &SigningSettings::s3().presigned(Duration::from_secs(60)),
    );
    for (name, value) in [
        ("x-amz-user-agent", "aws-sdk-rust/1.0"),
        ("x-amz-checksum-mode", "ENABLED"),
    ] {
        let mut sent = request.clone();
        sent.headers_mut().insert(name, value.parse().unwrap());
        for result in verify_as_map_and_list(&sent) {
            result.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    let mut sent = request.clone();
    sent.headers_mut()
        .insert("x-amz-acl", "public-read".parse().unwrap());
    for result in verify_as_map_and_list(&sent) {
        assert!(
            matches!(&result, Err(Error::UnsignedAmzHeaders { names, .. }) if names == "x-amz-acl"),
            "{result:?}"
        );
    }
}

/// `Headers::first` is the first value of a name (its doc), whatever case a list writes the
/// name in; a map's first value that is not text is none. Hand mutants (round 7) that took
/// a list's last value, or matched a list's names with their case, were missed.
#[test]
fn headers_first_is_the_first_value_in_any_case() {
    let (map, list) = two_values_of_one_name();
    for headers in [Headers::Map(&map), Headers::List(&list)] {
        assert_eq!(headers.first("x-amz-meta-a"), Some("one"), "{headers:?}");
        assert_eq!(headers.first("x-amz-meta-c"), None, "{headers:?}");
    }
    assert_eq!(Headers::Map(&map).first("x-amz-meta-b"), None);
}

/// `GET {sent}` to example.com for `service`, its canonical URI `signed_uri`, signed by hand
/// (see `support/hand_signed.rs`) with an unsigned payload at [`now`].
fn get_signed_as(service: &str, sent: &str, signed_uri: &str) -> http::Request<Vec<u8>> {
    let time = "20231114T221320Z";
    let canonical = format!(
        "GET\n{signed_uri}\n\nhost:example.com\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n\
         x-amz-date:{time}\n\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD"
    );
    let signature = hand_signed::signature(&canonical, time, service);
    http::Request::get(sent)
        .header("host", "example.com")
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .header("x-amz-date", time)
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=AKID/20231114/us-east-1/{service}/aws4_request, \
                 SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}"
            ),
        )
        .body(Vec::new())
        .unwrap()
}

/// S3 reads a path as the object key it names, and signs that key URI-encoded (every byte
/// but the unreserved ones and `/`: "Create a canonical request", `UriEncode`): a client may
/// send a sub-delimiter raw and sign it escaped (aws4, jets3t), or send `%7E` and sign `~`
/// (boto's S3 handler; S3 refused the other way round, boto issue 2849). Either reading of
/// such a path verifies. A raw `+`, which S3 reads as a space and the service behind a layer
/// as a plus, and an escaped `/` or `.`, which a router may not read as a separator or a dot
/// segment, are read only as sent.
#[test]
fn an_s3_path_verifies_as_the_key_it_names() {
    let verify = |sent: &str, signed_uri: &str| {
        verify_with(
            VerifierSettings::default(),
            &RequestView::from_http(&get_signed_as("s3", sent, signed_uri)),
            Payload::Bytes(b""),
        )
    };
    for (sent, signed_uri) in [
        (
            "/bucket/star*at@(x)!'.txt",
            "/bucket/star%2Aat%40%28x%29%21%27.txt",
        ),
        ("/bucket/a;b,c=d&e$", "/bucket/a%3Bb%2Cc%3Dd%26e%24"),
        ("/bucket/%7Euser/caf%c3%a9", "/bucket/~user/caf%C3%A9"),
        ("/bucket/star*", "/bucket/star*"),
        ("/bucket/a+b", "/bucket/a+b"),
        ("/bucket/a%2Fb", "/bucket/a%2Fb"),
    ] {
        verify(sent, signed_uri).unwrap_or_else(|e| panic!("{sent} signed as {signed_uri}: {e}"));
    }
    for (sent, signed_uri) in [
        ("/bucket/a+b", "/bucket/a%20b"),
        ("/bucket/a+b", "/bucket/a%2Bb"),
        ("/bucket/a%2Fb", "/bucket/a/b"),
        ("/bucket/%2E%2E/x", "/bucket/../x"),
        ("/bucket/%2e/x", "/bucket/./x"),
        ("/bucket/a%zz*", "/bucket/a%25zz%2A"),
        // Another key's reading, and a reading that decodes twice.
        ("/bucket/star*", "/bucket/star%2B"),
        ("/bucket/%252A", "/bucket/%2A"),
    ] {
        let refused = verify(sent, signed_uri);
        assert!(
            matches!(refused, Err(Error::SignatureDoesNotMatch { .. })),
            "{sent} signed as {signed_uri}: {refused:?}"
        );
    }
    // A key is S3's reading: a service that takes S3's rules beside its own does not read one.
    let mut both = VerifierSettings::default();
    both.path_modes = AcceptedPathModes::Both;
    let as_s3 = get_signed_as("s3", "/bucket/%7Euser", "/bucket/~user");
    let as_other = get_signed_as("service", "/bucket/%7Euser", "/bucket/~user");
    verify_with(
        both.clone(),
        &RequestView::from_http(&as_s3),
        Payload::Bytes(b""),
    )
    .unwrap();
    let refused = verify_with(
        both,
        &RequestView::from_http(&as_other),
        Payload::Bytes(b""),
    );
    assert!(
        matches!(refused, Err(Error::SignatureDoesNotMatch { .. })),
        "{refused:?}"
    );
}
