//! Client-side signing on aws-sigv4: header or presigned, session token signed or appended,
//! payload options, S3 or default canonicalisation. Works on `http::Request` and on
//! [`RawRequest`] (whose target may hold bytes an `http::Uri` cannot).

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    self as sigv4, PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody,
    SignableRequest, UriPathNormalizationMode,
};

use crate::auth::MAX_PRESIGN_EXPIRES;
use crate::canonical::{
    canonical_query, canonical_uri, decode_query_bytes, decode_query_component, encode_into,
    normalize_header_value, normalize_path, split_query, PathEncoding, PathMode, PathNormalization,
};
use crate::error::Error;
use crate::raw::RawRequest;
use crate::redact;
use crate::verify::{classify_payload, same_host, uses_s3_rules};

/// Where the signature goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureTarget {
    /// `Authorization` header (plus `X-Amz-Date`, and the token and content hash headers).
    Header,
    /// Presigned query parameters valid for `expires` (at most 7 days).
    Query {
        /// `X-Amz-Expires`.
        expires: Duration,
    },
}

/// How the payload enters the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadSigning {
    /// The SHA-256 of the body.
    Signed,
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// A hex SHA-256 (lower-case, or a keyword such as `UNSIGNED-PAYLOAD`) the caller
    /// computed; anything else is refused.
    Precomputed(String),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (`-TRAILER` with `trailer`); sign the chunks with
    /// [`crate::ChunkSigner`].
    StreamingSigned {
        /// Whether a signed trailer follows.
        trailer: bool,
    },
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    StreamingUnsignedTrailer,
}

/// Whether to send `x-amz-content-sha256` (S3 requires it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentSha256Header {
    /// Do not add it.
    Omit,
    /// Add (and sign) it.
    Include,
}

/// Where the session token of temporary credentials goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionTokenPlacement {
    /// Signed, like every SDK does by default.
    Signed,
    /// Added after signing, not covered (services such as IoT want this).
    AppendedAfterSigning,
}

/// Signing policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigningSettings {
    /// Header or presigned.
    pub target: SignatureTarget,
    /// Payload.
    pub payload: PayloadSigning,
    /// `x-amz-content-sha256`.
    pub content_sha256: ContentSha256Header,
    /// Canonical-URI rules.
    pub path_mode: PathMode,
    /// Session token placement.
    pub session_token: SessionTokenPlacement,
    /// Header names never signed. Default: botocore's list (`expect`, `transfer-encoding`,
    /// `user-agent`, `x-amzn-trace-id`) plus `authorization`. A request's header (in any case)
    /// is left out when its name lower-cased equals an entry, as aws-sigv4 matches: write
    /// the entries lower-case, as one that is not matches nothing. A list naming `host`, or
    /// `x-amz-date` for an `Authorization` header, is refused: no verifier takes the signature.
    /// (`Cow` because aws-sigv4 takes them so when the list names a header it adds itself.)
    pub excluded_headers: Vec<Cow<'static, str>>,
}

impl Default for SigningSettings {
    /// Header signing with the body's SHA-256, default canonicalisation, token signed: for
    /// every service but S3, whose requests need [`SigningSettings::s3`] (with service `s3`,
    /// or another that [`uses_s3_rules`], anything else is refused, as S3 would refuse the
    /// signature).
    fn default() -> Self {
        Self {
            target: SignatureTarget::Header,
            payload: PayloadSigning::Signed,
            content_sha256: ContentSha256Header::Omit,
            path_mode: PathMode::DEFAULT,
            session_token: SessionTokenPlacement::Signed,
            excluded_headers: [
                "authorization",
                "expect",
                "transfer-encoding",
                "user-agent",
                "x-amzn-trace-id",
            ]
            .into_iter()
            .map(Cow::Borrowed)
            .collect(),
        }
    }
}

impl SigningSettings {
    /// S3's rules: path as sent, `x-amz-content-sha256` included. Required with service `s3`
    /// (S3 Control included) and the others that [`uses_s3_rules`] names; other services whose
    /// paths are sent unnormalised (S3-compatible ones under their own signing name) may use
    /// them too.
    pub fn s3() -> Self {
        Self {
            path_mode: PathMode::S3,
            content_sha256: ContentSha256Header::Include,
            ..Self::default()
        }
    }

    /// Presigned with `expires`. Under S3's rules the payload becomes `UNSIGNED-PAYLOAD` and
    /// `x-amz-content-sha256` is left out, as S3 computes a presigned request's payload hash
    /// (the URL is made before the body is known; botocore and aws-sdk-s3 presign so too).
    /// An `x-amz-content-sha256` the request already carries is signed as its payload hash
    /// instead, as with every setting that does not add the header.
    pub fn presigned(mut self, expires: Duration) -> Self {
        self.target = SignatureTarget::Query { expires };
        if self.path_mode == PathMode::S3 {
            self.payload = PayloadSigning::Unsigned;
            self.content_sha256 = ContentSha256Header::Omit;
        }
        self
    }
}

/// Per-request signing facts.
#[derive(Debug, Clone, Copy)]
pub struct SigningParams<'a> {
    /// The credentials (a session token in them is sent).
    pub credentials: &'a Credentials,
    /// Region.
    pub region: &'a str,
    /// Service (signing name).
    pub service: &'a str,
    /// Signing time.
    pub time: SystemTime,
}

/// What signing produced: headers to set and query parameters to append (already applied by
/// [`sign_raw`] and [`sign_http`]). `Debug` prints a session token's length, not the token,
/// and the signature's first 8 hex digits, not all of it: either would replay the request.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedParts {
    /// Headers to set (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Query parameters to append (unencoded).
    pub query: Vec<(String, String)>,
    /// The signature (hex).
    pub signature: String,
}

impl std::fmt::Debug for SignedParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(name, value)| redact::header(name, value.as_bytes()))
            .collect();
        let query: Vec<_> = self
            .query
            .iter()
            .map(|(name, value)| redact::parameter(name, value))
            .collect();
        f.debug_struct("SignedParts")
            .field("headers", &headers)
            .field("query", &query)
            .field("signature", &redact::signature(&self.signature))
            .finish()
    }
}

fn invalid_in_uri(b: u8) -> bool {
    b <= b' '
        || b >= 0x7f
        || matches!(
            b,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}' | b'#'
        )
}

fn escape_invalid(input: &str) -> Cow<'_, str> {
    if !input.bytes().any(invalid_in_uri) {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len() * 3);
    for b in input.bytes() {
        if invalid_in_uri(b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    Cow::Owned(out)
}

/// The query parameters of a presigned signature.
const PRESIGN_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// The headers of a header signature (besides `x-amz-content-sha256`, which may be the
/// caller's own).
const SIGNATURE_HEADERS: [&str; 3] = ["authorization", "x-amz-date", "x-amz-security-token"];

/// The headers of the caller's that a server (and the verifier) reads as one value: the
/// signer refuses a request that carries one of them twice (the signature's own headers it
/// replaces).
const READ_ONCE_HEADERS: [&str; 3] = ["host", "date", "x-amz-content-sha256"];

/// The headers aws-sigv4 puts into the canonical request itself (besides the caller's).
const HEADERS_AWS_SIGV4_ADDS: [&str; 4] = [
    "host",
    "x-amz-content-sha256",
    "x-amz-date",
    "x-amz-security-token",
];

/// Whether `name` lower-cased is in `excluded`, as aws-sigv4 matches its exclusion list (the
/// list's names are lower-case; one that is not matches nothing there either).
fn is_excluded(name: &str, excluded: &[Cow<'static, str>]) -> bool {
    excluded.iter().any(|entry| {
        entry.len() == name.len()
            && entry
                .bytes()
                .zip(name.bytes())
                .all(|(e, n)| e == n.to_ascii_lowercase())
    })
}

/// The index of `name` (in any case) in [`READ_ONCE_HEADERS`]. By length first: this runs on
/// every header of every request signed.
fn read_once_index(name: &str) -> Option<usize> {
    READ_ONCE_HEADERS
        .iter()
        .position(|once| once.len() == name.len() && once.eq_ignore_ascii_case(name))
}

/// Whether a query piece (`key=value`) is a presigned signature's parameter: its key, once
/// decoded, is one of [`PRESIGN_PARAMS`], as every verifier reads it (`X%2DAmz-Date` is
/// `X-Amz-Date`). Such a key starts with `X`, or with an escape of it: other pieces are passed
/// over by their first byte, as this runs on every request signed with a query.
fn is_presign_piece(piece: &str) -> bool {
    if !matches!(piece.as_bytes().first(), Some(b'X' | b'%')) {
        return false;
    }
    let key = piece.split_once('=').map_or(piece, |(key, _)| key);
    PRESIGN_PARAMS.contains(&decode_query_component(key).as_ref())
}

/// The request target without a previous presigned signature's query parameters (borrowed
/// when there are none), so that signing again replaces that signature instead of signing it.
/// A target with a fragment is left whole, for the signer to refuse: dropped with the last
/// parameter, the fragment would go unnoticed.
fn without_presign_params(target: &str) -> Cow<'_, str> {
    let Some((path, query)) = target.split_once('?') else {
        return Cow::Borrowed(target);
    };
    if query.contains('#') {
        return Cow::Borrowed(target);
    }
    if !query.split('&').any(is_presign_piece) {
        return Cow::Borrowed(target);
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|piece| !is_presign_piece(piece))
        .collect();
    let kept = kept.join("&");
    let mut out = String::with_capacity(target.len());
    out.push_str(path);
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept);
    }
    Cow::Owned(out)
}

