//! A hyper 1 server on 127.0.0.1 behind [`SigV4Layer`], shared by the layer tests. The inner
//! service answers `ok <principal> <body>`, or `body failed: <code> <error>` when the verified
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

async fn inner(
    request: http::Request<VerifiedBody<Incoming>>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let principal = request
        .extensions()
        .get::<VerifiedRequest>()
        .map(|v| v.principal().to_owned())
        .unwrap_or_default();
    let (_, body) = request.into_parts();
    let text = match body.collect().await {
        Ok(collected) => format!(
            "ok {principal} {}",
            String::from_utf8_lossy(&collected.to_bytes())
        ),
        Err(e) => format!("body failed: {} {e}", e.aws_error_code()),
    };
    Ok(http::Response::new(Full::new(Bytes::from(text))))
}

pub(crate) async fn start_server() -> SocketAddr {
    let mut settings = LayerSettings::default();
    settings.max_body_bytes = 1024;
    start_server_with(settings).await
}

pub(crate) async fn start_server_with(settings: LayerSettings) -> SocketAddr {
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
    let service = layer.layer(tower::service_fn(inner));
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
