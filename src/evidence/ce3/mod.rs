//! Visa Compelling Evidence 3.0 (CE 3.0): does a card-absent fraud dispute qualify, on which
//! two prior transactions, and the evidence Stripe takes for it. Pure: plain values in, a
//! verdict out.
//!
//! The rules, as Stripe states them (<https://docs.stripe.com/disputes/api/visa-ce3>, and
//! <https://support.stripe.com/questions/how-does-stripe-support-visa-compelling-evidence-3-0>
//! for the day count):
//! - the dispute's network reason code is 10.4 (card-absent fraud);
//! - at least two prior transactions on the same payment method, paid and never disputed,
//!   processed "more than 119 calendar days and fewer than 366 calendar days prior to the
//!   disputed transaction processing date": 120 to 365 calendar days, both ends included
//!   (days counted between the UTC calendar dates);
//! - the disputed transaction and both priors match on either two main evidence elements or one
//!   main and one secondary. Main: customer purchase IP; customer device fingerprint or device
//!   id (one element: "Customer Device Fingerprint and Customer Device ID isn't a valid
//!   evidence combination"). Secondary: shipping address, email address, account id.
//!
//! "The disputed transaction and both past undisputed transactions must match" is read
//! strictly: the elements that count are those the disputed transaction shares with *both*
//! priors. How elements are compared is in [`matching`].

mod matching;
mod missing;
mod stripe;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

pub use stripe::stripe_json;

/// The only network reason code CE 3.0 applies to: Visa 10.4, card-absent fraud.
const CARD_ABSENT_FRAUD: &str = "10.4";
/// Calendar days before the disputed transaction a prior may be, both ends included.
const WINDOW_DAYS: std::ops::RangeInclusive<i64> = 120..=365;

/// One charge as the app's database records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The Stripe charge id (`ch_...`).
    pub charge: String,
    /// When it was processed.
    pub at: DateTime<Utc>,
    /// The card's fingerprint, or the app's payment method id: equal for the same card.
    pub payment_method: String,
    pub paid: bool,
    /// Ever disputed or reported as fraud.
    pub disputed: bool,
    pub elements: Elements,
    pub product_description: Option<String>,
}

/// The data elements CE 3.0 compares, as recorded with one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Elements {
    pub ip: Option<String>,
    pub device_id: Option<String>,
    pub device_fingerprint: Option<String>,
    pub shipping_address: Option<Address>,
    pub account_id: Option<String>,
    pub email: Option<String>,
}

/// A shipping address, in Stripe's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// One data element CE 3.0 compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ElementKind {
    Ip,
    DeviceId,
    DeviceFingerprint,
    ShippingAddress,
    AccountId,
    Email,
}

impl ElementKind {
    pub const ALL: [ElementKind; 6] = [
        ElementKind::Ip,
        ElementKind::DeviceId,
        ElementKind::DeviceFingerprint,
        ElementKind::ShippingAddress,
        ElementKind::AccountId,
        ElementKind::Email,
    ];

    /// A main evidence element: the purchase IP, the device id or the device fingerprint.
    pub fn is_primary(self) -> bool {
        matches!(
            self,
            ElementKind::Ip | ElementKind::DeviceId | ElementKind::DeviceFingerprint
        )
    }

    /// The element as Visa counts it: a device id and a device fingerprint are one element.
    fn counted_as(self) -> ElementKind {
        match self {
            ElementKind::DeviceFingerprint => ElementKind::DeviceId,
            other => other,
        }
    }

    pub(crate) fn words(self) -> &'static str {
        match self {
            ElementKind::Ip => "purchase IP addresses",
            ElementKind::DeviceId => "device ids",
            ElementKind::DeviceFingerprint => "device fingerprints",
            ElementKind::ShippingAddress => "shipping addresses",
            ElementKind::AccountId => "account ids",
            ElementKind::Email => "email addresses",
        }
    }
}

/// Which elements the app's data carries at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaCoverage {
    pub has: BTreeSet<ElementKind>,
}

/// Why a prior transaction was kept or left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorOutcome {
    /// One of the two priors submitted.
    Chosen,
    /// Qualifies, but the chosen pair matched more or was more recent.
    NotChosen,
    /// It is the disputed charge itself.
    DisputedCharge,
    OtherPaymentMethod,
    Unpaid,
    Disputed,
    /// Fewer than 120 days before the disputed transaction (or after it).
    TooRecent,
    /// More than 365 days before the disputed transaction.
    TooOld,
    /// No main element (IP, device) matches the disputed transaction.
    NoPrimaryMatch,
    /// A main element matches, but no second element (another main, or a secondary) does.
    NotEnoughMatches,
    /// Qualifies alone, but no other prior shares enough of the same matching elements.
    NoCommonMatch,
}

