//! The PKI (rcgen) and the validator together: issue, validate, refuse with the named rule.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use edgeward_device_identity::{
    create_csr, load_certificates, load_crls, load_private_key, parse_certificates,
    write_private_key_file, write_public_file, CaSettings, CacheSettings, CertificateAuthority,
    CertificateId, CertificateInfo, CertificateStatus, CrlSettings, DeviceIdentity, DevicePolicy,
    DeviceSettings, Error, InMemoryStatus, KeyFilePermissions, KeyType, LoadOptions, PrivateKey,
    PublicKeyKind, Renewal, RenewalPolicy, Rule, ServerSettings, Validator, MAX_FILE_SIZE,
};
use rustls_pki_types::{CertificateDer, UnixTime};
use time::{Duration, OffsetDateTime};

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

fn at(t: OffsetDateTime) -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.unix_timestamp() as u64))
}

fn root() -> CertificateAuthority {
    CertificateAuthority::create_root(&CaSettings::new("Test Root"), t0()).unwrap()
}

fn validator(ca: &CertificateAuthority) -> Validator {
    Validator::new(&[ca.certificate().clone()], DevicePolicy::device()).unwrap()
}

#[test]
fn device_certificate_validates_and_names_the_thing() {
    let ca = root();
    let device = ca
        .issue_device(&DeviceSettings::new("sensor-1"), t0())
        .unwrap();
    let identity = validator(&ca)
        .validate(&device.certificate, &[], at(t0() + Duration::hours(1)))
        .unwrap();
    assert_eq!(identity.thing_name(), Some("sensor-1"));
    assert_eq!(identity.path().len(), 2);
    let info = identity.info();
    assert_eq!(info.extended_key_usage, vec!["clientAuth".to_owned()]);
    assert_eq!(
        info.public_key,
        PublicKeyKind::Ec {
            curve: edgeward_device_identity::NamedCurve::P256
        }
    );
    assert_eq!(info.basic_constraints.map(|b| b.ca), Some(false));
    assert!(info.authority_key_id.is_some());
    // Device certificates live seven days by default.
    assert_eq!((info.not_after - t0()).whole_days(), 7);
}

#[test]
fn expired_device_is_refused_naming_it() {
    let ca = root();
    let device = ca
        .issue_device(&DeviceSettings::new("sensor-1"), t0())
        .unwrap();
    let err = validator(&ca)
        .validate(&device.certificate, &[], at(t0() + Duration::days(8)))
        .unwrap_err();
    let Error::Rejected { certificate, rule } = err else {
        panic!("{err}")
    };
    assert!(matches!(rule, Rule::Expired { .. }), "{rule}");
    assert!(certificate.subject.contains("sensor-1"));
}

#[test]
fn expired_root_is_refused_although_webpki_would_accept() {
    let ca = CertificateAuthority::create_root(
        &CaSettings::new("Short Root").lifetime(Duration::days(1)),
        t0(),
    )
    .unwrap();
    let device = ca
        .issue_device(
            &DeviceSettings::new("sensor-1").lifetime(Duration::days(30)),
            t0(),
        )
        .unwrap();
    let err = validator(&ca)
        .validate(&device.certificate, &[], at(t0() + Duration::days(2)))
        .unwrap_err();
    let Error::Rejected { certificate, rule } = err else {
        panic!("{err}")
    };
    assert!(matches!(rule, Rule::Expired { .. }), "{rule}");
    assert!(certificate.subject.contains("Short Root"), "{certificate}");
}

#[test]
fn server_certificate_is_refused_as_a_device() {
    let ca = root();
    let server = ca
        .issue_server(&ServerSettings::new(&["gw.example"]), t0())
        .unwrap();
    let err = validator(&ca)
        .validate(&server.certificate, &[], at(t0()))
        .unwrap_err();
    assert_eq!(
        err.rule(),
        Some(&Rule::MissingExtendedKeyUsage {
            required: "clientAuth".into()
        })
    );
    // ... and accepted for its own purpose and name.
    let v = Validator::new(&[ca.certificate().clone()], DevicePolicy::server()).unwrap();
    let name = rustls_pki_types::ServerName::try_from("gw.example").unwrap();
    v.validate_for_name(&server.certificate, &[], &name, at(t0()))
        .unwrap();
    let other = rustls_pki_types::ServerName::try_from("other.example").unwrap();
    let err = v
        .validate_for_name(&server.certificate, &[], &other, at(t0()))
        .unwrap_err();
    assert!(matches!(err.rule(), Some(Rule::NameMismatch { .. })));
}

