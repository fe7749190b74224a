//! Parsing what a server sends back to a probe: records, then the handshake messages in them
//! (ServerHello, HelloRetryRequest, Certificate, ServerKeyExchange, ServerHelloDone), alerts.
//!
//! [`parse_server_reply`] takes the bytes received so far and returns every complete message,
//! plus how far the input got into an incomplete one; the probe calls it after each read until
//! it has what it needs. Sizes are bounded: a record body may not exceed 2^14 + 2048 bytes, a
//! handshake message [`MAX_HANDSHAKE_MESSAGE`] bytes, the whole reply [`MAX_REPLY`] bytes.

use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

/// The largest record body a TLSCiphertext may have (RFC 8446 5.2): 2^14 + 256, with room for
/// older versions' 2^14 + 2048.
pub const MAX_RECORD_BODY: usize = (1 << 14) + 2048;

/// The largest handshake message we accept (a certificate chain of a few large certificates).
pub const MAX_HANDSHAKE_MESSAGE: usize = 1 << 17;

/// The most we read from one server for one probe.
pub const MAX_REPLY: usize = 1 << 18;

/// The `random` of a HelloRetryRequest (RFC 8446 4.1.3): SHA-256 of "HelloRetryRequest".
pub const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// Why a server's reply could not be read. The server (or whatever answers on the port) is at
/// fault, never the caller.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The first bytes are not a TLS record at all (an HTTP server, SSH, garbage).
    #[error("not TLS: the reply starts with {0}")]
    NotTls(String),
    /// A record header announces a record longer than TLS allows.
    #[error("record of {len} bytes is longer than TLS allows ({MAX_RECORD_BODY})")]
    RecordTooLong {
        /// The announced length.
        len: usize,
    },
    /// A handshake message is longer than we accept.
    #[error(
        "handshake message of {len} bytes is longer than the {MAX_HANDSHAKE_MESSAGE}-byte limit"
    )]
    MessageTooLong {
        /// The announced length.
        len: usize,
    },
    /// The reply is longer than we read for one probe.
    #[error("reply exceeds the {MAX_REPLY}-byte limit")]
    ReplyTooLong,
    /// A record's content is not what its type says.
    #[error("malformed {what}")]
    Malformed {
        /// What could not be parsed, e.g. `ServerHello`.
        what: &'static str,
    },
}

/// One message a server sent.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// A ServerHello (not a HelloRetryRequest).
    ServerHello(ServerHelloInfo),
    /// A TLS 1.3 HelloRetryRequest.
    HelloRetryRequest(HelloRetryInfo),
    /// A (TLS 1.0–1.2) Certificate message: the DER certificates, leaf first.
    Certificate(Vec<Vec<u8>>),
    /// A ServerKeyExchange message body (its meaning depends on the suite's key exchange).
    ServerKeyExchange(Vec<u8>),
    /// A CertificateRequest (the server wants a client certificate).
    CertificateRequest,
    /// ServerHelloDone: the end of a TLS 1.0–1.2 server flight.
    ServerHelloDone,
    /// Another handshake message, by type.
    OtherHandshake(u8),
    /// An alert.
    Alert {
        /// 1 warning, 2 fatal.
        level: u8,
        /// The alert description code (e.g. 40 handshake_failure, 70 protocol_version).
        description: u8,
    },
    /// A ChangeCipherSpec record.
    ChangeCipherSpec,
    /// An application_data record: in TLS 1.3, the encrypted rest of the handshake.
    Encrypted,
}

/// What a ServerHello says.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHelloInfo {
    /// The negotiated version: `supported_versions` when present, else `legacy_version`.
    pub version: u16,
    /// The `legacy_version` field.
    pub legacy_version: u16,
    /// The chosen cipher suite.
    pub cipher_suite: u16,
    /// The chosen compression method.
    pub compression: u8,
    /// TLS 1.3: the group of the server's key_share.
    pub key_share_group: Option<u16>,
    /// The ALPN protocol the server selected.
    pub alpn: Option<String>,
    /// The server will send an RFC 5077 session ticket (TLS 1.0–1.2).
    pub session_ticket: bool,
    /// The server supports extended_master_secret (RFC 7627).
    pub extended_master_secret: bool,
    /// The server supports secure renegotiation (RFC 5746).
    pub secure_renegotiation: bool,
    /// Every extension type in the ServerHello, in order.
    pub extensions: Vec<u16>,
}

