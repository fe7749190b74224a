//! Certificate signing requests (fleet provisioning input from devices): parsing and signing never
//! panic, and a signed certificate carries exactly the CSR's common name as thing name.
#![no_main]

use std::sync::OnceLock;

use edgeward_device_identity::{
    csr_common_name, parse_csr_input, CaSettings, CertificateAuthority, CertificateInfo,
};
use libfuzzer_sys::fuzz_target;

fn ca() -> &'static CertificateAuthority {
    static CA: OnceLock<CertificateAuthority> = OnceLock::new();
    CA.get_or_init(|| {
        let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid time");
        CertificateAuthority::create_root(&CaSettings::new("Fuzz Provisioning CA"), now)
            .expect("CA")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(der) = parse_csr_input(data) else {
        return;
    };
    let common_name = csr_common_name(&der);
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid time");
    if let Ok(cert) = ca().sign_csr(&der, None, time::Duration::days(7), now) {
        let info = CertificateInfo::from_der(&cert).expect("we issue parseable certificates");
        let cn = common_name
            .expect("a signed CSR parsed")
            .expect("a signed CSR has a common name");
        assert_eq!(info.thing_name(), Some(cn.as_str()));
    }
});
