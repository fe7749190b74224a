//! A service behind SigV4: every request must be signed with a key the service knows, and
//! the answer names who signed it. Served the way `SigV4Layer`'s docs ask of a public
//! endpoint: a header-read timeout, half-closed connections answered, and a bound on
//! connections.
//!
//! ```sh
//! cargo run -p edgeward-signing --example sigv4_service            # on 127.0.0.1:8080
//! cargo run -p edgeward-signing --example sigv4_service 0.0.0.0:9000
//!
//! curl --aws-sigv4 aws:amz:us-east-1:execute-api \
//!      --user AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY \
//!      http://127.0.0.1:8080/hello
//! # alice (AKIDEXAMPLE) signed GET /hello for execute-api in us-east-1
//!
//! curl -i http://127.0.0.1:8080/hello
//! # HTTP/1.1 403 Forbidden, with API Gateway's JSON error: MissingAuthenticationTokenException
//! ```
//!
//! A browser upload (S3's POST Object: a form whose POST policy the key signed, as botocore's
//! `generate_presigned_post` makes one for `http://127.0.0.1:8080` and the bucket `uploads`)
//! passes the layer too, with a `VerifiedPost` where a signed request has its
//! `VerifiedRequest`:
//!
//! ```text
//! # alice (AKIDEXAMPLE) may upload photos/cat.jpg to uploads
//! ```
//!
//! A real service puts its own [`CredentialLookup`](edgeward_signing::CredentialLookup) where
//! `StaticCredentials` is here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::routing::any;
use axum::{Extension, Router};
use edgeward_signing::{
    LayerSettings, ResolvedCredential, SigV4Layer, StaticCredentials, VerifiedPost,
    VerifiedRequest, Verifier, VerifierSettings,
};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The example's one key: the AWS documentation's example pair.
pub const ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
/// Its secret.
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// How long a client may take to send a request head before the connection is closed.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; the next waits in the listener's backlog.
const MAX_CONNECTIONS: usize = 1024;
/// How long to wait after a failed accept before the next.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Who signed the request, for what; only a verified request reaches this, with a
/// `VerifiedRequest`, or for a browser upload (POST Object) a `VerifiedPost`: a handler that
/// asked only for the first would fail the second with axum's 500.
///
/// The body is read to its end before the answer, as any handler behind the layer must: a
/// streamed upload's chunk signatures, and a browser upload's file size and checksums, are
/// checked as it is read (when one fails, the layer answers with the failure instead), and an
/// answer given over a body still arriving has hyper close the connection under it, which the
/// client can see as a reset, not the answer.
async fn who_signed(
    signed: Option<Extension<VerifiedRequest>>,
    upload: Option<Extension<VerifiedPost>>,
    method: http::Method,
    uri: http::Uri,
    mut body: Body,
) -> Result<String, http::StatusCode> {
    while let Some(Ok(_)) = body.frame().await {}
    match (signed, upload) {
        (Some(Extension(verified)), _) => {
            let scope = verified.scope();
            Ok(format!(
                "{} ({}) signed {method} {} for {} in {}\n",
                verified.principal(),
                verified.access_key_id(),
                uri.path(),
                scope.service,
                scope.region,
            ))
        }
        (None, Some(Extension(upload))) => Ok(format!(
            "{} ({}) may upload {} to {}\n",
            upload.principal(),
            upload.access_key_id(),
            upload.key(),
            upload.bucket(),
        )),
        // The layer passes nothing else on; were it taken away, nothing would be answered.
        (None, None) => Err(http::StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// The router, every route behind the layer.
pub fn app() -> Router {
    let lookup = StaticCredentials::new().with(
        ACCESS_KEY_ID,
        ResolvedCredential::new(SECRET_ACCESS_KEY, "alice"),
    );
    let verifier = Arc::new(Verifier::new(lookup, VerifierSettings::default()));
    Router::new()
        .fallback(any(who_signed))
        .layer(SigV4Layer::new(verifier, LayerSettings::default()))
}

/// Serves [`app`] on `listener`, for good.
pub async fn serve(listener: TcpListener) {
    let app = app();
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = Arc::clone(&connections).acquire_owned().await else {
            return; // Never: the semaphore is not closed.
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // A connection that failed before it was accepted, or no descriptor left for
                // it: neither is a reason to stop serving the others. The pause keeps a full
                // descriptor table from turning this loop into a spin.
                eprintln!("accept: {e}");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
                app.clone().oneshot(request)
            });
            let mut http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            http.http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .half_close(true);
            // A client that goes away mid-request is no error of the service's.
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
            drop(permit);
        });
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{arg:?} is not an address such as 127.0.0.1:8080: {e}"),
            )
        })?,
        None => SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    let listener = TcpListener::bind(addr).await?;
    eprintln!(
        "listening on http://{}; sign with {ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}",
        listener.local_addr()?
    );
    serve(listener).await;
    Ok(())
}
