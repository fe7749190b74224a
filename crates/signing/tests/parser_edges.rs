//! Parser checks (auth.rs, chunked.rs, raw.rs) that no fast test noticed broken:
//! cargo-mutants (2026-12-04, rounds 2 and 3) left these mutants alive. Each test fails under
//! the mutant its doc names.
#![allow(clippy::unwrap_used)]

use edgeward_signing::{
    parse_amz_date, parse_authorization_header, parse_presigned_query, CredentialFault, Error,
    SignatureLocation,
};

/// Trailer lines as the decoder hands them on: name, value.
type Trailers = Vec<(String, String)>;

const SIG: &str = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";

fn header(credential: &str) -> String {
    format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature={SIG}")
}

/// An empty access key ID, or an empty region, alone makes a credential malformed (as an empty
/// service does). Mutant "replace || with && in parse_credential::parts" (auth.rs:160:37) lets
/// each through.
#[test]
fn an_empty_access_key_id_or_region_alone_is_malformed() {
    for credential in [
        "/20130524/us-east-1/s3/aws4_request",
        "AKID/20130524//s3/aws4_request",
        "AKID/20130524/us-east-1//aws4_request",
    ] {
        let text = header(credential);
        let got = parse_authorization_header(&text);
        assert!(
            matches!(
                got,
                Err(Error::MalformedCredential {
                    location: SignatureLocation::Header,
                    fault: CredentialFault::Shape { elements: 5 },
                    ..
                })
            ),
            "{credential}: {got:?}"
        );
    }
    // The control: the same header with every part present parses.
    parse_authorization_header(&header("AKID/20130524/us-east-1/s3/aws4_request")).unwrap();
}

/// The credential scope's date is `YYYYMMDD` (SigV4: "date is in the form YYYYMMDD"): eight
/// ASCII bytes that are not all digits make the credential malformed, in either location.
/// Mutants "replace & with | in all_digits" (auth.rs:238:47) and "replace && with || in
/// all_digits" (auth.rs:240:25) take any eight ASCII bytes for a date; the proptest over
/// `all_digits` rarely draws eight ASCII bytes with a non-digit, so it let both live.
#[test]
fn a_credential_date_of_eight_non_digits_is_malformed() {
    for date in ["2013052:", "2013/524", "2013O524", "abcdefgh"] {
        let credential = format!("AKID/{date}/us-east-1/s3/aws4_request");
        let text = header(&credential);
        let got = parse_authorization_header(&text);
        assert!(
            matches!(
                &got,
                Err(Error::MalformedCredential {
                    location: SignatureLocation::Header,
                    fault: CredentialFault::Date { .. },
                    ..
                })
            ),
            "{credential}: {got:?}"
        );
        let query = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature={SIG}",
            credential.replace('/', "%2F")
        );
        let got = parse_presigned_query(&query);
        assert!(
            matches!(
                &got,
                Err(Error::MalformedCredential {
                    location: SignatureLocation::Query,
                    fault: CredentialFault::Date { .. },
                    ..
                })
            ),
            "{query}: {got:?}"
        );
    }
    // The control: the same credential with a date of digits parses.
    parse_authorization_header(&header("AKID/20130524/us-east-1/s3/aws4_request")).unwrap();
}

