//! Fuzzes the credentials documents: the AWS IoT credentials provider's and the
//! container-credentials endpoint's JSON, and `credential_process` output. Properties: no
//! panic; whatever parses has a non-empty printable access key and (for the temporary-credential
//! documents) an expiry and a session token.
#![no_main]

use edgeward_sts_credentials::{
    parse_container_credentials, parse_iot_credentials, parse_process_output,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for parsed in [
        parse_iot_credentials(data),
        parse_container_credentials(data),
    ] {
        if let Ok(creds) = parsed {
            assert!(!creds.access_key_id().is_empty());
            assert!(creds.access_key_id().bytes().all(|b| b.is_ascii_graphic()));
            assert!(creds.session_token().is_some_and(|t| !t.is_empty()));
            assert!(creds.expiry().is_some());
        }
    }
    let _ = parse_process_output(data);
});
