//! The investigation evaluation, offline: every scenario of `eval/` (a real fault, its page,
//! the operator's question) is investigated by `sentinel investigate` with the offline
//! investigator, and each report must name all its decisive facts, reach the right verdict,
//! claim no certainty the evidence does not give, and put fewer than 4,000 tokens of evidence
//! before a model. The grader itself is checked on reports made to fail it.
//!
//! `cargo bench --bench investigations` runs the same scenarios and prints the table, with a
//! model when asked (see `eval/investigator.rs`).

mod eval;
mod support;

use chrono::Utc;
use eval::grade::{self, Fact, Field, VerdictClass};
use eval::investigator::Investigator;
use eval::lab::{self, Lab};
use sentinel::investigate::finding::{Confidence, Finding, Hypothesis, Step, Verdict};
use sentinel::investigate::report::{Cost, Reasoning, Report};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_investigator_names_the_decisive_facts_of_every_scenario() {
    let scenarios = eval::scenarios();
    assert!(scenarios.len() >= 15, "{} scenarios", scenarios.len());
    let lab = Lab::new(Investigator::Offline);
    let mut outcomes = Vec::new();
    for scenario in &scenarios {
        outcomes.push(lab::run(&lab, scenario).await);
    }
    println!("{}", eval::table::render(&outcomes));
    // The reports that failed, whole, for whoever reads the failure.
    for outcome in &outcomes {
        if let Ok(run) = &outcome.result
            && !run.grade.passed()
        {
            println!(
                "--- {} ---\npages: {:?}\n{}",
                outcome.name,
                run.pages,
                sentinel::investigate::render::markdown(&run.report)
            );
        }
    }
    let failures = eval::table::failures(&outcomes);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for outcome in &outcomes {
        let run = outcome.result.as_ref().unwrap();
        assert!(
            matches!(run.report.reasoning, Reasoning::Offline { .. }),
            "{}: {:?}",
            outcome.name,
            run.report.reasoning
        );
        assert!(!run.pages.is_empty(), "{}: no page", outcome.name);
    }
}

/// A report of `finding`, as `sentinel investigate --json` prints one.
fn report(finding: Finding) -> Report {
    Report {
        request_id: 1,
        question: "why?".into(),
        asked_by: "test".into(),
        title: "a page".into(),
        watch: Some("w".into()),
        subjects: Vec::new(),
        finding,
        reasoning: Reasoning::Offline {
            why: "chosen in the configuration".into(),
        },
        started_at: Utc::now(),
        finished_at: Utc::now(),
        cost: Cost::default(),
    }
}

/// A finding that names a missing index, with the evidence for it.
fn missing_index() -> Finding {
    let mut finding = Finding::open("Slow: likely missing index on orders(customer_email).");
    let id = finding.evidence.add(
        "explain",
        Some("shop"),
        "EXPLAIN SELECT * FROM orders WHERE customer_email = $1",
        "Seq Scan on orders",
        Utc::now(),
    );
    finding
        .hypotheses
        .push(Hypothesis::known("The plan scans orders.", &[&id]));
    finding.hypotheses.push(Hypothesis::discarded(
        "The users table is to blame.",
        &[&id],
    ));
    finding.steps.push(Step::run(
        "Create the index",
        "CREATE INDEX CONCURRENTLY ON orders (customer_email);",
    ));
    finding.verdict = Verdict::ActionNeeded;
    finding.confidence = Confidence::HIGH;
    finding
}

#[test]
fn facts_are_looked_for_in_their_own_part_of_the_report() {
    let report = report(missing_index());
    let found = |fact: Fact| fact.found_in(&report);
    assert!(found(Fact::matching(
        "table",
        Field::Summary,
        r"ORDERS\(customer_email\)"
    )));
    assert!(found(Fact::text(
        "plan",
        Field::Evidence,
        "Seq Scan on orders"
    )));
    assert!(!found(Fact::text(
        "plan",
        Field::Summary,
        "Seq Scan on orders"
    )));
    assert!(found(Fact::matching(
        "index",
        Field::Steps,
        r"CREATE INDEX.*orders"
    )));
    assert!(found(Fact::text(
        "claim",
        Field::Hypotheses,
        "scans orders"
    )));
    assert!(
        !found(Fact::text("ruled out", Field::Hypotheses, "users table")),
        "a hypothesis ruled out names nothing"
    );
    assert!(found(Fact::text("anywhere", Field::Anywhere, "Seq Scan")));
    assert!(found(Fact::absent("false claim", Field::Summary, "users")));
    assert!(!found(Fact::absent(
        "false claim",
        Field::Summary,
        "orders"
    )));
}

