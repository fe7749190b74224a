//! Presigned query strings: parsing never panics, accepted expiries are 1 s to 7 days, an
//! accepted S3 query carries one (other services' need not), and canonicalising the query
//! never panics and is idempotent. The lenient read of the scope's
//! service (which words the layer's refusals) never panics either, and agrees with the parser
//! whenever the parser accepts.
#![no_main]

use edgeward_signing::{
    canonical_query, parse_presigned_query, uses_s3_rules, Headers, RequestView,
    MAX_PRESIGN_EXPIRES,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let canonical = canonical_query(text);
    assert_eq!(canonical_query(&canonical), canonical);
    let claimed = RequestView {
        method: "GET",
        path: "/",
        query: Some(text),
        headers: Headers::List(&[]),
        authority: None,
    }
    .claimed_service();
    if let Ok(parsed) = parse_presigned_query(text) {
        assert_eq!(claimed.as_deref(), Some(&*parsed.credential.service));
        match parsed.expires {
            Some(expires) => assert!(!expires.is_zero() && expires <= MAX_PRESIGN_EXPIRES),
            None => assert!(
                !uses_s3_rules(&parsed.credential.service),
                "S3 requires X-Amz-Expires"
            ),
        }
        assert!(parsed.date.is_some());
    }
});
