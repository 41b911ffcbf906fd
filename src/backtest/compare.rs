//! The replay beside what really happened: the pages the store says Sentinel sent over the
//! same period, matched with the replayed ones by watch and subject within the watch's `for`
//! plus two intervals, so a changed setting can be judged against reality.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::report::PageLine;
use crate::alert::notice::Notice;
use crate::config::Config;

/// The two lists side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Comparison {
    /// Paged in the replay and in reality: (replayed time, real time, watch, subject).
    pub same: Vec<(DateTime<Utc>, DateTime<Utc>, String, String)>,
    pub only_in_replay: Vec<PageLine>,
    pub only_in_reality: Vec<PageLine>,
    /// Real pages of watches the backtest did not replay (not compared).
    pub not_replayed: usize,
}

/// Matches `replayed` pages with `real` ones.
pub fn compare(replayed: &[PageLine], real: &[Notice], config: &Config) -> Comparison {
    let tolerance = |watch: &str| {
        config
            .watches
            .iter()
            .find(|w| w.name == watch)
            .map(|w| w.for_ + 2 * w.interval)
            .unwrap_or(Duration::from_secs(600))
    };
    let mut comparison = Comparison::default();
    let mut unmatched: Vec<&Notice> = Vec::new();
    for notice in real {
        if config.watches.iter().any(|w| w.name == notice.watch) {
            unmatched.push(notice);
        } else {
            comparison.not_replayed += 1;
        }
    }
    for page in replayed {
        let window = chrono::Duration::from_std(tolerance(&page.watch))
            .unwrap_or(chrono::Duration::minutes(10));
        let found = unmatched.iter().position(|notice| {
            notice.watch == page.watch
                && notice.subject == page.subject
                && (notice.at - page.at).abs() <= window
        });
        match found {
            Some(index) => {
                let notice = unmatched.remove(index);
                comparison.same.push((
                    page.at,
                    notice.at,
                    page.watch.clone(),
                    page.subject.clone(),
                ));
            }
            None => comparison.only_in_replay.push(page.clone()),
        }
    }
    comparison.only_in_reality = unmatched
        .into_iter()
        .map(|notice| PageLine {
            at: notice.at,
            watch: notice.watch.clone(),
            subject: notice.subject.clone(),
            title: notice.title.clone(),
        })
        .collect();
    comparison
}
