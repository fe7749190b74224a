//! Protocol versions, named groups and signature schemes: the code points a policy names.

use std::fmt;

/// A TLS (or SSL 3.0) protocol version.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolVersion {
    /// SSL 3.0 (0x0300). Listed so that reports can name it; no policy should allow it.
    Ssl3,
    /// TLS 1.0 (0x0301).
    Tls10,
    /// TLS 1.1 (0x0302).
    Tls11,
    /// TLS 1.2 (0x0303).
    Tls12,
    /// TLS 1.3 (0x0304).
    Tls13,
}

impl ProtocolVersion {
    /// Every version, oldest first.
    pub const ALL: [Self; 5] = [
        Self::Ssl3,
        Self::Tls10,
        Self::Tls11,
        Self::Tls12,
        Self::Tls13,
    ];

    /// The wire value.
    pub fn code(self) -> u16 {
        match self {
            Self::Ssl3 => 0x0300,
            Self::Tls10 => 0x0301,
            Self::Tls11 => 0x0302,
            Self::Tls12 => 0x0303,
            Self::Tls13 => 0x0304,
        }
    }

    /// The version with this wire value, if it is one of the five.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == code)
    }

    /// The canonical spelling used in policy files: `TLS1.2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ssl3 => "SSL3.0",
            Self::Tls10 => "TLS1.0",
            Self::Tls11 => "TLS1.1",
            Self::Tls12 => "TLS1.2",
            Self::Tls13 => "TLS1.3",
        }
    }

    /// Parses `TLS1.2`, `TLSv1.2`, `TLS 1.2`, `tls1_2` or `1.2` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        let norm: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| {
                if c == '_' {
                    '.'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        let norm = norm
            .strip_prefix("tlsv")
            .or_else(|| norm.strip_prefix("tls"))
            .unwrap_or(&norm);
        match norm {
            "1.0" | "1" => Some(Self::Tls10),
            "1.1" => Some(Self::Tls11),
            "1.2" => Some(Self::Tls12),
            "1.3" => Some(Self::Tls13),
            "ssl3" | "ssl3.0" | "sslv3" => Some(Self::Ssl3),
            _ => None,
        }
    }
}

impl fmt::Display for ProtocolVersion {
    /// Human form: `TLS 1.2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ssl3 => "SSL 3.0",
            Self::Tls10 => "TLS 1.0",
            Self::Tls11 => "TLS 1.1",
            Self::Tls12 => "TLS 1.2",
            Self::Tls13 => "TLS 1.3",
        })
    }
}

impl serde::Serialize for ProtocolVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The display name of a version code point: `TLS 1.2`, or `0xABCD` when unknown.
pub fn version_name(code: u16) -> String {
    match ProtocolVersion::from_code(code) {
        Some(v) => v.to_string(),
        None => format!("0x{code:04X}"),
    }
}

macro_rules! code_point_type {
    ($(#[$doc:meta])* $ty:ident, $table:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(pub u16);

        impl $ty {
            /// The canonical name, when the code point is one this crate knows.
            pub fn name(self) -> Option<&'static str> {
                $table.iter().find(|(c, _)| *c == self.0).map(|(_, names)| names[0])
            }

            /// Parses a known name or alias (case-insensitive), or a code point such as `0x001D`.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                    return u16::from_str_radix(hex, 16).ok().map(Self);
                }
                $table
                    .iter()
                    .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(s)))
                    .map(|(c, _)| Self(*c))
            }

            /// Every code point this crate has a name for.
            pub fn known() -> impl Iterator<Item = Self> {
                $table.iter().map(|(c, _)| Self(*c))
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "0x{:04X}", self.0),
                }
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_string())
            }
        }
    };
}

// Names from the IANA "TLS Supported Groups" registry; the first name is the display name.
static GROUPS: &[(u16, &[&str])] = &[
    (0x0017, &["P-256", "secp256r1", "prime256v1"]),
    (0x0018, &["P-384", "secp384r1"]),
    (0x0019, &["P-521", "secp521r1"]),
    (0x001A, &["brainpoolP256r1"]),
    (0x001B, &["brainpoolP384r1"]),
    (0x001C, &["brainpoolP512r1"]),
    (0x001D, &["X25519"]),
    (0x001E, &["X448"]),
    (0x0100, &["ffdhe2048"]),
    (0x0101, &["ffdhe3072"]),
    (0x0102, &["ffdhe4096"]),
    (0x0103, &["ffdhe6144"]),
    (0x0104, &["ffdhe8192"]),
    (0x0200, &["MLKEM512"]),
    (0x0201, &["MLKEM768"]),
    (0x0202, &["MLKEM1024"]),
    (0x11EB, &["SecP256r1MLKEM768"]),
    (0x11EC, &["X25519MLKEM768"]),
    (0x11ED, &["SecP384r1MLKEM1024"]),
];

