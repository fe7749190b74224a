//! `aws-chunked` bodies (`STREAMING-UNSIGNED-PAYLOAD-TRAILER` decoding, trailer parsing and the
//! flexible checksums, declared as a trailer or given as a header, and `Content-MD5`): decoding
//! never panics, never releases more bytes than it was given, and whatever way the body is
//! split into pieces the outcome is the same.
#![no_main]

use edgeward_signing::ChunkChainVerifier;
use libfuzzer_sys::fuzz_target;

/// Each checksum, with its value for `123456789` as a header carries it, so the fuzzer can
/// reach a match whichever it picks (the check values of the crate's checksum tests: the CRC
/// catalogue's, FIPS 180's, `md5sum`'s).
const DECLARED: [(&str, &str); 7] = [
    ("", ""),
    ("x-amz-checksum-crc32", "y/Q5Jg=="),
    ("x-amz-checksum-crc32c", "4waSgw=="),
    ("x-amz-checksum-crc64nvme", "rosUhgp5mIg="),
    ("x-amz-checksum-sha1", "98O8HYCOBHMq32eZZczDTKeuNEE="),
    (
        "x-amz-checksum-sha256",
        "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=",
    ),
    ("x-amz-checksum-md5", "JfnnlDI7RTiF9RgfG2JNCw=="),
];

/// A `Content-MD5`: the MD5 of `123456789` (`printf 123456789 | md5sum`).
const CONTENT_MD5: &str = "JfnnlDI7RTiF9RgfG2JNCw==";

fn decode(
    (declared, header_value): (&str, &str),
    as_header: bool,
    content_md5: bool,
    body: &[u8],
    piece: usize,
) -> (Vec<u8>, Result<(), String>) {
    let mut decoder = ChunkChainVerifier::unsigned();
    if content_md5 {
        decoder = decoder
            .with_content_md5(CONTENT_MD5)
            .expect("the base64 of an MD5");
    }
    if !declared.is_empty() {
        decoder = match as_header {
            true => decoder.with_checksum_header(declared, header_value),
            false => decoder.with_declared_trailer(declared),
        }
        .expect("every checksum name is supported, with a value of its form");
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
    let content_md5 = selector & 0x40 != 0;
    let (whole_out, whole) = decode(declared, as_header, content_md5, body, body.len().max(1));
    let (split_out, split) = decode(declared, as_header, content_md5, body, piece);
    assert!(whole_out.len() <= body.len());
    assert_eq!(
        whole, split,
        "the outcome depends on how the body was split"
    );
    if whole.is_ok() {
        assert_eq!(whole_out, split_out);
    }
});
