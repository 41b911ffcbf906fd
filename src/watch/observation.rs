//! What one evaluation of a watch found: per subject, held, broken or unknown, with a headline,
//! the facts behind it and the evidence. Watches produce these; only the tracker judges them.

use serde::{Deserialize, Serialize};

/// The health of one subject as seen by one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// The expectation holds.
    Held,
    /// The expectation is broken.
    Broken,
    /// The watch could not tell (its source could not be read). Never treated as held.
    Unknown,
}

/// One subject's finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// What the finding is about within the watch: a job type, a route, a label set. Empty for
    /// watches with a single subject (a heartbeat).
    pub subject: String,
    pub health: Health,
    /// One line naming what was expected and what happened ("Nightly backup didn't run").
    pub title: String,
    /// A few short facts ("expected by 05:00, last success yesterday 03:12").
    pub facts: Vec<String>,
    /// The measured value, where one exists.
    pub value: Option<f64>,
}

impl Observation {
    pub fn held(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            health: Health::Held,
            title: String::new(),
            facts: Vec::new(),
            value: None,
        }
    }

    pub fn broken(subject: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            health: Health::Broken,
            title: title.into(),
            facts: Vec::new(),
            value: None,
        }
    }

    pub fn with_fact(mut self, fact: impl Into<String>) -> Self {
        self.facts.push(fact.into());
        self
    }

    pub fn with_value(mut self, value: f64) -> Self {
        self.value = Some(value);
        self
    }
}

/// Everything one evaluation of a watch reported.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluation {
    /// The watch saw the whole picture: subjects with an open alert that are absent from
    /// `observations` are held.
    Complete(Vec<Observation>),
    /// The watch could not read its source; open alerts stay as they are.
    Blind(crate::source::SourceError),
}
