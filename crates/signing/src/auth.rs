//! Parsing the SigV4 authentication information: the `Authorization` header, the presigned
//! query parameters, the credential scope, and the request time.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::canonical::{decode_query_component, split_query};
use crate::error::{clip, CredentialFault, Error, SignatureLocation};
use crate::swar;

/// The only algorithm supported.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The longest presign validity AWS allows: 7 days.
pub const MAX_PRESIGN_EXPIRES: Duration = Duration::from_secs(604_800);

/// `AKID/YYYYMMDD/region/service/aws4_request`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential<'a> {
    /// The access key ID.
    pub access_key_id: Cow<'a, str>,
    /// `YYYYMMDD`.
    pub date: Cow<'a, str>,
    /// The region.
    pub region: Cow<'a, str>,
    /// The service.
    pub service: Cow<'a, str>,
}

impl Credential<'_> {
    /// `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// Parsed authentication information, from either location.
///
/// `Debug` prints the presigned session token's length, not the token: it is bearer material
/// (as [`SessionToken`](crate::SessionToken) prints it). Of the signature it prints the first
/// 8 hex digits: whole, it would replay the request.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedAuthorization<'a> {
    /// Where it came from.
    pub location: SignatureLocation,
    /// The credential.
    pub credential: Credential<'a>,
    /// `SignedHeaders`: lower-case names, sorted, `;`-separated.
    pub signed_headers: Cow<'a, str>,
    /// The signature bytes.
    pub signature: [u8; 32],
    /// Presigned only: `X-Amz-Date`.
    pub date: Option<Cow<'a, str>>,
    /// Presigned only: `X-Amz-Expires`, which only S3 requires (without it, a request is held
    /// to the clock-skew window).
    pub expires: Option<Duration>,
    /// Presigned only: `X-Amz-Security-Token`.
    pub session_token: Option<Cow<'a, str>>,
    pub(crate) signs: SignedFlags,
}

impl fmt::Debug for ParsedAuthorization<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedAuthorization")
            .field("location", &self.location)
            .field("credential", &self.credential)
            .field("signed_headers", &self.signed_headers)
            .field(
                "signature",
                &crate::redact::signature_bytes(&self.signature),
            )
            .field("date", &self.date)
            .field("expires", &self.expires)
            .field(
                "session_token",
                &self
                    .session_token
                    .as_ref()
                    .map(|token| crate::redact::token(token.len())),
            )
            .field("signs", &self.signs)
            .finish()
    }
}

fn malformed(location: SignatureLocation, reason: impl Into<String>) -> Error {
    Error::MalformedAuthorization {
        location,
        reason: reason.into(),
    }
}

// The parsers below work on bytes. Every delimiter they look for is ASCII, so each cut falls
// on a `char` boundary. They run on every verification over a few dozen bytes at a time, so
// they split with `memchr` or a delimiter bit mask instead of `str::split`'s searcher.

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `value` without leading and trailing spaces and tabs.
fn trim_blanks(value: &str) -> &str {
    let bytes = value.as_bytes();
    let start = bytes
        .iter()
        .position(|&b| !is_blank(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_blank(b))
        .map_or(start, |e| e + 1);
    value.get(start..end).unwrap_or_default()
}

/// Splits at the first `delimiter` (dropping it).
fn split_first(value: &str, delimiter: u8) -> Option<(&str, &str)> {
    let at = memchr::memchr(delimiter, value.as_bytes())?;
    Some((value.get(..at)?, value.get(at + 1..)?))
}

// The byte-class checks below fold without an early exit (no branch per byte): on valid
// input, the case that matters for speed, every byte is looked at anyway.

/// Whether a byte may appear in a signed header name: visible ASCII, not upper-case, not `:`.
/// (Without a branch, so that a fold over a list vectorises.)
fn signed_header_byte(b: u8) -> bool {
    (b.wrapping_sub(0x21) < 0x5e) & !b.is_ascii_uppercase() & (b != b':')
}

pub(crate) fn parse_credential<'a>(
    location: SignatureLocation,
    value: Cow<'a, str>,
) -> Result<Credential<'a>, Error> {
    /// `(access key ID, date, region, service)`, each checked. Split from the right: an
    /// access key ID with a `/` in it is malformed only if the rest is.
    fn parts(location: SignatureLocation, value: &str) -> Result<[&str; 4], Error> {
        let malformed = |fault| Error::MalformedCredential {
            location,
            credential: clip(value),
            fault,
        };
        let shape = || {
            malformed(CredentialFault::Shape {
                elements: value.bytes().filter(|&b| b == b'/').count() + 1,
            })
        };
        let scan = scan_credential(value.as_bytes());
        let [a, b, c, d] = scan.last_slashes.ok_or_else(shape)?;
        let split = || {
            Some([
                value.get(..a)?,
                value.get(a + 1..b)?,
                value.get(b + 1..c)?,
                value.get(c + 1..d)?,
                value.get(d + 1..)?,
            ])
        };
        let [access_key_id, date, region, service, terminator] = split().ok_or_else(shape)?;
        if terminator != "aws4_request" {
            return Err(malformed(CredentialFault::Terminator {
                terminator: clip(terminator),
            }));
        }
        if access_key_id.is_empty() || region.is_empty() || service.is_empty() {
            return Err(shape());
        }
        if !all_digits(date) {
            return Err(malformed(CredentialFault::Date { date: clip(date) }));
        }
        // The date (digits), the terminator and the `/`s are visible, so the whole value is
        // exactly when the access key ID, region and service are.
        if !scan.all_graphic {
            return Err(shape());
        }
        Ok([access_key_id, date, region, service])
    }
    let [access_key_id, date, region, service] = match value {
        // The common case (an Authorization header): borrow the parts.
        Cow::Borrowed(v) => parts(location, v)?.map(Cow::Borrowed),
        Cow::Owned(v) => parts(location, &v)?.map(|p| Cow::Owned(p.to_owned())),
    };
    Ok(Credential {
        access_key_id,
        date,
        region,
        service,
    })
}

/// What [`parse_credential`] needs to know about a credential's bytes, found in one pass.
struct CredentialScan {
    /// Where its last four `/` are, in order; `None` if it has fewer.
    last_slashes: Option<[usize; 4]>,
    /// Whether every byte is visible ASCII (`!` to `~`).
    all_graphic: bool,
}

