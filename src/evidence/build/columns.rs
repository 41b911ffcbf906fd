//! Finding a meaning in a section's columns by name: a query's aliases (`AS charge`) make any
//! schema fit, and the common spellings of real schemas are understood as they are.

/// The index of the first column named like any of `names` (case-insensitive; the names'
/// order is the preference).
pub(crate) fn find(columns: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|name| {
        columns
            .iter()
            .position(|column| column.trim().eq_ignore_ascii_case(name))
    })
}

/// The cell of `row` at `index`, trimmed, when present and not empty.
pub(crate) fn cell(row: &[Option<String>], index: Option<usize>) -> Option<&str> {
    let text = row.get(index?)?.as_deref()?.trim();
    (!text.is_empty()).then_some(text)
}

/// A database's spelling of true (`t`, `true`, `1`, `yes`, `succeeded`, `paid`).
pub(crate) fn truthy(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "t" | "true" | "1" | "yes" | "y" | "succeeded" | "paid" | "complete" | "completed"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_preferred_name_present_wins_whatever_its_case() {
        let columns: Vec<String> = ["ID", "Created_At", "time"].map(String::from).to_vec();
        assert_eq!(find(&columns, &["time", "created_at"]), Some(2));
        assert_eq!(find(&columns, &["created_at"]), Some(1));
        assert_eq!(find(&columns, &["ip"]), None);
        let row = vec![Some(" 7 ".to_string()), Some(String::new()), None];
        assert_eq!(cell(&row, Some(0)), Some("7"));
        assert_eq!(cell(&row, Some(1)), None);
        assert_eq!(cell(&row, Some(2)), None);
        assert_eq!(cell(&row, None), None);
        assert!(truthy("t") && truthy("Succeeded") && !truthy("f") && !truthy("failed"));
    }
}