/// What a HelloRetryRequest says.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloRetryInfo {
    /// The chosen cipher suite.
    pub cipher_suite: u16,
    /// The group the server asks a key share for.
    pub selected_group: Option<u16>,
    /// The version in `supported_versions` (0x0304).
    pub version: u16,
}

/// The complete messages found so far, and where the input stopped.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerReply {
    /// Every complete message, in order.
    pub messages: Vec<ServerMessage>,
    /// The input ended inside a record or a handshake message: what was missing.
    pub incomplete: Option<String>,
    /// Bytes of complete records.
    pub consumed: usize,
}

impl ServerReply {
    /// The first ServerHello.
    pub fn server_hello(&self) -> Option<&ServerHelloInfo> {
        self.messages.iter().find_map(|m| match m {
            ServerMessage::ServerHello(h) => Some(h),
            _ => None,
        })
    }

    /// The first HelloRetryRequest.
    pub fn hello_retry(&self) -> Option<&HelloRetryInfo> {
        self.messages.iter().find_map(|m| match m {
            ServerMessage::HelloRetryRequest(h) => Some(h),
            _ => None,
        })
    }

    /// The first alert (level, description).
    pub fn alert(&self) -> Option<(u8, u8)> {
        self.messages.iter().find_map(|m| match m {
            ServerMessage::Alert { level, description } => Some((*level, *description)),
            _ => None,
        })
    }

    /// The certificates of the first Certificate message.
    pub fn certificates(&self) -> Option<&[Vec<u8>]> {
        self.messages.iter().find_map(|m| match m {
            ServerMessage::Certificate(c) => Some(c.as_slice()),
            _ => None,
        })
    }

    /// The body of the first ServerKeyExchange.
    pub fn server_key_exchange(&self) -> Option<&[u8]> {
        self.messages.iter().find_map(|m| match m {
            ServerMessage::ServerKeyExchange(b) => Some(b.as_slice()),
            _ => None,
        })
    }

    /// Whether the reply answers a probe that only needs the server's first message: a
    /// ServerHello, a HelloRetryRequest or an alert arrived.
    pub fn has_answer(&self) -> bool {
        self.messages.iter().any(|m| {
            matches!(
                m,
                ServerMessage::ServerHello(_)
                    | ServerMessage::HelloRetryRequest(_)
                    | ServerMessage::Alert { .. }
            )
        })
    }

    /// Whether the server's whole plaintext first flight is here: ServerHelloDone (TLS 1.0–1.2),
    /// a TLS 1.3 ServerHello or HelloRetryRequest (the rest is encrypted), or an alert.
    pub fn has_flight(&self) -> bool {
        self.messages.iter().any(|m| match m {
            ServerMessage::ServerHelloDone
            | ServerMessage::HelloRetryRequest(_)
            | ServerMessage::Alert { .. }
            | ServerMessage::Encrypted => true,
            ServerMessage::ServerHello(h) => h.version >= 0x0304,
            _ => false,
        })
    }
}

/// Parses the bytes a server sent so far. Never panics; an error means the reply can never
/// become valid by reading more.
pub fn parse_server_reply(input: &[u8]) -> Result<ServerReply, ReplyError> {
    if input.len() > MAX_REPLY {
        return Err(ReplyError::ReplyTooLong);
    }
    let mut reply = ServerReply::default();
    let mut handshake: Vec<u8> = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        if rest.len() < 5 {
            check_header_prefix(rest, reply.consumed == 0)?;
            reply.incomplete = Some(format!("{} of 5 record header bytes", rest.len()));
            break;
        }
        let (after_header, header) =
            tls_parser::parse_tls_record_header(rest).map_err(|_| ReplyError::Malformed {
                what: "record header",
            })?;
        check_header_prefix(&rest[..5], reply.consumed == 0)?;
        let len = usize::from(header.len);
        if len > MAX_RECORD_BODY {
            return Err(ReplyError::RecordTooLong { len });
        }
        let Some(body) = after_header.get(..len) else {
            reply.incomplete = Some(format!("{} of {len} record body bytes", after_header.len()));
            break;
        };
        match header.record_type.0 {
            0x14 => reply.messages.push(ServerMessage::ChangeCipherSpec),
            0x15 => {
                if body.len() % 2 != 0 || body.is_empty() {
                    return Err(ReplyError::Malformed { what: "alert" });
                }
                for pair in body.chunks_exact(2) {
                    reply.messages.push(ServerMessage::Alert {
                        level: pair[0],
                        description: pair[1],
                    });
                }
            }
            0x16 => {
                handshake.extend_from_slice(body);
                drain_handshake(&mut handshake, &mut reply.messages)?;
            }
            0x17 => reply.messages.push(ServerMessage::Encrypted),
            // Heartbeat: ignored.
            _ => {}
        }
        rest = &after_header[len..];
        reply.consumed = input.len() - rest.len();
    }
    if reply.incomplete.is_none() && !handshake.is_empty() {
        reply.incomplete = Some(handshake_progress(&handshake));
    }
    Ok(reply)
}

