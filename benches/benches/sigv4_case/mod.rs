//! The typical request and the six routines the sigv4 benches time, shared by `sigv4`
//! (criterion) and `sigv4_paired` (alternating rounds in one process), so both measure the
//! same code.
//!
//! The request: an S3 `GET /photos/2024/cat%20picture.jpg?versionId=…` with `host`, `range`,
//! `x-amz-content-sha256: UNSIGNED-PAYLOAD` (signed) and `user-agent` (not signed), S3 rules,
//! no session token.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_lc_rs::{digest, hmac};
use aws_sigv4::http_request::{
    self as sigv4, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    UriPathNormalizationMode,
};
use aws_smithy_runtime_api::client::identity::Identity;
use edgeward_signing::{
    sign_http, FixedClock, PathMode, Payload, PayloadSigning, RequestView, ResolvedCredential,
    SessionTokenPlacement, SigningParams, SigningSettings, StaticCredentials, VerifiedRequest,
    Verifier, VerifierSettings,
};
use futures_util::FutureExt;
use subtle::ConstantTimeEq;

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const SERVICE: &str = "s3";

fn typical() -> http::Request<Vec<u8>> {
    http::Request::builder()
        .method("GET")
        .uri("https://examplebucket.s3.us-east-1.amazonaws.com/photos/2024/cat%20picture.jpg?versionId=3HL4kqtJlcpXroDTDmJ%2Brmw")
        .header("host", "examplebucket.s3.us-east-1.amazonaws.com")
        .header("range", "bytes=0-1048575")
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .header("user-agent", "aws-sdk-rust/1.0 os/linux")
        .body(Vec::new())
        .unwrap()
}

/// One verification; the lookup is in memory, so the future is ready at the first poll.
fn verify(verifier: &Verifier<StaticCredentials>, view: &RequestView<'_>) -> VerifiedRequest {
    verifier
        .verify(black_box(view), Payload::Bytes(&[]))
        .now_or_never()
        .unwrap()
        .unwrap()
}

/// Everything the routines need, built once.
pub(crate) struct Case {
    now: SystemTime,
    credentials: Credentials,
    identity: Identity,
    template: http::Request<Vec<u8>>,
    ours: SigningSettings,
    /// `template` signed by us (and checked to verify).
    signed: http::Request<Vec<u8>>,
    warm: Verifier<StaticCredentials>,
    cold: Verifier<StaticCredentials>,
    /// The floor's inputs, precomputed: the canonical request, the string-to-sign without its
    /// last line, a ready key and the signature's bytes.
    canonical: Vec<u8>,
    sts_prefix: String,
    key: hmac::Key,
    expected: Vec<u8>,
}

