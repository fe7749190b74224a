//! Server-side SigV4 verification: from the request as received to a verified identity.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use zeroize::Zeroizing;

use crate::auth::{
    claimed_service, format_amz_date, has_presigned_query, has_sigv2_query, parse_amz_date,
    parse_authorization_header, parse_http_date, parse_presigned_query, signed_header_names,
    Credential, ParsedAuthorization, ALGORITHM, AMZ_HEADER_PREFIX,
};
use crate::canonical::{
    canonical_query_into, canonical_uri_has_escaped_percent, canonical_uri_into,
    decode_query_component, push_header_value, s3_key_uri, split_query, PathMode,
};
use crate::checksum::check_buffered_checksums;
use crate::chunked::{ChunkChainVerifier, ChunkContext};
use crate::crypto::{constant_time_eq, hex64, sha256_hex, KeyCache, SecretAccessKey, SigningKey};
use crate::error::{
    clip, clip_to, Error, MismatchDetails, SignatureLocation, MAX_UNSIGNED_NAMES_LEN,
};
use crate::sign::SessionTokenPlacement;

/// The request headers, borrowed from an `http::HeaderMap` or a list of raw lines. `Debug`
/// prints a session token's length, not the token.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum Headers<'a> {
    /// An `http` header map.
    Map(&'a http::HeaderMap),
    /// `(name, value)` pairs in order, names in any case (e.g. [`crate::RawRequest`]).
    ///
    /// The verifier takes them as given: names and values must already be what HTTP allows
    /// (no CR, LF or NUL; obs-fold unfolded), as [`crate::RawRequest`] and `http` ensure. A
    /// line break in a value would add a line to the canonical headers.
    List(&'a [(String, String)]),
}

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        match self {
            Self::Map(map) => {
                for (name, value) in map.iter() {
                    list.entry(&crate::redact::header(name.as_str(), value.as_bytes()));
                }
            }
            Self::List(lines) => {
                for (name, value) in lines.iter() {
                    list.entry(&crate::redact::header(name, value.as_bytes()));
                }
            }
        }
        list.finish()
    }
}

impl fmt::Debug for RequestView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestView")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query.map(crate::redact::query_text))
            .field("headers", &self.headers)
            .field("authority", &self.authority)
            .finish()
    }
}

impl<'a> Headers<'a> {
    /// Calls `f` with each value of the header `name` (lower-case), in order; returns how many.
    pub fn for_each(&self, name: &str, mut f: impl FnMut(&'a [u8])) -> usize {
        let mut count = 0;
        for value in self.values(name) {
            f(value);
            count += 1;
        }
        count
    }

    /// Each value of the header `name` (lower-case), in order.
    fn values<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        let (map, list) = match *self {
            Self::Map(map) => (Some(map.get_all(name).iter()), None),
            Self::List(list) => (None, Some(list.iter())),
        };
        let from_map = map.into_iter().flatten().map(|v| v.as_bytes());
        let from_list = list
            .into_iter()
            .flatten()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_bytes());
        from_map.chain(from_list)
    }

    /// Every value of the list header `name` (lower-case) as one, joined with commas, as HTTP
    /// combines a repeated list header and the canonical headers sign it.
    pub(crate) fn joined_bytes(&self, name: &str) -> Option<Vec<u8>> {
        let mut values = self.values(name);
        let mut joined = values.next()?.to_vec();
        for value in values {
            joined.push(b',');
            joined.extend_from_slice(value);
        }
        Some(joined)
    }

    /// Every `(name, value)`, in order (a map's names are lower-case, a list's as sent).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        let (map, list) = match *self {
            Self::Map(map) => (Some(map.iter()), None),
            Self::List(list) => (None, Some(list.iter())),
        };
        let map = map
            .into_iter()
            .flatten()
            .map(|(n, v)| (n.as_str(), v.as_bytes()));
        let list = list
            .into_iter()
            .flatten()
            .map(|(n, v)| (n.as_str(), v.as_bytes()));
        map.chain(list)
    }

    /// The first value of the header `name` (lower-case), if it is text.
    pub fn first(&self, name: &str) -> Option<&'a str> {
        match self {
            Self::Map(map) => map.get(name).and_then(|v| v.to_str().ok()),
            Self::List(list) => list
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str()),
        }
    }
}

/// Whether a header `name` (in any case) starts with `lower_case_prefix`.
pub(crate) fn has_name_prefix(name: &str, lower_case_prefix: &str) -> bool {
    name.as_bytes()
        .get(..lower_case_prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(lower_case_prefix.as_bytes()))
}

/// Refuses a `Host` header that names another host than the request target's authority
/// (absolute form, or HTTP/2's `:authority`): the signature covers the header, and a server
/// that follows RFC 9112 routes by the authority. Host names compare without regard to case,
/// and a default port written on one side only is the same host ([`same_host`]). An
/// authority with user information is refused whatever the header says (RFC 9110, 4.2.4).
fn check_host_is_the_authority(host: Option<&[u8]>, authority: Option<&str>) -> Result<(), Error> {
    // No host name holds an `@` (RFC 3986, 3.2.2), so one ends user information.
    if authority.is_some_and(|authority| memchr::memchr(b'@', authority.as_bytes()).is_some()) {
        return Err(Error::UserinfoInAuthority);
    }
    match (host, authority) {
        (Some(host), Some(authority)) if !same_host(host, authority.as_bytes()) => {
            Err(Error::HostMismatch {
                host: clip(&String::from_utf8_lossy(host)),
                authority: clip(authority),
            })
        }
        _ => Ok(()),
    }
}

/// Whether `host` and `authority` name the same host: equal without regard to case, or once
/// a default port (`:443`, `:80`) written on one side only is taken off it. RFC 9110 (4.2.3)
/// makes a scheme's default port, written or not, the same origin, and clients differ in
/// which they send. Without the scheme, `:80` on an https authority also folds: SigV4 does
/// not cover the scheme, so that widens nothing a signature could be replayed to. Two
/// written ports are two ports: `h:443` is not `h:80`, whatever the scheme.
pub(crate) fn same_host(host: &[u8], authority: &[u8]) -> bool {
    // Byte-equal first: that is what clients send, and it is one memcmp.
    let equal = |a: &[u8], b: &[u8]| a == b || a.eq_ignore_ascii_case(b);
    equal(host, authority)
        || without_default_port(host).is_some_and(|host| equal(host, authority))
        || without_default_port(authority).is_some_and(|authority| equal(host, authority))
}

/// `authority` without a trailing default port (`:443` or `:80`), or `None` when it has
/// none: the host that botocore, aws-sigv4 and the Go SDK sign for it.
pub(crate) fn without_default_port(authority: &[u8]) -> Option<&[u8]> {
    // What is left must be a host alone: `h:443:443` is not `h:443` without its port.
    let has_port = |host: &[u8]| {
        let after_literal = match host.iter().rposition(|&b| b == b']') {
            Some(end) => host.get(end + 1..).unwrap_or_default(),
            None => host,
        };
        after_literal.contains(&b':')
    };
    authority
        .strip_suffix(b":443")
        .or_else(|| authority.strip_suffix(b":80"))
        .filter(|host| !host.is_empty() && !has_port(host))
}

/// Most headers of an `http::HeaderMap` that [`KnownHeaders::find`] records for the canonical
/// headers; a map with more is searched once per signed name instead.
const MAX_RECORDED_HEADERS: usize = 16;

/// Where [`KnownHeaders::find`] records a small map's `(name, value)`s. The caller owns it, so
/// that `find` returns only a few words: returning the record inside [`KnownHeaders`] copied
/// it out whole on every request. An empty slot is one store to set up, where a pair is four.
type HeaderRecord<'a> = [Option<RecordedHeader<'a>>; MAX_RECORDED_HEADERS];

/// A recorded `(name, value)`.
type RecordedHeader<'a> = (&'a str, &'a [u8]);

/// The headers the verifier reads by name, found in one pass over the headers (where a
/// lookup per name would hash each name: this runs on every request). Each is its first
/// value; `Some(None)` is a value that is not text. The same pass records a small map's
/// headers, so that the canonical headers are built without walking the map again.
struct KnownHeaders<'a, 'r> {
    authorization: Option<Option<&'a str>>,
    x_amz_date: Option<Option<&'a str>>,
    date: Option<Option<&'a str>>,
    x_amz_security_token: Option<Option<&'a str>>,
    x_amz_content_sha256: Option<Option<&'a str>>,
    /// A map's `(name, value)`s in map order (a name's values in the order received), when
    /// it has at most [`MAX_RECORDED_HEADERS`]; `None` otherwise.
    recorded: Option<&'r [Option<RecordedHeader<'a>>]>,
    /// The first of the headers read by name that came more than once (each is a singleton:
    /// the signature covers all its values joined, while the verifier reads the first).
    repeated: Option<&'static str>,
    /// How many `Host` headers came, and the first one's value.
    hosts: usize,
    host: Option<&'a [u8]>,
    /// How many distinct `x-amz-*` names the request has, or more when a name's values are
    /// not adjacent (never fewer: an over-count only sends S3 requests to the exact check).
    amz_names: usize,
    /// Whether a `Content-MD5` came (S3 checks a body against it).
    content_md5: bool,
}

impl<'a, 'r> KnownHeaders<'a, 'r> {
    fn find(headers: &Headers<'a>, record: &'r mut HeaderRecord<'a>) -> Self {
        let mut known = Self {
            authorization: None,
            x_amz_date: None,
            date: None,
            x_amz_security_token: None,
            x_amz_content_sha256: None,
            recorded: None,
            repeated: None,
            hosts: 0,
            host: None,
            amz_names: 0,
            content_md5: false,
        };
        let mut amz_names = 0;
        let mut previous = "";
        match headers {
            Headers::Map(map) => {
                let mut count = 0;
                for (name, value) in map.iter() {
                    let name = name.as_str();
                    known.note(name, value.as_bytes(), || value.to_str().ok());
                    if name.starts_with(AMZ_HEADER_PREFIX) && name != previous {
                        amz_names += 1;
                        previous = name;
                    }
                    if let Some(entry) = record.get_mut(count) {
                        *entry = Some((name, value.as_bytes()));
                    }
                    count += 1;
                }
                known.recorded = record.get(..count);
            }
            Headers::List(list) => {
                for (name, value) in list.iter() {
                    if has_name_prefix(name, AMZ_HEADER_PREFIX)
                        && !name.eq_ignore_ascii_case(previous)
                    {
                        amz_names += 1;
                        previous = name;
                    }
                    // Names in a list may be in any case.
                    let known_name = Self::NAMES
                        .into_iter()
                        .find(|known| known.eq_ignore_ascii_case(name));
                    if let Some(known_name) = known_name {
                        known.note(known_name, value.as_bytes(), || Some(value.as_str()));
                    }
                }
            }
        }
        known.amz_names = amz_names;
        known
    }

    /// Takes note of a header if it is `host` or one of the names read by name
    /// (`lower_case_name`; `text` is its value as text, `None` when it is not).
    ///
    /// One match on the name (its length first) for all of them: a comparison with each in
    /// turn cost a call per header, and this runs on every header of every request.
    #[inline(always)]
    fn note(
        &mut self,
        lower_case_name: &str,
        value: &'a [u8],
        text: impl FnOnce() -> Option<&'a str>,
    ) {
        let (known_name, slot) = match lower_case_name {
            "host" => {
                self.hosts += 1;
                _ = self.host.get_or_insert(value);
                return;
            }
            "content-md5" => {
                self.content_md5 = true;
                return;
            }
            "authorization" => ("authorization", &mut self.authorization),
            "date" => ("date", &mut self.date),
            "x-amz-date" => ("x-amz-date", &mut self.x_amz_date),
            "x-amz-security-token" => ("x-amz-security-token", &mut self.x_amz_security_token),
            "x-amz-content-sha256" => ("x-amz-content-sha256", &mut self.x_amz_content_sha256),
            _ => return,
        };
        match slot {
            Some(_) => _ = self.repeated.get_or_insert(known_name),
            None => *slot = Some(text()),
        }
    }

