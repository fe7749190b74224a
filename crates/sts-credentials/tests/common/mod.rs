//! Test peers: a real container-credentials HTTP server on 127.0.0.1 that the test steers
//! (healthy, HTTP error, hanging, garbage, killed), and a clock the test moves.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_async::time::TimeSource;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A clock the test sets and advances.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    pub fn new(start: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }
    pub fn set(&self, at: SystemTime) {
        *self.0.lock().unwrap() = at;
    }
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
    pub fn get(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

impl TimeSource for ManualClock {
    fn now(&self) -> SystemTime {
        self.get()
    }
}

/// A fixed, second-aligned starting time (RFC 3339 in responses has second precision).
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// What the server answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// 200 with a credentials document, a new access key per request.
    Healthy,
    /// This status with a short body.
    Status(u16),
    /// Accepts the request and never answers.
    Hang,
    /// 200 with a body that is not a credentials document.
    Garbage,
}

#[derive(Debug)]
struct ServerState {
    mode: Mode,
    expires_at: SystemTime,
    delay: Duration,
    required_token: Option<String>,
    last_host: Option<String>,
}

/// The server; dropped or [`CredentialsServer::kill`]ed, its port refuses connections.
pub struct CredentialsServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<ServerState>>,
    requests: Arc<AtomicU64>,
    task: Option<JoinHandle<()>>,
}

pub fn rfc3339(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

impl CredentialsServer {
    pub async fn start(expires_at: SystemTime) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(ServerState {
            mode: Mode::Healthy,
            expires_at,
            delay: Duration::ZERO,
            required_token: None,
            last_host: None,
        }));
        let requests = Arc::new(AtomicU64::new(0));
        let (st, rq) = (Arc::clone(&state), Arc::clone(&requests));
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (st, rq) = (Arc::clone(&st), Arc::clone(&rq));
                connections.spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (st, rq) = (Arc::clone(&st), Arc::clone(&rq));
                        async move {
                            let n = rq.fetch_add(1, Ordering::SeqCst) + 1;
                            let host = req
                                .headers()
                                .get("host")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            let (mode, expires_at, delay, required) = {
                                let mut s = st.lock().unwrap();
                                s.last_host = host;
                                (s.mode.clone(), s.expires_at, s.delay, s.required_token.clone())
                            };
                            if !delay.is_zero() {
                                tokio::time::sleep(delay).await;
                            }
                            if let Some(required) = required {
                                let got = req
                                    .headers()
                                    .get("authorization")
                                    .and_then(|v| v.to_str().ok());
                                if got != Some(required.as_str()) {
                                    return Ok::<_, Infallible>(
                                        hyper::Response::builder()
                                            .status(403)
                                            .body(Full::new(Bytes::from("bad token")))
                                            .unwrap(),
                                    );
                                }
                            }
                            let response = match mode {
                                Mode::Healthy => hyper::Response::builder()
                                    .status(200)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(format!(
                                        r#"{{"AccessKeyId":"ASIATEST{n:012}","SecretAccessKey":"secret-{n}","Token":"token-{n}","Expiration":"{}"}}"#,
                                        rfc3339(expires_at)
                                    ))))
                                    .unwrap(),
                                Mode::Status(code) => hyper::Response::builder()
                                    .status(code)
                                    .body(Full::new(Bytes::from("upstream says no")))
                                    .unwrap(),
                                Mode::Hang => {
                                    std::future::pending::<()>().await;
                                    unreachable!()
                                }
                                Mode::Garbage => hyper::Response::builder()
                                    .status(200)
                                    .body(Full::new(Bytes::from("<html>captive portal</html>")))
                                    .unwrap(),
                            };
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            state,
            requests,
            task: Some(task),
        }
    }

    pub fn uri(&self) -> String {
        format!("http://{}/v2/credentials", self.addr)
    }
    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }
    pub fn set_expiry(&self, at: SystemTime) {
        self.state.lock().unwrap().expires_at = at;
    }
    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }
    pub fn require_token(&self, token: &str) {
        self.state.lock().unwrap().required_token = Some(token.to_owned());
    }
    /// The `Host` header of the last request, if it had one.
    pub fn last_host(&self) -> Option<String> {
        self.state.lock().unwrap().last_host.clone()
    }
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
    /// Stops accepting and drops every connection: the port then refuses.
    pub async fn kill(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for CredentialsServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
