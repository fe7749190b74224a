//! `edgeward verify`: verify the SigV4 signature of a raw HTTP/1.1 request.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use clap::Args;
use edgeward_signing::{
    format_amz_date, uses_s3_rules, Accept, ChainLink, Error, FixedClock, PathMode, Payload,
    PayloadKind, PostFileScan, PostForm, RawRequest, ResolvedCredential, SessionTokenPlacement,
    SignatureLocation, StaticCredentials, UnsignedPayload, VerifiedPost, Verifier,
    VerifierSettings,
};
use serde_json::json;

use super::sign::{credential_env, parse_time, read_request};
use super::{write_stdout, Outcome};

/// Verify the SigV4 signature (Authorization header or presigned query) of a raw request, or
/// the signed POST policy of an S3 browser upload (POST Object).
#[derive(Args)]
#[command(after_help = "Examples:
  edgeward verify --request signed.txt --access-key-id AKIDEXAMPLE \\
      --secret-access-key wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY --now 20150830T123600Z
  edgeward sign --request r.txt --region us-east-1 --service sts | \\
      edgeward verify --request - --region us-east-1 --service sts --json
      (both read AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN)

When invalid, the first line is the AWS error code (e.g. SignatureDoesNotMatch), in S3's terms
when the request's scope names s3 or a service signed as it (s3-outposts, s3-object-lambda,
s3express; e.g. InvalidAccessKeyId, not InvalidClientTokenId), in EC2's when it names ec2
(AuthFailure, RequestExpired);
when the request's own signature does not match, the canonical request and string-to-sign the
verifier computed follow (a session token's value in them replaced by its length); when a chunk
of its aws-chunked body breaks the chain, that chunk's string-to-sign follows (a trailer's, after
the canonical trailer lines); for a valid request, -vv logs them on stderr.

--json prints one object on exit 0 or 1 (on exit 2, stdout stays empty and the error goes to
stderr as text). Valid: \"valid\": true, \"access_key_id\", \"scope\" (date/region/service),
\"location\" (\"header\" or \"query\"), \"signed_headers\" (list), \"session_token\" (present),
\"session_token_signed\", \"payload\" (the hash or keyword signed), \"signature\". Invalid:
\"valid\": false, \"code\" (AWS error code), \"status\" (HTTP), \"message\", and when the request's
own signature does not match \"canonical_request\" and \"string_to_sign\" (else null); when a
link of the chain breaks it, \"link\" (\"chunk\" or \"trailer\"), \"chunk\" (a chunk's 0-based
index, or null), \"string_to_sign\" and \"canonical_trailer\" (the trailer's lines, or null).

