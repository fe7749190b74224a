//! What the signer cannot sign as sent it refuses with `InvalidSigningInput`, never a panic
//! and never a signature over something else: for every request here, either the signer
//! refuses, or our verifier accepts what it signed. The cases came from a review that found
//! each one panicking or signing a request the verifier then refused.
#![allow(clippy::unwrap_used)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use edgeward_signing::{
    sign_http, sign_parts, sign_raw, ChunkSigner, Error, FixedClock, Headers, Payload,
    PayloadSigning, RawRequest, RawRequestLimits, ResolvedCredential, SigningParams,
    SigningSettings, StaticCredentials, Verifier, VerifierSettings,
};
use futures_util::FutureExt;

const TOKEN: &str = "FQoGZXIvYXdzEXAMPLE-bearer-token";

fn now() -> SystemTime {
    // 2023-11-14T22:13:20Z
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn params<'a>(credentials: &'a Credentials, service: &'a str) -> SigningParams<'a> {
    SigningParams {
        credentials,
        region: "us-east-1",
        service,
        time: now(),
    }
}

fn settings_for(service: &str, presign: bool) -> SigningSettings {
    let settings = if service == "s3" {
        SigningSettings::s3()
    } else {
        SigningSettings::default()
    };
    if presign {
        settings.presigned(Duration::from_secs(60))
    } else {
        settings
    }
}

fn verifier() -> Verifier<StaticCredentials> {
    let lookup = StaticCredentials::new().with("AKID", ResolvedCredential::new("secret", "p"));
    Verifier::new(lookup, VerifierSettings::default()).with_clock(Arc::new(FixedClock(now())))
}

/// Our verifier's answer for `request` at `at`, from a lookup that knows `AKID` (`secret`),
/// as temporary credentials with `token` (for an hour from `now()`) when one is given.
fn verify_raw_at(
    request: &RawRequest,
    at: SystemTime,
    token: Option<&str>,
) -> Result<edgeward_signing::VerifiedRequest, Error> {
    let credential = match token {
        Some(token) => {
            ResolvedCredential::temporary("secret", "p", token, now() + Duration::from_secs(3600))
        }
        None => ResolvedCredential::new("secret", "p"),
    };
    Verifier::new(
        StaticCredentials::new().with("AKID", credential),
        VerifierSettings::default(),
    )
    .with_clock(Arc::new(FixedClock(at)))
    .verify(&request.view(), Payload::Bytes(&request.body))
    .now_or_never()
    .unwrap()
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// How signing `text` (a raw request) ended: `Ok(true)` signed and verified, `Ok(false)`
/// refused as `InvalidSigningInput`, `Err` anything else (a panic, another error, or a
/// signature our verifier refuses).
fn sign_then_verify(text: &str, service: &str, presign: bool) -> Result<bool, String> {
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default())
            .map_err(|e| format!("parse: {e}"))?;
        let settings = settings_for(service, presign);
        match sign_raw(&mut request, &params(&credentials, service), &settings) {
            Err(Error::InvalidSigningInput { .. }) => Ok(false),
            Err(e) => Err(format!("sign failed with {e:?}")),
            Ok(_) => verifier()
                .verify(&request.view(), Payload::Bytes(&request.body))
                .now_or_never()
                .unwrap()
                .map(|_| true)
                .map_err(|e| format!("the verifier refuses what the signer signed: {e}")),
        }
    }));
    outcome.unwrap_or_else(|panic| Err(format!("panic: {}", panic_text(&*panic))))
}

