//! ClientHello parsing and evaluation: the configs offer exactly the policy (read back from
//! rustls's own ClientHello bytes), proptests for arbitrary bytes, truncation and record
//! fragmentation, and in-memory handshakes that show the server side accepts only the policy.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use edgeward_tls_policy::audit::ClientHelloSpec;
use edgeward_tls_policy::{
    builtin_names, client_config, parse_client_hello, server_config, ClientHelloReport,
    ConnectionReport, HelloError, HelloProgress, NamedGroup, PolicySpec, ProtocolVersion,
    TlsPolicy,
};
use proptest::prelude::*;
use rustls::pki_types::ServerName;

fn client_hello_bytes(policy: &TlsPolicy) -> Vec<u8> {
    let config = client_config(policy, rustls::RootCertStore::empty(), None).unwrap();
    let mut conn = rustls::ClientConnection::new(
        Arc::new(config),
        ServerName::try_from("example.com").unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}

#[test]
fn client_configs_offer_exactly_the_policy() {
    let mut checked = 0;
    for name in builtin_names() {
        let policy = TlsPolicy::named(name).unwrap();
        if policy.check_enforceable().is_err() {
            continue;
        }
        checked += 1;
        let hello = ClientHelloReport::parse(&client_hello_bytes(&policy)).unwrap();
        let offered: Vec<u16> = hello
            .cipher_suites
            .iter()
            .copied()
            .filter(|c| *c != 0x00FF)
            .collect();
        let allowed: Vec<u16> = policy.cipher_suites().iter().map(|s| s.code).collect();
        let mut a = offered.clone();
        let mut b = allowed.clone();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "{name}: suites");
        assert_eq!(hello.groups, policy.groups(), "{name}: groups");
        let mut versions = hello.offered_versions();
        versions.sort();
        assert_eq!(versions, policy.versions(), "{name}: versions");
        assert!(
            hello
                .signature_schemes
                .iter()
                .all(|s| policy.allows_signature_scheme(*s)),
            "{name}"
        );
        assert_eq!(hello.sni.as_deref(), Some("example.com"));
        assert!(
            policy.evaluate(&hello).accepted(),
            "{name}: {}",
            policy.evaluate(&hello)
        );
    }
    assert_eq!(
        checked, 3,
        "intermediate, modern, IoTSecurityPolicy_TLS13_1_3_2022_10"
    );
}

#[test]
fn a_restricted_policy_restricts_groups_schemes_and_alpn_on_the_wire() {
    let policy = TlsPolicy::from_toml_str(
        r#"
        name = "narrow"
        versions = ["TLS1.3"]
        cipher_suites = ["TLS_AES_128_GCM_SHA256"]
        groups = ["P-256"]
        signature_schemes = ["ecdsa_secp256r1_sha256"]
        alpn = ["h2"]
        "#,
    )
    .unwrap();
    let hello = ClientHelloReport::parse(&client_hello_bytes(&policy)).unwrap();
    assert_eq!(hello.cipher_suites, [0x1301]);
    assert_eq!(hello.groups, [NamedGroup::P256]);
    assert_eq!(hello.key_share_groups, [NamedGroup::P256]);
    assert_eq!(
        hello
            .signature_schemes
            .iter()
            .map(|s| s.0)
            .collect::<Vec<_>>(),
        [0x0403]
    );
    assert_eq!(hello.alpn, ["h2"]);
    assert_eq!(hello.supported_versions, Some(vec![0x0304]));
}

#[test]
fn without_supported_versions_a_hello_offers_tls10_up_to_its_legacy_version_or_ssl3_alone() {
    use ProtocolVersion::*;
    let offered = |legacy_version: u16| {
        let mut spec = ClientHelloSpec::new(legacy_version, [1; 32], vec![0x002F]);
        spec.no_extensions = true;
        ClientHelloReport::parse(&spec.encode())
            .unwrap()
            .offered_versions()
    };
    assert_eq!(offered(0x0300), [Ssl3]);
    assert_eq!(offered(0x0301), [Tls10]);
    assert_eq!(offered(0x0303), [Tls10, Tls11, Tls12]);
    // A TLS 1.3 client says so in supported_versions, never in legacy_version.
    assert_eq!(offered(0x0304), [Tls10, Tls11, Tls12]);
}