    /// The values of the header `name` (lower-case) among the recorded headers, when the map
    /// was small enough to record whole.
    fn recorded_values<'n>(&self, name: &'n str) -> Option<impl Iterator<Item = &'a [u8]> + 'n>
    where
        'r: 'n,
    {
        let recorded = self.recorded?;
        Some(
            recorded
                .iter()
                .flatten()
                // The length first: most names differ in it, and comparing it is no call.
                .filter(move |(n, _)| n.len() == name.len() && *n == name)
                .map(|&(_, value)| value),
        )
    }

    /// The names [`Self::note`] takes note of.
    const NAMES: [&'static str; 7] = [
        "host",
        "content-md5",
        "authorization",
        "x-amz-date",
        "date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ];
}

/// The parts of a received request that SigV4 covers, borrowed, exactly as on the wire.
/// `Debug` prints a session token's length, not the token (header or presigned parameter).
#[derive(Clone, Copy)]
pub struct RequestView<'a> {
    /// The method.
    pub method: &'a str,
    /// The raw path (before `?`).
    pub path: &'a str,
    /// The raw query (after `?`), if any.
    pub query: Option<&'a str>,
    /// The headers.
    pub headers: Headers<'a>,
    /// The URI authority (an absolute-form target's, or HTTP/2's `:authority`), as received.
    /// With no `Host` header it stands in for one: a signature over it with or without a
    /// default port (`:443`, `:80`) verifies, as clients differ in which they sign. Beside a
    /// `Host` header it must name the same host (a default port on either side folds). A
    /// signed `:authority` (the AWS SDK for JavaScript signs it in place of `host` over
    /// HTTP/2) is this value, and counts as the signed host.
    pub authority: Option<&'a str>,
}

impl<'a> RequestView<'a> {
    /// A view of an `http::Request`'s head.
    ///
    /// Over HTTP/2 and HTTP/3 a client may split its one signed `Cookie` into several fields
    /// (RFC 9113 8.2.3), which a receiver joins with `"; "` before reading them; neither hyper
    /// nor this view does. A signer given the values apart joined them with `,`: to accept
    /// both, verify with the crumbs joined and, on `SignatureDoesNotMatch`, as received
    /// ([`crate::SigV4Layer`] does).
    pub fn from_http<B>(request: &'a http::Request<B>) -> Self {
        Self {
            method: request.method().as_str(),
            path: request.uri().path(),
            query: request.uri().query(),
            headers: Headers::Map(request.headers()),
            authority: request.uri().authority().map(|a| a.as_str()),
        }
    }

    /// A view of `http::request::Parts`.
    pub fn from_parts(parts: &'a http::request::Parts) -> Self {
        Self {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: Headers::Map(&parts.headers),
            authority: parts.uri.authority().map(|a| a.as_str()),
        }
    }

    /// The service the request's credential scope names, read without checking anything else:
    /// for answering a refused request in its service's terms ([`Error::s3_error_code`] for
    /// `s3`). `None` when there is no scope that names a service.
    pub fn claimed_service(&self) -> Option<String> {
        claimed_service(self.headers.first("authorization"), self.query)
    }
}

/// What the verifier knows about the body.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Payload<'a> {
    /// The whole body, as received. [`Verifier::verify`] then makes every check the body
    /// needs: its SHA-256, a flexible-checksum header (`x-amz-checksum-*`: `BadDigest`;
    /// `InvalidRequest` for a value that cannot be the checksum), under
    /// S3's rules `Content-MD5` (`BadDigest`, `InvalidDigest`), and for a streamed payload
    /// (`STREAMING-…`) the whole `aws-chunked` chain, decoded and
    /// discarded (to keep the decoded data, pass [`Payload::Unavailable`] and feed the body
    /// to [`VerifiedRequest::streamed_body_verifier`]).
    Bytes(&'a [u8]),
    /// The SHA-256 digest of the body as received, for a caller that hashed the body as it
    /// streamed by (where no `x-amz-content-sha256` names it, as SDKs sign every service but
    /// S3): it stands in for the body's hash, and one that differs from a claimed
    /// `x-amz-content-sha256` is [`Error::PayloadHashMismatch`]. Checks that need the bytes
    /// (a flexible checksum, `Content-MD5`, an `aws-chunked` chain) are the caller's:
    /// [`VerifiedRequest::check_buffered_body`], [`VerifiedRequest::streamed_body_verifier`].
    Sha256(&'a [u8; 32]),
    /// Not buffered (streaming). Verification then relies on `x-amz-content-sha256` and
    /// reports [`PayloadKind::Sha256`] with `body_checked: false`; the body's checks are the
    /// caller's, as for [`Payload::Sha256`].
    Unavailable,
}

/// The injected clock.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock stopped at one instant (tests, the CLI's `--now`).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// A session token (bearer material): redacted in `Debug`, zeroized on drop, compared in
/// time that depends only on the lengths (`==` on it is safe against a peer's token).
#[derive(Clone)]
pub struct SessionToken(Zeroizing<String>);

impl PartialEq for SessionToken {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for SessionToken {}

impl SessionToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(Zeroizing::new(token.into()))
    }

    /// The token itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SessionToken")
            .field(&crate::redact::token(self.0.len()))
            .finish()
    }
}

/// Temporary credentials: the token that must accompany the key, and when it expires.
#[derive(Debug, Clone)]
pub struct TemporarySession {
    /// The session token.
    pub token: SessionToken,
    /// Expiry.
    pub expires_at: SystemTime,
}

/// What a [`CredentialLookup`] resolves an access key ID to.
#[derive(Debug, Clone)]
pub struct ResolvedCredential {
    /// The secret access key.
    pub secret: SecretAccessKey,
    /// Who the key belongs to (an ARN, a user name: the lookup decides).
    pub principal: String,
    /// Set for temporary credentials.
    pub session: Option<TemporarySession>,
}

impl ResolvedCredential {
    /// Long-term credentials.
    pub fn new(secret: impl Into<String>, principal: impl Into<String>) -> Self {
        Self {
            secret: SecretAccessKey::new(secret),
            principal: principal.into(),
            session: None,
        }
    }

    /// Temporary credentials with their token and expiry.
    pub fn temporary(
        secret: impl Into<String>,
        principal: impl Into<String>,
        token: impl Into<String>,
        expires_at: SystemTime,
    ) -> Self {
        Self {
            secret: SecretAccessKey::new(secret),
            principal: principal.into(),
            session: Some(TemporarySession {
                token: SessionToken::new(token),
                expires_at,
            }),
        }
    }
}

/// The lookup backend failed (not "unknown key": that is `Ok(None)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LookupFailure(pub String);

/// Resolves an access key ID (and the session token the request carried, so stateless
/// sealed tokens can be opened) to its secret and principal: the one part of verification
/// that is the service's own (a table, a database, a key store, a sealed token).
///
/// [`Verifier::verify`] calls it once per request, after the signature's form, date, scope
/// and time were checked and before any signature is computed. So:
/// - **Its inputs are not authenticated.** The key ID and the token are what the client
///   wrote, bounded only by the size of the request's head. Query with them, never log the
///   token.
/// - **An unknown key is `Ok(None)`** (`InvalidClientTokenId`, 403). `Err` is for a backend
///   that failed (`InternalFailure`, S3's `InternalError`: 500, which SDKs retry), never for a
///   key it does not know.
/// - **Temporary credentials** are [`ResolvedCredential::temporary`]: the verifier compares
///   the request's token with it in constant time and refuses it from its expiry on
///   (`ExpiredToken`), so the lookup need not. A lookup that opens sealed tokens returns the
///   token it opened, with the expiry sealed in it: opening it is what authenticates it.
/// - **Keep the [`ResolvedCredential`]s** (they are `Arc`s): building one hashes its secret
///   for the derived-key cache. A rotated secret hashes differently, so rotation needs no
///   cache flush.
/// - **No time limit here.** [`crate::SigV4Layer`] bounds each call with
///   [`crate::LayerSettings::lookup_timeout`]; a caller of [`Verifier::verify`] bounds it
///   itself.
///
/// A key store the operator changes while the service runs:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{Arc, RwLock};
/// use std::time::{Duration, UNIX_EPOCH};
/// use edgeward_signing::{
///     sign_http, CredentialLookup, Error, FixedClock, LookupFailure, Payload, RequestView,
///     ResolvedCredential, SigningParams, SigningSettings, Verifier, VerifierSettings,
/// };
/// use futures_util::FutureExt as _;
///
/// #[derive(Default)]
/// struct KeyStore {
///     keys: RwLock<HashMap<String, Arc<ResolvedCredential>>>,
/// }
///
/// impl CredentialLookup for KeyStore {
///     async fn lookup(
///         &self,
///         access_key_id: &str,
///         _session_token: Option<&str>,
///     ) -> Result<Option<Arc<ResolvedCredential>>, LookupFailure> {
///         let keys = self.keys.read().map_err(|_| LookupFailure("key store poisoned".into()))?;
///         Ok(keys.get(access_key_id).cloned())
///     }
/// }
///
/// # fn main() -> Result<(), Error> {
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let store = Arc::new(KeyStore::default());
/// store.keys.write().expect("not poisoned").insert(
///     "ASIAEXAMPLE".into(),
///     Arc::new(ResolvedCredential::temporary(
///         "secret",
///         "arn:aws:sts::123456789012:assumed-role/device/thing-7",
///         "the-session-token",
///         now + Duration::from_secs(3600),
///     )),
/// );
/// let verifier = Verifier::new(store.clone(), VerifierSettings::default())
///     .with_clock(Arc::new(FixedClock(now)));
///
/// // A device signs with the temporary credentials.
/// let credentials = aws_credential_types::Credentials::from_keys(
///     "ASIAEXAMPLE",
///     "secret",
///     Some("the-session-token".into()),
/// );
/// let params = SigningParams { credentials: &credentials, region: "eu-west-1", service: "execute-api", time: now };
/// let mut request = http::Request::get("https://api.example.com/things/thing-7")
///     .body(Vec::new())
///     .expect("a valid request");
/// sign_http(&mut request, &params, &SigningSettings::default())?;
///
/// let verify = |request: &http::Request<Vec<u8>>| {
///     verifier
///         .verify(&RequestView::from_http(request), Payload::Bytes(request.body()))
///         .now_or_never()
///         .expect("this lookup never waits")
/// };
/// assert_eq!(
///     verify(&request)?.principal(),
///     "arn:aws:sts::123456789012:assumed-role/device/thing-7"
/// );
///
/// // Revoked: the same signed request is refused from now on.
/// store.keys.write().expect("not poisoned").remove("ASIAEXAMPLE");
/// assert!(matches!(verify(&request), Err(Error::UnknownAccessKey { .. })));
/// # Ok(())
/// # }
/// ```
pub trait CredentialLookup: Send + Sync {
    /// `Ok(None)` when the key is unknown.
    fn lookup(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
    ) -> impl Future<Output = Result<Option<Arc<ResolvedCredential>>, LookupFailure>> + Send;
}

/// A fixed in-memory table of credentials.
#[derive(Debug, Clone, Default)]
pub struct StaticCredentials {
    // foldhash rather than SipHash (a fifth of the cost per lookup): collisions are a danger
    // when an adversary chooses what goes into a table, and only the operator fills this one.
    // A lookup for a made-up key probes no further than the operator's own keys make it.
    keys: HashMap<String, Arc<ResolvedCredential>, foldhash::fast::RandomState>,
}

