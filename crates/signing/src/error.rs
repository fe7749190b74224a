//! The crate's main error type and its mapping to AWS error codes and HTTP statuses
//! (`LookupFailure` and `IdleTimeoutError` are the errors of a lookup backend and of a body).

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use crate::auth::{format_amz_date, AMZ_HEADER_PREFIX};

/// Where a request carried its SigV4 signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureLocation {
    /// The `Authorization` header.
    Header,
    /// Presigned: `X-Amz-*` query parameters.
    Query,
    /// The fields of an S3 POST Object form (`x-amz-credential`, …, signing its POST policy).
    PostForm,
}

impl fmt::Display for SignatureLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Header => "Authorization header",
            Self::Query => "query parameters",
            Self::PostForm => "POST form fields",
        })
    }
}

/// A link of an `aws-chunked` body's signature chain, each signed over the signature before
/// it: a chunk, or the signed trailer after the final chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainLink {
    /// The chunk at this 0-based index (the final, empty chunk counted).
    Chunk(u64),
    /// The trailer (`AWS4-HMAC-SHA256-TRAILER`), signed after the final chunk.
    Trailer,
}

impl fmt::Display for ChainLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Chunk(index) => write!(f, "chunk {index}"),
            Self::Trailer => f.write_str("trailer"),
        }
    }
}

/// Where a request carries a flexible checksum's value: S3 words a malformed one by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumLocation {
    /// A request header (or a POST form's field), read before the body.
    Header,
    /// A trailer of an `aws-chunked` body, read after its data.
    Trailer,
}

impl fmt::Display for ChecksumLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Header => "header",
            Self::Trailer => "trailing header",
        })
    }
}

/// The canonical request and string-to-sign the verifier computed, and what the request
/// claimed, for debugging a `SignatureDoesNotMatch` ([`Error::SignatureDoesNotMatch`], or a
/// link of an `aws-chunked` body's chain, [`Error::ChunkSignatureMismatch`]). Never contains
/// the secret key or a derived key.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct MismatchDetails {
    /// What the string-to-sign's last line is the SHA-256 of, exactly as hashed: the
    /// canonical request (the first mode tried); for a signed trailer, its canonical lines
    /// (`name:value\n`, sorted by name); empty for a chunk, whose hash is of its data.
    pub canonical_request: String,
    /// The string-to-sign, exactly as signed: `AWS4-HMAC-SHA256-PAYLOAD` and
    /// `AWS4-HMAC-SHA256-TRAILER` ones for a chunk and a trailer, each naming the signature of
    /// the link before it.
    pub string_to_sign: String,
    /// The access key ID the request named.
    pub access_key_id: String,
    /// The signature the request carried, in lower-case hex.
    pub signature_provided: String,
}

impl MismatchDetails {
    /// The canonical request with a session token's value (its header line, or its query
    /// parameter) replaced by its length, as `Debug` prints it: for logs and terminals. The
    /// token is bearer material; the rest of the request compares line for line with what a
    /// client signed.
    pub fn canonical_request_redacted(&self) -> Cow<'_, str> {
        crate::redact::canonical_request(&self.canonical_request)
    }
}

impl fmt::Debug for MismatchDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MismatchDetails")
            .field("canonical_request", &self.canonical_request_redacted())
            .field("string_to_sign", &self.string_to_sign)
            .field("access_key_id", &self.access_key_id)
            .field(
                "signature_provided",
                &crate::redact::signature(&self.signature_provided),
            )
            .finish()
    }
}

/// What is wrong with a credential that is not `AKID/YYYYMMDD/region/service/aws4_request`
/// ([`Error::MalformedCredential`]), as S3 tells the cases apart in its answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialFault {
    /// It has fewer than four `/`, or an empty access key ID, region or service, or a byte
    /// that is not visible ASCII.
    Shape {
        /// How many `/`-separated elements it has (AWS's query and JSON services ask for
        /// exactly five; this crate takes an access key ID with a `/` in it, as MinIO does).
        elements: usize,
    },
    /// The date is not eight digits.
    Date {
        /// The date found (truncated).
        date: String,
    },
    /// The last element is not `aws4_request`.
    Terminator {
        /// The last element found (truncated).
        terminator: String,
    },
}

impl CredentialFault {
    /// What is wrong with `credential`, in a phrase.
    fn describe(&self, credential: &str) -> String {
        match self {
            Self::Shape { .. } => {
                format!(
                    "credential {credential:?} is not AKID/YYYYMMDD/region/service/aws4_request"
                )
            }
            Self::Date { date } => format!("credential date {date:?} is not YYYYMMDD"),
            Self::Terminator { terminator } => {
                format!("credential {credential:?} ends in {terminator:?}, not aws4_request")
            }
        }
    }
}

