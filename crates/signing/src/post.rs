//! S3's browser-based uploads (POST Object): an HTML form whose fields carry a POST policy,
//! the signature over it and the credential that signed it, instead of a signed request.
//!
//! The policy is a base64-encoded JSON document: an expiration and a list of conditions that
//! every field of the form must meet. The string to sign is the base64 text as the form sent
//! it, signed with the SigV4 key of the `x-amz-credential` scope; nothing else of the request
//! is signed. So the conditions are the whole of what the signer allowed, and the rules below
//! decide what else may pass:
//! - every field but `x-amz-signature`, `policy`, `file` and `x-ignore-*` must be named by a
//!   condition (an extra field would be an unsigned header of the upload);
//! - a condition on a field the form lacks fails, `starts-with ""` included;
//! - field names match without regard to case, values exactly;
//! - `${filename}` in a value is replaced by the file's name before any condition is checked.
//!
//! Sources: the S3 documentation's "Browser-Based Uploads Using POST (AWS Signature Version
//! 4)" pages (`sigv4-HTTPPOSTConstructPolicy`, `sigv4-HTTPPOSTForms`,
//! `sigv4-authentication-HTTPPOST`, `sigv4-post-example`), and what S3 has been seen to
//! answer where those pages are silent (each rule below says which).

use std::borrow::Cow;
use std::fmt;
use std::ops::RangeInclusive;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;

use crate::auth::{days_since_epoch, parse_amz_date, parse_credential, ALGORITHM};
use crate::checksum::{post_file_checksum, ClaimedChecksum};
use crate::crypto::{constant_time_eq, decode_hex32};
use crate::error::{clip, Error, MismatchDetails, SignatureLocation};
use crate::multipart::PostFormHead;
use crate::verify::{
    check_session, host_name, s3_addressing, uses_s3_rules, Accept, CredentialLookup, RequestView,
    S3Addressing, SessionToken, Verifier,
};

/// The most the fields before the file may hold, names and values together: S3's limit
/// ("The form data and boundaries (excluding the contents of the file) cannot exceed 20KB",
/// and its `MaxPostPreDataLengthExceeded` answer names 20,480 bytes).
pub const MAX_POST_FORM_BYTES: usize = 20 * 1024;

const LOCATION: SignatureLocation = SignatureLocation::PostForm;

/// The fields of a POST Object form, in the order sent, up to the `file` field (S3 ignores
/// what follows it), and the file's name (for `${filename}`).
///
/// Build it from a parsed `multipart/form-data` body ([`PostForm::parse_multipart`]), or field
/// by field from a form your HTTP stack parsed. `Debug` redacts the signature and the session
/// token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PostForm {
    fields: Vec<(String, String)>,
    file_name: Option<String>,
}

impl PostForm {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field, after the others.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.fields.push((name.into(), value.into()));
    }

    /// Reads the fields of a POST Object body (`multipart/form-data`, given its `Content-Type`)
    /// up to its `file` part, from the body's first bytes.
    ///
    /// `Ok(None)`: `body` ends before the file's content starts; read more and call again with
    /// the longer prefix. The fields before the file (boundaries and part headers included)
    /// may not exceed [`MAX_POST_FORM_BYTES`], so a prefix that long always decides:
    /// - [`Error::NotMultipartForm`] for another `Content-Type`;
    /// - [`Error::MalformedPostForm`] for a body that breaks RFC 7578 (a part without a
    ///   `form-data` disposition or a name, a field value that is not UTF-8, …);
    /// - [`Error::PostFormTooLarge`] when the file starts beyond the limit;
    /// - [`Error::PostFileCount`] when the body closes without a `file` part.
    ///
    /// A repeated field is kept twice ([`PostForm::get`] joins them); a part after the file
    /// is not read, as S3 ignores it.
    pub fn parse_multipart(content_type: &str, body: &[u8]) -> Result<Option<PostFormHead>, Error> {
        crate::multipart::parse_head(content_type, body)
    }

    /// Sets the file's name as the `file` part's `filename` parameter gave it. Without one
    /// (`None`), `${filename}` stays in the values as written, as S3 keeps it.
    pub fn set_file_name(&mut self, file_name: Option<String>) {
        self.file_name = file_name;
    }

    /// The fields, in order, as sent.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The file's name as sent, if the `file` part had one.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// The value of the field `name` (any case); the values of a repeated field joined with
    /// `,`, as S3 reads them ("the values must be separated by commas").
    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        joined(self.fields(), name)
    }

    /// How many bytes the fields' names and values hold.
    fn size(&self) -> usize {
        self.fields.iter().map(|(n, v)| n.len() + v.len()).sum()
    }

    /// The value of an authentication field, which must not be repeated (joined, two
    /// signatures or credentials would fail in a less telling way).
    fn single(&self, name: &'static str) -> Result<Option<&str>, Error> {
        let mut values = self
            .fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(Error::MalformedAuthorization {
                location: LOCATION,
                reason: format!("the field {name} appears twice"),
            });
        }
        Ok(first)
    }

    fn required(&self, name: &'static str) -> Result<&str, Error> {
        self.single(name)?.ok_or(Error::PostFieldMissing { name })
    }

    /// The fields with `${filename}` replaced by the file's base name: "If the browser or
    /// client provides a full or partial path to the file, only the text following the last
    /// slash (/) or backslash (\\) is used" (sigv4-HTTPPOSTForms).
    fn expanded(&self) -> Vec<(String, String)> {
        let Some(file_name) = &self.file_name else {
            return self.fields.clone();
        };
        let base = file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(file_name.as_str());
        self.fields
            .iter()
            .map(|(n, v)| (n.clone(), v.replace("${filename}", base)))
            .collect()
    }
}

