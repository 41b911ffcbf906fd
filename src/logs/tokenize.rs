//! Line preparation before template mining: lossy decoding of raw bytes,
//! truncation to a bounded length on a character boundary, and the byte
//! classes that separate tokens.

use std::borrow::Cow;

/// Decodes raw bytes as UTF-8, replacing invalid sequences with U+FFFD.
pub(crate) fn decode_lossy(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Returns the longest prefix of `line` that is at most `max_bytes` long and
/// ends on a character boundary, and whether anything was cut off.
pub(crate) fn truncate_on_char_boundary(line: &str, max_bytes: usize) -> (&str, bool) {
    if line.len() <= max_bytes {
        return (line, false);
    }
    let mut end = max_bytes;
    while end > 0 && !line.is_char_boundary(end) {
        end -= 1;
    }
    (&line[..end], true)
}

/// True for bytes that separate tokens: ASCII whitespace and every ASCII
/// control character (NUL, escape, DEL, ...), so binary junk can never glue
/// tokens together or end up inside a template.
#[inline]
pub(crate) const fn is_token_separator(byte: u8) -> bool {
    byte <= b' ' || byte == 0x7f
}

#[cfg(test)]
/// Iterates over the whitespace/control-separated tokens of `line`.
pub(crate) fn split_tokens(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| c.is_ascii() && is_token_separator(c as u8))
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        let line = "ab\u{00e9}cd";
        let (cut, truncated) = truncate_on_char_boundary(line, 3);
        assert_eq!(cut, "ab");
        assert!(truncated);
        let (whole, truncated) = truncate_on_char_boundary(line, 100);
        assert_eq!(whole, line);
        assert!(!truncated);
    }

    #[test]
    fn control_bytes_split_tokens() {
        let tokens: Vec<&str> = split_tokens("a\0b\tc  d\u{1b}e").collect();
        assert_eq!(tokens, vec!["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn lossy_decoding_replaces_invalid_sequences() {
        let decoded = decode_lossy(b"ok \xff\xfe end");
        assert!(decoded.contains('\u{fffd}'));
        assert!(decoded.starts_with("ok "));
    }
}
