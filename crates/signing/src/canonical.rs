//! Canonicalisation: the SigV4 canonical URI, query string and header values, built from the
//! request as received (raw path and query, header bytes).

use std::borrow::Cow;

use crate::swar;

/// How the path is percent-encoded in the canonical request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PathEncoding {
    /// Every byte but unreserved characters and `/` is encoded, including an existing `%`
    /// (so `%20` on the wire becomes `%2520`). Every AWS service but S3.
    Double,
    /// The path is taken as sent; only bytes that cannot appear in a URI (space, controls,
    /// non-ASCII) are encoded. S3.
    Single,
}

/// Whether the path is normalised (dot segments removed, empty segments collapsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PathNormalization {
    /// Normalise (every service but S3).
    Enabled,
    /// Use the path as sent (S3).
    Disabled,
}

/// The canonical-URI rules of one service family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PathMode {
    /// Percent-encoding.
    pub encoding: PathEncoding,
    /// Normalisation.
    pub normalization: PathNormalization,
}

impl PathMode {
    /// The default SigV4 rules: double-encoded and normalised.
    pub const DEFAULT: Self = Self {
        encoding: PathEncoding::Double,
        normalization: PathNormalization::Enabled,
    };
    /// S3's rules: the path as sent, neither re-encoded nor normalised. (A verifier of an S3
    /// scope also reads a path as S3 does, as the object key it names, encoded again.)
    pub const S3: Self = Self {
        encoding: PathEncoding::Single,
        normalization: PathNormalization::Disabled,
    };
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

const fn unreserved_class(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_unreserved(b: u8) -> bool {
    BYTE_CLASSES[usize::from(b)][2]
}

fn push_escaped(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
}

/// Percent-encodes everything but unreserved characters (and `/` when `keep_slash`).
pub(crate) fn encode_into(out: &mut Vec<u8>, input: &[u8], keep_slash: bool) {
    for &b in input {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(b);
        } else {
            push_escaped(out, b);
        }
    }
}

/// Percent-encodes a string with the SigV4 rules (everything but unreserved characters).
pub fn uri_encode(input: &str) -> String {
    let mut out = Vec::with_capacity(input.len() * 3);
    encode_into(&mut out, input.as_bytes(), false);
    // Invariant: `encode_into` only emits ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// Removes dot segments and collapses empty segments, the way botocore and the AWS test suite
/// do: the result keeps a leading `/`, and a trailing `/` only when the input ended with `/`
/// and something remains.
pub(crate) fn normalize_path(path: &str) -> Cow<'_, str> {
    if path.is_empty() {
        return Cow::Borrowed("/");
    }
    if path.starts_with('/')
        && !path.contains("//")
        && !path.split('/').any(|s| s == "." || s == "..")
    {
        return Cow::Borrowed(path);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    Cow::Owned(out)
}

/// Bytes S3's rules escape in a path: those that cannot appear in a URI.
const fn s3_escapes_class(b: u8) -> bool {
    b <= b' '
        || b >= 0x7f
        || matches!(
            b,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
        )
}

/// Bytes the default rules keep in a path as they are.
const fn default_keeps_class(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
}

/// The byte classes as lookup tables, `[s3_escapes, default_keeps, unreserved]` per byte:
/// one load per byte on the per-request path, where the chains of comparisons cost several
/// instructions.
const BYTE_CLASSES: [[bool; 3]; 256] = {
    let mut table = [[false; 3]; 256];
    let mut b = 0;
    while b < 256 {
        // `b < 256`, so the cast is exact.
        #[allow(clippy::cast_possible_truncation)]
        let byte = b as u8;
        table[b] = [
            s3_escapes_class(byte),
            default_keeps_class(byte),
            unreserved_class(byte),
        ];
        b += 1;
    }
    table
};

fn s3_escapes(b: u8) -> bool {
    BYTE_CLASSES[usize::from(b)][0]
}

fn default_keeps(b: u8) -> bool {
    BYTE_CLASSES[usize::from(b)][1]
}

/// Appends the canonical URI of `path` under `mode`.
pub(crate) fn canonical_uri_into(out: &mut Vec<u8>, path: &str, mode: PathMode) {
    let path = match mode.normalization {
        PathNormalization::Enabled => normalize_path(path),
        PathNormalization::Disabled if path.is_empty() => Cow::Borrowed("/"),
        PathNormalization::Disabled => Cow::Borrowed(path),
    };
    let bytes = path.as_bytes();
    // Most paths need no escaping: one branch-free pass over the path decides, then one copy.
    match mode.encoding {
        PathEncoding::Double if bytes.iter().fold(true, |keep, &b| keep & default_keeps(b)) => {
            out.extend_from_slice(bytes);
        }
        PathEncoding::Double => encode_into(out, bytes, true),
        PathEncoding::Single if !bytes.iter().fold(false, |any, &b| any | s3_escapes(b)) => {
            out.extend_from_slice(bytes);
        }
        PathEncoding::Single => {
            for &b in bytes {
                if s3_escapes(b) {
                    push_escaped(out, b);
                } else {
                    out.push(b);
                }
            }
        }
    }
}

/// The canonical URI of the object key an S3 path names, as S3 computes it: each `%XX`
/// decoded, then every byte but unreserved ones and `/` encoded. A client may send a
/// sub-delimiter raw (`*`, `@`, `(`, `;`…) and sign it escaped, or send `%7E` and sign `~`
/// (aws4, jets3t, boto's S3 handler); S3, MinIO and s3s accept both. `None` when this is the
/// path as sent (under [`PathMode::S3`]), and when the path holds a raw `+`, which S3 reads as
/// a space where every other server reads a `+`, so the key would depend on who reads it; a
/// `%` that escapes nothing; and an escaped `.`, which would let a signature over `..` cover
/// `%2E%2E`, a dot segment to one router and a name to another. An escaped `/` stays
/// escaped, for the same reason.
pub(crate) fn s3_key_uri(path: &str) -> Option<Vec<u8>> {
    let bytes = path.as_bytes();
    // Only an escape or a byte S3 escapes can read otherwise (most paths: no copy is made).
    if bytes.iter().all(|&b| is_unreserved(b) || b == b'/') || bytes.contains(&b'+') {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3);
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes[i] {
            b'%' => bytes
                .get(i + 1)
                .and_then(|&h| hex_value(h))
                .zip(bytes.get(i + 2).and_then(|&l| hex_value(l)))
                .map(|(h, l)| h << 4 | l),
            _ => None,
        };
        if (bytes[i] == b'%' && escaped.is_none()) || escaped == Some(b'.') {
            return None;
        }
        match escaped {
            Some(b'/') => out.extend_from_slice(b"%2F"),
            Some(b) if is_unreserved(b) => out.push(b),
            Some(b) => push_escaped(&mut out, b),
            None if bytes[i] == b'/' || is_unreserved(bytes[i]) => out.push(bytes[i]),
            None => push_escaped(&mut out, bytes[i]),
        }
        i += if escaped.is_some() { 3 } else { 1 };
    }
    let mut as_sent = Vec::with_capacity(bytes.len());
    canonical_uri_into(&mut as_sent, path, PathMode::S3);
    (out != as_sent).then_some(out)
}

/// Whether the canonical URI of `path` under `mode` holds `%25`, an escaped `%`: the one
/// escape the default rules (which encode the path again) and S3's (which keep it) read as
/// different resources.
pub(crate) fn canonical_uri_has_escaped_percent(path: &str, mode: PathMode) -> bool {
    let mut out = Vec::with_capacity(path.len() * 3);
    canonical_uri_into(&mut out, path, mode);
    memchr::memmem::find(&out, b"%25").is_some()
}

/// The canonical URI of `path` under `mode`, as a string.
pub fn canonical_uri(path: &str, mode: PathMode) -> String {
    let mut out = Vec::with_capacity(path.len() * 3);
    canonical_uri_into(&mut out, path, mode);
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) const fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Whether a raw query component is already in canonical form (unreserved characters and
/// upper-case escapes of reserved bytes only), so it can be used as is.
fn is_canonical_component(raw: &[u8]) -> bool {
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if is_unreserved(b) {
            i += 1;
        } else if b == b'%' {
            if !is_canonical_escape(raw.get(i + 1), raw.get(i + 2)) {
                return false;
            }
            i += 3;
        } else {
            return false;
        }
    }
    true
}

/// Whether the two bytes after a `%` (`None` past the end) make a canonical escape: upper-case
/// hex digits only, and not an escaped unreserved character.
fn is_canonical_escape(high: Option<&u8>, low: Option<&u8>) -> bool {
    let (Some(&h), Some(&l)) = (high, low) else {
        return false;
    };
    let upper_hex = |d: u8| d.is_ascii_digit() || (b'A'..=b'F').contains(&d);
    match (hex_value(h), hex_value(l)) {
        (Some(hv), Some(lv)) if upper_hex(h) && upper_hex(l) => !is_unreserved(hv << 4 | lv),
        _ => false,
    }
}

/// Decodes `%XX` escapes and `+` (as a space), then re-encodes with the SigV4 rules.
///
/// A raw `+` is a space: that is what the application behind the verifier reads (form
/// decoding, as axum's `Query` and most frameworks apply), and how aws-sigv4 and MinIO read
/// it, so the signature covers the value the application acts on. Reading it as a literal
/// plus (`%2B`) as well would let a signer mean `+` where the
/// application reads a space. botocore leaves a raw `+` raw in its canonical query, a form no
/// other signer produces, and awscrt (aws-c-auth) reads it as a literal plus (`%2B`): a
/// request either of them signs with a raw `+` fails here.
pub(crate) fn canonical_query_component(raw: &str) -> Cow<'_, str> {
    if is_canonical_component(raw.as_bytes()) {
        return Cow::Borrowed(raw);
    }
    let decoded = decode_query_bytes(raw.as_bytes());
    let mut out = Vec::with_capacity(decoded.len() * 3);
    encode_into(&mut out, &decoded, false);
    // Invariant: `encode_into` only emits ASCII.
    Cow::Owned(String::from_utf8(out).unwrap_or_default())
}

