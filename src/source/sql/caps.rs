//! Caps on how much of a query result Sentinel keeps.
//!
//! Investigative queries run against production databases; a careless one can
//! return millions of rows. [`CappedRows`] accumulates rows until keeping the
//! next one would exceed the row or byte cap, then records which cap was hit
//! and refuses everything after it, so the caller can stop fetching.

/// Default maximum number of rows kept from one result.
pub const DEFAULT_MAX_ROWS: usize = 1_000;
/// Default maximum number of bytes of cell text kept from one result.
pub const DEFAULT_MAX_BYTES: usize = 1024 * 1024;

/// Limits on one query result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultCaps {
    /// Most rows kept.
    pub max_rows: usize,
    /// Most bytes kept, counting the UTF-8 length of every non-NULL cell.
    pub max_bytes: usize,
}

impl Default for ResultCaps {
    fn default() -> Self {
        Self {
            max_rows: DEFAULT_MAX_ROWS,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// Which cap stopped the accumulation, with the value of that cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapHit {
    /// The row cap (`max_rows`) was reached.
    Rows(usize),
    /// The byte cap (`max_bytes`) would have been exceeded.
    Bytes(usize),
}

/// One result row: one cell per column, `None` for SQL NULL.
pub type Row = Vec<Option<String>>;

/// Rows kept so far under a [`ResultCaps`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CappedRows {
    caps: ResultCaps,
    rows: Vec<Row>,
    bytes: usize,
    truncated: Option<CapHit>,
}

/// What became of a row offered to [`CappedRows::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// The row was kept; more may follow.
    Kept,
    /// The row was dropped because a cap is reached; stop fetching.
    Stopped(CapHit),
}

impl CappedRows {
    /// An empty accumulator under `caps`.
    pub fn new(caps: ResultCaps) -> Self {
        Self {
            caps,
            rows: Vec::new(),
            bytes: 0,
            truncated: None,
        }
    }

    /// Offers one row. It is kept only if neither cap would be exceeded;
    /// once a cap is hit every later row is dropped too.
    pub fn push(&mut self, row: Row) -> PushOutcome {
        if let Some(hit) = self.truncated {
            return PushOutcome::Stopped(hit);
        }
        if self.rows.len() >= self.caps.max_rows {
            return self.stop(CapHit::Rows(self.caps.max_rows));
        }
        let row_bytes = row_byte_size(&row);
        let within_byte_cap = self
            .bytes
            .checked_add(row_bytes)
            .is_some_and(|total| total <= self.caps.max_bytes);
        if !within_byte_cap {
            return self.stop(CapHit::Bytes(self.caps.max_bytes));
        }
        self.bytes += row_bytes;
        self.rows.push(row);
        PushOutcome::Kept
    }

    /// Offers rows in order until a cap is hit; returns the cap hit, if any.
    pub fn extend<I: IntoIterator<Item = Row>>(&mut self, rows: I) -> Option<CapHit> {
        for row in rows {
            if let PushOutcome::Stopped(hit) = self.push(row) {
                return Some(hit);
            }
        }
        None
    }

    /// The rows kept.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Bytes of cell text kept.
    pub fn byte_count(&self) -> usize {
        self.bytes
    }

    /// The cap that cut the result short, or `None` if every offered row
    /// was kept.
    pub fn truncated(&self) -> Option<CapHit> {
        self.truncated
    }

    /// Gives up the kept rows and the truncation marker.
    pub fn into_parts(self) -> (Vec<Row>, Option<CapHit>) {
        (self.rows, self.truncated)
    }

    fn stop(&mut self, hit: CapHit) -> PushOutcome {
        self.truncated = Some(hit);
        PushOutcome::Stopped(hit)
    }
}

/// Bytes a row counts against the byte cap: the UTF-8 length of each
/// non-NULL cell.
pub fn row_byte_size(row: &[Option<String>]) -> usize {
    row.iter().flatten().map(String::len).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[Option<&str>]) -> Row {
        cells.iter().map(|cell| cell.map(str::to_string)).collect()
    }

    fn caps(max_rows: usize, max_bytes: usize) -> ResultCaps {
        ResultCaps {
            max_rows,
            max_bytes,
        }
    }

    #[test]
    fn keeps_everything_under_both_caps() {
        let mut capped = CappedRows::new(caps(10, 100));
        let hit = capped.extend(vec![row(&[Some("a"), None]), row(&[Some("bc"), Some("d")])]);
        assert_eq!(hit, None);
        assert_eq!(capped.rows().len(), 2);
        assert_eq!(capped.byte_count(), 4);
        assert_eq!(capped.truncated(), None);
    }

    #[test]
    fn stops_at_row_cap() {
        let mut capped = CappedRows::new(caps(2, 1_000));
        assert_eq!(capped.push(row(&[Some("1")])), PushOutcome::Kept);
        assert_eq!(capped.push(row(&[Some("2")])), PushOutcome::Kept);
        assert_eq!(
            capped.push(row(&[Some("3")])),
            PushOutcome::Stopped(CapHit::Rows(2))
        );
        assert_eq!(capped.truncated(), Some(CapHit::Rows(2)));
        assert_eq!(capped.rows(), &[row(&[Some("1")]), row(&[Some("2")])]);
    }

    #[test]
    fn exactly_max_rows_is_not_truncated() {
        let mut capped = CappedRows::new(caps(2, 1_000));
        let hit = capped.extend(vec![row(&[Some("1")]), row(&[Some("2")])]);
        assert_eq!(hit, None);
        assert_eq!(capped.truncated(), None);
    }

    #[test]
    fn stops_before_row_that_would_exceed_byte_cap() {
        let mut capped = CappedRows::new(caps(100, 5));
        let hit = capped.extend(vec![
            row(&[Some("abc")]),
            row(&[Some("de")]),
            row(&[Some("f")]),
            row(&[Some("")]),
        ]);
        assert_eq!(hit, Some(CapHit::Bytes(5)));
        assert_eq!(capped.rows().len(), 2);
        assert_eq!(capped.byte_count(), 5);
    }

    #[test]
    fn nothing_is_kept_after_a_cap_is_hit() {
        let mut capped = CappedRows::new(caps(100, 3));
        assert_eq!(
            capped.push(row(&[Some("toolong")])),
            PushOutcome::Stopped(CapHit::Bytes(3))
        );
        // A row that would fit is still refused: the result is already cut.
        assert_eq!(
            capped.push(row(&[Some("a")])),
            PushOutcome::Stopped(CapHit::Bytes(3))
        );
        assert!(capped.rows().is_empty());
    }

    #[test]
    fn nulls_cost_no_bytes_and_multibyte_text_counts_bytes() {
        assert_eq!(row_byte_size(&row(&[None, None])), 0);
        assert_eq!(row_byte_size(&row(&[Some("é"), Some("日本")])), 2 + 6);
    }

    #[test]
    fn zero_row_cap_keeps_nothing() {
        let mut capped = CappedRows::new(caps(0, 100));
        assert_eq!(
            capped.push(row(&[Some("x")])),
            PushOutcome::Stopped(CapHit::Rows(0))
        );
        let (rows, truncated) = capped.into_parts();
        assert!(rows.is_empty());
        assert_eq!(truncated, Some(CapHit::Rows(0)));
    }

    #[test]
    fn defaults_are_bounded() {
        let defaults = ResultCaps::default();
        assert_eq!(defaults.max_rows, DEFAULT_MAX_ROWS);
        assert_eq!(defaults.max_bytes, DEFAULT_MAX_BYTES);
    }
}
