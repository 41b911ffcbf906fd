//! Level and timestamp recognition in plain text lines.

/// Only the start of a line is searched for a level word.
const LEVEL_SEARCH_BYTES: usize = 160;

/// No level token (`severity="emergency",` at most) is longer than this.
const LONGEST_LEVEL_TOKEN: usize = 24;

/// The first `LEVEL_SEARCH_BYTES` of `line`, cut on a char boundary.
fn head(line: &str) -> &str {
    let mut end = line.len().min(LEVEL_SEARCH_BYTES);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

/// Canonical name of a level word, or `None` when the word is not a level.
pub(crate) fn normalize_level(word: &str) -> Option<&'static str> {
    if !(3..=11).contains(&word.len()) {
        return None;
    }
    let mut lower = [0u8; 11];
    let lower = &mut lower[..word.len()];
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    let level = match &*lower {
        b"trace" | b"trc" => "TRACE",
        b"debug" | b"dbg" => "DEBUG",
        b"info" | b"inf" | b"information" => "INFO",
        b"notice" => "NOTICE",
        b"warn" | b"warning" | b"wrn" => "WARN",
        b"error" | b"err" | b"eror" => "ERROR",
        b"fatal" | b"crit" | b"critical" | b"alert" | b"emerg" | b"emergency" | b"panic" => "FATAL",
        _ => return None,
    };
    Some(level)
}

/// How many leading whitespace-separated tokens are searched for a level word.
const LEVEL_TOKENS: usize = 6;

/// Level of a plain line: a leading level word such as `ERROR`, `[warn]`, `<info>`,
/// `WARN:`, or `level=error`, within the first few tokens (after a timestamp, a pid...).
/// A bare word counts only in capitals, so prose like "error in foo" is not a level.
pub fn plain_level(line: &str) -> Option<String> {
    for token in head(line).split_ascii_whitespace().take(LEVEL_TOKENS) {
        if token.len() > LONGEST_LEVEL_TOKEN {
            continue;
        }
        if let Some((key, value)) = token.split_once('=') {
            let key = key.to_ascii_lowercase();
            if matches!(key.as_str(), "level" | "lvl" | "severity" | "loglevel") {
                let value = value.trim_matches(|c: char| c == '"' || c == '\'' || c == ',');
                return normalize_level(value).map(str::to_string);
            }
            continue;
        }
        let bracketed = (token.starts_with('[') && token.ends_with(']'))
            || (token.starts_with('<') && token.ends_with('>'));
        let word = token.trim_matches(|c: char| matches!(c, '[' | ']' | '<' | '>'));
        let (word, colon) = match word.strip_suffix(':') {
            Some(w) => (w, true),
            None => (word, false),
        };
        // Python style "ERROR:root:message".
        let word = word.split(':').next().unwrap_or(word);
        let capitals = !word.is_empty() && word.bytes().all(|b| b.is_ascii_uppercase());
        if (bracketed || colon || capitals)
            && let Some(level) = normalize_level(word)
        {
            return Some(level.to_string());
        }
    }
    None
}

/// Timestamp at the start of a plain line: ISO 8601 / RFC 3339 (`2024-05-01T12:00:00Z`,
/// `2024-05-01 12:00:00,123`), nginx error log style (`2024/05/01 12:00:00`), or the
/// bracketed time of a common/combined access log (`[01/May/2024:12:00:00 +0000]`).
pub(crate) fn plain_timestamp(line: &str) -> Option<String> {
    let b = line.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if b.len() >= 19
        && digits(&b[0..4])
        && (b[4] == b'-' || b[4] == b'/')
        && digits(&b[5..7])
        && b[7] == b[4]
        && digits(&b[8..10])
        && (b[10] == b'T' || b[10] == b' ')
        && digits(&b[11..13])
        && b[13] == b':'
    {
        let end = if b[10] == b' ' {
            // Date and time are two tokens: take the time token too.
            11 + b[11..]
                .iter()
                .position(|c| c.is_ascii_whitespace())
                .unwrap_or(b.len() - 11)
        } else {
            b.iter()
                .position(|c| c.is_ascii_whitespace())
                .unwrap_or(b.len())
        };
        return line.get(..end).map(str::to_string);
    }
    // Access log: the first bracketed group that looks like dd/Mon/yyyy:hh:mm:ss zone.
    let open = line.find('[')?;
    if open > 200 {
        return None;
    }
    let rest = &line[open + 1..];
    let close = rest.find(']')?;
    let inner = &rest[..close];
    let ib = inner.as_bytes();
    if ib.len() >= 20 && digits(&ib[0..2]) && ib[2] == b'/' && ib.get(6) == Some(&b'/') {
        return Some(inner.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(s: &str) -> Option<String> {
        plain_level(s)
    }

    #[test]
    fn level_words_in_common_layouts() {
        assert_eq!(level("ERROR something broke").as_deref(), Some("ERROR"));
        assert_eq!(
            level("2024-05-01T12:00:00Z WARN disk").as_deref(),
            Some("WARN")
        );
        assert_eq!(
            level("2024/05/01 12:00:00 [error] 12#0: *1 open() failed").as_deref(),
            Some("ERROR")
        );
        assert_eq!(level("ts=1 level=error msg=x").as_deref(), Some("ERROR"));
        assert_eq!(level("level=\"warning\" msg=x").as_deref(), Some("WARN"));
        assert_eq!(level("ERROR:root:boom").as_deref(), Some("ERROR"));
        assert_eq!(level("<crit> kernel").as_deref(), Some("FATAL"));
        assert_eq!(level("info: started").as_deref(), Some("INFO"));
    }

    #[test]
    fn prose_is_not_a_level() {
        assert_eq!(level("error in the user's request"), None);
        assert_eq!(level("GET /error HTTP/1.1 200"), None);
        assert_eq!(level(""), None);
        assert_eq!(level("a b c d e f g ERROR"), None);
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            plain_timestamp("2024-05-01T12:00:00.123Z INFO x").as_deref(),
            Some("2024-05-01T12:00:00.123Z")
        );
        assert_eq!(
            plain_timestamp("2024/05/01 12:00:00 [error] x").as_deref(),
            Some("2024/05/01 12:00:00")
        );
        assert_eq!(
            plain_timestamp(r#"1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200"#)
                .as_deref(),
            Some("01/May/2024:12:00:00 +0000")
        );
        assert_eq!(plain_timestamp("hello [x]"), None);
        assert_eq!(plain_timestamp("é2024-05-01T12"), None);
    }
}