/// Decodes a query component (`%XX` and `+`) to text, lossily for invalid UTF-8.
pub(crate) fn decode_query_component(raw: &str) -> Cow<'_, str> {
    if !raw.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(raw);
    }
    let decoded = decode_query_bytes(raw.as_bytes());
    Cow::Owned(String::from_utf8_lossy(&decoded).into_owned())
}

/// Decodes `%XX` escapes and `+` (as a space); a `%` not followed by two hex digits stays as is.
pub(crate) fn decode_query_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                decoded.push(b' ');
                i += 1;
            }
            b'%' => match (
                bytes.get(i + 1).and_then(|&b| hex_value(b)),
                bytes.get(i + 2).and_then(|&b| hex_value(b)),
            ) {
                (Some(h), Some(l)) => {
                    decoded.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    decoded.push(b'%');
                    i += 1;
                }
            },
            b => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    decoded
}

/// Splits a raw query into raw `(key, value)` pieces; empty pieces are skipped.
pub(crate) fn split_query(query: &str) -> impl Iterator<Item = (&str, &str)> {
    // `&` and `=` are ASCII, so every cut is on a char boundary.
    let mut rest = Some(query);
    std::iter::from_fn(move || loop {
        let current = rest?;
        let piece = match memchr::memchr(b'&', current.as_bytes()) {
            Some(at) => {
                rest = current.get(at + 1..);
                current.get(..at)?
            }
            None => {
                rest = None;
                current
            }
        };
        if piece.is_empty() {
            continue;
        }
        return Some(match memchr::memchr(b'=', piece.as_bytes()) {
            Some(at) => (piece.get(..at)?, piece.get(at + 1..)?),
            None => (piece, ""),
        });
    })
}