/// Each case signed under `service`, header and presigned: the outcome expected, `true` for
/// signed and verified, `false` for refused.
fn expect_all(cases: &[(&str, &str, bool)]) {
    let mut wrong = Vec::new();
    for &(text, service, signs) in cases {
        for presign in [false, true] {
            match sign_then_verify(text, service, presign) {
                Ok(outcome) if outcome == signs => {}
                other => wrong.push(format!("[{service} presign={presign}] {text:?}: {other:?}")),
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// Without a `Host` header the host must come from an absolute-form target's authority
/// (`sign_raw` adds the header then); a `://` in the query or the path is not one
/// (aws-sigv4 panicked: "request uri authority must be set for signing"). `sign_parts` takes
/// an origin-form path and a `Host` header.
#[test]
fn no_host_header_and_no_authority_is_refused() {
    expect_all(&[
        (
            "GET /a?redirect=http://example.com/ HTTP/1.1\n\n",
            "sts",
            false,
        ),
        (
            "GET /a?redirect=http://example.com/ HTTP/1.1\n\n",
            "s3",
            false,
        ),
        ("GET /http://example.com HTTP/1.1\n\n", "service", false),
        ("GET /http://example.com HTTP/1.1\n\n", "s3", false),
        ("GET /a HTTP/1.1\n\n", "sts", false),
        // An absolute-form target names the host.
        ("GET http://example.com/a?b=c HTTP/1.1\n\n", "sts", true),
        ("GET http://example.com/a?b=c HTTP/1.1\n\n", "s3", true),
    ]);
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let sign = |path: &str, query: Option<&str>| {
        catch_unwind(AssertUnwindSafe(|| {
            sign_parts(
                "GET",
                path,
                query,
                &[],
                b"",
                &params(&credentials, "sts"),
                &SigningSettings::default(),
            )
        }))
        .map_err(|panic| panic_text(&*panic))
    };
    assert!(matches!(
        sign("/a", Some("next=https://example.com/")),
        Ok(Err(Error::InvalidSigningInput { .. }))
    ));
    assert!(matches!(
        sign("https://example.com/a", None),
        Ok(Err(Error::InvalidSigningInput { .. }))
    ));
}

/// A target that is neither `/…` nor `scheme://authority/…` (`*`, `a`) is refused under
/// either rules (aws-sigv4 panicked on them under S3's: "adding query should not invalidate
/// URI").
#[test]
fn a_target_without_a_leading_slash_is_refused() {
    expect_all(&[
        ("OPTIONS * HTTP/1.1\nHost: example.com\n\n", "s3", false),
        ("OPTIONS * HTTP/1.1\nHost: example.com\n\n", "sts", false),
        ("GET a HTTP/1.1\nHost: example.com\n\n", "s3", false),
        ("GET a HTTP/1.1\nHost: example.com\n\n", "service", false),
        ("GET / HTTP/1.1\nHost: example.com\n\n", "s3", true),
    ]);
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut request = http::Request::builder()
            .method("OPTIONS")
            .uri("*")
            .header("host", "example.com")
            .body(Vec::<u8>::new())
            .unwrap();
        sign_http(
            &mut request,
            &params(&credentials, "s3"),
            &settings_for("s3", true),
        )
    }));
    assert!(
        matches!(outcome, Ok(Err(Error::InvalidSigningInput { .. }))),
        "{:?}",
        outcome.map_err(|panic| panic_text(&*panic))
    );
}

/// A query escape that does not decode to UTF-8 (`%FF`, a lone `%C3` or `%80`): aws-sigv4
/// decodes the query lossily and would sign U+FFFD in its place (`%EF%BF%BD`), while botocore
/// signs the bytes sent (`a=%FF`) and so does every verifier. It is refused; valid UTF-8
/// escapes are signed.
#[test]
fn a_query_escape_that_is_not_utf8_is_refused() {
    expect_all(&[
        ("GET /?a=%FF HTTP/1.1\nHost: example.com\n\n", "sts", false),
        ("GET /b?a=%C3 HTTP/1.1\nHost: example.com\n\n", "s3", false),
        ("GET /b?%FF=1 HTTP/1.1\nHost: example.com\n\n", "s3", false),
        // Each first hex digit a byte past ASCII has, either case: a lone continuation byte
        // (`%80`, `%9f`), Latin-1's `é` (`%e9`), a lead byte with nothing after it (`%dF`).
        ("GET /?a=%80 HTTP/1.1\nHost: example.com\n\n", "sts", false),
        ("GET /?a=b%9f HTTP/1.1\nHost: example.com\n\n", "sts", false),
        ("GET /b?k%e9=1 HTTP/1.1\nHost: example.com\n\n", "s3", false),
        ("GET /b?a=%dF HTTP/1.1\nHost: example.com\n\n", "s3", false),
        (
            "GET /b?a=%C3%A9&b=%e2%82%ac HTTP/1.1\nHost: example.com\n\n",
            "s3",
            true,
        ),
        (
            "GET /?a=%C3%A9%2B%7e HTTP/1.1\nHost: example.com\n\n",
            "sts",
            true,
        ),
    ]);
}

/// A raw `#` in the target: a request target carries no fragment (RFC 9112 3.2), and
/// `http::Uri` drops one, so the signature covered `/a` where `/a#b` was sent. The raw parser
/// refuses such a file; a `RawRequest` built with one in its target is refused by the signer.
#[test]
fn a_fragment_in_the_target_is_refused() {
    let credentials = Credentials::from_keys("AKID", "secret", None);
    for (target, service) in [("/a#b", "s3"), ("/a b#c", "s3"), ("/a?b=#c", "sts")] {
        let text = format!("GET {target} HTTP/1.1\nHost: example.com\n\n");
        assert!(
            RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).is_err(),
            "{text:?}"
        );
        for presign in [false, true] {
            let mut request = RawRequest::parse(
                b"GET / HTTP/1.1\nHost: example.com\n\n",
                &RawRequestLimits::default(),
            )
            .unwrap();
            request.target = target.to_owned();
            let signed = sign_raw(
                &mut request,
                &params(&credentials, service),
                &settings_for(service, presign),
            );
            assert!(
                matches!(signed, Err(Error::InvalidSigningInput { .. })),
                "{target} presign={presign}: {signed:?}"
            );
        }
    }
    expect_all(&[(
        "GET /a%23b?c=%23 HTTP/1.1\nHost: example.com\n\n",
        "s3",
        true,
    )]);
}

/// A previous presigned signature's parameter is the same parameter with its name escaped
/// (`X%2DAmz-Date`), as the verifier reads it: signing again replaces it rather than sending
/// it beside the new one (which the verifier refuses as a parameter sent twice).
#[test]
fn an_escaped_presign_parameter_is_replaced() {
    expect_all(&[
        (
            "GET /a?X-Amz-Date=1 HTTP/1.1\nHost: example.com\n\n",
            "sts",
            true,
        ),
        (
            "GET /a?X%2DAmz-Date=1 HTTP/1.1\nHost: example.com\n\n",
            "sts",
            true,
        ),
        (
            "GET /a?X%2DAmz-Signature=00&b=c HTTP/1.1\nHost: example.com\n\n",
            "s3",
            true,
        ),
        (
            "GET /a?%58-Amz-Credential=x HTTP/1.1\nHost: example.com\n\n",
            "s3",
            true,
        ),
    ]);
    // Through `http::Request` as well.
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let mut request = http::Request::get("https://example.com/a?X%2DAmz-Date=1&b=c")
        .body(Vec::<u8>::new())
        .unwrap();
    sign_http(
        &mut request,
        &params(&credentials, "sts"),
        &settings_for("sts", true),
    )
    .unwrap();
    let query = request.uri().query().unwrap();
    assert!(!query.contains("X%2DAmz-Date"), "{query}");
    verifier()
        .verify(
            &edgeward_signing::RequestView::from_http(&request),
            Payload::Bytes(&[]),
        )
        .now_or_never()
        .unwrap()
        .unwrap();
}

/// A session token is bearer material: `Debug` of what signing returns, of a signed
/// `RawRequest` and of a `RequestView` prints its length, in the header and in the presigned
/// query alike.
#[test]
fn debug_forms_do_not_print_the_session_token() {
    let credentials = Credentials::from_keys("AKID", "secret", Some(TOKEN.to_owned()));
    let mut printed = Vec::new();
    for presign in [false, true] {
        let settings = settings_for("sts", presign);
        let signed = sign_parts(
            "GET",
            "/a",
            None,
            &[("Host", "example.com")],
            b"",
            &params(&credentials, "sts"),
            &settings,
        )
        .unwrap();
        printed.push(format!("{signed:?}"));
        let mut raw = RawRequest::parse(
            b"GET /a?b=c HTTP/1.1\nHost: example.com\n\n",
            &RawRequestLimits::default(),
        )
        .unwrap();
        sign_raw(&mut raw, &params(&credentials, "sts"), &settings).unwrap();
        printed.push(format!("{raw:?}"));
        printed.push(format!("{:?}", raw.view()));
        let mut request = http::Request::get("https://example.com/a")
            .body(Vec::<u8>::new())
            .unwrap();
        sign_http(&mut request, &params(&credentials, "sts"), &settings).unwrap();
        printed.push(format!(
            "{:?}",
            edgeward_signing::RequestView::from_http(&request)
        ));
    }
    for debug in &printed {
        assert!(!debug.contains(TOKEN), "{debug}");
        assert!(debug.contains("** redacted, 32 bytes **"), "{debug}");
        assert!(debug.contains("AKID"), "the rest is printed: {debug}");
    }
}

