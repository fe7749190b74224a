//! Acceptance tests with real OpenSSL: certificates made by `openssl req`/`openssl x509` are
//! inspected and loaded correctly; `openssl s_client` presenting device certificates to a rustls
//! server using our verifier is accepted or refused with the named rule; our device client
//! authenticates to `openssl s_server -Verify 1`; our client and our verifier talk to each other.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::Duration as StdDuration;

use edgeward_device_identity::{
    certificate_pem, crl_pem, peer_certificate_info, refusal_reason, write_private_key_file,
    CaSettings, CertificateAuthority, CertificateInfo, CertificateStatus, ClientAuthMode,
    CrlSettings, DeviceCertVerifier, DeviceIdentity, DevicePolicy, DeviceSettings,
    ExtendedKeyUsageRule, InMemoryStatus, KeyFilePermissions, LoadOptions, PublicKeyKind, Purpose,
    Rule, ServerSettings, SubjectAltName, Validator,
};
use time::{Duration, OffsetDateTime};

mod support;
use support::{openssl, openssl_issue, openssl_root};

/// `openssl req -newkey` arguments for a P-256 key.
const P256: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

/// A child process killed (by its pid) when dropped.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The test PKI, written to a temp dir: a device CA, a server certificate, helper paths.
struct Pki {
    dir: tempfile::TempDir,
    ca: CertificateAuthority,
    server_chain: Vec<rustls_pki_types::CertificateDer<'static>>,
    server_key: Vec<u8>,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc();
        let ca =
            CertificateAuthority::create_root(&CaSettings::new("Interop Device CA"), now).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.certificate_pem()).unwrap();
        write_private_key_file(&dir.path().join("ca.key"), ca.key_pem()).unwrap();
        let server = ca
            .issue_server(&ServerSettings::new(&["localhost", "127.0.0.1"]), now)
            .unwrap();
        std::fs::write(dir.path().join("server.pem"), server.certificate_pem()).unwrap();
        write_private_key_file(&dir.path().join("server.key"), &server.key.to_pem()).unwrap();
        Self {
            dir,
            ca,
            server_chain: vec![server.certificate.clone()],
            server_key: server.key.pkcs8_der().to_vec(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Issues a device certificate and writes `<name>.pem` / `<name>.key`.
    fn device(
        &self,
        name: &str,
        settings: &DeviceSettings,
        now: OffsetDateTime,
    ) -> CertificateInfo {
        let issued = self.ca.issue_device(settings, now).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), issued.certificate_pem()).unwrap();
        write_private_key_file(&self.path(&format!("{name}.key")), &issued.key.to_pem()).unwrap();
        CertificateInfo::from_der(&issued.certificate).unwrap()
    }

    /// Has openssl make a key and CSR, and sign it with the CA key with the given extensions.
    fn openssl_device(&self, name: &str, newkey: &str, extensions: &str) -> CertificateInfo {
        let dir = self.dir.path();
        let pem = format!("{name}.pem");
        let ext = format!("{name}.ext");
        std::fs::write(dir.join(&ext), extensions).unwrap();
        openssl_issue(dir, name, &["-newkey", newkey], "ca", "-sha256", &ext);
        let chain = edgeward_device_identity::load_certificates(&self.path(&pem)).unwrap();
        CertificateInfo::from_der(&chain[0]).unwrap()
    }

    fn server_config(&self, validator: Validator) -> Arc<rustls::ServerConfig> {
        self.server_config_with(Arc::new(DeviceCertVerifier::new(Arc::new(validator))))
    }

    fn server_config_with(&self, verifier: Arc<DeviceCertVerifier>) -> Arc<rustls::ServerConfig> {
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                self.server_chain.clone(),
                rustls_pki_types::PrivatePkcs8KeyDer::from(self.server_key.clone()).into(),
            )
            .unwrap();
        Arc::new(config)
    }
}

/// What our rustls server saw for one connection.
type ServerOutcome = Result<CertificateInfo, rustls::Error>;

/// Accepts one connection with our verifier on a free port; reports the handshake outcome.
fn serve_once(config: Arc<rustls::ServerConfig>) -> (u16, mpsc::Receiver<ServerOutcome>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(StdDuration::from_secs(10)))
            .unwrap();
        let mut conn = rustls::ServerConnection::new(config).unwrap();
        let outcome = loop {
            match conn.complete_io(&mut tcp) {
                Ok(_) if !conn.is_handshaking() => break Ok(()),
                Ok(_) => continue,
                Err(e) => break Err(e),
            }
        };
        let outcome = match outcome {
            Ok(()) => match peer_certificate_info(&conn) {
                Some(info) => Ok(info.unwrap()),
                None => Err(rustls::Error::General("no client certificate".into())),
            },
            Err(e) => {
                // The error rustls reports wraps the rustls::Error; find ours inside.
                let inner = e
                    .get_ref()
                    .and_then(|r| r.downcast_ref::<rustls::Error>())
                    .cloned();
                Err(inner.unwrap_or_else(|| rustls::Error::General(e.to_string())))
            }
        };
        if outcome.is_ok() {
            let mut stream = rustls::Stream::new(&mut conn, &mut tcp);
            let _ = stream.write_all(b"hello device\n");
            let _ = stream.flush();
        }
        let _ = tx.send(outcome);
    });
    (port, rx)
}

