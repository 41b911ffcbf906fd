//! Log analysis core: variable masking, streaming template mining with
//! bounded memory, multi-line event folding, stack-trace fingerprinting and
//! the CSV export used by `sentinel logs templates`.

pub mod access;
pub(crate) mod client_input;
pub mod csv;
pub(crate) mod fold;
pub(crate) mod mask;
pub(crate) mod miner;
pub(crate) mod readable;
pub(crate) mod redact;
pub(crate) mod route;
pub(crate) mod scanner;
pub(crate) mod stacktrace;
pub(crate) mod tokenize;

pub use csv::write_templates_csv;
pub use fold::{FoldConfig, FoldedEvent, LineFolder};
pub use miner::{MatchResult, Miner, MinerConfig, MinerStats, TemplateId, TemplateRecord};
pub use stacktrace::{Fingerprint, FingerprintConfig, TraceLanguage, fingerprint};
