//! What an investigation concluded, before it is dressed as a report: the verdict, the
//! hypotheses kept and discarded (each with the evidence for and against it, and whether it is
//! known from the evidence or only guessed), what to do, and the classification with a
//! confidence. Playbooks produce these; the offline investigator and the model loop refine
//! them.

use super::evidence::EvidenceLog;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What the operator should do about it, first thing in every report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Something is broken and needs the operator.
    ActionNeeded,
    /// Worth doing, not urgent.
    ActionSuggested,
    /// Nothing to do (it healed, or it was noise).
    NoAction,
    /// The evidence does not settle it.
    Inconclusive,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::ActionNeeded => "action needed",
            Verdict::ActionSuggested => "action suggested",
            Verdict::NoAction => "no action",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What kind of cause it is: only a durable code bug is a candidate for a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// A bug in the app's code that will keep happening until the code changes.
    DurableCodeBug,
    /// It happened and went away by itself.
    Transient,
    /// Operations or configuration: a schedule, a disk, a missing index, a dead worker.
    OpsOrConfig,
    Unknown,
}

impl Classification {
    pub fn label(self) -> &'static str {
        match self {
            Classification::DurableCodeBug => "durable code bug",
            Classification::Transient => "transient",
            Classification::OpsOrConfig => "ops or config",
            Classification::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How sure the investigation is, from 0 to 1. A verifying pass may only lower it.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Confidence(f64);

impl Confidence {
    pub const LOW: Confidence = Confidence(0.3);
    pub const MEDIUM: Confidence = Confidence(0.6);
    pub const HIGH: Confidence = Confidence(0.85);

    /// `value` clamped to 0..=1 (NaN is 0).
    pub fn new(value: f64) -> Self {
        if value.is_nan() {
            Confidence(0.0)
        } else {
            Confidence(value.clamp(0.0, 1.0))
        }
    }

    pub fn value(self) -> f64 {
        self.0
    }

    /// The lower of the two: what a verifying pass may do.
    pub fn at_most(self, other: Confidence) -> Confidence {
        if other.0 < self.0 { other } else { self }
    }

    pub fn label(self) -> &'static str {
        if self.0 >= 0.8 {
            "high"
        } else if self.0 >= 0.5 {
            "medium"
        } else {
            "low"
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:.2})", self.label(), self.0)
    }
}

/// Whether a statement follows from the evidence or is a reasonable guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Known,
    Guessed,
}

/// One candidate explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hypothesis {
    pub statement: String,
    pub basis: Basis,
    /// Kept (it explains the evidence) or discarded (the evidence speaks against it).
    pub kept: bool,
    /// Evidence ids for it.
    pub supported_by: Vec<String>,
    /// Evidence ids against it.
    pub contradicted_by: Vec<String>,
}

impl Hypothesis {
    /// A hypothesis the evidence `ids` establish.
    pub fn known(statement: impl Into<String>, ids: &[&str]) -> Self {
        Self {
            statement: statement.into(),
            basis: Basis::Known,
            kept: true,
            supported_by: ids.iter().map(|id| id.to_string()).collect(),
            contradicted_by: Vec::new(),
        }
    }

    /// A hypothesis the evidence `ids` make likely without proving it.
    pub fn guessed(statement: impl Into<String>, ids: &[&str]) -> Self {
        Self {
            basis: Basis::Guessed,
            ..Self::known(statement, ids)
        }
    }

    /// A hypothesis considered and ruled out by the evidence `ids`.
    pub fn discarded(statement: impl Into<String>, ids: &[&str]) -> Self {
        Self {
            statement: statement.into(),
            basis: Basis::Known,
            kept: false,
            supported_by: Vec::new(),
            contradicted_by: ids.iter().map(|id| id.to_string()).collect(),
        }
    }
}

/// One thing for the operator to do: written out, never executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub text: String,
    /// A command or SQL statement to run by hand, when there is one.
    pub command: Option<String>,
}

impl Step {
    pub fn say(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            command: None,
        }
    }

    pub fn run(text: impl Into<String>, command: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            command: Some(command.into()),
        }
    }
}

/// What an investigation found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub verdict: Verdict,
    /// One sentence: what broke and why, as far as known.
    pub summary: String,
    pub hypotheses: Vec<Hypothesis>,
    pub evidence: EvidenceLog,
    pub steps: Vec<Step>,
    pub classification: Classification,
    pub confidence: Confidence,
    /// What could not be read or finished, said plainly.
    pub gaps: Vec<String>,
}

