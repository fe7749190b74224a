//! `edgeward verify` on AWS test-suite signed requests (vectors in crates/signing/tests/sigv4,
//! with their provenance): exit 0 when valid, 1 with the AWS error code first when not, 2 on
//! usage or parse errors.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use edgeward_signing::{RawRequest, RawRequestLimits};

const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../signing/tests/sigv4/aws-signing-test-suite/v4"
);
const AK: &str = "AKIDEXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn case(name: &str, file: &str) -> String {
    format!("{SUITE}/{name}/{file}")
}

/// A file of the suite's case, without the surrounding whitespace the files end with.
fn expected(name: &str, file: &str) -> String {
    std::fs::read_to_string(case(name, file))
        .unwrap()
        .trim()
        .to_owned()
}

fn verify(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgeward"))
        .arg("verify")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn base<'a>(request: &'a str, now: &'a str) -> Vec<&'a str> {
    vec![
        "--request",
        request,
        "--access-key-id",
        AK,
        "--secret-access-key",
        SK,
        "--now",
        now,
    ]
}

#[test]
fn valid_requests_exit_0() {
    for (name, file) in [
        ("get-utf8", "header-signed-request.txt"),
        ("get-space-normalized", "header-signed-request.txt"),
        ("get-header-value-multiline", "header-signed-request.txt"),
        (
            "get-vanilla-query-order-encoded",
            "query-signed-request.txt",
        ),
    ] {
        let request = case(name, file);
        let output = verify(
            &[
                base(&request, "2015-08-30T12:40:00Z"),
                vec!["--region", "us-east-1", "--service", "service"],
            ]
            .concat(),
            None,
        );
        let text = String::from_utf8(output.stdout).unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(text.starts_with("valid\n"), "{text}");
        assert!(
            text.contains("scope:          20150830/us-east-1/service"),
            "{text}"
        );
    }
}

#[test]
fn session_token_and_json() {
    let name = "get-vanilla-with-session-token";
    let token = std::fs::read_to_string(case(name, "context.json")).unwrap();
    let context: serde_json::Value = serde_json::from_str(&token).unwrap();
    let token = context["credentials"]["token"].as_str().unwrap();
    let request = case(name, "header-signed-request.txt");
    let output = verify(
        &[
            base(&request, "20150830T123600Z"),
            vec!["--session-token", token, "--json"],
        ]
        .concat(),
        None,
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["valid"], true);
    assert_eq!(value["session_token"], true);
    assert_eq!(
        value["signature"],
        std::fs::read_to_string(case(name, "header-signature.txt"))
            .unwrap()
            .trim()
    );
    // Without the token the request's token does not belong to the key.
    let output = verify(&base(&request, "20150830T123600Z"), None);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8(output.stdout)
        .unwrap()
        .starts_with("InvalidClientTokenId\n"));
}

#[test]
fn invalid_requests_exit_1_with_the_aws_code_first() {
    let signed = std::fs::read_to_string(case(
        "get-vanilla-query-order-key-case",
        "header-signed-request.txt",
    ))
    .unwrap();
    let tampered = signed.replace("Param1=value1", "Param1=value2");
    assert_ne!(tampered, signed);
    let output = verify(&base("-", "20150830T123600Z"), Some(tampered.as_bytes()));
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("SignatureDoesNotMatch\n"), "{text}");
    assert!(
        text.contains("canonical request:\nGET\n/\nParam1=value2&Param2=value2\n"),
        "{text}"
    );

    let request = case("get-vanilla", "header-signed-request.txt");
    let skewed = verify(&base(&request, "2015-08-30T13:00:00Z"), None);
    assert_eq!(skewed.status.code(), Some(1));
    assert!(String::from_utf8(skewed.stdout)
        .unwrap()
        .starts_with("RequestTimeTooSkewed\n"));
    let wrong_region = verify(
        &[
            base(&request, "20150830T123600Z"),
            vec!["--region", "eu-west-1", "--json"],
        ]
        .concat(),
        None,
    );
    assert_eq!(wrong_region.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&wrong_region.stdout).unwrap();
    // STS and IAM answer a scope they do not serve so; S3 would say AuthorizationHeaderMalformed.
    assert_eq!(value["code"], "SignatureDoesNotMatch");
    assert_eq!(value["status"], 403);
}

