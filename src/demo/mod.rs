//! `sentinel demo`: Sentinel at work on an embedded world ([`world`]) on an accelerated clock.
//! No configuration, no network, no keys. Over two and a half simulated days the nightly backup
//! runs twice and then silently stops, the app pauses for a deploy, a worker misses one ping,
//! an old known error keeps recurring and a deploy brings a brand-new error; the second act
//! ([`world::Faults`]) adds a scanner, bad input answered with 500, a dropped index, stuck jobs
//! and a spend jump. The operator's phone gets one page per thing to act on (and a resolution
//! where the world fixes itself); the blips heal before their `for`, the scanner and the known
//! error never page.

pub(crate) mod world;

use crate::alert::notice::{Notice, NoticeKind};
use crate::clock::{ManualClock, SharedClock};
use crate::config::{
    Config, ErrorClassSpec, FreshnessSpec, FreshnessTarget, HeartbeatSpec, JumpSpec, LogFeed,
    LogFormat, NewErrorSpec, Schedule, Severity, SlowQuerySpec, SourceSpec, SourceSpecKind,
    StuckSpec, WatchSpec, WatchSpecKind,
};
use crate::engine::build;
use crate::notify::Channel;
use crate::notify::console::{ConsoleChannel, ConsoleStyle};
use crate::notify::dispatch::Channels;
use crate::server::AppState;
use crate::store::Store;
use chrono::{DateTime, TimeZone, Utc};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use world::{Happening, Script, World};

/// Where the simulated time starts: a Monday evening.
fn sim_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 20, 0, 0)
        .single()
        .unwrap_or_default()
}

/// How much simulated time the demo covers.
const SIM_MINUTES: i64 = 58 * 60;

fn watch(
    name: &str,
    description: &str,
    severity: Severity,
    for_minutes: u64,
    kind: WatchSpecKind,
) -> WatchSpec {
    WatchSpec {
        name: name.into(),
        description: description.into(),
        severity,
        interval: Duration::from_secs(60),
        timeout: Duration::from_secs(10),
        for_: Duration::from_secs(for_minutes * 60),
        keep_firing_for: Duration::ZERO,
        renotify: None,
        notify_resolved: false,
        channels: None,
        kind,
    }
}

/// The shop's SQLite database, read through the guarded read-only path.
fn shop_database(world_dir: &std::path::Path) -> SourceSpec {
    use crate::source::sql::guard::{GuardPolicy, SqlDialectKind};
    SourceSpec {
        name: "shop".into(),
        blind_for: Duration::from_secs(120),
        kind: SourceSpecKind::Sql(crate::source::sql::database::SqlSettings {
            url: format!("sqlite://{}", world_dir.join("shop.db").display()),
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(1),
            caps: crate::source::sql::caps::ResultCaps::default(),
            policy: GuardPolicy::new(SqlDialectKind::Sqlite),
            allow_privileged_role: false,
        }),
    }
}

/// The second act's watches: bad input answered with 5xx, stuck jobs, a spend jump.
fn fault_watches(world_dir: &std::path::Path) -> Vec<WatchSpec> {
    use crate::watch::jump::detector::{BaselineWindow, Direction, JumpConfig};
    let mut jobs = watch(
        "jobs",
        "Background jobs",
        Severity::Warning,
        0,
        WatchSpecKind::Stuck(StuckSpec::Sql {
            source: "shop".into(),
            table: "jobs".into(),
            state_column: "state".into(),
            states: vec!["running".into()],
            since_column: "started_at".into(),
            group_by: Some("kind".into()),
            older_than: Duration::from_secs(30 * 60),
        }),
    );
    jobs.notify_resolved = true;
    let mut queries = watch(
        "shop-queries",
        "Shop database",
        Severity::Warning,
        0,
        WatchSpecKind::SlowQuery(SlowQuerySpec {
            source: "shop".into(),
            judge: crate::watch::slow_query::core::SlowQueryConfig::default(),
        }),
    );
    queries.notify_resolved = true;
    vec![
        queries,
        watch(
            "shop-api",
            "Shop API",
            Severity::Warning,
            0,
            WatchSpecKind::ErrorClass(ErrorClassSpec {
                access_log: crate::config::LogFeed::Files {
                    pattern: format!("{}/nginx/access.log", world_dir.display()),
                },
                access_format: crate::logs::access::AccessFormat::Combined,
                app_log: Some(crate::config::LogFeed::Files {
                    pattern: format!("{}/logs/*.log", world_dir.display()),
                }),
                min_count: 3,
                window: Duration::from_secs(15 * 60),
            }),
        ),
        jobs,
        watch(
            "api-spend",
            "API spend per hour",
            Severity::Warning,
            0,
            WatchSpecKind::Jump(JumpSpec {
                source: "shop".into(),
                query: "SELECT strftime('%Y-%m-%d %H:00:00', at) AS time, sum(cost_usd) AS value FROM api_spend GROUP BY 1".into(),
                step: Duration::from_secs(3600),
                lookback: Duration::from_secs(25 * 3600),
                detector: JumpConfig {
                    window: BaselineWindow::Seconds(24 * 3600),
                    direction: Direction::Up,
                    min_abs_change: 1.0,
                    ..JumpConfig::default()
                },
            }),
        ),
    ]
}

