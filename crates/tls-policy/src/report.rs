//! `ConnectionReport`: what a finished handshake negotiated.

use rustls::{CommonState, HandshakeKind};
use rustls_pki_types::CertificateDer;
use serde::{Serialize, Serializer};

use crate::registry;
use crate::version::{NamedGroup, ProtocolVersion};

/// What a finished handshake negotiated, from either side.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionReport {
    /// Protocol version.
    pub version: Option<ProtocolVersion>,
    /// Cipher suite code point.
    #[serde(serialize_with = "ser_suite")]
    pub cipher_suite: Option<u16>,
    /// Key-exchange group (none for a TLS 1.2 resumption).
    pub group: Option<NamedGroup>,
    /// Application protocol.
    pub alpn: Option<String>,
    /// Server name: what the client sent (server side) or asked for (client side).
    pub sni: Option<String>,
    /// The peer's certificate chain, end entity first.
    #[serde(serialize_with = "ser_certs")]
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// Whether the session was resumed.
    pub resumed: bool,
}

fn ser_suite<S: Serializer>(v: &Option<u16>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(c) => s.serialize_str(&registry::suite_name(*c)),
        None => s.serialize_none(),
    }
}

fn ser_certs<S: Serializer>(v: &[CertificateDer<'static>], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(v.len() as u64)
}

impl ConnectionReport {
    /// Reads the negotiated parameters of a connection; `sni` is the server name in use.
    pub fn from_state(state: &CommonState, sni: Option<&str>) -> Self {
        Self {
            version: state
                .protocol_version()
                .and_then(|v| ProtocolVersion::from_code(u16::from(v))),
            cipher_suite: state
                .negotiated_cipher_suite()
                .map(|s| u16::from(s.suite())),
            group: state
                .negotiated_key_exchange_group()
                .map(|g| NamedGroup(u16::from(g.name()))),
            alpn: state
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            sni: sni.map(str::to_owned),
            peer_certificates: state
                .peer_certificates()
                .map(<[_]>::to_vec)
                .unwrap_or_default(),
            resumed: matches!(state.handshake_kind(), Some(HandshakeKind::Resumed)),
        }
    }

    /// Reads a server-side connection (SNI from the ClientHello).
    pub fn from_server(conn: &rustls::ServerConnection) -> Self {
        Self::from_state(conn, conn.server_name())
    }

    /// Reads a client-side connection; `server_name` is what the client asked for.
    pub fn from_client(conn: &rustls::ClientConnection, server_name: Option<&str>) -> Self {
        Self::from_state(conn, server_name)
    }
}
