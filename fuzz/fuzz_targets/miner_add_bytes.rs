//! Fuzz target: arbitrary bytes, split into lines, fed to a miner with a
//! small template cap; checks the cap, template hygiene and that a snapshot
//! survives a restore unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel::logs::{Miner, MinerConfig};

fuzz_target!(|data: &[u8]| {
    let mut miner = Miner::new(MinerConfig {
        max_templates: 16,
        max_line_bytes: 512,
        ..MinerConfig::default()
    });
    for line in data.split(|&byte| byte == b'\n') {
        let result = miner.add_bytes(line);
        let text = miner.template(result.id).unwrap_or_default();
        assert!(!text.bytes().any(|byte| byte < b' ' || byte == 0x7f));
        assert_eq!(miner.add_bytes(line).id, result.id);
    }
    assert!(miner.template_count() <= 16);
    let snapshot = miner.snapshot();
    let mut restored = Miner::new(miner.config().clone());
    restored.restore(snapshot.clone());
    assert_eq!(restored.snapshot(), snapshot);
});
