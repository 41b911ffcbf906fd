//! Grading one report against its scenario: the decisive facts found in the parts of the
//! report they must appear in, the verdict's class, whether it claims a certainty the evidence
//! does not give, and the size of the evidence a model would receive before asking for more.

use regex::Regex;
use sentinel::investigate::finding::{Basis, Verdict};
use sentinel::investigate::report::Report;

/// The most evidence (queries and excerpts, in tokens of four characters) a playbook may put
/// in front of a model before it asks for more.
pub const EVIDENCE_TOKEN_LIMIT: usize = 4_000;

/// Confidence from which a report claims certainty.
pub const CERTAIN: f64 = 0.8;

/// Where in the report a fact must appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The one-sentence summary.
    Summary,
    /// The statements of the hypotheses kept.
    Hypotheses,
    /// The steps for the operator, with their commands.
    Steps,
    /// The queries and excerpts of the evidence.
    Evidence,
    /// What could not be read or finished, as the report says it.
    Gaps,
    /// Any of the above.
    Anywhere,
}

impl Field {
    fn label(self) -> &'static str {
        match self {
            Field::Summary => "summary",
            Field::Hypotheses => "hypotheses",
            Field::Steps => "steps",
            Field::Evidence => "evidence",
            Field::Gaps => "gaps",
            Field::Anywhere => "report",
        }
    }

    /// The text of this part of `report`.
    fn text(self, report: &Report) -> String {
        let finding = &report.finding;
        match self {
            Field::Summary => finding.summary.clone(),
            Field::Hypotheses => finding
                .hypotheses
                .iter()
                .filter(|h| h.kept)
                .map(|h| h.statement.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            Field::Steps => finding
                .steps
                .iter()
                .map(|s| format!("{} {}", s.text, s.command.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("\n"),
            Field::Evidence => finding
                .evidence
                .items()
                .iter()
                .map(|e| format!("{}\n{}", e.query, e.excerpt))
                .collect::<Vec<_>>()
                .join("\n"),
            Field::Gaps => finding.gaps.join("\n"),
            Field::Anywhere => [
                Field::Summary,
                Field::Hypotheses,
                Field::Steps,
                Field::Evidence,
                Field::Gaps,
            ]
            .iter()
            .map(|field| field.text(report))
            .collect::<Vec<_>>()
            .join("\n"),
        }
    }
}

/// A decisive fact: what it is, and the pattern (a case-insensitive regex) that names it in
/// one part of the report.
#[derive(Debug, Clone)]
pub struct Fact {
    pub what: String,
    pub field: Field,
    pattern: Regex,
    /// A false claim: the report must not say it.
    absent: bool,
}

impl Fact {
    /// A fact named by the regex `pattern` (case-insensitive).
    pub fn matching(what: impl Into<String>, field: Field, pattern: &str) -> Fact {
        Fact {
            what: what.into(),
            field,
            pattern: regex::RegexBuilder::new(pattern)
                .case_insensitive(true)
                .build()
                .unwrap_or_else(|error| panic!("the fact's pattern {pattern:?}: {error}")),
            absent: false,
        }
    }

    /// A false claim the report must not make: `pattern` must not match.
    pub fn absent(what: impl Into<String>, field: Field, pattern: &str) -> Fact {
        Fact {
            absent: true,
            ..Fact::matching(what, field, pattern)
        }
    }

    /// A fact named by the literal text `text` (case-insensitive).
    pub fn text(what: impl Into<String>, field: Field, text: &str) -> Fact {
        Fact::matching(what, field, &regex::escape(text))
    }

    /// Whether the report holds the fact: names it, or for a false claim, does not make it.
    pub fn found_in(&self, report: &Report) -> bool {
        self.pattern.is_match(&self.field.text(report)) != self.absent
    }

    /// The fact as the failures list says it.
    pub fn describe(&self) -> String {
        format!(
            "{} (/{}/ {} the {})",
            self.what,
            self.pattern.as_str(),
            if self.absent { "must not be in" } else { "in" },
            self.field.label()
        )
    }
}

/// What the operator is told to do, in three classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictClass {
    /// Action needed or suggested.
    Action,
    NoAction,
    Inconclusive,
}

impl VerdictClass {
    pub fn of(verdict: Verdict) -> VerdictClass {
        match verdict {
            Verdict::ActionNeeded | Verdict::ActionSuggested => VerdictClass::Action,
            Verdict::NoAction => VerdictClass::NoAction,
            Verdict::Inconclusive => VerdictClass::Inconclusive,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VerdictClass::Action => "action",
            VerdictClass::NoAction => "no action",
            VerdictClass::Inconclusive => "inconclusive",
        }
    }
}

/// How one report fared.
#[derive(Debug, Clone)]
pub struct Grade {
    pub facts_found: usize,
    pub facts_expected: usize,
    /// The facts it did not name.
    pub missing: Vec<String>,
    pub verdict: VerdictClass,
    pub verdict_right: bool,
    /// Why the report claims more certainty than it may, if it does.
    pub false_certainty: Option<String>,
    /// Characters of every evidence query and excerpt, divided by four.
    pub evidence_tokens: usize,
}

impl Grade {
    /// Every fact found, the verdict right, no false certainty, the evidence within bounds.
    pub fn passed(&self) -> bool {
        self.missing.is_empty()
            && self.verdict_right
            && self.false_certainty.is_none()
            && self.evidence_tokens < EVIDENCE_TOKEN_LIMIT
    }

    /// What failed, in words.
    pub fn failures(&self, expected: VerdictClass) -> Vec<String> {
        let mut failures: Vec<String> = self
            .missing
            .iter()
            .map(|fact| format!("misses {fact}"))
            .collect();
        if !self.verdict_right {
            failures.push(format!(
                "verdict {} where {} is right",
                self.verdict.label(),
                expected.label()
            ));
        }
        if let Some(why) = &self.false_certainty {
            failures.push(format!("false certainty: {why}"));
        }
        if self.evidence_tokens >= EVIDENCE_TOKEN_LIMIT {
            failures.push(format!(
                "{} tokens of evidence (limit {EVIDENCE_TOKEN_LIMIT})",
                self.evidence_tokens
            ));
        }
        failures
    }
}

/// Tokens of the evidence in `report`, at four characters a token.
pub fn evidence_tokens(report: &Report) -> usize {
    report
        .finding
        .evidence
        .items()
        .iter()
        .map(|item| item.query.chars().count() + item.excerpt.chars().count())
        .sum::<usize>()
        / 4
}

/// Why `report` claims a certainty it may not, if it does: high confidence in an inconclusive
/// verdict, or where the right answer leaves the cause open; a known claim that cites no
/// evidence, or evidence the report does not hold.
pub fn false_certainty(report: &Report, certainty_allowed: bool) -> Option<String> {
    let finding = &report.finding;
    let confidence = finding.confidence.value();
    if confidence >= CERTAIN && finding.verdict == Verdict::Inconclusive {
        return Some(format!(
            "confidence {confidence:.2} in an inconclusive verdict"
        ));
    }
    if confidence >= CERTAIN && !certainty_allowed {
        return Some(format!(
            "confidence {confidence:.2} where the evidence cannot settle the cause"
        ));
    }
    finding
        .hypotheses
        .iter()
        .filter(|h| h.kept && h.basis == Basis::Known)
        .find_map(|h| {
            if h.supported_by.is_empty() {
                Some(format!(
                    "“{}” is called known and cites no evidence",
                    h.statement
                ))
            } else {
                h.supported_by
                    .iter()
                    .find(|id| !finding.evidence.contains(id))
                    .map(|id| {
                        format!(
                            "“{}” cites {id}, which the report does not hold",
                            h.statement
                        )
                    })
            }
        })
}

/// Grades `report` against the facts, verdict class and certainty a scenario expects;
/// `evidence_tokens` is what the playbook's evidence came to (the report's own when no model
/// added to it).
pub fn grade(
    report: &Report,
    facts: &[Fact],
    expected: VerdictClass,
    certainty_allowed: bool,
    evidence_tokens: usize,
) -> Grade {
    let missing: Vec<String> = facts
        .iter()
        .filter(|fact| !fact.found_in(report))
        .map(Fact::describe)
        .collect();
    let verdict = VerdictClass::of(report.finding.verdict);
    Grade {
        facts_found: facts.len() - missing.len(),
        facts_expected: facts.len(),
        missing,
        verdict,
        verdict_right: verdict == expected,
        false_certainty: false_certainty(report, certainty_allowed),
        evidence_tokens,
    }
}
