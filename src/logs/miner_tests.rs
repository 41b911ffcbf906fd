//! Tests of the template miner: grouping, statistics, persistence, bounded
//! memory under high-cardinality input, and hostile input.

use super::*;
use proptest::prelude::*;

/// Small xorshift generator so junk input is cheap and reproducible.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Writes a line of 1 to 16 random lower-case tokens into `line`.
fn junk_line(rng: &mut XorShift, line: &mut String) {
    line.clear();
    let tokens = 1 + rng.next() % 16;
    for index in 0..tokens {
        if index > 0 {
            line.push(' ');
        }
        let mut bits = rng.next();
        let length = 1 + bits % 10;
        for _ in 0..length {
            bits = bits.rotate_right(5);
            line.push(char::from(b'a' + (bits % 26) as u8));
        }
    }
}

#[test]
fn groups_lines_that_differ_in_values() {
    let mut miner = Miner::new(MinerConfig::default());
    let first = miner.add("connection from 10.0.0.1:5000 closed after 35ms");
    let second = miner.add("connection from 192.168.1.20:443 closed after 2.5s");
    let other = miner.add("disk quota exceeded for volume data");
    assert!(first.is_new);
    assert!(!second.is_new);
    assert_eq!(first.id, second.id);
    assert_ne!(first.id, other.id);
    assert_eq!(
        miner.template(first.id),
        Some("connection from <*> closed after <*>")
    );
}

#[test]
fn generalises_differing_words_and_reports_the_change() {
    let mut miner = Miner::new(MinerConfig::default());
    let first = miner.add("session opened for user alice by ssh service");
    let second = miner.add("session opened for user bob by ssh service");
    assert_eq!(first.id, second.id);
    assert!(second.template_changed);
    assert_eq!(
        miner.template(first.id),
        Some("session opened for user <*> by ssh service")
    );
    let third = miner.add("session opened for user carol by ssh service");
    assert!(!third.template_changed);
}

#[test]
fn keeps_short_messages_with_different_words_apart() {
    let mut miner = Miner::new(MinerConfig::default());
    let start = miner.add("worker started");
    let stop = miner.add("worker stopped");
    assert_ne!(start.id, stop.id);
    let list_a = miner.add("peers: 1 2 3");
    let list_b = miner.add("peers: 4 5 6 7 8 9");
    assert_eq!(list_a.id, list_b.id);
}

#[test]
fn keeps_enumerated_states_apart() {
    let mut miner = Miner::new(MinerConfig::default());
    let running = miner.add("job 7 moved from QUEUED to RUNNING on node a");
    let failed = miner.add("job 8 moved from QUEUED to FAILED on node a");
    assert_ne!(running.id, failed.id);
}

#[test]
fn routes_lines_whose_first_token_is_a_value() {
    let mut miner = Miner::new(MinerConfig::default());
    let a = miner.add("db.example.com:5432 connection refused by peer");
    let b = miner.add("cache-2.example.org:6379 connection refused by peer");
    assert_eq!(a.id, b.id);
}

#[test]
fn tracks_counts_and_caller_timestamps() {
    let mut miner = Miner::new(MinerConfig::default());
    let id = miner.add_at("request 1 served in 5ms", 100).id;
    miner.add_at("request 2 served in 7ms", 250);
    miner.add_at("request 3 served in 9ms", 180);
    let record = miner.record(id).unwrap();
    assert_eq!(record.count, 3);
    assert_eq!(record.first_seen, 100);
    assert_eq!(record.last_seen, 250);
    assert_eq!(miner.stats().lines, 3);
}

#[test]
fn snapshot_and_restore_keep_ids_and_statistics() {
    let mut miner = Miner::new(MinerConfig::default());
    let login = miner.add_at("user alice logged in from 10.0.0.1", 1).id;
    miner.add_at("user bob logged in from 10.0.0.2", 2);
    let disk = miner.add_at("disk /dev/sda1 is 91% full", 3).id;
    let snapshot = miner.snapshot();
    assert_eq!(snapshot.len(), 2);

    let mut restored = Miner::new(MinerConfig::default());
    restored.restore(snapshot.clone());
    assert_eq!(restored.snapshot(), snapshot);
    let again = restored.add_at("user carol logged in from 10.0.0.3", 4);
    assert_eq!(again.id, login);
    assert!(!again.is_new);
    assert_eq!(restored.add("disk /dev/sdb2 is 12% full").id, disk);
    let fresh = restored.add("certificate expires soon");
    assert!(fresh.is_new);
    assert!(fresh.id.0 > disk.0.max(login.0));
    assert_eq!(restored.record(login).unwrap().count, 3);
}