/// An empty `X-Amz-SignedHeaders` signs no header, so not `host`: S3 answers it as a required
/// header left unsigned, naming `host` (brendanhay/amazonka#272), not as a malformed query.
/// An empty `SignedHeaders` in the header form stays malformed (no answer of S3's to it is on
/// record).
#[test]
fn an_empty_presigned_signed_headers_list_leaves_host_unsigned() {
    let query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20130524%2Fus-east-1%2Fs3%2F\
         aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=\
         &X-Amz-Signature={SIG}"
    );
    let error = parse_presigned_query(&query).unwrap_err();
    assert!(
        matches!(
            error,
            Error::RequiredHeaderNotSigned {
                location: SignatureLocation::Query,
                header: "host"
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.headers_not_signed(), Some("host"));
    let header = "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, \
                  SignedHeaders=, Signature=";
    let error = parse_authorization_header(&format!("{header}{SIG}")).unwrap_err();
    assert!(
        matches!(
            error,
            Error::MalformedAuthorization {
                location: SignatureLocation::Header,
                ..
            }
        ),
        "{error:?}"
    );
    // The control: the same query signing `host` parses.
    parse_presigned_query(&query.replace("SignedHeaders=&", "SignedHeaders=host&")).unwrap();
}

/// `SignedHeaders` is sorted and names each header once (SigV4: "sorted by character code in
/// ascending order", one entry per header), also for names that share their first eight bytes,
/// where a comparison of the first eight bytes ties. Mutant "replace == with != in
/// parse_signed_headers" (auth.rs:395:34) skips the full comparison on a tie and accepts
/// these.
#[test]
fn signed_headers_sharing_eight_bytes_must_be_sorted_and_unique() {
    let with = |signed_headers: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders={signed_headers}, Signature={SIG}"
        )
    };
    for signed_headers in [
        "host;x-amz-date;x-amz-date",
        "host;x-amz-meta-b;x-amz-meta-a",
        "host;x-amz-content-sha256;x-amz-content-sha256",
        "content-md5;content-length;host",
    ] {
        let text = with(signed_headers);
        let got = parse_authorization_header(&text);
        assert!(
            matches!(
                &got,
                Err(Error::MalformedAuthorization { location: SignatureLocation::Header, reason })
                    if reason.contains("sorted")
            ),
            "{signed_headers}: {got:?}"
        );
    }
    // The controls: the same names in order, each once, parse.
    for signed_headers in [
        "host;x-amz-date",
        "host;x-amz-meta-a;x-amz-meta-b",
        "content-length;content-md5;host",
    ] {
        parse_authorization_header(&with(signed_headers))
            .unwrap_or_else(|e| panic!("{signed_headers}: {e}"));
    }
}

/// A presigned URL naming another algorithm (SigV4a's `AWS4-ECDSA-P256-SHA256`) is
/// `UnsupportedAlgorithm` at the query, and `X-Amz-Algorithm=AWS` is `SignatureVersion2`, as
/// the header parser answers. Mutant "replace == with != in parse_presigned_query"
/// (auth.rs:688:22) swaps the two answers.
#[test]
fn a_presigned_query_with_another_algorithm_is_unsupported() {
    let query = |algorithm: &str| {
        format!(
            "X-Amz-Algorithm={algorithm}&X-Amz-Credential=AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature={SIG}"
        )
    };
    parse_presigned_query(&query("AWS4-HMAC-SHA256")).unwrap();
    let sigv4a = query("AWS4-ECDSA-P256-SHA256");
    let got = parse_presigned_query(&sigv4a);
    assert!(
        matches!(
            &got,
            Err(Error::UnsupportedAlgorithm { location: SignatureLocation::Query, algorithm })
                if algorithm == "AWS4-ECDSA-P256-SHA256"
        ),
        "{got:?}"
    );
    let sigv2 = query("AWS");
    let got = parse_presigned_query(&sigv2);
    assert!(matches!(got, Err(Error::SignatureVersion2)), "{got:?}");
}

/// `X-Amz-Date` is `YYYYMMDD'T'HHMMSS'Z'`: fourteen digits, a `T` and a `Z`. Mutants that
/// break the digit test ("replace & with | / ^ in parse_amz_date" at auth.rs:739:63, "replace
/// < with <=" at 739:75: `:` is the byte after `9`, read as the digit 10) or the `T`/`Z` test
/// ("replace & with |" at 740:20 and 740:37) accept these.
#[test]
fn amz_date_refuses_non_digits_and_a_wrong_t_or_z() {
    parse_amz_date("20130524T000010Z").unwrap();
    for text in [
        "20130524T00000:Z", // `:` = '0' + 10
        "2013052:T000000Z",
        "2013052:T00000:Z", // two: an even count passes an XOR fold
        "201305 4T000000Z",
        "20130524X000000Z",
        "20130524T000000X",
        "20130524 000000 ",
    ] {
        let got = parse_amz_date(text);
        assert!(
            matches!(got, Err(Error::MalformedDate { .. })),
            "{text}: {got:?}"
        );
    }
}

mod chunked {
    use edgeward_signing::{ChunkChainVerifier, ChunkLimits, Error};

