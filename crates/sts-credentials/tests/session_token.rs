//! Minting and sealing: round trip, tamper resistance, rotation, expiry.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use edgeward_sts_credentials::{Error, KeyRing, MintRequest, SealingKey};
use proptest::prelude::*;

const ARN: &str = "arn:aws:sts::123456789012:assumed-role/device/thing-42";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn ring(id: &str, byte: u8) -> KeyRing {
    KeyRing::new(SealingKey::new(id, [byte; 32]).unwrap())
}

fn request() -> MintRequest {
    MintRequest::new(ARN, "thing-42", Duration::from_secs(3600))
}

#[test]
fn round_trip_returns_every_claim() {
    let ring = ring("k1", 1);
    let minted = ring.mint(&request(), now(), &SystemRandom::new()).unwrap();
    let claims = ring.open(minted.session_token(), now()).unwrap();
    assert_eq!(claims.access_key_id(), minted.access_key_id());
    assert_eq!(claims.secret_access_key(), minted.secret_access_key());
    assert_eq!(claims.principal_arn(), ARN);
    assert_eq!(claims.session_name(), "thing-42");
    assert_eq!(claims.expiry(), now() + Duration::from_secs(3600));
    assert_eq!(claims.key_id(), "k1");
    let creds = minted.to_credentials();
    assert_eq!(creds.session_token(), Some(minted.session_token()));
    assert_eq!(creds.expiry(), Some(now() + Duration::from_secs(3600)));
}

