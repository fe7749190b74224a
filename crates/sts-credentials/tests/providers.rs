//! Static, environment, profile, credential_process, chain and container providers.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use common::{t0, CredentialsServer, Mode};
use edgeward_sts_credentials::{
    classify, parse_process_output, parse_profile_file, AssumeRoleProvider, CachingProvider,
    ChainProvider, ContainerProvider, CredentialProcessProvider, Env, EnvironmentProvider, Error,
    ErrorClass, HttpLimits, ProfileProvider, StaticProvider,
};
use proptest::prelude::*;

fn chain_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[tokio::test]
async fn environment_with_session_and_expiration() {
    let env = Env::from_pairs([
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_SESSION_TOKEN", "token"),
        ("AWS_CREDENTIAL_EXPIRATION", "2027-01-15T10:00:00Z"),
    ]);
    let creds = EnvironmentProvider::with_env(env)
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(creds.access_key_id(), "AKIDEXAMPLE");
    assert_eq!(creds.session_token(), Some("token"));
    // date -d 2027-01-15T10:00:00Z +%s = 1800007200
    assert_eq!(
        creds.expiry(),
        Some(UNIX_EPOCH + Duration::from_secs(1_800_007_200))
    );

    let missing = EnvironmentProvider::with_env(Env::from_pairs([("AWS_ACCESS_KEY_ID", "A")]))
        .load()
        .unwrap_err();
    assert!(
        matches!(missing, Error::MissingSetting { ref setting } if setting == "AWS_SECRET_ACCESS_KEY")
    );
    let bad = EnvironmentProvider::with_env(Env::from_pairs([
        ("AWS_ACCESS_KEY_ID", "A"),
        ("AWS_SECRET_ACCESS_KEY", "B"),
        ("AWS_CREDENTIAL_EXPIRATION", "soon"),
    ]))
    .load()
    .unwrap_err();
    assert!(matches!(bad, Error::InvalidSetting { .. }));
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn profiles_static_keys_credentials_file_wins_and_process() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "config",
        "# comment\n[default]\nregion = us-west-2\n\n[profile dev]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = s1 ; trailing comment\n\n[profile proc]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\",\"SecretAccessKey\":\"sp\",\"SessionToken\":\"tp\",\"Expiration\":\"2030-01-01T00:00:00Z\"}'\n\n[profile failing]\ncredential_process = sh -c 'exit 3'\n\n[sso-session x]\naws_access_key_id = IGNORED\n",
    );
    let credentials = write(
        dir.path(),
        "credentials",
        "[dev]\naws_access_key_id = FROMCREDENTIALS\naws_secret_access_key = s2\n",
    );
    let env = Env::from_pairs([
        ("AWS_CONFIG_FILE", config.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.as_str()),
        ("AWS_PROFILE", "dev"),
    ]);
    let creds = ProfileProvider::with_env(env.clone())
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(creds.access_key_id(), "FROMCREDENTIALS");
    assert_eq!(creds.secret_access_key(), "s2");

    let creds = ProfileProvider::with_env(env.clone())
        .profile("proc")
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(creds.access_key_id(), "AKIDPROC");
    assert_eq!(creds.session_token(), Some("tp"));
    // date -d 2030-01-01T00:00:00Z +%s = 1893456000
    assert_eq!(
        creds.expiry(),
        Some(UNIX_EPOCH + Duration::from_secs(1_893_456_000))
    );

    let error = ProfileProvider::with_env(env.clone())
        .profile("failing")
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(
        chain_text(&error).contains("exited"),
        "{}",
        chain_text(&error)
    );

    let error = ProfileProvider::with_env(env.clone())
        .profile("nope")
        .resolve()
        .unwrap_err();
    assert!(matches!(error, Error::ProfileNotFound { .. }));
    // `default` has no credentials.
    let error = ProfileProvider::with_env(env)
        .profile("default")
        .resolve()
        .unwrap_err();
    assert!(matches!(error, Error::MissingSetting { .. }));
}

#[tokio::test]
async fn role_chains_that_loop_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "config",
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n",
    );
    let env = Env::from_pairs([
        ("AWS_CONFIG_FILE", config.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
    ]);
    let error = ProfileProvider::with_env(env)
        .profile("a")
        .resolve()
        .unwrap_err();
    assert!(
        matches!(&error, Error::ProfileChain { chain } if chain == &["a", "b", "a"]),
        "{error:?}"
    );
}

