//! The investigator's tools: what a model may ask to read while it investigates, and the one
//! place its requests are carried out.
//!
//! Every tool is read-only by construction. Production is reached only through the guarded
//! source paths the watches use: SQL through the statement guard (`SqlSource::query`: single
//! reads in a READ ONLY transaction, bounded in time and memory), Prometheus and Loki queries,
//! Redis through its read-only command allowlist, HTTP GET only to what an `http` watch is
//! configured to probe, and only the log files the watches tail. The app's repository (when
//! `[investigator] repository` is set) is read with paths confined to it and `git` run with an
//! explicit argv, no shell and no user configuration.
//!
//! Nothing the model says widens what a tool may do: every argument is validated (unknown
//! arguments are refused too), sources are picked from the configured ones by name, and a
//! refusal or failure is an output with `is_error` set whose text says what to do instead. The
//! text is production's, untrusted and unredacted: the caller redacts it and hands it to the
//! model as data.

mod args;
mod describe_table;
mod explain;
mod git;
mod git_log;
mod git_show;
mod http_get;
mod lines;
mod logql;
mod promql;
mod read_file;
mod redis_queue;
mod repo_path;
mod search_code;
mod search_logs;
mod setup;
mod sql_query;
mod table;
mod when;

use crate::config::Config;
use crate::llm::ToolDefinition;
use crate::source::registry::Sources;
use chrono::{DateTime, Utc};
use setup::Setup;
use std::time::Duration;

/// What one tool call came to.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// The tool's name.
    pub tool: String,
    /// The configured source it read, if any (for `http_get`, the `http` watch whose
    /// endpoint it requested).
    pub source: Option<String>,
    /// The exact query, command or path it ran, for the evidence log.
    pub query: String,
    /// The whole result as text (at most [`MAX_TEXT_BYTES`]).
    pub text: String,
    /// Refused or failed: `text` says why, in words the model can act on.
    pub is_error: bool,
    /// The rows behind `text` when it is a query's table, so that configured personal-data
    /// columns can be replaced cell by cell before the text leaves the box.
    pub(crate) rows: Option<crate::source::sql::database::QueryResult>,
}

/// The most text one call returns; the caller previews or truncates further.
pub const MAX_TEXT_BYTES: usize = 2 * 1024 * 1024;

/// How long one call may take, whatever the tool's own bounds.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(90);

impl ToolOutput {
    fn done(tool: &str, source: Option<&str>, query: impl Into<String>, text: String) -> Self {
        Self {
            tool: tool.to_string(),
            source: source.map(str::to_string),
            query: query.into(),
            text,
            is_error: false,
            rows: None,
        }
    }

    /// The same output, its rows kept beside the text.
    pub(super) fn with_rows(mut self, rows: crate::source::sql::database::QueryResult) -> Self {
        self.rows = Some(rows);
        self
    }

    /// Rewrites every non-null cell through `cell(column, value)` and renders the table anew;
    /// outputs without rows are left as they are.
    pub(crate) fn rewrite_cells(&mut self, mut cell: impl FnMut(&str, &str) -> String) {
        let Some(rows) = &mut self.rows else { return };
        for row in &mut rows.rows {
            for (index, value) in row.iter_mut().enumerate() {
                if let Some(text) = value {
                    let column = rows.columns.get(index).map_or("", String::as_str);
                    *text = cell(column, text);
                }
            }
        }
        self.text = table::render(rows);
    }

    fn failed(tool: &str, source: Option<&str>, query: impl Into<String>, why: String) -> Self {
        Self {
            tool: tool.to_string(),
            source: source.map(str::to_string),
            query: query.into(),
            text: why,
            is_error: true,
            rows: None,
        }
    }

    /// The text cut to [`MAX_TEXT_BYTES`] on a character boundary, saying so.
    fn bounded(mut self) -> Self {
        if self.text.len() > MAX_TEXT_BYTES {
            let mut end = MAX_TEXT_BYTES;
            while !self.text.is_char_boundary(end) {
                end -= 1;
            }
            self.text.truncate(end);
            self.text
                .push_str("\n[output cut at 2 MiB: ask for less, e.g. a narrower query]");
        }
        self
    }
}

/// The read-only tools one configuration can serve.
pub struct Toolbox {
    setup: Setup,
    sources: Sources,
}

impl std::fmt::Debug for Toolbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toolbox")
            .field("tools", &self.tool_names())
            .finish_non_exhaustive()
    }
}

