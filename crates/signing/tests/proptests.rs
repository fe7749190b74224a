//! Property tests: the raw-request parser, the canonicalisers and the authorization parsers
//! never panic and keep their invariants; and mutating any signed part of a valid request
//! makes verification fail with the right error.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use edgeward_signing::{
    canonical_query, canonical_uri, parse_authorization_header, parse_presigned_query, sign_raw,
    uri_encode, ChunkChainVerifier, Error, FixedClock, PathMode, Payload, RawRequest,
    RawRequestLimits, ResolvedCredential, SigningParams, SigningSettings, StaticCredentials,
    Verifier, VerifierSettings,
};
use futures_util::FutureExt;
use proptest::prelude::*;

proptest! {
    #[test]
    fn raw_parser_never_panics(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = RawRequest::parse(&input, &RawRequestLimits::default());
    }

    /// The body is what follows the head, and a `Content-Length` (in any case, after any
    /// other header) is accepted exactly when it counts those bytes.
    #[test]
    fn content_length_is_accepted_only_when_it_counts_the_body(
        body in proptest::collection::vec(any::<u8>(), 0..64),
        declared in 0u64..80,
        name in prop::sample::select(vec!["Content-Length", "content-length", "CONTENT-LENGTH"]),
        before in proptest::option::of("[A-Za-z][A-Za-z0-9]{0,8}: [a-z0-9]{1,8}\n"),
    ) {
        let mut text = format!("PUT /a HTTP/1.1\nHost:example.com\n{}{name}: {declared}\n\n", before.unwrap_or_default()).into_bytes();
        text.extend_from_slice(&body);
        let parsed = RawRequest::parse(&text, &RawRequestLimits::default());
        if declared == body.len() as u64 {
            prop_assert_eq!(parsed.unwrap().body, body);
        } else {
            let error = parsed.unwrap_err();
            prop_assert!(
                matches!(error, Error::RawBodyLengthMismatch { declared: d, actual, .. } if d == declared && actual == body.len()),
                "{:?}", error
            );
        }
    }

    #[test]
    fn raw_parser_round_trips(
        method in "[A-Z]{1,7}",
        path in "/[a-zA-Z0-9 ሴé%/._~-]{0,20}",
        query in proptest::option::of("[a-zA-Z0-9=&%]{0,20}"),
        headers in proptest::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,10}", "[!-~]([ -~]{0,20}[!-~])?"), 0..6),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        crlf in any::<bool>(),
    ) {
        let target = match &query { Some(q) => format!("{path}?{q}"), None => path.clone() };
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("{method} {target} HTTP/1.1{eol}").into_bytes();
        for (name, value) in &headers {
            text.extend_from_slice(format!("{name}: {value}{eol}").as_bytes());
        }
        text.extend_from_slice(eol.as_bytes());
        text.extend_from_slice(&body);
        let parsed = RawRequest::parse(&text, &RawRequestLimits::default()).unwrap();
        prop_assert_eq!(&parsed.method, &method);
        prop_assert_eq!(&parsed.target, &target);
        prop_assert_eq!(parsed.path(), path.as_str());
        prop_assert_eq!(parsed.query(), query.as_deref());
        prop_assert_eq!(parsed.headers.len(), headers.len());
        prop_assert_eq!(&parsed.body, &body);
        let again = RawRequest::parse(&parsed.to_bytes(), &RawRequestLimits::default()).unwrap();
        prop_assert_eq!(again, parsed);
    }

    #[test]
    fn folded_headers_join_with_one_space(first in "[a-z0-9]{1,8}", rest in proptest::collection::vec("[a-z0-9]{1,8}", 1..4)) {
        let mut text = format!("GET / HTTP/1.1\nHost:h\nX-Folded:{first}\n");
        for part in &rest {
            text.push_str(&format!("   {part}\n"));
        }
        let parsed = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
        let mut expected = first.clone();
        for part in &rest {
            expected.push(' ');
            expected.push_str(part);
        }
        prop_assert_eq!(parsed.header("x-folded"), Some(expected.as_str()));
    }

    #[test]
    fn canonical_query_is_idempotent_and_sorted(query in "[a-zA-Z0-9=&%+ ~ሴ._-]{0,40}") {
        let once = canonical_query(&query);
        prop_assert_eq!(canonical_query(&once), once.clone());
        let pairs: Vec<&str> = if once.is_empty() { vec![] } else { once.split('&').collect() };
        let mut sorted = pairs.clone();
        sorted.sort_by(|a, b| {
            let (ak, av) = a.split_once('=').unwrap();
            let (bk, bv) = b.split_once('=').unwrap();
            (ak, av).cmp(&(bk, bv))
        });
        prop_assert_eq!(pairs, sorted);
    }

    #[test]
    fn uri_encoding_emits_only_unreserved_and_escapes(text in any::<String>()) {
        let encoded = uri_encode(&text);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
        prop_assert_eq!(percent_decode(&encoded), text.into_bytes());
    }

    #[test]
    fn normalised_paths_have_no_dot_or_empty_segments(path in "(/(\\.|\\.\\.|[a-z]{0,3})){0,8}/?") {
        let canonical = canonical_uri(&path, PathMode::DEFAULT);
        prop_assert!(canonical.starts_with('/'));
        prop_assert!(!canonical.contains("//"));
        prop_assert!(canonical.split('/').all(|s| s != "." && s != ".."));
        prop_assert_eq!(canonical_uri(&canonical, PathMode::DEFAULT), canonical.clone());
        // S3 rules leave such a path alone.
        prop_assert_eq!(canonical_uri(&path, PathMode::S3), if path.is_empty() { "/".to_owned() } else { path.clone() });
    }

    #[test]
    fn authorization_parsers_never_panic(text in any::<String>()) {
        let _ = parse_authorization_header(&text);
        let _ = parse_presigned_query(&text);
        let prefixed = format!("AWS4-HMAC-SHA256 {text}");
        let _ = parse_authorization_header(&prefixed);
    }
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// One way of changing a signed part of a request, and the error it must cause.
#[derive(Debug, Clone)]
enum Mutation {
    Method,
    PathSegment,
    QueryValue,
    SignedHeaderValue,
    RemoveSignedHeader,
    Body,
    BodyUnderS3Hash,
    DateBySeconds(u64),
    DateToAnotherDay,
    SignatureDigit(usize),
    AccessKey,
    ScopeRegion,
    SessionToken,
    DropSessionToken,
}