#[test]
fn access_key_and_secret_have_the_aws_shapes() {
    let ring = ring("k1", 1);
    let random = SystemRandom::new();
    let mut seen = std::collections::HashSet::new();
    let mut symbols_at = vec![std::collections::HashSet::new(); 16];
    for _ in 0..512 {
        let minted = ring.mint(&request(), now(), &random).unwrap();
        let akid = minted.access_key_id();
        assert_eq!(akid.len(), 20);
        assert!(akid.starts_with("ASIA"));
        assert!(akid[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
        let secret = minted.secret_access_key();
        assert_eq!(secret.len(), 40);
        assert!(secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'));
        assert!(seen.insert(akid.to_owned()), "access key repeated");
        for (position, symbol) in akid[4..].chars().enumerate() {
            symbols_at[position].insert(symbol);
        }
    }
    // Ten random bytes spread over sixteen symbols: every position takes nearly all 32 values
    // in 512 draws (fewer than 20 has a probability far below 1e-12), none is stuck.
    for (position, symbols) in symbols_at.iter().enumerate() {
        assert!(symbols.len() >= 20, "position {position}: only {symbols:?}");
    }
}

#[test]
fn every_single_bit_flip_of_the_token_text_is_rejected() {
    let ring = ring("k1", 1);
    let minted = ring.mint(&request(), now(), &SystemRandom::new()).unwrap();
    let token = minted.session_token().as_bytes().to_vec();
    let mut flips = 0;
    for i in 0..token.len() {
        for bit in 0..8 {
            let mut altered = token.clone();
            altered[i] ^= 1 << bit;
            flips += 1;
            if let Ok(text) = std::str::from_utf8(&altered) {
                assert!(ring.open(text, now()).is_err(), "flip {i}:{bit} accepted");
            }
        }
    }
    assert_eq!(flips, token.len() * 8);
}

#[test]
fn every_single_bit_flip_of_the_token_bytes_is_rejected() {
    let ring = ring("k1", 1);
    let minted = ring.mint(&request(), now(), &SystemRandom::new()).unwrap();
    let raw = URL_SAFE_NO_PAD.decode(minted.session_token()).unwrap();
    for i in 0..raw.len() {
        for bit in 0..8 {
            let mut altered = raw.clone();
            altered[i] ^= 1 << bit;
            let error = ring
                .open(&URL_SAFE_NO_PAD.encode(&altered), now())
                .unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::TokenTampered
                        | Error::TokenMalformed { .. }
                        | Error::TokenUnknownKey { .. }
                ),
                "flip {i}:{bit}: {error:?}"
            );
        }
    }
    // Flipping a ciphertext byte specifically is an authentication failure.
    let mut altered = raw.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    assert!(matches!(
        ring.open(&URL_SAFE_NO_PAD.encode(&altered), now()),
        Err(Error::TokenTampered)
    ));
    // Truncation and extension.
    assert!(ring
        .open(&URL_SAFE_NO_PAD.encode(&raw[..raw.len() - 1]), now())
        .is_err());
    let mut longer = raw.clone();
    longer.push(0);
    assert!(ring.open(&URL_SAFE_NO_PAD.encode(&longer), now()).is_err());
}

#[test]
fn rotation_seals_with_the_newest_and_opens_older_until_retired() {
    let mut ring = ring("2026-10", 1);
    let random = SystemRandom::new();
    let old = ring.mint(&request(), now(), &random).unwrap();
    ring.rotate(SealingKey::new("2026-11", [2; 32]).unwrap());
    let new = ring.mint(&request(), now(), &random).unwrap();
    assert_eq!(new.claims().key_id(), "2026-11");
    assert_eq!(ring.key_ids().collect::<Vec<_>>(), ["2026-10", "2026-11"]);
    assert_eq!(
        ring.open(old.session_token(), now()).unwrap().key_id(),
        "2026-10"
    );
    assert_eq!(
        ring.open(new.session_token(), now()).unwrap().key_id(),
        "2026-11"
    );
    assert!(ring.retire("2026-10"));
    assert!(matches!(
        ring.open(old.session_token(), now()),
        Err(Error::TokenUnknownKey { key_id }) if key_id == "2026-10"
    ));
    assert!(ring.open(new.session_token(), now()).is_ok());
    assert_eq!(ring.key_ids().collect::<Vec<_>>(), ["2026-11"]);
}

#[test]
fn a_foreign_key_with_the_same_id_is_tampering() {
    let ours = ring("k1", 1);
    let theirs = ring("k1", 9);
    let forged = theirs
        .mint(&request(), now(), &SystemRandom::new())
        .unwrap();
    assert!(matches!(
        ours.open(forged.session_token(), now()),
        Err(Error::TokenTampered)
    ));
}

#[test]
fn expired_tokens_are_refused() {
    let ring = ring("k1", 1);
    let minted = ring.mint(&request(), now(), &SystemRandom::new()).unwrap();
    let expiry = now() + Duration::from_secs(3600);
    assert!(ring
        .open(minted.session_token(), expiry - Duration::from_secs(1))
        .is_ok());
    assert!(matches!(
        ring.open(minted.session_token(), expiry),
        Err(Error::TokenExpired { expired_at }) if expired_at == expiry
    ));
}

#[test]
fn bad_inputs_are_refused_with_reasons() {
    assert!(SealingKey::new("", [0; 32]).is_err());
    assert!(SealingKey::new("has space", [0; 32]).is_err());
    assert!(SealingKey::new("x".repeat(33), [0; 32]).is_err());
    let ring = ring("k1", 1);
    let random = SystemRandom::new();
    assert!(ring
        .mint(
            &MintRequest::new("", "s", Duration::from_secs(1)),
            now(),
            &random
        )
        .is_err());
    assert!(ring
        .mint(
            &MintRequest::new(ARN, "s".repeat(65), Duration::from_secs(1)),
            now(),
            &random
        )
        .is_err());
    for text in ["", "AQ", "!!!!", &"A".repeat(5000)] {
        assert!(
            matches!(ring.open(text, now()), Err(Error::TokenMalformed { .. })),
            "{text}"
        );
    }
}

/// Every length limit holds exactly: at the limit accepted, one past it refused, for what is
/// minted (principal ARN 2048 bytes, session name 64) and what is opened (token text 4096
/// characters; key ID length 1 to 32; header, nonce and tag all present).
#[test]
fn length_limits_are_exact() {
    let ring = ring("k1", 1);
    let random = SystemRandom::new();
    let mint = |arn: &str, session: &str| {
        ring.mint(
            &MintRequest::new(arn, session, Duration::from_secs(60)),
            now(),
            &random,
        )
    };
    let arn = "a".repeat(2048);
    assert_eq!(
        ring.open(mint(&arn, "s").unwrap().session_token(), now())
            .unwrap()
            .principal_arn(),
        arn
    );
    assert!(matches!(
        mint(&"a".repeat(2049), "s"),
        Err(Error::InvalidSetting { .. })
    ));
    assert!(mint(ARN, &"s".repeat(64)).is_ok());
    assert!(matches!(
        mint(ARN, &"s".repeat(65)),
        Err(Error::InvalidSetting { .. })
    ));

    let too_long = |text: &str| matches!(ring.open(text, now()), Err(Error::TokenMalformed { reason }) if reason.contains("maximum token length"));
    assert!(!too_long(&"A".repeat(4096)));
    assert!(too_long(&"A".repeat(4097)));

    // Hand-made tokens: version 1, key ID length, key ID, then nonce and tag (an empty sealed
    // body). The shortest complete one reaches the AEAD, which refuses it; one byte less, or a
    // key ID length of 0 or 33, is truncated before any key is looked up.
    let token = |id_len: u8, id: &[u8], rest: usize| {
        let mut raw = vec![1, id_len];
        raw.extend_from_slice(id);
        raw.extend(std::iter::repeat_n(0u8, rest));
        URL_SAFE_NO_PAD.encode(raw)
    };
    let truncated = |text: &str| matches!(ring.open(text, now()), Err(Error::TokenMalformed { reason }) if reason == "truncated");
    assert!(matches!(
        ring.open(&token(2, b"k1", 12 + 16), now()),
        Err(Error::TokenTampered)
    ));
    assert!(truncated(&token(2, b"k1", 12 + 15)));
    assert!(truncated(&token(0, b"", 12 + 16)));
    assert!(truncated(&token(33, &[b'k'; 33], 12 + 16)));
    assert!(matches!(
        ring.open(&token(32, &[b'k'; 32], 12 + 16), now()),
        Err(Error::TokenUnknownKey { key_id }) if key_id.len() == 32
    ));
}

#[test]
fn debug_output_redacts_secrets() {
    let ring = ring("k1", 1);
    let minted = ring.mint(&request(), now(), &SystemRandom::new()).unwrap();
    let claims = format!("{:?}", minted.claims());
    let debug = format!("{minted:?} {claims} {ring:?}");
    assert!(!debug.contains(minted.secret_access_key()));
    assert!(!debug.contains(minted.session_token()));
    // What may be shown is: whose credentials, until when, sealed by which key.
    let whole = format!("{minted:?}");
    for shown in [minted.access_key_id(), ARN, "thing-42", "k1"] {
        assert!(claims.contains(shown), "{shown} missing from {claims}");
        assert!(whole.contains(shown), "{shown} missing from {whole}");
    }
    let key = SealingKey::new("k2", [7; 32]).unwrap();
    assert_eq!(key.id(), "k2");
    let key_debug = format!("{key:?}");
    assert!(
        key_debug.contains("k2") && key_debug.contains("redacted"),
        "{key_debug}"
    );
}

proptest! {
    #[test]
    fn open_never_panics_on_arbitrary_text(text in ".{0,400}") {
        let ring = ring("k1", 1);
        let _ = ring.open(&text, now());
    }

    #[test]
    fn open_never_accepts_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let ring = ring("k1", 1);
        prop_assert!(ring.open(&URL_SAFE_NO_PAD.encode(&bytes), now()).is_err());
    }

    #[test]
    fn round_trip_for_any_principal(arn in "[ -~]{1,300}", session in "[a-zA-Z0-9=,.@-]{1,64}", secs in 1u64..=43_200) {
        let ring = ring("k1", 1);
        let minted = ring.mint(&MintRequest::new(arn.clone(), session.clone(), Duration::from_secs(secs)), now(), &SystemRandom::new()).unwrap();
        let claims = ring.open(minted.session_token(), now()).unwrap();
        prop_assert_eq!(claims.principal_arn(), arn.as_str());
        prop_assert_eq!(claims.session_name(), session.as_str());
        prop_assert_eq!(claims.expiry(), now() + Duration::from_secs(secs));
    }
}

