//! Limits SQLite enforces on Sentinel's behalf. SQLite runs a statement on sqlx's worker
//! thread, which keeps running after the caller stops waiting; it has no statement timeout of
//! its own. A progress handler stops the statement once its deadline has passed or the caller
//! has gone away, and `SQLITE_LIMIT_LENGTH` keeps any single string or blob (a computed
//! `randomblob(400000000)` as much as a stored one) within the byte cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// How many virtual machine instructions run between two looks at the clock: about a
/// millisecond of work.
const INSTRUCTIONS_PER_CHECK: i32 = 10_000;

/// SQLite's own ceiling for `SQLITE_LIMIT_LENGTH` (its default, `SQLITE_MAX_LENGTH`).
const SQLITE_MAX_LENGTH: usize = 1_000_000_000;

/// Tells a running statement to stop: set when the caller gives up (its future is dropped).
#[derive(Debug, Clone, Default)]
pub(crate) struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    pub(crate) fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Sets the signal when dropped, so a caller that is cancelled mid-statement stops it too.
#[derive(Debug)]
pub(crate) struct StopOnDrop(pub StopSignal);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// The longest string or blob SQLite may build on this connection for a byte cap: one byte
/// past the cap (a longer value could never be kept; SQLite counts a string's terminator
/// against the limit), within SQLite's own range.
pub(crate) fn length_limit(max_bytes: usize) -> i32 {
    let limit = max_bytes.saturating_add(1).clamp(1, SQLITE_MAX_LENGTH);
    i32::try_from(limit).unwrap_or(i32::MAX)
}

/// Installs the deadline and the length limit on `conn`.
pub(crate) async fn install(
    conn: &mut sqlx::SqliteConnection,
    deadline: Instant,
    stop: StopSignal,
    max_bytes: usize,
) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    handle.set_progress_handler(INSTRUCTIONS_PER_CHECK, move || {
        !stop.stopped() && Instant::now() < deadline
    });
    let raw = handle.as_raw_handle();
    // SAFETY: the handle is locked out of the worker thread for as long as `handle` lives,
    // and `sqlite3_limit` only sets a per-connection number.
    unsafe {
        libsqlite3_sys::sqlite3_limit(
            raw.as_ptr(),
            libsqlite3_sys::SQLITE_LIMIT_LENGTH,
            length_limit(max_bytes),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limit_follows_the_byte_cap_within_sqlite_range() {
        assert_eq!(length_limit(1024 * 1024), 1_048_577);
        assert_eq!(length_limit(0), 1);
        assert_eq!(length_limit(usize::MAX), 1_000_000_000);
    }

    #[test]
    fn dropping_the_guard_stops_the_signal() {
        let signal = StopSignal::default();
        assert!(!signal.stopped());
        drop(StopOnDrop(signal.clone()));
        assert!(signal.stopped());
    }
}
