//! `aws-chunked` bodies: verifying the chunk-signature chain of
//! `STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER)` (and decoding
//! `STREAMING-UNSIGNED-PAYLOAD-TRAILER`) as a body wrapper, and signing chunks with the same
//! chain code.

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use aws_lc_rs::digest;
use bytes::Bytes;
use http_body::{Body, Frame};

use crate::checksum::TrailerChecksum;
use crate::crypto::{constant_time_eq, hex64, sha256_hex, SigningKey, EMPTY_SHA256};
use crate::error::{ChainLink, ChecksumLocation, Error, MismatchDetails};

/// The signature of one link of a chain: a chunk (`AWS4-HMAC-SHA256-PAYLOAD`, hashes: the
/// empty string's and the data's) or the trailer (`AWS4-HMAC-SHA256-TRAILER`, hash: its
/// canonical lines'), over the request's time and scope and the link before it.
fn chain_signature(
    key: &SigningKey,
    algorithm: &str,
    amz_date: &str,
    scope: &str,
    previous: &str,
    hashes: &[&[u8]],
) -> [u8; 32] {
    key.sign(&chain_string_to_sign(
        algorithm, amz_date, scope, previous, hashes,
    ))
}

/// The string-to-sign of one link of a chain ([`chain_signature`]): its algorithm, the
/// request's time and scope, the link before it and its hashes, one a line.
fn chain_string_to_sign(
    algorithm: &str,
    amz_date: &str,
    scope: &str,
    previous: &str,
    hashes: &[&[u8]],
) -> Vec<u8> {
    let mut sts = Vec::with_capacity(256);
    for part in [algorithm, amz_date, scope, previous] {
        sts.extend_from_slice(part.as_bytes());
        sts.push(b'\n');
    }
    for (i, hash) in hashes.iter().enumerate() {
        if i > 0 {
            sts.push(b'\n');
        }
        sts.extend_from_slice(hash);
    }
    sts
}

/// A trailer's canonical form, which its signature covers: `name:value\n` per line, sorted by
/// name (as aws-sigv4's `sign_trailer` and s3s sort; names lower-case, values trimmed).
fn canonical_trailer<'a>(lines: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<u8> {
    let mut sorted: Vec<(&str, &str)> = lines.collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut canonical = Vec::new();
    for (name, value) in sorted {
        canonical.extend_from_slice(name.as_bytes());
        canonical.push(b':');
        canonical.extend_from_slice(value.as_bytes());
        canonical.push(b'\n');
    }
    canonical
}

/// What the chain is anchored to: the request's derived key, time, scope and signature.
#[derive(Clone, Debug)]
pub(crate) struct ChunkContext {
    pub(crate) key: SigningKey,
    /// The access key the request named, for a mismatch's details.
    pub(crate) access_key_id: String,
    pub(crate) amz_date: String,
    pub(crate) scope: String,
    pub(crate) seed_signature: String,
    pub(crate) trailer: bool,
}

/// Limits for chunked bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChunkLimits {
    /// Largest single chunk (default 16 MiB). Each chunk is held until its signature verifies.
    pub max_chunk_bytes: usize,
    /// Longest chunk-header or trailer line (default 4 KiB).
    pub max_line_bytes: usize,
    /// Most trailer lines (default 16), besides the `x-amz-trailer-signature` line.
    pub max_trailers: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        Self {
            max_chunk_bytes: 16 * 1024 * 1024,
            max_line_bytes: 4096,
            max_trailers: 16,
        }
    }
}

enum State {
    /// Expecting `size[;chunk-signature=sig]\r\n`.
    Header,
    /// Reading `remaining` more data bytes of a chunk.
    Data {
        remaining: usize,
        signature: Option<[u8; 32]>,
    },
    /// Expecting the `\r\n` after chunk data.
    DataEnd { signature: Option<[u8; 32]> },
    /// After the final chunk: trailer lines until an empty line.
    Trailers,
    /// Finished.
    Done,
}

/// Decodes an `aws-chunked` body and checks each chunk's signature against the chain;
/// data is released only after its chunk verified. Feed bytes with [`Self::push`], then call
/// [`Self::finish`] at the end of the body.
pub struct ChunkChainVerifier {
    context: Option<ChunkContext>,
    previous: String,
    limits: ChunkLimits,
    state: State,
    /// Bytes received and not yet decoded start at `buffer[start]`: [`Self::process`] moves
    /// `start`, and [`Self::push`] drops what is behind it once per call, so that a piece
    /// holding many chunks costs one pass, not a copy of its rest per chunk.
    buffer: Vec<u8>,
    start: usize,
    /// How many pending bytes the search for the current line's CRLF has passed already: a
    /// line that arrives a byte at a time is searched once, not once per byte.
    line_searched: usize,
    chunk: Vec<u8>,
    hasher: Option<digest::Context>,
    index: u64,
    decoded: u64,
    expected_decoded: Option<u64>,
    trailers: Vec<(String, String)>,
    /// The trailer names `x-amz-trailer` declared, lower-case: no other trailer is accepted.
    declared_trailers: Vec<String>,
    trailer_signature: Option<[u8; 32]>,
    /// Whether the one empty line tolerated before a signed trailer was seen.
    skipped_empty_line: bool,
    checksum: Option<TrailerChecksum>,
    /// The value of the checksum header that `checksum` is compared with, when the checksum
    /// came as a header rather than as a trailer.
    checksum_header: Option<String>,
    /// The MD5 of the decoded data, with the value of the `Content-MD5` it must match.
    content_md5: Option<(TrailerChecksum, String)>,
    failed: bool,
}

impl fmt::Debug for ChunkChainVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkChainVerifier")
            .field("signed", &self.context.is_some())
            .field("index", &self.index)
            .field("decoded", &self.decoded)
            .finish_non_exhaustive()
    }
}

impl ChunkChainVerifier {
    pub(crate) fn new(context: ChunkContext) -> Self {
        let previous = context.seed_signature.clone();
        Self::build(Some(context), previous)
    }

    /// A decoder for `STREAMING-UNSIGNED-PAYLOAD-TRAILER` bodies (no signatures to check).
    pub fn unsigned() -> Self {
        Self::build(None, String::new())
    }

    fn build(context: Option<ChunkContext>, previous: String) -> Self {
        Self {
            context,
            previous,
            limits: ChunkLimits::default(),
            state: State::Header,
            buffer: Vec::new(),
            start: 0,
            line_searched: 0,
            chunk: Vec::new(),
            hasher: None,
            index: 0,
            decoded: 0,
            expected_decoded: None,
            trailers: Vec::new(),
            declared_trailers: Vec::new(),
            trailer_signature: None,
            skipped_empty_line: false,
            checksum: None,
            checksum_header: None,
            content_md5: None,
            failed: false,
        }
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: ChunkLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Requires the decoded length to equal `x-amz-decoded-content-length`.
    pub fn with_decoded_length(mut self, length: u64) -> Self {
        self.expected_decoded = Some(length);
        self
    }

    /// The decoded length required by [`Self::with_decoded_length`], if any.
    pub fn decoded_length_declared(&self) -> Option<u64> {
        self.expected_decoded
    }

    /// Accepts the trailers that `x-amz-trailer` (its value is `declared`, a comma-separated
    /// list of names) announces, and no others: without this call any trailer fails the body
    /// with [`Error::MalformedTrailer`], as does a trailer sent twice.
    ///
    /// A declared checksum trailer (`x-amz-checksum-crc32`, `-crc32c`, `-crc64nvme`, `-sha1`,
    /// `-sha256`, `-sha512`, `-md5`, `-xxhash64`, `-xxhash3` or `-xxhash128`) is checked: the body
    /// fails with `BadDigest` when its value differs from the checksum of the data released. A
    /// declared trailer of any name that does not come fails the body with
    /// [`Error::MalformedTrailer`].
    ///
    /// On a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` chain (the form without a trailer) a declared
    /// trailer can never come, so declaring one is refused here
    /// ([`Error::MalformedChunk`]), before any of the body is read.
    pub fn with_declared_trailer(mut self, declared: &str) -> Result<Self, Error> {
        self.declared_trailers.extend(
            declared
                .split(',')
                .map(|name| name.trim_matches([' ', '\t']).to_ascii_lowercase())
                .filter(|name| !name.is_empty()),
        );
        let carries_no_trailer = self
            .context
            .as_ref()
            .is_some_and(|context| !context.trailer);
        if carries_no_trailer && !self.declared_trailers.is_empty() {
            return Err(Error::MalformedChunk {
                reason: "x-amz-trailer declares a trailer, but \
                         STREAMING-AWS4-HMAC-SHA256-PAYLOAD carries no trailer",
            });
        }
        if let Some(checksum) = TrailerChecksum::from_declared(declared)? {
            self.set_checksum(checksum, ChecksumLocation::Trailer)?;
        }
        Ok(self)
    }

    /// Checks the body against a flexible-checksum header of the request, when `name` is one
    /// (`x-amz-checksum-crc32`, `-crc32c`, `-crc64nvme`, `-sha1`, `-sha256`, `-sha512`, `-md5`,
    /// `-xxhash64`, `-xxhash3` or `-xxhash128`, any case; names
    /// without that prefix, and `x-amz-checksum-algorithm`, `-type` and `-mode`, are ignored):
    /// the body then fails with `BadDigest` at its end when `value` is not the checksum of the
    /// data released; a `value` that cannot be that checksum (not the base64 of as many
    /// bytes) is refused here ([`Error::InvalidChecksumValue`]), as S3 refuses it before the
    /// body. Any other `x-amz-checksum-` header names a checksum this crate cannot
    /// compute, and is refused here ([`Error::UnsupportedChecksum`]) rather than passed on
    /// unchecked. A body has at most one checksum, header or trailer.
    pub fn with_checksum_header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        if let Some(checksum) = TrailerChecksum::for_header(name)? {
            checksum.check_value_form(value.as_bytes(), ChecksumLocation::Header)?;
            self.set_checksum(checksum, ChecksumLocation::Header)?;
            self.checksum_header = Some(value.to_owned());
        }
        Ok(self)
    }