/// A token sealed by an independent implementation (pyca/cryptography's AES-GCM, see
/// `tests/vectors/make_session_token_vector.py`) opens to the claims it was built with.
#[test]
fn opens_a_token_sealed_by_pyca_cryptography() {
    let vector: serde_json::Value =
        serde_json::from_str(include_str!("vectors/session_token_python.json")).unwrap();
    let s = |k: &str| vector[k].as_str().unwrap().to_owned();
    let key: [u8; 32] = hex_decode(&s("key_hex")).try_into().unwrap();
    let ring = KeyRing::new(SealingKey::new(s("key_id"), key).unwrap());
    let expiry = UNIX_EPOCH + Duration::from_secs(vector["expiry_unix"].as_u64().unwrap());
    let claims = ring
        .open(&s("token"), expiry - Duration::from_secs(1))
        .unwrap();
    assert_eq!(claims.access_key_id(), s("access_key_id"));
    assert_eq!(claims.secret_access_key(), s("secret_access_key"));
    assert_eq!(claims.principal_arn(), s("principal_arn"));
    assert_eq!(claims.session_name(), s("session_name"));
    assert_eq!(claims.expiry(), expiry);
    assert_eq!(claims.key_id(), s("key_id"));
    assert!(matches!(
        ring.open(&s("token"), expiry),
        Err(Error::TokenExpired { .. })
    ));
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}
