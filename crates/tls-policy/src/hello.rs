//! ClientHello inspection: the first flight of a TLS client, parsed (tls-parser) into a report.

use serde::{Serialize, Serializer};
use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_handshake_client_hello, TlsExtension,
};

use crate::evaluate::Offer;
use crate::registry;
use crate::version::{version_name, NamedGroup, ProtocolVersion, SignatureScheme};

/// Largest ClientHello handshake message accepted (bytes of the message body). Real ones are
/// under 2 KiB, post-quantum key shares included.
pub const DEFAULT_MAX_HELLO_LEN: usize = 16 * 1024;

const RECORD_HEADER: usize = 5;
const MAX_RECORD: usize = 16 * 1024 + 256;

/// Why the first bytes are not a ClientHello we could read. The peer's fault.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelloError {
    /// The bytes do not start a TLS handshake record.
    #[error("not TLS: first byte 0x{first_byte:02X} does not start a handshake record{hint}")]
    NotTls {
        /// The first byte.
        first_byte: u8,
        /// A hint such as " (looks like plain text, e.g. HTTP)".
        hint: &'static str,
    },
    /// An SSL 2.0-format ClientHello, which no policy allows.
    #[error("SSL 2.0-format ClientHello (obsolete, prohibited by RFC 6176)")]
    Sslv2,
    /// A record of another content type arrived before the ClientHello was complete.
    #[error("record of content type {0} inside the ClientHello")]
    UnexpectedRecord(u8),
    /// The record header's version is not 3.x.
    #[error("record version 0x{0:04X} is not TLS")]
    RecordVersion(u16),
    /// A record longer than TLS allows, or empty.
    #[error("record length {0} is outside 1..={MAX_RECORD}")]
    RecordLength(usize),
    /// The first handshake message is not a ClientHello.
    #[error("first handshake message has type {0}, not ClientHello (1)")]
    NotClientHello(u8),
    /// The ClientHello is longer than the limit.
    #[error("ClientHello of {len} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Its declared length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The ClientHello body does not decode.
    #[error("ClientHello does not decode: {0}")]
    Decode(String),
    /// The peer closed the connection before a whole ClientHello arrived.
    #[error("connection closed after {0} bytes, before a whole ClientHello")]
    Truncated(usize),
}

impl HelloError {
    /// Whether the peer was speaking TLS at all (so that an alert makes sense).
    pub fn is_tls(&self) -> bool {
        !matches!(self, Self::NotTls { .. } | Self::Truncated(_))
    }
}

/// Progress of parsing a growing buffer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloProgress {
    /// Read more bytes and try again.
    NeedMore,
    /// A whole ClientHello, and how many bytes of the buffer its records used.
    Complete {
        /// The report.
        report: Box<ClientHelloReport>,
        /// Bytes of the buffer consumed (whole records).
        consumed: usize,
    },
}

/// What a ClientHello offers.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientHelloReport {
    /// Version in the first record header.
    #[serde(serialize_with = "ser_version")]
    pub record_version: u16,
    /// `legacy_version` (the client's maximum before TLS 1.3).
    #[serde(serialize_with = "ser_version")]
    pub legacy_version: u16,
    /// The supported_versions extension (GREASE removed), if present.
    #[serde(serialize_with = "ser_versions")]
    pub supported_versions: Option<Vec<u16>>,
    /// Cipher suites in the client's order (GREASE removed).
    #[serde(serialize_with = "ser_suites")]
    pub cipher_suites: Vec<u16>,
    /// Compression methods.
    pub compression_methods: Vec<u8>,
    /// supported_groups (GREASE removed).
    pub groups: Vec<NamedGroup>,
    /// Groups with a key share (TLS 1.3).
    pub key_share_groups: Vec<NamedGroup>,
    /// signature_algorithms.
    pub signature_schemes: Vec<SignatureScheme>,
    /// The server name (SNI), when a valid host name is given.
    pub sni: Option<String>,
    /// ALPN protocols, in the client's order.
    pub alpn: Vec<String>,
    /// Whether the session_ticket extension is present.
    pub session_ticket: bool,
    /// Whether any GREASE value (RFC 8701) appeared.
    pub grease: bool,
    /// Extension types in order.
    pub extensions: Vec<u16>,
}

fn ser_version<S: Serializer>(v: &u16, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&version_name(*v))
}

fn ser_versions<S: Serializer>(v: &Option<Vec<u16>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_seq(v.iter().map(|c| version_name(*c))),
        None => s.serialize_none(),
    }
}