impl Finding {
    /// A finding with nothing in it yet: inconclusive, unknown, low confidence.
    pub fn open(summary: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Inconclusive,
            summary: summary.into(),
            hypotheses: Vec::new(),
            evidence: EvidenceLog::default(),
            steps: Vec::new(),
            classification: Classification::Unknown,
            confidence: Confidence::LOW,
            gaps: Vec::new(),
        }
    }

    /// Rules out what the alert said (a kept hypothesis resting on `alert_id` alone, "still
    /// broken") when the fresh read `by` shows otherwise.
    pub fn overtake(&mut self, alert_id: &str, by: &str) {
        for hypothesis in &mut self.hypotheses {
            if hypothesis.kept && hypothesis.supported_by == [alert_id] {
                hypothesis.kept = false;
                hypothesis.supported_by.clear();
                hypothesis.contradicted_by = vec![by.to_string()];
            }
        }
    }

    /// Makes the finding consistent before it is reported: hypotheses may cite only evidence
    /// that exists (unknown ids are dropped and the hypothesis becomes a guess), a known claim
    /// needs evidence, and certainty needs a kept known hypothesis: with none, confidence is
    /// at most low and a firm verdict becomes inconclusive.
    pub fn settle(&mut self) {
        for hypothesis in &mut self.hypotheses {
            let before = hypothesis.supported_by.len();
            hypothesis
                .supported_by
                .retain(|id| self.evidence.contains(id));
            hypothesis
                .contradicted_by
                .retain(|id| self.evidence.contains(id));
            if hypothesis.supported_by.len() < before
                || (hypothesis.kept && hypothesis.supported_by.is_empty())
            {
                hypothesis.basis = Basis::Guessed;
            }
        }
        let established = self
            .hypotheses
            .iter()
            .any(|h| h.kept && h.basis == Basis::Known);
        if !established {
            self.confidence = self.confidence.at_most(Confidence::LOW);
            if self.verdict == Verdict::ActionNeeded && self.hypotheses.iter().all(|h| !h.kept) {
                self.verdict = Verdict::Inconclusive;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn confidence_is_clamped_and_a_verifying_pass_can_only_lower_it() {
        assert_eq!(Confidence::new(7.0).value(), 1.0);
        assert_eq!(Confidence::new(f64::NAN).value(), 0.0);
        assert_eq!(Confidence::HIGH.at_most(Confidence::LOW), Confidence::LOW);
        assert_eq!(Confidence::LOW.at_most(Confidence::HIGH), Confidence::LOW);
        assert_eq!(Confidence::HIGH.to_string(), "high (0.85)");
    }

    #[test]
    fn a_claim_citing_evidence_that_does_not_exist_becomes_a_guess() {
        let mut finding = Finding::open("x");
        finding
            .evidence
            .add("sql", None, "SELECT 1", "1", Utc::now());
        finding.hypotheses.push(Hypothesis::known("real", &["E1"]));
        finding
            .hypotheses
            .push(Hypothesis::known("invented", &["E9"]));
        finding.confidence = Confidence::HIGH;
        finding.settle();
        assert_eq!(finding.hypotheses[0].basis, Basis::Known);
        assert_eq!(finding.hypotheses[1].basis, Basis::Guessed);
        assert!(finding.hypotheses[1].supported_by.is_empty());
        assert_eq!(finding.confidence, Confidence::HIGH, "one claim stands");
    }

    #[test]
    fn no_established_cause_means_no_claim_of_certainty() {
        let mut finding = Finding::open("x");
        finding.hypotheses.push(Hypothesis::guessed("maybe", &[]));
        finding.verdict = Verdict::ActionNeeded;
        finding.confidence = Confidence::HIGH;
        finding.settle();
        assert_eq!(finding.confidence, Confidence::LOW);
        assert_eq!(
            finding.verdict,
            Verdict::ActionNeeded,
            "a kept guess may still ask"
        );

        let mut nothing = Finding::open("x");
        nothing.verdict = Verdict::ActionNeeded;
        nothing.settle();
        assert_eq!(nothing.verdict, Verdict::Inconclusive);
    }
}
