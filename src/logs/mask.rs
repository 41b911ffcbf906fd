//! Variable masking: turns a log line into a sequence of tokens in which
//! every value that varies between occurrences of the same event (numbers,
//! hex, UUIDs, IP addresses and ports, host names, paths, URLs, e-mail
//! addresses, timestamps, durations, sizes) is replaced by the wildcard `<*>`.
//!
//! Masking runs once per line in a single pass over its bytes, eight at a
//! time where they are letters, digits or dots, and writes into a reused
//! buffer without allocating.
//!
//! The rules are properties of log messages in general, not of any one
//! program's output:
//! * a token (or a punctuation-delimited part of it) containing a digit is a
//!   value: numbers, ids, addresses, times, dates, `12ms`, `3.5s`, `10KB`,
//!   `blk_-42`, UUIDs and hex digests all contain digits;
//! * long runs of hex letters without digits (`deadbeefcafe`) are digests;
//! * dotted lower-case names of three or more labels (`mail.example.com`)
//!   are host names;
//! * paths, URLs, e-mail addresses and IPv6 addresses are values as a whole;
//! * a number followed by a time-unit word (`5 sec`, `<1 sec`) is a single
//!   duration value, so renderings of different widths line up;
//! * consecutive values collapse into one wildcard, because lists of values
//!   have varying lengths while the surrounding event text does not.

use crate::logs::tokenize::is_token_separator;

/// The wildcard that stands for a variable part of a template.
pub(crate) const WILDCARD: &str = "<*>";

/// A masked line: the tokens joined by single spaces, with one span per
/// token. Reused between lines to avoid allocation on the hot path.
#[derive(Debug, Default, Clone)]
pub(crate) struct MaskedLine {
    /// Always valid UTF-8: tokens are cut at ASCII separators and
    /// delimiters only.
    text: Vec<u8>,
    spans: Vec<(u32, u32)>,
    last_wildcard: bool,
}

impl MaskedLine {
    /// Creates an empty masked line.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Removes all tokens, keeping the allocations.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
        self.last_wildcard = false;
    }

    /// Number of tokens.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// The token at `index`.
    #[inline]
    pub(crate) fn token(&self, index: usize) -> &str {
        as_text(self.token_bytes(index))
    }

    /// The bytes of the token at `index`.
    #[inline]
    pub(crate) fn token_bytes(&self, index: usize) -> &[u8] {
        let (start, end) = self.spans[index];
        &self.text[start as usize..end as usize]
    }

    /// Iterates over the tokens in order.
    pub(crate) fn tokens(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|index| self.token(index))
    }

    /// The tokens joined by single spaces (the template text of the line).
    #[inline]
    pub(crate) fn text(&self) -> &str {
        as_text(&self.text)
    }

    /// The bytes of [`Self::text`].
    #[inline]
    pub(crate) fn text_bytes(&self) -> &[u8] {
        &self.text
    }

    /// The tokens joined by single spaces, as an owned string.
    pub(crate) fn joined(&self) -> String {
        self.text().to_owned()
    }

    #[inline]
    fn last_is_wildcard(&self) -> bool {
        self.last_wildcard
    }

    /// Appends the separator before a new token and returns where the
    /// token's text starts.
    #[inline]
    fn begin_token(&mut self) -> usize {
        if !self.spans.is_empty() {
            self.text.push(b' ');
        }
        self.text.len()
    }

    #[inline]
    fn push_token(&mut self, token: &str) {
        let start = self.begin_token();
        self.text.extend_from_slice(token.as_bytes());
        self.spans.push((start as u32, self.text.len() as u32));
        self.last_wildcard = false;
    }

    #[inline]
    fn push_wildcard(&mut self) {
        if !self.last_wildcard {
            self.push_token(WILDCARD);
            self.last_wildcard = true;
        }
    }

    /// Appends the first `length` bytes of `word` (little-endian) as a token.
    /// Writing all eight bytes and cutting back is a single store instead of
    /// a variable-length copy.
    #[inline(always)]
    fn push_word(&mut self, word: u64, length: usize) {
        let start = self.begin_token();
        self.text.extend_from_slice(&word.to_le_bytes());
        self.text.truncate(start + length);
        self.spans.push((start as u32, self.text.len() as u32));
        self.last_wildcard = false;
    }

    /// Registers the token written to `text` from `start` (as returned by
    /// [`Self::begin_token`]) on.
    #[inline]
    fn push_built(&mut self, start: usize) {
        self.spans.push((start as u32, self.text.len() as u32));
        self.last_wildcard = false;
    }

    /// Drops the token text written from `start` on, together with the
    /// separator [`Self::begin_token`] put before it.
    #[inline]
    fn abandon_token(&mut self, start: usize) {
        let keep = if self.spans.is_empty() {
            start
        } else {
            start - 1
        };
        self.text.truncate(keep);
    }
}

