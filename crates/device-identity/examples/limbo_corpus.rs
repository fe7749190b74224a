//! Generates edgeward's x509-limbo corpus of hard cases: `tests/fixtures/limbo/corpus.json`.
//!
//! ```sh
//! cargo run -p edgeward-device-identity --example limbo_corpus [OUT.json]
//! ```
//!
//! Certificates come from rcgen, and from `openssl` (on the PATH) where rcgen cannot make them:
//! RSA-1024 and P-192 keys, SHA-1 signatures. The expected results are what RFC 5280 plus the
//! device policy demand (stricter than RFC 5280 alone where the issue says so: an expired root,
//! a missing EKU, weak keys and SHA-1 are refused), never the output of our validator.
//!
//! All certificates are valid around one base time T (the generation time, whole seconds) unless
//! a case needs otherwise; every case validates at T + 1 hour.

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, NameConstraints, RevokedCertParams, SanType, SerialNumber,
};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// A CA (or any certificate) with its key, able to issue.
struct Node {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

impl Node {
    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

struct Spec<'a> {
    cn: &'a str,
    ca: Option<Option<u8>>,
    explicit_not_ca: bool,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    eku: Vec<ExtendedKeyUsagePurpose>,
    dns: Vec<&'a str>,
    name_constraint: Option<&'a str>,
    serial: u64,
}

impl<'a> Spec<'a> {
    fn ca(cn: &'a str, t: OffsetDateTime, serial: u64) -> Self {
        Self {
            cn,
            ca: Some(None),
            explicit_not_ca: false,
            not_before: t - Duration::days(30),
            not_after: t + Duration::days(3650),
            eku: Vec::new(),
            dns: Vec::new(),
            name_constraint: None,
            serial,
        }
    }

    fn leaf(cn: &'a str, t: OffsetDateTime, serial: u64) -> Self {
        Self {
            cn,
            ca: None,
            explicit_not_ca: true,
            not_before: t - Duration::days(1),
            not_after: t + Duration::days(7),
            eku: vec![ExtendedKeyUsagePurpose::ClientAuth],
            dns: Vec::new(),
            name_constraint: None,
            serial,
        }
    }

    fn params(&self) -> Res<CertificateParams> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "edgeward limbo corpus");
        dn.push(DnType::CommonName, self.cn);
        p.distinguished_name = dn;
        p.not_before = self.not_before;
        p.not_after = self.not_after;
        p.serial_number = Some(SerialNumber::from_slice(&self.serial.to_be_bytes()));
        p.use_authority_key_identifier_extension = true;
        p.key_identifier_method = KeyIdMethod::Sha256;
        match self.ca {
            Some(path_len) => {
                p.is_ca = IsCa::Ca(match path_len {
                    Some(n) => BasicConstraints::Constrained(n),
                    None => BasicConstraints::Unconstrained,
                });
                p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            }
            None => {
                p.is_ca = if self.explicit_not_ca {
                    IsCa::ExplicitNoCa
                } else {
                    IsCa::NoCa
                };
                p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            }
        }
        p.extended_key_usages = self.eku.clone();
        for d in &self.dns {
            p.subject_alt_names.push(SanType::DnsName((*d).try_into()?));
        }
        if let Some(permitted) = self.name_constraint {
            p.name_constraints = Some(NameConstraints {
                permitted_subtrees: vec![GeneralSubtree::DnsName(permitted.to_owned())],
                excluded_subtrees: Vec::new(),
            });
        }
        Ok(p)
    }

    fn self_signed(&self) -> Res<Node> {
        let params = self.params()?;
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let pem = params.self_signed(&key)?.pem();
        Ok(Node { params, key, pem })
    }

    fn signed_by(&self, issuer: &Node) -> Res<Node> {
        self.signed_by_with_key(
            issuer,
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
        )
    }

    fn signed_by_with_key(&self, issuer: &Node, key: KeyPair) -> Res<Node> {
        let params = self.params()?;
        let pem = params.signed_by(&key, &issuer.issuer())?.pem();
        Ok(Node { params, key, pem })
    }
}