/// Runs `openssl s_client -cert/-key` against our server and returns what the server concluded.
fn s_client(pki: &Pki, name: &str, config: Arc<rustls::ServerConfig>) -> ServerOutcome {
    let (port, rx) = serve_once(config);
    let child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-cert",
            &format!("{name}.pem"),
            "-key",
            &format!("{name}.key"),
        ])
        // Distributions default to SECLEVEL=2, under which s_client will not even load an RSA-1024
        // key; level 0 lets it present the weak certificate so that *our* server refuses it.
        .args(["-cipher", "DEFAULT@SECLEVEL=0"])
        .current_dir(pki.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _peer = Peer(child);
    rx.recv_timeout(StdDuration::from_secs(20))
        .expect("server saw a handshake")
}

fn rule_of(outcome: ServerOutcome) -> Rule {
    let error = outcome.expect_err("the handshake must be refused");
    let ours = refusal_reason(&error).unwrap_or_else(|| panic!("not our refusal: {error:?}"));
    ours.rule()
        .cloned()
        .unwrap_or_else(|| panic!("no rule: {ours}"))
}

fn validator(pki: &Pki) -> Validator {
    Validator::new(&[pki.ca.certificate().clone()], DevicePolicy::device()).unwrap()
}

#[test]
fn openssl_made_certificates_are_inspected_correctly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:3072",
            "-nodes",
            "-keyout",
            "rsa.key",
            "-out",
            "rsa.pem",
            "-days",
            "30",
            "-subj",
            "/O=Interop/CN=thing-rsa",
            "-addext",
            "subjectAltName=DNS:a.example,DNS:b.example,IP:10.1.2.3",
            "-addext",
            "extendedKeyUsage=clientAuth",
        ],
        d,
    );
    let der = openssl(&["x509", "-in", "rsa.pem", "-outform", "DER"], d);
    // The certificate ID equals `openssl x509 -outform DER | sha256sum`, computed independently.
    let sha = Command::new("sha256sum")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut sha = sha;
    sha.stdin.take().unwrap().write_all(&der).unwrap();
    let out = sha.wait_with_output().unwrap();
    let expected_id = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let fingerprint = String::from_utf8(openssl(
        &["x509", "-in", "rsa.pem", "-noout", "-fingerprint", "-sha1"],
        d,
    ))
    .unwrap();
    // openssl prints the serial's magnitude; `serial` is the DER content octets, which carry
    // a leading zero octet when the magnitude's top bit is set (openssl's random 159-bit
    // serial needs one about once in 256 certificates, so a second certificate has one).
    let expected_serial = |pem: &str| {
        let printed =
            String::from_utf8(openssl(&["x509", "-in", pem, "-noout", "-serial"], d)).unwrap();
        let magnitude = printed
            .trim()
            .trim_start_matches("serial=")
            .to_ascii_lowercase();
        match magnitude.starts_with(['8', '9', 'a', 'b', 'c', 'd', 'e', 'f']) {
            true => format!("00{magnitude}"),
            false => magnitude,
        }
    };
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
            "signed.key",
            "-out",
            "signed.pem",
            "-days",
            "1",
            "-subj",
            "/CN=s",
            "-set_serial",
            "0x80ff",
        ],
        d,
    );
    let signed = edgeward_device_identity::load_certificates(&d.join("signed.pem")).unwrap();
    let signed = CertificateInfo::from_der(&signed[0]).unwrap();
    assert_eq!(signed.serial, expected_serial("signed.pem"));
    assert_eq!(signed.serial.len(), 6, "{}", signed.serial);

    let chain = edgeward_device_identity::load_certificates(&d.join("rsa.pem")).unwrap();
    let info = CertificateInfo::from_der(&chain[0]).unwrap();
    assert_eq!(info.certificate_id.as_str(), expected_id);
    assert_eq!(
        info.sha1_fingerprint,
        fingerprint
            .trim()
            .rsplit('=')
            .next()
            .unwrap()
            .replace(':', "")
            .to_ascii_lowercase()
    );
    assert_eq!(info.serial, expected_serial("rsa.pem"));
    assert_eq!(info.public_key, PublicKeyKind::Rsa { bits: 3072 });
    assert_eq!(info.thing_name(), Some("thing-rsa"));
    assert_eq!(
        info.subject_alt_names,
        vec![
            SubjectAltName::Dns("a.example".into()),
            SubjectAltName::Dns("b.example".into()),
            SubjectAltName::Ip("10.1.2.3".parse().unwrap()),
        ]
    );
    assert_eq!(info.extended_key_usage, vec!["clientAuth".to_owned()]);
    assert_eq!(info.signature_algorithm.name, "sha256WithRSAEncryption");
    assert!(info.self_issued);

    // Keys in every format openssl writes load and match their certificate.
    let opts = LoadOptions::default();
    DeviceIdentity::load(
        &d.join("rsa.pem"),
        &d.join("rsa.key"),
        &opts.with_key_file_permissions(KeyFilePermissions::AllowGroupOrOtherReadable),
    )
    .unwrap();
    openssl(
        &[
            "rsa",
            "-in",
            "rsa.key",
            "-traditional",
            "-out",
            "rsa-pkcs1.key",
        ],
        d,
    );
    openssl(
        &[
            "rsa",
            "-in",
            "rsa.key",
            "-traditional",
            "-outform",
            "DER",
            "-out",
            "rsa-pkcs1.der",
        ],
        d,
    );
    openssl(
        &[
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-noout",
            "-out",
            "ec-sec1.key",
        ],
        d,
    );
    openssl(
        &[
            "req",
            "-x509",
            "-key",
            "ec-sec1.key",
            "-out",
            "ec.pem",
            "-days",
            "3",
            "-subj",
            "/CN=thing-ec",
        ],
        d,
    );
    openssl(
        &[
            "ec",
            "-in",
            "ec-sec1.key",
            "-outform",
            "DER",
            "-out",
            "ec-sec1.der",
        ],
        d,
    );
    openssl(
        &[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            "ec-sec1.key",
            "-outform",
            "DER",
            "-out",
            "ec-pkcs8.der",
        ],
        d,
    );
    openssl(
        &["x509", "-in", "ec.pem", "-outform", "DER", "-out", "ec.der"],
        d,
    );
    let allow = LoadOptions::default()
        .with_key_file_permissions(KeyFilePermissions::AllowGroupOrOtherReadable);
    for (cert, key) in [
        ("rsa.pem", "rsa-pkcs1.key"),
        ("rsa.pem", "rsa-pkcs1.der"),
        ("ec.pem", "ec-sec1.key"),
        ("ec.der", "ec-sec1.der"),
        ("ec.der", "ec-pkcs8.der"),
    ] {
        let identity = DeviceIdentity::load(&d.join(cert), &d.join(key), &allow)
            .unwrap_or_else(|e| panic!("{cert} + {key}: {e}"));
        assert!(identity.thing_name().is_some());
    }
    let ec = CertificateInfo::from_der(
        &edgeward_device_identity::load_certificates(&d.join("ec.der")).unwrap()[0],
    )
    .unwrap();
    assert_eq!(ec.public_key.to_string(), "ECDSA P-384");
    // The RSA key does not match the EC certificate.
    assert!(DeviceIdentity::load(&d.join("ec.pem"), &d.join("rsa-pkcs1.key"), &allow).is_err());
}

