//! Secret hygiene, as an adversary reading logs, `Debug` output or error answers would test
//! it: no secret, session token, derived key or valid signature in tracing output (ours and
//! aws-sigv4's, at TRACE), in `Debug`/`Display`, or on the wire. From the secret-hygiene
//! review of the signing crate (2026-12-03).
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use bytes::Bytes;
use edgeward_signing::{
    sign_http, sign_parts, ErrorFormat, FixedClock, LayerSettings, Payload, RawRequest,
    RawRequestLimits, ResolvedCredential, SecretAccessKey, SigV4Layer, SigningKey, SigningParams,
    SigningSettings, StaticCredentials, Verifier, VerifierSettings,
};
use http_body_util::{BodyExt, Full};
use tower::{Layer, ServiceExt};

const AK: &str = "ASIAREVIEWSECRETS";
const SK: &str = "SECRETKEYMARKER/wJalrXUtnFEMI+K7MDENG";
const TOKEN: &str = "TOKENMARKER/FwoGZXIvYXdzEBYaDHc3+session==";

// ---- a subscriber that records every span and event, with all fields, at every level ------

#[derive(Clone)]
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl tracing::Subscriber for Capture {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::always()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut out = self.0.lock().unwrap();
        let _ = write!(
            out,
            "\n[span {} {}]",
            span.metadata().target(),
            span.metadata().name()
        );
        span.record(&mut Fields(&mut out));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut out = self.0.lock().unwrap();
        let _ = write!(
            out,
            "\n[{} {}]",
            event.metadata().level(),
            event.metadata().target()
        );
        event.record(&mut Fields(&mut out));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

impl Capture {
    /// A new `Capture`, heard on every thread's callsites (the only way to make one).
    ///
    /// While at most one dispatcher is registered, tracing-core gives a callsite met for the
    /// first time the interest of the *registering thread's* subscriber. Tests run on parallel
    /// threads, so a test signing with no subscriber could meet aws-sigv4's callsite first
    /// while another test's `Capture` was the only dispatcher, cache "never", and leave that
    /// `Capture` hearing nothing ("no trace captured", seen once under load). A second
    /// dispatcher that lives as long as the process keeps tracing-core on the path that asks
    /// every registered dispatcher, so a callsite's interest always counts every live `Capture`.
    fn new() -> Self {
        static SECOND_DISPATCHER: OnceLock<tracing::Dispatch> = OnceLock::new();
        SECOND_DISPATCHER
            .get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
        Capture(Arc::default())
    }

    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

fn credentials() -> Credentials {
    Credentials::from_keys(AK, SK, Some(TOKEN.to_owned()))
}

fn params(creds: &Credentials) -> SigningParams<'_> {
    SigningParams {
        credentials: creds,
        region: "us-east-1",
        service: "sts",
        time: SystemTime::now(),
    }
}

/// The session token, in clear or percent-encoded as a query carries it.
fn carries_token(text: &str) -> bool {
    text.contains(TOKEN) || text.contains("TOKENMARKER%2FFwoG")
}

/// Signing through our signer, presigned, with temporary credentials: aws-sigv4 traces the
/// canonical request, whose query line holds `X-Amz-Security-Token` in clear (it redacts
/// sensitive headers only). The same signing without a token shows the trace is heard.
#[test]
fn presigned_signing_traces_no_session_token() {
    let presign = |creds: &Credentials| {
        let capture = Capture::new();
        let settings = SigningSettings::default().presigned(Duration::from_secs(600));
        tracing::subscriber::with_default(capture.clone(), || {
            sign_parts(
                "GET",
                "/",
                Some("Action=GetCallerIdentity&Version=2011-06-15"),
                &[("host", "sts.example.com")],
                b"",
                &params(creds),
                &settings,
            )
            .unwrap();
        });
        capture.text()
    };
    let without_token = presign(&Credentials::from_keys(AK, SK, None));
    assert!(
        without_token.contains("X-Amz-Credential"),
        "no trace of the canonical request heard:\n{without_token}"
    );
    let text = presign(&credentials());
    assert!(
        !carries_token(&text),
        "session token in trace output:\n{text}"
    );
    assert!(!text.contains(SK), "secret in trace output:\n{text}");
}

/// The same in the header form: aws-sigv4 redacts the `x-amz-security-token` line.
#[test]
fn header_signing_traces_no_session_token() {
    let capture = Capture::new();
    let creds = credentials();
    tracing::subscriber::with_default(capture.clone(), || {
        sign_parts(
            "POST",
            "/",
            None,
            &[("host", "sts.example.com")],
            b"Action=GetCallerIdentity&Version=2011-06-15",
            &params(&creds),
            &SigningSettings::default(),
        )
        .unwrap();
    });
    let text = capture.text();
    assert!(
        text.contains("canonical_request"),
        "no trace captured:\n{text}"
    );
    assert!(
        !carries_token(&text),
        "session token in trace output:\n{text}"
    );
    assert!(!text.contains(SK), "secret in trace output:\n{text}");
}

fn lookup() -> StaticCredentials {
    StaticCredentials::new().with(
        AK,
        ResolvedCredential::temporary(
            SK,
            "arn:aws:sts::123456789012:assumed-role/r/s",
            TOKEN,
            SystemTime::now() + Duration::from_secs(3600),
        ),
    )
}

fn signed_request(presign: bool, service: &str) -> (http::Request<Vec<u8>>, String) {
    let creds = credentials();
    let mut request = http::Request::builder()
        .method("GET")
        .uri("http://gw.example.com/bucket/key?a=b")
        .header("host", "gw.example.com")
        .body(Vec::new())
        .unwrap();
    let mut settings = if service == "s3" {
        SigningSettings::s3()
    } else {
        SigningSettings::default()
    };
    if presign {
        settings = settings.presigned(Duration::from_secs(600));
    }
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service,
        time: SystemTime::now(),
    };
    let signature = sign_http(&mut request, &params, &settings).unwrap();
    (request, signature)
}