/// A request whose scope names S3 is answered with S3's codes, as aws-sdk-s3 expects, and one
/// whose scope names EC2 with EC2's (`AuthFailure`, 401); the same request scoped to another
/// service keeps the codes the other services use.
#[test]
fn s3_and_ec2_requests_get_their_services_codes() {
    let request =
        std::fs::read_to_string(case("get-vanilla", "header-signed-request.txt")).unwrap();
    let for_s3 = request.replace(
        "/us-east-1/service/aws4_request",
        "/us-east-1/s3/aws4_request",
    );
    assert_ne!(for_s3, request);
    let for_ec2 = request.replace(
        "/us-east-1/service/aws4_request",
        "/us-east-1/ec2/aws4_request",
    );
    let other_key = [
        "--request",
        "-",
        "--access-key-id",
        "AKIDSOMEONEELSE",
        "--secret-access-key",
        SK,
        "--now",
        "20150830T123600Z",
        "--json",
    ];
    for (text, code, status) in [
        (&request, "InvalidClientTokenId", 403),
        (&for_s3, "InvalidAccessKeyId", 403),
        (&for_ec2, "AuthFailure", 401),
    ] {
        let output = verify(&other_key, Some(text.as_bytes()));
        assert_eq!(output.status.code(), Some(1));
        let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            (&value["code"], &value["status"]),
            (&code.into(), &status.into())
        );
    }
}

#[test]
fn usage_and_parse_errors_exit_2() {
    let garbage = verify(&base("-", "20150830T123600Z"), Some(b"GET\n"));
    assert_eq!(garbage.status.code(), Some(2));
    let missing = verify(&base("/nonexistent/request.txt", "20150830T123600Z"), None);
    assert_eq!(missing.status.code(), Some(2));
    let bad_time = verify(
        &base(&case("get-vanilla", "header-signed-request.txt"), "soon"),
        None,
    );
    assert_eq!(bad_time.status.code(), Some(2));
}

/// A body a server would not read, for want of a Content-Length, is not verified (exit 2);
/// `sign` adds the header, signed, so what it signs verifies.
#[test]
fn a_body_without_content_length_is_refused_and_sign_adds_it() {
    let unframed =
        b"POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n\nthe body";
    let output = verify(&base("-", "20150830T123600Z"), Some(unframed));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("8 body bytes but no Content-Length")
            && stderr.contains("Content-Length: 8"),
        "{stderr}"
    );

    let signed = sign(&["--service", "service"], unframed);
    assert_eq!(signed.status.code(), Some(0));
    let text = String::from_utf8(signed.stdout.clone()).unwrap();
    assert!(text.contains("\nContent-Length:8\n"), "{text}");
    assert!(
        text.contains("SignedHeaders=content-length;host;x-amz-date"),
        "{text}"
    );
    let output = verify(&base("-", "20150830T123600Z"), Some(&signed.stdout));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// The suite's signed form POST verifies as given; with the newline an editor adds at the end
/// of a file, its body no longer has the `Content-Length` bytes a server would read, and
/// `verify` says so (exit 2) instead of verifying another body than the server's.
#[test]
fn a_body_that_is_not_its_content_length_is_a_parse_error() {
    let file = case(
        "post-x-www-form-urlencoded-parameters",
        "header-signed-request.txt",
    );
    let args = base("-", "20150830T123600Z");
    let signed = std::fs::read(&file).unwrap();
    let as_given = verify(&args, Some(&signed));
    assert_eq!(
        as_given.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&as_given.stderr)
    );

    let mut with_newline = signed;
    with_newline.push(b'\n');
    let output = verify(&args, Some(&with_newline));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Content-Length is 13, but 14 bytes follow its head"),
        "{stderr}"
    );
}

/// A request longer than a head and a body at their limits (64 KiB, 16 MiB) is refused whole,
/// not cut to size and verified as if it had ended there.
#[test]
fn an_oversized_request_is_refused_not_cut() {
    let most = 64 * 1024 + 4 + 16 * 1024 * 1024;
    let mut request = b"PUT /a HTTP/1.1\nHost:example.com\n\n".to_vec();
    request.resize(most + 1, b'x');
    let output = verify(&base("-", "20150830T123600Z"), Some(&request));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("longer than"), "{stderr}");
}

/// A signed `aws-chunked` PUT (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) as raw text: the head is
/// signed for S3 (with `x-amz-decoded-content-length: decoded_length` when given), the body
/// is a chunk chain seeded with the head's signature.
fn chunked_put(data: &[u8], decoded_length: Option<usize>) -> Vec<u8> {
    use edgeward_signing::PayloadSigning;
    s3_put(
        data,
        decoded_length,
        PayloadSigning::StreamingSigned { trailer: false },
        false,
    )
}

