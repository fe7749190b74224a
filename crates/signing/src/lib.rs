//! AWS Signature Version 4: signing on `aws-sigv4`, and the server-side verification that
//! neither `aws-sigv4` nor `aws-c-auth` provides.
//!
//! - **Verify** ([`Verifier`]): from the request as received (method, raw path, raw query,
//!   headers, body or its hash) it parses the `Authorization` header or the presigned query,
//!   checks time, scope and session token, rebuilds the canonical request (default rules:
//!   double-encoded and normalised; S3 rules: as sent) and compares signatures in constant
//!   time. A [`CredentialLookup`] resolves access keys; derived signing keys are cached, so a
//!   warm verification costs one SHA-256 of the canonical request plus one HMAC. Every failure
//!   is an [`Error`] variant that maps to the AWS error code and HTTP status an SDK expects.
//! - **Streaming**: [`ChunkedBody`] verifies `aws-chunked` chunk-signature chains and fails
//!   the body on the first bad chunk; [`ChunkSigner`] signs them.
//! - **Sign** ([`sign_http`], [`sign_raw`]): header or presigned, on `aws-sigv4`.
//! - **Serve** ([`SigV4Layer`]): a `tower::Layer` for hyper 1 / axum services that verifies,
//!   puts the [`VerifiedRequest`] in request extensions, and answers failures in the error
//!   format of the request's protocol (AWS's XML, EC2's, JSON or CBOR: [`ErrorFormat`]).
//!   `examples/sigv4_service.rs` is a whole service, served with the timeouts and limits a
//!   public endpoint needs.
//! - **Raw requests** ([`RawRequest`]): a bounded parser for the AWS test suite's
//!   `request.txt` format (literal spaces and UTF-8 in the path, folded headers).
//! - **Browser uploads** ([`Verifier::verify_post`]): S3's POST Object, a `multipart/form-data`
//!   form ([`PostForm::parse_multipart`] reads its fields up to the file) whose SigV4-signed
//!   POST policy ([`PostPolicy`]) every field must meet; [`PostFileScan`] holds the file to
//!   the policy's size range and the form's checksum fields as it passes. [`SigV4Layer`]
//!   does all of it for a POST Object. [`presign_post`] signs such a form, as botocore's
//!   `generate_presigned_post` does.
//!
//! Not here: SigV4a (ECDSA), SigV2, event-stream signing, credential storage (the lookup is
//! yours), authorisation (who may do what).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, UNIX_EPOCH};
//! use edgeward_signing::{
//!     sign_raw, FixedClock, Payload, RawRequest, RawRequestLimits, ResolvedCredential,
//!     SigningParams, SigningSettings, StaticCredentials, Verifier, VerifierSettings,
//! };
//!
//! let now = UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
//! let creds = aws_credential_types::Credentials::from_keys("AKIDEXAMPLE", "secret", None);
//! let mut request = RawRequest::parse(b"GET /?a=b HTTP/1.1\nHost:example.com\n\n", &RawRequestLimits::default())?;
//! let params = SigningParams { credentials: &creds, region: "us-east-1", service: "service", time: now };
//! sign_raw(&mut request, &params, &SigningSettings::default())?;
//!
//! let lookup = StaticCredentials::new().with("AKIDEXAMPLE", ResolvedCredential::new("secret", "alice"));
//! let verifier = Verifier::new(lookup, VerifierSettings::default()).with_clock(Arc::new(FixedClock(now)));
//! let verified = futures_util::FutureExt::now_or_never(verifier.verify(&request.view(), Payload::Bytes(&request.body)))
//!     .expect("the static lookup is ready at once")?;
//! assert_eq!(verified.principal(), "alice");
//! # Ok::<(), edgeward_signing::Error>(())
//! ```
#![deny(missing_docs)]

mod auth;
mod canonical;
mod checksum;
mod chunked;
mod crypto;
mod error;
mod layer;
mod multipart;
mod post;
mod raw;
mod redact;
mod sign;
mod swar;
mod verify;

pub use auth::{
    format_amz_date, parse_amz_date, parse_authorization_header, parse_http_date,
    parse_presigned_query, Credential, ParsedAuthorization, ALGORITHM, MAX_PRESIGN_EXPIRES,
};
pub use canonical::{
    canonical_query, canonical_uri, normalize_header_value, uri_encode, PathEncoding, PathMode,
    PathNormalization,
};
pub use chunked::{ChunkChainVerifier, ChunkLimits, ChunkSigner, ChunkedBody};
pub use crypto::{SecretAccessKey, SigningKey};
pub use error::{
    AwsError, ChainLink, ChecksumLocation, CredentialFault, Error, JsonProtocol, MismatchDetails,
    SignatureLocation,
};
pub use layer::{
    ErrorFormat, IdleTimeoutBody, IdleTimeoutError, LayerSettings, SigV4Layer, SigV4Service,
    VerifiedBody,
};
pub use multipart::{PostFileScan, PostFormHead};
pub use post::{
    presign_post, PolicyCondition, PostForm, PostPolicy, PostPresignRequest, VerifiedPost,
    MAX_POST_FORM_BYTES,
};
pub use raw::{LineEnding, RawRequest, RawRequestLimits};
pub use sign::{
    sign_http, sign_parts, sign_raw, ContentSha256Header, PayloadSigning, SessionTokenPlacement,
    SignatureTarget, SignedParts, SigningParams, SigningSettings,
};
pub use verify::{
    signing_key, uses_s3_rules, Accept, AcceptedPathModes, Clock, CredentialLookup,
    CredentialScope, FixedClock, Headers, LocationRequests, LookupFailure, Payload, PayloadKind,
    RequestView, ResolvedCredential, SessionToken, StaticCredentials, SystemClock,
    TemporarySession, UnsignedPayload, UnsignedSessionToken, VerifiedRequest, Verifier,
    VerifierSettings,
};