/// Everything that can go wrong while parsing, signing or verifying.
///
/// Variants before [`Error::InvalidSigningInput`] are faults of the peer or of the input (a
/// request, a file), but for [`Error::CredentialLookupFailed`], a backend's; the rest are
/// caller misuse. [`Error::is_peer_fault`] tells them apart. [`Error::aws_error_code`] and
/// [`Error::http_status`] give what an AWS client SDK expects to see.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- Raw HTTP/1.1 requests -------------------------------------------------------------
    /// A raw HTTP/1.1 request could not be parsed.
    #[error("malformed raw HTTP request at line {line}: {reason}")]
    MalformedRawRequest {
        /// 1-based line number of the fault.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A header that a request carries once came more than once (two `Host` headers name two
    /// hosts: the signature would cover both and whatever reads the request after it may take
    /// either).
    #[error("the request has more than one {name} header")]
    RepeatedHeader {
        /// The header, lower-case.
        name: &'static str,
    },
    /// The request names its host twice, differently: a `Host` header, and the authority of
    /// an absolute-form target (`GET http://host/path`) or of HTTP/2's `:authority`. The
    /// signature covers the `Host` header, while a server that follows RFC 9112 (3.2.2) routes
    /// by the target's authority and ignores the header, so the request is refused rather than
    /// verified for one host and served for the other.
    #[error("the Host header ({host}) names another host than the request target ({authority})")]
    HostMismatch {
        /// The `Host` header (truncated).
        host: String,
        /// The target's authority (truncated).
        authority: String,
    },
    /// The request target's authority (absolute form, or HTTP/2's `:authority`) carries user
    /// information (`user:password@host`). HTTP deprecates it and has a recipient treat it as
    /// an error (RFC 9110, 4.2.4; HTTP/2 forbids it, RFC 9113, 8.3.1): it can hide the host a
    /// request goes to, and it is often a password, so it is not repeated here.
    #[error(
        "the request target's authority carries user information (`…@host`), which HTTP \
         deprecates (RFC 9110, 4.2.4)"
    )]
    UserinfoInAuthority,
    /// The path is not in the normal form its signature covers (dot segments, empty
    /// segments): under every service's rules but S3's the signature covers the normalised
    /// path, so the path as sent names a resource the signer may not have meant, and a router
    /// that does not normalise (axum's) would act on that one. Refused by [`crate::SigV4Layer`]
    /// and [`crate::VerifiedRequest::check_served_path`].
    #[error("the path {path:?} is not in normal form (dot or empty segments): its signature covers {normalized:?}")]
    PathNotNormalized {
        /// The path as sent (truncated).
        path: String,
        /// The path the signature covers (truncated).
        normalized: String,
    },
    /// A signed header's value starts or ends with a space or tab. SigV4 signs the value
    /// trimmed, and an HTTP/1.1 server strips the blanks (RFC 9112 5.1), but HTTP/2 hands them
    /// on (RFC 9113 8.2.1 makes such a request malformed), so the service would read a value
    /// other than the one signed. Refused by [`crate::SigV4Layer`].
    #[error("the signed header {name} has a value that starts or ends with a space or tab (a malformed request, RFC 9113 8.2.1)")]
    UntrimmedHeaderValue {
        /// The header, lower-case (truncated).
        name: String,
    },
    /// A raw HTTP/1.1 request exceeded a size limit.
    #[error("raw HTTP request too large: {what} exceeds {limit}")]
    RawRequestTooLarge {
        /// Which limit (head bytes, header count, body bytes).
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A raw request's `Content-Length` is not the number of bytes after its head. A server
    /// reads exactly `Content-Length` bytes, so the request would be signed or verified with
    /// one body and read with another. The usual cause is a newline an editor added at the end
    /// of the file.
    #[error("the raw request's Content-Length is {declared}, but {actual} bytes follow its head{}", if *surplus_is_line_end { " (a line end at the end of the file?)" } else { "" })]
    RawBodyLengthMismatch {
        /// The `Content-Length` value.
        declared: u64,
        /// The bytes after the blank line that ends the head.
        actual: usize,
        /// Whether the bytes past `declared` are one line end (`\n` or `\r\n`), as an editor
        /// adds at the end of a file.
        surplus_is_line_end: bool,
    },

    // ---- Authentication information ------------------------------------------------------------
    /// Neither an `Authorization` header nor presigned query parameters were present.
    #[error("the request carries no SigV4 authentication (no Authorization header, no X-Amz-Algorithm parameter)")]
    MissingAuthentication,
    /// The request carries both an `Authorization` header (of any scheme) and presigned query
    /// parameters. S3 refuses this as `InvalidArgument` ("Only one auth mechanism allowed"):
    /// the two could name different keys, and a server must not pick one.
    #[error("only one auth mechanism allowed: the request has both an Authorization header and presigned query parameters (X-Amz-Algorithm)")]
    MultipleAuthMechanisms {
        /// The `Authorization` header's scheme (its first word, clipped), e.g.
        /// `AWS4-HMAC-SHA256` or `Bearer`. S3's answer echoes the whole header; a header of
        /// another scheme carries a credential (a bearer token, a password), and an answer and
        /// an error's `Debug` end up in logs, so only its scheme is kept.
        scheme: String,
    },
    /// The request is signed with Signature Version 2 (an `Authorization: AWS AKID:…` header,
    /// or an `AWSAccessKeyId` query parameter: an S3 presigned URL or a query-API request),
    /// which is not supported. The message is S3's, word for word: a client set to sign the
    /// old way reads it to sign again with SigV4 (s3cmd does, on S3's `InvalidRequest` with
    /// exactly these words and nothing else).
    #[error("The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")]
    SignatureVersion2,
    /// The algorithm is not `AWS4-HMAC-SHA256`.
    #[error("unsupported signing algorithm {algorithm:?} in the {location}")]
    UnsupportedAlgorithm {
        /// Where the algorithm was named.
        location: SignatureLocation,
        /// The algorithm found (truncated).
        algorithm: String,
    },
    /// A required component (`Credential`, `SignedHeaders`, `Signature`, `X-Amz-Date`, …) is
    /// absent.
    #[error("incomplete signature: {component} is missing from the {location}")]
    IncompleteSignature {
        /// Where it was expected.
        location: SignatureLocation,
        /// The missing component.
        component: &'static str,
    },
    /// The authorization information is present but malformed.
    #[error("malformed {location}: {reason}")]
    MalformedAuthorization {
        /// Where.
        location: SignatureLocation,
        /// What was wrong.
        reason: String,
    },
    /// The credential (`Credential=` in the `Authorization` header, `X-Amz-Credential` in a
    /// presigned query or a POST form) is not `AKID/YYYYMMDD/region/service/aws4_request`.
    #[error("malformed {location}: {}", fault.describe(credential))]
    MalformedCredential {
        /// Where.
        location: SignatureLocation,
        /// The credential found (truncated).
        credential: String,
        /// What is wrong with it.
        fault: CredentialFault,
    },
    /// The request time (`X-Amz-Date` or `Date`) is missing.
    #[error("the request has no X-Amz-Date (or Date) to sign with")]
    MissingDate,
    /// The request time is not `YYYYMMDD'T'HHMMSS'Z'` (a `Date` header may also be an RFC 1123
    /// IMF-fixdate, in `GMT` or, as botocore writes it, `-0000`).
    #[error("malformed request time {value:?}")]
    MalformedDate {
        /// The value found (truncated).
        value: String,
    },
    /// The credential scope's date differs from the request time's date.
    #[error("credential scope date {scope_date} does not match the request date {request_date} ({location})")]
    ScopeDateMismatch {
        /// Where the signature was.
        location: SignatureLocation,
        /// `YYYYMMDD` from the scope.
        scope_date: String,
        /// `YYYYMMDD` from the request time.
        request_date: String,
        /// The request time as signed (`YYYYMMDD'T'HHMMSS'Z'`).
        request_time: String,
    },
    /// The credential scope names a region this verifier does not accept.
    #[error("the region {region:?} is {}", match expected {
        Some(expected) => format!("wrong; expecting {expected:?} ({location})"),
        None => format!("not accepted ({location})"),
    })]
    RegionNotAccepted {
        /// Where the signature was.
        location: SignatureLocation,
        /// The region found.
        region: String,
        /// The one region accepted, when there is one: S3 names it in `<Region>` and
        /// `x-amz-bucket-region`, from which SDKs re-sign for it ([`Error::expected_region`]).
        expected: Option<String>,
    },
    /// The credential scope names a service this verifier does not accept.
    #[error("the service {service:?} is not accepted ({location})")]
    ServiceNotAccepted {
        /// Where the signature was.
        location: SignatureLocation,
        /// The service found.
        service: String,
        /// The one service accepted, when there is one: the query and JSON services name
        /// theirs in their answer.
        expected: Option<String>,
    },
    /// `host`, the header carrying the request time, or the `x-amz-trailer` of a streamed
    /// body is not among the signed headers.
    #[error("the {header} header must be signed ({location})")]
    RequiredHeaderNotSigned {
        /// Where the signature was.
        location: SignatureLocation,
        /// The header that must be signed.
        header: &'static str,
    },
    /// An S3 request carries `x-amz-*` headers that are not among the signed headers (S3's
    /// `AccessDenied`, "There were headers present in the request which were not signed",
    /// which lists them in `HeadersNotSigned`).
    #[error("x-amz-* headers not signed ({location}): {names}; S3 requires every one signed")]
    UnsignedAmzHeaders {
        /// Where the signature was.
        location: SignatureLocation,
        /// The headers' names, lower-case, each once in the order sent, `, `-separated as
        /// S3's answer lists them (cut at 256 bytes).
        names: String,
    },
    /// A header named in `SignedHeaders` is not in the request.
    #[error("signed header {name:?} is not present in the request")]
    SignedHeaderMissing {
        /// The header name.
        name: String,
    },
    /// The session token was sent but not signed, and the policy requires it signed.
    #[error("the session token must be signed")]
    SessionTokenNotSigned,
    /// The signature does not cover the payload (`payload` names the form), and the policy
    /// requires it to ([`crate::UnsignedPayload::Reject`]).
    #[error("the payload must be signed: this service does not accept {payload}")]
    UnsignedPayloadRefused {
        /// `UNSIGNED-PAYLOAD` or `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
        payload: &'static str,
    },

    // ---- Time --------------------------------------------------------------------------------
    /// The request time differs from the server's clock by more than the allowed skew.
    ///
    /// It reads in the words of AWS's query and JSON services ("Signature expired: … is now
    /// earlier than … (… - 15 min.)", "Signature not yet current: … is still later than …"),
    /// the server's time in its brackets, where the AWS SDKs for Java (v1) and .NET read it
    /// when an answer has no `Date`. S3's answer carries the times as elements of their own.
    #[error("{}", skew_message(*.request_time, *.server_time, *.max_skew_secs))]
    RequestTimeTooSkewed {
        /// When the request says it was signed.
        request_time: SystemTime,
        /// The verifier's clock.
        server_time: SystemTime,
        /// The allowed skew in seconds.
        max_skew_secs: u64,
    },
    /// A presigned request's `X-Amz-Date + X-Amz-Expires` is in the past.
    #[error("presigned request expired at {}", format_amz_date(*.expired_at))]
    PresignedExpired {
        /// When it expired.
        expired_at: SystemTime,
        /// Its `X-Amz-Expires`, in seconds.
        expires_secs: u64,
        /// The verifier's clock.
        server_time: SystemTime,
    },
    /// A presigned request's `X-Amz-Date` is in the future beyond the allowed skew.
    #[error("presigned request is not valid before {}", format_amz_date(*.valid_from))]
    PresignedNotYetValid {
        /// When this verifier starts to accept it: its `X-Amz-Date` less the clock skew
        /// allowed.
        valid_from: SystemTime,
        /// Its `X-Amz-Date`.
        request_time: SystemTime,
        /// When it expires: its `X-Amz-Date` plus its `X-Amz-Expires`.
        expires_at: SystemTime,
        /// The verifier's clock.
        server_time: SystemTime,
    },
    /// A presigned request's `X-Amz-Date` is not `YYYYMMDD'T'HHMMSS'Z'`.
    #[error(
        "malformed query parameters: X-Amz-Date {value:?} is not in the ISO 8601 long format \
         (YYYYMMDD'T'HHMMSS'Z')"
    )]
    MalformedPresignedDate {
        /// The value found (truncated).
        value: String,
    },
    /// `X-Amz-Expires` is not a number of seconds from 0 to 604800.
    #[error("X-Amz-Expires {value:?} must be a number of seconds from 0 to 604800 (7 days)")]
    InvalidExpires {
        /// The value found (truncated).
        value: String,
    },

    // ---- Credentials -------------------------------------------------------------------------
    /// The access key ID is unknown to the credential lookup.
    #[error("unknown access key ID {access_key_id:?}")]
    UnknownAccessKey {
        /// The access key ID.
        access_key_id: String,
    },
    /// Temporary credentials were used without their session token.
    #[error("the session token for temporary credentials is missing")]
    SessionTokenMissing,
    /// The session token does not belong to the access key.
    #[error("the session token does not match the access key")]
    SessionTokenMismatch,
    /// The temporary credentials have expired.
    #[error("the security token expired at {}", format_amz_date(*.expired_at))]
    ExpiredToken {
        /// When.
        expired_at: SystemTime,
    },
    /// The credential lookup backend failed (not the requester's fault).
    #[error("credential lookup failed: {reason}")]
    CredentialLookupFailed {
        /// Why.
        reason: String,
    },

    // ---- Signature and payload ---------------------------------------------------------------
    /// The signature does not match the one computed from the request.
    #[error("the signature does not match")]
    SignatureDoesNotMatch {
        /// The canonical request and string-to-sign the verifier computed.
        details: Box<MismatchDetails>,
    },
    /// `x-amz-content-sha256` is neither a SHA-256 hex digest nor a known keyword.
    #[error("invalid x-amz-content-sha256 value {value:?}")]
    MalformedPayloadHash {
        /// The value found (truncated).
        value: String,
    },
    /// The body's SHA-256 differs from `x-amz-content-sha256`.
    #[error("payload hash mismatch: claimed {claimed}, computed {computed}")]
    PayloadHashMismatch {
        /// From the request.
        claimed: String,
        /// Of the body received.
        computed: String,
    },
    /// An `aws-chunked` body is malformed.
    #[error("malformed aws-chunked body: {reason}")]
    MalformedChunk {
        /// What was wrong.
        reason: &'static str,
    },
    /// The trailer section of an `aws-chunked` body is malformed, or does not match what
    /// `x-amz-trailer` declared: a trailer it did not name, a trailer it named that never
    /// came, one sent twice (S3's `MalformedTrailerError`).
    #[error("malformed aws-chunked trailer: {reason}")]
    MalformedTrailer {
        /// What was wrong.
        reason: &'static str,
    },
    /// A chunk's (or the trailer's) signature breaks the chain.
    #[error("{link} signature does not match")]
    ChunkSignatureMismatch {
        /// The link whose signature breaks the chain: a chunk, or the trailer.
        link: ChainLink,
        /// The link's string-to-sign the verifier computed, and the signature it carried.
        details: Box<MismatchDetails>,
    },
    /// The body does not match the checksum its trailer, or its header, carries (S3's
    /// `BadDigest`).
    #[error("{name} does not match the body: it says {claimed}, the body's is {computed}")]
    ChecksumMismatch {
        /// The trailer or header name, e.g. `x-amz-checksum-crc32`.
        name: &'static str,
        /// The trailer's or header's value (clipped).
        claimed: String,
        /// The checksum of the body received (base64).
        computed: String,
    },
    /// `x-amz-trailer` declares, or a header carries, a checksum this crate cannot compute.
    #[error("unsupported checksum {name}")]
    UnsupportedChecksum {
        /// The declared trailer name, or the header's (clipped).
        name: String,
    },
    /// Under S3's rules, a `Content-MD5` header that is not the base64 of an MD5 (16 bytes):
    /// S3's `InvalidDigest`. Found before the body is read wherever the body is streamed or
    /// passed on; a body buffered whole is read (within its bound) first.
    #[error("Content-MD5 {value:?} is not the base64 of an MD5 (16 bytes)")]
    InvalidContentMd5 {
        /// The header's value (clipped).
        value: String,
    },
    /// A request gives its body more than one flexible checksum (headers, or a header and a
    /// declared trailer); S3 allows one.
    #[error("more than one checksum for one body: {first} and {second}")]
    MultipleChecksums {
        /// The first checksum name, e.g. `x-amz-checksum-crc32`.
        first: &'static str,
        /// Another one.
        second: &'static str,
        /// Whether one of them is a trailer `x-amz-trailer` declares (S3 words that case
        /// apart: [`Error::to_s3_error`]).
        with_trailer: bool,
    },
    /// A flexible checksum's value cannot be its checksum: not the base64 of as many bytes as
    /// the algorithm gives (an empty value, a CRC-32 of five bytes). S3 answers it
    /// `InvalidRequest`, in these words: a header's before it reads the body, a trailer's
    /// ("Value for x-amz-checksum-crc32 trailing header is invalid.") after, in place of
    /// comparing it. A header's is found before the body is read wherever the body is streamed
    /// or passed on; a body buffered whole is read (within its bound) first.
    #[error("Value for {name} {location} is invalid.")]
    InvalidChecksumValue {
        /// The header's or trailer's name, e.g. `x-amz-checksum-crc32`.
        name: &'static str,
        /// Its value (clipped).
        value: String,
        /// Whether a header or a trailer carried it.
        location: ChecksumLocation,
    },
    /// Under S3's rules, `x-amz-sdk-checksum-algorithm` (the algorithm an SDK says it
    /// checksummed the body with) names another checksum than the one the body carries in a
    /// header or a declared trailer, or the body carries none: S3's `InvalidRequest`, in S3's
    /// words. (S3's API reference says a mismatch fails with `BadDigest`; S3 answers
    /// `InvalidRequest`, as versitygw#1598 records its answer; and a refusal here comes
    /// before the body, which `BadDigest` is about.)
    #[error(
        "{}",
        if checksum.is_some() {
            "Value for x-amz-sdk-checksum-algorithm header is invalid."
        } else {
            "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found."
        }
    )]
    SdkChecksumAlgorithmMismatch {
        /// The header's value (clipped).
        algorithm: String,
        /// The body's checksum, e.g. `x-amz-checksum-crc32`, if it has one.
        checksum: Option<&'static str>,
    },
    /// A streamed (`aws-chunked`) upload does not declare its decoded length in
    /// `x-amz-decoded-content-length`, which AWS requires of every `STREAMING-*` payload (S3's
    /// `MissingContentLength`, 411).
    #[error("a streamed (aws-chunked) upload must declare its decoded length in x-amz-decoded-content-length")]
    MissingDecodedContentLength,
    /// A body exceeded a size limit.
    #[error("body too large: more than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: u64,
        /// The body's size as the request declared it (`Content-Length`, or
        /// `x-amz-decoded-content-length` for an `aws-chunked` one), where it declared one and
        /// was refused for it; `None` where the body was refused as it arrived, or one chunk
        /// was over the chunk limit.
        declared: Option<u64>,
    },
    /// The body ended before the declared length or the final chunk.
    #[error("incomplete body: {reason}")]
    IncompleteBody {
        /// What was missing.
        reason: &'static str,
    },
    /// The peer stopped sending the body: nothing arrived within a body timeout. S3's
    /// `RequestTimeout` ("Your socket connection to the server was not read from or written
    /// to within the timeout period"), which SDKs retry, where a body that *ended* short is
    /// `IncompleteBody`, which they do not.
    #[error("timed out reading the body: {reason}")]
    BodyTimeout {
        /// Which timeout, and how long it was.
        reason: String,
    },
    /// Reading the request body failed.
    #[error("reading the request body failed: {reason}")]
    BodyRead {
        /// Why.
        reason: String,
    },

    // ---- S3 POST Object forms ------------------------------------------------------------------
    /// A POST request to a bucket whose body is not `multipart/form-data` (S3's
    /// `PreconditionFailed`, 412).
    #[error("Bucket POST must be of the enclosure-type multipart/form-data")]
    NotMultipartForm,
    /// A POST form's body is not well-formed `multipart/form-data` (S3's `MalformedPOSTRequest`).
    #[error("The body of your POST request is not well-formed multipart/form-data: {reason}")]
    MalformedPostForm {
        /// What was wrong.
        reason: String,
    },
    /// The fields before a POST form's file exceed S3's 20 KiB (S3's
    /// `MaxPostPreDataLengthExceeded`).
    #[error("Your POST request fields preceding the upload file were too large (more than {limit} bytes).")]
    PostFormTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A POST form lacks a field it must have, or has it after the file, which is the same to
    /// S3 (its `InvalidArgument`, in its words).
    #[error("Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields.")]
    PostFieldMissing {
        /// The field, as S3 names it.
        name: &'static str,
    },
    /// A POST form closes without a `file` part (S3 answers more than one so too; the parser
    /// stops at the first, as S3 ignores what follows it).
    #[error("POST requires exactly one file upload per request.")]
    PostFileCount,
    /// A POST form's field names another value than the request does (a `bucket` field
    /// naming another bucket than the request's host or path).
    #[error("Conflicting values provided in the request and the POST form field '{name}'.")]
    PostFieldConflict {
        /// The field.
        name: &'static str,
    },
    /// A POST policy that is not base64 of a well-formed policy document (S3's
    /// `InvalidPolicyDocument`).
    #[error("Invalid Policy: {reason}")]
    MalformedPostPolicy {
        /// What was wrong, in S3's words where it is known to have some.
        reason: String,
    },
    /// The POST policy's expiration has passed (S3's `AccessDenied`).
    #[error("Invalid according to Policy: Policy expired.")]
    PostPolicyExpired {
        /// The policy's expiration.
        expired_at: SystemTime,
    },
    /// A field of the form does not meet a condition of its POST policy, or is absent (S3's
    /// `AccessDenied`).
    #[error("Invalid according to Policy: Policy Condition failed: {condition}")]
    PostPolicyConditionFailed {
        /// The condition, as S3 quotes it: `["starts-with", "$key", "user/"]`.
        condition: String,
    },
    /// Fields of the form that no condition of its POST policy names: each would pass
    /// unsigned (S3's `AccessDenied`).
    #[error("Invalid according to Policy: Extra input fields: {fields}")]
    PostFieldNotInPolicy {
        /// The fields, as sent, `, `-separated.
        fields: String,
    },
    /// A POST form's file is outside its policy's `content-length-range` (S3's
    /// `EntityTooSmall` or `EntityTooLarge`, 400), in S3's words for the end it is beyond; S3's
    /// XML answer adds the sizes (`ProposedSize`, and `MinSizeAllowed` or `MaxSizeAllowed`).
    #[error("{}", if size < min { ENTITY_TOO_SMALL } else { ENTITY_TOO_LARGE })]
    PostFileSize {
        /// The file's size, or how much of it had arrived.
        size: u64,
        /// The least size allowed.
        min: u64,
        /// The greatest size allowed.
        max: u64,
    },

    // ---- Caller misuse -----------------------------------------------------------------------
    /// Signing input the caller supplied is unusable (no host, expiry over 7 days, …).
    #[error("invalid signing input: {reason}")]
    InvalidSigningInput {
        /// What was wrong.
        reason: String,
    },
    /// Verification needs the body (or its hash) but the caller passed none.
    #[error("the request has no x-amz-content-sha256 header, so the body is needed to verify it")]
    BodyRequired,
    /// aws-sigv4 refused to sign.
    #[error("aws-sigv4 signing failed: {reason}")]
    Signing {
        /// aws-sigv4's message.
        reason: String,
    },
}

