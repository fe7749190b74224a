//! SHA-256, HMAC-SHA256 and SigV4 key derivation on aws-lc-rs, plus the bounded cache of
//! derived signing keys.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use aws_lc_rs::{digest, hmac};

use crate::swar::{lanes_at_least, lanes_at_most, word, HIGH, ONES};
use zeroize::{Zeroize, Zeroizing};

/// A secret access key. Redacted in `Debug`, zeroized on drop; carries a fingerprint (a
/// SHA-256 of a domain-separated copy of the secret) that identifies it in the key cache
/// without keeping the secret there.
pub struct SecretAccessKey {
    secret: Zeroizing<String>,
    fingerprint: [u8; 32],
}

impl SecretAccessKey {
    /// Wraps a secret access key.
    pub fn new(secret: impl Into<String>) -> Self {
        let secret = Zeroizing::new(secret.into());
        let mut context = digest::Context::new(&digest::SHA256);
        context.update(b"edgeward-signing key-cache fingerprint v1\0");
        context.update(secret.as_bytes());
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(context.finish().as_ref());
        Self {
            secret,
            fingerprint,
        }
    }

    /// The secret itself (for signing; never log it).
    pub fn expose(&self) -> &str {
        &self.secret
    }

    pub(crate) fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }
}

impl fmt::Debug for SecretAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretAccessKey(** redacted **)")
    }
}

impl Clone for SecretAccessKey {
    fn clone(&self) -> Self {
        Self {
            secret: self.secret.clone(),
            fingerprint: self.fingerprint,
        }
    }
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths (aws-lc's
/// `CRYPTO_memcmp`: one pass, where `subtle`'s byte-by-byte `Choice`s cost several times
/// more on the verifier's hot path).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// Lower-case hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> [u8; 64] {
    hex64(digest::digest(&digest::SHA256, data).as_ref())
}

/// Each byte's two lower-case hex digits (one lookup per byte instead of two shifts, masks
/// and lookups; this runs twice per verification).
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0; 2]; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = [HEX[b >> 4], HEX[b & 15]];
        b += 1;
    }
    table
};

/// The lower-case hex of (up to) 32 bytes.
pub(crate) fn hex64(bytes: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
    out
}

/// Whether `text` is 64 lower-case hex digits, as SigV4 writes a SHA-256 or a signature.
pub(crate) fn is_lower_hex64(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The 32 bytes that 64 hex digits (either case) spell; `None` for any other input. Eight
/// digits per word (it runs on every verification, on the signature).
pub(crate) fn decode_hex32(digits: &[u8]) -> Option<[u8; 32]> {
    let digits: &[u8; 64] = digits.try_into().ok()?;
    let mut out = [0u8; 32];
    let mut invalid = 0;
    for (eight, four) in digits.chunks_exact(8).zip(out.chunks_exact_mut(4)) {
        let x = word(eight);
        // Setting 0x20 folds 'A'..='F' onto 'a'..='f' and leaves '0'..='9' as they are.
        let folded = x | (ONES * 0x20);
        let digit = lanes_at_least(x, b'0') & lanes_at_most(x, b'9');
        let letter = lanes_at_least(folded, b'a') & lanes_at_most(folded, b'f');
        // Non-ASCII bytes break the lane arithmetic, and are rejected here on their own.
        invalid |= x & HIGH | !(digit | letter) & HIGH;
        let nibbles = (x & (ONES * 0x0f)) + (letter >> 7) * 9;
        // Lane k (16 bits) of `pairs`: its first digit's nibble above its second's.
        let pairs = (nibbles & 0x00ff_00ff_00ff_00ff) << 4 | nibbles >> 8 & 0x00ff_00ff_00ff_00ff;
        let packed = pairs & 0xff
            | pairs >> 8 & 0xff00
            | pairs >> 16 & 0x00ff_0000
            | pairs >> 24 & 0xff00_0000;
        four.copy_from_slice(&packed.to_le_bytes()[..4]);
    }
    (invalid == 0).then_some(out)
}

/// The hex SHA-256 of the empty string.
pub(crate) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Derives the SigV4 signing key: four chained HMACs over date, region, service, `aws4_request`.
pub(crate) fn derive_signing_key(
    secret: &SecretAccessKey,
    date: &str,
    region: &str,
    service: &str,
) -> hmac::Key {
    let mut k_secret = Zeroizing::new(Vec::with_capacity(4 + secret.expose().len()));
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.expose().as_bytes());
    let mut key = [0u8; 32];
    let step = |k: &[u8], data: &[u8]| {
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k), data);
        let mut next = [0u8; 32];
        next.copy_from_slice(tag.as_ref());
        next
    };
    let mut k_date = step(&k_secret, date.as_bytes());
    let mut k_region = step(&k_date, region.as_bytes());
    let mut k_service = step(&k_region, service.as_bytes());
    key.copy_from_slice(&step(&k_service, b"aws4_request"));
    let signing = hmac::Key::new(hmac::HMAC_SHA256, &key);
    k_date.zeroize();
    k_region.zeroize();
    k_service.zeroize();
    key.zeroize();
    signing
}

