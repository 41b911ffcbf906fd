//! Tests of the Redis queue probes against the real Redis on 127.0.0.1:6379.
use super::*;
use std::hash::{BuildHasher, Hasher};

const REDIS_URL: &str = "redis://127.0.0.1:6379/";

/// Writes fixtures through its own connection and deletes every key it made on drop.
struct Fixture {
    client: redis::Client,
    conn: MultiplexedConnection,
    tag: String,
    now: DateTime<Utc>,
}

impl Fixture {
    async fn new() -> Self {
        let client = redis::Client::open(REDIS_URL).unwrap();
        let connecting = client.get_multiplexed_async_connection();
        let conn = match tokio::time::timeout(Duration::from_secs(3), connecting).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => panic!(
                "these tests need a Redis server on 127.0.0.1:6379 and none answered ({e}); \
                 start one with `redis-server --save '' --appendonly no`"
            ),
            Err(_) => panic!(
                "these tests need a Redis server on 127.0.0.1:6379 and it did not answer; \
                 start one with `redis-server --save '' --appendonly no`"
            ),
        };
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.write_i64(Utc::now().timestamp_nanos_opt().unwrap_or_default());
        Self {
            client,
            conn,
            tag: format!("sentinel-test-{:016x}", hasher.finish()),
            now: Utc::now(),
        }
    }

    /// A name unique to this test.
    fn name(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.tag)
    }

    async fn write(&mut self, args: &[&str]) {
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        let _: Value = cmd.query_async(&mut self.conn).await.unwrap();
    }

    async fn exists(&mut self, key: &str) -> bool {
        let n: u64 = redis::cmd("EXISTS")
            .arg(key)
            .query_async(&mut self.conn)
            .await
            .unwrap();
        n == 1
    }

    fn secs_ago(&self, secs: i64) -> DateTime<Utc> {
        self.now - chrono::Duration::seconds(secs)
    }

    fn source(&self) -> RedisSource {
        RedisSource::new("queues", REDIS_URL, Duration::from_secs(2)).unwrap()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let Ok(mut conn) = self
            .client
            .get_connection_with_timeout(Duration::from_secs(2))
        else {
            return;
        };
        let pattern = format!("*{}*", self.tag);
        let mut cursor = 0u64;
        loop {
            let Ok((next, keys)): Result<(u64, Vec<Vec<u8>>), _> = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query(&mut conn)
            else {
                return;
            };
            for key in keys {
                let _: Result<Value, _> = redis::cmd("DEL").arg(key).query(&mut conn);
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }
}

fn assert_age(reading: &QueueReading, secs: u64) {
    let age = reading.oldest_age.expect("an age").as_secs_f64();
    assert!(
        (age - secs as f64).abs() <= 1.0,
        "oldest age {age}s, expected about {secs}s ({})",
        reading.detail
    );
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn allowlist_refuses_writes_and_admin_commands() {
    for name in [
        "SET", "DEL", "LPUSH", "RPOP", "FLUSHALL", "CONFIG", "EVAL", "XACK", "XGROUP", "SELECT",
        "AUTH",
    ] {
        let err = read_command(name, &["k"]).unwrap_err();
        assert!(err.contains(name), "{err}");
    }
    assert!(read_command("xinfo", &["DESTROY"]).is_err());
    assert!(read_command("XINFO", &[]).is_err());
    for name in READ_COMMANDS {
        assert!(read_command(name, &["GROUPS", "k"]).is_ok(), "{name}");
    }
    assert!(read_command("llen", &["k"]).is_ok());
}

#[test]
fn epoch_units_and_iso_times() {
    let s = epoch_time(1_700_000_000.5).unwrap();
    let ms = epoch_time(1_700_000_000_500.0).unwrap();
    let us = epoch_time(1_700_000_000_500_000.0).unwrap();
    assert_eq!(s, ms);
    assert_eq!(s, us);
    assert_eq!(s.timestamp_millis(), 1_700_000_000_500);
    assert!(epoch_time(-1.0).is_none());
    assert!(epoch_time(f64::NAN).is_none());
    assert!(epoch_time(1e300).is_none());
    let rq = parse_iso("2024-01-01T00:00:00.123456Z").unwrap();
    assert_eq!(rq.timestamp_micros(), 1_704_067_200_123_456);
    assert_eq!(
        parse_iso("2024-01-01T00:00:00").unwrap().timestamp(),
        1_704_067_200
    );
    assert!(parse_iso("yesterday").is_none());
    assert_eq!(
        stream_id_time("1526919030474-55")
            .unwrap()
            .timestamp_millis(),
        1526919030474
    );
    assert!(stream_id_time("x-1").is_none());
}

#[test]
fn bad_url_is_rejected_and_password_never_shown() {
    let err = RedisSource::new("q", "http://nope", Duration::from_secs(1)).unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::QueryRejected);
    assert!(err.detail.contains("redis://"), "{}", err.detail);
    let err = RedisSource::new("q", "redis://:hunter2@", Duration::from_secs(1));
    if let Err(err) = err {
        assert!(!err.detail.contains("hunter2"));
    }
    let source = RedisSource::new(
        "q",
        "redis://user:hunter2@127.0.0.1:6390/3",
        Duration::from_secs(1),
    )
    .unwrap();
    let shown = format!("{source:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("127.0.0.1:6390") && shown.contains("db 3"),
        "{shown}"
    );
}

#[tokio::test]
async fn write_command_is_refused_before_it_is_sent() {
    let mut fx = Fixture::new().await;
    let key = fx.name("keep");
    fx.write(&["SET", &key, "precious"]).await;
    let source = fx.source();
    let err = source
        .call::<Value>("DEL", &[&key], &key)
        .await
        .unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::QueryRejected);
    assert!(err.detail.contains("DEL"), "{}", err.detail);
    assert!(fx.exists(&key).await, "the refused DEL reached Redis");
    // Refused before any connection is made: a dead address still yields the refusal.
    let dead = RedisSource::new(
        "q",
        &format!("redis://127.0.0.1:{}/", closed_port()),
        Duration::from_secs(1),
    )
    .unwrap();
    let err = dead.call::<Value>("FLUSHALL", &[], "-").await.unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::QueryRejected);
}