impl fmt::Debug for PostForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<(&str, Cow<'_, str>)> = self
            .fields
            .iter()
            .map(|(name, value)| {
                let shown = if name.eq_ignore_ascii_case("x-amz-signature") {
                    Cow::Owned(format!("{:?}", crate::redact::signature(value)))
                } else if name.eq_ignore_ascii_case("x-amz-security-token") {
                    Cow::Owned(format!("** {} bytes **", value.len()))
                } else {
                    Cow::Borrowed(value.as_str())
                };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("PostForm")
            .field("fields", &fields)
            .field("file_name", &self.file_name)
            .finish()
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for PostForm {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut form = Self::new();
        for (name, value) in iter {
            form.push(name, value);
        }
        form
    }
}

/// The values of the fields named `name` (any case), joined with `,`.
fn joined<'a>(
    mut fields: impl Iterator<Item = (&'a str, &'a str)>,
    name: &str,
) -> Option<Cow<'a, str>> {
    let (_, first) = fields.find(|(n, _)| n.eq_ignore_ascii_case(name))?;
    let mut value = Cow::Borrowed(first);
    for (_, more) in fields.filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
        let joined = value.to_mut();
        joined.push(',');
        joined.push_str(more);
    }
    Some(value)
}

/// A condition of a POST policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyCondition {
    /// The field's value must be exactly this: `["eq", "$acl", "public-read"]`, or the simple
    /// form `{"acl": "public-read"}` (which S3 names as the former: its `field` is `$acl`).
    Eq {
        /// The field as the policy names it, `$` included.
        field: String,
        /// The value.
        value: String,
    },
    /// The field's value must start with this (any value for `""`):
    /// `["starts-with", "$key", "user/"]`. A `Content-Type` is read as a comma-separated list,
    /// each of whose values must start so.
    StartsWith {
        /// The field as the policy names it, `$` included.
        field: String,
        /// The prefix.
        prefix: String,
    },
    /// The file's size in bytes must be within these bounds, both inclusive:
    /// `["content-length-range", 1, 10485760]`.
    ContentLengthRange {
        /// The least size.
        min: u64,
        /// The greatest size.
        max: u64,
    },
}

impl PolicyCondition {
    /// The form field an `eq` or `starts-with` condition is about: its name after the `$`.
    /// `None` for a name without the `$`, which names no field, so the condition fails, as S3
    /// fails it.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            Self::Eq { field, .. } | Self::StartsWith { field, .. } => field.strip_prefix('$'),
            Self::ContentLengthRange { .. } => None,
        }
    }

    /// Whether `value` meets an `eq` or `starts-with` condition.
    fn holds_for(&self, value: &str) -> bool {
        match self {
            Self::Eq {
                value: expected, ..
            } => value == expected,
            Self::StartsWith { field, prefix } => {
                if field[1..].eq_ignore_ascii_case("content-type") {
                    value
                        .split(',')
                        .all(|v| v.trim().starts_with(prefix.as_str()))
                } else {
                    value.starts_with(prefix.as_str())
                }
            }
            Self::ContentLengthRange { .. } => true,
        }
    }
}

impl PolicyCondition {
    /// The condition as a JSON array with `", "` between its items, its strings written by
    /// `quote`.
    fn to_json_with(&self, quote: fn(&str) -> String) -> String {
        match self {
            Self::Eq { field, value } => format!("[\"eq\", {}, {}]", quote(field), quote(value)),
            Self::StartsWith { field, prefix } => {
                format!("[\"starts-with\", {}, {}]", quote(field), quote(prefix))
            }
            Self::ContentLengthRange { min, max } => {
                format!("[\"content-length-range\", {min}, {max}]")
            }
        }
    }
}

impl fmt::Display for PolicyCondition {
    /// As S3 quotes a failed condition: a JSON array with `", "` between its items.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json_with(|s| serde_json::Value::from(s).to_string()))
    }
}

