//! The audit's ClientHello encoder and reply parser against a real `openssl s_server`: the
//! flight it sends back parses into what s_server was configured with (the suite, the
//! certificate, byte for byte as `openssl x509 -outform DER` writes it, the DHE prime size),
//! and proptests over that real flight: any re-fragmentation into records parses the same, any
//! prefix parses into a prefix, arbitrary bytes never panic.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use edgeward_tls_policy::audit::{
    dhe_prime_bits, ecdhe_group, parse_server_reply, ClientHelloSpec, ServerMessage,
};
use proptest::prelude::*;

struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    common::openssl_output(dir, args)
}

fn start(args: &[&str], dir: &Path) -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-www",
            "-quiet",
        ])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server(child, port)
}

/// Sends `spec` and reads until the server's flight is complete.
fn exchange(port: u16, spec: &ClientHelloSpec) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&spec.encode()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "server closed after {} bytes", buf.len());
        buf.extend_from_slice(&chunk[..n]);
        if parse_server_reply(&buf).unwrap().has_flight() {
            return buf;
        }
    }
}

struct Captured {
    /// ECDHE-RSA-AES128-GCM-SHA256 flight.
    ecdhe: Vec<u8>,
    /// DHE-RSA-AES128-GCM-SHA256 flight with 1024-bit `openssl dhparam` parameters.
    dhe: Vec<u8>,
    /// The certificate, DER, as openssl writes it.
    cert_der: Vec<u8>,
}

fn captured() -> &'static Captured {
    static C: OnceLock<Captured> = OnceLock::new();
    C.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "k.pem",
                "-out",
                "c.pem",
                "-days",
                "30",
                "-subj",
                "/CN=reply.test",
            ],
            d,
        );
        let cert_der = openssl(&["x509", "-in", "c.pem", "-outform", "DER"], d);
        openssl(&["dhparam", "-out", "dh1024.pem", "1024"], d);
        let hello = |suite: u16| {
            let mut spec = ClientHelloSpec::new(0x0303, [0x42; 32], vec![suite, 0x00FF]);
            spec.groups = vec![0x001D, 0x0017];
            spec.signature_algorithms = vec![0x0804, 0x0401, 0x0403];
            spec.legacy_extensions = true;
            spec.session_ticket = true;
            spec
        };
        let server = start(
            &[
                "-cert",
                "c.pem",
                "-key",
                "k.pem",
                "-tls1_2",
                "-cipher",
                "ECDHE-RSA-AES128-GCM-SHA256",
            ],
            d,
        );
        let ecdhe = exchange(server.1, &hello(0xC02F));
        drop(server);
        let server = start(
            &[
                "-cert",
                "c.pem",
                "-key",
                "k.pem",
                "-tls1_2",
                "-cipher",
                "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
                "-dhparam",
                "dh1024.pem",
            ],
            d,
        );
        let dhe = exchange(server.1, &hello(0x009E));
        Captured {
            ecdhe,
            dhe,
            cert_der,
        }
    })
}

#[test]
fn openssl_flight_parses_into_what_s_server_was_given() {
    let c = captured();
    let r = parse_server_reply(&c.ecdhe).unwrap();
    assert_eq!(r.incomplete, None);
    assert_eq!(r.consumed, c.ecdhe.len());
    let hello = r.server_hello().unwrap();
    assert_eq!(hello.version, 0x0303);
    assert_eq!(hello.cipher_suite, 0xC02F);
    assert!(hello.session_ticket && hello.secure_renegotiation && hello.extended_master_secret);
    assert_eq!(r.certificates().unwrap(), std::slice::from_ref(&c.cert_der));
    assert_eq!(r.server_key_exchange().and_then(ecdhe_group), Some(0x001D));
    assert_eq!(r.messages.last(), Some(&ServerMessage::ServerHelloDone));

    let r = parse_server_reply(&c.dhe).unwrap();
    assert_eq!(r.server_hello().unwrap().cipher_suite, 0x009E);
    assert_eq!(r.server_key_exchange().and_then(dhe_prime_bits), Some(1024));
}