/// Signs an S3 `PUT` of `data` as an `aws-chunked` body in chunks of `sizes` (the rest in one
/// more), with `trailers`, then verifies it, the body arriving in pieces of `piece` bytes:
/// `Ok(Some(decoded))` when signed and verified, `Ok(None)` when `ChunkSigner` refused.
fn chunked_round_trip(
    data: &[u8],
    sizes: &[usize],
    trailers: &[(&str, &str)],
    piece: usize,
) -> Result<Option<Vec<u8>>, String> {
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let mut declared: Vec<String> = trailers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    declared.dedup();
    let mut text = format!(
        "PUT /bucket/key HTTP/1.1\nHost: example.com\nContent-Encoding: aws-chunked\n\
         x-amz-decoded-content-length: {}\n",
        data.len()
    );
    if !trailers.is_empty() {
        text.push_str(&format!("x-amz-trailer: {}\n", declared.join(",")));
    }
    text.push('\n');
    let mut request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
    let mut settings = SigningSettings::s3();
    settings.payload = PayloadSigning::StreamingSigned {
        trailer: !trailers.is_empty(),
    };
    let seed = sign_raw(&mut request, &params(&credentials, "s3"), &settings).unwrap();
    let mut signer = ChunkSigner::new(&credentials, "us-east-1", "s3", now(), &seed)
        .unwrap()
        .with_decoded_length(data.len() as u64);
    let mut body = Vec::new();
    let mut rest = data;
    for &size in sizes {
        if rest.is_empty() {
            break;
        }
        let (chunk, after) = rest.split_at(size.clamp(1, rest.len()));
        body.extend(signer.chunk(chunk).map_err(|e| format!("chunk: {e:?}"))?);
        rest = after;
    }
    if !rest.is_empty() {
        body.extend(signer.chunk(rest).map_err(|e| format!("chunk: {e:?}"))?);
    }
    match signer.finish(trailers) {
        Err(Error::InvalidSigningInput { .. }) => return Ok(None),
        Err(e) => return Err(format!("finish: {e:?}")),
        Ok(tail) => body.extend(tail),
    }
    request.set_header("Content-Length", &body.len().to_string());
    request.body = body;
    let verified = verifier()
        .verify(&request.view(), Payload::Bytes(&request.body))
        .now_or_never()
        .unwrap()
        .map_err(|e| format!("head: {e}"))?;
    let mut chain = verified
        .streamed_body_verifier(&Headers::List(&request.headers))
        .map_err(|e| format!("chain: {e}"))?
        .ok_or("no chain")?;
    let mut decoded = Vec::new();
    for part in request.body.chunks(piece.max(1)) {
        chain
            .push(part, &mut decoded)
            .map_err(|e| format!("the verifier refuses what ChunkSigner signed: {e}"))?;
    }
    chain
        .finish()
        .map_err(|e| format!("the verifier refuses what ChunkSigner signed: {e}"))?;
    Ok(Some(decoded))
}

/// `ChunkSigner::finish` refuses a trailer that every verifier refuses: a name given twice
/// (S3's `MalformedTrailerError`; our verifier's "a trailer sent twice"), in any case, and
/// the trailer signature's own name. One trailer signs and verifies.
#[test]
fn the_chunk_signer_refuses_a_trailer_no_verifier_takes() {
    let round_trip = |trailers: &[(&str, &str)]| chunked_round_trip(b"hello", &[5], trailers, 7);
    assert_eq!(
        round_trip(&[("x-amz-meta-a", "1")]),
        Ok(Some(b"hello".to_vec()))
    );
    for trailers in [
        &[("x-amz-meta-a", "1"), ("x-amz-meta-a", "1")][..],
        &[("x-amz-meta-a", "1"), ("X-Amz-Meta-A", "2")][..],
        &[("x-amz-meta-a", "1"), ("x-amz-trailer-signature", "00")][..],
    ] {
        assert_eq!(round_trip(trailers), Ok(None), "{trailers:?}");
    }
}

