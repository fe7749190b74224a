//! A `tower::Layer` that verifies SigV4 for hyper 1 / axum services.

use std::fmt;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Either, Full, Limited};

use crate::auth::{
    format_amz_date, format_iso8601, has_presigned_query, has_sigv2_query, is_sigv2_header,
};
use crate::checksum::ClaimedChecksum;
use crate::chunked::{ChunkLimits, ChunkedBody};
use crate::error::{clip, clip_to, Error, JsonProtocol, MismatchDetails, MAX_ECHOED_SIGNING_TEXT};
use crate::multipart::{PostFileScan, PostFormHead};
use crate::post::PostForm;
use crate::verify::{
    uses_s3_rules, Accept, CredentialLookup, Headers, Payload, RequestView, StreamedPayloadHash,
    VerifiedRequest, Verifier,
};

/// The wire format of error responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ErrorFormat {
    /// The form the request's protocol reads, told from the request as botocore and the SDKs
    /// send it (the protocols of botocore's service models):
    /// - S3's XML and codes when the credential scope names `s3` or another service that
    ///   [`uses_s3_rules`] (whatever the content type of the object it carries), and to a
    ///   request signed with Signature Version 2 the way only S3 took it (an `AWS AKID:…`
    ///   header, or `AWSAccessKeyId` in a query naming no `Action`), and to a
    ///   `multipart/form-data` `POST` with neither an `Authorization` header nor a query
    ///   (S3's browser uploads), when the verifier takes them
    ///   ([`Verifier::post_object_bucket`]);
    /// - EC2's XML and codes when the credential scope names `ec2`, whose clients read only
    ///   EC2's own form ([`ErrorFormat::Ec2Query`]);
    /// - JSON to an awsJson or restJson request with a JSON body (`application/x-amz-json-*`
    ///   or `application/json` content type, or an `X-Amz-Target` header), or one that
    ///   accepts `application/json`;
    /// - CBOR to a Smithy RPC v2 CBOR request (`smithy-protocol: rpc-v2-cbor`, or an
    ///   `application/cbor` content type);
    /// - the query-protocol XML to a query request (a form body,
    ///   `application/x-www-form-urlencoded`, or an `Action` in the query) and to the other
    ///   restXml services (`cloudfront`, `route53`), which answer in the same `ErrorResponse`;
    /// - restJson's JSON to any other request: most services are restJson, and their clients
    ///   send no content type without a body (botocore for Lambda's `ListFunctions`), so an
    ///   answer in XML would reach them as code `403`.
    ///
    /// A layer whose verifier accepts service `s3` alone answers every request in S3's form,
    /// also one with no SigV4 to name its service; one that accepts `ec2` alone, in EC2's.
    #[default]
    Auto,
    /// `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`
    /// (STS, IAM, SQS query). The message of a `SignatureDoesNotMatch` goes on with the
    /// canonical request and string-to-sign, as AWS's query and JSON services' does: see
    /// [`Error::to_aws_error`]. The same in the JSON and CBOR forms.
    QueryXml,
    /// EC2's `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`
    /// (`text/xml;charset=UTF-8`, as EC2's answers quoted in aws/aws-sdk-java-v2#2981 and
    /// javaquery/Examples#4), with EC2's error codes and statuses ([`Error::ec2_error_code`]:
    /// `AuthFailure` 401, `RequestExpired` 400, `MissingParameter` 400, `InternalError` 500).
    /// EC2's clients read the code there alone: aws-sdk-rust's and the Java and Go SDKs' EC2
    /// parsers look for `Errors`, and find no code in the query form. The message in EC2's
    /// words where it has them ([`Error::to_ec2_error`]).
    Ec2Query,
    /// `<Error><Code/><Message/>…</Error>` with S3's error codes ([`Error::s3_error_code`]).
    /// As S3's, a `SignatureDoesNotMatch` carries `AWSAccessKeyId`, `StringToSign`,
    /// `SignatureProvided`, `StringToSignBytes`, `CanonicalRequest` and
    /// `CanonicalRequestBytes` (each text cut to its first 8 KiB, its bytes in hex to the
    /// same; S3's answers quoted in aws/aws-cli#4356 and s3tools/s3cmd#1053 show the order
    /// and the form), and an `InvalidAccessKeyId` its `AWSAccessKeyId`. As S3's too, a body
    /// that is not what the request said is answered in S3's words ([`Error::to_s3_error`])
    /// with the values beside them: `ClientComputedContentSHA256` and
    /// `S3ComputedContentSHA256` for `x-amz-content-sha256`, `CalculatedDigest` (base64) and
    /// `ExpectedDigest` (hex) for `Content-MD5`, and the `Content-MD5` of an `InvalidDigest`;
    /// an `InvalidArgument` names its argument (`ArgumentName`, `ArgumentValue`: an
    /// `Authorization` header's scheme alone, where S3 echoes it whole). A chunk of an
    /// `aws-chunked` body that breaks the chain is answered alike, with the chunk's
    /// string-to-sign and signature and without the canonical elements (its data is what
    /// it hashes); a trailer, with its canonical lines as the `CanonicalRequest`.
    RestXml,
    /// `{"__type": code, "message": …}` with `x-amzn-ErrorType` (JSON protocols), with the
    /// JSON services' codes ([`Error::json_error_code`]). To an awsJson request (an
    /// `application/x-amz-json-*` content type or an `X-Amz-Target`) in its version
    /// (`application/x-amz-json-1.0` when the request is, `-1.1` otherwise) and with its
    /// statuses (400 for an authentication failure); to any other request as restJson
    /// (`application/json`, 403): see [`JsonProtocol`]. To a service that keeps its
    /// query-era errors (SQS; a request with `x-amzn-query-mode: true`), also the query code in
    /// `x-amzn-query-error` (`InvalidClientTokenId;Sender`), which its clients report, with
    /// the query protocol's status.
    Json,
    /// Smithy RPC v2 CBOR (CloudWatch, and services new since 2024): the JSON form's
    /// `{"__type": code, "message": …}` as a CBOR map, `application/cbor`, with the
    /// `smithy-protocol: rpc-v2-cbor` header the protocol's clients check, and the awsJson
    /// codes and statuses ([`JsonProtocol::AwsJson`]); to CloudWatch, which keeps its
    /// query-era errors, with `x-amzn-query-error` as [`ErrorFormat::Json`].
    Cbor,
}

/// Layer policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LayerSettings {
    /// Largest body buffered for verification (default 10 MiB). A body whose signature can be
    /// checked from the head, because the payload is `UNSIGNED-PAYLOAD` (S3's presigned
    /// uploads, SDKs told not to sign payloads) or its SHA-256 is in `x-amz-content-sha256`
    /// (S3's signed uploads: up to 5 GiB in one PUT), is not buffered when it is larger (a
    /// `Content-Length` over this) or may be (none): it is passed on as it is read, within
    /// [`Self::max_streamed_body_bytes`], and held to its hash at its end (see
    /// [`VerifiedBody`]). One of no declared length is read up to this first (within
    /// [`Self::body_timeout`]): one that ends there is buffered and checked before the
    /// service runs, as if it had declared its length; past either, what was read is passed
    /// on ahead of the rest. Any other body larger than this (its SHA-256 is part of the
    /// canonical request, so the signature waits for all of it) gets `EntityTooLarge` (400 in
    /// S3's format, as from S3; 413 in the others).
    pub max_body_bytes: usize,
    /// How long reading the whole (non-streaming) body may take (default 30 s); past it, the
    /// request is answered `RequestTimeout` (400), as S3 answers a stalled upload. (A body of
    /// no declared length that could have been passed on is passed on instead: see
    /// [`Self::max_body_bytes`].)
    pub body_timeout: Duration,
    /// How long a read of a streamed body (`aws-chunked`, or one passed on unbuffered) may
    /// wait for the peer's next byte before the body fails with
    /// `RequestTimeout` (default 20 s); the time the service spends
    /// between its reads does not count. Streamed bodies have no total time limit, so this
    /// is what stops a client that stalls mid-upload from holding the request forever.
    pub body_idle_timeout: Duration,
    /// Largest decoded size a streamed (`aws-chunked`) body may declare in
    /// `x-amz-decoded-content-length` (default 5 GiB, S3's largest single upload); a larger
    /// one is refused with `EntityTooLarge` before its body is read. The body is then held
    /// to the size it declared. The largest body passed on unbuffered, too
    /// (its `Content-Length` is refused above it; without one, the body fails past it).
    pub max_streamed_body_bytes: u64,
    /// Limits on the chunks of a streamed (`aws-chunked`) body: the largest chunk, which is
    /// held until its signature verifies (a larger one fails the body with `EntityTooLarge`),
    /// the longest chunk-header or trailer line and the most trailer lines (default
    /// [`ChunkLimits::default`]: 16 MiB, 4 KiB, 16).
    pub chunk_limits: ChunkLimits,
    /// How long a verification may wait for the [`CredentialLookup`] (default 10 s); past it
    /// the request is refused as a server-side failure (500: `InternalFailure`, S3's
    /// `InternalError`), so a lookup
    /// backend that hangs cannot hold requests forever.
    pub lookup_timeout: Duration,
    /// Error response format.
    pub error_format: ErrorFormat,
}

impl Default for LayerSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 * 1024 * 1024,
            body_timeout: Duration::from_secs(30),
            body_idle_timeout: Duration::from_secs(20),
            max_streamed_body_bytes: 5 * 1024 * 1024 * 1024,
            chunk_limits: ChunkLimits::default(),
            lookup_timeout: Duration::from_secs(10),
            error_format: ErrorFormat::Auto,
        }
    }
}

