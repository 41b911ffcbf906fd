//! The words of one timeline entry: a short verb for the section's kind, the row's details,
//! where it came from and with what ("Login from Berlin, Germany (203.0.113.7), Chrome 120 on
//! macOS"; "Payment ch_123 49.00 usd succeeded"; "Used: export report").

use crate::evidence::pack::SectionKind;

/// The longest a single detail value is shown, in characters; longer ones end in "…".
const DETAIL_CHARS: usize = 80;

/// What starts an entry of each kind, and what separates it from the details.
fn verb(kind: SectionKind, title: &str) -> (&str, &'static str) {
    match kind {
        SectionKind::Profile => ("Account", " "),
        SectionKind::Signup => ("Signed up", " "),
        SectionKind::Verification => ("Verified", " "),
        SectionKind::Logins => ("Login", " "),
        SectionKind::Usage => ("Used", ": "),
        SectionKind::Payments => ("Payment", " "),
        SectionKind::Refunds => ("Refund", " "),
        SectionKind::Terms => ("Accepted terms", " "),
        SectionKind::Other => (title, ": "),
    }
}

/// What one row says happened.
pub(crate) struct RowFacts<'a> {
    pub(crate) details: &'a [&'a str],
    /// "Berlin, Germany (203.0.113.7)".
    pub(crate) location: Option<&'a str>,
    /// "Chrome 120 on macOS".
    pub(crate) agent: Option<&'a str>,
}

pub(crate) fn entry_text(kind: SectionKind, title: &str, facts: &RowFacts<'_>) -> String {
    let (verb, separator) = verb(kind, title);
    let mut text = verb.to_owned();
    let mut details = facts
        .details
        .iter()
        .map(|detail| detail.trim())
        .filter(|detail| !detail.is_empty())
        .peekable();
    if details.peek().is_some() {
        text.push_str(separator);
        for (index, detail) in details.enumerate() {
            if index > 0 {
                text.push(' ');
            }
            push_shortened(&mut text, detail);
        }
    }
    if let Some(location) = facts.location {
        text.push_str(" from ");
        text.push_str(location);
    }
    if let Some(agent) = facts.agent {
        text.push_str(if facts.location.is_some() {
            ", "
        } else {
            " with "
        });
        text.push_str(agent);
    }
    text
}

fn push_shortened(text: &mut String, detail: &str) {
    match detail.char_indices().nth(DETAIL_CHARS) {
        Some((cut, _)) => {
            text.push_str(&detail[..cut]);
            text.push('…');
        }
        None => text.push_str(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(
        kind: SectionKind,
        details: &[&str],
        location: Option<&str>,
        agent: Option<&str>,
    ) -> String {
        entry_text(
            kind,
            "Support tickets",
            &RowFacts {
                details,
                location,
                agent,
            },
        )
    }

    #[test]
    fn each_kind_reads_as_a_sentence() {
        assert_eq!(
            text(
                SectionKind::Logins,
                &[],
                Some("Berlin, Germany (203.0.113.7)"),
                Some("Chrome 120 on macOS")
            ),
            "Login from Berlin, Germany (203.0.113.7), Chrome 120 on macOS"
        );
        assert_eq!(
            text(
                SectionKind::Payments,
                &["ch_123", "49.00", "usd", "succeeded"],
                None,
                None
            ),
            "Payment ch_123 49.00 usd succeeded"
        );
        assert_eq!(
            text(SectionKind::Usage, &["export", " ", "report"], None, None),
            "Used: export report"
        );
        assert_eq!(text(SectionKind::Usage, &[], None, None), "Used");
        assert_eq!(
            text(SectionKind::Other, &["opened"], None, Some("curl 8.5.0")),
            "Support tickets: opened with curl 8.5.0"
        );
    }

    #[test]
    fn long_details_are_shortened() {
        let long = "x".repeat(200);
        let shown = text(SectionKind::Usage, &[&long], None, None);
        assert_eq!(shown.chars().count(), "Used: ".len() + DETAIL_CHARS + 1);
        assert!(shown.ends_with('…'));
    }
}
