//! The bench the scenarios run on: the investigator chosen, the services a family shares (one
//! PostgreSQL database per family, one Prometheus with history), the configuration a scenario
//! writes, the engine pass that makes the page, and the investigation as the operator runs it,
//! graded.

use super::Scenario;
use super::grade::{self, Grade};
use super::investigator::Investigator;
use sentinel::alert::notice::{Notice, NoticeState};
use sentinel::config::Config;
use sentinel::investigate::report::{Reasoning, Report};
use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Shared by every scenario of one run.
pub struct Lab {
    pub investigator: Investigator,
    /// A database on the machine's PostgreSQL (127.0.0.1:5432), for the job tables.
    jobs_database: OnceCell<String>,
    /// A database on the PostgreSQL cluster with pg_stat_statements, for slow queries.
    shop_database: OnceCell<String>,
    /// The Prometheus with history, started once for the metrics family.
    pub(crate) prometheus: OnceCell<crate::support::prometheus_history::HistoryPrometheus>,
}

/// A scenario set up: the fault in place, the page sent, the configuration to investigate
/// with. Whatever `guards` holds (servers, connections) lives until the investigation ends.
pub struct Staged {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    /// The same configuration with the offline investigator, when a model investigates.
    pub offline_config: Option<PathBuf>,
    pub watch: String,
    /// The titles of the notices the engine sent, in order.
    pub pages: Vec<String>,
    /// Facts known only once the fault is set up (a commit's hash, a moment).
    pub facts: Vec<super::grade::Fact>,
    pub guards: Vec<Box<dyn Any + Send>>,
}

/// One scenario's run: the report and its grade, or why it could not be graded.
pub struct Outcome {
    pub name: &'static str,
    pub expected: super::grade::VerdictClass,
    pub result: Result<Graded, String>,
}

pub struct Graded {
    pub report: Report,
    pub grade: Grade,
    /// The investigation's wall time, as the operator waits for it.
    pub took: Duration,
    pub pages: Vec<String>,
}

impl Lab {
    pub fn new(investigator: Investigator) -> Lab {
        Lab {
            investigator,
            jobs_database: OnceCell::new(),
            shop_database: OnceCell::new(),
            prometheus: OnceCell::new(),
        }
    }

    /// The administrator's URL of a fresh database for the job tables, made once per run.
    pub async fn jobs_database(&self) -> &str {
        self.jobs_database
            .get_or_init(|| async {
                let name = "sentinel_eval_jobs";
                crate::support::postgres_setup(&[
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    format!("CREATE DATABASE {name}"),
                ])
                .await;
                crate::support::POSTGRES.replace("/test", &format!("/{name}"))
            })
            .await
    }

    /// The administrator's URL of a fresh database with pg_stat_statements, made once per run.
    pub async fn shop_database(&self) -> &str {
        self.shop_database
            .get_or_init(|| crate::support::pg_cluster::fresh_database("sentinel_eval_shop", true))
            .await
    }

    /// Writes the configuration `body` (sources and watches) under `dir`, after the store and
    /// the investigator sections (with `repository`), and parses it. With a model, a twin
    /// configuration with the offline investigator is written beside it.
    pub fn config(
        &self,
        dir: &Path,
        body: &str,
        repository: Option<&Path>,
    ) -> (PathBuf, Option<PathBuf>, Config) {
        let write = |file: &str, investigator: &Investigator| {
            let text = format!(
                "[store]\npath = \"{}/sentinel.db\"\n\n{}\n{body}",
                dir.display(),
                investigator.section(repository)
            );
            let path = dir.join(file);
            std::fs::write(&path, &text).unwrap();
            (path, text)
        };
        let (path, text) = write("sentinel.toml", &self.investigator);
        let offline = self
            .investigator
            .is_model()
            .then(|| write("sentinel-offline.toml", &Investigator::Offline).0);
        let config = Config::parse(&path, &text, &|name| std::env::var(name).ok())
            .unwrap_or_else(|error| panic!("the scenario's configuration: {error}"));
        (path, offline, config)
    }
}

