//! A hyper 1 server on 127.0.0.1 behind [`SigV4Layer`] (HTTP/1.1, and HTTP/2 for a client
//! that starts with it), shared by the layer tests. The inner
//! service answers as [`Answers`] says, or `400 body failed: <code> <error>` when the verified
//! body fails (an answer no client sees: the layer puts the AWS error in its place).
#![allow(clippy::unwrap_used, dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use bytes::Bytes;
use edgeward_signing::{
    sign_http, ChunkSigner, LayerSettings, PayloadSigning, ResolvedCredential, SigV4Layer,
    SigningParams, SigningSettings, StaticCredentials, VerifiedBody, VerifiedRequest, Verifier,
    VerifierSettings,
};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tower::{Layer, ServiceExt};

pub(crate) mod interop;
pub(crate) mod s3s_fs;
pub(crate) mod sdk;

pub(crate) const AK: &str = "AKIDLAYERTEST";
pub(crate) const SK: &str = "layer-secret-key/EXAMPLE";
pub(crate) const TEMP_AK: &str = "ASIALAYERTEST";
pub(crate) const TEMP_SK: &str = "temporary-secret";
pub(crate) const TOKEN: &str = "session/token+value==";

/// Percent-encodes an object key as S3 clients do, for the URI path and for
/// `x-amz-copy-source`: every byte but the unreserved characters and `/` (botocore's
/// `percent_encode` with `/` safe).
pub(crate) fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for &b in key.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What curl printed with `--include`: the status line and headers of the last response,
/// and its body.
pub(crate) struct CurlAnswer {
    pub(crate) head: String,
    pub(crate) body: String,
}

/// The machine's curl with `args` (after `--silent --show-error --include --max-time 20`), run
/// off the runtime's threads; fails the test when curl fails.
pub(crate) async fn curl(args: Vec<String>) -> CurlAnswer {
    let mut command = std::process::Command::new("curl");
    command
        .args(["--silent", "--show-error", "--include", "--max-time", "20"])
        .args(&args);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("curl must be on the PATH for this test");
    assert!(
        output.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    // `--include` prints every response head (a `100 Continue` too); the last one is the answer.
    let (heads, body) = text.rsplit_once("\r\n\r\n").unwrap();
    let head = heads.rsplit("\r\n\r\n").next().unwrap().to_owned();
    CurlAnswer {
        head,
        body: body.to_owned(),
    }
}

/// Signs `request` for S3 in `region` with `credentials` at `now` (S3's rules, the payload as
/// `payload` says) and returns the seed signature.
pub(crate) fn sign_s3(
    request: &mut http::Request<Vec<u8>>,
    credentials: &Credentials,
    region: &str,
    payload: PayloadSigning,
    now: SystemTime,
) -> String {
    let mut settings = SigningSettings::s3();
    settings.payload = payload;
    let params = SigningParams {
        credentials,
        region,
        service: "s3",
        time: now,
    };
    sign_http(request, &params, &settings).unwrap()
}

/// Signs `request`, the head of an `aws-chunked` upload (no body yet), for S3 in us-east-1
/// with [`AK`] at `now`, as a signed chunk chain (with a signed trailer when `trailer`), and
/// returns the signer of its chunks.
pub(crate) fn sign_chunked_head(
    request: &mut http::Request<Vec<u8>>,
    trailer: bool,
    now: SystemTime,
) -> ChunkSigner {
    sign_chunked_head_as(request, &Credentials::from_keys(AK, SK, None), trailer, now)
}

/// [`sign_chunked_head`] with other credentials.
pub(crate) fn sign_chunked_head_as(
    request: &mut http::Request<Vec<u8>>,
    credentials: &Credentials,
    trailer: bool,
    now: SystemTime,
) -> ChunkSigner {
    let payload = PayloadSigning::StreamingSigned { trailer };
    let seed = sign_s3(request, credentials, "us-east-1", payload, now);
    ChunkSigner::new(credentials, "us-east-1", "s3", now, &seed).unwrap()
}

/// Head lines (`name: value\r\n`) of `headers`, values as raw bytes: a signed request's
/// headers for a raw HTTP/1.1 exchange.
pub(crate) fn head_lines(headers: &http::HeaderMap) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// How the inner service answers a verified request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answers {
    /// `ok <principal> <body>` for everything: the tests read back what the layer let through.
    Echo,
    /// What AWS clients parse: STS `GetCallerIdentity` in STS's XML with the verified
    /// principal; S3's XML for starting and completing a multipart upload (POST); for other
    /// S3 writes an empty 200 (botocore takes any other 200 body from S3 for an error) with
    /// the checksum trailers the service was handed (as S3 echoes the checksum an upload
    /// carried), or the body's `x-amz-checksum-crc32` when there are none, and as ETag the
    /// hex SHA-256 of the body it was handed; EC2's `DescribeRegions` in EC2's XML, one region
    /// whose endpoint is the verified principal; SQS's `ListQueues` in its JSON, one queue URL
    /// naming the verified principal; `ok <principal> <body>` for the rest.
    LikeAws,
}

