//! The `[evidence]` section as Sentinel uses it: which database holds the app's customers, how
//! a customer is found, the dossier's sections (each a read-only query with the customer
//! bound as its one parameter), the optional GeoIP database, and where packs are written.

use std::path::PathBuf;

use crate::evidence::pack::SectionKind;

/// What an evidence pack is built from.
#[derive(Debug, Clone)]
pub struct EvidenceConfig {
    /// The SQL source (`[sources.NAME]`) the customer query and the sections read by default.
    pub source: String,
    /// Finds the customer from the email or id given, bound as the placeholder; returns one row
    /// with `id` and optionally `email` and `name`.
    pub customer: String,
    /// The dossier's sections, in the order the pack shows them.
    pub sections: Vec<SectionSpec>,
    /// A MaxMind-format database (GeoLite2 City or Country) turning IPs into places.
    pub geoip: Option<PathBuf>,
    /// What the customer bought, in one line (Stripe's `product_description`).
    pub product: Option<String>,
    /// Where the daemon writes the packs it builds (one folder per pack).
    pub out: PathBuf,
}

/// One section of the dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionSpec {
    pub name: String,
    pub title: String,
    pub kind: SectionKind,
    /// The SQL source it reads.
    pub source: String,
    /// A SELECT taking the customer's `id` (as text) as its placeholder.
    pub query: String,
}

impl EvidenceConfig {
    /// The default folder for packs: next to the store.
    pub(crate) fn default_out(store_path: &std::path::Path) -> PathBuf {
        store_path
            .parent()
            .map_or_else(|| PathBuf::from("evidence"), |dir| dir.join("evidence"))
    }
}

/// The heading a section gets when its `title` is not written.
pub(crate) fn default_title(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::Profile => "Profile",
        SectionKind::Signup => "Sign-up",
        SectionKind::Verification => "Verification",
        SectionKind::Logins => "Logins",
        SectionKind::Usage => "Usage",
        SectionKind::Payments => "Payments",
        SectionKind::Refunds => "Refunds",
        SectionKind::Terms => "Acceptance of terms",
        SectionKind::Other => "Other records",
    }
}
