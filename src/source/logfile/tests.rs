//! Behaviour tests of the tailer on real files in a temporary directory.

use super::*;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "sentinel-logfile-unit-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    pub(super) fn glob(&self, pat: &str) -> String {
        self.0.join(pat).to_str().unwrap().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub(super) fn append(path: &Path, data: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(data).unwrap();
}

pub(super) fn from_start() -> TailOptions {
    TailOptions {
        start_at_end: false,
        ..TailOptions::default()
    }
}

pub(super) fn texts(lines: &[LogLine]) -> Vec<&str> {
    lines.iter().map(|l| l.line.as_str()).collect()
}

#[test]
fn appends_across_polls() {
    let d = TempDir::new();
    let p = d.path("app.log");
    append(&p, b"one\ntwo\n");
    let mut t = LogTail::new(p.to_str().unwrap(), from_start()).unwrap();
    let mut o = Offsets::new();
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["one", "two"]);
    assert!(t.poll(&mut o).unwrap().is_empty());
    append(&p, b"three\n");
    let lines = t.poll(&mut o).unwrap();
    assert_eq!(texts(&lines), ["three"]);
    assert_eq!(lines[0].offset, 8);
    assert_eq!(o.get(&p).unwrap().offset, 14);
}

#[test]
fn partial_line_waits_for_its_end() {
    let d = TempDir::new();
    let p = d.path("app.log");
    append(&p, b"done\nhal");
    let mut t = LogTail::new(p.to_str().unwrap(), from_start()).unwrap();
    let mut o = Offsets::new();
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["done"]);
    assert!(t.poll(&mut o).unwrap().is_empty());
    append(&p, b"f line\r\nnext");
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["half line"]);
}

#[test]
fn start_at_end_on_first_sight_only() {
    let d = TempDir::new();
    let p = d.path("app.log");
    append(&p, b"old history\nstill old\npartial");
    let pat = p.to_str().unwrap();
    let mut t = LogTail::new(pat, TailOptions::default()).unwrap();
    let mut o = Offsets::new();
    assert!(t.poll(&mut o).unwrap().is_empty());
    append(&p, b" now complete\nfresh\n");
    assert_eq!(
        texts(&t.poll(&mut o).unwrap()),
        ["partial now complete", "fresh"]
    );

    // Known offsets win over start_at_end after a restart.
    append(&p, b"while down\n");
    let mut t = LogTail::new(pat, TailOptions::default()).unwrap();
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["while down"]);

    // A file that appears after the first poll is read from its start.
    let g = d.glob("*.log");
    let mut t = LogTail::new(&g, TailOptions::default()).unwrap();
    let mut o = Offsets::new();
    assert!(t.poll(&mut o).unwrap().is_empty());
    append(&d.path("new.log"), b"born\n");
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["born"]);
}

#[test]
fn rename_rotation_finishes_old_file_then_new() {
    for pattern in ["app.log", "*.log", "app.log*"] {
        let d = TempDir::new();
        let p = d.path("app.log");
        append(&p, b"a1\n");
        let mut t = LogTail::new(&d.glob(pattern), from_start()).unwrap();
        let mut o = Offsets::new();
        assert_eq!(texts(&t.poll(&mut o).unwrap()), ["a1"]);
        append(&p, b"a2\na3\n");
        fs::rename(&p, d.path("app.log.1")).unwrap();
        append(&p, b"b1\n");
        let mut got = texts(&t.poll(&mut o).unwrap())
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        assert_eq!(got, ["a2", "a3", "b1"], "pattern {pattern}");
        // Nothing is read twice afterwards.
        append(&p, b"b2\n");
        got = texts(&t.poll(&mut o).unwrap())
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(got, ["b2"], "pattern {pattern}");
        assert!(t.poll(&mut o).unwrap().is_empty());
    }
}

#[test]
fn copytruncate_restarts_from_zero() {
    let d = TempDir::new();
    let p = d.path("app.log");
    append(&p, b"first line\nsecond line\n");
    let mut t = LogTail::new(p.to_str().unwrap(), from_start()).unwrap();
    let mut o = Offsets::new();
    assert_eq!(t.poll(&mut o).unwrap().len(), 2);
    let inode = o.get(&p).unwrap().inode;
    OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&p, b"after\n");
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["after"]);
    assert_eq!(o.get(&p).unwrap().inode, inode);

    // Truncated and rewritten with the same first line: the size gives it away.
    append(&p, b"after\nafter\nafter\n");
    assert_eq!(t.poll(&mut o).unwrap().len(), 3);
    OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&p, b"after\nagain\n");
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["after", "again"]);

    // Truncated and grown past the old offset before the next poll: the first line differs.
    OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&p, b"brand new content here\nand more\n");
    assert_eq!(
        texts(&t.poll(&mut o).unwrap()),
        ["brand new content here", "and more"]
    );
}