/// The last four `/` and whether every byte is visible, read eight bytes at a time (no branch
/// per byte, and no search for the `/`s from the right, which `rsplit_once` would make).
fn scan_credential(bytes: &[u8]) -> CredentialScan {
    let len = bytes.len();
    let mut slashes_seen = 0usize;
    let mut last_slashes = [0usize; 4];
    let mut invisible = 0;
    let mut offset = 0;
    while offset < len {
        let eight = match bytes.get(offset..offset + 8) {
            Some(eight) => swar::word(eight),
            // Padded past the end with a visible byte that is not a `/`.
            None => {
                swar::prefix_word(bytes, offset, len)
                    | (swar::ONES * u64::from(b'a')) << (8 * (len - offset))
            }
        };
        let visible = swar::lanes_at_least(eight, 0x21) & swar::lanes_at_most(eight, 0x7e);
        // A byte at or above 0x80 upsets its neighbours' lane tests, but is invisible itself.
        invisible |= (eight | !visible) & swar::HIGH;
        let mut slashes = swar::zero_lanes(eight ^ (swar::ONES * u64::from(b'/')));
        while slashes != 0 {
            let at = offset + slashes.trailing_zeros() as usize / 8;
            last_slashes = [last_slashes[1], last_slashes[2], last_slashes[3], at];
            slashes_seen += 1;
            slashes &= slashes - 1;
        }
        offset += 8;
    }
    CredentialScan {
        last_slashes: (slashes_seen >= 4).then_some(last_slashes),
        all_graphic: invisible == 0,
    }
}

/// Whether `text` is eight ASCII digits, tested as one word.
fn all_digits(text: &str) -> bool {
    let Ok(eight) = <&[u8; 8]>::try_from(text.as_bytes()) else {
        return false;
    };
    let x = u64::from_le_bytes(*eight);
    let digit = swar::lanes_at_least(x, b'0') & swar::lanes_at_most(x, b'9');
    // A byte at or above 0x80 can pass the lane tests by a carry, but is no digit.
    digit == swar::HIGH && x & swar::HIGH == 0
}

/// Bit `i` set where `bytes[i] == needle`, for the first 64 bytes (callers check the length).
/// Eight bytes at a time, branch-free: the compiler does not vectorise the plain loop.
fn byte_mask(bytes: &[u8], needle: u8) -> u64 {
    let len = bytes.len().min(64);
    let mut block = [0u8; 64];
    block[..len].copy_from_slice(&bytes[..len]);
    let spread = swar::ONES * u64::from(needle);
    let mut mask = 0;
    for (index, eight) in block.chunks_exact(8).take(len.div_ceil(8)).enumerate() {
        let zero = swar::zero_lanes(swar::word(eight) ^ spread);
        // Gathers the eight high bits into the top byte, byte k's bit landing at bit 56 + k.
        let bits = (zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask |= bits << (8 * index);
    }
    if len < 64 {
        // Drops matches in the zero padding (when the needle is 0).
        mask &= (1u64 << len) - 1;
    }
    mask
}

/// The pieces of `text` between `delimiter`s, like `str::split` on one ASCII byte. Up to 64
/// bytes, the delimiters are found in one branch-free pass into a bit mask, so walking the
/// pieces does not branch per byte; longer text is searched with `memchr`.
struct SplitByte<'a> {
    text: &'a str,
    delimiter: u8,
    /// Where the next piece starts; `None` once the last piece is out.
    start: Option<usize>,
    /// Delimiter positions not yet used (short text only).
    mask: Option<u64>,
}

impl<'a> SplitByte<'a> {
    fn new(text: &'a str, delimiter: u8) -> Self {
        let bytes = text.as_bytes();
        let mask = (bytes.len() <= 64).then(|| byte_mask(bytes, delimiter));
        Self {
            text,
            delimiter,
            start: Some(0),
            mask,
        }
    }
}

impl<'a> Iterator for SplitByte<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let start = self.start?;
        let end = match &mut self.mask {
            Some(0) => None,
            Some(mask) => {
                let at = mask.trailing_zeros() as usize;
                *mask &= *mask - 1;
                Some(at)
            }
            None => self
                .text
                .as_bytes()
                .get(start..)
                .and_then(|rest| memchr::memchr(self.delimiter, rest))
                .map(|at| start + at),
        };
        match end {
            Some(end) => {
                self.start = Some(end + 1);
                self.text.get(start..end)
            }
            None => {
                self.start = None;
                self.text.get(start..)
            }
        }
    }
}

/// Which of the headers the verifier checks for are in `SignedHeaders`, found while the list
/// is validated so that nobody splits it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct SignedFlags {
    pub(crate) host: bool,
    pub(crate) x_amz_date: bool,
    pub(crate) date: bool,
    pub(crate) x_amz_security_token: bool,
    /// How many signed names start with `x-amz-` (compared with the request's own count, so
    /// that S3's every-`x-amz-*`-header-signed rule costs no search when it holds).
    pub(crate) amz_headers: usize,
}

/// The prefix of the headers S3 wants signed whenever they are sent.
pub(crate) const AMZ_HEADER_PREFIX: &str = "x-amz-";

/// Iterates a `;`-separated header list (no allocation).
pub(crate) fn signed_header_names(list: &str) -> impl Iterator<Item = &str> {
    SplitByte::new(list, b';')
}

