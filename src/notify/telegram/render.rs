//! Pages as Telegram shows them: a severity mark and the title in bold, the watch and time,
//! a few lines of facts; every piece of text escaped for HTML parse mode, and texts longer than
//! Telegram's 4096-character limit split on line boundaries.

use crate::alert::notice::{Notice, NoticeKind};
use crate::config::Severity;

/// Telegram's limit on one message's text.
pub(crate) const MAX_MESSAGE: usize = 4096;

/// At most this many facts on a page (the rest are counted).
const MAX_FACTS: usize = 5;

/// A single fact longer than this is cut (a page is read on a lock screen).
const MAX_FACT_CHARS: usize = 1000;

/// Escapes text for Telegram's HTML parse mode: `&`, `<` and `>` (quotes need no escaping
/// outside attributes, and Sentinel writes no attributes).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

fn mark(notice: &Notice) -> &'static str {
    match (notice.kind, notice.severity) {
        (NoticeKind::Resolved, _) => "✅",
        (_, Severity::Critical) => "🔴",
        (_, Severity::Warning) => "🟠",
        (_, Severity::Info) => "🔵",
    }
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Collapses line breaks so one fact stays one line.
fn one_line(text: &str) -> String {
    text.split(['\n', '\r']).collect::<Vec<_>>().join(" ⏎ ")
}

/// The page for a firing or reminder notice, as Telegram HTML. Every line is complete HTML on
/// its own (tags never span lines), so splitting on lines keeps every part valid.
pub(crate) fn page(notice: &Notice) -> String {
    let reminder = if notice.kind == NoticeKind::Reminder {
        " (still firing)"
    } else {
        ""
    };
    let mut lines = vec![
        format!(
            "{} <b>{}</b>{reminder}",
            mark(notice),
            escape(&one_line(&notice.title))
        ),
        format!(
            "<i>{} · {}</i>",
            escape(&notice.watch),
            notice.at.format("%a %d %b %H:%M UTC")
        ),
    ];
    for fact in notice.facts.iter().take(MAX_FACTS) {
        lines.push(escape(&cut(&one_line(fact), MAX_FACT_CHARS)));
    }
    if notice.facts.len() > MAX_FACTS {
        lines.push(format!("and {} more", notice.facts.len() - MAX_FACTS));
    }
    lines.join("\n")
}

/// What a page becomes once its alert resolved: marked resolved, with how long it lasted.
pub(crate) fn resolved(notice: &Notice) -> String {
    let title = notice
        .title
        .strip_prefix("Resolved: ")
        .unwrap_or(&notice.title);
    let lasted = notice
        .lasted_seconds
        .map(|s| format!(" after {}", crate::humanize::duration_secs(s)))
        .unwrap_or_default();
    format!(
        "✅ <b>Resolved</b>{lasted}: {}\n<i>{} · {}</i>",
        escape(&one_line(title)),
        escape(&notice.watch),
        notice.at.format("%a %d %b %H:%M UTC")
    )
}

/// Length as Telegram counts it (UTF-16 code units; entities count as their characters, so
/// counting the escaped text is an upper bound).
fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Splits HTML text into messages of at most `max` UTF-16 units, on line boundaries. A single
/// line longer than `max` is cut between characters, never inside an `&...;` entity or a tag.
pub(crate) fn split(text: &str, max: usize) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.split('\n') {
        let pieces = if units(line) > max {
            split_line(line, max)
        } else {
            vec![line.to_string()]
        };
        for piece in pieces {
            current = Some(match current.take() {
                None => piece,
                Some(so_far) if units(&so_far) + 1 + units(&piece) > max => {
                    parts.push(so_far);
                    piece
                }
                Some(mut so_far) => {
                    so_far.push('\n');
                    so_far.push_str(&piece);
                    so_far
                }
            });
        }
    }
    parts.extend(current);
    parts
}

