//! SigV4 signatures worked out by the steps of AWS's "Create a signed AWS API request" on
//! aws-lc-rs, so that neither our signer nor our key derivation vouches for them (aws-sigv4
//! and botocore always add `X-Amz-Date`, so they cannot sign with a `Date` header alone; no
//! AWS SDK signs an S3 path other than as it sends it, or a query without `X-Amz-Expires`).

use aws_lc_rs::{digest, hmac};

/// The SHA-256 of an empty payload, in hex.
pub(crate) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The signature of `canonical_request` with the secret `secret` for us-east-1/`service`, with
/// `time` (`YYYYMMDDTHHMMSSZ`) as the string-to-sign's time and its day in the scope.
pub(crate) fn signature(canonical_request: &str, time: &str, service: &str) -> String {
    fn mac(key: &[u8], data: &str) -> Vec<u8> {
        let key = hmac::Key::new(hmac::HMAC_SHA256, key);
        hmac::sign(&key, data.as_bytes()).as_ref().to_vec()
    }
    let day = &time[..8];
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{time}\n{day}/us-east-1/{service}/aws4_request\n{}",
        hex::encode(digest::digest(
            &digest::SHA256,
            canonical_request.as_bytes()
        ))
    );
    let mut key = mac(b"AWS4secret", day);
    for part in ["us-east-1", service, "aws4_request"] {
        key = mac(&key, part);
    }
    hex::encode(mac(&key, &string_to_sign))
}

/// The signature of `GET /` to example.com with `Date: {date}` and no `X-Amz-Date`, signed
/// `date;host` for us-east-1/`service`, with `string_to_sign_time` as the string-to-sign's time.
pub(crate) fn date_header_signature(date: &str, string_to_sign_time: &str) -> String {
    let canonical = format!("GET\n/\n\ndate:{date}\nhost:example.com\n\ndate;host\n{EMPTY_SHA256}");
    signature(&canonical, string_to_sign_time, "service")
}