#[test]
fn the_report_reads_grease_tickets_key_shares_and_only_a_plausible_server_name() {
    let mut spec = ClientHelloSpec::new(0x0303, [2; 32], vec![0x0A0A, 0x1A1A, 0x1301]);
    spec.supported_versions = vec![0x0304];
    spec.groups = vec![0x001D, 0x0017];
    spec.key_shares = Some(vec![(0x001D, vec![9; 32]), (0x0017, vec![4; 65])]);
    spec.signature_algorithms = vec![0x0403];
    spec.session_ticket = true;
    spec.server_name = Some("device.example".into());
    let report = ClientHelloReport::parse(&spec.encode()).unwrap();
    assert!(report.grease, "two GREASE suites");
    assert!(report.session_ticket);
    assert_eq!(
        report.key_share_groups,
        [NamedGroup::X25519, NamedGroup::P256]
    );
    assert_eq!(report.sni.as_deref(), Some("device.example"));

    // RFC 6066 3: a HostName is ASCII; RFC 1035: at most 253 characters written out.
    let longest = format!("{}.example", "a".repeat(253 - 8));
    for (name, kept) in [
        (longest.clone(), true),
        (format!("a{longest}"), false),
        ("gerät.example".to_owned(), false),
    ] {
        spec.server_name = Some(name.clone());
        let report = ClientHelloReport::parse(&spec.encode()).unwrap();
        assert_eq!(report.sni.is_some(), kept, "{name}");
    }
}

#[test]
fn a_hello_exactly_as_long_as_the_limit_is_read() {
    let bytes = client_hello_bytes(&TlsPolicy::named("intermediate").unwrap());
    // The handshake message's 24-bit length, after the 5-byte record header and its type.
    let body_len = usize::from(bytes[6]) << 16 | usize::from(bytes[7]) << 8 | usize::from(bytes[8]);
    assert!(matches!(
        parse_client_hello(&bytes, body_len),
        Ok(HelloProgress::Complete { .. })
    ));
    assert_eq!(
        parse_client_hello(&bytes, body_len - 1),
        Err(HelloError::TooLarge {
            len: body_len,
            limit: body_len - 1
        })
    );
}

#[test]
fn a_record_header_longer_than_a_record_can_be_is_refused_before_its_body_arrives() {
    // 2^14 bytes of plaintext (RFC 8446 5.1) plus the 256 that RFC 5246 6.2.2 allowed for
    // compression: the most a ClientHello record may claim. Anything longer is refused from
    // the header alone, so a peer cannot make us wait for (or buffer) a body we would refuse.
    let header = |len: u16| {
        let [hi, lo] = len.to_be_bytes();
        [22, 3, 1, hi, lo]
    };
    assert_eq!(
        parse_client_hello(&header(16_640), 64 * 1024),
        Ok(HelloProgress::NeedMore)
    );
    assert_eq!(
        parse_client_hello(&header(16_641), 64 * 1024),
        Err(HelloError::RecordLength(16_641))
    );
    assert_eq!(
        parse_client_hello(&header(u16::MAX), 64 * 1024),
        Err(HelloError::RecordLength(65_535))
    );
}

#[test]
fn what_is_not_tls_is_refused_before_a_whole_record_header_arrives() {
    assert!(matches!(
        parse_client_hello(b"GE", 4096),
        Err(HelloError::NotTls {
            first_byte: b'G',
            ..
        })
    ));
    assert_eq!(
        parse_client_hello(&[0x80, 0x2e, 0x01], 4096),
        Err(HelloError::Sslv2)
    );
    assert_eq!(
        parse_client_hello(&[22, 3], 4096),
        Ok(HelloProgress::NeedMore)
    );
}

#[test]
fn unenforceable_policies_are_a_typed_error_naming_each_part() {
    let p = TlsPolicy::named("legacy-pfs").unwrap();
    let err = client_config(&p, rustls::RootCertStore::empty(), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("versions TLS 1.0, TLS 1.1 (rustls implements TLS 1.2 and TLS 1.3 only)"),
        "{err}"
    );
    assert!(
        err.contains("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 (finite-field DHE)"),
        "{err}"
    );
    assert!(
        err.contains("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (CBC)"),
        "{err}"
    );
    assert!(
        err.contains("groups rustls does not implement: P-521, ffdhe2048"),
        "{err}"
    );
    assert!(
        err.contains("signature schemes rustls does not verify: rsa_pkcs1_sha1"),
        "{err}"
    );
    let p = TlsPolicy::named("IoTSecurityPolicy_TLS12_1_2_2022_10").unwrap();
    let err = p.check_enforceable().unwrap_err().to_string();
    assert!(
        err.contains("TLS_RSA_WITH_AES_128_GCM_SHA256 (static RSA key exchange)"),
        "{err}"
    );
    assert!(!err.contains("versions"), "{err}");
}

