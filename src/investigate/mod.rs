//! Investigations: on the operator's approval, find out why a page fired, read-only.

pub mod safety;
