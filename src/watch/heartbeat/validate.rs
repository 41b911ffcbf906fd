//! Validation of a `heartbeat` watch: an unguessable ping token, a period or a cron schedule
//! in a time zone, and the keys it takes.

use crate::config::raw::RawWatch;
use crate::config::validate::{Validator, dur};
use crate::config::*;
use std::str::FromStr;
use std::time::Duration;

pub(crate) const HEARTBEAT_KEYS: &[&str] = &["token", "period", "schedule", "tz", "grace"];

/// Ping tokens are capabilities in a URL: they must not be guessable.
const MIN_TOKEN_LEN: usize = 16;

impl Validator<'_> {
    pub(crate) fn heartbeat(
        &mut self,
        raw: &RawWatch,
        missing: &dyn Fn(&mut Self, &str, &str),
    ) -> Option<WatchSpecKind> {
        let Some(token) = &raw.token else {
            missing(self, "token", "\"<a UUID; `sentinel init` makes one>\"");
            return None;
        };
        let token_text = self.expanded(token)?;
        if token_text.len() < MIN_TOKEN_LEN
            || !token_text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.error(token.span(), format!("ping tokens must be unguessable: at least {MIN_TOKEN_LEN} letters, digits, - or _ (a UUID works)"));
        }
        let schedule = match (&raw.period, &raw.schedule) {
            (Some(period), None) => {
                if let Some(tz) = &raw.tz {
                    self.error(
                        tz.span(),
                        "`tz` applies only to a cron `schedule`, not to `period`",
                    );
                }
                if period.get_ref().0.is_zero() {
                    self.error(period.span(), "period must be longer than zero");
                }
                Schedule::Period(period.get_ref().0)
            }
            (None, Some(schedule)) => {
                let tz = match &raw.tz {
                    Some(tz) => match chrono_tz::Tz::from_str(tz.get_ref()) {
                        Ok(tz) => tz,
                        Err(_) => {
                            self.error(tz.span(), format!("unknown time zone {:?}: expected an IANA name like \"Europe/Berlin\" or \"UTC\"", tz.get_ref()));
                            chrono_tz::UTC
                        }
                    },
                    None => chrono_tz::UTC,
                };
                let fields = schedule.get_ref().split_whitespace().count();
                let parsed = if fields == 5 {
                    croner::Cron::from_str(schedule.get_ref()).map_err(|e| e.to_string())
                } else {
                    Err(format!(
                        "expected 5 fields (minute hour day-of-month month day-of-week), found {fields}"
                    ))
                };
                match parsed {
                    Ok(expression) => Schedule::Cron {
                        expression: Box::new(expression),
                        text: schedule.get_ref().clone(),
                        tz,
                    },
                    Err(reason) => {
                        self.error(schedule.span(), format!("invalid cron expression {:?}: {reason}; example: \"0 3 * * *\" for 03:00 daily", schedule.get_ref()));
                        return None;
                    }
                }
            }
            (Some(period), Some(_)) => {
                self.error(
                    period.span(),
                    "give either `period` or a cron `schedule`, not both",
                );
                return None;
            }
            (None, None) => {
                missing(self, "period", "\"1d\" (or schedule = \"0 3 * * *\")");
                return None;
            }
        };
        Some(WatchSpecKind::Heartbeat(HeartbeatSpec {
            token: token_text,
            schedule,
            grace: dur(&raw.grace).unwrap_or(Duration::from_secs(3600)),
        }))
    }
}