/// Signs the parts of a request; nothing is modified. `path` is the path as sent
/// (origin-form: `/…`, or empty for `/`), `query` the raw query after `?`, and `headers` must
/// name the host (`Host`). The parts must not carry a previous
/// signature (its headers and presigned query parameters would be signed as the request's
/// own); [`sign_raw`] and [`sign_http`] drop one before signing. A request that carries a
/// `Host`, `Date` or (one the settings do not replace) `x-amz-content-sha256` header twice is
/// refused (`InvalidSigningInput`), as no server reads it as signed; so is a payload hash
/// (the request's own `x-amz-content-sha256`, or [`PayloadSigning::Precomputed`]) that is
/// neither a lower-case SHA-256 hex digest nor a payload keyword, and an access key ID,
/// region or service that cannot stand in the credential scope (empty, or with a space, `,`,
/// a `/` in region or service, or a byte that is not visible ASCII), a signing time outside
/// the years 0000 to 9999 that `X-Amz-Date` can write, a path and query that, re-encoded
/// and with any presigned parameters, would be longer than an `http::Uri` holds (65,534
/// bytes), and a header not in [`SigningSettings::excluded_headers`] whose name is not a
/// token of at most 65,535 bytes or whose value has a control byte or a byte that is not
/// ASCII (aws-sigv4 signs none of those; send such a value encoded); so are excluded headers
/// that leave the signature one no verifier takes (`host`; `x-amz-date` in a header).
pub fn sign_parts(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
    params: &SigningParams<'_>,
    settings: &SigningSettings,
) -> Result<SignedParts, Error> {
    let (instructions, signature) =
        sign_to_instructions(method, path, query, headers, body, params, settings)?;
    let (new_headers, new_query) = instructions.into_parts();
    Ok(SignedParts {
        headers: new_headers
            .into_iter()
            .map(|h| (h.name().to_owned(), h.value().to_owned()))
            .collect(),
        query: new_query
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.into_owned()))
            .collect(),
        signature,
    })
}

/// Refuses an access key ID, region or service that a verifier cannot read back out of
/// `Credential=AKID/date/region/service/aws4_request`: empty, a byte that is not visible
/// ASCII, a `,` (which ends the component in an `Authorization` header), or, in the region
/// and service, a `/`.
fn check_scope_parts(params: &SigningParams<'_>) -> Result<(), Error> {
    // A table and no early exit: this runs on every request signed.
    let readable = |value: &str, accepted: u8| {
        value.bytes().fold(!value.is_empty(), |ok, b| {
            ok & (SCOPE_BYTES[usize::from(b)] & accepted != 0)
        })
    };
    let access_key_id = params.credentials.access_key_id();
    let key_ok = readable(access_key_id, SCOPE_PLAIN | SCOPE_SLASH);
    let region_ok = readable(params.region, SCOPE_PLAIN);
    let service_ok = readable(params.service, SCOPE_PLAIN);
    if key_ok & region_ok & service_ok {
        return Ok(());
    }
    let (what, value, slash) = if !key_ok {
        ("access key ID", access_key_id, true)
    } else if !region_ok {
        ("region", params.region, false)
    } else {
        ("service", params.service, false)
    };
    Err(Error::InvalidSigningInput {
        reason: format!(
            "the {what} {value:?} cannot stand in a credential scope \
             (empty, or a space, `,`{} or a byte that is not visible ASCII)",
            if slash { "" } else { ", `/`" }
        ),
    })
}

/// Refuses an exclusion list that leaves out a header every verifier wants signed: `host`
/// (AWS's SigV4 guide: "the host header must be included as a signed header"), and, in an
/// `Authorization` header, `x-amz-date`, which carries the time the signature is checked
/// against. aws-sigv4 signs without them, and the signature fails only at the server. (A
/// presigned signature's time is its `X-Amz-Date` parameter, which no list leaves out.)
/// Entries are matched as aws-sigv4 matches them: lower-case.
fn check_exclusions_leave_a_verifiable_signature(settings: &SigningSettings) -> Result<(), Error> {
    let must_sign: &[&str] = match settings.target {
        SignatureTarget::Header => &["host", "x-amz-date"],
        SignatureTarget::Query { .. } => &["host"],
    };
    match must_sign
        .iter()
        .find(|name| settings.excluded_headers.iter().any(|entry| entry == *name))
    {
        None => Ok(()),
        Some(name) => Err(Error::InvalidSigningInput {
            reason: format!(
                "`{name}` is in the excluded headers: every SigV4 verifier refuses a signature \
                 that does not cover it"
            ),
        }),
    }
}

/// Refuses a session token that an `x-amz-security-token` header cannot carry as signed:
/// - a control byte such as a line end, or a byte that is not ASCII (since http 1.6), on
///   which aws-sigv4 fails without saying why;
/// - blanks that a header value loses: a space or tab at an end (a server strips them,
///   RFC 9112 5.1), a tab or two spaces in a row (the canonical headers collapse them, which
///   aws-sigv4 does not do for the token), so that no verifier could match what was signed.
///
/// The token is not named: it is bearer material.
fn check_session_token_is_a_header_value(params: &SigningParams<'_>) -> Result<(), Error> {
    let Some(token) = params.credentials.session_token() else {
        return Ok(());
    };
    if let Some((at, byte, what)) = first_non_header_text(token) {
        return Err(Error::InvalidSigningInput {
            reason: format!(
                "the session token has {what} (0x{byte:02x}, at byte {at}) that an \
                 x-amz-security-token header cannot carry"
            ),
        });
    }
    let blanks = token.starts_with([' ', '\t'])
        || token.ends_with([' ', '\t'])
        || token.contains('\t')
        || token.contains("  ");
    if blanks {
        return Err(Error::InvalidSigningInput {
            reason: "the session token has a space or tab at an end, a tab, or two spaces in a \
                     row, which an x-amz-security-token header does not keep as signed"
                .into(),
        });
    }
    Ok(())
}

/// The first byte of `value` that `http`'s string constructors refuse in a header value
/// (they take visible ASCII, space and tab, and aws-sigv4 builds every value it signs with
/// them): where it is, the byte, and what kind of byte it is.
fn first_non_header_text(value: &str) -> Option<(usize, u8, &'static str)> {
    let is_text = |b: u8| b == b'\t' || (b' '..=b'~').contains(&b);
    if value.bytes().fold(true, |ok, b| ok & is_text(b)) {
        return None;
    }
    let (at, byte) = value.bytes().enumerate().find(|&(_, b)| !is_text(b))?;
    let what = if byte.is_ascii() {
        "a control byte"
    } else {
        "a byte that is not ASCII"
    };
    Some((at, byte, what))
}

