//! `edgeward creds get`: obtain temporary credentials from a source and print them, including
//! in the `credential_process` format so edgeward can back the AWS CLI and SDKs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use clap::{Args, Subcommand, ValueEnum};
use edgeward_device_identity::{load_certificates, DeviceIdentity, LoadOptions};
use edgeward_sts_credentials::{
    rfc3339, AssumeRoleProvider, ChainProvider, ContainerProvider, Env, EnvironmentProvider,
    IotCredentialsProvider, ProfileProvider,
};
use edgeward_tls_policy::{client_config, TlsPolicy};
use rustls::RootCertStore;
use serde_json::json;

use super::{outln, Outcome};

/// Obtain temporary credentials.
#[derive(Args)]
#[command(after_help = "Examples:
  edgeward creds get                                   # chain: env, profile, container
  edgeward creds get --source env --format env
  edgeward creds get --source profile --profile dev
  edgeward creds get --source assume-role --role-arn arn:aws:iam::123456789012:role/device \\
      --endpoint-url http://127.0.0.1:5000 --region us-east-1 --duration-seconds 900
  edgeward creds get --source iot --endpoint-url c1abc.credentials.iot.us-east-1.amazonaws.com \\
      --role-alias device-role --thing-name thing-42 --cert dev.pem --key dev.key --ca root.pem
  edgeward creds get --source container --format credential-process

As the AWS CLI's or an SDK's credential_process (in ~/.aws/config):
  [profile edge]
  credential_process = edgeward creds get --source iot ... --format credential-process

Exit codes: 0 credentials printed, 1 the source failed to provide credentials,
2 usage or environment error (bad arguments, unreadable certificate or key).")]
pub(crate) struct CredsArgs {
    #[command(subcommand)]
    command: CredsCommand,
}

#[derive(Subcommand)]
enum CredsCommand {
    /// Fetch credentials once and print them (never cached on disk).
    Get(Box<GetArgs>),
}

#[derive(Clone, Copy, ValueEnum)]
enum Source {
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION.
    Env,
    /// The shared config/credentials files (AWS_PROFILE or --profile).
    Profile,
    /// STS AssumeRole, signed with credentials from the env-then-profile chain.
    AssumeRole,
    /// The AWS IoT credentials provider, over mutual TLS with a device certificate.
    Iot,
    /// A container-credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI / _RELATIVE_URI).
    Container,
    /// env, then profile, then container; every failure is reported.
    Chain,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// {"AccessKeyId","SecretAccessKey","SessionToken","Expiration"}.
    Json,
    /// `export AWS_…=…` lines for a shell.
    Env,
    /// The credential_process document ({"Version":1,…}).
    CredentialProcess,
}

#[derive(Args)]
struct GetArgs {
    /// Where the credentials come from.
    #[arg(long, value_enum, default_value = "chain")]
    source: Source,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Profile name (source profile; default AWS_PROFILE or "default").
    #[arg(long)]
    profile: Option<String>,
    /// Role to assume (source assume-role).
    #[arg(long)]
    role_arn: Option<String>,
    /// Session name for AssumeRole (default edgeward-<unix seconds>).
    #[arg(long)]
    role_session_name: Option<String>,
    /// DurationSeconds for AssumeRole.
    #[arg(long)]
    duration_seconds: Option<u64>,
    /// ExternalId for AssumeRole.
    #[arg(long)]
    external_id: Option<String>,
    /// Session policy (JSON) for AssumeRole.
    #[arg(long)]
    policy: Option<String>,
    /// STS endpoint (assume-role) or IoT credentials endpoint host/URL (iot).
    #[arg(long)]
    endpoint_url: Option<String>,
    /// Signing region for STS (default AWS_REGION, then us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// IoT role alias.
    #[arg(long)]
    role_alias: Option<String>,
    /// IoT thing name (sent as x-amzn-iot-thingname).
    #[arg(long)]
    thing_name: Option<String>,
    /// Device certificate (PEM or DER) for iot.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Device private key for iot (must not be readable by group or others).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Trust anchors (PEM) for HTTPS endpoints; default the system bundle (SSL_CERT_FILE or
    /// /etc/ssl/certs/ca-certificates.crt).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// TLS policy for HTTPS endpoints (see `edgeward policy list`).
    #[arg(long, default_value = "intermediate")]
    tls_policy: String,
}