impl StaticCredentials {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key.
    pub fn with(
        mut self,
        access_key_id: impl Into<String>,
        credential: ResolvedCredential,
    ) -> Self {
        self.keys.insert(access_key_id.into(), Arc::new(credential));
        self
    }
}

impl CredentialLookup for StaticCredentials {
    fn lookup(
        &self,
        access_key_id: &str,
        _session_token: Option<&str>,
    ) -> impl Future<Output = Result<Option<Arc<ResolvedCredential>>, LookupFailure>> + Send {
        std::future::ready(Ok(self.keys.get(access_key_id).cloned()))
    }
}

impl<T: CredentialLookup> CredentialLookup for Arc<T> {
    fn lookup(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
    ) -> impl Future<Output = Result<Option<Arc<ResolvedCredential>>, LookupFailure>> + Send {
        (**self).lookup(access_key_id, session_token)
    }
}

/// Which region or service names are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Accept {
    /// Any (the signature still binds the scope).
    #[default]
    Any,
    /// Only these.
    OneOf(Vec<String>),
}

impl Accept {
    pub(crate) fn allows(&self, value: &str) -> bool {
        match self {
            Self::Any => true,
            Self::OneOf(list) => list.iter().any(|v| v == value),
        }
    }

    /// The one value accepted, when there is exactly one.
    pub(crate) fn only_one(&self) -> Option<&str> {
        match self {
            Self::OneOf(list) if list.len() == 1 => Some(&list[0]),
            _ => None,
        }
    }
}

/// Whether requests to `service` (the credential scope's) are signed with S3's rules: S3 and
/// the services signed as it under other names, S3 on Outposts (`s3-outposts`), S3 Object
/// Lambda (`s3-object-lambda`) and S3 Express One Zone (`s3express`), which botocore signs
/// with its S3 signer and the SDKs with S3's settings. Their rules: the path as sent (encoded
/// once, not normalised), a presigned request's payload `UNSIGNED-PAYLOAD`, every `x-amz-*`
/// header signed, and S3's error codes.
pub fn uses_s3_rules(service: &str) -> bool {
    matches!(
        service,
        "s3" | "s3-outposts" | "s3-object-lambda" | "s3express"
    )
}

/// Which canonical-URI rules the verifier tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AcceptedPathModes {
    /// S3 rules for the services [`uses_s3_rules`] names (`s3` and its family), the default
    /// rules otherwise.
    #[default]
    ByService,
    /// Default rules first, then S3 rules (for services that see both kinds of client).
    ///
    /// A canonical URI holding `%25`, an escaped `%`, names a different resource under each:
    /// a signature over `/docs/a%2520b` is the default rules' `/docs/a%20b` (the resource
    /// `docs/a b`) and S3's `/docs/a%2520b` (the key `docs/a%20b`). So that a signature
    /// verifies one request only, such a canonical URI is tried under the rules
    /// [`Self::ByService`] picks, not both: a default-rules client whose path has an escape
    /// (a space, UTF-8) verifies when its scope names a service that does not
    /// [`uses_s3_rules`], and an S3-rules client whose key has a `%` when its scope names one
    /// that does.
    ///
    /// The default rules normalise the path, so a request signed for `/b/a/k` also verifies
    /// when sent as `/b/x/../a/k` or `/b/a//k`. A service that treats those as different
    /// resources (as S3 keys are) must act on the verified path only when
    /// [`VerifiedRequest::path_mode`] is [`PathMode::S3`], or use [`Self::ByService`].
    Both,
    /// Exactly these rules.
    Only(PathMode),
}

/// A session token sent but not signed (the "appended after signing" style some services
/// such as IoT use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnsignedSessionToken {
    /// Accept it (it must still match the credential).
    #[default]
    Accept,
    /// Reject with `SessionTokenNotSigned`.
    Reject,
}

/// A payload the signature does not cover: `UNSIGNED-PAYLOAD` (named in
/// `x-amz-content-sha256`, or implied by an S3 presigned URL) and
/// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, whose trailing checksum no signature covers either.
///
/// S3 takes both, and so do the operations Smithy models mark `unsignedPayload`; a service
/// whose bodies carry commands (most JSON and query APIs) may want each body signed, so that
/// a captured request cannot be replayed with another body within the skew window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnsignedPayload {
    /// Accept it.
    #[default]
    Accept,
    /// Reject with `UnsignedPayloadRefused` (`AccessDenied`, 403, as S3 answers when a bucket
    /// policy's `s3:x-amz-content-sha256` condition refuses unsigned payloads). This refuses
    /// S3 presigned URLs too: their payload is always unsigned.
    Reject,
}

/// S3's bucket-location request (`GetBucketLocation`) signed for a region that
/// [`VerifierSettings::regions`] does not accept.
///
/// A client that does not know a bucket's region asks for it first, signed for `us-east-1`:
/// MinIO's SDKs do (minio-go, and so mc and restic; minio-py; minio-js), then sign everything
/// else for the region named in the answer. minio-go signs again for the region a refusal
/// names; minio-py and minio-js give up (minio-js 8.0.7 means to, but looks for the refusal's
/// code and region where its own parser does not put them). MinIO's server checks no region
/// on this request (nor on `ListBuckets`), and that is the default here too. The signature is
/// still checked, with the key for the region it names, so only a holder of the key gets
/// through, and what it learns is a region that key may sign for.
///
/// The request excepted is exactly S3's form of it: `GET` of `/{bucket}` (`/{bucket}/` as
/// minio-go sends it; the name unescaped) or `/` (a virtual-hosted bucket), whose query is
/// `location` alone, signed in the `Authorization` header for the service `s3`.
///
/// Which of the two forms a request may take depends on its `Host`, which only the service
/// can read: name the host names it answers at in [`VerifierSettings::s3_domains`]. Then a
/// request to one of them is path-style (`/{bucket}?location`), a request to any other host
/// is to a virtual-hosted bucket (`/?location`), and `ListBuckets` (a header-signed `GET /`
/// to one of them, its query none or its own parameters) is excepted too, as MinIO excepts
/// it: MinIO's SDKs sign it for `us-east-1` when they are given no region, and do not sign
/// it again. Without `s3_domains`, either form is taken at any host, and `ListBuckets` is
/// not excepted: a virtual-hosted bucket's `ListObjects` is the same request. A service that
/// serves virtual-hosted buckets (`bucket.example.com`) and would answer `GET
/// /{key}?location` with the object `key` should then name its domains, route `location`
/// before objects, or choose [`LocationRequests::AcceptedRegionsOnly`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LocationRequests {
    /// Accept it signed for any region, as MinIO does. [`VerifiedRequest::scope`] names the
    /// region signed for.
    #[default]
    AnyRegion,
    /// Hold it to [`VerifierSettings::regions`] like any other request.
    AcceptedRegionsOnly,
}

/// How an S3 request names its bucket, as far as the verifier can tell from its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum S3Addressing {
    /// No [`VerifierSettings::s3_domains`] to tell by: path-style or virtual-hosted.
    Either,
    /// To one of the service's domains: the bucket is the path's first segment.
    PathStyle,
    /// To any other host (`bucket.domain`, or a bucket's own name): the host names the bucket.
    VirtualHosted,
}

/// How `request` names its bucket, by its `Host` (or authority) against `domains` (each
/// compared as [`host_name`] reads it); a host that does not parse is none of them.
pub(crate) fn s3_addressing(request: &RequestView<'_>, domains: &[String]) -> S3Addressing {
    if domains.is_empty() {
        return S3Addressing::Either;
    }
    let host = request
        .headers
        .first("host")
        .or(request.authority)
        .and_then(host_name);
    match host {
        Some(host) if domains.iter().any(|d| host_name(d).as_ref() == Some(&host)) => {
            S3Addressing::PathStyle
        }
        _ => S3Addressing::VirtualHosted,
    }
}

/// The host name in `authority`, lower-case, without a port or one trailing dot (an IPv6
/// literal in its brackets), or `None` when `authority` does not parse as one. Only a
/// refused region comes here, so the copy costs a valid request nothing.
pub(crate) fn host_name(authority: &str) -> Option<String> {
    let parsed: http::uri::Authority = authority.parse().ok()?;
    let host = parsed.host();
    Some(host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase())
}

/// Whether `request` is one of the S3 requests that [`LocationRequests::AnyRegion`] accepts
/// signed for any region: a bucket-location request, or `ListBuckets` at one of `domains`.
fn is_region_free_s3_request(
    request: &RequestView<'_>,
    auth: &ParsedAuthorization<'_>,
    domains: &[String],
) -> bool {
    if auth.credential.service != "s3" || request.method != "GET" {
        return false;
    }
    // A presigned request's query holds its signature too, so it is neither of these.
    let location_query = matches!(request.query, Some("location" | "location="));
    // `ListBuckets`' own parameters (`x-id` names the operation, as aws-sdk-rust adds it),
    // and no other: the request is that one exactly.
    let list_buckets_query = request.query.is_none_or(|query| {
        query.split('&').all(|parameter| {
            let name = parameter
                .split_once('=')
                .map_or(parameter, |(name, _)| name);
            matches!(
                name,
                "bucket-region" | "continuation-token" | "max-buckets" | "prefix" | "x-id"
            )
        })
    });
    // The host is read only for a request that could be one of them.
    if !location_query && !list_buckets_query {
        return false;
    }
    let addressing = s3_addressing(request, domains);
    // A bucket's name holds S3's characters only (`[A-Za-z0-9._-]`, those of its legacy
    // rules, which the current ones narrow), so no escape hides a `/` from a service that
    // decodes `%2F` before it splits the path.
    let bucket_path = match request.path.strip_prefix('/') {
        Some("") => addressing != S3Addressing::PathStyle,
        Some(rest) => {
            let name = rest.strip_suffix('/').unwrap_or(rest);
            addressing != S3Addressing::VirtualHosted
                && !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        }
        None => false,
    };
    let location = location_query && bucket_path;
    let list_buckets =
        list_buckets_query && addressing == S3Addressing::PathStyle && request.path == "/";
    location || list_buckets
}

/// Verification policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifierSettings {
    /// Allowed clock skew both ways (default 15 minutes).
    pub max_skew: Duration,
    /// Accepted regions (default any).
    pub regions: Accept,
    /// S3's bucket-location request, and with [`Self::s3_domains`] its `ListBuckets`, signed
    /// for another region (default accepted).
    pub location_requests: LocationRequests,
    /// The host names the S3 service answers at itself, its domains (as MinIO's
    /// `MINIO_DOMAIN` and s3s's `MultiDomain` name them; a port is ignored), default none:
    /// by them the verifier tells a path-style request (to one of them) from a request to a
    /// virtual-hosted bucket (to `bucket.domain`, or any other host), which
    /// [`LocationRequests`] needs to know exactly which requests it excepts.
    pub s3_domains: Vec<String>,
    /// Accepted services (default any).
    pub services: Accept,
    /// Canonical-URI rules (default by service).
    pub path_modes: AcceptedPathModes,
    /// Unsigned session tokens (default accepted).
    pub unsigned_session_token: UnsignedSessionToken,
    /// Payloads the signature does not cover (default accepted).
    pub unsigned_payload: UnsignedPayload,
    /// How many derived signing keys to cache (default 4096; 0 disables the cache). A key is
    /// cached once it has verified a signature, so requests with made-up scopes and wrong
    /// signatures cannot evict the keys of valid ones; each secret keeps keys for its eight
    /// latest scopes, so a valid signer that keeps changing its scope evicts only its own.
    pub key_cache_capacity: usize,
}

impl Default for VerifierSettings {
    fn default() -> Self {
        Self {
            // AWS's own window.
            max_skew: Duration::from_secs(15 * 60),
            regions: Accept::Any,
            location_requests: LocationRequests::AnyRegion,
            s3_domains: Vec::new(),
            services: Accept::Any,
            path_modes: AcceptedPathModes::ByService,
            unsigned_session_token: UnsignedSessionToken::Accept,
            unsigned_payload: UnsignedPayload::Accept,
            key_cache_capacity: 4096,
        }
    }
}