/// [`Error::RequestTimeTooSkewed`]'s message: STS's and IAM's, as their answers read
/// (aws/aws-cli#6676: "Signature expired: 20220127T001427Z is now earlier than
/// 20220127T014428Z (20220127T015928Z - 15 min.)"; a Terraform report from STS: "Signature
/// not yet current: 20210112T194419Z is still later than 20210112T072625Z (20210112T071125Z +
/// 15 min.)"), and Kinesis's and Rekognition's in the same words. A window that is not whole
/// minutes is written in seconds.
fn skew_message(request_time: SystemTime, server_time: SystemTime, max_skew_secs: u64) -> String {
    let window = std::time::Duration::from_secs(max_skew_secs);
    let span = match max_skew_secs % 60 {
        0 => format!("{} min.", max_skew_secs / 60),
        _ => format!("{max_skew_secs} s"),
    };
    let (request, server) = (format_amz_date(request_time), format_amz_date(server_time));
    if request_time < server_time {
        let bound = server_time.checked_sub(window).unwrap_or(server_time);
        format!(
            "Signature expired: {request} is now earlier than {} ({server} - {span})",
            format_amz_date(bound)
        )
    } else {
        let bound = server_time.checked_add(window).unwrap_or(server_time);
        format!(
            "Signature not yet current: {request} is still later than {} ({server} + {span})",
            format_amz_date(bound)
        )
    }
}

/// Which of AWS's two JSON protocols an answer is in ([`Error::to_json_error`]). They name
/// the authentication failures alike (`UnrecognizedClientException`, …) but send them with
/// different statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonProtocol {
    /// `awsJson1_0` / `awsJson1_1`: a `POST` naming its operation in `X-Amz-Target`, with an
    /// `application/x-amz-json-1.0` or `-1.1` body (DynamoDB, Kinesis, Cognito, CloudWatch
    /// Logs, ECS). They answer an authentication failure with 400, as every client fault:
    /// DynamoDB's raw `HTTP/1.1 400 Bad Request` with `ExpiredTokenException` (guregu/dynamo#68),
    /// Cognito's `400 Bad Request` with `UnrecognizedClientException`
    /// (ArranJacques/laravel-aws-cognito-auth#25), `InvalidSignatureException` "Signature
    /// expired" with status 400 (aws/aws-sdk-js#254), DynamoDB's
    /// `MissingAuthenticationTokenException` with status 400
    /// (amazon-archives/aws-dynamodb-session-tomcat#42).
    AwsJson,
    /// `restJson1`: the operation in the method and path (Lambda, API Gateway). They answer an
    /// authentication failure with the query services' 403: Lambda's
    /// `UnrecognizedClientException` is "StatusCode: 403" (iann0036/iamlive#58).
    RestJson,
}

/// The AWS error an SDK expects for an [`Error`]: code, HTTP status, and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The AWS error code, e.g. `SignatureDoesNotMatch`.
    pub code: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// A human-readable message (no secrets).
    pub message: String,
}