/// A presigned signature's parameters follow an `&` after a query, and directly after an empty
/// one (`/a?`); a query that is itself `?` (`/a??`: the key `?`) is not empty, and appending
/// directly made the first parameter `?X-Amz-Algorithm`, which no verifier finds (the fuzz
/// target `raw_http_request` found it, signing `D://??`).
#[test]
fn presigned_parameters_follow_any_query() {
    expect_all(&[
        ("GET /a?? HTTP/1.1\nHost: example.com\n\n", "sts", true),
        ("GET /a?? HTTP/1.1\nHost: example.com\n\n", "s3", true),
        ("GET /a? HTTP/1.1\nHost: example.com\n\n", "sts", true),
        ("GET /a?b? HTTP/1.1\nHost: example.com\n\n", "s3", true),
        ("GET http://example.com?? HTTP/1.1\n\n", "sts", true),
    ]);
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    /// Pieces a request target is made of, the awkward ones most: escapes that are and are
    /// not UTF-8, a fragment, delimiters, a stale presign parameter with its name escaped,
    /// an authority-looking `://`, dot segments, a space and raw UTF-8.
    const PIECES: &[&str] = &[
        "/",
        "a",
        "%",
        "%FF",
        "%C3%A9",
        "%2D",
        "%2F",
        "%25",
        "#",
        "?",
        "&",
        "=",
        "+",
        " ",
        "é",
        "X-Amz-Date=1",
        "X%2DAmz-Date=1",
        "X-Amz-Signature=0",
        "://",
        "*",
        ".",
        "..",
        "~",
    ];

    /// Mostly an origin-form path (a leading `/`), so that most cases reach the signer.
    fn target() -> impl Strategy<Value = String> {
        (
            prop_oneof![9 => Just("/"), 1 => proptest::sample::select(PIECES)],
            proptest::collection::vec(proptest::sample::select(PIECES), 0..8),
        )
            .prop_map(|(first, rest)| format!("{first}{}", rest.concat()))
    }

    /// Whether every `%XX` escape of the query decodes, with the bytes around it, to UTF-8:
    /// the signer refuses a query that does not (aws-sigv4 would sign U+FFFD in its place).
    fn query_decodes_to_utf8(target: &str) -> bool {
        let Some((_, query)) = target.split_once('?') else {
            return true;
        };
        let bytes = query.as_bytes();
        let mut decoded = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let escape = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
            match (bytes[i], escape) {
                (b'%', Some(byte)) => {
                    decoded.push(byte);
                    i += 3;
                }
                (byte, _) => {
                    decoded.push(byte);
                    i += 1;
                }
            }
        }
        std::str::from_utf8(&decoded).is_ok()
    }

    const TRAILER_NAMES: &[&str] = &["x-amz-meta-a", "X-Amz-Meta-B", "x-amz-meta-c"];
    const TRAILER_VALUES: &[&str] = &["1", " padded ", "", "a,b", "a  b", "\tt"];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// However `ChunkSigner` is fed (chunk sizes, trailers, values with spaces), the
        /// chain it signs verifies, the body arriving in any pieces, and releases exactly the
        /// data; or `finish` refuses the trailer.
        #[test]
        fn chunk_signer_chains_verify_however_they_arrive(
            data in proptest::collection::vec(any::<u8>(), 0..300),
            sizes in proptest::collection::vec(1usize..120, 0..5),
            trailers in proptest::collection::vec(
                (proptest::sample::select(TRAILER_NAMES), proptest::sample::select(TRAILER_VALUES)),
                0..3,
            ),
            piece in 1usize..64,
        ) {
            let outcome = chunked_round_trip(&data, &sizes, &trailers, piece);
            match outcome {
                Ok(Some(decoded)) => prop_assert_eq!(decoded, data),
                Ok(None) => {
                    let mut names: Vec<String> =
                        trailers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
                    names.sort();
                    let before = names.len();
                    names.dedup();
                    prop_assert!(names.len() < before, "refused without a repeated name");
                }
                Err(e) => prop_assert!(false, "{}: {:?} {:?}", e, sizes, trailers),
            }
        }

        /// Whatever the target, with or without a `Host` header (an absolute-form target names
        /// its own), the signer refuses it or signs a request our verifier accepts, under
        /// either rules and in either location: never a panic, never a signature over
        /// something else than what is sent. And it refuses only what it cannot sign as sent:
        /// a path that starts with `/`, on a request that names its host and whose query
        /// decodes to UTF-8, is signed.
        #[test]
        fn the_signer_refuses_or_signs_what_the_verifier_accepts(
            target in target(),
            absolute in any::<bool>(),
            host in any::<bool>(),
        ) {
            let path = target;
            let target = if absolute {
                format!("http://example.com{path}")
            } else {
                path.clone()
            };
            let host = if host { "Host: example.com\n" } else { "" };
            let text = format!("GET {target} HTTP/1.1\n{host}\n");
            if RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).is_err() {
                return Ok(());
            }
            let signable = (absolute || !host.is_empty())
                && path.starts_with('/')
                && query_decodes_to_utf8(&path);
            for service in ["service", "s3"] {
                for presign in [false, true] {
                    let outcome = sign_then_verify(&text, service, presign);
                    prop_assert!(
                        outcome.is_ok(),
                        "[{} presign={}] {:?}: {:?}", service, presign, text, outcome
                    );
                    if signable {
                        prop_assert_eq!(
                            &outcome, &Ok(true),
                            "[{} presign={}] {:?} refused", service, presign, text
                        );
                    }
                }
            }
        }
    }
}

/// A session token with a control byte cannot stand in an `x-amz-security-token` header:
/// aws-sigv4 failed on it with "failed to create canonical request", which names neither the
/// token nor the byte. One with blanks a header does not keep (at an end, a tab, two spaces)
/// was signed as it is, and no verifier could match it. Each is refused first, and the
/// refusal does not print the token. Presigned, the token travels escaped in the query, and
/// signs and verifies.
#[test]
fn a_session_token_a_header_cannot_carry_is_refused_by_name() {
    let controls = [
        "FQoG\nSECRET",
        "FQoG\rSECRET",
        "FQoG\u{1}SECRET",
        "FQoG\u{7f}SECRET",
        // Not ASCII: refused by http's string constructors since http 1.6.
        "FQoG\u{e9}SECRET",
        "FQoG\u{1234}SECRET",
    ];
    // Blanks a header does not keep as signed: trimmed at the ends, collapsed inside.
    let blanks = [
        "SECRET ", " SECRET", "SECRET\t", "\tSECRET", "SEC\tRET", "SEC  RET",
    ];
    for token in controls.into_iter().chain(blanks) {
        let credentials = Credentials::from_keys("AKID", "secret", Some(token.to_owned()));
        let mut request =
            RawRequest::parse(b"GET / HTTP/1.1\nHost:h\n\n", &RawRequestLimits::default()).unwrap();
        let params = params(&credentials, "service");
        match sign_raw(&mut request, &params, &settings_for("service", false)) {
            Err(Error::InvalidSigningInput { reason }) => {
                assert!(reason.contains("the session token has a "), "{reason}");
                assert!(!reason.contains("SECRET"), "{reason}");
            }
            other => panic!("{token:?}: {other:?}"),
        }
        sign_get_and_verify(token, true).unwrap_or_else(|e| panic!("{token:?}: {e}"));
    }
}

