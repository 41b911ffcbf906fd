//! Fitting text into widths: greedy word wrapping, breaking words too long for a line, and
//! cutting with "…". Pure: widths come from a [`Measure`].

/// How wide text is set, in points.
pub(super) trait Measure {
    fn char_width(&self, character: char) -> f32;

    fn width(&self, text: &str) -> f32 {
        text.chars()
            .map(|character| self.char_width(character))
            .sum()
    }
}

const ELLIPSIS: char = '…';

/// Control characters (tabs, newlines, escapes) as spaces: a table cell is one paragraph.
pub(super) fn one_line(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_control() {
                ' '
            } else {
                character
            }
        })
        .collect()
}

/// Wraps `text` into lines no wider than `width`; each `\n` starts a new line. Words wider
/// than a line are broken between characters. Empty text gives no line.
pub(super) fn wrap(text: &str, width: f32, measure: &dyn Measure) -> Vec<String> {
    wrap_until(text, width, usize::MAX, measure)
}

/// [`wrap`], stopping once `enough` lines are made, so a huge text costs no more than the
/// lines shown.
fn wrap_until(text: &str, width: f32, enough: usize, measure: &dyn Measure) -> Vec<String> {
    let space = measure.char_width(' ');
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        if lines.len() >= enough {
            break;
        }
        let mut line = String::new();
        let mut line_width = 0.0;
        for word in paragraph.split_whitespace() {
            if lines.len() >= enough {
                break;
            }
            let word_width = measure.width(word);
            let gap = if line.is_empty() { 0.0 } else { space };
            if line_width + gap + word_width <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_width += gap + word_width;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            if word_width <= width {
                line.push_str(word);
                line_width = word_width;
                continue;
            }
            for character in word.chars() {
                let character_width = measure.char_width(character);
                if line_width + character_width > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                    if lines.len() >= enough {
                        break;
                    }
                }
                line.push(character);
                line_width += character_width;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// [`wrap`], keeping at most `max_lines` lines; when text is left over, the last line kept
/// ends in "…".
pub(super) fn wrap_at_most(
    text: &str,
    width: f32,
    max_lines: usize,
    measure: &dyn Measure,
) -> Vec<String> {
    let mut lines = wrap_until(text, width, max_lines.saturating_add(1), measure);
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            *last = cut(&format!("{last}{ELLIPSIS}"), width, measure);
            if !last.ends_with(ELLIPSIS) {
                last.push(ELLIPSIS);
            }
        }
    }
    lines
}

/// `text` unchanged when it fits `width`, else as many leading characters as fit with "…"
/// after them.
pub(super) fn cut(text: &str, width: f32, measure: &dyn Measure) -> String {
    if measure.width(text) <= width {
        return text.to_owned();
    }
    let budget = width - measure.char_width(ELLIPSIS);
    let mut kept = String::new();
    let mut kept_width = 0.0;
    for character in text.chars() {
        let character_width = measure.char_width(character);
        if kept_width + character_width > budget {
            break;
        }
        kept.push(character);
        kept_width += character_width;
    }
    let mut kept = kept.trim_end().to_owned();
    kept.push(ELLIPSIS);
    kept
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Every character one point wide.
    pub(in super::super) struct Monospace;

    impl Measure for Monospace {
        fn char_width(&self, _: char) -> f32 {
            1.0
        }
    }

    #[test]
    fn words_wrap_greedily_within_the_width() {
        let lines = wrap("the quick brown fox jumps over", 10.0, &Monospace);
        assert_eq!(lines, ["the quick", "brown fox", "jumps over"]);
        assert!(lines.iter().all(|line| line.chars().count() <= 10));
    }

    #[test]
    fn newlines_start_lines_and_blank_text_gives_none() {
        assert_eq!(
            wrap("select *\nfrom t", 40.0, &Monospace),
            ["select *", "from t"]
        );
        assert!(wrap("   ", 10.0, &Monospace).is_empty());
    }

    #[test]
    fn a_word_wider_than_the_line_is_broken() {
        let lines = wrap("ab 0123456789abcdef", 6.0, &Monospace);
        assert_eq!(lines, ["ab", "012345", "6789ab", "cdef"]);
    }

    #[test]
    fn cutting_keeps_what_fits_and_marks_the_cut() {
        assert_eq!(cut("short", 10.0, &Monospace), "short");
        let cut_text = cut("Zoë Ångström, Stockholm", 8.0, &Monospace);
        assert_eq!(cut_text, "Zoë Ång…");
        assert!(Monospace.width(&cut_text) <= 8.0);
    }

    #[test]
    fn at_most_n_lines_end_in_an_ellipsis_when_text_is_left() {
        let lines = wrap_at_most("aaa bbb ccc ddd", 7.0, 1, &Monospace);
        assert_eq!(lines, ["aaa bb…"]);
        assert_eq!(wrap_at_most("aaa bbb", 7.0, 1, &Monospace), ["aaa bbb"]);
    }

    #[test]
    fn a_huge_cell_is_cut_without_wrapping_all_of_it() {
        let huge = "word ".repeat(1_000_000);
        let lines = wrap_at_most(&huge, 20.0, 3, &Monospace);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].ends_with('…'), "{lines:?}");
        let one_word = "x".repeat(1_000_000);
        assert_eq!(wrap_at_most(&one_word, 20.0, 2, &Monospace).len(), 2);
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(one_line("a\tb\nc\u{1b}d"), "a b c d");
    }
}