    /// Checks the decoded data against the value of a `Content-MD5` header (RFC 1864: the
    /// base64 of its MD5), as S3 does, besides any flexible checksum: the body fails with
    /// `BadDigest` at its end when it differs. A value that is not the base64 of 16 bytes is
    /// refused here ([`Error::InvalidContentMd5`], S3's `InvalidDigest`).
    pub fn with_content_md5(mut self, value: &str) -> Result<Self, Error> {
        self.content_md5 = Some(crate::checksum::claimed_md5(value.as_bytes())?);
        Ok(self)
    }

    pub(crate) fn with_claimed_md5(mut self, claim: Option<(TrailerChecksum, String)>) -> Self {
        self.content_md5 = claim;
        self
    }

    fn set_checksum(
        &mut self,
        checksum: TrailerChecksum,
        location: ChecksumLocation,
    ) -> Result<(), Error> {
        if let Some(first) = &self.checksum {
            // The first came from a trailer when no header's value was kept for it.
            let first_in_trailer = self.checksum_header.is_none();
            return Err(Error::MultipleChecksums {
                first: first.trailer(),
                second: checksum.trailer(),
                with_trailer: first_in_trailer || location == ChecksumLocation::Trailer,
            });
        }
        self.checksum = Some(checksum);
        Ok(())
    }

