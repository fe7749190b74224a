//! Fuzz target `server_reply`: what a server sends back to an audit probe (records,
//! ServerHello / HelloRetryRequest, Certificate, ServerKeyExchange, alerts).
//!
//! Properties: never panics; `consumed` never exceeds the input; re-parsing only the complete
//! records gives the same messages and nothing incomplete; a reply that parses is still a
//! prefix-parse when cut anywhere; the ServerKeyExchange helpers never panic.
#![no_main]

use edgeward_tls_policy::audit::{dhe_prime_bits, ecdhe_group, parse_server_reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(reply) = parse_server_reply(data) else {
        return;
    };
    assert!(reply.consumed <= data.len());
    let complete = parse_server_reply(&data[..reply.consumed]).expect("complete records parse");
    assert_eq!(complete.messages, reply.messages);
    let cut = data.len() / 2;
    if let Ok(half) = parse_server_reply(&data[..cut]) {
        assert!(half.messages.len() <= reply.messages.len());
        assert_eq!(&reply.messages[..half.messages.len()], &half.messages[..]);
    }
    if let Some(ske) = reply.server_key_exchange() {
        let _ = dhe_prime_bits(ske);
        let _ = ecdhe_group(ske);
    }
});