fn openssl(dir: &Path, args: &[&str]) -> Res<()> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()?;
    if !out.status.success() {
        return Err(format!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

/// Has openssl issue a client certificate with key `newkey` and digest `digest`, signed by `ca`.
fn openssl_leaf(dir: &Path, ca: &Node, name: &str, newkey: &[&str], digest: &str) -> Res<String> {
    std::fs::write(dir.join("ca.pem"), &ca.pem)?;
    std::fs::write(dir.join("ca.key"), ca.key.serialize_pem())?;
    openssl_cert(dir, ("ca.pem", "ca.key"), name, newkey, digest, LEAF_EXT)
}

const LEAF_EXT: &str =
    "basicConstraints=critical,CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n";
const CA_EXT: &str = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";

/// Has openssl make a key (`<name>.key`) and a certificate (`<name>.pem`) signed by the issuer
/// files, with the given extensions; returns the certificate PEM.
fn openssl_cert(
    dir: &Path,
    issuer: (&str, &str),
    name: &str,
    newkey: &[&str],
    digest: &str,
    ext: &str,
) -> Res<String> {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let pem = format!("{name}.pem");
    let mut req = vec![
        "req",
        "-new",
        "-nodes",
        "-keyout",
        key.as_str(),
        "-out",
        csr.as_str(),
    ];
    req.extend_from_slice(newkey);
    let subj = format!("/O=edgeward limbo corpus/CN={name}");
    req.extend_from_slice(&["-subj", subj.as_str()]);
    openssl(dir, &req)?;
    std::fs::write(dir.join("ext.cnf"), ext)?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            issuer.0,
            "-CAkey",
            issuer.1,
            "-set_serial",
            "4242",
            "-days",
            "3650",
            digest,
            "-extfile",
            "ext.cnf",
            "-out",
            &pem,
        ],
    )?;
    Ok(std::fs::read_to_string(dir.join(pem))?)
}

struct Case {
    id: &'static str,
    description: &'static str,
    kind: &'static str,
    trusted: Vec<String>,
    intermediates: Vec<String>,
    peer: String,
    peer_name: Option<&'static str>,
    eku: &'static [&'static str],
    max_depth: Option<u64>,
    crls: Vec<String>,
    expected: &'static str,
}

impl Case {
    fn client(
        id: &'static str,
        description: &'static str,
        root: &Node,
        intermediates: &[&Node],
        peer: &Node,
        expected: &'static str,
    ) -> Self {
        Self::client_pem(
            id,
            description,
            root,
            intermediates,
            peer.pem.clone(),
            expected,
        )
    }

    fn client_pem(
        id: &'static str,
        description: &'static str,
        root: &Node,
        intermediates: &[&Node],
        peer: String,
        expected: &'static str,
    ) -> Self {
        Self {
            id,
            description,
            kind: "CLIENT",
            trusted: vec![root.pem.clone()],
            intermediates: intermediates.iter().map(|n| n.pem.clone()).collect(),
            peer,
            peer_name: None,
            eku: &["clientAuth"],
            max_depth: None,
            crls: Vec::new(),
            expected,
        }
    }

    fn json(&self, validation_time: &str) -> Value {
        json!({
            "id": format!("edgeward::{}", self.id),
            "description": self.description,
            "features": [],
            "validation_kind": self.kind,
            "trusted_certs": self.trusted,
            "untrusted_intermediates": self.intermediates,
            "peer_certificate": self.peer,
            "peer_certificate_key": null,
            "validation_time": validation_time,
            "signature_algorithms": [],
            "key_usage": [],
            "extended_key_usage": self.eku,
            "expected_result": self.expected,
            "expected_peer_name": self.peer_name.map(|n| json!({"kind": "DNS", "value": n})),
            "expected_peer_names": [],
            "max_chain_depth": self.max_depth,
            "crls": self.crls,
        })
    }
}