    /// The flexible checksum the body is held to (a header's or a declared trailer's name),
    /// if any.
    pub(crate) fn checksum_name(&self) -> Option<&'static str> {
        self.checksum.as_ref().map(TrailerChecksum::trailer)
    }

    /// The trailer headers (after [`Self::finish`]).
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// Whether the final chunk (and trailer) has been seen.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The bytes received and not yet decoded.
    fn pending(&self) -> &[u8] {
        self.buffer.get(self.start..).unwrap_or_default()
    }

    fn take_line(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let too_long = Error::MalformedChunk {
            reason: "chunk header or trailer line too long",
        };
        let pending = self.pending();
        // Resume one byte early: the CR of the CRLF may have been the last byte searched.
        let from = self.line_searched.saturating_sub(1).min(pending.len());
        let found = pending[from..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|at| from + at);
        match found {
            // The limit holds however the bytes arrived: a long line that came in one piece
            // is refused just like one that came in many.
            Some(end) if end > self.limits.max_line_bytes => Err(too_long),
            Some(end) => {
                let line = pending[..end].to_vec();
                self.start += end + 2;
                self.line_searched = 0;
                Ok(Some(line))
            }
            // `+ 1`: the line's CR may have come without its LF yet.
            None if pending.len() > self.limits.max_line_bytes.saturating_add(1) => Err(too_long),
            None => {
                self.line_searched = pending.len();
                Ok(None)
            }
        }
    }

    fn sign(&self, algorithm: &str, hashes: &[&[u8]]) -> Option<[u8; 32]> {
        let context = self.context.as_ref()?;
        Some(chain_signature(
            &context.key,
            algorithm,
            &context.amz_date,
            &context.scope,
            &self.previous,
            hashes,
        ))
    }

    /// The `ChunkSignatureMismatch` of `link`, which carried `claimed`: what
    /// its signature was computed from (the string-to-sign again, as [`Self::sign`] signed it:
    /// built only on this path), so that a client can compare it with its own.
    fn link_mismatch(
        &self,
        link: ChainLink,
        algorithm: &str,
        hashes: &[&[u8]],
        hashed: &[u8],
        claimed: &[u8; 32],
    ) -> Error {
        let details = self.context.as_ref().map(|context| MismatchDetails {
            canonical_request: String::from_utf8_lossy(hashed).into_owned(),
            string_to_sign: String::from_utf8_lossy(&chain_string_to_sign(
                algorithm,
                &context.amz_date,
                &context.scope,
                &self.previous,
                hashes,
            ))
            .into_owned(),
            access_key_id: context.access_key_id.clone(),
            signature_provided: String::from_utf8_lossy(&hex64(claimed)).into_owned(),
        });
        Error::ChunkSignatureMismatch {
            link,
            details: Box::new(details.unwrap_or_default()),
        }
    }

    /// Feeds body bytes; verified, decoded data is appended to `out`. After an error the
    /// verifier stays failed.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if self.failed {
            return Err(Error::MalformedChunk {
                reason: "body already failed verification",
            });
        }
        self.buffer.extend_from_slice(input);
        let result = self.process(out);
        self.buffer.drain(..self.start.min(self.buffer.len()));
        self.start = 0;
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn process(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        loop {
            match self.state {
                State::Header => {
                    let Some(line) = self.take_line()? else {
                        return Ok(());
                    };
                    let line = std::str::from_utf8(&line).map_err(|_| Error::MalformedChunk {
                        reason: "chunk header is not text",
                    })?;
                    let (size, extension) = line.split_once(';').unwrap_or((line, ""));
                    if size.is_empty()
                        || size.len() > 16
                        || !size.bytes().all(|b| b.is_ascii_hexdigit())
                    {
                        return Err(Error::MalformedChunk {
                            reason: "chunk size is not hex",
                        });
                    }
                    let size =
                        usize::from_str_radix(size, 16).map_err(|_| Error::MalformedChunk {
                            reason: "chunk size is not hex",
                        })?;
                    if size > self.limits.max_chunk_bytes {
                        return Err(Error::BodyTooLarge {
                            limit: self.limits.max_chunk_bytes as u64,
                            declared: None,
                        });
                    }
                    if self
                        .expected_decoded
                        .is_some_and(|expected| self.decoded.saturating_add(size as u64) > expected)
                    {
                        return Err(Error::IncompleteBody {
                            reason: "the chunks are longer than x-amz-decoded-content-length",
                        });
                    }
                    let signature = match &self.context {
                        Some(_) => {
                            let value = extension.strip_prefix("chunk-signature=").ok_or(
                                Error::MalformedChunk {
                                    reason: "chunk has no chunk-signature",
                                },
                            )?;
                            let mut sig = [0u8; 32];
                            if value.len() != 64 || hex::decode_to_slice(value, &mut sig).is_err() {
                                return Err(Error::MalformedChunk {
                                    reason: "chunk-signature is not 64 hex digits",
                                });
                            }
                            Some(sig)
                        }
                        None => None,
                    };
                    self.chunk.clear();
                    // Hashed only to check a signature: unsigned chunks are not.
                    self.hasher = signature.map(|_| digest::Context::new(&digest::SHA256));
                    self.state = State::Data {
                        remaining: size,
                        signature,
                    };
                }
                State::Data {
                    remaining,
                    signature,
                } => {
                    let pending = self.buffer.get(self.start..).unwrap_or_default();
                    let take = remaining.min(pending.len());
                    if take > 0 {
                        let data = &pending[..take];
                        if let Some(h) = self.hasher.as_mut() {
                            h.update(data);
                        }
                        self.chunk.extend_from_slice(data);
                        self.start += take;
                    }
                    if take < remaining {
                        self.state = State::Data {
                            remaining: remaining - take,
                            signature,
                        };
                        return Ok(());
                    }
                    let size = self.chunk.len();
                    if size == 0 {
                        // The final chunk: no data, and no CRLF of its own before trailers.
                        self.verify_chunk(signature, out)?;
                        self.state = State::Trailers;
                    } else {
                        self.state = State::DataEnd { signature };
                    }
                }
                State::DataEnd { signature } => {
                    let Some(crlf) = self.pending().get(..2) else {
                        return Ok(());
                    };
                    if crlf != b"\r\n" {
                        return Err(Error::MalformedChunk {
                            reason: "chunk data not followed by CRLF",
                        });
                    }
                    self.start += 2;
                    self.verify_chunk(signature, out)?;
                    self.state = State::Header;
                }
                State::Trailers => {
                    let Some(line) = self.take_line()? else {
                        return Ok(());
                    };
                    if line.is_empty() {
                        let expecting_trailer = self.context.as_ref().is_some_and(|c| c.trailer);
                        if expecting_trailer
                            && !self.skipped_empty_line
                            && self.trailer_signature.is_none()
                            && self.trailers.is_empty()
                        {
                            // Tolerate one empty line between the final chunk and the trailer
                            // (one: nothing signs them, and they must not go on for ever).
                            self.skipped_empty_line = true;
                            continue;
                        }
                        self.finish_trailers()?;
                        self.state = State::Done;
                        continue;
                    }
                    let line = String::from_utf8(line).map_err(|_| Error::MalformedTrailer {
                        reason: "trailer is not text",
                    })?;
                    let (name, value) = line.split_once(':').ok_or(Error::MalformedTrailer {
                        reason: "trailer line has no colon",
                    })?;
                    if name.eq_ignore_ascii_case("x-amz-trailer-signature") {
                        // Optional whitespace only: a stray CR or LF here is a broken line, not
                        // padding.
                        let value = value.trim_matches([' ', '\t']);
                        let mut sig = [0u8; 32];
                        if self.trailer_signature.is_some()
                            || hex::decode_to_slice(value, &mut sig).is_err()
                        {
                            return Err(Error::MalformedTrailer {
                                reason: "x-amz-trailer-signature is not one line of 64 hex digits",
                            });
                        }
                        self.trailer_signature = Some(sig);
                    } else {
                        self.push_trailer(name, value)?;
                    }
                }
                State::Done => {
                    if !self.pending().is_empty() {
                        return Err(Error::MalformedChunk {
                            reason: "data after the final chunk",
                        });
                    }
                    return Ok(());
                }
            }
        }
    }

    fn verify_chunk(
        &mut self,
        signature: Option<[u8; 32]>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if let Some(claimed) = signature {
            let hash = match self.hasher.take() {
                Some(h) => hex64(h.finish().as_ref()),
                None => sha256_hex(&self.chunk),
            };
            let computed = self
                .sign(
                    "AWS4-HMAC-SHA256-PAYLOAD",
                    &[EMPTY_SHA256.as_bytes(), &hash],
                )
                .ok_or(Error::MalformedChunk {
                    reason: "signed chunk without a signing context",
                })?;
            if !constant_time_eq(&computed, &claimed) {
                return Err(self.link_mismatch(
                    ChainLink::Chunk(self.index),
                    "AWS4-HMAC-SHA256-PAYLOAD",
                    &[EMPTY_SHA256.as_bytes(), &hash],
                    b"",
                    &claimed,
                ));
            }
            self.previous = String::from_utf8_lossy(&hex64(&claimed)).into_owned();
        }
        self.index += 1;
        self.decoded += self.chunk.len() as u64;
        if let Some((md5, _)) = self.content_md5.as_mut() {
            md5.update(&self.chunk);
        }
        if let Some(checksum) = self.checksum.as_mut() {
            checksum.update(&self.chunk);
        }
        out.extend_from_slice(&self.chunk);
        self.chunk.clear();
        Ok(())
    }

    /// Keeps a trailer line that `x-amz-trailer` declared, once; refuses any other.
    fn push_trailer(&mut self, name: &str, value: &str) -> Result<(), Error> {
        // The signature line is not counted (it comes once), wherever it comes.
        if self.trailers.len() >= self.limits.max_trailers {
            return Err(Error::MalformedTrailer {
                reason: "too many trailer lines",
            });
        }
        let name = name.trim_matches([' ', '\t']).to_ascii_lowercase();
        if !self.declared_trailers.contains(&name) {
            return Err(Error::MalformedTrailer {
                reason: "a trailer that x-amz-trailer did not declare",
            });
        }
        if self.trailers.iter().any(|(seen, _)| *seen == name) {
            return Err(Error::MalformedTrailer {
                reason: "a trailer sent twice",
            });
        }
        // As aws-sigv4's `sign_trailer` trims the value it signs (`str::trim`, which also
        // takes a no-break space or a form feed): a client signing with it may send the value
        // untrimmed, and the value checked and handed on is the one signed.
        let value = value.trim();
        // What passes here is what the service reads in the trailers frame.
        if header_field(&name, value).is_none() {
            return Err(Error::MalformedTrailer {
                reason: "a trailer that is not a valid HTTP field",
            });
        }
        self.trailers.push((name, value.to_owned()));
        Ok(())
    }

    /// The checksum against its header, or against its declared trailer (every trailer
    /// present was declared: [`Self::push_trailer`]).
    fn check_checksum(&mut self) -> Result<(), Error> {
        let Some(checksum) = self.checksum.take() else {
            return Ok(());
        };
        let claimed = match &self.checksum_header {
            Some(header) => header.as_str(),
            None => {
                let trailer = self
                    .trailers
                    .iter()
                    .find(|(name, _)| name == checksum.trailer())
                    .map(|(_, value)| value.as_str())
                    .ok_or(Error::MalformedTrailer {
                        reason: "the checksum trailer x-amz-trailer declared is missing",
                    })?;
                // A header's value had its form checked before the body; a trailer's is
                // checked now, as S3 does, before it is compared.
                checksum.check_value_form(trailer.as_bytes(), ChecksumLocation::Trailer)?;
                trailer
            }
        };
        checksum.check(claimed)
    }

    /// The trailer's signature first (a forged trailer is `SignatureDoesNotMatch`), then the
    /// checksum it carries, then `Content-MD5`.
    fn finish_trailers(&mut self) -> Result<(), Error> {
        self.check_trailer_signature()?;
        self.check_checksum()?;
        if let Some((md5, claimed)) = self.content_md5.take() {
            md5.check(&claimed)?;
        }
        // A service reading a trailer the signed `x-amz-trailer` promised must find it (a
        // chain without trailers was refused any declaration up front).
        let missing = self
            .declared_trailers
            .iter()
            .any(|declared| !self.trailers.iter().any(|(name, _)| name == declared));
        if missing {
            return Err(Error::MalformedTrailer {
                reason: "a trailer x-amz-trailer declared is missing",
            });
        }
        Ok(())
    }

    fn check_trailer_signature(&self) -> Result<(), Error> {
        let Some(context) = &self.context else {
            return Ok(());
        };
        if !context.trailer {
            if !self.trailers.is_empty() || self.trailer_signature.is_some() {
                return Err(Error::MalformedTrailer {
                    reason: "trailer on a body declared without one",
                });
            }
            return Ok(());
        }
        let claimed = self.trailer_signature.ok_or(Error::MalformedTrailer {
            reason: "x-amz-trailer-signature is missing",
        })?;
        // Signed over its lines sorted by name, whatever order they came in; each name comes
        // once (`push_trailer`).
        let canonical = canonical_trailer(
            self.trailers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        );
        let hash = sha256_hex(&canonical);
        let computed =
            self.sign("AWS4-HMAC-SHA256-TRAILER", &[&hash])
                .ok_or(Error::MalformedChunk {
                    reason: "signed trailer without a signing context",
                })?;
        if !constant_time_eq(&computed, &claimed) {
            return Err(self.link_mismatch(
                ChainLink::Trailer,
                "AWS4-HMAC-SHA256-TRAILER",
                &[&hash],
                &canonical,
                &claimed,
            ));
        }
        Ok(())
    }

    /// Ends the body: fails unless the final chunk (and trailer) arrived and the decoded length
    /// matches.
    pub fn finish(&mut self) -> Result<(), Error> {
        if self.failed {
            return Err(Error::MalformedChunk {
                reason: "body already failed verification",
            });
        }
        if matches!(self.state, State::Trailers) && self.pending().is_empty() {
            // Lenient: the body ended right after the final chunk (no closing CRLF).
            self.finish_trailers()?;
            self.state = State::Done;
        }
        if !self.is_done() {
            self.failed = true;
            return Err(Error::IncompleteBody {
                reason: "the body ended before the final chunk",
            });
        }
        if let Some(expected) = self.expected_decoded {
            if expected != self.decoded {
                self.failed = true;
                return Err(Error::IncompleteBody {
                    reason: "decoded length differs from x-amz-decoded-content-length",
                });
            }
        }
        Ok(())
    }
}