/// A header value with a byte that is not ASCII, or a control byte, is one aws-sigv4 does not
/// sign: since http 1.6 it fails on the first kind too, with "failed to create canonical
/// request", which names neither the header nor the byte (the `raw_http_request` fuzz target
/// found it on that update: `sign_raw` passes such a value on, where `sign_http` refuses a
/// header that `HeaderValue::to_str` cannot read). Each is refused first, by the header's
/// name, in either rules and either location, and the request is left as it came; so is a
/// name that is not a token, which only `sign_parts` can be handed. An excluded header is
/// not signed, so it may carry such a value.
#[test]
fn a_header_aws_sigv4_cannot_sign_is_refused_by_name() {
    let credentials = Credentials::from_keys("AKID", "secret", None);
    for (service, presign) in [("sts", false), ("sts", true), ("s3", false), ("s3", true)] {
        let settings = settings_for(service, presign);
        let params = params(&credentials, service);
        for value in ["caf\u{e9}", "\u{1234}", "a \u{1F600} b"] {
            let text = format!("PUT /k HTTP/1.1\nHost: h\nx-amz-meta-name: {value}\n\n");
            let request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
            let mut attempt = request.clone();
            match sign_raw(&mut attempt, &params, &settings) {
                Err(Error::InvalidSigningInput { reason }) => assert!(
                    reason.contains("header x-amz-meta-name has a byte that is not ASCII"),
                    "{reason}"
                ),
                other => panic!("[{service} presign={presign}] {value:?}: {other:?}"),
            }
            assert!(attempt == request, "{value:?}: the refused request changed");
            // Not signed, so not refused: the default list excludes `user-agent`.
            let text = format!("PUT /k HTTP/1.1\nHost: h\nUser-Agent: {value}\n\n");
            assert!(
                sign_then_verify(&text, service, presign).unwrap(),
                "{value:?} in an excluded header"
            );
        }
        let sign = |headers: &[(&str, &str)]| {
            sign_parts("GET", "/", None, headers, b"", &params, &settings)
        };
        for (name, value, expected) in [
            (
                "x-a",
                "a\u{1}b",
                "header x-a has a control byte (0x01, at byte 1)",
            ),
            (
                "x-a",
                "a\u{7f}",
                "header x-a has a control byte (0x7f, at byte 1)",
            ),
            (
                "x-a",
                "a\nb",
                "header x-a has a control byte (0x0a, at byte 1)",
            ),
            (
                "x-a",
                "\u{e9}",
                "header x-a has a byte that is not ASCII (0xc3, at byte 0)",
            ),
            ("x a", "v", "\"x a\" is not a header name"),
            ("x:a", "v", "\"x:a\" is not a header name"),
            ("", "v", "\"\" is not a header name"),
            ("x-\u{e9}", "v", "is not a header name"),
        ] {
            match sign(&[("host", "h"), (name, value)]) {
                Err(Error::InvalidSigningInput { reason }) => {
                    assert!(reason.contains(expected), "{name:?}: {value:?}: {reason}");
                }
                other => panic!("[{service} presign={presign}] {name:?}: {value:?}: {other:?}"),
            }
        }
        // Longer than `http::HeaderName` holds: refused by the signer (presigned, the name's
        // length in `X-Amz-SignedHeaders` may be what refuses it first).
        let long_name = "x".repeat(65_536);
        match sign(&[("host", "h"), (&long_name, "v")]) {
            Err(Error::InvalidSigningInput { reason }) if !presign => {
                assert!(
                    reason.contains("a header name of 65536 bytes is longer"),
                    "{reason}"
                );
            }
            Err(Error::InvalidSigningInput { .. }) => {}
            other => panic!("[{service} presign={presign}] a long name: {other:?}"),
        }
        if !presign {
            // One byte shorter is a name `http::HeaderName` holds, and signs.
            let signed = sign(&[("host", "h"), (&long_name[1..], "v")]);
            assert!(
                signed.is_ok(),
                "[{service}] a name of 65,535 bytes: {signed:?}"
            );
        }
        // A tab and spaces are header text: signed (and collapsed), not refused.
        assert!(sign(&[("host", "h"), ("x-a", "a\t b  c")]).is_ok());
        // An excluded header is not signed even when the list also names a header aws-sigv4
        // adds (which it must then exclude itself): signed as if it were not there.
        let mut excluding = settings.clone();
        excluding.excluded_headers = vec!["user-agent".into(), "x-amz-security-token".into()];
        let sign_excluding = |headers: &[(&str, &str)]| {
            sign_parts("GET", "/", None, headers, b"", &params, &excluding)
                .map(|signed| signed.signature)
        };
        let without = sign_excluding(&[("host", "h")]).unwrap();
        for value in ["caf\u{e9}", "a\u{1}b"] {
            match sign_excluding(&[("host", "h"), ("User-Agent", value)]) {
                Ok(signature) => assert_eq!(signature, without, "{value:?}"),
                other => panic!("[{service} presign={presign}] {value:?} excluded: {other:?}"),
            }
        }
    }
}

/// Signs `GET /` with AKID's temporary credentials carrying `token` (presigned or in the
/// header), then verifies it with a verifier that knows them.
fn sign_get_and_verify(token: &str, presign: bool) -> Result<(), String> {
    let credentials = Credentials::from_keys("AKID", "secret", Some(token.to_owned()));
    let lookup = StaticCredentials::new().with(
        "AKID",
        ResolvedCredential::temporary("secret", "p", token, now() + Duration::from_secs(60)),
    );
    let verifier =
        Verifier::new(lookup, VerifierSettings::default()).with_clock(Arc::new(FixedClock(now())));
    let mut request =
        RawRequest::parse(b"GET / HTTP/1.1\nHost:h\n\n", &RawRequestLimits::default()).unwrap();
    sign_raw(
        &mut request,
        &params(&credentials, "service"),
        &settings_for("service", presign),
    )
    .map_err(|e| format!("sign: {e}"))?;
    verifier
        .verify(&request.view(), Payload::Bytes(&request.body))
        .now_or_never()
        .unwrap()
        .map(|_| ())
        .map_err(|e| format!("verify: {e}"))
}

/// A session token with single spaces inside is a header value as it stands (nothing trims
/// or collapses them), so it signs in the header form and verifies. Mutant "replace
/// contains(\"  \") with contains(\" \")" in `check_session_token_is_a_header_value`
/// (sign.rs:398) refused it.
#[test]
fn a_session_token_with_single_inner_spaces_signs() {
    for token in ["SEC RET", "A B C", "a b+c/d="] {
        for presign in [false, true] {
            sign_get_and_verify(token, presign)
                .unwrap_or_else(|e| panic!("{token:?} presign={presign}: {e}"));
        }
    }
}

/// The visible ASCII bytes no URI holds (RFC 3986: neither reserved nor unreserved, nor `%`),
/// which a client may still send raw in a request target.
const NO_URI_HOLDS: [char; 9] = ['"', '<', '>', '\\', '^', '`', '{', '|', '}'];

/// Each request signs under S3's rules and the default ones, header and presigned, and verifies.
fn expect_all_sign_s3_and_sts(texts: &[String]) {
    let cases: Vec<(&str, &str, bool)> = texts
        .iter()
        .flat_map(|text| [(text.as_str(), "s3", true), (text.as_str(), "sts", true)])
        .collect();
    expect_all(&cases);
}

/// A raw query may hold bytes no URI holds ([`NO_URI_HOLDS`]), some of which an `http::Uri`
/// refuses in a query (`"`, `<`, `>`): a client that sends them as they are is signed over
/// what it sends, and verifies. Mutants of `escape_invalid` (sign.rs:208), which makes the
/// query a `Uri` for aws-sigv4, fail these with a signing error.
#[test]
fn a_query_with_bytes_a_uri_cannot_hold_signs_as_sent() {
    let mut cases: Vec<String> = NO_URI_HOLDS
        .iter()
        .map(|byte| format!("GET /a?b={byte}&{byte}=c HTTP/1.1\nHost: example.com\n\n"))
        .collect();
    cases.push("GET /a?b=\"<>{}|^`\\ HTTP/1.1\nHost: example.com\n\n".to_owned());
    expect_all_sign_s3_and_sts(&cases);
}

