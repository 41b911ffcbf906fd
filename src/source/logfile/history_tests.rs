//! Which lines a tail reports as history: those a file already held when the tail was attached.

use super::tests::{TempDir, append, from_start};
use super::*;
use std::fs;

/// The texts of the lines marked history, and of the others.
fn split(lines: &[LogLine]) -> (Vec<&str>, Vec<&str>) {
    let of = |history: bool| {
        lines
            .iter()
            .filter(|line| line.history == history)
            .map(|line| line.line.as_str())
            .collect()
    };
    (of(true), of(false))
}

#[test]
fn what_a_file_held_when_attached_is_history_and_appended_lines_are_not() {
    let d = TempDir::new();
    let p = d.path("app.log");
    append(&p, b"old 1\nold 2\n");
    let mut t = LogTail::new(p.to_str().unwrap(), from_start()).unwrap();
    let mut o = Offsets::new();
    assert!(!o.history_read(), "nothing read yet");
    let lines = t.poll(&mut o).unwrap();
    assert_eq!(split(&lines), (vec!["old 1", "old 2"], vec![]));
    assert!(o.history_read());
    append(&p, b"new 1\n");
    let lines = t.poll(&mut o).unwrap();
    assert_eq!(split(&lines), (vec![], vec!["new 1"]));
}

#[test]
fn a_history_longer_than_one_poll_stays_history_across_polls_and_restarts() {
    let d = TempDir::new();
    let p = d.path("app.log");
    let line = format!("{}\n", "h".repeat(99));
    append(&p, line.repeat(30).as_bytes());
    let opts = TailOptions {
        max_bytes_per_poll: 1000,
        max_line_bytes: 200,
        ..from_start()
    };
    let mut t = LogTail::new(p.to_str().unwrap(), opts.clone()).unwrap();
    let mut o = Offsets::new();
    let first = t.poll(&mut o).unwrap();
    assert_eq!(first.len(), 10);
    assert!(first.iter().all(|l| l.history));
    assert!(!o.history_read(), "20 lines of history are still unread");
    // Written after attachment, while the history is still being read.
    append(&p, b"fresh\n");

    // A restart mid-backlog: a new tail with the stored offsets.
    let mut o = Offsets::from_json(&o.to_json().unwrap()).unwrap();
    let mut t = LogTail::new(p.to_str().unwrap(), opts).unwrap();
    let mut all = Vec::new();
    for _ in 0..5 {
        all.extend(t.poll(&mut o).unwrap());
    }
    let (history, written) = split(&all);
    assert_eq!((history.len(), written), (20, vec!["fresh"]));
    assert!(o.history_read());
}

/// A tail of `pattern` attached when `path` held two lines, after a poll whose budget read
/// only the first.
fn first_of_two_old_lines_read(path: &std::path::Path, pattern: &str) -> (LogTail, Offsets) {
    append(path, b"old 1\nold 2\n");
    let opts = TailOptions {
        max_bytes_per_poll: 6,
        max_line_bytes: 5,
        ..from_start()
    };
    let mut t = LogTail::new(pattern, opts).unwrap();
    let mut o = Offsets::new();
    assert_eq!(split(&t.poll(&mut o).unwrap()), (vec!["old 1"], vec![]));
    (t, o)
}

#[test]
fn a_file_appearing_after_attachment_holds_no_history_unless_it_rotated_in() {
    let d = TempDir::new();
    let p = d.path("app.log");
    let (mut t, mut o) = first_of_two_old_lines_read(&p, &d.glob("app.log*"));
    // Rotated by rename before its history was read: it keeps what it was; the new app.log
    // did not exist when the tail was attached.
    fs::rename(&p, d.path("app.log.1")).unwrap();
    append(&p, b"new 1\n");
    let mut all = Vec::new();
    for _ in 0..4 {
        all.extend(t.poll(&mut o).unwrap());
    }
    assert_eq!(split(&all), (vec!["old 2"], vec!["new 1"]));
    assert!(o.history_read());
}

#[test]
fn a_file_truncated_before_its_history_was_read_holds_none() {
    let d = TempDir::new();
    let p = d.path("app.log");
    let (mut t, mut o) = first_of_two_old_lines_read(&p, p.to_str().unwrap());
    fs::write(&p, b"new\n").unwrap();
    let lines = t.poll(&mut o).unwrap();
    assert_eq!(split(&lines), (vec![], vec!["new"]));
    assert!(o.history_read());
}

#[test]
fn offsets_stored_before_history_was_kept_count_as_attached() {
    let stored = r#"{"files":{}}"#;
    let o = Offsets::from_json(stored).unwrap();
    assert!(o.polled && o.history_read());
    assert!(!Offsets::new().polled);
}