/// The credential scope of a verified request, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialScope<'a> {
    /// `YYYYMMDD`.
    pub date: &'a str,
    /// Region.
    pub region: &'a str,
    /// Service.
    pub service: &'a str,
}

/// How the payload was covered by the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadKind {
    /// A SHA-256 of the body; `body_checked` says whether the body itself was hashed.
    Sha256 {
        /// The hex digest signed.
        hex: String,
        /// Whether the received body was checked against it (behind [`crate::SigV4Layer`],
        /// `false` for a body too large to buffer, which its [`crate::VerifiedBody`] checks
        /// at its end).
        body_checked: bool,
    },
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (`trailer`: the `-TRAILER` form): verify the body
    /// with [`VerifiedRequest::streamed_body_verifier`].
    StreamingSigned {
        /// Whether a signed trailer follows the final chunk.
        trailer: bool,
    },
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    StreamingUnsignedTrailer,
}

impl PayloadKind {
    /// A signed SHA-256 not yet checked against the body: checks it (and marks it checked).
    fn check_body(&mut self, body: &[u8]) -> Result<(), Error> {
        self.check_hash(|| sha256_hex(body))
    }

    /// [`Self::check_body`] with the body's digest already computed.
    fn check_digest(&mut self, digest: &[u8; 32]) -> Result<(), Error> {
        self.check_hash(|| hex64(digest))
    }

    /// The body's hash (hex, computed only when needed) against the one signed.
    fn check_hash(&mut self, body_hash: impl FnOnce() -> [u8; 64]) -> Result<(), Error> {
        if let Self::Sha256 { hex, body_checked } = self {
            if !*body_checked {
                let computed = body_hash();
                if !constant_time_eq(&computed, hex.as_bytes()) {
                    return Err(Error::PayloadHashMismatch {
                        claimed: hex.clone(),
                        computed: String::from_utf8_lossy(&computed).into_owned(),
                    });
                }
                *body_checked = true;
            }
        }
        Ok(())
    }
}

/// A signed payload SHA-256 held against a body as it streams by: what a body passed on
/// unbuffered, after its request was verified from the head, must match at its end.
pub(crate) struct StreamedPayloadHash {
    running: aws_lc_rs::digest::Context,
    /// The request's payload: a [`PayloadKind::Sha256`] not yet checked.
    signed: PayloadKind,
}

impl StreamedPayloadHash {
    /// Adds the next bytes of the body.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.running.update(data);
    }

    /// At the body's end: [`Error::PayloadHashMismatch`] unless the body's SHA-256 is the
    /// signed one.
    pub(crate) fn check(mut self) -> Result<(), Error> {
        let digest = self.running.finish();
        self.signed.check_hash(|| hex64(digest.as_ref()))
    }
}

/// The text fields of a [`VerifiedRequest`], in the order they sit in its one buffer.
#[derive(Clone, Copy)]
enum Field {
    AccessKeyId,
    Principal,
    Date,
    Region,
    Service,
    SignedHeaders,
}

const FIELDS: usize = 6;

/// A request whose signature verified: who signed it, for which scope, and how.
///
/// What a service reads from it to decide whether to serve the request (authorisation is
/// the service's own): here, a presigned S3 download made with temporary credentials.
///
/// ```
/// use std::sync::Arc;
/// use std::time::{Duration, UNIX_EPOCH};
/// use edgeward_signing::{
///     sign_http, Error, FixedClock, Payload, PayloadKind, RequestView, ResolvedCredential,
///     SignatureLocation, SigningParams, SigningSettings, StaticCredentials, Verifier,
///     VerifierSettings,
/// };
/// use futures_util::FutureExt as _;
///
/// # fn main() -> Result<(), Error> {
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14T22:13:20Z
/// let lookup = StaticCredentials::new().with(
///     "ASIAEXAMPLE",
///     ResolvedCredential::temporary("secret", "device/thing-7", "the-token", now + Duration::from_secs(3600)),
/// );
/// let verifier = Verifier::new(lookup, VerifierSettings::default())
///     .with_clock(Arc::new(FixedClock(now)));
///
/// let credentials = aws_credential_types::Credentials::from_keys(
///     "ASIAEXAMPLE",
///     "secret",
///     Some("the-token".into()),
/// );
/// let params = SigningParams { credentials: &credentials, region: "eu-west-1", service: "s3", time: now };
/// let mut request = http::Request::get("https://bucket.s3.eu-west-1.amazonaws.com/firmware/v2.bin")
///     .body(Vec::new())
///     .expect("a valid request");
/// let presigned = SigningSettings::s3().presigned(Duration::from_secs(15 * 60));
/// sign_http(&mut request, &params, &presigned)?;
///
/// let verified = verifier
///     .verify(&RequestView::from_http(&request), Payload::Unavailable)
///     .now_or_never()
///     .expect("the static lookup is ready at once")?;
///
/// // Who, and for what: the inputs of the service's own policy.
/// assert_eq!(verified.access_key_id(), "ASIAEXAMPLE");
/// assert_eq!(verified.principal(), "device/thing-7");
/// let scope = verified.scope();
/// assert_eq!((scope.date, scope.region, scope.service), ("20231114", "eu-west-1", "s3"));
///
/// // How: a URL anyone holding it may use until it expires, its token inside the signature.
/// assert_eq!(verified.location(), SignatureLocation::Query);
/// assert_eq!(verified.expires_at(), Some(now + Duration::from_secs(15 * 60)));
/// assert_eq!(verified.session_token().map(|token| token.expose()), Some("the-token"));
/// assert!(verified.session_token_signed());
/// assert_eq!(verified.signed_headers().collect::<Vec<_>>(), ["host"]);
/// // A presigned URL cannot know its body: nothing about it was signed.
/// assert_eq!(verified.payload(), &PayloadKind::Unsigned);
/// # Ok(())
/// # }
/// ```
///
/// The text fields live in one buffer: one allocation per verified request, where a `String`
/// per field and per signed header name cost ten or more (this is built on every request a
/// gateway serves).
#[derive(Clone)]
pub struct VerifiedRequest {
    text: String,
    /// Where each [`Field`] ends in `text`.
    ends: [usize; FIELDS],
    signature: [u8; 32],
    /// The signature's hex, written on first use: most callers never ask, and formatting it
    /// on every request was about 1 % of a warm verification.
    signature_hex: OnceLock<String>,
    session_token: Option<SessionToken>,
    session_token_signed: bool,
    location: SignatureLocation,
    request_time: SystemTime,
    expires_at: Option<SystemTime>,
    path_mode: PathMode,
    payload: PayloadKind,
    chunk: Option<ChunkContext>,
}

