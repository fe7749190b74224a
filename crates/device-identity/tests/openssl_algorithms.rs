//! Every key and signature algorithm OpenSSL puts in a certificate, as [`CertificateInfo`] names
//! it and as the device policy judges it. OpenSSL makes the certificates when the test runs, and
//! its own `-text` output confirms each is what the row says; the expected names are those of the
//! RFCs that assign the OIDs (RFC 3279, 4055, 5480, 5639, 5758, 8410), not our output.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use edgeward_device_identity::{
    certificate_pem, load_certificates, parse_csr_input, CaSettings, CertificateAuthority,
    CertificateInfo, DeviceIdentity, DevicePolicy, Digest, Error, NamedCurve, PublicKeyKind, Rule,
    Validator,
};
use rustls_pki_types::{CertificateDer, UnixTime};

mod support;
use support::{openssl, openssl_issue, openssl_root};

const DEVICE_EXT: &str = "basicConstraints=critical,CA:FALSE\n\
                          keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";

fn certificate(dir: &Path, name: &str) -> CertificateDer<'static> {
    load_certificates(&dir.join(format!("{name}.pem")))
        .unwrap()
        .remove(0)
}

/// What `openssl x509 -text` says about `<name>.pem`.
fn openssl_text(dir: &Path, name: &str) -> String {
    let pem = format!("{name}.pem");
    String::from_utf8(openssl(&["x509", "-in", &pem, "-noout", "-text"], dir)).unwrap()
}

fn dsa_parameters(dir: &Path) {
    let args = "genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out dsa.param";
    openssl(&words(args), dir);
}

/// A command line's words (none of ours has a quoted space).
fn words(line: &str) -> Vec<&str> {
    line.split(' ').collect()
}

/// The name `rejected` names and the rule it gives.
fn refusal(rejected: Error) -> (String, Rule) {
    match rejected {
        Error::Rejected { certificate, rule } => (certificate.subject, rule),
        other => panic!("not a refusal: {other}"),
    }
}