/// Cuts one long line into pieces of at most `max` units, only where no entity or tag is open.
fn split_line(line: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut current_units = 0;
    let mut safe_end = 0; // byte length of `current` up to the last safe cut
    let mut open = false; // inside `&...;` or `<...>`
    for c in line.chars() {
        let width = c.len_utf16();
        if current_units + width > max && safe_end > 0 {
            let rest = current.split_off(safe_end);
            pieces.push(std::mem::take(&mut current));
            current = rest;
            current_units = units(&current);
            safe_end = if open { 0 } else { current.len() };
        }
        current.push(c);
        current_units += width;
        match c {
            '&' | '<' => open = true,
            ';' | '>' => open = false,
            _ => {}
        }
        if !open {
            safe_end = current.len();
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::notice::NoticeState;
    use chrono::DateTime;
    use proptest::prelude::*;

    fn notice(title: &str, facts: Vec<String>) -> Notice {
        Notice {
            key: "backup/firing/#1".into(),
            kind: NoticeKind::Firing,
            watch: "nightly-backup".into(),
            subject: String::new(),
            state: NoticeState::Firing,
            severity: Severity::Critical,
            title: title.into(),
            facts,
            subjects: vec![],
            at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            lasted_seconds: None,
            resolves: None,
        }
    }

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape("<script>alert(1)</script> & _*[`"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; _*[`"
        );
        assert_eq!(
            escape("&amp;"),
            "&amp;amp;",
            "already-escaped text shows literally"
        );
    }

    #[test]
    fn hostile_log_lines_render_literally_on_a_page() {
        let text = page(&notice(
            "Backup <b>failed</b> & more",
            vec!["log: <script>x</script> a_b*c[d] </code><pre>".into()],
        ));
        assert!(
            text.starts_with("🔴 <b>Backup &lt;b&gt;failed&lt;/b&gt; &amp; more</b>"),
            "{text}"
        );
        assert!(
            text.contains("log: &lt;script&gt;x&lt;/script&gt; a_b*c[d] &lt;/code&gt;&lt;pre&gt;"),
            "{text}"
        );
        // The only tags are Sentinel's own.
        let tags: Vec<&str> = text
            .match_indices('<')
            .map(|(i, _)| &text[i..i + 3])
            .collect();
        assert!(
            tags.iter()
                .all(|t| ["<b>", "</b", "<i>", "</i"].contains(t)),
            "{tags:?}"
        );
    }

    #[test]
    fn a_page_is_short_mark_title_origin_and_a_few_facts() {
        let facts: Vec<String> = (1..=8).map(|i| format!("fact {i}")).collect();
        let text = page(&notice("Nightly backup didn't run", facts));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "🔴 <b>Nightly backup didn't run</b>");
        assert_eq!(lines[1], "<i>nightly-backup · Fri 15 Jan 08:00 UTC</i>");
        assert_eq!(lines.len(), 2 + 5 + 1);
        assert_eq!(lines[7], "and 3 more");
    }

    #[test]
    fn resolved_pages_say_how_long_it_lasted() {
        let mut n = notice("Resolved: Disk <full>", vec![]);
        n.kind = NoticeKind::Resolved;
        n.lasted_seconds = Some(3900);
        let text = resolved(&n);
        assert!(
            text.starts_with("✅ <b>Resolved</b> after 1h 5m: Disk &lt;full&gt;"),
            "{text}"
        );
    }

    #[test]
    fn short_text_is_one_message_blank_lines_and_all() {
        assert_eq!(split("a\n\nb", MAX_MESSAGE), vec!["a\n\nb".to_string()]);
    }

    #[test]
    fn long_text_splits_on_line_boundaries() {
        let line = "x".repeat(1000);
        let text = vec![line.clone(); 9].join("\n");
        let parts = split(&text, MAX_MESSAGE);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| units(p) <= MAX_MESSAGE));
        assert_eq!(parts[0], vec![line.clone(); 4].join("\n"));
        assert_eq!(parts.join("\n"), text);
    }

    #[test]
    fn an_over_long_line_is_never_cut_inside_an_entity() {
        let text = "&amp;".repeat(1000); // 5000 units
        let parts = split(&text, MAX_MESSAGE);
        assert_eq!(parts.len(), 2);
        for part in &parts {
            assert!(units(part) <= MAX_MESSAGE);
            assert!(
                part.starts_with("&amp;") && part.ends_with("&amp;"),
                "{part:.20}"
            );
        }
        assert_eq!(parts.concat(), text);
    }

    proptest! {
        #[test]
        fn splitting_loses_nothing_and_respects_the_limit(
            raw in "[a-z<>&\n é🔴]{0,300}",
            max in 8usize..60,
        ) {
            let text = escape(&raw);
            let parts = split(&text, max);
            for part in &parts {
                prop_assert!(units(part) <= max, "{part:?}");
                // No part ends inside an entity.
                let tail = part.rsplit('&').next().unwrap_or("");
                prop_assert!(!part.contains('&') || tail.contains(';'), "{part:?}");
            }
            // Joining the parts with what separated them gives the text back.
            let rejoined: String = parts.concat();
            prop_assert_eq!(rejoined.replace('\n', ""), text.replace('\n', ""));
        }
    }
}