fn main() -> Res<()> {
    let out: PathBuf = std::env::args().nth(1).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/limbo/corpus.json"),
        PathBuf::from,
    );
    let scratch = tempfile::tempdir()?;
    let dir = scratch.path();
    let t = OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp())?;
    let validation_time =
        (t + Duration::hours(1)).format(&time::format_description::well_known::Rfc3339)?;

    let root = Spec::ca("Corpus Root", t, 1).self_signed()?;
    let int = Spec::ca("Corpus Intermediate", t, 2).signed_by(&root)?;
    let leaf = Spec::leaf("device-ok", t, 3).signed_by(&int)?;
    let mut cases = vec![
        Case::client(
            "valid-client-chain",
            "A device certificate issued by an intermediate: valid.",
            &root,
            &[&int],
            &leaf,
            "SUCCESS",
        ),
        Case::client(
            "missing-intermediate",
            "The intermediate is not supplied: no path.",
            &root,
            &[],
            &leaf,
            "FAILURE",
        ),
    ];

    // Expired root: RFC 5280 leaves trust-anchor validity to the relying party; webpki ignores it.
    let mut spec = Spec::ca("Expired Root", t, 10);
    spec.not_before = t - Duration::days(400);
    spec.not_after = t - Duration::days(1);
    let expired_root = spec.self_signed()?;
    let mut spec = Spec::leaf("device-under-expired-root", t, 11);
    spec.not_after = t + Duration::days(30);
    let l = spec.signed_by(&expired_root)?;
    cases.push(Case::client(
        "expired-root",
        "The trust anchor's notAfter has passed.",
        &expired_root,
        &[],
        &l,
        "FAILURE",
    ));

    let mut spec = Spec::ca("Expired Intermediate", t, 12);
    spec.not_after = t - Duration::days(1);
    let expired_int = spec.signed_by(&root)?;
    let l = Spec::leaf("device-under-expired-intermediate", t, 13).signed_by(&expired_int)?;
    cases.push(Case::client(
        "expired-intermediate",
        "The intermediate's notAfter has passed.",
        &root,
        &[&expired_int],
        &l,
        "FAILURE",
    ));

    let mut spec = Spec::leaf("device-expired", t, 14);
    spec.not_after = t - Duration::days(1);
    let l = spec.signed_by(&int)?;
    cases.push(Case::client(
        "expired-leaf",
        "The device certificate's notAfter has passed.",
        &root,
        &[&int],
        &l,
        "FAILURE",
    ));

    let mut spec = Spec::leaf("device-not-yet-valid", t, 15);
    spec.not_before = t + Duration::days(1);
    spec.not_after = t + Duration::days(8);
    let l = spec.signed_by(&int)?;
    cases.push(Case::client(
        "not-yet-valid-leaf",
        "The device certificate's notBefore is in the future.",
        &root,
        &[&int],
        &l,
        "FAILURE",
    ));

    let mut spec = Spec::leaf("device-wrong-eku", t, 16);
    spec.eku = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let l = spec.signed_by(&int)?;
    cases.push(Case::client(
        "wrong-eku",
        "A serverAuth-only certificate presented as a client.",
        &root,
        &[&int],
        &l,
        "FAILURE",
    ));

    let mut spec = Spec::leaf("device-no-eku", t, 17);
    spec.eku = Vec::new();
    let l = spec.signed_by(&int)?;
    cases.push(Case::client(
        "missing-eku",
        "No extendedKeyUsage: the device policy requires clientAuth.",
        &root,
        &[&int],
        &l,
        "FAILURE",
    ));

    // Path length: a root with pathLenConstraint 0 cannot have an intermediate below it.
    let pl_root = Spec::ca("PathLen0 Root", t, 20)
        .clone_with_path_len(Some(0))
        .self_signed()?;
    let pl_int = Spec::ca("Below PathLen0", t, 21).signed_by(&pl_root)?;
    let l = Spec::leaf("device-pathlen", t, 22).signed_by(&pl_int)?;
    cases.push(Case::client(
        "pathlen-exceeded-root",
        "Root pathLenConstraint 0 with one intermediate.",
        &pl_root,
        &[&pl_int],
        &l,
        "FAILURE",
    ));
    let i0 = Spec::ca("Intermediate PathLen0", t, 23)
        .clone_with_path_len(Some(0))
        .signed_by(&root)?;
    let i1 = Spec::ca("Below Intermediate PathLen0", t, 24).signed_by(&i0)?;
    let l = Spec::leaf("device-pathlen-int", t, 25).signed_by(&i1)?;
    cases.push(Case::client(
        "pathlen-exceeded-intermediate",
        "Intermediate pathLenConstraint 0 with another intermediate below it.",
        &root,
        &[&i0, &i1],
        &l,
        "FAILURE",
    ));

    let mut spec = Spec::leaf("Not A CA", t, 26);
    spec.eku = Vec::new();
    let not_ca = spec.signed_by(&root)?;
    let l = Spec::leaf("device-under-non-ca", t, 27).signed_by(&not_ca)?;
    cases.push(Case::client(
        "ca-false-intermediate",
        "The issuer has basicConstraints cA FALSE.",
        &root,
        &[&not_ca],
        &l,
        "FAILURE",
    ));

    // DNS name constraints on the intermediate.
    let mut spec = Spec::ca("Constrained To example.com", t, 30);
    spec.name_constraint = Some("example.com");
    let nc = spec.signed_by(&root)?;
    let mut spec = Spec::leaf("host.example.com", t, 31);
    spec.eku = vec![ExtendedKeyUsagePurpose::ServerAuth];
    spec.dns = vec!["host.example.com"];
    let inside = spec.signed_by(&nc)?;
    let mut spec = Spec::leaf("host.example.org", t, 32);
    spec.eku = vec![ExtendedKeyUsagePurpose::ServerAuth];
    spec.dns = vec!["host.example.org"];
    let outside = spec.signed_by(&nc)?;
    let mut c = Case::client(
        "name-constraints-permitted",
        "SAN inside the permitted DNS subtree.",
        &root,
        &[&nc],
        &inside,
        "SUCCESS",
    );
    c.kind = "SERVER";
    c.eku = &["serverAuth"];
    c.peer_name = Some("host.example.com");
    cases.push(c);
    let mut c = Case::client(
        "name-constraints-violated",
        "SAN outside the permitted DNS subtree.",
        &root,
        &[&nc],
        &outside,
        "FAILURE",
    );
    c.kind = "SERVER";
    c.eku = &["serverAuth"];
    c.peer_name = Some("host.example.org");
    cases.push(c);
    let mut c = Case::client(
        "server-name-mismatch",
        "A valid server certificate for another name.",
        &root,
        &[&nc],
        &inside,
        "FAILURE",
    );
    c.kind = "SERVER";
    c.eku = &["serverAuth"];
    c.peer_name = Some("other.example.com");
    cases.push(c);

    // What rcgen cannot make: openssl.
    let weak = openssl_leaf(
        dir,
        &root,
        "device-rsa1024",
        &["-newkey", "rsa:1024"],
        "-sha256",
    )?;
    cases.push(Case::client_pem(
        "weak-rsa-key",
        "An RSA-1024 device key.",
        &root,
        &[],
        weak,
        "FAILURE",
    ));
    let p192 = openssl_leaf(
        dir,
        &root,
        "device-p192",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-192"],
        "-sha256",
    )?;
    cases.push(Case::client_pem(
        "p192-key",
        "A P-192 device key.",
        &root,
        &[],
        p192,
        "FAILURE",
    ));
    let sha1 = openssl_leaf(
        dir,
        &root,
        "device-sha1",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "-sha1",
    )?;
    cases.push(Case::client_pem(
        "sha1-signature",
        "The device certificate is signed with ecdsa-with-SHA1.",
        &root,
        &[],
        sha1,
        "FAILURE",
    ));
    let good_openssl = openssl_leaf(
        dir,
        &root,
        "device-openssl-ok",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "-sha256",
    )?;
    cases.push(Case::client_pem(
        "openssl-issued-valid",
        "A P-256 / SHA-256 device certificate made by openssl: valid.",
        &root,
        &[],
        good_openssl,
        "SUCCESS",
    ));
    let rsa_ok = openssl_leaf(
        dir,
        &root,
        "device-rsa2048",
        &["-newkey", "rsa:2048"],
        "-sha256",
    )?;
    cases.push(Case::client_pem(
        "rsa-2048-valid",
        "An RSA-2048 device key: allowed.",
        &root,
        &[],
        rsa_ok,
        "SUCCESS",
    ));

    // Weak intermediates: webpki reports these as unsupported signature algorithms when it checks
    // the signature below them; the policy names the intermediate and the rule.
    let sha1_int = openssl_cert(
        dir,
        ("ca.pem", "ca.key"),
        "intermediate-sha1",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "-sha1",
        CA_EXT,
    )?;
    let l = openssl_cert(
        dir,
        ("intermediate-sha1.pem", "intermediate-sha1.key"),
        "device-under-sha1-intermediate",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "-sha256",
        LEAF_EXT,
    )?;
    let mut c = Case::client_pem(
        "sha1-intermediate",
        "The intermediate is signed with ecdsa-with-SHA1.",
        &root,
        &[],
        l,
        "FAILURE",
    );
    c.intermediates = vec![sha1_int];
    cases.push(c);
    let p192_int = openssl_cert(
        dir,
        ("ca.pem", "ca.key"),
        "intermediate-p192",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-192"],
        "-sha256",
        CA_EXT,
    )?;
    let l = openssl_cert(
        dir,
        ("intermediate-p192.pem", "intermediate-p192.key"),
        "device-under-p192-intermediate",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "-sha256",
        LEAF_EXT,
    )?;
    let mut c = Case::client_pem(
        "p192-intermediate",
        "The intermediate has a P-192 key.",
        &root,
        &[],
        l,
        "FAILURE",
    );
    c.intermediates = vec![p192_int];
    cases.push(c);
    let rsa_int = openssl_cert(
        dir,
        ("ca.pem", "ca.key"),
        "intermediate-rsa1024",
        &["-newkey", "rsa:1024"],
        "-sha256",
        CA_EXT,
    )?;
    let l = openssl_cert(
        dir,
        ("intermediate-rsa1024.pem", "intermediate-rsa1024.key"),
        "device-under-rsa1024-intermediate",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "-sha256",
        LEAF_EXT,
    )?;
    let mut c = Case::client_pem(
        "rsa1024-intermediate",
        "The intermediate has an RSA-1024 key.",
        &root,
        &[],
        l,
        "FAILURE",
    );
    c.intermediates = vec![rsa_int];
    cases.push(c);

    // CRLs.
    let revoked = Spec::leaf("device-revoked", t, 40).signed_by(&int)?;
    let crl = CertificateRevocationListParams {
        this_update: t - Duration::hours(1),
        next_update: t + Duration::days(7),
        crl_number: SerialNumber::from_slice(&[1]),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from_slice(&40u64.to_be_bytes()),
            revocation_time: t - Duration::hours(1),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&int.issuer())?
    .pem()?;
    let mut c = Case::client(
        "revoked-by-crl",
        "The intermediate's CRL lists the device certificate.",
        &root,
        &[&int],
        &revoked,
        "FAILURE",
    );
    c.crls = vec![crl.clone()];
    cases.push(c);
    let mut c = Case::client(
        "crl-not-listing-leaf",
        "A CRL is present but does not list the device.",
        &root,
        &[&int],
        &leaf,
        "SUCCESS",
    );
    c.crls = vec![crl];
    cases.push(c);

    // Self-signed leaves.
    let selfie = Spec::leaf("device-self-signed", t, 50).self_signed()?;
    cases.push(Case::client(
        "self-signed-leaf",
        "A self-signed device certificate, not trusted.",
        &root,
        &[],
        &selfie,
        "FAILURE",
    ));
    cases.push(Case::client(
        "self-signed-leaf-as-anchor",
        "A self-signed CA:FALSE certificate trusted as its own root.",
        &selfie,
        &[],
        &selfie,
        "FAILURE",
    ));

    // Depth: three intermediates.
    let d1 = Spec::ca("Depth 1", t, 60).signed_by(&root)?;
    let d2 = Spec::ca("Depth 2", t, 61).signed_by(&d1)?;
    let d3 = Spec::ca("Depth 3", t, 62).signed_by(&d2)?;
    let deep = Spec::leaf("device-deep", t, 63).signed_by(&d3)?;
    let mut c = Case::client(
        "chain-depth-over-limit",
        "Three intermediates, max_chain_depth 2.",
        &root,
        &[&d1, &d2, &d3],
        &deep,
        "FAILURE",
    );
    c.max_depth = Some(2);
    cases.push(c);
    let mut c = Case::client(
        "chain-depth-at-limit",
        "Three intermediates, max_chain_depth 3.",
        &root,
        &[&d1, &d2, &d3],
        &deep,
        "SUCCESS",
    );
    c.max_depth = Some(3);
    cases.push(c);

    let limbo = json!({
        "version": 1,
        "testcases": cases.iter().map(|c| c.json(&validation_time)).collect::<Vec<_>>(),
    });
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(&limbo)? + "\n")?;
    eprintln!("wrote {} cases to {}", cases.len(), out.display());
    Ok(())
}

impl Spec<'_> {
    fn clone_with_path_len(mut self, path_len: Option<u8>) -> Self {
        self.ca = Some(path_len);
        self
    }
}
