//! The layer's answers at the HTTP level, over real sockets against hyper 1: error answers
//! that stay well-formed XML whatever a client put in the headers they echo, and a stalled
//! body answered as S3 answers it. From the review of the layer's HTTP semantics
//! (2026-12-03); with the `interop` feature botocore's own parsers read the answers.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use edgeward_signing::{sign_http, LayerSettings, SigningParams, SigningSettings};
use support::{head_lines, AK, SK};

/// Signs `request` for `service` in us-east-1 now with `secret` (`settings`).
fn sign(
    request: &mut http::Request<Vec<u8>>,
    service: &str,
    secret: &str,
    settings: &SigningSettings,
) {
    let creds = Credentials::from_keys(AK, secret, None);
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service,
        time: SystemTime::now(),
    };
    sign_http(request, &params, settings).unwrap();
}

/// Writes `bytes` on a fresh connection and reads until the server closes or `wait` passes:
/// everything read, and whether the server closed.
async fn exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> (Vec<u8>, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 8192];
    let closed = tokio::time::timeout(wait, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => response.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    (response, closed)
}

/// Whether `c` is a character XML 1.0 allows in a document at all (its `Char` production,
/// escaped or not): tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD, U+10000 and above.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// The body of an HTTP/1.1 answer (after the head).
fn answer_body(answer: &[u8]) -> &[u8] {
    let at = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    &answer[at + 4..]
}

/// What botocore's parser for `protocol` reads out of `answer`: `Code RequestId`.
#[cfg(feature = "interop")]
fn botocore_reads(protocol: &str, answer: &[u8]) -> String {
    let python = support::interop::interop_python();
    let script = format!(
        r#"
import sys, botocore.parsers as p
raw = sys.stdin.buffer.read()
head, _, body = raw.partition(b"\r\n\r\n")
lines = head.split(b"\r\n")
headers = {{}}
for line in lines[1:]:
    k, _, v = line.partition(b":")
    headers[k.decode().strip()] = v.decode("latin-1").strip()
r = p.create_parser("{protocol}").parse({{"status_code": int(lines[0].split()[1]), "headers": headers, "body": body}}, None)
print(r["Error"].get("Code"), r["ResponseMetadata"].get("RequestId"))
"#
    );
    python_with(&python, &script, answer)
}

