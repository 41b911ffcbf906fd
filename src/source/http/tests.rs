//! Tests of the HTTP probe against small servers on loopback.
use super::*;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BIG_BODY: usize = 3 * 1024 * 1024;

/// A tiny HTTP/1.1 server on 127.0.0.1 recording each request's head.
struct TestServer {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, log.clone()));
            }
        });
        Self { base, seen, task }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(mut socket: TcpStream, log: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    log.lock().unwrap().push(head.clone());
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (status, body): (&str, Vec<u8>) = match path.as_str() {
        "/ok" => ("200 OK", b"all systems nominal".to_vec()),
        "/down" => ("503 Service Unavailable", b"maintenance".to_vec()),
        "/delay" => {
            tokio::time::sleep(Duration::from_millis(150)).await;
            ("200 OK", b"late but fine".to_vec())
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            ("200 OK", b"too late".to_vec())
        }
        "/big" => {
            let mut body = vec![b'a'; BIG_BODY];
            body.extend_from_slice(b"END");
            ("200 OK", body)
        }
        "/utf8" => ("200 OK", "é".repeat(300).into_bytes()),
        _ => ("404 Not Found", b"no such page".to_vec()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if socket.write_all(response.as_bytes()).await.is_err() {
        return;
    }
    if !head.starts_with("HEAD ") {
        let _ = socket.write_all(&body).await;
    }
    let _ = socket.shutdown().await;
}

fn probe(url: &str) -> HttpProbe {
    HttpProbe::get(url, Duration::from_secs(3))
}

#[tokio::test]
async fn ok_and_error_statuses_are_readings() {
    let server = TestServer::start().await;
    let source = HttpSource::new("web").unwrap();
    let mut ok = probe(&server.url("/ok"));
    ok.body_match = Some(Regex::new("nominal").unwrap());
    let reading = source.probe(&ok).await.unwrap();
    assert_eq!(reading.status, 200);
    assert!(reading.status_expected);
    assert_eq!(reading.body_matched, Some(true));
    assert_eq!(reading.body_excerpt, "all systems nominal");
    assert!(!reading.body_truncated);

    let mut down = probe(&server.url("/down"));
    down.body_match = Some(Regex::new("nominal").unwrap());
    let reading = source.probe(&down).await.unwrap();
    assert_eq!(reading.status, 503);
    assert!(!reading.status_expected);
    assert_eq!(reading.body_matched, Some(false));
    assert_eq!(reading.body_excerpt, "maintenance");

    down.expect_status = Some(ExpectStatus::parse("200-299, 503").unwrap());
    assert!(source.probe(&down).await.unwrap().status_expected);
    let missing = source.probe(&probe(&server.url("/nope"))).await.unwrap();
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn latency_covers_the_wait() {
    let server = TestServer::start().await;
    let source = HttpSource::new("web").unwrap();
    let reading = source.probe(&probe(&server.url("/delay"))).await.unwrap();
    assert!(
        reading.latency >= Duration::from_millis(150),
        "{:?}",
        reading.latency
    );
    assert!(
        reading.latency < Duration::from_secs(3),
        "{:?}",
        reading.latency
    );
    let quick = source.probe(&probe(&server.url("/ok"))).await.unwrap();
    assert!(
        quick.latency < Duration::from_millis(150),
        "{:?}",
        quick.latency
    );
}

#[tokio::test]
async fn headers_are_sent_and_head_has_no_body() {
    let server = TestServer::start().await;
    let source = HttpSource::new("web").unwrap();
    let mut head = probe(&server.url("/ok"));
    head.method = HttpMethod::Head;
    head.body_match = Some(Regex::new("nominal").unwrap());
    head.headers = vec![("X-Probe".into(), "secret-token".into())];
    let reading = source.probe(&head).await.unwrap();
    assert_eq!(reading.status, 200);
    assert_eq!(reading.body_matched, None);
    assert_eq!(reading.body_excerpt, "");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].starts_with("HEAD /ok "), "{}", requests[0]);
    assert!(
        requests[0]
            .to_ascii_lowercase()
            .contains("x-probe: secret-token")
    );
    assert!(!format!("{head:?}").contains("secret-token"));
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = TestServer::start().await;
    let source = HttpSource::new("web").unwrap();
    let mut slow = probe(&server.url("/slow"));
    slow.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = source.probe(&slow).await.unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let source = HttpSource::new("web").unwrap();
    let err = source
        .probe(&probe(&format!(
            "http://user:pw123@127.0.0.1:{port}/health"
        )))
        .await
        .unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::Unreachable, "{err}");
    assert!(!err.detail.contains("pw123"), "{}", err.detail);
    assert!(err.detail.contains(&port.to_string()), "{}", err.detail);
}

#[tokio::test]
async fn big_body_is_capped() {
    let server = TestServer::start().await;
    let source = HttpSource::new("web").unwrap();
    let mut big = probe(&server.url("/big"));
    big.body_match = Some(Regex::new("END").unwrap());
    let reading = source.probe(&big).await.unwrap();
    assert_eq!(reading.status, 200);
    assert!(reading.body_truncated);
    // The marker sits past the first megabyte, so it is never read.
    assert_eq!(reading.body_matched, Some(false));
    assert_eq!(reading.body_excerpt, "a".repeat(EXCERPT_CHARS));

    let utf8 = source.probe(&probe(&server.url("/utf8"))).await.unwrap();
    assert_eq!(utf8.body_excerpt.chars().count(), EXCERPT_CHARS);
    assert!(utf8.body_excerpt.chars().all(|c| c == 'é'));
}

#[tokio::test]
async fn bad_probes_are_rejected_without_sending() {
    let server = TestServer::start().await;
    let source = HttpSource::new("web").unwrap();
    for url in ["not a url", "ftp://127.0.0.1/x", "file:///etc/passwd"] {
        let err = source.probe(&probe(url)).await.unwrap_err();
        assert_eq!(err.kind, SourceErrorKind::QueryRejected, "{url}");
    }
    let mut bad_header = probe(&server.url("/ok"));
    bad_header.headers = vec![("bad header".into(), "x".into())];
    let err = source.probe(&bad_header).await.unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::QueryRejected);
    assert!(server.requests().is_empty());
}

#[test]
fn expect_status_parsing() {
    let expect = ExpectStatus::parse("200-299, 304").unwrap();
    assert!(expect.matches(200) && expect.matches(299) && expect.matches(304));
    assert!(!expect.matches(300) && !expect.matches(500));
    assert!(ExpectStatus::parse("").is_err());
    assert!(ExpectStatus::parse("299-200").is_err());
    assert!(ExpectStatus::parse("abc").is_err());
    assert!(ExpectStatus::parse("700").is_err());
}

#[test]
fn redact_hides_credentials() {
    assert_eq!(
        redact("https://u:p@example.test/x"),
        "https://example.test/x"
    );
    assert_eq!(
        redact("http://127.0.0.1:8080/ok"),
        "http://127.0.0.1:8080/ok"
    );
}