async fn inner(
    answers: Answers,
    request: http::Request<VerifiedBody<Incoming>>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let (principal, access_key_id, service) = request
        .extensions()
        .get::<VerifiedRequest>()
        .map(|v| {
            (
                v.principal().to_owned(),
                v.access_key_id().to_owned(),
                v.scope().service.to_owned(),
            )
        })
        .unwrap_or_default();
    let (parts, body) = request.into_parts();
    let (body, trailers) = match body.collect().await {
        Ok(collected) => {
            let trailers = collected.trailers().cloned().unwrap_or_default();
            (collected.to_bytes(), trailers)
        }
        Err(e) => {
            let text = format!("body failed: {} {e}", e.aws_error_code());
            return Ok(http::Response::builder()
                .status(400)
                .body(Full::new(Bytes::from(text)))
                .unwrap());
        }
    };
    let answer = |content_type: &str, text: String| {
        Ok(http::Response::builder()
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(text)))
            .unwrap())
    };
    let echo = format!("ok {principal} {}", String::from_utf8_lossy(&body));
    if answers == Answers::Echo {
        return answer("text/plain", echo);
    }
    match service.as_str() {
        "sts" if asks_for_caller_identity(&body) => {
            answer("text/xml", caller_identity_xml(&principal, &access_key_id))
        }
        "sqs"
            if parts
                .headers
                .get("x-amz-target")
                .is_some_and(|target| target == "AmazonSQS.ListQueues") =>
        {
            answer(
                "application/x-amz-json-1.0",
                serde_json::json!({ "QueueUrls": [format!("https://sqs.example/{principal}")] })
                    .to_string(),
            )
        }
        "ec2" if form_names_action(&body, "DescribeRegions") => answer(
            "text/xml;charset=UTF-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                     <DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
                     <requestId>00000000-0000-0000-0000-000000000000</requestId><regionInfo>\
                     <item><regionName>us-east-1</regionName>\
                     <regionEndpoint>{principal}</regionEndpoint></item>\
                     </regionInfo></DescribeRegionsResponse>"
            ),
        ),
        // Multipart uploads: S3's answers to starting and to completing one.
        "s3" if parts.method == http::Method::POST => {
            let query = parts.uri.query().unwrap_or_default();
            if query
                .split('&')
                .any(|pair| pair == "uploads" || pair == "uploads=")
            {
                answer(
                    "application/xml",
                    format!(
                        "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>key</Key>\
                         <UploadId>{MULTIPART_UPLOAD_ID}</UploadId></InitiateMultipartUploadResult>"
                    ),
                )
            } else {
                answer(
                    "application/xml",
                    format!(
                        "<CompleteMultipartUploadResult><Bucket>bucket</Bucket><Key>key</Key>\
                         <ETag>\"completed by {principal}\"</ETag></CompleteMultipartUploadResult>"
                    ),
                )
            }
        }
        // S3 answers a write with its checksum (the clients print or return it) and an ETag
        // (a multipart upload's parts are named by theirs). Here the checksum is the trailer
        // the service was handed, so a test can compare it with what the client sent, or else
        // the CRC32 of the body; the ETag names the body the service was handed.
        "s3" if parts.method != http::Method::GET => {
            let mut checksums = http::HeaderMap::new();
            for (name, value) in &trailers {
                if name.as_str().starts_with("x-amz-checksum-") {
                    checksums.append(name, value.clone());
                }
            }
            if checksums.is_empty() {
                let crc32 = crc32_base64(&body).parse().unwrap();
                checksums.insert("x-amz-checksum-crc32", crc32);
            }
            let mut response = http::Response::builder()
                .header("etag", format!("\"{}\"", sha256_hex(&body)))
                .body(Full::new(Bytes::new()))
                .unwrap();
            response.headers_mut().extend(checksums);
            Ok(response)
        }
        _ => answer("text/plain", echo),
    }
}

