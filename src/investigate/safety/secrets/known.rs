//! The secrets this installation holds (API keys, the bot token, database passwords), found
//! wherever they appear: as they are, URL-encoded (wholly or in part, either case of hex,
//! `+` for a space), JSON-escaped, and inside base64 at any alignment.

use super::{Finding, SecretKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use regex::{Regex, RegexBuilder};
use std::ops::Range;

/// Secrets shorter than this are found only where they stand alone.
const MIN_ANYWHERE: usize = 4;
/// Secrets of at least this many bytes are also looked for inside base64.
const MIN_BASE64_SOURCE: usize = 6;
/// The fewest base64 characters that identify a secret.
const MIN_BASE64_CORE: usize = 8;
/// Room for many long secrets, each character with its encoded alternatives.
const PATTERN_SIZE_LIMIT: usize = 64 << 20;

pub(super) struct KnownSecrets {
    /// Secrets in any of their text forms, anywhere.
    anywhere: Option<Regex>,
    /// Short secrets, to be checked for standing alone.
    alone: Option<Regex>,
    /// Stretches of base64 that only a secret's encoding contains.
    base64: Option<Regex>,
    /// A pattern could not be built: nothing can be said to be free of these secrets.
    broken: bool,
}

impl KnownSecrets {
    pub(super) fn new(secrets: Vec<String>) -> KnownSecrets {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        // Longest first, so a secret that contains another is taken whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        let (long, short): (Vec<&String>, Vec<&String>) = secrets
            .iter()
            .partition(|s| s.chars().count() >= MIN_ANYWHERE);
        let cores: Vec<String> = secrets
            .iter()
            .filter(|s| s.len() >= MIN_BASE64_SOURCE)
            .flat_map(|s| base64_cores(s.as_bytes()))
            .collect();
        let mut broken = false;
        let mut build = |alternatives: Vec<String>| {
            if alternatives.is_empty() {
                return None;
            }
            let built = RegexBuilder::new(&alternatives.join("|"))
                .size_limit(PATTERN_SIZE_LIMIT)
                .dfa_size_limit(PATTERN_SIZE_LIMIT)
                .build();
            match built {
                Ok(regex) => Some(regex),
                Err(_) => {
                    broken = true;
                    None
                }
            }
        };
        let anywhere = build(long.iter().map(|s| text_forms(s)).collect());
        let alone = build(short.iter().map(|s| text_forms(s)).collect());
        let base64 = build(cores.iter().map(|c| regex::escape(c)).collect());
        KnownSecrets {
            anywhere,
            alone,
            base64,
            broken,
        }
    }

    /// Every place a known secret appears in `text`; `None` if the secrets could not be looked
    /// for.
    pub(super) fn find(&self, text: &str) -> Option<Vec<Finding>> {
        if self.broken {
            return None;
        }
        let mut findings = Vec::new();
        let mut push = |range: Range<usize>| {
            findings.push(Finding {
                range,
                kind: SecretKind::Known,
            })
        };
        if let Some(anywhere) = &self.anywhere {
            anywhere.find_iter(text).for_each(|m| push(m.range()));
        }
        if let Some(alone) = &self.alone {
            for m in alone.find_iter(text) {
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                if !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
                {
                    push(m.range());
                }
            }
        }
        if let Some(base64) = &self.base64 {
            for m in base64.find_iter(text) {
                push(enclosing_base64(text, m.range()));
            }
        }
        Some(findings)
    }
}

/// A pattern matching `secret` with each character as it is, percent-encoded (either case of
/// hex digits), or JSON-escaped; a space also as `+`.
fn text_forms(secret: &str) -> String {
    let mut pattern = String::new();
    for c in secret.chars() {
        let mut forms = vec![regex::escape(c.encode_utf8(&mut [0u8; 4]))];
        let percent: String = c
            .encode_utf8(&mut [0u8; 4])
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect();
        forms.push(format!("(?i:{percent})"));
        match c {
            ' ' => forms.push(r"\+".to_string()),
            '"' => forms.push(r#"\\""#.to_string()),
            '\\' => forms.push(r"\\\\".to_string()),
            '/' => forms.push(r"\\/".to_string()),
            _ => {}
        }
        if (c as u32) < 0x20 || c == '<' || c == '>' || c == '&' || c == '\'' {
            forms.push(format!(r"\\u(?i:{:04x})", c as u32));
        }
        pattern.push_str(&format!("(?:{})", forms.join("|")));
    }
    pattern
}

/// The base64 characters (standard and URL-safe alphabets) that depend only on `secret`'s bytes,
/// for each of the three alignments it can have inside a longer encoded text.
fn base64_cores(secret: &[u8]) -> Vec<String> {
    let mut cores = Vec::new();
    for offset in 0..3 {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(secret);
        // Character i holds bits 6i..6i+6; keep those wholly inside the secret's bits.
        let first = (8 * offset).div_ceil(6);
        let end = 8 * (offset + secret.len()) / 6;
        for encoded in [
            STANDARD_NO_PAD.encode(&bytes),
            URL_SAFE_NO_PAD.encode(&bytes),
        ] {
            if let Some(core) = encoded.get(first..end)
                && core.len() >= MIN_BASE64_CORE
                && !cores.iter().any(|c| c == core)
            {
                cores.push(core.to_string());
            }
        }
    }
    cores
}

/// The whole base64 token around a match (a `Basic` credential, a blob), so no character that
/// carries the secret's bits is left.
fn enclosing_base64(text: &str, found: Range<usize>) -> Range<usize> {
    let is_base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '_' | '-');
    let start = text[..found.start]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_base64(c))
        .last()
        .map_or(found.start, |(i, _)| i);
    let mut end = found.end
        + text[found.end..]
            .chars()
            .take_while(|&c| is_base64(c))
            .map(char::len_utf8)
            .sum::<usize>();
    end += text[end..].chars().take_while(|&c| c == '=').count();
    start..end
}