/// Views masked text as `str`; it is UTF-8 by construction.
#[inline]
fn as_text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("masked text is cut at ASCII bytes only")
}

/// Masks `line` into `out` (cleared first).
pub(crate) fn mask_line(line: &str, out: &mut MaskedLine) {
    out.clear();
    let bytes = line.as_bytes();
    let length = bytes.len();
    let mut delimiters = Delimiters::default();
    let mut position = 0;
    loop {
        while position < length && is_token_separator(bytes[position]) {
            position += 1;
        }
        if position >= length {
            break;
        }
        let start = position;
        let first_word = load_padded(bytes, position);
        // Fast path for the most common token: a short word of letters
        // (or non-ASCII characters) ending at a separator.
        let non_letters = ascii_non_letters(first_word);
        let word_length = (non_letters.trailing_zeros() / 8) as usize;
        if non_letters != 0
            && word_length > 0
            && bytes
                .get(start + word_length)
                .is_none_or(|&byte| is_token_separator(byte))
            && !out.last_is_wildcard()
        {
            out.push_word(first_word, word_length);
            position = start + word_length + 1;
            continue;
        }
        let mut classes = 0u8;
        let mut segment_classes = 0u8;
        delimiters.count = 0;
        let mut word = first_word;
        loop {
            // Eight bytes at a time while they are letters, digits, `.` or
            // non-ASCII (the bulk of tokens); other bytes go through the
            // class table.
            let scan = scan_word(word);
            if scan.other == 0 {
                segment_classes |= scan.classes(u64::MAX);
                position += 8;
                word = load_padded(bytes, position);
                continue;
            }
            // Bits below the first other byte.
            let before = (scan.other & scan.other.wrapping_neg()) - 1;
            segment_classes |= scan.classes(before);
            position += (scan.other.trailing_zeros() / 8) as usize;
            if position >= length {
                break;
            }
            let class = BYTE_CLASSES[bytes[position] as usize];
            if class == CLASS_SEPARATOR {
                break;
            }
            if class & CLASS_DELIMITER != 0 {
                classes |= segment_classes;
                delimiters.push(position - start, segment_classes);
                segment_classes = 0;
            } else {
                segment_classes |= class;
            }
            classes |= class;
            position += 1;
            word = load_padded(bytes, position);
        }
        classes |= segment_classes;
        // Separators are ASCII, so slices stay on char boundaries.
        mask_token(
            &line[start..position],
            first_word,
            classes,
            &delimiters,
            segment_classes,
            out,
        );
        // The token ended at a separator (or the end of the line).
        position += 1;
    }
}

/// Eight bytes of `bytes` from `position` as a little-endian word; past the
/// end the word is padded with spaces, which end the token.
#[inline(always)]
fn load_padded(bytes: &[u8], position: usize) -> u64 {
    const SPACES: u64 = 0x2020_2020_2020_2020;
    if let Some(chunk) = bytes.get(position..position + 8) {
        return u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
    }
    let length = bytes.len();
    if position >= length {
        return SPACES;
    }
    if length >= 8 {
        // Shift the line's last eight bytes down instead of copying.
        let tail = u64::from_le_bytes(bytes[length - 8..].try_into().expect("eight bytes"));
        let skip = (position + 8 - length) as u32 * 8;
        return (tail >> skip) | (SPACES << (64 - skip));
    }
    let mut padded = [b' '; 8];
    let rest = &bytes[position..];
    padded[..rest.len()].copy_from_slice(rest);
    u64::from_le_bytes(padded)
}

