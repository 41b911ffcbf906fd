//! The one gate every text passes before it leaves the box: hidden characters out, secrets
//! always, then personal data per policy, then (for tool results) the envelope. Keeps counts of
//! what was redacted for the audit/report footer.

use super::envelope::Envelope;
use super::personal::{PersonalDataPolicy, Pseudonymizer};
use super::secrets::{SecretKind, SecretScanner};
use std::collections::BTreeMap;
use std::fmt;

pub(crate) struct Outbound {
    secrets: SecretScanner,
    personal: Pseudonymizer,
    envelope: Envelope,
    secrets_found: BTreeMap<SecretKind, usize>,
}

impl Outbound {
    pub(crate) fn new(
        known_secrets: Vec<String>,
        policy: PersonalDataPolicy,
    ) -> Result<Self, String> {
        Ok(Outbound {
            secrets: SecretScanner::new(known_secrets),
            personal: Pseudonymizer::new(policy),
            envelope: Envelope::new()?,
            secrets_found: BTreeMap::new(),
        })
    }

    /// A tool's result, redacted and wrapped as untrusted data.
    pub(crate) fn tool_result(&mut self, tool: &str, call_id: &str, data: &str) -> String {
        let clean = self.redact(data);
        self.envelope.wrap(tool, call_id, &clean)
    }

    /// One cell of a result row, before the rows are put together for
    /// [`tool_result`](Self::tool_result): secrets redacted, and the whole value replaced if the
    /// policy names its column. Values already replaced are not replaced again.
    pub(crate) fn cell(&mut self, column: &str, value: &str) -> String {
        let redacted = self.secrets.redact(value);
        self.count(&redacted.found);
        self.personal.cell(column, &redacted.text)
    }

    /// The real value behind a placeholder, for the operator's local report only.
    pub(crate) fn reveal(&self, placeholder: &str) -> Option<&str> {
        self.personal.reveal(placeholder)
    }

    /// The system prompt's rule about the envelope's markers.
    pub(crate) fn system_rule(&self) -> String {
        self.envelope.system_rule()
    }

    /// Counts per kind of what was redacted so far.
    pub(crate) fn summary(&self) -> RedactionSummary {
        RedactionSummary {
            secrets: self.secrets_found.clone(),
            personal: self.personal.replaced().clone(),
        }
    }

    fn redact(&mut self, text: &str) -> String {
        let redacted = self.secrets.redact(text);
        self.count(&redacted.found);
        self.personal.text(&redacted.text)
    }

    fn count(&mut self, found: &[(SecretKind, usize)]) {
        for &(kind, n) in found {
            *self.secrets_found.entry(kind).or_default() += n;
        }
    }
}

/// What was redacted in one investigation: secrets per kind, personal values per class
/// (`email`, `ip`, a column's class). Displayed like "3 secrets, 2 emails redacted".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RedactionSummary {
    pub(crate) secrets: BTreeMap<SecretKind, usize>,
    pub(crate) personal: BTreeMap<String, usize>,
}

impl RedactionSummary {
    pub(crate) fn secret_count(&self) -> usize {
        self.secrets.values().sum()
    }
}

impl fmt::Display for RedactionSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let secrets = self.secret_count();
        if secrets > 0 {
            parts.push(counted(secrets, "secret", "secrets"));
        }
        let mut personal: Vec<(&String, &usize)> =
            self.personal.iter().filter(|(_, n)| **n > 0).collect();
        // Emails and addresses first, then the configured columns by name.
        personal.sort_by_key(|(class, _)| match class.as_str() {
            "email" => (0, class.as_str()),
            "ip" => (1, class.as_str()),
            other => (2, other),
        });
        for (class, &n) in personal {
            parts.push(match class.as_str() {
                "email" => counted(n, "email", "emails"),
                "ip" => counted(n, "IP address", "IP addresses"),
                other => counted(n, &format!("{other} value"), &format!("{other} values")),
            });
        }
        if parts.is_empty() {
            f.write_str("nothing redacted")
        } else {
            write!(f, "{} redacted", parts.join(", "))
        }
    }
}

fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests;