#[test]
fn levels_in_plain_and_json_lines() {
    let d = TempDir::new();
    let p = d.path("app.log");
    append(
        &p,
        b"2024-05-01T10:00:00Z ERROR db down\nlevel=warn msg=slow\njust text\n",
    );
    let mut t = LogTail::new(p.to_str().unwrap(), from_start()).unwrap();
    let mut o = Offsets::new();
    let lines = t.poll(&mut o).unwrap();
    let levels: Vec<_> = lines.iter().map(|l| l.level.as_deref()).collect();
    assert_eq!(levels, [Some("ERROR"), Some("WARN"), None]);
    assert_eq!(lines[0].at.as_deref(), Some("2024-05-01T10:00:00Z"));

    let j = d.path("app.json");
    append(
        &j,
        br#"{"ts":"2024-05-01T10:00:00Z","level":"error","msg":"payment failed"}
{"severity":"INFO","message":"ok"}
not json, WARN
"#,
    );
    let opts = TailOptions {
        format: LineFormat::json(),
        ..from_start()
    };
    let mut t = LogTail::new(j.to_str().unwrap(), opts).unwrap();
    let mut o = Offsets::new();
    let lines = t.poll(&mut o).unwrap();
    assert_eq!(texts(&lines), ["payment failed", "ok", "not json, WARN"]);
    assert_eq!(lines[0].level.as_deref(), Some("ERROR"));
    assert_eq!(lines[0].at.as_deref(), Some("2024-05-01T10:00:00Z"));
    assert_eq!(lines[1].level.as_deref(), Some("INFO"));
    assert_eq!(
        lines[2].level.as_deref(),
        Some("WARN"),
        "non-JSON falls back to plain"
    );
}

#[test]
fn long_lines_are_cut_and_counted() {
    let d = TempDir::new();
    let p = d.path("app.log");
    let long = "é".repeat(100); // 200 bytes
    append(&p, format!("short\n{long}\nafter\n").as_bytes());
    let opts = TailOptions {
        max_line_bytes: 15,
        ..from_start()
    };
    let mut t = LogTail::new(p.to_str().unwrap(), opts).unwrap();
    let mut o = Offsets::new();
    let lines = t.poll(&mut o).unwrap();
    assert_eq!(texts(&lines), ["short", "ééééééé", "after"]);
    assert!(lines[1].truncated && !lines[0].truncated && !lines[2].truncated);
    assert_eq!(t.stats().truncated_lines, 1);

    // A long line still being written is reported once, its rest dropped up to the newline.
    append(&p, &[b'x'; 40]);
    let lines = t.poll(&mut o).unwrap();
    assert_eq!(texts(&lines), ["x".repeat(15)]);
    append(&p, &[b'x'; 40]);
    assert!(t.poll(&mut o).unwrap().is_empty());
    append(&p, b"xx\nok\n");
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["ok"]);
    assert_eq!(t.stats().truncated_lines, 2);
}

#[test]
fn invalid_utf8_nul_and_empty_files() {
    let d = TempDir::new();
    let p = d.path("app.log");
    append(&p, b"bad \xff\xfe bytes\nnul\0inside\n\n");
    append(&d.path("empty.log"), b"");
    let mut t = LogTail::new(&d.glob("*.log"), from_start()).unwrap();
    let mut o = Offsets::new();
    let lines = t.poll(&mut o).unwrap();
    assert_eq!(
        texts(&lines),
        ["bad \u{fffd}\u{fffd} bytes", "nul\0inside", ""]
    );
    assert_eq!(o.files.len(), 2);
}

