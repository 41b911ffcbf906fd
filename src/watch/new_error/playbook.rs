//! The new_error playbook: the template and what the watch counted of it (first seen, how
//! often, an example), the log lines around its latest occurrence, and, with the app's
//! repository, the code that logs it and the commit that last changed that code: the line to
//! fix, and the deploy that likely brought the error.

use super::code::{self, CodeHit, Needle, Search};
use super::core::Candidate;
use super::git::{self, Commit};
use crate::config::{LogFeed, NewErrorSpec, WatchSpec};
use crate::humanize;
use crate::investigate::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::investigate::playbook::{self, PlaybookContext};
use crate::logs::client_input::{client_input_failure, is_infrastructure_failure};
use crate::logs::readable::readable_template;
use crate::logs::redact::redact;
use crate::source::logfile::LogLine;
use crate::watch::log_feed::recent::recent;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// A commit this long before the error first appeared (or less) may have brought it.
const RECENT_CHANGE: chrono::Duration = chrono::Duration::days(14);

/// A commit up to this long after the first occurrence still counts as before it (clocks).
const CLOCK_SLACK: chrono::Duration = chrono::Duration::minutes(5);

/// The log read reaches back at most this far.
const LOG_LOOKBACK: chrono::Duration = chrono::Duration::hours(6);

/// Log lines shown on each side of the latest occurrence, and characters of each.
const CONTEXT_LINES: usize = 3;
const LINE_CHARS: usize = 240;

/// Commits of the file listed.
const FILE_COMMITS: usize = 5;

/// What the store says of the template.
pub(crate) struct TemplateSeen<'a> {
    /// As the operator reads it.
    pub text: &'a str,
    pub first_seen: Option<DateTime<Utc>>,
    pub total: Option<u64>,
    /// An occurrence, redacted.
    pub example: &'a str,
    pub id: &'a str,
}

/// What the log read found.
pub(crate) struct LogsSeen<'a> {
    pub matches: usize,
    pub read: usize,
    /// The latest occurrence's time, as the line gives it.
    pub latest: Option<&'a str>,
    pub id: &'a str,
}

/// What the repository search found.
pub(crate) enum CodeSeen<'a> {
    /// No repository is configured.
    NotSearched,
    /// Searched; no line matches.
    Nothing {
        id: &'a str,
    },
    Found {
        hit: &'a CodeHit,
        id: &'a str,
    },
}

/// The commit that last changed the code found.
pub(crate) struct ChangeSeen<'a> {
    pub commit: &'a Commit,
    /// It changed the line itself (else only the file is known).
    pub of_line: bool,
    pub id: &'a str,
}