#[test]
fn profile_syntax_errors_name_the_line() {
    let error =
        parse_profile_file("[default]\nno equals sign\n", "cfg".as_ref(), true).unwrap_err();
    assert!(
        matches!(error, Error::ProfileSyntax { line: 2, .. }),
        "{error:?}"
    );
    let error = parse_profile_file("[default\n", "cfg".as_ref(), true).unwrap_err();
    assert!(matches!(error, Error::ProfileSyntax { line: 1, .. }));
}

#[test]
fn process_output_requires_version_1() {
    assert!(
        parse_process_output(br#"{"Version":2,"AccessKeyId":"A","SecretAccessKey":"B"}"#).is_err()
    );
    assert!(parse_process_output(br#"{"AccessKeyId":"A","SecretAccessKey":"B"}"#).is_err());
    let creds =
        parse_process_output(br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"B"}"#).unwrap();
    assert_eq!(creds.expiry(), None);
}

#[tokio::test]
async fn chain_reports_every_failure_then_falls_through() {
    let chain = ChainProvider::new()
        .or_else(
            "env",
            EnvironmentProvider::with_env(Env::from_pairs::<&str, &str>([])),
        )
        .or_else(
            "container",
            ContainerProvider::new("http://127.0.0.1:9/unreachable").unwrap(),
        );
    let error = chain.provide_credentials().await.unwrap_err();
    let text = chain_text(&error);
    assert!(
        text.contains("env: missing setting AWS_ACCESS_KEY_ID"),
        "{text}"
    );
    assert!(text.contains("container: "), "{text}");
    assert!(text.contains("127.0.0.1:9"), "{text}");

    let chain = chain.or_else(
        "static",
        StaticProvider::new(Credentials::from_keys("AKIDSTATIC", "secret", None)),
    );
    assert_eq!(
        chain.provide_credentials().await.unwrap().access_key_id(),
        "AKIDSTATIC"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_sends_the_authorization_token_from_env_or_file() {
    let server = CredentialsServer::start(t0()).await;
    server.require_token("Bearer secret-token");
    let env = Env::from_pairs([
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.uri()),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "Bearer secret-token".to_owned(),
        ),
    ]);
    let creds = ContainerProvider::from_env(&env)
        .unwrap()
        .fetch()
        .await
        .unwrap();
    assert_eq!(creds.access_key_id(), "ASIATEST000000000001");
    assert_eq!(creds.expiry(), Some(t0()));

    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "token", "Bearer secret-token\n");
    let env = Env::from_pairs([
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.uri()),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "Bearer wrong".to_owned(),
        ),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file),
    ]);
    assert!(ContainerProvider::from_env(&env)
        .unwrap()
        .fetch()
        .await
        .is_ok());

    let wrong = ContainerProvider::new(&server.uri())
        .unwrap()
        .with_authorization_token("Bearer wrong");
    assert!(matches!(
        wrong.fetch().await,
        Err(Error::Unauthorized { status: 403, .. })
    ));
    // The Debug output never shows the token.
    assert!(!format!("{wrong:?}").contains("wrong"));

    server.set_mode(Mode::Status(500));
    assert!(matches!(
        ContainerProvider::new(&server.uri())
            .unwrap()
            .with_authorization_token("Bearer secret-token")
            .fetch()
            .await,
        Err(Error::ServerError { status: 500, .. })
    ));
}

#[test]
fn container_plain_http_only_to_loopback() {
    for ok in [
        "http://127.0.0.1:8080/creds",
        "http://[::1]:8080/creds",
        "http://localhost/creds",
        // The container endpoints of ECS and of EKS Pod Identity (IPv4 and IPv6), which the AWS
        // SDKs also accept over plain HTTP.
        "http://169.254.170.2/v2/credentials/x",
        "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials",
        "https://creds.example.com/x",
    ] {
        assert!(ContainerProvider::new(ok).is_ok(), "{ok}");
    }
    for refused in [
        "http://10.0.0.1/creds",
        "http://169.254.170.3/creds",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00:ec2::24]/creds",
        "http://example.com/creds",
        "http://127.0.0.1.nip.io/x",
    ] {
        assert!(
            matches!(
                ContainerProvider::new(refused),
                Err(Error::PlainHttpNotLoopback { .. })
            ),
            "{refused}"
        );
    }
    assert!(ContainerProvider::new("ftp://127.0.0.1/x").is_err());
    let env = Env::from_pairs([(
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "/v2/credentials/abc",
    )]);
    assert_eq!(
        ContainerProvider::from_env(&env).unwrap().uri().to_string(),
        "http://169.254.170.2/v2/credentials/abc"
    );
}

