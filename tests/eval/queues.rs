//! Redis job queues: a Sidekiq queue whose only process stopped beating while it held a job,
//! an RQ queue that fell behind for a while and caught up by itself, and a BullMQ queue whose
//! Redis went down after the page.

use super::Scenario;
use super::grade::{Fact, Field, VerdictClass};
use super::lab::{Lab, Pager, Staged, expect};
use redis::aio::MultiplexedConnection;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "sidekiq: process stopped",
            family: "queues",
            fault: "The only Sidekiq process serving the invoices queue stopped beating ten minutes ago in the middle of a job; jobs pile up behind it.",
            question: "Why are invoice emails not going out?",
            stage: |lab| Box::pin(sidekiq_process_stopped(lab)),
            facts: vec![
                Fact::matching(
                    "the oldest waiting jobs",
                    Field::Summary,
                    r"jid-a1f0.*jid-a1f1.*jid-a1f2",
                ),
                Fact::matching(
                    "the process that stopped",
                    Field::Summary,
                    r"worker-3\.shop\.internal:2211:\w+",
                ),
                Fact::text("the job it held", Field::Summary, "jid-held-77"),
                Fact::matching(
                    "nobody else takes from the queue",
                    Field::Summary,
                    r"no live worker",
                ),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
        Scenario {
            name: "rq: backlog drained",
            family: "queues",
            fault: "A burst of report jobs made the RQ queue wait 20 minutes; its live worker caught up and the alert resolved.",
            question: "Do I need to do anything about the report queue?",
            stage: |lab| Box::pin(rq_backlog_drained(lab)),
            facts: vec![
                Fact::matching("it healed by itself", Field::Summary, r"healed by itself"),
                Fact::absent(
                    "a restart proposed for a queue that is fine",
                    Field::Steps,
                    r"restart",
                ),
            ],
            expected: VerdictClass::NoAction,
            certainty_allowed: true,
        },
        Scenario {
            name: "bullmq: redis unreachable",
            family: "queues",
            fault: "The webhook queue paged; then the Redis holding it went down, so nothing about the queue can be read now.",
            question: "Is the webhook queue still stuck?",
            stage: |lab| Box::pin(bullmq_redis_down(lab)),
            facts: vec![
                Fact::matching(
                    "whether it is stuck is unknown",
                    Field::Summary,
                    r"unknown|could not be read",
                ),
                Fact::matching(
                    "why: the queue's Redis refuses connections",
                    Field::Anywhere,
                    r"refused|could not connect|unreachable",
                ),
            ],
            expected: VerdictClass::Inconclusive,
            certainty_allowed: false,
        },
    ]
}

/// The machine's Redis (scripts/test.sh starts it).
const REDIS: &str = "redis://127.0.0.1:6379/0";

async fn connect(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|error| panic!("Redis at {url} (scripts/test.sh starts it): {error}"))
}

/// Runs one command of the scenario's own set-up.
async fn send(conn: &mut MultiplexedConnection, args: &[&str]) {
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    let _: redis::Value = command.query_async(conn).await.unwrap();
}

/// A tag unique to this run, for key names.
fn tag(scenario: &str) -> String {
    format!("eval{}-{scenario}", std::process::id())
}

fn now_seconds() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

/// Deletes the keys a scenario wrote when it ends.
struct Keys {
    url: String,
    keys: Vec<String>,
    /// Members to take out of Sidekiq's shared `processes` set.
    processes: Vec<String>,
}

impl Drop for Keys {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        if !self.keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("DEL").arg(&self.keys).query(&mut conn);
        }
        if !self.processes.is_empty() {
            let _: Result<i64, _> = redis::cmd("SREM")
                .arg("processes")
                .arg(&self.processes)
                .query(&mut conn);
        }
    }
}

async fn sidekiq_process_stopped(lab: &Lab) -> Result<Staged, String> {
    let queue = tag("invoices");
    let key = format!("queue:{queue}");
    let identity = "worker-3.shop.internal:2211:9f3e1c07a2b4".to_string();
    let work = format!("{identity}:work");
    let keys = Keys {
        url: REDIS.into(),
        keys: vec![key.clone(), identity.clone(), work.clone()],
        processes: vec![identity.clone()],
    };
    let mut conn = connect(REDIS).await;
    send(&mut conn, &["DEL", &key, &identity, &work]).await;
    let now = now_seconds();
    // ActiveJob's wrapper, as Rails enqueues mail through Sidekiq; the oldest is pushed first.
    for (i, minutes) in [41.0, 38.0, 35.0, 22.0, 9.0, 2.0].iter().enumerate() {
        let job = format!(
            r#"{{"retry":true,"queue":"{queue}","class":"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper","wrapped":"InvoiceMailer","args":[{{"job_class":"InvoiceMailer","arguments":["invoice_ready",{n}]}}],"jid":"jid-a1f{i}","created_at":{at},"enqueued_at":{at}}}"#,
            n = 9000 + i,
            at = now - minutes * 60.0
        );
        send(&mut conn, &["LPUSH", &key, &job]).await;
    }
    let info = format!(
        r#"{{"hostname":"worker-3.shop.internal","started_at":{},"pid":2211,"tag":"shop","concurrency":5,"queues":["{queue}"],"labels":[],"identity":"{identity}"}}"#,
        now - 86_400.0
    );
    let beat = (now - 600.0).to_string();
    send(&mut conn, &["SADD", "processes", &identity]).await;
    send(
        &mut conn,
        &[
            "HSET", &identity, "info", &info, "busy", "1", "beat", &beat, "quiet", "false",
        ],
    )
    .await;
    let running = format!(
        r#"{{"queue":"{queue}","payload":"{{\"class\":\"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper\",\"wrapped\":\"InvoiceMailer\",\"jid\":\"jid-held-77\"}}","run_at":{}}}"#,
        now - 640.0
    );
    send(&mut conn, &["HSET", &work, "t-1x9", &running]).await;

    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[sources.queues]\nkind = \"redis\"\nurl = \"{REDIS}\"\n\n\
             [watches.invoice-mail]\nkind = \"stuck\"\ndescription = \"Invoice mail queue\"\nsource = \"queues\"\n\
             queue = \"{queue}\"\nlayout = \"sidekiq\"\nolder_than = \"15m\"\n"
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    let pass = pager.pass().await;
    expect(pass.blind == 0, "the queue could not be read")?;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "invoice-mail".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: vec![Box::new(keys)],
    })
}