impl VerifiedRequest {
    fn field(&self, field: Field) -> &str {
        let index = field as usize;
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1],
        };
        self.text.get(start..self.ends[index]).unwrap_or_default()
    }

    /// The access key ID.
    pub fn access_key_id(&self) -> &str {
        self.field(Field::AccessKeyId)
    }

    /// The principal the [`CredentialLookup`] returned.
    pub fn principal(&self) -> &str {
        self.field(Field::Principal)
    }

    /// The credential scope.
    pub fn scope(&self) -> CredentialScope<'_> {
        CredentialScope {
            date: self.field(Field::Date),
            region: self.field(Field::Region),
            service: self.field(Field::Service),
        }
    }

    /// The signed header names, lower-case, sorted.
    pub fn signed_headers(&self) -> impl Iterator<Item = &str> + '_ {
        signed_header_names(self.field(Field::SignedHeaders))
    }

    /// The signature (lower-case hex).
    pub fn signature(&self) -> &str {
        self.signature_hex
            .get_or_init(|| String::from_utf8_lossy(&hex64(&self.signature)).into_owned())
    }

    /// The session token, when the request carried one.
    pub fn session_token(&self) -> Option<&SessionToken> {
        self.session_token.as_ref()
    }

    /// Whether the session token was covered by the signature (false without a token).
    pub fn session_token_signed(&self) -> bool {
        self.session_token_signed
    }

    /// Where the signature was.
    pub fn location(&self) -> SignatureLocation {
        self.location
    }

    /// The signing time.
    pub fn request_time(&self) -> SystemTime {
        self.request_time
    }

    /// Presigned requests: when the URL expires (`None` for a query without `X-Amz-Expires`,
    /// which only S3 requires: it was held to the clock-skew window instead).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The canonical-URI rules that matched.
    pub fn path_mode(&self) -> PathMode {
        self.path_mode
    }

    /// How the payload is covered.
    pub fn payload(&self) -> &PayloadKind {
        &self.payload
    }

    /// For `STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER)` bodies: the bare chunk-chain
    /// verifier, seeded with this request's signature and nothing else. It knows none of the
    /// request's headers, so it accepts no trailer and checks neither the decoded length nor
    /// a checksum header until told with its `with_…` methods: to verify a request's body, use
    /// [`Self::streamed_body_verifier`], which tells it all of them.
    pub fn chunk_verifier(&self) -> Option<ChunkChainVerifier> {
        self.chunk.clone().map(ChunkChainVerifier::new)
    }

    /// For a streamed payload (`STREAMING-…`): the verifier its `aws-chunked` body must pass,
    /// set up from the request's `headers` as S3 reads them: `x-amz-decoded-content-length`
    /// (required, once, decimal digits: [`Error::MissingDecodedContentLength`] without it,
    /// [`Error::RepeatedHeader`] when it comes twice),
    /// `x-amz-trailer` (signed: [`Error::RequiredHeaderNotSigned`] otherwise), any
    /// `x-amz-checksum-*` header, and under S3's rules `Content-MD5`
    /// ([`ChunkChainVerifier::with_content_md5`]) and `x-amz-sdk-checksum-algorithm`, which
    /// must name the body's checksum ([`Error::SdkChecksumAlgorithmMismatch`]). `Ok(None)` for
    /// other payloads. The layer, and
    /// [`Verifier::verify`] given the whole body ([`Payload::Bytes`]), start a streamed body
    /// here.
    pub fn streamed_body_verifier(
        &self,
        headers: &Headers<'_>,
    ) -> Result<Option<ChunkChainVerifier>, Error> {
        let chain = match self.payload {
            PayloadKind::StreamingSigned { .. } => self.chunk_verifier(),
            PayloadKind::StreamingUnsignedTrailer => Some(ChunkChainVerifier::unsigned()),
            _ => return Ok(None),
        };
        let Some(mut chain) = chain else {
            return Err(Error::MalformedChunk {
                reason: "streaming payload without a chunk chain",
            });
        };
        // Required of every streamed upload (S3 answers 411 without it): it is what the
        // decoded body is held to.
        // Read by name, so it comes once (the signature would cover two lines joined, and the
        // service would read that joined line, not the value the body is held to).
        let mut lines = headers.values("x-amz-decoded-content-length");
        let declared = lines.next().ok_or(Error::MissingDecodedContentLength)?;
        if lines.next().is_some() {
            return Err(Error::RepeatedHeader {
                name: "x-amz-decoded-content-length",
            });
        }
        let length = std::str::from_utf8(declared)
            .ok()
            .filter(|_| !declared.is_empty() && declared.iter().all(u8::is_ascii_digit))
            .and_then(|digits| digits.parse::<u64>().ok())
            .ok_or(Error::MalformedChunk {
                reason: "x-amz-decoded-content-length is not a decimal number",
            })?;
        chain = chain.with_decoded_length(length);
        if let Some(declared) = headers.joined_bytes("x-amz-trailer") {
            // It alone names the trailers that may reach the service (on an unsigned payload
            // nothing else vouches for them): for any service, not only S3, it must be signed.
            if !self
                .signed_headers()
                .any(|name| name.eq_ignore_ascii_case("x-amz-trailer"))
            {
                return Err(Error::RequiredHeaderNotSigned {
                    location: self.location,
                    header: "x-amz-trailer",
                });
            }
            let declared = std::str::from_utf8(&declared).map_err(|_| Error::MalformedChunk {
                reason: "x-amz-trailer is not text",
            })?;
            chain = chain.with_declared_trailer(declared)?;
        }
        for (name, value) in headers.iter() {
            chain = chain.with_checksum_header(name, &String::from_utf8_lossy(value))?;
        }
        let service = self.field(Field::Service);
        crate::checksum::check_sdk_algorithm(headers, service, chain.checksum_name())?;
        let content_md5 = crate::checksum::content_md5(headers, service)?;
        Ok(Some(chain.with_claimed_md5(content_md5)))
    }

    /// Whether a service may act on `path` (the path as sent, undecoded) for this request.
    /// Under S3's rules the signature covers the path as sent, or the object key it names
    /// (never with a `/` or `.` decoded), so any path is the one signed.
    /// Under the others it covers the normalised path (no `.`, `..` or empty segments), so a
    /// path that normalisation would change names a resource other than the signed one to a
    /// router that does not normalise: [`Error::PathNotNormalized`]. [`crate::SigV4Layer`]
    /// makes this check; a service on its own HTTP stack should make it before routing.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use edgeward_signing::{
    ///     sign_http, Error, FixedClock, Payload, RequestView, ResolvedCredential, SigningParams,
    ///     SigningSettings, StaticCredentials, Verifier, VerifierSettings,
    /// };
    /// use futures_util::FutureExt as _;
    ///
    /// # fn main() -> Result<(), Error> {
    /// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let lookup = StaticCredentials::new().with("AKIDEXAMPLE", ResolvedCredential::new("secret", "thing-7"));
    /// let verifier = Verifier::new(lookup, VerifierSettings::default())
    ///     .with_clock(Arc::new(FixedClock(now)));
    /// let credentials = aws_credential_types::Credentials::from_keys("AKIDEXAMPLE", "secret", None);
    /// let params = SigningParams { credentials: &credentials, region: "eu-west-1", service: "execute-api", time: now };
    ///
    /// // Signed under the default rules, which resolve `..` first: as `/things/thing-8/shadow`...
    /// let mut request = http::Request::get("https://api.example.com/things/thing-7/shadow/../../thing-8/shadow")
    ///     .body(Vec::new())
    ///     .expect("a valid request");
    /// sign_http(&mut request, &params, &SigningSettings::default())?;
    /// let verified = verifier
    ///     .verify(&RequestView::from_http(&request), Payload::Bytes(request.body()))
    ///     .now_or_never()
    ///     .expect("the static lookup is ready at once")?;
    ///
    /// // ...so a router that takes the path as sent must not serve it.
    /// assert!(matches!(
    ///     verified.check_served_path(request.uri().path()),
    ///     Err(Error::PathNotNormalized { .. })
    /// ));
    /// assert!(verified.check_served_path("/things/thing-8/shadow").is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_served_path(&self, path: &str) -> Result<(), Error> {
        if self.path_mode.normalization != crate::canonical::PathNormalization::Enabled {
            return Ok(());
        }
        let normalized = crate::canonical::normalize_path(path);
        if normalized == path {
            return Ok(());
        }
        Err(Error::PathNotNormalized {
            path: clip(path),
            normalized: clip(&normalized),
        })
    }

    /// For a body that is not streamed (not `STREAMING-…`), read whole after `request` was
    /// verified without it ([`Payload::Unavailable`], [`Payload::Sha256`]; the layer checks a
    /// signature before it reads a body): the checks that need the body, as
    /// [`Verifier::verify`] makes them with [`Payload::Bytes`]. The body against the signed
    /// SHA-256; the body against a flexible-checksum header (`BadDigest`, or
    /// [`Error::InvalidChecksumValue`] for a value that cannot be that checksum; except S3's
    /// `CompleteMultipartUpload`, whose checksum is the whole object's, for the service to
    /// check) and, under S3's rules, against `Content-MD5` (`BadDigest`, or `InvalidDigest`
    /// for a value that is no MD5), and `x-amz-sdk-checksum-algorithm` held to the flexible
    /// checksum ([`Error::SdkChecksumAlgorithmMismatch`]); and a checksum trailer declared in
    /// `x-amz-trailer` refused, as only an `aws-chunked` body has trailers.
    pub fn check_buffered_body(
        &mut self,
        request: &RequestView<'_>,
        body: &[u8],
    ) -> Result<(), Error> {
        self.payload.check_body(body)?;
        check_buffered_checksums(request, self.field(Field::Service), body)
    }

    /// The signed SHA-256 a body passed on as it is read (not buffered) must match at its end:
    /// `None` unless the payload is a SHA-256 not yet checked against the body.
    pub(crate) fn streamed_payload_hash(&self) -> Option<StreamedPayloadHash> {
        match &self.payload {
            PayloadKind::Sha256 {
                body_checked: false,
                ..
            } => Some(StreamedPayloadHash {
                running: aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256),
                signed: self.payload.clone(),
            }),
            _ => None,
        }
    }

    /// The flexible checksum a body passed on as it is read (not buffered) must match at its
    /// end, after the other checks of [`Self::check_buffered_body`] but for the two made as
    /// the body goes by (this one and [`Self::streamed_payload_hash`]).
    pub(crate) fn plain_body_checksum(
        &self,
        request: &RequestView<'_>,
    ) -> Result<Option<crate::checksum::ClaimedChecksum>, Error> {
        crate::checksum::plain_body_checksum(request, self.field(Field::Service))
    }

    /// What [`Verifier::verify`] checks of a streamed payload's whole `aws-chunked` body when
    /// given it as [`Payload::Bytes`]: the chain, its decoded length and checksum, as the
    /// layer checks it (the decoded data is not kept).
    fn check_whole_stream(self, headers: &Headers<'_>, body: &[u8]) -> Result<Self, Error> {
        if let Some(mut chain) = self.streamed_body_verifier(headers)? {
            let mut decoded = Vec::with_capacity(body.len());
            chain.push(body, &mut decoded)?;
            chain.finish()?;
        }
        Ok(self)
    }
}

impl fmt::Debug for VerifiedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedRequest")
            .field("access_key_id", &self.access_key_id())
            .field("principal", &self.principal())
            .field("scope", &self.scope())
            .field("signed_headers", &self.field(Field::SignedHeaders))
            .field("session_token", &self.session_token)
            .field("session_token_signed", &self.session_token_signed)
            .field("location", &self.location)
            .field("request_time", &self.request_time)
            .field("expires_at", &self.expires_at)
            .field("path_mode", &self.path_mode)
            .field("payload", &self.payload)
            .field("signature", &crate::redact::signature(self.signature()))
            .finish_non_exhaustive()
    }
}

/// Verifies SigV4-signed requests. Cheap to share (`Arc`); caches derived signing keys.
pub struct Verifier<L> {
    lookup: L,
    settings: VerifierSettings,
    clock: Arc<dyn Clock>,
    cache: KeyCache,
}

impl<L> fmt::Debug for Verifier<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The date the signature claims, in its two string forms.
struct RequestDate<'a> {
    amz: Cow<'a, str>,
    time: SystemTime,
    /// The header it came from (`None`: the presigned query).
    header: Option<DateHeader>,
}

#[derive(Clone, Copy)]
enum DateHeader {
    XAmzDate,
    Date,
}

impl DateHeader {
    fn name(self) -> &'static str {
        match self {
            Self::XAmzDate => "x-amz-date",
            Self::Date => "date",
        }
    }
}

/// Returns the canonical bytes for one attempt.
/// How the canonical URI is read from the path.
#[derive(Clone, Copy)]
enum UriReading {
    /// Under the mode's rules, from the path as sent.
    AsSent,
    /// As the S3 object key the path names ([`s3_key_uri`]).
    S3Key,
}

struct Attempt {
    mode: PathMode,
    include_token_param: bool,
}

const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
pub(crate) const UNSIGNED: &str = "UNSIGNED-PAYLOAD";

/// What an `x-amz-content-sha256` value names;
/// `MalformedPayloadHash` for anything else. The signer refuses to sign what this refuses.
pub(crate) fn classify_payload(value: &str) -> Result<PayloadKind, Error> {
    Ok(match value {
        UNSIGNED => PayloadKind::Unsigned,
        STREAMING_SIGNED => PayloadKind::StreamingSigned { trailer: false },
        STREAMING_SIGNED_TRAILER => PayloadKind::StreamingSigned { trailer: true },
        STREAMING_UNSIGNED_TRAILER => PayloadKind::StreamingUnsignedTrailer,
        hex if crate::crypto::is_lower_hex64(hex) => PayloadKind::Sha256 {
            hex: hex.to_owned(),
            body_checked: false,
        },
        other => return Err(Error::MalformedPayloadHash { value: clip(other) }),
    })
}

impl<L> Verifier<L> {
    /// The settings.
    pub fn settings(&self) -> &VerifierSettings {
        &self.settings
    }

    pub(crate) fn lookup(&self) -> &L {
        &self.lookup
    }

    pub(crate) fn key_cache(&self) -> &KeyCache {
        &self.cache
    }
}

/// Holds the session token a request carried to the one its credential was issued with: a
/// temporary credential needs its own token, unexpired; a long-term one takes none.
pub(crate) fn check_session(
    credential: &ResolvedCredential,
    token: Option<&str>,
    now: SystemTime,
) -> Result<(), Error> {
    match (&credential.session, token) {
        (Some(_), None) => Err(Error::SessionTokenMissing),
        (Some(session), Some(token)) => {
            if !constant_time_eq(session.token.expose().as_bytes(), token.as_bytes()) {
                return Err(Error::SessionTokenMismatch);
            }
            if session.expires_at <= now {
                return Err(Error::ExpiredToken {
                    expired_at: session.expires_at,
                });
            }
            Ok(())
        }
        (None, Some(_)) => Err(Error::SessionTokenMismatch),
        (None, None) => Ok(()),
    }
}

