//! One DER certificate, as a peer sends it in TLS: inspection and full validation (path building,
//! device policy, CRL lookup) never panic, and a refusal always names a rule.
#![no_main]

use std::sync::OnceLock;

use edgeward_device_identity::{
    CaSettings, CertificateAuthority, CertificateInfo, CrlSettings, DevicePolicy, Error, Validator,
};
use libfuzzer_sys::fuzz_target;
use rustls_pki_types::{CertificateDer, UnixTime};

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid time");
        let ca = CertificateAuthority::create_root(&CaSettings::new("Fuzz Root"), now).expect("CA");
        let crl = ca
            .issue_crl(&CrlSettings::new(now, time::Duration::days(1), 1))
            .expect("CRL");
        Validator::new(&[ca.certificate().clone()], DevicePolicy::device())
            .and_then(|v| v.with_crls(&[crl]))
            .expect("validator")
    })
}

fuzz_target!(|data: &[u8]| {
    let parsed = CertificateInfo::from_der(data);
    let der = CertificateDer::from(data);
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_100));
    match validator().validate(&der, &[], at) {
        // Only a certificate our root issued could pass, and it must then inspect.
        Ok(identity) => assert_eq!(
            parsed.expect("validated certificates parse").certificate_id,
            *identity.certificate_id()
        ),
        Err(Error::Rejected { .. } | Error::MalformedCertificate { .. }) => {}
        Err(other) => panic!("unexpected error kind for an untrusted certificate: {other}"),
    }
});