/// Replaces the signature in a signed request with another of the same length.
fn with_wrong_signature(
    request: &http::Request<Vec<u8>>,
    signature: &str,
) -> http::Request<Vec<u8>> {
    let wrong = "0".repeat(64);
    let mut builder = http::Request::builder()
        .method(request.method())
        .uri(request.uri().to_string().replace(signature, &wrong));
    for (name, value) in request.headers() {
        builder = builder.header(name, value.to_str().unwrap().replace(signature, &wrong));
    }
    builder.body(Vec::new()).unwrap()
}

async fn through_layer(
    request: http::Request<Vec<u8>>,
    format: ErrorFormat,
) -> (u16, String, String) {
    let verifier = Arc::new(Verifier::new(lookup(), VerifierSettings::default()));
    let mut settings = LayerSettings::default();
    settings.error_format = format;
    let service = SigV4Layer::new(verifier, settings).layer(tower::service_fn(
        |request: http::Request<edgeward_signing::VerifiedBody<Full<Bytes>>>| async move {
            let verified = request
                .extensions()
                .get::<edgeward_signing::VerifiedRequest>()
                .cloned()
                .unwrap();
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(format!(
                "ok {}",
                verified.principal()
            )))))
        },
    ));
    let request = request.map(|body| Full::new(Bytes::from(body)));
    let response = service.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = format!("{:?}", response.headers());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// The layer (and the verifier under it), at TRACE, on valid and invalid requests carrying a