/// One candidate prior and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorJudgement {
    pub charge: String,
    /// Calendar days between the prior and the disputed transaction.
    pub days_before: i64,
    /// The elements it shares with the disputed transaction.
    pub matched: Vec<ElementKind>,
    pub outcome: PriorOutcome,
}

impl PriorJudgement {
    /// The outcome in words, for the evidence pack.
    pub fn explanation(&self) -> String {
        let days = self.days_before;
        match self.outcome {
            PriorOutcome::Chosen => format!(
                "chosen: {days} days before, matches {}",
                list(&self.matched)
            ),
            PriorOutcome::NotChosen => format!(
                "qualifies ({days} days before) but the chosen pair matched more or was more recent"
            ),
            PriorOutcome::DisputedCharge => "this is the disputed charge itself".to_owned(),
            PriorOutcome::OtherPaymentMethod => "paid with another payment method".to_owned(),
            PriorOutcome::Unpaid => "was not paid".to_owned(),
            PriorOutcome::Disputed => "was itself disputed".to_owned(),
            PriorOutcome::TooRecent => {
                format!("only {days} days before the dispute (at least 120 needed)")
            }
            PriorOutcome::TooOld => format!("{days} days before the dispute (at most 365 allowed)"),
            PriorOutcome::NoPrimaryMatch => format!(
                "no IP, device id or device fingerprint matches (matches: {})",
                list(&self.matched)
            ),
            PriorOutcome::NotEnoughMatches => format!(
                "only {} matches; a second element is needed",
                list(&self.matched)
            ),
            PriorOutcome::NoCommonMatch => {
                "no other prior shares two qualifying elements with it".to_owned()
            }
        }
    }
}

/// The judgement of one dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ce3Verdict {
    pub qualifies: bool,
    /// The reason code is Visa's 10.4.
    pub reason_code_applies: bool,
    /// The elements the disputed transaction shares with both chosen priors.
    pub matched: Vec<ElementKind>,
    /// The two chosen charges, most recent first; empty unless it qualifies.
    pub priors: Vec<String>,
    /// Every other transaction on record, with why it was kept or left out.
    pub considered: Vec<PriorJudgement>,
    /// Why it does not qualify, in words; empty when it does.
    pub reasons: Vec<String>,
    /// What the schema or the data lacks, in words.
    pub missing: Vec<String>,
}

/// Judges one dispute: `history` is every other transaction the app knows for the customer
/// (any payment method; the judgement filters).
pub fn judge(
    reason_code: Option<&str>,
    disputed: &Transaction,
    history: &[Transaction],
    schema: &SchemaCoverage,
) -> Ce3Verdict {
    let reason_code_applies = reason_code.map(str::trim) == Some(CARD_ABSENT_FRAUD);
    let mut reasons = Vec::new();
    if !reason_code_applies {
        reasons.push(match reason_code {
            Some(code) => format!("reason code {code} is not Visa 10.4 (card-absent fraud): CE 3.0 does not apply"),
            None => "the dispute has no network reason code: CE 3.0 applies only to Visa 10.4 (card-absent fraud)".to_owned(),
        });
    }
    let mut considered: Vec<PriorJudgement> = history
        .iter()
        .map(|prior| judge_prior(disputed, prior))
        .collect();
    let pair = best_pair(&considered);
    let mut matched = Vec::new();
    let mut priors = Vec::new();
    match pair {
        Some((first, second, common)) => {
            for (index, judgement) in considered.iter_mut().enumerate() {
                if judgement.outcome == PriorOutcome::NotChosen {
                    judgement.outcome = if index == first || index == second {
                        PriorOutcome::Chosen
                    } else {
                        PriorOutcome::NotChosen
                    };
                }
            }
            priors = vec![
                considered[first].charge.clone(),
                considered[second].charge.clone(),
            ];
            matched = common;
        }
        None => {
            let eligible = considered
                .iter()
                .filter(|j| j.outcome == PriorOutcome::NotChosen)
                .count();
            for judgement in &mut considered {
                if judgement.outcome == PriorOutcome::NotChosen {
                    judgement.outcome = PriorOutcome::NoCommonMatch;
                }
            }
            reasons.push(if eligible < 2 {
                format!(
                    "{eligible} prior transaction(s) qualify; two are needed (same card, paid, undisputed, 120 to 365 days before, matching a main element and one more)"
                )
            } else {
                "no two qualifying priors share the same two matching elements with the disputed transaction".to_owned()
            });
        }
    }
    let qualifies = reason_code_applies && priors.len() == 2;
    if !qualifies {
        priors.clear();
        matched.clear();
        for judgement in &mut considered {
            if judgement.outcome == PriorOutcome::Chosen {
                judgement.outcome = PriorOutcome::NotChosen;
            }
        }
    }
    let missing = missing::missing(disputed, history, &priors, schema);
    Ce3Verdict {
        qualifies,
        reason_code_applies,
        matched,
        priors,
        considered,
        reasons,
        missing,
    }
}