/// botocore's S3 parser's reading of `answer`'s error: every element it found, by name.
#[cfg(feature = "interop")]
fn botocore_reads_s3_error(answer: &[u8]) -> serde_json::Value {
    let python = support::interop::interop_python();
    let script = r#"
import json, sys, botocore.parsers as p
raw = sys.stdin.buffer.read()
head, _, body = raw.partition(b"\r\n\r\n")
lines = head.split(b"\r\n")
headers = {}
for line in lines[1:]:
    k, _, v = line.partition(b":")
    headers[k.decode().strip()] = v.decode("latin-1").strip()
r = p.create_parser("rest-xml").parse({"status_code": int(lines[0].split()[1]), "headers": headers, "body": body}, None)
print(json.dumps(r["Error"]))
"#;
    let out = python_with(&python, script, answer);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[cfg(feature = "interop")]
fn python_with(python: &str, script: &str, stdin: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// S3's `SignatureDoesNotMatch` echoes the canonical request, and with it the raw value of
/// every signed header. HTTP lets a field value carry any byte from 0x80 up (obs-text), so a
/// value can hold the UTF-8 of U+FFFE or U+FFFF, which XML 1.0 forbids anywhere in a document
/// (escaped or not). The answer must stay well-formed XML, so that botocore (expat) reads the
/// error code and request ID out of it (it fell back to `Code: 403` before the layer replaced
/// them). botocore's own parser reads the answer in the interop run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_mismatch_answer_stays_well_formed_xml() {
    let addr = support::start_server_with(LayerSettings::default()).await;
    for bad in ["\u{ffff}", "\u{fffe}"] {
        let mut request = http::Request::builder()
            .method("PUT")
            .uri(format!("http://{addr}/bucket/key"))
            .header("host", addr.to_string())
            .header("x-amz-meta-note", "plain")
            .body(b"hello".to_vec())
            .unwrap();
        sign(&mut request, "s3", SK, &SigningSettings::s3());
        // Changed after signing (a proxy that re-encodes, or a client that signs other
        // bytes than it sends): the signature no longer matches.
        request.headers_mut().insert(
            "x-amz-meta-note",
            http::HeaderValue::from_bytes(format!("a{bad}b").as_bytes()).unwrap(),
        );
        let mut raw =
            b"PUT /bucket/key HTTP/1.1\r\ncontent-length: 5\r\nconnection: close\r\n".to_vec();
        raw.extend(head_lines(request.headers()));
        raw.extend_from_slice(b"\r\nhello");
        let (answer, _) = exchange(addr, &raw, Duration::from_secs(5)).await;
        let text = String::from_utf8(answer_body(&answer).to_vec()).unwrap();
        assert!(
            text.contains("<Code>SignatureDoesNotMatch</Code>"),
            "{text}"
        );
        #[cfg(feature = "interop")]
        {
            let read = botocore_reads("rest-xml", &answer);
            assert!(
                read.starts_with("SignatureDoesNotMatch edgeward-"),
                "botocore read {read:?} from {text:?}"
            );
        }
        let illegal: Vec<char> = text.chars().filter(|&c| !xml_char(c)).collect();
        assert!(
            illegal.is_empty(),
            "characters XML forbids: {illegal:?} in {text:?}"
        );
    }
}

/// The same for a message that echoes a header as sent: `HostMismatch` names the `Host`
/// header, and a `Host` value with U+FFFF makes the query-protocol XML ill-formed (the
/// `Action` makes it a query request, answered in that XML).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_mismatch_answer_stays_well_formed_xml() {
    let addr = support::start_server_with(LayerSettings::default()).await;
    let mut raw = format!("GET http://{addr}/?Action=ListUsers HTTP/1.1\r\nhost: a").into_bytes();
    raw.extend_from_slice("\u{ffff}".as_bytes());
    raw.extend_from_slice(b"\r\nconnection: close\r\n\r\n");
    let (answer, _) = exchange(addr, &raw, Duration::from_secs(5)).await;
    let text = String::from_utf8(answer_body(&answer).to_vec()).unwrap();
    assert!(text.contains("names another host"), "{text}");
    #[cfg(feature = "interop")]
    {
        let read = botocore_reads("query", &answer);
        assert!(
            read.starts_with("InvalidRequest edgeward-"),
            "botocore read {read:?} from {text:?}"
        );
    }
    let illegal: Vec<char> = text.chars().filter(|&c| !xml_char(c)).collect();
    assert!(
        illegal.is_empty(),
        "characters XML forbids: {illegal:?} in {text:?}"
    );
}

/// A client that declared `Content-Length: 10`, sent 5 bytes and then nothing (the
/// connection still open) hits the body timeout. S3 answers that `400 RequestTimeout` ("Your
/// socket connection to the server was not read from or written to within the timeout
/// period"); `IncompleteBody` is S3's answer to a body that ended short. The SDKs retry the
/// first (botocore's `_retry.json`, S3 `timeouts`; its standard mode's transient codes;
/// aws-sdk-rust's transient codes) and not the second. (A body cut short by the client
/// closing is `IncompleteBody`, rightly.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_s3_body_is_answered_request_timeout() {
    let mut settings = LayerSettings::default();
    settings.body_timeout = Duration::from_secs(1);
    let addr = support::start_server_with(settings).await;
    let mut request = http::Request::builder()
        .method("PUT")
        .uri(format!("http://{addr}/bucket/key"))
        .header("host", addr.to_string())
        .body(b"helloworld".to_vec())
        .unwrap();
    sign(&mut request, "s3", SK, &SigningSettings::s3());
    let mut raw = b"PUT /bucket/key HTTP/1.1\r\ncontent-length: 10\r\n".to_vec();
    raw.extend(head_lines(request.headers()));
    raw.extend_from_slice(b"\r\nhello");
    let (answer, _) = exchange(addr, &raw, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("<Code>RequestTimeout</Code>"), "{text}");
}

