//! Evaluation: does what a peer offers (or supports, or negotiated) comply with a policy?

use std::fmt;

use rustls::AlertDescription;
use serde::Serialize;

use crate::policy::TlsPolicy;
use crate::registry::{self, KeyExchange};
use crate::report::ConnectionReport;
use crate::version::{NamedGroup, ProtocolVersion, SignatureScheme};

/// What a peer offers or supports: lists of code points, from a parsed ClientHello
/// ([`crate::ClientHelloReport::offer`]) or from a scanner that probed a server.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Offer {
    /// Protocol versions.
    pub versions: Vec<ProtocolVersion>,
    /// Cipher suites by IANA code point (GREASE already removed; signaling values are ignored).
    pub cipher_suites: Vec<u16>,
    /// Key-exchange groups.
    pub groups: Vec<NamedGroup>,
    /// Signature schemes.
    pub signature_schemes: Vec<SignatureScheme>,
    /// Application protocols (ALPN).
    pub alpn: Vec<String>,
}

impl Offer {
    /// An offer of these versions and suites, with no groups, schemes or ALPN.
    pub fn new(versions: Vec<ProtocolVersion>, cipher_suites: Vec<u16>) -> Self {
        Self {
            versions,
            cipher_suites,
            ..Self::default()
        }
    }

    /// Adds key-exchange groups.
    pub fn with_groups(mut self, groups: Vec<NamedGroup>) -> Self {
        self.groups = groups;
        self
    }

    /// Adds signature schemes.
    pub fn with_signature_schemes(mut self, schemes: Vec<SignatureScheme>) -> Self {
        self.signature_schemes = schemes;
        self
    }

    /// Adds ALPN protocols.
    pub fn with_alpn(mut self, alpn: Vec<String>) -> Self {
        self.alpn = alpn;
        self
    }
}

/// One reason a peer does not comply.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The peer offers no version the policy allows.
    NoAllowedVersion {
        /// What it offers.
        offered: Vec<ProtocolVersion>,
        /// What the policy allows.
        allowed: Vec<ProtocolVersion>,
    },
    /// The policy requires forward secrecy and the peer offers no forward-secret suite.
    NoForwardSecretSuite {
        /// The suites offered.
        offered: Vec<u16>,
    },
    /// The policy requires AEAD and the peer's forward-secret suites are all CBC/stream.
    NoAeadSuite {
        /// The forward-secret suites offered.
        offered: Vec<u16>,
    },
    /// None of the peer's suites is allowed (for the versions in common).
    NoAllowedSuite {
        /// The suites offered.
        offered: Vec<u16>,
    },
    /// The negotiation needs an (EC)DHE group and the peer offers none the policy allows.
    NoAllowedGroup {
        /// The groups offered.
        offered: Vec<NamedGroup>,
    },
    /// None of the peer's signature schemes is allowed.
    NoAllowedSignatureScheme {
        /// The schemes offered.
        offered: Vec<SignatureScheme>,
    },
    /// The policy names application protocols and the peer offers none of them.
    NoAllowedAlpn {
        /// The protocols offered.
        offered: Vec<String>,
    },
    /// A version the peer supports or negotiated is not allowed.
    VersionNotAllowed(ProtocolVersion),
    /// A suite the peer supports or negotiated is not allowed.
    SuiteNotAllowed(u16),
    /// A group the peer supports or negotiated is not allowed.
    GroupNotAllowed(NamedGroup),
    /// The negotiated application protocol is not allowed.
    AlpnNotAllowed(String),
    /// The session was resumed but the policy disables resumption.
    ResumptionNotAllowed,
    /// The peer ended the handshake in a way that shows it cannot meet the policy (an alert,
    /// or a choice the policy did not offer), as rustls reported it.
    PeerIncompatible(String),
}

impl Reason {
    /// The TLS alert that fits this reason when refusing a ClientHello.
    pub fn alert(&self) -> AlertDescription {
        match self {
            Self::NoAllowedVersion { .. } | Self::VersionNotAllowed(_) => {
                AlertDescription::ProtocolVersion
            }
            Self::NoForwardSecretSuite { .. } | Self::NoAeadSuite { .. } => {
                AlertDescription::InsufficientSecurity
            }
            Self::NoAllowedAlpn { .. } | Self::AlpnNotAllowed(_) => {
                AlertDescription::NoApplicationProtocol
            }
            _ => AlertDescription::HandshakeFailure,
        }
    }
}