fn parse_signed_headers(location: SignatureLocation, value: &str) -> Result<SignedFlags, Error> {
    if value.is_empty() {
        return Err(malformed(location, "SignedHeaders is empty"));
    }
    let bytes = value.as_bytes();
    let len = bytes.len();
    // Every name is valid when the whole list is (`;` is a valid byte too); otherwise each is
    // looked at on its own, so that the error names the first invalid one.
    let all_valid = bytes.iter().fold(true, |ok, &b| ok & signed_header_byte(b));
    let semicolon_lanes = |offset: usize| {
        let eight = match bytes.get(offset..offset + 8) {
            Some(eight) => swar::word(eight),
            None => swar::prefix_word(bytes, offset, len),
        };
        swar::zero_lanes(eight ^ (swar::ONES * u64::from(b';')))
    };
    let mut flags = SignedFlags::default();
    // The last name, as `(start, end, order key)`.
    let mut previous: Option<(usize, usize, u64)> = None;
    let mut start = 0;
    // The `;`s not yet used in the word at `offset`: the names are cut a word at a time.
    let mut offset = 0;
    let mut semicolons = semicolon_lanes(0);
    loop {
        let end = loop {
            if semicolons != 0 {
                let lane = semicolons.trailing_zeros() as usize / 8;
                semicolons &= semicolons - 1;
                break offset + lane;
            }
            offset += 8;
            if offset >= len {
                break len;
            }
            semicolons = semicolon_lanes(offset);
        };
        let name = || bytes.get(start..end).unwrap_or_default();
        let name_len = end - start;
        if name_len == 0 || (!all_valid && !name().iter().all(|&b| signed_header_byte(b))) {
            // HTTP/2's `:authority` pseudo-header, which aws-sdk-js v3 signs in place of
            // `host` over HTTP/2 (its host-header middleware), names the host as `host` does.
            // Looked for only here: `:` is in no other valid name.
            if name() != b":authority" {
                return Err(invalid_signed_header_name(location, value.get(start..end)));
            }
            flags.host = true;
        }
        let prefix = swar::prefix_word(bytes, start, end);
        let key = prefix.swap_bytes();
        if let Some((previous_start, previous_end, previous_key)) = previous {
            // Keys differ where the names' first eight bytes do (no valid name holds the zero
            // they are padded with); only on a tie are the names compared in full.
            let out_of_order = previous_key > key
                || (previous_key == key
                    && bytes.get(previous_start..previous_end).unwrap_or_default() >= name());
            if out_of_order {
                return Err(malformed(
                    location,
                    "SignedHeaders must be sorted and without duplicates",
                ));
            }
        }
        previous = Some((start, end, key));
        // The names the verifier asks about, told apart by length and first eight bytes.
        let is = |text: &str| prefix == swar::prefix_word(text.as_bytes(), 0, text.len());
        match name_len {
            4 => {
                flags.host |= is("host");
                flags.date |= is("date");
            }
            10 => flags.x_amz_date |= is("x-amz-da") && name().ends_with(b"te"),
            20 => flags.x_amz_security_token |= name() == b"x-amz-security-token",
            _ => {}
        }
        const AMZ_PREFIX_BYTES: u64 = (1 << (8 * AMZ_HEADER_PREFIX.len())) - 1;
        flags.amz_headers += usize::from(prefix & AMZ_PREFIX_BYTES == amz_prefix_word());
        if end == len {
            return Ok(flags);
        }
        start = end + 1;
    }
}

/// [`AMZ_HEADER_PREFIX`] as [`swar::prefix_word`] reads it.
fn amz_prefix_word() -> u64 {
    swar::prefix_word(AMZ_HEADER_PREFIX.as_bytes(), 0, AMZ_HEADER_PREFIX.len())
}

#[cold]
fn invalid_signed_header_name(location: SignatureLocation, name: Option<&str>) -> Error {
    malformed(
        location,
        format!(
            "invalid signed header name {:?}",
            clip(name.unwrap_or_default())
        ),
    )
}

fn parse_signature(location: SignatureLocation, value: &str) -> Result<[u8; 32], Error> {
    crate::crypto::decode_hex32(value.as_bytes())
        .ok_or_else(|| malformed(location, "Signature is not 64 hex digits"))
}

/// Parses an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
/// header value. Components may come in any order, each exactly once.
pub fn parse_authorization_header(value: &str) -> Result<ParsedAuthorization<'_>, Error> {
    const LOCATION: SignatureLocation = SignatureLocation::Header;
    let value = trim_blanks(value);
    let (algorithm, rest) = match value.strip_prefix("AWS4-HMAC-SHA256 ") {
        Some(rest) => (ALGORITHM, rest),
        None => split_first(value, b' ').unwrap_or((value, "")),
    };
    if algorithm != ALGORITHM {
        if is_sigv2_header(value) {
            return Err(Error::SignatureVersion2);
        }
        return Err(Error::UnsupportedAlgorithm {
            location: LOCATION,
            algorithm: clip(algorithm),
        });
    }
    let (credential, signed_headers, signature) = match sdk_layout(rest) {
        Some(SdkLayout {
            credential,
            signed_headers,
            signature,
        }) => (
            credential,
            signed_headers,
            SignatureComponent::Decoded(signature),
        ),
        None => {
            let [credential, signed_headers, signature] = authorization_components(rest)?;
            (
                credential,
                signed_headers,
                SignatureComponent::Text(signature),
            )
        }
    };
    // Checked in this order on either path, so that an error is the same on both.
    let credential = parse_credential(LOCATION, Cow::Borrowed(credential))?;
    let signs = parse_signed_headers(LOCATION, signed_headers)?;
    let signature = match signature {
        SignatureComponent::Decoded(decoded) => decoded,
        SignatureComponent::Text(text) => parse_signature(LOCATION, text)?,
    };
    Ok(ParsedAuthorization {
        location: LOCATION,
        credential,
        signed_headers: Cow::Borrowed(signed_headers),
        signature,
        date: None,
        expires: None,
        session_token: None,
        signs,
    })
}

/// The `Signature` component: already decoded by [`sdk_layout`], or still text.
enum SignatureComponent<'a> {
    Decoded([u8; 32]),
    Text(&'a str),
}

/// The components of an `Authorization` header in the one layout every SDK sends.
struct SdkLayout<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: [u8; 32],
}

