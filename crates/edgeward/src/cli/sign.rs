//! `edgeward sign`: sign a raw HTTP/1.1 request with SigV4 and print the signed request.

use std::io::Read;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use edgeward_signing::{
    sign_raw, uses_s3_rules, ContentSha256Header, PayloadSigning, RawRequest, RawRequestLimits,
    SigningParams, SigningSettings, StaticCredentials, Verifier, VerifierSettings,
};
use serde_json::json;

use super::{write_stdout, Outcome};

/// Sign a raw HTTP/1.1 request (the AWS test suite's `request.txt` format) with SigV4.
#[derive(Args)]
#[command(
    after_help = "Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional)
AWS_SESSION_TOKEN.

Examples:
  edgeward sign --request request.txt --region us-east-1 --service sts
  edgeward sign --request - --region us-east-1 --service s3 --s3 < put.txt
  edgeward sign --request get.txt --region eu-west-1 --service s3 --s3 --presign --expires 600
  edgeward sign --request request.txt --region us-east-1 --service service --now 20150830T123600Z

TIME is RFC 3339 (2015-08-30T12:36:00Z) or YYYYMMDDTHHMMSSZ; by default the current time.
-v logs what was signed on stderr; -vv also the canonical request and string-to-sign the
signature covers (as a verifier rebuilds them; a session token by its length only).
Exit codes: 0 signed, 2 usage error, unreadable or unparsable request, missing credentials, or a
request the signer refuses (no Host header, an expiry over 7 days, ...)."
)]
pub(crate) struct SignArgs {
    /// The raw request: a file, or `-` for stdin. Its body is every byte after the blank
    /// line; a Content-Length must count them (added, and signed, when the body has none; no
    /// Transfer-Encoding).
    #[arg(long, value_name = "FILE|-")]
    request: String,
    /// Region to sign for.
    #[arg(long)]
    region: String,
    /// Service (signing name) to sign for.
    #[arg(long)]
    service: String,
    /// Signing time (RFC 3339 or YYYYMMDDTHHMMSSZ); default now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Presign: put the signature in the query string.
    #[arg(long)]
    presign: bool,
    /// Presigned validity in seconds (1 to 604800).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 3600,
        requires = "presign"
    )]
    expires: u64,
    /// S3 rules: path as sent (no double encoding, no normalisation), x-amz-content-sha256
    /// sent, presigned with UNSIGNED-PAYLOAD. Implied by `--service s3` (and the services
    /// signed as it: s3-outposts, s3-object-lambda, s3express), which S3 requires.
    #[arg(long)]
    s3: bool,
    /// Sign `UNSIGNED-PAYLOAD` instead of the body's SHA-256, and send, signed,
    /// `x-amz-content-sha256: UNSIGNED-PAYLOAD`, which tells the server so (a presigned S3
    /// request says so by being presigned, and gets the header only when it has one already).
    #[arg(long)]
    unsigned_payload: bool,
    /// Print {"signature", "request"} as JSON instead of the raw request (which must then
    /// be UTF-8).
    #[arg(long)]
    json: bool,
}

pub(crate) fn read_request(source: &str) -> anyhow::Result<RawRequest> {
    let limits = RawRequestLimits::default();
    // Head and body at their limits, a few bytes to spare (the parser holds the exact ones):
    // anything longer is refused whole rather than cut to size (a cut body could parse as a
    // complete request).
    let most = limits.max_head_bytes + 4 + limits.max_body_bytes;
    let reader: Box<dyn Read> = if source == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(source).with_context(|| format!("reading {source}"))?)
    };
    let mut bytes = Vec::new();
    reader
        .take(most as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {source}"))?;
    if bytes.len() > most {
        anyhow::bail!(
            "the request in {source} is longer than {most} bytes (head at most {} bytes, body at most {})",
            limits.max_head_bytes,
            limits.max_body_bytes
        );
    }
    RawRequest::parse(&bytes, &limits)
        .with_context(|| format!("parsing the raw request in {source}"))
}