impl<L: CredentialLookup> Verifier<L> {
    /// A verifier on the system clock.
    pub fn new(lookup: L, settings: VerifierSettings) -> Self {
        let cache = KeyCache::new(settings.key_cache_capacity);
        Self {
            lookup,
            settings,
            clock: Arc::new(SystemClock),
            cache,
        }
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Verifies a request. On success the returned identity says who signed it and how.
    ///
    /// `Ok` covers the request as the signature saw it. A service on its own HTTP stack (not
    /// behind [`crate::SigV4Layer`], which does all of this) must also act on *that* request:
    /// - **The path.** Under every service's rules but S3's the signature covers the
    ///   normalised path, so `/admin/../public/file` verifies for a request signed for
    ///   `/public/file`. Route on the path as sent only after
    ///   [`VerifiedRequest::check_served_path`] accepted it.
    /// - **Repeated signed headers.** The signature covers all of a header's values, joined
    ///   with `,`: read them joined, not the first one only.
    /// - **Blanks around a signed value.** It covers the value trimmed; over HTTP/2, where
    ///   nothing trims it, refuse a value with a space or tab at either end.
    /// - **The body,** unless given as [`Payload::Bytes`]: see [`Payload`].
    pub async fn verify(
        &self,
        request: &RequestView<'_>,
        payload: Payload<'_>,
    ) -> Result<VerifiedRequest, Error> {
        self.verify_as_of(request, payload, None).await
    }

    /// The clock's time: when a request that is verified later (after its body) arrived.
    pub(crate) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// [`Verifier::verify`], with the time checks (skew, presigned expiry, token expiry) made
    /// at `arrived` when given, else at the clock's time. A request is held to the time it
    /// arrived, as AWS holds it, not to when its body finished arriving.
    pub(crate) async fn verify_as_of(
        &self,
        request: &RequestView<'_>,
        payload: Payload<'_>,
        arrived: Option<SystemTime>,
    ) -> Result<VerifiedRequest, Error> {
        let mut record: HeaderRecord<'_> = [None; MAX_RECORDED_HEADERS];
        let known = KnownHeaders::find(&request.headers, &mut record);
        if known.hosts > 1 {
            return Err(Error::RepeatedHeader { name: "host" });
        }
        check_host_is_the_authority(known.host, request.authority)?;
        // A value that is not text is not an absent one: the service behind may read it.
        if known.x_amz_content_sha256 == Some(None) {
            return Err(Error::MalformedPayloadHash {
                value: "(not text)".into(),
            });
        }
        if known.x_amz_security_token == Some(None) {
            return Err(Error::SessionTokenMismatch);
        }
        // (Two `Authorization` headers are a malformed authorization, found by `parse`.)
        if let Some(name) = known.repeated.filter(|&name| name != "authorization") {
            return Err(Error::RepeatedHeader { name });
        }
        let auth = self.parse(request, &known)?;
        let location = auth.location;
        let date = self.request_date(&known, &auth)?;
        self.check_scope(request, &auth, &date)?;
        // Every signed header must be present (the canonical headers check that), so when
        // the counts agree every `x-amz-*` header is signed and no search is needed.
        if uses_s3_rules(&auth.credential.service) && known.amz_names != auth.signs.amz_headers {
            check_amz_headers_signed(&request.headers, &auth)?;
        }
        let now = arrived.unwrap_or_else(|| self.clock.now());
        let expires_at = self.check_time(&auth, &date, now)?;

        // Session token and whether the signature covers it.
        let (session_token, token_signed_known): (Option<Cow<'_, str>>, Option<bool>) =
            match location {
                SignatureLocation::Header => {
                    let token = known.x_amz_security_token.flatten().map(Cow::Borrowed);
                    (token, Some(auth.signs.x_amz_security_token))
                }
                _ => (auth.session_token.clone(), None),
            };
        check_second_session_token(request, &known, location, session_token.as_deref())?;
        if session_token.is_some()
            && token_signed_known == Some(false)
            && self.settings.unsigned_session_token == UnsignedSessionToken::Reject
        {
            return Err(Error::SessionTokenNotSigned);
        }

        let access_key_id = &auth.credential.access_key_id;
        let credential = self
            .lookup
            .lookup(access_key_id, session_token.as_deref())
            .await
            .map_err(|e| Error::CredentialLookupFailed { reason: e.0 })?
            .ok_or_else(|| Error::UnknownAccessKey {
                access_key_id: clip(access_key_id),
            })?;
        check_session(&credential, session_token.as_deref(), now)?;

        // Payload.
        let claimed = known.x_amz_content_sha256.flatten();
        let mut payload_kind = match claimed {
            Some(value) => classify_payload(value)?,
            None if location == SignatureLocation::Query
                && uses_s3_rules(&auth.credential.service) =>
            {
                PayloadKind::Unsigned
            }
            None => match payload {
                Payload::Bytes(body) => PayloadKind::Sha256 {
                    hex: String::from_utf8_lossy(&sha256_hex(body)).into_owned(),
                    body_checked: true,
                },
                Payload::Sha256(digest) => PayloadKind::Sha256 {
                    hex: String::from_utf8_lossy(&hex64(digest)).into_owned(),
                    body_checked: true,
                },
                Payload::Unavailable => return Err(Error::BodyRequired),
            },
        };
        let payload_hash: &str = match (&payload_kind, claimed) {
            (_, Some(value)) => value,
            (PayloadKind::Sha256 { hex, .. }, None) => hex,
            (_, None) => UNSIGNED,
        };

        // Canonical request attempts.
        let by_service = if uses_s3_rules(&auth.credential.service) {
            PathMode::S3
        } else {
            PathMode::DEFAULT
        };
        let modes: &[PathMode] = match self.settings.path_modes {
            AcceptedPathModes::ByService => std::slice::from_ref(&by_service),
            AcceptedPathModes::Both => &[PathMode::DEFAULT, PathMode::S3],
            AcceptedPathModes::Only(ref mode) => std::slice::from_ref(mode),
        };
        // A presigned token may or may not be covered; only trying both tells. (Under the
        // Reject policy a match without it still fails, with SessionTokenNotSigned.)
        let token_variants: &[bool] = match (location, &session_token) {
            (SignatureLocation::Query, Some(_)) => &[true, false],
            _ => &[true],
        };
        let scoped_key = self.cache.get_or_derive(
            &credential.secret,
            &auth.credential.date,
            &auth.credential.region,
            &auth.credential.service,
        );
        let key = &scoped_key.key;
        // Without a `Host` header the authority stands in for it, and a default port in it
        // may or may not be what the client signed: botocore, aws-sigv4 and the Go SDK leave
        // it out, while the authority a client sends may carry it. Only trying both tells.
        let bare_host = match (known.host, request.authority) {
            (None, Some(authority)) => without_default_port(authority.as_bytes())
                .and_then(|host| authority.get(..host.len())),
            _ => None,
        };
        let with_bare_host;
        let views: &[RequestView<'_>] = match bare_host {
            Some(host) => {
                with_bare_host = [
                    *request,
                    RequestView {
                        authority: Some(host),
                        ..*request
                    },
                ];
                &with_bare_host
            }
            None => std::slice::from_ref(request),
        };
        // One buffer for every attempt: the canonical request, then the string to sign.
        let mut buffer = Vec::with_capacity(1024);
        let mut first_details: Option<MismatchDetails> = None;
        let mut tried: Vec<Vec<u8>> = Vec::new();
        let mut matched: Option<Attempt> = None;
        let key_readings = usize::from(by_service == PathMode::S3);
        let attempts = views.len() * modes.len() * token_variants.len() * (1 + key_readings);
        'outer: for view in views {
            for &mode in modes {
                if self.settings.path_modes == AcceptedPathModes::Both
                    && mode != by_service
                    && canonical_uri_has_escaped_percent(view.path, mode)
                {
                    continue;
                }
                // S3 reads the path as the key it names; that reading is tried only once the
                // path as sent has failed, and only where the two differ.
                let readings: &[UriReading] = if mode == PathMode::S3 && by_service == mode {
                    &[UriReading::AsSent, UriReading::S3Key]
                } else {
                    &[UriReading::AsSent]
                };
                let mut key_uri = None;
                for &reading in readings {
                    let uri = match reading {
                        UriReading::AsSent => None,
                        UriReading::S3Key => match key_uri.insert(s3_key_uri(view.path)) {
                            Some(uri) => Some(uri.as_slice()),
                            None => continue,
                        },
                    };
                    for &include_token_param in token_variants {
                        buffer.clear();
                        build_canonical_request(
                            &mut buffer,
                            view,
                            &known,
                            &auth,
                            (mode, uri),
                            include_token_param,
                            payload_hash,
                        )?;
                        let canonical_len = buffer.len();
                        if tried
                            .iter()
                            .any(|t| t.as_slice() == &buffer[..canonical_len])
                        {
                            continue;
                        }
                        append_string_to_sign(&mut buffer, &date.amz, &auth.credential);
                        let signature = key.sign(&buffer[canonical_len..]);
                        if constant_time_eq(&signature, &auth.signature) {
                            matched = Some(Attempt {
                                mode,
                                include_token_param,
                            });
                            break 'outer;
                        }
                        let (canonical, sts) = buffer.split_at(canonical_len);
                        if first_details.is_none() {
                            first_details = Some(mismatch_details(canonical, sts, &auth));
                        }
                        if attempts > 1 {
                            tried.push(canonical.to_vec());
                        }
                    }
                }
            }
        }
        let Some(attempt) = matched else {
            return Err(Error::SignatureDoesNotMatch {
                details: Box::new(first_details.unwrap_or_default()),
            });
        };
        self.cache.keep(&scoped_key);
        // A policy, checked once the signer is known (as S3 checks a bucket policy): anyone
        // else gets the error they would get without it.
        if self.settings.unsigned_payload == UnsignedPayload::Reject {
            let refused = match payload_kind {
                PayloadKind::Unsigned => Some(UNSIGNED),
                PayloadKind::StreamingUnsignedTrailer => Some(STREAMING_UNSIGNED_TRAILER),
                PayloadKind::Sha256 { .. } | PayloadKind::StreamingSigned { .. } => None,
            };
            if let Some(payload) = refused {
                return Err(Error::UnsignedPayloadRefused { payload });
            }
        }
        if location == SignatureLocation::Query
            && session_token.is_some()
            && !attempt.include_token_param
            && self.settings.unsigned_session_token == UnsignedSessionToken::Reject
        {
            return Err(Error::SessionTokenNotSigned);
        }

        let streamed = matches!(
            payload_kind,
            PayloadKind::StreamingSigned { .. } | PayloadKind::StreamingUnsignedTrailer
        );
        match payload {
            Payload::Sha256(digest) => payload_kind.check_digest(digest)?,
            // A streamed body's chain needs the verified request, below.
            Payload::Bytes(body) if !streamed => {
                payload_kind.check_body(body)?;
                // Only `Content-MD5`, or a header beyond these three, can name a checksum or a
                // trailer: counted, not searched, so a plain request pays nothing more.
                let known_amz = [
                    known.x_amz_date.is_some(),
                    known.x_amz_security_token.is_some(),
                    known.x_amz_content_sha256.is_some(),
                ];
                if known.content_md5 || known.amz_names > known_amz.iter().filter(|&&b| b).count() {
                    check_buffered_checksums(request, &auth.credential.service, body)?;
                }
            }
            Payload::Bytes(_) | Payload::Unavailable => {}
        }
        let chunk = match payload_kind {
            PayloadKind::StreamingSigned { trailer } => Some(ChunkContext {
                key: key.clone(),
                access_key_id: access_key_id.to_string(),
                amz_date: date.amz.to_string(),
                scope: auth.credential.scope(),
                seed_signature: String::from_utf8_lossy(&hex64(&auth.signature)).into_owned(),
                trailer,
            }),
            _ => None,
        };
        let session_token_signed = match token_signed_known {
            Some(signed) => signed && session_token.is_some(),
            None => session_token.is_some() && attempt.include_token_param,
        };
        let fields: [&str; FIELDS] = [
            access_key_id,
            &credential.principal,
            &auth.credential.date,
            &auth.credential.region,
            &auth.credential.service,
            &auth.signed_headers,
        ];
        let mut text = String::with_capacity(fields.iter().map(|f| f.len()).sum());
        let mut ends = [0; FIELDS];
        for (end, field) in ends.iter_mut().zip(fields) {
            text.push_str(field);
            *end = text.len();
        }
        let verified = VerifiedRequest {
            text,
            ends,
            signature: auth.signature,
            signature_hex: OnceLock::new(),
            session_token: session_token.map(|t| SessionToken::new(t.into_owned())),
            session_token_signed,
            location,
            request_time: date.time,
            expires_at,
            path_mode: attempt.mode,
            payload: payload_kind,
            chunk,
        };
        match payload {
            Payload::Bytes(body) if streamed => verified.check_whole_stream(&request.headers, body),
            _ => Ok(verified),
        }
    }

    /// The canonical request and string-to-sign the verifier would compute for `request`
    /// under `mode` (no credential lookup, no secret), for debugging. `token` says whether a
    /// presigned `X-Amz-Security-Token` is taken as signed.
    pub fn explain(
        &self,
        request: &RequestView<'_>,
        payload: Payload<'_>,
        mode: PathMode,
        token: SessionTokenPlacement,
    ) -> Result<MismatchDetails, Error> {
        let mut record: HeaderRecord<'_> = [None; MAX_RECORDED_HEADERS];
        let known = KnownHeaders::find(&request.headers, &mut record);
        let auth = self.parse(request, &known)?;
        let date = self.request_date(&known, &auth)?;
        let claimed = known.x_amz_content_sha256.flatten();
        let body_hash;
        let payload_hash = match claimed {
            Some(value) => value,
            None if auth.location == SignatureLocation::Query
                && uses_s3_rules(&auth.credential.service) =>
            {
                UNSIGNED
            }
            None => match payload {
                Payload::Bytes(body) => {
                    body_hash = sha256_hex(body);
                    std::str::from_utf8(&body_hash).unwrap_or_default()
                }
                Payload::Sha256(digest) => {
                    body_hash = hex64(digest);
                    std::str::from_utf8(&body_hash).unwrap_or_default()
                }
                Payload::Unavailable => return Err(Error::BodyRequired),
            },
        };
        let include_token = token == SessionTokenPlacement::Signed;
        let mut buffer = Vec::with_capacity(1024);
        build_canonical_request(
            &mut buffer,
            request,
            &known,
            &auth,
            (mode, None),
            include_token,
            payload_hash,
        )?;
        let canonical_len = buffer.len();
        append_string_to_sign(&mut buffer, &date.amz, &auth.credential);
        let (canonical, sts) = buffer.split_at(canonical_len);
        Ok(mismatch_details(canonical, sts, &auth))
    }

    fn parse<'r>(
        &self,
        request: &RequestView<'r>,
        known: &KnownHeaders<'r, '_>,
    ) -> Result<ParsedAuthorization<'r>, Error> {
        if known.repeated == Some("authorization") {
            return Err(Error::MalformedAuthorization {
                location: SignatureLocation::Header,
                reason: "more than one Authorization header".into(),
            });
        }
        let header = match known.authorization {
            Some(Some(value)) => Some(value),
            Some(None) => {
                return Err(Error::MalformedAuthorization {
                    location: SignatureLocation::Header,
                    reason: "Authorization is not text".into(),
                })
            }
            None => None,
        };
        let presigned = request.query.is_some_and(has_presigned_query);
        match (header, presigned) {
            (Some(value), true) => Err(Error::MultipleAuthMechanisms {
                scheme: clip(value.split_ascii_whitespace().next().unwrap_or_default()),
            }),
            (Some(value), false) => parse_authorization_header(value),
            (None, true) => parse_presigned_query(request.query.unwrap_or_default()),
            (None, false) if request.query.is_some_and(has_sigv2_query) => {
                Err(Error::SignatureVersion2)
            }
            (None, false) => Err(Error::MissingAuthentication),
        }
    }

    fn request_date<'r>(
        &self,
        known: &KnownHeaders<'r, '_>,
        auth: &ParsedAuthorization<'r>,
    ) -> Result<RequestDate<'r>, Error> {
        if let Some(date) = &auth.date {
            // A malformed query parameter, as S3 words it (not the header's `AccessDenied`).
            let time = parse_amz_date(date)
                .map_err(|_| Error::MalformedPresignedDate { value: clip(date) })?;
            return Ok(RequestDate {
                amz: date.clone(),
                time,
                header: None,
            });
        }
        // An `X-Amz-Date` that is not text is malformed, not absent: it takes precedence over
        // `Date` either way.
        if let Some(value) = known.x_amz_date {
            let value = value.ok_or_else(|| Error::MalformedDate {
                value: "(not text)".into(),
            })?;
            let value = value.trim_matches(|c| c == ' ' || c == '\t');
            let time = parse_amz_date(value)?;
            return Ok(RequestDate {
                amz: Cow::Borrowed(value),
                time,
                header: Some(DateHeader::XAmzDate),
            });
        }
        if let Some(value) = known.date.flatten() {
            // ISO 8601 basic, the form AWS documents for a `Date` that signs ("Handling dates
            // in Signature Version 4"; S3's common request headers), is the string-to-sign's
            // time as sent; an IMF-fixdate (the 2011 AWS suite's, or botocore's with `-0000` for
            // `GMT`) is read as HTTP's date.
            let trimmed = value.trim_matches(|c| c == ' ' || c == '\t');
            if let Ok(time) = parse_amz_date(trimmed) {
                return Ok(RequestDate {
                    amz: Cow::Borrowed(trimmed),
                    time,
                    header: Some(DateHeader::Date),
                });
            }
            let time = parse_http_date(value)?;
            return Ok(RequestDate {
                amz: Cow::Owned(format_amz_date(time)),
                time,
                header: Some(DateHeader::Date),
            });
        }
        Err(Error::MissingDate)
    }

    fn check_scope(
        &self,
        request: &RequestView<'_>,
        auth: &ParsedAuthorization<'_>,
        date: &RequestDate<'_>,
    ) -> Result<(), Error> {
        let location = auth.location;
        let request_date = date.amz.get(..8).unwrap_or_default();
        if auth.credential.date != request_date {
            return Err(Error::ScopeDateMismatch {
                location,
                scope_date: auth.credential.date.to_string(),
                request_date: request_date.to_owned(),
                request_time: date.amz.to_string(),
            });
        }
        let region_accepted = self.settings.regions.allows(&auth.credential.region)
            || (self.settings.location_requests == LocationRequests::AnyRegion
                && is_region_free_s3_request(request, auth, &self.settings.s3_domains));
        if !region_accepted {
            return Err(Error::RegionNotAccepted {
                location,
                region: clip(&auth.credential.region),
                expected: self.settings.regions.only_one().map(str::to_owned),
            });
        }
        if !self.settings.services.allows(&auth.credential.service) {
            return Err(Error::ServiceNotAccepted {
                location,
                service: clip(&auth.credential.service),
                expected: self.settings.services.only_one().map(str::to_owned),
            });
        }
        if !auth.signs.host {
            return Err(Error::RequiredHeaderNotSigned {
                location,
                header: "host",
            });
        }
        let date_signed = match date.header {
            Some(DateHeader::XAmzDate) => auth.signs.x_amz_date,
            Some(DateHeader::Date) => auth.signs.date,
            None => true,
        };
        if let (false, Some(header)) = (date_signed, date.header) {
            return Err(Error::RequiredHeaderNotSigned {
                location,
                header: header.name(),
            });
        }
        Ok(())
    }

    fn check_time(
        &self,
        auth: &ParsedAuthorization<'_>,
        date: &RequestDate<'_>,
        now: SystemTime,
    ) -> Result<Option<SystemTime>, Error> {
        let skew = self.settings.max_skew;
        match auth.expires {
            None => {
                let off = now
                    .duration_since(date.time)
                    .unwrap_or_else(|e| e.duration());
                if off > skew {
                    return Err(Error::RequestTimeTooSkewed {
                        request_time: date.time,
                        server_time: now,
                        max_skew_secs: skew.as_secs(),
                    });
                }
                Ok(None)
            }
            Some(expires) => {
                // A window past the clock's end (`Duration::MAX`) admits any time.
                let expires_at = date.time + expires;
                if now
                    .checked_add(skew)
                    .is_some_and(|latest| date.time > latest)
                {
                    // Accepted once `now + skew` reaches `X-Amz-Date`.
                    return Err(Error::PresignedNotYetValid {
                        valid_from: date.time.checked_sub(skew).unwrap_or(date.time),
                        request_time: date.time,
                        expires_at,
                        server_time: now,
                    });
                }
                if now > expires_at {
                    return Err(Error::PresignedExpired {
                        expired_at: expires_at,
                        expires_secs: expires.as_secs(),
                        server_time: now,
                    });
                }
                Ok(Some(expires_at))
            }
        }
    }
}

