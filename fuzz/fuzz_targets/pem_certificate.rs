//! PEM certificate chains (the device's certificate file): parsing never panics, every parsed
//! certificate inspects, and PEM written back parses to the same DER.
#![no_main]

use edgeward_device_identity::{
    certificate_pem, parse_certificates, CertificateId, CertificateInfo,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(chain) = parse_certificates(data, "fuzz") else {
        return;
    };
    for der in &chain {
        let info = CertificateInfo::from_der(der)
            .expect("parse_certificates only returns parseable certificates");
        assert_eq!(info.certificate_id, CertificateId::of_der(der));
        let again = parse_certificates(certificate_pem(der).as_bytes(), "roundtrip")
            .expect("our PEM parses");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].as_ref(), der.as_ref());
    }
});