pub(crate) fn parse_time(value: Option<&str>) -> anyhow::Result<std::time::SystemTime> {
    let Some(value) = value else {
        return Ok(std::time::SystemTime::now());
    };
    if let Ok(t) = edgeward_signing::parse_amz_date(value) {
        return Ok(t);
    }
    // Shaped as YYYYMMDDTHHMMSSZ, it was meant as one: the RFC 3339 parser's reason would be
    // about a format the value never tried.
    let bytes = value.as_bytes();
    if bytes.len() == 16 && bytes[8] == b'T' && bytes[15] == b'Z' {
        anyhow::bail!(
            "--now {value:?} is not a YYYYMMDDTHHMMSSZ time: no such date, or no such time of day"
        );
    }
    // The reason goes in the message, not as a source: the time crate's error and its
    // source display the same text, which the error chain would print twice.
    let t = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map_err(|e| {
            anyhow::anyhow!("--now {value:?} is neither RFC 3339 ({e}) nor YYYYMMDDTHHMMSSZ")
        })?;
    Ok(t.into())
}

/// A credential variable of the environment: `None` when unset or empty. One that is set but
/// not UTF-8 is an error, not unset: a session token dropped so would sign as long-term
/// credentials, and the request fail far from the cause.
pub(super) fn credential_env(name: &str) -> anyhow::Result<Option<String>> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value).filter(|v| !v.is_empty())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("{name} is set but is not UTF-8"),
    }
}

/// Refuses an `x-amz-content-sha256` that is a SHA-256 digest but not the body's.
fn check_declared_payload_hash(request: &RawRequest) -> anyhow::Result<()> {
    let Some(declared) = request.header("x-amz-content-sha256") else {
        return Ok(());
    };
    let declared = declared.trim_matches([' ', '\t']);
    let is_digest = declared.len() == 64
        && declared
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !is_digest {
        return Ok(());
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &request.body);
    let body_hash: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    if declared != body_hash {
        anyhow::bail!(
            "the request's x-amz-content-sha256 is {declared}, but its body's SHA-256 is \
             {body_hash}: a server would refuse it (XAmzContentSHA256Mismatch). Remove the \
             header to sign the body's hash, or fix the body"
        );
    }
    Ok(())
}

