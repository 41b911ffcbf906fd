//! Aligned text tables, as `sentinel query` prints them and the investigator's tools show
//! rows to a model: a header, a rule, one line per row, columns padded to their widest cell
//! in terminal columns (wide characters count twice), trailing spaces trimmed. Cells come in
//! already made visible; rows may be shorter or longer than the header.

use unicode_width::UnicodeWidthStr;

/// `text` followed by spaces up to `columns` terminal columns.
fn padded(text: &str, columns: usize) -> String {
    let mut out = text.to_string();
    out.push_str(&" ".repeat(columns.saturating_sub(text.width())));
    out
}

/// The table of `header` and `body`, each line ending in a newline.
pub(crate) fn aligned(header: &[String], body: &[Vec<String>]) -> String {
    let count = body
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(header.len()))
        .max()
        .unwrap_or(0);
    let mut widths = vec![0; count];
    for line in body.iter().chain(std::iter::once(&header.to_vec())) {
        for (i, cell) in line.iter().enumerate() {
            widths[i] = widths[i].max(cell.width());
        }
    }
    let line = |cells: &[String]| {
        (0..count)
            .map(|i| padded(cells.get(i).map_or("", String::as_str), widths[i]))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut out = line(header);
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    out.push('\n');
    for row in body {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::aligned;

    #[test]
    fn columns_align_in_terminal_columns_and_ragged_rows_fit() {
        let header = vec!["id".to_string(), "name".to_string()];
        let body = vec![
            vec!["1".to_string(), "日本".to_string()],
            vec!["22".to_string()],
            vec!["3".to_string(), "x".to_string(), "extra".to_string()],
        ];
        assert_eq!(
            aligned(&header, &body),
            "id | name |\n---+------+------\n1  | 日本 |\n22 |      |\n3  | x    | extra\n"
        );
    }
}
