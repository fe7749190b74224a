//! `Debug` forms of request parts that may carry bearer material. A session token's length
//! stands in its place, as [`crate::SessionToken`] prints it. A signature keeps its first
//! [`SIGNATURE_DIGITS_SHOWN`] hex digits: whole, a valid one replays its request for as long
//! as the request is valid (a presigned URL: up to 7 days), so aws-sigv4's own logs leave the
//! `Authorization` header out; a prefix still tells two signatures apart when debugging.

use std::borrow::Cow;
use std::fmt;

use crate::canonical::decode_query_component;

const TOKEN_HEADER: &str = "x-amz-security-token";
const TOKEN_PARAMETER: &str = "X-Amz-Security-Token";
const SIGNATURE_PARAMETER: &str = "X-Amz-Signature";
/// What precedes the signature in an `Authorization` header.
const SIGNATURE_FIELD: &str = "Signature=";
/// How many hex digits of a signature `Debug` shows.
const SIGNATURE_DIGITS_SHOWN: usize = 8;

/// The placeholder for a token of `len` bytes.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "** redacted, {} bytes **", self.0)
    }
}

/// A session token of `len` bytes, for `Debug`.
pub(crate) fn token(len: usize) -> impl fmt::Debug {
    Redacted(len)
}

/// A signature (hex) for `Debug`: its first digits.
pub(crate) fn signature(hex: &str) -> impl fmt::Debug + '_ {
    struct Signature<'a>(&'a str);
    impl fmt::Debug for Signature<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&shortened(self.0), f)
        }
    }
    Signature(hex)
}

/// A signature's bytes for `Debug`: the hex of its first bytes.
pub(crate) fn signature_bytes(bytes: &[u8]) -> impl fmt::Debug + '_ {
    struct SignatureBytes<'a>(&'a [u8]);
    impl fmt::Debug for SignatureBytes<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let mut hex = String::with_capacity(SIGNATURE_DIGITS_SHOWN);
            for byte in self.0.iter().take(SIGNATURE_DIGITS_SHOWN / 2) {
                hex.push_str(&format!("{byte:02x}"));
            }
            if self.0.len() > SIGNATURE_DIGITS_SHOWN / 2 {
                hex.push('…');
            }
            fmt::Debug::fmt(&hex, f)
        }
    }
    SignatureBytes(bytes)
}

/// `value` cut to its first [`SIGNATURE_DIGITS_SHOWN`] characters, `…` marking the cut.
fn shortened(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(SIGNATURE_DIGITS_SHOWN) {
        Some((cut, _)) => Cow::Owned(format!("{}…", &value[..cut])),
        None => Cow::Borrowed(value),
    }
}

/// An `Authorization` header's value with its `Signature=` shortened.
fn authorization(value: &str) -> Cow<'_, str> {
    let Some(at) = value.find(SIGNATURE_FIELD) else {
        return Cow::Borrowed(value);
    };
    let start = at + SIGNATURE_FIELD.len();
    let rest = &value[start..];
    let end = start
        + rest
            .find(|c: char| c == ',' || c.is_ascii_whitespace())
            .unwrap_or(rest.len());
    let signature = &value[start..end];
    match shortened(signature) {
        Cow::Borrowed(_) => Cow::Borrowed(value),
        Cow::Owned(short) => Cow::Owned(format!("{}{short}{}", &value[..start], &value[end..])),
    }
}

/// A header's `(name, value)` for `Debug`: the value redacted when the header carries a
/// session token, the signature shortened in an `Authorization` header.
pub(crate) fn header<'a>(name: &'a str, value: &'a [u8]) -> impl fmt::Debug + 'a {
    struct Header<'a>(&'a str, &'a [u8]);
    impl fmt::Debug for Header<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let mut tuple = f.debug_tuple("");
            tuple.field(&self.0);
            let value = String::from_utf8_lossy(self.1);
            if self.0.eq_ignore_ascii_case(TOKEN_HEADER) {
                tuple.field(&Redacted(self.1.len()));
            } else if self.0.eq_ignore_ascii_case("authorization") {
                tuple.field(&authorization(&value));
            } else {
                tuple.field(&value);
            }
            tuple.finish()
        }
    }
    Header(name, value)
}