/// A trailer as an HTTP field (a value may hold obs-text, as a header's may), if it is one.
fn header_field(name: &str, value: &str) -> Option<(http::HeaderName, http::HeaderValue)> {
    Some((
        http::HeaderName::from_bytes(name.as_bytes()).ok()?,
        http::HeaderValue::from_bytes(value.as_bytes()).ok()?,
    ))
}

/// An `http_body::Body` that decodes an `aws-chunked` body and fails on the first chunk whose
/// signature breaks the chain. Trailers arrive as a trailers frame.
///
/// When the decoded length is declared ([`ChunkChainVerifier::with_decoded_length`]), the
/// frame that completes the data is held back until the rest of the body (the final chunk,
/// the trailer and its signature, the checksum) has been checked and the body has ended: a
/// reader that stops once it has `Content-Length` bytes (hyper's client forwarding the body,
/// a handler reading what the head announces; RFC 9110 8.6) then gets the failure in place of
/// the last bytes, never all of them from a body that fails.
///
/// A service on its own HTTP stack verifies the head first (the body has not arrived), then
/// reads the body through the chain the verified head describes ([`crate::SigV4Layer`] does
/// all of this):
///
/// ```
/// use std::sync::Arc;
/// use std::time::{Duration, UNIX_EPOCH};
/// use aws_credential_types::Credentials;
/// use bytes::Bytes;
/// use edgeward_signing::{
///     sign_http, ChunkSigner, ChunkedBody, Error, FixedClock, Payload, PayloadSigning,
///     RequestView, ResolvedCredential, SigningParams, SigningSettings, StaticCredentials,
///     Verifier, VerifierSettings,
/// };
/// use futures_util::FutureExt as _;
/// use http_body_util::{BodyExt as _, Full};
///
/// # fn main() -> Result<(), Error> {
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// // A device uploads readings in two signed chunks (see `ChunkSigner`).
/// let credentials = Credentials::from_keys("AKIDEXAMPLE", "secret", None);
/// let params = SigningParams { credentials: &credentials, region: "us-east-1", service: "s3", time: now };
/// let data = b"sensor readings, a chunk at a time";
/// let mut request = http::Request::put("https://s3.example.com/bucket/readings")
///     .header("content-encoding", "aws-chunked")
///     .header("x-amz-decoded-content-length", data.len())
///     .body(Vec::new())
///     .expect("a valid request");
/// let mut settings = SigningSettings::s3();
/// settings.payload = PayloadSigning::StreamingSigned { trailer: false };
/// let seed = sign_http(&mut request, &params, &settings)?;
/// let mut signer = ChunkSigner::for_request(&params, &seed)?.with_decoded_length(data.len() as u64);
/// let mut wire = signer.chunk(&data[..16])?;
/// wire.extend(signer.chunk(&data[16..])?);
/// wire.extend(signer.finish(&[])?);
///
/// // The service: the head first, with no body (its chunks carry their own signatures).
/// let lookup = StaticCredentials::new().with("AKIDEXAMPLE", ResolvedCredential::new("secret", "device"));
/// let verifier = Verifier::new(lookup, VerifierSettings::default()).with_clock(Arc::new(FixedClock(now)));
/// let (head, _empty) = request.into_parts();
/// let view = RequestView::from_parts(&head);
/// let verified = verifier
///     .verify(&view, Payload::Unavailable)
///     .now_or_never()
///     .expect("a static lookup never waits")?;
/// let read = |wire: Vec<u8>| -> Result<Bytes, Error> {
///     let chain = verified.streamed_body_verifier(&view.headers)?.expect("a streamed payload");
///     let body = ChunkedBody::new(Full::new(Bytes::from(wire)), chain);
///     Ok(body.collect().now_or_never().expect("in memory")?.to_bytes())
/// };
/// assert_eq!(read(wire.clone())?, &data[..]);
///
/// // One byte of the first chunk's data changed on the way: the body fails at that chunk.
/// let first_data = wire.windows(2).position(|pair| pair == b"\r\n").expect("a chunk line") + 2;
/// wire[first_data] ^= 1;
/// assert!(matches!(read(wire), Err(Error::ChunkSignatureMismatch { .. })));
/// # Ok(())
/// # }
/// ```
pub struct ChunkedBody<B> {
    inner: B,
    verifier: ChunkChainVerifier,
    /// The inner body has ended (or failed).
    finished: bool,
    /// The data that completes the declared length, until the body has ended well.
    held: Option<Bytes>,
    /// What is left to hand out once the body ended well: the held data, then the trailers.
    tail: std::collections::VecDeque<Frame<Bytes>>,
}

impl<B> fmt::Debug for ChunkedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkedBody")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl<B> ChunkedBody<B> {
    /// The raw body, as far as it has not been read (for the layer to drain it behind a
    /// refusal).
    pub(crate) fn into_inner(self) -> B {
        self.inner
    }

    /// Wraps `inner` (the raw `aws-chunked` bytes).
    pub fn new(inner: B, verifier: ChunkChainVerifier) -> Self {
        Self {
            inner,
            verifier,
            finished: false,
            held: None,
            tail: std::collections::VecDeque::new(),
        }
    }

    /// Whether all the declared data has been decoded (`false` when none was declared).
    fn all_data_decoded(&self) -> bool {
        self.verifier.expected_decoded == Some(self.verifier.decoded)
    }
}

impl<B> Body for ChunkedBody<B>
where
    B: Body + Unpin,
    B::Error: fmt::Display + 'static,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        if let Some(frame) = this.tail.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        if this.finished {
            return Poll::Ready(None);
        }
        loop {
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(mut data) = frame.into_data() {
                        use bytes::Buf;
                        let mut out = Vec::new();
                        while data.has_remaining() {
                            let chunk = data.chunk();
                            let n = chunk.len();
                            if let Err(e) = this.verifier.push(chunk, &mut out) {
                                this.finished = true;
                                return Poll::Ready(Some(Err(e)));
                            }
                            data.advance(n);
                        }
                        if !out.is_empty() {
                            if this.all_data_decoded() {
                                this.held = Some(Bytes::from(out));
                                continue;
                            }
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                        }
                    }
                }
                Some(Err(e)) => {
                    this.finished = true;
                    // An inner body that already speaks this crate's errors (the layer's, with
                    // its timeouts) keeps its error; any other is a failed read.
                    let mut failed = Some(e);
                    let error = match (&mut failed as &mut dyn std::any::Any)
                        .downcast_mut::<Option<Error>>()
                        .and_then(Option::take)
                    {
                        Some(own) => own,
                        None => Error::BodyRead {
                            reason: failed.map(|e| e.to_string()).unwrap_or_default(),
                        },
                    };
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    this.finished = true;
                    if let Err(e) = this.verifier.finish() {
                        this.held = None;
                        return Poll::Ready(Some(Err(e)));
                    }
                    if let Some(data) = this.held.take() {
                        this.tail.push_back(Frame::data(data));
                    }
                    let trailers = this.verifier.trailers();
                    if !trailers.is_empty() {
                        let mut map = http::HeaderMap::new();
                        // Every trailer kept is a valid field (`push_trailer`).
                        for (name, value) in trailers {
                            if let Some((name, value)) = header_field(name, value) {
                                map.append(name, value);
                            }
                        }
                        this.tail.push_back(Frame::trailers(map));
                    }
                    return Poll::Ready(this.tail.pop_front().map(Ok));
                }
            }
        }
    }
}