/// Most delimiters recorded per token; tokens with more are rescanned.
const MAX_DELIMITERS: usize = 16;

/// Offsets of the delimiters of a token and the byte classes of the segment
/// before each, recorded while scanning so the token is not scanned twice.
#[derive(Default)]
struct Delimiters {
    count: usize,
    offsets: [u32; MAX_DELIMITERS],
    classes: [u8; MAX_DELIMITERS],
}

impl Delimiters {
    #[inline(always)]
    fn push(&mut self, offset: usize, segment_classes: u8) {
        if self.count < MAX_DELIMITERS {
            self.offsets[self.count] = offset as u32;
            self.classes[self.count] = segment_classes;
        }
        self.count += 1;
    }

    fn overflowed(&self) -> bool {
        self.count > MAX_DELIMITERS
    }
}

/// Sets the high bit of every byte of `word` that is ASCII but not a
/// letter; letters and bytes of multi-byte characters give zero.
#[inline(always)]
const fn ascii_non_letters(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Folding case maps letters to 0x61..=0x7a and no other ASCII byte
    // into that range; adding 0x80 - n to a 7-bit value sets its high bit
    // exactly when it is >= n.
    let folded = (word | 0x2020_2020_2020_2020) & LOW7;
    let at_least_a = folded.wrapping_add((0x80 - 0x61) * ONES);
    let above_z = folded.wrapping_add((0x80 - 0x7b) * ONES);
    (!at_least_a | above_z) & !word & HIGH
}

/// Eight bytes of a token classified at once: the high bit of each byte in
/// `digits` / `dots` is set for digits / `.`, and in `other` for ASCII bytes
/// that are neither letters, digits nor `.` (separators and delimiters
/// among them).
struct WordScan {
    digits: u64,
    dots: u64,
    other: u64,
}

impl WordScan {
    /// Byte classes of the bytes selected by `mask`.
    #[inline(always)]
    fn classes(&self, mask: u64) -> u8 {
        let mut classes = 0;
        if self.digits & mask != 0 {
            classes |= CLASS_DIGIT;
        }
        if self.dots & mask != 0 {
            classes |= CLASS_DOT;
        }
        classes
    }
}

#[inline(always)]
const fn scan_word(word: u64) -> WordScan {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // On 7-bit values, adding 0x80 - n sets the high bit exactly when the
    // value is >= n, and adding 0x7f sets it exactly when the value is not
    // zero, without carries between bytes.
    const fn at_least(low: u64, n: u64) -> u64 {
        low.wrapping_add((0x80 - n) * ONES)
    }
    const fn equal(low: u64, byte: u64) -> u64 {
        !((low ^ (byte * ONES)).wrapping_add(LOW7))
    }
    let low = word & LOW7;
    let ascii = !word & HIGH;
    // Folding case maps letters to 0x61..=0x7a and no other ASCII byte
    // into that range.
    let folded = low | 0x2020_2020_2020_2020;
    let letters = at_least(folded, 0x61) & !at_least(folded, 0x7b);
    let digits = at_least(low, 0x30) & !at_least(low, 0x3a) & ascii;
    let dots = equal(low, b'.' as u64) & ascii;
    let plain = letters | digits | dots;
    WordScan {
        digits,
        dots,
        other: ascii & !plain,
    }
}

/// Byte classes used while scanning a token.
const CLASS_PLAIN: u8 = 0;
const CLASS_DIGIT: u8 = 1;
const CLASS_DELIMITER: u8 = 2;
/// `@`, `/`, `\`: the token may be a path, URL or e-mail address.
const CLASS_PATH: u8 = 4;
const CLASS_DOT: u8 = 8;
/// Whitespace and control bytes: they separate tokens.
const CLASS_SEPARATOR: u8 = 16;
/// `:` (also a delimiter): with digits, the token may be an IPv6 address.
const CLASS_COLON: u8 = 32;