fn ser_suites<S: Serializer>(v: &[u16], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|c| registry::suite_name(*c)))
}

impl ClientHelloReport {
    /// Parses a complete ClientHello from the start of `bytes` (one or more records).
    pub fn parse(bytes: &[u8]) -> Result<Self, HelloError> {
        match parse_client_hello(bytes, DEFAULT_MAX_HELLO_LEN)? {
            HelloProgress::Complete { report, .. } => Ok(*report),
            HelloProgress::NeedMore => Err(HelloError::Truncated(bytes.len())),
        }
    }

    /// The versions the client offers: supported_versions when present; otherwise every
    /// version from TLS 1.0 up to `legacy_version` (SSL 3.0 alone for a 3.0 hello).
    pub fn offered_versions(&self) -> Vec<ProtocolVersion> {
        match &self.supported_versions {
            Some(list) => list
                .iter()
                .filter_map(|c| ProtocolVersion::from_code(*c))
                .collect(),
            None if self.legacy_version == 0x0300 => vec![ProtocolVersion::Ssl3],
            None => ProtocolVersion::ALL
                .into_iter()
                .filter(|v| *v >= ProtocolVersion::Tls10 && v.code() <= self.legacy_version)
                .filter(|v| *v <= ProtocolVersion::Tls12)
                .collect(),
        }
    }

    /// What the client offers, for [`crate::TlsPolicy::evaluate_offer`].
    pub fn offer(&self) -> Offer {
        Offer {
            versions: self.offered_versions(),
            cipher_suites: self.cipher_suites.clone(),
            groups: self.groups.clone(),
            signature_schemes: self.signature_schemes.clone(),
            alpn: self.alpn.clone(),
        }
    }
}

/// Parses the ClientHello at the start of `buf`, which may still be incomplete.
///
/// Reads records of content type handshake until the ClientHello message is whole (it may
/// span records); never reads a message longer than `max_hello_len`.
pub fn parse_client_hello(buf: &[u8], max_hello_len: usize) -> Result<HelloProgress, HelloError> {
    let mut offset = 0;
    let mut message: Vec<u8> = Vec::new();
    let mut record_version = None;
    loop {
        let Some(header) = buf.get(offset..offset + RECORD_HEADER) else {
            check_prefix(&buf[offset.min(buf.len())..], offset == 0)?;
            return Ok(HelloProgress::NeedMore);
        };
        let (ty, major, minor) = (header[0], header[1], header[2]);
        if offset == 0 {
            check_prefix(header, true)?;
        } else if ty != 22 {
            return Err(HelloError::UnexpectedRecord(ty));
        }
        let version = u16::from_be_bytes([major, minor]);
        if major != 3 {
            return Err(HelloError::RecordVersion(version));
        }
        record_version.get_or_insert(version);
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if len == 0 || len > MAX_RECORD {
            return Err(HelloError::RecordLength(len));
        }
        let Some(fragment) = buf.get(offset + RECORD_HEADER..offset + RECORD_HEADER + len) else {
            return Ok(HelloProgress::NeedMore);
        };
        offset += RECORD_HEADER + len;
        message.extend_from_slice(fragment);
        if let Some(&[msg_type, a, b, c]) = message.get(..4) {
            if msg_type != 1 {
                return Err(HelloError::NotClientHello(msg_type));
            }
            let body_len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            if body_len > max_hello_len {
                return Err(HelloError::TooLarge {
                    len: body_len,
                    limit: max_hello_len,
                });
            }
            if let Some(body) = message.get(4..4 + body_len) {
                let report = decode_body(body, record_version.unwrap_or(version))?;
                return Ok(HelloProgress::Complete {
                    report: Box::new(report),
                    consumed: offset,
                });
            }
        }
    }
}

fn check_prefix(bytes: &[u8], first: bool) -> Result<(), HelloError> {
    let Some(&first_byte) = bytes.first() else {
        return Ok(());
    };
    if !first {
        return Ok(());
    }
    if first_byte & 0x80 != 0 && bytes.get(2) == Some(&1) {
        return Err(HelloError::Sslv2);
    }
    if first_byte != 22 {
        let hint = if first_byte.is_ascii_alphabetic() {
            " (looks like plain text, e.g. HTTP)"
        } else {
            ""
        };
        return Err(HelloError::NotTls { first_byte, hint });
    }
    Ok(())
}