    fn unsigned(max_line_bytes: usize) -> ChunkChainVerifier {
        let mut limits = ChunkLimits::default();
        limits.max_line_bytes = max_line_bytes;
        ChunkChainVerifier::unsigned().with_limits(limits)
    }

    /// Decodes `pieces` pushed one after another, then finishes.
    fn decode(mut verifier: ChunkChainVerifier, pieces: &[&[u8]]) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        for piece in pieces {
            verifier.push(piece, &mut out)?;
        }
        verifier.finish()?;
        Ok(out)
    }

    fn too_long(result: &Result<Vec<u8>, Error>) -> bool {
        matches!(
            result,
            Err(Error::MalformedChunk {
                reason: "chunk header or trailer line too long"
            })
        )
    }

    /// `max_line_bytes` is the longest line taken, whole or with its CR waiting for its LF;
    /// one byte more is refused, whole or still open. Mutants in
    /// `ChunkChainVerifier::take_line`: "replace > with >=" (chunked.rs:291:30) refuses a line
    /// of exactly the limit; "replace > with >=" (299:35) refuses it when its LF comes in the
    /// next piece; "replace > with ==" (299:35) and "replace match guard … with false"
    /// (299:21) buffer a line that never ends without bound.
    #[test]
    fn the_line_limit_is_exact_and_holds_for_a_line_that_never_ends() {
        // `5;ext=ab` is 8 bytes.
        let rest: &[u8] = b"hello\r\n0\r\n\r\n";
        assert_eq!(
            decode(unsigned(8), &[b"5;ext=ab\r\n", rest]).unwrap(),
            b"hello"
        );
        assert_eq!(
            decode(unsigned(8), &[b"5;ext=ab\r", b"\n", rest]).unwrap(),
            b"hello"
        );
        let got = decode(unsigned(8), &[b"5;ext=abc\r\n", rest]);
        assert!(too_long(&got), "{got:?}");
        // No CRLF at all: refused as soon as more than the limit (and a CR) is pending, in
        // one piece or in many, not held until a CRLF comes.
        let mut verifier = unsigned(8);
        let got = verifier.push(&[b'5'; 64], &mut Vec::new());
        assert!(
            matches!(got, Err(Error::MalformedChunk { .. })),
            "64 bytes without a CRLF: {got:?}"
        );
        let mut verifier = unsigned(8);
        let got = (0..64).try_for_each(|_| verifier.push(b"5", &mut Vec::new()));
        assert!(
            matches!(got, Err(Error::MalformedChunk { .. })),
            "64 one-byte pieces without a CRLF: {got:?}"
        );
    }

    /// A chunk size is 1 to 16 hex digits and nothing else: `usize::from_str_radix` would also
    /// take a leading `+` and more than 16 digits of leading zeros. Mutants in
    /// `ChunkChainVerifier::process`: "replace || with &&" (chunked.rs:350:25) takes `+5`;
    /// "replace || with &&" (349:25) and "replace > with ==" (349:39) take 17 digits;
    /// "replace > with >=" (349:39) refuses 16.
    #[test]
    fn a_chunk_size_is_one_to_sixteen_hex_digits() {
        let body = |size: &str| format!("{size}\r\nhello\r\n0\r\n\r\n").into_bytes();
        let sixteen = decode(unsigned(4096), &[&body("0000000000000005")]);
        assert_eq!(sixteen.unwrap(), b"hello");
        for size in ["+5", "00000000000000005", "-0", " 5"] {
            let got = decode(unsigned(4096), &[&body(size)]);
            assert!(
                matches!(
                    got,
                    Err(Error::MalformedChunk {
                        reason: "chunk size is not hex"
                    })
                ),
                "{size:?}: {got:?}"
            );
        }
    }
}

mod support;

