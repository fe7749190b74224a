//! The flexible checksums (`x-amz-checksum-crc32`, `-crc32c`, `-crc64nvme`, `-sha1`,
//! `-sha256`, `-sha512`, `-md5`, `-xxhash64`, `-xxhash3`, `-xxhash128`): as the trailer of an
//! `aws-chunked` upload, the one integrity check a `STREAMING-UNSIGNED-PAYLOAD-TRAILER` body
//! has, and S3's `BadDigest` check for signed ones; as a request header, the same `BadDigest`
//! check on a buffered or a streamed body. And under S3's rules, `Content-MD5` (RFC 1864), which
//! S3 checks against every body that carries one (`BadDigest`; `InvalidDigest` for a value that
//! is not an MD5).

use aws_lc_rs::digest;
use base64::Engine as _;
use crc::{Crc, Table, CRC_32_ISCSI, CRC_32_ISO_HDLC, CRC_64_NVME};
use xxhash_rust::{xxh3::Xxh3Default, xxh64::Xxh64};

use crate::crypto::constant_time_eq;
use crate::error::{clip, ChecksumLocation, Error};
use crate::verify::{has_name_prefix, Headers, RequestView};

/// What every flexible-checksum header and trailer name starts with.
pub(crate) const CHECKSUM_PREFIX: &str = "x-amz-checksum-";

/// The S3 headers with that prefix that carry no checksum.
const NOT_CHECKSUMS: [&str; 3] = [
    "x-amz-checksum-algorithm",
    "x-amz-checksum-type",
    "x-amz-checksum-mode",
];

// Slice-by-16 tables, built at compile time: a chunk is checksummed as it is released.
static CRC32: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISO_HDLC);
static CRC32C: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISCSI);
static CRC64NVME: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_NVME);

