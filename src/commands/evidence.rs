//! `sentinel evidence`: the chargeback evidence pack for one customer, written as a PDF and
//! the JSON of Stripe's evidence fields. Read-only towards the app; nothing is sent to Stripe.
//!
//! Exit codes: 0 the pack was written, 1 the customer or dispute is not found (nothing
//! written), 2 Sentinel cannot run (configuration, store, database, folder).

use std::path::{Path, PathBuf};

use super::{EXIT_CANNOT_RUN, load_config, open_existing_store};
use crate::evidence::build::{self, BuildError, GatherError, Request, dispute_facts};
use crate::evidence::write;

/// Whom and what the pack is about, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub email: Option<String>,
    pub customer: Option<String>,
    pub dispute: Option<String>,
    pub charge: Option<String>,
    pub out: Option<PathBuf>,
}

pub async fn run(config_path: &Path, target: Target) -> i32 {
    let config = match load_config(config_path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let Some(evidence) = &config.evidence else {
        eprintln!("{}", BuildError::NotConfigured);
        return EXIT_CANNOT_RUN;
    };
    let mut request = Request {
        customer: target
            .email
            .clone()
            .or_else(|| target.customer.clone())
            .unwrap_or_default(),
        dispute: None,
        charge: target.charge.clone(),
    };
    if let Some(id) = &target.dispute {
        let store = match open_existing_store(&config.store.path).await {
            Ok(store) => store,
            Err(code) => return code,
        };
        let disputes = store.disputes().await;
        store.close().await;
        let disputes = match disputes {
            Ok(disputes) => disputes,
            Err(error) => return super::cannot_run(error),
        };
        let Some(dispute) = disputes.iter().find(|d| &d.id == id || &d.charge == id) else {
            eprintln!(
                "no dispute {id} in the store: Sentinel learns disputes from Stripe's webhook (/hooks/stripe); give --charge ch_... to judge a charge without it"
            );
            return 1;
        };
        if request.customer.is_empty() {
            match dispute.customer() {
                Some(customer) => request.customer = customer.to_string(),
                None => {
                    eprintln!(
                        "dispute {id} does not name its customer: give --email or --customer"
                    );
                    return 1;
                }
            }
        }
        request.dispute = Some(dispute_facts(dispute));
    }
    if request.customer.trim().is_empty() {
        eprintln!("whose evidence? give --email EMAIL or --customer ID (or --dispute DP_ID)");
        return 1;
    }
    let built = match build::build(&config, &request, chrono::Utc::now()).await {
        Ok(built) => built,
        Err(BuildError::Gather(
            error @ (GatherError::UnknownCustomer { .. } | GatherError::Ambiguous { .. }),
        )) => {
            eprintln!("{error}; no pack was written");
            return 1;
        }
        Err(error) => {
            eprintln!("{error}; no pack was written");
            return EXIT_CANNOT_RUN;
        }
    };
    let dir = target.out.unwrap_or_else(|| evidence.out.clone());
    let written = match write::write(&dir, &built) {
        Ok(written) => written,
        Err(error) => {
            eprintln!("{error}");
            return EXIT_CANNOT_RUN;
        }
    };
    println!("{}", report(&built, &written));
    0
}

/// What the operator reads after the pack is written.
fn report(built: &build::Built, written: &write::Written) -> String {
    let pack = &built.pack;
    let mut lines = vec![format!(
        "Evidence pack for {}{}",
        pack.customer.email.as_deref().unwrap_or(&pack.customer.id),
        pack.dispute.as_ref().map_or_else(String::new, |d| format!(
            " (dispute {}, {})",
            d.id,
            d.amount_words()
        ))
    )];
    lines.push(format!(
        "  PDF:  {} ({} KB)",
        written.pdf.display(),
        written.pdf_bytes.div_ceil(1024)
    ));
    lines.push(format!("  JSON: {}", written.json.display()));
    if let Some(verdict) = &pack.ce3 {
        lines.push(if verdict.qualifies {
            format!(
                "  Visa CE 3.0: qualifies (priors {})",
                verdict.priors.join(", ")
            )
        } else {
            format!(
                "  Visa CE 3.0: does not qualify: {}",
                verdict.reasons.join("; ")
            )
        });
    }
    for section in &pack.sections {
        if let crate::evidence::pack::SectionOutcome::Missing { reason } = &section.outcome {
            lines.push(format!("  missing: {}: {reason}", section.title));
        }
    }
    lines.push(String::new());
    lines.push(pack.summary.clone());
    lines.push(String::new());
    lines.push("Nothing was sent to Stripe. Review the JSON, upload the PDF as uncategorized_file (Files API, purpose dispute_evidence), then submit from the Dashboard or the API.".to_string());
    lines.join("\n")
}
