//! Long tokens random enough to be keys, told apart from the long strings logs are full of.
//!
//! A candidate is a run of at least 32 base64/base64url/hex characters. UUIDs are cut out of it
//! first and never redacted. Then:
//! - hex alone is a secret unless it is a git commit id (exactly 40 digits: the investigator
//!   names commits), follows the name of a hash algorithm (`sha256:`, `md5=`, `commit `), or
//!   repeats too little to be random (Shannon entropy under 3 bits per character);
//! - a token mixing upper case, lower case and digits is a secret if it is random (entropy of
//!   at least 3.5 bits per character) and not made of words (`OrderHandler2Impl`, paths,
//!   `snake_case` names: at least three quarters of its letters and digits in words, acronyms
//!   or whole numbers). Path segments of words at its ends (`/services/`, `/sendMessage`) are
//!   not part of it. Base64 that decodes to ordinary text is kept unless that text holds a
//!   secret;
//! - in a token with one case only (pod names, base32), each part between `-`, `_`, `/` and
//!   `+` is judged alone: a secret if it is hex as above, or at least 24 characters of random
//!   letters and digits.

use super::{Finding, SecretKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD_INDIFFERENT, URL_SAFE_NO_PAD_INDIFFERENT};
use regex::Regex;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

const MIN_LENGTH: usize = 32;
const GIT_COMMIT_LENGTH: usize = 40;
const MIN_HEX_ENTROPY: f64 = 3.0;
const MIN_ENTROPY: f64 = 3.5;
const MAX_WORDINESS: f64 = 0.75;
const MIN_RANDOM_PIECE: usize = 24;

struct Patterns {
    candidate: Regex,
    uuid: Regex,
    hash_label: Regex,
}

fn patterns() -> Option<&'static Patterns> {
    static PATTERNS: OnceLock<Option<Patterns>> = OnceLock::new();
    PATTERNS
        .get_or_init(|| {
            Some(Patterns {
                candidate: Regex::new(r"[A-Za-z0-9+/_-]{32,}={0,2}").ok()?,
                uuid: Regex::new(
                    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",
                )
                .ok()?,
                hash_label: Regex::new(
                    r"(?i)(?:sha-?(?:1|224|256|384|512)|md5|blake2[bs]?|blake3|xxh(?:32|64|3|128)?|crc32|etag|commit|revision|rev|digest)\W{0,3}$",
                )
                .ok()?,
            })
        })
        .as_ref()
}

/// Every random-looking token in `text`; `None` if the patterns could not be built.
/// `holds_secret` says whether text decoded from base64 holds a secret.
pub(super) fn find(text: &str, holds_secret: &dyn Fn(&str) -> bool) -> Option<Vec<Finding>> {
    let patterns = patterns()?;
    let mut findings = Vec::new();
    for candidate in patterns.candidate.find_iter(text) {
        for piece in without_uuids(patterns, candidate.as_str(), candidate.start()) {
            for range in secrets_in(patterns, text, piece, holds_secret) {
                findings.push(Finding {
                    range,
                    kind: SecretKind::Token,
                });
            }
        }
    }
    Some(findings)
}

/// The parts of a candidate around the UUIDs in it, trimmed of separators.
fn without_uuids(patterns: &Patterns, candidate: &str, offset: usize) -> Vec<Range<usize>> {
    let mut pieces = Vec::new();
    let mut at = 0;
    for uuid in patterns.uuid.find_iter(candidate) {
        pieces.push(offset + at..offset + uuid.start());
        at = uuid.end();
    }
    pieces.push(offset + at..offset + candidate.len());
    pieces
        .into_iter()
        .map(|range| {
            trim(
                &candidate[range.start - offset..range.end - offset],
                range.start,
                |c| c == '-' || c == '_',
            )
        })
        .collect()
}

/// The range of `part` (found at `offset`) without the characters `strip` takes at either end.
fn trim(part: &str, offset: usize, strip: impl Fn(char) -> bool + Copy) -> Range<usize> {
    let lead = part.len() - part.trim_start_matches(strip).len();
    let kept = part.trim_matches(strip).len();
    offset + lead..offset + lead + kept
}

/// The secrets in one piece of a candidate: the whole piece, some of its parts, or nothing.
fn secrets_in(
    patterns: &Patterns,
    text: &str,
    piece: Range<usize>,
    holds_secret: &dyn Fn(&str) -> bool,
) -> Vec<Range<usize>> {
    let token = &text[piece.clone()];
    if token.len() < MIN_LENGTH {
        return Vec::new();
    }
    if is_hex(token) {
        return if is_secret_hex(patterns, text, piece.start, token) {
            vec![piece]
        } else {
            Vec::new()
        };
    }
    let upper = token.chars().any(|c| c.is_ascii_uppercase());
    let lower = token.chars().any(|c| c.is_ascii_lowercase());
    let digit = token.chars().any(|c| c.is_ascii_digit());
    if upper && lower && digit {
        let core = without_word_segments(token, piece.start);
        let token = &text[core.clone()];
        let secret = token.len() >= MIN_LENGTH
            && entropy(token) >= MIN_ENTROPY
            && wordiness(token) < MAX_WORDINESS
            && decoded_text(token).is_none_or(|decoded| holds_secret(&decoded));
        return if secret { vec![core] } else { Vec::new() };
    }
    // One case only: look at each part between separators.
    let mut found = Vec::new();
    let mut at = piece.start;
    for raw in token.split(['-', '_', '/', '+']) {
        let range = trim(raw, at, |c| c == '=');
        let part = &text[range.clone()];
        let secret = if is_hex(part) {
            part.len() >= MIN_LENGTH && is_secret_hex(patterns, text, range.start, part)
        } else {
            is_random_piece(part)
        };
        if secret {
            found.push(range);
        }
        at += raw.len() + 1;
    }
    found
}