/// A PUT of `data` signed for S3 as raw text, its payload as `payload` says: a plain body, or
/// for a streamed form an `aws-chunked` body (its chunks signed from the head's signature, or
/// not signed), with the trailer `x-amz-meta-note: hi` declared in `x-amz-trailer` when
/// `trailer`, and `x-amz-decoded-content-length: decoded_length` when given.
fn s3_put(
    data: &[u8],
    decoded_length: Option<usize>,
    payload: edgeward_signing::PayloadSigning,
    trailer: bool,
) -> Vec<u8> {
    use edgeward_signing::{sign_raw, ChunkSigner, PayloadSigning, SigningParams, SigningSettings};
    let mut head = String::from("PUT /bucket/key HTTP/1.1\r\nHost:example.com\r\n");
    let streamed = !matches!(payload, PayloadSigning::Unsigned | PayloadSigning::Signed);
    if streamed {
        head.push_str("Content-Encoding:aws-chunked\r\n");
    }
    if let Some(length) = decoded_length {
        head.push_str(&format!("x-amz-decoded-content-length:{length}\r\n"));
    }
    if trailer {
        head.push_str("x-amz-trailer:x-amz-meta-note\r\n");
    }
    head.push_str("\r\n");
    let mut request = RawRequest::parse(head.as_bytes(), &RawRequestLimits::default()).unwrap();
    let credentials = aws_credential_types::Credentials::from_keys(AK, SK, None);
    let time = edgeward_signing::parse_amz_date("20150830T123600Z").unwrap();
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "s3",
        time,
    };
    let mut settings = SigningSettings::s3();
    settings.payload = payload.clone();
    if !streamed {
        request.body = data.to_vec();
        request.set_header("Content-Length", &data.len().to_string());
    }
    let seed = sign_raw(&mut request, &params, &settings).unwrap();
    if !streamed {
        // A plain body is signed as it stands.
        return request.to_bytes();
    }
    let trailers: &[(&str, &str)] = if trailer {
        &[("x-amz-meta-note", "hi")]
    } else {
        &[]
    };
    let body = match payload {
        PayloadSigning::StreamingSigned { .. } => {
            let mut signer =
                ChunkSigner::new(&credentials, "us-east-1", "s3", time, &seed).unwrap();
            let mut body = signer.chunk(data).unwrap();
            body.extend(signer.finish(trailers).unwrap());
            body
        }
        PayloadSigning::StreamingUnsignedTrailer => {
            let mut body = format!("{:x}\r\n", data.len()).into_bytes();
            body.extend(data);
            body.extend(b"\r\n0\r\n");
            for (name, value) in trailers {
                body.extend(format!("{name}:{value}\r\n").as_bytes());
            }
            body.extend(b"\r\n");
            body
        }
        other => unreachable!("{other:?} is not a streamed payload"),
    };
    // The encoded length, as a client sends it (unsigned: S3 signs only `x-amz-*` headers).
    request.set_header("Content-Length", &body.len().to_string());
    request.body = body;
    request.to_bytes()
}

/// The request's signature covers a streamed body only through its chunk signatures, so
/// `verify` checks the chain too: a changed chunk is not `valid`.
#[test]
fn chunked_bodies_are_verified_chunk_by_chunk() {
    let data = b"hello, chunked world";
    let request = chunked_put(data, Some(data.len()));
    let output = verify(&base("-", "20150830T123600Z"), Some(&request));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("payload:        STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        "{text}"
    );

    let at = memchr_find(&request, b"hello").unwrap();
    let mut tampered = request.clone();
    tampered[at] = b'j';
    let output = verify(&base("-", "20150830T123600Z"), Some(&tampered));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.starts_with("SignatureDoesNotMatch\n"), "{text}");

    // A chain cut short (no final chunk), with a Content-Length that says so, is incomplete,
    // not valid.
    let mut cut = RawRequest::parse(&request, &RawRequestLimits::default()).unwrap();
    cut.body.truncate(cut.body.len() - 4);
    cut.set_header("Content-Length", &cut.body.len().to_string());
    let output = verify(&base("-", "20150830T123600Z"), Some(&cut.to_bytes()));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.starts_with("IncompleteBody\n"), "{text}");
}

/// The signatures of the chunk lines of `request`'s `aws-chunked` body, in order.
fn chunk_signatures(request: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(request)
        .split("chunk-signature=")
        .skip(1)
        .map(|rest| rest[..64].to_owned())
        .collect()
}

