//! The AWS IoT X.509 credentials provider against a rustls mutual-TLS server started by the
//! test, and against `openssl s_server` configured to break the TLS policy.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use edgeward_device_identity::{
    CaSettings, CertificateAuthority, DeviceIdentity, DeviceSettings, IssuedCertificate, KeyType,
    ServerSettings,
};
use edgeward_sts_credentials::{Error, HttpLimits, IotCredentialsProvider};
use edgeward_tls_policy::TlsPolicy;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

struct Pki {
    ca: CertificateAuthority,
    server: IssuedCertificate,
    device: DeviceIdentity,
}

fn pki(server_key: KeyType) -> Pki {
    let now = time::OffsetDateTime::now_utc();
    let ca = CertificateAuthority::create_root(&CaSettings::new("Test IoT Root"), now).unwrap();
    let server = ca
        .issue_server(
            &ServerSettings::new(&["localhost"]).key_type(server_key),
            now,
        )
        .unwrap();
    let device = ca
        .issue_device(&DeviceSettings::new("thing-7"), now)
        .unwrap();
    let device = DeviceIdentity::from_pem(&device.certificate_pem(), &device.key.to_pem()).unwrap();
    Pki { ca, server, device }
}

fn roots(pki: &Pki) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.certificate().clone()).unwrap();
    roots
}

fn server_config(
    pki: &Pki,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots(pki)), provider.clone())
            .build()
            .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        pki.server.key.pkcs8_der().to_vec(),
    ));
    Arc::new(
        ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![pki.server.certificate.clone()], key)
            .unwrap(),
    )
}

#[derive(Default, Debug)]
struct Seen {
    paths: Vec<String>,
    things: Vec<Option<String>>,
    client_cert_presented: Vec<bool>,
}