S3's browser uploads (POST Object: a multipart/form-data POST with neither an Authorization header
nor a query, to /BUCKET, or to / at a bucket's host named with --s3-domain) are verified by their
form: the POST policy's signature, its expiration and conditions, the file's size against its
content-length-range, and the file against the form's Content-MD5 or x-amz-checksum-* field
(BadDigest); always in S3's terms. Valid, --json gives \"location\": \"post-form\",
\"access_key_id\", \"scope\", \"session_token\", \"bucket\", \"key\" (${filename} replaced),
\"file_size\" and \"policy_expires\"; invalid, \"string_to_sign\" is the policy whose signature
did not match (\"canonical_request\" null).

TIME is RFC 3339 or YYYYMMDDTHHMMSSZ; by default the current time.
Exit codes: 0 valid, 1 invalid, 2 usage error or unreadable/unparsable request.")]
pub(crate) struct VerifyArgs {
    /// The raw request: a file, or `-` for stdin. Its body is every byte after the blank
    /// line; a Content-Length must count them, and a body without one is refused (a server
    /// would read none). No Transfer-Encoding.
    #[arg(long, value_name = "FILE|-")]
    request: String,
    /// The access key ID the request must be signed with; default $AWS_ACCESS_KEY_ID.
    #[arg(long, value_name = "AK")]
    access_key_id: Option<String>,
    /// Its secret access key; default $AWS_SECRET_ACCESS_KEY (which, unlike an argument, other
    /// users cannot read in the process list).
    #[arg(long, value_name = "SK")]
    secret_access_key: Option<String>,
    /// The session token of temporary credentials (then required in the request); default
    /// $AWS_SESSION_TOKEN when the access key ID comes from the environment too.
    #[arg(long, value_name = "T")]
    session_token: Option<String>,
    /// Accept only this region; S3's bucket-location request (`GET /{bucket}?location`,
    /// which S3 clients sign for us-east-1 before they know a bucket's region) in any, as a
    /// server's verifier does by default.
    #[arg(long, value_name = "R")]
    region: Option<String>,
    /// A host name the S3 service answers at itself (repeatable; a port is ignored): a
    /// request to it is path-style, to any other host virtual-hosted. With --region, a
    /// location request is then taken in the one form its host allows, and ListBuckets
    /// (`GET /` to it) in any region too, as MinIO takes them.
    #[arg(long, value_name = "HOST")]
    s3_domain: Vec<String>,
    /// Accept only this service.
    #[arg(long, value_name = "S")]
    service: Option<String>,
    /// Refuse a payload the signature does not cover (UNSIGNED-PAYLOAD, which S3 presigned
    /// URLs imply, and STREAMING-UNSIGNED-PAYLOAD-TRAILER) with AccessDenied, as a service
    /// whose verifier sets `UnsignedPayload::Reject` does.
    #[arg(long)]
    require_signed_payload: bool,
    /// The verifier's clock (RFC 3339 or YYYYMMDDTHHMMSSZ); default now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// One JSON object on stdout (exit 0 or 1; on exit 2 the error goes to stderr).
    #[arg(long)]
    json: bool,
}

fn payload_name(kind: &PayloadKind) -> String {
    match kind {
        PayloadKind::Sha256 { hex, .. } => hex.clone(),
        PayloadKind::Unsigned => "UNSIGNED-PAYLOAD".into(),
        PayloadKind::StreamingSigned { trailer: false } => {
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into()
        }
        PayloadKind::StreamingSigned { trailer: true } => {
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER".into()
        }
        PayloadKind::StreamingUnsignedTrailer => "STREAMING-UNSIGNED-PAYLOAD-TRAILER".into(),
        _ => "other".into(),
    }
}

/// The credentials to verify with: the arguments, else the environment, as `edgeward sign`
/// reads it. An environment token goes only with an environment key: beside an access key ID
/// given as an argument it would belong to other credentials (a shell's temporary ones).
fn credentials(args: &VerifyArgs) -> anyhow::Result<(String, String, Option<String>)> {
    let (access_key_id, from_env) = match &args.access_key_id {
        Some(given) => (given.clone(), false),
        None => (
            credential_env("AWS_ACCESS_KEY_ID")?
                .ok_or_else(|| anyhow::anyhow!("give --access-key-id, or set AWS_ACCESS_KEY_ID"))?,
            true,
        ),
    };
    let secret = match &args.secret_access_key {
        Some(given) => given.clone(),
        None => credential_env("AWS_SECRET_ACCESS_KEY")?.ok_or_else(|| {
            anyhow::anyhow!("give --secret-access-key, or set AWS_SECRET_ACCESS_KEY")
        })?,
    };
    let session_token = match &args.session_token {
        Some(given) => Some(given.clone()),
        None if from_env => credential_env("AWS_SESSION_TOKEN")?,
        None => None,
    };
    Ok((access_key_id, secret, session_token))
}

/// The canonical request and string-to-sign that `request`'s signature covers, as `verifier`
/// rebuilds them under `mode` and `token` (what a server compares, and prints on a
/// `SignatureDoesNotMatch`), for the debug log (`-vv`); a session token's value is replaced by
/// its length, as in every report. Callers build it only when their debug events are on.
pub(super) fn what_is_signed(
    verifier: &Verifier<StaticCredentials>,
    request: &RawRequest,
    mode: PathMode,
    token: SessionTokenPlacement,
) -> String {
    match verifier.explain(&request.view(), Payload::Bytes(&request.body), mode, token) {
        Ok(details) => format!(
            "the signature covers this canonical request:\n{}\n\nand this string to sign:\n{}",
            details.canonical_request_redacted(),
            details.string_to_sign
        ),
        Err(error) => format!("the canonical request cannot be rebuilt: {error}"),
    }
}

pub(crate) fn run(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let now = parse_time(args.now.as_deref())?;
    let request = read_request(&args.request)?;
    if !request.body.is_empty() && request.header("content-length").is_none() {
        anyhow::bail!(
            "the request has {len} body bytes but no Content-Length, so a server would read no \
             body (RFC 9112, 6.3): add `Content-Length: {len}`",
            len = request.body.len()
        );
    }
    let (access_key_id, secret, session_token) = credentials(&args)?;
    let credential = match session_token {
        // The CLI does not know the token's expiry; the request's own time checks still apply.
        Some(token) => ResolvedCredential::temporary(
            secret,
            access_key_id.clone(),
            token,
            UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX)),
        ),
        None => ResolvedCredential::new(secret, access_key_id.clone()),
    };
    let lookup = StaticCredentials::new().with(access_key_id, credential);
    let mut settings = VerifierSettings::default();
    if let Some(region) = &args.region {
        settings.regions = Accept::OneOf(vec![region.clone()]);
    }
    settings.s3_domains = args.s3_domain.clone();
    if let Some(service) = &args.service {
        settings.services = Accept::OneOf(vec![service.clone()]);
    }
    if args.require_signed_payload {
        settings.unsigned_payload = UnsignedPayload::Reject;
    }
    let verifier = Verifier::new(lookup, settings).with_clock(Arc::new(FixedClock(now)));
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    if let Some(bucket) = verifier.post_object_bucket(&request.view()) {
        return run_post_object(&args, &verifier, &runtime, &request, &bucket);
    }
    // With the whole body given, verification checks it too, as the layer does: an
    // `aws-chunked` body chunk by chunk, any other against its flexible-checksum header (and
    // under S3's rules, either against its `Content-MD5`).
    let result = runtime.block_on(verifier.verify(&request.view(), Payload::Bytes(&request.body)));
    let mut report = String::new();
    let outcome = match result {
        Ok(verified) => {
            if tracing::enabled!(tracing::Level::DEBUG) {
                let token = if verified.session_token_signed() {
                    SessionTokenPlacement::Signed
                } else {
                    SessionTokenPlacement::AppendedAfterSigning
                };
                let text = what_is_signed(&verifier, &request, verified.path_mode(), token);
                tracing::debug!("{text}");
            }
            let location = match verified.location() {
                SignatureLocation::Header => "header",
                _ => "query",
            };
            let scope = verified.scope();
            let scope = format!("{}/{}/{}", scope.date, scope.region, scope.service);
            let signed_headers: Vec<&str> = verified.signed_headers().collect();
            if args.json {
                let value = json!({
                    "valid": true,
                    "access_key_id": verified.access_key_id(),
                    "scope": scope,
                    "location": location,
                    "signed_headers": signed_headers,
                    "session_token": verified.session_token().is_some(),
                    "session_token_signed": verified.session_token_signed(),
                    "payload": payload_name(verified.payload()),
                    "signature": verified.signature(),
                });
                writeln!(report, "{value}")?;
            } else {
                writeln!(report, "valid")?;
                writeln!(report, "access key:     {}", verified.access_key_id())?;
                writeln!(report, "scope:          {scope}")?;
                writeln!(report, "location:       {location}")?;
                writeln!(report, "signed headers: {}", signed_headers.join(";"))?;
                writeln!(
                    report,
                    "session token:  {}",
                    match (verified.session_token(), verified.session_token_signed()) {
                        (None, _) => "none",
                        (Some(_), true) => "present, signed",
                        (Some(_), false) => "present, appended after signing",
                    }
                )?;
                writeln!(
                    report,
                    "payload:        {}",
                    payload_name(verified.payload())
                )?;
                writeln!(report, "signature:      {}", verified.signature())?;
            }
            Outcome::Ok
        }
        Err(error) if error.is_peer_fault() => {
            let details = error.mismatch_details();
            // In the terms of the service the request names, as the SDK calling it expects.
            let aws = match request.view().claimed_service().as_deref() {
                Some(service) if uses_s3_rules(service) => error.to_s3_error(),
                Some("ec2") => error.to_ec2_error(),
                _ => error.to_aws_error(),
            };
            // A link of an `aws-chunked` body's chain: its string-to-sign hashes the chunk's
            // data (not echoed), or the trailer's canonical lines, not a canonical request.
            let link = match &error {
                edgeward_signing::Error::ChunkSignatureMismatch { link, .. } => Some(*link),
                _ => None,
            };
            let hashed = details
                .map(|d| d.canonical_request_redacted())
                .filter(|text| !text.is_empty());
            let (canonical_request, canonical_trailer) = match link {
                None => (hashed, None),
                Some(_) => (None, hashed),
            };
            if args.json {
                let mut value = json!({
                    "valid": false,
                    "code": aws.code,
                    "status": aws.status,
                    "message": error.to_string(),
                    "canonical_request": canonical_request,
                    "string_to_sign": details.map(|d| d.string_to_sign.clone()),
                });
                if let Some(link) = link {
                    let (name, index) = match link {
                        ChainLink::Chunk(index) => ("chunk", Some(index)),
                        ChainLink::Trailer => ("trailer", None),
                    };
                    value["link"] = json!(name);
                    value["chunk"] = json!(index);
                    value["canonical_trailer"] = json!(canonical_trailer);
                }
                writeln!(report, "{value}")?;
            } else {
                writeln!(report, "{}", aws.code)?;
                writeln!(report, "{error} (HTTP {})", aws.status)?;
                if let Some(details) = details {
                    if let Some(text) = canonical_request {
                        writeln!(report, "canonical request:\n{text}\n")?;
                    }
                    if let Some(text) = canonical_trailer {
                        writeln!(report, "canonical trailer:\n{text}\n")?;
                    }
                    writeln!(report, "string to sign:\n{}", details.string_to_sign)?;
                }
            }
            Outcome::CheckFailed
        }
        Err(error) => return Err(anyhow::Error::new(error).context("verifying")),
    };
    write_stdout(report.as_bytes())?;
    Ok(outcome)
}

