//! `TlsPolicy`: what a connection may negotiate, as data, validated.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::registry::{self, CipherSuiteInfo, KeyExchange};
use crate::version::{NamedGroup, ProtocolVersion, SignatureScheme};

/// Session resumption settings.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resumption {
    /// Resume sessions at all (server: an in-memory session cache; client: remember sessions).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Use session tickets (RFC 5077 in TLS 1.2, stateless tickets in TLS 1.3). Off by
    /// default: TLS 1.2 tickets weaken forward secrecy until the ticket key rotates.
    #[serde(default)]
    pub tickets: bool,
}

fn default_true() -> bool {
    true
}

impl Default for Resumption {
    /// Resumption on through a session cache, tickets off.
    fn default() -> Self {
        Self {
            enabled: true,
            tickets: false,
        }
    }
}

impl Resumption {
    /// Resumption on (session cache) with tickets as given.
    pub fn new(enabled: bool, tickets: bool) -> Self {
        Self { enabled, tickets }
    }
}

/// The file form of a policy (TOML or JSON): names as strings, checked by
/// [`TlsPolicy::from_spec`].
///
/// ```toml
/// name = "my-policy"
/// description = "TLS 1.2+ ECDHE AEAD"
/// versions = ["TLS1.2", "TLS1.3"]
/// cipher_suites = ["TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "0xC02B"]
/// groups = ["X25519", "P-256"]
/// signature_schemes = ["ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256"]
/// alpn = ["h2", "http/1.1"]
/// [resumption]
/// enabled = true
/// tickets = false
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Name (letters, digits, `-`, `_`, `.`); may be empty.
    #[serde(default)]
    pub name: String,
    /// One line on what the policy is for.
    #[serde(default)]
    pub description: String,
    /// Allowed protocol versions: `TLS1.0` … `TLS1.3`.
    pub versions: Vec<String>,
    /// Allowed cipher suites in preference order: IANA names, OpenSSL names or code points.
    pub cipher_suites: Vec<String>,
    /// Allowed key-exchange groups in preference order.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Allowed signature schemes in preference order.
    #[serde(default)]
    pub signature_schemes: Vec<String>,
    /// Session resumption.
    #[serde(default)]
    pub resumption: Resumption,
    /// Application protocols (ALPN) in preference order; empty means none is negotiated.
    #[serde(default)]
    pub alpn: Vec<String>,
}

/// A validated TLS policy: versions, suites, groups, signature schemes, resumption and ALPN.
///
/// Build one from a [`PolicySpec`], a TOML/JSON text or file, or take a built-in with
/// [`TlsPolicy::named`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPolicy {
    name: String,
    description: String,
    versions: Vec<ProtocolVersion>,
    cipher_suites: Vec<&'static CipherSuiteInfo>,
    groups: Vec<NamedGroup>,
    signature_schemes: Vec<SignatureScheme>,
    resumption: Resumption,
    alpn: Vec<String>,
}

impl TlsPolicy {
    /// Validates a spec; the error names the field and the index of the bad entry.
    pub fn from_spec(spec: &PolicySpec) -> Result<Self, Error> {
        let invalid = |field: String, reason: String| Error::InvalidPolicy {
            policy: spec.name.clone(),
            field,
            reason,
        };
        if !spec
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(invalid(
                "name".into(),
                format!(
                    "{:?} may only use letters, digits, '-', '_' and '.'",
                    spec.name
                ),
            ));
        }

        if spec.versions.is_empty() {
            return Err(invalid(
                "versions".into(),
                "must list at least one version".into(),
            ));
        }
        let mut versions = Vec::new();
        for (i, s) in spec.versions.iter().enumerate() {
            let field = format!("versions[{i}]");
            let v = ProtocolVersion::parse(s).ok_or_else(|| {
                invalid(
                    field.clone(),
                    format!("unknown version {s:?} (use TLS1.0, TLS1.1, TLS1.2 or TLS1.3)"),
                )
            })?;
            if v == ProtocolVersion::Ssl3 {
                return Err(invalid(field, "SSL 3.0 is prohibited (RFC 7568)".into()));
            }
            if versions.contains(&v) {
                return Err(invalid(field, format!("{v} is listed twice")));
            }
            versions.push(v);
        }
        versions.sort();