pub(crate) fn run(args: CredsArgs) -> anyhow::Result<Outcome> {
    match args.command {
        CredsCommand::Get(args) => get(*args),
    }
}

fn roots(ca: Option<&Path>) -> anyhow::Result<RootCertStore> {
    let path = match ca {
        Some(p) => p.to_owned(),
        None => std::env::var_os("SSL_CERT_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt")),
    };
    let certs = load_certificates(&path)
        .with_context(|| format!("loading trust anchors from {}", path.display()))?;
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(certs);
    anyhow::ensure!(added > 0, "no usable trust anchor in {}", path.display());
    Ok(store)
}

fn tls_policy(args: &GetArgs) -> anyhow::Result<TlsPolicy> {
    TlsPolicy::named(&args.tls_policy).with_context(|| format!("TLS policy {:?}", args.tls_policy))
}

fn https_config(args: &GetArgs) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let config = client_config(&tls_policy(args)?, roots(args.ca.as_deref())?, None)?;
    Ok(Arc::new(config))
}

/// The profile provider, with the TLS configuration its `role_arn` profiles need to reach STS
/// over https. A profile of plain keys needs none, so a system bundle that is missing is no
/// error here (STS calls then fail naming the missing configuration); `--ca` and
/// `--tls-policy`, when wrong, are.
fn profile_provider(args: &GetArgs) -> anyhow::Result<ProfileProvider> {
    let mut provider = ProfileProvider::new();
    if let Some(name) = &args.profile {
        provider = provider.profile(name.clone());
    }
    let policy = tls_policy(args)?;
    match roots(args.ca.as_deref()) {
        Ok(roots) => {
            provider = provider.tls(Arc::new(client_config(&policy, roots, None)?));
        }
        Err(e) if args.ca.is_some() => return Err(e),
        Err(_) => {}
    }
    Ok(provider)
}

fn base_chain(args: &GetArgs) -> anyhow::Result<ChainProvider> {
    Ok(ChainProvider::new()
        .or_else("env", EnvironmentProvider::new())
        .or_else("profile", profile_provider(args)?))
}