const BYTE_CLASSES: [u8; 256] = {
    let mut table = [CLASS_PLAIN; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = if is_token_separator(b) {
            CLASS_SEPARATOR
        } else if b.is_ascii_digit() {
            CLASS_DIGIT
        } else if b == b'.' {
            CLASS_DOT
        } else if b == b':' {
            CLASS_DELIMITER | CLASS_COLON
        } else if is_segment_delimiter(b) {
            CLASS_DELIMITER
        } else if matches!(b, b'@' | b'/' | b'\\') {
            CLASS_PATH
        } else {
            CLASS_PLAIN
        };
        byte += 1;
    }
    table
};

/// Masks a single whitespace-free token and appends the result to `out`.
/// Tokens without digits, delimiters or special characters (the common case
/// for words) are copied straight through; others are split into segments,
/// value segments become `<*>`, and a token with no constant segment left
/// becomes a single wildcard. `classes` is the union of the byte classes of
/// the token, `delimiters` holds its delimiters and `last_classes` the
/// classes of the segment after the last one.
#[inline(always)]
fn mask_token(
    token: &str,
    first_word: u64,
    classes: u8,
    delimiters: &Delimiters,
    last_classes: u8,
    out: &mut MaskedLine,
) {
    let bytes = token.as_bytes();
    if out.last_is_wildcard() && is_unit(bytes) {
        // "5 sec", "3 bytes", "1.2 KB": the unit belongs to the number.
        return;
    }
    if classes == CLASS_PLAIN && bytes.len() < 8 {
        // The whole token is in the first word read from the line.
        out.push_word(first_word, bytes.len());
        return;
    }
    mask_compound_token(token, classes, delimiters, last_classes, out);
}

fn mask_compound_token(
    token: &str,
    classes: u8,
    delimiters: &Delimiters,
    last_classes: u8,
    out: &mut MaskedLine,
) {
    let bytes = token.as_bytes();
    if bytes == WILDCARD.as_bytes()
        || (classes & (CLASS_PATH | CLASS_COLON) != 0 && is_whole_value(token, classes))
    {
        out.push_wildcard();
        return;
    }
    if classes & CLASS_DELIMITER == 0 {
        if is_value_segment(bytes, classes) {
            out.push_wildcard();
        } else {
            out.push_token(token);
        }
        return;
    }
    let start = out.begin_token();
    let mut segments = SegmentWriter {
        token,
        start: 0,
        has_value: false,
        has_constant: false,
    };
    if delimiters.overflowed() {
        let mut segment_classes = 0u8;
        for (index, &byte) in bytes.iter().enumerate() {
            let class = BYTE_CLASSES[byte as usize];
            if class & CLASS_DELIMITER == 0 {
                segment_classes |= class;
            } else {
                segments.emit(index, segment_classes, out);
                segment_classes = 0;
            }
        }
        segments.emit(bytes.len(), segment_classes, out);
    } else {
        for index in 0..delimiters.count {
            segments.emit(
                delimiters.offsets[index] as usize,
                delimiters.classes[index],
                out,
            );
        }
        segments.emit(bytes.len(), last_classes, out);
    }
    if segments.has_value && !segments.has_constant {
        out.abandon_token(start);
        out.push_wildcard();
        return;
    }
    out.push_built(start);
}

/// Writes the segments of a delimited token one by one.
struct SegmentWriter<'a> {
    token: &'a str,
    /// Start of the next segment.
    start: usize,
    has_value: bool,
    has_constant: bool,
}

impl SegmentWriter<'_> {
    /// Writes the segment ending at `end` (masked if it is a value) and the
    /// delimiter at `end`, if any.
    #[inline(always)]
    fn emit(&mut self, end: usize, segment_classes: u8, out: &mut MaskedLine) {
        let bytes = self.token.as_bytes();
        if self.start < end {
            if is_value_segment(&bytes[self.start..end], segment_classes) {
                self.has_value = true;
                out.text.extend_from_slice(WILDCARD.as_bytes());
            } else {
                self.has_constant = true;
                out.text.extend_from_slice(&bytes[self.start..end]);
            }
        }
        if end < bytes.len() {
            // Delimiters are ASCII, so this keeps `text` valid UTF-8.
            out.text.push(bytes[end]);
        }
        self.start = end + 1;
    }
}