/// In memory: a rustls client with its defaults (TLS 1.2 + 1.3, every default suite) against a
/// server for the `modern` policy negotiates TLS 1.3; a TLS 1.2-only client is refused.
#[test]
fn server_configs_accept_only_the_policy() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert = ck.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(ck.signing_key.serialize_der()).unwrap();
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified =
        rustls::sign::CertifiedKey::from_der(vec![cert.clone()], key, &provider).unwrap();
    let resolver = Arc::new(rustls::sign::SingleCertAndKey::from(certified));
    let modern = TlsPolicy::named("modern").unwrap();
    let server = Arc::new(server_config(&modern, resolver, None).unwrap());
    assert!(server.ticketer.enabled() == modern.resumption().tickets);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let roots = Arc::new(roots);

    let client = rustls::ClientConfig::builder_with_provider(Arc::new(provider.clone()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
    let report = handshake(Arc::new(client), server.clone()).unwrap();
    assert_eq!(report.version, Some(ProtocolVersion::Tls13));
    assert!(modern.check(&report).accepted());

    let tls12_only = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    assert!(handshake(Arc::new(tls12_only), server).is_err());
}

fn handshake(
    client: Arc<rustls::ClientConfig>,
    server: Arc<rustls::ServerConfig>,
) -> Result<ConnectionReport, rustls::Error> {
    let mut c = rustls::ClientConnection::new(client, ServerName::try_from("localhost").unwrap())?;
    let mut s = rustls::ServerConnection::new(server)?;
    let mut buf = Vec::new();
    for _ in 0..20 {
        buf.clear();
        while c.wants_write() {
            c.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            s.read_tls(&mut rd).unwrap();
        }
        s.process_new_packets()?;
        buf.clear();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).unwrap();
        }
        c.process_new_packets()?;
        if !c.is_handshaking() && !s.is_handshaking() {
            return Ok(ConnectionReport::from_server(&s));
        }
    }
    Err(rustls::Error::General("handshake did not finish".into()))
}