        if spec.cipher_suites.is_empty() {
            return Err(invalid(
                "cipher_suites".into(),
                "must list at least one suite".into(),
            ));
        }
        let mut suites: Vec<&'static CipherSuiteInfo> = Vec::new();
        for (i, s) in spec.cipher_suites.iter().enumerate() {
            let field = format!("cipher_suites[{i}]");
            let suite = parse_suite(s).ok_or_else(|| {
                invalid(
                    field.clone(),
                    format!("unknown cipher suite {s:?} (use an IANA name, an OpenSSL name or a registered code point like 0xC02F)"),
                )
            })?;
            if suite.signaling {
                return Err(invalid(
                    field,
                    format!("{suite} is a signaling value, not a cipher suite"),
                ));
            }
            if suites.contains(&suite) {
                return Err(invalid(field, format!("{suite} is listed twice")));
            }
            if !versions.iter().any(|v| suite.usable_in(*v)) {
                return Err(invalid(
                    field,
                    format!(
                        "{suite} needs {} (up to {}), which versions does not allow",
                        suite.min_version, suite.max_version
                    ),
                ));
            }
            suites.push(suite);
        }
        for v in &versions {
            if !suites.iter().any(|s| s.usable_in(*v)) {
                return Err(invalid(
                    "versions".into(),
                    format!("{v} is allowed but no listed cipher suite can be used with it"),
                ));
            }
        }

        let mut groups = Vec::new();
        for (i, s) in spec.groups.iter().enumerate() {
            let field = format!("groups[{i}]");
            let g = NamedGroup::parse(s).ok_or_else(|| {
                invalid(field.clone(), format!("unknown group {s:?} (e.g. X25519MLKEM768, X25519, P-256, P-384, ffdhe2048, or 0x001D)"))
            })?;
            if groups.contains(&g) {
                return Err(invalid(field, format!("{g} is listed twice")));
            }
            groups.push(g);
        }
        let needs_group = suites.iter().any(|s| {
            matches!(
                s.kx,
                KeyExchange::Ecdhe | KeyExchange::EcdhePsk | KeyExchange::Tls13
            )
        });
        if needs_group && groups.is_empty() {
            return Err(invalid("groups".into(), "is empty, but the policy allows ECDHE or TLS 1.3 suites, which need a key-exchange group".into()));
        }

        let mut schemes = Vec::new();
        for (i, s) in spec.signature_schemes.iter().enumerate() {
            let field = format!("signature_schemes[{i}]");
            let sch = SignatureScheme::parse(s).ok_or_else(|| {
                invalid(field.clone(), format!("unknown signature scheme {s:?} (e.g. ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, ed25519)"))
            })?;
            if schemes.contains(&sch) {
                return Err(invalid(field, format!("{sch} is listed twice")));
            }
            schemes.push(sch);
        }
        if schemes.is_empty() && suites.iter().any(|s| s.certificate_authenticated()) {
            return Err(invalid(
                "signature_schemes".into(),
                "is empty, but the policy allows certificate-authenticated suites".into(),
            ));
        }

        let mut seen = HashSet::new();
        for (i, p) in spec.alpn.iter().enumerate() {
            if p.is_empty() || p.len() > 255 {
                return Err(invalid(
                    format!("alpn[{i}]"),
                    "must be 1 to 255 bytes".into(),
                ));
            }
            if !seen.insert(p) {
                return Err(invalid(
                    format!("alpn[{i}]"),
                    format!("{p:?} is listed twice"),
                ));
            }
        }