#[test]
fn tls13_only_server_answers_an_empty_key_share_with_a_retry_request_and_refuses_tls10() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-days",
            "30",
            "-subj",
            "/CN=reply.test",
        ],
        d,
    );
    let server = start(
        &[
            "-cert",
            "c.pem",
            "-key",
            "k.pem",
            "-tls1_3",
            "-groups",
            "P-384:X25519",
        ],
        d,
    );
    let mut spec = ClientHelloSpec::new(0x0303, [7; 32], vec![0x1302]);
    spec.supported_versions = vec![0x0304];
    spec.session_id = vec![1; 32];
    spec.groups = vec![0x0018];
    spec.key_shares = Some(vec![]);
    spec.signature_algorithms = vec![0x0403];
    let r = parse_server_reply(&exchange(server.1, &spec)).unwrap();
    let hrr = r.hello_retry().unwrap();
    assert_eq!(
        (hrr.cipher_suite, hrr.selected_group, hrr.version),
        (0x1302, Some(0x0018), 0x0304)
    );

    // A P-256 base point share for a group the server does not have: it asks for P-384 instead.
    let mut spec2 = spec.clone();
    spec2.groups = vec![0x0017, 0x0018];
    spec2.key_shares = Some(vec![(
        0x0017,
        edgeward_tls_policy::audit::key_share_for(0x0017, &[0; 32]).unwrap(),
    )]);
    let r = parse_server_reply(&exchange(server.1, &spec2)).unwrap();
    assert_eq!(r.hello_retry().unwrap().selected_group, Some(0x0018));

    // X25519 share: a real ServerHello for TLS 1.3.
    let mut spec3 = spec.clone();
    spec3.groups = vec![0x001D];
    spec3.key_shares = Some(vec![(
        0x001D,
        edgeward_tls_policy::audit::key_share_for(0x001D, &[5; 32]).unwrap(),
    )]);
    let r = parse_server_reply(&exchange(server.1, &spec3)).unwrap();
    let hello = r.server_hello().unwrap();
    assert_eq!(
        (hello.version, hello.cipher_suite, hello.key_share_group),
        (0x0304, 0x1302, Some(0x001D))
    );

    let mut old = ClientHelloSpec::new(0x0301, [9; 32], vec![0xC013, 0x002F]);
    old.legacy_extensions = true;
    old.groups = vec![0x001D];
    let r = parse_server_reply(&exchange(server.1, &old)).unwrap();
    assert_eq!(r.alert(), Some((2, 70)), "protocol_version alert");
}

/// Splits the handshake bytes of `flight` into records of the given sizes.
fn refragment(flight: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut handshake = Vec::new();
    let mut rest = flight;
    while rest.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        assert_eq!(rest[0], 0x16);
        handshake.extend_from_slice(&rest[5..5 + len]);
        rest = &rest[5 + len..];
    }
    let mut out = Vec::new();
    let mut i = 0;
    let mut k = 0;
    while i < handshake.len() {
        let n = sizes[k % sizes.len()]
            .clamp(1, 16384)
            .min(handshake.len() - i);
        out.extend_from_slice(&[0x16, 3, 3]);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&handshake[i..i + n]);
        i += n;
        k += 1;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_record_fragmentation_parses_the_same(sizes in prop::collection::vec(1usize..3000, 1..8)) {
        let c = captured();
        let whole = parse_server_reply(&c.ecdhe).unwrap();
        let again = parse_server_reply(&refragment(&c.ecdhe, &sizes)).unwrap();
        prop_assert_eq!(again.messages, whole.messages);
        prop_assert_eq!(again.incomplete, None);
    }

    #[test]
    fn every_prefix_parses_into_a_prefix(cut in 0usize..4000) {
        let c = captured();
        let whole = parse_server_reply(&c.dhe).unwrap();
        let cut = cut.min(c.dhe.len());
        let part = parse_server_reply(&c.dhe[..cut]).unwrap();
        prop_assert!(part.messages.len() <= whole.messages.len());
        prop_assert_eq!(&whole.messages[..part.messages.len()], &part.messages[..]);
        prop_assert!(part.consumed <= cut);
        if part.incomplete.is_none() {
            prop_assert_eq!(part.consumed, cut);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(r) = parse_server_reply(&bytes) {
            prop_assert!(r.consumed <= bytes.len());
        }
    }

    #[test]
    fn records_with_arbitrary_bodies_never_panic(
        kind in 0x14u8..0x19,
        body in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut rec = vec![kind, 3, 3];
        rec.extend_from_slice(&(body.len() as u16).to_be_bytes());
        rec.extend_from_slice(&body);
        let _ = parse_server_reply(&rec);
    }
}

/// The committed seeds of the `server_reply` fuzz target: replies captured from `openssl
/// s_server` (OpenSSL 3.0.19) to `openssl s_client` hellos (see fuzz/corpus/server_reply/).
fn seed(name: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/server_reply");
    std::fs::read(dir.join(name)).unwrap()
}

#[test]
fn fuzz_seeds_captured_from_openssl_parse_as_what_they_are() {
    // s_server -groups P-384 answering s_client -groups X25519:P-384 (X25519 key share).
    let r = parse_server_reply(&seed("tls13_hello_retry_request")).unwrap();
    let hrr = r.hello_retry().unwrap();
    assert_eq!((hrr.selected_group, hrr.version), (Some(0x0018), 0x0304));
    // A TLS 1.3-only s_server answering a TLS 1.2-only s_client.
    assert_eq!(
        parse_server_reply(&seed("alert_protocol_version"))
            .unwrap()
            .alert(),
        Some((2, 70))
    );
    let r = parse_server_reply(&seed("tls13_server_hello_and_encrypted")).unwrap();
    assert_eq!(r.server_hello().unwrap().version, 0x0304);
    assert!(r.has_flight() && r.messages.contains(&ServerMessage::Encrypted));
    let r = parse_server_reply(&seed("tls12_dhe_flight")).unwrap();
    assert_eq!(r.server_hello().unwrap().cipher_suite, 0x009E);
    assert_eq!(r.server_key_exchange().and_then(dhe_prime_bits), Some(1024));
    let r = parse_server_reply(&seed("truncated_mid_record")).unwrap();
    assert!(r.incomplete.unwrap().contains("record body bytes"));
    assert!(parse_server_reply(&seed("garbage_http")).is_err());
}