fn judge_prior(disputed: &Transaction, prior: &Transaction) -> PriorJudgement {
    let days_before = (disputed.at.date_naive() - prior.at.date_naive()).num_days();
    let matched = matching::matching_elements(&disputed.elements, &prior.elements);
    let outcome = if prior.charge == disputed.charge {
        PriorOutcome::DisputedCharge
    } else if prior.payment_method != disputed.payment_method {
        PriorOutcome::OtherPaymentMethod
    } else if !prior.paid {
        PriorOutcome::Unpaid
    } else if prior.disputed {
        PriorOutcome::Disputed
    } else if days_before < *WINDOW_DAYS.start() {
        PriorOutcome::TooRecent
    } else if days_before > *WINDOW_DAYS.end() {
        PriorOutcome::TooOld
    } else if !matched.iter().any(|kind| kind.is_primary()) {
        PriorOutcome::NoPrimaryMatch
    } else if !enough(&matched) {
        PriorOutcome::NotEnoughMatches
    } else {
        // Eligible; `judge` decides whether it is chosen.
        PriorOutcome::NotChosen
    };
    PriorJudgement {
        charge: prior.charge.clone(),
        days_before,
        matched,
        outcome,
    }
}

/// Two distinct elements as Visa counts them (device id and fingerprint are one), at least one
/// of them main.
fn enough(matched: &[ElementKind]) -> bool {
    let counted: BTreeSet<ElementKind> = matched.iter().map(|kind| kind.counted_as()).collect();
    counted.len() >= 2 && counted.iter().any(|kind| kind.is_primary())
}

/// The best pair of eligible priors (indexes into `considered`) and the elements both share
/// with the disputed transaction: most shared elements, then the more recent pair (its older
/// member first, then its newer), then charge ids, so the choice is deterministic.
fn best_pair(considered: &[PriorJudgement]) -> Option<(usize, usize, Vec<ElementKind>)> {
    let eligible: Vec<usize> = (0..considered.len())
        .filter(|&i| considered[i].outcome == PriorOutcome::NotChosen)
        .collect();
    let mut best: Option<(usize, usize, Vec<ElementKind>)> = None;
    for (position, &a) in eligible.iter().enumerate() {
        for &b in &eligible[position + 1..] {
            let (newer, older) = if rank_newer(&considered[a], &considered[b]) {
                (a, b)
            } else {
                (b, a)
            };
            let common: Vec<ElementKind> = considered[newer]
                .matched
                .iter()
                .copied()
                .filter(|kind| considered[older].matched.contains(kind))
                .collect();
            if !enough(&common) {
                continue;
            }
            let better = match &best {
                None => true,
                Some((best_newer, best_older, best_common)) => {
                    let key = |n: usize, o: usize, c: &[ElementKind]| {
                        (
                            std::cmp::Reverse(c.len()),
                            considered[o].days_before,
                            considered[n].days_before,
                            considered[n].charge.clone(),
                            considered[o].charge.clone(),
                        )
                    };
                    key(newer, older, &common) < key(*best_newer, *best_older, best_common)
                }
            };
            if better {
                best = Some((newer, older, common));
            }
        }
    }
    best
}

/// Whether `a` comes before `b` in the submitted order: more recent first, then by charge id.
fn rank_newer(a: &PriorJudgement, b: &PriorJudgement) -> bool {
    (a.days_before, &a.charge) <= (b.days_before, &b.charge)
}

pub(crate) fn singular(kind: ElementKind) -> &'static str {
    match kind {
        ElementKind::Ip => "purchase IP address",
        ElementKind::DeviceId => "device id",
        ElementKind::DeviceFingerprint => "device fingerprint",
        ElementKind::ShippingAddress => "shipping address",
        ElementKind::AccountId => "account id",
        ElementKind::Email => "email address",
    }
}

fn list(kinds: &[ElementKind]) -> String {
    if kinds.is_empty() {
        return "nothing".to_owned();
    }
    kinds
        .iter()
        .map(|kind| singular(*kind))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