/// Verifies every request; passes verified ones on with the [`crate::VerifiedRequest`] in
/// their extensions, answers the rest with an AWS error response.
///
/// The layer bounds what it reads of a body ([`LayerSettings`]); the request head and the
/// response are the server's: give hyper a header-read timeout
/// (`http1().header_read_timeout`) and a connection limit, as for any public endpoint, and
/// `http1().half_close(true)` if clients may shut their side down once they have sent a
/// request (hyper otherwise closes such a connection without an answer).
///
/// Where it goes: on the router that sees the path the client signed. axum hands a router
/// added with `Router::nest("/prefix", inner)` its paths without the prefix, so a layer on
/// `inner` rebuilds the canonical request for a path nobody signed and refuses every request
/// (`SignatureDoesNotMatch`): put it on the outer router. Everything that reaches it must be
/// signed, unknown routes too (403 rather than 404, so routes cannot be probed): a layer that
/// answers unsigned requests itself, such as CORS preflights (browsers send `OPTIONS` without
/// credentials), goes outside it.
///
/// A streamed (`aws-chunked`) body reaches the service as it arrives, each chunk checked
/// against its signature as the service reads it: a handler must read the body to its end
/// before it acts on the upload or answers. An unread chunk is an unchecked one (when a chunk
/// fails, the layer answers with the failure in place of the service's answer), and an answer
/// given over a body still arriving has hyper close the connection under it, which the client
/// can see as a reset instead of the answer. `examples/sigv4_service.rs` reads every body.
///
/// S3's browser uploads (POST Object: a `multipart/form-data` `POST` without an `Authorization`
/// header or a query, to `/{bucket}`, or to `/` at a virtual-hosted bucket's host when
/// [`VerifierSettings::s3_domains`](crate::VerifierSettings::s3_domains) names the service's
/// domains; [`Verifier::post_object_bucket`] says which, and none to a verifier whose
/// `services` name none with S3's rules) are verified by their form
/// ([`Verifier::verify_post`]): the layer reads the fields before the file (at most 20 KiB),
/// and the service gets a [`VerifiedPost`](crate::VerifiedPost) in the extensions, not a
/// [`VerifiedRequest`] (a handler that asks only for the latter fails these requests:
/// `examples/sigv4_service.rs` takes either), and the whole body as sent, fields and all. The
/// layer follows the file as the service reads it and fails the body when the file is outside
/// the policy's `content-length-range`, is not what the form's `Content-MD5` or
/// `x-amz-checksum-*` field claims (`BadDigest`), or the body ends inside it.
///
/// One thing SigV4 leaves unsigned the layer cannot make one way: the order of a repeated
/// query parameter's values (`?id=1&id=2` and `?id=2&id=1` sign alike, since the canonical
/// query sorts them). Reordering them would change what a client meant by a list, and refusing
/// them would refuse valid requests, so the service must not give that order a meaning.
///
/// In front of an axum `Router` (the inner service reads a [`VerifiedBody`], which axum's
/// extractors take like any body):
///
/// ```no_run
/// use std::sync::Arc;
/// use axum::{routing::post, Extension, Router};
/// use edgeward_signing::{
///     LayerSettings, ResolvedCredential, SigV4Layer, StaticCredentials, VerifiedRequest,
///     Verifier, VerifierSettings,
/// };
///
/// async fn whoami(Extension(verified): Extension<VerifiedRequest>, body: bytes::Bytes) -> String {
///     format!("{} sent {} bytes", verified.principal(), body.len())
/// }
///
/// # async fn run() -> std::io::Result<()> {
/// let lookup = StaticCredentials::new()
///     .with("AKIDEXAMPLE", ResolvedCredential::new("secret", "alice"));
/// let verifier = Arc::new(Verifier::new(lookup, VerifierSettings::default()));
/// let app = Router::new()
///     .route("/", post(whoami))
///     .layer(SigV4Layer::new(verifier, LayerSettings::default()));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
pub struct SigV4Layer<L> {
    verifier: Arc<Verifier<L>>,
    settings: Arc<LayerSettings>,
}

impl<L> Clone for SigV4Layer<L> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<L> fmt::Debug for SigV4Layer<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Layer")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<L> SigV4Layer<L> {
    /// A layer around a shared verifier.
    pub fn new(verifier: Arc<Verifier<L>>, mut settings: LayerSettings) -> Self {
        // In front of S3 alone, every refusal is S3's, also that of a request whose missing or
        // unreadable signature names no service; likewise EC2's in front of EC2 alone.
        let only = |name: &str| {
            matches!(
                &verifier.settings().services,
                Accept::OneOf(services) if matches!(services.as_slice(), [only] if only == name)
            )
        };
        if settings.error_format == ErrorFormat::Auto {
            if only("s3") {
                settings.error_format = ErrorFormat::RestXml;
            } else if only("ec2") {
                settings.error_format = ErrorFormat::Ec2Query;
            }
        }
        Self {
            verifier,
            settings: Arc::new(settings),
        }
    }
}

impl<S, L> tower_layer::Layer<S> for SigV4Layer<L> {
    type Service = SigV4Service<S, L>;

    fn layer(&self, inner: S) -> Self::Service {
        SigV4Service {
            inner,
            verifier: self.verifier.clone(),
            settings: self.settings.clone(),
        }
    }
}

/// The service [`SigV4Layer`] produces.
pub struct SigV4Service<S, L> {
    inner: S,
    verifier: Arc<Verifier<L>>,
    settings: Arc<LayerSettings>,
}

impl<S: Clone, L> Clone for SigV4Service<S, L> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            verifier: self.verifier.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<S, L> fmt::Debug for SigV4Service<S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Service")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The request body the inner service sees: the buffered body, already verified; an
/// `aws-chunked` body verified chunk by chunk as it is read; or a body that may be too large
/// to buffer (over [`LayerSettings::max_body_bytes`], or of no declared length and still
/// coming past it or past the body timeout) whose request
/// was verified from its head, passed on as it is read: an `UNSIGNED-PAYLOAD` one, checked
/// at its end against its checksum header, if any, or a signed SHA-256 one, checked at its
/// end against that SHA-256 (`XAmzContentSHA256Mismatch`, as S3 answers) and its checksum
/// header. The [`crate::VerifiedRequest`] of such a signed one reports
/// [`crate::PayloadKind::Sha256`] with `body_checked: false`: the check is this body's.
///
/// A streamed body that fails (a chunk or trailer signature, its hash or checksum, its
/// length, the idle timeout) yields the [`Error`] to its reader, and [`SigV4Service`] then
/// answers the request with that error in AWS's format in place of whatever the inner service
/// answered: the client's SDK sees `SignatureDoesNotMatch` or `BadDigest`, not the service's
/// reaction to a failed read (axum's `Bytes` extractor, for one, answers a plain-text 400).
/// A service must not commit anything it read from a body that ended in an error. Only an
/// `aws-chunked` body's bytes are authentic as they come (each chunk's signature is checked
/// before its data is released); a passed-on signed SHA-256 body's are authentic only once
/// the body has ended without an error, so a service that would act on part of one (its
/// first bytes, say) reads to the end first.
pub struct VerifiedBody<B: Body> {
    inner: BodyKind<B>,
}

enum BodyKind<B: Body> {
    Buffered(Full<Bytes>),
    /// A body verified from the head that may be too large to buffer (its length over the
    /// limit, or not declared), passed on as it is read: `UNSIGNED-PAYLOAD`, whose size and
    /// checksum header are left to check, or a signed SHA-256 in `x-amz-content-sha256`,
    /// which the body must match at its end as well. Of no declared length, its first
    /// bytes, read ahead to see whether it fits the buffer, go first.
    PassedOn {
        body: Box<PassedOnBody<TimedBody<B>>>,
        failure: Arc<BodyFailure>,
        drain: DrainRaw<B>,
    },
    /// A streamed body read and checked to its end before the service was called: its
    /// trailers frame, if any (the data is empty).
    Checked(Option<Frame<Bytes>>),
    Chunked {
        body: Box<ChunkedBody<TimedBody<B>>>,
        failure: Arc<BodyFailure>,
        drain: DrainRaw<B>,
    },
}

/// [`Drain::spawn`] for the raw body type, made where the layer knows it can be sent to a
/// task (so that [`VerifiedBody`]'s `Body` impl asks nothing more of it).
type DrainRaw<B> = fn(Drain, B);

impl<B: Body> BodyKind<B> {
    /// The raw body under a streamed or passed-on one (not read any further than it was), and
    /// how to drain it; `None` for a body the layer has read whole.
    fn into_raw(self) -> Option<(B, DrainRaw<B>)> {
        match self {
            Self::Chunked { body, drain, .. } => {
                Some((body.into_inner().into_inner().into_inner(), drain))
            }
            Self::PassedOn { body, drain, .. } => {
                Some((body.inner.into_inner().into_inner(), drain))
            }
            Self::Buffered(_) | Self::Checked(_) => None,
        }
    }
}

/// A streamed body under its idle timeout, failing with this crate's errors, so that the
/// chunk decoder passes a timeout on as one (`RequestTimeout`), not as a failed read.
type TimedBody<B> = http_body_util::combinators::MapErr<
    IdleTimeoutBody<B>,
    fn(IdleTimeoutError<<B as Body>::Error>) -> Error,
>;

/// A body passed on as read: held to `limit` bytes, its transport trailers (which nothing
/// signed) dropped, and checked at its end against the signed SHA-256, if the payload is one
/// (`XAmzContentSHA256Mismatch`), then the checksum header the request carries, if any
/// (`BadDigest`).
struct PassedOnBody<B> {
    inner: B,
    /// The body's first bytes, read before it was passed on ([`read_start`]): yielded first.
    start: Option<Bytes>,
    payload_hash: Option<StreamedPayloadHash>,
    checksum: Option<ClaimedChecksum>,
    /// A POST Object body: where its file ends, and its size against the policy's range.
    file: Option<PostFileScan>,
    limit: u64,
    read: u64,
    finished: bool,
}

impl<B> Body for PassedOnBody<B>
where
    B: Body<Error = Error> + Unpin,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        use bytes::Buf;
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        if let Some(start) = this.start.take() {
            return Poll::Ready(Some(this.pass_on(start)));
        }
        loop {
            let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(frame) => frame,
            };
            match frame {
                Some(Ok(frame)) => {
                    let Ok(mut data) = frame.into_data() else {
                        continue;
                    };
                    let data = data.copy_to_bytes(data.remaining());
                    return Poll::Ready(Some(this.pass_on(data)));
                }
                Some(Err(error)) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    this.finished = true;
                    let checked = this
                        .payload_hash
                        .take()
                        .map_or(Ok(()), StreamedPayloadHash::check)
                        .and_then(|()| this.checksum.take().map_or(Ok(()), ClaimedChecksum::check))
                        .and_then(|()| {
                            this.file
                                .take()
                                .map_or(Ok(()), |file| file.finish().map(drop))
                        });
                    return match checked {
                        Err(error) => Poll::Ready(Some(Err(error))),
                        Ok(()) => Poll::Ready(None),
                    };
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        // With a hash or checksum to check, the end is the poll that finds it.
        self.finished
            || (self.start.is_none()
                && self.payload_hash.is_none()
                && self.checksum.is_none()
                && self.file.is_none()
                && self.inner.is_end_stream())
    }

    fn size_hint(&self) -> http_body::SizeHint {
        let rest = self.inner.size_hint();
        let Some(start) = &self.start else {
            return rest;
        };
        let start = start.len() as u64;
        let mut hint = http_body::SizeHint::new();
        hint.set_lower(rest.lower().saturating_add(start));
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper.saturating_add(start));
        }
        hint
    }
}

impl<B> PassedOnBody<B> {
    /// `data`, the body's next bytes, counted against the limit and added to the hash and
    /// checksum it is checked against at its end.
    fn pass_on(&mut self, data: Bytes) -> Result<Frame<Bytes>, Error> {
        self.read = self.read.saturating_add(data.len() as u64);
        if self.read > self.limit {
            self.finished = true;
            return Err(Error::BodyTooLarge {
                limit: self.limit,
                declared: None,
            });
        }
        if let Some(hash) = &mut self.payload_hash {
            hash.update(&data);
        }
        if let Some(checksum) = &mut self.checksum {
            checksum.update(&data);
        }
        if let Some(file) = &mut self.file {
            if let Err(error) = file.update(&data) {
                self.finished = true;
                return Err(error);
            }
        }
        Ok(Frame::data(data))
    }
}

/// What [`read_start`] read of a body.
enum BodyStart {
    /// All of it: the body ended within the limit.
    Whole(Bytes),
    /// Its first bytes, past the limit or all that came in the time allowed; the rest is
    /// still to read.
    Part(Bytes),
}