fn expected_code(mutation: &Mutation) -> &'static str {
    match mutation {
        Mutation::RemoveSignedHeader => "AccessDenied",
        Mutation::BodyUnderS3Hash => "XAmzContentSHA256Mismatch",
        Mutation::AccessKey | Mutation::SessionToken | Mutation::DropSessionToken => {
            "InvalidClientTokenId"
        }
        _ => "SignatureDoesNotMatch",
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Method),
        Just(Mutation::PathSegment),
        Just(Mutation::QueryValue),
        Just(Mutation::SignedHeaderValue),
        Just(Mutation::RemoveSignedHeader),
        Just(Mutation::Body),
        Just(Mutation::BodyUnderS3Hash),
        (1u64..600).prop_map(Mutation::DateBySeconds),
        Just(Mutation::DateToAnotherDay),
        (0usize..64).prop_map(Mutation::SignatureDigit),
        Just(Mutation::AccessKey),
        Just(Mutation::ScopeRegion),
        Just(Mutation::SessionToken),
        Just(Mutation::DropSessionToken),
    ]
}

fn set_header(request: &mut RawRequest, name: &str, value: String) {
    request.set_header(name, &value);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutating_a_signed_part_fails_with_the_right_error(
        // No dot segments: normalisation removes them and the segment before `..`, so a
        // change to either would leave the canonical path as it was.
        segments in proptest::collection::vec(
            "[a-zA-Z0-9._~-]{1,6}".prop_filter("a dot segment", |s| s != "." && s != ".."),
            1..4,
        ),
        query_value in "[a-zA-Z0-9]{1,6}",
        header_value in "[a-zA-Z0-9]{1,10}",
        body in proptest::collection::vec(any::<u8>(), 1..64),
        mutation in mutation(),
    ) {
        let s3 = matches!(mutation, Mutation::BodyUnderS3Hash);
        let with_token = matches!(mutation, Mutation::SessionToken | Mutation::DropSessionToken);
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let service = if s3 { "s3" } else { "service" };
        let path = format!("/{}", segments.join("/"));
        let text = format!("PUT {path}?q={query_value} HTTP/1.1\nHost:example.com\nX-Signed:{header_value}\n\n");
        let mut request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
        request.body = body.clone();
        let token = with_token.then(|| "the-session-token".to_owned());
        let creds = Credentials::from_keys("AKIDMUTATE", "mutation-secret", token.clone());
        let params = SigningParams { credentials: &creds, region: "us-east-1", service, time: now };
        let settings = if s3 { SigningSettings::s3() } else { SigningSettings::default() };
        sign_raw(&mut request, &params, &settings).unwrap();

        let credential = match &token {
            Some(t) => ResolvedCredential::temporary("mutation-secret", "p", t, now + Duration::from_secs(60)),
            None => ResolvedCredential::new("mutation-secret", "p"),
        };
        let verifier = Verifier::new(StaticCredentials::new().with("AKIDMUTATE", credential), VerifierSettings::default())
            .with_clock(Arc::new(FixedClock(now)));
        let verify = |r: &RawRequest| verifier.verify(&r.view(), Payload::Bytes(&r.body)).now_or_never().unwrap();
        prop_assert!(verify(&request).is_ok());

        let authorization = request.header("authorization").unwrap().to_owned();
        match &mutation {
            Mutation::Method => request.method = "POST".into(),
            Mutation::PathSegment => request.target = request.target.replacen(&segments[0], &format!("{}x", segments[0]), 1),
            Mutation::QueryValue => request.target = request.target.replace(&format!("q={query_value}"), &format!("q={query_value}0")),
            Mutation::SignedHeaderValue => set_header(&mut request, "x-signed", format!("{header_value}!")),
            Mutation::RemoveSignedHeader => request.remove_header("x-signed"),
            Mutation::Body | Mutation::BodyUnderS3Hash => request.body[0] ^= 0x80,
            Mutation::DateBySeconds(s) => {
                let date = edgeward_signing::format_amz_date(now + Duration::from_secs(*s));
                set_header(&mut request, "x-amz-date", date);
            }
            Mutation::DateToAnotherDay => {
                let date = edgeward_signing::format_amz_date(now - Duration::from_secs(86_400));
                set_header(&mut request, "x-amz-date", date);
            }
            Mutation::SignatureDigit(i) => {
                let at = authorization.find("Signature=").unwrap() + "Signature=".len() + i;
                let mut bytes = authorization.clone().into_bytes();
                bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
                set_header(&mut request, "authorization", String::from_utf8(bytes).unwrap());
            }
            Mutation::AccessKey => set_header(&mut request, "authorization", authorization.replace("AKIDMUTATE", "AKIDOTHER")),
            Mutation::ScopeRegion => set_header(&mut request, "authorization", authorization.replace("/us-east-1/", "/us-west-2/")),
            Mutation::SessionToken => set_header(&mut request, "x-amz-security-token", "another-token".into()),
            Mutation::DropSessionToken => request.remove_header("x-amz-security-token"),
        }
        let error: Error = match verify(&request) {
            Ok(_) => return Err(TestCaseError::fail(format!("{mutation:?} still verifies"))),
            Err(e) => e,
        };
        prop_assert_eq!(error.aws_error_code(), expected_code(&mutation), "{:?}: {}", mutation, error);
    }
}