/// session token, header and presigned, S3 and not: no secret, token or valid signature in
/// the trace; no valid signature, secret or derived key on the wire.
#[tokio::test(flavor = "current_thread")]
async fn layer_traces_and_answers_carry_no_secret_material() {
    for presign in [false, true] {
        for service in ["s3", "sts"] {
            for format in [
                ErrorFormat::Auto,
                ErrorFormat::RestXml,
                ErrorFormat::Json,
                ErrorFormat::QueryXml,
                ErrorFormat::Ec2Query,
            ] {
                let (valid, signature) = signed_request(presign, service);
                let invalid = with_wrong_signature(&valid, &signature);
                let capture = Capture::new();
                let dispatch = tracing::Dispatch::new(capture.clone());
                let _guard = tracing::dispatcher::set_default(&dispatch);
                let (ok_status, _, ok_body) = through_layer(valid, format).await;
                let (bad_status, bad_headers, bad_body) = through_layer(invalid, format).await;
                drop(_guard);
                let what = format!("presign {presign}, {service}, {format:?}");
                assert_eq!(ok_status, 200, "{what}: {ok_body}");
                // EC2's `AuthFailure` is 401.
                let refused = if format == ErrorFormat::Ec2Query {
                    401
                } else {
                    403
                };
                assert_eq!(bad_status, refused, "{what}: {bad_body}");
                let text = capture.text();
                assert!(text.contains("SigV4"), "{what}: nothing traced:\n{text}");
                for (place, output) in [
                    ("trace", &text),
                    ("answer", &format!("{bad_headers}{bad_body}")),
                ] {
                    assert!(!output.contains(SK), "{what}: secret in {place}:\n{output}");
                    assert!(
                        !output.contains(&signature),
                        "{what}: valid signature in {place}:\n{output}"
                    );
                }
                assert!(!carries_token(&text), "{what}: token in trace:\n{text}");
                // S3's XML echoes the canonical request (the client's own token, as S3 does);
                // the query and JSON forms' message echoes it with the token's length in its
                // place; EC2's echoes nothing.
                if matches!(
                    format,
                    ErrorFormat::Json | ErrorFormat::QueryXml | ErrorFormat::Ec2Query
                ) {
                    assert!(
                        !carries_token(&bad_body),
                        "{what}: token in answer:\n{bad_body}"
                    );
                }
            }
        }
    }
}

fn raw(text: &str) -> RawRequest {
    RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap()
}

/// Text between `after` and the next `until` in `text`.
fn between<'a>(text: &'a str, after: &str, until: char) -> &'a str {
    let start = text.find(after).unwrap() + after.len();
    let rest = &text[start..];
    &rest[..rest.find(until).unwrap()]
}

/// A valid presigned request's `VerifiedRequest` (what the layer hands every handler, and the
/// identity a service is most likely to log with `?`): its `Debug` prints the full signature,
/// and with the rest of what it prints (access key, scope, date, expiry, signed headers) and
/// the target's path and query as an access log has them, the presigned URL (long-term key:
/// no token) is rebuilt and verifies again: a bearer credential, valid for up to seven days,
/// in the log.
#[tokio::test(flavor = "current_thread")]
async fn verified_request_debug_does_not_print_a_reusable_signature() {
    const LONG_AK: &str = "AKIAREVIEWSECRETS";
    let lookup = StaticCredentials::new().with(LONG_AK, ResolvedCredential::new(SK, "alice"));
    let verifier = Verifier::new(lookup, VerifierSettings::default());
    let creds = Credentials::from_keys(LONG_AK, SK, None);
    let mut request = http::Request::builder()
        .method("GET")
        .uri("http://gw.example.com/bucket/key?a=b")
        .header("host", "gw.example.com")
        .body(Vec::new())
        .unwrap();
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service: "s3",
        time: SystemTime::now(),
    };
    let settings = SigningSettings::s3().presigned(Duration::from_secs(7 * 24 * 3600));
    sign_http(&mut request, &params, &settings).unwrap();
    let target = request.uri().path_and_query().unwrap().to_string();
    let wire = format!("GET {target} HTTP/1.1\r\nhost: gw.example.com\r\n\r\n");
    let verified = verifier
        .verify(&raw(&wire).view(), Payload::Bytes(b""))
        .await
        .unwrap();
    // What a log line `debug!(?verified, path = "/bucket/key", query = "a=b")` holds.
    let logged = format!("{verified:?}");
    drop((verified, request, target));
    let akid = between(&logged, "access_key_id: \"", '"');
    let date = between(&logged, "date: \"", '"');
    let region = between(&logged, "region: \"", '"');
    let service = between(&logged, "service: \"", '"');
    let signed = between(&logged, "signed_headers: \"", '"');
    let time: u64 = between(&logged, "request_time: SystemTime { tv_sec: ", ',')
        .parse()
        .unwrap();
    let expiry: u64 = between(&logged, "expires_at: Some(SystemTime { tv_sec: ", ',')
        .parse()
        .unwrap();
    let signature = between(&logged, "signature: \"", '"');
    let amz_date =
        edgeward_signing::format_amz_date(std::time::UNIX_EPOCH + Duration::from_secs(time));
    let rebuilt = format!(
        "/bucket/key?a=b&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={akid}%2F{date}%2F{region}%2F{service}%2Faws4_request\
         &X-Amz-Date={amz_date}&X-Amz-Expires={}&X-Amz-SignedHeaders={signed}&X-Amz-Signature={signature}",
        expiry - time
    );
    let replay = format!("GET {rebuilt} HTTP/1.1\r\nhost: gw.example.com\r\n\r\n");
    let replayed = verifier
        .verify(&raw(&replay).view(), Payload::Bytes(b""))
        .await;
    assert!(
        replayed.is_err(),
        "a presigned URL rebuilt from VerifiedRequest's Debug verifies ({}):\nDebug: {logged}\nrebuilt: {rebuilt}",
        replayed.map(|v| v.principal().to_owned()).unwrap_or_default()
    );
}