/// Collects the notices of engine passes over one configuration.
pub struct Pager {
    config: Config,
    notices: Arc<Mutex<Vec<Notice>>>,
}

impl Pager {
    pub fn new(config: &Config) -> Pager {
        Pager {
            config: config.clone(),
            notices: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// One pass of the engine, as `sentinel check --once` runs it.
    pub async fn pass(&self) -> sentinel::engine::PassReport {
        crate::support::engine_pass(&self.config, &self.notices).await
    }

    /// One pass at the time `clock` says.
    pub async fn pass_at(
        &self,
        clock: Arc<dyn sentinel::clock::Clock>,
    ) -> sentinel::engine::PassReport {
        crate::support::engine_pass_at(&self.config, &self.notices, clock).await
    }

    /// The titles of the notices sent so far, a resolution marked as such.
    pub fn pages(&self) -> Vec<String> {
        self.notices
            .lock()
            .unwrap()
            .iter()
            .map(|notice| match notice.state {
                NoticeState::Resolved => format!("resolved: {}", notice.title),
                _ => notice.title.clone(),
            })
            .collect()
    }

    /// Ok with the pages when the watch paged at least once, else why not.
    pub fn paged(&self) -> Result<Vec<String>, String> {
        let pages = self.pages();
        if pages.iter().any(|page| !page.starts_with("resolved: ")) {
            Ok(pages)
        } else {
            Err("the fault made no page".into())
        }
    }
}

/// Fails with `what` unless `condition` holds: a set-up that did not go as the scenario says.
pub fn expect(condition: bool, what: impl Into<String>) -> Result<(), String> {
    if condition { Ok(()) } else { Err(what.into()) }
}

/// `sentinel investigate <watch> --question <question> --json -c <config>`: the report and the
/// wall time it took.
pub async fn investigate(
    config: &Path,
    watch: &str,
    question: &str,
) -> Result<(Report, Duration), String> {
    let started = Instant::now();
    let output = tokio::process::Command::new(crate::support::sentinel_bin())
        .args(["investigate", watch, "--json", "--question", question, "-c"])
        .arg(config)
        .env("SENTINEL_LOG", "warn")
        .output()
        .await
        .map_err(|error| format!("sentinel investigate could not start: {error}"))?;
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if output.status.code() != Some(0) {
        return Err(format!(
            "sentinel investigate exited {:?}: {stdout}{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let report: Report = serde_json::from_str(&stdout)
        .map_err(|error| format!("the report is not JSON ({error}): {stdout}"))?;
    Ok((report, took))
}

/// Sets up `scenario`, investigates its page and grades the report. With a model, the
/// offline investigator looks first: its evidence is what the model receives before it asks
/// for more.
pub async fn run(lab: &Lab, scenario: &Scenario) -> Outcome {
    let result = async {
        let staged = (scenario.stage)(lab).await?;
        let playbook_tokens = match &staged.offline_config {
            Some(offline) => {
                let (first, _) = investigate(offline, &staged.watch, scenario.question).await?;
                Some(grade::evidence_tokens(&first))
            }
            None => None,
        };
        let (report, took) = investigate(&staged.config, &staged.watch, scenario.question).await?;
        let tokens = playbook_tokens.unwrap_or_else(|| grade::evidence_tokens(&report));
        let facts: Vec<grade::Fact> = scenario
            .facts
            .iter()
            .chain(&staged.facts)
            .cloned()
            .collect();
        let grade = grade::grade(
            &report,
            &facts,
            scenario.expected,
            scenario.certainty_allowed,
            tokens,
        );
        drop(staged.guards);
        Ok(Graded {
            report,
            grade,
            took,
            pages: staged.pages,
        })
    }
    .await;
    Outcome {
        name: scenario.name,
        expected: scenario.expected,
        result,
    }
}

/// Who reasoned, as the table shows it: `model`, or `offline` with why when a model was asked.
pub fn reasoned_by(report: &Report) -> String {
    match &report.reasoning {
        Reasoning::Model { .. } => "model".into(),
        Reasoning::Offline { why } => format!("offline ({why})"),
    }
}