/// The same bytes raw in the path: an `http::Uri` refuses others there (`<`, `>`, `` ` ``),
/// so the signer canonicalises such a path itself. With `` ` `` dropped from the bytes it
/// does that for (a hand-made mutant), no test's request had failed to sign.
#[test]
fn a_path_with_bytes_a_uri_cannot_hold_signs_as_sent() {
    let cases: Vec<String> = NO_URI_HOLDS
        .iter()
        .map(|byte| format!("GET /a{byte}b/{byte} HTTP/1.1\nHost: example.com\n\n"))
        .collect();
    expect_all_sign_s3_and_sts(&cases);
}

/// `sign_http` marks the headers that carry bearer material (`Authorization`,
/// `X-Amz-Security-Token`) as sensitive, so that `http`'s own `Debug` and HTTP/2's HPACK
/// (never indexed) treat them so; the others it adds are plain. Mutants of the check in
/// `sign_http` (sign.rs:873) leave them plain.
#[test]
fn sign_http_marks_bearer_headers_sensitive() {
    let credentials = Credentials::from_keys("AKID", "secret", Some(TOKEN.to_owned()));
    let mut request = http::Request::get("https://example.com/a")
        .body(Vec::<u8>::new())
        .unwrap();
    sign_http(
        &mut request,
        &params(&credentials, "sts"),
        &settings_for("sts", false),
    )
    .unwrap();
    let headers = request.headers();
    assert!(headers["authorization"].is_sensitive());
    assert!(headers["x-amz-security-token"].is_sensitive());
    assert!(!headers["x-amz-date"].is_sensitive());
    let debug = format!("{headers:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
}

/// A session token parameter whose name is escaped (`X-Amz-%53ecurity-Token`, which a
/// verifier decodes to `X-Amz-Security-Token`) is still the token: `Debug` of a `RawRequest`
/// and of its `RequestView` print its length. Mutants of the quick test in
/// `redact_query_text` (redact.rs:172) printed it.
#[test]
fn an_escaped_token_parameter_is_redacted_in_debug() {
    for name in [
        "X-Amz-%53ecurity-Token",
        "X%2DAmz-Security-Token",
        "X-Amz-Security-Token",
    ] {
        let text = format!("GET /a?b=c&{name}={TOKEN} HTTP/1.1\nHost: example.com\n\n");
        let raw = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
        for debug in [format!("{raw:?}"), format!("{:?}", raw.view())] {
            assert!(!debug.contains(TOKEN), "{name}: {debug}");
            assert!(
                debug.contains("** redacted, 32 bytes **"),
                "{name}: {debug}"
            );
        }
    }
}

/// The longest expiry the protocol allows, exactly 7 days (604,800 s), signs, is sent as
/// such, and verifies until it has passed. Mutants of the bound (`>` to `>=` in the signer's
/// check, `1..=` to `1..` in the verifier's parse) refused it.
#[test]
fn an_expiry_of_exactly_seven_days_signs_and_verifies_until_it_passes() {
    let seven_days = Duration::from_secs(604_800);
    assert_eq!(edgeward_signing::MAX_PRESIGN_EXPIRES, seven_days);
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let mut request =
        RawRequest::parse(b"GET /k HTTP/1.1\nHost:h\n\n", &RawRequestLimits::default()).unwrap();
    sign_raw(
        &mut request,
        &params(&credentials, "s3"),
        &SigningSettings::s3().presigned(seven_days),
    )
    .unwrap();
    assert!(
        request.target.contains("X-Amz-Expires=604800&"),
        "{}",
        request.target
    );
    let verify_at = |at: SystemTime| verify_raw_at(&request, at, None);
    for at in [now(), now() + seven_days - Duration::from_secs(1)] {
        let verified = verify_at(at).unwrap();
        assert_eq!(verified.expires_at(), Some(now() + seven_days));
    }
    let late = verify_at(now() + seven_days + Duration::from_secs(1)).unwrap_err();
    assert_eq!(late.s3_error_code(), "AccessDenied", "{late}");
}

/// `X-Amz-Date` writes the year in four digits. A signing time past 9999 or before 0000 is
/// refused by every entry point (aws-sigv4 panics formatting one past ±9999); the last and
/// first seconds it can write sign, and the last verifies at that time.
#[test]
fn a_signing_time_x_amz_date_cannot_write_is_refused() {
    // 10000-01-01T00:00:00Z and 0000-01-01T00:00:00Z, from the Unix epoch.
    let year_10000 = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
    let year_0 = UNIX_EPOCH - Duration::from_secs(62_167_219_200);
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let at = |time| SigningParams {
        time,
        ..params(&credentials, "service")
    };
    let sign_all = |time: SystemTime| {
        let settings = SigningSettings::default();
        let parts = sign_parts(
            "GET",
            "/",
            None,
            &[("host", "h")],
            b"",
            &at(time),
            &settings,
        );
        let mut raw =
            RawRequest::parse(b"GET / HTTP/1.1\nHost: h\n\n", &RawRequestLimits::default())
                .unwrap();
        let raw = sign_raw(&mut raw, &at(time), &settings).map(|_| raw);
        let mut http = http::Request::get("http://h/").body(Vec::new()).unwrap();
        let http = sign_http(&mut http, &at(time), &settings).map(|_| http);
        let chain = ChunkSigner::for_request(&at(time), &"0".repeat(64));
        (parts, raw, http, chain)
    };
    for (case, time) in [
        ("past 9999", year_10000),
        (
            "far past 9999",
            year_10000 + Duration::from_secs(400 * 366 * 86_400),
        ),
        ("before 0000", year_0 - Duration::from_secs(1)),
        (
            "far before 0000",
            year_0 - Duration::from_secs(400 * 366 * 86_400),
        ),
    ] {
        let (parts, raw, http, chain) = catch_unwind(AssertUnwindSafe(|| sign_all(time)))
            .unwrap_or_else(|panic| panic!("{case}: panicked: {}", panic_text(&*panic)));
        for (entry, refused) in [
            ("sign_parts", parts.err()),
            ("sign_raw", raw.err()),
            ("sign_http", http.err()),
            ("ChunkSigner", chain.err()),
        ] {
            match refused {
                Some(Error::InvalidSigningInput { reason }) => {
                    assert!(reason.contains("four digits"), "{case}, {entry}: {reason}")
                }
                other => panic!("{case}, {entry}: {other:?}"),
            }
        }
    }
    let last = year_10000 - Duration::from_secs(1);
    let (parts, raw, http, chain) = sign_all(last);
    let (parts, raw, _, _) = (parts.unwrap(), raw.unwrap(), http.unwrap(), chain.unwrap());
    assert!(parts
        .headers
        .contains(&("x-amz-date".into(), "99991231T235959Z".into())));
    verify_raw_at(&raw, last, None).unwrap();
    let (parts, ..) = sign_all(year_0);
    let parts = parts.unwrap();
    assert!(parts
        .headers
        .contains(&("x-amz-date".into(), "00000101T000000Z".into())));
}

/// An absolute-form target with user information (`GET http://user:password@host/a`) goes on
/// the wire as written, and a server refuses it (RFC 9110, 4.2.4; our verifier does), so
/// `sign_raw` refuses it, with or without a `Host` header, leaves the request as it came (a
/// previous signature and all) and does not repeat the password. Before, a missing `Host` was
/// added with the password in it, and a matching one was refused as another host, password
/// and all.
#[test]
fn sign_raw_refuses_user_information_in_the_target_and_leaves_the_request() {
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let params = params(&credentials, "service");
    let settings = SigningSettings::default();
    let mut previous = RawRequest::parse(
        b"GET /a HTTP/1.1\nHost: example.com\n\n",
        &RawRequestLimits::default(),
    )
    .unwrap();
    sign_raw(&mut previous, &params, &settings).unwrap();
    for host in [None, Some("example.com")] {
        let mut request = previous.clone();
        request.target = "http://user:s3cr3t@example.com/a".into();
        match host {
            Some(host) => request.set_header("Host", host),
            None => request.remove_header("host"),
        }
        let before = request.clone();
        let error = sign_raw(&mut request, &params, &settings).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidSigningInput { reason } if reason.contains("user information")),
            "{host:?}: {error}"
        );
        assert!(!error.to_string().contains("s3cr3t"), "{host:?}: {error}");
        assert!(request == before, "{host:?}: the refused request changed");
    }
}