#[test]
fn our_client_and_our_verifier_complete_mtls() {
    let pki = Pki::new();
    let now = OffsetDateTime::now_utc();
    let info = pki.device("dev", &DeviceSettings::new("thing-ours"), now);
    let registry = Arc::new(InMemoryStatus::new());
    registry.set(info.certificate_id.clone(), CertificateStatus::Active);
    let identity = DeviceIdentity::load(
        &pki.path("dev.pem"),
        &pki.path("dev.key"),
        &LoadOptions::default(),
    )
    .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.certificate().clone()).unwrap();
    // TLS 1.2 signs the whole handshake transcript: the client keeps it only if the resolver
    // says it has a certificate to present.
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let config = pki.server_config(validator(&pki).with_status_source(registry.clone()));
        let (port, rx) = serve_once(config);
        let client = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_client_cert_resolver(identity.client_cert_resolver());
        let mut conn =
            rustls::ClientConnection::new(Arc::new(client), "localhost".try_into().unwrap())
                .unwrap();
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(StdDuration::from_secs(10)))
            .unwrap();
        let mut stream = rustls::Stream::new(&mut conn, &mut tcp);
        let mut greeting = String::new();
        stream.read_to_string(&mut greeting).ok();
        assert_eq!(greeting, "hello device\n", "{version:?}");
        let seen = rx
            .recv_timeout(StdDuration::from_secs(10))
            .unwrap()
            .unwrap();
        assert_eq!(seen.certificate_id, info.certificate_id);
        assert_eq!(seen.thing_name(), Some("thing-ours"));
        assert_eq!(conn.protocol_version(), Some(version.version));
    }
}

/// What `openssl s_client` without a certificate sees of our verifier: the roots as the
/// CertificateRequest's CA names; with `ClientAuthMode::Optional` the handshake completes without
/// a certificate, with the default (required) it is refused.
#[test]
fn s_client_without_a_certificate_sees_the_roots_and_the_mode() {
    let pki = Pki::new();
    for mode in [ClientAuthMode::Optional, ClientAuthMode::Required] {
        let verifier = DeviceCertVerifier::with_mode(Arc::new(validator(&pki)), mode);
        let (port, rx) = serve_once(pki.server_config_with(Arc::new(verifier)));
        let mut child = Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .current_dir(pki.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let _peer = Peer(child);
        let outcome = rx.recv_timeout(StdDuration::from_secs(20)).unwrap();
        match mode {
            // The server completed the handshake and found no certificate.
            ClientAuthMode::Optional => {
                assert!(
                    matches!(&outcome, Err(rustls::Error::General(m)) if m == "no client certificate"),
                    "{outcome:?}"
                );
            }
            _ => {
                assert!(
                    matches!(outcome, Err(rustls::Error::NoCertificatesPresented)),
                    "{outcome:?}"
                );
                continue;
            }
        }
        let mut transcript = String::new();
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        while std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) > 0 {
            transcript.push_str(&line);
            if line.starts_with("SSL-Session") {
                break;
            }
            line.clear();
        }
        assert!(
            transcript.contains("Acceptable client certificate CA names\nCN = Interop Device CA\n"),
            "{transcript}"
        );
    }
}

