//! Tests with a stand-in `journalctl` script, and with the real one when it can read a
//! journal file made here.

use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Writing an executable while another test forks can leave the file "busy" for exec:
/// tests that write scripts and run them take turns.
static SCRIPTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "sentinel-journald-{}-{tag}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Entries as `journalctl -o json` (systemd 252) prints them: one compact object a line, keys
/// in no particular order, values as strings, non-UTF-8 data as an array of byte values, a
/// field set twice as an array of values.
const ENTRIES: &str = r#"{"SYSLOG_IDENTIFIER":"nginx","PRIORITY":"3","__REALTIME_TIMESTAMP":"1700000000123456","__MONOTONIC_TIMESTAMP":"1000","__CURSOR":"s=36fada7c;i=1;b=0123;m=3e8;t=60a2418202240;x=97e1","_SYSTEMD_UNIT":"nginx.service","_BOOT_ID":"0123456789abcdef0123456789abcdef","MESSAGE":"upstream timed out\n"}
{"_BOOT_ID":"0123456789abcdef0123456789abcdef","__CURSOR":"s=36fada7c;i=2;b=0123;m=7d0;t=60a24182d8240;x=81f1","__MONOTONIC_TIMESTAMP":"2000","SYSLOG_IDENTIFIER":"app","MESSAGE":[98,97,100,32,255,254,32,98,121,116,101,115],"PRIORITY":"4","__REALTIME_TIMESTAMP":"1700000001000000"}
{"__CURSOR":"s=36fada7c;i=3;b=0123;m=bb8;t=60a24183;x=11","__REALTIME_TIMESTAMP":"1700000002000000","__MONOTONIC_TIMESTAMP":"3000","_BOOT_ID":"0123456789abcdef0123456789abcdef","MESSAGE":["first value","second value"],"PRIORITY":"6","_SYSTEMD_UNIT":"cron.service"}
{"__CURSOR":"s=36fada7c;i=4;b=0123;m=fa0;t=60a24184;x=12","__REALTIME_TIMESTAMP":"1700000003000000","__MONOTONIC_TIMESTAMP":"4000","_BOOT_ID":"0123456789abcdef0123456789abcdef","MESSAGE":"Started Session 3 of User root.","PRIORITY":"5","SYSLOG_IDENTIFIER":"systemd"}
"#;