/// The demo's watches, as an operator would configure them for this world.
pub fn watches(
    world_dir: &std::path::Path,
    backup_token: &str,
    worker_token: &str,
) -> Vec<WatchSpec> {
    let nightly = croner::Cron::from_str("0 3 * * *").ok();
    let mut watches = vec![
        watch(
            "app-log",
            "App log",
            Severity::Warning,
            10,
            WatchSpecKind::Freshness(FreshnessSpec {
                target: FreshnessTarget::Files {
                    pattern: format!("{}/logs/*.log", world_dir.display()),
                },
                max_age: Duration::from_secs(5 * 60),
            }),
        ),
        watch(
            "queue-worker",
            "Queue worker",
            Severity::Warning,
            5,
            WatchSpecKind::Heartbeat(HeartbeatSpec {
                token: worker_token.into(),
                schedule: Schedule::Period(Duration::from_secs(5 * 60)),
                grace: Duration::from_secs(2 * 60),
            }),
        ),
        watch(
            "app-errors",
            "app log",
            Severity::Warning,
            0,
            WatchSpecKind::NewError(NewErrorSpec {
                feed: LogFeed::Files {
                    pattern: format!("{}/logs/*.log", world_dir.display()),
                },
                format: LogFormat::Plain,
                min_count: 3,
                window: Duration::from_secs(15 * 60),
                learns_history: true,
                patterns: Vec::new(),
            }),
        ),
    ];
    if let Some(expression) = nightly {
        watches.insert(
            0,
            watch(
                "nightly-backup",
                "Nightly backup",
                Severity::Critical,
                0,
                WatchSpecKind::Heartbeat(HeartbeatSpec {
                    token: backup_token.into(),
                    schedule: Schedule::Cron {
                        expression: Box::new(expression),
                        text: "0 3 * * *".into(),
                        tz: chrono_tz::UTC,
                    },
                    grace: Duration::from_secs(3600),
                }),
            ),
        );
    }
    watches.extend(fault_watches(world_dir));
    watches
}

fn narrate(json: bool, at: DateTime<Utc>, text: &str) {
    if !json {
        println!("   {} · {text}", at.format("%a %H:%M"));
    }
}

/// Runs the demo for about `real_time`; prints the phone view or JSON lines. Returns the exit code.
pub async fn run(real_time: Duration, json: bool) -> i32 {
    match run_inner(real_time, json).await {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("demo failed: {message}");
            crate::commands::EXIT_CANNOT_RUN
        }
    }
}

