//! The heartbeat playbook: the job's last pings and its last output, and what they say about
//! the run that did not happen (it never started, it failed and how, or it hung).

use crate::config::WatchSpec;
use crate::investigate::finding::{Classification, Confidence, Finding, Hypothesis, Step, Verdict};
use crate::investigate::playbook::{self, PlaybookContext};
use crate::store::heartbeats::RecentPing;
use chrono::{DateTime, Utc};

/// How many pings the evidence shows.
const PINGS_SHOWN: u32 = 12;

/// Failures whose output names the cause, and what to do about each.
const KNOWN_FAILURES: &[(&str, &str, &str)] = &[
    (
        "no space left on device",
        "The disk the job writes to is full.",
        "df -h",
    ),
    (
        "disk quota exceeded",
        "The job ran out of disk quota.",
        "quota -s",
    ),
    (
        "permission denied",
        "The job was refused access to a file or directory it needs.",
        "ls -ld <the path in the output>",
    ),
    (
        "connection refused",
        "A service the job connects to was not accepting connections.",
        "systemctl status <the service>",
    ),
    (
        "authentication failed",
        "The job's credentials were refused.",
        "check the job's credentials (password file, token) and their expiry",
    ),
    (
        "could not resolve host",
        "A host name the job needs did not resolve.",
        "getent hosts <the host in the output>",
    ),
    (
        "killed",
        "The job was killed (out of memory or by a timeout).",
        "journalctl -k --since -1d | grep -i -E 'oom|killed'",
    ),
    ("timed out", "Something the job waits for timed out.", ""),
];

fn ping_line(ping: &RecentPing) -> String {
    let exit = ping
        .exit_status
        .map(|code| format!(" exit {code}"))
        .unwrap_or_default();
    let output = if ping.body.is_empty() {
        String::new()
    } else {
        format!(" ({} bytes of output)", ping.body.len())
    };
    format!(
        "{} {}{exit}{output}",
        ping.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
        ping.kind
    )
}