/// Writes `body` as an executable `journalctl` shell script in `dir`.
fn script(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("journalctl");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// A fake journalctl that logs its arguments (one a line, `--` after each run) to `args`
/// and prints `entries`, then runs `tail` (shell).
fn fake(dir: &Path, entries: &str, tail: &str) -> PathBuf {
    std::fs::write(dir.join("entries.json"), entries).expect("entries");
    script(
        dir,
        &format!(
            "d='{}'\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> \"$d/args\"; done\necho -- >> \"$d/args\"\ncat \"$d/entries.json\"\n{tail}",
            dir.display()
        ),
    )
}

/// The arguments of each run of a fake.
fn runs(dir: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    text.split("--\n")
        .filter(|run| !run.is_empty())
        .map(|run| run.lines().map(str::to_string).collect())
        .collect()
}

fn options(journalctl: PathBuf) -> JournaldOptions {
    JournaldOptions {
        journalctl,
        timeout: Duration::from_secs(10),
        ..JournaldOptions::default()
    }
}

#[tokio::test]
async fn reads_entries_and_passes_filters_and_since() {
    let _turn = SCRIPTS.lock().await;
    let dir = TempDir::new("read");
    let journalctl = fake(dir.path(), ENTRIES, "");
    let source = JournaldSource::new(
        "journal",
        JournaldOptions {
            units: vec!["nginx.service".to_string(), "cron.service".to_string()],
            identifiers: vec!["app".to_string()],
            since: Some("-1h".to_string()),
            ..options(journalctl)
        },
    );
    let read = source.read(None).await.expect("read");
    assert_eq!(
        runs(dir.path()),
        vec![vec![
            "-o",
            "json",
            "--no-pager",
            "--all",
            "--output-fields=MESSAGE,PRIORITY,_SYSTEMD_UNIT,SYSLOG_IDENTIFIER",
            "--unit=nginx.service",
            "--unit=cron.service",
            "--identifier=app",
            "--since=-1h",
        ]]
    );
    assert_eq!(read.lines.len(), 4);
    assert!(!read.more);
    assert_eq!(read.skipped, 0);
    assert_eq!(read.restarted, None);
    assert_eq!(
        read.cursor.as_deref(),
        Some("s=36fada7c;i=4;b=0123;m=fa0;t=60a24184;x=12")
    );

    let first = &read.lines[0];
    assert_eq!(first.line, "upstream timed out", "the line end is dropped");
    assert_eq!(first.priority, Some(3));
    assert_eq!(first.level.as_deref(), Some("ERROR"));
    assert_eq!(
        first.at,
        DateTime::from_timestamp_micros(1_700_000_000_123_456)
    );
    assert_eq!(first.unit.as_deref(), Some("nginx.service"));
    assert_eq!(first.identifier.as_deref(), Some("nginx"));
    assert_eq!(
        first.cursor,
        "s=36fada7c;i=1;b=0123;m=3e8;t=60a2418202240;x=97e1"
    );

    let bytes = &read.lines[1];
    assert_eq!(bytes.line, "bad \u{fffd}\u{fffd} bytes");
    assert_eq!(bytes.level.as_deref(), Some("WARN"));
    assert_eq!(bytes.unit, None);

    assert_eq!(read.lines[2].line, "first value\nsecond value");
    assert_eq!(read.lines[2].level.as_deref(), Some("INFO"));
    assert_eq!(read.lines[3].level.as_deref(), Some("NOTICE"));
}

#[tokio::test]
async fn resumes_after_the_cursor_without_since() {
    let _turn = SCRIPTS.lock().await;
    let dir = TempDir::new("resume");
    let journalctl = fake(dir.path(), "", "");
    let source = JournaldSource::new(
        "journal",
        JournaldOptions {
            since: Some("today".to_string()),
            ..options(journalctl)
        },
    );
    let cursor = "s=36fada7c;i=4;b=0123;m=fa0;t=60a24184;x=12";
    let read = source.read(Some(cursor)).await.expect("read");
    let args = &runs(dir.path())[0];
    assert!(
        args.contains(&format!("--after-cursor={cursor}")),
        "{args:?}"
    );
    assert!(!args.iter().any(|a| a.starts_with("--since")), "{args:?}");
    assert!(read.lines.is_empty());
    assert_eq!(
        read.cursor.as_deref(),
        Some(cursor),
        "nothing new: the cursor stays"
    );
}

#[tokio::test]
async fn stops_after_max_entries_and_kills_journalctl() {
    let _turn = SCRIPTS.lock().await;
    let dir = TempDir::new("cap");
    // After its output this journalctl would hang for a minute: the read must not wait.
    let journalctl = fake(dir.path(), ENTRIES, "exec sleep 60");
    let source = JournaldSource::new(
        "journal",
        JournaldOptions {
            max_entries: 2,
            ..options(journalctl)
        },
    );
    let started = std::time::Instant::now();
    let read = source.read(None).await.expect("read");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(read.lines.len(), 2);
    assert!(read.more);
    assert_eq!(read.cursor.as_deref(), Some(read.lines[1].cursor.as_str()));
    assert_eq!(read.lines[1].line, "bad \u{fffd}\u{fffd} bytes");
}

#[tokio::test]
async fn exactly_max_entries_is_not_more() {
    let _turn = SCRIPTS.lock().await;
    let dir = TempDir::new("exact");
    let journalctl = fake(dir.path(), ENTRIES, "");
    let source = JournaldSource::new(
        "journal",
        JournaldOptions {
            max_entries: 4,
            ..options(journalctl)
        },
    );
    let read = source.read(None).await.expect("read");
    assert_eq!(read.lines.len(), 4);
    assert!(!read.more);
}

#[tokio::test]
async fn a_rejected_cursor_restarts_from_since_and_says_so() {
    let _turn = SCRIPTS.lock().await;
    let dir = TempDir::new("badcursor");
    // A journalctl that refuses any cursor, and prints entries when run without one.
    let body = format!(
        "d='{}'\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> \"$d/args\"; done\necho -- >> \"$d/args\"\ncase \"$*\" in *--after-cursor=*) echo 'Failed to seek to cursor: Invalid argument' >&2; exit 1;; esac\ncat <<'EOF'\n{}EOF",
        dir.path().display(),
        ENTRIES
    );
    let journalctl = script(dir.path(), &body);
    let source = JournaldSource::new(
        "journal",
        JournaldOptions {
            since: Some("2024-05-01 00:00:00".to_string()),
            ..options(journalctl)
        },
    );
    let read = source.read(Some("garbage")).await.expect("read");
    let runs = runs(dir.path());
    assert_eq!(runs.len(), 2);
    assert!(runs[0].contains(&"--after-cursor=garbage".to_string()));
    assert!(runs[1].contains(&"--since=2024-05-01 00:00:00".to_string()));
    assert!(!runs[1].iter().any(|a| a.starts_with("--after-cursor")));
    let note = read.restarted.expect("restart noted");
    assert!(note.contains("Failed to seek to cursor"), "{note}");
    assert!(note.contains("--since=2024-05-01 00:00:00"), "{note}");
    assert_eq!(read.lines.len(), 4);
}

#[tokio::test]
async fn a_failing_journalctl_is_a_bad_response_with_its_stderr() {
    let _turn = SCRIPTS.lock().await;
    let dir = TempDir::new("fail");
    let journalctl = script(
        dir.path(),
        "echo 'Failed to open journal directory /nope: No such file or directory' >&2\nexit 1",
    );
    let error = JournaldSource::new("journal", options(journalctl))
        .read(Some("s=1"))
        .await
        .expect_err("failure");
    assert_eq!(error.kind, SourceErrorKind::BadResponse);
    assert!(
        error.detail.contains("No such file or directory"),
        "{}",
        error.detail
    );
    assert!(error.detail.contains("exit status: 1"), "{}", error.detail);
    assert_eq!(error.source, "journal");
}

#[tokio::test]
async fn a_missing_journalctl_is_unreachable() {
    let error = JournaldSource::new(
        "journal",
        options(PathBuf::from("/nonexistent/bin/journalctl")),
    )
    .read(None)
    .await
    .expect_err("missing");
    assert_eq!(error.kind, SourceErrorKind::Unreachable);
    assert!(
        error
            .detail
            .starts_with("journalctl not found: journald source needs systemd's journalctl"),
        "{}",
        error.detail
    );
}

#[tokio::test]
async fn a_hanging_journalctl_times_out() {
    let _turn = SCRIPTS.lock().await;
    let dir = TempDir::new("hang");
    let journalctl = script(dir.path(), "exec sleep 60");
    let started = std::time::Instant::now();
    let error = JournaldSource::new(
        "journal",
        JournaldOptions {
            timeout: Duration::from_millis(300),
            ..options(journalctl)
        },
    )
    .read(None)
    .await
    .expect_err("timeout");
    assert_eq!(error.kind, SourceErrorKind::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn broken_and_oversized_entries_are_skipped_not_fatal() {
    let _turn = SCRIPTS.lock().await;
    let dir = TempDir::new("skip");
    let huge = format!(
        "{{\"__CURSOR\":\"s=huge\",\"MESSAGE\":\"{}\"}}\n",
        "x".repeat(MAX_ENTRY_JSON_BYTES + 10)
    );
    let last =
        r#"{"__CURSOR":"s=last","__REALTIME_TIMESTAMP":"1700000009000000","MESSAGE":"after"}"#;
    let entries =
        format!("-- No entries --\n{{not json\n{{\"MESSAGE\":\"no cursor\"}}\n{huge}{last}\n");
    let journalctl = fake(dir.path(), &entries, "");
    let read = JournaldSource::new("journal", options(journalctl))
        .read(None)
        .await
        .expect("read");
    assert_eq!(read.skipped, 3);
    assert_eq!(read.lines.len(), 1);
    assert_eq!(read.lines[0].line, "after");
    assert_eq!(read.lines[0].level, None);
    assert_eq!(read.cursor.as_deref(), Some("s=last"));
}

#[test]
fn long_messages_are_cut_on_a_char_boundary() {
    let json = r#"{"__CURSOR":"c","MESSAGE":"ééééé","PRIORITY":"0"}"#;
    let line = parse_entry(json.as_bytes(), 5).expect("entry");
    assert_eq!(line.line, "éé");
    assert!(line.truncated);
    assert_eq!(line.level.as_deref(), Some("FATAL"));
    let line = parse_entry(json.as_bytes(), 100).expect("entry");
    assert!(!line.truncated);
}

#[test]
fn priorities_map_to_levels() {
    let level = |p: &str| {
        let json = format!(r#"{{"__CURSOR":"c","MESSAGE":"m","PRIORITY":"{p}"}}"#);
        parse_entry(json.as_bytes(), 100).expect("entry").level
    };
    let expected = [
        "FATAL", "FATAL", "FATAL", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG",
    ];
    for (p, want) in expected.iter().enumerate() {
        assert_eq!(
            level(&p.to_string()).as_deref(),
            Some(*want),
            "PRIORITY={p}"
        );
    }
    assert_eq!(level("8"), None);
    assert_eq!(level("x"), None);
}

#[test]
fn directory_and_files_are_passed_through() {
    let source = JournaldSource::new(
        "journal",
        JournaldOptions {
            directory: Some(PathBuf::from("/var/log/journal")),
            files: vec![PathBuf::from("/tmp/a.journal")],
            ..JournaldOptions::default()
        },
    );
    let args = source.args(None, None);
    assert!(args.contains(&OsString::from("--directory=/var/log/journal")));
    assert!(args.contains(&OsString::from("--file=/tmp/a.journal")));
    assert!(
        !args
            .iter()
            .any(|a| a.to_string_lossy().starts_with("--since"))
    );
}

/// Finds `systemd-journal-remote`, which turns journal export format into a journal file.
fn journal_remote() -> Option<PathBuf> {
    [
        "/lib/systemd/systemd-journal-remote",
        "/usr/lib/systemd/systemd-journal-remote",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

#[tokio::test]
async fn the_real_journalctl_reads_a_journal_file() {
    let Some(remote) = journal_remote() else {
        eprintln!("skipped: systemd-journal-remote is not installed");
        return;
    };
    let journalctl_present = std::process::Command::new("journalctl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !journalctl_present {
        eprintln!("skipped: journalctl is not installed");
        return;
    }
    let _turn = SCRIPTS.lock().await;
    let dir = TempDir::new("real");
    // Journal export format: text fields as KEY=value, binary ones as KEY, a little-endian
    // 64-bit length, the bytes.
    let mut export = Vec::new();
    let binary = b"bad \xff\xfe bytes";
    for (i, extra) in [
        (
            0u64,
            b"MESSAGE=first\nPRIORITY=3\n_SYSTEMD_UNIT=nginx.service\nSYSLOG_IDENTIFIER=nginx\n"
                .to_vec(),
        ),
        (1, {
            let mut field = b"MESSAGE\n".to_vec();
            field.extend_from_slice(&(binary.len() as u64).to_le_bytes());
            field.extend_from_slice(binary);
            field.extend_from_slice(b"\nPRIORITY=4\nSYSLOG_IDENTIFIER=app\n");
            field
        }),
        (
            2,
            b"MESSAGE=third\nPRIORITY=6\nSYSLOG_IDENTIFIER=app\n".to_vec(),
        ),
    ] {
        export.extend_from_slice(
            format!(
                "__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n",
                1_700_000_000_000_000 + i * 1_000_000,
                1000 + i
            )
            .as_bytes(),
        );
        export.extend_from_slice(&extra);
        export.push(b'\n');
    }
    let export_path = dir.path().join("entries.export");
    std::fs::write(&export_path, export).expect("export");
    let journal = dir.path().join("test.journal");
    let made = std::process::Command::new(remote)
        .arg(format!("--output={}", journal.display()))
        .arg(&export_path)
        .output()
        .expect("systemd-journal-remote");
    if !made.status.success() || !journal.exists() {
        eprintln!(
            "skipped: systemd-journal-remote could not write a journal file: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        return;
    }
    let source = |max_entries| {
        JournaldSource::new(
            "journal",
            JournaldOptions {
                files: vec![journal.clone()],
                max_entries,
                ..options(PathBuf::from("journalctl"))
            },
        )
    };
    let all = source(10).read(None).await.expect("read");
    let lines: Vec<&str> = all.lines.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(lines, ["first", "bad \u{fffd}\u{fffd} bytes", "third"]);
    assert_eq!(all.lines[0].unit.as_deref(), Some("nginx.service"));
    assert_eq!(all.lines[0].level.as_deref(), Some("ERROR"));
    assert_eq!(
        all.lines[1].at,
        DateTime::from_timestamp_micros(1_700_000_001_000_000)
    );

    let first = source(1).read(None).await.expect("read");
    assert_eq!(first.lines.len(), 1);
    assert!(first.more);
    let rest = source(10)
        .read(first.cursor.as_deref())
        .await
        .expect("read");
    let lines: Vec<&str> = rest.lines.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(lines, ["bad \u{fffd}\u{fffd} bytes", "third"]);
    assert_eq!(rest.cursor, all.cursor);

    let restarted = source(10).read(Some("not-a-cursor")).await.expect("read");
    assert!(restarted.restarted.is_some());
    assert_eq!(restarted.lines.len(), 3);

    let identified = JournaldSource::new(
        "journal",
        JournaldOptions {
            files: vec![journal.clone()],
            identifiers: vec!["app".to_string()],
            ..options(PathBuf::from("journalctl"))
        },
    )
    .read(None)
    .await
    .expect("read");
    assert_eq!(identified.lines.len(), 2);
}

#[test]
fn a_read_without_cursor_starts_where_it_is_told() {
    let source = JournaldSource::new(
        "journal",
        JournaldOptions {
            since: Some("-1h".to_string()),
            ..JournaldOptions::default()
        },
    );
    let own = source.args(None, source.options.since.as_deref());
    assert!(own.contains(&OsString::from("--since=-1h")));
    let told = source.args(None, Some("@1714564800"));
    assert!(told.contains(&OsString::from("--since=@1714564800")));
    let resumed = source.args(Some("s=abc"), Some("@1714564800"));
    assert!(resumed.contains(&OsString::from("--after-cursor=s=abc")));
    assert!(
        !resumed
            .iter()
            .any(|a| a.to_string_lossy().starts_with("--since"))
    );
}
