//! One pack from start to end: the customer, the sections, the CE 3.0 judgement of the
//! disputed charge, the enrichment, the limits, the paragraph and Stripe's fields.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::gather::{self, GatherError, Gathered};
use super::payments::{self, Charges};
use super::summary::{self, Facts};
use super::{columns, limits};
use crate::config::Config;
use crate::evidence::ce3::{self, Ce3Verdict};
use crate::evidence::enrich::{self, GeoDb, SectionRows};
use crate::evidence::pack::{
    DisputeFacts, Pack, QuerySource, Section, SectionKind, SectionOutcome, TimelineEntry,
};
use crate::evidence::stripe_fields::{self, FieldInputs};

/// What to build a pack about.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The customer's email or the app's id for them.
    pub customer: String,
    /// The dispute, when the pack answers one.
    pub dispute: Option<DisputeFacts>,
    /// The disputed charge when no dispute is known (`--charge`).
    pub charge: Option<String>,
}

/// A built pack and its Stripe fields.
#[derive(Debug, Clone)]
pub struct Built {
    pub pack: Pack,
    /// `{"evidence": {...}}`.
    pub evidence: Value,
}

/// Why no pack was built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "no [evidence] section in the configuration: add one (`sentinel init --evidence list` shows ready sections for common schemas)"
    )]
    NotConfigured,
    #[error("{0}")]
    Gather(#[from] GatherError),
}

