//! The HTTP intake of a real `sentinel run` under abuse, over real loopback sockets: a flood of
//! unknown tokens from one address while another pings (every valid ping answered and
//! recorded), `X-Forwarded-For` believed only from a trusted proxy, a body that never arrives,
//! headers that never end, an idle kept-alive connection, the connection cap, and one 413 on
//! every route.

mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use support::{Daemon, free_port, write_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const BACKUP: &str = "5f0c3a9e2b7d41c6a8e9f01234567890";

fn start(dir: &std::path::Path, server: &str) -> Daemon {
    let port = free_port();
    let config = write_config(
        dir,
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nmax_body = \"1KB\"\n{server}\n\
             [store]\npath = \"{}/s.db\"\n\
             [watches.backup]\nkind = \"heartbeat\"\ntoken = \"{BACKUP}\"\nperiod = \"1h\"\n\
             [watches.am]\nkind = \"alertmanager\"\n",
            dir.display()
        ),
    );
    Daemon::start(&config, port)
}

fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn metric(daemon: &Daemon, name: &str) -> u64 {
    let text = reqwest::get(daemon.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name).map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0)
}

async fn recorded_remotes(dir: &std::path::Path) -> Vec<String> {
    let store = sentinel::store::Store::open(&dir.join("s.db"))
        .await
        .unwrap();
    sqlx::query_scalar("SELECT remote FROM pings ORDER BY id")
        .fetch_all(store.reader())
        .await
        .unwrap()
}

/// A connection from `from` to the daemon, for requests written by hand.
async fn connect(from: &str, daemon: &Daemon) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    socket
        .connect(SocketAddr::from(([127, 0, 0, 1], daemon.port)))
        .await
        .unwrap()
}

/// Everything the server sends until it closes the connection, and how long that took;
/// gives up after `limit`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => panic!(
                "still open after {limit:?}; received {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

