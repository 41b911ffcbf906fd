//! Card numbers: 13 to 19 digits, grouped by spaces or dashes or not at all, starting as the
//! card networks' numbers start (2 to 6), and passing the Luhn check, so order ids, timestamps
//! and counters are not taken for cards.

use super::{Finding, SecretKind};
use regex::Regex;
use std::ops::Range;
use std::sync::OnceLock;

const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;

fn digit_runs() -> Option<&'static Regex> {
    static RUNS: OnceLock<Option<Regex>> = OnceLock::new();
    RUNS.get_or_init(|| Regex::new(r"[0-9]+(?:[ -][0-9]+)*").ok())
        .as_ref()
}

/// Every card number in `text`; `None` if the pattern could not be built. In a run of digit
/// groups, any consecutive groups with one kind of separator may be the card
/// (`order 2024 4111 1111 1111 1111`).
pub(super) fn find(text: &str) -> Option<Vec<Finding>> {
    let runs = digit_runs()?;
    let mut findings = Vec::new();
    for run in runs.find_iter(text) {
        let before = text[..run.start()].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '.' || c == ',') {
            continue;
        }
        let groups = groups(run.as_str(), run.start());
        for first in 0..groups.len() {
            if let Some(range) = card_from(text, &groups[first..]) {
                findings.push(Finding {
                    range,
                    kind: SecretKind::CardNumber,
                });
            }
        }
    }
    Some(findings)
}

/// The digit groups of a run: their byte ranges in the text.
fn groups(run: &str, offset: usize) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let mut start = None;
    for (i, c) in run.char_indices() {
        match (c.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                groups.push(offset + s..offset + i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        groups.push(offset + s..offset + run.len());
    }
    groups
}

/// The longest card number made of the first groups of `groups`, if any.
fn card_from(text: &str, groups: &[Range<usize>]) -> Option<Range<usize>> {
    let first = groups.first()?;
    let mut digits = String::new();
    let mut separator = None;
    let mut best = None;
    for (i, group) in groups.iter().enumerate() {
        if i > 0 {
            let sep = text[groups[i - 1].end..group.start].chars().next();
            if separator.is_some_and(|s| Some(s) != sep) {
                break;
            }
            separator = sep;
        }
        digits.push_str(&text[group.clone()]);
        if digits.len() > MAX_DIGITS {
            break;
        }
        let after = text[group.end..].chars().next();
        let decimal = after == Some('.')
            && text[group.end + 1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit());
        let ends_word = !after.is_some_and(|c| c.is_alphanumeric()) && !decimal;
        if digits.len() >= MIN_DIGITS && ends_word && is_card_number(&digits) {
            best = Some(first.start..group.end);
        }
    }
    best
}

/// Whether the digits start as a card network's numbers do and pass the Luhn check.
pub(super) fn is_card_number(digits: &str) -> bool {
    matches!(digits.as_bytes().first(), Some(b'2'..=b'6')) && luhn(digits)
}

fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::{is_card_number, luhn};

    #[test]
    fn luhn_accepts_valid_numbers_and_refuses_one_digit_off() {
        assert!(luhn("4111111111111111"));
        assert!(luhn("79927398713"));
        assert!(!luhn("4111111111111112"));
        assert!(!luhn("79927398710"));
    }

    #[test]
    fn only_numbers_that_start_as_cards_do_are_cards() {
        assert!(is_card_number("5555555555554444"));
        assert!(is_card_number("378282246310005"));
        // Luhn-valid, but a millisecond timestamp.
        assert!(luhn("1764950400002"));
        assert!(!is_card_number("1764950400002"));
    }
}