/// A POST Object form and its file, as the layer holds them: the form verified, then the
/// file against the policy's size range and the form's checksums.
fn verify_post_object(
    verifier: &Verifier<StaticCredentials>,
    runtime: &tokio::runtime::Runtime,
    request: &RawRequest,
    bucket: &str,
) -> Result<(VerifiedPost, u64), Error> {
    let content_type = request.header("content-type").unwrap_or_default();
    let head = PostForm::parse_multipart(content_type, &request.body)?.ok_or_else(|| {
        Error::MalformedPostForm {
            reason: "the body ends before its file part".to_owned(),
        }
    })?;
    let verified = runtime.block_on(verifier.verify_post(&head.form, bucket))?;
    let mut file = PostFileScan::new(&head, &verified);
    file.update(&request.body)?;
    let size = file.finish()?;
    Ok((verified, size))
}

fn run_post_object(
    args: &VerifyArgs,
    verifier: &Verifier<StaticCredentials>,
    runtime: &tokio::runtime::Runtime,
    request: &RawRequest,
    bucket: &str,
) -> anyhow::Result<Outcome> {
    let mut report = String::new();
    let outcome = match verify_post_object(verifier, runtime, request, bucket) {
        Ok((verified, file_size)) => {
            let (date, region, service) = verified.scope();
            let scope = format!("{date}/{region}/{service}");
            let expires = format_amz_date(verified.expires_at());
            if args.json {
                let value = json!({
                    "valid": true,
                    "location": "post-form",
                    "access_key_id": verified.access_key_id(),
                    "scope": scope,
                    "session_token": verified.session_token().is_some(),
                    "bucket": verified.bucket(),
                    "key": verified.key(),
                    "file_size": file_size,
                    "policy_expires": expires,
                });
                writeln!(report, "{value}")?;
            } else {
                writeln!(report, "valid")?;
                writeln!(report, "access key:     {}", verified.access_key_id())?;
                writeln!(report, "scope:          {scope}")?;
                writeln!(report, "location:       POST form")?;
                let token = if verified.session_token().is_some() {
                    "present"
                } else {
                    "none"
                };
                writeln!(report, "session token:  {token}")?;
                writeln!(report, "bucket:         {}", verified.bucket())?;
                writeln!(report, "key:            {}", verified.key())?;
                writeln!(report, "file size:      {file_size} bytes")?;
                writeln!(report, "policy expires: {expires}")?;
            }
            Outcome::Ok
        }
        Err(error) if error.is_peer_fault() => {
            let aws = error.to_s3_error();
            let policy = error.mismatch_details().map(|d| d.string_to_sign.clone());
            if args.json {
                let value = json!({
                    "valid": false,
                    "code": aws.code,
                    "status": aws.status,
                    "message": error.to_string(),
                    "canonical_request": null,
                    "string_to_sign": policy,
                });
                writeln!(report, "{value}")?;
            } else {
                writeln!(report, "{}", aws.code)?;
                writeln!(report, "{error} (HTTP {})", aws.status)?;
                if let Some(policy) = policy {
                    writeln!(report, "string to sign (the policy as sent):\n{policy}")?;
                }
            }
            Outcome::CheckFailed
        }
        Err(error) => return Err(anyhow::Error::new(error).context("verifying")),
    };
    write_stdout(report.as_bytes())?;
    Ok(outcome)
}
