//! Polling never changes a followed file: same bytes, same modification time.

mod logfile_support;

use logfile_support::{TempDir, append};
use sentinel::source::logfile::{LineFormat, LogTail, Offsets, TailOptions};
use std::fs;
use std::time::{Duration, SystemTime};

#[test]
fn polling_leaves_files_untouched() {
    let d = TempDir::new("readonly");
    let p = d.path("app.log");
    append(&p, b"one\n{\"level\":\"error\",\"msg\":\"x\"}\npartial");
    // Put the modification time well in the past so any write would show.
    let past = SystemTime::now() - Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let bytes_before = fs::read(&p).unwrap();
    let meta_before = fs::metadata(&p).unwrap();

    for start_at_end in [true, false] {
        let opts = TailOptions {
            start_at_end,
            format: LineFormat::json(),
            max_line_bytes: 4,
            ..TailOptions::default()
        };
        let mut tail = LogTail::new(d.path("*").to_str().unwrap(), opts).unwrap();
        let mut offsets = Offsets::new();
        for _ in 0..3 {
            tail.poll(&mut offsets).unwrap();
        }
    }

    let meta_after = fs::metadata(&p).unwrap();
    assert_eq!(fs::read(&p).unwrap(), bytes_before);
    assert_eq!(
        meta_after.modified().unwrap(),
        meta_before.modified().unwrap()
    );
    assert_eq!(meta_after.len(), meta_before.len());
    // No file was created next to it.
    assert_eq!(fs::read_dir(&d.0).unwrap().count(), 1);
}