impl Error {
    /// The AWS error code a client SDK expects for this error, as STS, IAM and the other
    /// query and JSON services name it. S3 names a few failures its own way: see
    /// [`Error::s3_error_code`].
    pub fn aws_error_code(&self) -> &'static str {
        use SignatureLocation::{Header, PostForm, Query};
        match self {
            Self::MalformedRawRequest { .. }
            | Self::RawRequestTooLarge { .. }
            | Self::RawBodyLengthMismatch { .. }
            | Self::RepeatedHeader { .. }
            | Self::HostMismatch { .. }
            | Self::UserinfoInAuthority
            | Self::PathNotNormalized { .. }
            | Self::UntrimmedHeaderValue { .. } => "InvalidRequest",
            Self::MissingAuthentication => "MissingAuthenticationToken",
            Self::SignatureVersion2 => "InvalidRequest",
            Self::UnsupportedAlgorithm {
                location: Header, ..
            } => "IncompleteSignature",
            // A scope the signature cannot be for fails "the signature verification step"
            // (the IAM User Guide's "Troubleshoot signed requests for AWS APIs"): a wrong
            // terminator, as a wrong region or service below.
            Self::MalformedCredential {
                location: Header | Query,
                fault: CredentialFault::Terminator { .. },
                ..
            } => "SignatureDoesNotMatch",
            // The query and JSON services answer every header they cannot read so: a
            // credential of other than five elements (SQS in boto/boto3#1081, IAM in
            // aws/aws-sdk-go#1042, DynamoDB in dynamoose/dynamoose#1208), a component that is
            // no `key=value` (STS in jenkinsci/aws-credentials-plugin#72, CloudFormation in
            // aws/aws-sdk-go#289), a missing component (SES in brendanhay/amazonka#316).
            Self::IncompleteSignature {
                location: Header, ..
            }
            | Self::MalformedAuthorization {
                location: Header, ..
            }
            | Self::MalformedCredential {
                location: Header, ..
            } => "IncompleteSignature",
            Self::MultipleAuthMechanisms { .. } => "AuthorizationHeaderMalformed",
            Self::UnsupportedAlgorithm {
                location: Query, ..
            }
            | Self::IncompleteSignature {
                location: Query, ..
            }
            | Self::MalformedAuthorization {
                location: Query, ..
            }
            | Self::MalformedCredential {
                location: Query, ..
            }
            | Self::MalformedPresignedDate { .. }
            | Self::InvalidExpires { .. } => "AuthorizationQueryParametersError",
            // S3 answers a POST form's faulty authentication fields so, naming the field.
            Self::UnsupportedAlgorithm {
                location: PostForm, ..
            }
            | Self::IncompleteSignature {
                location: PostForm, ..
            }
            | Self::MalformedAuthorization {
                location: PostForm, ..
            }
            | Self::MalformedCredential {
                location: PostForm, ..
            }
            | Self::ScopeDateMismatch {
                location: PostForm, ..
            }
            | Self::PostFieldMissing { .. }
            | Self::PostFileCount
            | Self::PostFieldConflict { .. } => "InvalidArgument",
            Self::NotMultipartForm => "PreconditionFailed",
            Self::MalformedPostForm { .. } => "MalformedPOSTRequest",
            Self::PostFormTooLarge { .. } => "MaxPostPreDataLengthExceeded",
            Self::MalformedPostPolicy { .. } => "InvalidPolicyDocument",
            Self::PostPolicyExpired { .. }
            | Self::PostPolicyConditionFailed { .. }
            | Self::PostFieldNotInPolicy { .. } => "AccessDenied",
            Self::PostFileSize { size, min, .. } if size < min => "EntityTooSmall",
            Self::PostFileSize { .. } => "EntityTooLarge",
            Self::MissingDate => "IncompleteSignature",
            Self::MalformedDate { .. }
            | Self::RequiredHeaderNotSigned { .. }
            | Self::UnsignedAmzHeaders { .. }
            | Self::SignedHeaderMissing { .. }
            | Self::SessionTokenNotSigned
            | Self::UnsignedPayloadRefused { .. }
            | Self::PresignedExpired { .. }
            | Self::PresignedNotYetValid { .. } => "AccessDenied",
            Self::RequestTimeTooSkewed { .. } => "RequestTimeTooSkewed",
            Self::UnknownAccessKey { .. }
            | Self::SessionTokenMissing
            | Self::SessionTokenMismatch => "InvalidClientTokenId",
            Self::ExpiredToken { .. } => "ExpiredToken",
            Self::CredentialLookupFailed { .. } => "InternalFailure",
            // STS and IAM answer a scope their endpoint does not serve so ("Credential should
            // be scoped to a valid region, not 'us-east-2'."; "… to correct service: …"), 403;
            // and one of another day than the request (the guide above; a JSON service's
            // answer in tedder/requests-aws4auth#7).
            Self::SignatureDoesNotMatch { .. }
            | Self::ChunkSignatureMismatch { .. }
            | Self::RegionNotAccepted { .. }
            | Self::ServiceNotAccepted { .. }
            | Self::ScopeDateMismatch {
                location: Header | Query,
                ..
            } => "SignatureDoesNotMatch",
            Self::MalformedPayloadHash { .. } => "InvalidArgument",
            Self::PayloadHashMismatch { .. } => "XAmzContentSHA256Mismatch",
            Self::MalformedChunk { .. } | Self::IncompleteBody { .. } | Self::BodyRead { .. } => {
                "IncompleteBody"
            }
            Self::BodyTimeout { .. } => "RequestTimeout",
            Self::MalformedTrailer { .. } => "MalformedTrailerError",
            Self::MissingDecodedContentLength => "MissingContentLength",
            Self::BodyTooLarge { .. } => "EntityTooLarge",
            Self::ChecksumMismatch { .. } => "BadDigest",
            Self::InvalidContentMd5 { .. } => "InvalidDigest",
            Self::UnsupportedChecksum { .. }
            | Self::MultipleChecksums { .. }
            | Self::InvalidChecksumValue { .. }
            | Self::SdkChecksumAlgorithmMismatch { .. } => "InvalidRequest",
            Self::InvalidSigningInput { .. } | Self::BodyRequired | Self::Signing { .. } => {
                "InternalFailure"
            }
        }
    }

    /// The error code S3 answers with: [`Error::aws_error_code`], except where S3's list of
    /// error codes names the failure otherwise (aws-sdk-s3 and botocore match on these).
    pub fn s3_error_code(&self) -> &'static str {
        use SignatureLocation::{Header, PostForm, Query};
        match self {
            Self::UnknownAccessKey { .. } | Self::SessionTokenMissing => "InvalidAccessKeyId",
            Self::SessionTokenMismatch => "InvalidToken",
            Self::MissingAuthentication | Self::MissingDate => "AccessDenied",
            // S3 answers a header of a scheme it does not take, "Unsupported Authorization
            // Type", naming the header (versity/versitygw#1512 quotes a 2025 answer;
            // danialfarid/ng-file-upload#615 one to `Basic`).
            Self::MultipleAuthMechanisms { .. }
            | Self::UnsupportedAlgorithm {
                location: Header, ..
            } => "InvalidArgument",
            Self::IncompleteSignature {
                location: Header, ..
            }
            | Self::MalformedAuthorization {
                location: Header, ..
            }
            | Self::MalformedCredential {
                location: Header, ..
            }
            | Self::ScopeDateMismatch {
                location: Header, ..
            }
            // botocore's region redirector acts on this code with a `<Region>` in the answer
            // (`expected_region`).
            | Self::RegionNotAccepted {
                location: Header, ..
            }
            | Self::ServiceNotAccepted {
                location: Header, ..
            } => "AuthorizationHeaderMalformed",
            Self::RegionNotAccepted {
                location: Query, ..
            }
            | Self::ServiceNotAccepted {
                location: Query, ..
            }
            | Self::MalformedCredential {
                location: Query, ..
            }
            | Self::ScopeDateMismatch {
                location: Query, ..
            } => "AuthorizationQueryParametersError",
            // "the region 'us-east-1' is wrong; expecting 'us-west-1'", naming X-Amz-Credential.
            Self::RegionNotAccepted {
                location: PostForm,
                ..
            }
            | Self::ServiceNotAccepted {
                location: PostForm,
                ..
            } => "InvalidArgument",
            Self::CredentialLookupFailed { .. }
            | Self::InvalidSigningInput { .. }
            | Self::BodyRequired
            | Self::Signing { .. } => "InternalError",
            _ => self.aws_error_code(),
        }
    }

    /// The error code the JSON-protocol services answer with (DynamoDB, Kinesis, Cognito,
    /// CloudWatch Logs, Lambda): [`Error::aws_error_code`], except that the authentication
    /// failures carry their `…Exception` names there: `UnrecognizedClientException` for an
    /// unknown key, `InvalidSignatureException` for a mismatch and for a request time out of
    /// the window ("Signature expired: … is now earlier than …"), `ExpiredTokenException`,
    /// `MissingAuthenticationTokenException`, `IncompleteSignatureException` and
    /// `AccessDeniedException`; and a stalled body's `RequestTimeout` is
    /// `RequestTimeoutException`. SDKs read the code from `__type`, so a client matching on
    /// these names (or correcting its clock on `InvalidSignatureException`) sees the one it
    /// knows.
    pub fn json_error_code(&self) -> &'static str {
        match self.aws_error_code() {
            "InvalidClientTokenId" => "UnrecognizedClientException",
            "SignatureDoesNotMatch" | "RequestTimeTooSkewed" => "InvalidSignatureException",
            "ExpiredToken" => "ExpiredTokenException",
            "MissingAuthenticationToken" => "MissingAuthenticationTokenException",
            "IncompleteSignature" => "IncompleteSignatureException",
            "AccessDenied" => "AccessDeniedException",
            "RequestTimeout" => "RequestTimeoutException",
            code => code,
        }
    }

    /// The error code EC2 answers with (its own `ec2Query` protocol; no other service speaks
    /// it): [`Error::aws_error_code`], except that EC2 names the failures of authentication
    /// its own way, as its answers show:
    /// - `AuthFailure` ("AWS was not able to validate the provided access credentials", 401)
    ///   for a signature that does not match and for a key it does not know (the answer's
    ///   wire form in aws/aws-sdk-java-v2#2981, its 401 in aws/aws-sdk-java#2508; moto's EC2
    ///   answers both so);
    /// - `RequestExpired` ("Request has expired.", 400) for a request time out of the window
    ///   (aws/aws-sdk-java#1443, with static keys), for temporary credentials past their expiry
    ///   (aws/aws-sdk-go-v2#1674) and for a presigned request out of its time (EC2's list of
    ///   common errors);
    /// - `MissingParameter` (400) for a request with no authentication ("The request must
    ///   contain the parameter AWSAccessKeyId", to the AWS SDK for C++ without credentials in
    ///   awsdocs/aws-doc-sdk-examples#4026);
    /// - `InternalError` (500) for a failure of its own, as EC2's list of server error codes
    ///   names it (the query services say `InternalFailure`).
    ///
    /// `AuthFailure` and `RequestExpired` are among the codes on which the SDKs that correct a
    /// client's clock do so (aws/aws-sdk-java#519 quotes aws-sdk-net's list).
    pub fn ec2_error_code(&self) -> &'static str {
        match self {
            Self::RequestTimeTooSkewed { .. }
            | Self::ExpiredToken { .. }
            | Self::PresignedExpired { .. }
            | Self::PresignedNotYetValid { .. } => "RequestExpired",
            Self::MissingAuthentication => "MissingParameter",
            _ => match self.aws_error_code() {
                "SignatureDoesNotMatch" | "InvalidClientTokenId" => "AuthFailure",
                "InternalFailure" => "InternalError",
                code => code,
            },
        }
    }

    /// The HTTP status a client SDK expects for this error (with [`Error::aws_error_code`]).
    pub fn http_status(&self) -> u16 {
        status_of(self.aws_error_code())
    }

    /// Whether the peer (or the input) is at fault, as opposed to the caller or a backend.
    pub fn is_peer_fault(&self) -> bool {
        !matches!(
            self,
            Self::CredentialLookupFailed { .. }
                | Self::InvalidSigningInput { .. }
                | Self::BodyRequired
                | Self::Signing { .. }
        )
    }

    /// The headers S3 would list in `HeadersNotSigned`, its answer to a request with headers
    /// it wants signed left unsigned ("There were headers present in the request which were
    /// not signed"): the `x-amz-*` headers of [`Error::UnsignedAmzHeaders`], and the `host`
    /// or `x-amz-*` header of [`Error::RequiredHeaderNotSigned`] (aws/aws-sdk-java#1680 and
    /// brendanhay/amazonka#272 name `host`). An unsigned `Date` is not one of them: no answer
    /// of S3's to it is on record.
    pub fn headers_not_signed(&self) -> Option<&str> {
        match self {
            Self::UnsignedAmzHeaders { names, .. } => Some(names),
            Self::RequiredHeaderNotSigned {
                location: SignatureLocation::Header | SignatureLocation::Query,
                header,
            } if *header == "host" || header.starts_with(AMZ_HEADER_PREFIX) => Some(header),
            _ => None,
        }
    }

    /// The region a request signed for another one should be signed for: the verifier's one
    /// accepted region. S3 answers it in `<Region>` and the `x-amz-bucket-region` header,
    /// and botocore's S3 region redirector (which reads those, not the message) re-signs
    /// the request for it.
    pub fn expected_region(&self) -> Option<&str> {
        match self {
            Self::RegionNotAccepted { expected, .. } => expected.as_deref(),
            _ => None,
        }
    }

    /// The canonical request and string-to-sign behind a `SignatureDoesNotMatch`: of the
    /// request, or of the chunk or trailer of its body that broke the chain.
    pub fn mismatch_details(&self) -> Option<&MismatchDetails> {
        match self {
            Self::SignatureDoesNotMatch { details }
            | Self::ChunkSignatureMismatch { details, .. } => Some(details),
            _ => None,
        }
    }

    /// Code, status and message together, in the query services' terms. The message is AWS's
    /// words where AWS answers the failure in fixed ones (an unknown key's "The security
    /// token included in the request is invalid", …: the list and its sources at
    /// `Error::aws_words`), the error's own otherwise; the cause AWS's words leave out stays
    /// in the error's `Display`, which the layer logs under the answer's request ID. The
    /// message of a `SignatureDoesNotMatch` goes on
    /// with the canonical request and string-to-sign the verifier computed, in the words the
    /// query and JSON services use ("The Canonical String for this request should have
    /// been …"), so that a client finds them in the exception its SDK raises: each cut to its
    /// first 8 KiB, the canonical request's session token replaced by its length
    /// ([`MismatchDetails::canonical_request_redacted`]; a message is free text that client
    /// logs keep, and the client knows its token). S3 answers with its message alone and the
    /// details as elements of their own (the layer's
    /// [`ErrorFormat::RestXml`](crate::ErrorFormat::RestXml)).
    pub fn to_aws_error(&self) -> AwsError {
        let code = self.aws_error_code();
        AwsError {
            code,
            status: status_of(code),
            message: self.answer_message(Dialect::Query),
        }
    }

    /// The message of an error answer in the query, JSON or EC2 protocols: AWS's words for
    /// the failure in `dialect` where it has fixed ones ([`Error::aws_words`]), or the error
    /// as it displays; and but for EC2, for a `SignatureDoesNotMatch` whose details are
    /// known, the details [`Error::to_aws_error`] describes (of a chunk, its string-to-sign;
    /// of a trailer, its canonical lines too).
    fn answer_message(&self, dialect: Dialect) -> String {
        let headline = match self.aws_words(dialect) {
            Some(words) => words.to_owned(),
            None => self
                .formed_words(dialect)
                .unwrap_or_else(|| self.to_string()),
        };
        // EC2's `AuthFailure` says no more than its words (aws/aws-sdk-java-v2#2981).
        let Some(details) = self
            .mismatch_details()
            .filter(|details| !details.string_to_sign.is_empty() && dialect != Dialect::Ec2)
        else {
            return headline;
        };
        let hashed = match self {
            Self::ChunkSignatureMismatch {
                link: ChainLink::Trailer,
                ..
            } => "The canonical trailer should have been",
            _ => "The Canonical String for this request should have been",
        };
        let mut message = format!("{headline}\n\n");
        if !details.canonical_request.is_empty() {
            message += &format!(
                "{hashed}\n'{}'\n\n",
                clip_to(
                    &details.canonical_request_redacted(),
                    MAX_ECHOED_SIGNING_TEXT
                )
            );
        }
        message += &format!(
            "The String-to-Sign should have been\n'{}'\n",
            clip_to(&details.string_to_sign, MAX_ECHOED_SIGNING_TEXT)
        );
        message
    }

    /// Code, status and message together, in the JSON-protocol services' terms
    /// ([`Error::json_error_code`]), with the status `protocol`'s services send: see
    /// [`JsonProtocol`]. The message as [`Error::to_aws_error`]'s, but in these services'
    /// words where theirs differ: "The security token included in the request is invalid."
    /// with a full stop; for no authentication, awsJson's "Request is missing Authentication
    /// Token" and restJson's "Missing Authentication Token".
    pub fn to_json_error(&self, protocol: JsonProtocol) -> AwsError {
        let status = match (protocol, self.http_status()) {
            (JsonProtocol::AwsJson, 403) => 400,
            (_, status) => status,
        };
        AwsError {
            code: self.json_error_code(),
            status,
            message: self.answer_message(Dialect::Json(protocol)),
        }
    }

    /// Code, status and message together, in EC2's terms ([`Error::ec2_error_code`], and the
    /// status EC2 sends with it). The message in EC2's words where it has fixed ones, and
    /// with nothing after them: "AWS was not able to validate the provided access
    /// credentials" for an `AuthFailure` (a mismatch's canonical request is not echoed, as
    /// EC2 does not), "Request has expired." for a `RequestExpired`, "The request must
    /// contain the parameter AWSAccessKeyId" for no authentication; the error's own words
    /// otherwise.
    pub fn to_ec2_error(&self) -> AwsError {
        let code = self.ec2_error_code();
        AwsError {
            code,
            status: ec2_status_of(code),
            message: self.answer_message(Dialect::Ec2),
        }
    }

    /// Code, status and message together, in S3's terms ([`Error::s3_error_code`], and the
    /// status S3 sends with it: `EntityTooLarge` and `ExpiredToken` are 400 there, 413 and 403
    /// elsewhere).
    ///
    /// The message is S3's words where S3 has its own for the error, as its answers carry
    /// them (the values they leave out go in the S3 answer's elements; see
    /// [`crate::ErrorFormat::RestXml`]): its fixed words, as its recorded answers word them,
    /// for the authentication failures ("The AWS Access Key Id you provided does not exist in
    /// our records.", …), a presigned request out of its time ("Request has expired"), a
    /// body over the limit ("Your proposed upload exceeds the maximum allowed size"), a
    /// payload hash mismatch, a `Content-MD5` that is no MD5, an unreadable
    /// `x-amz-content-sha256` and two auth mechanisms; and for
    /// - a flexible checksum's mismatch: "The CRC32 you specified did not match the
    ///   calculated checksum." (aws/aws-sdk-ruby#3322; SHA256 and SHA1 alike), the algorithm
    ///   as the header names it, in capitals;
    /// - a `Content-MD5` mismatch: "The Content-MD5 you specified did not match what we
    ///   received." (dandi/dandi-cli#1257, versity/versitygw#2034);
    /// - two checksums: "Expecting a single x-amz-checksum- header. Multiple checksum Types
    ///   are not allowed.", without the second sentence when one is a trailer (as OpenStack
    ///   Swift's and Scality's S3 front ends answer for AWS's sake);
    /// - a region other than the one accepted: "The authorization header is malformed; the
    ///   region 'us-east-1' is wrong; expecting 'eu-central-1'" (jsoma/flatware#10,
    ///   JuliaServices/CloudStore.jl#52), and for a presigned URL "Error parsing the
    ///   X-Amz-Credential parameter; the region … is wrong; expecting …"
    ///   (HHS/Head-Start-TTADP#370, ai-dock/comfyui#34);
    /// - a credential scope dated another day than `X-Amz-Date`, in the header: "The
    ///   authorization header is malformed; Invalid credential date. Date is not the same as
    ///   X-Amz-Date." (ml-archive/storage#68, arqbackup/arq_restore#48);
    /// - an `X-Amz-Expires` over a week: "X-Amz-Expires must be less than a week (in seconds);
    ///   that is, the given X-Amz-Expires must be less than 604800 seconds"
    ///   (bryanjos/aws_auth#31, aws/aws-cli#5464); negative, "X-Amz-Expires must be
    ///   non-negative"; no number, "X-Amz-Expires should be a number" (sources at
    ///   `s3_expires_words`);
    /// - a presigned `X-Amz-Date` not in the basic format: "X-Amz-Date must be in the ISO8601
    ///   Long Format "yyyyMMdd'T'HHmmss'Z'"" (JustinM1/S3SignerAWS#12, bryanjos/aws_auth#7);
    /// - a credential not of the form `AKID/YYYYMMDD/REGION/SERVICE/aws4_request`
    ///   ([`CredentialFault::Shape`]): "The authorization header is malformed; the Credential
    ///   is mal-formed; expecting "\<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"."
    ///   (krobertson/deb-s3#157, deliciousbrains/wp-amazon-s3-and-cloudfront#460), and for a
    ///   presigned URL "Error parsing the X-Amz-Credential parameter; the Credential is
    ///   mal-formed; …" (TTLabs/EvaporateJS#491);
    /// - a header without one of its three components, "The authorization header is
    ///   malformed; the authorization header requires three components: Credential,
    ///   SignedHeaders, and Signature." (ex-aws/ex_aws#537, robmcvey/cakephp-amazon-s3#15);
    ///   a presigned URL without one of its parameters, "Query-string authentication version 4
    ///   requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date,
    ///   X-Amz-SignedHeaders, and X-Amz-Expires parameters." (kaliber-scala/play-s3#73);
    /// - a header request time missing or malformed, `AccessDenied`, "AWS authentication
    ///   requires a valid Date or x-amz-date header" (hubrick/vertx-s3-client#5,
    ///   aws/aws-sdk-java#484);
    ///
    /// otherwise the error's own words (a credential's wrong date or terminator among them:
    /// versitygw and MinIO word those differently, and no answer of S3's is on record).
    pub fn to_s3_error(&self) -> AwsError {
        let code = self.s3_error_code();
        AwsError {
            code,
            status: s3_status_of(code),
            message: self.s3_message(),
        }
    }

    /// The message of [`Error::to_s3_error`].
    fn s3_message(&self) -> String {
        if let Some(words) = self.aws_words(Dialect::S3) {
            return words.to_owned();
        }
        self.formed_words(Dialect::S3)
            .unwrap_or_else(|| self.to_string())
    }

    /// AWS's words for this failure in `dialect` where they name values of the request (a
    /// region, a checksum's algorithm); `None` where AWS's words are fixed
    /// ([`Error::aws_words`]) or the error's own words stand. The query and JSON services'
    /// are those of a credential they cannot read ("Credential must have exactly 5
    /// slash-delimited elements, e.g. keyid/date/region/service/term, got '…'", from
    /// boto/boto3#1081 and dynamoose/dynamoose#1208) and of a scope their signature cannot be
    /// for: of another day, terminator, region or service ("Date in Credential scope does not
    /// match …", "Credential should be scoped to a valid region, not '…'.", …).
    fn formed_words(&self, dialect: Dialect) -> Option<String> {
        /// How S3 begins a complaint about the credential, by where it was.
        fn credential_head(location: SignatureLocation) -> &'static str {
            match location {
                SignatureLocation::Header => "The authorization header is malformed",
                _ => "Error parsing the X-Amz-Credential parameter",
            }
        }
        if let Dialect::Query | Dialect::Json(_) = dialect {
            return match self {
                // A credential of five elements whose access key ID, region or service is
                // empty, or holds a byte that is not visible, is not what these words describe.
                Self::MalformedCredential {
                    location: SignatureLocation::Header,
                    credential,
                    fault: CredentialFault::Shape { elements },
                } if *elements != 5 => Some(format!(
                    "Credential must have exactly 5 slash-delimited elements, e.g. \
                     keyid/date/region/service/term, got '{credential}'"
                )),
                // The IAM User Guide's "Troubleshoot signed requests for AWS APIs" gives both;
                // a JSON service's answer with the values in tedder/requests-aws4auth#7.
                Self::ScopeDateMismatch {
                    location: SignatureLocation::Header | SignatureLocation::Query,
                    scope_date,
                    request_date,
                    request_time,
                } => Some(format!(
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of \
                     date from HTTP: '{scope_date}' != '{request_date}', from '{request_time}'."
                )),
                Self::MalformedCredential {
                    location: SignatureLocation::Header | SignatureLocation::Query,
                    fault: CredentialFault::Terminator { terminator },
                    ..
                } => Some(format!(
                    "Credential should be scoped with a valid terminator: 'aws4_request', not \
                     '{terminator}'."
                )),
                // STS's query XML in cognitect-labs/aws-api#27, IAM's in JuliaCloud/AWS.jl#565,
                // a JSON service's in aws/aws-sdk-js-v3#5576; the service named is the one
                // the endpoint serves ("… to correct service: 'batch'.").
                Self::RegionNotAccepted {
                    location: SignatureLocation::Header | SignatureLocation::Query,
                    region,
                    ..
                } => Some(format!(
                    "Credential should be scoped to a valid region, not '{region}'."
                )),
                Self::ServiceNotAccepted {
                    location: SignatureLocation::Header | SignatureLocation::Query,
                    expected: Some(expected),
                    ..
                } => Some(format!(
                    "Credential should be scoped to correct service: '{expected}'."
                )),
                _ => None,
            };
        }
        if dialect != Dialect::S3 {
            return None;
        }
        Some(match self {
            Self::ChecksumMismatch { name, .. } => match checksum_algorithm(name) {
                Some(algorithm) => {
                    format!("The {algorithm} you specified did not match the calculated checksum.")
                }
                None => "The Content-MD5 you specified did not match what we received.".to_owned(),
            },
            Self::MultipleChecksums { with_trailer, .. } => {
                let mut message = "Expecting a single x-amz-checksum- header".to_owned();
                if !with_trailer {
                    message += ". Multiple checksum Types are not allowed.";
                }
                message
            }
            Self::RegionNotAccepted {
                location: location @ (SignatureLocation::Header | SignatureLocation::Query),
                region,
                expected: Some(expected),
            } => {
                let head = credential_head(*location);
                format!("{head}; the region '{region}' is wrong; expecting '{expected}'")
            }
            Self::ScopeDateMismatch {
                location: SignatureLocation::Header,
                ..
            } => "The authorization header is malformed; Invalid credential date. Date is not \
                  the same as X-Amz-Date."
                .to_owned(),
            Self::InvalidExpires { value } => s3_expires_words(value)?.to_owned(),
            // A wrong terminator or date: versitygw and MinIO word these differently, and
            // no answer of S3's is on record.
            Self::MalformedCredential {
                location: location @ (SignatureLocation::Header | SignatureLocation::Query),
                fault: CredentialFault::Shape { .. },
                ..
            } => format!(
                "{}; the Credential is mal-formed; expecting \
                 \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
                credential_head(*location)
            ),
            _ => return None,
        })
    }
}

