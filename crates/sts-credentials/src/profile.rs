//! Shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`): static keys,
//! `role_arn` + `source_profile` chains (through [`AssumeRoleProvider`]) and
//! `credential_process`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::provider::{self, future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use rustls::ClientConfig;
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use crate::assume_role::AssumeRoleProvider;
use crate::env::Env;
use crate::static_env::StaticProvider;
use crate::time::parse_rfc3339;
use crate::Error;

/// The deepest `source_profile` chain followed.
const MAX_CHAIN: usize = 8;
/// Largest accepted `credential_process` output.
const MAX_PROCESS_OUTPUT: u64 = 64 * 1024;

/// One profile's keys, merged from both files (the credentials file wins).
pub type Profile = HashMap<String, String>;

/// Parses an AWS shared config or credentials file into profiles.
///
/// In the config file, sections are `[default]` and `[profile NAME]`; in the credentials file
/// `[NAME]`. Full-line comments start with `#` or `;`; in values, ` #` and ` ;` start a
/// comment. Indented lines continue a nested property and are ignored here (no key this crate
/// reads is nested). Keys are case-sensitive, names trimmed.
pub fn parse_profile_file(
    text: &str,
    path: &Path,
    is_config: bool,
) -> Result<HashMap<String, Profile>, Error> {
    let mut profiles: HashMap<String, Profile> = HashMap::new();
    let mut current: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let syntax = |reason: &str| Error::ProfileSyntax {
            path: path.to_owned(),
            line: line_no,
            reason: reason.to_owned(),
        };
        if raw.trim().is_empty() || raw.trim_start().starts_with(['#', ';']) {
            continue;
        }
        if raw.starts_with([' ', '\t']) && current.is_some() {
            continue;
        }
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix('[') {
            let end = rest
                .find(']')
                .ok_or_else(|| syntax("section header without ']'"))?;
            let tail = rest[end + 1..].trim();
            if !(tail.is_empty() || tail.starts_with(['#', ';'])) {
                return Err(syntax("text after section header"));
            }
            let header = rest[..end].trim();
            let name = if is_config {
                if header == "default" {
                    Some("default".to_owned())
                } else {
                    header
                        .strip_prefix("profile")
                        .filter(|n| n.starts_with([' ', '\t']))
                        .map(|n| n.trim().to_owned())
                }
            } else {
                Some(header.to_owned())
            };
            // Other config sections (sso-session, services) are not ours: skip their keys.
            current = name.filter(|n| !n.is_empty());
            if let Some(name) = &current {
                profiles.entry(name.clone()).or_default();
            }
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| syntax("expected key = value"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(syntax("empty key"));
        }
        let mut value = value.trim();
        for marker in [" #", " ;", "\t#", "\t;"] {
            if let Some(at) = value.find(marker) {
                value = value[..at].trim_end();
            }
        }
        if let Some(name) = &current {
            if let Some(profile) = profiles.get_mut(name) {
                profile.insert(key.to_owned(), value.to_owned());
            }
        }
    }
    Ok(profiles)
}

/// Resolves credentials from a named profile of the shared files.
///
/// Files: `AWS_CONFIG_FILE` (default `~/.aws/config`) and `AWS_SHARED_CREDENTIALS_FILE`
/// (default `~/.aws/credentials`); profile: `AWS_PROFILE` or `default`. The files are read on
/// every call (wrap in [`crate::CachingProvider`]).
pub struct ProfileProvider {
    env: Env,
    profile: Option<String>,
    tls: Option<Arc<ClientConfig>>,
    process_timeout: Duration,
}

impl fmt::Debug for ProfileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileProvider")
            .field("profile", &self.profile_name())
            .finish()
    }
}

impl Default for ProfileProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl ProfileProvider {
    /// Reads the process environment for file locations and the profile name.
    pub fn new() -> Self {
        Self::with_env(Env::process())
    }

    /// Reads the given environment.
    pub fn with_env(env: Env) -> Self {
        Self {
            env,
            profile: None,
            tls: None,
            process_timeout: Duration::from_secs(30),
        }
    }

    /// Uses this profile instead of `AWS_PROFILE`.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// TLS configuration for `https` STS endpoints of `role_arn` profiles.
    pub fn tls(mut self, config: Arc<ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Upper bound on a `credential_process` run. Default 30 s.
    pub fn process_timeout(mut self, timeout: Duration) -> Self {
        self.process_timeout = timeout;
        self
    }

    fn profile_name(&self) -> String {
        self.profile
            .clone()
            .or_else(|| self.env.get("AWS_PROFILE"))
            .unwrap_or_else(|| "default".into())
    }

    fn file(&self, variable: &str, default: &str) -> Option<PathBuf> {
        self.env.get(variable).map(PathBuf::from).or_else(|| {
            self.env
                .get("HOME")
                .map(|home| Path::new(&home).join(".aws").join(default))
        })
    }

    /// Loads and merges both files.
    pub fn load_profiles(&self) -> Result<HashMap<String, Profile>, Error> {
        let mut merged: HashMap<String, Profile> = HashMap::new();
        for (variable, default, is_config) in [
            ("AWS_CONFIG_FILE", "config", true),
            ("AWS_SHARED_CREDENTIALS_FILE", "credentials", false),
        ] {
            let Some(path) = self.file(variable, default) else {
                continue;
            };
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(Error::ReadFile { path, source }),
            };
            for (name, keys) in parse_profile_file(&text, &path, is_config)? {
                merged.entry(name).or_default().extend(keys);
            }
        }
        Ok(merged)
    }