proptest! {
    #[test]
    fn profile_parser_never_panics(text in "[\\[\\]a-z =#;\\n\\t-]{0,300}") {
        let _ = parse_profile_file(&text, "p".as_ref(), true);
        let _ = parse_profile_file(&text, "p".as_ref(), false);
    }

    #[test]
    fn profile_keys_round_trip(name in "[a-z][a-z0-9-]{0,15}", key in "[a-z_]{1,20}", value in "[A-Za-z0-9/+=]{1,40}") {
        let text = format!("[profile {name}]\n{key} = {value}\n");
        let profiles = parse_profile_file(&text, "p".as_ref(), true).unwrap();
        prop_assert_eq!(profiles[&name][&key].as_str(), value.as_str());
    }
}

/// Any environment variable may hold a secret: `Debug` of an `Env` (and of every provider that
/// holds one) names the variables and shows no value.
#[test]
fn debug_output_names_environment_variables_but_shows_no_value() {
    let env = Env::from_pairs([
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_SESSION_TOKEN", "session-token-value-31337"),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "container-token-value-4242",
        ),
    ]);
    let shown = [
        format!("{env:?}"),
        format!("{:?}", EnvironmentProvider::with_env(env.clone())),
        format!(
            "{:?}",
            ChainProvider::new().or_else("environment", EnvironmentProvider::with_env(env.clone()))
        ),
        format!(
            "{:?}",
            CachingProvider::new(EnvironmentProvider::with_env(env))
        ),
    ];
    for debug in shown {
        assert!(debug.contains("AWS_SECRET_ACCESS_KEY"), "{debug}");
        for value in ["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "31337", "4242"] {
            assert!(!debug.contains(value), "{value} in {debug}");
        }
    }
    assert_eq!(format!("{:?}", Env::process()), "Env(process)");
    // The container provider shows where it fetches from, and hides the token it sends.
    let container = ContainerProvider::from_env(&Env::from_pairs([
        (
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://127.0.0.1:9911/creds",
        ),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "container-token-value-4242",
        ),
    ]))
    .unwrap();
    let debug = format!("{container:?}");
    assert!(
        debug.contains("127.0.0.1:9911") && debug.contains("redacted"),
        "{debug}"
    );
    assert!(!debug.contains("4242"), "{debug}");
}

/// The provider's `Debug` says which role it assumes, and hides the external ID (a shared
/// secret between the role's owner and the caller, in AWS's confused-deputy advice).
#[test]
fn assume_role_debug_names_the_role_and_hides_the_external_id() {
    let provider = AssumeRoleProvider::new(
        "arn:aws:iam::123456789012:role/edge-device",
        "debugged",
        EnvironmentProvider::with_env(Env::from_pairs([
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
        ])),
    )
    .external_id("ext-secret-4711");
    let debug = format!("{provider:?}");
    assert!(
        debug.contains("role/edge-device") && debug.contains("debugged"),
        "{debug}"
    );
    assert!(!debug.contains("ext-secret-4711"), "{debug}");
    assert!(!debug.contains("wJalrXUtnFEMI"), "{debug}");
}