/// `ErrorFormat::Auto` answers each protocol in the form its clients parse, told from the
/// request as botocore sends it (the protocols of botocore's service models): a restJson
/// request without a body or content type (Lambda's `ListFunctions`) in restJson's JSON, which
/// an XML answer reached as code `403`; a Smithy RPC v2 CBOR request (CloudWatch) in CBOR,
/// which an XML answer made botocore fail to parse at all (CloudWatch keeps its query-era
/// codes, so botocore reads `SignatureDoesNotMatch` from `x-amzn-query-error`: see
/// `query_compatible_services_answer_their_query_codes`); a query request named by its
/// `Action` and the two restXml services' (Route 53, CloudFront) in the query XML; an EC2
/// request, whose query names an `Action` too, in EC2's own XML with its `AuthFailure` and 401
/// (aws-sdk-rust's EC2 parser finds no code in the query XML). Each is signed with the wrong
/// secret; with the `interop` feature botocore's parser for the protocol reads the code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_answers_each_protocol_in_the_form_its_clients_read() {
    let addr = support::start_server_with(LayerSettings::default()).await;
    // (botocore's protocol, method, target, headers, the scope's service, the answer's type)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
        &'static str,
    );
    let cases: [Case; 7] = [
        (
            "rest-json",
            "GET",
            "/2015-03-31/functions/",
            &[],
            "lambda",
            "application/json",
        ),
        (
            "rest-json",
            "GET",
            "/restapis",
            &[("accept", "application/json")],
            "apigateway",
            "application/json",
        ),
        (
            "smithy-rpc-v2-cbor",
            "POST",
            "/service/GraniteServiceVersion20100801/operation/ListMetrics",
            &[
                ("smithy-protocol", "rpc-v2-cbor"),
                ("content-type", "application/cbor"),
                ("accept", "application/cbor"),
            ],
            "monitoring",
            "application/cbor",
        ),
        (
            "query",
            "GET",
            "/?Action=GetCallerIdentity&Version=2011-06-15",
            &[],
            "sts",
            "text/xml",
        ),
        (
            "rest-xml",
            "GET",
            "/2013-04-01/hostedzone",
            &[],
            "route53",
            "text/xml",
        ),
        (
            "rest-xml",
            "GET",
            "/2020-05-31/distribution",
            &[],
            "cloudfront",
            "text/xml",
        ),
        (
            "ec2",
            "GET",
            "/?Action=DescribeRegions&Version=2016-11-15",
            &[],
            "ec2",
            "text/xml;charset=UTF-8",
        ),
    ];
    for (protocol, method, target, headers, service, content_type) in cases {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("http://{addr}{target}"))
            .header("host", addr.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(Vec::new()).unwrap();
        sign(
            &mut request,
            service,
            "not-the-secret",
            &SigningSettings::default(),
        );
        let mut raw = format!("{method} {target} HTTP/1.1\r\nconnection: close\r\n").into_bytes();
        raw.extend(head_lines(request.headers()));
        raw.extend_from_slice(b"\r\n");
        let (answer, _) = exchange(addr, &raw, Duration::from_secs(5)).await;
        let text = String::from_utf8_lossy(&answer).into_owned();
        let case = format!("{protocol} {service}: {text}");
        assert!(text.starts_with("HTTP/1.1 4"), "{case}");
        assert!(
            text.contains(&format!("\r\ncontent-type: {content_type}\r\n")),
            "{case}"
        );
        let body = answer_body(&answer);
        match protocol {
            "rest-json" => assert!(
                body.starts_with(b"{\"__type\":\"InvalidSignatureException\""),
                "{case}"
            ),
            // A map of two pairs whose first key is the text `__type` (RFC 8949: 0xa2, then
            // major type 3 with length 6).
            "smithy-rpc-v2-cbor" => {
                assert!(body.starts_with(b"\xa2\x66__type"), "{case}");
                assert!(
                    text.contains("\r\nsmithy-protocol: rpc-v2-cbor\r\n"),
                    "{case}"
                );
            }
            // The form of EC2's answers in aws/aws-sdk-java-v2#2981, with their status
            // (aws/aws-sdk-java#2508).
            "ec2" => {
                assert!(text.starts_with("HTTP/1.1 401 "), "{case}");
                assert!(
                    String::from_utf8_lossy(body).starts_with(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>AuthFailure</Code><Message>"
                    ),
                    "{case}"
                );
                assert!(
                    String::from_utf8_lossy(body)
                        .contains("</Message></Error></Errors><RequestID>edgeward-"),
                    "{case}"
                );
            }
            _ => assert!(
                String::from_utf8_lossy(body).contains("<Code>SignatureDoesNotMatch</Code>"),
                "{case}"
            ),
        }
        #[cfg(feature = "interop")]
        {
            let code = match protocol {
                "rest-json" => "InvalidSignatureException",
                "ec2" => "AuthFailure",
                _ => "SignatureDoesNotMatch",
            };
            let read = botocore_reads(protocol, &answer);
            assert!(
                read.starts_with(&format!("{code} edgeward-")),
                "botocore read {read:?}: {case}"
            );
        }
    }
}

