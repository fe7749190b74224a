//! A lenient, bounded parser for raw HTTP/1.1 requests in the AWS signing test suite's
//! `request.txt` format: a literal space or raw UTF-8 in the request target, header lines
//! folded over several lines (obs-fold), duplicate headers, LF or CRLF line ends.

use crate::error::Error;
use crate::verify::{Headers, RequestView};

/// Size limits for [`RawRequest::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawRequestLimits {
    /// Request line plus headers, in bytes (default 64 KiB).
    pub max_head_bytes: usize,
    /// Number of header lines (default 128).
    pub max_headers: usize,
    /// Body bytes (default 16 MiB).
    pub max_body_bytes: usize,
}

impl Default for RawRequestLimits {
    fn default() -> Self {
        Self {
            max_head_bytes: 64 * 1024,
            max_headers: 128,
            max_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The line ending a raw request used, kept so [`RawRequest::to_bytes`] writes the same style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineEnding {
    /// `\n` (the test suite's files).
    Lf,
    /// `\r\n` (the wire).
    CrLf,
}

/// A raw HTTP/1.1 request, as written on the wire or in a test-suite `request.txt`.
///
/// `Debug` prints a session token's length, not the token (header or presigned parameter).
#[derive(Clone, PartialEq, Eq)]
pub struct RawRequest {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The request target exactly as sent: path, then `?` and the query if any.
    pub target: String,
    /// The protocol version, e.g. `HTTP/1.1`.
    pub version: String,
    /// Header lines in order; names as sent; folded values joined with one space.
    pub headers: Vec<(String, String)>,
    /// The body bytes (everything after the blank line).
    pub body: Vec<u8>,
    /// The line ending used.
    pub line_ending: LineEnding,
}

impl std::fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(name, value)| crate::redact::header(name, value.as_bytes()))
            .collect();
        f.debug_struct("RawRequest")
            .field("method", &self.method)
            .field("target", &crate::redact::query_text(&self.target))
            .field("version", &self.version)
            .field("headers", &headers)
            .field("body", &self.body)
            .field("line_ending", &self.line_ending)
            .finish()
    }
}

/// A byte of an RFC 9110 token (a method, a header name).
pub(crate) fn is_tchar(b: u8) -> bool {
    // A table: the signer asks this of every byte of every header name it signs.
    const TCHAR: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            let byte = b as u8;
            table[b] = byte.is_ascii_alphanumeric()
                || matches!(
                    byte,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                );
            b += 1;
        }
        table
    };
    TCHAR[usize::from(b)]
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// For an absolute-form target (`scheme://authority/path?query`), the authority and what
/// follows it.
fn split_absolute_form(target: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = target.split_once("://")?;
    let mut scheme = scheme.bytes();
    let valid = scheme.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !valid {
        return None;
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    Some(rest.split_at(end))
}

/// The body is everything after the head, so the head must frame it that way too: a server
/// reads `Content-Length` bytes, or decodes `Transfer-Encoding`, and a request signed or
/// verified with one body must not be read with another (RFC 9112, 6.3).
/// `lines[i]` is the line number of `headers[i]`.
fn check_body_framing(
    headers: &[(String, String)],
    lines: &[usize],
    body: &[u8],
) -> Result<(), Error> {
    let mut declared: Option<u64> = None;
    for ((name, value), &line) in headers.iter().zip(lines) {
        let malformed = |reason| Error::MalformedRawRequest { line, reason };
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(malformed(
                "Transfer-Encoding is not supported: give the body as is, with Content-Length",
            ));
        }
        if !name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        // 1*DIGIT only: no sign, no spaces, no list (`13, 13`).
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed("Content-Length is not a number"));
        }
        let value = value
            .parse::<u64>()
            .map_err(|_| malformed("Content-Length is too large"))?;
        // Even with equal values: servers differ on a repeated one (RFC 9110 8.6 lets them
        // refuse it or keep one; hyper keeps one), so the signature, which covers the
        // values joined (`3,3`), would not be over what a server reads.
        if declared.is_some() {
            return Err(malformed("Content-Length given twice"));
        }
        declared = Some(value);
    }
    match declared {
        Some(declared) if u64::try_from(body.len()) != Ok(declared) => {
            // What follows the declared bytes, when the body is longer.
            let surplus = usize::try_from(declared)
                .ok()
                .and_then(|declared| body.get(declared..))
                .unwrap_or_default();
            Err(Error::RawBodyLengthMismatch {
                declared,
                actual: body.len(),
                surplus_is_line_end: matches!(surplus, b"\n" | b"\r\n"),
            })
        }
        _ => Ok(()),
    }
}