#[derive(Clone)]
enum State {
    Crc32(crc::Digest<'static, u32, Table<16>>),
    Crc32c(crc::Digest<'static, u32, Table<16>>),
    Crc64Nvme(crc::Digest<'static, u64, Table<16>>),
    Sha(digest::Context),
    Xxh64(Xxh64),
    Md5(md5::Md5),
    /// XXH3 with its 64-bit digest (`-xxhash3`) or its 128-bit one (`-xxhash128`); boxed, as
    /// its input buffer is larger than every other state.
    Xxh3 {
        state: Box<Xxh3Default>,
        wide: bool,
    },
}

impl State {
    fn xxh3(wide: bool) -> Self {
        Self::Xxh3 {
            state: Box::new(Xxh3Default::new()),
            wide,
        }
    }
}

/// A running checksum of the decoded body, named by the trailer that must carry it.
#[derive(Clone)]
pub(crate) struct TrailerChecksum {
    trailer: &'static str,
    state: State,
}

impl TrailerChecksum {
    /// The checksum `x-amz-trailer` declares, if any. `declared` is that header's value: a
    /// comma-separated list of trailer names. A checksum trailer we cannot compute is an error
    /// rather than an unchecked body.
    pub(crate) fn from_declared(declared: &str) -> Result<Option<Self>, Error> {
        let mut found = None;
        for name in declared.split(',').map(str::trim) {
            let lower = name.to_ascii_lowercase();
            if !lower.starts_with(CHECKSUM_PREFIX) {
                continue;
            }
            let Some(checksum) = Self::named(&lower) else {
                return Err(Error::UnsupportedChecksum { name: clip(name) });
            };
            if found.is_some() {
                return Err(Error::MalformedChunk {
                    reason: "x-amz-trailer declares more than one checksum",
                });
            }
            found = Some(checksum);
        }
        Ok(found)
    }

    /// The checksum a request header carries, if it is a flexible-checksum header: `None` for
    /// any other header, and for the `x-amz-checksum-` headers that carry no checksum (they name
    /// an algorithm, a checksum type or a mode); an error for a checksum we cannot compute
    /// (one S3 adds after this code), which would otherwise reach the service unchecked.
    pub(crate) fn for_header(name: &str) -> Result<Option<Self>, Error> {
        if !has_name_prefix(name, CHECKSUM_PREFIX) {
            return Ok(None);
        }
        let lower = name.to_ascii_lowercase();
        if NOT_CHECKSUMS.contains(&lower.as_str()) {
            return Ok(None);
        }
        match Self::named(&lower) {
            Some(checksum) => Ok(Some(checksum)),
            None => Err(Error::UnsupportedChecksum { name: clip(name) }),
        }
    }

    /// A running checksum for the lower-case trailer or header name, if it is one we compute.
    pub(crate) fn named(lower_case_name: &str) -> Option<Self> {
        let (name, state) = match lower_case_name {
            "x-amz-checksum-crc32" => ("x-amz-checksum-crc32", State::Crc32(CRC32.digest())),
            "x-amz-checksum-crc32c" => ("x-amz-checksum-crc32c", State::Crc32c(CRC32C.digest())),
            "x-amz-checksum-crc64nvme" => (
                "x-amz-checksum-crc64nvme",
                State::Crc64Nvme(CRC64NVME.digest()),
            ),
            "x-amz-checksum-sha1" => (
                "x-amz-checksum-sha1",
                State::Sha(digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY)),
            ),
            "x-amz-checksum-sha256" => (
                "x-amz-checksum-sha256",
                State::Sha(digest::Context::new(&digest::SHA256)),
            ),
            "x-amz-checksum-sha512" => (
                "x-amz-checksum-sha512",
                State::Sha(digest::Context::new(&digest::SHA512)),
            ),
            "x-amz-checksum-md5" => ("x-amz-checksum-md5", State::Md5(md5::Md5::default())),
            "x-amz-checksum-xxhash64" => ("x-amz-checksum-xxhash64", State::Xxh64(Xxh64::new(0))),
            "x-amz-checksum-xxhash3" => ("x-amz-checksum-xxhash3", State::xxh3(false)),
            "x-amz-checksum-xxhash128" => ("x-amz-checksum-xxhash128", State::xxh3(true)),
            _ => return None,
        };
        Some(Self::new(name, state))
    }

    fn new(trailer: &'static str, state: State) -> Self {
        Self { trailer, state }
    }

    /// The trailer name this checksum is compared with.
    pub(crate) fn trailer(&self) -> &'static str {
        self.trailer
    }

    /// How many bytes the checksum has.
    fn digest_len(&self) -> usize {
        match &self.state {
            State::Crc32(_) | State::Crc32c(_) => 4,
            State::Crc64Nvme(_) | State::Xxh64(_) | State::Xxh3 { wide: false, .. } => 8,
            State::Md5(_) | State::Xxh3 { wide: true, .. } => 16,
            State::Sha(context) => context.algorithm().output_len(),
        }
    }

    /// Whether a header's or trailer's `value` can be this checksum at all: the base64 of as
    /// many bytes (with padding, no stray bits; HTTP's optional whitespace around it), as S3
    /// holds a checksum header before it reads the body, and a trailer before it compares it:
    /// [`Error::InvalidChecksumValue`] otherwise.
    pub(crate) fn check_value_form(
        &self,
        value: &[u8],
        location: ChecksumLocation,
    ) -> Result<(), Error> {
        match base64_of(value, self.digest_len()) {
            Some(_) => Ok(()),
            None => Err(Error::InvalidChecksumValue {
                name: self.trailer,
                value: clip(&String::from_utf8_lossy(value)),
                location,
            }),
        }
    }

    /// Adds released body bytes.
    pub(crate) fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Crc32(d) | State::Crc32c(d) => d.update(data),
            State::Crc64Nvme(d) => d.update(data),
            State::Sha(d) => d.update(data),
            State::Xxh64(d) => d.update(data),
            State::Md5(d) => md5::Digest::update(d, data),
            State::Xxh3 { state, .. } => state.update(data),
        }
    }

    /// Compares with the trailer's value (base64 of the big-endian checksum), consuming the
    /// running state.
    pub(crate) fn check(self, claimed: &str) -> Result<(), Error> {
        let computed = match self.state {
            State::Crc32(d) | State::Crc32c(d) => d.finalize().to_be_bytes().to_vec(),
            State::Crc64Nvme(d) => d.finalize().to_be_bytes().to_vec(),
            State::Sha(d) => d.finish().as_ref().to_vec(),
            State::Xxh64(d) => d.digest().to_be_bytes().to_vec(),
            State::Md5(d) => md5::Digest::finalize(d).to_vec(),
            State::Xxh3 { state, wide: false } => state.digest().to_be_bytes().to_vec(),
            State::Xxh3 { state, wide: true } => state.digest128().to_be_bytes().to_vec(),
        };
        let computed = base64::engine::general_purpose::STANDARD.encode(computed);
        // HTTP's optional whitespace (RFC 9110 5.6.3), not `str::trim`'s Unicode spaces: the
        // service reads the value as sent, and a U+00A0 after it is not the checksum.
        let claimed_value = claimed.trim_matches([' ', '\t']);
        if constant_time_eq(computed.as_bytes(), claimed_value.as_bytes()) {
            Ok(())
        } else {
            Err(Error::ChecksumMismatch {
                name: self.trailer,
                claimed: clip(claimed),
                computed,
            })
        }
    }
}