/// A session token in the place the signature's location does not read (the header beside a
/// presigned query, an `X-Amz-Security-Token` parameter beside an `Authorization` header) is
/// never compared with the credential, while the service behind the verifier may read that
/// one (to open a sealed token and act for its principal, say): it must be the token that was
/// checked, `token` (an absent one differs from any), or the request is `SessionTokenMismatch`.
fn check_second_session_token(
    request: &RequestView<'_>,
    known: &KnownHeaders<'_, '_>,
    location: SignatureLocation,
    token: Option<&str>,
) -> Result<(), Error> {
    const PARAMETER: &str = "X-Amz-Security-Token";
    let same = |other: Option<&str>| {
        matches!((other, token), (Some(other), Some(token))
            if constant_time_eq(other.as_bytes(), token.as_bytes()))
    };
    let consistent = match location {
        SignatureLocation::Header => request.query.is_none_or(|query| {
            !may_have_key_starting_with_x(query)
                || split_query(query)
                    // Decoding never lengthens a key: shorter ones are skipped undecoded.
                    .filter(|(key, _)| key.len() >= PARAMETER.len())
                    .filter(|(key, _)| decode_query_component(key) == PARAMETER)
                    .all(|(_, value)| same(Some(&decode_query_component(value))))
        }),
        _ => match known.x_amz_security_token {
            None => true,
            Some(header) => same(header),
        },
    };
    match consistent {
        true => Ok(()),
        false => Err(Error::SessionTokenMismatch),
    }
}

/// Whether some key of the raw `query` may decode to text that starts with `X`: whether a piece
/// starts with `X` or `%` (an escape; `+` decodes to a space). Only such a key can be
/// `X-Amz-Security-Token`, and most queries have none, so they are passed over with one search
/// for `&` instead of being split and their keys measured.
fn may_have_key_starting_with_x(query: &str) -> bool {
    let bytes = query.as_bytes();
    let piece_starts_so = |at: usize| matches!(bytes.get(at), Some(b'X' | b'%'));
    piece_starts_so(0) || memchr::memchr_iter(b'&', bytes).any(|at| piece_starts_so(at + 1))
}

/// S3 refuses a request with an `x-amz-*` header that its signature does not cover: such
/// headers are S3 parameters (`x-amz-acl`, `x-amz-copy-source`, `x-amz-meta-*`, …), which
/// whoever holds a presigned URL or replays a signed request could otherwise add. Not checked:
/// `x-amz-content-sha256` (the canonical request carries its value as the payload hash
/// anyway); a header-located `x-amz-security-token` ([`UnsignedSessionToken`] decides); and on
/// presigned requests the two headers aws-sigv4 leaves unsigned there on purpose,
/// `x-amz-user-agent` and `x-amz-checksum-mode`.
fn check_amz_headers_signed(
    headers: &Headers<'_>,
    auth: &ParsedAuthorization<'_>,
) -> Result<(), Error> {
    let exempt: &[&str] = match auth.location {
        SignatureLocation::Header => &["x-amz-content-sha256", "x-amz-security-token"],
        _ => &[
            "x-amz-content-sha256",
            "x-amz-user-agent",
            "x-amz-checksum-mode",
        ],
    };
    // `SignedHeaders` parsed lower-case, sorted and without duplicates, so its `x-amz-*` names
    // are too: one binary search per header, where a scan of the list per header cost header
    // lines × signed names, for a peer with no key (measured: 36 ms for one request of 95
    // headers and 40,000 signed names).
    let signed: Vec<&str> = signed_header_names(&auth.signed_headers)
        .filter(|name| name.starts_with(AMZ_HEADER_PREFIX))
        .collect();
    let unsigned = |name: &str| {
        if !has_name_prefix(name, AMZ_HEADER_PREFIX)
            || exempt.iter().any(|e| e.eq_ignore_ascii_case(name))
        {
            return false;
        }
        // A `Headers::List` keeps the names as sent.
        let lower = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(name.to_ascii_lowercase())
        } else {
            Cow::Borrowed(name)
        };
        signed.binary_search(&lower.as_ref()).is_err()
    };
    // All of them, as S3 names all in its answer, each once; the list stops growing at its
    // bound, however many headers the peer sent.
    let mut names = String::new();
    for name in headers.iter().map(|(name, _)| name) {
        if names.len() > MAX_UNSIGNED_NAMES_LEN {
            break;
        }
        if !unsigned(name) {
            continue;
        }
        let name = name.to_ascii_lowercase();
        if !names.split(", ").any(|listed| listed == name) {
            if !names.is_empty() {
                names.push_str(", ");
            }
            names.push_str(&name);
        }
    }
    if names.is_empty() {
        return Ok(());
    }
    Err(Error::UnsignedAmzHeaders {
        location: auth.location,
        names: clip_to(&names, MAX_UNSIGNED_NAMES_LEN).into_owned(),
    })
}

