//! `sentinel audit verify`: proves the investigations' audit trail untouched. Walks every entry
//! in order and checks its link to the one before; prints the number of entries and the head
//! hash (note it down: a later head that does not descend from it means entries were cut off
//! the end), or the first entry that no longer fits.
//!
//! Exit codes: 0 intact, 1 broken, 2 the store cannot be read.

use super::{cannot_run, open_existing_store};
use crate::store::audit::AuditVerdict;
use std::path::Path;

/// Exit code when an entry no longer fits the chain.
pub const EXIT_BROKEN: i32 = 1;

pub async fn verify(store_path: &Path) -> i32 {
    let store = match open_existing_store(store_path).await {
        Ok(store) => store,
        Err(code) => return code,
    };
    let verdict = store.audit_verify().await;
    store.close().await;
    match verdict {
        Ok(AuditVerdict::Intact { entries, head }) => {
            match head {
                Some(head) => println!("intact: {entries} entries, head {head}"),
                None => println!("intact: no entries yet"),
            }
            0
        }
        Ok(AuditVerdict::Broken { id, reason }) => {
            println!("BROKEN at entry {id}: {reason}");
            EXIT_BROKEN
        }
        Err(error) => cannot_run(error),
    }
}