/// The names of every tool, in the order they are offered.
const TOOLS: &[&str] = &[
    sql_query::NAME,
    describe_table::NAME,
    explain::NAME,
    promql::NAME,
    logql::NAME,
    search_logs::NAME,
    redis_queue::NAME,
    http_get::NAME,
    search_code::NAME,
    read_file::NAME,
    git_log::NAME,
    git_show::NAME,
];

impl Toolbox {
    /// From the validated config and the built sources (`engine.sources()`), and the
    /// repository from `config.investigator.repository`.
    pub fn new(config: &Config, sources: &Sources) -> Self {
        Self {
            setup: Setup::new(config),
            sources: sources.clone(),
        }
    }

    /// The tools this configuration can serve. A tool whose kind of source is not configured
    /// is not offered; each description names the configured sources it accepts.
    pub fn definitions(&self) -> Vec<ToolDefinition> {
        let setup = &self.setup;
        [
            sql_query::definition(setup),
            describe_table::definition(setup),
            explain::definition(setup),
            promql::definition(setup),
            logql::definition(setup),
            search_logs::definition(setup),
            redis_queue::definition(setup),
            http_get::definition(setup),
            search_code::definition(setup),
            read_file::definition(setup),
            git_log::definition(setup),
            git_show::definition(setup),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn tool_names(&self) -> Vec<String> {
        self.definitions().into_iter().map(|d| d.name).collect()
    }

    /// Runs one call. Never panics, never writes: unknown tools, bad arguments and refused
    /// reads are `is_error` outputs.
    pub async fn call(
        &self,
        name: &str,
        input: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> ToolOutput {
        let offered = self.tool_names();
        if !offered.iter().any(|offered| offered == name) {
            let offered: Vec<&str> = offered.iter().map(String::as_str).collect();
            let offered = setup::listed(&offered);
            let why = if TOOLS.contains(&name) {
                format!(
                    "the tool {name} is not available here: nothing it reads is configured; tools: {offered}"
                )
            } else {
                format!("there is no tool named {name:?}; tools: {offered}")
            };
            return ToolOutput::failed(name, None, input.to_string(), why);
        }
        let run = self.dispatch(name, input, now);
        match tokio::time::timeout(CALL_TIMEOUT, run).await {
            Ok(output) => output.bounded(),
            Err(_) => ToolOutput::failed(
                name,
                None,
                input.to_string(),
                format!(
                    "{name} took longer than {}s and was stopped: ask for less (a narrower query, a shorter range, a path)",
                    CALL_TIMEOUT.as_secs()
                ),
            ),
        }
    }

    async fn dispatch(
        &self,
        name: &str,
        input: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> ToolOutput {
        let (setup, sources) = (&self.setup, &self.sources);
        match name {
            sql_query::NAME => sql_query::run(setup, sources, input).await,
            describe_table::NAME => describe_table::run(setup, sources, input).await,
            explain::NAME => explain::run(setup, sources, input).await,
            promql::NAME => promql::run(setup, sources, input, now).await,
            logql::NAME => logql::run(setup, sources, input, now).await,
            search_logs::NAME => search_logs::run(setup, input, now).await,
            redis_queue::NAME => redis_queue::run(setup, sources, input, now).await,
            http_get::NAME => http_get::run(setup, sources, input).await,
            search_code::NAME => search_code::run(setup, input).await,
            read_file::NAME => read_file::run(setup, input).await,
            git_log::NAME => git_log::run(setup, input).await,
            git_show::NAME => git_show::run(setup, input).await,
            other => ToolOutput::failed(
                other,
                None,
                input.to_string(),
                format!("there is no tool named {other:?}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_cut_on_a_character_boundary_and_says_so() {
        let text = "é".repeat(MAX_TEXT_BYTES / 2 + 10);
        let output = ToolOutput::done("t", None, "q", text).bounded();
        assert!(output.text.len() <= MAX_TEXT_BYTES + 100);
        assert!(
            output
                .text
                .ends_with("[output cut at 2 MiB: ask for less, e.g. a narrower query]")
        );
        let short = ToolOutput::done("t", None, "q", "ok".into()).bounded();
        assert_eq!(short.text, "ok");
    }

    #[tokio::test]
    async fn with_nothing_configured_no_tool_is_offered_and_calls_are_errors() {
        let toolbox = Toolbox::new(&Config::empty("unused.db".into()), &Sources::default());
        assert!(toolbox.definitions().is_empty());
        // The loop runs calls on any worker thread.
        fn sendable<T: Send>(future: T) -> T {
            future
        }
        let output = sendable(toolbox.call("sql_query", &serde_json::json!({}), Utc::now())).await;
        assert!(output.is_error);
        assert_eq!(
            output.text,
            "the tool sql_query is not available here: nothing it reads is configured; tools: none"
        );
    }
}