/// Punctuation that separates a key from its value or wraps a value:
/// `key=value`, `host:port`, `a,b`, `(value)`, `[value]`, `"value"`.
#[inline]
const fn is_segment_delimiter(byte: u8) -> bool {
    matches!(
        byte,
        b':' | b'='
            | b','
            | b';'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'<'
            | b'>'
            | b'"'
            | b'\''
            | b'|'
    )
}

/// A segment is a value if it contains a digit, is a long hex string, or
/// is a domain name. A word of three or more letters followed by a single
/// digit (`ssh2`, `SOCKS5`, `ipv6`, `sha1`) names a protocol or algorithm
/// version rather than a value, and stays constant.
/// `classes` is the union of the byte classes of `segment`.
#[inline]
fn is_value_segment(segment: &[u8], classes: u8) -> bool {
    if classes & CLASS_DIGIT != 0 {
        let length = segment.len();
        let named_version = length >= 4
            && segment[length - 1].is_ascii_digit()
            && segment[..length - 1].iter().all(u8::is_ascii_alphabetic);
        return !named_version;
    }
    (segment.len() >= 8 && segment.iter().all(u8::is_ascii_hexdigit))
        || (classes & CLASS_DOT != 0 && is_domain_name(segment))
}

/// Host names: three or more non-empty labels of lower-case letters,
/// digits and `-`, separated by dots (`mail.example.com`,
/// `db.corp.internal`). Names with upper-case letters (`org.foo.Bar`) or
/// with fewer labels (`file.txt`, `java.io`) are left alone.
fn is_domain_name(segment: &[u8]) -> bool {
    let mut dots = 0;
    let mut previous = b'.';
    for &byte in segment {
        if byte == b'.' {
            if previous == b'.' {
                return false;
            }
            dots += 1;
        } else if !(byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-') {
            return false;
        }
        previous = byte;
    }
    dots >= 2 && previous != b'.'
}

/// Tokens that are values as a whole even though parts look like words:
/// URLs, e-mail addresses, file-system paths, IPv6 addresses.
fn is_whole_value(token: &str, classes: u8) -> bool {
    let bytes = token.as_bytes();
    if classes & CLASS_PATH != 0 {
        if bytes.windows(3).any(|window| window == b"://") {
            return true;
        }
        if let Some(at) = bytes.iter().position(|&b| b == b'@')
            && at > 0
            && bytes[at + 1..].contains(&b'.')
        {
            return true;
        }
        let trimmed = token.trim_start_matches(['(', '[', '"', '\'', '<']);
        if trimmed.len() > 1
            && (trimmed.starts_with('/')
                || trimmed.starts_with("~/")
                || trimmed.starts_with("./")
                || trimmed.starts_with("../"))
            && trimmed.as_bytes()[1] != b'/'
        {
            return true;
        }
        if bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && &bytes[1..3] == b":\\" {
            return true;
        }
    }
    classes & (CLASS_COLON | CLASS_DIGIT) == CLASS_COLON | CLASS_DIGIT && is_ipv6_like(bytes)
}

/// Two or more colons and nothing but hex digits, colons, dots, brackets and
/// `%`, with at least one digit: `fe80::1`, `[::1]:8080`, `2001:db8::2`.
fn is_ipv6_like(bytes: &[u8]) -> bool {
    let colons = bytes.iter().filter(|&&b| b == b':').count();
    colons >= 2
        && bytes.iter().any(u8::is_ascii_digit)
        && bytes
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.' | b'[' | b']' | b'%'))
}