fn join_and<T: fmt::Display>(items: &[T]) -> String {
    let names: Vec<String> = items.iter().map(|i| i.to_string()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn suite_list(codes: &[u16]) -> String {
    codes
        .iter()
        .map(|c| registry::suite_name(*c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a suite is weak, in a few words, for messages: `static RSA key exchange, CBC`.
pub fn suite_weaknesses(code: u16) -> Vec<&'static str> {
    let Some(s) = registry::lookup(code) else {
        return vec!["unregistered"];
    };
    let mut w = Vec::new();
    match s.kx {
        KeyExchange::Rsa | KeyExchange::RsaPsk => w.push("static RSA key exchange"),
        KeyExchange::Dh | KeyExchange::Ecdh => w.push("static (EC)DH key exchange"),
        KeyExchange::Dhe | KeyExchange::DhePsk => w.push("finite-field DHE"),
        _ if !s.forward_secret => w.push("no forward secrecy"),
        _ => {}
    }
    if !s.certificate_authenticated() {
        w.push("no certificate authentication");
    }
    if !s.aead {
        w.push(match s.mode {
            crate::registry::CipherMode::Cbc => "CBC",
            crate::registry::CipherMode::None => "no encryption",
            _ => "not AEAD",
        });
    }
    if s.export {
        w.push("export-grade");
    }
    w
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAllowedVersion { offered, allowed } if offered.is_empty() => {
                write!(
                    f,
                    "offers no TLS version; the policy requires {}",
                    join_or(allowed)
                )
            }
            Self::NoAllowedVersion { offered, allowed } => write!(
                f,
                "offers only {}; the policy requires {}",
                join_and(offered),
                join_or(allowed)
            ),
            Self::NoForwardSecretSuite { offered } => {
                write!(
                    f,
                    "no forward-secret suite offered: {}",
                    suite_list(offered)
                )
            }
            Self::NoAeadSuite { offered } => {
                write!(
                    f,
                    "no forward-secret AEAD suite offered: {}",
                    suite_list(offered)
                )
            }
            Self::NoAllowedSuite { offered } => {
                write!(
                    f,
                    "no cipher suite the policy allows offered: {}",
                    suite_list(offered)
                )
            }
            Self::NoAllowedGroup { offered } if offered.is_empty() => {
                f.write_str("no key-exchange group offered")
            }
            Self::NoAllowedGroup { offered } => {
                write!(
                    f,
                    "no key-exchange group the policy allows offered: {}",
                    list(offered)
                )
            }
            Self::NoAllowedSignatureScheme { offered } => {
                write!(
                    f,
                    "no signature scheme the policy allows offered: {}",
                    list(offered)
                )
            }
            Self::NoAllowedAlpn { offered } => {
                write!(
                    f,
                    "no application protocol the policy allows offered: {}",
                    list(offered)
                )
            }
            Self::VersionNotAllowed(v) => write!(f, "{v} is not allowed"),
            Self::SuiteNotAllowed(code) => write!(
                f,
                "cipher suite {} is not allowed ({})",
                registry::suite_name(*code),
                match suite_weaknesses(*code).as_slice() {
                    [] => "not in the policy".to_owned(),
                    w => w.join(", "),
                }
            ),
            Self::GroupNotAllowed(g) => write!(f, "key-exchange group {g} is not allowed"),
            Self::AlpnNotAllowed(p) => write!(f, "application protocol {p:?} is not allowed"),
            Self::ResumptionNotAllowed => f.write_str("session resumption is not allowed"),
            Self::PeerIncompatible(d) => write!(f, "peer cannot meet the policy: {d}"),
        }
    }
}

fn join_or<T: fmt::Display>(items: &[T]) -> String {
    let names: Vec<String> = items.iter().map(|i| i.to_string()).collect();
    match names.as_slice() {
        [] => "nothing".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// The outcome of an evaluation: accepted when there is no reason against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The policy evaluated against.
    pub policy: String,
    /// Every reason the peer does not comply (empty: it complies).
    pub reasons: Vec<Reason>,
}

impl Verdict {
    /// Whether the peer complies.
    pub fn accepted(&self) -> bool {
        self.reasons.is_empty()
    }

    /// The alert to send when refusing: protocol_version for versions first, then
    /// insufficient_security, then the alert of the first reason.
    pub fn alert(&self) -> Option<AlertDescription> {
        let alerts: Vec<AlertDescription> = self.reasons.iter().map(Reason::alert).collect();
        [
            AlertDescription::ProtocolVersion,
            AlertDescription::InsufficientSecurity,
        ]
        .into_iter()
        .find(|a| alerts.contains(a))
        .or_else(|| alerts.first().copied())
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reasons.is_empty() {
            return write!(f, "complies with policy {}", self.policy);
        }
        let r: Vec<String> = self.reasons.iter().map(|r| r.to_string()).collect();
        f.write_str(&r.join("; "))
    }
}

impl TlsPolicy {
    /// Evaluates a ClientHello: is there a choice within the policy that the client offers?
    /// Returns every reason there is not.
    pub fn evaluate(&self, hello: &crate::hello::ClientHelloReport) -> Verdict {
        self.evaluate_offer(&hello.offer())
    }

    /// Evaluates what a client offers (or what a scanner sent): accepted when the client and
    /// the policy have a version, a suite for it, and (where needed) a group, a signature
    /// scheme and an application protocol in common.
    pub fn evaluate_offer(&self, offer: &Offer) -> Verdict {
        let mut reasons = Vec::new();
        let common: Vec<ProtocolVersion> = offer
            .versions
            .iter()
            .copied()
            .filter(|v| self.allows_version(*v))
            .collect();
        if common.is_empty() {
            reasons.push(Reason::NoAllowedVersion {
                offered: offer.versions.clone(),
                allowed: self.versions().to_vec(),
            });
        }
        // Judge the suites in the versions both sides speak or, when there are none, in any
        // version the policy allows, so that a version refusal still says what else is wrong.
        let judged: &[ProtocolVersion] = if common.is_empty() {
            self.versions()
        } else {
            &common
        };
        let real: Vec<u16> = offer
            .cipher_suites
            .iter()
            .copied()
            .filter(|c| {
                !registry::is_grease(*c) && !registry::lookup(*c).is_some_and(|s| s.signaling)
            })
            .collect();
        let acceptable: Vec<u16> = real
            .iter()
            .copied()
            .filter(|c| judged.iter().any(|v| self.allows_suite_in(*c, *v)))
            .collect();
        if acceptable.is_empty() {
            let fs: Vec<u16> = real
                .iter()
                .copied()
                .filter(|c| registry::lookup(*c).is_some_and(|s| s.forward_secret))
                .collect();
            let fs_aead = fs
                .iter()
                .any(|c| registry::lookup(*c).is_some_and(|s| s.aead));
            if self.requires_forward_secrecy() && fs.is_empty() {
                reasons.push(Reason::NoForwardSecretSuite {
                    offered: real.clone(),
                });
            } else if self.requires_aead() && !fs.is_empty() && !fs_aead {
                reasons.push(Reason::NoAeadSuite { offered: fs });
            } else {
                reasons.push(Reason::NoAllowedSuite {
                    offered: real.clone(),
                });
            }
        } else {
            let needs_group = acceptable.iter().all(|c| {
                registry::lookup(*c).is_some_and(|s| {
                    matches!(
                        s.kx,
                        KeyExchange::Ecdhe | KeyExchange::EcdhePsk | KeyExchange::Tls13
                    )
                })
            });
            if needs_group && !offer.groups.iter().any(|g| self.allows_group(*g)) {
                reasons.push(Reason::NoAllowedGroup {
                    offered: offer.groups.clone(),
                });
            }
            let tls13_only = judged.iter().all(|v| *v == ProtocolVersion::Tls13);
            let schemes_ok = if offer.signature_schemes.is_empty() {
                !tls13_only
            } else {
                offer
                    .signature_schemes
                    .iter()
                    .any(|s| self.allows_signature_scheme(*s))
            };
            let cert_auth = acceptable
                .iter()
                .any(|c| registry::lookup(*c).is_some_and(|s| s.certificate_authenticated()));
            if cert_auth && !schemes_ok {
                reasons.push(Reason::NoAllowedSignatureScheme {
                    offered: offer.signature_schemes.clone(),
                });
            }
        }
        if !self.alpn().is_empty()
            && !offer.alpn.is_empty()
            && !offer.alpn.iter().any(|p| self.alpn().contains(p))
        {
            reasons.push(Reason::NoAllowedAlpn {
                offered: offer.alpn.clone(),
            });
        }
        Verdict {
            policy: self.name().to_owned(),
            reasons,
        }
    }

    /// Checks everything a peer *supports* (what a scanner found a server to accept): every
    /// version, suite and group must be allowed. One reason per item that is not.
    pub fn evaluate_support(&self, support: &Offer) -> Verdict {
        let mut reasons = Vec::new();
        for v in &support.versions {
            if !self.allows_version(*v) {
                reasons.push(Reason::VersionNotAllowed(*v));
            }
        }
        for c in &support.cipher_suites {
            if registry::is_grease(*c) || registry::lookup(*c).is_some_and(|s| s.signaling) {
                continue;
            }
            let in_some_version = support
                .versions
                .iter()
                .any(|v| self.allows_suite_in(*c, *v));
            let allowed = in_some_version || (support.versions.is_empty() && self.allows_suite(*c));
            if !allowed {
                reasons.push(Reason::SuiteNotAllowed(*c));
            }
        }
        for g in &support.groups {
            if !self.allows_group(*g) {
                reasons.push(Reason::GroupNotAllowed(*g));
            }
        }
        if !self.alpn().is_empty() {
            for p in &support.alpn {
                if !self.alpn().contains(p) {
                    reasons.push(Reason::AlpnNotAllowed(p.clone()));
                }
            }
        }
        Verdict {
            policy: self.name().to_owned(),
            reasons,
        }
    }

    /// Checks a finished handshake: version, suite, group, ALPN and resumption must all be
    /// allowed.
    pub fn check(&self, report: &ConnectionReport) -> Verdict {
        let support = Offer {
            versions: report.version.into_iter().collect(),
            cipher_suites: report.cipher_suite.into_iter().collect(),
            groups: report.group.into_iter().collect(),
            signature_schemes: Vec::new(),
            alpn: report.alpn.clone().into_iter().collect(),
        };
        let mut verdict = self.evaluate_support(&support);
        if report.resumed && !self.resumption().enabled {
            verdict.reasons.push(Reason::ResumptionNotAllowed);
        }
        verdict
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ProtocolVersion::*;

    fn intermediate() -> TlsPolicy {
        TlsPolicy::default()
    }

    #[test]
    fn tls10_and_tls11_only_gives_the_version_reason() {
        let offer = Offer::new(vec![Tls10, Tls11], vec![0xC013, 0x002F])
            .with_groups(vec![NamedGroup::X25519]);
        let v = intermediate().evaluate_offer(&offer);
        assert!(!v.accepted());
        assert!(
            v.to_string().starts_with("offers only TLS 1.0 and TLS 1.1"),
            "{v}"
        );
        assert_eq!(v.alert(), Some(AlertDescription::ProtocolVersion));
    }

    #[test]
    fn static_rsa_only_gives_the_forward_secrecy_reason() {
        let offer = Offer::new(vec![Tls12], vec![0x009C, 0x009D, 0x00FF]);
        let v = intermediate().evaluate_offer(&offer);
        assert_eq!(
            v.to_string(),
            "no forward-secret suite offered: TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_256_GCM_SHA384"
        );
        assert_eq!(v.alert(), Some(AlertDescription::InsufficientSecurity));
    }

    #[test]
    fn ecdhe_cbc_only_gives_the_aead_reason() {
        let offer = Offer::new(vec![Tls12], vec![0xC013]).with_groups(vec![NamedGroup::X25519]);
        let v = intermediate().evaluate_offer(&offer);
        assert!(
            v.to_string()
                .starts_with("no forward-secret AEAD suite offered"),
            "{v}"
        );
    }

    #[test]
    fn compliant_offer_is_accepted_and_missing_group_is_not() {
        let offer = Offer::new(vec![Tls12], vec![0xC02F])
            .with_groups(vec![NamedGroup(0x0100), NamedGroup::P256])
            .with_signature_schemes(vec![SignatureScheme(0x0804)]);
        assert!(intermediate().evaluate_offer(&offer).accepted());
        let offer = offer.with_groups(vec![NamedGroup(0x0100)]);
        let v = intermediate().evaluate_offer(&offer);
        assert_eq!(
            v.to_string(),
            "no key-exchange group the policy allows offered: ffdhe2048"
        );
    }

    #[test]
    fn check_refuses_a_connection_outside_the_policy() {
        let report = ConnectionReport {
            version: Some(Tls13),
            cipher_suite: Some(0x1301),
            group: Some(NamedGroup::X25519),
            alpn: Some("h2".into()),
            sni: None,
            peer_certificates: Vec::new(),
            resumed: true,
        };
        assert!(intermediate().check(&report).accepted());
        let tls12_only = TlsPolicy::from_toml_str(
            "versions = [\"TLS1.2\"]\ncipher_suites = [\"0xC02F\"]\ngroups = [\"P-256\"]\nsignature_schemes = [\"rsa_pss_rsae_sha256\"]\nalpn = [\"mqtt\"]\n[resumption]\nenabled = false\n",
        )
        .unwrap();
        let v = tls12_only.check(&report);
        assert_eq!(
            v.to_string(),
            "TLS 1.3 is not allowed; cipher suite TLS_AES_128_GCM_SHA256 is not allowed (not in the policy); \
             key-exchange group X25519 is not allowed; application protocol \"h2\" is not allowed; \
             session resumption is not allowed"
        );
    }

    #[test]
    fn support_check_lists_every_item() {
        let support = Offer::new(vec![Tls11, Tls12], vec![0xC02F, 0x002F]);
        let v = intermediate().evaluate_support(&support);
        let s = v.to_string();
        assert!(s.contains("TLS 1.1 is not allowed"), "{s}");
        assert!(
            s.contains(
                "TLS_RSA_WITH_AES_128_CBC_SHA is not allowed (static RSA key exchange, CBC)"
            ),
            "{s}"
        );
        assert_eq!(v.reasons.len(), 2);
    }

    #[test]
    fn a_forward_secret_aead_suite_of_another_version_is_no_allowed_suite_not_an_aead_reason() {
        // ECDHE-RSA-AES128-GCM is forward secret and AEAD, but a TLS 1.2 suite offered for
        // TLS 1.3 alone: the client lacks an allowed suite, not security.
        let offer = Offer::new(vec![Tls13], vec![0xC02F])
            .with_groups(vec![NamedGroup::X25519])
            .with_signature_schemes(vec![SignatureScheme(0x0804)]);
        let v = intermediate().evaluate_offer(&offer);
        assert_eq!(
            v.reasons,
            [Reason::NoAllowedSuite {
                offered: vec![0xC02F]
            }]
        );
        assert_eq!(v.alert(), Some(AlertDescription::HandshakeFailure));
    }

    #[test]
    fn tls13_needs_signature_algorithms_and_tls12_does_not() {
        // RFC 8446 4.2.3: a TLS 1.3 ClientHello that authenticates by certificate must send
        // signature_algorithms; RFC 5246 7.4.1.4.1 gives TLS 1.2 defaults when it is absent.
        let tls13 = Offer::new(vec![Tls13], vec![0x1301]).with_groups(vec![NamedGroup::X25519]);
        assert_eq!(
            intermediate().evaluate_offer(&tls13).reasons,
            [Reason::NoAllowedSignatureScheme {
                offered: Vec::new()
            }]
        );
        let tls12 = Offer::new(vec![Tls12], vec![0xC02F]).with_groups(vec![NamedGroup::P256]);
        assert!(intermediate().evaluate_offer(&tls12).accepted());
    }

    #[test]
    fn an_application_protocol_outside_the_policy_gets_no_application_protocol() {
        let policy = TlsPolicy::from_toml_str(
            "versions = [\"TLS1.3\"]\ncipher_suites = [\"TLS_AES_128_GCM_SHA256\"]\ngroups = [\"X25519\"]\nsignature_schemes = [\"ed25519\"]\nalpn = [\"mqtt\"]\n",
        )
        .unwrap();
        let offer = Offer::new(vec![Tls13], vec![0x1301])
            .with_groups(vec![NamedGroup::X25519])
            .with_signature_schemes(vec![SignatureScheme(0x0807)]);
        assert!(policy.evaluate_offer(&offer).accepted());
        let v = policy.evaluate_offer(&offer.clone().with_alpn(vec!["h2".into()]));
        assert_eq!(
            v.reasons,
            [Reason::NoAllowedAlpn {
                offered: vec!["h2".into()]
            }]
        );
        // RFC 7301 3.2.
        assert_eq!(v.alert(), Some(AlertDescription::NoApplicationProtocol));
        assert!(policy
            .evaluate_offer(&offer.with_alpn(vec!["h2".into(), "mqtt".into()]))
            .accepted());
    }

    #[test]
    fn support_skips_grease_and_signalling_values() {
        let support = Offer::new(
            vec![Tls12, Tls13],
            vec![0x0A0A, 0x00FF, 0x5600, 0x1301, 0xC02F],
        );
        assert_eq!(intermediate().evaluate_support(&support).reasons, []);
    }

    #[test]
    fn support_without_versions_judges_each_suite_by_the_policy_alone() {
        let support = Offer::new(Vec::new(), vec![0xC02F, 0x002F]);
        assert_eq!(
            intermediate().evaluate_support(&support).reasons,
            [Reason::SuiteNotAllowed(0x002F)]
        );
    }

    #[test]
    fn suite_weaknesses_name_the_key_exchange_and_the_cipher() {
        assert_eq!(
            suite_weaknesses(0xC00E),
            ["static (EC)DH key exchange", "CBC"]
        );
        assert_eq!(
            suite_weaknesses(0x008C),
            ["no forward secrecy", "no certificate authentication", "CBC"]
        );
        assert_eq!(
            suite_weaknesses(0x0002),
            ["static RSA key exchange", "no encryption"]
        );
        assert_eq!(suite_weaknesses(0xC02F), Vec::<&str>::new());
    }

    #[test]
    fn empty_offers_are_described_as_empty() {
        let v = Reason::NoAllowedVersion {
            offered: Vec::new(),
            allowed: vec![Tls12, Tls13],
        };
        assert_eq!(
            v.to_string(),
            "offers no TLS version; the policy requires TLS 1.2 or TLS 1.3"
        );
        let g = Reason::NoAllowedGroup {
            offered: Vec::new(),
        };
        assert_eq!(g.to_string(), "no key-exchange group offered");
    }

    #[test]
    fn a_policy_that_allows_static_rsa_or_cbc_does_not_blame_a_missing_suite_on_them() {
        // AWS IoT's oldest policy allows static RSA: a client with only 3DES lacks an
        // allowed suite, not forward secrecy.
        let iot = TlsPolicy::named("IoTSecurityPolicy_TLS12_1_0_2015_01").unwrap();
        assert!(!iot.requires_forward_secrecy());
        let offer = Offer::new(vec![Tls12], vec![0x000A]).with_groups(vec![NamedGroup::P256]);
        assert_eq!(
            iot.evaluate_offer(&offer).reasons,
            [Reason::NoAllowedSuite {
                offered: vec![0x000A]
            }]
        );
        // legacy-pfs allows ECDHE with CBC: ECDHE with 3DES lacks an allowed suite, not AEAD.
        let legacy = TlsPolicy::named("legacy-pfs").unwrap();
        assert!(legacy.requires_forward_secrecy());
        assert!(!legacy.requires_aead());
        let offer = Offer::new(vec![Tls12], vec![0xC012]).with_groups(vec![NamedGroup::P256]);
        assert_eq!(
            legacy.evaluate_offer(&offer).reasons,
            [Reason::NoAllowedSuite {
                offered: vec![0xC012]
            }]
        );
        assert!(intermediate().requires_forward_secrecy() && intermediate().requires_aead());
    }
}
