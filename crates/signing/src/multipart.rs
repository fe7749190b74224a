//! The head of a `multipart/form-data` body (RFC 7578 on RFC 2046 §5.1): its fields up to
//! the `file` part, for S3's POST Object. Bounded by S3's 20 KiB before the file, and read
//! from a prefix of the body, so a server can parse as bytes arrive and pass the body on.

use std::ops::RangeInclusive;

use crate::checksum::ClaimedChecksum;
use crate::error::{clip, Error};
use crate::post::{check_file_size, PostForm, VerifiedPost, MAX_POST_FORM_BYTES};

/// What a POST Object body holds before its file: the form's fields, and where the file's
/// content starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostFormHead {
    /// The fields before the file, and the file's name.
    pub form: PostForm,
    /// Where the file's content starts in the body.
    pub file_start: usize,
    /// The file part's own `Content-Type`, if it has one.
    pub file_content_type: Option<String>,
    /// What ends the file's content: `\r\n--` and the boundary.
    pub file_delimiter: Vec<u8>,
}

/// RFC 2046's longest boundary.
const MAX_BOUNDARY: usize = 70;

fn malformed(reason: impl Into<String>) -> Error {
    Error::MalformedPostForm {
        reason: reason.into(),
    }
}

/// The boundary of a `multipart/form-data` `Content-Type` (`; boundary=…`, the value a token
/// or a quoted string). Another type is [`Error::NotMultipartForm`].
pub(crate) fn boundary(content_type: &str) -> Result<String, Error> {
    let (media_type, mut rest) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !media_type
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return Err(Error::NotMultipartForm);
    }
    let mut found = None;
    while !rest.trim().is_empty() {
        let (name, value, after) = parameter(rest, Escapes::Backslash).ok_or_else(|| {
            malformed(format!(
                "unreadable Content-Type parameters {:?}",
                clip(rest)
            ))
        })?;
        if name.eq_ignore_ascii_case("boundary") {
            if found.is_some() {
                return Err(malformed("the Content-Type names two boundaries"));
            }
            found = Some(value);
        }
        rest = after;
    }
    let boundary = found.ok_or_else(|| malformed("the Content-Type has no boundary"))?;
    if boundary.is_empty() || boundary.len() > MAX_BOUNDARY || boundary.ends_with(' ') {
        return Err(malformed(format!(
            "boundary {:?} is not 1 to 70 characters",
            clip(&boundary)
        )));
    }
    Ok(boundary)
}

/// How a quoted string escapes a `"`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Escapes {
    /// RFC 2045's quoted-pair: `\` quotes the next character (a `Content-Type` header).
    Backslash,
    /// None: the HTML standard's form encoding, which writes `"` as `%22` and leaves `\` as
    /// it is (a `Content-Disposition` in a form; browsers, urllib3, curl). A Windows path in
    /// a file name keeps its backslashes, for `${filename}` to take the text after the last.
    Percent,
}

/// One `name=value` parameter from the start of `text` (after any `;` and blanks), its value a
/// token or a quoted string: `(name, value, the rest)`.
fn parameter(text: &str, escapes: Escapes) -> Option<(&str, String, &str)> {
    let text = text.trim_start_matches([' ', '\t', ';']);
    let equals = text.find('=')?;
    let name = text[..equals].trim();
    if name.is_empty() || name.contains([' ', '\t', ';', '"']) {
        return None;
    }
    let after = &text[equals + 1..];
    if let Some(quoted) = after.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' if escapes == Escapes::Backslash => value.push(chars.next()?.1),
                '"' => {
                    let rest = quoted[at + 1..].trim_start_matches([' ', '\t']);
                    if !(rest.is_empty() || rest.starts_with(';')) {
                        return None;
                    }
                    return Some((name, value, rest));
                }
                c => value.push(c),
            }
        }
        None
    } else {
        let end = after.find(';').unwrap_or(after.len());
        let value = after[..end].trim_matches([' ', '\t']);
        if value.is_empty() || value.contains(['"', ' ', '\t']) {
            return None;
        }
        Some((name, value.to_owned(), &after[end..]))
    }
}

/// What a part's headers say.
struct PartHeaders {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
}