/// The families of AWS services whose answers word the same failure differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// The query protocol (STS, IAM, SQS's query form).
    Query,
    /// The JSON and RPC v2 CBOR protocols (DynamoDB, Kinesis, Lambda, CloudWatch), which
    /// word most failures alike.
    Json(JsonProtocol),
    /// EC2's own protocol.
    Ec2,
    /// S3's REST XML.
    S3,
}

/// A mismatch, in the query and JSON services' words, which their answers follow with the
/// canonical request and string-to-sign (the Elasticsearch service's answers quoted in
/// xcir/libvmod-awsrest#8 and carsales/aws-request-signer#10).
const MISMATCH_WORDS: &str = "The request signature we calculated does not match the \
    signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
    service documentation for details.";

impl Error {
    /// AWS's own words for this failure in `dialect`, where AWS answers it in fixed words
    /// (which people search for, and some clients match: a credential refresh on "The
    /// security token included in the request is expired"); `None` where the error's own
    /// words stand. The cause they leave out stays in the error's `Display` (the layer's log,
    /// under the answer's request ID; the CLI's `verify`). From recorded answers:
    /// - STS's `InvalidClientTokenId`, "The security token included in the request is
    ///   invalid" without a full stop (aws-azure-login#251), the JSON services'
    ///   `UnrecognizedClientException` with one (aws-azure-login#37);
    /// - `ExpiredToken` / `ExpiredTokenException`, "The security token included in the
    ///   request is expired" (Terraform's and the AWS CLI's reports of STS's and SSM's);
    /// - a mismatch, [`MISMATCH_WORDS`]; S3's shorter "… Check your key and signing method."
    ///   (s3tools/s3cmd#1053);
    /// - a header with no request time, to the query and JSON services, "Authorization header
    ///   requires existence of either a 'X-Amz-Date' or a 'Date' header."
    ///   (badslug/Paw-AWSSignature4DynamicValue#5; brendanhay/amazonka#316 for SES's
    ///   answer, which words the missing components alike);
    /// - STS's `MissingAuthenticationToken`, "Request is missing Authentication Token"
    ///   (aws/aws-sdk-net#681), DynamoDB's (awsJson) `MissingAuthenticationTokenException` in
    ///   the same words (amazon-archives/aws-dynamodb-session-tomcat#42), Lambda's (restJson)
    ///   in API Gateway's, "Missing Authentication Token" (brefphp/bref#1250);
    /// - EC2's `AuthFailure`, "AWS was not able to validate the provided access credentials"
    ///   (aws/aws-sdk-java-v2#2981), `MissingParameter`, "The request must contain the
    ///   parameter AWSAccessKeyId" (awsdocs/aws-doc-sdk-examples#4026), and `RequestExpired`,
    ///   "Request has expired.", for a skewed clock and for expired credentials alike
    ///   (aws/aws-sdk-java#1443, aws/aws-sdk-go-v2#1674);
    /// - S3's `InvalidAccessKeyId`, "The AWS Access Key Id you provided does not exist in our
    ///   records.", `InvalidToken`, "The provided token is malformed or otherwise invalid.",
    ///   `ExpiredToken`, "The provided token has expired.", and `AccessDenied` for no
    ///   authentication, "Access Denied" (S3's list of error codes; rclone's tests against S3);
    /// - S3's `AccessDenied` for a presigned request out of its time, without a full stop:
    ///   "Request has expired" (aws/aws-sdk-php#1333, aws/aws-sdk-js#3493) and "Request is not
    ///   yet valid" (minio/minio#2638, dmjio/s3-signer#16);
    /// - S3's words for a body unlike its request: a payload hash mismatch, "The provided
    ///   'x-amz-content-sha256' header does not match what was computed."
    ///   (grosskur/lua-resty-aws#2), and a `Content-MD5` that is no MD5, "The Content-MD5 you
    ///   specified was invalid." (versity/versitygw#1526), and a body over the limit,
    ///   [`ENTITY_TOO_LARGE`];
    /// - S3's for a header without one of its components, a presigned URL without one of its
    ///   parameters, and a missing or malformed request time (sources at
    ///   [`Error::to_s3_error`]);
    /// - S3's `AccessDenied` for `x-amz-*` headers left unsigned, "There were headers present
    ///   in the request which were not signed" (soto-project/soto#374,
    ///   badslug/Paw-AWSSignature4DynamicValue#4), and for `host`
    ///   ([`Error::headers_not_signed`]);
    /// - S3's `InvalidArgument` for a header of a scheme it does not take, "Unsupported
    ///   Authorization Type" (versity/versitygw#1512, danialfarid/ng-file-upload#615);
    /// - S3's `InvalidArgument`s: an `x-amz-content-sha256` that is no hash nor keyword,
    ///   [`MALFORMED_PAYLOAD_HASH`] (versity/versitygw#1352), but for one of S3's ECDSA
    ///   keywords, which S3 takes and this crate does not; an `Authorization` header beside a
    ///   presigned query, "Only one auth mechanism allowed; …"
    ///   (catalyst/moodle-tool_objectfs#303).
    fn aws_words(&self, dialect: Dialect) -> Option<&'static str> {
        use Dialect::{Ec2, Json, Query, S3};
        // EC2 words each of its codes one way, whatever the cause.
        if dialect == Ec2 {
            return match self.ec2_error_code() {
                "AuthFailure" => {
                    Some("AWS was not able to validate the provided access credentials")
                }
                "MissingParameter" => Some("The request must contain the parameter AWSAccessKeyId"),
                "RequestExpired" => Some("Request has expired."),
                _ => None,
            };
        }
        let invalid_key = matches!(
            self,
            Self::UnknownAccessKey { .. } | Self::SessionTokenMissing | Self::SessionTokenMismatch
        );
        Some(match (self, dialect) {
            (Self::SignatureDoesNotMatch { .. }, Query | Json(_)) => MISMATCH_WORDS,
            (Self::SignatureDoesNotMatch { .. } | Self::ChunkSignatureMismatch { .. }, S3) => {
                "The request signature we calculated does not match the signature you \
                 provided. Check your key and signing method."
            }
            (_, Query) if invalid_key => "The security token included in the request is invalid",
            (_, Json(_)) if invalid_key => "The security token included in the request is invalid.",
            (Self::SessionTokenMismatch, S3) => {
                "The provided token is malformed or otherwise invalid."
            }
            (_, S3) if invalid_key => {
                "The AWS Access Key Id you provided does not exist in our records."
            }
            (Self::ExpiredToken { .. }, Query | Json(_)) => {
                "The security token included in the request is expired"
            }
            (Self::ExpiredToken { .. }, S3) => "The provided token has expired.",
            (Self::MissingAuthentication, Query | Json(JsonProtocol::AwsJson)) => {
                "Request is missing Authentication Token"
            }
            (Self::MissingAuthentication, Json(JsonProtocol::RestJson)) => {
                "Missing Authentication Token"
            }
            (Self::MissingAuthentication, S3) => "Access Denied",
            (Self::PresignedExpired { .. }, S3) => "Request has expired",
            (Self::PresignedNotYetValid { .. }, S3) => "Request is not yet valid",
            (Self::PayloadHashMismatch { .. }, S3) => {
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            }
            // S3 takes its ECDSA (SigV4a) keywords too, which this crate does not: its list
            // would name the one refused as valid.
            (Self::MalformedPayloadHash { value }, S3) if !value.contains("ECDSA") => {
                MALFORMED_PAYLOAD_HASH
            }
            (
                Self::UnsupportedAlgorithm {
                    location: SignatureLocation::Header,
                    ..
                },
                S3,
            ) => "Unsupported Authorization Type",
            (Self::MultipleAuthMechanisms { .. }, S3) => {
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
                 Signature query string parameter or the Authorization header should be \
                 specified"
            }
            (Self::InvalidContentMd5 { .. }, S3) => "The Content-MD5 you specified was invalid.",
            (_, S3) if self.headers_not_signed().is_some() => {
                "There were headers present in the request which were not signed"
            }
            (Self::BodyTooLarge { .. }, S3) => ENTITY_TOO_LARGE,
            (
                Self::IncompleteSignature {
                    location: SignatureLocation::Header,
                    ..
                },
                S3,
            ) => {
                "The authorization header is malformed; the authorization header requires three \
                 components: Credential, SignedHeaders, and Signature."
            }
            (
                Self::IncompleteSignature {
                    location: SignatureLocation::Query,
                    ..
                },
                S3,
            ) => {
                "Query-string authentication version 4 requires the X-Amz-Algorithm, \
                 X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and \
                 X-Amz-Expires parameters."
            }
            (Self::MalformedPresignedDate { .. }, S3) => {
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
            }
            (Self::MissingDate | Self::MalformedDate { .. }, S3) => {
                "AWS authentication requires a valid Date or x-amz-date header"
            }
            (Self::MissingDate, Query | Json(_)) => {
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
                 header."
            }
            _ => return None,
        })
    }
}

