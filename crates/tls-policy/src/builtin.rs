//! The built-in named policies.

use crate::policy::{PolicySpec, Resumption, TlsPolicy};

/// Names of the built-in policies, the default first.
pub fn builtin_names() -> &'static [&'static str] {
    &[
        "intermediate",
        "modern",
        "IoTSecurityPolicy_TLS13_1_3_2022_10",
        "IoTSecurityPolicy_TLS13_1_2_2022_10",
        "IoTSecurityPolicy_TLS12_1_2_2022_10",
        "IoTSecurityPolicy_TLS12_1_0_2016_01",
        "IoTSecurityPolicy_TLS12_1_0_2015_01",
        "legacy-pfs",
    ]
}

/// A built-in policy by exact name.
pub fn builtin(name: &str) -> Option<TlsPolicy> {
    let spec = match name {
        "intermediate" => spec(
            name,
            "the default: TLS 1.2 + 1.3, ECDHE with AES-GCM or ChaCha20-Poly1305 only",
            &["TLS1.2", "TLS1.3"],
            &[TLS13, ECDHE_AEAD].concat(),
            MODERN_GROUPS,
            SIGNATURE_SCHEMES,
            Resumption::new(true, false),
        ),
        "modern" => spec(
            name,
            "TLS 1.3 only",
            &["TLS1.3"],
            TLS13,
            MODERN_GROUPS,
            SIGNATURE_SCHEMES,
            Resumption::new(true, false),
        ),
        "legacy-pfs" => spec(
            name,
            "the requirement's floor: TLS 1.0+, forward-secret suites only (ECDHE or DHE, CBC allowed); evaluate/audit only",
            &["TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"],
            &[TLS13, ECDHE_AEAD, LEGACY_PFS_EXTRA].concat(),
            &["X25519MLKEM768", "X25519", "P-256", "P-384", "P-521", "ffdhe2048", "ffdhe3072", "ffdhe4096"],
            &[SIGNATURE_SCHEMES, &["rsa_pkcs1_sha1", "ecdsa_sha1"]].concat(),
            Resumption::new(true, false),
        ),
        _ => aws_iot(name)?,
    };
    // The built-ins are constants of this file; `tests` below proves every one validates.
    TlsPolicy::from_spec(&spec).ok()
}

pub(crate) fn intermediate() -> TlsPolicy {
    match builtin("intermediate") {
        Some(p) => p,
        // Unreachable: `every_builtin_validates` below checks that "intermediate" validates.
        None => unreachable!("the intermediate built-in policy is valid"),
    }
}

fn spec(
    name: &str,
    description: &str,
    versions: &[&str],
    suites: &[&str],
    groups: &[&str],
    schemes: &[&str],
    resumption: Resumption,
) -> PolicySpec {
    let strings = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    PolicySpec {
        name: name.to_owned(),
        description: description.to_owned(),
        versions: strings(versions),
        cipher_suites: strings(suites),
        groups: strings(groups),
        signature_schemes: strings(schemes),
        resumption,
        alpn: Vec::new(),
    }
}

// rustls's preference order, so that `intermediate` and rustls's defaults negotiate the same.
const TLS13: &[&str] = &[
    "TLS_AES_256_GCM_SHA384",
    "TLS_AES_128_GCM_SHA256",
    "TLS_CHACHA20_POLY1305_SHA256",
];
const ECDHE_AEAD: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];
const LEGACY_PFS_EXTRA: &[&str] = &[
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
];
const MODERN_GROUPS: &[&str] = &["X25519MLKEM768", "X25519", "P-256", "P-384"];
// What rustls with aws-lc-rs verifies, in its order.
const SIGNATURE_SCHEMES: &[&str] = &[
    "ecdsa_secp384r1_sha384",
    "ecdsa_secp256r1_sha256",
    "ecdsa_secp521r1_sha512",
    "ed25519",
    "rsa_pss_rsae_sha512",
    "rsa_pss_rsae_sha384",
    "rsa_pss_rsae_sha256",
    "rsa_pkcs1_sha512",
    "rsa_pkcs1_sha384",
    "rsa_pkcs1_sha256",
];