/// A decoded query parameter's `(name, value)` for `Debug`: the value redacted when it is a
/// session token, shortened when it is a signature.
pub(crate) fn parameter<'a>(name: &'a str, value: &'a str) -> impl fmt::Debug + 'a {
    struct Parameter<'a>(&'a str, &'a str);
    impl fmt::Debug for Parameter<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let mut tuple = f.debug_tuple("");
            tuple.field(&self.0);
            match self.0 {
                TOKEN_PARAMETER => tuple.field(&Redacted(self.1.len())),
                SIGNATURE_PARAMETER => tuple.field(&shortened(self.1)),
                _ => tuple.field(&self.1),
            };
            tuple.finish()
        }
    }
    Parameter(name, value)
}

/// A raw query (`query`) or request target (`/a?query`) for `Debug`, with the value of every
/// `X-Amz-Security-Token` parameter (its name escaped or not) redacted and of every
/// `X-Amz-Signature` shortened.
pub(crate) fn query_text(text: &str) -> impl fmt::Debug + '_ {
    struct QueryText<'a>(Cow<'a, str>);
    impl fmt::Debug for QueryText<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&self.0, f)
        }
    }
    QueryText(redact_query_text(text))
}

/// A canonical request with the session token's value redacted: in its header line
/// (`x-amz-security-token:…`) and in the canonical query (the third line).
pub(crate) fn canonical_request(text: &str) -> Cow<'_, str> {
    let header_prefix = "x-amz-security-token:";
    let has_header = text.contains(header_prefix);
    let query = text.split('\n').nth(2).unwrap_or_default();
    let query_redacted = redact_query_text(query);
    if !has_header && matches!(query_redacted, Cow::Borrowed(_)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        match line.strip_prefix(header_prefix) {
            _ if index == 2 => out.push_str(&query_redacted),
            Some(value) if index > 2 => {
                out.push_str(header_prefix);
                out.push_str(&format!("{:?}", Redacted(value.len())));
            }
            _ => out.push_str(line),
        }
    }
    Cow::Owned(out)
}