/// A chunk that breaks the chain is refused with its string-to-sign (the hash of the data
/// received on its last line), and a trailer with its canonical lines too, in text and in
/// `--json`: a client compares them with what it signed. The hashes are coreutils'
/// (`printf 'jello, chunked world' | sha256sum`, `printf '' | sha256sum`,
/// `printf 'x-amz-meta-note:ho\n' | sha256sum`).
#[test]
fn a_broken_link_prints_its_string_to_sign() {
    use edgeward_signing::PayloadSigning;
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let scope = "20150830T123600Z\n20150830/us-east-1/s3/aws4_request";
    let data = b"hello, chunked world";
    let request = chunked_put(data, Some(data.len()));
    let seed = String::from_utf8_lossy(&request)
        .split_once("Signature=")
        .unwrap()
        .1[..64]
        .to_owned();
    let at = memchr_find(&request, b"hello").unwrap();
    let mut tampered = request.clone();
    tampered[at] = b'j';
    let chunk_string_to_sign = format!(
        "AWS4-HMAC-SHA256-PAYLOAD\n{scope}\n{seed}\n{EMPTY}\n\
         324de7cf02f100a9fc85e801d39294959a0f30936257e574a2408cb41513e78c"
    );

    let mut with_trailer = s3_put(
        data,
        Some(data.len()),
        PayloadSigning::StreamingSigned { trailer: true },
        true,
    );
    let at = memchr_find(&with_trailer, b"note:hi").unwrap();
    with_trailer[at + 6] = b'o';
    let final_chunk = chunk_signatures(&with_trailer)[1].clone();
    let trailer_string_to_sign = format!(
        "AWS4-HMAC-SHA256-TRAILER\n{scope}\n{final_chunk}\n\
         f8055c17f9d99fccf6efba41a44c71057a2dd5d03f4dc633a62521da4fd7e205"
    );

    for (request, expected) in [
        (
            &tampered,
            format!(
                "SignatureDoesNotMatch\nchunk 0 signature does not match (HTTP 403)\n\
                 string to sign:\n{chunk_string_to_sign}\n"
            ),
        ),
        (
            &with_trailer,
            format!(
                "SignatureDoesNotMatch\ntrailer signature does not match (HTTP 403)\n\
                 canonical trailer:\nx-amz-meta-note:ho\n\n\n\
                 string to sign:\n{trailer_string_to_sign}\n"
            ),
        ),
    ] {
        let output = verify(&base("-", "20150830T123600Z"), Some(request));
        let text = String::from_utf8(output.stdout).unwrap();
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert_eq!(text, expected);
    }

    for (request, link, index, string_to_sign, canonical_trailer) in [
        (&tampered, "chunk", Some(0), &chunk_string_to_sign, None),
        (
            &with_trailer,
            "trailer",
            None,
            &trailer_string_to_sign,
            Some("x-amz-meta-note:ho\n"),
        ),
    ] {
        let output = verify(
            &[base("-", "20150830T123600Z"), vec!["--json"]].concat(),
            Some(request),
        );
        assert_eq!(output.status.code(), Some(1));
        let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(value["code"], "SignatureDoesNotMatch");
        assert_eq!(value["link"], link);
        assert_eq!(value["chunk"], serde_json::json!(index));
        assert_eq!(value["string_to_sign"], string_to_sign.as_str());
        assert_eq!(
            value["canonical_trailer"],
            serde_json::json!(canonical_trailer)
        );
        assert_eq!(value["canonical_request"], serde_json::Value::Null);
    }
}

/// A streamed upload that does not declare its decoded length is refused as the layer (and
/// S3) refuse it, `MissingContentLength`, however intact its chunk chain.
#[test]
fn a_chunked_body_without_its_decoded_length_is_refused() {
    let request = chunked_put(b"hello, chunked world", None);
    let output = verify(&base("-", "20150830T123600Z"), Some(&request));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.starts_with("MissingContentLength\n"), "{text}");
    assert!(text.contains("(HTTP 411)"), "{text}");
}

