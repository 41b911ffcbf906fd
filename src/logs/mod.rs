//! Log analysis core: variable masking, streaming template mining with
//! bounded memory, multi-line event folding, stack-trace fingerprinting and
//! the CSV export used by `sentinel logs templates`.

pub mod access;
pub mod client_input;
pub mod csv;
pub mod fold;
pub mod mask;
pub mod miner;
pub mod readable;
pub mod redact;
pub mod route;
pub mod scanner;
pub mod stacktrace;
pub mod tokenize;

pub use csv::write_templates_csv;
pub use fold::{FoldConfig, FoldedEvent, LineFolder};
pub use miner::{MatchResult, Miner, MinerConfig, MinerStats, TemplateId, TemplateRecord};
pub use stacktrace::{Fingerprint, FingerprintConfig, TraceLanguage, fingerprint};