/// aws-sigv4 writes the path and the re-encoded query (presigned parameters and all) into an
/// `http::Uri`, which holds 65,534 bytes, and panicked past that: a query of 22,000 `%` (each
/// re-encoded as `%25`) within a 64 KiB request, or a 65,400-byte path presigned. Each entry
/// point refuses those; the same shapes that fit sign and verify.
#[test]
fn a_target_too_long_once_re_encoded_is_refused_not_a_panic() {
    let credentials = Credentials::from_keys("AKID", "secret", Some(TOKEN.into()));
    let params = params(&credentials, "service");
    let header = SigningSettings::default();
    let presigned = SigningSettings::default().presigned(Duration::from_secs(60));
    let attempt = |target: &str, settings: &SigningSettings| {
        let text = format!("GET {target} HTTP/1.1\nHost: h\n\n");
        let mut limits = RawRequestLimits::default();
        limits.max_head_bytes = 1 << 20;
        let mut raw = RawRequest::parse(text.as_bytes(), &limits).unwrap();
        let (path, query) = target
            .split_once('?')
            .map_or((target, None), |(p, q)| (p, Some(q)));
        catch_unwind(AssertUnwindSafe(|| {
            let parts = sign_parts("GET", path, query, &[("host", "h")], b"", &params, settings);
            let raw = sign_raw(&mut raw, &params, settings).map(|_| raw);
            let mut http = http::Request::get(format!("http://h{target}"))
                .body(Vec::new())
                .unwrap();
            let http = sign_http(&mut http, &params, settings).map(|_| http);
            (parts, raw, http)
        }))
        .unwrap_or_else(|panic| panic!("{}: panicked: {}", target.len(), panic_text(&*panic)))
    };
    let long_path = format!("/{}", "b".repeat(65_400));
    for (case, target, settings) in [
        ("22,000 %", format!("/?a={}", "%".repeat(22_000)), &header),
        ("22,000 +", format!("/?a={}", "+".repeat(22_000)), &header),
        ("a long path, presigned", long_path.clone(), &presigned),
    ] {
        let (parts, raw, http) = attempt(&target, settings);
        for (entry, refused) in [
            ("sign_parts", parts.err()),
            ("sign_raw", raw.err()),
            ("sign_http", http.err()),
        ] {
            match refused {
                Some(Error::InvalidSigningInput { reason }) => {
                    assert!(
                        reason.contains("longer than a URI holds"),
                        "{case}, {entry}: {reason}"
                    )
                }
                other => panic!("{case}, {entry}: {other:?}"),
            }
        }
    }
    for (case, target, settings) in [
        ("20,000 %", format!("/?a={}", "%".repeat(20_000)), &header),
        (
            "20,000 % presigned",
            format!("/?a={}", "%".repeat(20_000)),
            &presigned,
        ),
        ("a long path", long_path, &header),
    ] {
        let (parts, raw, http) = attempt(&target, settings);
        parts.unwrap_or_else(|e| panic!("{case}: {e}"));
        http.unwrap_or_else(|e| panic!("{case}: {e}"));
        let raw = raw.unwrap_or_else(|e| panic!("{case}: {e}"));
        verify_raw_at(&raw, now(), Some(TOKEN)).unwrap_or_else(|e| panic!("{case}: {e}"));
    }
}

/// `sign_parts` for a `GET` of `path` and `query` with `headers`; a panic as its text.
fn sign_parts_or_panic(
    path: &str,
    query: Option<&str>,
    headers: &[(&str, &str)],
    params: &SigningParams<'_>,
    settings: &SigningSettings,
) -> Result<Result<edgeward_signing::SignedParts, Error>, String> {
    catch_unwind(AssertUnwindSafe(|| {
        sign_parts("GET", path, query, headers, b"", params, settings)
    }))
    .map_err(|panic| panic_text(&*panic))
}