/// Checks a (possibly partial) record header: a record type we know and major version 3.
fn check_header_prefix(h: &[u8], first: bool) -> Result<(), ReplyError> {
    let type_ok = h.first().is_none_or(|t| (0x14..=0x18).contains(t));
    let major_ok = h.get(1).is_none_or(|m| *m == 3);
    let minor_ok = h.get(2).is_none_or(|m| *m <= 4);
    if type_ok && major_ok && minor_ok {
        return Ok(());
    }
    if !first {
        return Err(ReplyError::Malformed {
            what: "record header",
        });
    }
    let shown = &h[..h.len().min(5)];
    let hex: Vec<String> = shown.iter().map(|b| format!("{b:02x}")).collect();
    let printable: String = shown
        .iter()
        .map(|b| {
            if b.is_ascii_graphic() || *b == b' ' {
                char::from(*b)
            } else {
                '.'
            }
        })
        .collect();
    Err(ReplyError::NotTls(format!(
        "{} ({printable:?})",
        hex.join(" ")
    )))
}

fn handshake_progress(hs: &[u8]) -> String {
    match hs.get(1..4) {
        Some(l) => {
            let len = usize::from(l[0]) << 16 | usize::from(l[1]) << 8 | usize::from(l[2]);
            format!("{} of {len} handshake message bytes", hs.len() - 4)
        }
        None => format!("{} of 4 handshake header bytes", hs.len()),
    }
}

/// Parses every complete handshake message at the front of `hs` and removes it.
fn drain_handshake(hs: &mut Vec<u8>, out: &mut Vec<ServerMessage>) -> Result<(), ReplyError> {
    let mut start = 0;
    while let Some(h) = hs.get(start..start + 4) {
        let len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
        if len > MAX_HANDSHAKE_MESSAGE {
            return Err(ReplyError::MessageTooLong { len });
        }
        let Some(msg) = hs.get(start..start + 4 + len) else {
            break;
        };
        out.push(parse_handshake_message(msg)?);
        start += 4 + len;
    }
    hs.drain(..start);
    Ok(())
}

fn parse_handshake_message(msg: &[u8]) -> Result<ServerMessage, ReplyError> {
    let kind = msg[0]; // The caller passes at least the 4-byte header.
    match kind {
        2 => {
            let (_, parsed) = tls_parser::parse_tls_message_handshake(msg).map_err(|_| {
                ReplyError::Malformed {
                    what: "ServerHello",
                }
            })?;
            let TlsMessage::Handshake(TlsMessageHandshake::ServerHello(sh)) = parsed else {
                return Err(ReplyError::Malformed {
                    what: "ServerHello",
                });
            };
            server_hello(&sh)
        }
        11 => {
            let (_, parsed) = tls_parser::parse_tls_message_handshake(msg).map_err(|_| {
                ReplyError::Malformed {
                    what: "Certificate",
                }
            })?;
            match parsed {
                TlsMessage::Handshake(TlsMessageHandshake::Certificate(c)) => {
                    Ok(ServerMessage::Certificate(
                        c.cert_chain.iter().map(|c| c.data.to_vec()).collect(),
                    ))
                }
                _ => Err(ReplyError::Malformed {
                    what: "Certificate",
                }),
            }
        }
        12 => Ok(ServerMessage::ServerKeyExchange(msg[4..].to_vec())),
        13 => Ok(ServerMessage::CertificateRequest),
        14 => Ok(ServerMessage::ServerHelloDone),
        other => Ok(ServerMessage::OtherHandshake(other)),
    }
}