/// `Debug` and `Display` of every public type that holds secret material: never the secret,
/// the token, or a derived key.
#[tokio::test(flavor = "current_thread")]
async fn debug_and_display_never_print_secret_material() {
    use edgeward_signing::{SecretAccessKey, SessionToken, SigningKey};
    let secret = SecretAccessKey::new(SK);
    let key = SigningKey::derive(&secret, "20240101", "us-east-1", "s3");
    let token = SessionToken::new(TOKEN);
    let resolved = ResolvedCredential::temporary(SK, "p", TOKEN, SystemTime::now());
    let lookup = lookup();
    let verifier = Verifier::new(lookup.clone(), VerifierSettings::default())
        .with_clock(Arc::new(FixedClock(SystemTime::now())));
    let layer = SigV4Layer::new(
        Arc::new(Verifier::new(lookup.clone(), VerifierSettings::default())),
        LayerSettings::default(),
    );
    let creds = credentials();
    let params = params(&creds);
    // A mismatch error, header and presigned, with the token signed in.
    let mut errors = Vec::new();
    for presign in [false, true] {
        let (request, signature) = signed_request(presign, "sts");
        let bad = with_wrong_signature(&request, &signature);
        let target = bad.uri().path_and_query().unwrap().to_string();
        let mut wire = format!("GET {target} HTTP/1.1\r\n");
        for (n, v) in bad.headers() {
            wire.push_str(&format!("{n}: {}\r\n", v.to_str().unwrap()));
        }
        wire.push_str("\r\n");
        let error = verifier
            .verify(&raw(&wire).view(), Payload::Bytes(b""))
            .await
            .unwrap_err();
        errors.push(error);
    }
    let mut texts = vec![
        format!("{secret:?}"),
        format!("{key:?}"),
        format!("{token:?}"),
        format!("{resolved:?} {resolved:#?}"),
        format!("{lookup:?} {lookup:#?}"),
        format!("{verifier:?} {verifier:#?}"),
        format!("{layer:?} {layer:#?}"),
        format!("{params:?} {params:#?}"),
    ];
    for error in &errors {
        texts.push(format!("{error} {error:?} {error:#?}"));
        let details = error.mismatch_details().unwrap();
        texts.push(format!(
            "{details:?} {details:#?} {}",
            details.canonical_request_redacted()
        ));
        // The signature it carried, as every `Debug` form shows one: its first digits.
        assert_eq!(details.signature_provided.len(), 64);
        let shown = format!("{details:?}");
        assert!(!shown.contains(&details.signature_provided), "{shown}");
        assert!(shown.contains(&details.signature_provided[..8]), "{shown}");
        texts.push(format!("{:?}", error.to_aws_error()));
    }
    // What the verifier, the layer and its service print instead is their settings.
    let service = layer.layer("the inner service");
    for (name, text) in [
        ("Verifier", format!("{verifier:?}")),
        ("SigV4Layer", format!("{layer:?}")),
        ("SigV4Service", format!("{service:?}")),
    ] {
        assert!(text.starts_with(&format!("{name} {{ settings: ")), "{text}");
        let setting = if name == "Verifier" {
            "max_skew: "
        } else {
            "max_body_bytes: "
        };
        assert!(text.contains(setting), "{text}");
        texts.push(text);
    }
    for text in texts {
        assert!(!text.contains(SK), "secret in {text}");
        assert!(!carries_token(&text), "token in {text}");
    }
}

