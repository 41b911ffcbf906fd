//! Chargeback evidence: what a disputed customer did, gathered read-only, and whether it meets
//! the card networks' rules.

pub mod ce3;
pub mod money;
pub mod pack;
pub mod presets;
