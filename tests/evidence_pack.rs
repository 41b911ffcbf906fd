//! Evidence packs end to end on the machine's real PostgreSQL, seeded with a realistic app of
//! 3,000 customers: `sentinel evidence` writes a PDF (read back with poppler's `pdftotext`
//! and `pdfinfo`) and Stripe's JSON for the disputing customer, with their CE 3.0 priors and
//! not one row of anyone else's; an unknown customer writes nothing; a customer with 100,000
//! sessions gets a pack within Stripe's limits; and a signed `charge.dispute.created` reaching
//! `sentinel run` brings the pack to Telegram, then the reminder a day before it is due.

mod support;

use chrono::{Duration as Span, Utc};
use sentinel::evidence::presets::Preset;
use sentinel::store::Store;
use sentinel::store::disputes::Dispute;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::evidence_app::{Fixture, generic::seed_generic_app};
use support::fake_telegram::FakeTelegram;
use support::stripe_events::{DisputeFields, dispute_event, signature};
use support::{Daemon, free_port, sentinel_bin, write_config};

const CUSTOMERS: usize = 3_000;
const TOKEN: &str = "4242:evidence-test";
const CHAT: i64 = -100_777;
const SECRET: &str = "whsec_evidence_0123456789abcdef";

/// A configuration reading the fixture's app through the generic preset.
async fn config(dir: &Path, fixture: &Fixture, extra: &str) -> PathBuf {
    let url = format!(
        "{}?options[search_path]={}",
        support::postgres_reader().await,
        fixture.schema
    );
    write_config(
        dir,
        &format!(
            "[store]\npath = \"{store}\"\n{extra}\n[sources.app]\nkind = \"postgres\"\nurl = \"{url}\"\n\n{preset}",
            store = dir.join("s.db").display(),
            preset = Preset::Generic.text("app"),
        ),
    )
}

fn evidence(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(sentinel_bin())
        .arg("evidence")
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap()
}

fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == extension))
                .collect()
        })
        .unwrap_or_default()
}

fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/test.sh installs it)");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pdf_pages(pdf: &Path) -> usize {
    let out = Command::new("pdfinfo").arg(pdf).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap()
}

