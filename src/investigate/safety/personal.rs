//! Personal data with stable placeholders inside one investigation: the same email is always
//! `<email-1>`, the next distinct one `<email-2>`, so the model can still correlate; IPv4 and
//! IPv6 addresses `<ip-1>`; and values of configured columns (names etc.) `<name-1>` /
//! `<{column}-1>`. Which classes are on is config (emails and IPs on by default).
//!
//! Loopback, unspecified and broadcast addresses (`127.0.0.1`, `::1`, `0.0.0.0`,
//! `255.255.255.255`) identify no one and are kept; every other address, private ranges too,
//! is replaced. Emails are compared without regard to case.

use regex::Regex;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::OnceLock;

const EMAIL: &str = "email";
const IP: &str = "ip";

/// Which personal data is replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PersonalDataPolicy {
    pub(crate) emails: bool,
    pub(crate) ips: bool,
    /// Columns whose every value is personal (`name`, `customers.phone`), matched without
    /// regard to case; a bare column name also matches it qualified by any table.
    pub(crate) columns: Vec<String>,
}

impl Default for PersonalDataPolicy {
    fn default() -> Self {
        PersonalDataPolicy {
            emails: true,
            ips: true,
            columns: Vec::new(),
        }
    }
}

struct Patterns {
    email: Regex,
    ipv4: Regex,
    ipv6: Regex,
}

fn patterns() -> Option<&'static Patterns> {
    static PATTERNS: OnceLock<Option<Patterns>> = OnceLock::new();
    PATTERNS
        .get_or_init(|| {
            Some(Patterns {
                email: Regex::new(
                    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}",
                )
                .ok()?,
                ipv4: Regex::new(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}").ok()?,
                ipv6: Regex::new(
                    r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}",
                )
                .ok()?,
            })
        })
        .as_ref()
}

/// A column the policy names: its table if given, its name, and the class of its placeholders.
struct Column {
    table: Option<String>,
    name: String,
    class: String,
}

impl Column {
    fn parse(configured: &str) -> Option<Column> {
        let (table, name) = split_qualified(configured);
        if name.is_empty() {
            return None;
        }
        let class: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        Some(Column { table, name, class })
    }

    fn matches(&self, column: &str) -> bool {
        let (table, name) = split_qualified(column);
        name == self.name
            && match &self.table {
                None => true,
                Some(wanted) => table.as_deref() == Some(wanted.as_str()),
            }
    }
}

/// `"Customers"."Name"` -> (Some("customers"), "name"): lower case, quotes removed.
fn split_qualified(column: &str) -> (Option<String>, String) {
    let clean = |part: &str| {
        part.trim()
            .trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'))
            .to_lowercase()
    };
    match column.rsplit_once('.') {
        Some((table, name)) => {
            let table = table.rsplit('.').next().map(clean);
            (table, clean(name))
        }
        None => (None, clean(column)),
    }
}

/// Replaces personal data with placeholders that stay the same for the same value.
pub(crate) struct Pseudonymizer {
    policy: PersonalDataPolicy,
    columns: Vec<Column>,
    /// (class, value as compared) -> placeholder.
    placeholders: HashMap<(String, String), String>,
    /// placeholder -> the value as first seen.
    originals: HashMap<String, String>,
    /// How many distinct values each class has.
    distinct: HashMap<String, usize>,
    /// How many replacements each class had.
    replaced: BTreeMap<String, usize>,
}

impl Pseudonymizer {
    pub(crate) fn new(policy: PersonalDataPolicy) -> Self {
        let columns = policy
            .columns
            .iter()
            .filter_map(|c| Column::parse(c))
            .collect();
        Pseudonymizer {
            policy,
            columns,
            placeholders: HashMap::new(),
            originals: HashMap::new(),
            distinct: HashMap::new(),
            replaced: BTreeMap::new(),
        }
    }