/// Splits the handshake payload of `hello` into records of the given sizes.
fn refragment(hello: &[u8], sizes: &[usize]) -> Vec<u8> {
    let payload = &hello[5..];
    let mut out = Vec::new();
    let mut rest = payload;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes
            .get(i)
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        out.extend_from_slice(&[22, 3, 1]);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        i += 1;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let policy = TlsPolicy::default();
        if let Ok(HelloProgress::Complete { report, .. }) = parse_client_hello(&bytes, 4096) {
            let _ = policy.evaluate(&report).to_string();
        }
    }

    #[test]
    fn handshake_records_with_arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = vec![22, 3, 1];
        bytes.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(body.len() as u16).to_be_bytes());
        bytes.extend_from_slice(&body);
        if let Ok(HelloProgress::Complete { report, .. }) = parse_client_hello(&bytes, 4096) {
            let v = TlsPolicy::default().evaluate(&report);
            let _ = serde_json::to_string(&v);
            let _ = serde_json::to_string(&*report);
        }
    }

    #[test]
    fn mutated_real_hellos_never_panic(idx in any::<prop::sample::Index>(), val in any::<u8>(), name in 0usize..3) {
        let policy = TlsPolicy::named(["intermediate", "modern", "IoTSecurityPolicy_TLS13_1_3_2022_10"][name]).unwrap();
        let mut bytes = client_hello_bytes(&policy);
        let i = idx.index(bytes.len());
        bytes[i] = val;
        if let Ok(HelloProgress::Complete { report, .. }) = parse_client_hello(&bytes, 4096) {
            let _ = policy.evaluate(&report).to_string();
        }
    }

    #[test]
    fn truncated_hellos_need_more_and_fragmentation_does_not_change_the_report(
        cut in any::<prop::sample::Index>(),
        sizes in proptest::collection::vec(1usize..400, 0..8),
    ) {
        let bytes = client_hello_bytes(&TlsPolicy::default());
        let whole = ClientHelloReport::parse(&bytes).unwrap();
        let n = cut.index(bytes.len());
        prop_assert_eq!(parse_client_hello(&bytes[..n], 4096), Ok(HelloProgress::NeedMore));
        let split = refragment(&bytes, &sizes);
        match parse_client_hello(&split, 4096) {
            Ok(HelloProgress::Complete { report, consumed }) => {
                prop_assert_eq!(*report, whole);
                prop_assert_eq!(consumed, split.len());
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn policy_specs_round_trip(
        versions in proptest::sample::subsequence(vec!["TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"], 1..=4),
        suites in proptest::sample::subsequence(vec!["TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "0x002F", "DHE-RSA-AES256-SHA", "TLS_CHACHA20_POLY1305_SHA256"], 1..=5),
        groups in proptest::sample::subsequence(vec!["X25519", "secp256r1", "ffdhe2048", "X25519MLKEM768"], 0..=4),
        tickets in any::<bool>(),
    ) {
        let mut spec = PolicySpec::default();
        spec.name = "p".into();
        spec.versions = versions.iter().map(|s| s.to_string()).collect();
        spec.cipher_suites = suites.iter().map(|s| s.to_string()).collect();
        spec.groups = groups.iter().map(|s| s.to_string()).collect();
        spec.signature_schemes = vec!["ed25519".into()];
        spec.resumption.tickets = tickets;
        // Valid or not, never a panic; when valid, the canonical form round-trips.
        if let Ok(p) = TlsPolicy::from_spec(&spec) {
            prop_assert_eq!(&TlsPolicy::from_spec(&p.to_spec()).unwrap(), &p);
            let json = serde_json::to_string(&p).unwrap();
            prop_assert_eq!(&TlsPolicy::from_json_str(&json).unwrap(), &p);
            let toml = toml::to_string(&p.to_spec()).unwrap();
            prop_assert_eq!(&TlsPolicy::from_toml_str(&toml).unwrap(), &p);
        }
    }
}

fn openssl_hello(name: &str) -> ClientHelloReport {
    let path = format!(
        "{}/tests/data/openssl-hellos/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    ClientHelloReport::parse(&std::fs::read(path).unwrap()).unwrap()
}

/// OpenSSL's own ClientHellos (see tests/data/openssl-hellos/README.md).
#[test]
fn openssl_client_hellos_parse_and_get_the_issue_verdicts() {
    let policy = TlsPolicy::default();
    let h = openssl_hello("openssl-tls1");
    assert_eq!(h.legacy_version, 0x0301);
    assert_eq!(h.supported_versions, None);
    assert!(policy
        .evaluate(&h)
        .to_string()
        .starts_with("offers only TLS 1.0;"));
    let h = openssl_hello("openssl-tls1_1");
    assert!(policy
        .evaluate(&h)
        .to_string()
        .starts_with("offers only TLS 1.0 and TLS 1.1;"));
    let h = openssl_hello("openssl-tls1_2-static-rsa");
    assert_eq!(h.cipher_suites, [0x009C, 0x00FF]);
    assert_eq!(
        policy.evaluate(&h).to_string(),
        "no forward-secret suite offered: TLS_RSA_WITH_AES_128_GCM_SHA256"
    );
    let h = openssl_hello("openssl-tls1_2-ecdhe-cbc");
    assert_eq!(
        policy.evaluate(&h).to_string(),
        "no forward-secret AEAD suite offered: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
    );
    let h = openssl_hello("openssl-default");
    // OpenSSL 3.0 at its default security level still lists TLS 1.1 and 1.0.
    assert_eq!(
        h.supported_versions,
        Some(vec![0x0304, 0x0303, 0x0302, 0x0301])
    );
    assert!(h.cipher_suites.starts_with(&[0x1302, 0x1303, 0x1301]));
    assert!(policy.evaluate(&h).accepted(), "{}", policy.evaluate(&h));
    let h = openssl_hello("openssl-alpn-sni");
    assert_eq!(h.sni.as_deref(), Some("device.example.com"));
    assert_eq!(h.alpn, ["h2", "http/1.1"]);
    assert!(policy.evaluate(&h).accepted());
    let h2_only = policy.with_alpn(vec!["mqtt".into()]).unwrap();
    assert_eq!(
        h2_only.evaluate(&h).to_string(),
        "no application protocol the policy allows offered: h2, http/1.1"
    );
}
