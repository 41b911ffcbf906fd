//! One evaluation pass of 200 `threshold` watches against a real Prometheus (Debian's package,
//! started on loopback like the tests do), with the default concurrency. Prints the median and
//! best of several passes.
//!
//! cargo bench --bench threshold_pass

#[path = "../tests/support/mod.rs"]
mod support;

use sentinel::clock::SystemClock;
use sentinel::config::Config;
use sentinel::engine::build;
use sentinel::notify::Channel;
use sentinel::notify::dispatch::Channels;
use sentinel::store::Store;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const WATCHES: usize = 200;
const PASSES: usize = 7;

fn main() {
    let prom = support::prometheus();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = format!(
        "[store]\npath = \"{}/s.db\"\n[sources.prom]\nkind = \"prometheus\"\nurl = \"{}\"\n",
        dir.path().display(),
        prom.url
    );
    for i in 0..WATCHES {
        // Distinct expressions, so Prometheus evaluates each one; half of them return a series.
        let threshold = if i % 2 == 0 { 0.05 } else { 0.01 };
        text.push_str(&format!(
            "[watches.disk-{i}]\nkind = \"threshold\"\nsource = \"prom\"\nquery = 'demo_disk_free_ratio * {} < {threshold}'\n",
            1.0 + i as f64 / 1e6
        ));
    }
    let config =
        Config::parse(&dir.path().join("sentinel.toml"), &text, &|_| None).expect("config");
    let concurrency = config.engine.concurrency;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut times: Vec<f64> = runtime.block_on(async {
        let store = Store::open(&config.store.path).await.expect("store");
        let channels = Channels {
            list: vec![(
                "memory".into(),
                Channel::Memory(Arc::new(Mutex::new(Vec::new()))),
            )],
        };
        let engine = build::engine(config, store, Arc::new(SystemClock), channels).expect("engine");
        let mut times = Vec::new();
        for _ in 0..PASSES {
            let started = Instant::now();
            let report = engine.pass(true).await.expect("pass");
            times.push(started.elapsed().as_secs_f64());
            assert_eq!(report.evaluated, WATCHES);
            assert_eq!(report.blind, 0, "every watch must read Prometheus");
        }
        times
    });
    times.sort_by(f64::total_cmp);
    println!(
        "one pass of {WATCHES} threshold watches against real Prometheus (concurrency {concurrency}): median {:.3} s, best {:.3} s over {PASSES} passes (goal <= 1 s)",
        times[times.len() / 2],
        times[0]
    );
}