#[test]
fn wrong_ca_is_unknown_issuer() {
    let ca = root();
    let other = CertificateAuthority::create_root(&CaSettings::new("Other Root"), t0()).unwrap();
    let device = other
        .issue_device(&DeviceSettings::new("sensor-1"), t0())
        .unwrap();
    let err = validator(&ca)
        .validate(&device.certificate, &[], at(t0()))
        .unwrap_err();
    assert_eq!(err.rule(), Some(&Rule::UnknownIssuer));
    // A different CA with the same name as ours: the signature does not verify.
    let impostor = root();
    let device = impostor
        .issue_device(&DeviceSettings::new("sensor-1"), t0())
        .unwrap();
    let err = validator(&ca)
        .validate(&device.certificate, &[], at(t0()))
        .unwrap_err();
    assert_eq!(err.rule(), Some(&Rule::BadSignature));
}

#[test]
fn three_certificate_chain_with_intermediate() {
    let ca = root();
    let intermediate = ca
        .create_intermediate(&CaSettings::new("Fleet Issuing CA").path_len(Some(0)), t0())
        .unwrap();
    let device = intermediate
        .issue_device(&DeviceSettings::new("sensor-2"), t0())
        .unwrap();
    let v = validator(&ca);
    let id = v
        .validate(
            &device.certificate,
            &[intermediate.certificate().clone()],
            at(t0()),
        )
        .unwrap();
    assert_eq!(id.path().len(), 3);
    // Without the intermediate there is no path.
    let err = v.validate(&device.certificate, &[], at(t0())).unwrap_err();
    assert_eq!(err.rule(), Some(&Rule::UnknownIssuer));
    // Max depth 0 intermediates refuses the chain, naming the intermediate.
    let strict = Validator::new(
        &[ca.certificate().clone()],
        DevicePolicy::device().with_max_intermediates(0),
    )
    .unwrap();
    let err = strict
        .validate(
            &device.certificate,
            &[intermediate.certificate().clone()],
            at(t0()),
        )
        .unwrap_err();
    let Error::Rejected { certificate, rule } = err else {
        panic!()
    };
    assert_eq!(
        rule,
        Rule::ChainTooDeep {
            max_intermediates: 0
        }
    );
    assert!(certificate.subject.contains("Fleet Issuing CA"));
}

#[test]
fn root_path_length_is_honoured() {
    let ca = CertificateAuthority::create_root(
        &CaSettings::new("Root pathlen 0").path_len(Some(0)),
        t0(),
    )
    .unwrap();
    let intermediate = ca
        .create_intermediate(&CaSettings::new("Sub CA"), t0())
        .unwrap();
    let device = intermediate
        .issue_device(&DeviceSettings::new("sensor-3"), t0())
        .unwrap();
    let err = validator(&ca)
        .validate(
            &device.certificate,
            &[intermediate.certificate().clone()],
            at(t0()),
        )
        .unwrap_err();
    let Error::Rejected { certificate, rule } = err else {
        panic!()
    };
    assert_eq!(rule, Rule::PathLengthExceeded);
    assert!(certificate.subject.contains("Root pathlen 0"));
}

#[test]
fn crl_revocation_and_cache_invalidation() {
    let ca = root();
    let device = ca
        .issue_device(&DeviceSettings::new("sensor-4"), t0())
        .unwrap();
    let v = validator(&ca).with_cache(CacheSettings::default());
    let empty = ca
        .issue_crl(&CrlSettings::new(t0(), Duration::days(7), 1))
        .unwrap();
    v.set_crls(&[empty]).unwrap();
    v.validate(&device.certificate, &[], at(t0())).unwrap();
    assert_eq!(v.cached_len(), 1);
    // A cached success must not survive a CRL that revokes it.
    let revoking = ca
        .issue_crl(
            &CrlSettings::new(t0(), Duration::days(7), 2)
                .revoke(&device.certificate)
                .unwrap(),
        )
        .unwrap();
    v.set_crls(&[revoking]).unwrap();
    assert_eq!(v.cached_len(), 0);
    let err = v.validate(&device.certificate, &[], at(t0())).unwrap_err();
    let Error::Rejected { certificate, rule } = err else {
        panic!()
    };
    assert_eq!(rule, Rule::RevokedByCrl);
    assert!(certificate.subject.contains("sensor-4"));
}