/// The limit is `http::Uri`'s own: a path and query of 65,534 bytes (`u16::MAX - 1`, http's
/// `MAX_LEN` for a `PathAndQuery`) signs in the header form, one of 65,535 is refused, not a
/// panic or another error: a query of unreserved bytes, a bare path, and a query `%` (signed
/// as `%25=`, four bytes for one: the quick bound's own worst case). A bare path has no `?`:
/// one of 65,534 bytes signs. The mutants of `MAX_PATH_AND_QUERY` ("replace - with +" and
/// "with /") and those of `check_signed_target_length` that count one or two bytes short let
/// a longer one through to aws-sigv4; counting a `?` before no query refuses one that fits.
#[test]
fn the_signed_target_limit_is_that_of_an_http_uri() {
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let params = params(&credentials, "service");
    let header = SigningSettings::default();
    let host = [("host", "h")];
    let path = |length: usize| format!("/{}", "b".repeat(length - 1));
    // (path, query, the query's length as signed with its `?`, whether it fits).
    let mut cases = Vec::new();
    for (total, fits) in [(65_534, true), (65_535, false)] {
        // `/` + `?a=b…`: a query of unreserved bytes is signed as it is.
        let query = format!("a={}", "b".repeat(total - 4));
        cases.push(("/".to_owned(), Some(query), total - 1, fits));
        // `/b…` + `?%25=`.
        cases.push((path(total - 5), Some("%".to_owned()), 5, fits));
    }
    // A bare path has no `?` to count.
    cases.push((path(65_534), None, 0, true));
    cases.push((path(65_535), None, 0, false));
    for (path, query, signed_query, fits) in cases {
        let total = path.len() + signed_query;
        assert_eq!(total, if fits { 65_534 } else { 65_535 });
        let case = format!("{total} bytes, query {:?}", query.as_ref().map(|q| q.len()));
        let signed = sign_parts_or_panic(&path, query.as_deref(), &host, &params, &header)
            .unwrap_or_else(|panic| panic!("{case}: panicked: {panic}"));
        match signed {
            Ok(_) => assert!(fits, "{case}: signed"),
            Err(Error::InvalidSigningInput { reason }) => {
                assert!(!fits, "{case}: {reason}");
                assert!(
                    reason.contains("longer than a URI holds"),
                    "{case}: {reason}"
                );
            }
            Err(other) => panic!("{case}: {other}"),
        }
    }
}

/// The presigned parameters' bound covers what each of them can grow to once escaped: a
/// session token of 10,000 `/` (30,000 bytes as `%2F`), and 1,000 signed header names of
/// three bytes that are all escaped (`!!!` as `%21%21%21`, nine bytes, and a `%3B` each) make
/// a path of 40,000 or 53,534 bytes too long, and are refused rather than handed to
/// aws-sigv4. A service name longer than the access key ID and region together signs.
/// Mutants "replace * with + and with /" (sign.rs:515:21, the token counted once or not at
/// all), "replace + with - and with *" (sign.rs:511:45, each name counted short) and
/// "replace + with -" (sign.rs:507:17, the service subtracted) each fail it.
#[test]
fn the_presigned_bound_covers_escaped_tokens_and_header_names() {
    let presigned = SigningSettings::default().presigned(Duration::from_secs(60));
    let refused = |signed: Result<Result<_, Error>, String>, case: &str| match signed {
        Ok(Err(Error::InvalidSigningInput { reason })) => {
            assert!(
                reason.contains("longer than a URI holds"),
                "{case}: {reason}"
            )
        }
        Ok(other) => panic!("{case}: {other:?}"),
        Err(panic) => panic!("{case}: panicked: {panic}"),
    };

    let token = "/".repeat(10_000);
    let credentials = Credentials::from_keys("AKID", "secret", Some(token));
    let path = format!("/{}", "b".repeat(39_999));
    refused(
        sign_parts_or_panic(
            &path,
            None,
            &[("host", "h")],
            &params(&credentials, "service"),
            &presigned,
        ),
        "a token of 10,000 `/`",
    );

    // Ten header-name bytes that the query escapes, three to a name: 1,000 names.
    let escaped = b"!#$&'*+^`|";
    let names: Vec<String> = escaped
        .iter()
        .flat_map(|&a| {
            escaped.iter().flat_map(move |&b| {
                escaped
                    .iter()
                    .map(move |&c| String::from_utf8(vec![a, b, c]).unwrap())
            })
        })
        .collect();
    assert_eq!(names.len(), 1_000);
    let mut headers = vec![("host", "h")];
    headers.extend(names.iter().map(|name| (name.as_str(), "v")));
    let credentials = Credentials::from_keys("AKID", "secret", None);
    // 12,000 bytes of X-Amz-SignedHeaders alone: 53,534 + 1 + 12,000 > 65,534.
    let path = format!("/{}", "b".repeat(53_533));
    refused(
        sign_parts_or_panic(
            &path,
            None,
            &headers,
            &params(&credentials, "service"),
            &presigned,
        ),
        "1,000 escaped header names",
    );

    let service = "a-signing-name-longer-than-the-key-and-region";
    let signed = sign_parts_or_panic(
        "/a",
        None,
        &[("host", "h")],
        &params(&credentials, service),
        &presigned,
    )
    .unwrap_or_else(|panic| panic!("a long service name: panicked: {panic}"));
    assert!(signed.is_ok(), "{signed:?}");
}

/// `sign_raw` changes the request only once signing succeeded: refused for its scope, its
/// time, its target or a `Host` that names another host, a request that was signed before
/// keeps its previous signature, headers and target byte for byte (before, the previous
/// signature was already gone, and a missing `Host` added). A fragment after a previous
/// presigned signature is refused too: it went with that signature's last parameter, unseen,
/// and the request signed.
#[test]
fn a_refused_sign_raw_leaves_the_request_as_it_came() {
    let credentials = Credentials::from_keys("AKID", "secret", None);
    let good = params(&credentials, "service");
    let bad_region = SigningParams {
        region: "us east",
        ..good
    };
    let bad_time = SigningParams {
        time: UNIX_EPOCH + Duration::from_secs(253_402_300_800),
        ..good
    };
    let presigned = SigningSettings::default().presigned(Duration::from_secs(60));
    for previous in [SigningSettings::default(), presigned.clone()] {
        let mut signed = RawRequest::parse(
            b"GET /a?b=c HTTP/1.1\nHost: example.com\n\n",
            &RawRequestLimits::default(),
        )
        .unwrap();
        sign_raw(&mut signed, &good, &previous).unwrap();
        assert!(
            signed.target.contains("X-Amz-Signature=") || signed.header("authorization").is_some()
        );
        let mut elsewhere = signed.clone();
        elsewhere.target = format!("http://other.example{}", signed.target);
        let mut no_host = signed.clone();
        no_host.remove_header("host");
        no_host.target = format!("http://example.com{}#fragment", signed.target);
        for (case, request, params) in [
            ("a region a scope cannot hold", &signed, &bad_region),
            ("a time past 9999", &signed, &bad_time),
            ("a Host naming another host", &elsewhere, &good),
            ("a fragment, no Host", &no_host, &good),
        ] {
            for settings in [SigningSettings::default(), presigned.clone()] {
                let mut attempt = request.clone();
                let error = sign_raw(&mut attempt, params, &settings)
                    .map(|_| attempt.to_bytes())
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .expect_err(case);
                assert!(
                    matches!(error, Error::InvalidSigningInput { .. }),
                    "{case}: {error}"
                );
                assert!(attempt == *request, "{case}: the refused request changed");
            }
        }
    }
}