/// A plain (not streamed) body is checked against its flexible-checksum header, as the layer
/// (and S3) check it: the CRC-32 of `123456789` is `cbf43926` (the CRC catalogue), `y/Q5Jg==`
/// as S3 writes it; a header with another value is `BadDigest`, however good the signature.
#[test]
fn a_plain_body_is_checked_against_its_checksum_header() {
    use edgeward_signing::{sign_raw, SigningParams, SigningSettings};
    let credentials = aws_credential_types::Credentials::from_keys(AK, SK, None);
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "s3",
        time: edgeward_signing::parse_amz_date("20150830T123600Z").unwrap(),
    };
    let signed = |crc32: &str| {
        let text = format!(
            "PUT /bucket/key HTTP/1.1\r\nHost:example.com\r\nContent-Length:9\r\nx-amz-checksum-crc32:{crc32}\r\n\r\n123456789"
        );
        let mut request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
        sign_raw(&mut request, &params, &SigningSettings::s3()).unwrap();
        request.to_bytes()
    };
    let output = verify(&base("-", "20150830T123600Z"), Some(&signed("y/Q5Jg==")));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{text}");

    // CRC-32C's value for the same bytes: a checksum, but not this body's CRC-32.
    let output = verify(&base("-", "20150830T123600Z"), Some(&signed("4waSgw==")));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.starts_with("BadDigest\n"), "{text}");
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `edgeward sign` of `request` (on stdin) in us-east-1 at 20150830T123600Z with `args`, the
/// suite's credentials in the environment (where `sign` reads them).
fn sign(args: &[&str], request: &[u8]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgeward"))
        .args(["sign", "--request", "-", "--region", "us-east-1"])
        .args(["--now", "20150830T123600Z"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", SK)
        .env_remove("AWS_SESSION_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(request)?;
            child.wait_with_output()
        })
        .unwrap()
}

/// `edgeward sign --s3 …` of a PUT with a body, with `extra` arguments.
fn signed_s3_put(extra: &[&str]) -> Output {
    let args = [&["--service", "s3", "--s3"][..], extra].concat();
    sign(
        &args,
        b"PUT /bucket/key HTTP/1.1\nHost:example.com\n\nthe body",
    )
}

/// What `edgeward sign --s3 --presign` makes, `edgeward verify` (and S3) accepts: a presigned
/// S3 request signs UNSIGNED-PAYLOAD, not the body's hash.
#[test]
fn presigned_s3_requests_from_sign_verify() {
    let signed = signed_s3_put(&["--presign", "--expires", "600"]);
    assert_eq!(signed.status.code(), Some(0));
    let output = verify(&base("-", "20150830T123700Z"), Some(&signed.stdout));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&signed.stdout)
    );
    assert!(text.contains("payload:        UNSIGNED-PAYLOAD"), "{text}");
}

/// `--help` names every field `--json` prints, valid or not: scripts read them by name.
#[test]
fn help_documents_the_json_fields() {
    let help = Command::new(env!("CARGO_BIN_EXE_edgeward"))
        .args(["verify", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let request = case("get-vanilla", "header-signed-request.txt");
    let mut outputs = Vec::new();
    for now in ["20150830T123600Z", "20250830T123600Z"] {
        outputs.push(verify(
            &[base(&request, now), vec!["--json"]].concat(),
            None,
        ));
    }
    // A chunk that breaks the chain.
    let mut chunked = chunked_put(b"hello", Some(5));
    let at = memchr_find(&chunked, b"hello").unwrap();
    chunked[at] = b'j';
    outputs.push(verify(
        &[base("-", "20150830T123600Z"), vec!["--json"]].concat(),
        Some(&chunked),
    ));
    for output in outputs {
        let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        for key in value.as_object().unwrap().keys() {
            assert!(help.contains(&format!("\"{key}\"")), "{key}:\n{help}");
        }
    }
}

/// The credentials may come from the environment, as `edgeward sign` reads them (a secret in
/// an argument is in the process list). A token there goes only with a key from there: beside
/// an access key ID given as an argument it belongs to other credentials and is not used.
#[test]
fn credentials_come_from_the_environment_too() {
    let request = case("get-vanilla", "header-signed-request.txt");
    let run = |flags: &[&str], env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_edgeward"));
        command
            .args(["verify", "--request", &request, "--now", "20150830T123600Z"])
            .args(flags)
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .envs(env.iter().copied());
        let output = command.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let keys = [("AWS_ACCESS_KEY_ID", AK), ("AWS_SECRET_ACCESS_KEY", SK)];
    let with_token = [keys[0], keys[1], ("AWS_SESSION_TOKEN", "a-token")];
    let flags = ["--access-key-id", AK, "--secret-access-key", SK];

    assert_eq!(run(&[], &keys).0, Some(0));
    // The environment's token is required of the request, which carries none.
    let (code, text) = run(&[], &with_token);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.starts_with("InvalidClientTokenId"), "{text}");
    // Beside a key given as an argument, it is not used.
    assert_eq!(run(&flags, &with_token).0, Some(0));
    // The secret alone from the environment.
    assert_eq!(
        run(&["--access-key-id", AK], &[("AWS_SECRET_ACCESS_KEY", SK)]).0,
        Some(0)
    );
    let (code, text) = run(&[], &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("give --access-key-id, or set AWS_ACCESS_KEY_ID"),
        "{text}"
    );
}

/// `--require-signed-payload` refuses the payloads a signature does not cover, with the code S3
/// answers when a bucket policy does, and accepts a signed hash.
#[test]
fn require_signed_payload_refuses_unsigned_ones() {
    let strict = |signed: &Output| {
        assert_eq!(
            signed.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&signed.stderr)
        );
        let args = [
            base("-", "20150830T123700Z"),
            vec!["--require-signed-payload"],
        ]
        .concat();
        let output = verify(&args, Some(&signed.stdout));
        (
            output.status.code(),
            String::from_utf8(output.stdout).unwrap(),
        )
    };
    for extra in [
        &["--presign", "--expires", "600"][..],
        &["--unsigned-payload"][..],
    ] {
        let (code, text) = strict(&signed_s3_put(extra));
        assert_eq!(code, Some(1), "{extra:?}: {text}");
        assert!(text.starts_with("AccessDenied\n"), "{extra:?}: {text}");
        assert!(text.contains("UNSIGNED-PAYLOAD"), "{extra:?}: {text}");
    }
    let (code, text) = strict(&signed_s3_put(&[]));
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("UNSIGNED-PAYLOAD"), "{text}");
}

