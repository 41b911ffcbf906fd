//! Building an evidence pack: find the customer, read every section for them through the
//! guarded SQL path, judge the disputed charge against Visa CE 3.0, enrich, summarise within
//! Stripe's limits, and write the paragraph the cover opens with.

mod assemble;
mod columns;
pub mod gather;
mod limits;
mod payments;
mod summary;

pub use assemble::{BuildError, Built, Request, build};
pub use gather::GatherError;

use crate::evidence::pack::DisputeFacts;
use crate::store::disputes::Dispute;

/// A dispute as the store keeps it, as the pack shows it.
pub fn dispute_facts(dispute: &Dispute) -> DisputeFacts {
    DisputeFacts {
        id: dispute.id.clone(),
        charge: dispute.charge.clone(),
        amount_minor: dispute.amount,
        currency: dispute.currency.clone(),
        reason: dispute.reason.clone(),
        network_reason_code: dispute.network_reason_code.clone(),
        evidence_due_by: dispute.evidence_due_by,
        status: dispute.status.clone(),
    }
}