/// A signed chain without a trailer (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) carries no trailer:
/// a trailer line after its final chunk is signed by nothing and must not reach the service,
/// and neither may an `x-amz-trailer-signature` line, the signature of a trailer this form
/// does not have. Mutant "replace || with && in ChunkChainVerifier::check_trailer_signature"
/// (chunked.rs:608:42) accepts the signature line (the trailer line is refused as undeclared
/// before that check). Declaring a trailer in a signed `x-amz-trailer` on this form is refused
/// before the body is read: it could never come.
#[test]
fn a_chain_without_a_trailer_refuses_an_unsigned_trailer_line() {
    use std::sync::Arc;
    use std::time::SystemTime;

    use edgeward_signing::{
        FixedClock, Headers, Payload, RequestView, ResolvedCredential, StaticCredentials, Verifier,
        VerifierSettings,
    };

    let now = SystemTime::now();
    let verifier = Verifier::new(
        StaticCredentials::new().with(support::AK, ResolvedCredential::new(support::SK, "alice")),
        VerifierSettings::default(),
    )
    .with_clock(Arc::new(FixedClock(now)));
    let head = |declared: Option<&str>| {
        let mut request = http::Request::builder()
            .method("PUT")
            .uri("/bucket/key")
            .header("host", "s3.amazonaws.com")
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", "5");
        if let Some(declared) = declared {
            request = request.header("x-amz-trailer", declared);
        }
        let mut request = request.body(Vec::new()).unwrap();
        let signer = support::sign_chunked_head(&mut request, false, now).with_decoded_length(5);
        (request, signer)
    };
    let (request, mut signer) = head(None);
    let mut body = signer.chunk(b"hello").unwrap();
    body.extend(signer.finish(&[]).unwrap());
    let decode = |body: &[u8]| -> Result<(Vec<u8>, Trailers), Error> {
        let verified = futures_util::FutureExt::now_or_never(
            verifier.verify(&RequestView::from_http(&request), Payload::Unavailable),
        )
        .unwrap()?;
        let mut chain = verified
            .streamed_body_verifier(&Headers::Map(request.headers()))?
            .unwrap();
        let mut out = Vec::new();
        chain.push(body, &mut out)?;
        chain.finish()?;
        Ok((out, chain.trailers().to_vec()))
    };
    // The control: the chain as signed decodes, with no trailer.
    assert_eq!(decode(&body).unwrap(), (b"hello".to_vec(), Vec::new()));
    // The same chain with an unsigned trailer line before its closing empty line.
    assert!(
        body.ends_with(b"\r\n\r\n"),
        "{:?}",
        String::from_utf8_lossy(&body)
    );
    body.truncate(body.len() - 2);
    let mut forged = body.clone();
    forged.extend_from_slice(b"x-amz-meta-a:forged\r\n\r\n");
    let got = decode(&forged);
    assert!(
        matches!(got, Err(Error::MalformedTrailer { .. })),
        "{got:?}"
    );
    // The same chain with a trailer signature line (64 hex digits, well formed) and no trailer.
    let mut signature_line = body.clone();
    signature_line.extend_from_slice(format!("x-amz-trailer-signature:{SIG}\r\n\r\n").as_bytes());
    let got = decode(&signature_line);
    assert!(
        matches!(
            got,
            Err(Error::MalformedTrailer {
                reason: "trailer on a body declared without one"
            })
        ),
        "{got:?}"
    );
    // The same head declaring that trailer, signed: refused before any of the body.
    let (declared, _) = head(Some("x-amz-meta-a"));
    let verified = futures_util::FutureExt::now_or_never(
        verifier.verify(&RequestView::from_http(&declared), Payload::Unavailable),
    )
    .unwrap()
    .unwrap();
    let refused = verified.streamed_body_verifier(&Headers::Map(declared.headers()));
    assert!(
        matches!(&refused, Err(Error::MalformedChunk { reason }) if reason.contains("x-amz-trailer")),
        "{:?}",
        refused.map(|_| ())
    );
}

mod raw {
    use edgeward_signing::{Error, RawRequest, RawRequestLimits};

    fn limits(
        max_head_bytes: usize,
        max_headers: usize,
        max_body_bytes: usize,
    ) -> RawRequestLimits {
        let mut limits = RawRequestLimits::default();
        limits.max_head_bytes = max_head_bytes;
        limits.max_headers = max_headers;
        limits.max_body_bytes = max_body_bytes;
        limits
    }