/// A parsed POST policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    expiration: SystemTime,
    conditions: Vec<PolicyCondition>,
}

/// The document's shape: exactly these two members, each once (serde refuses a repeated or
/// unknown member, as S3 refuses `Statement` with "Unexpected").
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDocument {
    expiration: serde_json::Value,
    conditions: serde_json::Value,
}

fn invalid_policy(reason: impl Into<String>) -> Error {
    Error::MalformedPostPolicy {
        reason: reason.into(),
    }
}

impl PostPolicy {
    /// Parses the `policy` field as sent: base64 of the UTF-8 JSON document.
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_POST_FORM_BYTES {
            return Err(Error::PostFormTooLarge {
                limit: MAX_POST_FORM_BYTES,
            });
        }
        let json = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| invalid_policy("invalid Base64 encoding."))?;
        Self::from_json(&json)
    }

    /// Parses the JSON document.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let document: PolicyDocument = serde_json::from_slice(json).map_err(|e| {
            if e.is_data() {
                // serde's words: "unknown field `statement`, expected …", "missing field …".
                invalid_policy(e.to_string())
            } else {
                invalid_policy("Invalid JSON.")
            }
        })?;
        let expiration = match &document.expiration {
            serde_json::Value::String(text) => parse_expiration(text),
            _ => None,
        }
        .ok_or_else(|| {
            invalid_policy(format!(
                "Invalid 'expiration' value: '{}'",
                clip(&document.expiration.to_string())
            ))
        })?;
        let serde_json::Value::Array(items) = document.conditions else {
            return Err(invalid_policy(
                "Invalid 'conditions' value: must be a List.",
            ));
        };
        let conditions = items
            .iter()
            .map(parse_condition)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            expiration,
            conditions,
        })
    }

    /// When the policy stops allowing uploads.
    pub fn expiration(&self) -> SystemTime {
        self.expiration
    }

    /// The conditions, in the document's order.
    pub fn conditions(&self) -> &[PolicyCondition] {
        &self.conditions
    }
}

/// One condition: an object with one string member, or an operation array.
fn parse_condition(item: &serde_json::Value) -> Result<PolicyCondition, Error> {
    use serde_json::Value;
    match item {
        Value::Object(members) => {
            if members.len() != 1 {
                return Err(invalid_policy(
                    "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
                ));
            }
            let (name, value) = members
                .iter()
                .next()
                .ok_or_else(|| invalid_policy("empty condition"))?;
            let Value::String(value) = value else {
                return Err(invalid_policy(
                    "Invalid Simple-Condition: value must be a string.",
                ));
            };
            Ok(PolicyCondition::Eq {
                field: format!("${name}"),
                value: value.clone(),
            })
        }
        Value::Array(parts) => {
            let Some(Value::String(operation)) = parts.first() else {
                return Err(invalid_policy(
                    "Invalid Condition: missing operation identifier.",
                ));
            };
            let operation = operation.to_ascii_lowercase();
            let [_, first, second] = parts.as_slice() else {
                return Err(invalid_policy(format!(
                    "Invalid {}: wrong number of arguments.",
                    clip(&operation)
                )));
            };
            match operation.as_str() {
                "eq" | "starts-with" => {
                    let (Value::String(field), Value::String(operand)) = (first, second) else {
                        return Err(invalid_policy("Invalid JSON."));
                    };
                    let (field, operand) = (field.clone(), operand.clone());
                    Ok(if operation == "eq" {
                        PolicyCondition::Eq {
                            field,
                            value: operand,
                        }
                    } else {
                        PolicyCondition::StartsWith {
                            field,
                            prefix: operand,
                        }
                    })
                }
                "content-length-range" => {
                    let (min, max) = (length_bound(first)?, length_bound(second)?);
                    if min > max {
                        return Err(invalid_policy(format!(
                            "Invalid content-length-range: {min} is more than {max}."
                        )));
                    }
                    Ok(PolicyCondition::ContentLengthRange { min, max })
                }
                _ => Err(invalid_policy(format!(
                    "Invalid Condition: unknown operation '{}'.",
                    clip(&operation)
                ))),
            }
        }
        _ => Err(invalid_policy(
            "Invalid condition test: must be a List or Object.",
        )),
    }
}

