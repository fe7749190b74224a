//! Presigned query strings: parsing never panics, accepted expiries are 1 s to 7 days, and
//! canonicalising the query never panics and is idempotent.
#![no_main]

use edgeward_signing::{canonical_query, parse_presigned_query, MAX_PRESIGN_EXPIRES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let canonical = canonical_query(text);
    assert_eq!(canonical_query(&canonical), canonical);
    if let Ok(parsed) = parse_presigned_query(text) {
        let expires = parsed.expires.expect("presigned carries X-Amz-Expires");
        assert!(!expires.is_zero() && expires <= MAX_PRESIGN_EXPIRES);
        assert!(parsed.date.is_some());
    }
});