/// Refuses a header that aws-sigv4 cannot put in a canonical request, rather than letting it
/// fail there without saying which (`failed to create canonical request`): it builds each
/// name and value with `http`'s string constructors, which take a token (RFC 9110 5.6.2) of
/// at most 65,535 bytes for a name and visible ASCII, spaces and tabs for a value. A byte
/// over 0x7F, which HTTP lets a value carry as opaque data, is refused by them since http 1.6
/// (and so by aws-sdk-rust): such a value is sent encoded (S3's REST API takes user metadata
/// in US-ASCII only, and botocore refuses any other).
fn check_header_for_aws_sigv4(name: &str, value: &str) -> Result<(), Error> {
    // `http::HeaderName`'s own bound.
    const MAX_NAME_BYTES: usize = (1 << 16) - 1;
    // Folds rather than stops at the first bad byte, so the loops vectorise: every header
    // signed passes through here, and nearly every one passes.
    let token = name
        .bytes()
        .fold(true, |ok, b| ok & crate::raw::is_tchar(b));
    if name.is_empty() || !token {
        return Err(Error::InvalidSigningInput {
            reason: format!("{:?} is not a header name", crate::error::clip(name)),
        });
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(Error::InvalidSigningInput {
            reason: format!(
                "a header name of {} bytes is longer than an HTTP header name can be \
                 ({MAX_NAME_BYTES})",
                name.len()
            ),
        });
    }
    if let Some((at, byte, what)) = first_non_header_text(value) {
        return Err(Error::InvalidSigningInput {
            reason: format!(
                "the value of header {name} has {what} (0x{byte:02x}, at byte {at}), which \
                 aws-sigv4 does not sign: send the value encoded (S3 takes user metadata in \
                 US-ASCII only)"
            ),
        });
    }
    Ok(())
}

