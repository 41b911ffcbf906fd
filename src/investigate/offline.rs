//! The offline investigator: the watch kind's playbook, then deterministic reasoning over
//! what it found. It needs no model and no network beyond the sources the watches already
//! read, so an operator with no key still gets an evidence-backed answer, and it is what a
//! model-backed investigation falls back to when the model fails.

use super::finding::Finding;
use super::playbook::{self, PlaybookContext};
use crate::config::Config;

/// Runs the playbook the case calls for and settles the finding (claims without evidence
/// become guesses; no established cause, no claim of certainty).
pub async fn investigate(ctx: &PlaybookContext<'_>, config: &Config) -> Finding {
    let case = ctx.case;
    let spec = case
        .watch
        .as_ref()
        .and_then(|watch| config.watches.iter().find(|spec| &spec.name == watch));
    let mut finding = match (&case.watch, spec) {
        (None, _) => playbook::overview(ctx).await,
        (Some(_), Some(spec)) => spec.kind.watch().playbook(spec, ctx).await,
        (Some(watch), None) => {
            let mut finding = playbook::from_alert(None, ctx);
            finding.gaps.push(format!(
                "Watch {watch} is no longer in the configuration: only its stored alert was read."
            ));
            finding
        }
    };
    if case.assumed_last_page {
        finding.gaps.insert(
            0,
            format!(
                "The question named no page, so it was taken to be about the last one: {}.",
                case.title()
            ),
        );
    }
    finding.settle();
    finding
}