// The AWS IoT Core endpoint security policies, as AWS publishes them in the table
// "Security policies" of "Transport security in AWS IoT Core",
// https://docs.aws.amazon.com/iot/latest/developerguide/transport-security.html#tls-policy-table
// (AWS IoT Core Developer Guide, retrieved 2026-11; source file
// awsdocs/aws-iot-docs developer_guide/transport-security.md). Suite rows use OpenSSL names
// there, as here.
//
// Notes on what the table does and does not say:
// - Versions: the table lists TLS 1.2 only for TLS12_1_0_2016_01 and TLS12_1_0_2015_01 (their
//   names still say "1_0", the minimum they once allowed); we follow the table.
// - TLS12_1_0_2016_01 lists AES128-SHA256 on port 443 but not on 8443/8883; we take the
//   443 column.
// - Groups and signature schemes are not published; we use X25519, P-256, P-384 and the
//   common schemes, and mark them so in the description.
// - "AWS IoT Core doesn't support the SessionTicket TLS extension": tickets off.
const AWS_TLS13: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];
const AWS_TLS12_2022: &[&str] = &[
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES128-SHA256",
    "AES128-SHA",
    "AES256-GCM-SHA384",
    "AES256-SHA256",
    "AES256-SHA",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-ECDSA-AES256-SHA",
];
const AWS_GROUPS: &[&str] = &["X25519", "P-256", "P-384"];

fn aws_iot(name: &str) -> Option<PolicySpec> {
    let (versions, suites): (&[&str], Vec<&str>) = match name {
        "IoTSecurityPolicy_TLS13_1_3_2022_10" => (&["TLS1.3"], AWS_TLS13.to_vec()),
        "IoTSecurityPolicy_TLS13_1_2_2022_10" => {
            (&["TLS1.2", "TLS1.3"], [AWS_TLS13, AWS_TLS12_2022].concat())
        }
        "IoTSecurityPolicy_TLS12_1_2_2022_10" => (&["TLS1.2"], AWS_TLS12_2022.to_vec()),
        // Same rows as TLS12_1_2_2022_10 in the published table (443 column).
        "IoTSecurityPolicy_TLS12_1_0_2016_01" => (&["TLS1.2"], AWS_TLS12_2022.to_vec()),
        // As 2016_01 plus DHE-RSA-AES256-SHA.
        "IoTSecurityPolicy_TLS12_1_0_2015_01" => (
            &["TLS1.2"],
            [AWS_TLS12_2022, &["DHE-RSA-AES256-SHA"]].concat(),
        ),
        _ => return None,
    };
    let mut groups = AWS_GROUPS.to_vec();
    if suites.contains(&"DHE-RSA-AES256-SHA") {
        groups.push("ffdhe2048");
    }
    Some(spec(
        name,
        "AWS IoT Core endpoint security policy as published (groups and signature schemes not published: common defaults)",
        versions,
        &suites,
        &groups,
        SIGNATURE_SCHEMES,
        Resumption::new(true, false),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_validates() {
        for name in builtin_names() {
            let spec = match *name {
                "intermediate" | "modern" | "legacy-pfs" => None,
                _ => aws_iot(name),
            };
            if let Some(spec) = spec {
                if let Err(e) = TlsPolicy::from_spec(&spec) {
                    panic!("{name}: {e}");
                }
            }
            assert!(builtin(name).is_some(), "{name}");
        }
    }

    #[test]
    fn intermediate_is_the_issue_policy() {
        let p = intermediate();
        assert!(p.requires_forward_secrecy() && p.requires_aead());
        let groups: Vec<String> = p.groups().iter().map(|g| g.to_string()).collect();
        assert_eq!(groups, ["X25519MLKEM768", "X25519", "P-256", "P-384"]);
        assert_eq!(p.cipher_suites().len(), 9);
    }

    #[test]
    fn aws_tls12_2022_has_the_published_eighteen_suites() {
        let p = builtin("IoTSecurityPolicy_TLS12_1_2_2022_10").unwrap_or_default();
        assert_eq!(p.cipher_suites().len(), 18);
        assert!(
            p.allows_suite(0x009C),
            "AES128-GCM-SHA256 is in AWS's table"
        );
        let p = builtin("IoTSecurityPolicy_TLS12_1_0_2015_01").unwrap_or_default();
        assert!(
            p.allows_suite(0x0039),
            "DHE-RSA-AES256-SHA is in AWS's table for 2015_01"
        );
    }
}