fn server_hello(sh: &tls_parser::TlsServerHelloContents<'_>) -> Result<ServerMessage, ReplyError> {
    let exts = match sh.ext {
        Some(raw) => {
            let (rest, exts) =
                tls_parser::parse_tls_server_hello_extensions(raw).map_err(|_| {
                    ReplyError::Malformed {
                        what: "ServerHello extensions",
                    }
                })?;
            if !rest.is_empty() {
                return Err(ReplyError::Malformed {
                    what: "ServerHello extensions",
                });
            }
            exts
        }
        None => Vec::new(),
    };
    let mut version = sh.version.0;
    let mut info = ServerHelloInfo {
        version,
        legacy_version: sh.version.0,
        cipher_suite: sh.cipher.0,
        compression: sh.compression.0,
        key_share_group: None,
        alpn: None,
        session_ticket: false,
        extended_master_secret: false,
        secure_renegotiation: false,
        extensions: Vec::new(),
    };
    for e in &exts {
        info.extensions
            .push(tls_parser::TlsExtensionType::from(e).0);
        match e {
            TlsExtension::SupportedVersions(v) => {
                if let Some(first) = v.first() {
                    version = first.0;
                }
            }
            TlsExtension::KeyShare(data) => {
                if let Some(g) = data.get(..2) {
                    info.key_share_group = Some(u16::from_be_bytes([g[0], g[1]]));
                }
            }
            TlsExtension::ALPN(protocols) => {
                info.alpn = protocols
                    .first()
                    .map(|p| String::from_utf8_lossy(p).into_owned());
            }
            TlsExtension::SessionTicket(_) => info.session_ticket = true,
            TlsExtension::ExtendedMasterSecret => info.extended_master_secret = true,
            TlsExtension::RenegotiationInfo(_) => info.secure_renegotiation = true,
            _ => {}
        }
    }
    info.version = version;
    if sh.random == HRR_RANDOM {
        return Ok(ServerMessage::HelloRetryRequest(HelloRetryInfo {
            cipher_suite: info.cipher_suite,
            selected_group: info.key_share_group,
            version,
        }));
    }
    Ok(ServerMessage::ServerHello(info))
}

/// The size in bits of the DHE prime in a ServerKeyExchange for a DHE suite.
pub fn dhe_prime_bits(server_key_exchange: &[u8]) -> Option<u32> {
    let (_, params) = tls_parser::parse_dh_params(server_key_exchange).ok()?;
    let p = params.dh_p;
    let first = p.iter().position(|b| *b != 0)?;
    let bytes = (p.len() - first) as u32;
    Some(bytes * 8 - p[first].leading_zeros())
}