        Ok(Self {
            name: spec.name.clone(),
            description: spec.description.clone(),
            versions,
            cipher_suites: suites,
            groups,
            signature_schemes: schemes,
            resumption: spec.resumption,
            alpn: spec.alpn.clone(),
        })
    }

    /// The file form, with canonical names (IANA names for suites).
    pub fn to_spec(&self) -> PolicySpec {
        PolicySpec {
            name: self.name.clone(),
            description: self.description.clone(),
            versions: self
                .versions
                .iter()
                .map(|v| v.as_str().to_owned())
                .collect(),
            cipher_suites: self
                .cipher_suites
                .iter()
                .map(|s| s.iana_name.to_owned())
                .collect(),
            groups: self.groups.iter().map(|g| g.to_string()).collect(),
            signature_schemes: self
                .signature_schemes
                .iter()
                .map(|s| s.to_string())
                .collect(),
            resumption: self.resumption,
            alpn: self.alpn.clone(),
        }
    }

    /// Parses and validates a TOML policy.
    pub fn from_toml_str(text: &str) -> Result<Self, Error> {
        Self::from_toml_origin(text, "<string>")
    }

    /// Parses and validates a JSON policy.
    pub fn from_json_str(text: &str) -> Result<Self, Error> {
        Self::from_json_origin(text, "<string>")
    }

    fn from_toml_origin(text: &str, origin: &str) -> Result<Self, Error> {
        let spec: PolicySpec = toml::from_str(text).map_err(|e| Error::PolicySyntax {
            format: "TOML",
            origin: origin.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        Self::from_spec(&spec)
    }

    fn from_json_origin(text: &str, origin: &str) -> Result<Self, Error> {
        let spec: PolicySpec = serde_json::from_str(text).map_err(|e| Error::PolicySyntax {
            format: "JSON",
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        Self::from_spec(&spec)
    }

    /// Reads a policy file: JSON when the name ends in `.json`, TOML otherwise.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadPolicy {
            path: path.to_owned(),
            source,
        })?;
        let origin = path.display().to_string();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Self::from_json_origin(&text, &origin)
        } else {
            Self::from_toml_origin(&text, &origin)
        }
    }

    /// A built-in policy by name (see [`crate::builtin_names`]).
    pub fn named(name: &str) -> Result<Self, Error> {
        crate::builtin::builtin(name).ok_or_else(|| Error::UnknownPolicy {
            name: name.to_owned(),
            known: crate::builtin::builtin_names().to_vec(),
        })
    }

    /// A built-in name, or else a path to a policy file.
    pub fn named_or_file(name_or_path: &str) -> Result<Self, Error> {
        match crate::builtin::builtin(name_or_path) {
            Some(p) => Ok(p),
            None if Path::new(name_or_path).exists() => Self::load(Path::new(name_or_path)),
            None => Self::named(name_or_path),
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The one-line description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Allowed versions, oldest first.
    pub fn versions(&self) -> &[ProtocolVersion] {
        &self.versions
    }

    /// Allowed suites, in preference order.
    pub fn cipher_suites(&self) -> &[&'static CipherSuiteInfo] {
        &self.cipher_suites
    }

    /// Allowed groups, in preference order.
    pub fn groups(&self) -> &[NamedGroup] {
        &self.groups
    }

    /// Allowed signature schemes, in preference order.
    pub fn signature_schemes(&self) -> &[SignatureScheme] {
        &self.signature_schemes
    }

    /// Resumption settings.
    pub fn resumption(&self) -> Resumption {
        self.resumption
    }

    /// ALPN protocols, in preference order.
    pub fn alpn(&self) -> &[String] {
        &self.alpn
    }

    /// Whether `version` is allowed.
    pub fn allows_version(&self, version: ProtocolVersion) -> bool {
        self.versions.contains(&version)
    }

    /// Whether the suite with this code point is allowed (in some allowed version).
    pub fn allows_suite(&self, code: u16) -> bool {
        self.cipher_suites.iter().any(|s| s.code == code)
    }

    /// Whether the suite is allowed in `version`.
    pub fn allows_suite_in(&self, code: u16, version: ProtocolVersion) -> bool {
        self.allows_version(version)
            && self
                .cipher_suites
                .iter()
                .any(|s| s.code == code && s.usable_in(version))
    }

    /// Whether the group is allowed.
    pub fn allows_group(&self, group: NamedGroup) -> bool {
        self.groups.contains(&group)
    }

    /// Whether the signature scheme is allowed.
    pub fn allows_signature_scheme(&self, scheme: SignatureScheme) -> bool {
        self.signature_schemes.contains(&scheme)
    }

    /// Whether every allowed suite is forward secret.
    pub fn requires_forward_secrecy(&self) -> bool {
        self.cipher_suites.iter().all(|s| s.forward_secret)
    }

    /// Whether every allowed suite is an AEAD.
    pub fn requires_aead(&self) -> bool {
        self.cipher_suites.iter().all(|s| s.aead)
    }

    /// Returns a copy with different resumption settings.
    pub fn with_resumption(mut self, resumption: Resumption) -> Self {
        self.resumption = resumption;
        self
    }

    /// Returns a copy with a different ALPN list (each entry 1 to 255 bytes).
    pub fn with_alpn(mut self, alpn: Vec<String>) -> Result<Self, Error> {
        let mut spec = self.to_spec();
        spec.alpn = alpn;
        let checked = Self::from_spec(&spec)?;
        self.alpn = checked.alpn;
        Ok(self)
    }
}

impl Default for TlsPolicy {
    /// The `intermediate` policy.
    fn default() -> Self {
        crate::builtin::intermediate()
    }
}

impl Serialize for TlsPolicy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_spec().serialize(s)
    }
}