/// The first bytes of a body, read ahead before it is passed on: within
/// [`LayerSettings::body_timeout`] in all, each wait for the peer within
/// [`LayerSettings::body_idle_timeout`]. The idle clock is the read ahead's own: one left
/// running where the body timeout cut a wait short would count the service's time before its
/// first read as the peer's silence. Transport trailers, which nothing signed, are dropped.
struct ReadAhead<'a, B: Body + Unpin> {
    body: TimedBody<&'a mut B>,
    deadline: tokio::time::Instant,
    read: bytes::BytesMut,
}

/// What [`ReadAhead::more`] found.
enum ReadMore {
    /// Another frame's bytes (maybe none) were added.
    Read,
    /// The body ended.
    Ended,
    /// The body timeout passed.
    TimedOut,
}

impl<'a, B> ReadAhead<'a, B>
where
    B: Body + Unpin,
    B::Error: fmt::Display,
{
    fn new(body: &'a mut B, settings: &LayerSettings) -> Self {
        Self {
            body: IdleTimeoutBody::new(body, settings.body_idle_timeout)
                .map_err(timed_body_error::<B::Error>),
            deadline: tokio::time::Instant::now() + settings.body_timeout,
            read: bytes::BytesMut::new(),
        }
    }

    /// Reads the next frame into [`ReadAhead::read`].
    async fn more(&mut self) -> Result<ReadMore, Error> {
        use bytes::Buf;
        let frame = match tokio::time::timeout_at(self.deadline, self.body.frame()).await {
            Err(_elapsed) => return Ok(ReadMore::TimedOut),
            Ok(None) => return Ok(ReadMore::Ended),
            Ok(Some(frame)) => frame?,
        };
        if let Ok(mut data) = frame.into_data() {
            while data.has_remaining() {
                let chunk = data.chunk();
                let len = chunk.len();
                self.read.extend_from_slice(chunk);
                data.advance(len);
            }
        }
        Ok(ReadMore::Read)
    }
}

/// Reads `body` until it ends, has passed [`LayerSettings::max_body_bytes`], or
/// [`LayerSettings::body_timeout`] has passed ([`ReadAhead`]).
async fn read_start<B>(body: &mut B, settings: &LayerSettings) -> Result<BodyStart, Error>
where
    B: Body + Unpin,
    B::Error: fmt::Display,
{
    let mut ahead = ReadAhead::new(body, settings);
    while ahead.read.len() <= settings.max_body_bytes {
        match ahead.more().await? {
            ReadMore::Read => {}
            ReadMore::Ended => return Ok(BodyStart::Whole(ahead.read.freeze())),
            ReadMore::TimedOut => break,
        }
    }
    Ok(BodyStart::Part(ahead.read.freeze()))
}

/// Reads a POST Object body until its head (the fields before the file, at most
/// [`crate::MAX_POST_FORM_BYTES`]) is whole ([`ReadAhead`]): what was read, and the head.
async fn read_post_head<B>(
    body: &mut B,
    content_type: &str,
    settings: &LayerSettings,
) -> Result<(Bytes, PostFormHead), Error>
where
    B: Body + Unpin,
    B::Error: fmt::Display,
{
    let mut ahead = ReadAhead::new(body, settings);
    loop {
        if let Some(head) = PostForm::parse_multipart(content_type, &ahead.read)? {
            return Ok((ahead.read.freeze(), head));
        }
        match ahead.more().await? {
            ReadMore::Read => {}
            ReadMore::Ended => {
                return Err(Error::MalformedPostForm {
                    reason: "the body ends before its file part".to_owned(),
                })
            }
            ReadMore::TimedOut => {
                return Err(Error::BodyTimeout {
                    reason: format!(
                        "the form's fields took longer than {} ms (body timeout)",
                        settings.body_timeout.as_millis()
                    ),
                })
            }
        }
    }
}

/// A streamed body's read error: a timeout as [`Error::BodyTimeout`].
fn timed_body_error<E: fmt::Display>(error: IdleTimeoutError<E>) -> Error {
    match error {
        IdleTimeoutError::Idle(_) => Error::BodyTimeout {
            reason: error.to_string(),
        },
        IdleTimeoutError::Inner(inner) => Error::BodyRead {
            reason: inner.to_string(),
        },
    }
}

/// Where a streamed body leaves the answer to its failure for [`SigV4Service`]: rendered when
/// the body fails (in the format resolved for the request), taken when the inner service has
/// answered.
struct BodyFailure {
    format: ResolvedFormat,
    answer: std::sync::Mutex<Option<Response<Full<Bytes>>>>,
    /// How the rest of the body is read and dropped once it fails (`None` over HTTP/2).
    drain: Option<Drain>,
}

impl BodyFailure {
    /// Nothing recorded yet, for a body of the request `parts` under `settings`.
    fn for_request(parts: &http::request::Parts, settings: &LayerSettings) -> Self {
        Self {
            // The body passed verification: without SigV4 in a header or query, it is a POST
            // Object's, which only a verifier that takes forms lets through.
            format: resolve_format(settings.error_format, parts, true),
            answer: std::sync::Mutex::new(None),
            drain: Drain::after_failure(parts.version, settings),
        }
    }

    fn record(&self, error: &Error) {
        if let Ok(mut answer) = self.answer.lock() {
            answer.get_or_insert_with(|| render_error(error, self.format));
        }
    }

    fn take(&self) -> Option<Response<Full<Bytes>>> {
        self.answer.lock().ok()?.take()
    }

    /// Passes `polled` on; a failure is recorded, and `failed` set to how the rest of the body
    /// is to be drained.
    fn watch<T>(
        &self,
        polled: Poll<Option<Result<T, Error>>>,
        failed: &mut Option<Drain>,
    ) -> Poll<Option<Result<T, Error>>> {
        if let Poll::Ready(Some(Err(error))) = &polled {
            self.record(error);
            *failed = self.drain;
        }
        polled
    }
}

/// How much of a body the layer reads and drops behind an answer that refused it, and for how
/// long: a lingering close (RFC 9112, 9.6), so that hyper's close does not reset the
/// connection under the answer while the client is still sending.
#[derive(Debug, Clone, Copy)]
struct Drain {
    limit: u64,
    within: Duration,
    /// The most a read may wait for the peer.
    idle: Duration,
}

impl Drain {
    /// Reads and drops `body` in a task of its own, up to the limit, within the time; past
    /// either (or at the body's end, or an error) the body is dropped and hyper closes. Not
    /// outside a tokio runtime.
    fn spawn<B>(self, body: B)
    where
        B: Body + Unpin + Send + 'static,
        B::Data: Send,
    {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut body = IdleTimeoutBody::new(body, self.idle);
        let limit = self.limit;
        let read_and_drop = async move {
            let mut read = 0u64;
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    read = read.saturating_add(bytes::Buf::remaining(data) as u64);
                    if read > limit {
                        return;
                    }
                }
            }
        };
        runtime.spawn(tokio::time::timeout(self.within, read_and_drop));
    }

    /// The drain behind a body that failed part way through (it was being sent, so whether the
    /// client asked `Expect: 100-continue` no longer matters): at most the largest body the
    /// layer takes, while the client keeps sending (`body_idle_timeout` between reads) and
    /// within the longer of the two body timeouts. None over HTTP/2, where the stream ends
    /// alone.
    fn after_failure(version: http::Version, settings: &LayerSettings) -> Option<Self> {
        (version <= http::Version::HTTP_11).then(|| Self {
            limit: settings.max_streamed_body_bytes,
            within: settings.body_timeout.max(settings.body_idle_timeout),
            idle: settings.body_idle_timeout,
        })
    }
}

/// A request body that fails when the peer sends nothing for a while (the streamed-body
/// idle timeout of [`LayerSettings::body_idle_timeout`]).
pub struct IdleTimeoutBody<B> {
    inner: B,
    idle: Duration,
    /// Made on the first poll that finds no frame: until the service reads the body, the peer
    /// is not late (a client that sent `Expect: 100-continue` sends nothing before that read).
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Whether the clock runs: from a poll that found no frame to the next frame. Between a
    /// frame and the next read the service is busy, not the peer late (and the server reads
    /// nothing from the peer until it is asked to).
    waiting: bool,
}

impl<B> IdleTimeoutBody<B> {
    /// The body it wraps.
    pub(crate) fn into_inner(self) -> B {
        self.inner
    }

    /// Wraps `inner`; the clock runs while a read of the body waits for the peer: it starts
    /// when a poll finds no frame and stops at the next frame.
    pub fn new(inner: B, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            deadline: None,
            waiting: false,
        }
    }
}

impl<B> fmt::Debug for IdleTimeoutBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdleTimeoutBody")
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

/// Why an [`IdleTimeoutBody`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum IdleTimeoutError<E> {
    /// The wrapped body failed.
    Inner(E),
    /// Nothing arrived within the idle timeout.
    Idle(Duration),
}

impl<E> fmt::Display for IdleTimeoutError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The inner error is the `source`: an error chain prints it once.
            Self::Inner(_) => f.write_str("reading the body failed"),
            Self::Idle(idle) => write!(
                f,
                "no body data for {} ms (streamed-body idle timeout)",
                idle.as_millis()
            ),
        }
    }
}

/// So the body is an ordinary one: hyper and axum take bodies whose error converts into a
/// boxed `std::error::Error`.
impl<E: std::error::Error + 'static> std::error::Error for IdleTimeoutError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Inner(e) => Some(e),
            Self::Idle(_) => None,
        }
    }
}

impl<B> Body for IdleTimeoutBody<B>
where
    B: Body + Unpin,
{
    type Data = B::Data;
    type Error = IdleTimeoutError<B::Error>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame.map(|f| f.map_err(IdleTimeoutError::Inner)))
            }
            Poll::Pending => {
                // The clock starts now, not at the last frame: however long the service took
                // over that one, the peer has had `idle` from this read on.
                if !std::mem::replace(&mut this.waiting, true) {
                    // Past the clock's end (`Duration::MAX`), a year is as good as never.
                    let now = tokio::time::Instant::now();
                    let until = now
                        .checked_add(this.idle)
                        .unwrap_or_else(|| now + Duration::from_secs(365 * 86_400));
                    match this.deadline.as_mut() {
                        Some(deadline) => deadline.as_mut().reset(until),
                        None => this.deadline = Some(Box::pin(tokio::time::sleep_until(until))),
                    }
                }
                match this
                    .deadline
                    .as_mut()
                    .map(|deadline| deadline.as_mut().poll(cx))
                {
                    Some(Poll::Ready(())) => {
                        Poll::Ready(Some(Err(IdleTimeoutError::Idle(this.idle))))
                    }
                    _ => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl<B: Body> fmt::Debug for VerifiedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            BodyKind::Buffered(_) => f.write_str("VerifiedBody::Buffered"),
            BodyKind::Checked(_) => f.write_str("VerifiedBody::Checked"),
            BodyKind::PassedOn { body, .. } => f.write_str(if body.payload_hash.is_some() {
                "VerifiedBody::PassedOn(Sha256)"
            } else if body.file.is_some() {
                "VerifiedBody::PassedOn(PostObject)"
            } else {
                "VerifiedBody::PassedOn(Unsigned)"
            }),
            BodyKind::Chunked { body, .. } => {
                f.debug_tuple("VerifiedBody::Chunked").field(body).finish()
            }
        }
    }
}