/// Every other customer's email and name in the fixture's app.
async fn everyone_else(fixture: &Fixture) -> Vec<String> {
    let all = support::evidence_app::fetch_text(&format!(
        "SELECT string_agg(email || '|' || coalesce(name, ''), '|') FROM {}.users WHERE id <> {}",
        fixture.schema, fixture.disputing.id
    ))
    .await;
    all.split('|')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn stored_dispute(fixture: &Fixture, id: &str, due_in: Span) -> Dispute {
    let now = Utc::now();
    Dispute {
        id: id.into(),
        charge: fixture.disputing.charge.clone(),
        amount: 2900,
        currency: "usd".into(),
        reason: "fraudulent".into(),
        network_reason_code: Some("10.4".into()),
        status: "needs_response".into(),
        evidence_due_by: Some(now + due_in),
        customer_email: Some(fixture.disputing.email.clone()),
        customer_id: None,
        payment_intent: None,
        created_at: now,
        updated_at: now,
        raw_json: "{}".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pack_tells_the_disputing_customers_story_with_their_ce3_priors_and_no_one_elses() {
    let fixture = seed_generic_app("evpack_cli", CUSTOMERS).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &fixture, "").await;
    let store = Store::open(&dir.path().join("s.db")).await.unwrap();
    store
        .record_dispute_event(
            "evt_1",
            "charge.dispute.created",
            &stored_dispute(&fixture, "dp_cli", Span::days(10)),
            Utc::now(),
        )
        .await
        .unwrap();
    store.close().await;
    let out_dir = dir.path().join("packs");

    let out = evidence(
        &config,
        &["--dispute", "dp_cli", "--out", out_dir.to_str().unwrap()],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Visa CE 3.0: qualifies"), "{stdout}");
    assert!(stdout.contains("Nothing was sent to Stripe"), "{stdout}");
    let pdf = files(&out_dir, "pdf").pop().expect("a PDF");
    let json = files(&out_dir, "json").pop().expect("a JSON file");

    let text = pdf_text(&pdf);
    let dana = &fixture.disputing;
    for expected in [
        "dp_cli",
        "$29.00",
        "10.4",
        dana.email.as_str(),
        dana.name.as_str(),
        "Logins",
        "Use of the product",
        "Payments",
        "Terms accepted",
        "Appendix: sources",
    ] {
        assert!(text.contains(expected), "the PDF lacks {expected:?}");
    }
    // Refunds: the customer has none, and the pack says so instead of dropping the section.
    assert!(text.contains("Refunds"), "{text}");
    assert!(text.contains("no rows for this customer"), "{text}");
    let pages = pdf_pages(&pdf);
    assert!(text.contains(&format!("Page 1 of {pages}")), "{text}");

    let evidence: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let fields = &evidence["evidence"];
    assert_eq!(fields["customer_email_address"], dana.email.as_str());
    assert_eq!(fields["customer_name"], dana.name.as_str());
    assert_eq!(
        fields["customer_purchase_ip"],
        support::evidence_app::SHARED_IP
    );
    let ce3 = &fields["enhanced_evidence"]["visa_compelling_evidence_3"];
    let priors: std::collections::BTreeSet<&str> = ce3["prior_undisputed_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["charge"].as_str().unwrap())
        .collect();
    let expected: std::collections::BTreeSet<&str> =
        dana.prior_charges.iter().map(String::as_str).collect();
    assert_eq!(priors, expected);
    assert!(ce3["disputed_transaction"]["customer_device_id"].is_string());

    // Privacy: nothing of the household member who shares the address and device, nor of
    // any of the other customers, is in either file.
    let json_text = std::fs::read_to_string(&json).unwrap();
    for other in everyone_else(&fixture).await {
        assert!(
            !text.contains(&other),
            "the PDF holds another customer's {other:?}"
        );
        assert!(
            !json_text.contains(&other),
            "the JSON holds another customer's {other:?}"
        );
    }
    assert!(!text.contains(&fixture.household.charge));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_customer_writes_nothing_and_a_very_active_one_stays_within_stripes_limits() {
    let fixture = seed_generic_app("evpack_heavy", CUSTOMERS).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &fixture, "").await;
    let out_dir = dir.path().join("packs");

    let out = evidence(
        &config,
        &[
            "--email",
            "nobody@example.com",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no customer matches “nobody@example.com”"),
        "{stderr}"
    );
    assert!(files(&out_dir, "pdf").is_empty() && files(&out_dir, "json").is_empty());

    let heavy = fixture.heavy_id.clone().unwrap();
    let started = Instant::now();
    let out = evidence(
        &config,
        &["--customer", &heavy, "--out", out_dir.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "pack for {} sessions built in {:?}",
        fixture.heavy_sessions,
        started.elapsed()
    );
    let pdf = files(&out_dir, "pdf").pop().unwrap();
    let json = files(&out_dir, "json").pop().unwrap();
    let bytes = std::fs::metadata(&pdf).unwrap().len() + std::fs::metadata(&json).unwrap().len();
    assert!(bytes < 4_500_000, "{bytes} bytes");
    assert!(pdf_pages(&pdf) < 50);
    let text = pdf_text(&pdf);
    assert!(text.contains("100,000"), "the pack counts every session");
    assert!(text.contains("left out"), "and says what it left out");
    let evidence: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let total: usize = evidence["evidence"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|v| v.as_str())
        .map(|s| s.encode_utf16().count())
        .sum();
    assert!(total <= 150_000, "{total} characters of text evidence");
    let log = evidence["evidence"]["access_activity_log"]
        .as_str()
        .unwrap();
    assert!(log.encode_utf16().count() <= 20_000);
}

async fn wait_for(
    fake: &FakeTelegram,
    method: &str,
    count: usize,
    what: &str,
) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let calls: Vec<serde_json::Value> =
            fake.calls(method).into_iter().map(|c| c.body).collect();
        if calls.len() >= count {
            return calls;
        }
        assert!(Instant::now() < deadline, "no {what}: {calls:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispute_from_stripe_brings_the_pack_to_telegram_then_a_reminder_before_it_is_due() {
    let fixture = seed_generic_app("evpack_hook", 200).await;
    let fake = FakeTelegram::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = config(
        dir.path(),
        &fixture,
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n\
             [stripe]\nendpoint_secrets = [\"${{STRIPE_WEBHOOK_SECRET}}\"]\n\
             [channels.phone]\nkind = \"telegram\"\nbot_token = \"${{TELEGRAM_BOT_TOKEN}}\"\nchat_id = {CHAT}\nallowed_users = [1]\napi_url = \"{}\"\npoll_timeout = \"1s\"\n",
            fake.url
        ),
    )
    .await;
    let _daemon = Daemon::start_with_env(
        &config,
        port,
        &[
            ("STRIPE_WEBHOOK_SECRET", SECRET),
            ("TELEGRAM_BOT_TOKEN", TOKEN),
        ],
    );
    // Due in 20 hours: the pack arrives, and so does the reminder.
    let due = (Utc::now() + Span::hours(20)).timestamp();
    let body = dispute_event(&DisputeFields {
        event_id: "evt_hook_1",
        dispute_id: "dp_hook",
        event_type: "charge.dispute.created",
        status: "needs_response",
        charge: &fixture.disputing.charge,
        email: &fixture.disputing.email,
        amount: 2900,
        due_by: due,
        reason_code: "10.4",
    });
    let now = Utc::now().timestamp();
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/hooks/stripe"))
        .header(
            "Stripe-Signature",
            format!("t={now},v1={}", signature(SECRET, now, body.as_bytes())),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let documents = wait_for(&fake, "sendDocument", 2, "pack documents").await;
    let messages = wait_for(&fake, "sendMessage", 2, "pack message and reminder").await;
    let pack = messages
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default())
        .find(|t| t.contains("Evidence pack for"))
        .expect("the pack's message");
    let due_text = chrono::DateTime::from_timestamp(due, 0)
        .unwrap()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    for expected in [
        "dp_hook",
        "$29.00",
        "fraudulent (10.4)",
        due_text.as_str(),
        "qualifies",
    ] {
        assert!(pack.contains(expected), "{expected:?} missing from: {pack}");
    }
    let pdf = &documents[0]["document"];
    assert_eq!(pdf["content_type"], "application/pdf");
    assert!(pdf["content"].as_str().unwrap().starts_with("%PDF-"));
    let json = &documents[1]["document"];
    assert_eq!(json["content_type"], "application/json");
    assert!(
        json["content"]
            .as_str()
            .unwrap()
            .contains(&fixture.disputing.email)
    );
    let reminder = messages
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default())
        .find(|t| t.contains("Evidence due soon"))
        .expect("the reminder");
    assert!(
        reminder.contains("dp_hook") && reminder.contains(".pdf"),
        "{reminder}"
    );

    // Stripe delivers the same event again: nothing more is built or sent.
    let again = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/hooks/stripe"))
        .header(
            "Stripe-Signature",
            format!("t={now},v1={}", signature(SECRET, now, body.as_bytes())),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(fake.calls("sendDocument").len(), 2);
    let reminders = fake
        .calls("sendMessage")
        .iter()
        .filter(|c| {
            c.body["text"]
                .as_str()
                .unwrap_or_default()
                .contains("Evidence due soon")
        })
        .count();
    assert_eq!(reminders, 1, "one reminder per dispute");

    // The operator asks from the chat: the pack comes back as a reply to the command; a
    // customer that does not exist gets a clear line and no documents.
    fake.push_updates(vec![
        serde_json::json!({"update_id": 1, "message": {
            "message_id": 501, "from": {"id": 1, "is_bot": false, "first_name": "O"},
            "chat": {"id": CHAT, "type": "group"}, "date": 0,
            "text": format!("/evidence {}", fixture.disputing.email),
        }}),
        serde_json::json!({"update_id": 2, "message": {
            "message_id": 502, "from": {"id": 1, "is_bot": false, "first_name": "O"},
            "chat": {"id": CHAT, "type": "group"}, "date": 0,
            "text": "/evidence nobody@example.com",
        }}),
    ]);
    let documents = wait_for(&fake, "sendDocument", 4, "documents for /evidence").await;
    assert!(
        documents[2]["document"]["content"]
            .as_str()
            .unwrap()
            .starts_with("%PDF-")
    );
    let messages = wait_for(&fake, "sendMessage", 6, "answers to /evidence").await;
    let answered = messages.iter().find(|m| {
        m["text"]
            .as_str()
            .unwrap_or_default()
            .contains("Evidence pack for")
            && m["reply_parameters"]["message_id"] == 501
    });
    assert!(answered.is_some(), "{messages:#?}");
    let refused = messages.iter().find(|m| {
        m["reply_parameters"]["message_id"] == 502
            && m["text"]
                .as_str()
                .unwrap_or_default()
                .contains("No evidence pack for “nobody@example.com”")
    });
    assert!(refused.is_some(), "{messages:#?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        fake.calls("sendDocument").len(),
        4,
        "no documents for an unknown customer"
    );
}