/// On a mismatch, the canonical request printed (text and `--json`) holds the session token's
/// length, not the token: on success only its presence is reported, and the canonical request
/// is for comparing with what a client signed, line for line.
#[test]
fn a_mismatch_prints_the_session_token_by_its_length() {
    let name = "get-vanilla-with-session-token";
    let context = std::fs::read_to_string(case(name, "context.json")).unwrap();
    let context: serde_json::Value = serde_json::from_str(&context).unwrap();
    let token = context["credentials"]["token"].as_str().unwrap();
    let redacted = format!("** redacted, {} bytes **", token.len());
    for signed in ["header-signed-request.txt", "query-signed-request.txt"] {
        let text = std::fs::read_to_string(case(name, signed)).unwrap();
        let tampered = text.replacen("GET /", "GET /tampered", 1);
        for json in [false, true] {
            let mut args = base("-", "20150830T123600Z");
            args.extend(["--session-token", token]);
            if json {
                args.push("--json");
            }
            let output = verify(&args, Some(tampered.as_bytes()));
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert_eq!(output.status.code(), Some(1), "{signed}: {stdout}");
            assert!(
                stdout.contains("SignatureDoesNotMatch"),
                "{signed}: {stdout}"
            );
            assert!(!stdout.contains(token), "{signed} json={json}: {stdout}");
            assert!(stdout.contains(&redacted), "{signed} json={json}: {stdout}");
        }
    }
}

/// A `--now` in the YYYYMMDDTHHMMSSZ shape that names no such time says so, not what the
/// RFC 3339 parser found wrong with it; `--json` leaves stdout empty on exit 2, as its help
/// says, with the error on stderr.
#[test]
fn a_now_of_no_such_day_says_so() {
    let request = case("get-vanilla", "header-signed-request.txt");
    for now in ["20150230T123600Z", "20150830T246000Z", "20150830T123660Z"] {
        let output = verify(&[base(&request, now), vec!["--json"]].concat(), None);
        assert_eq!(output.status.code(), Some(2), "{now}");
        assert!(output.stdout.is_empty(), "{now}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("is not a YYYYMMDDTHHMMSSZ time"),
            "{now}: {stderr}"
        );
        assert!(!stderr.contains("literal"), "{now}: {stderr}");
    }
}