pub(crate) fn run(args: SignArgs) -> anyhow::Result<Outcome> {
    let (Some(access_key), Some(secret)) = (
        credential_env("AWS_ACCESS_KEY_ID")?,
        credential_env("AWS_SECRET_ACCESS_KEY")?,
    ) else {
        anyhow::bail!("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set");
    };
    let credentials = aws_credential_types::Credentials::from_keys(
        access_key,
        secret,
        credential_env("AWS_SESSION_TOKEN")?,
    );
    let time = parse_time(args.now.as_deref())?;
    let mut request = read_request(&args.request)?;
    // Without Content-Length a server reads no body (RFC 9112, 6.3), so the signed request
    // says how long its body is, as an SDK's does, and the signature covers that.
    if !request.body.is_empty() && request.header("content-length").is_none() {
        request.set_header("Content-Length", &request.body.len().to_string());
    }
    // S3 refuses its requests signed by the default rules (a presigned URL not signed with
    // UNSIGNED-PAYLOAD, a header signature without x-amz-content-sha256).
    let s3 = args.s3 || uses_s3_rules(&args.service);
    let mut settings = if s3 {
        SigningSettings::s3()
    } else {
        SigningSettings::default()
    };
    if args.presign {
        settings = settings.presigned(Duration::from_secs(args.expires));
        settings.content_sha256 = ContentSha256Header::Omit;
    }
    if args.unsigned_payload {
        settings.payload = PayloadSigning::Unsigned;
        // A server hashes the body unless the request says otherwise; a presigned S3 request
        // says so by being presigned, unless it carries a hash of its own, which is signed.
        if !(args.presign && s3) || request.header("x-amz-content-sha256").is_some() {
            request.set_header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
        }
    }
    // A request's own x-amz-content-sha256 is signed as it stands (as botocore signs it),
    // unless these settings replace it; one that is not the body's would sign a request that
    // every server refuses (XAmzContentSHA256Mismatch), most often a body edited after an
    // earlier signing.
    if settings.content_sha256 == ContentSha256Header::Omit {
        check_declared_payload_hash(&request)?;
    }
    let params = SigningParams {
        credentials: &credentials,
        region: &args.region,
        service: &args.service,
        time,
    };
    let signature = sign_raw(&mut request, &params, &settings).context("signing")?;
    let amz_date = edgeward_signing::format_amz_date(time);
    tracing::info!(
        "signed at {amz_date} with access key {} for {}/{}/{}, the signature in the {}",
        credentials.access_key_id(),
        amz_date.get(..8).unwrap_or(&amz_date),
        args.region,
        args.service,
        if args.presign { "query" } else { "header" },
    );
    if tracing::enabled!(tracing::Level::DEBUG) {
        // Rebuilt by the verifier from the signed request, so what is logged is what a server
        // checks, and a token in it is redacted as the verifier's reports redact it.
        let verifier = Verifier::new(StaticCredentials::new(), VerifierSettings::default());
        let (mode, token) = (settings.path_mode, settings.session_token);
        let text = super::verify::what_is_signed(&verifier, &request, mode, token);
        tracing::debug!("{text}");
    }
    send_blanks_escaped(&mut request, s3);
    let fields = request.headers.len();
    if fields > SERVER_HEADER_FIELDS {
        eprintln!(
            "warning: the signed request has {fields} header fields; servers commonly read at \
             most {SERVER_HEADER_FIELDS} (hyper's default), and would refuse it (431)"
        );
    }
    let signed = request.to_bytes();
    warn_past_read_limits(signed.len() - request.body.len(), fields);
    if args.json {
        // JSON carries text: a lossy copy of a binary body would not be what was signed.
        let text = String::from_utf8(signed).map_err(|_| {
            anyhow::anyhow!(
                "--json prints the signed request as text, but its body is not UTF-8: \
                 leave out --json to get the signed request as raw bytes"
            )
        })?;
        let value = json!({
            "signature": signature,
            "request": text,
        });
        write_stdout(format!("{value}\n").as_bytes())?;
    } else {
        write_stdout(&signed)?;
    }
    Ok(Outcome::Ok)
}

/// Signing adds headers (and, presigned, query parameters), so a request read within
/// [`read_request`]'s limits can come out past them, where `edgeward verify` (and `sign`
/// again) cannot read it back: said, since the request may still suit another server.
fn warn_past_read_limits(head_bytes: usize, header_lines: usize) {
    let limits = RawRequestLimits::default();
    if head_bytes > limits.max_head_bytes {
        eprintln!(
            "warning: the signed request's head is {head_bytes} bytes, over the {} that \
             `edgeward verify` reads",
            limits.max_head_bytes
        );
    }
    if header_lines > limits.max_headers {
        eprintln!(
            "warning: the signed request has {header_lines} header lines, over the {} that \
             `edgeward verify` reads",
            limits.max_headers
        );
    }
}

/// How many header fields hyper's HTTP/1 server reads by default (its `max_headers`).
const SERVER_HEADER_FIELDS: usize = 100;

/// A space or tab cannot stand in a request target (RFC 9112 3.2), so no server reads one as
/// the test suite's files write it. Escaped, the query signs alike (its canonical form is of
/// the decoded values), and so does an S3 path (S3's canonical URI is the path as sent,
/// encoded once); under the other rules an escaped path signs otherwise, so that path is
/// left as signed, with a warning.
fn send_blanks_escaped(request: &mut RawRequest, s3: bool) {
    let escape = |text: &str| text.replace(' ', "%20").replace('\t', "%09");
    let (path, query) = match request.target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (request.target.as_str(), None),
    };
    let blank_path = path.contains([' ', '\t']);
    let mut target = if s3 { escape(path) } else { path.to_owned() };
    if let Some(query) = query {
        target.push('?');
        target.push_str(&escape(query));
    }
    if blank_path && !s3 {
        eprintln!(
            "warning: the path holds a space or tab, which no HTTP server reads as sent; \
             escaped (%20), it would sign differently under these rules (S3's sign it alike)"
        );
    }
    request.target = target;
}