fn part_headers(block: &[u8]) -> Result<PartHeaders, Error> {
    let text =
        std::str::from_utf8(block).map_err(|_| malformed("a part's headers are not text"))?;
    let mut disposition = None;
    let mut content_type = None;
    for line in text.split("\r\n").filter(|line| !line.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| malformed(format!("part header {:?} has no colon", clip(line))))?;
        let value = value.trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case("content-disposition") {
            if disposition.replace(value).is_some() {
                return Err(malformed("a part has two Content-Disposition headers"));
            }
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.to_owned());
        }
    }
    let disposition =
        disposition.ok_or_else(|| malformed("a part has no Content-Disposition header"))?;
    let (kind, mut rest) = disposition.split_once(';').unwrap_or((disposition, ""));
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return Err(malformed(format!(
            "a part's Content-Disposition is {:?}, not form-data",
            clip(kind.trim())
        )));
    }
    let (mut name, mut file_name) = (None, None);
    while !rest.trim().is_empty() {
        let (parameter_name, value, after) =
            parameter(rest, Escapes::Percent).ok_or_else(|| {
                malformed(format!(
                    "unreadable Content-Disposition {:?}",
                    clip(disposition)
                ))
            })?;
        let slot = if parameter_name.eq_ignore_ascii_case("name") {
            &mut name
        } else if parameter_name.eq_ignore_ascii_case("filename") {
            &mut file_name
        } else {
            rest = after;
            continue;
        };
        if slot.replace(value).is_some() {
            return Err(malformed(format!(
                "a part names its {parameter_name} twice"
            )));
        }
        rest = after;
    }
    let name = name.ok_or_else(|| malformed("a part's Content-Disposition has no name"))?;
    Ok(PartHeaders {
        name,
        file_name,
        content_type,
    })
}

/// Reads the fields of a POST Object body, given as its first bytes, up to the `file` part.
///
/// `Ok(None)`: `body` ends before the file's content starts; read more and call again with
/// the longer prefix. The fields before the file (boundaries and headers included) may not
/// exceed [`MAX_POST_FORM_BYTES`], so a prefix of that size always decides. A body that ends
/// without a `file` part is [`Error::PostFileCount`]; with `file` first, the fields that must
/// come before it are missing, as S3 finds them.
pub(crate) fn parse_head(content_type: &str, body: &[u8]) -> Result<Option<PostFormHead>, Error> {
    let boundary = boundary(content_type)?;
    let dash_boundary = format!("--{boundary}");
    let delimiter = format!("\r\n{dash_boundary}");
    let window = &body[..body.len().min(MAX_POST_FORM_BYTES + 1)];
    let too_large = || Error::PostFormTooLarge {
        limit: MAX_POST_FORM_BYTES,
    };
    let need_more = |window: &[u8]| {
        if window.len() > MAX_POST_FORM_BYTES {
            Err(too_large())
        } else {
            Ok(None)
        }
    };
    // The first delimiter: at the start, or after a preamble (which is ignored).
    let mut at = if window.starts_with(dash_boundary.as_bytes()) {
        dash_boundary.len()
    } else {
        match memchr::memmem::find(window, delimiter.as_bytes()) {
            Some(found) => found + delimiter.len(),
            None => return need_more(window),
        }
    };
    let mut form = PostForm::new();
    loop {
        // After a delimiter: `--` closes the body; else transport padding and CRLF.
        let rest = &window[at..];
        if rest.len() < 2 {
            return need_more(window);
        }
        if rest.starts_with(b"--") {
            return Err(Error::PostFileCount);
        }
        let padding = rest
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        match rest.get(padding..padding + 2) {
            Some(b"\r\n") => at += padding + 2,
            Some(_) => return Err(malformed("a boundary line goes on after the boundary")),
            None => return need_more(window),
        }
        // The part's headers end at a blank line (a part may have none, then starts with it).
        let rest = &window[at..];
        let headers_end = if rest.starts_with(b"\r\n") {
            0
        } else {
            match memchr::memmem::find(rest, b"\r\n\r\n") {
                Some(end) => end + 2,
                None => return need_more(window),
            }
        };
        let headers = part_headers(&rest[..headers_end])?;
        at += headers_end + 2;
        if headers.name.eq_ignore_ascii_case("file") {
            if at > MAX_POST_FORM_BYTES {
                return Err(too_large());
            }
            form.set_file_name(headers.file_name);
            return Ok(Some(PostFormHead {
                form,
                file_start: at,
                file_content_type: headers.content_type,
                file_delimiter: delimiter.into_bytes(),
            }));
        }
        let Some(length) = memchr::memmem::find(&window[at..], delimiter.as_bytes()) else {
            return need_more(window);
        };
        let value = std::str::from_utf8(&window[at..at + length]).map_err(|_| {
            malformed(format!(
                "the value of field {:?} is not UTF-8",
                clip(&headers.name)
            ))
        })?;
        form.push(headers.name, value);
        at += length + delimiter.len();
    }
}