/// A derived SigV4 signing key (opaque; redacted in `Debug`; cheap to clone).
#[derive(Clone)]
pub struct SigningKey(pub(crate) std::sync::Arc<hmac::Key>);

impl SigningKey {
    /// Derives the key for one credential scope.
    pub fn derive(secret: &SecretAccessKey, date: &str, region: &str, service: &str) -> Self {
        Self(std::sync::Arc::new(derive_signing_key(
            secret, date, region, service,
        )))
    }

    /// HMAC-SHA256 of `data` under this key.
    pub fn sign(&self, data: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac::sign(&self.0, data).as_ref());
        out
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(** redacted **)")
    }
}

/// Longest `date/region/service` scope that is cached (longer ones are derived every time).
const MAX_CACHED_SCOPE: usize = 128;

/// How many scopes one secret keeps keys for; the oldest gives way. A client signs for a
/// handful of services in a region or two, and the date moves on once a day; one that cycles
/// through more scopes than this still verifies, deriving its key on each miss.
const SCOPES_PER_SECRET: usize = 8;

/// A bounded cache of derived signing keys: per secret (by fingerprint), up to
/// [`SCOPES_PER_SECRET`] `date/region/service` scopes. When the whole cache is full, the keys
/// of an arbitrary half of the secrets are evicted.
///
/// A key enters the cache only once it has verified a signature ([`KeyCache::keep`]): the
/// scope is the request's, and whoever knows an access key ID (which is not secret) could
/// otherwise fill the cache with made-up regions and services, evicting everyone's keys.
/// Grouping by secret bounds what even a valid signer can do to its own few slots, and it lets
/// the map hash a fingerprint, which nobody can choose, instead of scope text, which the
/// signer does (a flat map keyed by scope needed SipHash for that).
pub(crate) struct KeyCache {
    entries: Mutex<CacheEntries>,
    capacity: usize,
}

#[derive(Default)]
struct CacheEntries {
    by_secret: HashMap<Fingerprint, ScopeKeys, foldhash::fast::RandomState>,
    /// The number of keys over all secrets.
    keys: usize,
}

/// One secret's keys, oldest first, by `date/region/service`.
type ScopeKeys = Vec<(Box<[u8]>, SigningKey)>;

/// A secret's fingerprint as a map key. A SHA-256 is uniform already, so hashing its first
/// eight bytes spreads the map as well as hashing all of it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Fingerprint([u8; 32]);

impl std::hash::Hash for Fingerprint {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(first));
    }
}

/// A signing key from [`KeyCache::get_or_derive`]: cached, or freshly derived and not cached
/// until [`KeyCache::keep`].
pub(crate) struct ScopedKey {
    pub(crate) key: SigningKey,
    /// Where a freshly derived key may be cached: its secret and its scope.
    uncached: Option<(Fingerprint, Box<[u8]>)>,
}