/// Signs `aws-chunked` bodies, continuing the chain from a request signed with
/// [`crate::PayloadSigning::StreamingSigned`]: the same chain code the verifier checks with,
/// under a signing key derived once (and zeroized), where signing each chunk through
/// aws-sigv4 derived it again per chunk from an unzeroized copy of the secret.
///
/// It refuses what would make a body no verifier accepts: an empty chunk before the end (the
/// empty chunk is the last one), anything after [`Self::finish`], and, when the decoded length
/// was given ([`Self::with_decoded_length`]), more or fewer bytes than that.
///
/// ```
/// # use std::time::SystemTime;
/// # use aws_credential_types::Credentials;
/// use edgeward_signing::{sign_http, ChunkSigner, PayloadSigning, SigningParams, SigningSettings};
///
/// # fn main() -> Result<(), edgeward_signing::Error> {
/// let credentials = Credentials::from_keys("AKIDEXAMPLE", "secret", None);
/// let data = b"hello chunked world";
/// let mut request = http::Request::put("https://s3.example.com/bucket/key")
///     .header("content-encoding", "aws-chunked")
///     .header("x-amz-decoded-content-length", data.len())
///     .body(Vec::new())
///     .expect("a valid request");
/// let mut settings = SigningSettings::s3();
/// settings.payload = PayloadSigning::StreamingSigned { trailer: false };
/// // One `SigningParams` for the request and its chunks: one clock reading.
/// let params = SigningParams {
///     credentials: &credentials,
///     region: "us-east-1",
///     service: "s3",
///     time: SystemTime::now(),
/// };
/// let seed = sign_http(&mut request, &params, &settings)?;
/// let mut signer = ChunkSigner::for_request(&params, &seed)?.with_decoded_length(data.len() as u64);
/// let mut body = signer.chunk(data)?;
/// body.extend(signer.finish(&[])?);
/// *request.body_mut() = body;
/// # Ok(())
/// # }
/// ```
pub struct ChunkSigner {
    key: SigningKey,
    amz_date: String,
    scope: String,
    previous: String,
    /// Data bytes signed so far.
    signed_bytes: u64,
    /// The request's `x-amz-decoded-content-length`, when the caller gave it.
    decoded_length: Option<u64>,
    finished: bool,
}

impl fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("amz_date", &self.amz_date)
            .field("scope", &self.scope)
            .field("previous", &crate::redact::signature(&self.previous))
            .finish_non_exhaustive()
    }
}

impl ChunkSigner {
    /// Continues the chain of the request signed with `params` (the same credentials, region,
    /// service and time: its `X-Amz-Date` and scope) whose signature is `seed_signature`.
    pub fn for_request(
        params: &crate::SigningParams<'_>,
        seed_signature: &str,
    ) -> Result<Self, Error> {
        Self::new(
            params.credentials,
            params.region,
            params.service,
            params.time,
            seed_signature,
        )
    }

    /// Continues from the request's `seed_signature` (the `Signature=` of its Authorization,
    /// 64 lower-case hex digits; anything else is [`Error::InvalidSigningInput`], since every
    /// chunk signature would be wrong). `credentials`, `region`, `service` and `time` must be
    /// those the request was signed with: the chain is over its `X-Amz-Date` and scope, so a
    /// second reading of the clock that falls in another second makes every chunk signature
    /// wrong ([`Self::for_request`] takes them in one piece). A time outside the years 0000
    /// to 9999, at which no request was signed, is refused too.
    pub fn new(
        credentials: &aws_credential_types::Credentials,
        region: &str,
        service: &str,
        time: std::time::SystemTime,
        seed_signature: &str,
    ) -> Result<Self, Error> {
        if !crate::crypto::is_lower_hex64(seed_signature) {
            return Err(Self::refuse(
                "the seed signature is not 64 lower-case hex digits (the request's Signature=)"
                    .into(),
            ));
        }
        crate::auth::check_signing_time(time)?;
        let amz_date = crate::auth::format_amz_date(time);
        let date = amz_date.get(..8).unwrap_or_default();
        let secret = crate::crypto::SecretAccessKey::new(credentials.secret_access_key());
        Ok(Self {
            key: SigningKey::derive(&secret, date, region, service),
            scope: format!("{date}/{region}/{service}/aws4_request"),
            amz_date,
            previous: seed_signature.to_owned(),
            signed_bytes: 0,
            decoded_length: None,
            finished: false,
        })
    }

    /// Holds the body to `length` data bytes, the request's `x-amz-decoded-content-length`:
    /// a chunk past it, or a [`Self::finish`] short of it, is refused, where a verifier would
    /// refuse the body only at its end.
    #[must_use]
    pub fn with_decoded_length(mut self, length: u64) -> Self {
        self.decoded_length = Some(length);
        self
    }

    fn refuse(reason: String) -> Error {
        Error::InvalidSigningInput { reason }
    }

    /// The next link's signature (hex), which becomes the one before the link after it.
    fn link(&mut self, algorithm: &str, hashes: &[&[u8]]) -> String {
        let signature = chain_signature(
            &self.key,
            algorithm,
            &self.amz_date,
            &self.scope,
            &self.previous,
            hashes,
        );
        self.previous = String::from_utf8_lossy(&hex64(&signature)).into_owned();
        self.previous.clone()
    }

    /// One chunk, encoded: `size;chunk-signature=…\r\ndata\r\n` (the final chunk is empty data
    /// and carries no data CRLF when a trailer follows; see [`Self::finish`]).
    ///
    /// `data` must not be empty: the empty chunk ends the body, and [`Self::finish`] sends it.
    pub fn chunk(&mut self, data: &[u8]) -> Result<Vec<u8>, Error> {
        if data.is_empty() {
            return Err(Self::refuse(
                "an empty chunk ends the body: call finish to end it".into(),
            ));
        }
        self.sign_chunk(data)
    }

    fn sign_chunk(&mut self, data: &[u8]) -> Result<Vec<u8>, Error> {
        if self.finished {
            return Err(Self::refuse("the body is already finished".into()));
        }
        let total = u64::try_from(data.len())
            .ok()
            .and_then(|len| self.signed_bytes.checked_add(len));
        if let Some(declared) = self.decoded_length {
            if total.is_none_or(|total| total > declared) {
                return Err(Self::refuse(format!(
                    "this chunk takes the body past its decoded length of {declared} bytes"
                )));
            }
        }
        let signature = self.link(
            "AWS4-HMAC-SHA256-PAYLOAD",
            &[EMPTY_SHA256.as_bytes(), &sha256_hex(data)],
        );
        let mut out = format!("{:x};chunk-signature={signature}\r\n", data.len()).into_bytes();
        out.extend_from_slice(data);
        if !data.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
        self.signed_bytes = total.unwrap_or(u64::MAX);
        Ok(out)
    }