    /// Emails and IP addresses in free text (as the policy says) replaced by placeholders. If
    /// the patterns could not be built, the text is withheld.
    pub(crate) fn text(&mut self, text: &str) -> String {
        if !self.policy.emails && !self.policy.ips {
            return text.to_string();
        }
        let Some(patterns) = patterns() else {
            return "[personal data withheld]".to_string();
        };
        let mut found: Vec<(Range<usize>, &'static str, String)> = Vec::new();
        if self.policy.emails {
            for m in patterns.email.find_iter(text) {
                found.push((m.range(), EMAIL, m.as_str().to_lowercase()));
            }
        }
        if self.policy.ips {
            found.extend(ipv4s(patterns, text));
            found.extend(ipv6s(patterns, text));
        }
        found.sort_by_key(|(range, _, _)| (range.start, std::cmp::Reverse(range.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (range, class, key) in found {
            if range.start < at {
                continue;
            }
            out.push_str(&text[at..range.start]);
            let placeholder = self.placeholder(class, key, &text[range.clone()]);
            out.push_str(&placeholder);
            at = range.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// A cell of a result row: if `column` is configured (case-insensitive, also matches
    /// `table.column`), the whole value is pseudonymized; otherwise text() applies.
    pub(crate) fn cell(&mut self, column: &str, value: &str) -> String {
        let class = self
            .columns
            .iter()
            .find(|c| c.matches(column))
            .map(|c| c.class.clone());
        match class {
            Some(class) => {
                let trimmed = value.trim();
                if trimmed.is_empty() || self.originals.contains_key(trimmed) {
                    return value.to_string();
                }
                self.placeholder(&class, trimmed.to_string(), trimmed)
            }
            None => self.text(value),
        }
    }

    /// The real value behind a placeholder, for showing the operator the report locally (never
    /// sent out).
    pub(crate) fn reveal(&self, placeholder: &str) -> Option<&str> {
        self.originals.get(placeholder).map(String::as_str)
    }

    /// How many values of each class were replaced (`email`, `ip`, a column's class).
    pub(crate) fn replaced(&self) -> &BTreeMap<String, usize> {
        &self.replaced
    }

    fn placeholder(&mut self, class: &str, key: String, original: &str) -> String {
        *self.replaced.entry(class.to_string()).or_default() += 1;
        let entry = (class.to_string(), key);
        if let Some(existing) = self.placeholders.get(&entry) {
            return existing.clone();
        }
        let next = self.distinct.entry(class.to_string()).or_default();
        *next += 1;
        let placeholder = format!("<{class}-{next}>");
        self.placeholders.insert(entry, placeholder.clone());
        self.originals
            .insert(placeholder.clone(), original.to_string());
        placeholder
    }
}

/// IPv4 addresses standing alone (not part of a version `1.2.3.4.5` or a word `v1.2.3.4`).
fn ipv4s(patterns: &Patterns, text: &str) -> Vec<(Range<usize>, &'static str, String)> {
    let mut found = Vec::new();
    for m in patterns.ipv4.find_iter(text) {
        let before = text[..m.start()].chars().next_back();
        let mut after = text[m.end()..].chars();
        let next = after.next();
        let glued = before.is_some_and(|c| c.is_alphanumeric() || c == '.')
            || next.is_some_and(|c| c.is_alphanumeric())
            || (next == Some('.') && after.next().is_some_and(|c| c.is_ascii_digit()));
        if glued {
            continue;
        }
        if let Ok(ip) = m.as_str().parse::<Ipv4Addr>()
            && identifies(IpAddr::V4(ip))
        {
            found.push((m.range(), IP, ip.to_string()));
        }
    }
    found
}

/// IPv6 addresses standing alone, with at least three hex digits (so `std::io`, `a::b` and
/// clock times are not addresses).
fn ipv6s(patterns: &Patterns, text: &str) -> Vec<(Range<usize>, &'static str, String)> {
    let mut found = Vec::new();
    for m in patterns.ipv6.find_iter(text) {
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        let glued = before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            || after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
        let digits = m.as_str().chars().filter(char::is_ascii_hexdigit).count();
        if glued || digits < 3 {
            continue;
        }
        if let Ok(ip) = m.as_str().parse::<Ipv6Addr>()
            && identifies(IpAddr::V6(ip))
        {
            found.push((m.range(), IP, ip.to_string()));
        }
    }
    found
}

/// Whether an address can point at someone: not loopback, unspecified or broadcast.
fn identifies(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_loopback() || v4.is_unspecified() || v4.is_broadcast()),
        IpAddr::V6(v6) => !(v6.is_loopback() || v6.is_unspecified()),
    }
}

/// `<class-N>`, a placeholder of this module's form.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let Some(inner) = value.strip_prefix('<').and_then(|v| v.strip_suffix('>')) else {
        return false;
    };
    let Some((class, number)) = inner.rsplit_once('-') else {
        return false;
    };
    !class.is_empty()
        && class
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests;