    fn too_large(result: Result<RawRequest, Error>) -> Option<&'static str> {
        match result {
            Err(Error::RawRequestTooLarge { what, .. }) => Some(what),
            _ => None,
        }
    }

    /// Each limit is exact: a request at the limit parses, one byte or one header line over it
    /// is `RawRequestTooLarge` naming that limit. The head counts every byte up to and with the
    /// empty line that ends it; the header count leaves out the request line. Mutants
    /// "replace > with >=" at raw.rs:178, 203 and 212 refuse the request at the limit.
    #[test]
    fn each_size_limit_is_exact() {
        let head = "PUT /a HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\n";
        let text = format!("{head}body");
        let parse = |limits: &RawRequestLimits| RawRequest::parse(text.as_bytes(), limits);
        let loose = RawRequestLimits::default();

        parse(&limits(head.len(), loose.max_headers, 4)).unwrap();
        assert_eq!(
            too_large(parse(&limits(head.len() - 1, loose.max_headers, 4))),
            Some("request head")
        );
        assert_eq!(
            too_large(parse(&limits(loose.max_head_bytes, loose.max_headers, 3))),
            Some("body")
        );

        parse(&limits(loose.max_head_bytes, 2, 4)).unwrap();
        assert_eq!(
            too_large(parse(&limits(loose.max_head_bytes, 1, 4))),
            Some("header lines")
        );
        // Folded (obs-fold) lines count as lines: they are what the limit bounds.
        let folded = "GET / HTTP/1.1\nHost: example.com\nX-A: 1\n 2\n\n";
        RawRequest::parse(folded.as_bytes(), &limits(loose.max_head_bytes, 3, 0)).unwrap();
        assert_eq!(
            too_large(RawRequest::parse(
                folded.as_bytes(),
                &limits(loose.max_head_bytes, 2, 0)
            )),
            Some("header lines")
        );
    }

    fn malformed(text: &[u8]) -> Option<(usize, &'static str)> {
        match RawRequest::parse(text, &RawRequestLimits::default()) {
            Err(Error::MalformedRawRequest { line, reason }) => Some((line, reason)),
            _ => None,
        }
    }

    /// A control byte in the request line (DEL too; a tab is a blank) is refused as such.
    /// Mutant "replace || with && in RawRequest::parse" (raw.rs:226) lets both through.
    #[test]
    fn a_control_byte_in_the_request_line_is_refused() {
        for line in [
            &b"GET /a\x01b HTTP/1.1"[..],
            b"GET /a\x7fb HTTP/1.1",
            b"GET /a?b=\x1b HTTP/1.1",
        ] {
            let text = [line, b"\nHost: example.com\n\n"].concat();
            assert_eq!(
                malformed(&text),
                Some((1, "control character in request line")),
                "{line:?}"
            );
        }
        RawRequest::parse(
            b"GET /a?b=~ HTTP/1.1\nHost: example.com\n\n",
            &RawRequestLimits::default(),
        )
        .unwrap();
    }

    /// A method and a header name are RFC 9110 tokens: every `tchar` passes (the special
    /// ones included), anything else is refused. Mutants in `is_tchar` (raw.rs:78) and
    /// "replace || with &&" in the header name check (raw.rs:277) change which pass.
    #[test]
    fn methods_and_header_names_are_tokens() {
        const SPECIALS: &str = "!#$%&'*+-.^_`|~";
        let parsed = RawRequest::parse(
            format!("X{SPECIALS}9 / HTTP/1.1\nHost: example.com\nX{SPECIALS}9: v\n\n").as_bytes(),
            &RawRequestLimits::default(),
        )
        .unwrap();
        assert_eq!(parsed.method, format!("X{SPECIALS}9"));
        assert_eq!(parsed.headers[1].0, format!("X{SPECIALS}9"));
        for separator in [
            '(', ')', '"', '/', '@', '[', ']', '{', '}', ',', ';', '=', '?', '\\',
        ] {
            let method = format!("G{separator}T / HTTP/1.1\nHost: example.com\n\n");
            assert_eq!(
                malformed(method.as_bytes()),
                Some((1, "invalid method")),
                "{method:?}"
            );
            let name = format!("GET / HTTP/1.1\nHost: example.com\nX{separator}Y: v\n\n");
            assert_eq!(
                malformed(name.as_bytes()),
                Some((3, "invalid header name")),
                "{name:?}"
            );
        }
        assert_eq!(
            malformed(b"GET / HTTP/1.1\nHost: example.com\n: v\n\n"),
            Some((3, "invalid header name"))
        );
    }
}