fn is_hex(token: &str) -> bool {
    !token.is_empty() && token.chars().all(|c| c.is_ascii_hexdigit())
}

fn is_secret_hex(patterns: &Patterns, text: &str, start: usize, token: &str) -> bool {
    token.len() != GIT_COMMIT_LENGTH
        && !labelled_hash(patterns, text, start)
        && entropy(token) >= MIN_HEX_ENTROPY
}

/// The token without the path segments at its ends that are words (`/services/...`,
/// `.../sendMessage`): what stays is the random part.
fn without_word_segments(token: &str, offset: usize) -> Range<usize> {
    let wordy = |segment: &str| {
        segment.is_empty() || (segment.len() >= 3 && wordiness(segment) >= MAX_WORDINESS)
    };
    let mut start = 0;
    let mut end = token.len();
    while let Some(slash) = token[start..end].find('/') {
        if !wordy(&token[start..start + slash]) {
            break;
        }
        start += slash + 1;
    }
    while let Some(slash) = token[start..end].rfind('/') {
        if !wordy(&token[start + slash + 1..end]) {
            break;
        }
        end = start + slash;
    }
    offset + start..offset + end
}

/// Whether the text right before `start` names a hash algorithm.
fn labelled_hash(patterns: &Patterns, text: &str, start: usize) -> bool {
    let mut from = start.saturating_sub(16);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    patterns.hash_label.is_match(&text[from..start])
}

fn is_random_piece(piece: &str) -> bool {
    piece.len() >= MIN_RANDOM_PIECE
        && piece.chars().any(|c| c.is_ascii_digit())
        && piece.chars().any(|c| c.is_ascii_alphabetic())
        && entropy(piece) >= MIN_ENTROPY
}

/// Shannon entropy in bits per character.
pub(super) fn entropy(s: &str) -> f64 {
    let mut counts: HashMap<char, usize> = HashMap::new();
    let mut total = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    let total = total as f64;
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / total;
            -p * p.log2()
        })
        .sum()
}

/// The share of a token's letters and digits that belong to words (a lower-case run of three or
/// more with a vowel, capitalized or not), acronyms of up to five capitals standing alone
/// between separators, or whole numbers standing alone between separators.
pub(super) fn wordiness(token: &str) -> f64 {
    let alphanumeric = token.chars().filter(|c| c.is_ascii_alphanumeric()).count();
    if alphanumeric == 0 {
        return 0.0;
    }
    let mut in_words = 0;
    for piece in token.split(['-', '_', '/', '+', '=']) {
        let whole_number = !piece.is_empty() && piece.chars().all(|c| c.is_ascii_digit());
        let acronym =
            (1..=5).contains(&piece.len()) && piece.chars().all(|c| c.is_ascii_uppercase());
        if whole_number || acronym {
            in_words += piece.len();
        } else {
            in_words += word_letters(piece);
        }
    }
    in_words as f64 / alphanumeric as f64
}

/// How many letters of `piece` are in words: `[A-Z]?[a-z]{2,}` holding a vowel.
fn word_letters(piece: &str) -> usize {
    let chars: Vec<char> = piece.chars().collect();
    let mut count = 0;
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        if chars[i].is_ascii_uppercase() && chars.get(i + 1).is_some_and(char::is_ascii_lowercase) {
            i += 1;
        }
        if chars[i].is_ascii_lowercase() {
            while chars.get(i).is_some_and(char::is_ascii_lowercase) {
                i += 1;
            }
            let word = &chars[start..i];
            if word.len() >= 3
                && word
                    .iter()
                    .any(|c| matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u' | 'y'))
            {
                count += word.len();
            }
        } else if chars[i].is_ascii_uppercase() {
            // An acronym run, up to the capital that starts the next word.
            while chars.get(i).is_some_and(char::is_ascii_uppercase)
                && !chars.get(i + 1).is_some_and(char::is_ascii_lowercase)
            {
                i += 1;
            }
            if i == start {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    count
}

/// The text a base64 token decodes to, when it is ordinary text: valid UTF-8, no control
/// characters but whitespace, at least three words, and mostly letters and spaces.
fn decoded_text(token: &str) -> Option<String> {
    let bare = token.trim_end_matches('=');
    let bytes = STANDARD_NO_PAD_INDIFFERENT
        .decode(bare)
        .or_else(|_| URL_SAFE_NO_PAD_INDIFFERENT.decode(bare))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let printable = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'));
    let words = text.split_whitespace().count();
    let total = text.chars().count();
    let letters = text
        .chars()
        .filter(|c| c.is_alphabetic() || c.is_whitespace())
        .count();
    (printable && words >= 3 && letters * 10 >= total * 7).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::{entropy, wordiness};

    #[test]
    fn entropy_is_high_for_random_and_low_for_repetition() {
        assert!(entropy("0000000000000000") < 0.01);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
        assert!(entropy("Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB") > 4.0);
    }

    #[test]
    fn names_and_paths_are_wordy_and_keys_are_not() {
        for name in [
            "ThisIsAnOrdinaryCamelCaseIdentifier1",
            "com_example_service_OrderHandler2Impl",
            "/home/User/Projects/MyApp2/src/main",
            "GET_/api/v2/Orders/12345/Items/67890/Details",
        ] {
            assert!(wordiness(name) >= 0.75, "{name}: {}", wordiness(name));
        }
        for key in [
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB",
        ] {
            assert!(wordiness(key) < 0.75, "{key}: {}", wordiness(key));
        }
    }
}