/// Judges the heartbeat's pings (newest first) and its last output. Pure: the playbook reads,
/// this reasons.
pub(crate) fn judge(
    finding: &mut Finding,
    watch: &str,
    pings: &[RecentPing],
    pings_id: &str,
    output: Option<(&str, &str)>,
    now: DateTime<Utc>,
) {
    let Some(latest) = pings.iter().find(|p| p.kind != "log") else {
        finding.summary = format!("The job of {watch} has never pinged Sentinel.");
        finding.hypotheses.push(Hypothesis::known(
            "No ping ever arrived: the job is not scheduled, or it pings another URL.",
            &[pings_id],
        ));
        finding.classification = Classification::OpsOrConfig;
        finding.verdict = Verdict::ActionNeeded;
        finding.confidence = Confidence::MEDIUM;
        finding.steps.push(Step::run(
            "Check that the job is scheduled",
            "crontab -l; systemctl list-timers --all",
        ));
        finding.steps.push(Step::say(
            "Check that the job pings the URL of this watch's token when it ends.",
        ));
        return;
    };
    let when = latest.received_at.format("%Y-%m-%d %H:%M UTC");
    match latest.kind.as_str() {
        "fail" => {
            let how = latest
                .exit_status
                .map(|code| format!("exit status {code}"))
                .unwrap_or_else(|| "a failure".into());
            finding.summary = format!("The last run of {watch} failed at {when} with {how}.");
            finding.hypotheses.push(Hypothesis::known(
                format!("The job ran and failed ({how}) at {when}."),
                &[pings_id],
            ));
            finding.hypotheses.push(Hypothesis::discarded(
                "The job did not run at all.",
                &[pings_id],
            ));
            finding.verdict = Verdict::ActionNeeded;
            finding.confidence = Confidence::MEDIUM;
            let cause = output.and_then(|(text, id)| {
                let lower = text.to_lowercase();
                KNOWN_FAILURES
                    .iter()
                    .find(|(needle, _, _)| lower.contains(needle))
                    .map(|known| (known, id))
            });
            match cause {
                Some(((needle, meaning, command), id)) => {
                    finding.hypotheses.push(Hypothesis::known(
                        format!("{meaning} Its output says “{needle}”."),
                        &[id],
                    ));
                    finding.summary = format!("{} {meaning}", finding.summary);
                    finding.classification = Classification::OpsOrConfig;
                    finding.confidence = Confidence::HIGH;
                    if command.is_empty() {
                        finding.steps.push(Step::say(*meaning));
                    } else {
                        finding.steps.push(Step::run(*meaning, *command));
                    }
                }
                None => {
                    finding.hypotheses.push(Hypothesis::guessed(
                        "The cause is in the job's output or its own log.",
                        &[],
                    ));
                    if output.is_none() {
                        finding.gaps.push(
                            "The job sent no output with its pings: send the tail of its log with the failure ping (curl --data-binary) to see the cause here.".into(),
                        );
                    }
                }
            }
            finding.steps.push(Step::say(
                "Run the job once by hand after the fix and watch it ping success.",
            ));
        }
        "start" => {
            let running = (now - latest.received_at).to_std().unwrap_or_default();
            finding.summary = format!(
                "The last run of {watch} started at {when} and has not finished ({} ago).",
                crate::humanize::duration(running)
            );
            finding.hypotheses.push(Hypothesis::known(
                "The run started and never reported its end: it hangs, or was killed before it could ping.",
                &[pings_id],
            ));
            finding.classification = Classification::OpsOrConfig;
            finding.verdict = Verdict::ActionNeeded;
            finding.confidence = Confidence::MEDIUM;
            finding.steps.push(Step::run(
                "See whether it still runs",
                "ps -eo pid,etime,cmd | grep -v grep | grep <the job's command>",
            ));
            finding.steps.push(Step::run(
                "Look for a kill by the kernel",
                "journalctl -k --since -1d | grep -i -E 'oom|killed'",
            ));
        }
        _ => {
            let quiet = (now - latest.received_at).to_std().unwrap_or_default();
            finding.summary = format!(
                "{watch} last succeeded at {when}; no ping since ({} ago): the run did not happen or could not report.",
                crate::humanize::duration(quiet)
            );
            finding.hypotheses.push(Hypothesis::known(
                format!("No ping of any kind since the success at {when}."),
                &[pings_id],
            ));
            finding.hypotheses.push(Hypothesis::discarded(
                "The run failed and said so (no failure ping).",
                &[pings_id],
            ));
            finding.hypotheses.push(Hypothesis::guessed(
                "The scheduler did not start the job (machine down, schedule changed, cron stopped), or the job could not reach Sentinel.",
                &[],
            ));
            finding.classification = Classification::OpsOrConfig;
            finding.verdict = Verdict::ActionNeeded;
            finding.confidence = Confidence::MEDIUM;
            finding.steps.push(Step::run(
                "Check that the scheduler ran it",
                "systemctl status cron; grep CRON /var/log/syslog | tail -20; systemctl list-timers --all",
            ));
            finding.steps.push(Step::say(
                "Check that the job's host can reach Sentinel's ping URL.",
            ));
        }
    }
}