/// Checks a buffered body against the checksums its headers claim, as S3 does:
/// [`plain_body_checksum`], then the body's checksums against the claimed ones (`BadDigest` on
/// a mismatch).
pub(crate) fn check_buffered_checksums(
    request: &RequestView<'_>,
    service: &str,
    body: &[u8],
) -> Result<(), Error> {
    match plain_body_checksum(request, service)? {
        Some(mut checksum) => {
            checksum.update(body);
            checksum.check()
        }
        None => Ok(()),
    }
}

/// The checksums a body that is not `aws-chunked` must match, running over the body as it is
/// read (S3's `BadDigest` checks): a flexible-checksum header's, and `Content-MD5`'s.
#[derive(Clone)]
pub(crate) struct ClaimedChecksum {
    /// Each running checksum, with the header's value as text (a value that is not text is a
    /// mismatch): at most two, a flexible checksum and then `Content-MD5`.
    claims: Vec<(TrailerChecksum, String)>,
}

impl std::fmt::Debug for ClaimedChecksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.claims
                    .iter()
                    .map(|(running, claimed)| (running.trailer(), claimed)),
            )
            .finish()
    }
}

impl ClaimedChecksum {
    /// Adds the next bytes of the body.
    pub(crate) fn update(&mut self, data: &[u8]) {
        for (running, _) in &mut self.claims {
            running.update(data);
        }
    }

    /// At the body's end: `BadDigest` unless each of the body's checksums is the claimed one.
    pub(crate) fn check(self) -> Result<(), Error> {
        self.claims
            .into_iter()
            .try_for_each(|(running, claimed)| running.check(&claimed))
    }
}

/// The checksums a body that is not `aws-chunked` must match: the flexible-checksum header it
/// carries, if any (`InvalidRequest` for more than one, or for a checksum we cannot compute),
/// and under S3's rules its `Content-MD5` ([`content_md5`]), and `x-amz-sdk-checksum-algorithm`
/// held to the flexible one ([`check_sdk_algorithm`]). Other `x-amz-checksum-` headers
/// (`-algorithm`, `-type`, `-mode`) name no value and are left alone. A trailer declared in
/// `x-amz-trailer` is refused: only an `aws-chunked` body has trailers, so it could never come
/// (a checksum never be checked). `service` is the signature's (S3's own exception, below).
pub(crate) fn plain_body_checksum(
    request: &RequestView<'_>,
    service: &str,
) -> Result<Option<ClaimedChecksum>, Error> {
    let headers = &request.headers;
    // Only an `aws-chunked` body has trailers: one declared here could never come (a checksum
    // never be checked), and a service would be handed a promise the body cannot keep.
    if let Some(declared) = headers.joined_bytes("x-amz-trailer") {
        if declared
            .split(|&b| b == b',')
            .any(|name| !name.trim_ascii().is_empty())
        {
            return Err(Error::MalformedChunk {
                reason: "x-amz-trailer declares a trailer, but the body is not aws-chunked",
            });
        }
    }
    let content_md5 = content_md5(headers, service)?;
    let mut claims = Vec::new();
    // Decided before any header is read: the whole object's checksum is the service's to
    // check against the parts, whatever its algorithm (one the layer refuses included).
    // `Content-MD5` is still the body's.
    if !(crate::verify::uses_s3_rules(service) && completes_a_multipart_upload(request)) {
        let flexible = one_flexible_checksum(headers.iter())?;
        if let Some((running, claimed)) = &flexible {
            running.check_value_form(claimed.as_bytes(), ChecksumLocation::Header)?;
        }
        check_sdk_algorithm(
            headers,
            service,
            flexible.as_ref().map(|(running, _)| running.trailer()),
        )?;
        claims.extend(flexible);
    }
    claims.extend(content_md5);
    Ok((!claims.is_empty()).then_some(ClaimedChecksum { claims }))
}