/// Appends the canonical request to `out`.
fn build_canonical_request(
    out: &mut Vec<u8>,
    request: &RequestView<'_>,
    known: &KnownHeaders<'_, '_>,
    auth: &ParsedAuthorization<'_>,
    (mode, uri): (PathMode, Option<&[u8]>),
    include_token_param: bool,
    payload_hash: &str,
) -> Result<(), Error> {
    out.extend_from_slice(request.method.as_bytes());
    out.push(b'\n');
    match uri {
        Some(uri) => out.extend_from_slice(uri),
        None => canonical_uri_into(out, request.path, mode),
    }
    out.push(b'\n');
    let skip: &[&str] = match (auth.location, include_token_param) {
        (SignatureLocation::Query, true) => &["X-Amz-Signature"],
        (SignatureLocation::Query, false) => &["X-Amz-Signature", "X-Amz-Security-Token"],
        _ => &[],
    };
    canonical_query_into(out, request.query, skip);
    out.push(b'\n');
    for name in split_signed_header_names(&auth.signed_headers) {
        match known.recorded_values(name) {
            Some(values) => push_canonical_header(out, name, values, request.authority)?,
            None => {
                push_canonical_header(out, name, request.headers.values(name), request.authority)?;
            }
        }
    }
    out.push(b'\n');
    out.extend_from_slice(auth.signed_headers.as_bytes());
    out.push(b'\n');
    // Nearly always a SHA-256's hex or `UNSIGNED-PAYLOAD`.
    match <&[u8; 64]>::try_from(payload_hash.as_bytes()) {
        Ok(hex) => out.extend_from_slice(hex),
        Err(_) => extend_expecting::<16>(out, payload_hash.as_bytes()),
    }
    Ok(())
}

/// The names of a `SignedHeaders` list, as [`signed_header_names`] gives them (`str::split` on
/// `;`), found by a plain loop over the bytes: inlined where the canonical headers are built,
/// for a few short names this costs less than setting up the word-at-a-time splitter and
/// calling it once per name.
fn split_signed_header_names(list: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(list);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.bytes().position(|b| b == b';') {
            // `;` is ASCII, so both cuts are on char boundaries.
            Some(at) => {
                rest = current.get(at + 1..);
                current.get(..at)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Appends one canonical header line, `name:value,value…`; a signed `host` with no header
/// (HTTP/2) takes the URI authority, any other signed header must be there.
fn push_canonical_header<'v>(
    out: &mut Vec<u8>,
    name: &str,
    values: impl Iterator<Item = &'v [u8]>,
    authority: Option<&str>,
) -> Result<(), Error> {
    out.extend_from_slice(name.as_bytes());
    out.push(b':');
    let mut first = true;
    for value in values {
        if !first {
            out.push(b',');
        }
        first = false;
        push_header_value(out, value);
    }
    if first {
        match (name, authority) {
            ("host" | ":authority", Some(authority)) => out.extend_from_slice(authority.as_bytes()),
            _ => return Err(Error::SignedHeaderMissing { name: clip(name) }),
        }
    }
    out.push(b'\n');
    Ok(())
}

/// What a `SignatureDoesNotMatch` tells of `auth`'s request: the `canonical` request and
/// string-to-sign (`sts`) the verifier computed, and the key and signature it claimed.
fn mismatch_details(
    canonical: &[u8],
    sts: &[u8],
    auth: &ParsedAuthorization<'_>,
) -> MismatchDetails {
    MismatchDetails {
        canonical_request: String::from_utf8_lossy(canonical).into_owned(),
        string_to_sign: String::from_utf8_lossy(sts).into_owned(),
        access_key_id: auth.credential.access_key_id.clone().into_owned(),
        signature_provided: String::from_utf8_lossy(&hex64(&auth.signature)).into_owned(),
    }
}

/// Appends the string to sign for the canonical request that `buffer` holds; the scope is
/// written in place rather than formatted first (this runs on every verification).
fn append_string_to_sign(buffer: &mut Vec<u8>, amz_date: &str, credential: &Credential<'_>) {
    // The fixed pieces with their line breaks, each one constant copy.
    const ALGORITHM_LINE: &[u8; 17] = b"AWS4-HMAC-SHA256\n";
    const TERMINATOR_LINE: &[u8; 13] = b"aws4_request\n";
    const _: () = {
        let algorithm = ALGORITHM.as_bytes();
        assert!(ALGORITHM_LINE.len() == algorithm.len() + 1);
        let mut i = 0;
        while i < algorithm.len() {
            assert!(ALGORITHM_LINE[i] == algorithm[i]);
            i += 1;
        }
    };
    let canonical_hash = sha256_hex(buffer);
    buffer.extend_from_slice(ALGORITHM_LINE);
    // Both dates have been parsed, so have their one length (`YYYYMMDD'T'HHMMSS'Z'`, and the
    // scope's `YYYYMMDD` equals its first eight bytes).
    extend_expecting::<16>(buffer, amz_date.as_bytes());
    buffer.push(b'\n');
    extend_expecting::<8>(buffer, credential.date.as_bytes());
    buffer.push(b'/');
    for part in [&credential.region, &credential.service] {
        buffer.extend_from_slice(part.as_bytes());
        buffer.push(b'/');
    }
    buffer.extend_from_slice(TERMINATOR_LINE);
    buffer.extend_from_slice(&canonical_hash);
}

/// Appends `bytes`, with a copy of constant length when it has the length `N` it nearly always
/// has: such a copy is a few moves, where one of a length known only at run time is a call to
/// `memcpy` (a few dozen instructions for a few bytes).
fn extend_expecting<const N: usize>(out: &mut Vec<u8>, bytes: &[u8]) {
    match <&[u8; N]>::try_from(bytes) {
        Ok(fixed) => out.extend_from_slice(fixed),
        Err(_) => out.extend_from_slice(bytes),
    }
}

/// The derived signing key for a scope, for callers that sign chunks themselves.
pub fn signing_key(
    secret: &SecretAccessKey,
    date: &str,
    region: &str,
    service: &str,
) -> SigningKey {
    SigningKey::derive(secret, date, region, service)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::UNIX_EPOCH;

    use aws_credential_types::Credentials;
    use futures_util::FutureExt;

    use super::*;

    /// Equality by content (in constant time, which no test observes): equal, unequal at the
    /// first or last byte, and of other lengths.
    #[test]
    fn session_tokens_compare_by_content() {
        let token = SessionToken::new("FwoGZXIvYXdzEBYa");
        assert_eq!(token, SessionToken::new(String::from("FwoGZXIvYXdzEBYa")));
        for other in [
            "GwoGZXIvYXdzEBYa",
            "FwoGZXIvYXdzEBYb",
            "FwoGZXIvYXdzEBY",
            "",
        ] {
            assert_ne!(token, SessionToken::new(other), "{other}");
        }
    }
    use crate::{sign_raw, RawRequest, RawRequestLimits, SigningParams, SigningSettings};

    /// A default port folds on one side only, and only off a host that has no port left:
    /// `h:443:443` is not `h:443`, nor `h:443` `h:443:80`.
    #[test]
    fn a_default_port_folds_off_a_host_alone() {
        for (host, authority) in [
            ("h", "h:443"),
            ("h:80", "h"),
            ("H:443", "h"),
            ("[::1]:443", "[::1]"),
            ("[::1]", "[::1]:80"),
        ] {
            assert!(
                same_host(host.as_bytes(), authority.as_bytes()),
                "{host} {authority}"
            );
            assert!(
                same_host(authority.as_bytes(), host.as_bytes()),
                "{authority} {host}"
            );
        }
        for (host, authority) in [
            ("h:443:443", "h:443"),
            ("h:80:443", "h:80"),
            ("h:443", "h:443:80"),
            ("h:443", "h:80"),
            ("h::443", "h:"),
            (":443", ""),
            ("[::1]:80:443", "[::1]:80"),
        ] {
            assert!(
                !same_host(host.as_bytes(), authority.as_bytes()),
                "{host} {authority}"
            );
            assert!(
                !same_host(authority.as_bytes(), host.as_bytes()),
                "{authority} {host}"
            );
        }
    }

    /// Every query with a key whose decoding starts with `X` (as `X-Amz-Security-Token`'s does)
    /// is one the second-session-token check looks into: every query of up to five bytes from
    /// an alphabet of the bytes that matter.
    #[test]
    fn no_key_that_may_be_the_token_parameter_is_passed_over() {
        let mut looked_into = 0;
        for query in crate::canonical::every_query(b"X&=%58+a", 5) {
            let starts_with_x =
                split_query(&query).any(|(key, _)| decode_query_component(key).starts_with('X'));
            if starts_with_x {
                assert!(may_have_key_starting_with_x(&query), "{query:?}");
                looked_into += 1;
            }
        }
        assert!(looked_into > 1000, "{looked_into}");
    }

    /// The canonical headers' splitter gives the names the parser's splitter gives.
    #[test]
    fn both_signed_header_splitters_agree() {
        let long = ["x-amz-meta-a-long-name-to-pass-sixty-four-bytes"; 3].join(";");
        for list in [
            "",
            ";",
            ";;",
            "host",
            "host;",
            ";host",
            "host;;range",
            "host;range;x-amz-content-sha256;x-amz-date",
            &long,
        ] {
            let ours: Vec<&str> = split_signed_header_names(list).collect();
            let parser: Vec<&str> = signed_header_names(list).collect();
            assert_eq!(ours, parser, "{list:?}");
            assert_eq!(ours, list.split(';').collect::<Vec<_>>(), "{list:?}");
        }
    }

    /// The key cache is filled only by signatures that verify: a request with a made-up
    /// region and a wrong signature (all it takes is a known access key ID) leaves it as it was.
    #[test]
    fn only_a_verified_signature_caches_its_key() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let request = |secret: &str, region: &str| {
            let text = "GET /a?b=c HTTP/1.1\nHost:example.com\n\n";
            let mut request =
                RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap();
            let credentials = Credentials::from_keys("AKID", secret, None);
            let params = SigningParams {
                credentials: &credentials,
                region,
                service: "service",
                time: now,
            };
            sign_raw(&mut request, &params, &SigningSettings::default()).unwrap();
            request
        };
        let lookup = StaticCredentials::new().with("AKID", ResolvedCredential::new("secret", "a"));
        let verifier = Verifier::new(lookup, VerifierSettings::default())
            .with_clock(Arc::new(FixedClock(now)));
        let verify = |request: &RawRequest| {
            verifier
                .verify(&request.view(), Payload::Bytes(&request.body))
                .now_or_never()
                .unwrap()
        };
        for region in ["r1", "r2", "r3"] {
            let forged = request("not the secret", region);
            assert!(matches!(
                verify(&forged),
                Err(Error::SignatureDoesNotMatch { .. })
            ));
        }
        assert_eq!(verifier.cache.len(), 0);
        verify(&request("secret", "r1")).unwrap();
        assert_eq!(verifier.cache.len(), 1);
        verify(&request("secret", "r1")).unwrap();
        assert_eq!(verifier.cache.len(), 1);
    }
}
