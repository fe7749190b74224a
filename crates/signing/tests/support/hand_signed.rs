//! A SigV4 signature worked out by the steps of AWS's "Create a signed AWS API request" on
//! aws-lc-rs, so that neither our signer nor our key derivation vouches for it (aws-sigv4 and
//! botocore always add `X-Amz-Date`, so they cannot sign with a `Date` header alone).

use aws_lc_rs::{digest, hmac};

/// The signature of `GET /` to example.com with `Date: {date}` and no `X-Amz-Date`, signed
/// `date;host` with the secret `secret` for us-east-1/`service`, with `string_to_sign_time`
/// (`YYYYMMDDTHHMMSSZ`) as the string-to-sign's time and its day in the scope.
pub(crate) fn date_header_signature(date: &str, string_to_sign_time: &str) -> String {
    fn mac(key: &[u8], data: &str) -> Vec<u8> {
        let key = hmac::Key::new(hmac::HMAC_SHA256, key);
        hmac::sign(&key, data.as_bytes()).as_ref().to_vec()
    }
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let day = &string_to_sign_time[..8];
    let canonical = format!("GET\n/\n\ndate:{date}\nhost:example.com\n\ndate;host\n{EMPTY}");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{string_to_sign_time}\n{day}/us-east-1/service/aws4_request\n{}",
        hex::encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
    );
    let mut key = mac(b"AWS4secret", day);
    for part in ["us-east-1", "service", "aws4_request"] {
        key = mac(&key, part);
    }
    hex::encode(mac(&key, &string_to_sign))
}