#[test]
fn stale_crl_is_refused_by_default() {
    let ca = root();
    let device = ca
        .issue_device(
            &DeviceSettings::new("sensor-5").lifetime(Duration::days(30)),
            t0(),
        )
        .unwrap();
    let crl = ca
        .issue_crl(&CrlSettings::new(t0(), Duration::days(1), 1))
        .unwrap();
    let v = validator(&ca).with_crls(&[crl]).unwrap();
    let err = v
        .validate(&device.certificate, &[], at(t0() + Duration::days(3)))
        .unwrap_err();
    assert!(
        matches!(err.rule(), Some(Rule::UnusableCrl { .. })),
        "{err}"
    );
}

#[test]
fn status_hook_and_cache() {
    let ca = root();
    let device = ca
        .issue_device(&DeviceSettings::new("sensor-6"), t0())
        .unwrap();
    let id = CertificateId::of_der(&device.certificate);
    let registry = Arc::new(InMemoryStatus::new());
    let v = validator(&ca)
        .with_status_source(registry.clone())
        .with_cache(CacheSettings::new(2, std::time::Duration::from_secs(60)));
    for status in [
        CertificateStatus::Inactive,
        CertificateStatus::Revoked,
        CertificateStatus::PendingActivation,
    ] {
        registry.set(id.clone(), status);
        let err = v.validate(&device.certificate, &[], at(t0())).unwrap_err();
        assert_eq!(err.rule(), Some(&Rule::StatusNotActive { status }));
    }
    registry.set(id.clone(), CertificateStatus::Active);
    v.validate(&device.certificate, &[], at(t0())).unwrap();
    assert_eq!(v.cached_len(), 1);
    // A status change takes effect on the next validation although the chain is cached.
    registry.set(id.clone(), CertificateStatus::Revoked);
    let err = v.validate(&device.certificate, &[], at(t0())).unwrap_err();
    assert_eq!(
        err.rule(),
        Some(&Rule::StatusNotActive {
            status: CertificateStatus::Revoked
        })
    );
    assert_eq!(v.cached_len(), 0);
    registry.set(id.clone(), CertificateStatus::Active);
    v.validate(&device.certificate, &[], at(t0())).unwrap();
    // Entries expire after the TTL: past it the chain is validated afresh (and still passes).
    assert_eq!(v.cached_len(), 1);
    v.validate(&device.certificate, &[], at(t0() + Duration::seconds(61)))
        .unwrap();
    // ... and never outlive the certificate: after notAfter the cached entry is not used.
    let err = v
        .validate(&device.certificate, &[], at(t0() + Duration::days(8)))
        .unwrap_err();
    assert!(matches!(err.rule(), Some(Rule::Expired { .. })));
    // Bounded: capacity 2.
    for n in 0..5 {
        let d = ca
            .issue_device(&DeviceSettings::new(format!("bulk-{n}")), t0())
            .unwrap();
        registry.set(
            CertificateInfo::from_der(&d.certificate)
                .unwrap()
                .certificate_id,
            CertificateStatus::Active,
        );
        v.validate(&d.certificate, &[], at(t0())).unwrap();
    }
    assert_eq!(v.cached_len(), 2);
}

#[test]
fn csr_made_on_device_signed_by_ca() {
    let ca = root();
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let csr = create_csr(&key, "provisioned-7").unwrap();
    let cert = ca.sign_csr(&csr, None, Duration::days(7), t0()).unwrap();
    let info = CertificateInfo::from_der(&cert).unwrap();
    assert_eq!(info.thing_name(), Some("provisioned-7"));
    // The certificate carries the device's key: the identity loads and matches.
    let identity = DeviceIdentity::from_pem(
        &edgeward_device_identity::certificate_pem(&cert),
        &key.to_pem(),
    )
    .unwrap();
    validator(&ca)
        .validate(&identity.chain()[0], &[], at(t0()))
        .unwrap();
    // A tampered CSR is refused.
    let mut bad = csr.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(matches!(
        ca.sign_csr(&bad, None, Duration::days(7), t0()),
        Err(Error::MalformedCsr { .. })
    ));
}

