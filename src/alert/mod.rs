//! Deciding who hears what: the alert state machine and the notices it produces.
//! Knows nothing of channels; notices leave only through the outbox.

pub mod notice;
pub mod tracker;