/// What a container endpoint answers is mapped by status, with its (printable) body as the
/// message; the request carries `Host`, which HTTP/1.1 requires (RFC 9112 §3.2); a response that
/// never comes ends at the configured response timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_statuses_host_and_response_timeout() {
    let server = CredentialsServer::start(t0() + Duration::from_secs(3600)).await;
    let limits = HttpLimits::default()
        .with_connect_timeout(Duration::from_secs(1))
        .with_response_timeout(Duration::from_millis(300));
    let provider = ContainerProvider::new(&server.uri())
        .unwrap()
        .with_limits(limits);
    provider.provide_credentials().await.unwrap();
    let port = server
        .uri()
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(server.last_host(), Some(format!("127.0.0.1:{port}")));

    let ours = |err: &dyn std::error::Error| -> String {
        let found = std::iter::successors(err.source(), |e| e.source())
            .find_map(|e| e.downcast_ref::<Error>())
            .unwrap_or_else(|| panic!("no edgeward error in {}", chain_text(err)));
        format!("{found:?}")
    };
    for (status, variant) in [
        (401, "Unauthorized"),
        (403, "Unauthorized"),
        (404, "NotFound"),
        (429, "Throttled"),
        (500, "ServerError"),
        (503, "ServerError"),
        (418, "UnexpectedStatus"),
    ] {
        server.set_mode(Mode::Status(status));
        let err = provider.provide_credentials().await.unwrap_err();
        let debug = ours(&err);
        assert!(debug.starts_with(variant), "{status}: {debug}");
        assert!(debug.contains("upstream says no"), "{status}: {debug}");
    }

    server.set_mode(Mode::Hang);
    let started = std::time::Instant::now();
    let err = provider.provide_credentials().await.unwrap_err();
    let debug = ours(&err);
    assert!(
        debug.starts_with("Timeout") && debug.contains("300ms"),
        "{debug}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited {:?}",
        started.elapsed()
    );
}

/// `classify` on errors that are not ours: by variant.
#[test]
fn foreign_credentials_errors_are_classed_by_variant() {
    use aws_credential_types::provider::error::CredentialsError;
    for (error, class) in [
        (
            CredentialsError::not_loaded("nothing here"),
            ErrorClass::Client,
        ),
        (
            CredentialsError::invalid_configuration("bad"),
            ErrorClass::Client,
        ),
        (
            CredentialsError::provider_timed_out(Duration::from_secs(1)),
            ErrorClass::Connection,
        ),
        (
            CredentialsError::provider_error("upstream broke"),
            ErrorClass::Server,
        ),
    ] {
        assert_eq!(classify(&error), class, "{error:?}");
    }
}

#[test]
fn a_chain_lists_its_providers_in_order() {
    let chain = ChainProvider::new()
        .or_else(
            "first",
            EnvironmentProvider::with_env(Env::from_pairs::<&str, &str>([])),
        )
        .or_else(
            "second",
            EnvironmentProvider::with_env(Env::from_pairs::<&str, &str>([])),
        );
    assert_eq!(chain.names().collect::<Vec<_>>(), ["first", "second"]);
}

/// A `source_profile` chain of eight profiles resolves; nine is refused (the limit is eight).
/// A configuration file that exists but cannot be read is an error, not a missing file.
#[test]
fn profile_chains_stop_at_eight_and_unreadable_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        String::from("[profile p0]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n");
    for n in 1..9 {
        text.push_str(&format!(
            "[profile p{n}]\nrole_arn = arn:aws:iam::123456789012:role/r{n}\nsource_profile = p{}\n",
            n - 1
        ));
    }
    let config = write(dir.path(), "config", &text);
    let env = Env::from_pairs([
        ("AWS_CONFIG_FILE", config.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
    ]);
    ProfileProvider::with_env(env.clone())
        .profile("p7")
        .resolve()
        .unwrap();
    let error = ProfileProvider::with_env(env)
        .profile("p8")
        .resolve()
        .unwrap_err();
    assert!(
        matches!(&error, Error::ProfileChain { chain } if chain.len() == 9),
        "{error:?}"
    );

    // A directory where the file should be: read fails with something other than NotFound.
    let env = Env::from_pairs([
        ("AWS_CONFIG_FILE", dir.path().to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
    ]);
    let error = ProfileProvider::with_env(env).resolve().unwrap_err();
    assert!(matches!(error, Error::ReadFile { .. }), "{error:?}");
}

/// `credential_process` output is read up to 64 KiB (a document padded to exactly that size is
/// taken) and refused one byte beyond; a process slower than `process_timeout` is stopped.
#[tokio::test]
async fn credential_process_output_and_time_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let document = r#"{"Version":1,"AccessKeyId":"AKIDPROC","SecretAccessKey":"sp"}"#;
    for (size, taken) in [(64 * 1024, true), (64 * 1024 + 1, false)] {
        let padded = format!("{document}{}", " ".repeat(size - document.len()));
        let file = write(dir.path(), &format!("out-{size}.json"), &padded);
        let config = write(
            dir.path(),
            "config",
            &format!("[default]\ncredential_process = cat {file}\n"),
        );
        let env = Env::from_pairs([
            ("AWS_CONFIG_FILE", config.as_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
        ]);
        let result = ProfileProvider::with_env(env).provide_credentials().await;
        match (result, taken) {
            (Ok(creds), true) => assert_eq!(creds.access_key_id(), "AKIDPROC"),
            (Err(error), false) => {
                let text = chain_text(&error);
                assert!(text.contains("output exceeds 65536 bytes"), "{text}");
            }
            (other, _) => panic!("{size} bytes: {other:?}"),
        }
    }

    // A slow process is stopped at `process_timeout`.
    let config = write(
        dir.path(),
        "config",
        "[default]\ncredential_process = sleep 5\n",
    );
    let env = Env::from_pairs([
        ("AWS_CONFIG_FILE", config.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
    ]);
    let provider = ProfileProvider::with_env(env).process_timeout(Duration::from_millis(300));
    assert!(format!("{provider:?}").contains("default"), "{provider:?}");
    let error = provider.provide_credentials().await.unwrap_err();
    let text = chain_text(&error);
    assert!(text.contains("did not finish within 300ms"), "{text}");
}

/// Whether `pid` is still running: a zombie (killed, not yet reaped by its new parent) is not.
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(") ")
                .next()
                .and_then(|rest| rest.chars().next());
            !matches!(state, Some('Z' | 'X'))
        }
        Err(_) => false,
    }
}