/// Device certificates with every kind of key, all signed by a P-256 root with SHA-256: the key
/// is named (curves by their FIPS 186 / SEC 2 names, others by OID), the default policy accepts
/// RSA ≥ 2048, P-256, P-384 and Ed25519, and refuses the rest as a weak key, naming it. webpki
/// never looks at an end entity's key type, so this is the policy's check alone.
#[test]
fn every_openssl_key_type_is_named_and_judged_by_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_root(
        d,
        "root",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "-sha256",
    );
    std::fs::write(d.join("device.ext"), DEVICE_EXT).unwrap();
    dsa_parameters(d);
    let validator = Validator::new(&[certificate(d, "root")], DevicePolicy::device()).unwrap();

    // (name, openssl key options, what openssl calls it, our kind, refused as WeakKey naming…)
    let rows = [
        (
            "rsa2048",
            "-newkey rsa:2048",
            "rsaEncryption",
            PublicKeyKind::Rsa { bits: 2048 },
            None,
        ),
        (
            "rsa3072",
            "-newkey rsa:3072",
            "rsaEncryption",
            PublicKeyKind::Rsa { bits: 3072 },
            None,
        ),
        // RFC 4055 §1.2: an RSASSA-PSS key (id-RSASSA-PSS) is an RSA key like any other.
        (
            "rsapss",
            "-newkey rsa-pss -pkeyopt rsa_keygen_bits:2048",
            "rsassaPss",
            PublicKeyKind::Rsa { bits: 2048 },
            None,
        ),
        (
            "p256",
            "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
            "prime256v1",
            PublicKeyKind::Ec {
                curve: NamedCurve::P256,
            },
            None,
        ),
        (
            "p384",
            "-newkey ec -pkeyopt ec_paramgen_curve:P-384",
            "secp384r1",
            PublicKeyKind::Ec {
                curve: NamedCurve::P384,
            },
            None,
        ),
        (
            "ed25519",
            "-newkey ed25519",
            "ED25519",
            PublicKeyKind::Ed25519,
            None,
        ),
        (
            "p192",
            "-newkey ec -pkeyopt ec_paramgen_curve:prime192v1",
            "prime192v1",
            PublicKeyKind::Ec {
                curve: NamedCurve::P192,
            },
            Some("ECDSA P-192"),
        ),
        (
            "p224",
            "-newkey ec -pkeyopt ec_paramgen_curve:secp224r1",
            "secp224r1",
            PublicKeyKind::Ec {
                curve: NamedCurve::P224,
            },
            Some("ECDSA P-224"),
        ),
        (
            "p521",
            "-newkey ec -pkeyopt ec_paramgen_curve:P-521",
            "secp521r1",
            PublicKeyKind::Ec {
                curve: NamedCurve::P521,
            },
            Some("ECDSA P-521"),
        ),
        (
            "k256",
            "-newkey ec -pkeyopt ec_paramgen_curve:secp256k1",
            "secp256k1",
            PublicKeyKind::Ec {
                curve: NamedCurve::Secp256k1,
            },
            Some("ECDSA secp256k1"),
        ),
        // RFC 5639 §4.1: brainpoolP256r1 is 1.3.36.3.3.2.8.1.1.7.
        (
            "brainpool",
            "-newkey ec -pkeyopt ec_paramgen_curve:brainpoolP256r1",
            "brainpoolP256r1",
            PublicKeyKind::Ec {
                curve: NamedCurve::Other("1.3.36.3.3.2.8.1.1.7".into()),
            },
            Some("ECDSA curve 1.3.36.3.3.2.8.1.1.7"),
        ),
        (
            "ed448",
            "-newkey ed448",
            "ED448",
            PublicKeyKind::Ed448,
            Some("Ed448"),
        ),
        (
            "dsa",
            "-newkey dsa:dsa.param",
            "dsaEncryption",
            PublicKeyKind::Dsa { bits: 2048 },
            Some("DSA 2048"),
        ),
    ];
    for (name, newkey, openssl_name, kind, refused) in rows {
        let newkey = words(newkey);
        openssl_issue(d, name, &newkey, "root", "-sha256", "device.ext");
        assert!(
            openssl_text(d, name).contains(openssl_name),
            "{name}: openssl made something else"
        );
        let der = certificate(d, name);
        let info = CertificateInfo::from_der(&der).unwrap();
        assert_eq!(info.public_key, kind, "{name}");
        let verdict = validator.validate(&der, &[], UnixTime::now());
        match refused {
            None => {
                let identity = verdict.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(identity.thing_name(), Some(name));
            }
            Some(key) => {
                let (subject, rule) = refusal(verdict.unwrap_err());
                assert_eq!(subject, format!("CN={name}"));
                assert_eq!(rule, Rule::WeakKey { key: key.into() }, "{name}");
            }
        }
    }
}