pub(crate) struct Seen<'a> {
    pub template: Option<TemplateSeen<'a>>,
    pub logs: Option<LogsSeen<'a>>,
    pub code: CodeSeen<'a>,
    pub change: Option<ChangeSeen<'a>>,
    /// The repository as commands name it.
    pub repository: Option<&'a str>,
    /// A command to follow the error in its log, when the feed is files.
    pub follow: Option<String>,
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Judges what was read about a new error. Pure: the playbook reads, this reasons.
pub(crate) fn judge(finding: &mut Finding, seen: &Seen<'_>) {
    let Some(template) = &seen.template else {
        finding.gaps.push(
            "The store no longer holds this error's template, so its occurrences could not be looked for."
                .into(),
        );
        finding.verdict = Verdict::Inconclusive;
        return;
    };
    let seen_facts: Vec<String> = [
        template
            .first_seen
            .map(|at| format!("first seen {}", when(at))),
        template.total.map(|n| format!("{n} times since")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let seen_facts = seen_facts.join(", ");
    finding.summary = if seen_facts.is_empty() {
        format!("New error “{}”.", template.text)
    } else {
        format!("New error “{}”: {seen_facts}.", template.text)
    };
    finding.hypotheses.push(Hypothesis::known(
        if seen_facts.is_empty() {
            format!("An error never seen before appeared: “{}”.", template.text)
        } else {
            format!(
                "An error never seen before appeared: “{}” ({seen_facts}).",
                template.text
            )
        },
        &[template.id],
    ));
    finding.verdict = Verdict::ActionNeeded;
    finding.confidence = Confidence::MEDIUM;
    match &seen.logs {
        Some(logs) if logs.matches > 0 => {
            let latest = logs
                .latest
                .map(|at| format!(", the latest at {at}"))
                .unwrap_or_default();
            finding.hypotheses.push(Hypothesis::known(
                format!(
                    "It is still being logged: {} of the {} lines read{latest}.",
                    logs.matches, logs.read
                ),
                &[logs.id],
            ));
        }
        Some(logs) => {
            finding.hypotheses.push(Hypothesis::guessed(
                format!(
                    "It may have stopped: none of the {} lines read is one.",
                    logs.read
                ),
                &[logs.id],
            ));
            finding.verdict = Verdict::ActionSuggested;
        }
        None => {}
    }
    let infrastructure = is_infrastructure_failure(template.example);
    if infrastructure && seen.logs.as_ref().is_some_and(|logs| logs.matches == 0) {
        finding.summary = format!(
            "{} It reports a failing dependency and is no longer in the log: it has recovered.",
            finding.summary
        );
        finding.hypotheses.push(Hypothesis::guessed(
            "Something the app depends on failed for a while (refused, timed out, exhausted) and has recovered.",
            &[template.id],
        ));
        finding.verdict = Verdict::NoAction;
        finding.classification = Classification::Transient;
        finding.steps.push(Step::say(
            "Nothing now; if it comes back, look at the service the error names.",
        ));
        return;
    }
    let bad_input = client_input_failure(template.example);
    match &seen.code {
        CodeSeen::Found { hit, id } => {
            let how = if hit.from_trace {
                "its stack trace points at"
            } else {
                "it is logged at"
            };
            finding.hypotheses.push(Hypothesis::known(
                format!(
                    "In the app's code, {how} {}:{}: `{}`",
                    hit.path, hit.line, hit.code
                ),
                &[id],
            ));
            finding.summary = format!(
                "{} In the code: {}:{}.",
                finding.summary, hit.path, hit.line
            );
            finding.confidence = Confidence::new(0.7);
            if infrastructure {
                finding.hypotheses.push(Hypothesis::guessed(
                    "The code reports a failure of something it depends on (refused, timed out, exhausted), not a mistake of its own.",
                    &[template.id],
                ));
                finding.classification = Classification::OpsOrConfig;
                finding.steps.push(Step::say(
                    "Check the service the error names; the code only reports it.",
                ));
            } else {
                finding.classification = Classification::DurableCodeBug;
                if let Some(failure) = &bad_input {
                    finding.hypotheses.push(Hypothesis::guessed(
                        format!(
                            "It fails on input it does not check ({}): it should refuse the input, not fail on it.",
                            failure.label
                        ),
                        &[template.id],
                    ));
                }
                finding.steps.push(Step::say(format!(
                    "Fix the code at {}:{} so that it no longer fails this way (see the lines around it in the evidence).",
                    hit.path, hit.line
                )));
            }
            if let Some(change) = &seen.change {
                judge_change(finding, template, hit, change, seen.repository);
            }
        }
        CodeSeen::Nothing { id } => {
            finding.hypotheses.push(Hypothesis::guessed(
                "It does not come from the app's own code: no file of the repository has its words (a library, or another program writing to this log).",
                &[id],
            ));
            if infrastructure {
                finding.classification = Classification::OpsOrConfig;
            }
        }
        CodeSeen::NotSearched => {
            if infrastructure {
                finding.hypotheses.push(Hypothesis::guessed(
                    "It reports a failure of something the app depends on (refused, timed out, exhausted).",
                    &[template.id],
                ));
                finding.classification = Classification::OpsOrConfig;
            }
        }
    }
    if let Some(follow) = &seen.follow {
        finding
            .steps
            .push(Step::run("Follow it in the log", follow.clone()));
    }
}

fn judge_change(
    finding: &mut Finding,
    template: &TemplateSeen<'_>,
    hit: &CodeHit,
    change: &ChangeSeen<'_>,
    repository: Option<&str>,
) {
    let commit = change.commit;
    let what = if change.of_line {
        format!("last changed {}:{}", hit.path, hit.line)
    } else {
        format!("last changed {}", hit.path)
    };
    let Some(first) = template.first_seen else {
        finding.hypotheses.push(Hypothesis::guessed(
            format!("Commit {} {what}.", commit.line()),
            &[change.id],
        ));
        return;
    };
    if commit.at > first + CLOCK_SLACK {
        finding.hypotheses.push(Hypothesis::guessed(
            format!(
                "The code changed after the error appeared (commit {}): a fix may be waiting to be deployed.",
                commit.line()
            ),
            &[change.id],
        ));
    } else if first - commit.at <= RECENT_CHANGE {
        let before = humanize::duration((first - commit.at).to_std().unwrap_or_default());
        finding.hypotheses.push(Hypothesis::guessed(
            format!(
                "Brought by commit {}, which {what} {before} before the error first appeared.",
                commit.line()
            ),
            &[change.id],
        ));
        finding.summary = format!(
            "{} Likely brought by commit {} (“{}”, {}).",
            finding.summary,
            commit.hash,
            commit.subject,
            when(commit.at)
        );
        finding.confidence = Confidence::HIGH;
        if let Some(repository) = repository {
            finding.steps.push(Step::run(
                "See what that commit changed",
                format!(
                    "git -C {repository} show {} -- {}",
                    commit.hash,
                    shell_quote(&hit.path)
                ),
            ));
        }
    } else {
        let before = humanize::duration((first - commit.at).to_std().unwrap_or_default());
        finding.hypotheses.push(Hypothesis::discarded(
            format!("A recent change of that code brought it (it {what} {before} before the error appeared)."),
            &[change.id],
        ));
        finding.hypotheses.push(Hypothesis::guessed(
            "The code is old: new input, data or a changed dependency now reaches it.",
            &[],
        ));
    }
}

/// The template's constant words that occur in its example, in order: what a log line of it
/// contains (a stack trace's template holds words of its signature that the lines do not).
pub(crate) fn log_words(template: &str, example: &str) -> Vec<String> {
    template
        .split_whitespace()
        .filter(|t| !t.contains("<*>"))
        .map(|t| t.trim_matches(|c: char| "()[]{}\"'.,;:".contains(c)))
        .filter(|w| w.chars().count() >= 2 && example.contains(w))
        .map(str::to_string)
        .collect()
}

/// Whether `line` holds `words` in order.
pub(crate) fn holds_in_order(line: &str, words: &[String]) -> bool {
    let mut rest = line;
    for word in words {
        match rest.find(word.as_str()) {
            Some(at) => rest = &rest[at + word.len()..],
            None => return false,
        }
    }
    !words.is_empty()
}

/// The evidence text of the log read: how many lines match, and the lines around the latest.
fn describe_lines(lines: &[LogLine], matching: &[usize]) -> String {
    let Some(&latest) = matching.last() else {
        return format!("none of the {} lines read matches", lines.len());
    };
    let mut text = format!("{} of the {} lines read match", matching.len(), lines.len());
    if let (Some(first), Some(last)) = (
        lines[matching[0]].at.as_deref(),
        lines[latest].at.as_deref(),
    ) {
        let _ = write!(text, "; first {first}, latest {last}");
    }
    text.push_str("\naround the latest:\n");
    let path = &lines[latest].path;
    let from = latest.saturating_sub(CONTEXT_LINES);
    let to = (latest + CONTEXT_LINES).min(lines.len() - 1);
    for (index, line) in lines.iter().enumerate().take(to + 1).skip(from) {
        if &line.path != path {
            continue;
        }
        let mark = if index == latest { '>' } else { ' ' };
        let shown: String = line.line.chars().take(LINE_CHARS).collect();
        let _ = writeln!(text, "{mark} {}", redact(&shown));
    }
    text
}

fn describe_template(
    id: u64,
    text: &str,
    first_seen: Option<DateTime<Utc>>,
    total: Option<u64>,
    candidate: Option<&Candidate>,
) -> String {
    let mut out = format!("template {id}: {text}\n");
    if let Some(at) = first_seen {
        let _ = writeln!(out, "first seen {}", when(at));
    }
    if let Some(total) = total {
        let _ = writeln!(out, "{total} times since");
    }
    if let Some(candidate) = candidate {
        let _ = writeln!(
            out,
            "{} times in the current window, in {}",
            candidate.seen.len(),
            candidate.path.display()
        );
        let example: Vec<&str> = candidate.example.lines().take(12).collect();
        let _ = writeln!(out, "example:\n{}", example.join("\n"));
    }
    out
}

fn describe_search(search: &Search) -> String {
    if search.hits.is_empty() {
        return format!("no matching line in the {} files read", search.files);
    }
    let mut text = String::new();
    for hit in &search.hits {
        let how = if hit.from_trace {
            "named by the stack trace"
        } else {
            "has the error's words"
        };
        let _ = writeln!(text, "{}:{} ({how})\n{}", hit.path, hit.line, hit.excerpt);
    }
    if search.cut {
        text.push_str(
            "(the repository was searched in part: it is larger than the search's bounds)\n",
        );
    }
    text
}

/// `text` as one POSIX shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Reads the template, the log, the code and its history, then judges them.
pub(crate) async fn run(
    spec: &WatchSpec,
    new_error: &NewErrorSpec,
    ctx: &PlaybookContext<'_>,
) -> Finding {
    let (mut finding, alert) = playbook::begin(ctx);
    let Some(alert) = alert else {
        return finding;
    };
    let Some(template_id) = alert
        .subject
        .strip_prefix("template ")
        .and_then(|n| n.parse::<u64>().ok())
    else {
        finding.gaps.push(format!(
            "The alert's subject {:?} names no template.",
            alert.subject
        ));
        return finding;
    };
    let record = match ctx.store.load_templates(&spec.name).await {
        Ok(records) => records.into_iter().find(|r| r.id == template_id),
        Err(error) => {
            finding
                .gaps
                .push(format!("The learned templates could not be read: {error}"));
            None
        }
    };
    let candidates: BTreeMap<u64, Candidate> =
        match ctx.store.remembered(&spec.name, "", "candidates").await {
            Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_else(|error| {
                finding
                    .gaps
                    .push(format!("What the watch counted cannot be read: {error}"));
                BTreeMap::new()
            }),
            Ok(None) => BTreeMap::new(),
            Err(error) => {
                finding
                    .gaps
                    .push(format!("What the watch counted could not be read: {error}"));
                BTreeMap::new()
            }
        };
    let candidate = candidates.get(&template_id);
    let example = candidate.map(|c| c.example.clone()).unwrap_or_else(|| {
        alert
            .facts
            .iter()
            .find_map(|fact| fact.strip_prefix("e.g. "))
            .unwrap_or_default()
            .to_string()
    });
    let first_seen = candidate.map(|c| c.first_seen).or_else(|| {
        record
            .as_ref()
            .and_then(|r| DateTime::from_timestamp_millis(r.first_seen))
    });
    let total = candidate
        .map(|c| c.total)
        .or(record.as_ref().map(|r| r.count));
    let raw = record.as_ref().map(|r| r.template.clone());
    let readable = raw
        .as_deref()
        .map(|raw| redact(&readable_template(raw, &example)));
    let template_id_evidence = readable.as_ref().map(|text| {
        finding.evidence.add(
            "store",
            None,
            format!(
                "template {template_id} of watch {} and what the watch counted of it",
                spec.name
            ),
            &describe_template(template_id, text, first_seen, total, candidate),
            ctx.now,
        )
    });

    // The log around its latest occurrence.
    let words = raw
        .as_deref()
        .map(|raw| log_words(raw, &example))
        .unwrap_or_default();
    let window = chrono::Duration::from_std(new_error.window).unwrap_or_default();
    let since = (first_seen.unwrap_or(alert.broken_since) - window).max(ctx.now - LOG_LOOKBACK);
    let mut logs: Option<(usize, usize, Option<String>, String)> = None;
    if !words.is_empty() {
        match recent(
            &new_error.feed,
            new_error.format,
            ctx.sources,
            since,
            ctx.now,
        )
        .await
        {
            Ok(read) => {
                let matching: Vec<usize> = read
                    .lines
                    .iter()
                    .enumerate()
                    .filter(|(_, line)| holds_in_order(&line.line, &words))
                    .map(|(i, _)| i)
                    .collect();
                let latest = matching.last().and_then(|i| read.lines[*i].at.clone());
                let id = finding.evidence.add(
                    read.tool,
                    read.source.as_deref(),
                    format!("{} (lines holding “{}”)", read.query, words.join(" … ")),
                    &describe_lines(&read.lines, &matching),
                    ctx.now,
                );
                logs = Some((matching.len(), read.lines.len(), latest, id));
            }
            Err(error) => finding
                .gaps
                .push(format!("The log could not be read: {error}")),
        }
    } else if raw.is_some() {
        finding.gaps.push(
            "The template has no constant words to find its lines by: the log was not searched."
                .into(),
        );
    }

    // The code that logs it, and its history.
    let needle = raw.as_deref().and_then(Needle::of);
    let frames = code::frames(&example);
    let mut found: Option<(Search, String)> = None;
    match ctx.repository {
        None => finding.gaps.push(
            "No repository is configured ([investigator] repository): the code that logs it was not looked for."
                .into(),
        ),
        Some(_) if needle.is_none() && frames.is_empty() => finding.gaps.push(
            "The error has too few constant words and no stack trace to find it in the code."
                .into(),
        ),
        Some(repository) => {
            let root = repository.to_path_buf();
            let looking = needle.clone();
            let traced = frames.clone();
            let searched = tokio::task::spawn_blocking(move || {
                code::search(&root, looking.as_ref(), &traced)
            })
            .await;
            match searched {
                Ok(Ok(search)) => {
                    let mut query = format!("the text files of {}", repository.display());
                    if let Some(needle) = &needle {
                        let _ = write!(query, ", lines with “{}” or most of {:?}", needle.phrase, needle.words);
                    }
                    if !frames.is_empty() {
                        let _ = write!(query, ", and the files of its stack trace");
                    }
                    let id = finding
                        .evidence
                        .add("code", None, query, &describe_search(&search), ctx.now);
                    found = Some((search, id));
                }
                Ok(Err(error)) => finding.gaps.push(format!(
                    "The repository {} could not be read: {error}",
                    repository.display()
                )),
                Err(error) => finding
                    .gaps
                    .push(format!("The repository search failed: {error}")),
            }
        }
    }
    let hit = found.as_ref().and_then(|(search, _)| search.hits.first());
    let mut change: Option<(Commit, bool, String)> = None;
    if let (Some(hit), Some(repository)) = (hit, ctx.repository) {
        if git::is_clone(repository) {
            change = history(&mut finding, repository, hit, ctx.now).await;
        } else {
            finding.gaps.push(format!(
                "{} is not a git clone: the change that brought the error was not looked for.",
                repository.display()
            ));
        }
    }

    let follow = match (&new_error.feed, words.is_empty()) {
        (LogFeed::Files { pattern }, false) => {
            let phrase = needle
                .as_ref()
                .map(|n| n.phrase.clone())
                .filter(|p| words.iter().any(|w| p.contains(w.as_str())))
                .unwrap_or_else(|| {
                    words
                        .iter()
                        .max_by_key(|w| w.len())
                        .cloned()
                        .unwrap_or_default()
                });
            Some(format!(
                "grep -h -F {} {pattern} | tail -20",
                shell_quote(&phrase)
            ))
        }
        _ => None,
    };
    let repository = ctx.repository.map(|r| r.display().to_string());
    let seen = Seen {
        template: readable
            .as_deref()
            .zip(template_id_evidence.as_deref())
            .map(|(text, id)| TemplateSeen {
                text,
                first_seen,
                total,
                example: &example,
                id,
            }),
        logs: logs.as_ref().map(|(matches, read, latest, id)| LogsSeen {
            matches: *matches,
            read: *read,
            latest: latest.as_deref(),
            id,
        }),
        code: match (&found, hit) {
            (Some((_, id)), Some(hit)) => CodeSeen::Found { hit, id },
            (Some((_, id)), None) => CodeSeen::Nothing { id },
            (None, _) => CodeSeen::NotSearched,
        },
        change: change.as_ref().map(|(commit, of_line, id)| ChangeSeen {
            commit,
            of_line: *of_line,
            id,
        }),
        repository: repository.as_deref(),
        follow,
    };
    judge(&mut finding, &seen);
    finding
}

/// The commit that last changed the hit's line (else its file), recorded with the file's last
/// commits; failures are gaps.
async fn history(
    finding: &mut Finding,
    repository: &Path,
    hit: &CodeHit,
    now: DateTime<Utc>,
) -> Option<(Commit, bool, String)> {
    let line_args = git::line_log(&hit.path, hit.line);
    let file_args = git::file_log(&hit.path, FILE_COMMITS);
    let line = git::run(repository, &line_args).await;
    let file = git::run(repository, &file_args).await;
    let mut text = String::new();
    let line_commit = match &line {
        Ok(out) => git::parse_log(out).into_iter().next(),
        Err(error) => {
            finding.gaps.push(format!(
                "git could not say who changed {}:{}: {error}",
                hit.path, hit.line
            ));
            None
        }
    };
    let file_commits = match &file {
        Ok(out) => git::parse_log(out),
        Err(error) => {
            finding.gaps.push(format!(
                "git could not list the commits of {}: {error}",
                hit.path
            ));
            Vec::new()
        }
    };
    if line.is_err() && file.is_err() {
        return None;
    }
    if let Some(commit) = &line_commit {
        let _ = writeln!(text, "line {} last changed by {}", hit.line, commit.line());
    }
    let _ = writeln!(text, "last commits of {}:", hit.path);
    for commit in &file_commits {
        let _ = writeln!(text, "{}", commit.line());
    }
    let id = finding.evidence.add(
        "git",
        None,
        format!(
            "{}; {}",
            git::shown(repository, &line_args),
            git::shown(repository, &file_args)
        ),
        &redact(&text),
        now,
    );
    match line_commit {
        Some(commit) => Some((commit, true, id)),
        None => file_commits
            .into_iter()
            .next()
            .map(|commit| (commit, false, id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::finding::Basis;
    use std::path::PathBuf;

    fn t(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    const EXAMPLE: &str = "2026-11-25T16:21:00Z ERROR invalid input syntax for type uuid: \"a21x-16\" (GET /orders/a21x-16)";

    fn hit() -> CodeHit {
        CodeHit {
            path: "shop/orders.py".into(),
            line: 42,
            code: "log.error(f\"invalid input syntax for type uuid: {raw!r} (GET {path})\")".into(),
            excerpt: "...".into(),
            from_trace: false,
        }
    }

    fn commit(at: &str) -> Commit {
        Commit {
            hash: "9f3c2ab".into(),
            at: t(at),
            author: "Dev".into(),
            subject: "Look orders up by their public id".into(),
        }
    }

    struct Case {
        example: &'static str,
        logs: Option<usize>,
        code: Option<Option<CodeHit>>,
        change: Option<(Commit, bool)>,
    }

    fn judged(case: Case) -> Finding {
        let mut finding = Finding::open("");
        let now = t("2026-11-25T17:00:00Z");
        let template_id = finding.evidence.add("store", None, "template", "..", now);
        let logs_id = finding.evidence.add("logs", None, "app.log", "..", now);
        let code_id = finding.evidence.add("code", None, "repo", "..", now);
        let git_id = finding.evidence.add("git", None, "git log", "..", now);
        let found = case.code.clone().flatten();
        let seen = Seen {
            template: Some(TemplateSeen {
                text: "ERROR invalid input syntax for type uuid: \"<*>\" (GET <*>)",
                first_seen: Some(t("2026-11-25T16:20:00Z")),
                total: Some(12),
                example: case.example,
                id: &template_id,
            }),
            logs: case.logs.map(|matches| LogsSeen {
                matches,
                read: 500,
                latest: Some("2026-11-25T16:58:00Z"),
                id: &logs_id,
            }),
            code: match (&case.code, &found) {
                (None, _) => CodeSeen::NotSearched,
                (Some(_), None) => CodeSeen::Nothing { id: &code_id },
                (Some(_), Some(hit)) => CodeSeen::Found { hit, id: &code_id },
            },
            change: case.change.as_ref().map(|(commit, of_line)| ChangeSeen {
                commit,
                of_line: *of_line,
                id: &git_id,
            }),
            repository: Some("/srv/shop"),
            follow: Some("grep -h -F 'invalid input syntax' /var/log/app/*.log | tail -20".into()),
        };
        judge(&mut finding, &seen);
        finding.settle();
        finding
    }

    #[test]
    fn the_code_line_and_a_recent_commit_make_a_code_bug_with_its_deploy() {
        let finding = judged(Case {
            example: EXAMPLE,
            logs: Some(7),
            code: Some(Some(hit())),
            change: Some((commit("2026-11-25T15:50:00Z"), true)),
        });
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert_eq!(finding.classification, Classification::DurableCodeBug);
        assert!(finding.confidence >= Confidence::HIGH);
        assert!(
            finding.summary.contains("shop/orders.py:42"),
            "{}",
            finding.summary
        );
        assert!(finding.summary.contains("9f3c2ab"), "{}", finding.summary);
        assert!(
            finding.steps.iter().any(|s| s.command.as_deref()
                == Some("git -C /srv/shop show 9f3c2ab -- 'shop/orders.py'"))
        );
        assert!(
            finding
                .hypotheses
                .iter()
                .any(|h| h.statement.contains("30m before the error first appeared")),
            "{:?}",
            finding.hypotheses
        );
    }

    #[test]
    fn old_code_rules_a_recent_change_out_and_a_later_commit_may_be_the_fix() {
        let old = judged(Case {
            example: EXAMPLE,
            logs: Some(7),
            code: Some(Some(hit())),
            change: Some((commit("2026-06-01T10:00:00Z"), true)),
        });
        assert!(
            old.hypotheses
                .iter()
                .any(|h| !h.kept && h.statement.contains("recent change"))
        );
        assert!(!old.summary.contains("9f3c2ab"));
        assert!(old.confidence < Confidence::HIGH);

        let later = judged(Case {
            example: EXAMPLE,
            logs: Some(7),
            code: Some(Some(hit())),
            change: Some((commit("2026-11-25T16:45:00Z"), false)),
        });
        assert!(
            later
                .hypotheses
                .iter()
                .any(|h| h.statement.contains("fix may be waiting"))
        );
    }

    #[test]
    fn an_infrastructure_failure_in_the_code_is_ops_not_a_code_bug() {
        let finding = judged(Case {
            example: "ERROR payment gateway: connection refused (os error 111)",
            logs: Some(3),
            code: Some(Some(hit())),
            change: None,
        });
        assert_eq!(finding.classification, Classification::OpsOrConfig);
    }

    #[test]
    fn without_the_code_it_is_not_called_a_code_bug() {
        let unsearched = judged(Case {
            example: EXAMPLE,
            logs: Some(3),
            code: None,
            change: None,
        });
        assert_eq!(unsearched.classification, Classification::Unknown);
        assert_eq!(unsearched.verdict, Verdict::ActionNeeded);
        assert!(unsearched.steps.iter().any(|s| s.command.is_some()));

        let elsewhere = judged(Case {
            example: EXAMPLE,
            logs: Some(3),
            code: Some(None),
            change: None,
        });
        assert_eq!(elsewhere.classification, Classification::Unknown);
        assert!(
            elsewhere
                .hypotheses
                .iter()
                .any(|h| h.statement.contains("not come from the app's own code"))
        );
    }

    #[test]
    fn a_dependency_failure_that_stopped_needs_nothing() {
        let finding = judged(Case {
            example: "ERROR cache: connection refused (os error 111)",
            logs: Some(0),
            code: Some(Some(hit())),
            change: None,
        });
        assert_eq!(finding.verdict, Verdict::NoAction);
        assert_eq!(finding.classification, Classification::Transient);
        assert!(finding.summary.contains("recovered"), "{}", finding.summary);
    }

    #[test]
    fn an_error_no_longer_in_the_log_asks_less() {
        let finding = judged(Case {
            example: EXAMPLE,
            logs: Some(0),
            code: None,
            change: None,
        });
        assert_eq!(finding.verdict, Verdict::ActionSuggested);
        assert!(finding.hypotheses.iter().any(|h| h.basis == Basis::Guessed));
    }

    #[test]
    fn a_template_the_store_forgot_is_inconclusive() {
        let mut finding = Finding::open("");
        judge(
            &mut finding,
            &Seen {
                template: None,
                logs: None,
                code: CodeSeen::NotSearched,
                change: None,
                repository: None,
                follow: None,
            },
        );
        assert_eq!(finding.verdict, Verdict::Inconclusive);
        assert!(!finding.gaps.is_empty());
    }

    #[test]
    fn log_lines_are_found_by_the_template_s_words_in_order() {
        let words = log_words(
            "ERROR invalid input syntax for type uuid: <*> (GET <*>",
            EXAMPLE,
        );
        assert_eq!(
            words,
            [
                "ERROR", "invalid", "input", "syntax", "for", "type", "uuid", "GET"
            ]
        );
        assert!(holds_in_order(EXAMPLE, &words));
        assert!(!holds_in_order(
            "GET /x ERROR invalid input syntax for type uuid",
            &words
        ));
        assert!(!holds_in_order("anything", &[]));
        let traced = log_words(
            "ValueError ValueError|orders.py:load",
            "Traceback ...\nValueError: bad",
        );
        assert_eq!(traced, ["ValueError"]);
    }

    #[test]
    fn the_log_evidence_shows_the_lines_around_the_latest_occurrence() {
        let line = |n: usize, text: &str| LogLine {
            path: PathBuf::from("/var/log/app.log"),
            offset: n as u64,
            line: text.to_string(),
            level: None,
            at: Some(format!("2026-11-25T16:{n:02}:00Z")),
            truncated: false,
            history: false,
        };
        let lines: Vec<LogLine> = (0..10)
            .map(|n| {
                if n == 2 || n == 6 {
                    line(n, "ERROR boom for bob@example.com")
                } else {
                    line(n, &format!("INFO step {n}"))
                }
            })
            .collect();
        let text = describe_lines(&lines, &[2, 6]);
        assert!(text.starts_with("2 of the 10 lines read match; first 2026-11-25T16:02:00Z, latest 2026-11-25T16:06:00Z"), "{text}");
        assert!(text.contains("> ERROR boom for <email>"), "{text}");
        assert!(
            text.contains("  INFO step 3") && text.contains("  INFO step 9"),
            "{text}"
        );
        assert!(!text.contains("step 1"), "{text}");
        assert_eq!(
            describe_lines(&lines, &[]),
            "none of the 10 lines read matches"
        );
    }
}
