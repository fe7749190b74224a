//! `Debug` forms of request parts that may carry a session token: the token is bearer
//! material, so its length stands in its place, as [`crate::SessionToken`] prints it.

use std::borrow::Cow;
use std::fmt;

use crate::canonical::decode_query_component;

const TOKEN_HEADER: &str = "x-amz-security-token";
const TOKEN_PARAMETER: &str = "X-Amz-Security-Token";

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

/// A header's `(name, value)` for `Debug`: the value redacted when the header carries a
/// session token.
pub(crate) fn header<'a>(name: &'a str, value: &'a [u8]) -> impl fmt::Debug + 'a {
    struct Header<'a>(&'a str, &'a [u8]);
    impl fmt::Debug for Header<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let mut tuple = f.debug_tuple("");
            tuple.field(&self.0);
            if self.0.eq_ignore_ascii_case(TOKEN_HEADER) {
                tuple.field(&Redacted(self.1.len()));
            } else {
                tuple.field(&String::from_utf8_lossy(self.1));
            }
            tuple.finish()
        }
    }
    Header(name, value)
}

/// A decoded query parameter's `(name, value)` for `Debug`: the value redacted when it is a
/// session token.
pub(crate) fn parameter<'a>(name: &'a str, value: &'a str) -> impl fmt::Debug + 'a {
    struct Parameter<'a>(&'a str, &'a str);
    impl fmt::Debug for Parameter<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let mut tuple = f.debug_tuple("");
            tuple.field(&self.0);
            if self.0 == TOKEN_PARAMETER {
                tuple.field(&Redacted(self.1.len()));
            } else {
                tuple.field(&self.1);
            }
            tuple.finish()
        }
    }
    Parameter(name, value)
}

/// A raw query (`query`) or request target (`/a?query`) for `Debug`, with the value of every
/// `X-Amz-Security-Token` parameter (its name escaped or not) redacted.
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
    // A token parameter's name holds `Security` or an escape.
    if !text.contains("Security") && !text.contains('%') {
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
        match piece.split_once('=') {
            Some((key, value)) if decode_query_component(key) == TOKEN_PARAMETER => {
                out.push_str(key);
                out.push('=');
                out.push_str(&format!("{:?}", Redacted(value.len())));
            }
            _ => out.push_str(piece),
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
    }
}
