//! `aws-chunked` bodies (`STREAMING-UNSIGNED-PAYLOAD-TRAILER` decoding, trailer parsing and the
//! flexible checksums, declared as a trailer or given as a header): decoding never panics,
//! never releases more bytes than it was given, and whatever way the body is split into pieces
//! the outcome is the same.
#![no_main]

use edgeward_signing::ChunkChainVerifier;
use libfuzzer_sys::fuzz_target;

const DECLARED: [&str; 6] = [
    "",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
];

/// A checksum header's value: the CRC32 of `123456789`, so the fuzzer can reach a match.
const HEADER_VALUE: &str = "y/Q5Jg==";

fn decode(
    declared: &str,
    as_header: bool,
    body: &[u8],
    piece: usize,
) -> (Vec<u8>, Result<(), String>) {
    let mut decoder = ChunkChainVerifier::unsigned();
    if !declared.is_empty() {
        decoder = match as_header {
            true => decoder.with_checksum_header(declared, HEADER_VALUE),
            false => decoder.with_declared_trailer(declared),
        }
        .expect("every checksum name is supported");
    }
    let mut out = Vec::new();
    for part in body.chunks(piece) {
        if let Err(error) = decoder.push(part, &mut out) {
            return (out, Err(error.aws_error_code().to_owned()));
        }
    }
    let result = decoder
        .finish()
        .map_err(|error| error.aws_error_code().to_owned());
    (out, result)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let declared = DECLARED[usize::from(selector) % DECLARED.len()];
    let piece = usize::from(selector / 8).max(1);
    let as_header = selector >= 0x80;
    let (whole_out, whole) = decode(declared, as_header, body, body.len().max(1));
    let (split_out, split) = decode(declared, as_header, body, piece);
    assert!(whole_out.len() <= body.len());
    assert_eq!(
        whole, split,
        "the outcome depends on how the body was split"
    );
    if whole.is_ok() {
        assert_eq!(whole_out, split_out);
    }
});
