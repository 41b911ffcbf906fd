//! `sentinel investigate`: runs one investigation now, in the foreground, and prints its
//! report: an approved request by its id (`12` or `#12`), a watch's alerts by the watch's
//! name, one page by its notice key, or a question (`--question`) about the last page. It reads production only through
//! the configured sources, as `sentinel run` does, and records the request, its report and
//! its audit trail in the store like any other.
//!
//! Exit codes: 0 the report was printed (also a request that had already ended: its stored
//! report); 1 nothing to investigate (unknown id or watch, a request already taken); 2
//! Sentinel cannot run (configuration, store, a SQL role that can write).

use super::{EXIT_CANNOT_RUN, cannot_run, load_config};
use crate::clock::{SharedClock, SystemClock};
use crate::engine::build;
use crate::investigate::conduct::{Progress, conduct};
use crate::investigate::render;
use crate::notify::dispatch::Channels;
use crate::store::Store;
use crate::store::investigations::RequestStatus;
use crate::store::operator::About;
use std::path::Path;
use std::sync::Arc;

/// Who the store records as asking from the command line.
const CLI_ACTOR: &str = "command line";

/// What to investigate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An approved request, by id.
    Request(i64),
    /// The alerts of a watch, by name.
    Watch(String),
    /// One page, by its notice key (`<watch>/<kind>/<subject>#<incident>`, as webhooks and the
    /// logs carry it).
    Page { watch: String, notice_key: String },
    /// The last page.
    LastPage,
}

impl Target {
    /// `12` or `#12` is a request, `watch/...` a page's notice key; anything else names a
    /// watch.
    pub fn parse(text: Option<&str>) -> Target {
        match text.map(str::trim) {
            None | Some("") => Target::LastPage,
            Some(text) => match text.trim_start_matches('#').parse::<i64>() {
                Ok(id) => Target::Request(id),
                Err(_) => match text.split_once('/') {
                    Some((watch, _)) => Target::Page {
                        watch: watch.to_string(),
                        notice_key: text.to_string(),
                    },
                    None => Target::Watch(text.to_string()),
                },
            },
        }
    }
}

pub async fn run(config_path: &Path, target: Target, question: Option<&str>, json: bool) -> i32 {
    investigate(config_path, target, question, json)
        .await
        .unwrap_or_else(|code| code)
}

async fn investigate(
    config_path: &Path,
    target: Target,
    question: Option<&str>,
    json: bool,
) -> Result<i32, i32> {
    let config = load_config(config_path)?;
    build::judge_roles(&config, None)
        .await
        .map_err(cannot_run)?;
    let store = Store::open(&config.store.path).await.map_err(cannot_run)?;
    let clock: SharedClock = Arc::new(SystemClock);
    let now = clock.now();
    let id = match &target {
        Target::Request(id) => *id,
        Target::Watch(watch) | Target::Page { watch, .. } => {
            if !config.watches.iter().any(|spec| &spec.name == watch) {
                eprintln!(
                    "no watch named {watch:?}: give a request id (sentinel investigations lists them), a watch of {} or a page's notice key",
                    config_path.display()
                );
                store.close().await;
                return Ok(1);
            }
            let question = question.map_or_else(|| format!("Investigate: {watch}"), str::to_string);
            let notice_key = match &target {
                Target::Page { notice_key, .. } => Some(notice_key.as_str()),
                _ => None,
            };
            let about = About {
                watch: Some(watch),
                notice_key,
                ..About::default()
            };
            store
                .add_investigation_request(CLI_ACTOR, about, &question, now)
                .await
                .map_err(cannot_run)?
        }
        Target::LastPage => {
            let Some(question) = question else {
                eprintln!(
                    "say what to investigate: a request id, a watch name, or --question \"...\""
                );
                store.close().await;
                return Ok(EXIT_CANNOT_RUN);
            };
            store
                .add_investigation_request(CLI_ACTOR, About::default(), question, now)
                .await
                .map_err(cannot_run)?
        }
    };
    let code = match store
        .claim_investigation_id(id, now)
        .await
        .map_err(cannot_run)?
    {
        Some(request) => {
            // Nothing is delivered from here: the report is printed.
            let engine = build::engine(config, store.clone(), clock, Channels { list: Vec::new() })
                .map_err(cannot_run)?;
            match conduct(&engine, request, &Progress::default()).await {
                Ok(report) => {
                    if json {
                        println!("{}", render::json(&report));
                    } else {
                        print!("{}", render::markdown(&report));
                    }
                    0
                }
                Err(error) => cannot_run(error),
            }
        }
        None => print_ended(&store, id, json).await?,
    };
    store.close().await;
    Ok(code)
}

/// A request that was not waiting: its stored report when it has one, else why not.
async fn print_ended(store: &Store, id: i64, json: bool) -> Result<i32, i32> {
    let Some(request) = store.investigation_request(id).await.map_err(cannot_run)? else {
        eprintln!("no investigation request #{id}: sentinel investigations lists them");
        return Ok(1);
    };
    match store.report(id).await.map_err(cannot_run)? {
        Some(report) => {
            if json {
                println!("{}", report.json);
            } else {
                print!("{}", report.markdown);
            }
            Ok(0)
        }
        None if request.status == RequestStatus::Running => {
            eprintln!(
                "request #{id} is running now (in sentinel run); sentinel investigations show {id} prints its report when it ends"
            );
            Ok(1)
        }
        None => {
            eprintln!("request #{id} ended without a report ({})", request.status);
            Ok(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_a_request_and_anything_else_a_watch() {
        assert_eq!(Target::parse(Some("12")), Target::Request(12));
        assert_eq!(Target::parse(Some("#7")), Target::Request(7));
        assert_eq!(
            Target::parse(Some("backup")),
            Target::Watch("backup".into())
        );
        assert_eq!(Target::parse(None), Target::LastPage);
        assert_eq!(Target::parse(Some(" ")), Target::LastPage);
    }
}
