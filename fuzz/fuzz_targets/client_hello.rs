//! ClientHello inspection on arbitrary bytes: parsing never panics; a complete hello parses
//! the same from exactly the bytes it consumed; evaluating it against every built-in policy
//! never panics, and an accepted verdict has no reason while a refusal names one and an alert.
#![no_main]

use edgeward_tls_policy::{
    builtin_names, parse_client_hello, ClientHelloReport, HelloProgress, TlsPolicy,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(HelloProgress::Complete { report, consumed }) = parse_client_hello(data, 16 * 1024)
    else {
        return;
    };
    assert!(consumed <= data.len());
    let again =
        ClientHelloReport::parse(&data[..consumed]).expect("the consumed bytes parse alone");
    assert_eq!(again, *report);
    let _ = serde_json::to_string(&*report).expect("a report serialises");
    for name in builtin_names() {
        let policy = TlsPolicy::named(name).expect("built-ins are valid");
        let verdict = policy.evaluate(&report);
        if verdict.accepted() {
            assert!(verdict.reasons.is_empty());
            assert!(report.cipher_suites.iter().any(|c| policy.allows_suite(*c)));
        } else {
            assert!(!verdict.to_string().is_empty());
            assert!(verdict.alert().is_some());
        }
    }
});