/// Self-signed certificates in every signature algorithm OpenSSL makes: named as the RFCs name
/// them, with the digest inside, and MD5 and SHA-1 marked broken.
#[test]
fn every_openssl_signature_algorithm_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    dsa_parameters(d);
    for key in [
        "-algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key",
        "-algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key",
        "-paramfile dsa.param -out dsa.key",
    ] {
        openssl(&words(&format!("genpkey {key}")), d);
    }
    // (key options, digest option (none for EdDSA), what openssl calls it, RFC name, digest)
    let rows = [
        (
            "-key rsa.key",
            "-md5",
            "md5WithRSAEncryption",
            "md5WithRSAEncryption",
            Digest::Md5,
        ),
        (
            "-key rsa.key",
            "-sha1",
            "sha1WithRSAEncryption",
            "sha1WithRSAEncryption",
            Digest::Sha1,
        ),
        (
            "-key rsa.key",
            "-sha224",
            "sha224WithRSAEncryption",
            "sha224WithRSAEncryption",
            Digest::Sha224,
        ),
        (
            "-key rsa.key",
            "-sha256",
            "sha256WithRSAEncryption",
            "sha256WithRSAEncryption",
            Digest::Sha256,
        ),
        (
            "-key rsa.key",
            "-sha384",
            "sha384WithRSAEncryption",
            "sha384WithRSAEncryption",
            Digest::Sha384,
        ),
        (
            "-key rsa.key",
            "-sha512",
            "sha512WithRSAEncryption",
            "sha512WithRSAEncryption",
            Digest::Sha512,
        ),
        (
            "-newkey rsa-pss -pkeyopt rsa_keygen_bits:2048",
            "-sha256",
            "rsassaPss",
            "RSASSA-PSS",
            Digest::Intrinsic,
        ),
        (
            "-key ec.key",
            "-sha1",
            "ecdsa-with-SHA1",
            "ecdsa-with-SHA1",
            Digest::Sha1,
        ),
        (
            "-key ec.key",
            "-sha224",
            "ecdsa-with-SHA224",
            "ecdsa-with-SHA224",
            Digest::Sha224,
        ),
        (
            "-key ec.key",
            "-sha256",
            "ecdsa-with-SHA256",
            "ecdsa-with-SHA256",
            Digest::Sha256,
        ),
        (
            "-key ec.key",
            "-sha384",
            "ecdsa-with-SHA384",
            "ecdsa-with-SHA384",
            Digest::Sha384,
        ),
        (
            "-key ec.key",
            "-sha512",
            "ecdsa-with-SHA512",
            "ecdsa-with-SHA512",
            Digest::Sha512,
        ),
        (
            "-key dsa.key",
            "-sha1",
            "dsaWithSHA1",
            "dsa-with-sha1",
            Digest::Sha1,
        ),
        (
            "-key dsa.key",
            "-sha256",
            "dsa_with_SHA256",
            "dsa-with-sha256",
            Digest::Sha256,
        ),
        (
            "-newkey ed25519",
            "",
            "ED25519",
            "Ed25519",
            Digest::Intrinsic,
        ),
        ("-newkey ed448", "", "ED448", "Ed448", Digest::Intrinsic),
    ];
    for (index, (key, digest, openssl_name, name, inside)) in rows.into_iter().enumerate() {
        let cert = format!("c{index}");
        let pem = format!("{cert}.pem");
        let mut args = vec!["req", "-x509", "-nodes", "-keyout", "new.key", "-out", &pem];
        args.extend(words(key));
        // EdDSA has its digest built in: openssl refuses a digest option for it.
        if !digest.is_empty() {
            args.push(digest);
        }
        args.extend(["-subj", "/CN=algorithms", "-days", "1"]);
        openssl(&args, d);
        let said = format!("Signature Algorithm: {openssl_name}");
        assert!(
            openssl_text(d, &cert).contains(&said),
            "{key} {digest}: openssl made something else"
        );
        let info = CertificateInfo::from_der(&certificate(d, &cert)).unwrap();
        let algorithm = &info.signature_algorithm;
        assert_eq!(
            (algorithm.name.as_str(), algorithm.digest),
            (name, inside),
            "{key} {digest}"
        );
        assert_eq!(algorithm.to_string(), name);
        let broken = matches!(inside, Digest::Md5 | Digest::Sha1);
        assert_eq!(algorithm.is_broken(), broken, "{name}");
    }
}

/// No MD5 or SHA-1 signature anywhere in the path, the root's own included. webpki does not
/// check a trust anchor's self-signature, so for a SHA-1 root the policy is the only refusal; the
/// same chain under a SHA-256 root validates. For the end entity, webpki refuses too, and the
/// refusal still names the algorithm rather than webpki's error.
#[test]
fn broken_signature_algorithms_are_refused_anywhere_in_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("device.ext"), DEVICE_EXT).unwrap();
    let rsa = ["-newkey", "rsa:2048"];
    let p256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

    for (root, digest) in [("sha1-root", "-sha1"), ("sha256-root", "-sha256")] {
        openssl_root(d, root, &rsa, digest);
        let device = format!("under-{root}");
        openssl_issue(d, &device, &p256, root, "-sha256", "device.ext");
        let validator = Validator::new(&[certificate(d, root)], DevicePolicy::device()).unwrap();
        let verdict = validator.validate(&certificate(d, &device), &[], UnixTime::now());
        if root == "sha256-root" {
            assert_eq!(verdict.unwrap().thing_name(), Some(device.as_str()));
            continue;
        }
        let (subject, rule) = refusal(verdict.unwrap_err());
        assert_eq!(subject, "CN=sha1-root");
        let algorithm = "sha1WithRSAEncryption".into();
        assert_eq!(rule, Rule::WeakSignatureAlgorithm { algorithm });
    }

    // Old roots were signed with MD2, which no tool makes any more. Its OID,
    // 1.2.840.113549.1.1.2, is as long as SHA-1's 1.2.840.113549.1.1.5 (RFC 3279 §2.2.1): patched
    // into the SHA-1 root, it gives an MD2 root whose key still verifies the device below it.
    let sha1_oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05,
    ];
    let mut md2_root = certificate(d, "sha1-root").to_vec();
    let mut patched = 0;
    for at in 0..md2_root.len() - sha1_oid.len() {
        if md2_root[at..].starts_with(&sha1_oid) {
            md2_root[at + sha1_oid.len() - 1] = 0x02;
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "the signature OID is in the TBS and after it");
    let validator =
        Validator::new(&[CertificateDer::from(md2_root)], DevicePolicy::device()).unwrap();
    let verdict = validator.validate(&certificate(d, "under-sha1-root"), &[], UnixTime::now());
    let (subject, rule) = refusal(verdict.unwrap_err());
    assert_eq!(subject, "CN=sha1-root");
    let algorithm = "md2WithRSAEncryption".into();
    assert_eq!(rule, Rule::WeakSignatureAlgorithm { algorithm });

    openssl_root(d, "ec-root", &p256, "-sha256");
    for (root, device, key, digest, algorithm) in [
        (
            "sha256-root",
            "md5-device",
            &rsa[..],
            "-md5",
            "md5WithRSAEncryption",
        ),
        (
            "sha256-root",
            "sha1-device",
            &rsa[..],
            "-sha1",
            "sha1WithRSAEncryption",
        ),
        (
            "ec-root",
            "ecdsa-sha1-device",
            &p256[..],
            "-sha1",
            "ecdsa-with-SHA1",
        ),
    ] {
        openssl_issue(d, device, key, root, digest, "device.ext");
        let validator = Validator::new(&[certificate(d, root)], DevicePolicy::device()).unwrap();
        let verdict = validator.validate(&certificate(d, device), &[], UnixTime::now());
        let (subject, rule) = refusal(verdict.unwrap_err());
        assert_eq!(subject, format!("CN={device}"));
        let algorithm = algorithm.into();
        assert_eq!(rule, Rule::WeakSignatureAlgorithm { algorithm }, "{device}");
    }
}