fn parse_suite(s: &str) -> Option<&'static CipherSuiteInfo> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u16::from_str_radix(hex, 16).ok().and_then(registry::lookup);
    }
    registry::lookup_name(s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match TlsPolicy::from_toml_str(text) {
            Ok(p) => panic!("accepted: {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    const BASE: &str = r#"
name = "t"
versions = ["TLS1.2"]
cipher_suites = ["ECDHE-RSA-AES128-GCM-SHA256"]
groups = ["X25519"]
signature_schemes = ["rsa_pss_rsae_sha256"]
"#;

    #[test]
    fn a_minimal_policy_loads() {
        let p = TlsPolicy::from_toml_str(BASE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.cipher_suites()[0].code, 0xC02F);
        assert!(p.resumption().enabled && !p.resumption().tickets);
    }

    #[test]
    fn errors_name_the_field_and_index() {
        let e = err(&BASE.replace(
            r#"["ECDHE-RSA-AES128-GCM-SHA256"]"#,
            r#"["ECDHE-RSA-AES128-GCM-SHA256", "TLS_BOGUS"]"#,
        ));
        assert!(
            e.contains("cipher_suites[1]: unknown cipher suite \"TLS_BOGUS\""),
            "{e}"
        );
        let e = err(&BASE.replace(
            r#"["ECDHE-RSA-AES128-GCM-SHA256"]"#,
            r#"["TLS_AES_128_GCM_SHA256"]"#,
        ));
        assert!(
            e.contains("cipher_suites[0]: TLS_AES_128_GCM_SHA256 needs TLS 1.3"),
            "{e}"
        );
        let e = err(&BASE.replace(r#"["TLS1.2"]"#, r#"["TLS1.2", "TLS1.3"]"#));
        assert!(
            e.contains("versions: TLS 1.3 is allowed but no listed cipher suite"),
            "{e}"
        );
        let e = err(&BASE.replace(r#"["X25519"]"#, "[]"));
        assert!(e.contains("groups: is empty"), "{e}");
        let e = err(&BASE.replace(r#"["TLS1.2"]"#, r#"["TLS1.2", "TLS9"]"#));
        assert!(e.contains("versions[1]: unknown version \"TLS9\""), "{e}");
        let e = err(&format!("{BASE}\nbogus = 1\n"));
        assert!(e.contains("unknown field `bogus`"), "{e}");
    }

    #[test]
    fn json_and_toml_agree() {
        let p = TlsPolicy::from_toml_str(BASE).unwrap_or_else(|e| panic!("{e}"));
        let json = serde_json::to_string(&p).unwrap_or_default();
        let q = TlsPolicy::from_json_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p, q);
    }
}
