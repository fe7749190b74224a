//! A hyper 1 server on 127.0.0.1 behind [`SigV4Layer`], shared by the layer tests. The inner
//! service answers as [`Answers`] says, or `400 body failed: <code> <error>` when the verified
//! body fails.
#![allow(clippy::unwrap_used, dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use edgeward_signing::{
    LayerSettings, ResolvedCredential, SigV4Layer, StaticCredentials, VerifiedBody,
    VerifiedRequest, Verifier, VerifierSettings,
};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tower::{Layer, ServiceExt};

pub(crate) const AK: &str = "AKIDLAYERTEST";
pub(crate) const SK: &str = "layer-secret-key/EXAMPLE";
pub(crate) const TEMP_AK: &str = "ASIALAYERTEST";
pub(crate) const TEMP_SK: &str = "temporary-secret";
pub(crate) const TOKEN: &str = "session/token+value==";

/// How the inner service answers a verified request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answers {
    /// `ok <principal> <body>` for everything: the tests read back what the layer let through.
    Echo,
    /// What AWS clients parse: STS `GetCallerIdentity` in STS's XML with the verified
    /// principal, an empty 200 for S3 requests other than GET (botocore takes any other 200
    /// body from S3 for an error), and `ok <principal> <body>` for the rest.
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
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
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
        "sts"
            if body
                .split(|&b| b == b'&')
                .any(|pair| pair == b"Action=GetCallerIdentity") =>
        {
            answer("text/xml", caller_identity_xml(&principal, &access_key_id))
        }
        "s3" if parts.method != http::Method::GET => answer("application/xml", String::new()),
        _ => answer("text/plain", echo),
    }
}

/// STS's `GetCallerIdentity` answer (query protocol), with the account from the principal ARN.
fn caller_identity_xml(principal: &str, access_key_id: &str) -> String {
    let account = principal.split(':').nth(4).unwrap_or_default();
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <GetCallerIdentityResult><Arn>{principal}</Arn><UserId>{access_key_id}</UserId>\
         <Account>{account}</Account></GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId>\
         </ResponseMetadata></GetCallerIdentityResponse>"
    )
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
    let verifier = Arc::new(Verifier::new(lookup, VerifierSettings::default()));
    let layer = SigV4Layer::new(verifier, settings);
    let service = layer.layer(tower::service_fn(move |request| inner(answers, request)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = service.clone();
            tokio::spawn(async move {
                let hyper_service =
                    hyper::service::service_fn(move |request: http::Request<Incoming>| {
                        service.clone().oneshot(request)
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(5))
                    .serve_connection(TokioIo::new(stream), hyper_service)
                    .await;
            });
        }
    });
    addr
}

/// The interop venv's Python (`EDGEWARD_PYTHON`, set by `cargo xtask test`); a test that needs
/// it fails without it rather than skipping.
pub(crate) fn interop_python() -> String {
    let python = std::env::var("EDGEWARD_PYTHON").unwrap_or_else(|_| {
        panic!("EDGEWARD_PYTHON is not set: run `cargo xtask test`, or set it to the interop venv's python (target/interop-venv/bin/python)")
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "EDGEWARD_PYTHON={python} does not exist (run `cargo xtask setup`)"
    );
    python
}