#[test]
fn s_client_with_valid_device_certificate_is_accepted() {
    let pki = Pki::new();
    let info = pki.device(
        "good",
        &DeviceSettings::new("thing-good"),
        OffsetDateTime::now_utc(),
    );
    let seen = s_client(&pki, "good", pki.server_config(validator(&pki))).unwrap();
    assert_eq!(seen.certificate_id, info.certificate_id);
    assert_eq!(seen.thing_name(), Some("thing-good"));
    // A certificate made by openssl x509 -req on our CA key is accepted too.
    pki.openssl_device(
        "openssl-made",
        "ec:ca.pem",
        "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n",
    );
    let seen = s_client(&pki, "openssl-made", pki.server_config(validator(&pki))).unwrap();
    assert_eq!(seen.thing_name(), Some("openssl-made"));
}

#[test]
fn s_client_with_expired_certificate_is_refused() {
    let pki = Pki::new();
    let long_ago = OffsetDateTime::now_utc() - Duration::days(30);
    pki.device("expired", &DeviceSettings::new("thing-expired"), long_ago);
    let rule = rule_of(s_client(
        &pki,
        "expired",
        pki.server_config(validator(&pki)),
    ));
    assert!(matches!(rule, Rule::Expired { .. }), "{rule}");
}

#[test]
fn s_client_with_certificate_revoked_by_crl_is_refused() {
    let pki = Pki::new();
    let now = OffsetDateTime::now_utc();
    pki.device("revoked", &DeviceSettings::new("thing-revoked"), now);
    let cert = edgeward_device_identity::load_certificates(&pki.path("revoked.pem")).unwrap();
    let crl = pki
        .ca
        .issue_crl(
            &CrlSettings::new(now, Duration::days(1), 1)
                .revoke(&cert[0])
                .unwrap(),
        )
        .unwrap();
    // The CRL goes through PEM and the loader, as an operator would supply it; openssl agrees it
    // revokes the certificate.
    std::fs::write(pki.path("crl.pem"), crl_pem(&crl)).unwrap();
    let text = String::from_utf8(openssl(
        &["crl", "-in", "crl.pem", "-noout", "-text"],
        pki.dir.path(),
    ))
    .unwrap();
    let serial = CertificateInfo::from_der(&cert[0])
        .unwrap()
        .serial
        .to_ascii_uppercase();
    assert!(text.contains(&serial), "{text}");
    let crls = edgeward_device_identity::load_crls(&pki.path("crl.pem")).unwrap();
    let rule = rule_of(s_client(
        &pki,
        "revoked",
        pki.server_config(validator(&pki).with_crls(&crls).unwrap()),
    ));
    assert_eq!(rule, Rule::RevokedByCrl);
}

#[test]
fn s_client_with_certificate_revoked_in_registry_is_refused() {
    let pki = Pki::new();
    let info = pki.device(
        "dev",
        &DeviceSettings::new("thing-status"),
        OffsetDateTime::now_utc(),
    );
    let registry = Arc::new(InMemoryStatus::new());
    registry.set(info.certificate_id.clone(), CertificateStatus::Revoked);
    let rule = rule_of(s_client(
        &pki,
        "dev",
        pki.server_config(validator(&pki).with_status_source(registry.clone())),
    ));
    assert_eq!(
        rule,
        Rule::StatusNotActive {
            status: CertificateStatus::Revoked
        }
    );
    registry.set(
        info.certificate_id.clone(),
        CertificateStatus::PendingActivation,
    );
    let rule = rule_of(s_client(
        &pki,
        "dev",
        pki.server_config(validator(&pki).with_status_source(registry)),
    ));
    assert_eq!(
        rule,
        Rule::StatusNotActive {
            status: CertificateStatus::PendingActivation
        }
    );
}

