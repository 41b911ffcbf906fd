//! Chargeback evidence: what a disputed customer did, gathered read-only, and whether it meets
//! the card networks' rules.

pub mod build;
pub mod ce3;
pub mod enrich;
pub mod money;
pub mod pack;
pub mod pdf;
pub mod presets;
pub mod runner;
pub mod stripe_fields;
pub mod telegram;
pub mod write;