/// CSRs made by `openssl req`, in PEM and DER: the CA signs those whose key the device policy
/// allows, keeping the device's key and the thing name, and refuses the others without issuing.
#[test]
fn openssl_csrs_are_signed_only_for_keys_the_policy_allows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = time::OffsetDateTime::now_utc();
    let ca = CertificateAuthority::create_root(&CaSettings::new("CSR Root"), now).unwrap();
    let rows = [
        ("rsa2048", "-newkey rsa:2048", None),
        ("p256", "-newkey ec -pkeyopt ec_paramgen_curve:P-256", None),
        ("p384", "-newkey ec -pkeyopt ec_paramgen_curve:P-384", None),
        ("ed25519", "-newkey ed25519", None),
        ("rsa1024", "-newkey rsa:1024", Some("RSA 1024")),
        (
            "p521",
            "-newkey ec -pkeyopt ec_paramgen_curve:P-521",
            Some("ECDSA P-521"),
        ),
        ("ed448", "-newkey ed448", Some("Ed448")),
    ];
    for (name, newkey, refused) in rows {
        let (key, csr, subject) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("/CN=csr-{name}"),
        );
        let mut args = vec!["req", "-new", "-nodes", "-keyout", &key, "-out", &csr];
        args.extend(words(newkey));
        args.extend(["-subj", &subject]);
        openssl(&args, d);
        let pem = std::fs::read(d.join(&csr)).unwrap();
        let der = openssl(&["req", "-in", &csr, "-outform", "DER"], d);
        for (form, input) in [("PEM", &pem), ("DER", &der)] {
            // A DER CSR is checked as it is read; a PEM one when it is signed.
            let signed = parse_csr_input(input)
                .and_then(|csr_der| ca.sign_csr(&csr_der, None, time::Duration::days(1), now));
            match (refused, signed) {
                (None, Ok(cert)) => {
                    let info = CertificateInfo::from_der(&cert).unwrap();
                    assert_eq!(info.thing_name(), Some(&subject[4..]), "{name} {form}");
                    let key_pem = std::fs::read_to_string(d.join(&key)).unwrap();
                    DeviceIdentity::from_pem(&certificate_pem(&cert), &key_pem)
                        .unwrap_or_else(|e| panic!("{name} {form}: not the device's key: {e}"));
                }
                (Some(key), Err(Error::MalformedCsr { reason })) => {
                    let expected = format!("public key not allowed for a device: {key}");
                    assert_eq!(reason, expected, "{name} {form}");
                }
                (_, other) => panic!("{name} {form}: {other:?}"),
            }
        }
    }
}