#[test]
fn s_client_with_certificate_from_another_ca_is_refused() {
    let pki = Pki::new();
    let other = CertificateAuthority::create_root(
        &CaSettings::new("Somebody Else's CA"),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let issued = other
        .issue_device(
            &DeviceSettings::new("thing-foreign"),
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    std::fs::write(
        pki.path("foreign.pem"),
        certificate_pem(&issued.certificate),
    )
    .unwrap();
    write_private_key_file(&pki.path("foreign.key"), &issued.key.to_pem()).unwrap();
    let rule = rule_of(s_client(
        &pki,
        "foreign",
        pki.server_config(validator(&pki)),
    ));
    assert_eq!(rule, Rule::UnknownIssuer);
}

#[test]
fn s_client_with_weak_rsa_key_is_refused() {
    let pki = Pki::new();
    let info = pki.openssl_device("weak", "rsa:1024", "extendedKeyUsage=clientAuth\n");
    assert_eq!(info.public_key, PublicKeyKind::Rsa { bits: 1024 });
    let rule = rule_of(s_client(&pki, "weak", pki.server_config(validator(&pki))));
    assert_eq!(
        rule,
        Rule::WeakKey {
            key: "RSA 1024".into()
        }
    );
}

#[test]
fn s_client_with_wrong_eku_is_refused() {
    let pki = Pki::new();
    pki.openssl_device("serveronly", "ec:ca.pem", "extendedKeyUsage=serverAuth\n");
    let rule = rule_of(s_client(
        &pki,
        "serveronly",
        pki.server_config(validator(&pki)),
    ));
    assert_eq!(
        rule,
        Rule::MissingExtendedKeyUsage {
            required: "clientAuth".into()
        }
    );
    // Missing EKU altogether: webpki alone would accept it, the device policy does not.
    pki.openssl_device("noeku", "ec:ca.pem", "basicConstraints=CA:FALSE\n");
    let rule = rule_of(s_client(&pki, "noeku", pki.server_config(validator(&pki))));
    assert_eq!(
        rule,
        Rule::MissingExtendedKeyUsage {
            required: "clientAuth".into()
        }
    );
}

#[test]
fn our_device_client_authenticates_to_openssl_s_server() {
    let pki = Pki::new();
    pki.device(
        "dev",
        &DeviceSettings::new("thing-to-openssl"),
        OffsetDateTime::now_utc(),
    );
    let port = free_port();
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &port.to_string(),
            "-cert",
            "server.pem",
            "-key",
            "server.key",
            "-CAfile",
            "ca.pem",
            "-Verify",
            "1",
            "-verify_return_error",
            "-www",
        ])
        .current_dir(pki.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut peer = Peer(child);
    // s_server prints ACCEPT once it listens.
    let mut lines = std::io::BufReader::new(peer.0.stdout.take().unwrap());
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut lines, &mut line).unwrap() > 0
        && !line.contains("ACCEPT")
    {
        line.clear();
    }
    assert!(line.contains("ACCEPT"), "s_server did not start");

    let identity = DeviceIdentity::load(
        &pki.path("dev.pem"),
        &pki.path("dev.key"),
        &LoadOptions::default(),
    )
    .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.certificate().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_cert_resolver(identity.client_cert_resolver());
    let mut conn =
        rustls::ClientConnection::new(Arc::new(client), "localhost".try_into().unwrap()).unwrap();
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(StdDuration::from_secs(10)))
        .unwrap();
    let mut stream = rustls::Stream::new(&mut conn, &mut tcp);
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut page = Vec::new();
    let _ = stream.read_to_end(&mut page);
    let page = String::from_utf8_lossy(&page);
    assert!(page.starts_with("HTTP/1.0 200 ok"), "{page}");
    assert!(conn.peer_certificates().is_some());
}

/// Writes an openssl-made chain into `dir`: `root.pem`, each of `intermediates` issued by the
/// one before it (the first by the root), and `device.pem` issued by the last, with their keys.
fn openssl_chain(dir: &std::path::Path, intermediates: &[&str]) {
    let ca_ext = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
    std::fs::write(dir.join("ca.ext"), ca_ext).unwrap();
    let device_ext = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                      extendedKeyUsage=clientAuth\n";
    std::fs::write(dir.join("device.ext"), device_ext).unwrap();
    openssl_root(dir, "root", &P256, "-sha256");
    let mut issuer = "root";
    for name in intermediates {
        openssl_issue(dir, name, &P256, issuer, "-sha256", "ca.ext");
        issuer = name;
    }
    openssl_issue(dir, "device", &P256, issuer, "-sha256", "device.ext");
}

/// `max_intermediates` means what OpenSSL's verify depth means (and what x509-limbo's OpenSSL
/// harness passes `max_chain_depth` to): the number of intermediates allowed between the device
/// certificate and the root. An openssl-made chain with three intermediates is refused by
/// `openssl verify -verify_depth 2` and by us at 2, and accepted by both at 3.
#[test]
fn max_intermediates_agrees_with_openssl_verify_depth() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_chain(d, &["i1", "i2", "i3"]);
    let intermediates_pem: String = ["i1", "i2", "i3"]
        .iter()
        .map(|n| std::fs::read_to_string(d.join(format!("{n}.pem"))).unwrap())
        .collect();
    std::fs::write(d.join("intermediates.pem"), &intermediates_pem).unwrap();

    let root = edgeward_device_identity::load_certificates(&d.join("root.pem")).unwrap();
    let intermediates =
        edgeward_device_identity::load_certificates(&d.join("intermediates.pem")).unwrap();
    let device = edgeward_device_identity::load_certificates(&d.join("device.pem")).unwrap();
    for depth in [2usize, 3] {
        let depth_arg = depth.to_string();
        let openssl_ok = Command::new("openssl")
            .args(["verify", "-verify_depth", &depth_arg, "-CAfile", "root.pem"])
            .args(["-untrusted", "intermediates.pem", "device.pem"])
            .current_dir(d)
            .output()
            .unwrap()
            .status
            .success();
        let policy = DevicePolicy::device().with_max_intermediates(depth);
        let ours = Validator::new(&root, policy).unwrap().validate(
            &device[0],
            &intermediates,
            rustls_pki_types::UnixTime::now(),
        );
        assert_eq!(openssl_ok, depth == 3, "openssl at depth {depth}");
        assert_eq!(ours.is_ok(), openssl_ok, "ours at depth {depth}: {ours:?}");
    }
}