/// The CRC32 of `data`, XORed with `offset`, as S3 writes it (base64 of the big-endian value),
/// computed with crc32fast (not the crate under test's implementation).
fn crc32_base64(data: &[u8], offset: u32) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode((crc32fast::hash(data) ^ offset).to_be_bytes())
}

/// An unsigned `aws-chunked` body (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`) carrying `data` in
/// chunks of `sizes`, closed by the trailer line `trailer` if any.
fn unsigned_chunked(data: &[u8], sizes: &[usize], trailer: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    let mut rest = data;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let take = (*sizes.next().unwrap()).clamp(1, rest.len());
        body.extend_from_slice(format!("{take:x}\r\n").as_bytes());
        body.extend_from_slice(&rest[..take]);
        body.extend_from_slice(b"\r\n");
        rest = &rest[take..];
    }
    body.extend_from_slice(b"0\r\n");
    if let Some(trailer) = trailer {
        body.extend_from_slice(format!("{trailer}\r\n").as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    body
}

proptest! {
    #[test]
    fn chunked_decoder_never_panics(
        input in proptest::collection::vec(any::<u8>(), 0..512),
        piece in 1usize..64,
    ) {
        let mut decoder = ChunkChainVerifier::unsigned()
            .with_declared_trailer("x-amz-checksum-crc32")
            .unwrap();
        let mut out = Vec::new();
        for part in input.chunks(piece) {
            if decoder.push(part, &mut out).is_err() {
                break;
            }
        }
        let _ = decoder.finish();
        prop_assert!(out.len() <= input.len());
    }

    /// However the body is chunked and however it arrives, the decoder releases exactly the
    /// data; the CRC32, as a trailer or as a header, passes when right and fails the body with
    /// BadDigest when not.
    #[test]
    fn chunked_round_trip_with_checksum(
        data in proptest::collection::vec(any::<u8>(), 1..300),
        sizes in proptest::collection::vec(1usize..80, 1..6),
        piece in 1usize..50,
        wrong in any::<bool>(),
        as_header in any::<bool>(),
    ) {
        let crc = crc32_base64(&data, u32::from(wrong));
        let trailer = format!("x-amz-checksum-crc32:{crc}");
        let body = unsigned_chunked(&data, &sizes, (!as_header).then_some(trailer.as_str()));
        let decoder = ChunkChainVerifier::unsigned();
        let decoder = match as_header {
            true => decoder.with_checksum_header("X-Amz-Checksum-CRC32", &crc),
            false => decoder.with_declared_trailer("x-amz-checksum-crc32"),
        };
        let mut decoder = decoder.unwrap().with_decoded_length(data.len() as u64);
        let mut out = Vec::new();
        let mut result = Ok(());
        for part in body.chunks(piece) {
            result = decoder.push(part, &mut out);
            if result.is_err() {
                break;
            }
        }
        let result = result.and_then(|()| decoder.finish());
        prop_assert_eq!(&out, &data);
        if wrong {
            let error = result.unwrap_err();
            prop_assert_eq!(error.aws_error_code(), "BadDigest");
        } else {
            prop_assert!(result.is_ok(), "{:?}", result);
        }
    }
}

/// Only the trailers `x-amz-trailer` declared reach the service, each once (S3's
/// `MalformedTrailerError` otherwise): a trailer it did not name, checksum or not, is refused,
/// never passed on unchecked; so is one it named that never came, one with no name, one sent
/// twice. (The cases of an S3-compatible server's conformance tests, versitygw's
/// `UnsignedStreaminPayloadTrailer_malformed_trailer`.)
#[test]
fn undeclared_missing_or_repeated_trailers_fail() {
    let crc = crc32_base64(b"hello", 0);
    let decode = |declared: Option<&str>, trailer: Option<&str>| {
        let body = unsigned_chunked(b"hello", &[5], trailer);
        let mut decoder = ChunkChainVerifier::unsigned();
        if let Some(declared) = declared {
            decoder = decoder.with_declared_trailer(declared).unwrap();
        }
        let mut out = Vec::new();
        decoder
            .push(&body, &mut out)
            .and_then(|()| decoder.finish())
            .map(|()| decoder.trailers().to_vec())
    };
    let checksum = format!("x-amz-checksum-crc32:{crc}");
    let refused = [
        (None, Some(checksum.clone())),
        (None, Some("x-amz-meta-a:b".to_owned())),
        (
            Some("x-amz-checksum-crc32"),
            Some("x-amz-meta-a:b".to_owned()),
        ),
        (Some("x-amz-checksum-sha256"), Some(checksum.clone())),
        (Some("x-amz-checksum-crc32"), None),
        (Some("x-amz-meta-a"), None),
        (
            Some("x-amz-checksum-crc32, x-amz-meta-a"),
            Some(checksum.clone()),
        ),
        (Some("x-amz-checksum-crc32"), Some(format!(":{crc}"))),
        (
            Some("x-amz-checksum-crc32"),
            Some(format!("{checksum}\r\nx-amz-checksum-crc32:AAAAAA==")),
        ),
        (
            Some("x-amz-meta-a"),
            Some("x-amz-meta-a:b\r\nx-amz-meta-a:c".to_owned()),
        ),
    ];
    for (declared, trailer) in refused {
        let error = decode(declared, trailer.as_deref()).unwrap_err();
        assert_eq!(
            error.aws_error_code(),
            "MalformedTrailerError",
            "{declared:?} {trailer:?}: {error}"
        );
        assert_eq!(error.http_status(), 400);
    }
    // Declared, once: passed on.
    assert_eq!(
        decode(
            Some("x-amz-checksum-crc32, X-Amz-Meta-A"),
            Some(&format!("x-amz-meta-a:b\r\n{checksum}")),
        )
        .unwrap(),
        [
            ("x-amz-meta-a".to_owned(), "b".to_owned()),
            ("x-amz-checksum-crc32".to_owned(), crc.clone()),
        ]
    );
    // A declared checksum we cannot compute is refused up front.
    let error = ChunkChainVerifier::unsigned()
        .with_declared_trailer("x-amz-checksum-crc16")
        .unwrap_err();
    assert_eq!(error.aws_error_code(), "InvalidRequest");
}

/// The line limit (4 KiB by default) holds however the bytes arrive: found by the
/// `aws_chunked_body` fuzz target's "same outcome for any split" check.
#[test]
fn an_overlong_chunk_line_fails_in_one_piece_and_in_many() {
    let mut body = format!("5;{}\r\nhello\r\n", "x".repeat(5000)).into_bytes();
    body.extend_from_slice(b"0\r\n\r\n");
    for piece in [body.len(), 100] {
        let mut decoder = ChunkChainVerifier::unsigned();
        let failed = body
            .chunks(piece)
            .any(|part| decoder.push(part, &mut Vec::new()).is_err());
        assert!(failed, "piece {piece}");
    }
}