    /// Builds the provider the profile describes (static keys, a process, or a role chain).
    pub fn resolve(&self) -> Result<SharedCredentialsProvider, Error> {
        let profiles = self.load_profiles()?;
        self.resolve_in(&profiles, &self.profile_name(), &mut Vec::new())
    }

    fn resolve_in(
        &self,
        profiles: &HashMap<String, Profile>,
        name: &str,
        chain: &mut Vec<String>,
    ) -> Result<SharedCredentialsProvider, Error> {
        let profile = profiles.get(name).ok_or_else(|| Error::ProfileNotFound {
            profile: name.to_owned(),
        })?;
        let revisit = chain.iter().any(|n| n == name);
        chain.push(name.to_owned());
        if chain.len() > MAX_CHAIN {
            return Err(Error::ProfileChain {
                chain: chain.clone(),
            });
        }
        let static_keys = || -> Option<Credentials> {
            let akid = profile.get("aws_access_key_id")?;
            let secret = profile.get("aws_secret_access_key")?;
            let mut builder = Credentials::builder()
                .access_key_id(akid)
                .secret_access_key(secret)
                .provider_name("edgeward-profile");
            if let Some(token) = profile.get("aws_session_token") {
                builder = builder.session_token(token);
            }
            Some(builder.build())
        };
        if let Some(role_arn) = profile.get("role_arn").filter(|_| !revisit) {
            let source_name =
                profile
                    .get("source_profile")
                    .ok_or_else(|| Error::MissingSetting {
                        setting: format!("source_profile of profile {name:?}"),
                    })?;
            let source = if source_name == name {
                // A profile that is its own source uses its own static keys.
                let creds = static_keys().ok_or_else(|| Error::MissingSetting {
                    setting: format!("aws_access_key_id/aws_secret_access_key of profile {name:?}"),
                })?;
                SharedCredentialsProvider::new(StaticProvider::new(creds))
            } else {
                if chain.iter().any(|n| n == source_name) {
                    chain.push(source_name.clone());
                    return Err(Error::ProfileChain {
                        chain: chain.clone(),
                    });
                }
                self.resolve_in(profiles, source_name, chain)?
            };
            let session = profile
                .get("role_session_name")
                .cloned()
                .unwrap_or_else(|| {
                    format!(
                        "edgeward-{}",
                        SystemTime::now()
                            .duration_since(UNIX_EPOCH)
                            .map_or(0, |d| d.as_millis())
                    )
                });
            let mut provider = AssumeRoleProvider::new(role_arn.clone(), session, source);
            if let Some(region) = profile
                .get("region")
                .cloned()
                .or_else(|| self.env.get("AWS_REGION"))
                .or_else(|| self.env.get("AWS_DEFAULT_REGION"))
            {
                provider = provider.region(region);
            }
            if let Some(url) = self
                .env
                .get("AWS_ENDPOINT_URL_STS")
                .or_else(|| self.env.get("AWS_ENDPOINT_URL"))
                .or_else(|| profile.get("endpoint_url").cloned())
            {
                provider = provider.endpoint_url(url);
            }
            if let Some(id) = profile.get("external_id") {
                provider = provider.external_id(id.clone());
            }
            if let Some(secs) = profile.get("duration_seconds") {
                let secs: u64 = secs.parse().map_err(|_| Error::InvalidSetting {
                    setting: format!("duration_seconds of profile {name:?}"),
                    reason: format!("{secs:?} is not a number of seconds"),
                })?;
                provider = provider.duration(Duration::from_secs(secs));
            }
            if let Some(tls) = &self.tls {
                provider = provider.tls(Arc::clone(tls));
            }
            return Ok(SharedCredentialsProvider::new(provider));
        }
        if let Some(command) = profile.get("credential_process") {
            return Ok(SharedCredentialsProvider::new(
                CredentialProcessProvider::new(command.clone()).timeout(self.process_timeout),
            ));
        }
        static_keys()
            .map(|c| SharedCredentialsProvider::new(StaticProvider::new(c)))
            .ok_or_else(|| Error::MissingSetting {
                setting: format!("credentials in profile {name:?}"),
            })
    }
}

impl ProvideCredentials for ProfileProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let provider = self
                .resolve()
                .map_err(provider::error::CredentialsError::from)?;
            provider.provide_credentials().await
        })
    }
}

