//! The investigation evaluation as a table: every scenario of `tests/eval/` (a real fault in
//! PostgreSQL, Redis, Prometheus, log files, a git repository, the ping API or an endpoint on
//! loopback; the page it causes; the operator's question) investigated by `sentinel
//! investigate`, one row each: decisive facts found, verdict, certainty, the evidence tokens a
//! model receives before it asks for more, steps, model tokens, cost and time, and who
//! reasoned (a model's fallback to the playbook shows as `offline (why)`). Goal: every fact
//! named, under 4,000 evidence tokens per scenario.
//!
//! cargo bench --bench investigations                      # the offline investigator
//! SENTINEL_EVAL_PROVIDER=anthropic ANTHROPIC_API_KEY=... cargo bench --bench investigations
//! SENTINEL_EVAL_PROVIDER=openai SENTINEL_EVAL_BASE_URL=http://127.0.0.1:8080/v1 \
//!   SENTINEL_EVAL_MODEL=smollm2 cargo bench --bench investigations   # or scripts/eval-llama.sh
//! cargo bench --bench investigations -- sidekiq           # only scenarios whose name has it
//!
//! Needs what the test suite needs (scripts/test.sh): PostgreSQL, Redis, Prometheus, git.

#[path = "../tests/eval/mod.rs"]
mod eval;
#[path = "../tests/support/mod.rs"]
mod support;

use eval::investigator::Investigator;
use eval::lab::{self, Lab};

fn main() {
    let investigator = match Investigator::from_env() {
        Ok(investigator) => investigator,
        Err(problem) => {
            eprintln!("{problem}");
            std::process::exit(2);
        }
    };
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let scenarios: Vec<eval::Scenario> = eval::scenarios()
        .into_iter()
        .filter(|s| filters.is_empty() || filters.iter().any(|f| s.name.contains(f.as_str())))
        .collect();
    println!(
        "{} investigation scenarios, investigated by {}\n",
        scenarios.len(),
        investigator.describe()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcomes = runtime.block_on(async {
        let lab = Lab::new(investigator.clone());
        let mut outcomes = Vec::new();
        for scenario in &scenarios {
            let outcome = lab::run(&lab, scenario).await;
            eprintln!("{}: done", scenario.name);
            outcomes.push(outcome);
        }
        outcomes
    });
    println!("{}", eval::table::render(&outcomes));
    if investigator.is_model() {
        let fallbacks = outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().ok().map(|run| (o.name, &run.report)))
            .filter(|(_, report)| lab::reasoned_by(report) != "model")
            .count();
        println!(
            "{fallbacks} of {} reports fell back to the offline investigator (the `by` column says why); evidence tokens are those of the playbook's first look, before the model asked for more.",
            outcomes.len()
        );
    }
    // Leave the runtime with its servers (TLS, HTTP) without waiting for them.
    runtime.shutdown_background();
}