/// Refuses a request target that would be signed otherwise than a server reads it, or that
/// aws-sigv4 cannot take:
/// - a `#`: a request target carries no fragment (RFC 9112 3.2), and `http::Uri` drops one,
///   so the signature would cover less than was sent;
/// - a path that is not origin-form (`/a`), such as `*`, `a` or `https://host/a` (aws-sigv4
///   panics on the first two under S3's rules, and the default rules' normalising would
///   read the third as a path);
/// - a query parameter whose escapes do not decode to UTF-8 (`%FF`): aws-sigv4 signs U+FFFD
///   in its place, while botocore and every verifier read the bytes sent.
fn check_target(path: &str, query: Option<&str>) -> Result<(), Error> {
    let refuse = |reason: String| Err(Error::InvalidSigningInput { reason });
    if path.contains('#') || query.is_some_and(|query| query.contains('#')) {
        return refuse("the request target has a `#`: a request carries no fragment".into());
    }
    if !(path.is_empty() || path.starts_with('/')) {
        return refuse(format!(
            "the request's path {:?} does not start with /",
            crate::error::clip(path)
        ));
    }
    if let Some(query) = query {
        // The query is a `str`: only an escape of a byte ≥ 0x80 can decode to something else.
        let high_escape = memchr::memchr_iter(b'%', query.as_bytes()).any(|at| {
            matches!(
                query.as_bytes().get(at + 1),
                Some(b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
            )
        });
        if high_escape {
            for (key, value) in split_query(query) {
                for component in [key, value] {
                    if std::str::from_utf8(&decode_query_bytes(component.as_bytes())).is_err() {
                        return refuse(format!(
                            "the query component {:?} is not UTF-8 once decoded \
                             (aws-sigv4 would sign U+FFFD in its place)",
                            crate::error::clip(component)
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// [`SCOPE_BYTES`]: a byte any credential scope part may hold.
const SCOPE_PLAIN: u8 = 1;
/// [`SCOPE_BYTES`]: `/`, which only the access key ID may hold (it ends the others).
const SCOPE_SLASH: u8 = 2;
/// What each byte may be in a credential scope part: visible ASCII (`!` to `~`) but `,`.
const SCOPE_BYTES: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = b'!';
    while b <= b'~' {
        table[b as usize] = match b {
            b',' => 0,
            b'/' => SCOPE_SLASH,
            _ => SCOPE_PLAIN,
        };
        b += 1;
    }
    table
};

/// The longest path and query an `http::Uri` holds.
const MAX_PATH_AND_QUERY: usize = u16::MAX as usize - 1;

/// Refuses a request whose path and canonical query (with the presigned parameters) would be
/// longer than an `http::Uri` holds: aws-sigv4 writes them into one and panics when it cannot.
/// Re-encoding can take a query from well within the limit past it (each `%` or `+` becomes
/// three bytes), and presigning adds its parameters. The presigned part is bounded from above,
/// the query counted exactly, and only when a bound on it says it could matter.
fn check_signed_target_length(
    path: &str,
    query: Option<&str>,
    headers: &[(&str, &str)],
    params: &SigningParams<'_>,
    settings: &SigningSettings,
) -> Result<(), Error> {
    let presigned = match settings.target {
        SignatureTarget::Header => 0,
        // The parameters' names, date, expiry and separators (under 200 bytes), then what
        // may be escaped: the credential scope (a date and `aws4_request` with it), the
        // signed header names and `;`s, and the session token.
        SignatureTarget::Query { .. } => {
            let scope = params.credentials.access_key_id().len()
                + params.region.len()
                + params.service.len()
                + 25;
            let names: usize = headers
                .iter()
                .map(|(name, _)| name.len() + 1)
                .sum::<usize>()
                + "host;x-amz-content-sha256;x-amz-date;x-amz-security-token".len();
            let token = params.credentials.session_token().map_or(0, str::len);
            256 + 3 * (scope + names + token)
        }
    };
    let query_length = query.map_or(0, str::len);
    // The `?`, written only before a query or the presigned parameters.
    let separator = usize::from(query.is_some() || presigned > 0);
    // A byte of query is written as at most three, and a key without `=` gains one.
    if path.len() + separator + 4 * query_length + presigned <= MAX_PATH_AND_QUERY {
        return Ok(());
    }
    let length = path.len() + separator + query.map_or(0, |q| canonical_query(q).len()) + presigned;
    if length <= MAX_PATH_AND_QUERY {
        return Ok(());
    }
    Err(Error::InvalidSigningInput {
        reason: format!(
            "the path and query as signed (about {length} bytes: the query re-encoded{}) are \
             longer than a URI holds ({MAX_PATH_AND_QUERY} bytes)",
            if presigned > 0 {
                ", the presigned parameters added"
            } else {
                ""
            }
        ),
    })
}

/// The signing itself; the callers apply aws-sigv4's instructions without copying them first.
fn sign_to_instructions(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
    params: &SigningParams<'_>,
    settings: &SigningSettings,
) -> Result<(sigv4::SigningInstructions, String), Error> {
    check_scope_parts(params)?;
    crate::auth::check_signing_time(params.time)?;
    check_target(path, query)?;
    // S3 (and every API signed with its name, S3 Control too) reads the path as sent, and
    // botocore and the SDKs choose those rules by the name: a signature under the others is
    // one S3 refuses whenever the path holds anything encoded, `//` or a dot segment.
    if uses_s3_rules(params.service) && settings.path_mode != PathMode::S3 {
        return Err(Error::InvalidSigningInput {
            reason: format!(
                "service `{}` signs the path as sent (S3's rules): start from \
                 SigningSettings::s3()",
                params.service
            ),
        });
    }
    check_exclusions_leave_a_verifiable_signature(settings)?;
    if settings.target == SignatureTarget::Header {
        check_session_token_is_a_header_value(params)?;
    }
    let mut aws = sigv4::SigningSettings::default();
    if let SignatureTarget::Query { expires } = settings.target {
        // X-Amz-Expires is whole seconds: under one second would be sent as 0.
        if expires.as_secs() == 0 || expires > MAX_PRESIGN_EXPIRES {
            return Err(Error::InvalidSigningInput {
                // In seconds, as X-Amz-Expires counts (`{:?}` would say `0ns` for 0); whole
                // ones as an integer (an f64 writes u64::MAX as 18446744073709552000).
                reason: format!(
                    "expiry of {} s is not within 1 s to 7 days (604800 s)",
                    if expires.subsec_nanos() == 0 {
                        expires.as_secs().to_string()
                    } else {
                        expires.as_secs_f64().to_string()
                    }
                ),
            });
        }
        aws.signature_location = sigv4::SignatureLocation::QueryParams;
        aws.expires_in = Some(expires);
    }
    aws.payload_checksum_kind = match settings.content_sha256 {
        ContentSha256Header::Omit => PayloadChecksumKind::NoHeader,
        ContentSha256Header::Include => PayloadChecksumKind::XAmzSha256,
    };
    aws.session_token_mode = match settings.session_token {
        SessionTokenPlacement::Signed => SessionTokenMode::Include,
        SessionTokenPlacement::AppendedAfterSigning => SessionTokenMode::Exclude,
    };
    // The caller's excluded headers are left out here, so aws-sigv4 need not be handed a copy
    // of the list on every request, nor build an excluded value (it builds every header it is
    // handed before excluding any, and fails on one it cannot). It is handed the list only
    // when the list names a header it adds to the canonical request itself (`host` and, for a
    // header signature, `x-amz-date` were refused above).
    aws.excluded_headers = settings
        .excluded_headers
        .iter()
        .any(|name| HEADERS_AWS_SIGV4_ADDS.contains(&name.as_ref()))
        .then(|| settings.excluded_headers.clone());
    let excluded_here = |name: &str| is_excluded(name, &settings.excluded_headers);

    // A path with bytes an http::Uri cannot hold (a literal space, raw UTF-8) is canonicalised
    // here and handed over as already encoded; otherwise aws-sigv4 does all of it.
    let path = if path.is_empty() { "/" } else { path };
    let uri_path: Cow<'_, str> = if path.bytes().any(invalid_in_uri) {
        aws.percent_encoding_mode = PercentEncodingMode::Single;
        aws.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        Cow::Owned(canonical_uri(path, settings.path_mode))
    } else {
        aws.percent_encoding_mode = match settings.path_mode.encoding {
            PathEncoding::Double => PercentEncodingMode::Double,
            PathEncoding::Single => PercentEncodingMode::Single,
        };
        // Normalisation is ours: aws-sigv4 keeps a trailing slash for `/a/.` where botocore
        // (and the verifier) do not.
        aws.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        match settings.path_mode.normalization {
            PathNormalization::Enabled => normalize_path(path),
            PathNormalization::Disabled => Cow::Borrowed(path),
        }
    };
    let query = query.map(escape_invalid);
    check_signed_target_length(&uri_path, query.as_deref(), headers, params, settings)?;
    let uri: Cow<'_, str> = match query {
        Some(q) => {
            let mut uri = String::with_capacity(uri_path.len() + 1 + q.len());
            uri.push_str(&uri_path);
            uri.push('?');
            uri.push_str(&q);
            Cow::Owned(uri)
        }
        None => uri_path,
    };

    let replaced = |name: &str| {
        ["x-amz-date", "x-amz-security-token", "authorization"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
            || (settings.content_sha256 == ContentSha256Header::Include
                && name.eq_ignore_ascii_case("x-amz-content-sha256"))
    };
    // A header a server reads as one value, sent twice, would be signed as the two joined:
    // a request no server takes (RFC 9112 refuses two `Host`s; S3 a hash that is two).
    let mut seen = [false; READ_ONCE_HEADERS.len()];
    for (name, _) in headers {
        let Some(at) = read_once_index(name) else {
            continue;
        };
        if !replaced(name) && std::mem::replace(&mut seen[at], true) {
            return Err(Error::InvalidSigningInput {
                reason: format!(
                    "the request has more than one {} header",
                    READ_ONCE_HEADERS[at]
                ),
            });
        }
    }
    // The path is origin-form, so the host can come from nowhere else (aws-sigv4 would
    // panic looking for an authority).
    if !seen[0] {
        return Err(Error::InvalidSigningInput {
            reason: "the request has no Host header".into(),
        });
    }
    let normalized = headers
        .iter()
        .filter(|(name, _)| !replaced(name) && !excluded_here(name))
        .map(|&(name, value)| {
            check_header_for_aws_sigv4(name, value)?;
            let needs = value.starts_with([' ', '\t'])
                || value.ends_with([' ', '\t'])
                || value.contains("  ")
                || value.contains('\t');
            Ok((
                name,
                if needs {
                    Cow::Owned(normalize_header_value(value))
                } else {
                    Cow::Borrowed(value)
                },
            ))
        })
        .collect::<Result<Vec<(&str, Cow<'_, str>)>, Error>>()?;

    // A request's own `x-amz-content-sha256` (one this signing does not replace) is what a
    // verifier takes as the payload hash, as botocore signs it: the signature is made with it.
    let declared = match settings.content_sha256 {
        ContentSha256Header::Omit => headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-content-sha256"))
            .map(|&(_, value)| value),
        ContentSha256Header::Include => None,
    };
    // A hash no verifier reads (S3's `InvalidArgument`) is refused rather than signed.
    let precomputed = match (declared, &settings.payload) {
        (Some(value), _) => Some(value),
        (None, PayloadSigning::Precomputed(hash)) => Some(hash.as_str()),
        _ => None,
    };
    if let Some(value) = precomputed {
        classify_payload(value).map_err(|e| Error::InvalidSigningInput {
            reason: format!(
                "{e}: not a lower-case SHA-256 hex digest nor a payload keyword \
                 (UNSIGNED-PAYLOAD, STREAMING-…)"
            ),
        })?;
    }
    let body = match (declared, &settings.payload) {
        (Some(value), _) => SignableBody::Precomputed(value.to_owned()),
        (None, PayloadSigning::Signed) => SignableBody::Bytes(body),
        (None, PayloadSigning::Unsigned) => SignableBody::UnsignedPayload,
        (None, PayloadSigning::Precomputed(hash)) => SignableBody::Precomputed(hash.clone()),
        (None, PayloadSigning::StreamingSigned { trailer: false }) => {
            SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_owned())
        }
        (None, PayloadSigning::StreamingSigned { trailer: true }) => {
            SignableBody::StreamingSignedPayloadTrailer
        }
        (None, PayloadSigning::StreamingUnsignedTrailer) => {
            SignableBody::StreamingUnsignedPayloadTrailer
        }
    };
    let signable = SignableRequest::new(
        method,
        uri,
        normalized.iter().map(|(n, v)| (*n, v.as_ref())),
        body,
    )
    .map_err(|e| Error::InvalidSigningInput {
        reason: e.to_string(),
    })?;
    let identity = params.credentials.clone().into();
    let signing_params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(params.region)
        .name(params.service)
        .time(params.time)
        .settings(aws)
        .build()
        .map_err(|e| Error::InvalidSigningInput {
            reason: e.to_string(),
        })?
        .into();
    let sign = || sigv4::sign(signable, &signing_params);
    // aws-sigv4 traces the canonical request with its sensitive *headers* redacted, but not
    // its query line, where a presigned request's `X-Amz-Security-Token` stands in clear: so
    // that signing leaves no subscriber to hear it (at no cost to any other signing).
    let output = if matches!(settings.target, SignatureTarget::Query { .. })
        && params.credentials.session_token().is_some()
    {
        sign_in_silence(sign)
    } else {
        sign()
    }
    .map_err(|e| Error::Signing {
        reason: e.to_string(),
    })?;
    Ok(output.into_parts())
}

/// Runs `sign` with no subscriber, and makes sure that aws-sigv4 is heard again afterwards.
///
/// While a process has a single dispatcher (one global subscriber), tracing-core gives a
/// callsite met for the first time the interest of the *current thread's* subscriber: here,
/// none. aws-sigv4's callsites first met in silence would cache "never", and its traces stay
/// silent for the life of the process. So after the first silent signing that succeeds (and
/// so has met all of them: the query form's trace comes last) every callsite's interest is
/// recomputed. The silent signings before that one take turns, so that none can be halfway
/// through registering a callsite while the interest is recomputed; after it, none waits.
fn sign_in_silence<T, E>(sign: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    static SIGNINGS: SilentSignings = SilentSignings::new();
    SIGNINGS.run(sign)
}

/// The state behind [`sign_in_silence`]: one per process, and one per test of it.
struct SilentSignings {
    /// Set once a silent signing succeeded and every callsite's interest was recomputed.
    heard_again: AtomicBool,
    /// Taken by each silent signing until `heard_again` is set.
    first_signings: Mutex<()>,
}

impl SilentSignings {
    const fn new() -> Self {
        Self {
            heard_again: AtomicBool::new(false),
            first_signings: Mutex::new(()),
        }
    }

    fn run<T, E>(&self, sign: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let silent = || tracing::dispatcher::with_default(&tracing::Dispatch::none(), sign);
        if self.heard_again.load(Ordering::Acquire) {
            return silent();
        }
        let _turn = self
            .first_signings
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let output = silent();
        if output.is_ok() && !self.heard_again.load(Ordering::Acquire) {
            // Walks every callsite under tracing-core's lock: once, not on every silent signing.
            tracing::callsite::rebuild_interest_cache();
            self.heard_again.store(true, Ordering::Release);
        }
        output
    }
}

fn append_query<K: AsRef<str>, V: AsRef<str>>(target: &mut String, params: &[(K, V)]) {
    if params.is_empty() {
        return;
    }
    let mut encoded = Vec::new();
    for (name, value) in params {
        encoded.push(if encoded.is_empty() { b'?' } else { b'&' });
        encode_into(&mut encoded, name.as_ref().as_bytes(), false);
        encoded.push(b'=');
        encode_into(&mut encoded, value.as_ref().as_bytes(), false);
    }
    // After a query the parameters follow an `&`, after an empty one (`/a?`) directly; a
    // query of its own that ends in `?` (`/a??`, the key `?`) is not empty.
    if let Some((_, query)) = target.split_once('?') {
        encoded[0] = b'&';
        if query.is_empty() {
            encoded.remove(0);
        }
    }
    target.push_str(&String::from_utf8_lossy(&encoded));
}

/// Signs a raw request in place; returns the signature. A previous signature (its headers,
/// its presigned query parameters) is replaced, not kept. An absolute-form target
/// (`http://host/path`) without a `Host` header gets one naming its authority; with one that
/// names another host, it is refused, as is one whose authority carries user information
/// (`http://user:password@host/`, which HTTP deprecates and servers refuse), and so is what
/// [`sign_parts`] refuses (a header value that is not ASCII, for one). A refused request is
/// left as it came.
pub fn sign_raw(
    request: &mut RawRequest,
    params: &SigningParams<'_>,
    settings: &SigningSettings,
) -> Result<String, Error> {
    if request
        .authority()
        .is_some_and(|authority| authority.contains('@'))
    {
        return Err(Error::InvalidSigningInput {
            reason: "the request target's authority carries user information (`…@host`), which \
                     HTTP deprecates and a server refuses (RFC 9110, 4.2.4): take it out of \
                     the target"
                .into(),
        });
    }
    // The head as it will be signed, apart from the request, which changes only once signing
    // succeeded: a refused request is left as it came, its previous signature and all.
    let mut head = RawRequest {
        method: String::new(),
        target: without_presign_params(&request.target).into_owned(),
        version: String::new(),
        headers: request
            .headers
            .iter()
            .filter(|(name, _)| {
                !SIGNATURE_HEADERS
                    .iter()
                    .any(|s| name.eq_ignore_ascii_case(s))
            })
            .cloned()
            .collect(),
        body: Vec::new(),
        line_ending: request.line_ending,
    };
    // An absolute-form target names the host (RFC 9112 routes by it): a `Host` header that
    // names another is refused (the signature would cover a host the request does not go
    // to), and a missing one is added, as HTTP/1.1 requires one: without the scheme's
    // default port, as `sign_http`, aws-sigv4 and botocore sign the host.
    if let Some(authority) = head.authority() {
        match head.header("host") {
            None => {
                let scheme = head.target.split_once("://").map(|(scheme, _)| scheme);
                let host = host_for_authority(scheme, authority).to_owned();
                head.set_header("Host", &host);
            }
            Some(host) if !same_host(host.as_bytes(), authority.as_bytes()) => {
                return Err(Error::InvalidSigningInput {
                    reason: format!(
                        "the Host header ({host}) names another host than the request target \
                         ({authority})"
                    ),
                });
            }
            Some(_) => {}
        }
    }
    let headers: Vec<(&str, &str)> = head
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let signed = sign_parts(
        &request.method,
        head.path(),
        head.query(),
        &headers,
        &request.body,
        params,
        settings,
    )?;
    drop(headers);
    request.target = head.target;
    request.headers = head.headers;
    for (name, value) in &signed.headers {
        request.set_header(&display_name(name), value);
    }
    append_query(&mut request.target, &signed.query);
    Ok(signed.signature)
}

/// The conventional capitalisation for the headers signing adds (HTTP/1.1 is
/// case-insensitive; this only makes output read like the AWS examples).
fn display_name(name: &str) -> String {
    match name {
        "authorization" => "Authorization".into(),
        "x-amz-date" => "X-Amz-Date".into(),
        "x-amz-security-token" => "X-Amz-Security-Token".into(),
        "x-amz-content-sha256" => "x-amz-content-sha256".into(),
        other => other.into(),
    }
}

/// The name of a header aws-sigv4 adds: one of four constants, so no name is parsed per request.
fn added_header_name(name: &'static str) -> Result<http::HeaderName, Error> {
    const X_AMZ_DATE: http::HeaderName = http::HeaderName::from_static("x-amz-date");
    const X_AMZ_SECURITY_TOKEN: http::HeaderName =
        http::HeaderName::from_static("x-amz-security-token");
    const X_AMZ_CONTENT_SHA256: http::HeaderName =
        http::HeaderName::from_static("x-amz-content-sha256");
    Ok(match name {
        "authorization" => http::header::AUTHORIZATION,
        "x-amz-date" => X_AMZ_DATE,
        "x-amz-security-token" => X_AMZ_SECURITY_TOKEN,
        "x-amz-content-sha256" => X_AMZ_CONTENT_SHA256,
        other => http::HeaderName::try_from(other).map_err(|e| Error::Signing {
            reason: e.to_string(),
        })?,
    })
}

/// Signs an `http::Request` in place; returns the signature. The URI must be valid (as
/// `http::Uri` guarantees). A previous signature (its headers, its presigned query
/// parameters) is replaced, not kept. Without a `Host` header the URI's host is signed as a
/// client sends it: with its port unless that is the scheme's default, and without user
/// information (`https://user:password@host/`), as botocore signs it.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use aws_credential_types::Credentials;
/// use edgeward_signing::{sign_http, SigningParams, SigningSettings};
///
/// # fn main() -> Result<(), edgeward_signing::Error> {
/// let credentials = Credentials::from_keys("ASIAEXAMPLE", "secret", Some("the-session-token".into()));
/// let params = SigningParams { credentials: &credentials, region: "eu-west-1", service: "s3", time: SystemTime::now() };
///
/// // The signature in the headers (`Authorization`, `X-Amz-Date`, `X-Amz-Security-Token`).
/// let mut put = http::Request::put("https://bucket.s3.eu-west-1.amazonaws.com/photos/cat.jpg")
///     .body(b"meow".to_vec())
///     .expect("a valid request");
/// sign_http(&mut put, &params, &SigningSettings::s3())?;
/// assert!(put.headers().contains_key("authorization"));
///
/// // A URL whoever holds it can GET for 15 minutes (at most 7 days).
/// let mut get = http::Request::get("https://bucket.s3.eu-west-1.amazonaws.com/photos/cat.jpg")
///     .body(Vec::new())
///     .expect("a valid request");
/// sign_http(&mut get, &params, &SigningSettings::s3().presigned(Duration::from_secs(15 * 60)))?;
/// let url = get.uri().to_string();
/// assert!(url.contains("X-Amz-Expires=900") && url.contains("X-Amz-Signature="));
/// # Ok(())
/// # }
/// ```
pub fn sign_http<B: AsRef<[u8]>>(
    request: &mut http::Request<B>,
    params: &SigningParams<'_>,
    settings: &SigningSettings,
) -> Result<String, Error> {
    // One look over the names: removing by name would hash each of them on every call.
    let stale_headers = request
        .headers()
        .keys()
        .any(|name| SIGNATURE_HEADERS.contains(&name.as_str()));
    if stale_headers {
        for name in SIGNATURE_HEADERS {
            request.headers_mut().remove(name);
        }
    }
    // `Uri` knows where its query starts: most requests are done with here.
    let stale_query = match request.uri().query() {
        Some(query) if query.split('&').any(is_presign_piece) => request
            .uri()
            .path_and_query()
            .and_then(|pq| match without_presign_params(pq.as_str()) {
                Cow::Owned(kept) => Some(kept),
                Cow::Borrowed(_) => None,
            }),
        _ => None,
    };
    if let Some(kept) = stale_query {
        set_path_and_query(request.uri_mut(), &kept)?;
    }
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(request.headers().len() + 1);
    let mut has_host = false;
    for (name, value) in request.headers() {
        let value = value.to_str().map_err(|_| Error::InvalidSigningInput {
            reason: format!("header {name} is not text"),
        })?;
        has_host |= name == http::header::HOST;
        headers.push((name.as_str(), value));
    }
    let authority;
    if !has_host {
        let uri = request.uri();
        authority = match uri.authority() {
            // Without user information, which no client sends in `Host` (hyper-util sends
            // the host and port, botocore signs them alone).
            Some(a) => {
                let host_and_port = a.as_str().rsplit_once('@').map_or(a.as_str(), |(_, h)| h);
                host_for_authority(uri.scheme_str(), host_and_port).to_owned()
            }
            None => {
                return Err(Error::InvalidSigningInput {
                    reason: "the request has no Host header and no authority".into(),
                })
            }
        };
        headers.push(("host", authority.as_str()));
    }
    let (instructions, signature) = sign_to_instructions(
        request.method().as_str(),
        request.uri().path(),
        request.uri().query(),
        &headers,
        request.body().as_ref(),
        params,
        settings,
    )?;
    let (new_headers, new_query) = instructions.into_parts();
    for header in &new_headers {
        let name = added_header_name(header.name())?;
        let mut value =
            http::HeaderValue::try_from(header.value()).map_err(|e| Error::Signing {
                reason: e.to_string(),
            })?;
        if name == "x-amz-security-token" || name == http::header::AUTHORIZATION {
            value.set_sensitive(true);
        }
        request.headers_mut().insert(name, value);
    }
    if !new_query.is_empty() {
        let mut target = request
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
        append_query(&mut target, &new_query);
        set_path_and_query(request.uri_mut(), &target)?;
    }
    Ok(signature)
}

/// The `Host` for a target's `authority` (`sign_raw`'s absolute form, `sign_http`'s URI):
/// the authority without its `scheme`'s default port (`:443` for https, `:80` for http), as
/// aws-sigv4 and botocore sign it. The port is compared as written, as aws-sigv4 compares
/// it, so that `:0443` stays, as the verifier's default-port fold leaves it.
fn host_for_authority<'a>(scheme: Option<&str>, authority: &'a str) -> &'a str {
    let scheme = scheme.unwrap_or("");
    let default_port = if scheme.eq_ignore_ascii_case("https") {
        ":443"
    } else if scheme.eq_ignore_ascii_case("http") {
        ":80"
    } else {
        return authority;
    };
    authority
        .strip_suffix(default_port)
        .filter(|host| !host.is_empty())
        .unwrap_or(authority)
}

/// Replaces the path and query of `uri`.
fn set_path_and_query(uri: &mut http::Uri, path_and_query: &str) -> Result<(), Error> {
    let mut parts = uri.clone().into_parts();
    parts.path_and_query =
        Some(
            path_and_query
                .parse()
                .map_err(|e: http::uri::InvalidUri| Error::Signing {
                    reason: e.to_string(),
                })?,
        );
    *uri = http::Uri::from_parts(parts).map_err(|e| Error::Signing {
        reason: e.to_string(),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;
    use std::time::UNIX_EPOCH;

    use futures_util::FutureExt;

    use super::*;
    use crate::{
        FixedClock, Payload, RawRequestLimits, ResolvedCredential, StaticCredentials, Verifier,
        VerifierSettings,
    };

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn verifies(request: &RawRequest, token: Option<&str>) -> Result<(), Error> {
        let credential = match token {
            Some(token) => ResolvedCredential::temporary(
                "secret",
                "p",
                token,
                now() + Duration::from_secs(3600),
            ),
            None => ResolvedCredential::new("secret", "p"),
        };
        let lookup = StaticCredentials::new().with("AKID", credential);
        Verifier::new(lookup, VerifierSettings::default())
            .with_clock(Arc::new(FixedClock(now())))
            .verify(&request.view(), Payload::Bytes(&request.body))
            .now_or_never()
            .unwrap()
            .map(|_| ())
    }

    /// Signing parameters for `service` in us-east-1 at [`now`].
    fn params_for<'a>(credentials: &'a Credentials, service: &'a str) -> SigningParams<'a> {
        SigningParams {
            credentials,
            region: "us-east-1",
            service,
            time: now(),
        }
    }

    /// aws-sigv4's own parameters, the oracle's, for what `params_for(_, "service")` signs as.
    /// The oracle: raw aws-sigv4's header signature of a `GET` of `uri` with `headers` and
    /// `body`, in us-east-1 for `service` at `now()`, under `settings`.
    fn aws_sigv4_signature(
        credentials: &Credentials,
        settings: sigv4::SigningSettings,
        uri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> String {
        let identity = credentials.clone().into();
        let params: aws_sigv4::http_request::SigningParams<'_> =
            aws_sigv4::sign::v4::SigningParams::builder()
                .identity(&identity)
                .region("us-east-1")
                .name("service")
                .time(now())
                .settings(settings)
                .build()
                .unwrap()
                .into();
        let signable = SignableRequest::new(
            "GET",
            uri,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        sigv4::sign(signable, &params).unwrap().into_parts().1
    }

    fn sign_with(request: &mut RawRequest, token: Option<&str>, settings: &SigningSettings) {
        let credentials = Credentials::from_keys("AKID", "secret", token.map(str::to_owned));
        let params = params_for(&credentials, "service");
        sign_raw(request, &params, settings).unwrap();
    }

    /// Signing an already signed request (a retry, a switch between header and presigned
    /// form, other credentials) replaces the old signature: nothing of it stays behind.
    #[test]
    fn re_signing_leaves_no_stale_signature() {
        let header = SigningSettings::default();
        let query = SigningSettings::default().presigned(Duration::from_secs(60));
        let text = "GET /a?b=c HTTP/1.1\nHost:example.com\n\n";
        for (first, first_token) in [(&header, Some("t1")), (&query, Some("t1")), (&header, None)] {
            for (second, second_token) in [(&header, None), (&query, None), (&query, Some("t2"))] {
                let mut request =
                    RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
                sign_with(&mut request, first_token, first);
                sign_with(&mut request, second_token, second);
                let wire = String::from_utf8(request.to_bytes()).unwrap();
                verifies(&request, second_token).unwrap_or_else(|e| panic!("{e}:\n{wire}"));
                assert_eq!(wire.matches("Signature=").count(), 1, "{wire}");
                assert!(!wire.contains("t1"), "{wire}");
            }
        }
    }

    /// An S3 request signed in the header form carries `x-amz-content-sha256` with its body's
    /// hash; presigned again (under S3's rules, `UNSIGNED-PAYLOAD`), that header is still
    /// there, and a verifier (ours, botocore's canonical request, S3) takes its value as the
    /// payload hash: the signature must be made with it too, or nobody accepts the URL.
    #[test]
    fn re_signing_an_s3_request_as_presigned_verifies() {
        let text = "PUT /b/k HTTP/1.1\nHost:example.com\nContent-Length:3\n\nabc";
        let credentials = Credentials::from_keys("AKID", "secret", None);
        let params = params_for(&credentials, "s3");
        let mut request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
        sign_raw(&mut request, &params, &SigningSettings::s3()).unwrap();
        let presigned = SigningSettings::s3().presigned(Duration::from_secs(60));
        sign_raw(&mut request, &params, &presigned).unwrap();
        let wire = String::from_utf8(request.to_bytes()).unwrap();
        verifies(&request, None).unwrap_or_else(|e| panic!("{e}:\n{wire}"));
    }

    /// A previous signature in an `http::Request` goes too.
    #[test]
    fn re_signing_an_http_request_leaves_no_stale_signature() {
        let credentials = Credentials::from_keys("AKID", "secret", Some("t1".to_owned()));
        let mut params = SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service: "service",
            time: now(),
        };
        let mut request = http::Request::builder()
            .uri("https://example.com/a?b=c")
            .body(Vec::new())
            .unwrap();
        let query = SigningSettings::default().presigned(Duration::from_secs(60));
        sign_http(&mut request, &params, &query).unwrap();
        let plain = Credentials::from_keys("AKID", "secret", None);
        params.credentials = &plain;
        sign_http(&mut request, &params, &SigningSettings::default()).unwrap();
        assert_eq!(request.uri().query(), Some("b=c"));
        assert!(request.headers().get("x-amz-security-token").is_none());
    }

    fn try_sign(
        text: &str,
        params: &SigningParams<'_>,
        settings: &SigningSettings,
    ) -> Result<String, Error> {
        let mut request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
        sign_raw(&mut request, params, settings)
    }

    /// A header a verifier reads once (`Host`, `Date`, `x-amz-content-sha256`) that the
    /// request carries twice is refused: signed, the pair is joined into a value no server
    /// takes (RFC 9112 refuses two `Host`s, S3 an `x-amz-content-sha256` of two hashes).
    #[test]
    fn a_repeated_header_a_server_reads_once_is_refused() {
        let credentials = Credentials::from_keys("AKID", "secret", None);
        let params = params_for(&credentials, "service");
        for (headers, settings) in [
            (
                "Host:example.com\nhost:example.com\n",
                SigningSettings::default(),
            ),
            (
                "Host:example.com\nDate:Mon, 09 Sep 2011 23:36:00 GMT\nDate:x\n",
                SigningSettings::default(),
            ),
            (
                "Host:example.com\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n\
                 X-Amz-Content-Sha256:UNSIGNED-PAYLOAD\n",
                SigningSettings::default().presigned(Duration::from_secs(60)),
            ),
        ] {
            let text = format!("GET /a HTTP/1.1\n{headers}\n");
            let result = try_sign(&text, &params, &settings);
            assert!(
                matches!(&result, Err(Error::InvalidSigningInput { reason }) if reason.contains("more than one")),
                "{text}: {result:?}"
            );
        }
        // Under S3's rules the signer replaces the header: a repeated one is not sent.
        let text =
            "GET /a HTTP/1.1\nHost:example.com\nx-amz-content-sha256:a\nx-amz-content-sha256:b\n\n";
        let mut request = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
        sign_raw(&mut request, &params, &SigningSettings::s3()).unwrap();
        verifies(&request, None).unwrap();
    }

    /// Headers whose names are as long as `host` (`Date`, `From`) or `x-amz-content-sha256`
    /// (20 bytes) but are other headers are signed once each like any other, as raw
    /// aws-sigv4 signs them; without `Host`, a `Date` does not stand in for it. Mutant
    /// "replace && with || in read_once_index" (sign.rs:270:51) takes every 4-byte name for
    /// `host` and every 20-byte name for `x-amz-content-sha256`.
    #[test]
    fn headers_as_long_as_a_read_once_header_are_other_headers() {
        let credentials = Credentials::from_keys("AKID", "secret", None);
        let params = params_for(&credentials, "service");
        let headers = [
            ("Host", "example.com"),
            ("Date", "Mon, 09 Sep 2011 23:36:00 GMT"),
            ("From", "user@example.com"),
            ("x-amz-meta-colour-12", "blue"),
            ("x-amz-meta-shade-123", "dark"),
        ];
        let settings = SigningSettings::default();
        let signed = sign_parts("GET", "/a", None, &headers, b"", &params, &settings).unwrap();
        let expected = aws_sigv4_signature(
            &credentials,
            sigv4::SigningSettings::default(),
            "/a",
            &headers,
            b"",
        );
        assert_eq!(signed.signature, expected);

        let without_host = [("Date", "Mon, 09 Sep 2011 23:36:00 GMT")];
        let result = sign_parts("GET", "/a", None, &without_host, b"", &params, &settings);
        assert!(
            matches!(&result, Err(Error::InvalidSigningInput { reason }) if reason.contains("no Host")),
            "{result:?}"
        );
    }

    /// A header value with a tab inside is signed as SigV4's Trimall reads it, every run of
    /// blanks one space (botocore: `' '.join(value.split())`): aws-sigv4, which collapses
    /// spaces only, is the oracle given that value. Mutant "replace || with && in
    /// sign_to_instructions" (sign.rs:676:17) left a value whose only blank is an inner tab
    /// to aws-sigv4, which signed the tab.
    #[test]
    fn an_inner_tab_in_a_header_value_is_signed_as_one_space() {
        let credentials = Credentials::from_keys("AKID", "secret", None);
        let params = params_for(&credentials, "service");
        for (sent, trimmed) in [("a\tb", "a b"), ("a\t\tb c", "a b c"), ("a \tb", "a b")] {
            let headers = [("Host", "example.com"), ("x-custom", sent)];
            let signed = sign_parts(
                "GET",
                "/a",
                None,
                &headers,
                b"",
                &params,
                &SigningSettings::default(),
            )
            .unwrap();
            let expected = aws_sigv4_signature(
                &credentials,
                sigv4::SigningSettings::default(),
                "/a",
                &[("Host", "example.com"), ("x-custom", trimmed)],
                b"",
            );
            assert_eq!(signed.signature, expected, "{sent:?}");
        }
    }

    /// An `x-amz-content-sha256` that is neither a SHA-256 hex digest nor a payload keyword
    /// (the request's own header, or a precomputed payload hash) is refused: every verifier
    /// refuses the request (S3's `InvalidArgument`).
    #[test]
    fn a_malformed_payload_hash_is_refused() {
        let credentials = Credentials::from_keys("AKID", "secret", None);
        let params = params_for(&credentials, "service");
        let text = "GET /a HTTP/1.1\nHost:example.com\nx-amz-content-sha256:abc\n\n";
        for settings in [
            SigningSettings::default(),
            SigningSettings::default().presigned(Duration::from_secs(60)),
        ] {
            let result = try_sign(text, &params, &settings);
            assert!(
                matches!(&result, Err(Error::InvalidSigningInput { reason }) if reason.contains("abc")),
                "{result:?}"
            );
        }
        let mut precomputed = SigningSettings::s3();
        precomputed.payload = PayloadSigning::Precomputed("unsigned-payload".into());
        let result = try_sign(
            "GET /a HTTP/1.1\nHost:example.com\n\n",
            &params,
            &precomputed,
        );
        assert!(
            matches!(&result, Err(Error::InvalidSigningInput { .. })),
            "{result:?}"
        );
        precomputed.payload = PayloadSigning::Precomputed("UNSIGNED-PAYLOAD".into());
        try_sign(
            "GET /a HTTP/1.1\nHost:example.com\n\n",
            &params,
            &precomputed,
        )
        .unwrap();
    }

    /// Excluded headers are left out of the signature as aws-sigv4 leaves out those on its own
    /// list (a request's header in any case, matched lower-cased; a list entry that is not
    /// lower-case matches nothing), whether the signer leaves them out itself or, for a header
    /// aws-sigv4 adds (`x-amz-security-token`, `x-amz-content-sha256`), hands the list on.
    /// Raw aws-sigv4, given the same request and list, is the oracle.
    #[test]
    fn excluded_headers_are_signed_as_aws_sigv4_excludes_them() {
        let credentials = Credentials::from_keys("AKID", "secret", Some("token".to_owned()));
        let params = params_for(&credentials, "service");
        let headers = [
            ("Host", "example.com"),
            ("User-Agent", "curl/8.5.0 (x86_64)"),
            ("Range", "bytes=0-1"),
            ("X-Amzn-Trace-Id", "Root=1-5759e988"),
            ("x-custom", "v"),
        ];
        let defaults = SigningSettings::default().excluded_headers;
        let with = |extra: &[&'static str]| {
            let mut list = defaults.clone();
            list.extend(extra.iter().map(|name| Cow::Borrowed(*name)));
            list
        };
        let mut signatures = Vec::new();
        for excluded in [
            defaults.clone(),
            Vec::new(),
            with(&["range"]),
            with(&["Range", "x-custom"]),
            with(&["x-amz-security-token", "range"]),
            with(&["x-amz-content-sha256", "range", "x-custom"]),
        ] {
            let ours = SigningSettings {
                excluded_headers: excluded.clone(),
                ..SigningSettings::default()
            };
            let signed =
                sign_parts("GET", "/a", Some("b=c"), &headers, b"body", &params, &ours).unwrap();

            let mut settings = sigv4::SigningSettings::default();
            settings.excluded_headers = Some(excluded.clone());
            let expected = aws_sigv4_signature(&credentials, settings, "/a?b=c", &headers, b"body");
            assert_eq!(signed.signature, expected, "{excluded:?}");
            signatures.push(expected);
        }
        // Each list leaves out something the others sign (the empty one signs `user-agent`).
        let distinct: std::collections::BTreeSet<_> = signatures.iter().collect();
        assert_eq!(distinct.len(), signatures.len(), "{signatures:?}");
    }

    /// A region, service or access key ID that cannot stand in a credential scope (empty, or
    /// with `/`, `,`, a space or a byte that is not visible ASCII) is refused: signed, it
    /// makes a `Credential=` no verifier can read back.
    #[test]
    fn a_scope_part_a_verifier_cannot_read_is_refused() {
        let text = "GET /a HTTP/1.1\nHost:example.com\n\n";
        for (access_key, region, service, named) in [
            ("AKID", "", "service", "region"),
            ("AKID", "us-east-1", "", "service"),
            ("AKID", "us east-1", "service", "region"),
            ("AKID", "us-east-1", "s/3", "service"),
            ("AKID", "us-east-1", "s,3", "service"),
            ("AKID", "us-é", "service", "region"),
            ("AKID", "us-east-1", "s\x7f", "service"),
            ("", "us-east-1", "service", "access key ID"),
            ("AK ID", "us-east-1", "service", "access key ID"),
            ("AK,ID", "us-east-1", "service", "access key ID"),
            ("AK,ID", "us/east", "s/3", "access key ID"),
            ("AKID", "us/east", "s/3", "region"),
        ] {
            let credentials = Credentials::from_keys(access_key, "secret", None);
            let params = SigningParams {
                credentials: &credentials,
                region,
                service,
                time: now(),
            };
            for settings in [
                SigningSettings::default(),
                SigningSettings::default().presigned(Duration::from_secs(60)),
            ] {
                let result = try_sign(text, &params, &settings);
                assert!(
                    matches!(&result, Err(Error::InvalidSigningInput { reason })
                        if reason.starts_with(&format!("the {named} "))),
                    "{access_key:?} {region:?} {service:?}: {result:?}"
                );
            }
        }
        // Every other visible ASCII byte stands, and `/` in the access key ID (the verifier
        // splits the credential from its end).
        let visible: String = (b'!'..=b'~')
            .filter(|b| *b != b',' && *b != b'/')
            .map(char::from)
            .collect();
        let credentials = Credentials::from_keys(format!("AK/{visible}"), "secret", None);
        let params = SigningParams {
            credentials: &credentials,
            region: &visible,
            service: &visible,
            time: now(),
        };
        try_sign(text, &params, &SigningSettings::default()).unwrap();
    }

    /// An absolute-form target (as sent to a proxy) names the host the request goes to: without
    /// a `Host` header the signer adds one with that authority (and signs it), and one that
    /// names another host is refused, as a server routes by the target and a verifier refuses
    /// the pair (`HostMismatch`). A scheme's default port, written on one side only, is the
    /// same host (RFC 9110, 4.2.3).
    #[test]
    fn an_absolute_form_target_names_the_host() {
        let credentials = Credentials::from_keys("AKID", "secret", None);
        let params = params_for(&credentials, "service");
        for settings in [
            SigningSettings::default(),
            SigningSettings::default().presigned(Duration::from_secs(60)),
        ] {
            let text = "GET http://example.com:8080/a?b=c HTTP/1.1\n\n";
            let mut request =
                RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
            sign_raw(&mut request, &params, &settings).unwrap();
            assert_eq!(request.header("host"), Some("example.com:8080"));
            verifies(&request, None).unwrap();

            // The scheme's default port is left out of the `Host` added, as aws-sigv4 and
            // botocore sign it; another scheme's default port is not a default.
            for (target, host) in [
                ("https://example.com:443/a", "example.com"),
                ("http://example.com:80/a", "example.com"),
                ("HTTPS://example.com:443/a", "example.com"),
                ("https://[::1]:443/a", "[::1]"),
                ("http://example.com:443/a", "example.com:443"),
                ("https://example.com:80/a", "example.com:80"),
                ("https://example.com:4430/a", "example.com:4430"),
            ] {
                let text = format!("GET {target} HTTP/1.1\n\n");
                let mut request =
                    RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
                sign_raw(&mut request, &params, &settings).unwrap();
                assert_eq!(request.header("host"), Some(host), "{target}");
                verifies(&request, None).unwrap_or_else(|e| panic!("{target}: {e}"));
            }

            for text in [
                "GET http://example.com/a HTTP/1.1\nHost:EXAMPLE.com\n\n",
                "GET https://example.com:443/a HTTP/1.1\nHost:example.com\n\n",
                "GET https://example.com/a HTTP/1.1\nHost:example.com:443\n\n",
            ] {
                let mut request =
                    RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
                sign_raw(&mut request, &params, &settings).unwrap();
                verifies(&request, None).unwrap_or_else(|e| panic!("{text}: {e}"));
            }
            for (text, named) in [
                (
                    "GET http://example.com/a HTTP/1.1\nHost:other.example\n\n",
                    "other.example",
                ),
                (
                    "GET https://example.com/a HTTP/1.1\nHost:example.com:8443\n\n",
                    "example.com:8443",
                ),
                (
                    "GET https://example.com:8443/a HTTP/1.1\nHost:example.com\n\n",
                    "example.com:8443",
                ),
            ] {
                let result = try_sign(text, &params, &settings);
                assert!(
                    matches!(&result, Err(Error::InvalidSigningInput { reason }) if reason.contains(named)),
                    "{text}: {result:?}"
                );
            }
        }
    }

    /// `sign_http` signs a target's authority without its scheme's default port when there is
    /// no `Host` header (as aws-sigv4 does); the verifier, seeing that authority as an HTTP/2
    /// server sees `:authority`, accepts it. A non-default port stays in both, and so does a
    /// default port not written as one (`:0443`, which aws-sigv4 keeps too).
    #[test]
    fn sign_http_without_a_host_header_verifies_from_its_own_view() {
        let credentials = Credentials::from_keys("AKID", "secret", None);
        let params = params_for(&credentials, "service");
        for uri in [
            "https://example.com:443/a",
            "http://example.com:80/a",
            "https://example.com/a",
            "https://example.com:8443/a",
            "https://example.com:0443/a",
        ] {
            let mut request = http::Request::builder().uri(uri).body(Vec::new()).unwrap();
            sign_http(&mut request, &params, &SigningSettings::default()).unwrap();
            assert!(request.headers().get("host").is_none());
            let lookup =
                StaticCredentials::new().with("AKID", ResolvedCredential::new("secret", "p"));
            Verifier::new(lookup, VerifierSettings::default())
                .with_clock(Arc::new(FixedClock(now())))
                .verify(
                    &crate::RequestView::from_http(&request),
                    Payload::Bytes(&[]),
                )
                .now_or_never()
                .unwrap()
                .unwrap_or_else(|e| panic!("{uri}: {e}"));
        }
    }

    /// `X-Amz-Expires` is whole seconds: an expiry under one second would be sent as 0,
    /// which no verifier accepts, so it is refused like a zero one.
    #[test]
    fn a_sub_second_expiry_is_refused() {
        let text = "GET /a HTTP/1.1\nHost:example.com\n\n";
        let credentials = Credentials::from_keys("AKID", "secret", None);
        let params = params_for(&credentials, "service");
        // The message counts seconds as X-Amz-Expires does; whole ones as an integer, also
        // past f64's exact range.
        for (expires, said) in [
            (Duration::ZERO, "expiry of 0 s "),
            (Duration::from_millis(500), "expiry of 0.5 s "),
            (
                MAX_PRESIGN_EXPIRES + Duration::from_secs(1),
                "expiry of 604801 s ",
            ),
            (
                Duration::from_secs(u64::MAX),
                "expiry of 18446744073709551615 s ",
            ),
        ] {
            let mut request =
                RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
            let settings = SigningSettings::default().presigned(expires);
            let result = sign_raw(&mut request, &params, &settings);
            match result {
                Err(Error::InvalidSigningInput { reason }) => {
                    assert!(reason.starts_with(said), "{expires:?}: {reason}");
                }
                other => panic!("{expires:?}: {other:?} {}", request.target),
            }
        }
    }

    /// Counts the events it is given (a thread's default subscriber, in these tests).
    #[derive(Clone, Default)]
    struct EventCount(Arc<std::sync::atomic::AtomicUsize>);

    impl tracing::Subscriber for EventCount {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, _: &tracing::Event<'_>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    /// A silent signing that fails may have met only some of aws-sigv4's callsites, so it
    /// does not end the first signings' turns: only one that succeeds recomputes the
    /// interest (`tests/trace_interest.rs` shows what that recomputing is for; no input makes
    /// aws-sigv4 itself fail, so the failure here is the closure's). Every signing is silent,
    /// before and after, and its result is handed back as it came.
    #[test]
    fn only_a_silent_signing_that_succeeds_ends_the_first_turns() {
        let events = EventCount::default();
        let heard = || events.0.load(Ordering::Relaxed);
        let signings = SilentSignings::new();
        tracing::subscriber::with_default(events.clone(), || {
            let failing = || {
                tracing::info!("in silence");
                Err::<(), _>("aws-sigv4 failed")
            };
            let succeeding = || {
                tracing::info!("in silence");
                Ok::<_, &str>("signed")
            };
            assert_eq!(signings.run(failing), Err("aws-sigv4 failed"));
            assert!(!signings.heard_again.load(Ordering::Acquire));
            assert_eq!(signings.run(failing), Err("aws-sigv4 failed"));
            assert!(!signings.heard_again.load(Ordering::Acquire));
            assert_eq!(signings.run(succeeding), Ok("signed"));
            assert!(signings.heard_again.load(Ordering::Acquire));
            assert_eq!(signings.run(failing), Err("aws-sigv4 failed"));
            assert!(signings.heard_again.load(Ordering::Acquire));
            assert_eq!(signings.run(succeeding), Ok("signed"));
            assert_eq!(heard(), 0, "a silent signing was heard");
            tracing::info!("heard");
            assert_eq!(heard(), 1, "the thread's subscriber hears nothing at all");
        });
    }
}