async fn rq_backlog_drained(lab: &Lab) -> Result<Staged, String> {
    let queue = tag("reports");
    let list = format!("rq:queue:{queue}");
    let worker = format!("rq:worker:{queue}-w1");
    let workers = format!("rq:workers:{queue}");
    let jobs: Vec<String> = (0..3).map(|i| format!("{queue}-job-{i}")).collect();
    let mut keys = Keys {
        url: REDIS.into(),
        keys: vec![list.clone(), worker.clone(), workers.clone()],
        processes: Vec::new(),
    };
    keys.keys
        .extend(jobs.iter().map(|id| format!("rq:job:{id}")));
    let mut conn = connect(REDIS).await;
    let at = |minutes_ago: i64| {
        (chrono::Utc::now() - chrono::Duration::minutes(minutes_ago))
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
    };
    send(&mut conn, &["SADD", &workers, &worker]).await;
    send(
        &mut conn,
        &[
            "HSET",
            &worker,
            "last_heartbeat",
            &at(0),
            "queues",
            &queue,
            "state",
            "busy",
            "current_job",
            "monthly-export-42",
        ],
    )
    .await;
    for (i, id) in jobs.iter().enumerate() {
        send(&mut conn, &["RPUSH", &list, id]).await;
        send(
            &mut conn,
            &[
                "HSET",
                &format!("rq:job:{id}"),
                "enqueued_at",
                &at(21 - i as i64),
                "description",
                &format!("reports.render_monthly(account_id={})", 300 + i),
                "status",
                "queued",
                "origin",
                &queue,
            ],
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[sources.queues]\nkind = \"redis\"\nurl = \"{REDIS}\"\n\n\
             [watches.report-queue]\nkind = \"stuck\"\ndescription = \"Report queue\"\nsource = \"queues\"\n\
             queue = \"{queue}\"\nlayout = \"rq\"\nolder_than = \"15m\"\n"
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    expect(pager.pass().await.firing == 1, "the backlog made no page")?;
    // The worker catches up: the jobs are taken and finished.
    for id in &jobs {
        send(&mut conn, &["LREM", &list, "0", id]).await;
        send(
            &mut conn,
            &["HSET", &format!("rq:job:{id}"), "status", "finished"],
        )
        .await;
    }
    let pass = pager.pass().await;
    expect(pass.firing == 0, "the drained queue still pages")?;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "report-queue".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: vec![Box::new(keys)],
    })
}

/// A Redis server of the scenario's own, stopped when dropped.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    async fn start() -> OwnRedis {
        let port = crate::support::free_port();
        let mut child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's redis-server package; scripts/test.sh has Redis)");
        let url = format!("redis://127.0.0.1:{port}/0");
        for _ in 0..100 {
            if let Ok(client) = redis::Client::open(url.as_str())
                && client.get_multiplexed_async_connection().await.is_ok()
            {
                return OwnRedis { child, port };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not start on port {port}");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn bullmq_redis_down(lab: &Lab) -> Result<Staged, String> {
    let mut server = OwnRedis::start().await;
    let url = server.url();
    let mut conn = connect(&url).await;
    let queue = "webhooks";
    let now_ms = chrono::Utc::now().timestamp_millis();
    for (id, minutes) in [(311, 34), (312, 33), (313, 31), (314, 12)] {
        let id = id.to_string();
        send(&mut conn, &["LPUSH", &format!("bull:{queue}:wait"), &id]).await;
        send(
            &mut conn,
            &[
                "HSET",
                &format!("bull:{queue}:{id}"),
                "name",
                "deliver",
                "data",
                &format!(r#"{{"endpoint":"https://partner.example/hooks","event":"order.paid","order":{id}}}"#),
                "timestamp",
                &(now_ms - minutes * 60_000).to_string(),
                "attemptsMade",
                "0",
            ],
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[sources.jobs-redis]\nkind = \"redis\"\nurl = \"{url}\"\n\n\
             [watches.webhook-queue]\nkind = \"stuck\"\ndescription = \"Webhook deliveries\"\nsource = \"jobs-redis\"\n\
             queue = \"{queue}\"\nlayout = \"bullmq\"\nolder_than = \"10m\"\n"
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    expect(
        pager.pass().await.firing == 1,
        "the stuck queue made no page",
    )?;
    drop(conn);
    server.stop();
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "webhook-queue".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}