/// Time and size unit words that, after a number, make one duration or
/// size value (`5 sec`, `3 bytes`, `1.2 KB`).
fn is_unit(token: &[u8]) -> bool {
    let mut end = token.len();
    while end > 0 && matches!(token[end - 1], b',' | b'.' | b';' | b')' | b']') {
        end -= 1;
    }
    if end == 0 || end > 7 {
        return false;
    }
    let mut word = [0u8; 7];
    for (slot, byte) in word.iter_mut().zip(&token[..end]) {
        *slot = byte.to_ascii_lowercase();
    }
    matches!(
        &word[..end],
        b"ns"
            | b"us"
            | b"\xc2\xb5s"
            | b"ms"
            | b"s"
            | b"sec"
            | b"secs"
            | b"second"
            | b"seconds"
            | b"min"
            | b"mins"
            | b"minute"
            | b"minutes"
            | b"h"
            | b"hr"
            | b"hrs"
            | b"hour"
            | b"hours"
            | b"day"
            | b"days"
            | b"msec"
            | b"usec"
            | b"b"
            | b"byte"
            | b"bytes"
            | b"kb"
            | b"mb"
            | b"gb"
            | b"tb"
            | b"kib"
            | b"mib"
            | b"gib"
            | b"tib"
            | b"k"
            | b"m"
            | b"g"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn masked_text_is_the_tokens_joined(line in "[ -~\\t\u{e9}\u{4e2d}\u{1f600}]{0,80}") {
            let mut out = MaskedLine::new();
            mask_line(&line, &mut out);
            let tokens: Vec<&str> = out.tokens().collect();
            prop_assert_eq!(out.text(), tokens.join(" "));
            prop_assert!(tokens.iter().all(|token| !token.is_empty() && !token.contains(' ')));
            // Masking is idempotent on its own output.
            let again = out.joined();
            mask_line(&again, &mut out);
            prop_assert_eq!(out.text(), again);
        }
    }

    fn masked(line: &str) -> String {
        let mut out = MaskedLine::new();
        mask_line(line, &mut out);
        out.joined()
    }

    #[test]
    fn masks_numbers_and_identifiers_with_digits() {
        assert_eq!(
            masked("retry 3 of job_42 failed"),
            "retry <*> of <*> failed"
        );
        assert_eq!(masked("size=10KB took=12ms"), "size=<*> took=<*>");
    }

    #[test]
    fn masks_network_addresses_with_ports() {
        assert_eq!(masked("connect to 10.0.0.7:5432 ok"), "connect to <*> ok");
        assert_eq!(masked("listen on [fe80::1]:80"), "listen on <*>");
        assert_eq!(masked("peer 2001:db8::2 up"), "peer <*> up");
        assert_eq!(masked("from primary:6543"), "from primary:<*>");
    }

    #[test]
    fn masks_paths_urls_emails_uuids_and_hex() {
        assert_eq!(
            masked("open /var/lib/app/data.db failed"),
            "open <*> failed"
        );
        assert_eq!(masked("GET https://example.com/a?b=c"), "GET <*>");
        assert_eq!(masked("mail to ops@example.org"), "mail to <*>");
        assert_eq!(
            masked("request 123e4567-e89b-12d3-a456-426614174000 done"),
            "request <*> done"
        );
        assert_eq!(masked("digest deadbeefcafebabe"), "digest <*>");
        assert_eq!(masked("leaves deadline"), "leaves deadline");
        assert_eq!(masked("resolve db.example.com ok"), "resolve <*> ok");
        assert_eq!(masked("via ssh2 and SOCKS5"), "via ssh2 and SOCKS5");
    }

    #[test]
    fn masks_host_names_by_shape() {
        assert_eq!(
            masked("lookup mail.example.org failed"),
            "lookup <*> failed"
        );
        assert_eq!(
            masked("lookup db.corp.internal failed"),
            "lookup <*> failed"
        );
        assert_eq!(masked("lookup ns1.my-host.xyz ok"), "lookup <*> ok");
        assert_eq!(masked("read settings.yaml ok"), "read settings.yaml ok");
        assert_eq!(
            masked("class org.example.Worker ok"),
            "class org.example.Worker ok"
        );
        assert_eq!(masked("weird a..b.c ok"), "weird a..b.c ok");
        assert_eq!(masked("end example.com. ok"), "end example.com. ok");
    }

    #[test]
    fn word_scan_agrees_with_byte_classes() {
        for byte in 0..=255u8 {
            for position in 0..8 {
                let mut word = [b'a'; 8];
                word[position] = byte;
                let scan = scan_word(u64::from_le_bytes(word));
                let high_bit = 0x80u64 << (position * 8);
                let plain = !byte.is_ascii() || byte.is_ascii_alphanumeric() || byte == b'.';
                assert_eq!(scan.other == 0, plain, "byte {byte:#x} at {position}");
                if !plain {
                    assert_ne!(scan.other & high_bit, 0, "byte {byte:#x} at {position}");
                }
                assert_eq!(
                    ascii_non_letters(u64::from_le_bytes(word)) != 0,
                    byte.is_ascii() && !byte.is_ascii_alphabetic(),
                    "byte {byte:#x} at {position}"
                );
                assert_eq!(scan.digits != 0, byte.is_ascii_digit());
                assert_eq!(scan.dots != 0, byte == b'.');
            }
        }
    }

    #[test]
    fn long_and_multibyte_tokens_keep_their_classes() {
        assert_eq!(
            masked("caf\u{e9}-cr\u{e8}me-br\u{fb}l\u{e9}e ok"),
            "caf\u{e9}-cr\u{e8}me-br\u{fb}l\u{e9}e ok"
        );
        assert_eq!(masked("abcdefghijklmnop77 x"), "<*> x");
        assert_eq!(masked("abcdefghijklmnop.qrstuvwxyz.example x"), "<*> x");
        assert_eq!(masked("abcdefgh,ijklmnop77 x"), "abcdefgh,<*> x");
        assert_eq!(
            masked("longwordwithoutvalues\tnext"),
            "longwordwithoutvalues next"
        );
    }

    #[test]
    fn padded_loads_match_bytes() {
        let line = b"0123456789abc";
        for length in 0..=line.len() {
            for position in 0..=length + 1 {
                let mut expected = [b' '; 8];
                for (slot, index) in expected.iter_mut().zip(position..) {
                    if index < length {
                        *slot = line[index];
                    }
                }
                assert_eq!(
                    load_padded(&line[..length], position).to_le_bytes(),
                    expected,
                    "length {length} position {position}"
                );
            }
        }
    }

    #[test]
    fn splits_tokens_with_many_delimiters() {
        for pairs in [1u8, 15, 16, 17, 40] {
            let key = |i: u8| char::from(b'a' + i % 26).to_string().repeat(3);
            let line: Vec<String> = (0..pairs).map(|i| format!("{}=v{i}", key(i))).collect();
            let expected: Vec<String> = (0..pairs).map(|i| format!("{}=<*>", key(i))).collect();
            assert_eq!(
                masked(&format!("set {} now", line.join(","))),
                format!("set {} now", expected.join(","))
            );
        }
        assert_eq!(masked("a=1"), "a=<*>");
        assert_eq!(masked("pid=(42)"), "pid=(<*>)");
        assert_eq!(masked("(42)"), "<*>");
        assert_eq!(masked("x:y"), "x:y");
        assert_eq!(masked("  lead  trail  "), "lead trail");
    }

    #[test]
    fn masks_timestamps_and_durations() {
        assert_eq!(masked("at 2024-01-02T03:04:05Z start"), "at <*> start");
        assert_eq!(masked("took 3.5s"), "took <*>");
        assert_eq!(masked("lifetime <1 sec"), masked("lifetime 00:01"));
        assert_eq!(masked("waited 5 seconds total"), "waited <*> total");
        assert_eq!(
            masked("sent 12 bytes (1.2 KB) ok"),
            masked("sent 0 bytes ok")
        );
    }

    #[test]
    fn collapses_value_lists() {
        assert_eq!(masked("ids 1 2 3 4 ready"), masked("ids 9 ready"));
    }

    #[test]
    fn keeps_plain_words() {
        assert_eq!(
            masked("Connection reset by peer"),
            "Connection reset by peer"
        );
    }
}