/// S3's words for a body over its size limit, and a POST form's file over its policy's
/// (versity/versitygw#2041, laravel-zipstream#46 and shmsoft/FreeEed#158 quote S3's answer).
const ENTITY_TOO_LARGE: &str = "Your proposed upload exceeds the maximum allowed size";

/// S3's words for a POST form's file under its policy's size range.
const ENTITY_TOO_SMALL: &str = "Your proposed upload is smaller than the minimum allowed size";

/// S3's words for an `x-amz-content-sha256` it cannot read (versity/versitygw#1352 quotes
/// S3's answer).
const MALFORMED_PAYLOAD_HASH: &str = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, \
    STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, \
    STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, \
    STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.";

/// S3's words for an `X-Amz-Expires` refused (`auth::parse_expires` takes digits from 0 to
/// 604800), where S3's answer is on record: digits were refused for being longer than a week
/// (bryanjos/aws_auth#31, aws/aws-cli#5464); a negative number (fog/fog#3528); what is no
/// number at all, as `21600.0` or `undefined` (kitware-resonant/cookiecutter-resonant#369,
/// minio/minio-js#1312). `-0`, an empty value and a number with a `+` keep the error's own
/// words: no answer of S3's to them is on record, and S3 may well take `+5`.
fn s3_expires_words(value: &str) -> Option<&'static str> {
    let (negative, magnitude) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let digits = !magnitude.is_empty() && magnitude.bytes().all(|b| b.is_ascii_digit());
    if digits {
        return match (negative, magnitude.bytes().all(|b| b == b'0')) {
            (_, true) => None,
            (true, false) => Some("X-Amz-Expires must be non-negative"),
            (false, false) => Some(
                "X-Amz-Expires must be less than a week (in seconds); that is, the given \
                 X-Amz-Expires must be less than 604800 seconds",
            ),
        };
    }
    (!value.is_empty() && !value.starts_with('+')).then_some("X-Amz-Expires should be a number")
}

/// The algorithm a flexible checksum's header names, in capitals as S3 writes it (`CRC32`
/// for `x-amz-checksum-crc32`); `None` for `Content-MD5`.
fn checksum_algorithm(name: &str) -> Option<String> {
    name.strip_prefix("x-amz-checksum-")
        .map(str::to_ascii_uppercase)
}

/// The HTTP status EC2 sends with `code`: `AuthFailure` is 401 there (no other service sends
/// it), `RequestExpired` 400; the rest as [`status_of`].
fn ec2_status_of(code: &str) -> u16 {
    match code {
        "AuthFailure" => 401,
        _ => status_of(code),
    }
}

/// The HTTP status S3 sends with `code`: S3's list of error codes gives `EntityTooLarge` as
/// `400 Bad Request` (not HTTP's 413), and `ExpiredToken` as 400 (STS and IAM send 403); the
/// rest as [`status_of`].
fn s3_status_of(code: &str) -> u16 {
    match code {
        "EntityTooLarge" | "ExpiredToken" => 400,
        "PreconditionFailed" => 412,
        _ => status_of(code),
    }
}

/// The HTTP status AWS sends with `code`.
fn status_of(code: &str) -> u16 {
    match code {
        "AccessDenied"
        | "MissingAuthenticationToken"
        | "RequestTimeTooSkewed"
        | "InvalidClientTokenId"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken" => 403,
        "MissingContentLength" => 411,
        "EntityTooLarge" => 413,
        "InternalFailure" | "InternalError" => 500,
        _ => 400,
    }
}

/// How long [`Error::UnsignedAmzHeaders`]'s list of names may grow: a peer chooses how many
/// headers it sends, and the list is echoed in answers and logs.
pub(crate) const MAX_UNSIGNED_NAMES_LEN: usize = 256;

/// Truncates untrusted text for inclusion in an error.
pub(crate) fn clip(value: &str) -> String {
    clip_to(value, 64).into_owned()
}

/// The most of the string-to-sign and of the canonical request an error answer echoes (each;
/// then `…`): a usual request's whole, and at most 48 KiB each once escaped in XML (`&quot;`
/// is six bytes).
pub(crate) const MAX_ECHOED_SIGNING_TEXT: usize = 8 * 1024;