/// The named group in a ServerKeyExchange for an ECDHE suite.
pub fn ecdhe_group(server_key_exchange: &[u8]) -> Option<u16> {
    match server_key_exchange {
        [3, hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

/// The name of an alert description code (RFC 8446 6 and the IANA registry).
pub fn alert_name(description: u8) -> &'static str {
    match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown alert",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn record(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![kind, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    #[test]
    fn alert_is_read() {
        let r = parse_server_reply(&record(0x15, &[2, 40])).unwrap();
        assert_eq!(r.alert(), Some((2, 40)));
        assert!(r.has_answer() && r.has_flight());
    }

    #[test]
    fn http_is_not_tls() {
        let e = parse_server_reply(b"HTTP/1.1 400 Bad Request\r\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("not TLS: the reply starts with 48 54 54 50 2f"),
            "{e}"
        );
    }

    #[test]
    fn partial_header_and_body_are_incomplete_not_errors() {
        let full = record(0x15, &[2, 40]);
        for cut in 1..full.len() {
            let r = parse_server_reply(&full[..cut]).unwrap();
            assert!(r.messages.is_empty());
            assert!(r.incomplete.is_some(), "cut {cut}");
        }
    }

    #[test]
    fn oversized_record_is_an_error() {
        let e = parse_server_reply(&[0x16, 3, 3, 0xFF, 0xFF]).unwrap_err();
        assert_eq!(e, ReplyError::RecordTooLong { len: 0xFFFF });
    }

    /// A ServerHello handshake message choosing ECDHE-RSA-AES128-GCM-SHA256; with
    /// `supported_versions` naming TLS 1.3 when `tls13`.
    fn server_hello(tls13: bool) -> Vec<u8> {
        if tls13 {
            server_hello_with(&[0, 0x2B, 0, 2, 3, 4])
        } else {
            server_hello_with(&[])
        }
    }

    /// The same with these extensions (none when empty).
    fn server_hello_with(extensions: &[u8]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.extend_from_slice(&[0, 0xC0, 0x2F, 0]);
        if !extensions.is_empty() {
            body.extend_from_slice(&u16::try_from(extensions.len()).unwrap().to_be_bytes());
            body.extend_from_slice(extensions);
        }
        let mut msg = vec![2, 0, 0, u8::try_from(body.len()).unwrap()];
        msg.extend_from_slice(&body);
        msg
    }

    #[test]
    fn a_record_may_carry_the_largest_body_any_tls_version_allows_and_no_more() {
        // TLSCiphertext: 2^14 + 2048 in TLS 1.0-1.2 (RFC 5246 6.2.3).
        let [hi, lo] = u16::try_from((1 << 14) + 2048).unwrap().to_be_bytes();
        let r = parse_server_reply(&[0x17, 3, 3, hi, lo]).unwrap();
        assert_eq!(
            r.incomplete.as_deref(),
            Some("0 of 18432 record body bytes")
        );
        let e = parse_server_reply(&[0x17, 3, 3, hi, lo + 1]).unwrap_err();
        assert_eq!(e, ReplyError::RecordTooLong { len: 18_433 });
    }

    #[test]
    fn a_reply_longer_than_max_reply_is_refused_whole() {
        // Change-cipher-spec records (6 bytes) up to MAX_REPLY, the rest a partial header.
        let mut reply: Vec<u8> = std::iter::repeat_n(record(0x14, &[1]), MAX_REPLY / 6)
            .flatten()
            .collect();
        let tail = MAX_REPLY - reply.len();
        reply.extend_from_slice(&[0x14, 3, 3, 0, 1][..tail]);
        let r = parse_server_reply(&reply).unwrap();
        assert_eq!(r.messages.len(), MAX_REPLY / 6);
        assert!(r
            .messages
            .iter()
            .all(|m| *m == ServerMessage::ChangeCipherSpec));
        reply.push(0x14);
        assert_eq!(
            parse_server_reply(&reply).unwrap_err(),
            ReplyError::ReplyTooLong
        );
    }

    #[test]
    fn record_headers_are_checked_from_their_first_byte() {
        // A short first header that cannot be TLS is NotTls, with its bytes shown.
        for bad in [&[0x13][..], &[0x16, 2], &[0x16, 3, 5], &[0x19, 3, 3, 0]] {
            assert!(
                matches!(parse_server_reply(bad), Err(ReplyError::NotTls(_))),
                "{bad:?}"
            );
        }
        let e = parse_server_reply(b"HT").unwrap_err();
        assert_eq!(e, ReplyError::NotTls("48 54 (\"HT\")".into()));
        let e = parse_server_reply(b"<!DO\x07").unwrap_err();
        assert_eq!(e, ReplyError::NotTls("3c 21 44 4f 07 (\"<!DO.\")".into()));
        let e = parse_server_reply(b"a b\n").unwrap_err();
        assert_eq!(e, ReplyError::NotTls("61 20 62 0a (\"a b.\")".into()));
        // After a good record the same bytes are a malformed header, not "not TLS".
        let mut reply = record(0x15, &[2, 40]);
        reply.extend_from_slice(&[0x16, 2]);
        assert_eq!(
            parse_server_reply(&reply).unwrap_err(),
            ReplyError::Malformed {
                what: "record header"
            }
        );
        // Every record type from change_cipher_spec to heartbeat, TLS 1.0 to 1.3.
        for (kind, minor) in [(0x14, 1), (0x18, 4)] {
            assert!(parse_server_reply(&[kind, 3, minor]).is_ok());
        }
    }

    #[test]
    fn alerts_are_pairs_and_change_cipher_spec_is_its_own_message() {
        let r = parse_server_reply(&record(0x15, &[1, 0, 2, 40])).unwrap();
        assert_eq!(
            r.messages,
            [
                ServerMessage::Alert {
                    level: 1,
                    description: 0
                },
                ServerMessage::Alert {
                    level: 2,
                    description: 40
                }
            ]
        );
        for odd in [&[2][..], &[1, 0, 2]] {
            assert_eq!(
                parse_server_reply(&record(0x15, odd)).unwrap_err(),
                ReplyError::Malformed { what: "alert" }
            );
        }
        let r = parse_server_reply(&record(0x14, &[1])).unwrap();
        assert_eq!(r.messages, [ServerMessage::ChangeCipherSpec]);
        assert!(!r.has_answer() && !r.has_flight());
    }

    #[test]
    fn a_split_handshake_message_says_how_far_it_got() {
        let r = parse_server_reply(&record(0x16, &[2, 0])).unwrap();
        assert_eq!(
            r.incomplete.as_deref(),
            Some("2 of 4 handshake header bytes")
        );
        let r = parse_server_reply(&record(0x16, &[2, 0x01, 0x02, 0x03, 9, 9])).unwrap();
        assert_eq!(
            r.incomplete.as_deref(),
            Some("2 of 66051 handshake message bytes")
        );
    }

    #[test]
    fn a_tls12_server_hello_answers_but_its_flight_goes_on_and_tls13s_does_not() {
        let r = parse_server_reply(&record(0x16, &server_hello(false))).unwrap();
        assert_eq!(r.server_hello().unwrap().version, 0x0303);
        assert!(r.has_answer());
        assert!(
            !r.has_flight(),
            "a TLS 1.2 flight ends with ServerHelloDone"
        );
        let mut done = server_hello(false);
        done.extend_from_slice(&[14, 0, 0, 0]);
        assert!(parse_server_reply(&record(0x16, &done))
            .unwrap()
            .has_flight());
        let r = parse_server_reply(&record(0x16, &server_hello(true))).unwrap();
        assert_eq!(r.server_hello().unwrap().version, 0x0304);
        assert!(r.has_answer() && r.has_flight());
    }

    #[test]
    fn the_server_hello_reports_the_application_protocol_chosen() {
        // RFC 7301 3.1: one ProtocolName in the server's list.
        let alpn = [0, 0x10, 0, 5, 0, 3, 2, b'h', b'2'];
        let r = parse_server_reply(&record(0x16, &server_hello_with(&alpn))).unwrap();
        assert_eq!(r.server_hello().unwrap().alpn.as_deref(), Some("h2"));
    }

    #[test]
    fn a_handshake_message_may_be_128_kib_and_no_more() {
        let header = |len: u32| {
            let [_, a, b, c] = len.to_be_bytes();
            record(0x16, &[11, a, b, c])
        };
        let r = parse_server_reply(&header(1 << 17)).unwrap();
        assert_eq!(
            r.incomplete.as_deref(),
            Some("0 of 131072 handshake message bytes")
        );
        assert_eq!(
            parse_server_reply(&header((1 << 17) + 1)).unwrap_err(),
            ReplyError::MessageTooLong { len: 131_073 }
        );
    }

    #[test]
    fn the_dhe_prime_size_counts_from_its_first_set_bit() {
        // ServerDHParams (RFC 5246 7.4.3): p, g and Ys, each with a two-byte length.
        let params = |p: &[u8]| {
            let mut out = u16::try_from(p.len()).unwrap().to_be_bytes().to_vec();
            out.extend_from_slice(p);
            out.extend_from_slice(&[0, 1, 2, 0, 1, 5]);
            out
        };
        assert_eq!(dhe_prime_bits(&params(&[0x00, 0x40, 0x01])), Some(15));
        let mut p2048 = vec![0xFF; 256];
        p2048[255] = 0x61;
        assert_eq!(dhe_prime_bits(&params(&p2048)), Some(2048));
        assert_eq!(dhe_prime_bits(&params(&[0, 0])), None);
    }

    #[test]
    fn alert_names_are_the_rfc_8446_names() {
        // RFC 8446 6 (and RFC 7301 3.2, RFC 7507 for 86).
        for (code, name) in [
            (0, "close_notify"),
            (10, "unexpected_message"),
            (20, "bad_record_mac"),
            (22, "record_overflow"),
            (40, "handshake_failure"),
            (42, "bad_certificate"),
            (47, "illegal_parameter"),
            (48, "unknown_ca"),
            (50, "decode_error"),
            (51, "decrypt_error"),
            (70, "protocol_version"),
            (71, "insufficient_security"),
            (80, "internal_error"),
            (86, "inappropriate_fallback"),
            (90, "user_canceled"),
            (109, "missing_extension"),
            (110, "unsupported_extension"),
            (112, "unrecognized_name"),
            (116, "certificate_required"),
            (120, "no_application_protocol"),
            (255, "unknown alert"),
        ] {
            assert_eq!(alert_name(code), name, "{code}");
        }
    }
}