/// Runs a `credential_process` command (through `sh -c`, as the AWS CLI and SDKs do on Unix)
/// and parses its JSON output (`Version` 1).
#[derive(Debug, Clone)]
pub struct CredentialProcessProvider {
    command: String,
    timeout: Duration,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessOutput {
    version: Option<i64>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    expiration: Option<String>,
}

impl CredentialProcessProvider {
    /// Runs `command` on every call.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            timeout: Duration::from_secs(30),
        }
    }

    /// Upper bound on one run; the process is killed after it. Default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the process once.
    pub async fn run(&self) -> Result<Credentials, Error> {
        let fail = |reason: String| Error::CredentialProcess {
            command: self.command.clone(),
            reason,
        };
        let mut command = tokio::process::Command::new("sh");
        command
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        // A group of its own, so that a timeout stops what the shell started, not only the shell.
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command
            .spawn()
            .map_err(|e| fail(format!("cannot start: {e}")))?;
        // Declared after `child`, so dropped before it: the group is killed while the shell is
        // still unreaped.
        let mut group = ProcessGroup::of(&child);
        let mut stdout = child
            .stdout
            .take()
            .ok_or_else(|| fail("no stdout".into()))?;
        let run = async {
            let mut output = zeroize::Zeroizing::new(Vec::new());
            (&mut stdout)
                .take(MAX_PROCESS_OUTPUT + 1)
                .read_to_end(&mut output)
                .await
                .map_err(|e| fail(format!("reading output: {e}")))?;
            if output.len() as u64 > MAX_PROCESS_OUTPUT {
                // Not waited for: it may be blocked writing more. `group` stops it.
                return Err(fail(format!("output exceeds {MAX_PROCESS_OUTPUT} bytes")));
            }
            let status = child
                .wait()
                .await
                .map_err(|e| fail(format!("waiting: {e}")))?;
            group.reaped();
            Ok::<_, Error>((status, output))
        };
        let (status, output) = tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| fail(format!("did not finish within {:?}", self.timeout)))??;
        if !status.success() {
            return Err(fail(format!("exited with {status}")));
        }
        parse_process_output(&output).map_err(|e| fail(e.to_string()))
    }
}

/// The process group of a running `credential_process`, killed (SIGKILL) when this is dropped
/// before the shell was reaped: on a timeout, an error, too much output, or a caller that gave
/// up. Once the shell is reaped its PID, which is the group's ID, may be reused, so the group
/// is then left alone; what the process left running after a clean exit is its own business,
/// as with the AWS CLI.
struct ProcessGroup {
    #[cfg(unix)]
    id: Option<rustix::process::Pid>,
}

impl ProcessGroup {
    fn of(child: &tokio::process::Child) -> Self {
        #[cfg(unix)]
        return Self {
            id: child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .and_then(rustix::process::Pid::from_raw),
        };
        #[cfg(not(unix))]
        {
            let _ = child;
            Self {}
        }
    }

    fn reaped(&mut self) {
        #[cfg(unix)]
        {
            self.id = None;
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(id) = self.id {
            // ESRCH (every member already gone) is the only expected failure.
            let _ = rustix::process::kill_process_group(id, rustix::process::Signal::KILL);
        }
    }
}

/// Parses `credential_process` output: `{"Version":1,"AccessKeyId","SecretAccessKey"
/// [,"SessionToken"][,"Expiration"]}`.
pub fn parse_process_output(bytes: &[u8]) -> Result<Credentials, Error> {
    let out: ProcessOutput =
        serde_json::from_slice(bytes).map_err(|e| Error::MalformedResponse {
            reason: format!("credential_process output is not the expected JSON: {e}"),
        })?;
    if out.version != Some(1) {
        return Err(Error::MalformedResponse {
            reason: "credential_process output must have \"Version\": 1".into(),
        });
    }
    let missing = |field: &str| Error::MalformedResponse {
        reason: format!("credential_process output has no {field}"),
    };
    let mut builder = Credentials::builder()
        .access_key_id(out.access_key_id.ok_or_else(|| missing("AccessKeyId"))?)
        .secret_access_key(
            out.secret_access_key
                .map(zeroize::Zeroizing::new)
                .ok_or_else(|| missing("SecretAccessKey"))?
                .as_str(),
        )
        .provider_name("edgeward-credential-process");
    if let Some(token) = out.session_token.map(zeroize::Zeroizing::new) {
        builder = builder.session_token(token.as_str());
    }
    if let Some(expiration) = out.expiration {
        let expiry = parse_rfc3339(&expiration).ok_or_else(|| Error::MalformedResponse {
            reason: "credential_process Expiration is not RFC 3339".into(),
        })?;
        builder = builder.expiry(expiry);
    }
    Ok(builder.build())
}

impl ProvideCredentials for CredentialProcessProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.run()
                .await
                .map_err(provider::error::CredentialsError::from)
        })
    }
}
