//! The `certificate` watch against a real TLS server on loopback and real certificate files:
//! a certificate close to its expiry pages with the host, subject, issuer and expiry (and,
//! self-signed, that it is not trusted), its renewal resolves the page, a host that does not
//! answer is blindness, and configuration mistakes are located.

mod support;

use chrono::{Datelike, Utc};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sentinel::alert::notice::{Notice, NoticeKind};
use sentinel::config::Config;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A self-signed certificate for `localhost` (and 127.0.0.1) valid for `days` more days (in
/// the past when negative), with its private key.
fn certificate(days: i64) -> (CertificateDer<'static>, PrivateKeyDer<'static>, String) {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "shop.test");
    let until = Utc::now() + chrono::Duration::days(days);
    let from = Utc::now() - chrono::Duration::days(90);
    params.not_before = rcgen::date_time_ymd(from.year(), from.month() as u8, from.day() as u8);
    params.not_after = rcgen::date_time_ymd(until.year(), until.month() as u8, until.day() as u8);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let pem = cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (cert.der().clone(), key, pem)
}

fn server_config(days: i64) -> Arc<rustls::ServerConfig> {
    let (cert, key, _) = certificate(days);
    Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap(),
    )
}

/// A TLS server on a loopback port presenting whichever certificate `serving` holds.
async fn tls_server(serving: Arc<Mutex<Arc<rustls::ServerConfig>>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let config = serving.lock().unwrap().clone();
            tokio::spawn(async move {
                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
                }
            });
        }
    });
    port
}

fn config(dir: &Path, target: &str) -> Config {
    let text = format!(
        "[store]\npath = \"{}/s.db\"\n\n[watches.shop-tls]\nkind = \"certificate\"\ndescription = \"Shop TLS\"\n{target}\nexpires_within = \"14d\"\nnotify_resolved = true\n",
        dir.display()
    );
    Config::parse(&dir.join("sentinel.toml"), &text, &|_| None).unwrap()
}

fn firing(pages: &Mutex<Vec<Notice>>) -> Vec<Notice> {
    pages
        .lock()
        .unwrap()
        .iter()
        .filter(|n| n.kind == NoticeKind::Firing && n.watch == "shop-tls")
        .cloned()
        .collect()
}

fn resolved(pages: &Mutex<Vec<Notice>>) -> usize {
    pages
        .lock()
        .unwrap()
        .iter()
        .filter(|n| n.kind == NoticeKind::Resolved && n.watch == "shop-tls")
        .count()
}

#[tokio::test]
async fn a_served_certificate_close_to_expiry_pages_and_its_renewal_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let serving = Arc::new(Mutex::new(server_config(5)));
    let port = tls_server(serving.clone()).await;
    let config = config(dir.path(), &format!("host = \"localhost:{port}\""));
    let pages = Arc::new(Mutex::new(Vec::new()));

    let report = support::engine_pass(&config, &pages).await;
    assert_eq!(report.blind, 0, "{report:?}");
    let pages_now = firing(&pages);
    assert_eq!(pages_now.len(), 1, "{pages_now:?}");
    let page = &pages_now[0];
    assert_eq!(page.subject, format!("localhost:{port}"));
    assert!(
        page.title.contains("Shop TLS: certificate expires in 4d")
            || page.title.contains("Shop TLS: certificate expires in 5d"),
        "{}",
        page.title
    );
    let facts = page.facts.join("\n");
    assert!(facts.contains("subject: CN=shop.test"), "{facts}");
    assert!(facts.contains("issuer: CN=shop.test"), "{facts}");
    assert!(facts.contains("valid until "), "{facts}");
    assert!(
        facts
            .contains("not trusted: issued by a certificate authority this machine does not trust"),
        "a self-signed certificate is named untrusted: {facts}"
    );

    // Renewed: the next look resolves the page.
    *serving.lock().unwrap() = server_config(90);
    support::engine_pass(&config, &pages).await;
    assert_eq!(firing(&pages).len(), 1, "no second page");
    assert_eq!(resolved(&pages), 1, "the renewal resolves it");
}

#[tokio::test]
async fn a_certificate_file_pages_when_expired_and_resolves_when_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cert.pem");
    std::fs::write(&file, certificate(-3).2).unwrap();
    let config = config(dir.path(), &format!("path = \"{}\"", file.display()));
    let pages = Arc::new(Mutex::new(Vec::new()));

    support::engine_pass(&config, &pages).await;
    let pages_now = firing(&pages);
    assert_eq!(pages_now.len(), 1, "{pages_now:?}");
    assert!(
        pages_now[0].title.contains("Shop TLS: certificate expired"),
        "{}",
        pages_now[0].title
    );
    assert_eq!(pages_now[0].subject, file.display().to_string());

    std::fs::write(&file, certificate(200).2).unwrap();
    support::engine_pass(&config, &pages).await;
    assert_eq!(resolved(&pages), 1, "the new file resolves it");
}

#[tokio::test]
async fn a_host_that_does_not_answer_is_blindness_not_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let config = config(dir.path(), &format!("host = \"127.0.0.1:{port}\""));
    let pages = Arc::new(Mutex::new(Vec::new()));
    let report = support::engine_pass(&config, &pages).await;
    assert_eq!((report.evaluated, report.blind), (1, 1), "{report:?}");
    assert!(firing(&pages).is_empty());
}

#[test]
fn certificate_mistakes_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let parse = |body: &str| {
        let text = format!("[watches.tls]\nkind = \"certificate\"\n{body}\n");
        Config::parse(&dir.path().join("s.toml"), &text, &|_| None)
            .unwrap_err()
            .to_string()
    };
    let both = parse("host = \"shop.example.com\"\npath = \"/etc/ssl/shop.pem\"");
    assert!(both.contains(":4:"), "{both}");
    assert!(both.contains("either `host` or `path`, not both"), "{both}");
    let neither = parse("expires_within = \"7d\"");
    assert!(
        neither.contains("needs host = \"shop.example.com:443\""),
        "{neither}"
    );
    let url = parse("host = \"https://shop.example.com\"");
    assert!(url.contains(":3:"), "{url}");
    assert!(url.contains("no scheme"), "{url}");
    let elsewhere = "[watches.tls]\nkind = \"heartbeat\"\ntoken = \"0123456789abcdef0123\"\nperiod = \"1d\"\nexpires_within = \"7d\"\n";
    let refused = Config::parse(&dir.path().join("s.toml"), elsewhere, &|_| None)
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("`expires_within` does not apply to heartbeat watches"),
        "{refused}"
    );
}