/// The services that moved from the query protocol to JSON or CBOR keep their query-era error
/// codes (Smithy's `awsQueryCompatible`): beside the JSON code, the answer carries the query
/// code in `x-amzn-query-error` (`Code;Sender`, smithy-rs#1872), which botocore and the
/// JavaScript and Go SDKs report as the error's code, with the query protocol's status (SQS's
/// `InvalidClientTokenId` reached the Go SDK as 403: argoproj/notifications-engine#382). SQS
/// is one (its scope names it), and so is any request whose client says it is one
/// (`x-amzn-query-mode: true`, as botocore and the JavaScript SDK send for such services);
/// DynamoDB is not, and keeps awsJson's 400 without the header. With the `interop` feature
/// botocore's JSON parser reads the code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_compatible_services_answer_their_query_codes() {
    let addr = support::start_server_with(LayerSettings::default()).await;
    // (the scope's service, target, query mode, access key, status, `x-amzn-query-error`,
    // `__type`, the code botocore reads)
    let cases = [
        (
            "sqs",
            "AmazonSQS.ListQueues",
            false,
            AK,
            403,
            Some("SignatureDoesNotMatch;Sender"),
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
        ),
        (
            "sqs",
            "AmazonSQS.ListQueues",
            false,
            "AKIDUNKNOWNKEY",
            403,
            Some("InvalidClientTokenId;Sender"),
            "UnrecognizedClientException",
            "InvalidClientTokenId",
        ),
        (
            "kinesis",
            "Kinesis_20131202.ListStreams",
            true,
            AK,
            403,
            Some("SignatureDoesNotMatch;Sender"),
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
        ),
        (
            "dynamodb",
            "DynamoDB_20120810.ListTables",
            false,
            AK,
            400,
            None,
            "InvalidSignatureException",
            "InvalidSignatureException",
        ),
    ];
    for (service, target, query_mode, access_key, status, query_error, json_type, _read) in cases {
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{addr}/"))
            .header("host", addr.to_string())
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", target);
        if query_mode {
            request = request.header("x-amzn-query-mode", "true");
        }
        let mut request = request.body(b"{}".to_vec()).unwrap();
        let creds = Credentials::from_keys(access_key, "not-the-secret", None);
        let params = SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service,
            time: SystemTime::now(),
        };
        sign_http(&mut request, &params, &SigningSettings::default()).unwrap();
        let mut raw = b"POST / HTTP/1.1\r\nconnection: close\r\n".to_vec();
        raw.extend(head_lines(request.headers()));
        raw.extend_from_slice(b"\r\n{}");
        let (answer, _) = exchange(addr, &raw, Duration::from_secs(5)).await;
        let text = String::from_utf8_lossy(&answer).into_owned();
        let case = format!("{service} {access_key}: {text}");
        assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{case}");
        match query_error {
            Some(value) => assert!(
                text.contains(&format!("\r\nx-amzn-query-error: {value}\r\n")),
                "{case}"
            ),
            None => assert!(!text.contains("x-amzn-query-error"), "{case}"),
        }
        assert!(
            answer_body(&answer).starts_with(format!("{{\"__type\":\"{json_type}\"").as_bytes()),
            "{case}"
        );
        #[cfg(feature = "interop")]
        {
            let read = botocore_reads("json", &answer);
            assert!(
                read.starts_with(&format!("{_read} edgeward-")),
                "botocore read {read:?}: {case}"
            );
        }
    }
}

