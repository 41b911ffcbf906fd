//! `git_log {path?, limit?}`: the latest commits of the app's repository (or of one path in
//! it), one line each: id, date, author, subject.

use super::ToolOutput;
use super::args::{Args, object_schema};
use super::git;
use super::setup::Setup;
use crate::llm::ToolDefinition;

pub(super) const NAME: &str = "git_log";

const DEFAULT_LIMIT: u64 = 20;
const MAX_LIMIT: u64 = 200;

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    setup.repository.as_ref()?;
    Some(ToolDefinition {
        name: NAME.into(),
        description: format!(
            "List the latest commits of the app's repository, newest first (id, date, author, \
             subject), optionally only those touching a path. Default {DEFAULT_LIMIT}, at most \
             {MAX_LIMIT}. git_show shows one."
        ),
        input_schema: object_schema(
            serde_json::json!({
                "path": {"type": "string", "description": "a file or directory relative to the repository"},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            }),
            &[],
        ),
    })
}

/// The argv after `git` for the latest `limit` commits touching `path`.
pub(super) fn argv(path: Option<&str>, limit: u64) -> Vec<String> {
    let mut args: Vec<String> = [
        "log",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--date=iso-strict",
        "--format=%H %ad %an: %s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--max-count={limit}"));
    args.push("--end-of-options".into());
    args.push("--".into());
    if let Some(path) = path {
        args.push(path.to_string());
    }
    args
}

pub(super) async fn run(setup: &Setup, input: &serde_json::Value) -> ToolOutput {
    let Some(root) = setup.repository.as_deref() else {
        return ToolOutput::failed(
            NAME,
            None,
            input.to_string(),
            "no repository is configured".into(),
        );
    };
    let parsed = (|| {
        let args = Args::new(NAME, input, &["path", "limit"])?;
        let path = args
            .optional_text("path", 1_000)?
            .map(git::path)
            .transpose()?;
        let limit = args
            .optional_count("limit", 1, MAX_LIMIT)?
            .unwrap_or(DEFAULT_LIMIT);
        Ok::<_, String>(argv(path, limit))
    })();
    let argv = match parsed {
        Ok(argv) => argv,
        Err(why) => return ToolOutput::failed(NAME, None, input.to_string(), why),
    };
    let shown = git::shown(&argv);
    match git::run(root, &argv).await {
        Ok(output) if output.text.trim().is_empty() => ToolOutput::done(
            NAME,
            None,
            shown,
            "no commits (none touches that path)\n".into(),
        ),
        Ok(output) => ToolOutput::done(NAME, None, shown, output.text),
        Err(why) => ToolOutput::failed(NAME, None, shown, why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_argv_ends_options_before_the_path() {
        let args = argv(Some("src/app.rb"), 5);
        let end = args.iter().position(|a| a == "--end-of-options").unwrap();
        assert_eq!(&args[end..], ["--end-of-options", "--", "src/app.rb"]);
        assert!(args.contains(&"--max-count=5".to_string()));
        assert!(
            args.contains(&"--no-ext-diff".to_string())
                && args.contains(&"--no-textconv".to_string())
        );
        assert_eq!(argv(None, 20).last().unwrap(), "--");
    }
}