/// Follows a POST Object body as it arrives, from its first byte: finds where the file's
/// content ends (at [`PostFormHead::file_delimiter`]), holds its size to the sizes the
/// policy allows ([`VerifiedPost::allowed_file_size`]), failing as soon as the file is too
/// large, not at its end, and its bytes to the `Content-MD5` and `x-amz-checksum-*` fields
/// the form claims for it (S3's `BadDigest`, at the file's end).
///
/// For a service on its own HTTP stack, as [`SigV4Layer`](crate::SigV4Layer) uses it: feed it
/// every byte of the body in order ([`PostFileScan::update`]), and at the body's end ask
/// [`PostFileScan::finish`]; a service must not store a file whose body failed either. After
/// an error the scan stays failed: every later call answers an error too.
#[derive(Debug, Clone)]
pub struct PostFileScan {
    delimiter: Vec<u8>,
    file_start: u64,
    /// How many bytes of the body have been seen.
    position: u64,
    /// The last bytes of the file seen, which may begin the delimiter: not yet given to
    /// `checksum`.
    carry: Vec<u8>,
    file_size_seen: Option<u64>,
    allowed: RangeInclusive<u64>,
    /// The checksums the file's bytes run through, checked (and taken) at its end.
    checksum: Option<ClaimedChecksum>,
    /// An error has been answered: the file is refused, whatever comes after.
    failed: bool,
}

impl PostFileScan {
    /// For the body whose head is `head`, and whose form verified as `verified`.
    pub fn new(head: &PostFormHead, verified: &VerifiedPost) -> Self {
        Self {
            delimiter: head.file_delimiter.clone(),
            file_start: head.file_start as u64,
            position: 0,
            carry: Vec::new(),
            file_size_seen: None,
            allowed: verified.allowed_file_size(),
            checksum: verified.file_checksum(),
            failed: false,
        }
    }

    /// The body's next bytes: [`Error::PostFileSize`] once the file is known to be larger
    /// than allowed, or has ended smaller; [`Error::ChecksumMismatch`] when it has ended and
    /// is not what a checksum field claims.
    pub fn update(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.failed {
            return Err(already_failed());
        }
        let result = self.scan(data);
        self.failed = result.is_err();
        result
    }

    fn scan(&mut self, data: &[u8]) -> Result<(), Error> {
        let offset = self.position;
        self.position = self.position.saturating_add(data.len() as u64);
        if self.file_size_seen.is_some() {
            return Ok(());
        }
        let skip = usize::try_from(self.file_start.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(data.len());
        let region = &data[skip..];
        if region.is_empty() {
            return Ok(());
        }
        // Where `window` starts in the body: the carried bytes came from the file.
        let mut window = std::mem::take(&mut self.carry);
        let window_start = offset + skip as u64 - window.len() as u64;
        window.extend_from_slice(region);
        if let Some(at) = memchr::memmem::find(&window, &self.delimiter) {
            let size = window_start + at as u64 - self.file_start;
            self.file_size_seen = Some(size);
            check_file_size(&self.allowed, size)?;
            return match self.checksum.take() {
                Some(mut checksum) => {
                    checksum.update(&window[..at]);
                    checksum.check()
                }
                None => Ok(()),
            };
        }
        let keep = (self.delimiter.len() - 1).min(window.len());
        let certain = window_start + (window.len() - keep) as u64 - self.file_start;
        self.carry = window.split_off(window.len() - keep);
        if certain > *self.allowed.end() {
            // Surely too large: refused now, not at the file's end.
            return check_file_size(&self.allowed, certain);
        }
        if let Some(checksum) = &mut self.checksum {
            checksum.update(&window);
        }
        Ok(())
    }

    /// The file's size once its delimiter has been seen.
    pub fn file_size(&self) -> Option<u64> {
        self.file_size_seen
    }

    /// At the body's end: the file's size, or [`Error::MalformedPostForm`] for a body that
    /// ended inside the file or whose file an [`update`](Self::update) refused.
    pub fn finish(&self) -> Result<u64, Error> {
        if self.failed {
            return Err(already_failed());
        }
        self.file_size_seen
            .ok_or_else(|| malformed("the body ends inside the file, before its boundary"))
    }
}

fn already_failed() -> Error {
    malformed("the file already failed its checks")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// RFC 2045's parameter grammar: a token or a quoted string, `\` quoting the next
    /// character, any case of the name, and the type's case ignored.
    #[test]
    fn the_boundary_is_a_token_or_a_quoted_string() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").unwrap(),
            "abc"
        );
        assert_eq!(
            boundary("Multipart/Form-Data;BOUNDARY=\"a b\\\"c\"").unwrap(),
            "a b\"c"
        );
        assert_eq!(
            boundary("multipart/form-data; charset=utf-8; boundary=----x").unwrap(),
            "----x"
        );
        assert!(matches!(
            boundary("text/html"),
            Err(Error::NotMultipartForm)
        ));
        assert!(matches!(
            boundary("application/x-www-form-urlencoded"),
            Err(Error::NotMultipartForm)
        ));
        for bad in [
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=\"unterminated",
            "multipart/form-data; boundary=a; boundary=b",
        ] {
            assert!(
                matches!(boundary(bad), Err(Error::MalformedPostForm { .. })),
                "{bad}"
            );
        }
        let long = format!("multipart/form-data; boundary={}", "b".repeat(71));
        assert!(matches!(
            boundary(&long),
            Err(Error::MalformedPostForm { .. })
        ));
    }
}