/// `value` cut to its first `max` bytes (at a character boundary) and marked `…`, or whole.
pub(crate) fn clip_to(value: &str, max: usize) -> Cow<'_, str> {
    if value.len() <= max {
        return Cow::Borrowed(value);
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &value[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// S3's words for an `x-amz-content-sha256` it cannot read list its ECDSA (SigV4a)
    /// keywords as valid; this crate refuses those, so one of them keeps the error's own words
    /// (the code stays `InvalidArgument`). Any other value reads S3's list.
    #[test]
    fn s3s_payload_hash_words_do_not_call_a_refused_keyword_valid() {
        for value in [
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
        ] {
            let error = Error::MalformedPayloadHash {
                value: value.to_owned(),
            };
            let s3 = error.to_s3_error();
            assert_eq!(
                (s3.code, s3.message),
                ("InvalidArgument", error.to_string())
            );
        }
        let error = Error::MalformedPayloadHash {
            value: "GIBBERISH".to_owned(),
        };
        assert_eq!(error.to_s3_error().message, MALFORMED_PAYLOAD_HASH);
    }

    /// S3 calls a server-side failure `InternalError`; the other services `InternalFailure`.
    /// None of them is the peer's fault (the layer then answers AWS's generic words, not the
    /// error's text).
    #[test]
    fn server_faults_are_500_in_either_terms() {
        let reason = || "the store is down".to_owned();
        for error in [
            Error::CredentialLookupFailed { reason: reason() },
            Error::InvalidSigningInput { reason: reason() },
            Error::BodyRequired,
            Error::Signing { reason: reason() },
        ] {
            let (aws, s3) = (error.to_aws_error(), error.to_s3_error());
            assert_eq!((aws.code, aws.status), ("InternalFailure", 500), "{error}");
            assert_eq!((s3.code, s3.status), ("InternalError", 500), "{error}");
            assert!(!error.is_peer_fault(), "{error}");
        }
    }

    /// The query and JSON answers' message of a mismatch echoes the canonical request and the
    /// string-to-sign each up to 8 KiB, a longer one cut there and marked `…`; S3's message is
    /// the error's words alone (its answer carries them as elements), and so is that of a
    /// mismatch without details.
    #[test]
    fn a_mismatch_message_echoes_what_was_signed_up_to_8_kib() {
        let string_to_sign = "AWS4-HMAC-SHA256\n20150830T123600Z\n…";
        for canonical_len in [100, 8192, 8193, 20_000] {
            let canonical_request = "c".repeat(canonical_len);
            let error = Error::SignatureDoesNotMatch {
                details: Box::new(MismatchDetails {
                    canonical_request: canonical_request.clone(),
                    string_to_sign: string_to_sign.to_owned(),
                    ..MismatchDetails::default()
                }),
            };
            let echoed = if canonical_len <= 8192 {
                canonical_request
            } else {
                format!("{}…", &canonical_request[..8192])
            };
            // The words and the form of the Elasticsearch service's answers in
            // xcir/libvmod-awsrest#8 and carsales/aws-request-signer#10.
            let expected = format!(
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details.\n\nThe Canonical String for this request should \
                 have been\n'{echoed}'\n\nThe String-to-Sign should have been\n\
                 '{string_to_sign}'\n"
            );
            assert_eq!(error.to_aws_error().message, expected);
            for protocol in [JsonProtocol::AwsJson, JsonProtocol::RestJson] {
                assert_eq!(error.to_json_error(protocol).message, expected);
            }
            // S3's (s3tools/s3cmd#1053).
            assert_eq!(
                error.to_s3_error().message,
                "The request signature we calculated does not match the signature you provided. \
                 Check your key and signing method."
            );
        }
        let without_details = Error::SignatureDoesNotMatch {
            details: Box::default(),
        };
        assert_eq!(without_details.to_aws_error().message, MISMATCH_WORDS);
    }

    /// A broken link of a chunk chain is a `SignatureDoesNotMatch` whose query and JSON
    /// message echoes the link's string-to-sign, and a trailer's canonical lines under their
    /// own name, not as a canonical request; a chunk's hashed data is not echoed.
    #[test]
    fn a_broken_link_message_echoes_its_string_to_sign() {
        let string_to_sign = "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n…";
        let chunk = Error::ChunkSignatureMismatch {
            link: ChainLink::Chunk(2),
            details: Box::new(MismatchDetails {
                string_to_sign: string_to_sign.to_owned(),
                ..MismatchDetails::default()
            }),
        };
        assert_eq!(
            chunk.mismatch_details().map(|d| d.string_to_sign.as_str()),
            Some(string_to_sign)
        );
        assert_eq!(
            chunk.to_aws_error().message,
            format!(
                "chunk 2 signature does not match\n\nThe String-to-Sign should have been\n\
                 '{string_to_sign}'\n"
            )
        );
        let trailer = Error::ChunkSignatureMismatch {
            link: ChainLink::Trailer,
            details: Box::new(MismatchDetails {
                canonical_request: "x-amz-checksum-crc32:AAAAAA==\n".to_owned(),
                string_to_sign: string_to_sign.to_owned(),
                ..MismatchDetails::default()
            }),
        };
        assert_eq!(
            trailer.to_json_error(JsonProtocol::RestJson).message,
            format!(
                "trailer signature does not match\n\nThe canonical trailer should have been\n\
                 'x-amz-checksum-crc32:AAAAAA==\n'\n\n\
                 The String-to-Sign should have been\n'{string_to_sign}'\n"
            )
        );
        let (aws, s3) = (trailer.to_aws_error(), trailer.to_s3_error());
        assert_eq!((aws.code, aws.status), ("SignatureDoesNotMatch", 403));
        // S3 answers a broken link in the words of any mismatch; its elements tell the link.
        assert_eq!(
            (s3.code, s3.message.as_str()),
            (
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. \
                 Check your key and signing method."
            )
        );
    }

    /// S3 words an `X-Amz-Expires` it refuses its own way: over a week (bryanjos/aws_auth#31),
    /// negative (fog/fog#3528), no number (kitware-resonant/cookiecutter-resonant#369); `-0`,
    /// an empty value and a `+` keep the error's own words, which say what is allowed. A
    /// presigned `X-Amz-Date` not in the basic format, in S3's words (JustinM1/S3SignerAWS#12).
    /// A region S3 would name the right one for reads in its words only where there is one
    /// right region, and never in a POST form's answer, for which there is no record; a scope
    /// dated another day, in the header's words only (the only ones recorded).
    #[test]
    fn s3_words_for_a_malformed_authorization() {
        const OVER_A_WEEK: &str = "X-Amz-Expires must be less than a week (in seconds); that \
                                   is, the given X-Amz-Expires must be less than 604800 seconds";
        const NEGATIVE: &str = "X-Amz-Expires must be non-negative";
        const NO_NUMBER: &str = "X-Amz-Expires should be a number";
        for (value, words) in [
            ("604801", Some(OVER_A_WEEK)),
            ("99999999999999999999999", Some(OVER_A_WEEK)),
            ("-1428703005", Some(NEGATIVE)),
            ("-7", Some(NEGATIVE)),
            ("21600.0", Some(NO_NUMBER)),
            ("undefined", Some(NO_NUMBER)),
            ("1e3", Some(NO_NUMBER)),
            ("-", Some(NO_NUMBER)),
            ("-0", None),
            ("+5", None),
            ("", None),
        ] {
            let error = Error::InvalidExpires {
                value: value.to_owned(),
            };
            let s3 = error.to_s3_error();
            assert_eq!(s3.code, "AuthorizationQueryParametersError");
            assert_eq!(
                s3.message,
                words.map_or_else(|| error.to_string(), str::to_owned),
                "{value:?}"
            );
        }
        let date = Error::MalformedPresignedDate {
            value: "2017-09-15T13:35:43Z".to_owned(),
        };
        let s3 = date.to_s3_error();
        assert_eq!(
            (s3.code, s3.status, s3.message.as_str()),
            (
                "AuthorizationQueryParametersError",
                400,
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
            )
        );
        assert_eq!(date.to_aws_error().message, date.to_string());
        let region = |location, expected: Option<&str>| Error::RegionNotAccepted {
            location,
            region: "eu-west-1".to_owned(),
            expected: expected.map(str::to_owned),
        };
        assert_eq!(
            region(SignatureLocation::Header, Some("us-east-1"))
                .to_s3_error()
                .message,
            "The authorization header is malformed; the region 'eu-west-1' is wrong; \
             expecting 'us-east-1'"
        );
        assert_eq!(
            region(SignatureLocation::Query, Some("us-east-1"))
                .to_s3_error()
                .message,
            "Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; \
             expecting 'us-east-1'"
        );
        let dates = |location| Error::ScopeDateMismatch {
            location,
            scope_date: "20150830".to_owned(),
            request_date: "20150831".to_owned(),
            request_time: "20150831T000000Z".to_owned(),
        };
        assert_eq!(
            dates(SignatureLocation::Header).to_s3_error().message,
            "The authorization header is malformed; Invalid credential date. Date is not the \
             same as X-Amz-Date."
        );
        let credential = |location, fault| Error::MalformedCredential {
            location,
            credential: "AKID/20150830/s3/aws4_request".to_owned(),
            fault,
        };
        let shape = CredentialFault::Shape { elements: 4 };
        // krobertson/deb-s3#157; TTLabs/EvaporateJS#491 for the query's.
        assert_eq!(
            credential(SignatureLocation::Header, shape.clone())
                .to_s3_error()
                .message,
            "The authorization header is malformed; the Credential is mal-formed; expecting \
             \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
        );
        assert_eq!(
            credential(SignatureLocation::Query, shape.clone())
                .to_s3_error()
                .message,
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; \
             expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
        );
        // ex-aws/ex_aws#537; kaliber-scala/play-s3#73 for the query's.
        let missing = |location, component| Error::IncompleteSignature {
            location,
            component,
        };
        assert_eq!(
            missing(SignatureLocation::Header, "Signature")
                .to_s3_error()
                .message,
            "The authorization header is malformed; the authorization header requires three \
             components: Credential, SignedHeaders, and Signature."
        );
        assert_eq!(
            missing(SignatureLocation::Query, "X-Amz-Expires")
                .to_s3_error()
                .message,
            "Query-string authentication version 4 requires the X-Amz-Algorithm, \
             X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and \
             X-Amz-Expires parameters."
        );
        // hubrick/vertx-s3-client#5, aws/aws-sdk-java#484.
        for error in [
            Error::MissingDate,
            Error::MalformedDate {
                value: "20170509T154625+01".to_owned(),
            },
        ] {
            let s3 = error.to_s3_error();
            assert_eq!(
                (s3.code, s3.status, s3.message.as_str()),
                (
                    "AccessDenied",
                    403,
                    "AWS authentication requires a valid Date or x-amz-date header"
                )
            );
        }
        for error in [
            region(SignatureLocation::Header, None),
            region(SignatureLocation::PostForm, Some("us-east-1")),
            dates(SignatureLocation::Query),
            dates(SignatureLocation::PostForm),
            credential(SignatureLocation::PostForm, shape),
            credential(
                SignatureLocation::Header,
                CredentialFault::Date {
                    date: "2015083O".to_owned(),
                },
            ),
            credential(
                SignatureLocation::Query,
                CredentialFault::Terminator {
                    terminator: "aws5_request".to_owned(),
                },
            ),
            missing(SignatureLocation::PostForm, "policy"),
        ] {
            assert_eq!(error.to_s3_error().message, error.to_string());
        }
    }

    /// The query and JSON services fail the signature for a scope of another day or another
    /// terminator, in the IAM User Guide's words ("Troubleshoot signed requests for AWS
    /// APIs"; the values as tedder/requests-aws4auth#7 shows them); S3 calls the header or
    /// the query malformed, and a POST form's field an invalid argument.
    #[test]
    fn a_scope_of_another_day_or_terminator_fails_the_signature() {
        let day = |location| Error::ScopeDateMismatch {
            location,
            scope_date: "20151124".to_owned(),
            request_date: "20151125".to_owned(),
            request_time: "20151125T154140Z".to_owned(),
        };
        let terminator = |location| Error::MalformedCredential {
            location,
            credential: "AKID/20151125/us-east-1/sts/aws5_request".to_owned(),
            fault: CredentialFault::Terminator {
                terminator: "aws5_request".to_owned(),
            },
        };
        for (location, s3_code) in [
            (SignatureLocation::Header, "AuthorizationHeaderMalformed"),
            (
                SignatureLocation::Query,
                "AuthorizationQueryParametersError",
            ),
        ] {
            for (error, words) in [
                (
                    day(location),
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of \
                     date from HTTP: '20151124' != '20151125', from '20151125T154140Z'.",
                ),
                (
                    terminator(location),
                    "Credential should be scoped with a valid terminator: 'aws4_request', not \
                     'aws5_request'.",
                ),
            ] {
                let aws = error.to_aws_error();
                assert_eq!((aws.code, aws.status), ("SignatureDoesNotMatch", 403));
                assert_eq!(aws.message, words);
                let json = error.to_json_error(JsonProtocol::AwsJson);
                assert_eq!(
                    (json.code, json.status, json.message.as_str()),
                    ("InvalidSignatureException", 400, words)
                );
                let s3 = error.to_s3_error();
                assert_eq!((s3.code, s3.status), (s3_code, 400), "{error}");
                assert_ne!(s3.message, words);
            }
        }
        for error in [
            day(SignatureLocation::PostForm),
            terminator(SignatureLocation::PostForm),
        ] {
            let aws = error.to_aws_error();
            assert_eq!(
                (aws.code, aws.message),
                ("InvalidArgument", error.to_string())
            );
        }
    }

    /// S3 answers a required header left unsigned as it answers `x-amz-*` headers left
    /// unsigned, naming it in `HeadersNotSigned` (aws/aws-sdk-java#1680 for `host`); the
    /// `x-amz-*` ones this crate requires for any service too. An unsigned `Date` keeps the
    /// error's own words, for want of a record.
    #[test]
    fn s3_words_for_a_required_header_left_unsigned() {
        for (header, listed) in [
            ("host", true),
            ("x-amz-date", true),
            ("x-amz-trailer", true),
            ("date", false),
        ] {
            for location in [SignatureLocation::Header, SignatureLocation::Query] {
                let error = Error::RequiredHeaderNotSigned { location, header };
                let s3 = error.to_s3_error();
                assert_eq!((s3.code, s3.status), ("AccessDenied", 403));
                assert_eq!(error.headers_not_signed(), listed.then_some(header));
                if listed {
                    assert_eq!(
                        s3.message,
                        "There were headers present in the request which were not signed"
                    );
                } else {
                    assert_eq!(s3.message, error.to_string());
                }
                assert_eq!(error.to_aws_error().message, error.to_string());
            }
        }
    }

    /// The query and JSON services answer a header they cannot read `IncompleteSignature`,
    /// and for a credential of other than five elements, "Credential must have exactly 5
    /// slash-delimited elements, e.g. keyid/date/region/service/term, got '…'" (SQS's query
    /// XML in boto/boto3#1081, DynamoDB's JSON in dynamoose/dynamoose#1208); for a header
    /// with no date, "Authorization header requires existence of either a 'X-Amz-Date' or a
    /// 'Date' header." (API Gateway's in badslug/Paw-AWSSignature4DynamicValue#5, SES's in
    /// brendanhay/amazonka#316 begins alike). A credential of five elements, one of them
    /// empty, keeps the error's own words: AWS's would say it has the five it has.
    #[test]
    fn query_and_json_words_for_a_header_they_cannot_read() {
        let credential = |value: &str, elements| Error::MalformedCredential {
            location: SignatureLocation::Header,
            credential: value.to_owned(),
            fault: CredentialFault::Shape { elements },
        };
        let short = credential("AKID/20150830/sts/aws4_request", 4);
        let answers = |error: &Error| {
            [
                error.to_aws_error(),
                error.to_json_error(JsonProtocol::AwsJson),
                error.to_json_error(JsonProtocol::RestJson),
            ]
        };
        for answer in answers(&short) {
            assert_eq!(answer.status, 400);
            assert!(answer.code.starts_with("IncompleteSignature"), "{answer:?}");
            assert_eq!(
                answer.message,
                "Credential must have exactly 5 slash-delimited elements, e.g. \
                 keyid/date/region/service/term, got 'AKID/20150830/sts/aws4_request'"
            );
        }
        let empty_region = credential("AKID/20150830//sts/aws4_request", 5);
        for answer in answers(&empty_region) {
            assert_eq!(answer.message, empty_region.to_string());
        }
        for answer in answers(&Error::MissingDate) {
            assert_eq!(
                (answer.status, answer.message.as_str()),
                (
                    400,
                    "Authorization header requires existence of either a 'X-Amz-Date' or a \
                     'Date' header."
                )
            );
        }
    }

    /// S3 lists `EntityTooLarge` as `400 Bad Request`, in its own words; other services
    /// answer a body over their limit with HTTP's 413.
    #[test]
    fn entity_too_large_is_400_in_s3_terms_only() {
        let error = Error::BodyTooLarge {
            limit: 10,
            declared: None,
        };
        let (aws, s3) = (error.to_aws_error(), error.to_s3_error());
        assert_eq!((aws.code, aws.status), ("EntityTooLarge", 413));
        assert_eq!((s3.code, s3.status), ("EntityTooLarge", 400));
        assert_eq!(error.http_status(), 413);
        // S3's words (versity/versitygw#2041); the limit is in its answer's elements.
        assert_eq!(
            s3.message,
            "Your proposed upload exceeds the maximum allowed size"
        );
        assert_eq!(aws.message, "body too large: more than 10 bytes");
    }

    /// A streamed upload without `x-amz-decoded-content-length` is S3's
    /// `MissingContentLength`, 411, in every error format.
    #[test]
    fn a_missing_decoded_length_is_411_in_either_terms() {
        let error = Error::MissingDecodedContentLength;
        let (aws, s3) = (error.to_aws_error(), error.to_s3_error());
        assert_eq!((aws.code, aws.status), ("MissingContentLength", 411));
        assert_eq!((s3.code, s3.status), ("MissingContentLength", 411));
        assert_eq!(error.http_status(), 411);
        assert!(error.is_peer_fault());
    }

    /// The JSON-protocol services name the authentication failures `…Exception`, as their
    /// answers show: `{"__type":"UnrecognizedClientException","message":"The security token
    /// included in the request is invalid."}` from Cognito (ArranJacques/laravel-aws-cognito-auth#25)
    /// and DynamoDB (yegor256/s3auth#244); `InvalidSignatureException`, "Signature expired:
    /// 20151120T200815Z is now earlier than …", from Kinesis (remind101/logspout-kinesis#21)
    /// for a request time out of the window; `ExpiredTokenException` from DynamoDB
    /// (aws/aws-sdk-java#2730); `MissingAuthenticationTokenException` and
    /// `IncompleteSignatureException` in DynamoDB's list of errors. The rest keep their codes.
    /// The statuses are each protocol's ([`JsonProtocol`]'s sources).
    #[test]
    fn json_services_name_authentication_failures_as_exceptions() {
        let at = std::time::UNIX_EPOCH;
        let cases = [
            (
                Error::UnknownAccessKey {
                    access_key_id: "AKID".to_owned(),
                },
                "UnrecognizedClientException",
                (403, 400),
            ),
            (
                Error::SignatureDoesNotMatch {
                    details: Box::default(),
                },
                "InvalidSignatureException",
                (403, 400),
            ),
            (
                Error::RequestTimeTooSkewed {
                    request_time: at,
                    server_time: at,
                    max_skew_secs: 900,
                },
                "InvalidSignatureException",
                (403, 400),
            ),
            (
                Error::ExpiredToken { expired_at: at },
                "ExpiredTokenException",
                (403, 400),
            ),
            (
                Error::MissingAuthentication,
                "MissingAuthenticationTokenException",
                (403, 400),
            ),
            (
                Error::MissingDate,
                "IncompleteSignatureException",
                (400, 400),
            ),
            (
                Error::SessionTokenNotSigned,
                "AccessDeniedException",
                (403, 400),
            ),
            (
                Error::BodyTooLarge {
                    limit: 10,
                    declared: None,
                },
                "EntityTooLarge",
                (413, 413),
            ),
        ];
        // (restJson's status, awsJson's): awsJson sends its client faults as 400,
        // authentication failures included.
        for (error, code, (rest_status, aws_json_status)) in cases {
            let rest = error.to_json_error(JsonProtocol::RestJson);
            assert_eq!((rest.code, rest.status), (code, rest_status), "{error}");
            assert_eq!(rest.status, error.http_status(), "{error}");
            // AWS's words where it has them (pinned below), the error's own otherwise.
            let words = error.aws_words(Dialect::Json(JsonProtocol::RestJson));
            assert_eq!(
                rest.message,
                words.map_or_else(|| error.to_string(), str::to_owned)
            );
            let aws_json = error.to_json_error(JsonProtocol::AwsJson);
            assert_eq!(
                (aws_json.code, aws_json.status),
                (code, aws_json_status),
                "{error}"
            );
        }
    }

    /// EC2 names the failures of authentication its own way, as its answers show:
    /// `AuthFailure` with 401 for a signature that does not match (aws/aws-sdk-java-v2#2981's
    /// wire log, aws/aws-sdk-java#2508's status) and for a key it does not know (moto's EC2
    /// answers both so); `RequestExpired` with 400 for a request time out of the window
    /// (aws/aws-sdk-java#1443, with static keys), for credentials past their expiry
    /// (aws/aws-sdk-go-v2#1674) and for a presigned request out of its time (EC2's list of
    /// common errors); `MissingParameter` for no authentication at all
    /// (awsdocs/aws-doc-sdk-examples#4026); `InternalError` for a failure of the server's own
    /// (EC2's list of server error codes). The rest keep the query services' codes and
    /// statuses.
    #[test]
    fn ec2_names_authentication_failures_its_own_way() {
        let at = std::time::UNIX_EPOCH;
        let cases = [
            (
                Error::SignatureDoesNotMatch {
                    details: Box::default(),
                },
                "AuthFailure",
                401,
            ),
            (
                Error::UnknownAccessKey {
                    access_key_id: "AKID".to_owned(),
                },
                "AuthFailure",
                401,
            ),
            (Error::SessionTokenMissing, "AuthFailure", 401),
            (Error::SessionTokenMismatch, "AuthFailure", 401),
            (
                Error::RequestTimeTooSkewed {
                    request_time: at,
                    server_time: at,
                    max_skew_secs: 900,
                },
                "RequestExpired",
                400,
            ),
            (
                Error::ExpiredToken { expired_at: at },
                "RequestExpired",
                400,
            ),
            (
                Error::PresignedExpired {
                    expired_at: at,
                    expires_secs: 60,
                    server_time: at,
                },
                "RequestExpired",
                400,
            ),
            (
                Error::PresignedNotYetValid {
                    valid_from: at,
                    request_time: at,
                    expires_at: at,
                    server_time: at,
                },
                "RequestExpired",
                400,
            ),
            (Error::MissingAuthentication, "MissingParameter", 400),
            (Error::MissingDate, "IncompleteSignature", 400),
            (
                Error::BodyTooLarge {
                    limit: 10,
                    declared: None,
                },
                "EntityTooLarge",
                413,
            ),
            (
                Error::CredentialLookupFailed {
                    reason: "down".to_owned(),
                },
                "InternalError",
                500,
            ),
        ];
        for (error, code, status) in cases {
            let ec2 = error.to_ec2_error();
            assert_eq!((ec2.code, ec2.status), (code, status), "{error}");
            assert_eq!(ec2.code, error.ec2_error_code(), "{error}");
            let expected = match code {
                "AuthFailure" => {
                    "AWS was not able to validate the provided access credentials".to_owned()
                }
                "MissingParameter" => {
                    "The request must contain the parameter AWSAccessKeyId".to_owned()
                }
                "RequestExpired" => "Request has expired.".to_owned(),
                _ => error.to_string(),
            };
            assert_eq!(ec2.message, expected, "{error}");
        }
    }

    /// The authentication failures read in AWS's words, as each family's recorded answers
    /// word them (sources at [`Error::aws_words`]): STS's `InvalidClientTokenId` without a
    /// full stop, the JSON services' with one; the expired token; a mismatch; no
    /// authentication; S3's own words for each. The error's `Display` keeps the cause.
    #[test]
    fn authentication_failures_read_in_aws_words() {
        let at = std::time::UNIX_EPOCH;
        let unknown = Error::UnknownAccessKey {
            access_key_id: "AKID".to_owned(),
        };
        let mismatch = Error::SignatureDoesNotMatch {
            details: Box::default(),
        };
        let expired = Error::ExpiredToken { expired_at: at };
        let presigned_expired = Error::PresignedExpired {
            expired_at: at,
            expires_secs: 60,
            server_time: at,
        };
        let presigned_early = Error::PresignedNotYetValid {
            valid_from: at,
            request_time: at,
            expires_at: at,
            server_time: at,
        };
        const INVALID: &str = "The security token included in the request is invalid";
        const S3_UNKNOWN: &str =
            "The AWS Access Key Id you provided does not exist in our records.";
        // (error, query, JSON, S3)
        let cases = [
            (
                &unknown,
                INVALID.to_owned(),
                format!("{INVALID}."),
                S3_UNKNOWN,
            ),
            (
                &Error::SessionTokenMissing,
                INVALID.to_owned(),
                format!("{INVALID}."),
                S3_UNKNOWN,
            ),
            (
                &Error::SessionTokenMismatch,
                INVALID.to_owned(),
                format!("{INVALID}."),
                "The provided token is malformed or otherwise invalid.",
            ),
            (
                &expired,
                "The security token included in the request is expired".to_owned(),
                "The security token included in the request is expired".to_owned(),
                "The provided token has expired.",
            ),
            (
                &mismatch,
                "The request signature we calculated does not match the signature you \
                 provided. Check your AWS Secret Access Key and signing method. Consult the \
                 service documentation for details."
                    .to_owned(),
                "The request signature we calculated does not match the signature you \
                 provided. Check your AWS Secret Access Key and signing method. Consult the \
                 service documentation for details."
                    .to_owned(),
                "The request signature we calculated does not match the signature you \
                 provided. Check your key and signing method.",
            ),
            (
                &presigned_expired,
                presigned_expired.to_string(),
                presigned_expired.to_string(),
                "Request has expired",
            ),
            (
                &presigned_early,
                presigned_early.to_string(),
                presigned_early.to_string(),
                "Request is not yet valid",
            ),
        ];
        for (error, query, json, s3) in cases {
            assert_eq!(error.to_aws_error().message, query, "{error:?}");
            for protocol in [JsonProtocol::AwsJson, JsonProtocol::RestJson] {
                assert_eq!(error.to_json_error(protocol).message, json, "{error:?}");
            }
            assert_eq!(error.to_s3_error().message, s3, "{error:?}");
        }
        // No authentication: STS's words (aws/aws-sdk-net#681), DynamoDB's alike
        // (amazon-archives/aws-dynamodb-session-tomcat#42), Lambda's (brefphp/bref#1250) and
        // S3's their own.
        let missing = Error::MissingAuthentication;
        let aws_json = missing.to_json_error(JsonProtocol::AwsJson);
        let rest_json = missing.to_json_error(JsonProtocol::RestJson);
        assert_eq!(
            missing.to_aws_error().message,
            "Request is missing Authentication Token"
        );
        assert_eq!(aws_json.message, "Request is missing Authentication Token");
        assert_eq!(rest_json.message, "Missing Authentication Token");
        assert_eq!(missing.to_s3_error().message, "Access Denied");
        // The cause stays in the error's own words.
        assert_eq!(unknown.to_string(), "unknown access key ID \"AKID\"");
        // A scope the endpoint does not serve, under the mismatch's code in STS's words
        // (cognitect-labs/aws-api#27); a service only where the one served is known.
        let region = Error::RegionNotAccepted {
            location: SignatureLocation::Header,
            region: "us-east-2".to_owned(),
            expected: None,
        };
        let query = region.to_aws_error();
        assert_eq!(query.code, "SignatureDoesNotMatch");
        assert_eq!(
            query.message,
            "Credential should be scoped to a valid region, not 'us-east-2'."
        );
        let service = |expected: Option<&str>| Error::ServiceNotAccepted {
            location: SignatureLocation::Header,
            service: "sts".to_owned(),
            expected: expected.map(str::to_owned),
        };
        assert_eq!(
            service(Some("batch")).to_aws_error().message,
            "Credential should be scoped to correct service: 'batch'."
        );
        assert_eq!(
            service(None).to_aws_error().message,
            service(None).to_string()
        );
    }

    /// A request time out of the window reads as STS's answers do, word for word: aws/aws-cli#6676
    /// (too early) and a Terraform report from STS, QT-DevOps/DevOpsIssues#989 (too late);
    /// Kinesis's and Rekognition's answers (remind101/logspout-kinesis#21,
    /// m0ngr31/kanzi#270) read alike with their own window ("- 5 min.").
    #[test]
    fn a_skewed_request_time_reads_as_aws_words_it() {
        let at = |text| crate::parse_amz_date(text).expect("an X-Amz-Date");
        let cases = [
            (
                "20220127T001427Z",
                "20220127T015928Z",
                900,
                "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z \
                 (20220127T015928Z - 15 min.)",
            ),
            (
                "20210112T194419Z",
                "20210112T071125Z",
                900,
                "Signature not yet current: 20210112T194419Z is still later than \
                 20210112T072625Z (20210112T071125Z + 15 min.)",
            ),
            (
                "20180707T233021Z",
                "20180710T071714Z",
                300,
                "Signature expired: 20180707T233021Z is now earlier than 20180710T071214Z \
                 (20180710T071714Z - 5 min.)",
            ),
        ];
        for (request, server, max_skew_secs, words) in cases {
            let error = Error::RequestTimeTooSkewed {
                request_time: at(request),
                server_time: at(server),
                max_skew_secs,
            };
            assert_eq!(error.to_string(), words);
        }
        // A window that is not whole minutes is not rounded to one.
        let error = Error::RequestTimeTooSkewed {
            request_time: at("20220127T000000Z"),
            server_time: at("20220127T000200Z"),
            max_skew_secs: 90,
        };
        assert_eq!(
            error.to_string(),
            "Signature expired: 20220127T000000Z is now earlier than 20220127T000030Z \
             (20220127T000200Z - 90 s)"
        );
    }

    /// Times in messages are written as `X-Amz-Date` writes them, not as `SystemTime`'s debug
    /// form (`SystemTime { tv_sec: … }`).
    #[test]
    fn times_read_like_x_amz_date() {
        // 1,440,938,160 s is 2015-08-30T12:36:00Z, the AWS test suite's request time.
        let at = |secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        let messages = [
            Error::PresignedExpired {
                expired_at: at(1_440_938_220),
                expires_secs: 60,
                server_time: at(1_440_938_280),
            }
            .to_string(),
            Error::RequestTimeTooSkewed {
                request_time: at(1_440_938_160),
                server_time: at(1_440_939_160),
                max_skew_secs: 900,
            }
            .to_string(),
        ];
        assert_eq!(messages[0], "presigned request expired at 20150830T123700Z");
        assert_eq!(
            messages[1],
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123740Z \
             (20150830T125240Z - 15 min.)"
        );
    }
}