#[cfg(test)]
mod tests {
    use super::{KnownSecrets, base64_cores};
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    fn found(secrets: &[&str], text: &str) -> Vec<String> {
        KnownSecrets::new(secrets.iter().map(|s| s.to_string()).collect())
            .find(text)
            .unwrap()
            .into_iter()
            .map(|f| text[f.range].to_string())
            .collect()
    }

    #[test]
    fn a_secret_is_found_as_is_url_encoded_and_json_escaped() {
        let secret = "p@ss/w0rd \"x\"";
        assert_eq!(found(&[secret], &format!("pw={secret};")), [secret]);
        assert_eq!(
            found(&[secret], "u=p%40ss%2fw0rd+%22x%22&"),
            ["p%40ss%2fw0rd+%22x%22"]
        );
        assert_eq!(
            found(&[secret], r#"{"pw":"p@ss\/w0rd \"x\""}"#),
            [r#"p@ss\/w0rd \"x\""#]
        );
        assert!(found(&[secret], "p@ss/w0rd").is_empty());
    }

    #[test]
    fn a_secret_is_found_inside_base64_at_every_alignment() {
        let secret = "correct-horse-battery";
        for prefix in ["", "a", "ab", "abc"] {
            let blob = STANDARD.encode(format!("{prefix}user:{secret}:tail"));
            let text = format!("Authorization: Basic {blob} ok");
            assert_eq!(found(&[secret], &text), [blob.as_str()], "{prefix}");
        }
        assert_eq!(base64_cores(b"ab").len(), 0);
    }

    #[test]
    fn a_short_secret_is_found_only_standing_alone() {
        assert_eq!(found(&["pw1"], "password=pw1 pw12 apw1"), ["pw1"]);
    }

    #[test]
    fn empty_secrets_are_ignored() {
        assert!(found(&["", ""], "anything").is_empty());
    }
}
