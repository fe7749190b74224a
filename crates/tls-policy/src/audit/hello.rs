//! Our own ClientHello encoder: the probes ask for what rustls will not (SSL 3.0, TLS 1.0/1.1,
//! CBC, static RSA, DHE, single groups with an empty key_share).
//!
//! The encoder writes exactly what [`ClientHelloSpec`] says, in a fixed extension order, and
//! splits the handshake message into records of at most 2^14 bytes.

/// Extension code points (IANA "TLS ExtensionType Values").
mod ext {
    pub(super) const SERVER_NAME: u16 = 0x0000;
    pub(super) const SUPPORTED_GROUPS: u16 = 0x000A;
    pub(super) const EC_POINT_FORMATS: u16 = 0x000B;
    pub(super) const SIGNATURE_ALGORITHMS: u16 = 0x000D;
    pub(super) const ALPN: u16 = 0x0010;
    pub(super) const EXTENDED_MASTER_SECRET: u16 = 0x0017;
    pub(super) const SESSION_TICKET: u16 = 0x0023;
    pub(super) const SUPPORTED_VERSIONS: u16 = 0x002B;
    pub(super) const PSK_KEY_EXCHANGE_MODES: u16 = 0x002D;
    pub(super) const KEY_SHARE: u16 = 0x0033;
    pub(super) const RENEGOTIATION_INFO: u16 = 0xFF01;
}

/// `TLS_EMPTY_RENEGOTIATION_INFO_SCSV`: asks for secure renegotiation without the extension.
pub const RENEGOTIATION_SCSV: u16 = 0x00FF;

/// The largest plaintext record fragment (RFC 8446 5.1).
const MAX_FRAGMENT: usize = 1 << 14;

/// Everything a probe's ClientHello says. Build one with [`ClientHelloSpec::new`] and adjust.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHelloSpec {
    /// Version in the record header (`0x0300` for SSL 3.0, `0x0301` otherwise is the safest).
    pub record_version: u16,
    /// `legacy_version` / `client_version` of the hello body.
    pub client_version: u16,
    /// The 32-byte client random (the caller supplies the randomness).
    pub random: [u8; 32],
    /// Legacy session id (0 to 32 bytes; TLS 1.3 middlebox compatibility uses 32).
    pub session_id: Vec<u8>,
    /// Cipher suites, in preference order.
    pub cipher_suites: Vec<u16>,
    /// `supported_versions` (TLS 1.3); empty: the extension is left out.
    pub supported_versions: Vec<u16>,
    /// `supported_groups`; empty: the extension is left out.
    pub groups: Vec<u16>,
    /// `key_share` entries; `None`: the extension is left out; `Some(vec![])`: an empty list
    /// (the server must answer with a HelloRetryRequest naming its group).
    pub key_shares: Option<Vec<(u16, Vec<u8>)>>,
    /// `signature_algorithms`; empty: the extension is left out.
    pub signature_algorithms: Vec<u16>,
    /// `server_name` (a DNS name; left out when `None`).
    pub server_name: Option<String>,
    /// ALPN protocols; empty: the extension is left out.
    pub alpn: Vec<String>,
    /// Send an empty `session_ticket` extension (asks for an RFC 5077 ticket).
    pub session_ticket: bool,
    /// Send `ec_point_formats` (uncompressed), `extended_master_secret` and
    /// `renegotiation_info`: what every TLS 1.0–1.2 client sends.
    pub legacy_extensions: bool,
    /// Send no extensions at all (SSL 3.0 probes).
    pub no_extensions: bool,
}

impl ClientHelloSpec {
    /// A hello for `client_version` offering `cipher_suites`, with no extensions chosen yet.
    pub fn new(client_version: u16, random: [u8; 32], cipher_suites: Vec<u16>) -> Self {
        Self {
            record_version: if client_version <= 0x0300 {
                0x0300
            } else {
                0x0301
            },
            client_version,
            random,
            session_id: Vec::new(),
            cipher_suites,
            supported_versions: Vec::new(),
            groups: Vec::new(),
            key_shares: None,
            signature_algorithms: Vec::new(),
            server_name: None,
            alpn: Vec::new(),
            session_ticket: false,
            legacy_extensions: false,
            no_extensions: false,
        }
    }

