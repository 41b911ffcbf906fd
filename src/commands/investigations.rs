//! `sentinel investigations`: the investigation requests the operator approved (from a page's
//! button, a reply to a page, `/investigate`), oldest first, with where each stands; and
//! `sentinel investigations show ID`: one request's report, as Markdown or JSON.
//!
//! Exit codes: 0 listed or shown (also when there are none), 1 no such request or no report
//! yet, 2 the store cannot be read.

use super::{cannot_run, open_existing_store};
use crate::store::operator::InvestigationRequest;
use std::path::Path;

/// The longest question shown on its line.
const QUESTION_CHARS: usize = 60;

pub async fn list(store_path: &Path) -> i32 {
    let store = match open_existing_store(store_path).await {
        Ok(store) => store,
        Err(code) => return code,
    };
    let requests = store.investigation_requests().await;
    store.close().await;
    match requests {
        Ok(requests) if requests.is_empty() => {
            println!("no investigation requests");
            0
        }
        Ok(requests) => {
            for request in &requests {
                println!("{}", line(request));
            }
            0
        }
        Err(error) => cannot_run(error),
    }
}

/// Prints the report of request `id`.
pub async fn show(store_path: &Path, id: i64, json: bool) -> i32 {
    let store = match open_existing_store(store_path).await {
        Ok(store) => store,
        Err(code) => return code,
    };
    let found = async {
        let request = store.investigation_request(id).await?;
        let report = store.report(id).await?;
        Ok::<_, crate::store::StoreError>((request, report))
    }
    .await;
    store.close().await;
    match found {
        Ok((_, Some(report))) => {
            if json {
                println!("{}", report.json);
            } else {
                print!("{}", report.markdown);
            }
            0
        }
        Ok((Some(request), None)) => {
            eprintln!("request #{id} has no report ({})", request.status);
            1
        }
        Ok((None, None)) => {
            eprintln!("no investigation request #{id}: sentinel investigations lists them");
            1
        }
        Err(error) => cannot_run(error),
    }
}

/// `#3  running   2026-12-05 14:02 UTC  by 1234  about backup-db: what actually happened?`
fn line(request: &InvestigationRequest) -> String {
    let about = request
        .watch
        .as_deref()
        .map_or_else(String::new, |watch| format!("  about {watch}"));
    let mut question: String = request.question.chars().take(QUESTION_CHARS).collect();
    if request.question.chars().count() > QUESTION_CHARS {
        question.push('…');
    }
    let question = question.replace(['\n', '\r'], " ");
    format!(
        "#{:<4} {:<8}  {}  by {}{about}: {question}",
        request.id,
        request.status,
        request.requested_at.format("%Y-%m-%d %H:%M UTC"),
        request.requested_by,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::investigations::RequestStatus;

    #[test]
    fn a_line_names_the_request_its_status_and_its_question_on_one_line() {
        let request = InvestigationRequest {
            id: 3,
            requested_by: "1234".into(),
            requested_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            watch: Some("backup-db".into()),
            subjects: Vec::new(),
            notice_key: None,
            question: format!("what actually\nhappened? {}", "x".repeat(80)),
            status: RequestStatus::Running,
        };
        let text = line(&request);
        assert!(
            text.starts_with("#3    running   2027-01-15 08:00 UTC  by 1234  about backup-db: what actually happened? x"),
            "{text}"
        );
        assert!(text.ends_with('…'), "{text}");
        assert!(!text.contains('\n'));
    }
}
