//! Endpoints on loopback: an app whose process is gone (nothing listens on its port), a
//! health check that answered 502 while the app restarted and answers again, and a TLS
//! certificate days from its expiry.

use super::Scenario;
use super::grade::{Fact, Field, VerdictClass};
use super::lab::{Lab, Pager, Staged, expect};
use axum::http::StatusCode;
use std::sync::{Arc, Mutex};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "http: connection refused",
            family: "web",
            fault: "The admin app's process exited after a failed deploy: nothing listens on its port.",
            question: "Why is the admin app down?",
            stage: |lab| Box::pin(refused(lab)),
            facts: vec![
                Fact::matching(
                    "nothing accepts connections",
                    Field::Hypotheses,
                    r"nothing accepts connections|connection refused",
                ),
                Fact::matching(
                    "where to look: the service and its port",
                    Field::Steps,
                    r"ss -ltnp",
                ),
                Fact::text("still failing now", Field::Summary, "still failing"),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
        Scenario {
            name: "http: healed after a restart",
            family: "web",
            fault: "The shop's proxy answered 502 while the app restarted for a deploy; it answers 200 again.",
            question: "Is the shop still down?",
            stage: |lab| Box::pin(healed(lab)),
            facts: vec![
                Fact::matching(
                    "it answers again",
                    Field::Summary,
                    r"answers as it should again",
                ),
                Fact::absent("called still failing", Field::Summary, r"still failing"),
            ],
            expected: VerdictClass::NoAction,
            certainty_allowed: true,
        },
        Scenario {
            name: "certificate: expiring",
            family: "web",
            fault: "The API's certificate, issued by the company's own authority and renewed by hand, expires in six days.",
            question: "When does the API certificate expire and who renews it?",
            stage: |lab| Box::pin(certificate_expiring(lab)),
            facts: vec![
                Fact::matching("when it expires", Field::Summary, r"expires in (5|6)d"),
                Fact::text("who issued it", Field::Anywhere, "CN=Shop Internal CA"),
                Fact::matching(
                    "renewed by hand, not by ACME",
                    Field::Anywhere,
                    r"private authority|self-signed",
                ),
            ],
            expected: VerdictClass::Action,
            certainty_allowed: true,
        },
    ]
}

async fn refused(lab: &Lab) -> Result<Staged, String> {
    // The port the app listened on, now free.
    let port = crate::support::free_port();
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[watches.admin-app]\nkind = \"http\"\ndescription = \"Admin app\"\n\
             url = \"http://127.0.0.1:{port}/healthz\"\nfor = \"0s\"\ntimeout = \"3s\"\n"
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    pager.pass().await;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "admin-app".into(),
        pages: pager.paged()?,
        facts: vec![Fact::text(
            "the port nothing listens on",
            Field::Anywhere,
            &format!("127.0.0.1:{port}"),
        )],
        guards: Vec::new(),
    })
}

async fn healed(lab: &Lab) -> Result<Staged, String> {
    use axum::extract::State;
    let restarting = Arc::new(Mutex::new(true));
    let address = crate::support::serve_in_background(
        axum::Router::new()
            .route(
                "/healthz",
                axum::routing::get(|State(restarting): State<Arc<Mutex<bool>>>| async move {
                    if *restarting.lock().unwrap() {
                        (
                            StatusCode::BAD_GATEWAY,
                            "<html><body><h1>502 Bad Gateway</h1></body></html>",
                        )
                    } else {
                        (StatusCode::OK, "ok")
                    }
                }),
            )
            .with_state(restarting.clone()),
    );
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[watches.shop-health]\nkind = \"http\"\ndescription = \"Shop health\"\n\
             url = \"http://{address}/healthz\"\nfor = \"0s\"\nkeep_firing_for = \"5m\"\n"
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    expect(pager.pass().await.firing == 1, "the 502 made no page")?;
    *restarting.lock().unwrap() = false;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "shop-health".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}

/// A TLS server on loopback presenting a certificate for `localhost`, signed by a private
/// authority, that expires in `days` days.
async fn tls_server(days: i64) -> u16 {
    use chrono::Datelike;
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let date = |at: chrono::DateTime<chrono::Utc>| {
        rcgen::date_time_ymd(at.year(), at.month() as u8, at.day() as u8)
    };
    let now = chrono::Utc::now();
    let mut authority = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    authority
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Shop Internal CA");
    authority.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    authority.not_before = date(now - chrono::Duration::days(700));
    authority.not_after = date(now + chrono::Duration::days(3000));
    let authority_key = rcgen::KeyPair::generate().unwrap();
    let authority_cert = authority.self_signed(&authority_key).unwrap();
    let issuer = rcgen::Issuer::from_params(&authority, &authority_key);

    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "api.shop.internal");
    params.not_before = date(now - chrono::Duration::days(359));
    params.not_after = date(now + chrono::Duration::days(days));
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let server = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone(), authority_cert.der().clone()], key)
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = tokio_rustls::TlsAcceptor::from(server.clone());
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
                }
            });
        }
    });
    port
}

async fn certificate_expiring(lab: &Lab) -> Result<Staged, String> {
    let port = tls_server(6).await;
    let dir = tempfile::tempdir().unwrap();
    let (config, offline_config, parsed) = lab.config(
        dir.path(),
        &format!(
            "[watches.api-tls]\nkind = \"certificate\"\ndescription = \"API certificate\"\n\
             host = \"localhost:{port}\"\nexpires_within = \"14d\"\n"
        ),
        None,
    );
    let pager = Pager::new(&parsed);
    pager.pass().await;
    Ok(Staged {
        dir,
        config,
        offline_config,
        watch: "api-tls".into(),
        pages: pager.paged()?,
        facts: Vec::new(),
        guards: Vec::new(),
    })
}