fn redact_query_text(text: &str) -> Cow<'_, str> {
    // A token or signature parameter's name holds `Security`, `Signature` or an escape.
    if !text.contains("Security") && !text.contains("Signature") && !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let (head, query) = match text.split_once('?') {
        Some((head, query)) => (Some(head), query),
        None => (None, text),
    };
    let mut out = String::with_capacity(text.len());
    if let Some(head) = head {
        out.push_str(head);
        out.push('?');
    }
    for (index, piece) in query.split('&').enumerate() {
        if index > 0 {
            out.push('&');
        }
        let Some((key, value)) = piece.split_once('=') else {
            out.push_str(piece);
            continue;
        };
        out.push_str(key);
        out.push('=');
        match &*decode_query_component(key) {
            TOKEN_PARAMETER => out.push_str(&format!("{:?}", Redacted(value.len()))),
            SIGNATURE_PARAMETER => out.push_str(&shortened(value)),
            _ => out.push_str(value),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_parameters_are_redacted_wherever_they_stand() {
        for (text, expected) in [
            ("a=b", "\"a=b\""),
            (
                "X-Amz-Security-Token=tok&a=b",
                "\"X-Amz-Security-Token=** redacted, 3 bytes **&a=b\"",
            ),
            (
                "/p?a=%20&X%2DAmz-Security-Token=tok%2F",
                "\"/p?a=%20&X%2DAmz-Security-Token=** redacted, 6 bytes **\"",
            ),
            (
                "/p?X-Amz-Security-Tokens=visible",
                "\"/p?X-Amz-Security-Tokens=visible\"",
            ),
            (
                "/p?a=b&X-Amz-Signature=0123456789abcdef&c",
                "\"/p?a=b&X-Amz-Signature=01234567…&c\"",
            ),
            (
                "X%2DAmz-Signature=0123456789",
                "\"X%2DAmz-Signature=01234567…\"",
            ),
        ] {
            assert_eq!(format!("{:?}", query_text(text)), expected, "{text}");
        }
        assert_eq!(
            format!("{:?}", header("X-Amz-Security-Token", b"tok")),
            "(\"X-Amz-Security-Token\", ** redacted, 3 bytes **)"
        );
        assert_eq!(
            format!("{:?}", header("host", b"example.com")),
            "(\"host\", \"example.com\")"
        );
        assert_eq!(
            format!("{:?}", parameter("X-Amz-Security-Token", "tok")),
            "(\"X-Amz-Security-Token\", ** redacted, 3 bytes **)"
        );
        assert_eq!(
            format!("{:?}", parameter("X-Amz-Signature", "0123456789abcdef")),
            "(\"X-Amz-Signature\", \"01234567…\")"
        );
    }

    #[test]
    fn signatures_keep_only_their_first_digits() {
        assert_eq!(
            format!(
                "{:?}",
                header(
                    "Authorization",
                    b"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/iam/aws4_request, \
                      SignedHeaders=host;x-amz-date, Signature=0123456789abcdef"
                )
            ),
            "(\"Authorization\", \"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/iam/\
             aws4_request, SignedHeaders=host;x-amz-date, Signature=01234567…\")"
        );
        // Wherever the field stands, and however short.
        assert_eq!(
            format!(
                "{:?}",
                header("authorization", b"X Signature=0123456789, Credential=c")
            ),
            "(\"authorization\", \"X Signature=01234567…, Credential=c\")"
        );
        assert_eq!(
            format!("{:?}", header("authorization", b"X Signature=0123")),
            "(\"authorization\", \"X Signature=0123\")"
        );
        assert_eq!(format!("{:?}", signature("0123456789")), "\"01234567…\"");
        assert_eq!(
            format!("{:?}", signature_bytes(&[0xde, 0xad, 0xbe, 0xef, 0x01])),
            "\"deadbeef…\""
        );
        // No more bytes than are shown: whole, no `…`.
        assert_eq!(
            format!("{:?}", signature_bytes(&[0xde, 0xad, 0xbe, 0xef])),
            "\"deadbeef\""
        );
        assert_eq!(format!("{:?}", signature_bytes(&[0xde])), "\"de\"");
    }

    #[test]
    fn canonical_requests_lose_the_token_in_either_place() {
        let header =
            "GET\n/\na=b\nhost:h\nx-amz-security-token:tok\n\nhost;x-amz-security-token\nUNSIGNED";
        assert_eq!(
            canonical_request(header),
            "GET\n/\na=b\nhost:h\nx-amz-security-token:** redacted, 3 bytes **\n\n\
             host;x-amz-security-token\nUNSIGNED"
        );
        let query =
            "GET\n/\nX-Amz-Date=1&X-Amz-Security-Token=tok%2F&a=b\nhost:h\n\nhost\nUNSIGNED";
        assert_eq!(
            canonical_request(query),
            "GET\n/\nX-Amz-Date=1&X-Amz-Security-Token=** redacted, 6 bytes **&a=b\nhost:h\n\n\
             host\nUNSIGNED"
        );
        let without = "GET\n/x-amz-security-token:a\n\nhost:h\n\nhost\nUNSIGNED";
        assert_eq!(canonical_request(without), without);
        // Only a header line is the token's: an S3 path is the target as sent, which need not
        // start with `/`, and a path that reads like the header line is shown as it is.
        let path = "GET\nx-amz-security-token:a\n\nhost:h\nx-amz-security-token:tok\n\n\
                    host;x-amz-security-token\nUNSIGNED";
        assert_eq!(
            canonical_request(path),
            "GET\nx-amz-security-token:a\n\nhost:h\nx-amz-security-token:** redacted, 3 bytes **\n\n\
             host;x-amz-security-token\nUNSIGNED"
        );
    }
}
