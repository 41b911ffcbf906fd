//! A restart with persisted offsets neither skips nor re-reads lines, including across a
//! rotation that happened while the daemon was down.

mod logfile_support;

use logfile_support::{TempDir, append};
use sentinel::source::logfile::{LogTail, Offsets, TailOptions};

fn lines(tail: &mut LogTail, offsets: &mut Offsets) -> Vec<String> {
    tail.poll(offsets)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

#[test]
fn restart_with_persisted_offsets() {
    let d = TempDir::new("restart");
    let p = d.path("app.log");
    let pattern = d.path("*.log").to_str().unwrap().to_string();
    append(&p, b"history\n");

    let mut tail = LogTail::new(&pattern, TailOptions::default()).unwrap();
    let mut offsets = Offsets::new();
    assert!(lines(&mut tail, &mut offsets).is_empty(), "history skipped");
    append(&p, b"l1\nl2\npart");
    assert_eq!(lines(&mut tail, &mut offsets), ["l1", "l2"]);
    let stored = offsets.to_json().unwrap();
    drop(tail);

    // Written while down, including the rest of the partial line.
    append(&p, b"ial\nl4\n");
    let mut offsets = Offsets::from_json(&stored).unwrap();
    let mut tail = LogTail::new(&pattern, TailOptions::default()).unwrap();
    assert_eq!(lines(&mut tail, &mut offsets), ["partial", "l4"]);
    assert!(lines(&mut tail, &mut offsets).is_empty());
    let stored = offsets.to_json().unwrap();
    drop(tail);

    // Rotated while down: the old file's tail, then the new file from its start.
    append(&p, b"l5\n");
    std::fs::rename(&p, d.path("app.log.1")).unwrap();
    append(&p, b"n1\n");
    let mut offsets = Offsets::from_json(&stored).unwrap();
    let mut tail = LogTail::new(&pattern, TailOptions::default()).unwrap();
    assert_eq!(lines(&mut tail, &mut offsets), ["l5", "n1"]);
    assert!(lines(&mut tail, &mut offsets).is_empty());
}
