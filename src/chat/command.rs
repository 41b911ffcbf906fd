//! The operator's slash commands, parsed (pure): what was asked, or why it cannot be read.

use crate::config::units::parse_duration;
use std::time::Duration;

/// The longest snooze a command may set (longer is a mute).
const MAX_SNOOZE: Duration = Duration::from_secs(30 * 86_400);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Help,
    Status,
    Snooze { watch: String, duration: Duration },
    Mute { watch: String },
    Unmute { watch: String },
    Investigate { question: String },
    Evidence { customer: String },
}

/// Parses a message starting with `/`. `Err` is the line to answer (usage or unknown).
pub(crate) fn parse(text: &str) -> Result<Command, String> {
    let text = text.trim();
    let (head, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let rest = rest.trim();
    // "/status@SentinelBot" in group chats.
    let name = head.split('@').next().unwrap_or(head).to_ascii_lowercase();
    let one_word = |usage: &str| -> Result<String, String> {
        match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            [word] => Ok((*word).to_string()),
            _ => Err(format!("Usage: {usage}")),
        }
    };
    match name.as_str() {
        "/help" | "/start" => Ok(Command::Help),
        "/status" => Ok(Command::Status),
        "/snooze" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            [watch, duration] => {
                let duration = parse_duration(duration).map_err(|_| {
                    format!("Usage: /snooze <watch> <duration>, like /snooze {watch} 2h")
                })?;
                if duration.is_zero() || duration > MAX_SNOOZE {
                    return Err("A snooze lasts between 1s and 30d; use /mute for longer.".into());
                }
                Ok(Command::Snooze {
                    watch: (*watch).to_string(),
                    duration,
                })
            }
            _ => Err("Usage: /snooze <watch> <duration>, like /snooze disk-space 2h".into()),
        },
        "/mute" => Ok(Command::Mute {
            watch: one_word("/mute <watch>")?,
        }),
        "/unmute" => Ok(Command::Unmute {
            watch: one_word("/unmute <watch>")?,
        }),
        "/investigate" if !rest.is_empty() => Ok(Command::Investigate {
            question: rest.to_string(),
        }),
        "/investigate" => Err("Usage: /investigate <question>".into()),
        "/evidence" if !rest.is_empty() => Ok(Command::Evidence {
            customer: rest.to_string(),
        }),
        "/evidence" => Err("Usage: /evidence <customer>".into()),
        _ => Err("Unknown command. Send /help for the list.".into()),
    }
}

/// What `/help` answers.
pub(crate) const HELP: &str = "Sentinel pages here and takes instructions from its operator.
Buttons under a page: Investigate, Snooze 1h, Snooze 1d, Mute, Not actionable.
Reply to a page with a question to request an investigation of it.
/status: what is firing, pending, snoozed, muted
/snooze &lt;watch&gt; &lt;duration&gt;: silence a watch for a while (like 2h)
/mute &lt;watch&gt;: silence a watch until /unmute
/unmute &lt;watch&gt;: lift every silence on a watch
/investigate &lt;question&gt;: request an investigation
/evidence &lt;customer&gt;: request evidence about a customer
/help: this list";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_their_arguments() {
        assert_eq!(parse("/status"), Ok(Command::Status));
        assert_eq!(parse("/status@SentinelBot"), Ok(Command::Status));
        assert_eq!(
            parse("/snooze disk-space 2h"),
            Ok(Command::Snooze {
                watch: "disk-space".into(),
                duration: Duration::from_secs(7200)
            })
        );
        assert_eq!(
            parse("/mute backup"),
            Ok(Command::Mute {
                watch: "backup".into()
            })
        );
        assert_eq!(
            parse("/unmute backup"),
            Ok(Command::Unmute {
                watch: "backup".into()
            })
        );
        assert_eq!(
            parse("/investigate  why is the disk filling up? "),
            Ok(Command::Investigate {
                question: "why is the disk filling up?".into()
            })
        );
        assert_eq!(
            parse("/evidence ACME Corp"),
            Ok(Command::Evidence {
                customer: "ACME Corp".into()
            })
        );
    }

    #[test]
    fn malformed_commands_say_how_to_write_them() {
        assert!(
            parse("/snooze disk")
                .unwrap_err()
                .starts_with("Usage: /snooze")
        );
        assert!(
            parse("/snooze disk soon")
                .unwrap_err()
                .starts_with("Usage: /snooze")
        );
        assert!(parse("/snooze disk 0s").unwrap_err().contains("between"));
        assert!(parse("/snooze disk 90d").unwrap_err().contains("/mute"));
        assert!(parse("/mute").unwrap_err().starts_with("Usage: /mute"));
        assert!(parse("/mute a b").unwrap_err().starts_with("Usage: /mute"));
        assert!(parse("/investigate").unwrap_err().starts_with("Usage"));
        assert!(parse("/evidence   ").unwrap_err().starts_with("Usage"));
        assert!(parse("/rm -rf").unwrap_err().starts_with("Unknown command"));
    }
}
