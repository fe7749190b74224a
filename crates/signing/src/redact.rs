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
}
