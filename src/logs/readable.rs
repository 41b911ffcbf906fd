//! A template as an operator reads it. Masking turns a whole token into `<*>` when nothing in it
//! is constant, punctuation included, so `(order ord_42)` mines as `(order <*>`: right for
//! grouping, odd to read. Next to an example line of the template, each wildcard gets back the
//! quotes, brackets and separators that wrapped its value: `(order <*>)`.

use super::mask::WILDCARD;

/// Punctuation that opens a wrapped value.
fn opens(c: char) -> bool {
    matches!(c, '(' | '[' | '{' | '"' | '\'')
}

/// Punctuation that closes a wrapped value or separates it from what follows.
fn closes(c: char) -> bool {
    matches!(c, ')' | ']' | '}' | '"' | '\'' | ',' | ';' | ':' | '.')
}

/// `template` with each wildcard wrapped as its value is in `example` (the last words of the
/// example's first line are lined up with the template's words). When the two do not line up,
/// word for word with every constant word equal, the template comes back as it is.
pub(crate) fn readable_template(template: &str, example: &str) -> String {
    let words: Vec<&str> = template.split_whitespace().collect();
    let line: Vec<&str> = example
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let Some(skip) = line.len().checked_sub(words.len()) else {
        return template.to_string();
    };
    let line = &line[skip..];
    let lined_up = words
        .iter()
        .zip(line)
        .all(|(word, seen)| word.contains(WILDCARD) || word == seen);
    if words.is_empty() || !lined_up {
        return template.to_string();
    }
    words
        .iter()
        .zip(line)
        .map(|(word, seen)| {
            if *word != WILDCARD {
                return word.to_string();
            }
            let lead: String = seen.chars().take_while(|c| opens(*c)).collect();
            let rest = &seen[lead.len()..];
            let trail_len: usize = rest
                .chars()
                .rev()
                .take_while(|c| closes(*c))
                .map(char::len_utf8)
                .sum();
            let trail = &rest[rest.len() - trail_len..];
            if rest.len() == trail_len {
                // The whole word is punctuation: nothing was a value.
                return word.to_string();
            }
            format!("{lead}{WILDCARD}{trail}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::readable_template;
    use proptest::prelude::*;

    /// A template word and a word of a line of it: a constant, or a wildcard and its value.
    fn word() -> impl Strategy<Value = (String, String)> {
        prop_oneof![
            "[a-z]{1,6}".prop_map(|w| (w.clone(), w)),
            (
                "[(\\[\"']{0,2}",
                "[a-z0-9\u{e9}/-]{1,8}",
                "[)\\]\"',;:.]{0,2}"
            )
                .prop_map(|(lead, value, trail)| (
                    "<*>".to_string(),
                    format!("{lead}{value}{trail}")
                )),
        ]
    }

    proptest! {
        #[test]
        fn a_line_of_the_template_gives_back_exactly_its_punctuation(
            words in proptest::collection::vec(word(), 1..10),
            prefix in "([0-9:TZ-]{1,20} )?",
        ) {
            let template = words.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(" ");
            let line = words.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join(" ");
            let readable = readable_template(&template, &format!("{prefix}{line}"));
            let expected: Vec<String> = words
                .iter()
                .map(|(t, l)| match t.as_str() {
                    "<*>" => {
                        let lead: String = l.chars().take_while(|c| "([\"'".contains(*c)).collect();
                        let trail: String = l.chars().rev().take_while(|c| ")]\"',;:.".contains(*c)).collect::<Vec<_>>().into_iter().rev().collect();
                        format!("{lead}<*>{trail}")
                    }
                    _ => t.clone(),
                })
                .collect();
            prop_assert_eq!(readable, expected.join(" "));
        }

        #[test]
        fn any_text_keeps_the_template_words_and_never_panics(
            template in "[ a-z<>*()\"',.:\u{e9}\u{ab}\u{bb}]{0,40}",
            example in "[ a-z0-9()\"',.:;\u{e9}\u{ab}\u{bb}\n]{0,60}",
        ) {
            let readable = readable_template(&template, &example);
            let words = template.split_whitespace().count();
            prop_assert!(readable == template || readable.split_whitespace().count() == words);
            // Only punctuation is ever added: the letters stay those of the template.
            let letters = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).collect::<String>();
            prop_assert_eq!(letters(&readable), letters(&template));
        }
    }

    #[test]
    fn wildcards_get_back_their_quotes_brackets_and_separators() {
        assert_eq!(
            readable_template(
                "ERROR invalid input syntax for type uuid: <*> (GET <*> customer <*>",
                "2026-11-25T16:21:00Z ERROR invalid input syntax for type uuid: \"a21x-16\" (GET /orders/a21x-16, customer <email>)"
            ),
            "ERROR invalid input syntax for type uuid: \"<*>\" (GET <*>, customer <*>)"
        );
        assert_eq!(
            readable_template(
                "ERROR payment gateway timeout after <*> (order <*>",
                "ERROR payment gateway timeout after 30s (order ord_42)\n  at gateway.rs"
            ),
            "ERROR payment gateway timeout after <*> (order <*>)"
        );
    }

    #[test]
    fn a_template_that_does_not_line_up_is_left_alone() {
        // A constant word differs: this example is not of this template.
        assert_eq!(
            readable_template("ERROR disk <*> full", "ERROR disk \"sda\" empty"),
            "ERROR disk <*> full"
        );
        // More words in the template than in the example (a folded stack trace's signature).
        assert_eq!(
            readable_template("ValueError parse <*> load <*>", "ValueError: bad"),
            "ValueError parse <*> load <*>"
        );
        assert_eq!(readable_template("", "anything"), "");
        // A wildcard over punctuation alone stays a bare wildcard.
        assert_eq!(
            readable_template("got <*> now", "got \"\" now"),
            "got <*> now"
        );
    }

    #[test]
    fn non_ascii_values_keep_their_wrapping() {
        assert_eq!(
            readable_template("user <*> left", "user «zoë», left"),
            "user <*>, left"
        );
        assert_eq!(
            readable_template("user <*> left", "user (zoë) left"),
            "user (<*>) left"
        );
    }
}