#[test]
fn missing_directory_and_vanished_file_are_errors() {
    let d = TempDir::new();
    let missing = d.glob("nope/*.log");
    let mut t = LogTail::new(&missing, from_start()).unwrap();
    let err = t.poll(&mut Offsets::new()).unwrap_err();
    assert!(matches!(err, TailError::Directory { .. }), "{err}");
    assert_eq!(err.path(), d.path("nope"));
    assert!(err.to_string().contains("No such file"), "{err}");

    // A glob with no match in an existing directory is simply empty.
    let mut t = LogTail::new(&d.glob("*.log"), from_start()).unwrap();
    assert!(t.poll(&mut Offsets::new()).unwrap().is_empty());

    // A followed plain path that disappears is reported, offsets untouched.
    let p = d.path("app.log");
    append(&p, b"x\n");
    let mut t = LogTail::new(p.to_str().unwrap(), from_start()).unwrap();
    let mut o = Offsets::new();
    t.poll(&mut o).unwrap();
    fs::remove_file(&p).unwrap();
    let before = o.clone();
    let err = t.poll(&mut o).unwrap_err();
    assert!(matches!(err, TailError::Vanished { .. }), "{err}");
    assert_eq!(err.path(), p);
    assert_eq!(o, before);
    // It comes back: read from the start, no error.
    append(&p, b"back\n");
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["back"]);
}

#[test]
fn glob_over_several_files_and_removal() {
    let d = TempDir::new();
    append(&d.path("a.log"), b"a1\n");
    append(&d.path("b.log"), b"b1\n");
    append(&d.path("c.txt"), b"not matched\n");
    let mut t = LogTail::new(&d.glob("*.log"), from_start()).unwrap();
    let mut o = Offsets::new();
    let mut got: Vec<_> = t
        .poll(&mut o)
        .unwrap()
        .into_iter()
        .map(|l| (l.path.file_name().unwrap().to_owned(), l.line))
        .collect();
    got.sort();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1, "a1");
    assert_eq!(got[1].1, "b1");
    fs::remove_file(d.path("a.log")).unwrap();
    append(&d.path("b.log"), b"b2\n");
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["b2"]);
    assert_eq!(o.files.len(), 1);
}

#[test]
fn budget_is_shared_fairly() {
    let d = TempDir::new();
    let line = format!("{}\n", "x".repeat(99));
    append(&d.path("a.log"), line.repeat(100).as_bytes());
    append(&d.path("b.log"), line.repeat(100).as_bytes());
    let opts = TailOptions {
        max_bytes_per_poll: 1000,
        max_line_bytes: 200,
        ..from_start()
    };
    let mut t = LogTail::new(&d.glob("*.log"), opts).unwrap();
    let mut o = Offsets::new();
    let mut per_file = std::collections::HashMap::new();
    for _ in 0..6 {
        let batch = t.poll(&mut o).unwrap();
        assert!(batch.len() <= 10, "{} lines over budget", batch.len());
        for l in batch {
            *per_file.entry(l.path).or_insert(0) += 1;
        }
    }
    assert_eq!(per_file.len(), 2, "both files progress");
    let mut total = per_file.values().sum::<usize>();
    while total < 200 {
        let n = t.poll(&mut o).unwrap().len();
        assert!(n > 0 && n <= 10);
        total += n;
    }
    assert_eq!(total, 200);
}

#[test]
fn quiet_rotated_file_gives_up_its_unterminated_last_line() {
    let d = TempDir::new();
    let p = d.path("app.log");
    append(&p, b"a1\nlast words");
    let mut t = LogTail::new(&d.glob("*.log"), from_start()).unwrap();
    let mut o = Offsets::new();
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["a1"]);
    let rotated = d.path("app.log.1");
    fs::rename(&p, &rotated).unwrap();
    append(&p, b"b1\n");
    // Still fresh: the writer may yet finish the line.
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["b1"]);
    assert!(o.get(&rotated).is_some());
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    fs::File::options()
        .append(true)
        .open(&rotated)
        .unwrap()
        .set_modified(past)
        .unwrap();
    assert_eq!(texts(&t.poll(&mut o).unwrap()), ["last words"]);
    assert!(o.get(&rotated).is_none(), "finished file let go");
    assert!(t.poll(&mut o).unwrap().is_empty());
}

#[test]
fn a_directory_named_as_the_file_is_an_error() {
    let d = TempDir::new();
    fs::create_dir(d.path("app.log")).unwrap();
    let mut t = LogTail::new(d.path("app.log").to_str().unwrap(), from_start()).unwrap();
    let err = t.poll(&mut Offsets::new()).unwrap_err();
    assert!(matches!(err, TailError::File { .. }), "{err}");
    // Under a glob, directories are simply not log files.
    let mut t = LogTail::new(&d.glob("*.log"), from_start()).unwrap();
    assert!(t.poll(&mut Offsets::new()).unwrap().is_empty());
}