#[test]
fn evicts_least_recently_used_templates() {
    let mut miner = Miner::new(MinerConfig {
        max_templates: 3,
        ..MinerConfig::default()
    });
    let oldest = miner.add("alpha event happened").id;
    let middle = miner.add("beta thing occurred today").id;
    let newest = miner.add("gamma signal was raised here now").id;
    miner.add("alpha event happened");
    let added = miner.add("delta message arrived late again and again").id;
    assert_eq!(miner.template_count(), 3);
    assert!(miner.template(middle).is_none());
    assert!(miner.template(oldest).is_some());
    assert!(miner.template(newest).is_some());
    assert!(miner.template(added).is_some());
    assert_eq!(miner.stats().evicted_templates, 1);
}

fn assert_bounded_under_junk(lines: u64) {
    let config = MinerConfig::default();
    let cap = config.max_templates;
    let mut miner = Miner::new(config);
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut line = String::new();
    // Generous per-template allowance for 16 tokens of up to 10 bytes.
    let byte_bound = cap * 1024 + 4 * cap * 32;
    for index in 0..lines {
        junk_line(&mut rng, &mut line);
        miner.add(&line);
        if index % 100_000 == 0 {
            assert!(miner.template_count() <= cap);
            assert!(miner.approx_memory_bytes() <= byte_bound);
        }
    }
    assert!(miner.template_count() <= cap);
    assert!(
        miner.template_count() > cap / 2,
        "junk should fill the table"
    );
    assert!(miner.stats().evicted_templates > 0);
    assert!(
        miner.approx_memory_bytes() <= byte_bound,
        "{} bytes over bound {}",
        miner.approx_memory_bytes(),
        byte_bound
    );
    assert_eq!(miner.stats().lines, lines);
}

#[test]
fn memory_stays_bounded_under_one_million_junk_lines() {
    assert_bounded_under_junk(1_000_000);
}

/// Ten million lines take several minutes in a debug build; run with
/// `cargo test --release -- --ignored`.
#[test]
#[ignore]
fn memory_stays_bounded_under_ten_million_junk_lines() {
    assert_bounded_under_junk(10_000_000);
}

#[test]
fn accepts_invalid_utf8_and_nul_bytes() {
    let mut miner = Miner::new(MinerConfig::default());
    let invalid = miner.add_bytes(b"checksum \xff\xfe mismatch on block 7");
    let text = miner.template(invalid.id).unwrap();
    assert!(text.contains('\u{fffd}'));
    let nul = miner.add_bytes(b"value\0with\0nul 42");
    assert_eq!(miner.template(nul.id), Some("value with nul <*>"));
}

#[test]
fn truncates_and_counts_huge_lines() {
    let mut miner = Miner::new(MinerConfig::default());
    let mut huge = "word ".repeat(200_000);
    huge.push('\u{e9}');
    let result = miner.add(&huge);
    assert!(miner.template(result.id).unwrap().len() <= 4096);
    assert_eq!(miner.stats().truncated_lines, 1);
    let huge_bytes = vec![b'\xe9'; 1 << 20];
    let result = miner.add_bytes(&huge_bytes);
    assert!(miner.template(result.id).unwrap().len() <= 4096);
    assert_eq!(miner.stats().truncated_lines, 2);
}

#[test]
fn empty_and_blank_lines_share_one_template() {
    let mut miner = Miner::new(MinerConfig::default());
    let empty = miner.add("");
    let blank = miner.add(" \t \r");
    assert_eq!(empty.id, blank.id);
    assert_eq!(miner.template(empty.id), Some(""));
}

#[test]
fn binary_garbage_is_bounded() {
    let mut miner = Miner::new(MinerConfig {
        max_templates: 100,
        ..MinerConfig::default()
    });
    let mut rng = XorShift(12345);
    let mut bytes = Vec::new();
    for _ in 0..5_000 {
        bytes.clear();
        let length = rng.next() % 300;
        for _ in 0..length {
            bytes.push(rng.next() as u8);
        }
        miner.add_bytes(&bytes);
    }
    assert!(miner.template_count() <= 100);
    for record in miner.snapshot() {
        assert!(record.template.len() <= 4096 * 2);
        assert!(!record.template.bytes().any(|b| b < b' ' || b == 0x7f));
    }
}

proptest! {
    #[test]
    fn any_bytes_are_accepted_and_rematch(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut miner = Miner::new(MinerConfig::default());
        let first = miner.add_bytes(&bytes);
        let text = miner.template(first.id).unwrap().to_owned();
        prop_assert!(!text.bytes().any(|b| b < b' ' || b == 0x7f));
        let second = miner.add_bytes(&bytes);
        prop_assert_eq!(first.id, second.id);
        prop_assert_eq!(miner.template_count(), 1);
    }
}

#[test]
fn quoted_upper_case_words_are_enumerations() {
    let mut miner = Miner::new(MinerConfig::default());
    let get = miner.add("client 10.0.0.1 sent \"GET /index.html\" and got 200");
    let post = miner.add("client 10.0.0.2 sent \"POST /index.html\" and got 200");
    assert_ne!(get.id, post.id);
}
