//! The evidence pack as data: everything gathered about one disputing customer, already
//! enriched, summarised and judged, ready to be laid out as PDF (`pdf`) or mapped to Stripe's
//! evidence fields (`stripe_fields`). Building it reads the app; rendering it reads nothing.

use chrono::{DateTime, NaiveDate, Utc};

use super::ce3::Ce3Verdict;

/// One evidence pack.
#[derive(Debug, Clone, PartialEq)]
pub struct Pack {
    /// When the pack was built.
    pub generated_at: DateTime<Utc>,
    pub customer: Customer,
    /// The dispute the pack answers, when one is known.
    pub dispute: Option<DisputeFacts>,
    /// One paragraph: why the evidence shows the customer used what they paid for.
    pub summary: String,
    /// The Visa CE 3.0 judgement, when the pack knows the disputed charge.
    pub ce3: Option<Ce3Verdict>,
    /// The configured sections in their configured order, each with rows or why it has none.
    pub sections: Vec<Section>,
    /// Each device seen (by device id, else user agent), first and last seen.
    pub devices: Vec<Seen>,
    /// Each location seen (city and country with GeoIP, else the IP), first and last seen.
    pub locations: Vec<Seen>,
    /// How IPs were turned into places, or why they were not ("no GeoIP database configured:
    /// IP addresses only").
    pub geo_note: String,
    /// Every dated row of every section, oldest first (possibly summarised).
    pub timeline: Timeline,
    /// Logins and usage events per UTC day, oldest first, for the chart.
    pub daily: Vec<DayCount>,
    /// What the pack left out to stay within Stripe's limits, in words.
    pub left_out: Vec<String>,
}

/// Whom the pack is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// The app's own id for the customer.
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// The dispute as the payment provider described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeFacts {
    /// `dp_...`
    pub id: String,
    /// `ch_...`
    pub charge: String,
    /// In the currency's smallest unit.
    pub amount_minor: i64,
    /// Lowercase ISO code.
    pub currency: String,
    /// Stripe's reason (`fraudulent`, `product_not_received`, ...).
    pub reason: String,
    pub network_reason_code: Option<String>,
    pub evidence_due_by: Option<DateTime<Utc>>,
    pub status: String,
}

/// What a section holds about the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SectionKind {
    Profile,
    Signup,
    Verification,
    Logins,
    Usage,
    Payments,
    Refunds,
    Terms,
    Other,
}

impl SectionKind {
    pub const ALL: [SectionKind; 9] = [
        SectionKind::Profile,
        SectionKind::Signup,
        SectionKind::Verification,
        SectionKind::Logins,
        SectionKind::Usage,
        SectionKind::Payments,
        SectionKind::Refunds,
        SectionKind::Terms,
        SectionKind::Other,
    ];

    /// The word used in configuration (`kind = "logins"`).
    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Profile => "profile",
            SectionKind::Signup => "signup",
            SectionKind::Verification => "verification",
            SectionKind::Logins => "logins",
            SectionKind::Usage => "usage",
            SectionKind::Payments => "payments",
            SectionKind::Refunds => "refunds",
            SectionKind::Terms => "terms",
            SectionKind::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<SectionKind> {
        SectionKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

/// One configured section of the dossier.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// The configured name (`logins`).
    pub name: String,
    /// The heading shown (`Logins`).
    pub title: String,
    pub kind: SectionKind,
    /// Where the rows came from, for the appendix: the source's name and the statement as
    /// configured (with its placeholder, never the customer's value).
    pub source: QuerySource,
    pub outcome: SectionOutcome,
}

/// Where a section's rows came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySource {
    /// The configured source (`app`).
    pub source: String,
    /// The statement as configured.
    pub query: String,
}

/// A section's rows, or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub enum SectionOutcome {
    Rows(Table),
    /// The query failed or returned nothing: shown in the pack as missing, with the reason.
    Missing {
        reason: String,
    },
}

/// Rows as shown: every cell already text. `rows` may be fewer than `total_rows` when the pack
/// summarises a long section; `omitted` says so in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// How many rows the query returned.
    pub total_rows: usize,
    /// What was left out of `rows`, in words ("9,950 logins between ... and ...: see the
    /// timeline's daily counts"), when anything was.
    pub omitted: Option<String>,
}

/// One device or one location, and when it was first and last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// "Chrome 120 on macOS (desktop), device 3f2a…" or "Berlin, Germany (203.0.113.7)".
    pub label: String,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// Rows that mention it.
    pub count: usize,
}

/// The merged timeline.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timeline {
    pub entries: Vec<TimelineEntry>,
    /// Entries left out of `entries` to keep the pack readable, with what stands for them.
    pub omitted: Option<String>,
}

/// One dated thing the customer did or that happened to their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub kind: SectionKind,
    /// "Login from Berlin, Germany (203.0.113.7), Chrome 120 on macOS".
    pub text: String,
}

/// Activity on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub date: NaiveDate,
    pub logins: usize,
    pub usage: usize,
}

impl DisputeFacts {
    /// "€49.00" / "$12.50" / "1,000 JPY": the amount in the currency's own unit.
    pub fn amount_words(&self) -> String {
        super::money::amount_words(self.amount_minor, &self.currency)
    }
}