#[test]
fn rsa_root_option() {
    let ca = CertificateAuthority::create_root(
        &CaSettings::new("RSA Root").key_type(KeyType::Rsa2048),
        t0(),
    )
    .unwrap();
    let info = CertificateInfo::from_der(ca.certificate()).unwrap();
    assert_eq!(info.public_key, PublicKeyKind::Rsa { bits: 2048 });
    assert_eq!(info.signature_algorithm.name, "sha256WithRSAEncryption");
    assert_eq!(
        info.key_usage,
        vec![
            "digitalSignature".to_owned(),
            "keyCertSign".into(),
            "cRLSign".into()
        ]
    );
    let device = ca
        .issue_device(&DeviceSettings::new("rsa-device"), t0())
        .unwrap();
    validator(&ca)
        .validate(&device.certificate, &[], at(t0()))
        .unwrap();
    // The CA reloads from its PEM files and keeps issuing.
    let reloaded = CertificateAuthority::from_pem(&ca.certificate_pem(), ca.key_pem()).unwrap();
    let device = reloaded
        .issue_device(&DeviceSettings::new("rsa-device-2"), t0())
        .unwrap();
    validator(&ca)
        .validate(&device.certificate, &[], at(t0()))
        .unwrap();
}

#[test]
fn renewal_thresholds() {
    let ca = root();
    let device = ca
        .issue_device(&DeviceSettings::new("sensor-8"), t0())
        .unwrap();
    let info = CertificateInfo::from_der(&device.certificate).unwrap();
    let policy = RenewalPolicy::default();
    assert!(matches!(
        policy.check(&info, t0() + Duration::days(5)),
        Renewal::NotYet { .. }
    ));
    assert!(matches!(
        policy.check(&info, t0() + Duration::days(6) + Duration::hours(1)),
        Renewal::Due { .. }
    ));
    assert_eq!(
        policy.check(&info, t0() + Duration::days(8)),
        Renewal::Expired
    );
    let early = RenewalPolicy::new(Duration::days(7), Duration::days(3));
    assert!(matches!(
        early.check(&info, t0() + Duration::days(5)),
        Renewal::Due { .. }
    ));
}

#[test]
fn key_files_are_written_0600_and_loose_ones_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ca = root();
    let device = ca
        .issue_device(&DeviceSettings::new("sensor-9"), t0())
        .unwrap();
    let cert_path = dir.path().join("device.pem");
    let key_path = dir.path().join("device.key");
    std::fs::write(&cert_path, device.certificate_pem()).unwrap();
    write_private_key_file(&key_path, &device.key.to_pem()).unwrap();
    assert_eq!(
        std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let identity = DeviceIdentity::load(&cert_path, &key_path, &LoadOptions::default()).unwrap();
    assert_eq!(identity.thing_name(), Some("sensor-9"));
    assert!(!format!("{identity:?}").contains("PRIVATE"));

    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = DeviceIdentity::load(&cert_path, &key_path, &LoadOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::KeyFilePermissions { mode: 0o644, .. }));
    assert!(
        message.contains(&key_path.display().to_string()) && message.contains("chmod 600"),
        "{message}"
    );
    let allow = LoadOptions::default()
        .with_key_file_permissions(KeyFilePermissions::AllowGroupOrOtherReadable);
    DeviceIdentity::load(&cert_path, &key_path, &allow).unwrap();

    // Rewriting an existing loose file tightens it.
    write_private_key_file(&key_path, &device.key.to_pem()).unwrap();
    assert_eq!(
        std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn key_that_belongs_to_another_certificate_is_refused() {
    let ca = root();
    let a = ca.issue_device(&DeviceSettings::new("a"), t0()).unwrap();
    let b = ca.issue_device(&DeviceSettings::new("b"), t0()).unwrap();
    let err = DeviceIdentity::from_pem(&a.certificate_pem(), &b.key.to_pem()).unwrap_err();
    assert!(matches!(err, Error::KeyMismatch { .. }), "{err}");
}

#[test]
fn der_and_pem_chains_parse_alike() {
    let ca = root();
    let der: CertificateDer<'static> = ca.certificate().clone();
    let from_der = parse_certificates(&der, "der").unwrap();
    let from_pem = parse_certificates(ca.certificate_pem().as_bytes(), "pem").unwrap();
    assert_eq!(from_der, from_pem);
    assert!(matches!(
        parse_certificates(b"", "empty"),
        Err(Error::NoCertificate { .. })
    ));
    assert!(matches!(
        parse_certificates(b"\x30\x03\x02\x01\x00", "junk"),
        Err(Error::MalformedCertificate { .. })
    ));
}

/// The CRL revokes an intermediate: the refusal names the intermediate, not the device below
/// it, also when the intermediate's own (empty) CRL is loaded beside its issuer's.
#[test]
fn a_revoked_intermediate_is_named_not_the_device_below_it() {
    let ca = root();
    let intermediate = ca
        .create_intermediate(&CaSettings::new("Revoked Issuing CA"), t0())
        .unwrap();
    let device = intermediate
        .issue_device(&DeviceSettings::new("sensor-under-revoked"), t0())
        .unwrap();
    let crl = |issuer: &CertificateAuthority, revoked: Option<&CertificateDer<'_>>| {
        let mut settings = CrlSettings::new(t0(), Duration::days(7), 1);
        if let Some(certificate) = revoked {
            settings = settings.revoke(certificate).unwrap();
        }
        issuer.issue_crl(&settings).unwrap()
    };
    let root_crl = crl(&ca, Some(intermediate.certificate()));
    let intermediate_crl = crl(&intermediate, None);
    for crls in [
        vec![root_crl.clone()],
        vec![intermediate_crl.clone(), root_crl.clone()],
    ] {
        let err = validator(&ca)
            .with_crls(&crls)
            .unwrap()
            .validate(
                &device.certificate,
                &[intermediate.certificate().clone()],
                at(t0()),
            )
            .unwrap_err();
        let Error::Rejected { certificate, rule } = err else {
            panic!("{err}")
        };
        assert_eq!(rule, Rule::RevokedByCrl);
        assert_eq!(certificate.subject, "CN=Revoked Issuing CA");
    }
}