/// `Credential=…, SignedHeaders=…, Signature=…` exactly, with a valid signature: what
/// [`authorization_components`] would find in `rest`, in a few comparisons instead of a
/// search, split, trim and key match per component. `None` for anything else, which the
/// general path then parses (or rejects, with its errors).
fn sdk_layout(rest: &str) -> Option<SdkLayout<'_>> {
    let rest = rest.strip_prefix("Credential=")?;
    let comma = memchr::memchr(b',', rest.as_bytes())?;
    let (credential, rest) = (rest.get(..comma)?, rest.get(comma..)?);
    let rest = rest.strip_prefix(", SignedHeaders=")?;
    let comma = memchr::memchr(b',', rest.as_bytes())?;
    let (signed_headers, rest) = (rest.get(..comma)?, rest.get(comma..)?);
    let signature = rest.strip_prefix(", Signature=")?;
    // The general path trims blanks off each component (`rest` has none at its end).
    let ends_blank = |text: &str| text.bytes().next_back().is_some_and(is_blank);
    if ends_blank(credential) || ends_blank(signed_headers) {
        return None;
    }
    // 64 hex digits hold no `,`, so there is no further component.
    let signature = crate::crypto::decode_hex32(signature.as_bytes())?;
    Some(SdkLayout {
        credential,
        signed_headers,
        signature,
    })
}

/// `[Credential, SignedHeaders, Signature]` from the `,`-separated components after the
/// algorithm, in any order, blanks around each trimmed, empty ones skipped.
fn authorization_components(mut rest: &str) -> Result<[&str; 3], Error> {
    const LOCATION: SignatureLocation = SignatureLocation::Header;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    loop {
        let (component, next) = match split_first(rest, b',') {
            Some((component, next)) => (component, Some(next)),
            None => (rest, None),
        };
        let component = trim_blanks(component);
        if !component.is_empty() {
            // The three known keys first, without searching for `=`.
            let known = [
                ("Credential", component.strip_prefix("Credential=")),
                ("SignedHeaders", component.strip_prefix("SignedHeaders=")),
                ("Signature", component.strip_prefix("Signature=")),
            ]
            .into_iter()
            .find_map(|(key, value)| Some((key, value?)));
            let (key, value) = match known {
                Some(pair) => Some(pair),
                None => split_first(component, b'='),
            }
            .ok_or_else(|| {
                malformed(
                    LOCATION,
                    format!("component {:?} is not key=value", clip(component)),
                )
            })?;
            let slot = match key {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => {
                    return Err(malformed(
                        LOCATION,
                        format!("unknown component {:?}", clip(key)),
                    ))
                }
            };
            if slot.replace(value).is_some() {
                return Err(malformed(LOCATION, format!("{key} appears twice")));
            }
        }
        match next {
            Some(next) => rest = next,
            None => break,
        }
    }
    let missing = |component| Error::IncompleteSignature {
        location: LOCATION,
        component,
    };
    Ok([
        credential.ok_or_else(|| missing("Credential"))?,
        signed_headers.ok_or_else(|| missing("SignedHeaders"))?,
        signature.ok_or_else(|| missing("Signature"))?,
    ])
}

/// Whether a raw query carries presigned authentication (an `X-Amz-Algorithm` parameter).
pub(crate) fn has_presigned_query(query: &str) -> bool {
    const KEY: &str = "X-Amz-Algorithm";
    // This runs on every request with a query, so a parameter is only cut out and decoded when
    // it could be the one: its key starts with `X` or an escape, and is no shorter than KEY
    // (decoding never lengthens a key).
    let bytes = query.as_bytes();
    let mut start = 0;
    loop {
        let rest = bytes.get(start..).unwrap_or_default();
        if let Some(b'X' | b'%') = rest.first() {
            let key_len = memchr::memchr2(b'&', b'=', rest).unwrap_or(rest.len());
            let key = query.get(start..start + key_len).unwrap_or_default();
            if key.len() >= KEY.len() && decode_query_component(key) == KEY {
                return true;
            }
        }
        match memchr::memchr(b'&', rest) {
            Some(at) => start += at + 1,
            None => return false,
        }
    }
}

/// Whether an `Authorization` header is Signature Version 2's `AWS AKID:signature`, a form
/// only S3 takes (the query APIs took SigV2 in their parameters).
pub(crate) fn is_sigv2_header(value: &str) -> bool {
    trim_blanks(value).split(' ').next() == Some("AWS")
}

/// Whether a raw query carries SigV2's `AWSAccessKeyId` parameter (S3's SigV2 presigned URLs
/// and SigV2 query-API requests both do), so that an unauthenticated-looking request can be
/// told apart from one signed the old way. Runs only on requests with no SigV4 at all.
pub(crate) fn has_sigv2_query(query: &str) -> bool {
    query.split('&').any(|pair| {
        decode_query_component(pair.split('=').next().unwrap_or_default()) == "AWSAccessKeyId"
    })
}

/// The service a request's credential scope names (`Credential=AK/DATE/REGION/SERVICE/…` in
/// the `Authorization` header, else the `X-Amz-Credential` query parameter), read without
/// checking anything else. It is for wording a refusal in the service's terms, so it also
/// answers for requests that failed to parse; `None` when no scope names a service.
pub(crate) fn claimed_service(authorization: Option<&str>, query: Option<&str>) -> Option<String> {
    /// Split from the right into five parts, as [`parse_credential`] splits. A SigV4a scope
    /// (`AK/DATE/SERVICE/aws4_request`: its regions are in `X-Amz-Region-Set`) has no region
    /// and is refused, but still names the service whose error form its client reads.
    fn service_of(credential: &str) -> Option<String> {
        let mut parts = credential.rsplitn(5, '/');
        let service = parts.nth(1)?;
        (matches!(parts.count(), 2 | 3) && !service.is_empty()).then(|| service.to_owned())
    }
    // A header without a credential (a bearer token beside a presigned query) leaves the
    // query to name the service.
    if let Some((_, rest)) = authorization.and_then(|header| header.split_once("Credential=")) {
        let credential = rest.split(',').next().unwrap_or_default();
        return service_of(trim_blanks(credential));
    }
    let (_, value) =
        split_query(query?).find(|(key, _)| decode_query_component(key) == "X-Amz-Credential")?;
    service_of(&decode_query_component(value))
}