// Names from the IANA "TLS SignatureScheme" registry.
static SIGNATURE_SCHEMES: &[(u16, &[&str])] = &[
    (0x0201, &["rsa_pkcs1_sha1"]),
    (0x0203, &["ecdsa_sha1"]),
    (0x0401, &["rsa_pkcs1_sha256"]),
    (0x0403, &["ecdsa_secp256r1_sha256"]),
    (0x0501, &["rsa_pkcs1_sha384"]),
    (0x0503, &["ecdsa_secp384r1_sha384"]),
    (0x0601, &["rsa_pkcs1_sha512"]),
    (0x0603, &["ecdsa_secp521r1_sha512"]),
    (0x0804, &["rsa_pss_rsae_sha256"]),
    (0x0805, &["rsa_pss_rsae_sha384"]),
    (0x0806, &["rsa_pss_rsae_sha512"]),
    (0x0807, &["ed25519"]),
    (0x0808, &["ed448"]),
    (0x0809, &["rsa_pss_pss_sha256"]),
    (0x080A, &["rsa_pss_pss_sha384"]),
    (0x080B, &["rsa_pss_pss_sha512"]),
    (0x081A, &["ecdsa_brainpoolP256r1tls13_sha256"]),
    (0x081B, &["ecdsa_brainpoolP384r1tls13_sha384"]),
    (0x081C, &["ecdsa_brainpoolP512r1tls13_sha512"]),
    (0x0904, &["mldsa44"]),
    (0x0905, &["mldsa65"]),
    (0x0906, &["mldsa87"]),
];

code_point_type!(
    /// A key-exchange group (IANA "TLS Supported Groups"), e.g. `X25519` = 0x001D.
    NamedGroup,
    GROUPS
);

code_point_type!(
    /// A signature scheme (IANA "TLS SignatureScheme"), e.g. `ecdsa_secp256r1_sha256` = 0x0403.
    SignatureScheme,
    SIGNATURE_SCHEMES
);

impl NamedGroup {
    /// X25519MLKEM768 (hybrid post-quantum).
    pub const X25519MLKEM768: Self = Self(0x11EC);
    /// X25519.
    pub const X25519: Self = Self(0x001D);
    /// NIST P-256 (secp256r1).
    pub const P256: Self = Self(0x0017);
    /// NIST P-384 (secp384r1).
    pub const P384: Self = Self(0x0018);
    /// NIST P-521 (secp521r1).
    pub const P521: Self = Self(0x0019);

    /// Whether this is a finite-field (DHE) group.
    pub fn is_ffdhe(self) -> bool {
        (0x0100..=0x01FF).contains(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_in_the_usual_spellings() {
        for s in ["TLS1.2", "TLSv1.2", "tls 1.2", "tls1_2", "1.2"] {
            assert_eq!(
                ProtocolVersion::parse(s),
                Some(ProtocolVersion::Tls12),
                "{s}"
            );
        }
        assert_eq!(ProtocolVersion::parse("TLS1.4"), None);
        assert_eq!(ProtocolVersion::Tls11.to_string(), "TLS 1.1");
    }

    #[test]
    fn ssl3_parses_in_its_usual_spellings() {
        for s in ["SSLv3", "ssl3", "SSL3.0", "SSL 3.0"] {
            assert_eq!(
                ProtocolVersion::parse(s),
                Some(ProtocolVersion::Ssl3),
                "{s}"
            );
        }
        assert_eq!(ProtocolVersion::parse("SSLv2"), None);
    }

    /// Code points from RFC 8446 §B.1 and RFC 6101 (SSL 3.0 is 0x0300).
    #[test]
    fn version_names_by_code_point() {
        assert_eq!(version_name(0x0300), "SSL 3.0");
        assert_eq!(version_name(0x0301), "TLS 1.0");
        assert_eq!(version_name(0x0303), "TLS 1.2");
        assert_eq!(version_name(0x0304), "TLS 1.3");
        // A TLS 1.3 draft (0x7F00 + draft number), unknown here.
        assert_eq!(version_name(0x7F1C), "0x7F1C");
    }

    /// RFC 7919 §8 gives the finite-field groups 0x0100–0x0104 and reserves 0x01FC–0x01FF
    /// for private FFDHE groups (RFC 8446 §4.2.7).
    #[test]
    fn ffdhe_groups_are_the_0x01xx_range() {
        for name in [
            "ffdhe2048",
            "ffdhe3072",
            "ffdhe4096",
            "ffdhe6144",
            "ffdhe8192",
        ] {
            assert!(NamedGroup::parse(name).unwrap().is_ffdhe(), "{name}");
        }
        assert!(NamedGroup(0x01FF).is_ffdhe());
        for group in [
            NamedGroup::X25519,
            NamedGroup::P256,
            NamedGroup::X25519MLKEM768,
            NamedGroup(0x00FF),
            NamedGroup(0x0200),
        ] {
            assert!(!group.is_ffdhe(), "{group}");
        }
    }

    #[test]
    fn groups_parse_by_alias_and_code() {
        assert_eq!(NamedGroup::parse("secp256r1"), Some(NamedGroup::P256));
        assert_eq!(
            NamedGroup::parse("x25519mlkem768"),
            Some(NamedGroup::X25519MLKEM768)
        );
        assert_eq!(NamedGroup::parse("0x001d"), Some(NamedGroup::X25519));
        assert_eq!(NamedGroup(0x1234).to_string(), "0x1234");
        assert_eq!(SignatureScheme::parse("ed25519").map(|s| s.0), Some(0x0807));
    }
}