fn decode_body(body: &[u8], record_version: u16) -> Result<ClientHelloReport, HelloError> {
    let (_, ch) =
        parse_tls_handshake_client_hello(body).map_err(|e| HelloError::Decode(format!("{e:?}")))?;
    let grease = std::cell::Cell::new(false);
    let mut not_grease = |c: &u16| {
        let g = registry::is_grease(*c);
        grease.set(grease.get() | g);
        !g
    };
    let cipher_suites: Vec<u16> = ch
        .ciphers
        .iter()
        .map(|c| c.0)
        .filter(&mut not_grease)
        .collect();
    let mut report = ClientHelloReport {
        record_version,
        legacy_version: ch.version.0,
        supported_versions: None,
        cipher_suites,
        compression_methods: ch.comp.iter().map(|c| c.0).collect(),
        groups: Vec::new(),
        key_share_groups: Vec::new(),
        signature_schemes: Vec::new(),
        sni: None,
        alpn: Vec::new(),
        session_ticket: false,
        grease: false,
        extensions: Vec::new(),
    };
    if let Some(ext) = ch.ext {
        let (_, exts) = parse_tls_client_hello_extensions(ext)
            .map_err(|e| HelloError::Decode(format!("extensions: {e:?}")))?;
        for e in &exts {
            report
                .extensions
                .push(tls_parser::TlsExtensionType::from(e).0);
            match e {
                TlsExtension::SupportedVersions(v) => {
                    report.supported_versions =
                        Some(v.iter().map(|v| v.0).filter(&mut not_grease).collect());
                }
                TlsExtension::EllipticCurves(g) => {
                    report.groups = g
                        .iter()
                        .map(|g| g.0)
                        .filter(&mut not_grease)
                        .map(NamedGroup)
                        .collect();
                }
                TlsExtension::SignatureAlgorithms(s) => {
                    report.signature_schemes = s
                        .iter()
                        .copied()
                        .filter(&mut not_grease)
                        .map(SignatureScheme)
                        .collect();
                }
                TlsExtension::SNI(names) => {
                    report.sni = names
                        .iter()
                        .find(|(t, _)| t.0 == 0)
                        .and_then(|(_, n)| std::str::from_utf8(n).ok())
                        .filter(|n| !n.is_empty() && n.len() <= 253 && n.is_ascii())
                        .map(str::to_owned);
                }
                TlsExtension::ALPN(protos) => {
                    report.alpn = protos
                        .iter()
                        .map(|p| String::from_utf8_lossy(p).into_owned())
                        .collect();
                }
                TlsExtension::SessionTicket(_) => report.session_ticket = true,
                TlsExtension::KeyShare(data) => {
                    report.key_share_groups = key_share_groups(data)
                        .into_iter()
                        .filter(&mut not_grease)
                        .map(NamedGroup)
                        .collect();
                }
                TlsExtension::Grease(..) => grease.set(true),
                _ => {}
            }
        }
    }
    report.grease = grease.get();
    Ok(report)
}

/// Groups of a ClientHello key_share extension body: a u16 length, then (group, u16 length,
/// key) entries. Stops at the first inconsistency.
fn key_share_groups(data: &[u8]) -> Vec<u16> {
    let mut out = Vec::new();
    let Some(rest) = data.get(2..) else {
        return out;
    };
    let mut rest = rest;
    while let Some(&[g0, g1, l0, l1]) = rest.get(..4) {
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        out.push(u16::from_be_bytes([g0, g1]));
        match rest.get(4 + len..) {
            Some(r) => rest = r,
            None => break,
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn http_is_not_tls() {
        let e = ClientHelloReport::parse(b"GET / HTTP/1.1\r\n\r\n").unwrap_err();
        assert_eq!(e.to_string(), "not TLS: first byte 0x47 does not start a handshake record (looks like plain text, e.g. HTTP)");
    }

    #[test]
    fn partial_input_needs_more() {
        assert_eq!(
            parse_client_hello(&[22, 3, 1], 1024),
            Ok(HelloProgress::NeedMore)
        );
        assert_eq!(
            parse_client_hello(&[22, 3, 1, 0, 10, 1, 0], 1024),
            Ok(HelloProgress::NeedMore)
        );
    }

    #[test]
    fn oversized_hello_is_refused_before_it_arrives() {
        let e = parse_client_hello(&[22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff], 1024);
        assert_eq!(
            e,
            Err(HelloError::TooLarge {
                len: 0xffffff,
                limit: 1024
            })
        );
    }
}