#[test]
fn a_report_passes_only_with_every_fact_the_right_verdict_and_no_false_certainty() {
    let report = report(missing_index());
    let facts = [
        Fact::text("table", Field::Summary, "orders(customer_email)"),
        Fact::text("index", Field::Steps, "CREATE INDEX"),
    ];
    let tokens = grade::evidence_tokens(&report);
    let passed = grade::grade(&report, &facts, VerdictClass::Action, true, tokens);
    assert!(passed.passed(), "{passed:?}");
    assert_eq!((passed.facts_found, passed.facts_expected), (2, 2));

    let more = [
        facts[0].clone(),
        Fact::text("column", Field::Summary, "total_cents"),
    ];
    let missing = grade::grade(&report, &more, VerdictClass::Action, true, tokens);
    assert!(!missing.passed());
    assert_eq!(missing.missing.len(), 1);
    assert!(
        missing.missing[0].contains("total_cents"),
        "{:?}",
        missing.missing
    );

    let wrong = grade::grade(&report, &facts, VerdictClass::NoAction, true, tokens);
    assert!(!wrong.verdict_right && !wrong.passed());

    let sure = grade::grade(&report, &facts, VerdictClass::Action, false, tokens);
    assert!(
        sure.false_certainty.is_some(),
        "high confidence where the cause cannot be settled"
    );

    let large = grade::grade(&report, &facts, VerdictClass::Action, true, 4_000);
    assert!(!large.passed(), "4,000 tokens of evidence is too much");
}

#[test]
fn high_confidence_in_an_inconclusive_verdict_or_an_unsupported_known_claim_is_false_certainty() {
    let mut unsure = missing_index();
    unsure.verdict = Verdict::Inconclusive;
    assert!(grade::false_certainty(&report(unsure.clone()), true).is_some());
    unsure.confidence = Confidence::LOW;
    assert_eq!(grade::false_certainty(&report(unsure), true), None);

    let mut bare = missing_index();
    bare.hypotheses
        .push(Hypothesis::known("It was the migration.", &[]));
    let why = grade::false_certainty(&report(bare), true).unwrap();
    assert!(why.contains("cites no evidence"), "{why}");

    let mut invented = missing_index();
    invented
        .hypotheses
        .push(Hypothesis::known("It was the migration.", &["E9"]));
    let why = grade::false_certainty(&report(invented), true).unwrap();
    assert!(why.contains("E9"), "{why}");

    let mut guessed = missing_index();
    guessed.confidence = Confidence::LOW;
    guessed
        .hypotheses
        .push(Hypothesis::guessed("It was the migration.", &[]));
    assert_eq!(grade::false_certainty(&report(guessed), false), None);
}

#[test]
fn evidence_tokens_count_every_query_and_excerpt_at_four_characters_a_token() {
    let mut finding = Finding::open("x");
    finding
        .evidence
        .add("sql", None, "q".repeat(400), &"e".repeat(1_200), Utc::now());
    finding
        .evidence
        .add("sql", None, "é".repeat(400), "", Utc::now());
    assert_eq!(grade::evidence_tokens(&report(finding)), 500);
}

#[test]
fn the_investigator_section_names_the_provider_and_never_a_key() {
    let offline = Investigator::Offline.section(None);
    assert!(offline.contains("provider = \"offline\""), "{offline}");
    let local = Investigator::OpenAi {
        base_url: "http://127.0.0.1:8080/v1".into(),
        model: "smollm2".into(),
        keyed: false,
        prices: Some((0.0, 0.0)),
    }
    .section(Some(std::path::Path::new("/srv/shop")));
    for line in [
        "provider = \"openai\"",
        "base_url = \"http://127.0.0.1:8080/v1\"",
        "model = \"smollm2\"",
        "price_input_per_million = 0.0",
        "repository = \"/srv/shop\"",
    ] {
        assert!(local.contains(line), "{line} in {local}");
    }
    assert!(!local.contains("api_key"), "{local}");
    let claude = Investigator::Anthropic {
        base_url: None,
        model: None,
        prices: None,
    }
    .section(None);
    assert!(
        claude.contains("api_key = \"${ANTHROPIC_API_KEY}\""),
        "the key is read from the environment: {claude}"
    );
}