/// Builds the pack for `request` as of `now`.
pub async fn build(
    config: &Config,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<Built, BuildError> {
    let evidence = config.evidence.as_ref().ok_or(BuildError::NotConfigured)?;
    let customer = gather::customer(config, evidence, &request.customer).await?;
    let gathered = gather::sections(config, evidence, &customer.id).await;
    let (geo, geo_failure) = match &evidence.geoip {
        Some(path) => match GeoDb::open(path) {
            Ok(db) => (Some(db), None),
            Err(error) => (None, Some(error.to_string())),
        },
        None => (None, None),
    };
    let rows: Vec<SectionRows<'_>> = gathered
        .iter()
        .filter_map(|g| {
            let result = g.result.as_ref().ok()?;
            Some(SectionRows {
                kind: g.spec.kind,
                title: &g.spec.title,
                columns: &result.columns,
                rows: &result.rows,
            })
        })
        .collect();
    let enriched = enrich::enrich(&rows, geo.as_ref());
    let mut left_out = Vec::new();
    if enriched.undated > 0 {
        left_out.push(format!(
            "{} row(s) without a readable time are in their section's table but not on the timeline or the chart",
            limits::group(enriched.undated)
        ));
    }
    let charges = charges_of(&gathered);
    if let Some(unreadable) = &charges.unreadable {
        left_out.push(unreadable.clone());
    }
    let disputed_charge = request
        .dispute
        .as_ref()
        .map(|d| d.charge.clone())
        .or_else(|| request.charge.clone());
    let judged = disputed_charge
        .as_deref()
        .map(|charge| judge(charge, request, &charges));
    let sections = gathered.iter().map(section).collect::<Vec<_>>();
    let activity: Vec<TimelineEntry> = enriched
        .timeline
        .iter()
        .filter(|e| matches!(e.kind, SectionKind::Logins | SectionKind::Usage))
        .cloned()
        .collect();
    let disputed = judged.as_ref().and_then(|j| j.disputed.clone());
    let facts = facts(&enriched, &activity, &charges, disputed.as_ref(), &gathered);
    let verdict = judged.as_ref().map(|j| j.verdict.clone());
    let summary = summary::paragraph(
        &customer,
        &facts,
        request.dispute.as_ref(),
        verdict.as_ref(),
    );
    let mut geo_note = enriched.geo_note.clone();
    if let Some(failure) = geo_failure {
        geo_note = format!(
            "The GeoIP database could not be read ({failure}): locations are IP addresses only"
        );
    }
    let product = evidence.product.clone().or_else(|| {
        disputed
            .as_ref()
            .and_then(|t| t.product_description.clone())
    });
    let pack = Pack {
        generated_at: now,
        customer,
        dispute: request.dispute.clone(),
        summary,
        ce3: verdict,
        sections,
        devices: enriched.devices,
        locations: enriched.locations,
        geo_note,
        timeline: limits::timeline(enriched.timeline),
        daily: enriched.daily,
        left_out,
    };
    let enhanced = judged.as_ref().and_then(|j| j.enhanced.clone());
    let evidence_json = stripe_fields::evidence_json(&FieldInputs {
        pack: &pack,
        activity: &activity,
        purchase_ip: disputed.as_ref().and_then(|t| t.elements.ip.as_deref()),
        product: product.as_deref(),
        enhanced,
    });
    Ok(Built {
        pack,
        evidence: evidence_json,
    })
}

/// Every payments section's charges together.
fn charges_of(gathered: &[Gathered]) -> Charges {
    let mut all = Charges::default();
    for g in gathered
        .iter()
        .filter(|g| g.spec.kind == SectionKind::Payments)
    {
        let Ok(result) = &g.result else { continue };
        let charges = payments::charges(&result.columns, &result.rows);
        all.transactions.extend(charges.transactions);
        all.schema.has.extend(charges.schema.has);
        all.unreadable = all.unreadable.or(charges.unreadable);
    }
    all.transactions
        .sort_by(|a, b| (a.at, &a.charge).cmp(&(b.at, &b.charge)));
    all.transactions.dedup_by(|a, b| a.charge == b.charge);
    all
}

/// The CE 3.0 judgement of the disputed charge.
struct Judged {
    disputed: Option<ce3::Transaction>,
    verdict: Ce3Verdict,
    enhanced: Option<Value>,
}

fn judge(charge: &str, request: &Request, charges: &Charges) -> Judged {
    let reason_code = request
        .dispute
        .as_ref()
        .and_then(|d| d.network_reason_code.as_deref());
    let Some(disputed) = charges.transactions.iter().find(|t| t.charge == charge) else {
        return Judged {
            disputed: None,
            verdict: Ce3Verdict {
                qualifies: false,
                reason_code_applies: reason_code.map(str::trim) == Some("10.4"),
                matched: Vec::new(),
                priors: Vec::new(),
                considered: Vec::new(),
                reasons: vec![format!(
                    "the disputed charge {charge} is not among the app's payments: add a payments section whose `charge` column holds Stripe's charge ids"
                )],
                missing: Vec::new(),
            },
            enhanced: None,
        };
    };
    let history: Vec<ce3::Transaction> = charges
        .transactions
        .iter()
        .filter(|t| t.charge != charge)
        .cloned()
        .collect();
    let verdict = ce3::judge(reason_code, disputed, &history, &charges.schema);
    let enhanced = verdict
        .qualifies
        .then(|| ce3::stripe_json(disputed, &verdict, &history));
    Judged {
        disputed: Some(disputed.clone()),
        verdict,
        enhanced,
    }
}

/// A gathered section as the pack shows it.
fn section(gathered: &Gathered) -> Section {
    let outcome = match &gathered.result {
        Err(reason) => SectionOutcome::Missing {
            reason: format!("the query failed: {reason}"),
        },
        Ok(result) if result.rows.is_empty() => SectionOutcome::Missing {
            reason: "the query returned no rows for this customer".to_string(),
        },
        Ok(result) => {
            let noun = gathered.spec.kind.name().trim_end_matches('s');
            let mut table = limits::table(&result.columns, &result.rows, noun);
            if let Some(hit) = result.truncated {
                let cut = format!("{}: the rest was not read", gather::cap_words(hit));
                table.omitted = Some(match table.omitted {
                    Some(words) => format!("{words}; {cut}"),
                    None => cut,
                });
            }
            SectionOutcome::Rows(table)
        }
    };
    Section {
        name: gathered.spec.name.clone(),
        title: gathered.spec.title.clone(),
        kind: gathered.spec.kind,
        source: QuerySource {
            source: gathered.spec.source.clone(),
            query: gathered.spec.query.clone(),
        },
        outcome,
    }
}

fn facts(
    enriched: &enrich::Enriched,
    activity: &[TimelineEntry],
    charges: &Charges,
    disputed: Option<&ce3::Transaction>,
    gathered: &[Gathered],
) -> Facts {
    let first_of = |kinds: &[SectionKind]| {
        enriched
            .timeline
            .iter()
            .find(|e| kinds.contains(&e.kind))
            .map(|e| e.at)
    };
    let rows_of = |kind: SectionKind| -> usize {
        gathered
            .iter()
            .filter(|g| g.spec.kind == kind)
            .filter_map(|g| g.result.as_ref().ok())
            .map(|r| r.rows.len())
            .sum()
    };
    let charged_at = disputed.map(|t| t.at);
    Facts {
        signed_up: first_of(&[SectionKind::Signup]).or_else(|| first_of(&[SectionKind::Profile])),
        verified: first_of(&[SectionKind::Verification]),
        logins: rows_of(SectionKind::Logins),
        uses: rows_of(SectionKind::Usage),
        first_activity: activity.first().map(|e| e.at),
        last_activity: activity.last().map(|e| e.at),
        devices: enriched.devices.len(),
        locations: enriched.locations.len(),
        payments: charges.transactions.len(),
        terms: terms(gathered),
        charged_at,
        activity_after_charge: charged_at
            .map_or(0, |at| activity.iter().filter(|e| e.at > at).count()),
    }
}

/// The latest acceptance of terms: its version and time.
fn terms(gathered: &[Gathered]) -> Option<(String, DateTime<Utc>)> {
    gathered
        .iter()
        .filter(|g| g.spec.kind == SectionKind::Terms)
        .filter_map(|g| g.result.as_ref().ok())
        .flat_map(|result| {
            let version = columns::find(&result.columns, &["version", "terms_version"]);
            let time = columns::find(
                &result.columns,
                &["time", "accepted_at", "at", "created_at"],
            );
            result.rows.iter().filter_map(move |row| {
                let at = crate::source::sql::values::parse_time(columns::cell(row, time)?)?;
                Some((
                    columns::cell(row, version).unwrap_or("unknown").to_string(),
                    at,
                ))
            })
        })
        .max_by_key(|(_, at)| *at)
}