/// The other `Debug` forms that the token redaction covers (`redact.rs`) print a valid
/// signature whole: `RawRequest` and `RequestView` (the `Authorization` header, the
/// `X-Amz-Signature` parameter), `ParsedAuthorization` (its bytes), `ChunkSigner` (the seed).
#[test]
fn request_debug_forms_do_not_print_a_valid_signature() {
    let creds = Credentials::from_keys("AKIAREVIEWSECRETS", SK, None);
    let mut texts = Vec::new();
    let mut signatures = Vec::new();
    for presign in [false, true] {
        let mut raw = raw("GET /bucket/key HTTP/1.1\r\nhost: gw.example.com\r\n\r\n");
        let mut settings = SigningSettings::s3();
        if presign {
            settings = settings.presigned(Duration::from_secs(600));
        }
        let params = SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service: "s3",
            time: SystemTime::now(),
        };
        let signature = edgeward_signing::sign_raw(&mut raw, &params, &settings).unwrap();
        texts.push(format!("{raw:?}"));
        texts.push(format!("{:?}", raw.view()));
        let parsed = match presign {
            false => {
                edgeward_signing::parse_authorization_header(raw.header("authorization").unwrap())
            }
            true => edgeward_signing::parse_presigned_query(raw.target.split_once('?').unwrap().1),
        };
        if let Ok(parsed) = parsed {
            texts.push(format!("{parsed:?}").replace(", ", ",").to_string());
            let hex: String = parsed
                .signature
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(hex, signature);
            signatures.push(format!("{:?}", parsed.signature));
        }
        if !presign {
            let signer = edgeward_signing::ChunkSigner::new(
                &creds,
                "us-east-1",
                "s3",
                SystemTime::now(),
                &signature,
            )
            .unwrap();
            texts.push(format!("{signer:?}"));
        }
        signatures.push(signature);
    }
    let leaks: Vec<&String> = texts
        .iter()
        .filter(|text| {
            signatures.iter().any(|s| {
                text.contains(s.as_str()) || text.replace(' ', "").contains(&s.replace(' ', ""))
            })
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "{} of {} Debug forms print a valid signature:\n{}",
        leaks.len(),
        texts.len(),
        leaks
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A secret access key and a derived signing key say in `Debug` what they are and that they
/// are redacted (a log line with an empty field hides that a secret was there), and never
/// print the secret. Mutants "replace <impl fmt::Debug for SecretAccessKey>::fmt ->
/// fmt::Result with Ok(Default::default())" (crypto.rs:48:9) and "replace <impl fmt::Debug
/// for SigningKey>::fmt -> fmt::Result with Ok(Default::default())" (crypto.rs:181:9) print
/// nothing.
#[test]
fn secrets_and_signing_keys_are_named_and_redacted_in_debug() {
    let secret = SecretAccessKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    let key = SigningKey::derive(&secret, "20150830", "us-east-1", "iam");
    let token = edgeward_signing::SessionToken::new("wJalrXUtnFEMI-as-a-token");
    for (debug, name) in [
        (format!("{secret:?}"), "SecretAccessKey"),
        (format!("{key:?}"), "SigningKey"),
        (format!("{token:?}"), "SessionToken"),
    ] {
        assert!(debug.starts_with(name), "{debug}");
        assert!(debug.contains("redacted"), "{debug}");
        assert!(!debug.contains("wJalrXUtnFEMI"), "{debug}");
    }
    // Nested in a struct's `Debug`, the field still says so.
    let nested = format!("{:?}", Some(&secret));
    assert!(nested.contains("redacted"), "{nested}");
}