/// Two trusted roots with the same name and different keys (a root key rollover): a device is
/// checked against the root whose key signed it, not the first root with a matching name.
#[test]
fn roots_sharing_a_name_are_told_apart_by_their_keys() {
    let old = CertificateAuthority::create_root(
        &CaSettings::new("Fleet Root").lifetime(Duration::days(1)),
        t0() - Duration::days(30),
    )
    .unwrap();
    let new = CertificateAuthority::create_root(&CaSettings::new("Fleet Root"), t0()).unwrap();
    let device = new
        .issue_device(&DeviceSettings::new("sensor-after-rollover"), t0())
        .unwrap();
    let trusted = [old.certificate().clone(), new.certificate().clone()];
    let identity = Validator::new(&trusted, DevicePolicy::device())
        .unwrap()
        .validate(&device.certificate, &[], at(t0()))
        .unwrap();
    let new_id = CertificateId::of_der(new.certificate());
    assert_eq!(identity.path().last(), Some(&new_id));
}

/// The same rollover, refused: a refusal is explained with the root whose key identifier the
/// certificate names (RFC 5280 §4.2.1.1), not the first root of that name. Here the old root
/// has expired, and the device, issued by the new one, is revoked by the new root's CRL.
#[test]
fn a_refusal_after_a_rollover_is_explained_by_the_issuing_root() {
    let old = CertificateAuthority::create_root(
        &CaSettings::new("Fleet Root").lifetime(Duration::days(1)),
        t0() - Duration::days(30),
    )
    .unwrap();
    let new = CertificateAuthority::create_root(&CaSettings::new("Fleet Root"), t0()).unwrap();
    let intermediate = new
        .create_intermediate(&CaSettings::new("Fleet Issuing CA"), t0())
        .unwrap();
    let old_intermediate = new
        .create_intermediate(
            &CaSettings::new("Fleet Issuing CA").lifetime(Duration::days(1)),
            t0() - Duration::days(30),
        )
        .unwrap();
    let device = new
        .issue_device(&DeviceSettings::new("sensor-revoked"), t0())
        .unwrap();
    let below = intermediate
        .issue_device(&DeviceSettings::new("sensor-revoked-below"), t0())
        .unwrap();
    let crl = new
        .issue_crl(
            &CrlSettings::new(t0(), Duration::days(7), 1)
                .revoke(&device.certificate)
                .unwrap()
                .revoke(intermediate.certificate())
                .unwrap(),
        )
        .unwrap();
    for trusted in [
        [old.certificate().clone(), new.certificate().clone()],
        [new.certificate().clone(), old.certificate().clone()],
    ] {
        let v = Validator::new(&trusted, DevicePolicy::device())
            .unwrap()
            .with_crls(std::slice::from_ref(&crl))
            .unwrap();
        let err = v.validate(&device.certificate, &[], at(t0())).unwrap_err();
        let Error::Rejected { certificate, rule } = err else {
            panic!("{err:?}")
        };
        assert_eq!(rule, Rule::RevokedByCrl);
        assert!(
            certificate.subject.contains("sensor-revoked"),
            "{certificate:?}"
        );

        let err = v
            .validate(
                &below.certificate,
                std::slice::from_ref(intermediate.certificate()),
                at(t0()),
            )
            .unwrap_err();
        let Error::Rejected { certificate, rule } = err else {
            panic!("{err:?}")
        };
        assert_eq!(rule, Rule::RevokedByCrl);
        assert!(
            certificate.subject.contains("Fleet Issuing CA"),
            "{certificate:?}"
        );
        assert_eq!(
            certificate.id,
            CertificateId::of_der(intermediate.certificate())
        );

        // The same for intermediates: an expired one of the same name, offered first, is not
        // the one blamed.
        let err = v
            .validate(
                &below.certificate,
                &[
                    old_intermediate.certificate().clone(),
                    intermediate.certificate().clone(),
                ],
                at(t0()),
            )
            .unwrap_err();
        let Error::Rejected { certificate, rule } = err else {
            panic!("{err:?}")
        };
        assert_eq!(rule, Rule::RevokedByCrl);
        assert_eq!(
            certificate.id,
            CertificateId::of_der(intermediate.certificate())
        );
    }
}