/// Parses the presigned parameters out of a raw query string. Other parameters are ignored;
/// each `X-Amz-*` authentication parameter must appear exactly once.
pub fn parse_presigned_query(query: &str) -> Result<ParsedAuthorization<'_>, Error> {
    const LOCATION: SignatureLocation = SignatureLocation::Query;
    let (
        mut algorithm,
        mut credential,
        mut date,
        mut expires,
        mut signed_headers,
        mut signature,
        mut token,
    ) = (None, None, None, None, None, None, None);
    for (key, value) in split_query(query) {
        let key = decode_query_component(key);
        let slot = match &*key {
            "X-Amz-Algorithm" => &mut algorithm,
            "X-Amz-Credential" => &mut credential,
            "X-Amz-Date" => &mut date,
            "X-Amz-Expires" => &mut expires,
            "X-Amz-SignedHeaders" => &mut signed_headers,
            "X-Amz-Signature" => &mut signature,
            "X-Amz-Security-Token" => &mut token,
            _ => continue,
        };
        if slot.replace(decode_query_component(value)).is_some() {
            return Err(malformed(LOCATION, format!("{key} appears twice")));
        }
    }
    let missing = |component| Error::IncompleteSignature {
        location: LOCATION,
        component,
    };
    let algorithm = algorithm.ok_or_else(|| missing("X-Amz-Algorithm"))?;
    if algorithm != ALGORITHM {
        // `X-Amz-Algorithm=AWS`: Signature Version 2's word, in a SigV4 query.
        if algorithm == "AWS" {
            return Err(Error::SignatureVersion2);
        }
        return Err(Error::UnsupportedAlgorithm {
            location: LOCATION,
            algorithm: clip(&algorithm),
        });
    }
    let credential = credential.ok_or_else(|| missing("X-Amz-Credential"))?;
    let date = date.ok_or_else(|| missing("X-Amz-Date"))?;
    let signed_headers = signed_headers.ok_or_else(|| missing("X-Amz-SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("X-Amz-Signature"))?;
    let credential = parse_credential(LOCATION, credential)?;
    if signed_headers.is_empty() {
        // It signs no header, so not `host`, which every signature must sign: S3 answers it
        // so, naming `host` (brendanhay/amazonka#272).
        return Err(Error::RequiredHeaderNotSigned {
            location: LOCATION,
            header: "host",
        });
    }
    let signs = parse_signed_headers(LOCATION, &signed_headers)?;
    let signature = parse_signature(LOCATION, &signature)?;
    // S3 requires a lifetime; the other services' query authentication has none in their
    // common parameters (AWS IoT's WebSocket URLs carry none), and is held to the clock-skew
    // window as a signed header is.
    let expires = match expires {
        Some(expires) => Some(parse_expires(&expires)?),
        None if crate::verify::uses_s3_rules(&credential.service) => {
            return Err(missing("X-Amz-Expires"))
        }
        None => None,
    };
    Ok(ParsedAuthorization {
        location: LOCATION,
        credential,
        signed_headers,
        signature,
        date: Some(date),
        expires,
        session_token: token,
        signs,
    })
}

/// Parses `X-Amz-Expires`: whole seconds, up to seven days. Zero is a lifetime that is over
/// at once, as S3 reads it: its words for the values it refuses ask for one that is
/// non-negative and less than a week, and versitygw and Ceph's s3-tests answer a zero as
/// expired (`AccessDenied`, 403).
fn parse_expires(value: &str) -> Result<Duration, Error> {
    match value.parse() {
        Ok(seconds)
            if value.bytes().all(|b| b.is_ascii_digit())
                && seconds <= MAX_PRESIGN_EXPIRES.as_secs() =>
        {
            Ok(Duration::from_secs(seconds))
        }
        _ => Err(Error::InvalidExpires { value: clip(value) }),
    }
}

/// Parses `YYYYMMDD'T'HHMMSS'Z'`.
pub fn parse_amz_date(value: &str) -> Result<SystemTime, Error> {
    let bad = || Error::MalformedDate { value: clip(value) };
    let Ok(b) = <&[u8; 16]>::try_from(value.as_bytes()) else {
        return Err(bad());
    };
    // This runs on every verification: the fourteen digits are checked in one pass without a
    // branch per byte, and the arithmetic below is what a calendar library does, without its
    // general-purpose conversions.
    let digit = |i: usize| b[i].wrapping_sub(b'0');
    let digits_ok = (0..8).chain(9..15).fold(true, |ok, i| ok & (digit(i) < 10));
    if !(digits_ok & (b[8] == b'T') & (b[15] == b'Z')) {
        return Err(bad());
    }
    let number =
        |range: std::ops::Range<usize>| range.fold(0i64, |acc, i| acc * 10 + i64::from(digit(i)));
    let (year, month, day) = (number(0..4), number(4..6), number(6..8));
    let (hour, minute, second) = (number(9..11), number(11..13), number(13..15));
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return Err(bad());
    }
    let seconds = days_since_epoch(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    let offset = Duration::from_secs(seconds.unsigned_abs());
    match seconds {
        0.. => SystemTime::UNIX_EPOCH.checked_add(offset),
        _ => SystemTime::UNIX_EPOCH.checked_sub(offset),
    }
    .ok_or_else(bad)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_since_epoch(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Parses an RFC 1123 `Date` header (`Fri, 24 May 2013 00:00:00 GMT`), or the same with
/// RFC 2822's numeric zone for UTC (`Fri, 24 May 2013 00:00:00 -0000`): botocore signs a
/// request that has a `Date` header with the signing time written so (Python's
/// `email.utils.formatdate`), and sends no `X-Amz-Date`.
pub fn parse_http_date(value: &str) -> Result<SystemTime, Error> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let bad = || Error::MalformedDate { value: clip(value) };
    let trimmed = value.trim_matches(|c| c == ' ' || c == '\t');
    let with_gmt;
    let fixdate = match trimmed
        .strip_suffix(" -0000")
        .or_else(|| trimmed.strip_suffix(" +0000"))
    {
        Some(date_and_time) => {
            with_gmt = format!("{date_and_time} GMT");
            &with_gmt
        }
        None => trimmed,
    };
    // IMF-fixdate is 29 bytes: `[year]` would also take a sign (`+2013`, `-2013`).
    if fixdate.len() != 29 {
        return Err(bad());
    }
    time::PrimitiveDateTime::parse(fixdate, &format)
        .map(|t| t.assume_utc().into())
        .map_err(|_| bad())
}

/// Seconds from 0000-01-01T00:00:00Z to the Unix epoch, and from the epoch to
/// 10000-01-01T00:00:00Z: `X-Amz-Date` writes the year in four digits.
const AMZ_DATE_SECONDS_BEFORE_EPOCH: u64 = 62_167_219_200;
const AMZ_DATE_SECONDS_AFTER_EPOCH: u64 = 253_402_300_800;

/// Refuses a signing time that `X-Amz-Date` cannot write (outside the years 0000 to 9999):
/// aws-sigv4 panics formatting one past ±9999, and a signature at any other would carry a
/// date no verifier reads.
pub(crate) fn check_signing_time(t: SystemTime) -> Result<(), Error> {
    let side = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) if after.as_secs() < AMZ_DATE_SECONDS_AFTER_EPOCH => return Ok(()),
        Err(before) if before.duration() <= Duration::from_secs(AMZ_DATE_SECONDS_BEFORE_EPOCH) => {
            return Ok(())
        }
        Ok(_) => "after the year 9999",
        Err(_) => "before the year 0000",
    };
    Err(Error::InvalidSigningInput {
        reason: format!("the signing time is {side}: X-Amz-Date writes the year in four digits"),
    })
}

