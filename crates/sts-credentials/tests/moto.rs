//! AssumeRole against moto's real STS server, started by the test (`EDGEWARD_PYTHON -m
//! moto.server`) and stopped by pid. Needs the `interop` feature and `EDGEWARD_PYTHON`.
#![allow(clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use edgeward_sts_credentials::{
    AssumeRoleProvider, CachingProvider, Env, EnvironmentProvider, Error, ErrorClass,
    ProfileProvider,
};

struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Moto {
    start_moto_with(&[])
}

/// Starts moto with extra environment variables (its settings are read from the environment).
fn start_moto_with(env: &[(&str, &str)]) -> Moto {
    let python = std::env::var("EDGEWARD_PYTHON").unwrap_or_else(|_| {
        panic!("EDGEWARD_PYTHON is not set: point it at the interop venv's python (cargo xtask test sets it)")
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "EDGEWARD_PYTHON={python} does not exist"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start moto with {python}: {e}"));
    let moto = Moto { child, port };
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return moto;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto did not listen on {port} within 30 s");
}

fn base_env() -> Env {
    Env::from_pairs([
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
    ])
}

fn assert_close(actual: SystemTime, expected: SystemTime) {
    let diff = match actual.duration_since(expected) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    assert!(
        diff <= Duration::from_secs(120),
        "expiry {actual:?} is not near {expected:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_with_env_base_credentials_honours_duration_seconds() {
    let moto = start_moto();
    for secs in [900u64, 3600, 7200] {
        let provider = AssumeRoleProvider::new(
            "arn:aws:iam::123456789012:role/edge-device",
            "edgeward-test",
            EnvironmentProvider::with_env(base_env()),
        )
        .endpoint_url(format!("http://127.0.0.1:{}", moto.port))
        .region("us-east-1")
        .duration(Duration::from_secs(secs))
        .external_id("ext-123")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#);
        let before = SystemTime::now();
        let creds = provider.provide_credentials().await.unwrap();
        assert!(
            creds.access_key_id().starts_with("ASIA"),
            "{}",
            creds.access_key_id()
        );
        assert!(creds.session_token().is_some());
        assert_close(creds.expiry().unwrap(), before + Duration::from_secs(secs));
        assert_eq!(creds.account_id().map(|a| a.as_str()), Some("123456789012"));
    }

    // Through the cache: one call, then served from it.
    let cache = CachingProvider::new(
        AssumeRoleProvider::new(
            "arn:aws:iam::123456789012:role/edge-device",
            "cached",
            EnvironmentProvider::with_env(base_env()),
        )
        .endpoint_url(format!("http://127.0.0.1:{}", moto.port)),
    );
    let a = cache.provide_credentials().await.unwrap();
    let b = cache.provide_credentials().await.unwrap();
    assert_eq!(a.access_key_id(), b.access_key_id());
    assert_eq!(cache.status().upstream_calls, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_role_chain_assumes_through_moto() {
    let moto = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\n[profile first]\nrole_arn = arn:aws:iam::123456789012:role/first\nsource_profile = base\n\n[profile second]\nrole_arn = arn:aws:iam::210987654321:role/second\nsource_profile = first\nrole_session_name = chained\nduration_seconds = 1800\n",
    )
    .unwrap();
    let env = Env::from_pairs([
        ("AWS_CONFIG_FILE", config.to_str().unwrap().to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".to_owned()),
        (
            "AWS_ENDPOINT_URL_STS",
            format!("http://127.0.0.1:{}", moto.port),
        ),
        ("AWS_PROFILE", "second".to_owned()),
    ]);
    let before = SystemTime::now();
    let creds = ProfileProvider::with_env(env)
        .provide_credentials()
        .await
        .unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert_eq!(creds.account_id().map(|a| a.as_str()), Some("210987654321"));
    assert_close(creds.expiry().unwrap(), before + Duration::from_secs(1800));
}

/// A refused AssumeRole is the caller's fault (class `Client`: the cache waits its client backoff
/// before asking again); an STS that cannot be reached is a connection failure. moto checks
/// signatures and keys once `INITIAL_NO_AUTH_ACTION_COUNT` is 0, and refuses an unknown access
/// key with 403 `InvalidClientTokenId`, as STS does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_failures_are_classed_by_whose_fault_they_are() {
    let moto = start_moto_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (port, class, says) in [
        (moto.port, ErrorClass::Client, "InvalidClientTokenId"),
        (closed, ErrorClass::Connection, "STS AssumeRole failed"),
    ] {
        let provider = AssumeRoleProvider::new(
            "arn:aws:iam::123456789012:role/edge-device",
            "refused",
            EnvironmentProvider::with_env(base_env()),
        )
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .max_attempts(1);
        let err = provider.assume_role().await.unwrap_err();
        assert!(
            matches!(&err, Error::Sts { operation: "AssumeRole", class: c, .. } if *c == class),
            "{err:?}"
        );
        assert!(err.to_string().contains(says), "{err}");
    }
}