/// A clock that reads `first` once, then `later` ever after: a request that arrives at `first`
/// (the layer's first reading) and whose body has finished arriving by `later`.
pub(crate) struct ArrivalThenLater {
    pub(crate) read: std::sync::atomic::AtomicBool,
    pub(crate) first: SystemTime,
    pub(crate) later: SystemTime,
}

impl edgeward_signing::Clock for ArrivalThenLater {
    fn now(&self) -> SystemTime {
        match self.read.swap(true, std::sync::atomic::Ordering::SeqCst) {
            false => self.first,
            true => self.later,
        }
    }
}

/// A JSON array of `[name, value]` pairs, as the test vectors and scripts give a form's
/// fields.
pub(crate) fn field_pairs(value: &serde_json::Value) -> Vec<(String, String)> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f[0].as_str().unwrap().to_owned(),
                f[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The upload ID the test server gives a multipart upload: characters that must be escaped in
/// a query, as an SDK sends it back in `?uploadId=`.
pub(crate) const MULTIPART_UPLOAD_ID: &str = "upload+id/with=escapes.and_safe-chars";

/// The CRC32 of `data` as S3 writes it in `x-amz-checksum-crc32`: base64 of the big-endian
/// value.
pub(crate) fn crc32_base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(data).to_be_bytes())
}

/// The flexible checksum `trailer` (`x-amz-checksum-crc32`, …) of `data` as S3 writes it
/// (base64 of the big-endian value), computed apart from the layer and from the clients,
/// where the tests have an implementation of it (crc32fast, aws-lc-rs, coreutils' `md5sum`):
/// not for CRC32C, CRC64NVME and the XXHASH ones.
pub(crate) fn independent_checksum(trailer: &str, data: &[u8]) -> Option<String> {
    use aws_lc_rs::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY, SHA256, SHA512};
    use base64::Engine as _;
    let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    match trailer {
        "x-amz-checksum-crc32" => Some(crc32_base64(data)),
        "x-amz-checksum-sha1" => Some(base64(digest(&SHA1_FOR_LEGACY_USE_ONLY, data).as_ref())),
        "x-amz-checksum-sha256" => Some(base64(digest(&SHA256, data).as_ref())),
        "x-amz-checksum-sha512" => Some(base64(digest(&SHA512, data).as_ref())),
        "x-amz-checksum-md5" => Some(content_md5_base64(data)),
        _ => None,
    }
}