/// Under S3's rules (`service` is the signature's), holds `x-amz-sdk-checksum-algorithm`, the
/// algorithm an SDK says it checksummed the body with (any case), to `checksum`, the body's
/// flexible checksum (header or declared trailer), as S3 does: another algorithm, or none,
/// is [`Error::SdkChecksumAlgorithmMismatch`]. Without the header, nothing to hold.
pub(crate) fn check_sdk_algorithm(
    headers: &Headers<'_>,
    service: &str,
    checksum: Option<&'static str>,
) -> Result<(), Error> {
    if !crate::verify::uses_s3_rules(service) {
        return Ok(());
    }
    let Some(algorithm) = headers.joined_bytes("x-amz-sdk-checksum-algorithm") else {
        return Ok(());
    };
    let algorithm = String::from_utf8_lossy(&algorithm);
    let named = checksum
        .and_then(|name| name.strip_prefix(CHECKSUM_PREFIX))
        .is_some_and(|suffix| suffix.eq_ignore_ascii_case(algorithm.trim_matches([' ', '\t'])));
    if named {
        return Ok(());
    }
    Err(Error::SdkChecksumAlgorithmMismatch {
        algorithm: clip(&algorithm),
        checksum,
    })
}

/// The checksums a POST Object form claims for its file, which S3 checks against the file as
/// it would a `PUT`'s headers against its body: one flexible-checksum field
/// (`x-amz-checksum-crc32`, …) and `Content-MD5`, their names in any case (S3 reads a form's
/// field names so), a repeated field's values joined as a repeated header's are.
pub(crate) fn post_file_checksum<'a>(
    fields: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> Result<Option<ClaimedChecksum>, Error> {
    let mut claims = Vec::new();
    claims.extend(one_flexible_checksum(
        fields.clone().map(|(name, value)| (name, value.as_bytes())),
    )?);
    let md5: Vec<&str> = fields
        .filter(|(name, _)| name.eq_ignore_ascii_case("content-md5"))
        .map(|(_, value)| value)
        .collect();
    if !md5.is_empty() {
        claims.push(claimed_md5(md5.join(",").as_bytes())?);
    }
    Ok((!claims.is_empty()).then_some(ClaimedChecksum { claims }))
}

/// The one flexible checksum among `(name, value)` pairs, if any: [`Error::MultipleChecksums`]
/// for a second, [`Error::UnsupportedChecksum`] for one we cannot compute.
fn one_flexible_checksum<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a [u8])>,
) -> Result<Option<(TrailerChecksum, String)>, Error> {
    let mut found: Option<(TrailerChecksum, &[u8])> = None;
    for (name, value) in pairs {
        let Some(checksum) = TrailerChecksum::for_header(name)? else {
            continue;
        };
        if let Some((first, _)) = &found {
            return Err(Error::MultipleChecksums {
                first: first.trailer(),
                second: checksum.trailer(),
                with_trailer: false,
            });
        }
        found = Some((checksum, value));
    }
    Ok(found.map(|(running, claimed)| (running, String::from_utf8_lossy(claimed).into_owned())))
}

/// Under S3's rules (`service` is the signature's), the `Content-MD5` a request carries
/// ([`claimed_md5`]), two headers read as one value (which is then no MD5). S3 checks it on
/// any request with a body. `None` without the header, and for every other service (none
/// reads it).
pub(crate) fn content_md5(
    headers: &Headers<'_>,
    service: &str,
) -> Result<Option<(TrailerChecksum, String)>, Error> {
    if !crate::verify::uses_s3_rules(service) {
        return Ok(None);
    }
    headers
        .joined_bytes("content-md5")
        .map(|value| claimed_md5(&value))
        .transpose()
}

/// The running MD5 a body must match at its end (`BadDigest`), with the value a
/// `Content-MD5` header claims: `InvalidDigest` unless that is the base64 of 16 bytes (RFC
/// 1864), as S3 answers it.
pub(crate) fn claimed_md5(value: &[u8]) -> Result<(TrailerChecksum, String), Error> {
    match base64_of(value, 16) {
        Some(text) => {
            let running = TrailerChecksum::new("Content-MD5", State::Md5(md5::Md5::default()));
            Ok((running, text.to_owned()))
        }
        None => Err(Error::InvalidContentMd5 {
            value: clip(&String::from_utf8_lossy(value)),
        }),
    }
}