/// webpki reports the gravest failure of all the paths it tried: here an expired intermediate
/// offered alongside (same name, another key), while the device's own issuer leads to an
/// untrusted root. The refusal names the expired certificate and its date, never the device,
/// which has not expired.
#[test]
fn an_expiry_on_another_path_names_the_expired_certificate() {
    let trusted = CertificateAuthority::create_root(&CaSettings::new("Fleet Root"), t0()).unwrap();
    let expired = trusted
        .create_intermediate(
            &CaSettings::new("Fleet Issuing CA").lifetime(Duration::days(1)),
            t0() - Duration::days(30),
        )
        .unwrap();
    let untrusted =
        CertificateAuthority::create_root(&CaSettings::new("Other Root"), t0()).unwrap();
    let issuer = untrusted
        .create_intermediate(&CaSettings::new("Fleet Issuing CA"), t0())
        .unwrap();
    let device = issuer
        .issue_device(&DeviceSettings::new("sensor-elsewhere"), t0())
        .unwrap();
    let err = validator(&trusted)
        .validate(
            &device.certificate,
            &[expired.certificate().clone(), issuer.certificate().clone()],
            at(t0()),
        )
        .unwrap_err();
    let Error::Rejected { certificate, rule } = err else {
        panic!("{err:?}")
    };
    let expired_info = CertificateInfo::from_der(expired.certificate()).unwrap();
    assert_eq!(
        certificate.id, expired_info.certificate_id,
        "{certificate:?}"
    );
    assert_eq!(
        rule,
        Rule::Expired {
            not_after: "2026-12-17T08:00:00Z".into()
        }
    );
    assert_eq!(
        expired_info.not_after,
        t0() - Duration::days(29),
        "the date above is the intermediate's"
    );
}

/// RFC 5280 §4.1.2.5: the validity period includes notBefore and notAfter. One second outside
/// either is refused, with the bound in RFC 3339 (1_800_000_000 is 2027-01-15T08:00:00Z; devices
/// are issued valid from five minutes before `now` for seven days).
#[test]
fn validity_bounds_are_inclusive_and_named_in_rfc_3339() {
    let ca = root();
    let device = ca
        .issue_device(&DeviceSettings::new("sensor-bounds"), t0())
        .unwrap();
    let v = validator(&ca);
    let not_before = t0() - Duration::minutes(5);
    let not_after = t0() + Duration::days(7);
    for inside in [not_before, not_after] {
        v.validate(&device.certificate, &[], at(inside)).unwrap();
    }
    let early = v
        .validate(
            &device.certificate,
            &[],
            at(not_before - Duration::seconds(1)),
        )
        .unwrap_err();
    assert_eq!(
        early.rule(),
        Some(&Rule::NotYetValid {
            not_before: "2027-01-15T07:55:00Z".into()
        })
    );
    let late = v
        .validate(
            &device.certificate,
            &[],
            at(not_after + Duration::seconds(1)),
        )
        .unwrap_err();
    assert_eq!(
        late.rule(),
        Some(&Rule::Expired {
            not_after: "2027-01-22T08:00:00Z".into()
        })
    );
}