/// Waits (up to 10 s) for `pid` to stop running.
async fn stopped(pid: u32) -> bool {
    for _ in 0..200 {
        if !running(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A command that starts a long `sleep` in the background, writes its PID to `file`, then
/// waits for it (or floods its output first, when `flood`).
fn background_sleeper(file: &str, flood: bool) -> String {
    let then = if flood { "yes" } else { "wait" };
    format!("sleep 60 >/dev/null & echo $! > {file}; {then}")
}

async fn pid_in(file: &std::path::Path) -> u32 {
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(file) {
            if let Ok(pid) = text.trim().parse() {
                return pid;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} never held a PID", file.display());
}

/// `credential_process` runs through `sh -c`; whatever stops it (its timeout, output beyond the
/// limit, or a caller that gives up) stops everything the shell started too, not the shell only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_credential_process_takes_its_children_along() {
    let dir = tempfile::tempdir().unwrap();

    let file = dir.path().join("timeout.pid");
    let error = CredentialProcessProvider::new(background_sleeper(file.to_str().unwrap(), false))
        .timeout(Duration::from_millis(500))
        .run()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("did not finish within 500ms"),
        "{error}"
    );
    let pid = pid_in(&file).await;
    assert!(
        stopped(pid).await,
        "the background sleep {pid} survived the timeout"
    );

    // Endless output: refused at the limit, without waiting for the timeout.
    let file = dir.path().join("flood.pid");
    let error = CredentialProcessProvider::new(background_sleeper(file.to_str().unwrap(), true))
        .timeout(Duration::from_secs(30))
        .run()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("output exceeds 65536 bytes"),
        "{error}"
    );
    let pid = pid_in(&file).await;
    assert!(stopped(pid).await, "the background sleep {pid} survived");

    // The caller drops the call while the process runs.
    let file = dir.path().join("dropped.pid");
    let provider =
        CredentialProcessProvider::new(background_sleeper(file.to_str().unwrap(), false))
            .timeout(Duration::from_secs(30));
    let call = tokio::spawn(async move { provider.run().await });
    let pid = pid_in(&file).await;
    assert!(running(pid));
    call.abort();
    assert!(call.await.unwrap_err().is_cancelled());
    assert!(
        stopped(pid).await,
        "the background sleep {pid} survived the caller"
    );

    // A process that exits cleanly is reaped, and what it left behind is its own business
    // (as with the AWS CLI): the group is not signalled after its leader's PID is free.
    let file = dir.path().join("clean.pid");
    let document = r#"{"Version":1,"AccessKeyId":"AKIDPROC","SecretAccessKey":"sp"}"#;
    let creds = CredentialProcessProvider::new(format!(
        "sleep 60 >/dev/null & echo $! > {}; echo '{document}'",
        file.to_str().unwrap()
    ))
    .run()
    .await
    .unwrap();
    assert_eq!(creds.access_key_id(), "AKIDPROC");
    let pid = pid_in(&file).await;
    assert!(
        running(pid),
        "a clean exit leaves the background sleep alone"
    );
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
}
