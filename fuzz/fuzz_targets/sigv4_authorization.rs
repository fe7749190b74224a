//! `Authorization: AWS4-HMAC-SHA256 …` values: parsing never panics, and what parses
//! re-formats to a value that parses to the same thing. The lenient read of the scope's service
//! (which words the layer's refusals) never panics either, and agrees with the parser whenever
//! the parser accepts.
#![no_main]

use edgeward_signing::{parse_authorization_header, Headers, RequestView};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let headers = [("Authorization".to_owned(), text.to_owned())];
    let claimed = RequestView {
        method: "GET",
        path: "/",
        query: None,
        headers: Headers::List(&headers),
        authority: None,
    }
    .claimed_service();
    let Ok(parsed) = parse_authorization_header(text) else {
        return;
    };
    assert_eq!(claimed.as_deref(), Some(&*parsed.credential.service));
    let c = &parsed.credential;
    let formatted = format!(
        "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, Signature={}",
        c.access_key_id,
        c.date,
        c.region,
        c.service,
        parsed.signed_headers,
        parsed
            .signature
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let again = parse_authorization_header(&formatted).expect("a formatted authorization parses");
    assert_eq!(again, parsed);
});