async fn run_inner(real_time: Duration, json: bool) -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix("sentinel-demo-")
        .tempdir()
        .map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let start = sim_start();
    let clock = ManualClock::new(start);
    let shared: SharedClock = Arc::new(clock.clone());
    let backup_token = crate::commands::init::new_token()?;
    let worker_token = crate::commands::init::new_token()?;

    let mut config = Config::empty(dir.path().join("sentinel.db"));
    config.watches = watches(dir.path(), &backup_token, &worker_token);
    config.sources = vec![shop_database(dir.path())];
    let store = Store::open(&config.store.path)
        .await
        .map_err(|e| e.to_string())?;
    let pages: Arc<Mutex<Vec<Notice>>> = Arc::default();
    let style = if json {
        ConsoleStyle::JsonLines
    } else {
        ConsoleStyle::Phone
    };
    let channels = Channels {
        list: vec![
            ("phone".into(), Channel::Console(ConsoleChannel { style })),
            ("tally".into(), Channel::Memory(pages.clone())),
        ],
    };
    let day = |d: i64, h: u32, m: u32| {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0)
            .single()
            .unwrap_or_default()
            + chrono::Duration::days(d)
    };
    let script = Script {
        backup_runs_on_nights: vec![0, 1],
        app_pause: (day(1, 14, 0), day(1, 14, 8)),
        worker_missed_ping: day(2, 10, 5),
        new_error_from: day(2, 16, 20),
        new_error_until: day(2, 17, 0),
        faults: world::Faults {
            scanner: (day(1, 3, 30), day(1, 3, 40)),
            bad_json: (day(1, 10, 0), day(1, 10, 40)),
            stuck_jobs: (day(1, 22, 0), day(2, 0, 30)),
            index_dropped: (day(1, 15, 30), day(1, 18, 0)),
            spend_loop: (day(2, 11, 0), day(2, 14, 0)),
        },
    };
    let mut sources = build::sources(&config)?;
    // SQLite keeps no statement statistics: the demo simulates PostgreSQL's for the shop.
    let shop = sources
        .database("shop")
        .map_err(|error| error.to_string())?
        .clone();
    sources.insert(
        "shop",
        Arc::new(world::statements::SimulatedShop {
            database: shop,
            statements: world::statements::ShopStatements {
                start,
                index_dropped: script.faults.index_dropped,
            },
        }),
    );
    let engine =
        build::engine_with_sources(config, sources, store.clone(), shared.clone(), channels);
    let state = AppState::new(
        engine.config(),
        store.clone(),
        engine.metrics().clone(),
        shared,
    );
    let mut world =
        World::create(dir.path(), start, script, backup_token, worker_token, state).await?;

    if !json {
        println!(
            "Sentinel demo: a small shop's server, simulated from {} to {} in {}s.",
            start.format("%a %d %b %H:%M"),
            (start + chrono::Duration::minutes(SIM_MINUTES)).format("%a %d %b %H:%M"),
            real_time.as_secs()
        );
        println!(
            "World: {} (app log, shop.db, backups/, cron pings to the real ping API)",
            world.dir.display()
        );
        println!("Watching:");
        for spec in &engine.config().watches {
            println!("   {:<15} {}", spec.name, describe(spec));
        }
        println!();
    }

    let step_pause = real_time
        .checked_div(u32::try_from(SIM_MINUTES).unwrap_or(1))
        .unwrap_or_default();
    let began = tokio::time::Instant::now();
    let mut investigated = false;
    for minute in 0..=SIM_MINUTES {
        let now = start + chrono::Duration::minutes(minute);
        clock.set(now);
        for happening in world.tick(now).await {
            let text = match happening {
                Happening::BackupRan { minutes } => {
                    format!("backup cron ran ({minutes} min), pinged /start and /ping")
                }
                Happening::BackupSkipped => {
                    "backup cron did nothing (its crontab line was lost in a server move)"
                        .to_string()
                }
                Happening::AppPaused { minutes } => {
                    format!("app paused {minutes} min for a deploy: its log goes quiet (a blip)")
                }
                Happening::AppResumed => "app is back, log flowing again".to_string(),
                Happening::WorkerSkippedPing => "queue worker missed one ping (a blip)".to_string(),
                Happening::NewErrorStarts => {
                    "a deploy ships a bug: GET /orders/<bad id> now logs an error never seen before"
                        .to_string()
                }
                Happening::ScannerStarts => {
                    "a scanner probes 300 random paths for 10 min (404s, a few 500s): noise"
                        .to_string()
                }
                Happening::BadJsonStarts => {
                    "a partner's integration starts posting malformed JSON; POST /api/cart answers 500"
                        .to_string()
                }
                Happening::WorkerCrashed => {
                    "the invoice worker crashes: invoice jobs stay 'running'".to_string()
                }
                Happening::WorkerRestarted => {
                    "someone restarts the invoice worker: the stuck jobs finish".to_string()
                }
                Happening::IndexDropped => {
                    "a migration drops the index on orders(customer_email): order history now scans 2.1M rows"
                        .to_string()
                }
                Happening::IndexRestored => {
                    "the index on orders(customer_email) is added back".to_string()
                }
                Happening::SpendLoopStarts => {
                    "a retry loop starts hammering the paid API: spend x25 for 3 hours".to_string()
                }
            };
            narrate(json, now, &text);
        }
        // Keep to the requested real time: when behind, evaluate only every fifth simulated
        // minute until caught up (decisions depend on simulated time, not on how often we look).
        let target = began + step_pause * u32::try_from(minute + 1).unwrap_or(u32::MAX);
        let behind = tokio::time::Instant::now() > target;
        if !behind || minute % 5 == 0 {
            engine.pass(false).await.map_err(|e| e.to_string())?;
        }
        if !investigated {
            let page = pages.lock().ok().and_then(|pages| {
                pages
                    .iter()
                    .find(|p| p.watch == INVESTIGATED && p.kind == NoticeKind::Firing)
                    .cloned()
            });
            if let Some(page) = page {
                investigated = true;
                investigate_page(&engine, &page, json).await?;
            }
        }
        tokio::time::sleep_until(target).await;
    }

    let pages = pages.lock().map(|p| p.clone()).unwrap_or_default();
    let alerts = store.all_alerts().await.map_err(|e| e.to_string())?;
    if !json {
        println!();
        let paged: Vec<String> = pages.iter().map(|p| p.watch.clone()).collect();
        println!(
            "Pages sent: {} ({})",
            pages.len(),
            if paged.is_empty() {
                "none".into()
            } else {
                paged.join(", ")
            }
        );
        let quiet: Vec<String> = alerts
            .iter()
            .filter(|a| a.fired_at.is_none())
            .map(|a| {
                format!(
                    "{} (broken {}, healed before its `for`)",
                    a.watch,
                    crate::humanize::duration_secs(
                        (a.resolved_at.unwrap_or(a.updated_at) - a.broken_since).num_seconds()
                    )
                )
            })
            .collect();
        println!(
            "Stayed quiet on: {}",
            if quiet.is_empty() {
                "nothing".into()
            } else {
                quiet.join("; ")
            }
        );
        let known = store
            .load_templates("app-errors")
            .await
            .map_err(|e| e.to_string())?;
        let paged = |id: u64| {
            let subject = format!("template {id}");
            pages.iter().any(|p| {
                p.watch == "app-errors"
                    && (p.subject == subject || p.subjects.iter().any(|s| s.subject == subject))
            })
        };
        for template in known.iter().filter(|t| !paged(t.id)) {
            println!(
                "Known error, learned and never paged: {} ({} times)",
                template.template, template.count
            );
        }
    }
    store.close().await;
    Ok(())
}