#[tokio::test]
async fn sidekiq_seconds_and_milliseconds() {
    let mut fx = Fixture::new().await;
    let queue = fx.name("default");
    let key = format!("queue:{queue}");
    // Sidekiq < 8: float seconds; LPUSH, so the first pushed is the oldest.
    for (jid, secs) in [("oldest", 30), ("mid", 20), ("new", 10)] {
        let t = fx.secs_ago(secs).timestamp_micros() as f64 / 1e6;
        let job = format!(r#"{{"class":"W","jid":"{jid}","args":[],"enqueued_at":{t}}}"#);
        fx.write(&["LPUSH", &key, &job]).await;
    }
    let source = fx.source();
    let reading = source
        .measure(&QueueProbe::new(&queue, QueueLayout::Sidekiq), fx.now)
        .await
        .unwrap();
    assert_eq!(reading.length, 3);
    assert_eq!(reading.oldest_id.as_deref(), Some("oldest"));
    assert_age(&reading, 30);

    // Sidekiq 8: integer milliseconds.
    let queue8 = fx.name("v8");
    let key8 = format!("queue:{queue8}");
    for (jid, secs) in [("a", 90), ("b", 5)] {
        let t = fx.secs_ago(secs).timestamp_millis();
        let job = format!(r#"{{"jid":"{jid}","created_at":{t},"enqueued_at":{t}}}"#);
        fx.write(&["LPUSH", &key8, &job]).await;
    }
    let reading = source
        .measure(&QueueProbe::new(&queue8, QueueLayout::Sidekiq), fx.now)
        .await
        .unwrap();
    assert_eq!(reading.length, 2);
    assert_eq!(reading.oldest_id.as_deref(), Some("a"));
    assert_age(&reading, 90);

    // A payload that is not a job is a bad response naming the key.
    let junk = fx.name("junk");
    fx.write(&["LPUSH", &format!("queue:{junk}"), "not json"])
        .await;
    let err = source
        .measure(&QueueProbe::new(&junk, QueueLayout::Sidekiq), fx.now)
        .await
        .unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::BadResponse);
    assert!(
        err.detail.contains(&format!("queue:{junk}")),
        "{}",
        err.detail
    );
}

#[tokio::test]
async fn bullmq_wait_list_and_job_hash() {
    let mut fx = Fixture::new().await;
    let queue = fx.name("mail");
    let wait = format!("bull:{queue}:wait");
    for (id, secs) in [("7", 45), ("8", 30), ("9", 2)] {
        fx.write(&["LPUSH", &wait, id]).await;
        let ts = fx.secs_ago(secs).timestamp_millis().to_string();
        fx.write(&[
            "HSET",
            &format!("bull:{queue}:{id}"),
            "name",
            "send",
            "timestamp",
            &ts,
        ])
        .await;
    }
    fx.write(&["LPUSH", &format!("bull:{queue}:active"), "6"])
        .await;
    let reading = fx
        .source()
        .measure(&QueueProbe::new(&queue, QueueLayout::BullMq), fx.now)
        .await
        .unwrap();
    assert_eq!(reading.length, 3);
    assert_eq!(reading.oldest_id.as_deref(), Some("7"));
    assert_age(&reading, 45);
    assert!(reading.detail.contains("1 active"), "{}", reading.detail);
}

#[tokio::test]
async fn celery_counts_priority_lists_without_age() {
    let mut fx = Fixture::new().await;
    let queue = fx.name("celery");
    let message = |id: &str| {
        format!(
            r#"{{"body":"W1tdLHt9XQ==","content-encoding":"utf-8","content-type":"application/json","headers":{{"lang":"py","task":"t.add","id":"{id}"}},"properties":{{"correlation_id":"{id}","delivery_tag":"x","priority":0}}}}"#
        )
    };
    fx.write(&["LPUSH", &queue, &message("first")]).await;
    fx.write(&["LPUSH", &queue, &message("second")]).await;
    fx.write(&["LPUSH", &format!("{queue}\x06\x166"), &message("low")])
        .await;
    let reading = fx
        .source()
        .measure(&QueueProbe::new(&queue, QueueLayout::Celery), fx.now)
        .await
        .unwrap();
    assert_eq!(reading.length, 3);
    assert_eq!(reading.oldest_id.as_deref(), Some("first"));
    assert_eq!(reading.oldest_age, None);
}

#[tokio::test]
async fn rq_queue_and_job_hash() {
    let mut fx = Fixture::new().await;
    let queue = fx.name("default");
    let key = format!("rq:queue:{queue}");
    let (a, b) = (fx.name("job-a"), fx.name("job-b"));
    for (id, secs) in [(&a, 75), (&b, 10)] {
        fx.write(&["RPUSH", &key, id]).await;
        let at = fx
            .secs_ago(secs)
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        fx.write(&[
            "HSET",
            &format!("rq:job:{id}"),
            "enqueued_at",
            &at,
            "status",
            "queued",
        ])
        .await;
    }
    let reading = fx
        .source()
        .measure(&QueueProbe::new(&queue, QueueLayout::Rq), fx.now)
        .await
        .unwrap();
    assert_eq!(reading.length, 2);
    assert_eq!(reading.oldest_id.as_deref(), Some(a.as_str()));
    assert_age(&reading, 75);
}

#[tokio::test]
async fn plain_list_with_and_without_timestamps() {
    let mut fx = Fixture::new().await;
    let key = fx.name("jobs");
    for (id, secs) in [("x", 12), ("y", 40), ("z", 3)] {
        let t = fx.secs_ago(secs).timestamp();
        fx.write(&[
            "RPUSH",
            &key,
            &format!(r#"{{"id":"{id}","created_at":{t}}}"#),
        ])
        .await;
    }
    let source = fx.source();
    let reading = source
        .measure(&QueueProbe::new(&key, QueueLayout::List), fx.now)
        .await
        .unwrap();
    assert_eq!(reading.length, 3);
    // Only the two ends are read; the older of them is the head.
    assert_eq!(reading.oldest_id.as_deref(), Some("x"));
    assert_age(&reading, 12);

    let ids = fx.name("ids");
    fx.write(&["RPUSH", &ids, "1", "2", "3", "4"]).await;
    let reading = source
        .measure(&QueueProbe::new(&ids, QueueLayout::List), fx.now)
        .await
        .unwrap();
    assert_eq!(reading.length, 4);
    assert_eq!(reading.oldest_age, None);
}

#[tokio::test]
async fn stream_without_and_with_group() {
    let mut fx = Fixture::new().await;
    let key = fx.name("events");
    let id_60 = format!("{}-0", fx.secs_ago(60).timestamp_millis());
    let id_30 = format!("{}-0", fx.secs_ago(30).timestamp_millis());
    let id_5 = format!("{}-0", fx.secs_ago(5).timestamp_millis());
    for id in [&id_60, &id_30, &id_5] {
        fx.write(&["XADD", &key, id, "job", "x"]).await;
    }
    let source = fx.source();
    let reading = source
        .measure(
            &QueueProbe::new(&key, QueueLayout::Stream { group: None }),
            fx.now,
        )
        .await
        .unwrap();
    assert_eq!(reading.length, 3);
    assert_eq!(reading.oldest_id.as_deref(), Some(id_60.as_str()));
    assert_age(&reading, 60);

    fx.write(&["XGROUP", "CREATE", &key, "workers", "0"]).await;
    fx.write(&[
        "XREADGROUP",
        "GROUP",
        "workers",
        "w1",
        "COUNT",
        "2",
        "STREAMS",
        &key,
        ">",
    ])
    .await;
    fx.write(&["XACK", &key, "workers", &id_30]).await;
    let probe = QueueProbe::new(
        &key,
        QueueLayout::Stream {
            group: Some("workers".into()),
        },
    );
    // The 60s entry is pending, the 30s one acknowledged, the 5s one undelivered.
    let reading = source.measure(&probe, fx.now).await.unwrap();
    assert_eq!(reading.length, 2, "{}", reading.detail);
    assert_eq!(reading.oldest_id.as_deref(), Some(id_60.as_str()));
    assert_age(&reading, 60);

    fx.write(&["XACK", &key, "workers", &id_60]).await;
    let reading = source.measure(&probe, fx.now).await.unwrap();
    assert_eq!(reading.length, 1, "{}", reading.detail);
    assert_eq!(reading.oldest_id.as_deref(), Some(id_5.as_str()));
    assert_age(&reading, 5);

    let missing_group = QueueProbe::new(
        &key,
        QueueLayout::Stream {
            group: Some("nobody".into()),
        },
    );
    let err = source.measure(&missing_group, fx.now).await.unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::QueryRejected);
    assert!(err.detail.contains("nobody"), "{}", err.detail);
}

#[tokio::test]
async fn sorted_set_seconds_and_milliseconds() {
    let mut fx = Fixture::new().await;
    let secs_key = fx.name("scheduled");
    let a = fx.secs_ago(120).timestamp().to_string();
    let b = fx.secs_ago(10).timestamp().to_string();
    fx.write(&["ZADD", &secs_key, &b, "later", &a, "earliest"])
        .await;
    let source = fx.source();
    let reading = source
        .measure(&QueueProbe::new(&secs_key, QueueLayout::SortedSet), fx.now)
        .await
        .unwrap();
    assert_eq!(reading.length, 2);
    assert_eq!(reading.oldest_id.as_deref(), Some("earliest"));
    assert_age(&reading, 120);

    let ms_key = fx.name("delayed");
    let a = fx.secs_ago(33).timestamp_millis().to_string();
    fx.write(&["ZADD", &ms_key, &a, "m"]).await;
    let reading = source
        .measure(&QueueProbe::new(&ms_key, QueueLayout::SortedSet), fx.now)
        .await
        .unwrap();
    assert_eq!(reading.length, 1);
    assert_age(&reading, 33);
}

#[tokio::test]
async fn missing_keys_are_empty_queues() {
    let fx = Fixture::new().await;
    let source = fx.source();
    let name = fx.name("nothing-here");
    for layout in [
        QueueLayout::List,
        QueueLayout::Stream { group: None },
        QueueLayout::Stream {
            group: Some("g".into()),
        },
        QueueLayout::SortedSet,
        QueueLayout::Sidekiq,
        QueueLayout::BullMq,
        QueueLayout::Celery,
        QueueLayout::Rq,
    ] {
        let reading = source
            .measure(&QueueProbe::new(&name, layout.clone()), fx.now)
            .await
            .unwrap_or_else(|e| panic!("{layout:?}: {e}"));
        assert_eq!(reading.length, 0, "{layout:?}");
        assert_eq!(reading.oldest_age, None, "{layout:?}");
    }
}

#[tokio::test]
async fn wrong_type_is_a_bad_response_naming_the_key() {
    let mut fx = Fixture::new().await;
    let key = fx.name("a-string");
    fx.write(&["SET", &key, "hello"]).await;
    let source = fx.source();
    for layout in [
        QueueLayout::List,
        QueueLayout::Stream { group: None },
        QueueLayout::SortedSet,
    ] {
        let err = source
            .measure(&QueueProbe::new(&key, layout.clone()), fx.now)
            .await
            .unwrap_err();
        assert_eq!(err.kind, SourceErrorKind::BadResponse, "{layout:?}");
        assert!(err.detail.contains(&key), "{layout:?}: {}", err.detail);
    }
    // The connection survives a server error.
    source.ping().await.unwrap();
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let source = RedisSource::new(
        "q",
        &format!("redis://127.0.0.1:{}/", closed_port()),
        Duration::from_secs(2),
    )
    .unwrap();
    let err = source
        .measure(&QueueProbe::new("x", QueueLayout::List), Utc::now())
        .await
        .unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::Unreachable, "{err}");
    assert_eq!(err.source, "q");
}

#[tokio::test]
async fn silent_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let source = RedisSource::new(
        "q",
        &format!("redis://127.0.0.1:{port}/"),
        Duration::from_millis(300),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let err = source
        .measure(&QueueProbe::new("x", QueueLayout::List), Utc::now())
        .await
        .unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    holder.abort();
}
