//! The tokio side: a server acceptor that inspects the ClientHello before rustls sees it, and a
//! client connector that explains refusals.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{AlertDescription, ClientConfig, ServerConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::error::Error;
use crate::evaluate::{Reason, Verdict};
use crate::hello::{parse_client_hello, ClientHelloReport, HelloError, HelloProgress};
use crate::policy::TlsPolicy;
use crate::report::ConnectionReport;

/// Limits for [`PolicyAcceptor`] and [`PolicyConnector`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptSettings {
    /// The whole handshake (ClientHello read included) must finish within this. Default 10 s.
    pub handshake_timeout: Duration,
    /// Largest ClientHello message read before refusing. Default 16 KiB. The acceptor buffers
    /// at most this plus two whole records (2 × (5 + 16,640) bytes) of a hello however it is
    /// fragmented, then refuses with [`HelloError::TooLarge`].
    pub max_hello_len: usize,
}

impl Default for AcceptSettings {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            max_hello_len: crate::hello::DEFAULT_MAX_HELLO_LEN,
        }
    }
}

impl AcceptSettings {
    /// Settings with this handshake timeout.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }
}

/// A stream whose first bytes were already read (the ClientHello) and are replayed first.
#[derive(Debug)]
pub struct PeekedStream<IO> {
    prefix: Vec<u8>,
    pos: usize,
    inner: IO,
}

