//! Parsers for the two JSON credentials documents: the container-credentials endpoint's
//! (`{"AccessKeyId","SecretAccessKey","Token","Expiration"}`) and the AWS IoT credentials
//! provider's (`{"credentials":{"accessKeyId","secretAccessKey","sessionToken","expiration"}}`).
//! Both are fuzzed (`fuzz/fuzz_targets/credentials_json.rs`).

use aws_credential_types::Credentials;
use serde::Deserialize;
use zeroize::Zeroize;

use crate::time::parse_rfc3339;
use crate::Error;

/// Longest accepted access key ID (AWS documents up to 128).
const MAX_ACCESS_KEY_ID: usize = 128;
/// Longest accepted secret access key.
const MAX_SECRET: usize = 128;
/// Longest accepted session token (AWS tokens are a few KiB at most).
const MAX_SESSION_TOKEN: usize = 16 * 1024;

#[derive(Deserialize)]
struct ContainerDocument {
    #[serde(rename = "AccessKeyId")]
    access_key_id: Option<String>,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: Option<String>,
    #[serde(rename = "Token")]
    token: Option<String>,
    #[serde(rename = "Expiration")]
    expiration: Option<String>,
    #[serde(rename = "AccountId")]
    account_id: Option<String>,
}

#[derive(Deserialize)]
struct IotDocument {
    credentials: Option<IotCredentials>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IotCredentials {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    expiration: Option<String>,
}

fn malformed(reason: impl Into<String>) -> Error {
    Error::MalformedResponse {
        reason: reason.into(),
    }
}

fn check_field(name: &str, value: &str, max: usize) -> Result<(), Error> {
    if value.is_empty() {
        return Err(malformed(format!("{name} is empty")));
    }
    if value.len() > max {
        return Err(malformed(format!("{name} is longer than {max} bytes")));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed(format!(
            "{name} has characters outside printable ASCII"
        )));
    }
    Ok(())
}

struct Fields {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    expiration: Option<String>,
    account_id: Option<String>,
}

impl Drop for Fields {
    fn drop(&mut self) {
        if let Some(secret) = self.secret_access_key.as_mut() {
            secret.zeroize();
        }
        if let Some(token) = self.session_token.as_mut() {
            token.zeroize();
        }
    }
}

fn build(mut f: Fields, provider_name: &'static str) -> Result<Credentials, Error> {
    let access_key_id = f
        .access_key_id
        .take()
        .ok_or_else(|| malformed("access key ID missing"))?;
    check_field("access key ID", &access_key_id, MAX_ACCESS_KEY_ID)?;
    let secret = f
        .secret_access_key
        .take()
        .ok_or_else(|| malformed("secret access key missing"))?;
    let secret = zeroize::Zeroizing::new(secret);
    check_field("secret access key", &secret, MAX_SECRET)?;
    let token = f
        .session_token
        .take()
        .ok_or_else(|| malformed("session token missing"))?;
    let token = zeroize::Zeroizing::new(token);
    check_field("session token", &token, MAX_SESSION_TOKEN)?;
    let expiration = f
        .expiration
        .as_deref()
        .ok_or_else(|| malformed("expiration missing"))?;
    let expiry = parse_rfc3339(expiration)
        .ok_or_else(|| malformed("expiration is not an RFC 3339 timestamp"))?;
    let mut builder = Credentials::builder()
        .access_key_id(access_key_id)
        .secret_access_key(secret.as_str())
        .session_token(token.as_str())
        .expiry(expiry)
        .provider_name(provider_name);
    if let Some(account) = f.account_id.take() {
        if !account.is_empty() && account.len() <= 32 && account.bytes().all(|b| b.is_ascii_digit())
        {
            builder = builder.account_id(account);
        }
    }
    Ok(builder.build())
}

/// Parses a container-credentials endpoint response
/// (`{"AccessKeyId","SecretAccessKey","Token","Expiration"[,"AccountId"]}`).
///
/// Every field is required (these are temporary credentials); values must be printable ASCII
/// of bounded length; the expiration must be RFC 3339.
pub fn parse_container_credentials(body: &[u8]) -> Result<Credentials, Error> {
    let doc: ContainerDocument = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("not the expected JSON: {e}")))?;
    build(
        Fields {
            access_key_id: doc.access_key_id,
            secret_access_key: doc.secret_access_key,
            session_token: doc.token,
            expiration: doc.expiration,
            account_id: doc.account_id,
        },
        "edgeward-container",
    )
}

/// Parses an AWS IoT credentials-provider response
/// (`{"credentials":{"accessKeyId","secretAccessKey","sessionToken","expiration"}}`).
pub fn parse_iot_credentials(body: &[u8]) -> Result<Credentials, Error> {
    let doc: IotDocument = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("not the expected JSON: {e}")))?;
    let creds = doc
        .credentials
        .ok_or_else(|| malformed("no \"credentials\" object"))?;
    build(
        Fields {
            access_key_id: creds.access_key_id,
            secret_access_key: creds.secret_access_key,
            session_token: creds.session_token,
            expiration: creds.expiration,
            account_id: None,
        },
        "edgeward-iot",
    )
}