/// Appends the canonical query string: every parameter whose canonical key is not in `skip`,
/// re-encoded and sorted by key, then value.
pub(crate) fn canonical_query_into(out: &mut Vec<u8>, query: Option<&str>, skip: &[&str]) {
    let Some(query) = query else { return };
    if canonical_query_on_stack(out, query, skip) {
        return;
    }
    canonical_query_general(out, query, skip);
}

/// [`canonical_query_into`] for any query: each component decoded and re-encoded as needed.
fn canonical_query_general(out: &mut Vec<u8>, query: &str, skip: &[&str]) {
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    for (key, value) in split_query(query) {
        let key = canonical_query_component(key);
        if skip.iter().any(|s| *s == key) {
            continue;
        }
        pairs.push((key, canonical_query_component(value)));
    }
    pairs.sort_unstable();
    push_sorted_pairs(out, &pairs);
}

/// Appends sorted `key=value` pairs joined by `&`.
fn push_sorted_pairs(out: &mut Vec<u8>, pairs: &[(impl AsRef<str>, impl AsRef<str>)]) {
    for (index, (key, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(key.as_ref().as_bytes());
        out.push(b'=');
        out.extend_from_slice(value.as_ref().as_bytes());
    }
}

/// Most parameters [`canonical_query_on_stack`] sorts without allocating.
const MAX_PARAMETERS_ON_STACK: usize = 16;

/// The common case of [`canonical_query_into`]: a few parameters, each already in canonical
/// form, sorted on the stack (no allocation, no re-encoding). Returns `false`, having written
/// nothing, for any other query.
fn canonical_query_on_stack(out: &mut Vec<u8>, query: &str, skip: &[&str]) -> bool {
    let mut at = 0;
    let mut next = || next_canonical_parameter(query, &mut at);
    // A single parameter (the most common query) needs neither the array nor the sort.
    let (Ok(first), Ok(second)) = (next(), next()) else {
        return false;
    };
    if let (Some(only), None) = (first, second) {
        if !skip.contains(&only.0) {
            push_sorted_pairs(out, &[only]);
        }
        return true;
    }
    let mut pairs = [("", ""); MAX_PARAMETERS_ON_STACK];
    let mut count = 0;
    let rest = std::iter::from_fn(|| next().transpose());
    for pair in first.into_iter().chain(second).map(Ok).chain(rest) {
        let Ok(pair) = pair else {
            return false;
        };
        if skip.contains(&pair.0) {
            continue;
        }
        let Some(slot) = pairs.get_mut(count) else {
            return false;
        };
        *slot = pair;
        count += 1;
    }
    let pairs = &mut pairs[..count];
    pairs.sort_unstable();
    push_sorted_pairs(out, pairs);
    true
}

/// A query parameter that is not in canonical form: the query takes the general path.
struct NotCanonical;

/// The raw query's next `(key, value)` from byte `*at` on, as [`split_query`] splits it, when
/// both are in canonical form (as [`is_canonical_component`] decides); `*at` moves past it.
///
/// One pass over the bytes splits and checks at once: `&` and `=` are not unreserved and
/// cannot be an escape's digits, so a piece splits where a canonical one may, and any other
/// place they stand makes it not canonical. (Splitting first cost two `memchr` calls per
/// parameter, then the check read every byte again.)
fn next_canonical_parameter<'q>(
    query: &'q str,
    at: &mut usize,
) -> Result<Option<(&'q str, &'q str)>, NotCanonical> {
    let bytes = query.as_bytes();
    let mut i = *at;
    // Empty pieces are skipped, as `split_query` skips them.
    while bytes.get(i) == Some(&b'&') {
        i += 1;
    }
    if i >= bytes.len() {
        *at = i;
        return Ok(None);
    }
    let start = i;
    let mut equals = None;
    while let Some(&b) = bytes.get(i) {
        if is_unreserved(b) {
            i += 1;
            continue;
        }
        match b {
            b'%' if is_canonical_escape(bytes.get(i + 1), bytes.get(i + 2)) => i += 3,
            // The first `=` ends the key; another would be in the value.
            b'=' if equals.is_none() => {
                equals = Some(i);
                i += 1;
            }
            b'&' => break,
            _ => return Err(NotCanonical),
        }
    }
    *at = i + 1;
    // Every cut is at an ASCII byte or the end, so on a char boundary.
    let pair = match equals {
        Some(equals) => (query.get(start..equals), query.get(equals + 1..i)),
        None => (query.get(start..i), Some("")),
    };
    match pair {
        (Some(key), Some(value)) => Ok(Some((key, value))),
        _ => Err(NotCanonical),
    }
}