/// The base64 `Content-MD5` of `data`, from coreutils' `md5sum` (not the crate's MD5).
pub(crate) fn content_md5_base64(data: &[u8]) -> String {
    use base64::Engine as _;
    use std::io::Write as _;
    let mut md5sum = std::process::Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("coreutils' md5sum");
    md5sum.stdin.take().unwrap().write_all(data).unwrap();
    let output = md5sum.wait_with_output().unwrap();
    let hex = String::from_utf8(output.stdout).unwrap();
    let digest = hex::decode(&hex[..32]).unwrap();
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// The SHA-256 of `data` in lower-case hex (aws-lc-rs, not the crate's code).
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

/// `text`'s bytes as S3's `StringToSignBytes` shows them: two lower-case hex digits a byte,
/// a space between.
pub(crate) fn spaced_hex(text: &str) -> String {
    text.bytes()
        .map(|byte| format!("{byte:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a form-encoded STS body is a `GetCallerIdentity` call.
pub(crate) fn asks_for_caller_identity(body: &[u8]) -> bool {
    form_names_action(body, "GetCallerIdentity")
}

/// Whether a form-encoded query-protocol body (STS's, EC2's) calls `action`.
pub(crate) fn form_names_action(body: &[u8], action: &str) -> bool {
    body.split(|&b| b == b'&')
        .any(|pair| pair.strip_prefix(b"Action=") == Some(action.as_bytes()))
}

/// STS's `GetCallerIdentity` answer (query protocol), with the account from the principal ARN.
pub(crate) fn caller_identity_xml(principal: &str, access_key_id: &str) -> String {
    let account = principal.split(':').nth(4).unwrap_or_default();
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <GetCallerIdentityResult><Arn>{principal}</Arn><UserId>{access_key_id}</UserId>\
         <Account>{account}</Account></GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId>\
         </ResponseMetadata></GetCallerIdentityResponse>"
    )
}

/// One request on a fresh HTTP/1.1 connection to `addr`, with hyper's client: the response,
/// its body read whole.
pub(crate) async fn send(
    addr: SocketAddr,
    request: http::Request<Full<Bytes>>,
) -> http::Response<Bytes> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let response = sender.send_request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    http::Response::from_parts(parts, body)
}

/// [`send`], for the status and the body as text.
pub(crate) async fn send_for_text(
    addr: SocketAddr,
    request: http::Request<Full<Bytes>>,
) -> (u16, String) {
    let response = send(addr, request).await;
    let text = String::from_utf8_lossy(response.body()).into_owned();
    (response.status().as_u16(), text)
}

pub(crate) async fn start_server() -> SocketAddr {
    let mut settings = LayerSettings::default();
    settings.max_body_bytes = 1024;
    start_server_with(settings).await
}

pub(crate) async fn start_server_with(settings: LayerSettings) -> SocketAddr {
    start_server_answering(settings, Answers::Echo).await
}

pub(crate) async fn start_server_answering(
    settings: LayerSettings,
    answers: Answers,
) -> SocketAddr {
    serve(settings, VerifierSettings::default(), answers, None).await
}

/// The same server over TLS (rustls, a fresh self-signed certificate for `127.0.0.1`): its
/// address and the certificate's PEM, for the client to trust. Some clients sign differently
/// over `https` (botocore streams S3 uploads `aws-chunked` with a checksum trailer only there).
pub(crate) async fn start_tls_server_answering(
    settings: LayerSettings,
    answers: Answers,
) -> (SocketAddr, String) {
    let (acceptor, pem) = self_signed_acceptor(&["127.0.0.1"]);
    let addr = serve(
        settings,
        VerifierSettings::default(),
        answers,
        Some(acceptor),
    )
    .await;
    (addr, pem)
}

/// A TLS acceptor (rustls on aws-lc-rs) with a fresh self-signed certificate for `names`, and
/// the certificate's PEM for a client to trust.
pub(crate) fn self_signed_acceptor(names: &[&str]) -> (tokio_rustls::TlsAcceptor, String) {
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let certified = rcgen::generate_simple_self_signed(names).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    (
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        certified.cert.pem(),
    )
}

/// The layer in front of every test server's service: [`AK`] (alice), and [`TEMP_AK`] with
/// [`TOKEN`] for an hour.
pub(crate) fn test_layer(settings: LayerSettings) -> SigV4Layer<StaticCredentials> {
    test_layer_verifying(settings, VerifierSettings::default())
}

/// [`test_layer`] with a verification policy.
pub(crate) fn test_layer_verifying(
    settings: LayerSettings,
    policy: VerifierSettings,
) -> SigV4Layer<StaticCredentials> {
    let lookup = StaticCredentials::new()
        .with(
            AK,
            ResolvedCredential::new(SK, "arn:aws:iam::123456789012:user/alice"),
        )
        .with(
            TEMP_AK,
            ResolvedCredential::temporary(
                TEMP_SK,
                "arn:aws:sts::123456789012:assumed-role/r/s",
                TOKEN,
                SystemTime::now() + Duration::from_secs(3600),
            ),
        );
    let verifier = Arc::new(Verifier::new(lookup, policy));
    SigV4Layer::new(verifier, settings)
}

/// The test server behind a layer whose verifier has `policy`.
pub(crate) async fn start_server_verifying(policy: VerifierSettings) -> SocketAddr {
    let mut settings = LayerSettings::default();
    settings.max_body_bytes = 1024;
    serve(settings, policy, Answers::Echo, None).await
}

async fn serve(
    settings: LayerSettings,
    policy: VerifierSettings,
    answers: Answers,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> SocketAddr {
    let service = test_layer_verifying(settings, policy)
        .layer(tower::service_fn(move |request| inner(answers, request)));
    serve_service(service, tls).await
}

/// `service` on 127.0.0.1 (a free port): HTTP/1.1, or HTTP/2 with prior knowledge (h2c) when
/// the client starts so; over TLS when given an acceptor.
pub(crate) async fn serve_service<S, B>(
    service: S,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> SocketAddr
where
    S: tower::Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = service.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let hyper_service =
                    hyper::service::service_fn(move |request: http::Request<Incoming>| {
                        service.clone().oneshot(request)
                    });
                let mut http = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                );
                http.http1()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(5));
                let _ = match tls {
                    None => {
                        http.serve_connection(TokioIo::new(stream), hyper_service)
                            .await
                    }
                    Some(acceptor) => {
                        let Ok(Ok(stream)) =
                            tokio::time::timeout(Duration::from_secs(5), acceptor.accept(stream))
                                .await
                        else {
                            return;
                        };
                        http.serve_connection(TokioIo::new(stream), hyper_service)
                            .await
                    }
                };
            });
        }
    });
    addr
}
