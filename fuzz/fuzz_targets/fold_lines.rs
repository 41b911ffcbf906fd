//! Fuzz target: arbitrary bytes, split into lines, fed to the multi-line
//! folder; every event is fingerprinted. Checks the per-event line cap.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel::logs::{FingerprintConfig, FoldConfig, FoldedEvent, LineFolder, fingerprint};

const MAX_LINES: usize = 8;

fn check(event: &FoldedEvent, config: &FingerprintConfig) {
    assert!(event.line_count <= MAX_LINES);
    assert!(event.line_count >= 1);
    let _ = fingerprint(&event.text, config);
}

fuzz_target!(|data: &[u8]| {
    let config = FingerprintConfig::default();
    let mut folder = LineFolder::new(FoldConfig {
        max_lines_per_event: MAX_LINES,
        max_line_bytes: 256,
    });
    for line in data.split(|&byte| byte == b'\n') {
        if let Some(event) = folder.push_bytes(line) {
            check(&event, &config);
        }
    }
    if let Some(event) = folder.flush() {
        check(&event, &config);
    }
});