/// `value` without HTTP's optional whitespace around it (as the comparison at the end trims
/// it), when that is the standard base64 (padded, no stray bits) of `len` bytes.
fn base64_of(value: &[u8], len: usize) -> Option<&str> {
    let text = std::str::from_utf8(value).ok()?.trim_matches([' ', '\t']);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    (decoded.len() == len).then_some(text)
}

/// S3's `CompleteMultipartUpload` (`POST` with an `uploadId` parameter): its checksum headers
/// are the whole object's (`x-amz-checksum-type: FULL_OBJECT`, or a checksum of the parts'
/// checksums), which S3 checks against the parts it assembles, not against the body (the list
/// of parts); the operation has no body checksum (no `httpChecksum` in S3's model), so
/// botocore and the SDKs send one there that no body matches. Only the service can check it.
/// Only `uploadId` (and the SDKs' `x-id`) may come: another parameter names another `POST`
/// operation (`?delete`, `?restore`, `?select`), which a router such as s3s's or moto's picks
/// before `uploadId`, and whose checksum is its body's.
fn completes_a_multipart_upload(request: &RequestView<'_>) -> bool {
    let Some(query) = request.query.filter(|_| request.method == "POST") else {
        return false;
    };
    let names = || {
        query.split('&').map(|pair| {
            crate::canonical::decode_query_component(
                pair.split_once('=').map_or(pair, |(name, _)| name),
            )
        })
    };
    names().any(|name| name == "uploadId")
        && names().all(|name| name == "uploadId" || name == "x-id")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::verify::Headers;

    /// The check values: each algorithm over the ASCII bytes `123456789`. CRCs from the CRC
    /// catalogue (reveng.sourceforge.io/crc-catalogue: CRC-32/ISO-HDLC cbf43926, CRC-32/ISCSI
    /// e3069283, CRC-64/NVME ae8b14860a799888), digests from FIPS 180; written as S3 writes
    /// them (base64 of the big-endian value) and cross-checked with awscrt.checksums and
    /// Python's zlib/hashlib (SHA-512: hashlib, `openssl dgst -sha512` and botocore's
    /// checksum). XXH64 8cb841db40e6ae83, XXH3-64 72dcb18b67a17dff and XXH3-128
    /// 33119477ede5dcd5e9716427681d5860 (seed 0) from the reference implementation's `xxhsum`
    /// (`-H1`, `-H3`, `-H2`), agreeing with awscrt's checksums that botocore sends. MD5
    /// 25f9e794323b453885f5181f1b624d0b from coreutils' `md5sum`.
    const CHECK: &[(&str, &str)] = &[
        ("x-amz-checksum-crc32", "y/Q5Jg=="),
        ("x-amz-checksum-crc32c", "4waSgw=="),
        ("x-amz-checksum-crc64nvme", "rosUhgp5mIg="),
        ("x-amz-checksum-sha1", "98O8HYCOBHMq32eZZczDTKeuNEE="),
        (
            "x-amz-checksum-sha256",
            "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=",
        ),
        (
            "x-amz-checksum-sha512",
            "2eZ2LdHI6vbWGzxhkvxAjU1tXxF20MKRabwk5xw/J0rSf81YEbMT1oH35V7ALXPUmclUVba1u1A6z1dPuo/+hQ==",
        ),
        ("x-amz-checksum-md5", "JfnnlDI7RTiF9RgfG2JNCw=="),
        ("x-amz-checksum-xxhash64", "jLhB20DmroM="),
        ("x-amz-checksum-xxhash3", "ctyxi2ehff8="),
        ("x-amz-checksum-xxhash128", "MxGUd+3l3NXpcWQnaB1YYA=="),
    ];

    #[test]
    fn every_algorithm_matches_its_check_value_in_any_split() {
        for (trailer, expected) in CHECK {
            for split in 0..=9 {
                let mut sum = TrailerChecksum::from_declared(trailer).unwrap().unwrap();
                assert_eq!(sum.trailer(), *trailer);
                sum.update(&b"123456789"[..split]);
                sum.update(&b"123456789"[split..]);
                sum.check(expected).unwrap();
            }
            let mut sum = TrailerChecksum::from_declared(trailer).unwrap().unwrap();
            sum.update(b"123456780");
            let error = sum.check(expected).unwrap_err();
            assert_eq!(error.aws_error_code(), "BadDigest", "{trailer}");
        }
    }

    /// Spaces and tabs around a value are HTTP's optional whitespace; other Unicode spaces
    /// (U+00A0, U+2003) are part of the value, which is then not the checksum.
    #[test]
    fn only_http_whitespace_is_trimmed_from_a_claimed_checksum() {
        let (trailer, expected) = CHECK[0];
        let check = |claimed: &str| {
            let mut sum = TrailerChecksum::from_declared(trailer).unwrap().unwrap();
            sum.update(b"123456789");
            sum.check(claimed)
        };
        for claimed in [
            expected.to_owned(),
            format!(" {expected}\t"),
            format!("\t{expected}  "),
        ] {
            check(&claimed).unwrap();
        }
        for claimed in [format!("{expected}\u{a0}"), format!("\u{2003}{expected}")] {
            let error = check(&claimed).unwrap_err();
            assert_eq!(error.aws_error_code(), "BadDigest", "{claimed:?}");
        }
    }

    fn check_checksum_headers(headers: &http::HeaderMap, body: &[u8]) -> Result<(), Error> {
        check_for_service(headers, "s3", body)
    }

    fn check_for_service(
        headers: &http::HeaderMap,
        service: &str,
        body: &[u8],
    ) -> Result<(), Error> {
        let request = RequestView {
            method: "PUT",
            path: "/bucket/key",
            query: None,
            headers: Headers::Map(headers),
            authority: None,
        };
        check_buffered_checksums(&request, service, body)
    }

    /// RFC 1321's test suite (appendix A.5): the MD5 of each message, its hex written as the
    /// base64 `Content-MD5` carries (by Python's `base64.b64encode(bytes.fromhex(…))`).
    const RFC_1321: &[(&[u8], &str)] = &[
        (b"", "1B2M2Y8AsgTpgAmY7PhCfg=="),
        (b"abc", "kAFQmDzST7DWlj99KOF/cg=="),
        (b"message digest", "+WtpfXy3k41SWi8xqvFh0A=="),
        (
            b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "V+30oivjyVWsSdouIQe2eg==",
        ),
    ];

    /// Under S3's rules a body is held to its `Content-MD5` (`BadDigest`), besides a flexible
    /// checksum; another service does not read the header.
    #[test]
    fn content_md5_is_checked_against_the_body_under_s3_rules() {
        for (message, md5) in RFC_1321 {
            let mut headers = http::HeaderMap::new();
            headers.insert("content-md5", http::HeaderValue::from_static(md5));
            for service in ["s3", "s3express"] {
                check_for_service(&headers, service, message).unwrap();
                let error = check_for_service(&headers, service, b"?").unwrap_err();
                assert_eq!(error.aws_error_code(), "BadDigest", "{md5}");
                assert!(
                    matches!(&error, Error::ChecksumMismatch { name: "Content-MD5", claimed, .. } if claimed == md5),
                    "{error}"
                );
            }
            check_for_service(&headers, "sts", b"?").unwrap();

            // With a flexible checksum, both are checked.
            headers.insert("x-amz-checksum-crc32", "y/Q5Jg==".parse().unwrap());
            let error = check_checksum_headers(&headers, message).unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::ChecksumMismatch {
                        name: "x-amz-checksum-crc32",
                        ..
                    }
                ),
                "{error}"
            );
        }
        // `printf 123456789 | md5sum`: 25f9e794323b453885f5181f1b624d0b.
        let mut both = http::HeaderMap::new();
        both.insert("content-md5", "JfnnlDI7RTiF9RgfG2JNCw==".parse().unwrap());
        both.insert("x-amz-checksum-crc32", "y/Q5Jg==".parse().unwrap());
        check_checksum_headers(&both, b"123456789").unwrap();
        both.insert("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==".parse().unwrap());
        let error = check_checksum_headers(&both, b"123456789").unwrap_err();
        assert!(
            matches!(
                error,
                Error::ChecksumMismatch {
                    name: "Content-MD5",
                    ..
                }
            ),
            "{error}"
        );
    }

    proptest::proptest! {
        /// Any 16 bytes in base64, within HTTP's optional whitespace, are a `Content-MD5`,
        /// and one character fewer or more is not; whatever else is accepted is 24 characters
        /// of canonical base64 once that whitespace is trimmed.
        #[test]
        fn content_md5_values_are_the_base64_of_16_bytes(
            digest in proptest::prelude::any::<[u8; 16]>(),
            blank in "[ \t]{0,2}",
            extra in "[A-Za-z0-9+/=]",
            other in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            use base64::engine::general_purpose::STANDARD;
            let encoded = STANDARD.encode(digest);
            let value = format!("{blank}{encoded}{blank}");
            proptest::prop_assert!(claimed_md5(value.as_bytes()).is_ok());
            proptest::prop_assert!(claimed_md5(&encoded.as_bytes()[1..]).is_err());
            let longer = format!("{encoded}{extra}");
            proptest::prop_assert!(claimed_md5(longer.as_bytes()).is_err());
            if claimed_md5(&other).is_ok() {
                let text = std::str::from_utf8(&other).unwrap().trim_matches([' ', '\t']);
                proptest::prop_assert_eq!(text.len(), 24);
                proptest::prop_assert_eq!(STANDARD.encode(STANDARD.decode(text).unwrap()), text);
            }
        }
    }

    /// A `Content-MD5` that is not the base64 of 16 bytes is S3's `InvalidDigest`, whatever
    /// the body; HTTP's optional whitespace around a valid one is not part of it.
    #[test]
    fn a_content_md5_that_is_no_md5_is_refused() {
        let valid = "1B2M2Y8AsgTpgAmY7PhCfg==";
        let mut headers = http::HeaderMap::new();
        headers.insert("content-md5", format!(" {valid}\t").parse().unwrap());
        check_checksum_headers(&headers, b"").unwrap();
        for value in [
            &b""[..],
            b"1B2M2Y8AsgTpgAmY7PhCfg",
            b"1B2M2Y8AsgTpgAmY7PhC==",
            b"1B2M2Y8AsgTpgAmY7PhCfgA=",
            b"d41d8cd98f00b204e9800998ecf8427e",
            b"1B2M2Y8AsgTpgAmY7PhCfg==\xff",
        ] {
            let mut headers = http::HeaderMap::new();
            headers.insert("content-md5", http::HeaderValue::from_bytes(value).unwrap());
            let error = check_checksum_headers(&headers, b"").unwrap_err();
            assert_eq!(error.aws_error_code(), "InvalidDigest", "{value:?}");
            assert_eq!(error.http_status(), 400);
            assert!(matches!(error, Error::InvalidContentMd5 { .. }), "{error}");
            // Not read for another service.
            check_for_service(&headers, "execute-api", b"").unwrap();
        }
        // Two headers are one value, which is no MD5.
        let mut two = http::HeaderMap::new();
        two.append("content-md5", valid.parse().unwrap());
        two.append("content-md5", valid.parse().unwrap());
        let error = check_checksum_headers(&two, b"").unwrap_err();
        assert_eq!(error.aws_error_code(), "InvalidDigest");
    }

    #[test]
    fn checksum_headers_are_checked_against_the_body() {
        for (name, expected) in CHECK {
            let mut headers = http::HeaderMap::new();
            headers.insert(*name, http::HeaderValue::from_static(expected));
            // Headers that name no value are not checksums.
            headers.insert("x-amz-checksum-type", "FULL_OBJECT".parse().unwrap());
            headers.insert("x-amz-checksum-algorithm", "CRC32".parse().unwrap());
            check_checksum_headers(&headers, b"123456789").unwrap();
            let error = check_checksum_headers(&headers, b"123456780").unwrap_err();
            assert_eq!(error.aws_error_code(), "BadDigest", "{name}");
        }
        let mut not_text = http::HeaderMap::new();
        not_text.insert(
            "x-amz-checksum-crc32",
            http::HeaderValue::from_bytes(b"y/Q5Jg==\xff").unwrap(),
        );
        assert!(check_checksum_headers(&not_text, b"123456789").is_err());
        check_checksum_headers(&http::HeaderMap::new(), b"anything").unwrap();
        let mut two = http::HeaderMap::new();
        two.insert("x-amz-checksum-crc32", "y/Q5Jg==".parse().unwrap());
        two.insert("x-amz-checksum-crc32c", "4waSgw==".parse().unwrap());
        let error = check_checksum_headers(&two, b"123456789").unwrap_err();
        assert_eq!(error.aws_error_code(), "InvalidRequest", "{error}");
    }

    /// A checksum header we cannot compute is refused, on a buffered body and on a streamed
    /// one, never passed on unchecked; the headers that carry no checksum are not.
    #[test]
    fn checksum_headers_we_cannot_compute_are_refused() {
        for name in ["X-Amz-Checksum-CRC16", "x-amz-checksum-new-algorithm"] {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                "AAAAAA==".parse().unwrap(),
            );
            let error = check_checksum_headers(&headers, b"123456789").unwrap_err();
            assert_eq!(error.aws_error_code(), "InvalidRequest", "{name}: {error}");
            let error = crate::ChunkChainVerifier::unsigned()
                .with_checksum_header(name, "AAAAAA==")
                .unwrap_err();
            assert_eq!(error.aws_error_code(), "InvalidRequest", "{name}: {error}");
        }
        for name in NOT_CHECKSUMS {
            assert!(
                TrailerChecksum::for_header(name).unwrap().is_none(),
                "{name}"
            );
            crate::ChunkChainVerifier::unsigned()
                .with_checksum_header(name, "CRC32")
                .unwrap();
        }
    }

    #[test]
    fn declarations() {
        assert!(TrailerChecksum::from_declared("x-amz-foo")
            .unwrap()
            .is_none());
        let sum = TrailerChecksum::from_declared(" X-Amz-Checksum-CRC32C , x-amz-meta")
            .unwrap()
            .unwrap();
        assert_eq!(sum.trailer(), "x-amz-checksum-crc32c");
        assert!(TrailerChecksum::from_declared("x-amz-checksum-crc16").is_err());
        assert!(
            TrailerChecksum::from_declared("x-amz-checksum-crc32,x-amz-checksum-sha1").is_err()
        );
    }

    /// S3's `CompleteMultipartUpload` (`POST ?uploadId=…`) carries the whole object's checksum,
    /// not its body's (the list of parts): passed on for S3 to check against the parts. Not
    /// for `UploadPart` (`PUT`, whose checksum is its body's), not for another service.
    #[test]
    fn only_s3_completing_an_upload_carries_another_checksum_than_its_body() {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-amz-checksum-crc32", "mnG7TA==".parse().unwrap());
        headers.insert("x-amz-checksum-type", "FULL_OBJECT".parse().unwrap());
        let body = b"<CompleteMultipartUpload/>";
        for (method, query, service, passed) in [
            ("POST", Some("uploadId=up1"), "s3", true),
            (
                "POST",
                Some("x-id=CompleteMultipartUpload&upload%49d=up1"),
                "s3",
                true,
            ),
            ("PUT", Some("partNumber=1&uploadId=up1"), "s3", false),
            ("POST", Some("uploads"), "s3", false),
            ("POST", Some("uploadIds=up1"), "s3", false),
            // Another POST operation with an `uploadId` added: still its body's checksum.
            ("POST", Some("delete&uploadId=x"), "s3", false),
            ("POST", Some("restore&uploadId=x"), "s3", false),
            ("POST", Some("select&select-type=2&uploadId=x"), "s3", false),
            ("POST", None, "s3", false),
            ("POST", Some("uploadId=up1"), "service", false),
        ] {
            let request = RequestView {
                method,
                path: "/bucket/key",
                query,
                headers: Headers::Map(&headers),
                authority: None,
            };
            let result = check_buffered_checksums(&request, service, body);
            assert_eq!(
                result.is_ok(),
                passed,
                "{method} {query:?} {service}: {result:?}"
            );
            if let Err(error) = result {
                assert_eq!(error.aws_error_code(), "BadDigest");
            }
        }

        // The whole object's MD5, which S3's model lists for this operation: the service's to
        // check too, though the body has an MD5 of its own.
        let mut md5 = http::HeaderMap::new();
        md5.insert(
            "x-amz-checksum-md5",
            "1B2M2Y8AsgTpgAmY7PhCfg==".parse().unwrap(),
        );
        let request = RequestView {
            method: "POST",
            path: "/bucket/key",
            query: Some("uploadId=up1"),
            headers: Headers::Map(&md5),
            authority: None,
        };
        check_buffered_checksums(&request, "s3", body).unwrap();
    }
}