/// The watch whose first page the operator asks about, as soon as it arrives.
const INVESTIGATED: &str = "shop-queries";

/// The operator taps Investigate on `page`: the offline investigator answers, and the report
/// is shown as the phone shows it.
async fn investigate_page(
    engine: &crate::engine::Engine,
    page: &Notice,
    json: bool,
) -> Result<(), String> {
    let store = engine.store();
    let subjects: Vec<String> = if page.subjects.is_empty() {
        vec![page.subject.clone()]
    } else {
        page.subjects.iter().map(|s| s.subject.clone()).collect()
    };
    let about = crate::store::operator::About {
        watch: Some(&page.watch),
        subjects: &subjects,
        notice_key: Some(&page.key),
    };
    let now = engine.now();
    let question = format!("Investigate: {}", page.title);
    let id = store
        .add_investigation_request("demo operator", about, &question, now)
        .await
        .map_err(|e| e.to_string())?;
    let Some(request) = store
        .claim_investigation_id(id, now)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let report = crate::investigate::conduct::conduct(
        engine,
        request,
        &crate::investigate::conduct::Progress::default(),
    )
    .await
    .map_err(|e| e.to_string())?;
    if json {
        let line = serde_json::json!({"investigation": report});
        println!("{line}");
    } else {
        println!(
            "   {} · the operator taps [Investigate] on the {} page; with no model configured, the offline investigator answers:",
            now.format("%a %H:%M"),
            page.watch
        );
        println!(
            "📱 {} · sentinel · reply to the {} page",
            report.finished_at.format("%a %d %b %H:%M UTC"),
            page.watch
        );
        print!("{}", crate::investigate::render::phone(&report));
    }
    Ok(())
}

fn describe(spec: &WatchSpec) -> String {
    let for_text = if spec.for_.is_zero() {
        String::new()
    } else {
        format!(", must hold {}", crate::humanize::duration(spec.for_))
    };
    spec.kind.watch().describe(&for_text)
}
