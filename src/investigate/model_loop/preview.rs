//! What the model sees of a tool's result: the whole result when it fits the per-call budget,
//! else its head and tail with the size and how to search the rest (kept whole on disk, in the
//! investigation's folder). Nothing is cut silently.

/// Characters per token, roughly, for budgeting text we have not tokenised.
pub(crate) const CHARS_PER_TOKEN: usize = 4;

/// `text` within `budget_tokens`: whole, or head and tail around a note naming `evidence`,
/// the size and what was left out.
pub(crate) fn preview(text: &str, budget_tokens: u64, evidence: &str) -> String {
    let budget = (budget_tokens as usize).saturating_mul(CHARS_PER_TOKEN);
    if text.len() <= budget {
        return text.to_string();
    }
    let lines = text.lines().count();
    let head_budget = budget * 2 / 3;
    let tail_budget = budget / 4;
    let head = cut_back(text, head_budget);
    let tail = cut_front(text, tail_budget);
    let omitted = text.len() - head.len() - tail.len();
    format!(
        "{head}\n[… {omitted} of {} characters ({lines} lines) not shown; the whole result is kept as {evidence}: call search_result with evidence \"{evidence}\" and a pattern to read more of it …]\n{tail}",
        text.len()
    )
}

/// The longest head of `text` within `limit` bytes, ending at a line end when one is near.
fn cut_back(text: &str, limit: usize) -> &str {
    let mut end = limit.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match text[..end].rfind('\n') {
        Some(line_end) if line_end >= end / 2 => &text[..line_end],
        _ => &text[..end],
    }
}

/// The longest tail of `text` within `limit` bytes, starting at a line start when one is near.
fn cut_front(text: &str, limit: usize) -> &str {
    let mut start = text.len().saturating_sub(limit);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let tail = &text[start..];
    match tail.find('\n') {
        Some(line_start) if line_start <= tail.len() / 2 => &tail[line_start + 1..],
        _ => tail,
    }
}

/// The lines of `text` matching `pattern` (a regex, case-insensitive; a plain substring when it
/// is not a valid regex), numbered, at most `limit`.
pub(crate) fn search(text: &str, pattern: &str, limit: usize) -> String {
    let matcher = regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .ok();
    let needle = pattern.to_lowercase();
    let hits: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| match &matcher {
            Some(regex) => regex.is_match(line),
            None => line.to_lowercase().contains(&needle),
        })
        .take(limit + 1)
        .map(|(n, line)| format!("{}: {line}", n + 1))
        .collect();
    if hits.is_empty() {
        return format!("no line matches {pattern:?}");
    }
    let more = hits.len() > limit;
    let mut out = hits[..hits.len().min(limit)].join("\n");
    if more {
        out.push_str(&format!(
            "\n[more than {limit} lines match: narrow the pattern]"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_within_budget_is_whole() {
        assert_eq!(preview("short", 100, "E1"), "short");
    }

    #[test]
    fn a_large_result_keeps_head_and_tail_and_says_how_to_read_the_rest() {
        let text: String = (0..10_000).map(|n| format!("row {n}\n")).collect();
        let shown = preview(&text, 500, "E4");
        assert!(shown.len() < 500 * CHARS_PER_TOKEN + 400, "{}", shown.len());
        assert!(shown.starts_with("row 0\n"));
        assert!(shown.trim_end().ends_with("row 9999"));
        assert!(shown.contains("kept as E4"));
        assert!(shown.contains(&format!("of {} characters", text.len())));
    }

    #[test]
    fn multibyte_text_is_cut_on_character_boundaries() {
        let text = "é".repeat(5_000);
        let shown = preview(&text, 100, "E1");
        assert!(shown.contains("not shown"));
    }

    #[test]
    fn search_numbers_matching_lines_and_caps_them() {
        let text = "ok\nERROR one\nok\nerror two\n";
        assert_eq!(search(text, "error", 10), "2: ERROR one\n4: error two");
        assert!(search(text, "error", 1).contains("narrow the pattern"));
        assert_eq!(search(text, "(", 10), "no line matches \"(\"");
    }
}
