//! The server's certificate chain: a real rustls handshake that records it (and ALPN, TLS 1.3
//! session tickets), and what each certificate says (x509-parser).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::Serialize;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use x509_parser::der_parser::asn1_rs::{Any, Tag};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::RSAPublicKey;

/// What one certificate of the chain says.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// Subject distinguished name (RFC 4514 string).
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Public key type: `RSA`, `EC`, `Ed25519`, `Ed448`, `DSA` or the algorithm OID.
    pub key_type: String,
    /// Public key size in bits (RSA modulus, EC field size).
    pub key_bits: u32,
    /// EC curve name, when the key is EC (`P-256`, `P-384`, `P-521` or the OID).
    pub curve: Option<String>,
    /// Signature algorithm: a name (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`, …) or the OID.
    pub signature_algorithm: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// End of validity, seconds since the Unix epoch.
    pub not_after_unix: i64,
    /// Start of validity, seconds since the Unix epoch.
    pub not_before_unix: i64,
    /// DNS names and IP addresses of the subjectAltName extension.
    pub subject_alt_names: Vec<String>,
    /// Subject and issuer are the same name.
    pub self_issued: bool,
}

impl CertificateInfo {
    /// Reads a DER certificate; `None` when it does not parse.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let spki = cert.public_key();
        let algorithm = spki.algorithm.algorithm.to_id_string();
        let (key_type, key_bits, curve) = match spki.parsed() {
            // rsaEncryption and id-RSASSA-PSS keys are the same RSAPublicKey (RFC 4055 §1.2);
            // x509-parser's `parsed` reads only the first, and its `key_size` misjudges a
            // modulus whose first octet is not zero, so the size is the modulus's bit length.
            _ if matches!(algorithm.as_str(), RSA_ENCRYPTION | RSASSA_PSS) => {
                let rsa = RSAPublicKey::from_der(&spki.subject_public_key.data).ok();
                let bits = rsa.map_or(0, |(_, key)| bit_length(key.modulus));
                ("RSA".to_owned(), bits, None)
            }
            Ok(x509_parser::public_key::PublicKey::EC(point)) => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|oid| curve_name(&oid.to_id_string()));
                // The curve's size, not the point's: x509-parser counts a P-521 point's 66-octet
                // coordinates as 528 bits.
                let bits = match curve.as_deref() {
                    Some("P-521") => 521,
                    _ => point.key_size() as u32,
                };
                ("EC".to_owned(), bits, curve)
            }
            // A DSA key's size is its prime p's, the first of the Dss-Parms (RFC 3279 §2.3.2);
            // the public value y that x509-parser returns is an octet longer or shorter.
            Ok(x509_parser::public_key::PublicKey::DSA(_)) => {
                let p = spki.algorithm.parameters.as_ref().and_then(|params| {
                    let (_, p) = Any::from_der(params.data).ok()?;
                    (p.tag() == Tag::Integer).then(|| bit_length(p.data))
                });
                ("DSA".to_owned(), p.unwrap_or(0), None)
            }
            _ => match algorithm.as_str() {
                "1.3.101.112" => ("Ed25519".to_owned(), 256, None),
                "1.3.101.113" => ("Ed448".to_owned(), 456, None),
                _ => {
                    let bits = (spki.subject_public_key.data.len() * 8) as u32;
                    (algorithm.clone(), bits, None)
                }
            },
        };
        let mut sans = Vec::new();
        if let Ok(Some(ext)) = cert.subject_alternative_name() {
            for name in &ext.value.general_names {
                match name {
                    x509_parser::extensions::GeneralName::DNSName(d) => sans.push((*d).to_owned()),
                    x509_parser::extensions::GeneralName::IPAddress(ip) => {
                        sans.push(ip_string(ip));
                    }
                    _ => {}
                }
            }
        }
        let validity = cert.validity();
        Some(Self {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            key_type,
            key_bits,
            curve,
            signature_algorithm: signature_name(&cert.signature_algorithm.algorithm.to_id_string()),
            not_before: rfc3339(validity.not_before.timestamp()),
            not_after: rfc3339(validity.not_after.timestamp()),
            not_after_unix: validity.not_after.timestamp(),
            not_before_unix: validity.not_before.timestamp(),
            subject_alt_names: sans,
            self_issued: cert.subject() == cert.issuer(),
        })
    }

    /// Whole days from `now` until the end of validity (negative once expired).
    pub fn days_left(&self, now: SystemTime) -> i64 {
        (self.not_after_unix - unix(now)).div_euclid(86_400)
    }
}

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";

/// Bits of a big-endian unsigned integer, leading zero octets ignored.
fn bit_length(bytes: &[u8]) -> u32 {
    match bytes.iter().position(|b| *b != 0) {
        Some(first) => {
            let octets = u32::try_from(bytes.len() - first).unwrap_or(u32::MAX / 8);
            octets.saturating_mul(8) - bytes[first].leading_zeros()
        }
        None => 0,
    }
}

pub(crate) fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

pub(crate) fn rfc3339(unix_secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix_secs.to_string())
}