impl<B> Body for VerifiedBody<B>
where
    B: Body + Unpin,
    B::Error: fmt::Display,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        let mut failed = None;
        let polled = match &mut this.inner {
            BodyKind::Buffered(full) => Pin::new(full)
                .poll_frame(cx)
                .map_err(|never| match never {}),
            BodyKind::Checked(trailers) => Poll::Ready(trailers.take().map(Ok)),
            BodyKind::Chunked { body, failure, .. } => {
                failure.watch(Pin::new(body.as_mut()).poll_frame(cx), &mut failed)
            }
            BodyKind::PassedOn { body, failure, .. } => {
                failure.watch(Pin::new(body.as_mut()).poll_frame(cx), &mut failed)
            }
        };
        // The answer goes out in place of the service's, with the rest of the body still on
        // its way: it is read and dropped behind the answer, or closing resets the connection
        // under it (a lingering close, as for a refusal from the head).
        if let Some(drain) = failed {
            // The raw body, out of the idle clock that may just have fired.
            let failed = std::mem::replace(&mut this.inner, BodyKind::Checked(None));
            if let Some((raw, spawn)) = failed.into_raw() {
                spawn(drain, raw);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            BodyKind::Buffered(full) => full.is_end_stream(),
            BodyKind::Checked(trailers) => trailers.is_none(),
            BodyKind::Chunked { body, .. } => body.is_end_stream(),
            BodyKind::PassedOn { body, .. } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match &self.inner {
            BodyKind::Buffered(full) => full.size_hint(),
            BodyKind::Checked(_) => http_body::SizeHint::with_exact(0),
            BodyKind::Chunked { body, .. } => body.size_hint(),
            BodyKind::PassedOn { body, .. } => body.size_hint(),
        }
    }
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// The elements S3 adds after an error's message: the region to sign for, the unknown key,
/// the clocks of a skew or of a presigned request out of its time, the digests of a body
/// unlike its request, the argument refused, the headers left unsigned, a body's or a browser
/// upload's size against its bound, or what a mismatch was computed from; nothing for the
/// other errors.
fn s3_error_details(error: &Error) -> String {
    if let Some(region) = error.expected_region() {
        return format!("<Region>{}</Region>", xml_escape(region));
    }
    match *error {
        Error::UnknownAccessKey { ref access_key_id } => format!(
            "<AWSAccessKeyId>{}</AWSAccessKeyId>",
            xml_escape(access_key_id)
        ),
        // S3's answer to a skewed clock (versitygw#1514 quotes it): the request's time as
        // `X-Amz-Date` writes it, the server's in ISO 8601's extended form, and the window.
        Error::RequestTimeTooSkewed {
            request_time,
            server_time,
            max_skew_secs,
        } => format!(
            "<RequestTime>{}</RequestTime><ServerTime>{}</ServerTime>\
             <MaxAllowedSkewMilliseconds>{}</MaxAllowedSkewMilliseconds>",
            format_amz_date(request_time),
            format_iso8601(server_time),
            max_skew_secs.saturating_mul(1000)
        ),
        // S3's answers to a presigned request out of its time: the expiry both as sent and
        // as a time, and the server's (aws/aws-sdk-php#1333); before its time, the request's
        // time where `X-Amz-Expires` stood, in milliseconds since the epoch as S3 writes it
        // there (minio/minio#2638, dmjio/s3-signer#16).
        Error::PresignedExpired {
            expired_at,
            expires_secs,
            server_time,
        } => format!(
            "<X-Amz-Expires>{expires_secs}</X-Amz-Expires><Expires>{}</Expires>\
             <ServerTime>{}</ServerTime>",
            format_iso8601(expired_at),
            format_iso8601(server_time)
        ),
        Error::PresignedNotYetValid {
            request_time,
            expires_at,
            server_time,
            ..
        } => format!(
            "<X-Amz-Date>{}</X-Amz-Date><Expires>{}</Expires><ServerTime>{}</ServerTime>",
            unix_millis(request_time),
            format_iso8601(expires_at),
            format_iso8601(server_time)
        ),
        // What S3's answers to a body that is not what the request said carry beside the
        // words (grosskur/lua-resty-aws#2 quotes the first; versity/versitygw#2034 and
        // dandi/dandi-cli#1257 the second, the expected MD5 in hex; versity/versitygw#1526
        // the third).
        Error::PayloadHashMismatch {
            ref claimed,
            ref computed,
        } => format!(
            "<ClientComputedContentSHA256>{}</ClientComputedContentSHA256>\
             <S3ComputedContentSHA256>{}</S3ComputedContentSHA256>",
            xml_escape(claimed),
            xml_escape(computed)
        ),
        Error::ChecksumMismatch {
            name: "Content-MD5",
            ref claimed,
            ref computed,
        } => format!(
            "<CalculatedDigest>{}</CalculatedDigest><ExpectedDigest>{}</ExpectedDigest>",
            xml_escape(computed),
            xml_escape(&md5_in_hex(claimed))
        ),
        Error::InvalidContentMd5 { ref value } => {
            format!("<Content-MD5>{}</Content-MD5>", xml_escape(value))
        }
        // S3's `InvalidArgument` names the argument and echoes it (versity/versitygw#1352,
        // catalyst/moodle-tool_objectfs#303).
        Error::MalformedPayloadHash { ref value } => argument("x-amz-content-sha256", value),
        // The header's scheme alone (S3 echoes the whole header, which may be a bearer
        // token): see the errors.
        Error::MultipleAuthMechanisms { ref scheme }
        | Error::UnsupportedAlgorithm {
            location: crate::SignatureLocation::Header,
            algorithm: ref scheme,
        } => argument("Authorization", scheme),
        // S3 lists the headers it found unsigned (soto-project/soto#374; a recorded answer
        // names two, `, `-separated; aws/aws-sdk-java#1680 names `host`).
        Error::UnsignedAmzHeaders { .. } | Error::RequiredHeaderNotSigned { .. } => error
            .headers_not_signed()
            .map(|names| format!("<HeadersNotSigned>{}</HeadersNotSigned>", xml_escape(names)))
            .unwrap_or_default(),
        Error::PostFileSize { size, min, max } => {
            if size < min {
                size_elements(Some(size), "MinSizeAllowed", min)
            } else {
                size_elements(Some(size), "MaxSizeAllowed", max)
            }
        }
        // As S3 answers a `PUT` over 5 GiB (versity/versitygw#2041 quotes it); a body refused
        // as it arrived has no size to propose.
        Error::BodyTooLarge { limit, declared } => size_elements(declared, "MaxSizeAllowed", limit),
        _ => error
            .mismatch_details()
            .map(mismatch_elements)
            .unwrap_or_default(),
    }
}

/// S3's elements for an upload's size against a bound: `ProposedSize` where the size is
/// known, then the bound under its name (`MinSizeAllowed`, `MaxSizeAllowed`).
fn size_elements(proposed: Option<u64>, bound_name: &str, bound: u64) -> String {
    let proposed = proposed
        .map(|size| format!("<ProposedSize>{size}</ProposedSize>"))
        .unwrap_or_default();
    format!("{proposed}<{bound_name}>{bound}</{bound_name}>")
}

/// `time` in milliseconds since the Unix epoch, negative before it.
fn unix_millis(time: SystemTime) -> i128 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) => i128::try_from(since.as_millis()).unwrap_or(i128::MAX),
        Err(before) => i128::try_from(before.duration().as_millis()).map_or(i128::MIN, |ms| -ms),
    }
}

/// The elements S3 adds to a `SignatureDoesNotMatch`: what the mismatch was computed from.
fn mismatch_elements(details: &MismatchDetails) -> String {
    // Both are as long as the peer made them (a head of hyper's ~400 KB, and escaping can
    // make a byte six): cut, so that the answer to a forged request does not grow with it.
    // S3's 8 KiB head keeps its own echo short.
    let echo = |text| xml_escape(&clip_to(text, MAX_ECHOED_SIGNING_TEXT));
    // S3's order, each text followed by its bytes in hex (a stray byte that prints as
    // nothing shows there).
    let mut elements = format!(
        "<AWSAccessKeyId>{}</AWSAccessKeyId>\
         <StringToSign>{}</StringToSign>\
         <SignatureProvided>{}</SignatureProvided>\
         <StringToSignBytes>{}</StringToSignBytes>",
        xml_escape(&details.access_key_id),
        echo(&details.string_to_sign),
        xml_escape(&details.signature_provided),
        spaced_hex(&details.string_to_sign),
    );
    // A chunk's string-to-sign hashes its data, which is not echoed.
    if !details.canonical_request.is_empty() {
        let _ = write!(
            elements,
            "<CanonicalRequest>{}</CanonicalRequest>\
             <CanonicalRequestBytes>{}</CanonicalRequestBytes>",
            echo(&details.canonical_request),
            spaced_hex(&details.canonical_request),
        ); // to a `String`: cannot fail
    }
    elements
}

/// S3's `ArgumentName` and `ArgumentValue` elements.
fn argument(name: &str, value: &str) -> String {
    format!(
        "<ArgumentName>{name}</ArgumentName><ArgumentValue>{}</ArgumentValue>",
        xml_escape(value)
    )
}

/// A `Content-MD5` value (the base64 of an MD5) in hex, as S3's `ExpectedDigest` writes it;
/// as it came if it is not base64 (it was then refused before the body).
fn md5_in_hex(claimed: &str) -> String {
    use base64::Engine as _;
    match base64::engine::general_purpose::STANDARD.decode(claimed.trim_matches([' ', '\t'])) {
        Ok(md5) => hex::encode(md5),
        Err(_) => claimed.to_owned(),
    }
}

/// The first [`MAX_ECHOED_SIGNING_TEXT`] bytes of `text` as S3's `StringToSignBytes` shows
/// them: two lower-case hex digits a byte, a space between.
fn spaced_hex(text: &str) -> String {
    let bytes = &text.as_bytes()[..text.len().min(MAX_ECHOED_SIGNING_TEXT)];
    let mut out = String::with_capacity(bytes.len() * 3);
    for byte in bytes {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{byte:02x}"); // to a `String`: cannot fail
    }
    out
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not characters at all to XML 1.0 (its `Char`), escaped or not, yet a header
            // value may carry them (as UTF-8 obs-text): a parser would refuse the whole answer
            // and an SDK read no error code.
            '\u{fffe}' | '\u{ffff}' => out.push(char::REPLACEMENT_CHARACTER),
            c if c < ' ' && !matches!(c, '\t' | '\n' | '\r') => {
                out.push(char::REPLACEMENT_CHARACTER);
            }
            c => out.push(c),
        }
    }
    out
}

fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Renders `error` as the AWS error response `format` describes (`Auto` resolved by the
/// request's headers, and `takes_forms`: [`resolve_format`]).
pub(crate) fn error_response(
    error: &Error,
    format: ErrorFormat,
    request: &http::request::Parts,
    takes_forms: bool,
) -> Response<Full<Bytes>> {
    render_error(error, resolve_format(format, request, takes_forms))
}

/// [`Verifier::verify`] as of `arrived` (when the request's head came: a body read in between
/// does not move the request out of its time window), bounded by `limit`: only the credential
/// lookup waits, and a lookup that does not answer is the server's failure, not the
/// requester's. `as_received` is the headers before [`join_cookie_crumbs`] joined them, tried
/// when the joined ones do not match.
async fn verify_within<L: CredentialLookup>(
    verifier: &Verifier<L>,
    view: &RequestView<'_>,
    as_received: Option<&http::HeaderMap>,
    payload: Payload<'_>,
    arrived: SystemTime,
    limit: Duration,
) -> Result<crate::VerifiedRequest, Error> {
    let verified = verify_once(verifier, view, payload, arrived, limit).await;
    match (verified, as_received) {
        // Cookie crumbs joined with `"; "` did not match: the signer may have had them apart.
        (Err(Error::SignatureDoesNotMatch { .. }), Some(headers)) => {
            let view = RequestView {
                headers: Headers::Map(headers),
                ..*view
            };
            verify_once(verifier, &view, payload, arrived, limit).await
        }
        (verified, _) => verified,
    }
}

/// One verification as of `arrived`, its lookup given `limit`.
async fn verify_once<L: CredentialLookup>(
    verifier: &Verifier<L>,
    view: &RequestView<'_>,
    payload: Payload<'_>,
    arrived: SystemTime,
    limit: Duration,
) -> Result<crate::VerifiedRequest, Error> {
    tokio::time::timeout(limit, verifier.verify_as_of(view, payload, Some(arrived)))
        .await
        .unwrap_or_else(|_| {
            Err(Error::CredentialLookupFailed {
                reason: format!("the credential lookup did not answer within {limit:?}"),
            })
        })
}

/// The error format of one request: [`ErrorFormat`] resolved for it, and the content type a
/// JSON answer carries.
#[derive(Debug, Clone, Copy)]
struct ResolvedFormat {
    /// Never `Auto`.
    format: ErrorFormat,
    /// The JSON protocol the request speaks, by its content type and `X-Amz-Target`.
    json_protocol: JsonProtocol,
    /// The request's own JSON protocol version, `application/x-amz-json-1.0` or `-1.1`
    /// (1.1 for any other awsJson request), or restJson's `application/json`: an SDK reads
    /// the error in the version it speaks.
    json_content_type: &'static str,
    /// The request is to a service that moved from the query protocol to JSON or CBOR and
    /// keeps its query-era errors (Smithy's `awsQueryCompatible`: SQS, CloudWatch): its
    /// clients say so with `x-amzn-query-mode: true`, or the scope names one of them. A JSON
    /// or CBOR answer then carries the query code in `x-amzn-query-error` (`Code;Sender`),
    /// which botocore and the JavaScript and Go SDKs report as the error's code, with the
    /// query protocol's status: SQS's `InvalidClientTokenId` reached the Go SDK as 403
    /// (argoproj/notifications-engine#382).
    query_compatible: bool,
}

/// The services whose Smithy model has `awsQueryCompatible` (botocore's models: `sqs`, and
/// CloudWatch, which signs as `monitoring`), for their clients that send no
/// `x-amzn-query-mode`.
const QUERY_COMPATIBLE_SERVICES: [&str; 2] = ["sqs", "monitoring"];

/// `format`, with `Auto` resolved by `request`'s headers and credential scope. `takes_forms`:
/// the verifier takes S3's browser uploads ([`Verifier::takes_post_forms`]), so that a
/// `multipart/form-data` `POST` without SigV4 is answered as S3 would; to one that takes none,
/// such a request is no different from any other unauthenticated one.
fn resolve_format(
    format: ErrorFormat,
    request: &http::request::Parts,
    takes_forms: bool,
) -> ResolvedFormat {
    let media_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(str::trim);
    let starts_with = |prefix: &str| {
        media_type.is_some_and(|media_type| {
            media_type
                .get(..prefix.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
        })
    };
    let aws_json =
        starts_with("application/x-amz-json") || request.headers.contains_key("x-amz-target");
    let (json_protocol, json_content_type) = match media_type {
        _ if !aws_json => (JsonProtocol::RestJson, "application/json"),
        Some(media_type) if media_type.eq_ignore_ascii_case("application/x-amz-json-1.0") => {
            (JsonProtocol::AwsJson, "application/x-amz-json-1.0")
        }
        _ => (JsonProtocol::AwsJson, "application/x-amz-json-1.1"),
    };
    let accepts_json = || {
        request
            .headers
            .get_all(http::header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|range| range.split(';').next())
            .any(|range| range.trim().eq_ignore_ascii_case("application/json"))
    };
    let json = aws_json || starts_with("application/json") || accepts_json();
    let cbor = || {
        request
            .headers
            .get("smithy-protocol")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"rpc-v2-cbor"))
            || starts_with("application/cbor")
    };
    let names_an_action = || {
        request.uri.query().is_some_and(|query| {
            query
                .split('&')
                .any(|parameter| parameter.starts_with("Action="))
        })
    };
    let query = || starts_with("application/x-www-form-urlencoded") || names_an_action();
    // Signature Version 2 the way only S3 took it: an `AWS AKID:…` header, or a presigned URL
    // (`AWSAccessKeyId` in a query that names no query-API action). Such a client reads S3's
    // XML, and retries with SigV4 on S3's words (`Error::SignatureVersion2`).
    let signed_for_s3_v2 = || {
        request
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_sigv2_header)
            || (request.uri.query().is_some_and(has_sigv2_query) && !names_an_action())
    };
    // A form POSTed without SigV4 in a header or query: only S3 takes one (POST Object).
    let browser_upload = || {
        takes_forms
            && request.method == http::Method::POST
            && starts_with("multipart/form-data")
            && request.uri.query().is_none_or(str::is_empty)
            && !request.headers.contains_key(http::header::AUTHORIZATION)
    };
    let service = RequestView::from_parts(request).claimed_service();
    let service = service.as_deref();
    let query_compatible = request
        .headers
        .get("x-amzn-query-mode")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
        || service.is_some_and(|service| QUERY_COMPATIBLE_SERVICES.contains(&service));
    let format = match format {
        ErrorFormat::Auto => {
            // S3 first: its objects are often JSON, and S3 answers in XML whatever it stores.
            if service.is_some_and(uses_s3_rules) || signed_for_s3_v2() || browser_upload() {
                ErrorFormat::RestXml
            } else if service == Some("ec2") {
                ErrorFormat::Ec2Query
            } else if json {
                ErrorFormat::Json
            } else if cbor() {
                ErrorFormat::Cbor
            } else if query() || matches!(service, Some("cloudfront" | "route53")) {
                ErrorFormat::QueryXml
            } else {
                ErrorFormat::Json
            }
        }
        other => other,
    };
    ResolvedFormat {
        format,
        json_protocol,
        json_content_type,
        query_compatible,
    }
}

/// Renders `error` in `resolved` (`Auto` reads as the query XML).
fn render_error(error: &Error, resolved: ResolvedFormat) -> Response<Full<Bytes>> {
    let format = resolved.format;
    let mut aws = match format {
        ErrorFormat::RestXml => error.to_s3_error(),
        ErrorFormat::Json => error.to_json_error(resolved.json_protocol),
        ErrorFormat::Cbor => error.to_json_error(JsonProtocol::AwsJson),
        ErrorFormat::Ec2Query => error.to_ec2_error(),
        _ => error.to_aws_error(),
    };
    // A query-compatible service's JSON or CBOR answer: the query code beside the JSON one,
    // and the query protocol's status.
    let query = (resolved.query_compatible
        && matches!(format, ErrorFormat::Json | ErrorFormat::Cbor))
    .then(|| error.to_aws_error());
    if let Some(query) = &query {
        aws.status = query.status;
    }
    let request_id = format!(
        "edgeward-{:016x}",
        REQUEST_IDS.fetch_add(1, Ordering::Relaxed)
    );
    // A server-side fault (a lookup backend's error text, say) is the operator's to read, not
    // the requester's: the client gets AWS's generic words and the request ID to match the log.
    let message = if error.is_peer_fault() {
        tracing::debug!(code = aws.code, %request_id, %error, "SigV4 verification failed");
        aws.message.as_str()
    } else {
        tracing::warn!(code = aws.code, %request_id, %error, "SigV4 verification could not finish");
        "We encountered an internal error. Please try again."
    };
    let (content_type, body) = match format {
        ErrorFormat::Json => (
            resolved.json_content_type,
            format!("{{\"__type\":\"{}\",\"message\":\"{}\"}}", aws.code, json_escape(message))
                .into_bytes(),
        ),
        ErrorFormat::Cbor => {
            let mut body = vec![0xa2]; // a map of two pairs
            for text in ["__type", aws.code, "message", message] {
                push_cbor_text(&mut body, text);
            }
            ("application/cbor", body)
        }
        ErrorFormat::RestXml => {
            (
                "application/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>{}<RequestId>{request_id}</RequestId></Error>",
                    aws.code,
                    xml_escape(message),
                    s3_error_details(error),
                )
                .into_bytes(),
            )
        }
        ErrorFormat::Ec2Query => (
            "text/xml;charset=UTF-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
                aws.code,
                xml_escape(message)
            )
            .into_bytes(),
        ),
        _ => (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                query_fault(aws.status),
                aws.code,
                xml_escape(message)
            )
            .into_bytes(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        http::StatusCode::from_u16(aws.status).unwrap_or(http::StatusCode::FORBIDDEN);
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    if let Ok(id) = http::HeaderValue::try_from(request_id) {
        // S3 names its request ID header its own way (aws-sdk-s3 reads only that one).
        let name = match format {
            ErrorFormat::RestXml => "x-amz-request-id",
            _ => "x-amzn-requestid",
        };
        headers.insert(name, id);
    }
    if format == ErrorFormat::Json {
        headers.insert("x-amzn-errortype", http::HeaderValue::from_static(aws.code));
    }
    if let Some(query) = query {
        let value = format!("{};{}", query.code, query_fault(query.status));
        if let Ok(value) = http::HeaderValue::try_from(value) {
            headers.insert("x-amzn-query-error", value);
        }
    }
    if format == ErrorFormat::Cbor {
        headers.insert(
            "smithy-protocol",
            http::HeaderValue::from_static("rpc-v2-cbor"),
        );
    }
    if format == ErrorFormat::RestXml {
        // What botocore's region redirector reads from an answer to HEAD, which has no body.
        if let Some(Ok(region)) = error.expected_region().map(http::HeaderValue::from_str) {
            headers.insert("x-amz-bucket-region", region);
        }
    }
    response
}

/// Whose fault the query protocol says a refusal with `status` is: the `<Type>` of its
/// `ErrorResponse`, and the second half of `x-amzn-query-error`.
fn query_fault(status: u16) -> &'static str {
    if status >= 500 {
        "Receiver"
    } else {
        "Sender"
    }
}