/// Issuers made by openssl that webpki would take and the device policy does not: a CA whose
/// keyUsage lacks keyCertSign (webpki reads keyUsage only for CRLs), and a CA whose
/// extendedKeyUsage lists only serverAuth. Each refusal names the intermediate. A device without
/// any extendedKeyUsage passes under `RequiredIfPresent` and fails under the default `Required`.
#[test]
fn issuers_and_devices_are_held_to_key_usage_and_extended_key_usage() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_root(d, "root", &P256, "-sha256");
    let device_ext = "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n";
    let files = [
        (
            "good-ca.ext",
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n",
        ),
        (
            "no-cert-sign.ext",
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,cRLSign\n",
        ),
        (
            "server-only-ca.ext",
            "basicConstraints=critical,CA:TRUE\nextendedKeyUsage=serverAuth\n",
        ),
        ("device.ext", device_ext),
        ("no-eku.ext", "basicConstraints=critical,CA:FALSE\n"),
    ];
    for (name, text) in files {
        std::fs::write(d.join(name), text).unwrap();
    }
    let load = |name: &str| {
        edgeward_device_identity::load_certificates(&d.join(format!("{name}.pem"))).unwrap()[0]
            .clone()
    };
    let trusted = [load("root")];
    let policy = DevicePolicy::device();
    let now = rustls_pki_types::UnixTime::now;

    for (ca, ext, refused) in [
        ("good-ca", "good-ca.ext", None),
        (
            "no-cert-sign",
            "no-cert-sign.ext",
            Some(Rule::NotACertificateAuthority),
        ),
        (
            "server-only-ca",
            "server-only-ca.ext",
            Some(Rule::MissingExtendedKeyUsage {
                required: "clientAuth".into(),
            }),
        ),
    ] {
        openssl_issue(d, ca, &P256, "root", "-sha256", ext);
        let device = format!("device-of-{ca}");
        openssl_issue(d, &device, &P256, ca, "-sha256", "device.ext");
        let verdict = Validator::new(&trusted, policy.clone()).unwrap().validate(
            &load(&device),
            &[load(ca)],
            now(),
        );
        match (refused, verdict) {
            (None, Ok(identity)) => assert_eq!(identity.path().len(), 3),
            (
                Some(rule),
                Err(edgeward_device_identity::Error::Rejected {
                    certificate,
                    rule: got,
                }),
            ) => {
                assert_eq!(
                    (certificate.subject.as_str(), got),
                    (format!("CN={ca}").as_str(), rule)
                );
            }
            (_, other) => panic!("{ca}: {other:?}"),
        }
    }

    openssl_issue(d, "no-eku", &P256, "root", "-sha256", "no-eku.ext");
    let lenient = policy
        .clone()
        .with_extended_key_usage(ExtendedKeyUsageRule::RequiredIfPresent(Purpose::ClientAuth));
    Validator::new(&trusted, lenient.clone())
        .unwrap()
        .validate(&load("no-eku"), &[], now())
        .unwrap();
    let strict = Validator::new(&trusted, policy).unwrap();
    let err = strict.validate(&load("no-eku"), &[], now()).unwrap_err();
    assert!(
        matches!(err.rule(), Some(Rule::MissingExtendedKeyUsage { .. })),
        "{err}"
    );
    // RequiredIfPresent still refuses a device whose extension lists other purposes only.
    let server = load("device-of-good-ca");
    let err = Validator::new(
        &trusted,
        lenient
            .with_extended_key_usage(ExtendedKeyUsageRule::RequiredIfPresent(Purpose::ServerAuth)),
    )
    .unwrap()
    .validate(&server, &[load("good-ca")], now())
    .unwrap_err();
    assert_eq!(
        err.rule(),
        Some(&Rule::MissingExtendedKeyUsage {
            required: "serverAuth".into()
        })
    );
}