impl<IO> PeekedStream<IO> {
    /// Replays `prefix`, then reads from `inner`.
    pub fn new(prefix: Vec<u8>, inner: IO) -> Self {
        Self {
            prefix,
            pos: 0,
            inner,
        }
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &IO {
        &self.inner
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for PeekedStream<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(rest) = this.prefix.get(this.pos..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for PeekedStream<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A connection the policy accepted, after the handshake.
#[derive(Debug)]
pub struct Accepted<IO> {
    /// The TLS stream.
    pub stream: tokio_rustls::server::TlsStream<PeekedStream<IO>>,
    /// What the client offered.
    pub hello: ClientHelloReport,
    /// What was negotiated.
    pub report: ConnectionReport,
}

/// Server side: reads the ClientHello (bounded), evaluates it against the policy, then either
/// hands the connection to rustls or refuses with the fitting alert and the reasons.
#[derive(Debug, Clone)]
pub struct PolicyAcceptor {
    policy: Arc<TlsPolicy>,
    config: Arc<ServerConfig>,
    settings: AcceptSettings,
}

impl PolicyAcceptor {
    /// An acceptor for `policy` with a config built by [`crate::server_config`] (or any config
    /// the caller trusts to match the policy).
    pub fn new(
        policy: Arc<TlsPolicy>,
        config: Arc<ServerConfig>,
        settings: AcceptSettings,
    ) -> Self {
        Self {
            policy,
            config,
            settings,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &TlsPolicy {
        &self.policy
    }

    /// Accepts one connection. Errors: [`Error::Refused`] (alert sent) when the ClientHello
    /// does not comply, [`Error::MalformedHello`] for garbage, [`Error::HandshakeTimeout`],
    /// [`Error::Handshake`] when rustls fails the handshake.
    pub async fn accept<IO>(&self, io: IO) -> Result<Accepted<IO>, Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let timeout = self.settings.handshake_timeout;
        match tokio::time::timeout(timeout, self.accept_inner(io)).await {
            Ok(result) => result,
            Err(_) => Err(Error::HandshakeTimeout(timeout)),
        }
    }

    async fn accept_inner<IO>(&self, mut io: IO) -> Result<Accepted<IO>, Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let mut buf = Vec::with_capacity(2048);
        // Whole records only: the hello itself plus up to one record header and body.
        let max_buf = self.settings.max_hello_len + 2 * (5 + 16 * 1024 + 256);
        let hello = loop {
            match parse_client_hello(&buf, self.settings.max_hello_len) {
                Ok(HelloProgress::Complete { report, .. }) => break *report,
                Ok(HelloProgress::NeedMore) => {}
                Err(e) => return Err(refuse_malformed(&mut io, e).await),
            }
            let mut chunk = [0u8; 4096];
            let want = chunk.len().min(max_buf.saturating_sub(buf.len()));
            if want == 0 {
                let e = HelloError::TooLarge {
                    len: buf.len(),
                    limit: self.settings.max_hello_len,
                };
                return Err(refuse_malformed(&mut io, e).await);
            }
            let n = io.read(&mut chunk[..want]).await?;
            if n == 0 {
                return Err(Error::MalformedHello(HelloError::Truncated(buf.len())));
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let verdict = self.policy.evaluate(&hello);
        if !verdict.accepted() {
            let alert = verdict
                .alert()
                .unwrap_or(AlertDescription::HandshakeFailure);
            tracing::info!(policy = self.policy.name(), reason = %verdict, ?alert, "ClientHello refused");
            send_alert(&mut io, hello.legacy_version, alert).await;
            return Err(Error::Refused(verdict));
        }
        let stream = tokio_rustls::TlsAcceptor::from(self.config.clone())
            .accept(PeekedStream::new(buf, io))
            .await
            .map_err(Error::Handshake)?;
        let report = ConnectionReport::from_server(stream.get_ref().1);
        let check = self.policy.check(&report);
        if !check.accepted() {
            // rustls negotiated within the config; this guards a config that does not match.
            tracing::warn!(policy = self.policy.name(), reason = %check, "negotiated outside policy");
            return Err(Error::Refused(check));
        }
        Ok(Accepted {
            stream,
            hello,
            report,
        })
    }
}

async fn refuse_malformed<IO: AsyncWrite + Unpin>(io: &mut IO, e: HelloError) -> Error {
    tracing::info!(error = %e, "malformed ClientHello refused");
    if e.is_tls() {
        let alert = match e {
            HelloError::Sslv2 | HelloError::RecordVersion(_) => AlertDescription::ProtocolVersion,
            HelloError::NotClientHello(_) | HelloError::UnexpectedRecord(_) => {
                AlertDescription::UnexpectedMessage
            }
            HelloError::TooLarge { .. } | HelloError::RecordLength(_) => {
                AlertDescription::RecordOverflow
            }
            _ => AlertDescription::DecodeError,
        };
        send_alert(io, 0x0303, alert).await;
    }
    Error::MalformedHello(e)
}

/// Writes one fatal alert record and closes the write side. Failures are ignored: the
/// connection is being refused anyway.
async fn send_alert<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    client_version: u16,
    alert: AlertDescription,
) {
    let version = client_version.clamp(0x0301, 0x0303).to_be_bytes();
    let record = [21, version[0], version[1], 0, 2, 2, u8::from(alert)];
    let _ = io.write_all(&record).await;
    let _ = io.flush().await;
    let _ = io.shutdown().await;
}

/// Client side: connects with a policy's config and turns handshake failures that show the
/// server cannot meet the policy into [`Error::Refused`] with a reason.
#[derive(Debug, Clone)]
pub struct PolicyConnector {
    policy: Arc<TlsPolicy>,
    config: Arc<ClientConfig>,
    settings: AcceptSettings,
}

impl PolicyConnector {
    /// A connector for `policy` with a config built by [`crate::client_config`].
    pub fn new(
        policy: Arc<TlsPolicy>,
        config: Arc<ClientConfig>,
        settings: AcceptSettings,
    ) -> Self {
        Self {
            policy,
            config,
            settings,
        }
    }

    /// Runs the handshake over `io` and checks the result against the policy.
    pub async fn connect<IO>(
        &self,
        server_name: ServerName<'static>,
        io: IO,
    ) -> Result<(tokio_rustls::client::TlsStream<IO>, ConnectionReport), Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let name = match &server_name {
            ServerName::DnsName(d) => Some(d.as_ref().to_owned()),
            other => Some(other.to_str().into_owned()),
        };
        let timeout = self.settings.handshake_timeout;
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        let stream = match tokio::time::timeout(timeout, connector.connect(server_name, io)).await {
            Err(_) => return Err(Error::HandshakeTimeout(timeout)),
            Ok(Err(e)) => {
                return Err(match refusal_reason(&self.policy, &e) {
                    Some(reason) => Error::Refused(Verdict {
                        policy: self.policy.name().to_owned(),
                        reasons: vec![reason],
                    }),
                    None => Error::Handshake(e),
                })
            }
            Ok(Ok(s)) => s,
        };
        let report = ConnectionReport::from_client(stream.get_ref().1, name.as_deref());
        let verdict = self.policy.check(&report);
        if !verdict.accepted() {
            return Err(Error::Refused(verdict));
        }
        Ok((stream, report))
    }
}

/// The RFC 8446 name of an alert: `protocol_version`, `insufficient_security`, ….
pub fn alert_name(alert: AlertDescription) -> String {
    let camel = format!("{alert:?}");
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// When a client handshake failed because the server cannot meet the policy, the reason.
/// `None` for other failures (certificate errors, I/O, …).
pub fn refusal_reason(policy: &TlsPolicy, err: &io::Error) -> Option<Reason> {
    let e = err.get_ref()?.downcast_ref::<rustls::Error>()?;
    let versions: Vec<String> = policy.versions().iter().map(|v| v.to_string()).collect();
    let detail = match e {
        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion) => format!(
            "server refused every version the policy allows ({}): protocol_version alert",
            versions.join(", ")
        ),
        rustls::Error::AlertReceived(
            a @ (AlertDescription::HandshakeFailure | AlertDescription::InsufficientSecurity),
        ) => format!(
            "server accepts none of the {} cipher suites and {} groups the policy allows: {} alert",
            policy.cipher_suites().len(),
            policy.groups().len(),
            alert_name(*a),
        ),
        rustls::Error::PeerIncompatible(p) => format!("{p:?}"),
        rustls::Error::PeerMisbehaved(
            p @ (rustls::PeerMisbehaved::SelectedUnofferedCipherSuite
            | rustls::PeerMisbehaved::SelectedUnofferedKxGroup
            | rustls::PeerMisbehaved::SelectedUnofferedApplicationProtocol
            | rustls::PeerMisbehaved::SelectedTls12UsingTls13VersionExtension
            | rustls::PeerMisbehaved::WrongGroupForKeyShare),
        ) => format!("server chose outside the offer: {p:?}"),
        _ => return None,
    };
    Some(Reason::PeerIncompatible(detail))
}
