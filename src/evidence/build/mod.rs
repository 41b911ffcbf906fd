//! Building an evidence pack: find the customer, read every section for them through the
//! guarded SQL path, judge the disputed charge against Visa CE 3.0, enrich, summarise within
//! Stripe's limits, and write the paragraph the cover opens with.

mod columns;
pub mod gather;
mod limits;
mod payments;
mod summary;

pub use gather::GatherError;