/// Appends `text` as a CBOR text string (RFC 8949, 3.1: major type 3, its length in the
/// shortest form that holds it).
fn push_cbor_text(out: &mut Vec<u8>, text: &str) {
    push_cbor_text_head(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Appends the head of a CBOR text string of `length` bytes: major type 3 and the length in
/// the shortest form that holds it (apart from [`push_cbor_text`] so that the eight-byte form
/// is testable without a text of 4 GiB).
fn push_cbor_text_head(out: &mut Vec<u8>, length: u64) {
    const TEXT: u8 = 3 << 5;
    // The ranges make each cast exact.
    match length {
        0..=23 => out.push(TEXT | length as u8),
        24..=0xff => out.extend([TEXT | 24, length as u8]),
        0x100..=0xffff => {
            out.push(TEXT | 25);
            out.extend((length as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(TEXT | 26);
            out.extend((length as u32).to_be_bytes());
        }
        _ => {
            out.push(TEXT | 27);
            out.extend(length.to_be_bytes());
        }
    }
}

/// Makes the head of a streamed request describe the body the service reads, the decoded
/// one: `Content-Length` its length, `Content-Encoding` without `aws-chunked` (S3 keeps the
/// rest). A service that forwards the head would otherwise announce the encoded length and
/// send fewer bytes. A `Transfer-Encoding` (already undone by the server) goes: a message
/// with it must not carry `Content-Length` as well.
fn describe_decoded_body(headers: &mut http::HeaderMap, decoded_length: u64) {
    headers.remove(http::header::TRANSFER_ENCODING);
    headers.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(decoded_length),
    );
    // On the value's bytes: a coding that is not UTF-8 reaches the service as sent, not as
    // U+FFFD.
    let mut chunked = false;
    let mut kept: Vec<u8> = Vec::new();
    for value in headers.get_all(http::header::CONTENT_ENCODING) {
        for coding in value.as_bytes().split(|&b| b == b',') {
            let coding = coding.trim_ascii();
            if coding.eq_ignore_ascii_case(b"aws-chunked") {
                chunked = true;
            } else if !coding.is_empty() {
                if !kept.is_empty() {
                    kept.extend_from_slice(b", ");
                }
                kept.extend_from_slice(coding);
            }
        }
    }
    if !chunked {
        return;
    }
    headers.remove(http::header::CONTENT_ENCODING);
    if let Ok(value) = http::HeaderValue::from_bytes(&kept) {
        if !value.is_empty() {
            headers.insert(http::header::CONTENT_ENCODING, value);
        }
    }
}

/// SigV4 signs a header value trimmed of spaces and tabs at its ends, and an HTTP/1.1 server
/// strips them before the service sees the value (RFC 9112 5.1), but HTTP/2 hands them on:
/// RFC 9113 (8.2.1) makes such a request malformed, and a service would read a value other
/// than the one signed (`" reader\t"` for `reader`). So a signed header with one is refused.
fn check_signed_values_trimmed(
    headers: &http::HeaderMap,
    verified: &VerifiedRequest,
) -> Result<(), Error> {
    let blank = |byte: Option<&u8>| matches!(byte, Some(b' ' | b'\t'));
    for name in verified.signed_headers() {
        for value in headers.get_all(name) {
            let bytes = value.as_bytes();
            if blank(bytes.first()) || blank(bytes.last()) {
                return Err(Error::UntrimmedHeaderValue { name: clip(name) });
            }
        }
    }
    Ok(())
}

/// SigV4 signs a header that came as several field lines as their values joined by commas,
/// while a service that reads one value (`HeaderMap::get`, as most do) takes the first line
/// alone: a signed `x-amz-copy-source: bucket/a,b` sent as the two lines `bucket/a` and `b`
/// verifies, and would reach the service as `bucket/a`. So the lines of each signed header are
/// joined into one before the service sees them (RFC 9110 5.3 lets a recipient combine field
/// lines so), and what it reads is what was signed.
fn join_repeated_signed_headers(headers: &mut http::HeaderMap, verified: &VerifiedRequest) {
    // Counts values, not names: equal when no name came twice, the common case.
    if headers.len() == headers.keys_len() {
        return;
    }
    for name in verified.signed_headers() {
        let Ok(name) = http::HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        if let Some(joined) = joined_values(headers, &name, b",") {
            headers.insert(name, joined);
        }
    }
}

/// The values of `name` joined with `separator`, when there are two or more. They were valid
/// field values, and so is the join with a comma or `"; "`: it never fails.
fn joined_values(
    headers: &http::HeaderMap,
    name: &http::HeaderName,
    separator: &[u8],
) -> Option<http::HeaderValue> {
    let mut values = headers.get_all(name).iter();
    let (first, second) = (values.next()?, values.next()?);
    let mut joined = first.as_bytes().to_vec();
    for value in std::iter::once(second).chain(values) {
        joined.extend_from_slice(separator);
        joined.extend_from_slice(value.as_bytes());
    }
    http::HeaderValue::from_bytes(&joined).ok()
}

/// HTTP/2 and HTTP/3 let a client split `Cookie` into several fields ("crumbs", RFC 9113
/// 8.2.3, RFC 9114 4.2.1); a receiver joins them with `"; "` before anything else reads them.
/// A client that split the one `Cookie` it signed needs them joined so; one whose signer was
/// given the values apart signed them joined with `,`, as SigV4 joins any repeated header
/// (aws-sigv4 behind hyper's HTTP/2 client). The service reads the one cookie; the headers as
/// received come back, for [`verify_within`] to try when the joined ones do not match.
fn join_cookie_crumbs(parts: &mut http::request::Parts) -> Option<http::HeaderMap> {
    if parts.version < http::Version::HTTP_2 {
        return None;
    }
    let joined = joined_values(&parts.headers, &http::header::COOKIE, b"; ")?;
    let as_received = parts.headers.clone();
    parts.headers.insert(http::header::COOKIE, joined);
    Some(as_received)
}

/// The body's length as its `Content-Length` declares it, if it does (and it parses).
fn declared_length(parts: &http::request::Parts) -> Option<u64> {
    parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Whether a request has a body (one that may still be on its way, if not yet read).
fn has_body(request: &http::request::Parts) -> bool {
    request
        .headers
        .contains_key(http::header::TRANSFER_ENCODING)
        || request
            .headers
            .get(http::header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0")
}

/// An answer given before a request's whole body was read leaves the rest of the body on the
/// connection, and hyper closes the connection after the answer. Unless the answer says so
/// (RFC 9112, 9.6), a client that keeps connections alive sends its next request on the closed
/// one and sees it fail (urllib3's `RemoteDisconnected`). HTTP/2 ends the stream alone, and
/// forbids the header.
///
/// An HTTP/1.0 request gets an HTTP/1.0 answer here: to an HTTP/1.1 answer for an HTTP/1.0
/// client that asked to keep the connection, hyper appends `keep-alive` to `Connection`, and
/// `close, keep-alive` leaves the client to pick one.
fn announce_close<T>(response: &mut Response<T>, version: http::Version) {
    if version <= http::Version::HTTP_11 {
        if version <= http::Version::HTTP_10 {
            *response.version_mut() = version;
        }
        response.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
}

/// Reads and drops, in a task of its own, the body of a request refused from its head, when
/// that is bounded.
///
/// The answer says the connection closes (as any answer before the body does), and hyper
/// closes it once the body has been read: closing with the client's body still arriving makes
/// the server's TCP stack answer the rest with a reset, which can erase the refusal from the
/// client's receive buffer before it is read (RFC 9112, 9.6: a lingering close). Over TLS,
/// botocore then reported an `SSLError` and retried, and aws-sdk-rust a broken pipe, with no
/// `Date` to correct a skewed clock from. At most the declared length (up to
/// `max_streamed_body_bytes`), or `max_body_bytes` when none is declared, is read within
/// `body_timeout`, as for a body the layer buffers (a peer without a key can have it read, not
/// kept); past either the body is dropped and hyper closes at once. Not read: a client that
/// asked `Expect: 100-continue` (it has not sent the body), HTTP/2 (where the stream ends
/// alone), and a layer run outside a tokio runtime.
fn drain_behind_refusal<B>(parts: &http::request::Parts, body: B, settings: &LayerSettings)
where
    B: Body + Unpin + Send + 'static,
    B::Data: Send,
{
    let expects_continue = parts
        .headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let declared = declared_length(parts);
    if parts.version > http::Version::HTTP_11 || expects_continue {
        return;
    }
    // A declared length is read to its end (as far as the largest body the layer takes): a
    // body refused for its size is sent whole by clients that read no answer before they
    // have sent it, as botocore and aws-sdk-rust do.
    let limit = declared.map_or(settings.max_body_bytes as u64, |len| {
        len.min(settings.max_streamed_body_bytes)
    });
    Drain {
        limit,
        within: settings.body_timeout,
        idle: settings.body_timeout,
    }
    .spawn(body);
}

/// A body larger than this (or of unknown length) whose hash is not in a header is read only
/// after everything but the signature has been checked.
const PRECHECKED_BODY_BYTES: u64 = 64 * 1024;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, L, B, ResBody> tower_service::Service<Request<B>> for SigV4Service<S, L>
where
    S: tower_service::Service<Request<VerifiedBody<B>>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    L: CredentialLookup + 'static,
    B: Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: std::error::Error + Send + Sync + 'static,
    ResBody: Body<Data = Bytes>,
{
    type Response = Response<Either<ResBody, Full<Bytes>>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    /// Always ready: the inner service's readiness is taken once a request has verified.
    ///
    /// Readiness can be a reservation (tower's `ConcurrencyLimit` and `Buffer` take their
    /// permit in `poll_ready`), and a request is in the layer for up to the lookup and body
    /// timeouts before it verifies: passing readiness through let a peer without a key hold
    /// the service's capacity for that long. A limit belongs behind this layer, around the
    /// inner service, where only verified requests reach it: a `LoadShed` in front of the layer
    /// never sees it not ready, so it never sheds.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let mut inner = self.inner.clone();
        let verifier = self.verifier.clone();
        let settings = self.settings.clone();
        Box::pin(async move {
            let arrived = verifier.now();
            let (mut parts, body) = request.into_parts();
            let as_received = join_cookie_crumbs(&mut parts);
            // Asked of the verifier only for a refusal, which is when the format is needed.
            let refusal = |error: &Error, parts: &http::request::Parts| {
                error_response(
                    error,
                    settings.error_format,
                    parts,
                    verifier.takes_post_forms(),
                )
            };
            let reject_read = |error: Error, parts: &http::request::Parts| {
                Ok(refusal(&error, parts).map(Either::Right))
            };
            // Part way through the body: its rest is left on the connection.
            let reject_mid_body = |error: Error, parts: &http::request::Parts| {
                let mut response = refusal(&error, parts);
                announce_close(&mut response, parts.version);
                Ok(response.map(Either::Right))
            };
            // Before the whole body was read, if the head says there is one.
            let reject = |error: Error, parts: &http::request::Parts| {
                if has_body(parts) {
                    reject_mid_body(error, parts)
                } else {
                    reject_read(error, parts)
                }
            };
            // Refused from the head, with the body not yet touched: the answer goes out at
            // once, and the body is read behind it, so that closing does not reset the
            // connection under the answer (`drain_behind_refusal`).
            let refuse_unread = |error: Error, parts: &http::request::Parts, body: B| {
                if has_body(parts) {
                    drain_behind_refusal(parts, body, &settings);
                }
                reject(error, parts)
            };
            // Refused part way through reading the body ahead (its fields, or its start): the
            // rest is read and dropped behind the answer, while the client sends.
            let refuse_part_read = |error: Error, parts: &http::request::Parts, body: B| {
                if let Some(drain) = Drain::after_failure(parts.version, &settings) {
                    drain.spawn(body);
                }
                reject(error, parts)
            };
            let post_bucket = verifier.post_object_bucket(&RequestView::from_parts(&parts));
            if let Some(bucket) = post_bucket {
                let declared = declared_length(&parts);
                if declared.is_some_and(|len| len > settings.max_streamed_body_bytes) {
                    let error = Error::BodyTooLarge {
                        limit: settings.max_streamed_body_bytes,
                        declared,
                    };
                    return refuse_unread(error, &parts, body);
                }
                let content_type = parts
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut body = body;
                let (start, head) = match read_post_head(&mut body, &content_type, &settings).await
                {
                    Ok(read) => read,
                    Err(e) => return refuse_part_read(e, &parts, body),
                };
                let verified = match tokio::time::timeout(
                    settings.lookup_timeout,
                    verifier.verify_post_as_of(&head.form, &bucket, Some(arrived)),
                )
                .await
                {
                    Ok(Ok(verified)) => verified,
                    Ok(Err(e)) => return refuse_part_read(e, &parts, body),
                    Err(_elapsed) => {
                        let error = Error::CredentialLookupFailed {
                            reason: format!(
                                "the credential lookup did not answer within {:?}",
                                settings.lookup_timeout
                            ),
                        };
                        return refuse_part_read(error, &parts, body);
                    }
                };
                let checks = PassedOnChecks {
                    start: Some(start),
                    file: Some(PostFileScan::new(&head, &verified)),
                    ..PassedOnChecks::default()
                };
                let (body, failure) = pass_on(body, checks, &parts, &settings);
                tracing::debug!(access_key_id = %verified.access_key_id(), principal = %verified.principal(), key = %verified.key(), "POST Object form verified");
                let version = parts.version;
                let mut request = Request::from_parts(parts, body);
                request.extensions_mut().insert(verified);
                return call_inner(&mut inner, request, Some(failure), version).await;
            }
            let streaming = parts
                .headers
                .get("x-amz-content-sha256")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("STREAMING-"));
            let (verified, body, failure) = if streaming {
                let view = RequestView::from_parts(&parts);
                let verified = match verify_within(
                    &verifier,
                    &view,
                    as_received.as_ref(),
                    Payload::Unavailable,
                    arrived,
                    settings.lookup_timeout,
                )
                .await
                {
                    Ok(v) => v,
                    Err(e) => return refuse_unread(e, &parts, body),
                };
                let chunk_verifier =
                    match verified.streamed_body_verifier(&Headers::Map(&parts.headers)) {
                        Ok(Some(chain)) => chain.with_limits(settings.chunk_limits),
                        Ok(None) => {
                            let error = Error::MalformedChunk {
                                reason: "streaming payload without a chunk chain",
                            };
                            return refuse_unread(error, &parts, body);
                        }
                        Err(e) => return refuse_unread(e, &parts, body),
                    };
                let declared_decoded = chunk_verifier.decoded_length_declared();
                let decoded_length = declared_decoded.unwrap_or(0);
                if decoded_length > settings.max_streamed_body_bytes {
                    return refuse_unread(
                        Error::BodyTooLarge {
                            limit: settings.max_streamed_body_bytes,
                            declared: declared_decoded,
                        },
                        &parts,
                        body,
                    );
                }
                describe_decoded_body(&mut parts.headers, decoded_length);
                let body: TimedBody<B> = IdleTimeoutBody::new(body, settings.body_idle_timeout)
                    .map_err(timed_body_error::<B::Error>);
                if declared_decoded == Some(0) {
                    // A service told `Content-Length: 0` has no reason to read the body, so
                    // its chain (the final chunk, the trailer, its checksum) is checked here,
                    // before the service is called; it is a few lines (`ChunkLimits`).
                    let mut chunked = ChunkedBody::new(body, chunk_verifier);
                    let mut trailers = None;
                    while let Some(frame) = chunked.frame().await {
                        match frame {
                            Ok(frame) if frame.is_trailers() => trailers = Some(frame),
                            Ok(_) => {}
                            // The head now says `Content-Length: 0`; the chain's bytes say
                            // otherwise, and may not all have been read.
                            Err(e) => return reject_mid_body(e, &parts),
                        }
                    }
                    let body = VerifiedBody {
                        inner: BodyKind::Checked(trailers),
                    };
                    (verified, body, None)
                } else {
                    let failure = Arc::new(BodyFailure::for_request(&parts, &settings));
                    let body = VerifiedBody {
                        inner: BodyKind::Chunked {
                            body: Box::new(ChunkedBody::new(body, chunk_verifier)),
                            failure: Arc::clone(&failure),
                            drain: |drain, raw| drain.spawn(raw),
                        },
                    };
                    (verified, body, Some(failure))
                }
            } else {
                let declared = declared_length(&parts);
                let buffer_limit = settings.max_body_bytes as u64;
                let over_buffer_limit = declared.is_some_and(|len| len > buffer_limit);
                let payload_hash = parts.headers.get("x-amz-content-sha256");
                // The payload's hash in a header (or `UNSIGNED-PAYLOAD`, said or implied by an
                // S3 presigned URL without the header): the body need not be read to check the
                // signature, so it may be passed on as it is read.
                let may_pass_on =
                    payload_hash.is_some() || parts.uri.query().is_some_and(has_presigned_query);
                if over_buffer_limit && !may_pass_on {
                    return refuse_unread(
                        Error::BodyTooLarge {
                            limit: buffer_limit,
                            declared,
                        },
                        &parts,
                        body,
                    );
                }
                // With the payload's hash in a header, the signature is checked before the
                // body is read: a bad one is refused without reading (in place of `100
                // Continue` to a client that asked), and only a valid signer gets a body
                // buffered. Without it, the body is the payload hash, so the signature waits
                // for the body; a body that may be large is read only once everything else
                // holds (the authorization's form, the date, the scope, a known access key
                // and its token), so that a client without a key cannot have megabytes held
                // for it. (That costs a second lookup; a small body is read without it.)
                let hashed = payload_hash.is_some();
                let large =
                    over_buffer_limit || declared.is_none_or(|len| len > PRECHECKED_BODY_BYTES);
                let mut early = if hashed || large {
                    let view = RequestView::from_parts(&parts);
                    match verify_within(
                        &verifier,
                        &view,
                        as_received.as_ref(),
                        Payload::Unavailable,
                        arrived,
                        settings.lookup_timeout,
                    )
                    .await
                    {
                        Ok(verified) => Some(verified),
                        Err(Error::BodyRequired) if !hashed => None,
                        Err(e) => return refuse_unread(e, &parts, body),
                    }
                } else {
                    None
                };
                // Verified from the head, so the payload is `UNSIGNED-PAYLOAD` or the SHA-256 in
                // its header (a streamed one took the branch above): a body that may be larger
                // than the buffer goes to the service as it is read, as S3 takes up to 5 GiB in
                // one PUT (`max_streamed_body_bytes`), and is held to that hash at its end.
                let may_pass_the_buffer = declared.is_none_or(|len| len > buffer_limit);
                if let Some(mut verified) = early.take_if(|_| may_pass_the_buffer) {
                    if declared.is_some_and(|len| len > settings.max_streamed_body_bytes) {
                        return refuse_unread(
                            Error::BodyTooLarge {
                                limit: settings.max_streamed_body_bytes,
                                declared,
                            },
                            &parts,
                            body,
                        );
                    }
                    let checksum =
                        match verified.plain_body_checksum(&RequestView::from_parts(&parts)) {
                            Ok(checksum) => checksum,
                            Err(e) => return refuse_unread(e, &parts, body),
                        };
                    // A body of no declared length may still be small: read up to the buffer
                    // (within the body timeout), one that ends there is buffered and checked
                    // before the service sees it, as if it had declared its length. Past
                    // either, what was read goes on ahead of the rest.
                    let mut body = body;
                    let start = match declared {
                        Some(_) => None,
                        None => match read_start(&mut body, &settings).await {
                            Ok(start) => Some(start),
                            Err(e) => return refuse_part_read(e, &parts, body),
                        },
                    };
                    if let Some(BodyStart::Whole(bytes)) = start {
                        let view = RequestView::from_parts(&parts);
                        if let Err(e) = verified.check_buffered_body(&view, &bytes) {
                            return reject_read(e, &parts);
                        }
                        let body = VerifiedBody {
                            inner: BodyKind::Buffered(Full::new(bytes)),
                        };
                        (verified, body, None)
                    } else {
                        let start = match start {
                            Some(BodyStart::Part(start)) if !start.is_empty() => Some(start),
                            _ => None,
                        };
                        let checks = PassedOnChecks {
                            start,
                            payload_hash: verified.streamed_payload_hash(),
                            checksum,
                            file: None,
                        };
                        let (body, failure) = pass_on(body, checks, &parts, &settings);
                        (verified, body, Some(failure))
                    }
                } else {
                    if over_buffer_limit {
                        return refuse_unread(
                            Error::BodyTooLarge {
                                limit: buffer_limit,
                                declared,
                            },
                            &parts,
                            body,
                        );
                    }
                    let mut body = body;
                    let collected = tokio::time::timeout(
                        settings.body_timeout,
                        Limited::new(&mut body, settings.max_body_bytes).collect(),
                    )
                    .await;
                    // Refused part way, with the rest of the body still coming: it is read and
                    // dropped behind the answer (a lingering close), while the client sends.
                    let drain_rest = |body: B| {
                        if let Some(drain) = Drain::after_failure(parts.version, &settings) {
                            drain.spawn(body);
                        }
                    };
                    let bytes = match collected {
                        Ok(Ok(collected)) => collected.to_bytes(),
                        Ok(Err(e)) => {
                            let error = if e
                                .downcast_ref::<http_body_util::LengthLimitError>()
                                .is_some()
                            {
                                drain_rest(body);
                                Error::BodyTooLarge {
                                    limit: settings.max_body_bytes as u64,
                                    declared: None,
                                }
                            } else {
                                Error::BodyRead {
                                    reason: e.to_string(),
                                }
                            };
                            return reject(error, &parts);
                        }
                        Err(_) => {
                            drain_rest(body);
                            return reject(
                                Error::BodyTimeout {
                                    reason: format!(
                                        "the whole body took longer than {} ms (body timeout)",
                                        settings.body_timeout.as_millis()
                                    ),
                                },
                                &parts,
                            );
                        }
                    };
                    let verified = match early {
                        // Verified before the body came: its checks are left.
                        Some(mut verified) => {
                            let view = RequestView::from_parts(&parts);
                            if let Err(e) = verified.check_buffered_body(&view, &bytes) {
                                return reject_read(e, &parts);
                            }
                            verified
                        }
                        // With the body in hand, verification makes its checks too.
                        None => {
                            let view = RequestView::from_parts(&parts);
                            match verify_within(
                                &verifier,
                                &view,
                                as_received.as_ref(),
                                Payload::Bytes(&bytes),
                                arrived,
                                settings.lookup_timeout,
                            )
                            .await
                            {
                                Ok(v) => v,
                                Err(e) => return reject_read(e, &parts),
                            }
                        }
                    };
                    let body = VerifiedBody {
                        inner: BodyKind::Buffered(Full::new(bytes)),
                    };
                    (verified, body, None)
                }
            };
            // The service routes on the path as sent (axum's router does not normalise, and
            // with `Router::layer` it has routed before the layer runs, so handing it a
            // rewritten path would not help): one the signature covers only normalised is
            // refused.
            let checked = verified
                .check_served_path(parts.uri.path())
                .and_then(|()| check_signed_values_trimmed(&parts.headers, &verified));
            if let Err(e) = checked {
                // A streamed or passed-on body is not read yet: drained behind the answer.
                return match body.inner.into_raw() {
                    Some((raw, _)) => refuse_unread(e, &parts, raw),
                    None => reject_read(e, &parts),
                };
            }
            join_repeated_signed_headers(&mut parts.headers, &verified);
            let version = parts.version;
            tracing::debug!(access_key_id = %verified.access_key_id(), principal = %verified.principal(), "SigV4 verified");
            let mut request = Request::from_parts(parts, body);
            request.extensions_mut().insert(verified);
            call_inner(&mut inner, request, failure, version).await
        })
    }
}

/// What a body passed on as read carries and is checked against: its first bytes, read
/// ahead (yielded first), and the signed SHA-256, the checksum and the POST Object file its
/// bytes are held to.
#[derive(Default)]
struct PassedOnChecks {
    start: Option<Bytes>,
    payload_hash: Option<StreamedPayloadHash>,
    checksum: Option<ClaimedChecksum>,
    file: Option<PostFileScan>,
}

/// `body` passed on as it is read (under the idle timeout and the streamed-body limit, and
/// `checks`), and where its failure is recorded for the answer.
fn pass_on<B>(
    body: B,
    checks: PassedOnChecks,
    parts: &http::request::Parts,
    settings: &LayerSettings,
) -> (VerifiedBody<B>, Arc<BodyFailure>)
where
    B: Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: fmt::Display,
{
    let failure = Arc::new(BodyFailure::for_request(parts, settings));
    let body = VerifiedBody {
        inner: BodyKind::PassedOn {
            body: Box::new(PassedOnBody {
                inner: IdleTimeoutBody::new(body, settings.body_idle_timeout)
                    .map_err(timed_body_error::<B::Error>),
                start: checks.start,
                payload_hash: checks.payload_hash,
                checksum: checks.checksum,
                file: checks.file,
                limit: settings.max_streamed_body_bytes,
                read: 0,
                finished: false,
            }),
            failure: Arc::clone(&failure),
            drain: |drain, raw| drain.spawn(raw),
        },
    };
    (body, failure)
}

/// Hands a verified request to the inner service once it is ready. If the body failed part
/// way (`failure`), the layer's answer goes out in place of the service's, saying the
/// connection closes, since the body's rest is left on it.
async fn call_inner<S, B, ResBody>(
    inner: &mut S,
    request: Request<VerifiedBody<B>>,
    failure: Option<Arc<BodyFailure>>,
    version: http::Version,
) -> Result<Response<Either<ResBody, Full<Bytes>>>, S::Error>
where
    S: tower_service::Service<Request<VerifiedBody<B>>, Response = Response<ResBody>>,
    B: Body,
{
    std::future::poll_fn(|cx| inner.poll_ready(cx)).await?;
    let response = inner.call(request).await?;
    match failure.and_then(|failure| failure.take()) {
        Some(mut refusal) => {
            announce_close(&mut refusal, version);
            Ok(refusal.map(Either::Right))
        }
        None => Ok(response.map(Either::Left)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// S3 writes a presigned request's early `X-Amz-Date` in milliseconds since the epoch.
    #[test]
    fn unix_millis_counts_from_the_epoch_both_ways() {
        use std::time::UNIX_EPOCH;
        // 1,440,938,160 s is 2015-08-30T12:36:00Z, the AWS test suite's request time.
        let suite = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        assert_eq!(unix_millis(suite), 1_440_938_160_000);
        assert_eq!(
            unix_millis(UNIX_EPOCH - Duration::from_millis(1_500)),
            -1_500
        );
    }

    /// A CBOR text string's head is major type 3 (0x60) with the length in the shortest form
    /// that holds it: in the head byte up to 23, then one, two, four bytes (RFC 8949, 3.1).
    #[test]
    fn cbor_text_lengths_take_the_shortest_form() {
        for (length, head) in [
            (0, vec![0x60]),
            (23, vec![0x77]),
            (24, vec![0x78, 24]),
            (255, vec![0x78, 0xff]),
            (256, vec![0x79, 0x01, 0x00]),
            (65_535, vec![0x79, 0xff, 0xff]),
            (65_536, vec![0x7a, 0x00, 0x01, 0x00, 0x00]),
        ] {
            let text = "x".repeat(length);
            let mut out = Vec::new();
            push_cbor_text(&mut out, &text);
            assert_eq!(out[..head.len()], head[..], "{length}");
            assert_eq!(&out[head.len()..], text.as_bytes(), "{length}");
        }
    }

    /// The two longest forms of a text string's head, past what a text in a test can be: four
    /// bytes up to `u32::MAX`, eight past it (RFC 8949, 3.1, additional information 26 and
    /// 27). A cargo-mutants run found the eight-byte form unchecked ("replace | with & in
    /// push_cbor_text" on its head byte passed: the shortest text that reaches it is 4 GiB).
    #[test]
    fn cbor_text_heads_past_4_gib_take_eight_bytes() {
        for (length, head) in [
            (0xffff_ffff, vec![0x7a, 0xff, 0xff, 0xff, 0xff]),
            (0x1_0000_0000, vec![0x7b, 0, 0, 0, 1, 0, 0, 0, 0]),
            (
                u64::MAX,
                vec![0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
        ] {
            let mut out = Vec::new();
            push_cbor_text_head(&mut out, length);
            assert_eq!(out, head, "{length}");
        }
    }

    /// A JSON answer's message is a JSON string whatever the error text holds: RFC 8259 (7)
    /// has every control character (U+0000 to U+001F) escaped, and a header value quoted in
    /// a message may carry a tab. A JSON parser (serde_json) reads the text back.
    #[test]
    fn json_escape_leaves_no_control_character_raw() {
        let text: String = (0u8..0x20)
            .map(char::from)
            .chain("\"\\/\u{7f}é\u{2028}".chars())
            .collect();
        let escaped = json_escape(&text);
        assert!(!escaped.chars().any(|c| c < ' '), "{escaped:?}");
        let read: String = serde_json::from_str(&format!("\"{escaped}\"")).unwrap();
        assert_eq!(read, text);
    }

    /// An XML answer's text holds only XML 1.0's `Char`s (2.2: `#x9 | #xA | #xD | [#x20-#xD7FF]
    /// | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`), and every one of them that is not markup is
    /// kept as it came: a tab in a quoted header value, the canonical request's line ends.
    #[test]
    fn xml_escape_keeps_every_xml_char_and_only_those() {
        let is_xml_char = |c: char| {
            matches!(c, '\t' | '\n' | '\r' | ' '..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
                || c >= '\u{10000}'
        };
        let chars = (0u32..0x80)
            .chain([
                0xe9, 0xd7ff, 0xe000, 0xfffd, 0xfffe, 0xffff, 0x1_0000, 0x10_ffff,
            ])
            .filter_map(char::from_u32);
        for c in chars {
            let escaped = xml_escape(&c.to_string());
            let expected = match c {
                '&' => "&amp;".to_owned(),
                '<' => "&lt;".to_owned(),
                '>' => "&gt;".to_owned(),
                '"' => "&quot;".to_owned(),
                '\'' => "&apos;".to_owned(),
                c if is_xml_char(c) => c.to_string(),
                _ => char::REPLACEMENT_CHARACTER.to_string(),
            };
            assert_eq!(escaped, expected, "{:#x}", u32::from(c));
        }
    }

    /// The decoded body's head: `aws-chunked` out of `Content-Encoding`, every other coding
    /// kept byte for byte (one that is not UTF-8 too), the decoded `Content-Length`, no
    /// `Transfer-Encoding`.
    #[test]
    fn the_decoded_head_keeps_the_other_codings_as_sent() {
        let mut headers = http::HeaderMap::new();
        headers.append(
            http::header::CONTENT_ENCODING,
            http::HeaderValue::from_bytes(b"gzip, aws-chunked").unwrap(),
        );
        headers.append(
            http::header::CONTENT_ENCODING,
            http::HeaderValue::from_bytes(b"x-\xe9t\xe9 ,\tbr").unwrap(),
        );
        headers.insert(
            http::header::TRANSFER_ENCODING,
            http::HeaderValue::from_static("chunked"),
        );
        describe_decoded_body(&mut headers, 11);
        assert_eq!(
            headers[http::header::CONTENT_ENCODING].as_bytes(),
            b"gzip, x-\xe9t\xe9, br"
        );
        assert_eq!(
            headers
                .get_all(http::header::CONTENT_ENCODING)
                .iter()
                .count(),
            1
        );
        assert_eq!(headers[http::header::CONTENT_LENGTH], "11");
        assert!(!headers.contains_key(http::header::TRANSFER_ENCODING));

        let mut only_chunked = http::HeaderMap::new();
        only_chunked.insert(
            http::header::CONTENT_ENCODING,
            http::HeaderValue::from_static("AWS-Chunked"),
        );
        describe_decoded_body(&mut only_chunked, 0);
        assert!(!only_chunked.contains_key(http::header::CONTENT_ENCODING));
    }

    /// An `IdleTimeoutBody` is an ordinary body: axum and hyper take it (their bound is an
    /// error that boxes into `std::error::Error`), and its error names the inner one as source.
    #[tokio::test]
    async fn an_idle_timeout_body_is_an_ordinary_body() {
        let body =
            IdleTimeoutBody::new(Full::new(Bytes::from_static(b"hi")), Duration::from_secs(1));
        let bytes = axum::body::Body::new(body)
            .collect()
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(&bytes[..], b"hi");

        // The inner error once in a chain: as the source, not in the message too.
        let inner = std::io::Error::other("reset");
        let error: Box<dyn std::error::Error + Send + Sync> = IdleTimeoutError::Inner(inner).into();
        assert_eq!(error.to_string(), "reading the body failed");
        assert_eq!(error.source().unwrap().to_string(), "reset");
    }

    /// Bytes read ahead of a body passed on are part of it until they are read: the body has
    /// not ended, and its size counts them, also with nothing left to check at its end.
    #[tokio::test]
    async fn bytes_read_ahead_are_part_of_the_body_passed_on() {
        // All of it read ahead: the body under it has ended.
        let rest: http_body_util::combinators::MapErr<
            Full<Bytes>,
            fn(std::convert::Infallible) -> Error,
        > = Full::new(Bytes::new()).map_err(|never| match never {});
        assert!(rest.is_end_stream());
        let mut body = PassedOnBody {
            inner: rest,
            start: Some(Bytes::from_static(b"hello")),
            payload_hash: None,
            checksum: None,
            file: None,
            limit: 5,
            read: 0,
            finished: false,
        };
        assert!(!body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(5));
        let read = (&mut body).collect().await.unwrap().to_bytes();
        assert_eq!(&read[..], b"hello");
        assert!(body.is_end_stream());

        // Past the limit with what was read ahead alone: `EntityTooLarge`, as for the rest.
        let mut body = PassedOnBody {
            inner: Full::new(Bytes::new()).map_err(|never| match never {}),
            start: Some(Bytes::from_static(b"hello!")),
            payload_hash: None,
            checksum: None,
            file: None,
            limit: 5,
            read: 0,
            finished: false,
        };
        let error = (&mut body).collect().await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::BodyTooLarge {
                    limit: 5,
                    declared: None
                }
            ),
            "{error:?}"
        );
    }
}