    /// The final (empty) chunk, then the signed trailer if `trailers` is not empty, then the
    /// closing CRLF. Nothing can be signed after it. Trailer names are sent lower-case and
    /// values trimmed, as they are signed.
    pub fn finish(&mut self, trailers: &[(&str, &str)]) -> Result<Vec<u8>, Error> {
        if let Some(declared) = self.decoded_length.filter(|&d| d != self.signed_bytes) {
            return Err(Self::refuse(format!(
                "the body has {} data bytes, its decoded length says {declared}",
                self.signed_bytes
            )));
        }
        // The trailer is checked before the final chunk is signed: after that the chain has
        // moved on and the body cannot be finished again. A name given twice, or the
        // signature's own, makes a trailer every verifier refuses (S3's MalformedTrailerError).
        let lines: Vec<(String, &str)> = trailers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
            .collect();
        for (index, (name, value)) in lines.iter().enumerate() {
            if name == "x-amz-trailer-signature" {
                return Err(Self::refuse(
                    "x-amz-trailer-signature is the trailer's signature, not a trailer".into(),
                ));
            }
            if lines[..index].iter().any(|(earlier, _)| earlier == name) {
                return Err(Self::refuse(format!("the trailer {name} is given twice")));
            }
            // A line no HTTP peer could read back as a field (a verifier reads it so).
            if header_field(name, value).is_none() {
                return Err(Self::refuse(format!(
                    "the trailer {name} is not an HTTP field name and value"
                )));
            }
        }
        let mut out = self.sign_chunk(&[])?;
        self.finished = true;
        if !lines.is_empty() {
            let canonical =
                canonical_trailer(lines.iter().map(|(name, value)| (name.as_str(), *value)));
            let signature = self.link("AWS4-HMAC-SHA256-TRAILER", &[&sha256_hex(&canonical)]);
            for (name, value) in &lines {
                out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
            }
            out.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// `count` one-byte chunks of an unsigned `aws-chunked` body, then the final chunk.
    fn one_byte_chunks(count: usize) -> Vec<u8> {
        let mut body = b"1\r\nx\r\n".repeat(count);
        body.extend_from_slice(b"0\r\n\r\n");
        body
    }

    /// A frame of many small chunks (hyper hands over up to ~400 KiB at once) decodes in one
    /// push. That it does so in time linear in its size is measured, not asserted here: the
    /// `aws_chunked` bench in `benches/` (BENCHMARKS.md).
    #[test]
    fn a_large_frame_of_small_chunks_decodes() {
        let body = one_byte_chunks(200_000);
        let mut verifier = ChunkChainVerifier::unsigned();
        let mut out = Vec::new();
        verifier.push(&body, &mut out).unwrap();
        verifier.finish().unwrap();
        assert_eq!(out, vec![b'x'; 200_000]);
    }

    /// `with_content_md5` holds the decoded data, not the encoded body, to the MD5 (`printf
    /// hello | md5sum`: 5d41402abc4b2a76b9719d911017c592), in one push or byte by byte; another
    /// MD5 fails the body at its end, and a value that is no MD5 is refused up front.
    #[test]
    fn content_md5_holds_the_decoded_data() {
        let body = b"3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n";
        let decode = |md5: &str, split: usize| {
            let mut verifier = ChunkChainVerifier::unsigned().with_content_md5(md5)?;
            let mut out = Vec::new();
            for piece in body.chunks(split) {
                verifier.push(piece, &mut out)?;
            }
            verifier.finish().map(|()| out)
        };
        for split in [1, body.len()] {
            assert_eq!(decode("XUFAKrxLKna5cZ2REBfFkg==", split).unwrap(), b"hello");
            let error = decode("1B2M2Y8AsgTpgAmY7PhCfg==", split).unwrap_err();
            assert_eq!(error.aws_error_code(), "BadDigest", "{error}");
        }
        let error = ChunkChainVerifier::unsigned()
            .with_content_md5("XUFAKrxLKna5cZ2REBfFkg")
            .unwrap_err();
        assert_eq!(error.aws_error_code(), "InvalidDigest", "{error}");
    }

    /// Data past `x-amz-decoded-content-length` is refused when it arrives, not released to
    /// the service and refused only at the end of the body.
    #[test]
    fn data_past_the_decoded_length_is_not_released() {
        let mut verifier = ChunkChainVerifier::unsigned().with_decoded_length(5);
        let mut out = Vec::new();
        let error = verifier
            .push(b"5\r\nhello\r\n3\r\nabc\r\n", &mut out)
            .unwrap_err();
        assert!(matches!(error, Error::IncompleteBody { .. }), "{error}");
        assert_eq!(out, b"hello");
    }

    /// Chunk data is hashed only where a chunk signature is checked: an unsigned body
    /// (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`) computes no SHA-256 of its data, a signed one
    /// hashes each chunk as it arrives.
    #[test]
    fn only_a_signed_chain_hashes_its_chunks() {
        let mut unsigned = ChunkChainVerifier::unsigned();
        let mut out = Vec::new();
        unsigned.push(b"5\r\nhel", &mut out).unwrap();
        assert!(unsigned.hasher.is_none());
        unsigned.push(b"lo\r\n0\r\n\r\n", &mut out).unwrap();
        unsigned.finish().unwrap();
        assert_eq!(out, b"hello");

        let secret = crate::crypto::SecretAccessKey::new("secret");
        let mut signed = ChunkChainVerifier::new(ChunkContext {
            key: SigningKey::derive(&secret, "20130524", "us-east-1", "s3"),
            amz_date: "20130524T000000Z".to_owned(),
            scope: "20130524/us-east-1/s3/aws4_request".to_owned(),
            access_key_id: "AKIDEXAMPLE".to_owned(),
            seed_signature: "0".repeat(64),
            trailer: false,
        });
        let header = format!("5;chunk-signature={}\r\nhel", "0".repeat(64));
        signed.push(header.as_bytes(), &mut out).unwrap();
        assert!(signed.hasher.is_some());
    }

    /// A verifier for a `-TRAILER` chain signed with secret `secret` on 2013-05-24 for
    /// us-east-1/s3, continuing from `seed` (what `ChunkSigner` makes with the same inputs).
    fn signed_trailer_chain(seed: &str) -> ChunkChainVerifier {
        let secret = crate::crypto::SecretAccessKey::new("secret");
        ChunkChainVerifier::new(ChunkContext {
            key: SigningKey::derive(&secret, "20130524", "us-east-1", "s3"),
            amz_date: "20130524T000000Z".to_owned(),
            scope: "20130524/us-east-1/s3/aws4_request".to_owned(),
            access_key_id: "AKIDEXAMPLE".to_owned(),
            seed_signature: seed.to_owned(),
            trailer: true,
        })
    }

    /// The seed both [`signed_trailer_chain`] and [`hello_with_trailer`] continue from.
    const TRAILER_SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

    /// `hello` as one chunk and the trailer `x-amz-meta-a: value`, signed by `ChunkSigner` with
    /// the inputs [`signed_trailer_chain`] verifies, from [`TRAILER_SEED`].
    fn hello_with_trailer(value: &str) -> Vec<u8> {
        use std::time::{Duration, UNIX_EPOCH};

        let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        let credentials = aws_credential_types::Credentials::from_keys("AKID", "secret", None);
        let mut signer =
            ChunkSigner::new(&credentials, "us-east-1", "s3", time, TRAILER_SEED).unwrap();
        let mut body = signer.chunk(b"hello").unwrap();
        body.extend(signer.finish(&[("x-amz-meta-a", value)]).unwrap());
        body
    }

    /// The line carrying the trailer's signature ends in CRLF, and nothing but spaces or tabs
    /// pads its value: a stray LF or CR before the CRLF is a malformed body, not whitespace.
    #[test]
    fn a_broken_line_ending_after_the_trailer_signature_is_malformed() {
        let seed = TRAILER_SEED;
        let body = hello_with_trailer("b");
        let verify = |body: &[u8]| {
            let mut verifier = signed_trailer_chain(seed).with_declared_trailer("x-amz-meta-a")?;
            let mut out = Vec::new();
            verifier.push(body, &mut out)?;
            verifier.finish()
        };
        verify(&body).unwrap();
        let signature_line_end = body.len() - "\r\n\r\n".len();
        let signature_line = &body[signature_line_end - 88..signature_line_end];
        assert!(signature_line.starts_with(b"x-amz-trailer-signature:"));
        for stray in [&b"\n"[..], b"\r", b" \n", b"\x0c"] {
            let mut broken = body[..signature_line_end].to_vec();
            broken.extend_from_slice(stray);
            broken.extend_from_slice(&body[signature_line_end..]);
            let error = verify(&broken).unwrap_err();
            assert!(
                matches!(error, Error::MalformedTrailer { .. }),
                "{stray:?}: {error}"
            );
        }
        let mut padded = body[..signature_line_end].to_vec();
        padded.extend_from_slice(b" \t");
        padded.extend_from_slice(&body[signature_line_end..]);
        verify(&padded).unwrap();
    }

    /// aws-sigv4's `sign_trailer` signs a trailer's value trimmed by `str::trim`; a client
    /// that signs with it and sends the value as it has it (a no-break space at its end) is
    /// verified, and the value handed on is the trimmed one that was signed. (`ChunkSigner`
    /// writes the trimmed value, so this sends the untrimmed one by hand.)
    #[test]
    fn a_trailer_value_is_trimmed_as_aws_sigv4_signs_it() {
        let value = "caf\u{e9}\u{a0}";
        let sent = String::from_utf8(hello_with_trailer(value)).unwrap();
        let untrimmed = sent.replace(
            "x-amz-meta-a:caf\u{e9}\r\n",
            &format!("x-amz-meta-a:{value}\r\n"),
        );
        assert_ne!(untrimmed, sent);
        let mut verifier = signed_trailer_chain(TRAILER_SEED)
            .with_declared_trailer("x-amz-meta-a")
            .unwrap();
        let mut out = Vec::new();
        verifier.push(untrimmed.as_bytes(), &mut out).unwrap();
        verifier.finish().unwrap();
        assert_eq!(out, b"hello");
        assert_eq!(
            verifier.trailers(),
            [("x-amz-meta-a".to_owned(), "caf\u{e9}".to_owned())]
        );
    }

    /// `max_trailers` counts the trailers, not the `x-amz-trailer-signature` line, wherever
    /// that line comes: one trailer and its signature (aws-sdk-rust's form) pass a limit of one
    /// in either order, two trailers fail it in either order.
    #[test]
    fn max_trailers_does_not_depend_on_where_the_signature_line_is() {
        use std::time::{Duration, UNIX_EPOCH};

        let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let credentials = aws_credential_types::Credentials::from_keys("AKID", "secret", None);
        let verify = |trailers: &[(&str, &str)], signature_first: bool| {
            let mut signer = ChunkSigner::new(&credentials, "us-east-1", "s3", time, seed).unwrap();
            let mut body = signer.chunk(b"hello").unwrap();
            let mut tail = signer.finish(trailers).unwrap();
            if signature_first {
                // Move the signature line (the last before the closing CRLF) to the front.
                let end = tail.len() - 2;
                let start = tail[..end - 2]
                    .windows(2)
                    .rposition(|w| w == b"\r\n")
                    .map_or(0, |at| at + 2);
                let line = tail[start..end].to_vec();
                tail.drain(start..end);
                let first = tail.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
                tail.splice(first..first, line);
            }
            body.extend(tail);
            let secret = crate::crypto::SecretAccessKey::new("secret");
            let limits = ChunkLimits {
                max_trailers: 1,
                ..ChunkLimits::default()
            };
            let names: Vec<&str> = trailers.iter().map(|(name, _)| *name).collect();
            let mut verifier = ChunkChainVerifier::new(ChunkContext {
                key: SigningKey::derive(&secret, "20130524", "us-east-1", "s3"),
                amz_date: "20130524T000000Z".to_owned(),
                scope: "20130524/us-east-1/s3/aws4_request".to_owned(),
                access_key_id: "AKIDEXAMPLE".to_owned(),
                seed_signature: seed.to_owned(),
                trailer: true,
            })
            .with_limits(limits)
            .with_declared_trailer(&names.join(","))?;
            let mut out = Vec::new();
            verifier.push(&body, &mut out)?;
            verifier.finish()
        };
        for signature_first in [false, true] {
            verify(&[("x-amz-meta-a", "1")], signature_first).unwrap();
            let error = verify(
                &[("x-amz-meta-a", "1"), ("x-amz-meta-b", "2")],
                signature_first,
            )
            .unwrap_err();
            assert!(
                matches!(error, Error::MalformedTrailer { .. }),
                "{signature_first}: {error}"
            );
        }
    }

    /// One empty line between the final chunk and a signed trailer is tolerated; more are
    /// not, so a body cannot go on for ever after its last signed chunk with empty lines that
    /// nothing signs.
    #[test]
    fn one_empty_line_before_the_signed_trailer_at_most() {
        use std::time::{Duration, UNIX_EPOCH};

        let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let credentials = aws_credential_types::Credentials::from_keys("AKID", "secret", None);
        let mut signer = ChunkSigner::new(&credentials, "us-east-1", "s3", time, seed).unwrap();
        let mut body = signer.chunk(b"hello").unwrap();
        body.extend(signer.finish(&[("x-amz-meta-a", "b")]).unwrap());
        // Cut after the final chunk's line, where the trailer starts.
        let final_chunk = body.windows(3).position(|w| w == b"\n0;").unwrap() + 1;
        let trailer_start = final_chunk
            + body[final_chunk..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .unwrap()
            + 2;
        let (body, trailer) = body.split_at(trailer_start);
        let verify = |blank_lines: usize| {
            let mut verifier = signed_trailer_chain(seed).with_declared_trailer("x-amz-meta-a")?;
            let mut out = Vec::new();
            verifier.push(body, &mut out)?;
            for _ in 0..blank_lines {
                verifier.push(b"\r\n", &mut out)?;
            }
            verifier.push(trailer, &mut out)?;
            verifier.finish()
        };
        verify(0).unwrap();
        verify(1).unwrap();
        for blank_lines in [2, 1000] {
            let error = verify(blank_lines).unwrap_err();
            assert!(
                matches!(error, Error::MalformedTrailer { .. }),
                "{blank_lines}: {error}"
            );
        }
    }

    /// A trailer that passes is the one the service reads in the body's trailers frame: a
    /// declared trailer whose name or value is no HTTP field (a control byte, a bare LF inside
    /// the line) fails the body rather than vanish from that frame after it verified; UTF-8
    /// in a value (obs-text to HTTP) passes, as in a header.
    #[test]
    fn a_trailer_that_passes_reaches_the_trailers_frame() {
        use futures_util::FutureExt;
        use http_body_util::{BodyExt, Full};

        let decode = |declared: &str, line: &str| {
            let body = format!("5\r\nhello\r\n0\r\n{line}\r\n\r\n");
            let verifier = ChunkChainVerifier::unsigned()
                .with_declared_trailer(declared)
                .unwrap();
            ChunkedBody::new(Full::new(Bytes::from(body)), verifier)
                .collect()
                .now_or_never()
                .unwrap()
                .map(|collected| collected.trailers().cloned().unwrap_or_default())
        };
        for (declared, line) in [
            ("x-amz-meta-a", "x-amz-meta-a:b\x01c"),
            ("x-amz-meta-a", "x-amz-meta-a:b\nc"),
            ("x-amz-meta-a b", "x-amz-meta-a b:c"),
        ] {
            let error = decode(declared, line).unwrap_err();
            assert!(
                matches!(error, Error::MalformedTrailer { .. }),
                "{line:?}: {error}"
            );
        }
        let trailers = decode("x-amz-meta-a", "x-amz-meta-a: caf\u{e9} ").unwrap();
        assert_eq!(trailers["x-amz-meta-a"].as_bytes(), "caf\u{e9}".as_bytes());
        // Trimmed as aws-sigv4 trims what it signs: the service reads the value signed.
        let trailers = decode("x-amz-meta-a", "x-amz-meta-a:\t\u{a0}b\u{a0}\x0c ").unwrap();
        assert_eq!(trailers["x-amz-meta-a"].as_bytes(), b"b");
    }

    /// A line limit too large to add to (`usize::MAX`, "no limit") holds every line, whole or
    /// cut across pieces; it neither overflows nor refuses the cut one.
    #[test]
    fn a_line_limit_of_usize_max_takes_any_line() {
        let limits = ChunkLimits {
            max_line_bytes: usize::MAX,
            ..ChunkLimits::default()
        };
        let mut verifier = ChunkChainVerifier::unsigned().with_limits(limits);
        let mut out = Vec::new();
        verifier.push(b"5;ext", &mut out).unwrap();
        verifier.push(b"\r\nhello\r\n0\r\n\r\n", &mut out).unwrap();
        verifier.finish().unwrap();
        assert_eq!(out, b"hello");
    }

    /// How the body is cut into pieces never changes what it decodes to.
    #[test]
    fn every_split_decodes_alike() {
        let mut body = b"5;ext=1\r\nhello\r\nA\r\n0123456789\r\n".to_vec();
        body.extend_from_slice(b"0\r\nx-amz-meta-a:b\r\n\r\n");
        let declared = || {
            ChunkChainVerifier::unsigned()
                .with_declared_trailer("X-Amz-Meta-A")
                .unwrap()
        };
        for split in 0..=body.len() {
            let mut verifier = declared();
            let mut out = Vec::new();
            verifier.push(&body[..split], &mut out).unwrap();
            verifier.push(&body[split..], &mut out).unwrap();
            verifier.finish().unwrap();
            assert_eq!(out, b"hello0123456789", "split at {split}");
            assert_eq!(verifier.trailers(), [("x-amz-meta-a".into(), "b".into())]);
        }
        let mut verifier = declared();
        let mut out = Vec::new();
        for byte in body.chunks(1) {
            verifier.push(byte, &mut out).unwrap();
        }
        verifier.finish().unwrap();
        assert_eq!(out, b"hello0123456789");
    }

    /// The signer refuses what would end or break the chain before its time, and what a
    /// verifier holding the decoded length would refuse; none of it moves the chain, so the
    /// body can still be finished and verifies.
    #[test]
    fn the_signer_refuses_a_body_no_verifier_accepts() {
        use std::time::{Duration, UNIX_EPOCH};

        let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let credentials = aws_credential_types::Credentials::from_keys("AKID", "secret", None);
        let refused = |result: Result<Vec<u8>, Error>, what: &str| match result {
            Err(Error::InvalidSigningInput { reason }) => {
                assert!(reason.contains(what), "{reason}")
            }
            other => panic!("{what}: {other:?}"),
        };
        for bad_seed in [
            "",
            &seed[1..],
            &seed.to_ascii_uppercase(),
            &format!("{}g", &seed[1..]),
        ] {
            let error =
                ChunkSigner::new(&credentials, "us-east-1", "s3", time, bad_seed).unwrap_err();
            assert!(
                matches!(error, Error::InvalidSigningInput { .. }),
                "{bad_seed:?}: {error:?}"
            );
        }

        let mut signer = ChunkSigner::new(&credentials, "us-east-1", "s3", time, seed)
            .unwrap()
            .with_decoded_length(10);
        let mut body = signer.chunk(b"hello").unwrap();
        refused(signer.chunk(b""), "empty chunk ends the body");
        refused(signer.chunk(b"world!"), "past its decoded length of 10");
        refused(
            signer.finish(&[]),
            "has 5 data bytes, its decoded length says 10",
        );
        body.extend(signer.chunk(b"world").unwrap());
        let error = signer.finish(&[("bad name", "b")]).unwrap_err();
        assert!(
            matches!(error, Error::InvalidSigningInput { .. }),
            "{error:?}"
        );
        body.extend(signer.finish(&[("x-amz-meta-a", "b")]).unwrap());
        refused(signer.chunk(b"more"), "already finished");
        refused(signer.finish(&[]), "already finished");

        let mut verifier = signed_trailer_chain(seed)
            .with_decoded_length(10)
            .with_declared_trailer("x-amz-meta-a")
            .unwrap();
        let mut out = Vec::new();
        verifier.push(&body, &mut out).unwrap();
        verifier.finish().unwrap();
        assert_eq!(out, b"helloworld");
    }

    /// Raw `aws-chunked` pieces as a body of data frames.
    type Framed = http_body_util::StreamBody<
        futures_util::stream::Iter<
            std::vec::IntoIter<Result<Frame<Bytes>, std::convert::Infallible>>,
        >,
    >;

    /// A body of `frames` (raw `aws-chunked` pieces), one data frame each.
    fn framed(frames: &[&'static [u8]]) -> Framed {
        let frames: Vec<_> = frames
            .iter()
            .map(|piece| Ok(Frame::data(Bytes::from_static(piece))))
            .collect();
        http_body_util::StreamBody::new(futures_util::stream::iter(frames))
    }

    /// With a declared decoded length, only the frame that completes the data is held until
    /// the body ended well; the frames before it go out as they verify, in order, and the
    /// held one follows them. Mutants in `ChunkedBody::all_data_decoded`: "replace -> bool with
    /// true" holds every frame, each replacing the last (`world` alone); "replace == with !="
    /// holds the first and sends it after the second (`worldhello`).
    #[test]
    fn frames_before_the_last_of_the_declared_data_go_out_in_order() {
        use futures_util::FutureExt;
        use http_body_util::BodyExt;

        let body = framed(&[b"5\r\nhello\r\n", b"5\r\nworld\r\n", b"0\r\n\r\n"]);
        let verifier = ChunkChainVerifier::unsigned().with_decoded_length(10);
        let mut body = ChunkedBody::new(body, verifier);
        let first = body.frame().now_or_never().unwrap().unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), &b"hello"[..]);
        let rest = body.collect().now_or_never().unwrap().unwrap().to_bytes();
        assert_eq!(rest, &b"world"[..]);
    }

    /// The frame that completes the declared length is not handed out before the body has
    /// ended: a body whose tail fails (here an undeclared trailer after the final chunk) gives
    /// the failure in place of its last data. Mutant "replace ChunkedBody::all_data_decoded ->
    /// bool with false" hands out `hello` first.
    #[test]
    fn the_data_completing_the_declared_length_waits_for_the_end_of_the_body() {
        use futures_util::FutureExt;
        use http_body_util::BodyExt;

        let body = framed(&[b"5\r\nhello\r\n", b"0\r\nx-amz-meta-a:b\r\n\r\n"]);
        let verifier = ChunkChainVerifier::unsigned().with_decoded_length(5);
        let mut body = ChunkedBody::new(body, verifier);
        let first = body.frame().now_or_never().unwrap().unwrap();
        assert!(
            matches!(first, Err(Error::MalformedTrailer { .. })),
            "{:?}",
            first.map(|frame| frame.into_data())
        );
        // Without the broken tail the same data passes, held until the end.
        let body = framed(&[b"5\r\nhello\r\n", b"0\r\n\r\n"]);
        let verifier = ChunkChainVerifier::unsigned().with_decoded_length(5);
        let collected = ChunkedBody::new(body, verifier)
            .collect()
            .now_or_never()
            .unwrap()
            .unwrap()
            .to_bytes();
        assert_eq!(collected, &b"hello"[..]);
    }

    /// The verifier's, the body's and the signer's `Debug` name what they are and where the
    /// chain is, and nothing of the key or the seed. Mutants "replace <impl fmt::Debug for
    /// ChunkChainVerifier>::fmt", "<impl fmt::Debug for ChunkedBody<B>>::fmt" and
    /// "<impl fmt::Debug for ChunkSigner>::fmt" print nothing.
    #[test]
    fn debug_shows_the_chain_position_and_no_secret() {
        let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let verifier = signed_trailer_chain(seed);
        let text = format!("{verifier:?}");
        assert!(text.starts_with("ChunkChainVerifier"), "{text}");
        assert!(text.contains("signed: true, index: 0"), "{text}");
        assert!(!text.contains(seed), "{text}");
        let body = ChunkedBody::new(http_body_util::Empty::<Bytes>::new(), verifier);
        let text = format!("{body:?}");
        assert!(text.starts_with("ChunkedBody"), "{text}");
        assert!(text.contains("ChunkChainVerifier"), "{text}");
        // The signer names its time and scope (SigV4's `X-Amz-Date` and credential scope for
        // 2013-05-24, us-east-1, s3), and not the link it continues from.
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_369_353_600);
        let credentials = aws_credential_types::Credentials::from_keys("AKID", "secret", None);
        let signer = ChunkSigner::new(&credentials, "us-east-1", "s3", time, seed).unwrap();
        let text = format!("{signer:?}");
        assert!(text.starts_with("ChunkSigner"), "{text}");
        assert!(text.contains("20130524T000000Z"), "{text}");
        assert!(
            text.contains("20130524/us-east-1/s3/aws4_request"),
            "{text}"
        );
        assert!(!text.contains(seed), "{text}");
    }

    proptest::proptest! {
        /// The signer's chain (its own key derivation and string to sign) is aws-sigv4's:
        /// each chunk's signature as `sign_chunk` makes it, the trailer's as `sign_trailer`
        /// does (names lower-cased, values trimmed, lines sorted), continuing from the link
        /// before, for any time, scope, data and trailer lines.
        #[test]
        fn chunk_signer_agrees_with_aws_sigv4(
            seconds in 0u64..4_102_444_800,
            region in "[a-z]{2}-[a-z]{4,9}-[1-9]",
            service in "[a-z0-9-]{1,12}",
            chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 1..300), 0..4),
            trailers in proptest::collection::btree_map("x-amz-[a-z]{1,8}|X-Amz-Meta-[A-Za-z]{1,6}", "[ \t]{0,2}[!-~]{0,12}[ \t]{0,2}", 0..4),
        ) {
            use aws_smithy_runtime_api::client::identity::Identity;
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
            let credentials =
                aws_credential_types::Credentials::from_keys("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", None);
            let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
            let identity: Identity = credentials.clone().into();
            let params = aws_sigv4::sign::v4::SigningParams::builder()
                .identity(&identity)
                .region(&region)
                .name(&service)
                .time(time)
                .settings(())
                .build()
                .unwrap();
            // Trailer names differing only in case are one name: keep the first.
            let mut seen = std::collections::BTreeSet::new();
            let trailers: Vec<(&str, &str)> = trailers
                .iter()
                .filter(|(name, _)| seen.insert(name.to_ascii_lowercase()))
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();

            let mut signer = ChunkSigner::new(&credentials, &region, &service, time, seed).unwrap();
            let mut previous = seed.to_owned();
            for data in chunks.iter().map(Vec::as_slice).chain([&[][..]]) {
                let encoded = if data.is_empty() {
                    signer.finish(&trailers).unwrap()
                } else {
                    signer.chunk(data).unwrap()
                };
                let expected = aws_sigv4::sign::v4::sign_chunk(
                    &Bytes::copy_from_slice(data),
                    &previous,
                    &params,
                )
                .unwrap()
                .signature()
                .to_owned();
                let head = format!("{:x};chunk-signature={expected}\r\n", data.len());
                proptest::prop_assert!(encoded.starts_with(head.as_bytes()), "{:?}", String::from_utf8_lossy(&encoded));
                previous = expected;
                if data.is_empty() && !trailers.is_empty() {
                    let mut headers = aws_smithy_runtime_api::http::Headers::new();
                    for (name, value) in &trailers {
                        headers.append(name.to_ascii_lowercase(), value.trim().to_owned());
                    }
                    let expected = aws_sigv4::sign::v4::sign_trailer(&headers, &previous, &params)
                        .unwrap()
                        .signature()
                        .to_owned();
                    let line = format!("x-amz-trailer-signature:{expected}\r\n");
                    let text = String::from_utf8_lossy(&encoded);
                    proptest::prop_assert!(text.contains(&line), "{text:?} lacks {line:?}");
                }
            }
        }
    }
}
