//! `git_show {commit, path?}`: one commit of the app's repository: its id, author, date and
//! message, which files it changed, and its diff (of one path, if given). Environment files
//! are left out of the diff.

use super::ToolOutput;
use super::args::{Args, object_schema};
use super::git;
use super::setup::Setup;
use crate::llm::ToolDefinition;

pub(super) const NAME: &str = "git_show";

pub(super) fn definition(setup: &Setup) -> Option<ToolDefinition> {
    setup.repository.as_ref()?;
    Some(ToolDefinition {
        name: NAME.into(),
        description: "Show one commit of the app's repository: message, author, date, the \
                      files it changed and its diff, optionally only for one path. commit is \
                      an id (from git_log), a branch or tag, or HEAD~N."
            .into(),
        input_schema: object_schema(
            serde_json::json!({
                "commit": {"type": "string", "description": "a commit id, branch, tag or HEAD~N"},
                "path": {"type": "string", "description": "only this file or directory, relative to the repository"},
            }),
            &["commit"],
        ),
    })
}

/// The argv after `git` to show `revision`, limited to `path`.
pub(super) fn argv(revision: &str, path: Option<&str>) -> Vec<String> {
    let mut args: Vec<String> = [
        "show",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--stat",
        "--patch",
        "--date=iso-strict",
        "--format=commit %H%nAuthor: %an%nDate: %ad%n%n%B",
        "--end-of-options",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(revision.to_string());
    args.push("--".into());
    args.push(path.unwrap_or(".").to_string());
    args.extend(git::WITHHELD_PATHSPECS.iter().map(|s| s.to_string()));
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
        let args = Args::new(NAME, input, &["commit", "path"])?;
        let revision = git::revision(args.text("commit", 200)?)?;
        let path = args
            .optional_text("path", 1_000)?
            .map(git::path)
            .transpose()?;
        Ok::<_, String>(argv(revision, path))
    })();
    let argv = match parsed {
        Ok(argv) => argv,
        Err(why) => return ToolOutput::failed(NAME, None, input.to_string(), why),
    };
    let shown = git::shown(&argv);
    match git::run(root, &argv).await {
        Ok(output) => {
            let mut text = output.text;
            if output.cut {
                text.push_str(
                    "\n[the commit is larger than 1 MiB: cut here; give a path to see one file]\n",
                );
            }
            ToolOutput::done(NAME, None, shown, text)
        }
        Err(why) => ToolOutput::failed(
            NAME,
            None,
            shown,
            format!("{why}; git_log lists the commits"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revision_comes_after_end_of_options_and_env_files_are_excluded() {
        let args = argv("HEAD~1", Some("src"));
        let end = args.iter().position(|a| a == "--end-of-options").unwrap();
        assert_eq!(args[end + 1], "HEAD~1");
        assert_eq!(args[end + 2], "--");
        assert_eq!(args[end + 3], "src");
        assert!(args.ends_with(&[
            ":(exclude,glob)**/.env".to_string(),
            ":(exclude,glob)**/.env.*".to_string()
        ]));
        assert_eq!(argv("abc1234", None)[end + 3], ".");
    }
}