/// A `content-length-range` bound: a whole number of bytes, written as a JSON integer or as a
/// string of digits (S3 took `["content-length-range", "5", "10"]`; it refuses `512.0` as
/// "Invalid JSON.").
fn length_bound(value: &serde_json::Value) -> Result<u64, Error> {
    let bound = match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    };
    bound.ok_or_else(|| {
        invalid_policy(format!(
            "Invalid content-length-range bound: {}",
            clip(&value.to_string())
        ))
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`: ISO 8601 in UTC, as the documentation writes it
/// (`2015-12-30T12:00:00.000Z`) and botocore and the JavaScript SDK send it (no fraction). S3
/// refuses an offset (`+02:00`) and a space for the `T`.
fn parse_expiration(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if b.len() < 20 || b.last() != Some(&b'Z') || separators.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            let value = digits(20..b.len() - 1)?;
            u32::try_from(value * 10i64.pow(9 - fraction.len() as u32)).ok()?
        }
        _ => return None,
    };
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let seconds = days_since_epoch(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let seconds = u64::try_from(seconds).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(seconds, nanos))
}

/// The bucket of a POST Object request: a `POST` without a query, an `Authorization` header
/// or presigned parameters, whose body is `multipart/form-data`, to `/{bucket}` (path-style)
/// or to `/` at a virtual-hosted bucket's host. Which of the two a request is depends on its
/// host, which only `domains` (the host names the service answers at,
/// [`VerifierSettings::s3_domains`](crate::VerifierSettings::s3_domains)) tell: without them,
/// only the path-style form is recognised. `None` for any other request.
pub(crate) fn post_object_bucket(request: &RequestView<'_>, domains: &[String]) -> Option<String> {
    // The layer asks this of every request: the method first, a header only for a POST.
    if request.method != "POST" || request.query.is_some_and(|query| !query.is_empty()) {
        return None;
    }
    let form_data = request
        .headers
        .first("content-type")
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| {
            media_type
                .trim()
                .eq_ignore_ascii_case("multipart/form-data")
        });
    if !form_data || request.headers.first("authorization").is_some() {
        return None;
    }
    let path_style = match request.path.strip_prefix('/')? {
        "" => None,
        rest => Some(rest.strip_suffix('/').unwrap_or(rest)),
    };
    let valid = |bucket: &str| {
        !bucket.is_empty()
            && bucket.len() <= 255
            && bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    match (s3_addressing(request, domains), path_style) {
        (S3Addressing::PathStyle | S3Addressing::Either, Some(bucket)) => {
            valid(bucket).then(|| bucket.to_owned())
        }
        (S3Addressing::VirtualHosted, None) => {
            let host = request
                .headers
                .first("host")
                .or(request.authority)
                .and_then(host_name)?;
            let bucket = domains
                .iter()
                .filter_map(|domain| {
                    let domain = host_name(domain)?;
                    host.strip_suffix(domain.as_str())?
                        .strip_suffix('.')
                        .map(str::to_owned)
                })
                .next()
                .unwrap_or(host);
            valid(&bucket).then_some(bucket)
        }
        _ => None,
    }
}

/// A POST Object form whose signature verified and whose policy allowed it.
///
/// The file itself is not checked here: [`PostFileScan`](crate::PostFileScan), made for this
/// form, holds it to the policy's size range and to the checksums the form claims for it.
#[derive(Clone)]
pub struct VerifiedPost {
    bucket: String,
    access_key_id: String,
    principal: String,
    date: String,
    region: String,
    service: String,
    session_token: Option<SessionToken>,
    signed_at: SystemTime,
    expires_at: SystemTime,
    fields: Vec<(String, String)>,
    file_size: RangeInclusive<u64>,
    /// The file's `Content-MD5` and flexible checksum fields, their running state fresh.
    file_checksum: Option<ClaimedChecksum>,
}

impl VerifiedPost {
    /// The access key ID that signed the policy.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Who the key belongs to, as the [`CredentialLookup`] said.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The bucket the form uploads to: the request's (its path or host), which the policy
    /// allowed.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The credential scope's `(date, region, service)`.
    pub fn scope(&self) -> (&str, &str, &str) {
        (&self.date, &self.region, &self.service)
    }

    /// The session token the form carried (temporary credentials).
    pub fn session_token(&self) -> Option<&SessionToken> {
        self.session_token.as_ref()
    }

    /// `x-amz-date`: when the policy was signed.
    pub fn signed_at(&self) -> SystemTime {
        self.signed_at
    }

    /// The policy's expiration.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// The object's key, `${filename}` replaced.
    pub fn key(&self) -> Cow<'_, str> {
        self.field("key").unwrap_or_default()
    }

    /// A field's value (any case of its name; repeated fields joined with `,`), `${filename}`
    /// replaced: what the policy allowed.
    pub fn field(&self, name: &str) -> Option<Cow<'_, str>> {
        joined(self.fields(), name)
    }

    /// The form's fields, in order, `${filename}` replaced.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The file sizes the policy allows (every `content-length-range` at once; any size
    /// without one).
    pub fn allowed_file_size(&self) -> RangeInclusive<u64> {
        self.file_size.clone()
    }

    /// Holds the file's size to the policy's `content-length-range`: `EntityTooSmall` or
    /// `EntityTooLarge` (400) outside it. Check a streamed file's running size as it grows,
    /// to stop an upload that is already too large, and its final size at the end.
    pub fn check_file_size(&self, size: u64) -> Result<(), Error> {
        check_file_size(&self.file_size, size)
    }

    /// The checksums the file must match at its end, fresh.
    pub(crate) fn file_checksum(&self) -> Option<ClaimedChecksum> {
        self.file_checksum.clone()
    }
}

impl fmt::Debug for VerifiedPost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedPost")
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("principal", &self.principal)
            .field("scope", &self.scope())
            .field("session_token", &self.session_token)
            .field("key", &self.key())
            .field("file_size", &self.file_size)
            .finish_non_exhaustive()
    }
}

/// [`VerifiedPost::check_file_size`] against `allowed`.
pub(crate) fn check_file_size(allowed: &RangeInclusive<u64>, size: u64) -> Result<(), Error> {
    if allowed.contains(&size) {
        return Ok(());
    }
    Err(Error::PostFileSize {
        size,
        min: *allowed.start(),
        max: *allowed.end(),
    })
}

/// Fields no condition need name (sigv4-HTTPPOSTConstructPolicy).
fn exempt_from_policy(name: &str) -> bool {
    ["x-amz-signature", "policy", "file"]
        .iter()
        .any(|exempt| name.eq_ignore_ascii_case(exempt))
        || name
            .get(..9)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("x-ignore-"))
}

/// Holds the (expanded) fields to the policy's conditions, and every field to being named by
/// one. Returns the file sizes allowed.
fn check_conditions(
    policy: &PostPolicy,
    fields: &[(String, String)],
    bucket: &str,
) -> Result<RangeInclusive<u64>, Error> {
    let mut file_size = 0..=u64::MAX;
    let fields = || fields.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    for condition in &policy.conditions {
        if let PolicyCondition::ContentLengthRange { min, max } = *condition {
            file_size = *file_size.start().max(&min)..=*file_size.end().min(&max);
            continue;
        }
        // The bucket is the request's (its host or path), not a field the form may claim.
        let value = match condition.field_name() {
            Some(name) if name.eq_ignore_ascii_case("bucket") => Some(Cow::Borrowed(bucket)),
            Some(name) => joined(fields(), name),
            None => None,
        };
        if !value.is_some_and(|value| condition.holds_for(&value)) {
            return Err(Error::PostPolicyConditionFailed {
                condition: clip_condition(condition),
            });
        }
    }
    let mut extra: Vec<&str> = Vec::new();
    for (name, _) in fields() {
        let named = exempt_from_policy(name)
            || policy.conditions.iter().any(|condition| {
                condition
                    .field_name()
                    .is_some_and(|field| field.eq_ignore_ascii_case(name))
            });
        if !named && !extra.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
            extra.push(name);
        }
    }
    if !extra.is_empty() {
        return Err(Error::PostFieldNotInPolicy {
            fields: crate::error::clip_to(&extra.join(", "), 256).into_owned(),
        });
    }
    Ok(file_size)
}

fn clip_condition(condition: &PolicyCondition) -> String {
    crate::error::clip_to(&condition.to_string(), 512).into_owned()
}

impl<L: CredentialLookup> Verifier<L> {
    /// Verifies a POST Object form for an upload to `bucket` (the one the request addressed,
    /// by its host or path), at the clock's time.
    ///
    /// In the order S3 is seen to check them:
    /// 1. A form without a policy or any of the SigV4 fields is anonymous:
    ///    [`Error::MissingAuthentication`] (Signature Version 2's `AWSAccessKeyId` and
    ///    `Signature`: [`Error::SignatureVersion2`]).
    /// 2. `key`, `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature` and
    ///    `policy` must each be there ([`Error::PostFieldMissing`]), the algorithm
    ///    `AWS4-HMAC-SHA256`, the credential's date that of `x-amz-date`, its region and
    ///    service accepted (and a service with S3's rules).
    /// 3. The access key is looked up, and a session token (`x-amz-security-token`) checked
    ///    as for a signed request.
    /// 4. The signature is compared, in constant time, with the HMAC of the policy's text as
    ///    sent: a policy changed in transit is a `SignatureDoesNotMatch`, not a malformed one.
    /// 5. The policy is parsed ([`Error::MalformedPostPolicy`]), its expiration checked
    ///    ([`Error::PostPolicyExpired`]), then its conditions
    ///    ([`Error::PostPolicyConditionFailed`]) and that each field is named by one
    ///    ([`Error::PostFieldNotInPolicy`]).
    /// 6. The checksums the form claims for its file are read, as S3 reads a `PUT`'s headers:
    ///    a `Content-MD5` field that is no MD5 is [`Error::InvalidContentMd5`], more than one
    ///    `x-amz-checksum-*` value [`Error::MultipleChecksums`], one this crate cannot compute
    ///    [`Error::UnsupportedChecksum`]. [`PostFileScan`](crate::PostFileScan) checks them
    ///    against the file.
    pub async fn verify_post(&self, form: &PostForm, bucket: &str) -> Result<VerifiedPost, Error> {
        self.verify_post_as_of(form, bucket, None).await
    }

    /// The bucket `request` uploads to, if it is S3's POST Object: a `multipart/form-data`
    /// `POST` with neither an `Authorization` header nor a query, to `/{bucket}`, or to `/`
    /// at a virtual-hosted bucket's host (told by
    /// [`VerifierSettings::s3_domains`](crate::VerifierSettings::s3_domains); without them,
    /// only the path-style form is one). [`SigV4Layer`](crate::SigV4Layer) verifies such a
    /// request by its form ([`Verifier::verify_post`]); a service on its own HTTP stack asks
    /// here which of the two verifications a request needs.
    ///
    /// `None` whatever the request when [`VerifierSettings::services`](crate::VerifierSettings::services)
    /// names no service with S3's rules ([`uses_s3_rules`]): no form could verify there, and a
    /// form POSTed to such a service is what it was to it before, a request without SigV4
    /// authentication, answered in the service's own error format rather than S3's.
    pub fn post_object_bucket(&self, request: &RequestView<'_>) -> Option<String> {
        // Asked of every request: the request's shape, which rules out most, first.
        post_object_bucket(request, &self.settings().s3_domains).filter(|_| self.takes_post_forms())
    }

    /// Whether a POST Object form could verify here: [`VerifierSettings::services`](crate::VerifierSettings::services)
    /// accepts a service with S3's rules ([`uses_s3_rules`]).
    pub(crate) fn takes_post_forms(&self) -> bool {
        match &self.settings().services {
            Accept::Any => true,
            Accept::OneOf(services) => services.iter().any(|service| uses_s3_rules(service)),
        }
    }

    /// [`Verifier::verify_post`], with the expiration and session checked at `arrived` when
    /// given (when the request arrived, as a signed request is held to it), else at the
    /// clock's time.
    pub(crate) async fn verify_post_as_of(
        &self,
        form: &PostForm,
        bucket: &str,
        arrived: Option<SystemTime>,
    ) -> Result<VerifiedPost, Error> {
        if form.size() > MAX_POST_FORM_BYTES {
            return Err(Error::PostFormTooLarge {
                limit: MAX_POST_FORM_BYTES,
            });
        }
        let has = |name: &str| form.fields().any(|(n, _)| n.eq_ignore_ascii_case(name));
        let sigv4 = [
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-signature",
            "x-amz-date",
        ];
        if !sigv4.iter().any(|name| has(name)) {
            // Signature Version 2 signs the same policy with `AWSAccessKeyId` and `Signature`.
            if has("awsaccesskeyid") || has("signature") {
                return Err(Error::SignatureVersion2);
            }
            if !has("policy") {
                return Err(Error::MissingAuthentication);
            }
        }
        form.required("key")?;
        let algorithm = form.required("X-Amz-Algorithm")?;
        let credential = form.required("X-Amz-Credential")?;
        let date = form.required("X-Amz-Date")?;
        let signature = form.required("X-Amz-Signature")?;
        let policy_text = form.required("Policy")?;
        if algorithm != ALGORITHM {
            if algorithm == "AWS" {
                return Err(Error::SignatureVersion2);
            }
            return Err(Error::UnsupportedAlgorithm {
                location: LOCATION,
                algorithm: clip(algorithm),
            });
        }
        let credential = parse_credential(LOCATION, Cow::Borrowed(credential))?;
        // S3's words for a POST form, where a signed request's are `AccessDenied`.
        let signed_at = parse_amz_date(date).map_err(|_| Error::MalformedAuthorization {
            location: LOCATION,
            reason: format!(
                "X-Amz-Date {:?} must be formatted via ISO8601 Long format",
                clip(date)
            ),
        })?;
        let request_date = date.get(..8).unwrap_or_default();
        if credential.date != request_date {
            return Err(Error::ScopeDateMismatch {
                location: LOCATION,
                scope_date: credential.date.to_string(),
                request_date: request_date.to_owned(),
                request_time: date.to_string(),
            });
        }
        let settings = self.settings();
        if !settings.regions.allows(&credential.region) {
            return Err(Error::RegionNotAccepted {
                location: LOCATION,
                region: clip(&credential.region),
                expected: settings.regions.only_one().map(str::to_owned),
            });
        }
        // A policy signed for another service must not authorise an S3 upload.
        if !settings.services.allows(&credential.service) || !uses_s3_rules(&credential.service) {
            return Err(Error::ServiceNotAccepted {
                location: LOCATION,
                service: clip(&credential.service),
                expected: Some("s3".to_owned()),
            });
        }
        let provided =
            decode_hex32(signature.as_bytes()).ok_or_else(|| Error::MalformedAuthorization {
                location: LOCATION,
                reason: "x-amz-signature is not 64 hex digits".to_owned(),
            })?;
        let session_token = form.single("x-amz-security-token")?;

        let now = arrived.unwrap_or_else(|| self.now());
        let access_key_id = &credential.access_key_id;
        let resolved = self
            .lookup()
            .lookup(access_key_id, session_token)
            .await
            .map_err(|e| Error::CredentialLookupFailed { reason: e.0 })?
            .ok_or_else(|| Error::UnknownAccessKey {
                access_key_id: clip(access_key_id),
            })?;
        check_session(&resolved, session_token, now)?;

        let scoped_key = self.key_cache().get_or_derive(
            &resolved.secret,
            &credential.date,
            &credential.region,
            &credential.service,
        );
        let expected = scoped_key.key.sign(policy_text.as_bytes());
        if !constant_time_eq(&expected, &provided) {
            return Err(Error::SignatureDoesNotMatch {
                details: Box::new(MismatchDetails {
                    canonical_request: String::new(),
                    string_to_sign: policy_text.to_owned(),
                    access_key_id: access_key_id.to_string(),
                    signature_provided: signature.to_ascii_lowercase(),
                }),
            });
        }
        self.key_cache().keep(&scoped_key);

        let policy = PostPolicy::from_base64(policy_text)?;
        if now >= policy.expiration {
            return Err(Error::PostPolicyExpired {
                expired_at: policy.expiration,
            });
        }
        let fields = form.expanded();
        if let Some(claimed) = joined(
            fields.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            "bucket",
        ) {
            if claimed != bucket {
                return Err(Error::PostFieldConflict { name: "bucket" });
            }
        }
        let file_size = check_conditions(&policy, &fields, bucket)?;
        let file_checksum =
            post_file_checksum(fields.iter().map(|(n, v)| (n.as_str(), v.as_str())))?;
        Ok(VerifiedPost {
            bucket: bucket.to_owned(),
            access_key_id: access_key_id.to_string(),
            principal: resolved.principal.clone(),
            date: credential.date.to_string(),
            region: credential.region.to_string(),
            service: credential.service.to_string(),
            session_token: session_token.map(SessionToken::new),
            signed_at,
            expires_at: policy.expiration,
            fields,
            file_size,
            file_checksum,
        })
    }
}

/// What a signed browser upload allows: [`presign_post`]'s input.
#[derive(Debug, Clone, Copy)]
pub struct PostPresignRequest<'a> {
    /// The bucket the form uploads to.
    pub bucket: &'a str,
    /// The object's key; one ending in `${filename}` allows any key with the text before it
    /// (the file's name takes its place), any other this key alone.
    pub key: &'a str,
    /// How long the form may be used: at most 7 days, the life of a SigV4 signing key.
    pub expires_in: Duration,
    /// Fields the form carries besides the key and the signature's (`acl`, `Content-Type`,
    /// `success_action_status`, `x-amz-meta-*`, …), in order. Each needs a condition in
    /// `conditions` as well, or S3 refuses it as an extra field.
    pub fields: &'a [(&'a str, &'a str)],
    /// Conditions beyond the bucket, the key and the signature's fields, which are added.
    pub conditions: &'a [PolicyCondition],
}

/// Signs a browser upload (S3's POST Object) as botocore's `generate_presigned_post` does,
/// byte for byte: the form's fields, in the order an HTML form sends them before the file
/// (the given fields, `key`, `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`,
/// `x-amz-security-token` with temporary credentials, `policy`, `x-amz-signature`).
///
/// The policy is `{"expiration": …, "conditions": […]}` with `conditions` first, then
/// `{"bucket": …}`, the key's (`{"key": …}`, or `["starts-with", "$key", prefix]` for a
/// `${filename}` key), and one per signature field; written as Python's `json.dumps` writes
/// it (`", "` and `": "` between items, non-ASCII as `\u` escapes), base64-encoded, and signed
/// with the SigV4 key of the scope (`params.service` must have S3's rules).
pub fn presign_post(
    params: &crate::SigningParams<'_>,
    request: &PostPresignRequest<'_>,
) -> Result<PostForm, Error> {
    let refuse = |reason: String| Err(Error::InvalidSigningInput { reason });
    if !uses_s3_rules(params.service) {
        return refuse(format!(
            "a POST policy is for S3, not for the service {:?}",
            clip(params.service)
        ));
    }
    if request.expires_in.is_zero() || request.expires_in > crate::MAX_PRESIGN_EXPIRES {
        return refuse("a POST policy expires within 1 second to 7 days".to_owned());
    }
    crate::auth::check_signing_time(params.time)?;
    let amz_date = crate::format_amz_date(params.time);
    let date = &amz_date[..8];
    // `YYYYMMDDTHHMMSSZ` written as botocore writes the expiration, `%Y-%m-%dT%H:%M:%SZ`.
    let expires = crate::format_amz_date(params.time + request.expires_in);
    let expiration = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &expires[..4],
        &expires[4..6],
        &expires[6..8],
        &expires[9..11],
        &expires[11..13],
        &expires[13..15]
    );
    let credentials = params.credentials;
    let credential = format!(
        "{}/{date}/{}/{}/aws4_request",
        credentials.access_key_id(),
        params.region,
        params.service
    );
    let token = credentials.session_token();

    // As Python's `json.dumps` writes a list.
    let python_json = |condition: &PolicyCondition| condition.to_json_with(python_json_string);
    let mut conditions: Vec<String> = request.conditions.iter().map(python_json).collect();
    let simple = |name: &str, value: &str| {
        format!(
            "{{{}: {}}}",
            python_json_string(name),
            python_json_string(value)
        )
    };
    conditions.push(simple("bucket", request.bucket));
    conditions.push(match request.key.strip_suffix("${filename}") {
        Some(prefix) => python_json(&PolicyCondition::StartsWith {
            field: "$key".to_owned(),
            prefix: prefix.to_owned(),
        }),
        None => simple("key", request.key),
    });
    conditions.push(simple("x-amz-algorithm", ALGORITHM));
    conditions.push(simple("x-amz-credential", &credential));
    conditions.push(simple("x-amz-date", &amz_date));
    if let Some(token) = token {
        conditions.push(simple("x-amz-security-token", token));
    }
    let document = format!(
        "{{\"expiration\": {}, \"conditions\": [{}]}}",
        python_json_string(&expiration),
        conditions.join(", ")
    );
    let policy = base64::engine::general_purpose::STANDARD.encode(document);
    let secret = crate::SecretAccessKey::new(credentials.secret_access_key());
    let key = crate::SigningKey::derive(&secret, date, params.region, params.service);
    let signature = hex::encode(key.sign(policy.as_bytes()));

    let mut form: PostForm = request.fields.iter().copied().collect();
    form.push("key", request.key);
    form.push("x-amz-algorithm", ALGORITHM);
    form.push("x-amz-credential", credential);
    form.push("x-amz-date", amz_date);
    if let Some(token) = token {
        form.push("x-amz-security-token", token);
    }
    form.push("policy", policy);
    form.push("x-amz-signature", signature);
    Ok(form)
}

/// `text` as Python's `json.dumps` writes a string (`ensure_ascii`): `"` and `\` escaped,
/// `\n`, `\r`, `\t`, `\b`, `\f` by name, and every other character outside `' '..='~'`
/// (controls, DEL, all past ASCII) as `\u` escapes of UTF-16 units.
fn python_json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(text: &str) -> Option<u64> {
        parse_expiration(text).map(|t| t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs())
    }

    /// The documentation's form (`2015-12-30T12:00:00.000Z`) and the SDKs' (no fraction) are
    /// the same instant; an offset, a space for the `T`, a day the month lacks and a fraction
    /// of ten digits are not read. (1451476800 is `date -u -d 2015-12-30T12:00:00Z +%s`.)
    #[test]
    fn expiration_is_iso_8601_in_utc() {
        assert_eq!(at("2015-12-30T12:00:00.000Z"), Some(1_451_476_800));
        assert_eq!(at("2015-12-30T12:00:00Z"), Some(1_451_476_800));
        assert_eq!(at("2016-02-29T00:00:00.5Z"), Some(1_456_704_000));
        for bad in [
            "2011-09-13T07:52:58+02:00",
            "2015-10-17 03:15:59 UTC",
            "2015-12-30 12:00:00Z",
            "2015-02-29T00:00:00Z",
            "2015-12-30T24:00:00Z",
            "2015-12-30T12:00:00.1234567890Z",
            "2015-12-30T12:00:00.Z",
            "２015-12-30T12:00:00Z",
            "",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }

    /// S3 quotes a failed condition as a JSON array with `", "` between items, and a simple
    /// condition as the `eq` it stands for (boto/boto3#4514: `["eq", "$key", "…"]` for
    /// botocore's `{"key": …}`).
    #[test]
    fn a_condition_displays_as_s3_quotes_it() {
        let simple = parse_condition(&serde_json::json!({"key": "a\"b"})).unwrap();
        assert_eq!(simple.to_string(), r#"["eq", "$key", "a\"b"]"#);
        let range = parse_condition(&serde_json::json!(["content-length-range", "5", 10])).unwrap();
        assert_eq!(range.to_string(), r#"["content-length-range", 5, 10]"#);
    }
}
