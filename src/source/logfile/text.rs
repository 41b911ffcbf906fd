//! Byte-level helpers: newline search, lossy decoding, truncation on a char boundary,
//! and the stable hash of a file's first line.

/// Position of the first `\n` in `bytes`.
pub(crate) fn find_newline(bytes: &[u8]) -> Option<usize> {
    // Eight bytes at a time: a zero byte in `word ^ 0x0a0a..` marks a newline.
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        let x = u64::from_le_bytes(word) ^ NL;
        if (x.wrapping_sub(LO) & !x & HI) != 0 {
            break;
        }
        i += 8;
    }
    bytes[i..].iter().position(|&b| b == b'\n').map(|p| p + i)
}

/// Longest prefix of `bytes` of at most `max` bytes that does not split a UTF-8 sequence.
pub(crate) fn cut_on_char_boundary(bytes: &[u8], max: usize) -> &[u8] {
    if bytes.len() <= max {
        return bytes;
    }
    let mut end = max;
    // Step back over continuation bytes (at most three) to the start of the cut sequence.
    let mut back = 0;
    while end > 0 && back < 4 && (bytes[end] & 0xC0) == 0x80 {
        end -= 1;
        back += 1;
    }
    if back == 4 {
        // Not UTF-8 at all here: cut at the byte limit, lossy decoding handles it.
        end = max;
    }
    &bytes[..end]
}

/// Text of a raw line: trailing `\r` removed, invalid UTF-8 replaced.
pub(crate) fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

/// Largest number of bytes of the first line that go into its hash.
pub(crate) const FIRST_LINE_HASH_BYTES: usize = 1024;

/// FNV-1a, 64 bits: stable across builds and platforms, unlike the std hasher.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Hash of the first line given the file's first bytes (up to `FIRST_LINE_HASH_BYTES`),
/// or `None` while the first line is still incomplete and short.
pub(crate) fn first_line_hash(head: &[u8]) -> Option<u64> {
    match find_newline(head) {
        Some(p) => Some(fnv1a(&head[..=p])),
        None if head.len() >= FIRST_LINE_HASH_BYTES => Some(fnv1a(&head[..FIRST_LINE_HASH_BYTES])),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newline_found_at_every_position() {
        for len in 0..40 {
            for at in 0..len {
                let mut v = vec![b'a'; len];
                v[at] = b'\n';
                assert_eq!(find_newline(&v), Some(at), "len {len} at {at}");
            }
            assert_eq!(find_newline(&vec![b'a'; len]), None);
        }
        // Bytes just above and below '\n' are not newlines.
        assert_eq!(find_newline(&[0x0b, 0x09, 0x8a, 0x0a]), Some(3));
    }

    #[test]
    fn cut_never_splits_a_char() {
        let s = "aé€😀b".as_bytes();
        for max in 0..s.len() {
            let cut = cut_on_char_boundary(s, max);
            assert!(cut.len() <= max);
            assert!(std::str::from_utf8(cut).is_ok(), "max {max}");
        }
        assert_eq!(cut_on_char_boundary(b"abc", 10), b"abc");
    }

    #[test]
    fn decode_is_lossy_and_strips_cr() {
        assert_eq!(decode(b"ok\r"), "ok");
        assert_eq!(decode(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(decode(b"a\0b"), "a\0b");
    }

    #[test]
    fn first_line_hash_waits_for_a_complete_line() {
        assert_eq!(first_line_hash(b"abc"), None);
        assert_eq!(
            first_line_hash(b"abc\nrest"),
            first_line_hash(b"abc\nother")
        );
        assert_ne!(first_line_hash(b"abc\n"), first_line_hash(b"abd\n"));
        assert!(first_line_hash(&[b'x'; FIRST_LINE_HASH_BYTES]).is_some());
    }
}