impl Case {
    pub(crate) fn new() -> Self {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let credentials = Credentials::from_keys(AK, SK, None);
        let identity = credentials.clone().into();
        let template = typical();
        let mut ours = SigningSettings::s3();
        ours.payload = PayloadSigning::Unsigned;
        let mut signed = template.clone();
        let params = SigningParams {
            credentials: &credentials,
            region: REGION,
            service: SERVICE,
            time: now,
        };
        let signature = sign_http(&mut signed, &params, &ours).unwrap();

        let lookup = StaticCredentials::new().with(AK, ResolvedCredential::new(SK, "alice"));
        let warm = Verifier::new(lookup.clone(), VerifierSettings::default())
            .with_clock(Arc::new(FixedClock(now)));
        let mut cold_settings = VerifierSettings::default();
        cold_settings.key_cache_capacity = 0;
        let cold = Verifier::new(lookup, cold_settings).with_clock(Arc::new(FixedClock(now)));

        let view = RequestView::from_http(&signed);
        let verified = warm
            .verify(&view, Payload::Bytes(&[]))
            .now_or_never()
            .unwrap()
            .unwrap();
        assert_eq!(verified.signature(), signature);
        let explained = warm
            .explain(
                &view,
                Payload::Bytes(&[]),
                PathMode::S3,
                SessionTokenPlacement::Signed,
            )
            .unwrap();
        let canonical = explained.canonical_request.into_bytes();
        let sts_prefix = explained
            .string_to_sign
            .rsplit_once('\n')
            .unwrap()
            .0
            .to_owned()
            + "\n";
        let derived = aws_sigv4::sign::v4::generate_signing_key(SK, now, REGION, SERVICE);
        let key = hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref());
        let expected = hex::decode(&signature).unwrap();
        let case = Self {
            now,
            credentials,
            identity,
            template,
            ours,
            signed,
            warm,
            cold,
            canonical,
            sts_prefix,
            key,
            expected,
        };
        assert!(case.floor());
        assert!(case.unchecked_minimum());
        case
    }

    /// Raw aws-sigv4's parameters, with the settings S3 clients use (built once: they borrow
    /// the identity).
    pub(crate) fn aws_params(&self) -> sigv4::SigningParams<'_> {
        let mut settings = sigv4::SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&self.identity)
            .region(REGION)
            .name(SERVICE)
            .time(self.now)
            .settings(settings)
            .build()
            .unwrap()
            .into()
    }

    /// The signed request as the verifier sees it.
    pub(crate) fn view(&self) -> RequestView<'_> {
        RequestView::from_http(&self.signed)
    }

    /// `sigv4/aws_sigv4_sign`: raw aws-sigv4 (signable request, `sign`, apply).
    pub(crate) fn aws_sigv4_sign(
        &self,
        params: &sigv4::SigningParams<'_>,
    ) -> http::Request<Vec<u8>> {
        let mut request = self.template.clone();
        let signable = SignableRequest::new(
            request.method().as_str(),
            request.uri().to_string(),
            request
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str(), v.to_str().unwrap())),
            SignableBody::UnsignedPayload,
        )
        .unwrap();
        let (instructions, _signature) = sigv4::sign(signable, params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut request);
        request
    }

    /// `sigv4/sign`: edgeward-signing's `sign_http`.
    pub(crate) fn sign(&self) -> http::Request<Vec<u8>> {
        let params = SigningParams {
            credentials: &self.credentials,
            region: REGION,
            service: SERVICE,
            time: self.now,
        };
        let mut request = self.template.clone();
        sign_http(&mut request, &params, &self.ours).unwrap();
        request
    }

    /// `sigv4/verify_warm`: the verifier with the derived key cached.
    pub(crate) fn verify_warm(&self, view: &RequestView<'_>) -> VerifiedRequest {
        verify(&self.warm, view)
    }

    /// `sigv4/verify_cold`: the same with the key cache disabled (4 more HMACs).
    pub(crate) fn verify_cold(&self, view: &RequestView<'_>) -> VerifiedRequest {
        verify(&self.cold, view)
    }

    /// `sigv4/unchecked_minimum`: about the least work any verifier of this request could do,
    /// to show how much of `verify_warm` is parsing and canonicalising as such. It reads
    /// the `Authorization` header by this request's exact layout and checks nothing (no
    /// character classes, no sorting, no date, skew or scope, no credential lookup or key
    /// cache: the floor's ready key), copies path, query and the signed headers' values as
    /// they are, then does the floor's hashing and compare. Not a verifier: never copy it.
    pub(crate) fn unchecked_minimum(&self) -> bool {
        let headers = black_box(&self.signed).headers();
        let (mut authorization, mut amz_date, mut payload) = (&b""[..], &b""[..], &b""[..]);
        for (name, value) in headers {
            match name.as_str() {
                "authorization" => authorization = value.as_bytes(),
                "x-amz-date" => amz_date = value.as_bytes(),
                "x-amz-content-sha256" => payload = value.as_bytes(),
                _ => {}
            }
        }
        let find = |text: &[u8], byte: u8| text.iter().position(|&b| b == byte).unwrap();
        let rest = &authorization[b"AWS4-HMAC-SHA256 Credential=".len()..];
        let credential = &rest[..find(rest, b',')];
        let rest = &rest[credential.len() + b", SignedHeaders=".len()..];
        let signed_headers = &rest[..find(rest, b',')];
        let signature_hex = &rest[signed_headers.len() + b", Signature=".len()..];
        let mut signature = [0u8; 32];
        hex::decode_to_slice(signature_hex, &mut signature).unwrap();
        let scope = &credential[find(credential, b'/') + 1..];

        let uri = self.signed.uri();
        let mut buffer = Vec::with_capacity(1024);
        for part in [
            self.signed.method().as_str().as_bytes(),
            b"\n",
            uri.path().as_bytes(),
            b"\n",
            uri.query().unwrap_or_default().as_bytes(),
            b"\n",
        ] {
            buffer.extend_from_slice(part);
        }
        for name in signed_headers.split(|&b| b == b';') {
            buffer.extend_from_slice(name);
            buffer.push(b':');
            let value = headers.iter().find(|(n, _)| n.as_str().as_bytes() == name);
            buffer.extend_from_slice(value.map(|(_, v)| v.as_bytes()).unwrap_or_default());
            buffer.push(b'\n');
        }
        for part in [&b"\n"[..], signed_headers, b"\n", payload] {
            buffer.extend_from_slice(part);
        }
        let hash = digest::digest(&digest::SHA256, &buffer);
        buffer.clear();
        for part in [&b"AWS4-HMAC-SHA256\n"[..], amz_date, b"\n", scope, b"\n"] {
            buffer.extend_from_slice(part);
        }
        let mut hash_hex = [0u8; 64];
        hex::encode_to_slice(hash.as_ref(), &mut hash_hex).unwrap();
        buffer.extend_from_slice(&hash_hex);
        let tag = hmac::sign(&self.key, &buffer);
        bool::from(tag.as_ref().ct_eq(&signature))
    }

    /// `sigv4/floor`: SHA-256 of the canonical request, one HMAC-SHA256 of the string-to-sign
    /// with a ready key, constant-time compare. Nothing else: no allocation (the
    /// string-to-sign's fixed lines and the hash's hex go into the HMAC as two updates), and
    /// the hex is written into an array. (`hex::encode` collects `char`s into a `String`:
    /// about 2 k instructions, nearly all the rest of this routine besides SHA-256 blocks.)
    pub(crate) fn floor(&self) -> bool {
        let hash = digest::digest(&digest::SHA256, black_box(&self.canonical));
        let mut hash_hex = [0u8; 64];
        hex::encode_to_slice(hash.as_ref(), &mut hash_hex).unwrap();
        let mut context = hmac::Context::with_key(&self.key);
        context.update(self.sts_prefix.as_bytes());
        context.update(&hash_hex);
        bool::from(context.sign().as_ref().ct_eq(&self.expected))
    }
}