#[test]
fn the_cache_keeps_at_most_its_capacity() {
    let ca = root();
    let v = validator(&ca).with_cache(CacheSettings::new(2, std::time::Duration::from_secs(60)));
    for (n, expected) in [(1, 1), (2, 2), (3, 2), (4, 2)] {
        let device = ca
            .issue_device(&DeviceSettings::new(format!("cached-{n}")), t0())
            .unwrap();
        v.validate(&device.certificate, &[], at(t0())).unwrap();
        assert_eq!(v.cached_len(), expected, "after {n} devices");
    }
    let none = validator(&ca).with_cache(CacheSettings::new(0, std::time::Duration::from_secs(60)));
    let device = ca
        .issue_device(&DeviceSettings::new("never-cached"), t0())
        .unwrap();
    none.validate(&device.certificate, &[], at(t0())).unwrap();
    assert_eq!(none.cached_len(), 0);
}

/// A refusal's message names the certificate by subject and ID, and says the rule.
#[test]
fn a_refusal_message_names_the_certificate_and_the_rule() {
    let ca = root();
    let device = ca
        .issue_device(&DeviceSettings::new("sensor-switched-off"), t0())
        .unwrap();
    let id = CertificateId::of_der(&device.certificate);
    let registry = Arc::new(InMemoryStatus::new());
    registry.set(id.clone(), CertificateStatus::Inactive);
    let v = validator(&ca).with_status_source(registry.clone());
    let message = v
        .validate(&device.certificate, &[], at(t0()))
        .unwrap_err()
        .to_string();
    for part in ["CN=sensor-switched-off", id.as_str(), "INACTIVE"] {
        assert!(message.contains(part), "{part} missing from: {message}");
    }
    // Forgotten by the registry: not registered any more.
    registry.remove(&id);
    let err = v.validate(&device.certificate, &[], at(t0())).unwrap_err();
    assert_eq!(err.rule(), Some(&Rule::NotRegistered));
}

/// The statuses as AWS IoT spells them (`CertificateDescription.status` in the AWS IoT API
/// reference), and nothing else: the spelling is exact.
#[test]
fn registry_statuses_read_and_print_as_aws_iot_spells_them() {
    for (text, status) in [
        ("ACTIVE", CertificateStatus::Active),
        ("INACTIVE", CertificateStatus::Inactive),
        ("REVOKED", CertificateStatus::Revoked),
        ("PENDING_ACTIVATION", CertificateStatus::PendingActivation),
    ] {
        assert_eq!(CertificateStatus::parse(text), Some(status));
        assert_eq!(status.as_str(), text);
        assert_eq!(status.to_string(), text);
    }
    for other in ["active", "PENDING_TRANSFER", "", "ACTIVE "] {
        assert_eq!(CertificateStatus::parse(other), None, "{other:?}");
    }
}

/// RFC 5280 §4.1.2.2: serials are positive, at most 20 octets, unique per CA. Ours are 16 random
/// octets with the top bit clear (positive without a leading zero octet) and the next bit set (so
/// always 16 octets long).
#[test]
fn serial_numbers_are_positive_sixteen_octet_and_distinct() {
    let ca = root();
    let mut seen = std::collections::HashSet::new();
    for n in 0..64 {
        let device = ca
            .issue_device(&DeviceSettings::new(format!("serial-{n}")), t0())
            .unwrap();
        let serial = CertificateInfo::from_der(&device.certificate)
            .unwrap()
            .serial;
        assert_eq!(serial.len(), 32, "{serial}");
        let first = u8::from_str_radix(&serial[..2], 16).unwrap();
        assert_eq!(first & 0xc0, 0x40, "{serial}");
        assert!(seen.insert(serial));
    }
}