/// A peer with no key, only an access key ID (presigned URLs publish them), sends a forged S3
/// head of 300 KB, inside hyper's default head limit: once with a signed header of `&`s, once
/// with a region of `&`s in its scope (any region is accepted by default). S3's
/// `SignatureDoesNotMatch` answer echoes the string-to-sign and the canonical request, where
/// each `&` escapes to five bytes: uncut, the answer was five times the head (1.5 MB), built
/// and held for a peer that need never read it. Each echo is cut to its first 8 KiB and
/// marked `…`, so the answer stays bounded whatever the head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_request_is_not_answered_with_a_multiple_of_its_head() {
    let addr = support::start_server_with(LayerSettings::default()).await;
    let amz = edgeward_signing::format_amz_date(SystemTime::now());
    let long = "&".repeat(300_000);
    for (region, meta) in [("us-east-1", long.as_str()), (long.as_str(), "m")] {
        let head = format!(
            "GET /bucket/key HTTP/1.1\r\nhost: {addr}\r\nx-amz-date: {amz}\r\n\
             x-amz-content-sha256: UNSIGNED-PAYLOAD\r\nx-amz-meta-a: {meta}\r\n\
             authorization: AWS4-HMAC-SHA256 Credential={AK}/{}/{region}/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-a, Signature={}\r\n\
             connection: close\r\n\r\n",
            &amz[..8],
            "0".repeat(64),
        );
        let (answer, _) = exchange(addr, head.as_bytes(), Duration::from_secs(10)).await;
        let body = String::from_utf8_lossy(answer_body(&answer)).into_owned();
        assert!(
            body.contains("<Code>SignatureDoesNotMatch</Code>"),
            "{}",
            &body[..body.len().min(300)]
        );
        assert!(
            body.len() <= 2 * 5 * 8 * 1024 + 1024,
            "a forged head of {} bytes got an answer of {} bytes",
            head.len(),
            body.len()
        );
        // The cut echo is marked as cut, in whichever of the two the `&`s were.
        assert!(body.contains("…</"), "{}", &body[body.len() - 300..]);
    }
}

