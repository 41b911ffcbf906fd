//! What one investigation is about: the operator's question, who asked and when, the watch
//! and the alerts it names (or, for a question about nothing in particular, the most recent
//! page), and the earlier report a follow-up question continues.

use crate::alert::tracker::AlertRecord;
use crate::store::operator::InvestigationRequest;
use crate::store::{Store, StoreError};

/// One investigation's subject matter, read from the store when it starts.
#[derive(Debug, Clone)]
pub struct Case {
    pub request: InvestigationRequest,
    /// The watch the question is about, when there is one.
    pub watch: Option<String>,
    /// The alerts of that watch the question is about (all of them for the page's subjects,
    /// newest change first).
    pub alerts: Vec<AlertRecord>,
    /// True when the request named no alert and the most recent page was taken instead.
    pub assumed_last_page: bool,
}

impl Case {
    /// The case for `request`: the alerts of its watch and subjects, or, when it names none,
    /// those of the page the operator heard of last.
    pub async fn open(store: &Store, request: InvestigationRequest) -> Result<Self, StoreError> {
        let alerts = store.all_alerts().await?;
        let (watch, subjects, assumed_last_page) = match &request.watch {
            Some(watch) => (Some(watch.clone()), request.subjects.clone(), false),
            None => match alerts
                .iter()
                .filter(|alert| alert.notified_at.is_some())
                .max_by_key(|alert| alert.notified_at)
            {
                Some(last) => (Some(last.watch.clone()), vec![last.subject.clone()], true),
                None => (None, Vec::new(), false),
            },
        };
        let mut about: Vec<AlertRecord> = alerts
            .into_iter()
            .filter(|alert| Some(&alert.watch) == watch.as_ref())
            .filter(|alert| subjects.is_empty() || subjects.contains(&alert.subject))
            .collect();
        // A page named by its notice key alone: the alerts that page told of, when any still
        // carry it.
        if subjects.is_empty()
            && let Some(key) = &request.notice_key
            && about.iter().any(|a| a.notice_key.as_ref() == Some(key))
        {
            about.retain(|a| a.notice_key.as_ref() == Some(key));
        }
        about.sort_by_key(|alert| std::cmp::Reverse(alert.updated_at));
        Ok(Self {
            request,
            watch,
            alerts: about,
            assumed_last_page,
        })
    }

    /// The alert the case is mostly about: the first open one, else the latest.
    pub fn main_alert(&self) -> Option<&AlertRecord> {
        self.alerts
            .iter()
            .find(|alert| alert.is_open())
            .or_else(|| self.alerts.first())
    }

    /// A short title: the alert's, or the question.
    pub fn title(&self) -> String {
        match self.main_alert() {
            Some(alert) if !alert.title.is_empty() => alert.title.clone(),
            _ => self.request.question.clone(),
        }
    }
}