/// Two offered intermediates share the device's issuer name: one whose subject key identifier
/// differs from the device's authority key identifier (so it did not issue it), and one with
/// no identifier at all (it may have), expired. The refusal is explained by the expired one,
/// whichever order they come in, as `openssl verify`, which matches the identifiers, also
/// says; the other is not a CA and would have been blamed for that instead.
#[test]
fn an_explanation_prefers_an_issuer_without_a_key_identifier_to_one_that_differs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_root(d, "root", &P256, "-sha256");
    let files = [
        (
            "other.ext",
            "basicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\n",
        ),
        (
            "issuer.ext",
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n\
             subjectKeyIdentifier=none\n",
        ),
        (
            "twin.ext",
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n\
             subjectKeyIdentifier=hash\n",
        ),
        (
            "device.ext",
            "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n\
             authorityKeyIdentifier=keyid:always\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(d.join(name), text).unwrap();
    }
    let sign = |csr: &str, ca: &str, ca_key: &str, days: &str, ext: &str, out: &str| {
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                csr,
                "-CA",
                ca,
                "-CAkey",
                ca_key,
                "-CAcreateserial",
                "-days",
                days,
                "-sha256",
                "-extfile",
                ext,
                "-out",
                out,
            ],
            d,
        );
    };
    for (name, subject) in [
        ("other", "/CN=Issuing CA"),
        ("issuer", "/CN=Issuing CA"),
        ("device", "/CN=thing-7"),
    ] {
        let (key, csr) = (format!("{name}.key"), format!("{name}.csr"));
        let mut args = vec!["req", "-new", "-nodes", "-keyout", &key, "-out", &csr];
        args.extend(P256);
        args.extend(["-subj", subject]);
        openssl(&args, d);
    }
    sign(
        "other.csr",
        "root.pem",
        "root.key",
        "2",
        "other.ext",
        "other.pem",
    );
    // `-days -1`: notAfter a day before notBefore (now), so expired.
    sign(
        "issuer.csr",
        "root.pem",
        "root.key",
        "-1",
        "issuer.ext",
        "issuer.pem",
    );
    // OpenSSL 3.0 writes an authority key identifier only from an issuer certificate that has
    // a subject key identifier: the device is signed through a twin of the issuer (same key
    // and name) that has one, and the issuer without one is what is offered.
    sign(
        "issuer.csr",
        "root.pem",
        "root.key",
        "2",
        "twin.ext",
        "twin.pem",
    );
    sign(
        "device.csr",
        "twin.pem",
        "issuer.key",
        "2",
        "device.ext",
        "device.pem",
    );
    std::fs::write(
        d.join("offered.pem"),
        [
            std::fs::read(d.join("other.pem")).unwrap(),
            std::fs::read(d.join("issuer.pem")).unwrap(),
        ]
        .concat(),
    )
    .unwrap();
    let openssl_says = Command::new("openssl")
        .args(["verify", "-CAfile", "root.pem", "-untrusted", "offered.pem"])
        .arg("device.pem")
        .current_dir(d)
        .output()
        .unwrap();
    let openssl_says = String::from_utf8_lossy(&openssl_says.stdout).into_owned()
        + &String::from_utf8_lossy(&openssl_says.stderr);
    assert!(
        openssl_says.contains("error 10 at 1 depth") && openssl_says.contains("expired"),
        "{openssl_says}"
    );

    let load = |name: &str| {
        edgeward_device_identity::load_certificates(&d.join(format!("{name}.pem"))).unwrap()[0]
            .clone()
    };
    let validator = Validator::new(&[load("root")], DevicePolicy::device()).unwrap();
    let (other, issuer) = (load("other"), load("issuer"));
    for offered in [[other.clone(), issuer.clone()], [issuer.clone(), other]] {
        let err = validator
            .validate(&load("device"), &offered, rustls_pki_types::UnixTime::now())
            .unwrap_err();
        let edgeward_device_identity::Error::Rejected { certificate, rule } = &err else {
            panic!("{err:?}")
        };
        assert!(matches!(rule, Rule::Expired { .. }), "{err}");
        assert_eq!(
            certificate.id,
            edgeward_device_identity::CertificateId::of_der(&issuer),
            "{err}"
        );
    }
}

/// When webpki finds no path, the explanation walks the offered chain by name. Extra
/// certificates a client sends (here a device certificate of another thing, sent first) are
/// not mistaken for the issuer: the expired intermediate is named.
#[test]
fn an_explanation_skips_offered_certificates_that_did_not_issue_the_chain() {
    let pki = Pki::new();
    let now = OffsetDateTime::now_utc();
    let expired = pki
        .ca
        .create_intermediate(
            &CaSettings::new("Expired Issuing CA").lifetime(Duration::days(1)),
            now - Duration::days(10),
        )
        .unwrap();
    let device = expired
        .issue_device(
            &DeviceSettings::new("thing-under-expired").lifetime(Duration::days(30)),
            now - Duration::days(9),
        )
        .unwrap();
    let bystander = pki
        .ca
        .issue_device(&DeviceSettings::new("bystander"), now)
        .unwrap();
    let err = validator(&pki)
        .validate(
            &device.certificate,
            &[bystander.certificate.clone(), expired.certificate().clone()],
            rustls_pki_types::UnixTime::now(),
        )
        .unwrap_err();
    let edgeward_device_identity::Error::Rejected { certificate, rule } = err else {
        panic!("{err}")
    };
    assert!(matches!(rule, Rule::Expired { .. }), "{rule}");
    assert_eq!(certificate.subject, "CN=Expired Issuing CA");
}

