//! A 50 MB file is consumed over several polls, each within the byte budget, without any
//! allocation anywhere near the file's size.

mod logfile_support;

use logfile_support::{TempDir, append};
use sentinel::source::logfile::{LogTail, Offsets, TailOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(live, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn fifty_megabytes_over_several_polls() {
    let d = TempDir::new("bounded");
    let p = d.path("big.log");
    let line = format!("{}\n", "0123456789".repeat(10)); // 101 bytes
    let block = line.repeat(10_000); // ~1 MB
    for _ in 0..50 {
        append(&p, block.as_bytes());
    }
    let total_lines = 500_000usize;
    let budget = 4 * 1024 * 1024;
    let opts = TailOptions {
        start_at_end: false,
        max_bytes_per_poll: budget,
        ..TailOptions::default()
    };
    let mut tail = LogTail::new(p.to_str().unwrap(), opts).unwrap();
    let mut offsets = Offsets::new();

    let mut seen = 0usize;
    let mut polls = 0;
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    loop {
        let lines = tail.poll(&mut offsets).unwrap();
        if lines.is_empty() {
            break;
        }
        let bytes: usize = lines.iter().map(|l| l.line.len() + 1).sum();
        assert!(bytes <= budget, "poll returned {bytes} bytes");
        assert!(lines.iter().all(|l| l.line.len() == 100));
        seen += lines.len();
        polls += 1;
        drop(lines);
    }
    assert_eq!(seen, total_lines);
    assert!(polls >= 12, "only {polls} polls");
    // Every byte read once, plus at most one partial line re-read per poll boundary.
    let read = tail.stats().bytes_read;
    let size = 50 * block.len() as u64;
    assert!(
        read >= size && read <= size + polls as u64 * line.len() as u64,
        "read {read}"
    );
    // Lines of one poll (~4 MB of text plus per-line overhead) and a read buffer: far below
    // the 50 MB file.
    let peak = PEAK.load(Ordering::SeqCst) - base;
    assert!(peak < 20 * 1024 * 1024, "peak live allocation {peak} bytes");
}