fn ip_string(ip: &[u8]) -> String {
    match ip.len() {
        4 => std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string(),
        16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(ip);
            std::net::Ipv6Addr::from(b).to_string()
        }
        _ => ip.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256".to_owned(),
        "1.3.132.0.34" => "P-384".to_owned(),
        "1.3.132.0.35" => "P-521".to_owned(),
        "1.3.132.0.10" => "secp256k1".to_owned(),
        other => other.to_owned(),
    }
}

fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.10040.4.3" => "dsa-with-SHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa-with-SHA256",
        other => return other.to_owned(),
    }
    .to_owned()
}

/// DANGER: a certificate verifier that accepts every certificate and every handshake
/// signature. It exists only so that the auditor can complete a handshake with any server and
/// *report* the chain the server presents; the connection is closed right after and carries no
/// data. Never use it for a connection that carries anything.
#[derive(Debug)]
struct DangerAcceptAnyServerCertForAudit {
    schemes: Vec<SignatureScheme>,
}

impl ServerCertVerifier for DangerAcceptAnyServerCertForAudit {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// A session store that remembers nothing but whether the server sent a TLS 1.3 ticket.
#[derive(Debug, Default)]
struct TicketSpy {
    tls13_ticket: AtomicBool,
    notify: tokio::sync::Notify,
}

impl rustls::client::ClientSessionStore for TicketSpy {
    fn set_kx_hint(&self, _: ServerName<'static>, _: rustls::NamedGroup) {}
    fn kx_hint(&self, _: &ServerName<'_>) -> Option<rustls::NamedGroup> {
        None
    }
    fn set_tls12_session(
        &self,
        _: ServerName<'static>,
        _: rustls::client::Tls12ClientSessionValue,
    ) {
    }
    fn tls12_session(&self, _: &ServerName<'_>) -> Option<rustls::client::Tls12ClientSessionValue> {
        None
    }
    fn remove_tls12_session(&self, _: &ServerName<'static>) {}
    fn insert_tls13_ticket(
        &self,
        _: ServerName<'static>,
        _: rustls::client::Tls13ClientSessionValue,
    ) {
        self.tls13_ticket.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }
    fn take_tls13_ticket(
        &self,
        _: &ServerName<'static>,
    ) -> Option<rustls::client::Tls13ClientSessionValue> {
        None
    }
}

/// What the rustls handshake established.
#[derive(Debug, Clone)]
pub(crate) struct HandshakeFacts {
    pub(crate) version: Option<u16>,
    pub(crate) chain: Vec<Vec<u8>>,
    pub(crate) alpn: Option<String>,
    pub(crate) tls13_ticket: bool,
}

/// How long to wait after the handshake for TLS 1.3 NewSessionTicket messages.
const TICKET_WAIT: Duration = Duration::from_millis(300);

/// A full rustls handshake (TLS 1.2 and 1.3, every aws-lc-rs suite and group) with the
/// accept-anything verifier. The caller bounds it with a deadline.
pub(crate) async fn rustls_handshake(
    tcp: TcpStream,
    sni: Option<&str>,
    ip: std::net::IpAddr,
    alpn: &[String],
) -> Result<HandshakeFacts, std::io::Error> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let schemes = provider
        .signature_verification_algorithms
        .supported_schemes();
    let spy = Arc::new(TicketSpy::default());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(std::io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(DangerAcceptAnyServerCertForAudit { schemes }))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    config.resumption = rustls::client::Resumption::store(spy.clone());
    let name = match sni.map(|s| ServerName::try_from(s.to_owned())) {
        Some(Ok(n)) => n,
        Some(Err(e)) => return Err(std::io::Error::other(e)),
        None => ServerName::IpAddress(ip.into()),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut stream = connector.connect(name, tcp).await?;
    let (version, chain, alpn) = {
        let conn = stream.get_ref().1;
        (
            conn.protocol_version().map(u16::from),
            conn.peer_certificates()
                .map(|c| c.iter().map(|c| c.as_ref().to_vec()).collect())
                .unwrap_or_default(),
            conn.alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
        )
    };
    if version == Some(0x0304) {
        // Tickets arrive right after the handshake; rustls processes them while reading.
        let mut buf = [0u8; 256];
        let _ = tokio::time::timeout(TICKET_WAIT, async {
            tokio::select! {
                _ = stream.read(&mut buf) => {}
                _ = spy.notify.notified() => {}
            }
        })
        .await;
    }
    Ok(HandshakeFacts {
        version,
        chain,
        alpn,
        tls13_ticket: spy.tls13_ticket.load(Ordering::SeqCst),
    })
}

#[cfg(test)]
mod tests {
    use super::bit_length;

    #[test]
    fn bit_length_counts_from_the_first_set_bit() {
        assert_eq!(bit_length(&[0x00, 0x01, 0xff]), 9);
        assert_eq!(bit_length(&[0x7f, 0x00]), 15);
        assert_eq!(bit_length(&[0x80]), 8);
        assert_eq!(bit_length(&[0x00, 0x00]), 0);
        assert_eq!(bit_length(&[]), 0);
    }
}
