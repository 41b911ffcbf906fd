//! Rows as an aligned text table for the model: one line per row, `NULL` for SQL NULL, line
//! breaks and other control characters inside a cell shown as spaces, long cells cut, and the
//! row count with the cap that stopped the result, if one did.

use crate::source::sql::caps::CapHit;
use crate::source::sql::database::QueryResult;

/// The most characters of one cell shown; longer text ends in `…`.
pub(super) const MAX_CELL_CHARS: usize = 400;

/// A cell as shown: control characters as spaces, cut to [`MAX_CELL_CHARS`].
fn shown(cell: Option<&str>) -> String {
    let Some(text) = cell else {
        return "NULL".to_string();
    };
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == MAX_CELL_CHARS {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// The aligned table of `columns` and `rows` (rows may be shorter or longer than the header;
/// a missing cell is blank), without a count.
pub(super) fn render_rows(columns: &[String], rows: &[Vec<Option<String>>]) -> String {
    let header: Vec<String> = columns.iter().map(|c| shown(Some(c))).collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| shown(cell.as_deref())).collect())
        .collect();
    crate::text_table::aligned(&header, &body)
}

/// A query result: the table, then `(N rows)` and whether a cap cut it, in words that say
/// what to do about it.
pub(super) fn render(result: &QueryResult) -> String {
    let mut out = render_rows(&result.columns, &result.rows);
    let rows = result.rows.len();
    out.push_str(&format!("({rows} row{})", if rows == 1 { "" } else { "s" }));
    match result.truncated {
        Some(CapHit::Rows(cap)) => out.push_str(&format!(
            "\nthe result was cut at the source's row cap of {cap} (max_rows): more rows exist; \
             aggregate (count, group by) or filter to see the rest"
        )),
        Some(CapHit::Bytes(cap)) => out.push_str(&format!(
            "\nthe result was cut at the source's byte cap of {cap} bytes (max_bytes): select \
             fewer or shorter columns"
        )),
        None => {}
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(columns: &[&str], rows: Vec<Vec<Option<&str>>>, cut: Option<CapHit>) -> QueryResult {
        QueryResult {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: rows
                .into_iter()
                .map(|row| row.into_iter().map(|c| c.map(str::to_string)).collect())
                .collect(),
            truncated: cut,
        }
    }

    #[test]
    fn columns_are_aligned_and_nulls_named() {
        let table = render(&result(
            &["id", "email"],
            vec![vec![Some("1"), Some("ada@x")], vec![Some("22"), None]],
            None,
        ));
        assert_eq!(
            table,
            "id | email\n---+------\n1  | ada@x\n22 | NULL\n(2 rows)\n"
        );
    }

    #[test]
    fn a_cut_result_says_which_cap_and_what_to_do() {
        let rows = render(&result(
            &["n"],
            vec![vec![Some("1")]],
            Some(CapHit::Rows(1)),
        ));
        assert!(
            rows.contains("(1 row)\nthe result was cut at the source's row cap of 1 (max_rows)"),
            "{rows}"
        );
        let bytes = render(&result(&["n"], vec![], Some(CapHit::Bytes(10))));
        assert!(
            bytes.contains("(0 rows)\nthe result was cut at the source's byte cap of 10 bytes"),
            "{bytes}"
        );
        assert!(!render(&result(&["n"], vec![], None)).contains("cut"));
    }

    #[test]
    fn one_row_stays_one_line_and_long_cells_are_cut() {
        let long = "x".repeat(MAX_CELL_CHARS + 50);
        let table = render(&result(
            &["a", "b"],
            vec![vec![Some("line one\nline two\tend\u{1b}[31m"), Some(&long)]],
            None,
        ));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(
            lines[2].starts_with("line one line two end [31m | "),
            "{table}"
        );
        assert!(lines[2].ends_with(&format!("{}…", "x".repeat(MAX_CELL_CHARS))));
    }

    #[test]
    fn wide_characters_and_ragged_rows_keep_the_columns_straight() {
        let table = render_rows(
            &["name".to_string()],
            &[
                vec![Some("日本".to_string()), Some("extra".to_string())],
                vec![],
            ],
        );
        assert_eq!(table, "name |\n-----+------\n日本 | extra\n     |\n");
    }
}