/// Reads the pings and the last output, then judges them.
pub(crate) async fn run(spec: &WatchSpec, ctx: &PlaybookContext<'_>) -> Finding {
    let (mut finding, alert) = playbook::begin(ctx);
    if alert.is_none() {
        return finding;
    }
    let pings = match ctx.store.recent_pings(&spec.name, PINGS_SHOWN).await {
        Ok(pings) => pings,
        Err(error) => {
            finding
                .gaps
                .push(format!("the pings could not be read: {error}"));
            return finding;
        }
    };
    let text = if pings.is_empty() {
        "no pings".to_string()
    } else {
        pings.iter().map(ping_line).collect::<Vec<_>>().join("\n")
    };
    let pings_id = finding.evidence.add(
        "store",
        None,
        format!("last {PINGS_SHOWN} pings of {}", spec.name),
        &text,
        ctx.now,
    );
    let output = pings.iter().find(|p| !p.body.is_empty()).map(|ping| {
        let id = finding.evidence.add(
            "store",
            None,
            format!(
                "output sent with the {} ping at {}",
                ping.kind,
                ping.received_at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            &tail(&ping.body, 40),
            ctx.now,
        );
        (ping.body.as_str(), id)
    });
    judge(
        &mut finding,
        &spec.name,
        &pings,
        &pings_id,
        output.as_ref().map(|(text, id)| (*text, id.as_str())),
        ctx.now,
    );
    finding
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::finding::Basis;

    fn ping(kind: &str, exit: Option<i64>, minutes_ago: i64, body: &str) -> RecentPing {
        RecentPing {
            kind: kind.into(),
            exit_status: exit,
            received_at: now() - chrono::Duration::minutes(minutes_ago),
            body: body.into(),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-05T06:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn judged(pings: &[RecentPing], output: Option<&str>) -> Finding {
        let mut finding = Finding::open("");
        let pings_id = finding.evidence.add("store", None, "pings", "..", now());
        let out_id = output.map(|_| finding.evidence.add("store", None, "out", "..", now()));
        judge(
            &mut finding,
            "backup",
            pings,
            &pings_id,
            output.zip(out_id.as_deref()),
            now(),
        );
        finding.settle();
        finding
    }

    #[test]
    fn a_failure_whose_output_names_the_cause_is_known_and_says_what_to_do() {
        let pings = [
            ping(
                "fail",
                Some(1),
                60,
                "tar: write error: No space left on device",
            ),
            ping("start", None, 70, ""),
            ping("success", Some(0), 1500, ""),
        ];
        let finding = judged(&pings, Some("tar: write error: No space left on device"));
        assert_eq!(finding.verdict, Verdict::ActionNeeded);
        assert_eq!(finding.classification, Classification::OpsOrConfig);
        assert!(
            finding.summary.contains("exit status 1"),
            "{}",
            finding.summary
        );
        assert!(finding.summary.contains("disk"), "{}", finding.summary);
        assert!(
            finding
                .steps
                .iter()
                .any(|s| s.command.as_deref() == Some("df -h"))
        );
        assert!(finding.confidence >= Confidence::HIGH);
    }

    #[test]
    fn a_failure_without_output_is_known_as_a_failure_and_its_cause_left_open() {
        let pings = [
            ping("fail", Some(2), 60, ""),
            ping("success", Some(0), 1500, ""),
        ];
        let finding = judged(&pings, None);
        assert!(finding.summary.contains("exit status 2"));
        assert_eq!(finding.classification, Classification::Unknown);
        assert!(finding.hypotheses.iter().any(|h| h.basis == Basis::Guessed));
        assert!(finding.gaps.iter().any(|g| g.contains("output")));
    }

    #[test]
    fn silence_after_a_success_rules_out_a_reported_failure() {
        let pings = [ping("success", Some(0), 1500, "")];
        let finding = judged(&pings, None);
        assert!(
            finding.summary.contains("no ping since"),
            "{}",
            finding.summary
        );
        assert!(finding.hypotheses.iter().any(|h| !h.kept));
        assert_eq!(finding.classification, Classification::OpsOrConfig);
    }

    #[test]
    fn a_start_without_an_end_is_a_hung_or_killed_run() {
        let pings = [
            ping("start", None, 300, ""),
            ping("success", Some(0), 1500, ""),
        ];
        let finding = judged(&pings, None);
        assert!(
            finding.summary.contains("has not finished"),
            "{}",
            finding.summary
        );
        assert!(finding.summary.contains("5h"), "{}", finding.summary);
    }

    #[test]
    fn a_job_that_never_pinged_is_a_scheduling_or_url_problem() {
        let finding = judged(&[], None);
        assert!(finding.summary.contains("never pinged"));
        assert!(finding.steps.iter().any(|s| s.command.is_some()));
    }
}