    /// The handshake message (type, 24-bit length, body), without record framing.
    pub fn handshake_message(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(256 + 2 * self.cipher_suites.len());
        put_u16(&mut body, self.client_version);
        body.extend_from_slice(&self.random);
        let sid = &self.session_id[..self.session_id.len().min(32)];
        put_u8_len(&mut body, sid);
        let mut suites = Vec::with_capacity(2 * self.cipher_suites.len());
        for s in &self.cipher_suites {
            put_u16(&mut suites, *s);
        }
        put_u16_len(&mut body, &suites);
        put_u8_len(&mut body, &[0]); // compression: null only
        if !self.no_extensions {
            let exts = self.extensions();
            put_u16_len(&mut body, &exts);
        }
        let mut msg = Vec::with_capacity(body.len() + 4);
        msg.push(1); // client_hello
        put_u24(&mut msg, body.len());
        msg.extend_from_slice(&body);
        msg
    }

    /// The hello as it goes on the wire: one or more handshake records.
    pub fn encode(&self) -> Vec<u8> {
        let msg = self.handshake_message();
        let mut out = Vec::with_capacity(msg.len() + 5);
        for chunk in msg.chunks(MAX_FRAGMENT) {
            out.push(0x16);
            put_u16(&mut out, self.record_version);
            put_u16(&mut out, chunk.len() as u16); // chunk.len() <= 2^14
            out.extend_from_slice(chunk);
        }
        out
    }

    fn extensions(&self) -> Vec<u8> {
        let mut e = Vec::with_capacity(256);
        if let Some(name) = &self.server_name {
            let mut entry = vec![0u8]; // host_name
            put_u16_len(&mut entry, name.as_bytes());
            let mut list = Vec::new();
            put_u16_len(&mut list, &entry);
            put_ext(&mut e, ext::SERVER_NAME, &list);
        }
        if self.legacy_extensions {
            put_ext(&mut e, ext::EC_POINT_FORMATS, &[1, 0]);
            put_ext(&mut e, ext::EXTENDED_MASTER_SECRET, &[]);
            put_ext(&mut e, ext::RENEGOTIATION_INFO, &[0]);
        }
        if !self.groups.is_empty() {
            put_ext(&mut e, ext::SUPPORTED_GROUPS, &u16_list(&self.groups));
        }
        if !self.signature_algorithms.is_empty() {
            put_ext(
                &mut e,
                ext::SIGNATURE_ALGORITHMS,
                &u16_list(&self.signature_algorithms),
            );
        }
        if !self.alpn.is_empty() {
            let mut names = Vec::new();
            for p in &self.alpn {
                let p = &p.as_bytes()[..p.len().min(255)];
                put_u8_len(&mut names, p);
            }
            let mut data = Vec::new();
            put_u16_len(&mut data, &names);
            put_ext(&mut e, ext::ALPN, &data);
        }
        if self.session_ticket {
            put_ext(&mut e, ext::SESSION_TICKET, &[]);
        }
        if !self.supported_versions.is_empty() {
            let mut list = Vec::new();
            for v in self.supported_versions.iter().take(127) {
                put_u16(&mut list, *v);
            }
            let mut data = Vec::new();
            put_u8_len(&mut data, &list);
            put_ext(&mut e, ext::SUPPORTED_VERSIONS, &data);
            // psk_dhe_ke: RFC 8446 requires the extension with supported_versions 1.3 when
            // resuming; OpenSSL and others also like it present on a first hello.
            put_ext(&mut e, ext::PSK_KEY_EXCHANGE_MODES, &[1, 1]);
        }
        if let Some(shares) = &self.key_shares {
            let mut list = Vec::new();
            for (group, key) in shares {
                put_u16(&mut list, *group);
                put_u16_len(&mut list, key);
            }
            let mut data = Vec::new();
            put_u16_len(&mut data, &list);
            put_ext(&mut e, ext::KEY_SHARE, &data);
        }
        e
    }
}

/// A public key for a `key_share` entry of `group`, or `None` for groups we cannot produce a
/// valid share for (those are probed with an empty `key_share` and a HelloRetryRequest).
///
/// X25519 takes any 32 bytes (`random`); the NIST curves get their base point, a valid public
/// key (private key 1). The probe never finishes a handshake, so no secret is ever derived.
pub fn key_share_for(group: u16, random: &[u8; 32]) -> Option<Vec<u8>> {
    match group {
        0x001D => {
            let mut k = *random;
            // Clamp like an X25519 public key derived from a private key, and avoid 0.
            k[31] &= 0x7F;
            k[0] |= 0x09;
            Some(k.to_vec())
        }
        0x0017 => Some(uncompressed(P256_GX, P256_GY)),
        0x0018 => Some(uncompressed(P384_GX, P384_GY)),
        _ => None,
    }
}

