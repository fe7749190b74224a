//! Property tests for every parser: arbitrary and mutated input never panics, and a mutated
//! certificate never validates.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use edgeward_device_identity::{
    csr_common_name, parse_certificates, parse_crls, parse_csr_input, parse_private_key,
    CaSettings, CertificateAuthority, CertificateId, CertificateInfo, DevicePolicy, DeviceSettings,
    Validator,
};
use proptest::prelude::*;
use rustls_pki_types::{CertificateDer, UnixTime};

struct Fixture {
    validator: Validator,
    device: Vec<u8>,
    csr: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let ca = CertificateAuthority::create_root(&CaSettings::new("Prop Root"), now).unwrap();
        let device = ca
            .issue_device(&DeviceSettings::new("prop-thing"), now)
            .unwrap();
        let csr = edgeward_device_identity::create_csr(&device.key, "prop-thing").unwrap();
        Fixture {
            validator: Validator::new(&[ca.certificate().clone()], DevicePolicy::device()).unwrap(),
            device: device.certificate.to_vec(),
            csr,
        }
    })
}

fn at() -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_100))
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_certificates(&bytes, "prop");
        let _ = parse_private_key(&bytes, "prop");
        let _ = parse_crls(&bytes);
        let _ = parse_csr_input(&bytes);
        let _ = csr_common_name(&bytes);
        let _ = CertificateInfo::from_der(&bytes);
        let _ = fixture().validator.validate(&CertificateDer::from(bytes.clone()), &[], at());
    }

    #[test]
    fn arbitrary_pem_bodies_never_panic(body in "[A-Za-z0-9+/=\n]{0,600}", label in "(CERTIFICATE|PRIVATE KEY|EC PRIVATE KEY|RSA PRIVATE KEY|X509 CRL|CERTIFICATE REQUEST)") {
        let pem = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
        let _ = parse_certificates(pem.as_bytes(), "prop");
        let _ = parse_private_key(pem.as_bytes(), "prop");
        let _ = parse_crls(pem.as_bytes());
        let _ = parse_csr_input(pem.as_bytes());
    }

    #[test]
    fn a_mutated_device_certificate_never_validates(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let f = fixture();
        let mut der = f.device.clone();
        let i = index.index(der.len());
        der[i] ^= flip;
        if let Ok(info) = CertificateInfo::from_der(&der) {
            prop_assert_eq!(info.certificate_id, CertificateId::of_der(&der));
        }
        prop_assert!(f.validator.validate(&CertificateDer::from(der), &[], at()).is_err());
    }

    #[test]
    fn a_mutated_csr_is_refused_or_keeps_its_name(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let f = fixture();
        let mut der = f.csr.clone();
        let i = index.index(der.len());
        der[i] ^= flip;
        // The CSR's self-signature covers the name: a mutated CSR either fails to parse or verify,
        // or (a mutation in the signature encoding that still verifies cannot change the name).
        if let Ok(name) = csr_common_name(&der) {
            prop_assert_eq!(name.as_deref(), Some("prop-thing"));
        }
    }

    #[test]
    fn certificate_id_parse_roundtrips(bytes in proptest::array::uniform32(any::<u8>())) {
        let id = CertificateId::of_der(&bytes);
        prop_assert_eq!(CertificateId::parse(&id.as_str().to_ascii_uppercase()), Some(id.clone()));
        prop_assert_eq!(id.as_str().len(), 64);
    }
}

#[test]
fn the_unmutated_fixture_validates() {
    let f = fixture();
    f.validator
        .validate(&CertificateDer::from(f.device.clone()), &[], at())
        .unwrap();
    assert_eq!(
        csr_common_name(&f.csr).unwrap().as_deref(),
        Some("prop-thing")
    );
}