/// A mutual-TLS credentials server: `/role-aliases/ALIAS/credentials` answers 200 for alias
/// `device-role`, 403 for `forbidden`, 404 otherwise; `huge` sends an oversized body.
async fn serve(config: Arc<ServerConfig>, expiry: SystemTime) -> (SocketAddr, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let seen2 = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let seen = Arc::clone(&seen2);
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let presented = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .is_some_and(|c| !c.is_empty());
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let seen = Arc::clone(&seen);
                    async move {
                        let path = req.uri().path().to_owned();
                        {
                            let mut s = seen.lock().unwrap();
                            s.paths.push(path.clone());
                            s.things.push(
                                req.headers()
                                    .get("x-amzn-iot-thingname")
                                    .map(|v| v.to_str().unwrap().to_owned()),
                            );
                            s.client_cert_presented.push(presented);
                        }
                        let expiration = time::OffsetDateTime::from_unix_timestamp(
                            expiry.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64,
                        )
                        .unwrap()
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap();
                        let (status, body) = match path.as_str() {
                            "/role-aliases/device-role/credentials" => (
                                200,
                                format!(
                                    r#"{{"credentials":{{"accessKeyId":"ASIAIOTEXAMPLE000001","secretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","sessionToken":"IoTSessionToken","expiration":"{expiration}"}}}}"#
                                ),
                            ),
                            "/role-aliases/forbidden/credentials" => {
                                (403, r#"{"message":"Access Denied"}"#.to_owned())
                            }
                            "/role-aliases/huge/credentials" => (200, "x".repeat(200_000)),
                            _ => (404, r#"{"message":"Role alias does not exist"}"#.to_owned()),
                        };
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from(body)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, seen)
}

fn expiry() -> SystemTime {
    UNIX_EPOCH
        + Duration::from_secs(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 3600,
        )
}

#[tokio::test]
async fn fetches_credentials_over_mutual_tls_with_the_policy() {
    let pki = pki(KeyType::EcdsaP256);
    let expiry = expiry();
    let (addr, seen) = serve(server_config(&pki, rustls::ALL_VERSIONS), expiry).await;
    let endpoint = format!("localhost:{}", addr.port());
    let policy = TlsPolicy::named("intermediate").unwrap();
    let provider = IotCredentialsProvider::with_policy(
        &endpoint,
        "device-role",
        &policy,
        roots(&pki),
        &pki.device,
    )
    .unwrap()
    .thing_name("thing-7");
    let creds = provider.fetch().await.unwrap();
    assert_eq!(creds.access_key_id(), "ASIAIOTEXAMPLE000001");
    assert_eq!(
        creds.secret_access_key(),
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    );
    assert_eq!(creds.session_token(), Some("IoTSessionToken"));
    assert_eq!(creds.expiry(), Some(expiry));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.paths, ["/role-aliases/device-role/credentials"]);
    assert_eq!(seen.things, [Some("thing-7".to_owned())]);
    assert_eq!(seen.client_cert_presented, [true]);
}

#[tokio::test]
async fn status_codes_and_oversized_bodies_are_typed_errors() {
    let pki = pki(KeyType::EcdsaP256);
    let (addr, _) = serve(server_config(&pki, rustls::ALL_VERSIONS), expiry()).await;
    let endpoint = format!("https://localhost:{}/", addr.port());
    let policy = TlsPolicy::named("intermediate").unwrap();
    let make = |alias: &str| {
        IotCredentialsProvider::with_policy(&endpoint, alias, &policy, roots(&pki), &pki.device)
            .unwrap()
            .limits(HttpLimits::default().with_max_response_bytes(16 * 1024))
    };
    assert!(matches!(
        make("forbidden").fetch().await,
        Err(Error::Unauthorized { status: 403, .. })
    ));
    assert!(matches!(
        make("nope").fetch().await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        make("huge").fetch().await,
        Err(Error::ResponseTooLarge { limit: 16384, .. })
    ));
    // The alias is one path segment, percent-encoded.
    assert_eq!(
        make("a/b c").uri().path(),
        "/role-aliases/a%2Fb%20c/credentials"
    );
}

#[tokio::test]
async fn refuses_a_server_outside_the_policy_versions() {
    let pki = pki(KeyType::EcdsaP256);
    let (addr, seen) = serve(server_config(&pki, &[&rustls::version::TLS12]), expiry()).await;
    let endpoint = format!("localhost:{}", addr.port());
    // "modern" is TLS 1.3 only; the server speaks only TLS 1.2.
    let policy = TlsPolicy::named("modern").unwrap();
    let provider = IotCredentialsProvider::with_policy(
        &endpoint,
        "device-role",
        &policy,
        roots(&pki),
        &pki.device,
    )
    .unwrap();
    let error = provider.fetch().await.unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert!(seen.lock().unwrap().paths.is_empty(), "a request was sent");
}

#[tokio::test]
async fn refuses_an_untrusted_server() {
    let pki_a = pki(KeyType::EcdsaP256);
    let pki_b = pki(KeyType::EcdsaP256);
    let (addr, _) = serve(server_config(&pki_a, rustls::ALL_VERSIONS), expiry()).await;
    let policy = TlsPolicy::named("intermediate").unwrap();
    let provider = IotCredentialsProvider::with_policy(
        &format!("localhost:{}", addr.port()),
        "device-role",
        &policy,
        roots(&pki_b),
        &pki_b.device,
    )
    .unwrap();
    assert!(matches!(provider.fetch().await, Err(Error::Tls { .. })));
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `openssl s_server -www` with TLS 1.2 and `ciphers`, and fetches from it.
async fn fetch_from_openssl(ciphers: &str) -> Result<aws_credential_types::Credentials, Error> {
    let pki = pki(KeyType::Rsa2048);
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("server.pem");
    let key = dir.path().join("server.key");
    std::fs::write(&cert, pki.server.certificate_pem()).unwrap();
    std::fs::write(&key, pki.server.key.to_pem().as_bytes()).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &port.to_string(),
            "-www",
            "-tls1_2",
            "-cipher",
            ciphers,
        ])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl on the PATH");
    let _guard = Killed(child);
    let mut up = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "openssl s_server did not start");
    let policy = TlsPolicy::named("intermediate").unwrap();
    IotCredentialsProvider::with_policy(
        &format!("localhost:{port}"),
        "device-role",
        &policy,
        roots(&pki),
        &pki.device,
    )
    .unwrap()
    .fetch()
    .await
}

#[tokio::test]
async fn refuses_an_openssl_server_offering_only_non_ecdhe_suites() {
    // Static RSA key exchange: no forward secrecy, outside every edgeward policy.
    let error = fetch_from_openssl("AES128-GCM-SHA256:AES256-GCM-SHA384")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    // Control: the same server with an ECDHE suite completes the handshake (and then answers
    // its HTML status page, which is not a credentials document).
    let error = fetch_from_openssl("ECDHE-RSA-AES128-GCM-SHA256")
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::MalformedResponse { .. }),
        "{error:?}"
    );
}