/// Every key-holding type names itself in `Debug` and never shows the key.
#[test]
fn debug_output_never_shows_a_private_key() {
    let ca = root();
    let device = ca
        .issue_device(&DeviceSettings::new("sensor-debug"), t0())
        .unwrap();
    let identity =
        DeviceIdentity::from_pem(&device.certificate_pem(), &device.key.to_pem()).unwrap();
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let ca_id = CertificateId::of_der(ca.certificate());
    let cases = [
        (
            format!("{identity:?}"),
            device.key.to_pem(),
            identity.certificate_id().to_string(),
        ),
        (format!("{ca:?}"), ca.key_pem().clone(), ca_id.to_string()),
        (format!("{key:?}"), key.to_pem(), "PrivateKey".to_owned()),
    ];
    for (debug, secret, named) in cases {
        assert!(debug.contains(&named), "{debug}");
        let body: String = secret.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(
            !debug.contains(&body[..16]) && !debug.contains("PRIVATE"),
            "{debug}"
        );
    }
}

#[test]
fn key_types_parse_from_their_documented_names() {
    for (names, key_type) in [
        (&["p256", "P-256", "ecdsa-p256"][..], KeyType::EcdsaP256),
        (&["p384", "P-384", "ECDSA-P384"][..], KeyType::EcdsaP384),
        (&["ed25519", "Ed25519"][..], KeyType::Ed25519),
        (&["rsa2048", "RSA-2048"][..], KeyType::Rsa2048),
        (&["rsa3072", "rsa-3072"][..], KeyType::Rsa3072),
    ] {
        for name in names {
            assert_eq!(KeyType::parse(name), Some(key_type), "{name}");
        }
    }
    for unknown in ["p521", "rsa1024", "ed448", ""] {
        assert_eq!(KeyType::parse(unknown), None, "{unknown}");
    }
}

/// Renewal is due when strictly less than the threshold is left.
#[test]
fn renewal_is_due_only_below_the_threshold() {
    let ca = root();
    let device = ca
        .issue_device(&DeviceSettings::new("sensor-renew"), t0())
        .unwrap();
    let info = CertificateInfo::from_der(&device.certificate).unwrap();
    let policy = RenewalPolicy::default();
    let at_threshold = info.not_after - Duration::days(1);
    assert_eq!(
        policy.check(&info, at_threshold),
        Renewal::NotYet {
            remaining: Duration::days(1)
        }
    );
    assert_eq!(
        policy.check(&info, at_threshold + Duration::seconds(1)),
        Renewal::Due {
            remaining: Duration::days(1) - Duration::seconds(1)
        }
    );
    assert_eq!(policy.check(&info, info.not_after), Renewal::Expired);
}

/// Files are read up to `MAX_FILE_SIZE` bytes; one byte more is refused before parsing.
#[test]
fn files_over_the_size_limit_are_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let size = usize::try_from(MAX_FILE_SIZE).unwrap();
    assert_eq!(size, 16 * 1024 * 1024, "the documented limit");
    let at_limit = dir.path().join("at-limit.pem");
    let over = dir.path().join("over.pem");
    std::fs::write(&at_limit, vec![b'x'; size]).unwrap();
    std::fs::write(&over, vec![b'x'; size + 1]).unwrap();
    // At the limit the file is read, and its bytes are not a certificate.
    let err = load_certificates(&at_limit).unwrap_err();
    assert!(matches!(err, Error::MalformedCertificate { .. }), "{err}");
    for read in [
        load_certificates(&over).map(drop),
        load_crls(&over).map(drop),
        load_private_key(
            &over,
            &LoadOptions::default()
                .with_key_file_permissions(KeyFilePermissions::AllowGroupOrOtherReadable),
        )
        .map(drop),
    ] {
        match read {
            Err(Error::Io { source, .. }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::InvalidData);
                assert!(source.to_string().contains("16 MiB"), "{source}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn public_files_are_written_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let ca = root();
    let path = dir.path().join("root.pem");
    write_public_file(&path, &ca.certificate_pem()).unwrap();
    assert_eq!(
        parse_certificates(&std::fs::read(&path).unwrap(), "root.pem").unwrap()[0],
        *ca.certificate()
    );
    let missing = dir.path().join("no-such-dir").join("root.pem");
    assert!(matches!(
        write_public_file(&missing, "x"),
        Err(Error::Io { path, .. }) if path == missing
    ));
}