impl RawRequest {
    /// Parses a raw request. Never panics; every size is bounded by `limits`.
    ///
    /// The body is every byte after the blank line that ends the head. A `Content-Length`
    /// must count exactly those bytes ([`Error::RawBodyLengthMismatch`] otherwise), and
    /// `Transfer-Encoding` is refused: either would make a server read another body than the
    /// one signed or verified.
    pub fn parse(input: &[u8], limits: &RawRequestLimits) -> Result<Self, Error> {
        let malformed =
            |line: usize, reason: &'static str| Error::MalformedRawRequest { line, reason };
        // Find the end of the head: the first empty line, or the end of input.
        let mut pos = 0usize;
        let mut lines: Vec<&[u8]> = Vec::new();
        let mut body_start = input.len();
        let mut line_ending = LineEnding::Lf;
        // Empty lines before the request line: counted, so errors name the line as numbered
        // in the input.
        let mut leading_lines = 0usize;
        while pos < input.len() {
            let end = input[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|i| pos + i);
            let (raw_line, next) = match end {
                Some(e) => (&input[pos..e], e + 1),
                None => (&input[pos..], input.len()),
            };
            if next > limits.max_head_bytes {
                return Err(Error::RawRequestTooLarge {
                    what: "request head",
                    limit: limits.max_head_bytes,
                });
            }
            let line = match raw_line.strip_suffix(b"\r") {
                Some(stripped) => {
                    if lines.is_empty() {
                        line_ending = LineEnding::CrLf;
                    }
                    stripped
                }
                None => raw_line,
            };
            pos = next;
            if line.is_empty() {
                if lines.is_empty() {
                    // Tolerate leading empty lines (RFC 9112 section 2.2).
                    leading_lines += 1;
                    continue;
                }
                body_start = pos;
                break;
            }
            if lines.len() > limits.max_headers {
                return Err(Error::RawRequestTooLarge {
                    what: "header lines",
                    limit: limits.max_headers,
                });
            }
            lines.push(line);
        }
        let body = input.get(body_start..).unwrap_or_default();
        if body.len() > limits.max_body_bytes {
            return Err(Error::RawRequestTooLarge {
                what: "body",
                limit: limits.max_body_bytes,
            });
        }
        let first = leading_lines + 1;
        let Some((request_line, header_lines)) = lines.split_first() else {
            return Err(malformed(first, "empty request"));
        };
        let request_line = std::str::from_utf8(request_line)
            .map_err(|_| malformed(first, "request line is not UTF-8"))?;
        if request_line
            .bytes()
            .any(|b| b < 0x20 && b != b'\t' || b == 0x7f)
        {
            return Err(malformed(first, "control character in request line"));
        }
        let (method, rest) = request_line
            .split_once(' ')
            .ok_or_else(|| malformed(first, "request line has no target"))?;
        let (target, version) = rest
            .rsplit_once(' ')
            .ok_or_else(|| malformed(first, "request line has no HTTP version"))?;
        if method.is_empty() || !method.bytes().all(is_tchar) {
            return Err(malformed(first, "invalid method"));
        }
        // The versions an HTTP/1 server reads (RFC 9112 2.3; httparse and hyper take these).
        if !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
            return Err(malformed(first, "version is not HTTP/1.1 or HTTP/1.0"));
        }
        if target.is_empty() {
            return Err(malformed(first, "empty request target"));
        }
        // No server receives one (RFC 9112 3.2; `http::Uri` drops it), so what follows `#`
        // would be verified or signed as part of the path or query, unlike the request served.
        if target.contains('#') {
            return Err(malformed(first, "the request target has a fragment (#)"));
        }
        let mut headers: Vec<(String, String)> = Vec::with_capacity(header_lines.len());
        let mut header_line_numbers = Vec::with_capacity(header_lines.len());
        for (index, line) in header_lines.iter().enumerate() {
            let number = first + index + 1;
            let line = std::str::from_utf8(line)
                .map_err(|_| malformed(number, "header line is not UTF-8"))?;
            if line.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
                return Err(malformed(number, "control character in header line"));
            }
            if line.starts_with([' ', '\t']) {
                // obs-fold: a continuation of the previous header's value.
                let Some((_, value)) = headers.last_mut() else {
                    return Err(malformed(number, "continuation line before any header"));
                };
                let more = trim_ows(line);
                if !more.is_empty() {
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(more);
                }
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| malformed(number, "header line has no colon"))?;
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return Err(malformed(number, "invalid header name"));
            }
            headers.push((name.to_owned(), trim_ows(value).to_owned()));
            header_line_numbers.push(number);
        }
        check_body_framing(&headers, &header_line_numbers, body)?;
        Ok(Self {
            method: method.to_owned(),
            target: target.to_owned(),
            version: version.to_owned(),
            headers,
            body: body.to_vec(),
            line_ending,
        })
    }

    /// The path part of the target (before `?`), as sent. For an absolute-form target
    /// (`http://host/a?b`, as sent to a proxy) the path after the authority (`/` if none).
    pub fn path(&self) -> &str {
        match split_absolute_form(&self.target) {
            Some((_, rest)) => match rest.split_once('?').map_or(rest, |(path, _)| path) {
                "" => "/",
                path => path,
            },
            None => self
                .target
                .split_once('?')
                .map_or(self.target.as_str(), |(path, _)| path),
        }
    }

    /// The authority of an absolute-form target (`example.com:8080` in
    /// `http://example.com:8080/a`); `None` for the origin form (`/a`).
    pub fn authority(&self) -> Option<&str> {
        split_absolute_form(&self.target).map(|(authority, _)| authority)
    }

    /// The query part of the target (after `?`), as sent.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, query)| query)
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Sets a header: replaces the first of that name (dropping the others) or appends.
    pub fn set_header(&mut self, name: &str, value: &str) {
        if let Some(index) = self
            .headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            self.headers[index].1 = value.to_owned();
            let mut seen = 0usize;
            self.headers.retain(|(n, _)| {
                if n.eq_ignore_ascii_case(name) {
                    seen += 1;
                    seen == 1
                } else {
                    true
                }
            });
        } else {
            self.headers.push((name.to_owned(), value.to_owned()));
        }
    }

    /// Removes every header of that name.
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// A borrowed view for [`crate::Verifier::verify`].
    pub fn view(&self) -> RequestView<'_> {
        RequestView {
            method: &self.method,
            path: self.path(),
            query: self.query(),
            headers: Headers::List(&self.headers),
            authority: self.authority(),
        }
    }

    /// Serialises the request in the line-ending style it was parsed with.
    pub fn to_bytes(&self) -> Vec<u8> {
        let eol: &[u8] = match self.line_ending {
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
        };
        let mut out = Vec::with_capacity(256 + self.body.len());
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.target.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.version.as_bytes());
        out.extend_from_slice(eol);
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(eol);
        }
        out.extend_from_slice(eol);
        out.extend_from_slice(&self.body);
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> RawRequest {
        RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap()
    }

    /// The table is RFC 9110 5.6.2's `tchar`: ALPHA, DIGIT and fifteen marks, nothing else.
    #[test]
    fn is_tchar_is_rfc_9110s_tchar() {
        for b in 0..=u8::MAX {
            let rfc =
                b.is_ascii_alphabetic() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_tchar(b), rfc, "byte 0x{b:02x}");
        }
    }

    /// An absolute-form target (`GET http://host/path`, as sent to a proxy) has the same path
    /// and query as the origin form: the scheme and authority are not part of the path.
    #[test]
    fn an_absolute_form_target_has_the_origin_forms_path() {
        let absolute =
            parse("GET http://example.com:8080/a/./b?x=1 HTTP/1.1\nHost:example.com\n\n");
        assert_eq!(absolute.path(), "/a/./b");
        assert_eq!(absolute.query(), Some("x=1"));
        let bare = parse("GET https://example.com?x=1 HTTP/1.1\nHost:example.com\n\n");
        assert_eq!(bare.path(), "/");
        assert_eq!(bare.query(), Some("x=1"));
        let origin = parse("GET /http://example.com/a HTTP/1.1\nHost:example.com\n\n");
        assert_eq!(origin.path(), "/http://example.com/a");
        // RFC 3986 (3.1): `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`; a target
        // whose part before `://` is not one is not read as the absolute form.
        for scheme in ["svn+ssh", "x-b", "a.b", "H2"] {
            let request = parse(&format!(
                "GET {scheme}://example.com/k HTTP/1.1\nHost:example.com\n\n"
            ));
            assert_eq!(request.path(), "/k", "{scheme}");
        }
        for scheme in ["", "2x", "a_b", "+a", "é"] {
            let text = format!("GET {scheme}://example.com/k HTTP/1.1\nHost:example.com\n\n");
            let read = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default());
            assert!(read.map_or(true, |r| r.path() != "/k"), "{scheme:?}");
        }
        assert_eq!(
            absolute.to_bytes(),
            b"GET http://example.com:8080/a/./b?x=1 HTTP/1.1\nHost:example.com\n\n"
        );
    }

    /// `Debug` redacts the session token but still shows the request: method, target, version,
    /// every header name and the other values, so a logged request can be read. (The secret
    /// hygiene tests only check what it leaves out; an empty `Debug` passed them.)
    #[test]
    fn debug_shows_the_request_but_not_the_token() {
        let request = parse(
            "PUT /bucket/key?x=1 HTTP/1.1\nHost:example.com\n\
             X-Amz-Security-Token:tokenvalue123\nContent-Length:2\n\nhi",
        );
        let text = format!("{request:?}");
        for shown in [
            "RawRequest",
            "PUT",
            "/bucket/key?x=1",
            "HTTP/1.1",
            "Host",
            "example.com",
            "X-Amz-Security-Token",
            "Content-Length",
        ] {
            assert!(text.contains(shown), "{shown:?} not in {text}");
        }
        assert!(!text.contains("tokenvalue123"), "{text}");
    }

    /// Input with no request line (nothing, or empty lines only) is an empty request, answered
    /// at once: the loop that finds the head must stop at the end of the input. (Run on a
    /// thread with a deadline, so that a parser that never returns fails the test.)
    #[test]
    fn input_without_a_request_line_is_an_empty_request() {
        for input in ["", "\n", "\r\n\r\n"] {
            let (sender, receiver) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = sender.send(RawRequest::parse(
                    input.as_bytes(),
                    &RawRequestLimits::default(),
                ));
            });
            let got = receiver
                .recv_timeout(std::time::Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("{input:?}: the parser did not return"));
            assert!(
                matches!(
                    got,
                    Err(Error::MalformedRawRequest {
                        reason: "empty request",
                        ..
                    })
                ),
                "{input:?}: {got:?}"
            );
        }
    }

    fn parse_error(text: &str) -> Error {
        RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap_err()
    }

    /// A server reads `Content-Length` bytes: a body of any other length would be signed or
    /// verified as one body and read as another, so the parser refuses it.
    #[test]
    fn content_length_must_count_the_body() {
        let head = "POST / HTTP/1.1\nHost:example.com\n";
        assert_eq!(
            parse(&format!("{head}Content-Length:3\n\nabc")).body,
            b"abc"
        );
        assert_eq!(parse(&format!("{head}Content-Length: 0\n\n")).body, b"");

        let error = parse_error(&format!("{head}Content-Length:3\n\nabc\n"));
        assert!(
            matches!(
                error,
                Error::RawBodyLengthMismatch {
                    declared: 3,
                    actual: 4,
                    surplus_is_line_end: true,
                }
            ),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("line end at the end of the file"),
            "{error}"
        );
        let error = parse_error(&format!("{head}Content-Length:13\n\nabc"));
        assert!(
            matches!(
                error,
                Error::RawBodyLengthMismatch {
                    declared: 13,
                    actual: 3,
                    surplus_is_line_end: false,
                }
            ),
            "{error:?}"
        );
        assert!(!error.to_string().contains("line end"), "{error}");
        // One byte too many that is not a line end is not one an editor added.
        let error = parse_error(&format!("{head}Content-Length:2\n\nabc"));
        assert!(!error.to_string().contains("line end"), "{error}");
        let error = parse_error(&format!("{head}Content-Length:3\n\nabc\r\n"));
        assert!(error.to_string().contains("line end"), "{error}");

        for (value, reason) in [
            ("-3", "Content-Length is not a number"),
            ("+3", "Content-Length is not a number"),
            ("3, 3", "Content-Length is not a number"),
            ("", "Content-Length is not a number"),
            ("99999999999999999999", "Content-Length is too large"),
        ] {
            let error = parse_error(&format!("{head}Content-Length:{value}\n\nabc"));
            assert!(
                matches!(error, Error::MalformedRawRequest { line: 3, reason: r } if r == reason),
                "{value:?}: {error:?}"
            );
        }
        // Twice, even with one value: hyper keeps one line, while a signature covers both
        // joined (`3,3`), so `edgeward sign`'s output was refused by the gateway.
        for second in ["4", "3"] {
            let error = parse_error(&format!(
                "{head}Content-Length:3\nContent-Length:{second}\n\nabc"
            ));
            assert!(
                matches!(
                    error,
                    Error::MalformedRawRequest {
                        line: 4,
                        reason: "Content-Length given twice"
                    }
                ),
                "{second}: {error:?}"
            );
        }
    }

    /// What an HTTP/1 server would not read as sent is refused, naming its line as numbered
    /// in the input (leading empty lines counted): a version other than HTTP/1.1 or 1.0
    /// (RFC 9112 2.3), a fragment (`http::Uri` drops it, so a server is handed another target
    /// than the one verified or signed).
    #[test]
    fn what_a_server_would_read_otherwise_is_refused_at_its_line() {
        for (text, line, reason) in [
            (
                "GET / HTTP/2.0\nHost: h\n\n",
                1,
                "version is not HTTP/1.1 or HTTP/1.0",
            ),
            (
                "GET / HTTP/1.1x\nHost: h\n\n",
                1,
                "version is not HTTP/1.1 or HTTP/1.0",
            ),
            (
                "GET / HTTP/\nHost: h\n\n",
                1,
                "version is not HTTP/1.1 or HTTP/1.0",
            ),
            (
                "GET /a#frag HTTP/1.1\nHost: h\n\n",
                1,
                "the request target has a fragment (#)",
            ),
            (
                "GET /a?X-Amz-Signature=ab#top HTTP/1.1\nHost: h\n\n",
                1,
                "the request target has a fragment (#)",
            ),
            (
                "\n\nGET / HTTP/1.1\nHost: h\nbad line\n\n",
                5,
                "header line has no colon",
            ),
            (
                "\r\nGET / HTTP/3\r\n\r\n",
                2,
                "version is not HTTP/1.1 or HTTP/1.0",
            ),
            (
                "\nPOST / HTTP/1.1\nHost: h\nContent-Length: x\n\n",
                4,
                "Content-Length is not a number",
            ),
        ] {
            let error = parse_error(text);
            assert!(
                matches!(error, Error::MalformedRawRequest { line: l, reason: r } if l == line && r == reason),
                "{text:?}: {error:?}"
            );
        }
        assert_eq!(parse("GET / HTTP/1.0\nHost: h\n\n").version, "HTTP/1.0");
    }

    /// A chunked body is framing the parser does not decode: it would be taken as the body.
    #[test]
    fn transfer_encoding_is_refused() {
        let error = parse_error(
            "POST / HTTP/1.1\nHost:example.com\nTransfer-Encoding: chunked\n\n3\r\nabc\r\n0\r\n\r\n",
        );
        assert!(
            matches!(error, Error::MalformedRawRequest { line: 3, reason } if reason.contains("Transfer-Encoding")),
            "{error:?}"
        );
    }
}
