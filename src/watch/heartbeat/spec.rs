//! The typed configuration of a `heartbeat` watch: its ping token and when pings are expected.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct HeartbeatSpec {
    pub token: String,
    pub schedule: Schedule,
    pub grace: Duration,
}

/// When a heartbeat is expected.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Every `period` after the previous success.
    Period(Duration),
    /// At the times of a 5-field cron expression, in a time zone.
    Cron {
        expression: Box<croner::Cron>,
        text: String,
        tz: chrono_tz::Tz,
    },
}