/// Reads one response with a `Content-Length` body (enough for Sentinel's short answers).
async fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("a response within 5s")
            .unwrap();
        assert!(n > 0, "closed before a whole response");
        received.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_unknown_tokens_starves_no_one_else() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(
        dir.path(),
        "rate_limit_per_second = 50\nfailure_limit_per_minute = 60\nfailure_burst = 5\n",
    );
    let flood_until = Instant::now() + Duration::from_secs(3);
    let flooder = client_from("127.0.0.2");
    let floods: Vec<_> = (0..6)
        .map(|_| {
            let flooder = flooder.clone();
            let url = daemon.url("/ping/not-a-known-token-000000");
            tokio::spawn(async move {
                let (mut not_found, mut refused) = (0u32, 0u32);
                while Instant::now() < flood_until {
                    match flooder.get(&url).send().await.map(|r| r.status().as_u16()) {
                        Ok(404) => not_found += 1,
                        Ok(429) => refused += 1,
                        other => panic!("the flood got {other:?}"),
                    }
                }
                (not_found, refused)
            })
        })
        .collect();

    let pinger = client_from("127.0.0.3");
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..20 {
        let ping = pinger
            .post(daemon.url(&format!("/ping/{BACKUP}")))
            .body(format!("run {i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(ping.status(), 200, "valid ping {i} during the flood");
        let health = pinger.get(daemon.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200, "/healthz {i} during the flood");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The flooding address itself may still ping with a valid token.
    let own = flooder
        .get(daemon.url(&format!("/ping/{BACKUP}/start")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.status(),
        200,
        "a valid token is not refused for garbage"
    );

    let (mut not_found, mut refused) = (0, 0);
    for flood in floods {
        let (n, r) = flood.await.unwrap();
        not_found += n;
        refused += r;
    }
    // A burst of 5, then one a second for about 3 s.
    assert!(not_found <= 10, "{not_found} unknown tokens were looked up");
    assert!(refused > 100, "only {refused} refusals: was it a flood?");
    assert_eq!(
        metric(
            &daemon,
            "sentinel_rejected_requests_total{reason=\"too_many_failures\"}"
        )
        .await,
        u64::from(refused)
    );
    assert_eq!(
        metric(&daemon, "sentinel_pings_total{kind=\"success\"}").await,
        20
    );

    let store = sentinel::store::Store::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    assert_eq!(
        store.last_ping_body("backup").await.unwrap().as_deref(),
        Some("run 19")
    );
    let remotes = recorded_remotes(dir.path()).await;
    assert_eq!(remotes.len(), 21, "every valid ping is recorded");
    assert_eq!(remotes.iter().filter(|r| *r == "127.0.0.3").count(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(
        dir.path(),
        "failure_burst = 2\nfailure_limit_per_minute = 1\ntrusted_proxies = [\"127.0.0.4\"]\n",
    );
    let unknown = daemon.url("/ping/not-a-known-token-000000");
    let statuses = |client: reqwest::Client, forwarded: &'static str| {
        let unknown = unknown.clone();
        async move {
            let mut statuses = Vec::new();
            for _ in 0..3 {
                let response = client
                    .get(&unknown)
                    .header("x-forwarded-for", forwarded)
                    .send()
                    .await
                    .unwrap();
                statuses.push(response.status().as_u16());
            }
            statuses
        }
    };
    let proxy = client_from("127.0.0.4");
    assert_eq!(
        statuses(proxy.clone(), "203.0.113.9").await,
        [404, 404, 429]
    );
    // Behind the proxy, another client has budgets of its own, even with a forged hop.
    assert_eq!(
        statuses(proxy.clone(), "203.0.113.9, 203.0.113.10").await,
        [404, 404, 429]
    );
    // From an untrusted peer the header changes nothing: one address, one budget.
    let stranger = client_from("127.0.0.5");
    assert_eq!(
        statuses(stranger.clone(), "203.0.113.11").await,
        [404, 404, 429]
    );
    assert_eq!(
        statuses(stranger.clone(), "203.0.113.12").await,
        [429, 429, 429]
    );

    let ping = proxy
        .get(daemon.url(&format!("/ping/{BACKUP}")))
        .header("x-forwarded-for", "198.51.100.20")
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    let ping = stranger
        .get(daemon.url(&format!("/ping/{BACKUP}")))
        .header("x-forwarded-for", "198.51.100.21")
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    assert_eq!(
        recorded_remotes(dir.path()).await,
        ["198.51.100.20", "127.0.0.5"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(
        dir.path(),
        "header_timeout = \"1s\"\nbody_timeout = \"1s\"\nidle_timeout = \"2s\"\n",
    );

    // A Content-Length and no body: 408 after the body timeout, then closed.
    let mut stream = connect("127.0.0.2", &daemon).await;
    let request =
        format!("POST /ping/{BACKUP} HTTP/1.1\r\nHost: sentinel\r\nContent-Length: 100\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let (answer, took) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    assert!(took >= Duration::from_millis(900), "{took:?}");

    // Headers that never end: closed after the header timeout.
    let mut stream = connect("127.0.0.2", &daemon).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: sentinel\r\n")
        .await
        .unwrap();
    let (_, took) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(900), "{took:?}");

    // An idle kept-alive connection lives past the header timeout, until the idle timeout.
    let mut stream = connect("127.0.0.3", &daemon).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: sentinel\r\n\r\n")
        .await
        .unwrap();
    let answer = read_response(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (rest, idle) = read_until_closed(&mut stream, Duration::from_secs(6)).await;
    assert_eq!(rest, "");
    assert!(
        idle >= Duration::from_millis(1_800) && idle < Duration::from_secs(4),
        "closed after {idle:?} idle"
    );

    // The store saw nothing from the body that never came.
    assert!(recorded_remotes(dir.path()).await.is_empty());
    assert_eq!(
        metric(
            &daemon,
            "sentinel_rejected_requests_total{reason=\"body_timeout\"}"
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds_and_idle_connections_give_way() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(
        dir.path(),
        "max_connections = 2\nheader_timeout = \"5s\"\nidle_timeout = \"30s\"\n",
    );
    let request = b"GET /healthz HTTP/1.1\r\nHost: sentinel\r\n\r\n";

    // Two clients mid-request hold both slots: a third waits.
    let mut first = connect("127.0.0.2", &daemon).await;
    let mut second = connect("127.0.0.2", &daemon).await;
    for stream in [&mut first, &mut second] {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = connect("127.0.0.3", &daemon).await;
    third.write_all(request).await.unwrap();
    let mut buffer = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(700), third.read(&mut buffer)).await;
    assert!(early.is_err(), "answered beyond the cap: {early:?}");
    drop(first);
    let answer = read_response(&mut third).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Kept-alive connections that sit idle give their slot to a new one at once.
    drop(second);
    let mut fourth = connect("127.0.0.3", &daemon).await;
    fourth.write_all(request).await.unwrap();
    assert!(read_response(&mut fourth).await.starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    let mut fifth = connect("127.0.0.3", &daemon).await;
    fifth.write_all(request).await.unwrap();
    assert!(read_response(&mut fifth).await.starts_with("HTTP/1.1 200"));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_answer_for_a_body_too_large_on_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path(), "");
    let client = client_from("127.0.0.2");
    let big = "x".repeat(5000);
    let mut answers = Vec::new();
    for path in [format!("/ping/{BACKUP}"), "/hooks/alertmanager".to_string()] {
        let response = client
            .post(daemon.url(&path))
            .body(big.clone())
            .send()
            .await
            .unwrap();
        answers.push((response.status().as_u16(), response.text().await.unwrap()));
    }
    let expected = (
        413,
        "the body is larger than [server] max_body (1000 bytes)\n".to_string(),
    );
    assert_eq!(answers, [expected.clone(), expected]);
    assert_eq!(
        metric(
            &daemon,
            "sentinel_rejected_requests_total{reason=\"too_large\"}"
        )
        .await,
        2
    );
}