/// Formats a time as `YYYYMMDD'T'HHMMSS'Z'`.
///
/// A time outside the years -9999 to 9999 is written as the nearer end of that range: such a
/// time can come from a credential store (an expiry of `i64::MIN` seconds meaning "revoked"),
/// and formatting an error about it must not fail.
pub fn format_amz_date(t: SystemTime) -> String {
    format_utc(t, "", "")
}

/// Formats a time as ISO 8601's extended form, `YYYY-MM-DD'T'HH:MM:SS'Z'` (S3's
/// `<ServerTime>`), within the range [`format_amz_date`] writes.
pub(crate) fn format_iso8601(t: SystemTime) -> String {
    format_utc(t, "-", ":")
}

/// `t` in UTC as ISO 8601 writes it, `date` between the parts of the date and `time` between
/// those of the time.
fn format_utc(t: SystemTime, date: &str, time: &str) -> String {
    let t = clamped_utc(t);
    format!(
        "{:04}{date}{:02}{date}{:02}T{:02}{time}{:02}{time}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `t` in UTC, a time outside the `time` crate's years written as the nearer end of them.
fn clamped_utc(t: SystemTime) -> time::OffsetDateTime {
    use time::{OffsetDateTime, PrimitiveDateTime};
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => time::Duration::try_from(after)
            .ok()
            .and_then(|after| OffsetDateTime::UNIX_EPOCH.checked_add(after))
            .unwrap_or(PrimitiveDateTime::MAX.assume_utc()),
        Err(before) => time::Duration::try_from(before.duration())
            .ok()
            .and_then(|before| OffsetDateTime::UNIX_EPOCH.checked_sub(before))
            .unwrap_or(PrimitiveDateTime::MIN.assume_utc()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    /// The signing time's bounds are the first and last second `format_amz_date` (the `time`
    /// crate's calendar) writes with a four-digit year.
    #[test]
    fn signing_time_bounds_are_the_four_digit_years() {
        use std::time::{Duration, UNIX_EPOCH};
        let first = UNIX_EPOCH - Duration::from_secs(AMZ_DATE_SECONDS_BEFORE_EPOCH);
        let last = UNIX_EPOCH + Duration::from_secs(AMZ_DATE_SECONDS_AFTER_EPOCH - 1);
        assert_eq!(format_amz_date(first), "00000101T000000Z");
        assert_eq!(format_amz_date(last), "99991231T235959Z");
        assert!(check_signing_time(first).is_ok());
        assert!(check_signing_time(last + Duration::from_millis(999)).is_ok());
        assert!(check_signing_time(first - Duration::from_nanos(1)).is_err());
        assert!(check_signing_time(last + Duration::from_secs(1)).is_err());
    }

    /// A time the `time` crate cannot hold is written as its range's end, not a panic.
    #[test]
    fn format_amz_date_is_total() {
        use std::time::{Duration, UNIX_EPOCH};
        let far_past = UNIX_EPOCH - Duration::from_secs(i64::MAX as u64);
        let far_future = UNIX_EPOCH + Duration::from_secs(i64::MAX as u64);
        assert_eq!(format_amz_date(far_past), "-99990101T000000Z");
        assert_eq!(format_amz_date(far_future), "99991231T235959Z");
        assert_eq!(
            format_amz_date(UNIX_EPOCH + Duration::from_secs(1_440_938_160)),
            "20150830T123600Z"
        );
        // S3's `<ServerTime>` form of the same instants.
        assert_eq!(format_iso8601(far_future), "9999-12-31T23:59:59Z");
        assert_eq!(
            format_iso8601(UNIX_EPOCH + Duration::from_secs(1_440_938_160)),
            "2015-08-30T12:36:00Z"
        );
    }

    use super::*;
    use proptest::prelude::*;

    /// A presigned query's session token is bearer material: `Debug` of what the parser
    /// returns carries its length, never the token (a parsed query ends up in logs).
    #[test]
    fn a_parsed_session_token_is_redacted_in_debug() {
        let token = "FQoGZXIvYXdzEXAMPLE-bearer-token";
        let query = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=ASIA%2F20231114%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20231114T221320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host\
             &X-Amz-Security-Token={token}&X-Amz-Signature={}",
            "0".repeat(64)
        );
        let parsed = parse_presigned_query(&query).unwrap();
        assert_eq!(parsed.session_token.as_deref(), Some(token));
        let debug = format!("{parsed:?}");
        assert!(!debug.contains(token), "{debug}");
        assert!(
            debug.contains("session_token: Some(** redacted, 32 bytes **)"),
            "{debug}"
        );
        assert!(debug.contains("ASIA"), "the rest is still printed: {debug}");
    }

    proptest! {
        /// The scan that skips parameters finds `X-Amz-Algorithm` exactly when splitting the
        /// query and decoding every key does.
        #[test]
        fn presigned_query_detection_matches_splitting_every_key(
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just("X-Amz-Algorithm".to_owned()),
                    Just("X-Amz-Algorithm=AWS4-HMAC-SHA256".to_owned()),
                    Just("X%2DAmz-Algorithm".to_owned()),
                    Just("%58-Amz-Algorith%6d=x".to_owned()),
                    Just("X-Amz-Algorithm+".to_owned()),
                    Just("X-Amz-Algorith".to_owned()),
                    Just("x-amz-algorithm".to_owned()),
                    "[X%a-zA-Z0-9=+-]{0,20}",
                ],
                0..5,
            ),
            separators in proptest::collection::vec("[&=]{1,2}", 0..5),
        ) {
            let mut query = String::new();
            for (index, piece) in pieces.iter().enumerate() {
                if index > 0 {
                    query.push_str(separators.get(index).map_or("&", |s| s.as_str()));
                }
                query.push_str(piece);
            }
            let model = split_query(&query)
                .any(|(key, _)| decode_query_component(key) == "X-Amz-Algorithm");
            prop_assert_eq!(has_presigned_query(&query), model, "{}", query);
        }
    }

    proptest! {
        /// Whenever the strict parsers accept a scope, the lenient reader names its service,
        /// whichever the signature's location.
        #[test]
        fn claimed_service_agrees_with_the_parsers(
            access_key_id in "[A-Za-z0-9/=+]{1,24}",
            region in "[a-z0-9-]{1,12}",
            service in "[a-z0-9/-]{0,10}",
        ) {
            let credential = format!("{access_key_id}/20150830/{region}/{service}/aws4_request");
            let header = format!(
                "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature={}",
                "0".repeat(64)
            );
            let query = format!(
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date=20150830T123600Z\
                 &X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature={}",
                credential.replace('/', "%2F").replace('+', "%2B").replace('=', "%3D"),
                "0".repeat(64)
            );
            let strict = parse_authorization_header(&header).ok().map(|p| p.credential.service.into_owned());
            prop_assert_eq!(&strict, &parse_presigned_query(&query).ok().map(|p| p.credential.service.into_owned()));
            if strict.is_some() {
                prop_assert_eq!(claimed_service(Some(&header), None), strict.clone());
                prop_assert_eq!(claimed_service(None, Some(&query)), strict);
            }
        }
    }

    /// `parse_signed_headers` written with `split`: the same flags, or the same error.
    fn model_signed_headers(value: &str) -> Result<SignedFlags, Error> {
        let location = SignatureLocation::Header;
        if value.is_empty() {
            return Err(malformed(location, "SignedHeaders is empty"));
        }
        let mut flags = SignedFlags::default();
        let mut previous: Option<&str> = None;
        for name in value.split(';') {
            let valid = |b: u8| b.is_ascii_graphic() && !b.is_ascii_uppercase() && b != b':';
            let authority = name == ":authority";
            if name.is_empty() || !(authority || name.bytes().all(valid)) {
                return Err(malformed(
                    location,
                    format!("invalid signed header name {:?}", clip(name)),
                ));
            }
            if previous.is_some_and(|p| p >= name) {
                return Err(malformed(
                    location,
                    "SignedHeaders must be sorted and without duplicates",
                ));
            }
            previous = Some(name);
            flags.host |= name == "host" || authority;
            flags.x_amz_date |= name == "x-amz-date";
            flags.date |= name == "date";
            flags.x_amz_security_token |= name == "x-amz-security-token";
            flags.amz_headers += usize::from(name.starts_with("x-amz-"));
        }
        Ok(flags)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        /// The word-at-a-time `SignedHeaders` parser agrees with the plain model, on lists of
        /// real names (mostly sorted, some past a word or 64 bytes) and near misses.
        #[test]
        fn signed_headers_match_the_model(
            names in proptest::collection::vec(
                prop_oneof![
                    4 => prop_oneof![
                        Just("host"), Just("date"), Just("range"), Just("x-amz-date"),
                        Just("x-amz-security-token"), Just("x-amz-content-sha256"), Just("x-amz-"),
                        Just("x-amz"), Just("x-amz-meta-a-long-header-name-past-a-word"),
                        Just("content-type"), Just("hos"), Just("hosts"), Just("x-amz-dat"),
                        Just("x-amz-date-x"), Just("x-amz-meta-b"), Just("x-amz-da"),
                        Just(":authority"), Just(":authorit"), Just(":authority:"),
                    ].prop_map(str::to_owned),
                    1 => "[a-z:;A-Z\x00-\x21\x7e-\x7fé-]{0,10}",
                ],
                0..12,
            ),
            sort in any::<bool>(),
        ) {
            let mut names = names;
            if sort {
                names.sort_unstable();
                names.dedup();
            }
            let value = names.join(";");
            let ours = parse_signed_headers(SignatureLocation::Header, &value);
            prop_assert_eq!(format!("{ours:?}"), format!("{:?}", model_signed_headers(&value)), "{:?}", value);
        }

        /// Any text at all, with the model.
        #[test]
        fn signed_headers_match_the_model_on_any_text(value in any::<String>()) {
            let ours = parse_signed_headers(SignatureLocation::Header, &value);
            prop_assert_eq!(format!("{ours:?}"), format!("{:?}", model_signed_headers(&value)));
        }
    }

    proptest! {
        /// The one-pass credential scan finds what `rmatch_indices` and a byte test find,
        /// whatever the bytes around the `/`s (non-ASCII ones upset the lane arithmetic).
        #[test]
        fn credential_scans_match_a_plain_search(value in "[a-z0-9/ \x7f\u{80}é\u{10000}]{0,80}") {
            let slashes: Vec<usize> = value.rmatch_indices('/').take(4).map(|(at, _)| at).collect();
            let last_slashes = (slashes.len() == 4)
                .then(|| [slashes[3], slashes[2], slashes[1], slashes[0]]);
            let scan = scan_credential(value.as_bytes());
            prop_assert_eq!(scan.last_slashes, last_slashes);
            prop_assert_eq!(scan.all_graphic, value.bytes().all(|b| b.is_ascii_graphic()));
        }

        /// Eight digits, tested as a word, as a byte test finds them.
        #[test]
        fn digit_words_match_a_byte_test(value in "[0-9/:a\x7f\u{80}é]{0,9}") {
            let expected = value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(all_digits(&value), expected);
        }
    }

    #[test]
    fn claims_a_service_from_either_location_or_none() {
        let header =
            "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws4_request, SignedHeaders=host";
        assert_eq!(claimed_service(Some(header), None).as_deref(), Some("s3"));
        // The header, when there is one, is what the verifier reads.
        let query = "a=b&X-Amz-Credential=AK%2F20150830%2Fus-east-1%2Fsts%2Faws4_request";
        assert_eq!(
            claimed_service(Some(header), Some(query)).as_deref(),
            Some("s3")
        );
        assert_eq!(claimed_service(None, Some(query)).as_deref(), Some("sts"));
        // SigV4a (botocore's `s3v4a`, a multi-region access point): no region in the scope.
        let sigv4a = "AWS4-ECDSA-P256-SHA256 Credential=AK/20150830/s3/aws4_request, \
                      SignedHeaders=host;x-amz-date;x-amz-region-set, Signature=3045";
        assert_eq!(claimed_service(Some(sigv4a), None).as_deref(), Some("s3"));
        let sigv4a_query =
            "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=AK%2F20150830%2Fs3%2Faws4_request";
        assert_eq!(
            claimed_service(None, Some(sigv4a_query)).as_deref(),
            Some("s3")
        );
        // A header that names no scope (SigV2, a bearer token) beside a presigned query is
        // refused as two auth mechanisms, in the terms of the service the query names.
        for other in [
            "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
            "Bearer eyJhbGciOi",
        ] {
            assert_eq!(
                claimed_service(Some(other), Some(query)).as_deref(),
                Some("sts")
            );
        }
        for (header, query) in [
            (None, None),
            (None, Some("X-Amz-Credential=AK%2F20150830")),
            (
                Some("AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g="),
                None,
            ),
            (
                Some("AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1//aws4_request"),
                None,
            ),
        ] {
            assert_eq!(claimed_service(header, query), None, "{header:?} {query:?}");
        }
    }

    #[test]
    fn sigv2_headers_are_named() {
        let error =
            parse_authorization_header("AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
        assert!(matches!(error, Err(Error::SignatureVersion2)), "{error:?}");
    }

    #[test]
    fn parses_a_header() {
        let parsed = parse_authorization_header(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        )
        .unwrap();
        assert_eq!(parsed.credential.access_key_id, "AKIDEXAMPLE");
        assert_eq!(
            parsed.credential.scope(),
            "20150830/us-east-1/service/aws4_request"
        );
        assert_eq!(parsed.signed_headers, "host;x-amz-date");
    }

    #[test]
    fn rejects_incomplete_headers() {
        let err =
            parse_authorization_header("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request")
                .unwrap_err();
        assert_eq!(err.aws_error_code(), "IncompleteSignature");
        let err = parse_authorization_header("AWS4-HMAC-SHA1 Credential=x").unwrap_err();
        assert!(matches!(err, Error::UnsupportedAlgorithm { .. }));
    }

    #[test]
    fn byte_masks_match_a_plain_scan() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for len in 0..=64 {
            for needle in [0u8, b'/', b';', 0xff] {
                // xorshift bytes drawn from a small alphabet, so the needle is common.
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        [0u8, b'/', b';', b'a', 0x80, 0xff][(state % 6) as usize]
                    })
                    .collect();
                let plain = bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, &b)| b == needle)
                    .fold(0u64, |mask, (i, _)| mask | 1 << i);
                assert_eq!(byte_mask(&bytes, needle), plain, "{bytes:?} {needle}");
            }
        }
    }

    #[test]
    fn dates_round_trip() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(format_amz_date(t), "20150830T123600Z");
        assert_eq!(
            parse_http_date("Fri, 24 May 2013 00:00:00 GMT").unwrap(),
            parse_amz_date("20130524T000000Z").unwrap()
        );
        assert!(parse_amz_date("20150230T123600Z").is_err());
    }

    /// Only HTTP's whitespace (RFC 9110 5.5) surrounds a field value; a no-break space is part
    /// of it, and no IMF-fixdate starts or ends with one.
    #[test]
    fn an_http_date_is_trimmed_of_spaces_and_tabs_only() {
        assert!(parse_http_date(" \tFri, 24 May 2013 00:00:00 GMT\t ").is_ok());
        assert!(parse_http_date("\u{a0}Fri, 24 May 2013 00:00:00 GMT").is_err());
    }

    /// The `Date` header's IMF-fixdate has a four-digit year and no sign (RFC 9110 5.6.7):
    /// `+2013` is not 2013, nor is `-2013` a year before the epoch.
    #[test]
    fn an_http_date_year_has_four_digits_and_no_sign() {
        assert!(parse_http_date("Fri, 24 May 2013 00:00:00 GMT").is_ok());
        for value in [
            "Fri, 24 May +2013 00:00:00 GMT",
            "Fri, 24 May -2013 00:00:00 GMT",
            "Fri, 24 May 013 00:00:00 GMT",
        ] {
            let error = parse_http_date(value).unwrap_err();
            assert!(matches!(error, Error::MalformedDate { .. }), "{value}");
        }
    }

    /// RFC 2822's numeric zone is read only for UTC (`-0000`, as Python's
    /// `email.utils.formatdate` writes it for botocore, or `+0000`): any other offset, a
    /// zone beside `GMT`, or a year with a sign is refused.
    #[test]
    fn an_http_date_takes_a_numeric_zone_for_utc_only() {
        let gmt = parse_http_date("Fri, 24 May 2013 00:00:00 GMT").unwrap();
        for value in [
            "Fri, 24 May 2013 00:00:00 -0000",
            "Fri, 24 May 2013 00:00:00 +0000",
            "\tFri, 24 May 2013 00:00:00 -0000 ",
        ] {
            assert_eq!(parse_http_date(value).unwrap(), gmt, "{value}");
        }
        for value in [
            "Fri, 24 May 2013 00:00:00 +0100",
            "Fri, 24 May 2013 00:00:00 -0500",
            "Fri, 24 May 2013 00:00:00 GMT -0000",
            "Fri, 24 May 2013 00:00:00 -0000 GMT",
            "Fri, 24 May 2013 00:00:00 0000",
            "Fri, 24 May 2013 00:00:00  -0000",
            "Fri, 24 May +2013 00:00:00 -0000",
            "Fri, 24 May 2013 00:00:00-0000",
        ] {
            let error = parse_http_date(value).unwrap_err();
            assert!(matches!(error, Error::MalformedDate { .. }), "{value}");
        }
    }
}
