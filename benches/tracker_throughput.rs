//! Tracker throughput: observations per second through the alert state machine, first alone
//! (pure `step`), then through the engine's apply path with the store in WAL mode (records read,
//! stepped, written and notices enqueued in one transaction per evaluation).
//!
//! cargo bench --bench tracker_throughput

use sentinel::alert::tracker::{Rules, step};
use sentinel::clock::ManualClock;
use sentinel::config::{Config, Severity, ThresholdSpec, WatchSpec, WatchSpecKind};
use sentinel::engine::build;
use sentinel::notify::Channel;
use sentinel::notify::dispatch::Channels;
use sentinel::store::Store;
use sentinel::watch::observation::{Evaluation, Observation};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SUBJECTS: usize = 1000;
const ROUNDS: usize = 40;

fn observation(subject: usize, round: usize) -> Observation {
    // A quarter of the subjects flap every round; the rest stay broken.
    if subject.is_multiple_of(4) && round % 2 == 1 {
        Observation::held(format!("host-{subject}"))
    } else {
        Observation::broken(format!("host-{subject}"), "disk almost full").with_value(97.0)
    }
}

fn pure_steps() -> f64 {
    let rules = Rules {
        for_: Duration::from_secs(60),
        ..Rules::default()
    };
    let start_at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    let mut records = vec![None; SUBJECTS];
    let started = Instant::now();
    let mut count = 0u64;
    for round in 0..2000 {
        let now = start_at + chrono::Duration::seconds(round as i64 * 30);
        for (subject, record) in records.iter_mut().enumerate() {
            let (next, _) = step(
                record.as_ref(),
                &observation(subject, round),
                "disk",
                &rules,
                false,
                now,
            );
            *record = next;
            count += 1;
        }
    }
    count as f64 / started.elapsed().as_secs_f64()
}

async fn through_store() -> (f64, usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock =
        ManualClock::new(chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default());
    let mut config = Config::empty(dir.path().join("s.db"));
    let spec = WatchSpec {
        name: "disk".into(),
        description: "Disk".into(),
        severity: Severity::Warning,
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(10),
        for_: Duration::from_secs(60),
        keep_firing_for: Duration::ZERO,
        renotify: None,
        notify_resolved: false,
        channels: None,
        kind: WatchSpecKind::Threshold(ThresholdSpec {
            source: "prom".into(),
            query: "disk_free < 0.05".into(),
        }),
    };
    config.watches = vec![spec.clone()];
    let store = Store::open(&config.store.path).await.expect("store");
    let pages = Arc::new(Mutex::new(Vec::new()));
    let channels = Channels {
        list: vec![("memory".into(), Channel::Memory(pages.clone()))],
    };
    let engine =
        build::engine(config, store.clone(), Arc::new(clock.clone()), channels).expect("engine");
    let started = Instant::now();
    for round in 0..ROUNDS {
        clock.advance(Duration::from_secs(30));
        let observations = (0..SUBJECTS).map(|s| observation(s, round)).collect();
        engine
            .apply(&spec, &Evaluation::Complete(observations), engine.now())
            .await
            .expect("apply");
    }
    let rate = (ROUNDS * SUBJECTS) as f64 / started.elapsed().as_secs_f64();
    let written = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox")
        .fetch_one(store.reader())
        .await
        .unwrap_or(0);
    (rate, written as usize)
}

fn main() {
    let pure = pure_steps();
    println!("tracker, pure state machine: {:.0} observations/s", pure);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (stored, notices) = runtime.block_on(through_store());
    println!(
        "tracker through the store (SQLite WAL, one transaction per evaluation of {SUBJECTS} subjects): {:.0} observations/s ({notices} outbox entries written)",
        stored
    );
}