/// What openssl prints about a certificate's names and key identifiers, and what it reads of
/// our CSRs, matches what we say and write.
#[test]
fn names_key_identifiers_and_csrs_agree_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        &[
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "names.key", "-out", "names.pem", "-days", "1", "-subj", "/CN=names",
            "-addext",
            "subjectAltName=DNS:a.example,IP:192.0.2.7,IP:2001:db8::7,email:ops@example.com,URI:urn:thing:7",
        ],
        d,
    );
    let text =
        String::from_utf8(openssl(&["x509", "-in", "names.pem", "-noout", "-text"], d)).unwrap();
    let der = edgeward_device_identity::load_certificates(&d.join("names.pem")).unwrap();
    let info = CertificateInfo::from_der(&der[0]).unwrap();
    assert_eq!(
        info.subject_alt_names,
        vec![
            SubjectAltName::Dns("a.example".into()),
            SubjectAltName::Ip("192.0.2.7".parse().unwrap()),
            SubjectAltName::Ip("2001:db8::7".parse().unwrap()),
            SubjectAltName::Email("ops@example.com".into()),
            SubjectAltName::Uri("urn:thing:7".into()),
        ]
    );
    let shown: Vec<String> = info
        .subject_alt_names
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(
        shown,
        [
            "DNS:a.example",
            "IP:192.0.2.7",
            "IP:2001:db8::7",
            "email:ops@example.com",
            "URI:urn:thing:7"
        ]
    );
    // openssl prints key identifiers as colon-separated uppercase hex, on the line after the
    // extension's name (a self-signed certificate's AKI is its SKI).
    let after = |heading: &str| {
        let mut lines = text.lines().skip_while(|l| !l.contains(heading));
        lines.next();
        lines
            .next()
            .unwrap()
            .trim()
            .replace(':', "")
            .to_ascii_lowercase()
    };
    let ski = after("X509v3 Subject Key Identifier");
    assert_eq!(info.subject_key_id.as_deref(), Some(ski.as_str()));
    assert_eq!(info.authority_key_id.as_deref(), Some(ski.as_str()));

    // A CSR we create and print as PEM is one openssl reads and whose signature it verifies.
    let key = edgeward_device_identity::PrivateKey::generate(
        edgeward_device_identity::KeyType::EcdsaP256,
    )
    .unwrap();
    let csr = edgeward_device_identity::create_csr(&key, "thing-csr").unwrap();
    std::fs::write(d.join("ours.csr"), edgeward_device_identity::csr_pem(&csr)).unwrap();
    let subject = String::from_utf8(openssl(
        &["req", "-in", "ours.csr", "-noout", "-verify", "-subject"],
        d,
    ))
    .unwrap();
    assert_eq!(subject.trim(), "subject=CN = thing-csr");
}

/// A chain that reaches no trusted root is explained as `openssl verify` at the same depth
/// explains it: within `max_intermediates`, the top intermediate's issuer is unknown (OpenSSL's
/// error 20); longer, the first intermediate over the limit makes the chain too long (error 22),
/// however many more follow. The explanation walks the offered chain only that far.
#[test]
fn a_chain_to_no_root_is_explained_as_openssl_verify_explains_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // root -> i1 -> ... -> i7 -> device; the device's nearest issuer is i7.
    let intermediates = ["i1", "i2", "i3", "i4", "i5", "i6", "i7"];
    openssl_chain(d, &intermediates);
    openssl_root(d, "stranger", &P256, "-sha256");
    let trusted = edgeward_device_identity::load_certificates(&d.join("stranger.pem")).unwrap();
    let device = edgeward_device_identity::load_certificates(&d.join("device.pem")).unwrap();

    for depth in [1usize, 3] {
        for offered in 1..=intermediates.len() {
            let nearest = &intermediates[intermediates.len() - offered..];
            let pem: String = nearest
                .iter()
                .map(|n| std::fs::read_to_string(d.join(format!("{n}.pem"))).unwrap())
                .collect();
            std::fs::write(d.join("offered.pem"), &pem).unwrap();
            let output = Command::new("openssl")
                .args(["verify", "-verify_depth", &depth.to_string()])
                .args([
                    "-CAfile",
                    "stranger.pem",
                    "-untrusted",
                    "offered.pem",
                    "device.pem",
                ])
                .current_dir(d)
                .output()
                .unwrap();
            assert!(!output.status.success(), "openssl accepted");
            // `CN = i7` then `error 20 at 1 depth lookup: ...`.
            let said = String::from_utf8_lossy(&output.stderr).into_owned();
            let mut lines = said.lines();
            let openssl_names = lines.next().unwrap_or_default().replace(" = ", "=");
            let openssl_error = lines
                .next()
                .and_then(|l| l.strip_prefix("error "))
                .and_then(|l| l.split(' ').next())
                .unwrap_or_default();

            let offered_der =
                edgeward_device_identity::load_certificates(&d.join("offered.pem")).unwrap();
            let err = Validator::new(
                &trusted,
                DevicePolicy::device().with_max_intermediates(depth),
            )
            .unwrap()
            .validate(&device[0], &offered_der, rustls_pki_types::UnixTime::now())
            .unwrap_err();
            let edgeward_device_identity::Error::Rejected { certificate, rule } = err else {
                panic!("{err}")
            };
            let case = format!(
                "depth {depth}, {offered} offered: ours {rule} for {}, openssl {said:?}",
                certificate.subject
            );
            assert_eq!(certificate.subject, openssl_names, "{case}");
            match openssl_error {
                "20" => assert!(matches!(rule, Rule::UnknownIssuer), "{case}"),
                "22" => assert!(
                    matches!(rule, Rule::ChainTooDeep { max_intermediates } if max_intermediates == depth),
                    "{case}"
                ),
                _ => panic!("unexpected openssl answer: {case}"),
            }
            // What the two say follows from the count alone.
            assert_eq!(openssl_error == "22", offered > depth, "{case}");
        }
    }
}
