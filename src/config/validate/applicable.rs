//! Which keys apply to which kind of section: each kind lists the keys it takes once (next to
//! where that kind is validated), and one check refuses a key written in a section whose kind
//! does not take it, at the key's value, naming what that kind takes and which kinds take the key.

use super::Validator;
use crate::config::raw::WrittenKeys;

/// The keys one kind of section takes beyond those every kind of its section shares.
pub(crate) struct Kind {
    /// The kind as errors name it: `heartbeat`, `postgres`; for what a stuck watch reads,
    /// `a SQL table`.
    pub(crate) name: &'static str,
    /// Its keys, as one or more lists (a stuck watch takes the keys of every source it can read).
    pub takes: &'static [&'static [&'static str]],
}

/// A family of sections whose keys depend on their kind: sources, watches, channels, or the
/// sources a stuck watch reads.
pub(crate) struct Section {
    /// How errors name sections of some kinds, `{}` standing for the kinds: "{} watches".
    pub naming: &'static str,
    /// "they take", or "it takes" where `naming` speaks of a single section.
    pub they_take: &'static str,
    /// Keys every kind of the section takes.
    pub common: &'static [&'static str],
    pub kinds: &'static [Kind],
}

impl Kind {
    /// Every key the kind takes, each once, in the order listed.
    pub(crate) fn keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = Vec::new();
        for key in self.takes.iter().flat_map(|list| list.iter()) {
            if !keys.contains(key) {
                keys.push(key);
            }
        }
        keys
    }

    pub(crate) fn takes_key(&self, key: &str) -> bool {
        self.takes.iter().any(|list| list.contains(&key))
    }
}

impl Section {
    pub(crate) fn kind(&self, name: &str) -> Option<&Kind> {
        self.kinds.iter().find(|kind| kind.name == name)
    }

    /// Every key some kind of the section takes, common ones first, each once.
    #[cfg(test)]
    pub(crate) fn all_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self.common.to_vec();
        for kind in self.kinds {
            for key in kind.keys() {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        keys
    }

    /// Why `key` does not apply to a section of kind `kind`, or `None` where it does. A key that
    /// no kind of this section takes is not this section's to judge. A kind missing from the
    /// list takes the common keys only.
    pub(crate) fn refusal(&self, kind: &str, key: &str) -> Option<String> {
        let this = self.kind(kind);
        if self.common.contains(&key) || this.is_some_and(|k| k.takes_key(key)) {
            return None;
        }
        let owners: Vec<&str> = self
            .kinds
            .iter()
            .filter(|k| k.takes_key(key))
            .map(|k| k.name)
            .collect();
        if owners.is_empty() {
            return None;
        }
        let taken = this.map(Kind::keys).unwrap_or_default();
        let takes = if taken.is_empty() {
            format!("{} only {}", self.they_take, self.common.join(", "))
        } else {
            format!("{}: {}", self.they_take, taken.join(", "))
        };
        Some(format!(
            "`{key}` does not apply to {} ({takes}); `{key}` applies to {} only",
            self.naming.replace("{}", kind),
            self.naming.replace("{}", &listing(&owners)),
        ))
    }
}

/// `a`, `a and b`, `a, b and c`.
fn listing(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

impl Validator<'_> {
    /// Refuses, at its value, every key written in a section of kind `kind` that this kind
    /// does not take.
    pub(crate) fn refuse_inapplicable(
        &mut self,
        written: &WrittenKeys,
        section: &Section,
        kind: &str,
    ) {
        for (key, value) in written {
            if let Some(message) = section.refusal(kind, key) {
                self.error(value.span(), message);
            }
        }
    }
}

#[cfg(test)]
mod tests;