/// `--json` names where the signature was (`header` or `query`) and the payload as signed:
/// the body's SHA-256, or one of the names S3 gives in `x-amz-content-sha256`
/// (`UNSIGNED-PAYLOAD`, and the three streamed forms, with and without a trailer).
#[test]
fn json_names_the_location_and_the_payload() {
    use edgeward_signing::PayloadSigning;

    let json = |stdin: Option<&[u8]>, request: &str| -> serde_json::Value {
        let output = verify(
            &[base(request, "20150830T123600Z"), vec!["--json"]].concat(),
            stdin,
        );
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert_eq!(output.status.code(), Some(0), "{request}: {text}");
        serde_json::from_str(&text).unwrap()
    };
    let header = json(None, &case("get-vanilla", "header-signed-request.txt"));
    assert_eq!(header["location"], "header");
    // SHA-256 of the empty body (FIPS 180-4; `printf '' | sha256sum`).
    assert_eq!(
        header["payload"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let query = json(None, &case("get-vanilla", "query-signed-request.txt"));
    assert_eq!(query["location"], "query");

    let data = b"hello, chunked world";
    for (payload, trailer, name) in [
        (PayloadSigning::Unsigned, false, "UNSIGNED-PAYLOAD"),
        (
            PayloadSigning::StreamingSigned { trailer: false },
            false,
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        ),
        (
            PayloadSigning::StreamingSigned { trailer: true },
            true,
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        ),
        (
            PayloadSigning::StreamingUnsignedTrailer,
            true,
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        ),
    ] {
        let decoded_length = (name != "UNSIGNED-PAYLOAD").then_some(data.len());
        let request = s3_put(data, decoded_length, payload, trailer);
        let value = json(Some(&request), "-");
        assert_eq!(value["location"], "header", "{name}");
        assert_eq!(value["payload"], name);
    }
}

/// `-vv` logs the canonical request and string-to-sign a valid request's signature covers:
/// the suite's, in either location.
#[test]
fn verbose_logs_what_a_valid_signature_covers() {
    for location in ["header", "query"] {
        let request = case("get-vanilla", &format!("{location}-signed-request.txt"));
        let covered = format!(
            "the signature covers this canonical request:\n{}\n\nand this string to sign:\n{}\n",
            expected("get-vanilla", &format!("{location}-canonical-request.txt")),
            expected("get-vanilla", &format!("{location}-string-to-sign.txt")),
        );
        let output = Command::new(env!("CARGO_BIN_EXE_edgeward"))
            .args(["-vv", "verify"])
            .args(base(&request, "2015-08-30T12:40:00Z"))
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(0), "{location}: {stderr}");
        assert!(stderr.contains(&covered), "{location}:\n{stderr}");
    }
}

/// `--region` holds a request to that region, but for S3's bucket-location request, which S3
/// clients sign for us-east-1 before they know a bucket's region: that one verifies signed for
/// any, as a server's verifier takes it by default. With `--s3-domain` naming the host, so is
/// `ListBuckets` (`GET /`), and the virtual-hosted form of the location request is not.
#[test]
fn region_excepts_s3_location_requests() {
    let malformed = Some("AuthorizationHeaderMalformed");
    for (target, domain, code) in [
        ("/bucket?location", None, None),
        ("/bucket?acl", None, malformed),
        ("/", None, malformed),
        ("/", Some("example.com"), None),
        ("/bucket?location", Some("example.com"), None),
        ("/?location", Some("example.com"), malformed),
        ("/", Some("other.example.com"), malformed),
    ] {
        let input = format!("GET {target} HTTP/1.1\nHost:example.com\n\n");
        let mut sign = Command::new(env!("CARGO_BIN_EXE_edgeward"))
            .args([
                "sign",
                "--request",
                "-",
                "--region",
                "us-east-1",
                "--service",
                "s3",
            ])
            .args(["--now", "20150830T123600Z"])
            .env("AWS_ACCESS_KEY_ID", AK)
            .env("AWS_SECRET_ACCESS_KEY", SK)
            .env_remove("AWS_SESSION_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        sign.stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let signed = sign.wait_with_output().unwrap();
        assert_eq!(signed.status.code(), Some(0), "{target}");
        let mut args = [
            base("-", "20150830T123600Z"),
            vec!["--region", "eu-west-1", "--json"],
        ]
        .concat();
        if let Some(domain) = domain {
            args.extend(["--s3-domain", domain]);
        }
        let output = verify(&args, Some(&signed.stdout));
        let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        match code {
            None => {
                assert_eq!(
                    output.status.code(),
                    Some(0),
                    "{target} {domain:?}: {value}"
                );
                assert_eq!(value["scope"], "20150830/us-east-1/s3", "{value}");
            }
            Some(code) => {
                assert_eq!(
                    output.status.code(),
                    Some(1),
                    "{target} {domain:?}: {value}"
                );
                assert_eq!(value["code"], code, "{value}");
            }
        }
    }
}

/// The S3 documentation's signed browser-upload form (`sigv4-post-example`, copied with its
/// provenance into the signing crate's vectors) as a raw `POST` with a file, to the bucket's
/// path, or to `/` at its virtual-hosted host.
fn post_object_request(change: Option<(&str, &str)>, virtual_hosted: bool) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../signing/tests/sigv4/s3-post-example.json"
    );
    let example: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut body = Vec::new();
    for field in example["fields"].as_array().unwrap() {
        let (name, mut value) = (field[0].as_str().unwrap(), field[1].as_str().unwrap());
        if let Some((changed, to)) = change {
            if changed == name {
                value = to;
            }
        }
        body.extend_from_slice(
            format!("--xyz\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\n\r\nJPEGDATA\r\n--xyz--\r\n",
    );
    let (target, host) = if virtual_hosted {
        ("/", "sigv4examplebucket.s3.amazonaws.com")
    } else {
        ("/sigv4examplebucket", "s3.amazonaws.com")
    };
    let mut request = format!(
        "POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}

/// The S3 documentation's example key (`sigv4-post-example`), which signed its form.
const S3_EXAMPLE_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const S3_EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// `verify`'s arguments for a request on stdin, with the S3 example key, at `now`.
fn s3_example_args(now: &'static str) -> Vec<&'static str> {
    vec![
        "--request",
        "-",
        "--access-key-id",
        S3_EXAMPLE_ACCESS_KEY_ID,
        "--secret-access-key",
        S3_EXAMPLE_SECRET,
        "--now",
        now,
    ]
}

/// A POST Object is verified by its form, in S3's terms: valid while its policy lives, and
/// each failure with S3's code first (a changed field, a changed policy, an expired one).
#[test]
fn post_object_forms_are_verified_by_their_policy() {
    let during = s3_example_args("20151229T120000Z");
    let mut json_args = during.to_vec();
    json_args.push("--json");
    let out = verify(&json_args, Some(&post_object_request(None, false)));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["location"], "post-form");
    assert_eq!(value["bucket"], "sigv4examplebucket");
    assert_eq!(value["key"], "user/user1/photo.jpg");
    assert_eq!(value["file_size"], 8);
    assert_eq!(value["scope"], "20151229/us-east-1/s3");
    assert_eq!(value["policy_expires"], "20151230T120000Z");

    // At the bucket's own host, with the service's domain named.
    let mut virtual_args = during.to_vec();
    virtual_args.extend(["--s3-domain", "s3.amazonaws.com"]);
    let out = verify(&virtual_args, Some(&post_object_request(None, true)));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = verify(
        &during,
        Some(&post_object_request(Some(("acl", "private")), false)),
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().next(), Some("AccessDenied"));
    assert!(
        text.contains(r#"Policy Condition failed: ["eq", "$acl", "public-read"]"#),
        "{text}"
    );

    let example: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../signing/tests/sigv4/s3-post-example.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let changed = example["policy"].as_str().unwrap().replacen('e', "f", 1);
    let out = verify(
        &json_args,
        Some(&post_object_request(Some(("Policy", &changed)), false)),
    );
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["code"], "SignatureDoesNotMatch");
    assert_eq!(value["string_to_sign"], changed.as_str());

    let mut late = during.to_vec();
    late[7] = "20151230T120000Z";
    let out = verify(&late, Some(&post_object_request(None, false)));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().next(), Some("AccessDenied"));
    assert!(text.contains("Policy expired."), "{text}");
}

/// A POST Object's file is held to the form's `Content-MD5` field (the MD5 from `openssl dgst`,
/// not from us): the file it describes is valid, another of the same size `BadDigest`.
#[test]
fn a_post_objects_file_is_held_to_its_content_md5() {
    use edgeward_signing::{presign_post, PolicyCondition, PostPresignRequest, SigningParams};
    let digest = Command::new("sh")
        .args([
            "-c",
            "printf JPEGDATA | openssl dgst -md5 -binary | openssl base64",
        ])
        .output()
        .expect("sh and openssl are on the PATH");
    assert!(digest.status.success());
    let md5 = String::from_utf8(digest.stdout).unwrap().trim().to_owned();
    assert_eq!(md5.len(), 24, "{md5}");

    let credentials = aws_credential_types::Credentials::from_keys(
        S3_EXAMPLE_ACCESS_KEY_ID,
        S3_EXAMPLE_SECRET,
        None,
    );
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "s3",
        time: edgeward_signing::parse_amz_date("20151229T000000Z").unwrap(),
    };
    let conditions = [PolicyCondition::Eq {
        field: "$Content-MD5".into(),
        value: md5.clone(),
    }];
    let presign = PostPresignRequest {
        bucket: "bucket",
        key: "k",
        expires_in: std::time::Duration::from_secs(3600),
        fields: &[("Content-MD5", &md5)],
        conditions: &conditions,
    };
    let form = presign_post(&params, &presign).unwrap();
    let request = |file: &str| {
        let mut body = String::new();
        for (name, value) in form.fields() {
            body.push_str(&format!(
                "--xyz\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!(
            "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n{file}\r\n--xyz--\r\n"
        ));
        format!(
            "POST /bucket HTTP/1.1\r\nHost: s3.amazonaws.com\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let mut args = s3_example_args("20151229T000100Z");
    args.push("--json");
    let out = verify(&args, Some(request("JPEGDATA").as_bytes()));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{value}");
    assert_eq!(value["file_size"], 8);
    let out = verify(&args, Some(request("JPEGDATB").as_bytes()));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{value}");
    assert_eq!(value["code"], "BadDigest");
}
