//! CSV export of mined templates (one row per input line) behind the
//! `sentinel logs templates FILE` command, plus a small RFC 4180 reader for
//! CSV input.

use std::io::{self, BufRead, Write};

use rustc_hash::FxHashMap;

use crate::logs::miner::{Miner, MinerConfig};

/// Reads one message per line from `input`, mines templates, and writes CSV
/// with header `line,template_id,template` and one row per input line in
/// order (`line` is 1-based). Each row carries the final text of its
/// template, so lines that joined a template before it was generalised show
/// the same text as later ones. Returns the number of rows written.
pub fn write_templates_csv(mut input: impl BufRead, output: impl Write) -> io::Result<u64> {
    let mut miner = Miner::new(MinerConfig::default());
    let mut assignments: Vec<u64> = Vec::new();
    // Last known text of every template, kept for templates that are evicted
    // before the output is written.
    let mut texts: FxHashMap<u64, String> = FxHashMap::default();
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        if input.read_until(b'\n', &mut buffer)? == 0 {
            break;
        }
        let mut line = buffer.as_slice();
        if let Some(stripped) = line.strip_suffix(b"\n") {
            line = stripped;
        }
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        let result = miner.add_bytes(line);
        if (result.is_new || result.template_changed)
            && let Some(text) = miner.template(result.id)
        {
            texts.insert(result.id.0, text.to_owned());
        }
        assignments.push(result.id.0);
    }
    let mut output = io::BufWriter::new(output);
    output.write_all(b"line,template_id,template\n")?;
    let mut field = String::new();
    for (index, &id) in assignments.iter().enumerate() {
        let text = miner
            .template(crate::logs::miner::TemplateId(id))
            .or_else(|| texts.get(&id).map(String::as_str))
            .unwrap_or("");
        field.clear();
        quote_csv_field(text, &mut field);
        writeln!(output, "{},{},{}", index + 1, id, field)?;
    }
    output.flush()?;
    Ok(assignments.len() as u64)
}

/// Appends `value` to `out` as a CSV field, quoting it when it contains a
/// comma, quote, or line break (quotes are doubled inside quoted fields).
pub fn quote_csv_field(value: &str, out: &mut String) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        for c in value.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Parses CSV text into records of fields (RFC 4180: quoted fields may hold
/// commas, doubled quotes and line breaks). A trailing empty line is ignored.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut field_started = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                in_quotes = true;
                field_started = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                field_started = true;
            }
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                field_started = false;
            }
            _ => {
                field.push(c);
                field_started = true;
            }
        }
    }
    if field_started || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_one_row_per_line_with_final_templates() {
        let input = "user alice logged in from 10.0.0.1\n\
                     disk full, writing \"journal\" failed\n\
                     user bob logged in from 10.0.0.2\n";
        let mut output = Vec::new();
        let rows = write_templates_csv(input.as_bytes(), &mut output).unwrap();
        assert_eq!(rows, 3);
        let text = String::from_utf8(output).unwrap();
        let records = parse_csv(&text);
        assert_eq!(records[0], vec!["line", "template_id", "template"]);
        assert_eq!(records.len(), 4);
        assert_eq!(records[1][0], "1");
        assert_eq!(records[3][0], "3");
        assert_eq!(records[1][1], records[3][1]);
        assert_eq!(records[1][2], "user <*> logged in from <*>");
        assert_eq!(records[3][2], records[1][2]);
        assert_ne!(records[2][1], records[1][1]);
        assert_eq!(records[2][2], "disk full, writing \"journal\" failed");
    }

    #[test]
    fn quotes_fields_that_need_it() {
        let mut out = String::new();
        quote_csv_field("a,\"b\"", &mut out);
        assert_eq!(out, "\"a,\"\"b\"\"\"");
        out.clear();
        quote_csv_field("plain", &mut out);
        assert_eq!(out, "plain");
    }

    #[test]
    fn parses_quoted_fields_with_separators_and_newlines() {
        let records = parse_csv("a,\"b,c\",\"d\"\"e\"\n\"x\ny\",,z\n");
        assert_eq!(
            records,
            vec![vec!["a", "b,c", "d\"e"], vec!["x\ny", "", "z"]]
        );
    }

    #[test]
    fn handles_empty_input_and_invalid_utf8() {
        let mut output = Vec::new();
        assert_eq!(write_templates_csv(&b""[..], &mut output).unwrap(), 0);
        assert_eq!(output, b"line,template_id,template\n");
        let mut output = Vec::new();
        assert_eq!(
            write_templates_csv(&b"bad \xff bytes\r\n"[..], &mut output).unwrap(),
            1
        );
        assert!(String::from_utf8(output).unwrap().contains('\u{fffd}'));
    }
}
