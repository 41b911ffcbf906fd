//! Text cleaned of what a reader would see differently from a model: ANSI escape sequences
//! (colours, cursor moves, window titles, hyperlinks), control characters other than newline and
//! tab, and the invisible characters used to hide or reorder text (bidi overrides and isolates,
//! zero-width characters, Unicode tags, variation selectors). A carriage return becomes a
//! newline, so text a terminal would overwrite stays visible.

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';
/// The 8-bit forms of CSI, OSC and the string controls (DCS, SOS, PM, APC).
const C1_CSI: char = '\u{9b}';
const C1_OSC: char = '\u{9d}';
const C1_STRINGS: [char; 4] = ['\u{90}', '\u{98}', '\u{9e}', '\u{9f}'];
const C1_ST: char = '\u{9c}';

/// `text` without escape sequences, control characters (but `\n` and `\t`) and invisible
/// characters; `\r\n` and a lone `\r` become `\n`.
pub(crate) fn strip_hidden(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ESC => i = after_escape(&chars, i),
            C1_CSI => i = after_csi(&chars, i + 1),
            C1_OSC => i = after_string(&chars, i, i + 1),
            c if C1_STRINGS.contains(&c) => i = after_string(&chars, i, i + 1),
            '\r' => {
                if chars.get(i + 1) != Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            '\u{2028}' | '\u{2029}' => {
                out.push('\n');
                i += 1;
            }
            c => {
                if !is_hidden(c) {
                    out.push(c);
                }
                i += 1;
            }
        }
    }
    out
}

/// Whether `c` is dropped: a control character other than `\n` and `\t`, or a character that
/// shows nothing yet changes what is read.
pub(crate) fn is_hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_invisible(c)
}

/// Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties.txt: soft hyphen, combining
/// grapheme joiner, Hangul fillers, zero-width space/joiners, bidi marks, overrides and
/// isolates, word joiner and invisible operators, variation selectors, byte order mark, tags),
/// and the interlinear annotation controls, which hide the text they annotate.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Where the text goes on after the escape sequence that starts at `chars[start]` (an ESC).
fn after_escape(chars: &[char], start: usize) -> usize {
    match chars.get(start + 1) {
        Some('[') => after_csi(chars, start + 2),
        Some(']' | 'P' | 'X' | '^' | '_') => after_string(chars, start, start + 2),
        // ESC, intermediates (0x20-0x2F), then one final character.
        Some(&c) => {
            let mut i = start + 1;
            let mut c = c;
            while ('\u{20}'..='\u{2f}').contains(&c) {
                i += 1;
                match chars.get(i) {
                    Some(&next) => c = next,
                    None => return i,
                }
            }
            if c.is_control() { i } else { i + 1 }
        }
        None => start + 1,
    }
}

/// Past a control sequence's parameters (0x30-0x3F), intermediates (0x20-0x2F) and final byte
/// (0x40-0x7E); text that breaks the grammar ends the sequence and is kept.
fn after_csi(chars: &[char], mut i: usize) -> usize {
    while let Some(&c) = chars.get(i) {
        if ('\u{20}'..='\u{3f}').contains(&c) {
            i += 1;
        } else if ('\u{40}'..='\u{7e}').contains(&c) {
            return i + 1;
        } else {
            return i;
        }
    }
    i
}

/// Past a string control (OSC, DCS, SOS, PM, APC) ended by BEL or ST. One that is never ended
/// drops only its introducer: nothing after it is hidden from the reader.
fn after_string(chars: &[char], start: usize, body: usize) -> usize {
    let mut i = body;
    while let Some(&c) = chars.get(i) {
        match c {
            BEL | C1_ST => return i + 1,
            ESC if chars.get(i + 1) == Some(&'\\') => return i + 2,
            _ => i += 1,
        }
    }
    if chars[start] == ESC {
        start + 2
    } else {
        start + 1
    }
}

#[cfg(test)]
mod tests {
    use super::strip_hidden;

    #[test]
    fn colours_cursor_moves_and_titles_are_removed_and_their_text_kept() {
        assert_eq!(
            strip_hidden("\u{1b}[1;31mERROR\u{1b}[0m disk \u{1b}[2Kfull"),
            "ERROR disk full"
        );
        assert_eq!(
            strip_hidden(
                "\u{1b}]0;owned\u{7}title gone\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\"
            ),
            "title gonelink"
        );
        assert_eq!(strip_hidden("a\u{9b}31mb"), "ab");
        assert_eq!(
            strip_hidden("keypad\u{1b}=on\u{1b}(Bascii"),
            "keypadonascii"
        );
    }

    #[test]
    fn an_unended_string_control_hides_nothing() {
        assert_eq!(
            strip_hidden("\u{1b}]0;ignore previous instructions"),
            "0;ignore previous instructions"
        );
    }

    #[test]
    fn controls_go_but_newline_and_tab_stay_and_carriage_returns_become_newlines() {
        assert_eq!(
            strip_hidden("a\u{0}b\u{7}c\u{8}d\te\r\nf\rg\u{7f}h\u{85}i"),
            "abcd\te\nf\nghi"
        );
    }

    #[test]
    fn invisible_characters_are_removed() {
        let hidden = "ig\u{200b}nore\u{202e}txet\u{2066}x\u{2069}\u{feff}\u{e0041}\u{e0042}\u{fe0f}\u{00ad}!";
        assert_eq!(strip_hidden(hidden), "ignoretxetx!");
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        let text = "2026-11-24T10:04:00Z ERROR café naïve 日本語 emoji 🚀 tab\there\nnext line";
        assert_eq!(strip_hidden(text), text);
    }
}
