//! A small, bounded HTTP/1.1 client on hyper: one connection per request, a connect timeout
//! (TCP and TLS handshake), a response timeout (status line, headers and body), and a body
//! size limit. Credentials endpoints answer a few hundred bytes once an hour; pooling would
//! buy nothing and cost state.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, HOST};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::Error;

/// Limits on one HTTP exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpLimits {
    /// TCP connect plus TLS handshake. Default 2 s.
    pub connect_timeout: Duration,
    /// From request sent to the last body byte. Default 5 s.
    pub response_timeout: Duration,
    /// Largest accepted response body. Default 64 KiB (a credentials document is < 4 KiB).
    pub max_response_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(5),
            max_response_bytes: 64 * 1024,
        }
    }
}

impl HttpLimits {
    /// Sets the connect (TCP + TLS) timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// Sets the response timeout.
    pub fn with_response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }
    /// Sets the response body limit.
    pub fn with_max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The URI's host, an IPv6 address without its brackets.
pub(crate) fn bare_host(uri: &Uri) -> Option<&str> {
    uri.host()
        .map(|host| host.trim_start_matches('[').trim_end_matches(']'))
}

/// The URI's host is `localhost` or a loopback address: the only hosts a credentials request
/// may reach over plain HTTP (credentials come back in the response).
pub(crate) fn is_loopback(uri: &Uri) -> bool {
    bare_host(uri).is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

/// `host:port` of a URI, for error messages and connecting.
pub(crate) fn endpoint_of(uri: &Uri) -> Result<(String, u16), Error> {
    let host = bare_host(uri)
        .ok_or_else(|| Error::InvalidSetting {
            setting: "endpoint".into(),
            reason: format!("{uri} has no host"),
        })?
        .to_owned();
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    });
    Ok((host, port))
}

/// Sends `request` and returns the response with its whole body, within `limits`.
///
/// `https` URIs need `tls`; the server name (SNI and certificate check) is the URI's host.
pub(crate) async fn send(
    mut request: Request<Full<Bytes>>,
    tls: Option<&Arc<ClientConfig>>,
    limits: HttpLimits,
) -> Result<Response<Bytes>, Error> {
    let uri = request.uri().clone();
    let (host, port) = endpoint_of(&uri)?;
    let endpoint = format!("{host}:{port}");
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        other => {
            return Err(Error::InvalidSetting {
                setting: "endpoint".into(),
                reason: format!("unsupported scheme {other:?} in {uri}"),
            })
        }
    };

    // Checked before connecting: a configuration error is not worth a connection attempt,
    // and must not be reported as whatever that attempt ran into.
    let tls_config = match (https, tls) {
        (true, Some(config)) => Some(config),
        (true, None) => {
            return Err(Error::MissingSetting {
                setting: format!("TLS client configuration for {uri}"),
            })
        }
        (false, _) => None,
    };
    let connect = async {
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|source| Error::Connect {
                endpoint: endpoint.clone(),
                source,
            })?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Io> = if let Some(config) = tls_config {
            let name = ServerName::try_from(host.clone()).map_err(|e| Error::InvalidSetting {
                setting: "endpoint".into(),
                reason: format!("{host} is not a valid TLS server name: {e}"),
            })?;
            let tls_stream = tokio_rustls::TlsConnector::from(Arc::clone(config))
                .connect(name, tcp)
                .await
                .map_err(|source| Error::Tls {
                    endpoint: endpoint.clone(),
                    source,
                })?;
            Box::new(tls_stream)
        } else {
            Box::new(tcp)
        };
        Ok::<_, Error>(stream)
    };
    let stream = tokio::time::timeout(limits.connect_timeout, connect)
        .await
        .map_err(|_| Error::Timeout {
            endpoint: endpoint.clone(),
            stage: "connect",
            after: limits.connect_timeout,
        })??;

    let exchange = async {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|source| Error::Http {
                endpoint: endpoint.clone(),
                source,
            })?;
        // The connection task lives exactly as long as this exchange: aborted when the exchange
        // ends or its timeout drops it. (A timer of its own, with the exchange's limit, could
        // fire in the same tick and end the exchange with hyper's "dispatch gone" instead of
        // our timeout.)
        let _connection = AbortOnDrop(tokio::spawn(async move {
            let _ = connection.await;
        }));
        if !request.headers().contains_key(HOST) {
            let value = match uri.port_u16() {
                Some(p) => format!("{}:{p}", uri.host().unwrap_or_default()),
                None => uri.host().unwrap_or_default().to_owned(),
            };
            if let Ok(value) = HeaderValue::from_str(&value) {
                request.headers_mut().insert(HOST, value);
            }
        }
        // HTTP/1.1 origin form on the wire.
        if let Some(pq) = uri.path_and_query() {
            if let Ok(origin) = Uri::builder().path_and_query(pq.clone()).build() {
                *request.uri_mut() = origin;
            }
        }
        let response = sender
            .send_request(request)
            .await
            .map_err(|source| Error::Http {
                endpoint: endpoint.clone(),
                source,
            })?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, limits.max_response_bytes)
            .collect()
            .await
            .map_err(|e| match e.downcast::<hyper::Error>() {
                Ok(source) => Error::Http {
                    endpoint: endpoint.clone(),
                    source: *source,
                },
                Err(_) => Error::ResponseTooLarge {
                    endpoint: endpoint.clone(),
                    limit: limits.max_response_bytes,
                },
            })?
            .to_bytes();
        Ok::<_, Error>(Response::from_parts(parts, body))
    };
    tokio::time::timeout(limits.response_timeout, exchange)
        .await
        .map_err(|_| Error::Timeout {
            endpoint: endpoint.clone(),
            stage: "response",
            after: limits.response_timeout,
        })?
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Maps a non-200 status to its typed error, with the (truncated, lossy) body as message.
pub(crate) fn status_error(endpoint: String, status: u16, body: &[u8]) -> Error {
    let mut message: String = String::from_utf8_lossy(body)
        .chars()
        .filter(|c| !c.is_control())
        .take(256)
        .collect();
    if message.is_empty() {
        message = "(empty body)".into();
    }
    match status {
        401 | 403 => Error::Unauthorized {
            endpoint,
            status,
            message,
        },
        404 => Error::NotFound { endpoint, message },
        429 => Error::Throttled { endpoint, message },
        500..=599 => Error::ServerError {
            endpoint,
            status,
            message,
        },
        _ => Error::UnexpectedStatus {
            endpoint,
            status,
            message,
        },
    }
}