impl KeyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(CacheEntries::default()),
            capacity,
        }
    }

    /// The cached key for the scope, or a freshly derived one that is not cached yet.
    pub(crate) fn get_or_derive(
        &self,
        secret: &SecretAccessKey,
        date: &str,
        region: &str,
        service: &str,
    ) -> ScopedKey {
        let scope_len = date.len() + region.len() + service.len() + 2;
        if self.capacity == 0 || scope_len > MAX_CACHED_SCOPE {
            return ScopedKey {
                key: SigningKey::derive(secret, date, region, service),
                uncached: None,
            };
        }
        let mut buffer = [0u8; MAX_CACHED_SCOPE];
        let mut at = 0;
        for (index, part) in [date, region, service].into_iter().enumerate() {
            if index > 0 {
                buffer[at] = b'/';
                at += 1;
            }
            buffer[at..at + part.len()].copy_from_slice(part.as_bytes());
            at += part.len();
        }
        let scope = &buffer[..at];
        let fingerprint = Fingerprint(*secret.fingerprint());
        if let Ok(entries) = self.entries.lock() {
            let cached = entries.by_secret.get(&fingerprint).and_then(|scopes| {
                scopes
                    .iter()
                    .find(|(cached, _)| **cached == *scope)
                    .map(|(_, key)| key.clone())
            });
            if let Some(key) = cached {
                return ScopedKey {
                    key,
                    uncached: None,
                };
            }
        }
        ScopedKey {
            key: SigningKey::derive(secret, date, region, service),
            uncached: Some((fingerprint, scope.into())),
        }
    }

    /// Caches a freshly derived key; call it only once the key has verified a signature.
    pub(crate) fn keep(&self, scoped: &ScopedKey) {
        let Some((fingerprint, scope)) = &scoped.uncached else {
            return;
        };
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let entries = &mut *entries;
        let secret_full = match entries.by_secret.get(fingerprint) {
            // Another verification kept it first.
            Some(scopes) if scopes.iter().any(|(cached, _)| cached == scope) => return,
            Some(scopes) => scopes.len() >= SCOPES_PER_SECRET,
            None => false,
        };
        // A secret at its own limit replaces its oldest scope below; the total stays.
        if entries.keys >= self.capacity && !secret_full {
            let evict: Vec<Fingerprint> = entries
                .by_secret
                .keys()
                .take(entries.by_secret.len() / 2 + 1)
                .copied()
                .collect();
            for secret in evict {
                if let Some(scopes) = entries.by_secret.remove(&secret) {
                    entries.keys -= scopes.len();
                }
            }
        }
        let scopes = entries.by_secret.entry(*fingerprint).or_default();
        if scopes.len() >= SCOPES_PER_SECRET {
            scopes.remove(0);
            entries.keys -= 1;
        }
        scopes.push((scope.clone(), scoped.key.clone()));
        entries.keys += 1;
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().map(|e| e.keys).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The AWS documentation's key-derivation example (General Reference, "Examples of how to
    /// derive a signing key"): secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215,
    /// us-east-1, iam.
    #[test]
    fn derives_the_documented_key() {
        let secret = SecretAccessKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let expected = aws_sigv4::sign::v4::generate_signing_key(
            secret.expose(),
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_329_264_000),
            "us-east-1",
            "iam",
        );
        let ours = SigningKey::derive(&secret, "20120215", "us-east-1", "iam");
        let probe = b"probe";
        let theirs = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, expected.as_ref()), probe);
        assert_eq!(ours.sign(probe).as_slice(), theirs.as_ref());
        assert_eq!(
            hex::encode(expected.as_ref()),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    /// Every byte value in every position, against the `hex` crate.
    #[test]
    fn hex_matches_the_hex_crate() {
        let mut bytes = [0u8; 32];
        let mut next = 0u8;
        for b in &mut bytes {
            *b = next;
            next = next.wrapping_add(37);
        }
        for position in 0..32 {
            for value in 0..=255u8 {
                let mut input = bytes;
                input[position] = value;
                let ours = hex64(&input);
                assert_eq!(ours.as_slice(), hex::encode(input).as_bytes());
                assert_eq!(decode_hex32(&ours), Some(input));
                assert_eq!(
                    decode_hex32(hex::encode_upper(input).as_bytes()),
                    Some(input)
                );
            }
        }
        let valid = hex::encode(bytes).into_bytes();
        for position in 0..64 {
            for value in 0..=255u8 {
                let mut digits = valid.clone();
                digits[position] = value;
                let expected = hex::decode(&digits)
                    .ok()
                    .map(|v| <[u8; 32]>::try_from(v).unwrap());
                assert_eq!(decode_hex32(&digits), expected, "{position} {value}");
            }
        }
        assert_eq!(decode_hex32(&valid[..62]), None);
        assert_eq!(decode_hex32(&[valid.as_slice(), b"00"].concat()), None);
    }

    /// A plain byte-by-byte hex decoder: the model `decode_hex32` must agree with.
    fn model_decode_hex32(digits: &[u8]) -> Option<[u8; 32]> {
        fn nibble(b: u8) -> Option<u8> {
            match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                b'A'..=b'F' => Some(b - b'A' + 10),
                _ => None,
            }
        }
        if digits.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
        }
        Some(out)
    }

    /// `decode_hex32` (eight digits per word) agrees with a byte-by-byte model on every byte
    /// value at every position of a mixed-case valid string (digits, `a`-`f` and `A`-`F`, each
    /// of them in several lanes of a word), and refuses 63 and 65 digits. Written for the
    /// `decode_hex32` mutants (crypto.rs:103-123), to pin its lane arithmetic to the model
    /// rather than to round trips of our own encoder.
    #[test]
    fn decode_hex32_matches_a_byte_by_byte_model() {
        // 22 hex characters (coprime with the word's 8 lanes), repeated: every one of them
        // falls in several lanes and in both the high and the low nibble of a byte.
        let valid: Vec<u8> = b"0123456789abcdefABCDEF"
            .iter()
            .copied()
            .cycle()
            .take(64)
            .collect();
        let expected_valid = model_decode_hex32(&valid);
        assert!(expected_valid.is_some());
        assert_eq!(decode_hex32(&valid), expected_valid);
        let mut rejected = 0;
        for position in 0..64 {
            for value in 0..=255u8 {
                let mut digits = valid.clone();
                digits[position] = value;
                let expected = model_decode_hex32(&digits);
                rejected += usize::from(expected.is_none());
                assert_eq!(
                    decode_hex32(&digits),
                    expected,
                    "byte {value:#04x} at {position}"
                );
            }
        }
        // The model itself: 256 - 22 non-hex bytes at each of 64 positions.
        assert_eq!(rejected, 64 * (256 - 22));
        assert_eq!(decode_hex32(&valid[..63]), None);
        assert_eq!(decode_hex32(&[valid.as_slice(), b"0"].concat()), None);
        assert_eq!(decode_hex32(&[valid.as_slice(), b"A"].concat()), None);
    }

    #[test]
    fn cache_is_bounded_and_keyed_by_secret() {
        let cache = KeyCache::new(4);
        let a = SecretAccessKey::new("a");
        let b = SecretAccessKey::new("b");
        let derive_and_keep = |secret, date: &str| {
            let scoped = cache.get_or_derive(secret, date, "r", "s");
            cache.keep(&scoped);
            scoped.key
        };
        let ka = derive_and_keep(&a, "20200101");
        let kb = derive_and_keep(&b, "20200101");
        assert_ne!(ka.sign(b"x"), kb.sign(b"x"));
        for day in 10..30 {
            derive_and_keep(&a, &format!("202001{day}"));
            assert!(cache.len() <= 4);
        }
        assert_eq!(
            cache.get_or_derive(&a, "20200101", "r", "s").key.sign(b"x"),
            ka.sign(b"x")
        );
    }

    /// Many threads deriving, keeping and reading at once, with
    /// evictions all the time: every key handed out is the right one for its secret and
    /// scope, and the bound holds throughout.
    #[test]
    fn the_cache_holds_under_threads() {
        let cache = std::sync::Arc::new(KeyCache::new(7));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    for n in 0..3000usize {
                        let s = (n * 31 + t * 17) % 40;
                        let secret = SecretAccessKey::new(format!("secret-{s}"));
                        let region = format!("r{}", n % 11);
                        let scoped = cache.get_or_derive(&secret, "20200101", &region, "s");
                        let expected = SigningKey::derive(&secret, "20200101", &region, "s");
                        assert_eq!(scoped.key.sign(b"probe"), expected.sign(b"probe"));
                        cache.keep(&scoped);
                        assert!(cache.len() <= 7, "{}", cache.len());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let entries = cache.entries.lock().unwrap();
        let counted: usize = entries.by_secret.values().map(Vec::len).sum();
        assert_eq!(counted, entries.keys);
        assert!(entries.keys <= 7);
    }

    #[test]
    fn a_signer_churning_scopes_evicts_only_its_own_keys() {
        let cache = KeyCache::new(16);
        let keep = |secret: &SecretAccessKey, region: &str| {
            let scoped = cache.get_or_derive(secret, "20200101", region, "s");
            cache.keep(&scoped);
        };
        let steady = SecretAccessKey::new("steady");
        let churning = SecretAccessKey::new("churning");
        keep(&steady, "home");
        for n in 0..100 {
            keep(&churning, &format!("made-up-{n}"));
        }
        assert_eq!(cache.len(), 1 + SCOPES_PER_SECRET);
        assert!(is_cached(&cache, &steady, "home"));
        // Its newest scopes are the ones kept.
        assert!(is_cached(&cache, &churning, "made-up-99"));
        assert!(!is_cached(&cache, &churning, "made-up-0"));
    }

    fn is_cached(cache: &KeyCache, secret: &SecretAccessKey, region: &str) -> bool {
        cache
            .get_or_derive(secret, "20200101", region, "s")
            .uncached
            .is_none()
    }

    #[test]
    fn a_client_of_several_services_stays_cached() {
        let cache = KeyCache::new(4096);
        let secret = SecretAccessKey::new("device");
        let services = ["s3", "sts", "iot", "logs", "kinesis", "ssm"];
        for service in services {
            let scoped = cache.get_or_derive(&secret, "20200101", "eu-west-1", service);
            cache.keep(&scoped);
        }
        for service in services {
            let again = cache.get_or_derive(&secret, "20200101", "eu-west-1", service);
            assert!(again.uncached.is_none(), "{service} was evicted");
        }
    }

    #[test]
    fn a_key_kept_twice_is_cached_once() {
        let cache = KeyCache::new(16);
        let secret = SecretAccessKey::new("a");
        // Two verifications of the same scope that both missed the cache.
        let first = cache.get_or_derive(&secret, "20200101", "r", "s");
        let second = cache.get_or_derive(&secret, "20200101", "r", "s");
        cache.keep(&first);
        cache.keep(&second);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn many_secrets_stay_within_capacity() {
        let cache = KeyCache::new(10);
        for n in 0..200 {
            let secret = SecretAccessKey::new(format!("secret-{n}"));
            for region in ["r1", "r2", "r3"] {
                let scoped = cache.get_or_derive(&secret, "20200101", region, "s");
                cache.keep(&scoped);
                assert!(cache.len() <= 10);
            }
            assert!(is_cached(&cache, &secret, "r3"));
        }
    }

    #[test]
    fn a_key_is_cached_only_when_kept() {
        let cache = KeyCache::new(4);
        let secret = SecretAccessKey::new("a");
        for region in ["r1", "r2", "r3", "r4", "r5"] {
            let scoped = cache.get_or_derive(&secret, "20200101", region, "s");
            assert!(scoped.uncached.is_some());
        }
        assert_eq!(cache.len(), 0);
        let scoped = cache.get_or_derive(&secret, "20200101", "r1", "s");
        cache.keep(&scoped);
        assert_eq!(cache.len(), 1);
        let again = cache.get_or_derive(&secret, "20200101", "r1", "s");
        assert!(
            again.uncached.is_none(),
            "the kept key is served from the cache"
        );
        assert_eq!(again.key.sign(b"x"), scoped.key.sign(b"x"));
        cache.keep(&again);
        assert_eq!(cache.len(), 1);
    }

    /// A scope of exactly `MAX_CACHED_SCOPE` bytes (`date/region/service`) is cached; one a
    /// byte longer is derived every time, correctly and without touching the cache. Mutants
    /// "replace > with >= in KeyCache::get_or_derive" (crypto.rs:256:44: the longest scope is
    /// not cached), "replace > with == in KeyCache::get_or_derive" (crypto.rs:256:44: a longer
    /// one overflows the buffer), "replace + with - / * in KeyCache::get_or_derive"
    /// (crypto.rs:255, the scope's length miscounted) and "replace > with >= in
    /// KeyCache::get_or_derive" (crypto.rs:265:22: a leading `/` that overflows the buffer)
    /// each fail it.
    #[test]
    fn the_longest_cacheable_scope_is_cached_and_a_longer_one_is_not() {
        let cache = KeyCache::new(16);
        let secret = SecretAccessKey::new("a");
        // `20200101/` + region + `/s`: 8 + 1 + 117 + 1 + 1 = 128 bytes.
        let region = "r".repeat(117);
        assert_eq!(8 + 1 + region.len() + 1 + 1, MAX_CACHED_SCOPE);
        let scoped = cache.get_or_derive(&secret, "20200101", &region, "s");
        let expected = SigningKey::derive(&secret, "20200101", &region, "s");
        assert_eq!(scoped.key.sign(b"x"), expected.sign(b"x"));
        cache.keep(&scoped);
        assert_eq!(cache.len(), 1);
        assert!(is_cached(&cache, &secret, &region));

        let longer = "r".repeat(118);
        let scoped = cache.get_or_derive(&secret, "20200101", &longer, "s");
        let expected = SigningKey::derive(&secret, "20200101", &longer, "s");
        assert_eq!(scoped.key.sign(b"x"), expected.sign(b"x"));
        assert!(scoped.uncached.is_none(), "nowhere to cache it");
        cache.keep(&scoped);
        assert_eq!(cache.len(), 1);
    }

    /// Distinct secrets' fingerprints hash apart, so that the cache's map spreads them over
    /// its buckets (all in one, each lookup under the lock would walk every secret's entry).
    /// Mutant "replace <impl std::hash::Hash for Fingerprint>::hash with ()" (crypto.rs:225:9)
    /// hashes them all alike.
    #[test]
    fn fingerprints_of_distinct_secrets_hash_apart() {
        use std::hash::BuildHasher;
        let state = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default();
        let hashes: std::collections::HashSet<u64> = (0..64)
            .map(|n| {
                let secret = SecretAccessKey::new(format!("secret-{n}"));
                state.hash_one(Fingerprint(*secret.fingerprint()))
            })
            .collect();
        assert_eq!(hashes.len(), 64);
    }

    /// When the cache is full, keeping a key for a new secret evicts half the secrets plus one
    /// (rounded down), not all of them nor just one: ten secrets of one key each at capacity
    /// ten leave four, plus the new one. Mutants "replace / with * in KeyCache::keep"
    /// (crypto.rs:314:47, all evicted) and "replace / with % in KeyCache::keep" (the same
    /// place, one evicted) each leave another count.
    #[test]
    fn a_full_cache_evicts_half_its_secrets_and_one_more() {
        let cache = KeyCache::new(10);
        let secrets: Vec<SecretAccessKey> = (0..11)
            .map(|n| SecretAccessKey::new(format!("secret-{n}")))
            .collect();
        for secret in &secrets[..10] {
            let scoped = cache.get_or_derive(secret, "20200101", "r", "s");
            cache.keep(&scoped);
        }
        assert_eq!(cache.len(), 10);
        let scoped = cache.get_or_derive(&secrets[10], "20200101", "r", "s");
        cache.keep(&scoped);
        // 10 / 2 + 1 = 6 of the 10 secrets gave way.
        assert_eq!(cache.len(), 5);
        let survivors = secrets[..10]
            .iter()
            .filter(|secret| is_cached(&cache, secret, "r"))
            .count();
        assert_eq!(survivors, 4);
        assert!(is_cached(&cache, &secrets[10], "r"));
    }
}