/// A checksum header that cannot be its checksum, or a `Content-MD5` that is no MD5, on an
/// upload past the layer's buffer (passed on as it is read) is answered from the head alone:
/// the client here sends none of the 20 MB it announces, and the answer comes long before the
/// body timeout would end the wait, in S3's words (`InvalidRequest` "Value for
/// x-amz-checksum-crc32 header is invalid.", as S3 answers aws-sdk-java-v2's five-byte CRC-32;
/// `InvalidDigest`). A value of the right form waits for the body, as only the body can say
/// whether it matches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checksum_that_cannot_be_one_is_refused_before_the_body() {
    let addr = support::start_server_with(LayerSettings::default()).await;
    let length = 20_000_000;
    for (name, value, refusal) in [
        (
            "x-amz-checksum-crc32",
            "i9aeUgg=",
            Some("<Code>InvalidRequest</Code><Message>Value for x-amz-checksum-crc32 header is invalid.</Message>"),
        ),
        ("content-md5", "AAAA", Some("<Code>InvalidDigest</Code>")),
        ("x-amz-checksum-crc32", "i9aeUg==", None),
    ] {
        let mut request = http::Request::builder()
            .method("PUT")
            .uri(format!("http://{addr}/bucket/key"))
            .header("host", addr.to_string())
            .header(name, value)
            .body(Vec::new())
            .unwrap();
        let mut settings = SigningSettings::s3();
        settings.payload = edgeward_signing::PayloadSigning::Unsigned;
        sign(&mut request, "s3", SK, &settings);
        let mut raw = format!("PUT /bucket/key HTTP/1.1\r\ncontent-length: {length}\r\n").into_bytes();
        raw.extend(head_lines(request.headers()));
        raw.extend_from_slice(b"\r\n");
        let (answer, _) = exchange(addr, &raw, Duration::from_secs(3)).await;
        let text = String::from_utf8_lossy(&answer).into_owned();
        match refusal {
            Some(expected) => {
                assert!(text.starts_with("HTTP/1.1 400"), "{name}: {text}");
                assert!(text.contains(expected), "{name}: {text}");
            }
            // Still waiting for the body (the body timeout is 30 s).
            None => assert!(answer.is_empty(), "{name}: {text}"),
        }
    }
}

/// S3's `InvalidArgument` names the argument it refuses and echoes its value, and so does the
/// layer's S3 answer: an `x-amz-content-sha256` that is neither a SHA-256 nor a keyword, in
/// S3's words "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, … or a valid sha256 value."
/// (S3's answer quoted in versity/versitygw#1352), and an `Authorization` header beside a
/// presigned query, "Only one auth mechanism allowed; …" (catalyst/moodle-tool_objectfs#303).
/// With the `interop` feature botocore's S3 parser reads the elements.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_invalid_argument_names_the_argument() {
    let addr = support::start_server_with(LayerSettings::default()).await;
    let amz = edgeward_signing::format_amz_date(SystemTime::now());
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={AK}/{}/us-east-1/s3/aws4_request, \
         SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={}",
        &amz[..8],
        "0".repeat(64)
    );
    let presigned = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AK}%2F{}%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date={amz}&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature={}",
        &amz[..8],
        "0".repeat(64)
    );
    let cases = [
        (
            "/bucket/key".to_owned(),
            "GIBBERISH",
            "x-amz-content-sha256",
            "GIBBERISH".to_owned(),
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, \
             STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, \
             STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, \
             STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
        ),
        (
            format!("/bucket/key?{presigned}"),
            "UNSIGNED-PAYLOAD",
            "Authorization",
            // S3 echoes the whole header; the layer its scheme alone (a header of another
            // scheme carries a credential).
            "AWS4-HMAC-SHA256".to_owned(),
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
             Signature query string parameter or the Authorization header should be specified",
        ),
    ];
    for (target, content_sha256, name, value, message) in cases {
        let head = format!(
            "GET {target} HTTP/1.1\r\nhost: {addr}\r\nx-amz-date: {amz}\r\n\
             x-amz-content-sha256: {content_sha256}\r\nauthorization: {authorization}\r\n\
             connection: close\r\n\r\n"
        );
        let (answer, _) = exchange(addr, head.as_bytes(), Duration::from_secs(5)).await;
        let text = String::from_utf8_lossy(&answer).into_owned();
        assert!(text.starts_with("HTTP/1.1 400"), "{text}");
        let expected = format!(
            "<Error><Code>InvalidArgument</Code><Message>{message}</Message>\
             <ArgumentName>{name}</ArgumentName><ArgumentValue>{value}</ArgumentValue><RequestId>"
        );
        assert!(text.contains(&expected), "{text}");
        #[cfg(feature = "interop")]
        {
            let error = botocore_reads_s3_error(&answer);
            assert_eq!(error["Code"], "InvalidArgument", "{error}");
            assert_eq!(error["Message"], message, "{error}");
            assert_eq!(error["ArgumentName"], name, "{error}");
            assert_eq!(error["ArgumentValue"], value.as_str(), "{error}");
        }
    }
}