/// The canonical query string of a raw query (no parameters skipped).
pub fn canonical_query(query: &str) -> String {
    let mut out = Vec::with_capacity(query.len() * 2);
    canonical_query_into(&mut out, Some(query), &[]);
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends a header value trimmed of spaces and tabs at both ends, with every inner run of
/// spaces and tabs collapsed to one space.
///
/// The common case is inlined into the caller (once per signed header on every request).
#[inline]
pub(crate) fn push_header_value(out: &mut Vec<u8>, value: &[u8]) {
    // Most values have no space, tab or control byte at all; such a value is copied whole.
    if !has_byte_below_0x21(value) {
        out.extend_from_slice(value);
        return;
    }
    push_header_value_with_blanks(out, value);
}

/// [`push_header_value`] for a value with a space, tab or control byte.
fn push_header_value_with_blanks(out: &mut Vec<u8>, value: &[u8]) {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ws(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ws(b))
        .map_or(start, |e| e + 1);
    let value = value.get(start..end).unwrap_or_default();
    // A value with single spaces only (no tab, no two spaces in a row) needs no collapsing:
    // decide without a branch per byte, then copy it whole.
    let tab = value.iter().fold(false, |any, &b| any | (b == b'\t'));
    let double_space = value
        .iter()
        .zip(value.iter().skip(1))
        .fold(false, |any, (&a, &b)| any | ((a == b' ') & (b == b' ')));
    if !(tab | double_space) {
        out.extend_from_slice(value);
        return;
    }
    let mut in_ws = false;
    for &b in value {
        if is_ws(&b) {
            if !in_ws {
                out.push(b' ');
            }
            in_ws = true;
        } else {
            out.push(b);
            in_ws = false;
        }
    }
}

/// Whether any byte is a space, tab or other control byte (`< 0x21`), eight bytes at a time.
#[inline]
fn has_byte_below_0x21(value: &[u8]) -> bool {
    // Non-zero in some lane's high bit exactly when some byte of `x` is below 0x21 (the
    // classic "has less than" test; exact as an any-test for thresholds up to 0x80), so the
    // words' answers can be gathered first and tested once.
    let below = |x: u64| x.wrapping_sub(swar::ONES * 0x21) & !x;
    let Some(last) = value.last_chunk::<8>() else {
        return value.iter().any(|&b| b < 0x21);
    };
    let mut words = value.chunks_exact(8);
    let mut found = 0;
    for eight in &mut words {
        found |= below(swar::word(eight));
    }
    // The bytes past the last whole word, as the last eight bytes: testing some of them twice
    // changes nothing, and a word costs less than a loop over up to seven bytes.
    if !words.remainder().is_empty() {
        found |= below(u64::from_le_bytes(*last));
    }
    found & swar::HIGH != 0
}

/// A header value normalised as the canonical headers hold it (spaces and tabs trimmed at
/// both ends, inner runs of them collapsed to one space), as a string.
pub fn normalize_header_value(value: &str) -> String {
    let mut out = Vec::with_capacity(value.len());
    push_header_value(&mut out, value.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

/// Every query of up to `max_len` bytes from `alphabet` (ASCII), for tests that compare a
/// fast path with a plain one on every short arrangement of the bytes that matter to it.
#[cfg(test)]
pub(crate) fn every_query(alphabet: &'static [u8], max_len: u32) -> impl Iterator<Item = String> {
    (0..=max_len).flat_map(move |len| {
        (0..alphabet.len().pow(len)).map(move |mut n| {
            let mut query = String::with_capacity(len as usize);
            for _ in 0..len {
                query.push(char::from(alphabet[n % alphabet.len()]));
                n /= alphabet.len();
            }
            query
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn normalizes_like_botocore() {
        for (input, expected) in [
            ("", "/"),
            ("/", "/"),
            ("//example//", "/example/"),
            ("/./", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./example", "/example"),
            ("/a/b/.", "/a/b"),
            ("/a/../../b/", "/b/"),
        ] {
            assert_eq!(normalize_path(input), expected, "{input}");
        }
    }

    /// The canonical URI of an S3 key, by "Create a canonical request"'s `UriEncode`, written
    /// apart from the crate's encoder.
    fn uri_encode_key(key: &[u8]) -> String {
        key.iter()
            .map(|&b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    proptest::proptest! {
        /// However a client spells a key on the wire (each byte raw where a path may hold it,
        /// or escaped in either case; `/` and `.` raw), S3's reading of the path is the key's
        /// canonical URI.
        #[test]
        fn every_spelling_of_an_s3_key_reads_as_the_key(
            key in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(b"az09-._~/!$&'()*,;=:@%# ?".to_vec()),
                    proptest::num::u8::ANY,
                ],
                1..24,
            ),
            spellings in proptest::collection::vec(0u8..3, 24),
        ) {
            let key: Vec<u8> = key.into_iter().filter(|&b| b != b'+').collect();
            let mut sent = String::from("/");
            for (&b, &spelling) in key.iter().zip(&spellings) {
                let raw_allowed = b.is_ascii_alphanumeric() || b"-._~/!$&'()*,;=:@".contains(&b);
                match spelling {
                    0 if raw_allowed => sent.push(char::from(b)),
                    1 if b != b'/' && b != b'.' => sent.push_str(&format!("%{b:02x}")),
                    _ if b == b'/' || b == b'.' => sent.push(char::from(b)),
                    _ => sent.push_str(&format!("%{b:02X}")),
                }
            }
            let expected = format!("/{}", uri_encode_key(&key));
            let read = s3_key_uri(&sent).unwrap_or_else(|| {
                let mut as_sent = Vec::new();
                canonical_uri_into(&mut as_sent, &sent, PathMode::S3);
                as_sent
            });
            proptest::prop_assert_eq!(String::from_utf8(read).unwrap(), expected, "sent {}", sent);
        }

        /// Any path: S3's reading holds only unreserved bytes, `/` and upper-case escapes.
        #[test]
        fn an_s3_key_reading_is_always_encoded(path in "\\PC{0,40}") {
            if let Some(read) = s3_key_uri(&path) {
                let mut rest = read.as_slice();
                while let Some((&b, tail)) = rest.split_first() {
                    rest = match (b, tail) {
                        (b'%', [h, l, tail @ ..])
                            if HEX.contains(h) && HEX.contains(l) => tail,
                        (b, tail) if is_unreserved(b) || b == b'/' => tail,
                        _ => {
                            return Err(proptest::test_runner::TestCaseError::fail(format!(
                                "{path} read as {read:?}"
                            )))
                        }
                    };
                }
            }
        }
    }

    /// The double-encoding fast path copies a path whose every byte the encoder would keep:
    /// its table must be exactly that set. A byte missing from it sends every path holding
    /// that byte (each `-`, each `/`) through the byte-at-a-time encoder, same output, slower.
    #[test]
    fn the_fast_paths_table_is_what_the_encoder_keeps() {
        for b in 0..=u8::MAX {
            let mut encoded = Vec::new();
            encode_into(&mut encoded, &[b], true);
            assert_eq!(default_keeps(b), encoded == [b], "byte {b:#04x}");
        }
    }

    #[test]
    fn query_components() {
        assert_eq!(canonical_query_component("a b"), "a%20b");
        assert_eq!(canonical_query_component("a+b"), "a%20b");
        assert_eq!(canonical_query_component("%7e"), "~");
        assert_eq!(canonical_query_component("%2f"), "%2F");
        assert_eq!(canonical_query_component("%zz"), "%25zz");
        assert_eq!(canonical_query("b=2&a=&a=1&c"), "a=&a=1&b=2&c=");
    }

    /// The word-at-a-time test against the byte-at-a-time one, for every length around the
    /// word size and every position of the byte that decides.
    #[test]
    fn finds_a_byte_below_0x21_anywhere() {
        for len in 0..=25 {
            for at in 0..len {
                for b in [0x00, 0x09, 0x20, 0x21, 0x7e, 0x7f, 0x80, 0xff] {
                    for background in [b'a', 0xff] {
                        let mut value = vec![background; len];
                        value[at] = b;
                        let expected = value.iter().any(|&b| b < 0x21);
                        assert_eq!(has_byte_below_0x21(&value), expected, "{value:?}");
                    }
                }
            }
        }
    }

    /// The one-pass fast path writes what the general path writes whenever it takes a query,
    /// and takes every query whose parameters are all canonical: every query of up to five
    /// bytes from an alphabet of the bytes that matter, with and without parameters skipped.
    #[test]
    fn the_fast_query_path_agrees_with_the_general_one() {
        let mut taken = 0;
        for query in every_query(b"a=&%2F7e~+ ", 5) {
            let query = query.as_str();
            for skip in [&[][..], &["a"], &["a", "%2F"]] {
                let mut general = Vec::new();
                canonical_query_general(&mut general, query, skip);
                let mut fast = Vec::new();
                let all_canonical = split_query(query).all(|(key, value)| {
                    is_canonical_component(key.as_bytes())
                        && is_canonical_component(value.as_bytes())
                });
                let took = canonical_query_on_stack(&mut fast, query, skip);
                assert_eq!(took, all_canonical, "{query:?}");
                if took {
                    taken += 1;
                    assert_eq!(fast, general, "{query:?} {skip:?}");
                } else {
                    assert!(fast.is_empty(), "{query:?}");
                }
            }
        }
        assert!(taken > 1000, "{taken}");
    }

    /// Form decoding (`application/x-www-form-urlencoded`, as the WHATWG URL standard parses
    /// it) reads every `+` as a space, also in a component that holds nothing else: the quick
    /// "nothing to decode" test must not take a `+`-only component as already decoded.
    #[test]
    fn a_component_of_pluses_decodes_to_spaces() {
        for (raw, decoded) in [("+", " "), ("++", "  "), ("%", "%"), ("+%", " %")] {
            assert_eq!(decode_query_component(raw), decoded, "{raw:?}");
        }
    }

    #[test]
    fn header_values() {
        assert_eq!(normalize_header_value("  a   b\t\tc  "), "a b c");
        assert_eq!(normalize_header_value("\"a   b   c\""), "\"a b c\"");
    }

    /// A tab is blank space like a space (botocore's canonical value is `' '.join(v.split())`),
    /// also where it is the only blank between two words, so no run of two needs collapsing.
    /// Mutants of the tab test in `push_header_value_with_blanks` copied such a value whole.
    #[test]
    fn a_lone_inner_tab_becomes_a_space() {
        for (value, canonical) in [
            ("a\tb", "a b"),
            ("a \tb", "a b"),
            ("a\t b", "a b"),
            ("\ta b\t", "a b"),
            ("x\ty z", "x y z"),
        ] {
            assert_eq!(normalize_header_value(value), canonical, "{value:?}");
        }
    }
}