fn build(args: &GetArgs) -> anyhow::Result<Box<dyn ProvideCredentials>> {
    let needs_https = |url: &str| url.starts_with("https://");
    Ok(match args.source {
        Source::Env => Box::new(EnvironmentProvider::new()),
        Source::Profile => Box::new(profile_provider(args)?),
        Source::Container => {
            let mut provider = ContainerProvider::from_env(&Env::process())?;
            if provider.uri().scheme_str() == Some("https") {
                provider = provider.with_tls(https_config(args)?);
            }
            Box::new(provider)
        }
        Source::Chain => {
            let mut chain = base_chain(args)?;
            match ContainerProvider::from_env(&Env::process()) {
                Ok(container) => chain = chain.or_else("container", container),
                Err(e) => chain = chain.or_else("container", FailingProvider(e.to_string())),
            }
            Box::new(chain)
        }
        Source::AssumeRole => {
            let role_arn = args
                .role_arn
                .clone()
                .context("--source assume-role needs --role-arn")?;
            let session = args.role_session_name.clone().unwrap_or_else(|| {
                format!(
                    "edgeward-{}",
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs())
                )
            });
            let mut provider = AssumeRoleProvider::new(role_arn, session, base_chain(args)?);
            let region = args
                .region
                .clone()
                .or_else(|| std::env::var("AWS_REGION").ok())
                .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
                .unwrap_or_else(|| "us-east-1".into());
            provider = provider.region(region);
            let endpoint = args
                .endpoint_url
                .clone()
                .or_else(|| std::env::var("AWS_ENDPOINT_URL_STS").ok())
                .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
            // Without an endpoint the SDK calls https://sts.REGION.amazonaws.com.
            if endpoint.as_deref().is_none_or(needs_https) {
                provider = provider.tls(https_config(args)?);
            }
            if let Some(url) = endpoint {
                provider = provider.endpoint_url(url);
            }
            if let Some(secs) = args.duration_seconds {
                provider = provider.duration(Duration::from_secs(secs));
            }
            if let Some(id) = &args.external_id {
                provider = provider.external_id(id.clone());
            }
            if let Some(policy) = &args.policy {
                provider = provider.policy(policy.clone());
            }
            Box::new(provider)
        }
        Source::Iot => {
            let endpoint = args
                .endpoint_url
                .as_deref()
                .context("--source iot needs --endpoint-url (the credentials endpoint host)")?;
            let alias = args
                .role_alias
                .as_deref()
                .context("--source iot needs --role-alias")?;
            let cert = args.cert.as_deref().context("--source iot needs --cert")?;
            let key = args.key.as_deref().context("--source iot needs --key")?;
            let identity = DeviceIdentity::load(cert, key, &LoadOptions::default())
                .context("loading the device identity")?;
            let policy = tls_policy(args)?;
            let mut provider = IotCredentialsProvider::with_policy(
                endpoint,
                alias,
                &policy,
                roots(args.ca.as_deref())?,
                &identity,
            )?;
            if let Some(thing) = &args.thing_name {
                provider = provider.thing_name(thing.clone());
            }
            Box::new(provider)
        }
    })
}

/// A chain member that reports why its source could not even be configured.
#[derive(Debug)]
struct FailingProvider(String);

impl ProvideCredentials for FailingProvider {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            aws_credential_types::provider::error::CredentialsError::not_loaded(self.0.clone()),
        ))
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let next = inner.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = inner.source();
    }
    text
}

fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn print(creds: &Credentials, format: Format) {
    let expiration = creds.expiry().map(rfc3339);
    match format {
        Format::Json => {
            let mut doc = json!({
                "AccessKeyId": creds.access_key_id(),
                "SecretAccessKey": creds.secret_access_key(),
            });
            if let Some(token) = creds.session_token() {
                doc["SessionToken"] = json!(token);
            }
            if let Some(exp) = &expiration {
                doc["Expiration"] = json!(exp);
            }
            outln!("{doc}");
        }
        Format::CredentialProcess => {
            let mut doc = json!({
                "Version": 1,
                "AccessKeyId": creds.access_key_id(),
                "SecretAccessKey": creds.secret_access_key(),
            });
            if let Some(token) = creds.session_token() {
                doc["SessionToken"] = json!(token);
            }
            if let Some(exp) = &expiration {
                doc["Expiration"] = json!(exp);
            }
            outln!("{doc}");
        }
        Format::Env => {
            outln!(
                "export AWS_ACCESS_KEY_ID={}",
                shell_quote(creds.access_key_id())
            );
            outln!(
                "export AWS_SECRET_ACCESS_KEY={}",
                shell_quote(creds.secret_access_key())
            );
            if let Some(token) = creds.session_token() {
                outln!("export AWS_SESSION_TOKEN={}", shell_quote(token));
            }
            if let Some(exp) = &expiration {
                outln!("export AWS_CREDENTIAL_EXPIRATION={}", shell_quote(exp));
            }
        }
    }
}

fn get(args: GetArgs) -> anyhow::Result<Outcome> {
    let format = if args.json { Format::Json } else { args.format };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let provider = build(&args)?;
    match runtime.block_on(provider.provide_credentials()) {
        Ok(creds) => {
            print(&creds, format);
            Ok(Outcome::Ok)
        }
        Err(error) => {
            eprintln!("error: no credentials: {}", error_chain(&error));
            Ok(Outcome::CheckFailed)
        }
    }
}