fn uncompressed(x: &str, y: &str) -> Vec<u8> {
    let mut out = vec![0x04];
    for hex in [x, y] {
        let bytes = hex.as_bytes();
        for pair in bytes.chunks(2) {
            let hi = hex_val(pair[0]);
            let lo = pair.get(1).map(|b| hex_val(*b)).unwrap_or(0);
            out.push(hi << 4 | lo);
        }
    }
    out
}

fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

// Base points from SEC 2 v2 (secp256r1, secp384r1), section 2.4.2 and 2.5.1.
const P256_GX: &str = "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296";
const P256_GY: &str = "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5";
const P384_GX: &str = "AA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A385502F25DBF55296C3A545E3872760AB7";
const P384_GY: &str = "3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C00A60B1CE1D7E819D7A431D7C90EA0E5F";

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_u24(out: &mut Vec<u8>, v: usize) {
    let v = v.min(0xFF_FFFF) as u32;
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

fn put_u8_len(out: &mut Vec<u8>, data: &[u8]) {
    let data = &data[..data.len().min(0xFF)];
    out.push(data.len() as u8);
    out.extend_from_slice(data);
}

fn put_u16_len(out: &mut Vec<u8>, data: &[u8]) {
    let data = &data[..data.len().min(0xFFFF)];
    put_u16(out, data.len() as u16);
    out.extend_from_slice(data);
}

fn put_ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    put_u16(out, kind);
    put_u16_len(out, data);
}

fn u16_list(values: &[u16]) -> Vec<u8> {
    let mut list = Vec::with_capacity(values.len() * 2);
    for v in values {
        put_u16(&mut list, *v);
    }
    let mut out = Vec::with_capacity(list.len() + 2);
    put_u16_len(&mut out, &list);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn encoded_hello_parses_back_with_tls_parser() {
        let mut spec = ClientHelloSpec::new(0x0303, [7; 32], vec![0x1301, 0xC02F, 0x009C]);
        spec.supported_versions = vec![0x0304, 0x0303];
        spec.groups = vec![0x001D, 0x0017];
        spec.key_shares = Some(vec![(0x001D, vec![9; 32])]);
        spec.signature_algorithms = vec![0x0804, 0x0403];
        spec.server_name = Some("example.com".into());
        spec.alpn = vec!["h2".into(), "http/1.1".into()];
        spec.session_ticket = true;
        spec.legacy_extensions = true;
        let wire = spec.encode();
        let (rest, rec) = tls_parser::parse_tls_plaintext(&wire).unwrap();
        assert!(rest.is_empty());
        let tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(ch)) =
            &rec.msg[0]
        else {
            panic!("not a ClientHello: {:?}", rec.msg);
        };
        assert_eq!(ch.version.0, 0x0303);
        let suites: Vec<u16> = ch.ciphers.iter().map(|c| c.0).collect();
        assert_eq!(suites, vec![0x1301, 0xC02F, 0x009C]);
        let (_, exts) = tls_parser::parse_tls_client_hello_extensions(ch.ext.unwrap()).unwrap();
        assert!(exts
            .iter()
            .any(|e| matches!(e, tls_parser::TlsExtension::SNI(v) if v[0].1 == b"example.com")));
        assert!(exts
            .iter()
            .any(|e| matches!(e, tls_parser::TlsExtension::SupportedVersions(v) if v.len() == 2)));
        assert!(exts
            .iter()
            .any(|e| matches!(e, tls_parser::TlsExtension::ALPN(v) if v.len() == 2)));
    }

    #[test]
    fn ssl3_hello_has_no_extensions_and_ssl3_record_version() {
        let mut spec = ClientHelloSpec::new(0x0300, [1; 32], vec![0x000A]);
        spec.no_extensions = true;
        let wire = spec.encode();
        assert_eq!(&wire[..3], &[0x16, 0x03, 0x00]);
        // header(5) + hs header(4) + version(2) + random(32) + sid(1) + suites(2+2) + comp(2)
        assert_eq!(wire.len(), 5 + 4 + 2 + 32 + 1 + 4 + 2);
    }

    #[test]
    fn nist_base_points_have_the_right_length() {
        assert_eq!(key_share_for(0x0017, &[0; 32]).map(|k| k.len()), Some(65));
        assert_eq!(key_share_for(0x0018, &[0; 32]).map(|k| k.len()), Some(97));
        assert_eq!(key_share_for(0x001D, &[0; 32]).map(|k| k.len()), Some(32));
        assert_eq!(key_share_for(0x11EC, &[0; 32]), None);
    }
}
