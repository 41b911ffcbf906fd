//! Telegram end to end: pages, buttons, replies and refusals against the third-party Bot API
//! emulator (`telegram-test-api`), and what the emulator cannot stage (429 with retry_after,
//! 5xx, timeouts, shuffled and repeated updates, edits of deleted messages, a rejected token)
//! against the in-repo fake.

mod support;

use chrono::{DateTime, Utc};
use sentinel::alert::notice::{Notice, NoticeKind, NoticeState};
use sentinel::chat::ChatBot;
use sentinel::chat::auth::REFUSED;
use sentinel::clock::{Clock, ManualClock, SharedClock};
use sentinel::config::{Severity, TelegramSpec};
use sentinel::notify::dispatch::{self, Channels, Dispatcher};
use sentinel::notify::telegram::TelegramChannel;
use sentinel::notify::{Channel, DeliveryError};
use sentinel::store::Store;
use sentinel::telemetry::Metrics;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::fake_telegram::{FakeTelegram, Trouble};
use support::telegram_emulator::Emulator;
use support::{Daemon, free_port, sentinel_bin, write_config};

const TOKEN: &str = "123456:test-token";
const CHAT: i64 = 500;
const OPERATOR: i64 = 111;
const STRANGER: i64 = 999;

fn start_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn spec(api_url: &str, timeout: Duration) -> TelegramSpec {
    TelegramSpec {
        bot_token: TOKEN.into(),
        chat_id: CHAT,
        allowed_users: vec![OPERATOR],
        api_url: api_url.into(),
        poll_timeout: Duration::from_secs(1),
        timeout,
    }
}

struct Rig {
    _dir: tempfile::TempDir,
    store: Store,
    clock: ManualClock,
    channel: TelegramChannel,
    dispatcher: Dispatcher,
}

async fn rig(api_url: &str, timeout: Duration) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).await.unwrap();
    let clock = ManualClock::new(start_time());
    let shared: SharedClock = Arc::new(clock.clone());
    let channel =
        TelegramChannel::new(&spec(api_url, timeout), store.clone(), shared.clone()).unwrap();
    let dispatcher = Dispatcher {
        store: store.clone(),
        channels: Channels {
            list: vec![("phone".into(), Channel::Telegram(channel.clone()))],
        },
        metrics: Arc::new(Metrics::new()),
        clock: shared,
    };
    Rig {
        _dir: dir,
        store,
        clock,
        channel,
        dispatcher,
    }
}

fn page(n: usize) -> Notice {
    Notice {
        key: format!("w{n}/firing/#1"),
        kind: NoticeKind::Firing,
        watch: format!("w{n}"),
        subject: String::new(),
        state: NoticeState::Firing,
        severity: Severity::Critical,
        title: format!("Page {n} <didn't> run & stopped"),
        facts: vec![format!("log line {n}: </code><script>_*[")],
        subjects: vec![],
        at: start_time(),
        lasted_seconds: None,
        resolves: None,
    }
}

fn resolution(n: usize) -> Notice {
    Notice {
        key: format!("w{n}/resolved/#1"),
        kind: NoticeKind::Resolved,
        state: NoticeState::Resolved,
        title: format!("Resolved: Page {n}"),
        facts: vec![],
        lasted_seconds: Some(3900),
        resolves: Some(format!("w{n}/firing/#1")),
        ..page(n)
    }
}

impl Rig {
    async fn enqueue(&self, notices: &[Notice]) {
        let mut tx = self.store.write().await.unwrap();
        dispatch::enqueue(
            &mut tx,
            &self.dispatcher.channels,
            notices,
            None,
            false,
            self.clock.now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    fn bot(&self) -> ChatBot {
        ChatBot::new(
            self.channel.clone(),
            &spec("unused", Duration::from_secs(1)),
            vec!["w1".into(), "w2".into()],
        )
    }
}

fn text_of(body: &Value) -> String {
    body["text"].as_str().unwrap_or_default().to_string()
}

fn buttons_of(body: &Value) -> Vec<(String, String)> {
    body["reply_markup"]["inline_keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().clone())
        .map(|b| {
            (
                b["text"].as_str().unwrap().to_string(),
                b["callback_data"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn button(body: &Value, label: &str) -> String {
    buttons_of(body)
        .into_iter()
        .find(|(l, _)| l == label)
        .unwrap()
        .1
}

// --- The in-repo fake -------------------------------------------------------------------

#[tokio::test]
async fn a_429_waits_its_retry_after_a_5xx_backs_off_and_pages_then_arrive_once_in_order() {
    let fake = FakeTelegram::start(TOKEN);
    let rig = rig(&fake.url, Duration::from_secs(5)).await;
    rig.enqueue(&[page(1), page(2)]).await;

    fake.trouble(
        "sendMessage",
        Trouble::Error {
            code: 429,
            description: "Too Many Requests: retry after 3".into(),
            retry_after: Some(3),
        },
    );
    assert_eq!(rig.dispatcher.deliver_due().await.unwrap(), 0);
    rig.clock.advance(Duration::from_secs(2));
    assert!(
        rig.store
            .outbox_head("phone", rig.clock.now())
            .await
            .unwrap()
            .is_none(),
        "retry_after 3 must hold the page for 3 seconds"
    );
    rig.clock.advance(Duration::from_secs(1));
    assert!(
        rig.store
            .outbox_head("phone", rig.clock.now())
            .await
            .unwrap()
            .is_some()
    );

    fake.trouble(
        "sendMessage",
        Trouble::Error {
            code: 502,
            description: "Bad Gateway".into(),
            retry_after: None,
        },
    );
    assert_eq!(rig.dispatcher.deliver_due().await.unwrap(), 0);
    assert_eq!(
        rig.store.outbox_depth().await.unwrap(),
        2,
        "a 5xx loses nothing"
    );
    rig.clock.advance(Duration::from_secs(16 * 60));
    assert_eq!(rig.dispatcher.deliver_due().await.unwrap(), 2);
    assert_eq!(rig.dispatcher.deliver_due().await.unwrap(), 0);

    let sent = fake.calls("sendMessage");
    let texts: Vec<String> = sent.iter().map(|c| text_of(&c.body)).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[0].starts_with("🔴 <b>Page 1 &lt;didn't&gt; run &amp; stopped</b>"),
        "{}",
        texts[0]
    );
    assert!(
        texts[0].contains("log line 1: &lt;/code&gt;&lt;script&gt;_*["),
        "{}",
        texts[0]
    );
    assert!(texts[1].starts_with("🔴 <b>Page 2"), "{}", texts[1]);
    assert_eq!(sent[0].body["parse_mode"], "HTML");
    assert!(
        sent[1].at.duration_since(sent[0].at) >= Duration::from_millis(950),
        "at most one message per second per chat"
    );
    assert_eq!(
        buttons_of(&sent[0].body)
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>(),
        [
            "Investigate",
            "Snooze 1h",
            "Snooze 1d",
            "Mute",
            "Not actionable"
        ]
    );
}

#[tokio::test]
async fn timeouts_retry_and_other_refusals_are_permanent() {
    let fake = FakeTelegram::start(TOKEN);
    let rig = rig(&fake.url, Duration::from_secs(1)).await;
    fake.trouble("sendMessage", Trouble::Slow(Duration::from_secs(3)));
    let started = Instant::now();
    let outcome = rig.channel.deliver(&page(1), None).await;
    assert!(
        matches!(&outcome, Err(DeliveryError::Retry { reason, after: None }) if reason.contains("timed out")),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    fake.trouble(
        "sendMessage",
        Trouble::Error {
            code: 400,
            description: "Bad Request: chat not found".into(),
            retry_after: None,
        },
    );
    let outcome = rig.channel.deliver(&page(2), None).await;
    assert!(
        matches!(&outcome, Err(DeliveryError::Permanent(reason)) if reason.contains("chat not found")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_resolution_edits_its_page_and_a_deleted_page_gets_a_new_message() {
    let fake = FakeTelegram::start(TOKEN);
    let rig = rig(&fake.url, Duration::from_secs(5)).await;
    rig.enqueue(&[page(1), page(2)]).await;
    assert_eq!(rig.dispatcher.deliver_due().await.unwrap(), 2);
    let sent = fake.calls("sendMessage");
    let first_id = 101;
    assert_eq!(
        rig.store
            .outbox_external_id("w1/firing/#1@phone")
            .await
            .unwrap()
            .as_deref(),
        Some(format!("{CHAT}:{first_id}").as_str())
    );
    fake.delete_message(102);

    rig.enqueue(&[resolution(1), resolution(2)]).await;
    assert_eq!(rig.dispatcher.deliver_due().await.unwrap(), 2);
    let edits = fake.calls("editMessageText");
    assert_eq!(edits.len(), 1, "only the page still there is edited");
    assert_eq!(edits[0].body["message_id"], first_id);
    assert_eq!(edits[0].body["chat_id"], CHAT);
    assert!(
        text_of(&edits[0].body).starts_with("✅ <b>Resolved</b> after 1h 5m: Page 1"),
        "{}",
        text_of(&edits[0].body)
    );
    assert_eq!(
        edits[0].body["reply_markup"],
        json!({"inline_keyboard": []})
    );
    let sent_after = fake.calls("sendMessage");
    assert_eq!(
        sent_after.len(),
        sent.len() + 1,
        "the deleted page's resolution is sent anew"
    );
    assert!(text_of(&sent_after[2].body).starts_with("✅ <b>Resolved</b> after 1h 5m: Page 2"));
}

fn callback(update_id: i64, user: i64, chat: i64, data: &str) -> Value {
    json!({"update_id": update_id, "callback_query": {
        "id": format!("cb{update_id}"),
        "from": {"id": user, "is_bot": false, "first_name": "U"},
        "message": {"message_id": 101, "chat": {"id": chat, "type": "group"}, "date": 0},
        "chat_instance": "x",
        "data": data,
    }})
}

fn message(update_id: i64, user: i64, chat: i64, text: &str) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": 1000 + update_id,
        "from": {"id": user, "is_bot": false, "first_name": "U"},
        "chat": {"id": chat, "type": "group"},
        "date": 0,
        "text": text,
    }})
}

async fn snapshot(store: &Store) -> (usize, usize, usize, usize, usize) {
    let now = start_time();
    (
        store.active_silences(now).await.unwrap().len(),
        store.gates().await.unwrap().len(),
        store.investigation_requests().await.unwrap().len(),
        store.verdicts().await.unwrap().len(),
        store.evidence_requests().await.unwrap().len(),
    )
}

#[tokio::test]
async fn strangers_forged_stale_and_malformed_input_is_refused_and_changes_nothing() {
    let fake = FakeTelegram::start(TOKEN);
    let rig = rig(&fake.url, Duration::from_secs(5)).await;
    rig.enqueue(&[page(1)]).await;
    rig.dispatcher.deliver_due().await.unwrap();
    let page_body = fake.calls("sendMessage")[0].body.clone();
    let snooze = button(&page_body, "Snooze 1h");
    let mute = button(&page_body, "Mute");
    let before = snapshot(&rig.store).await;

    let mut edited = message(7, OPERATOR, CHAT, "/mute w1");
    edited["edited_message"] = edited["message"].take();
    edited.as_object_mut().unwrap().remove("message");
    let mut sticker = message(8, OPERATOR, CHAT, "");
    sticker["message"].as_object_mut().unwrap().remove("text");
    sticker["message"]["sticker"] = json!({"file_id": "x"});
    fake.push_updates(vec![
        callback(1, STRANGER, CHAT, &snooze),
        callback(2, OPERATOR, CHAT + 1, &mute),
        callback(3, OPERATOR, CHAT, "0123456789abcdef"),
        callback(4, OPERATOR, CHAT, "mute:w1"),
        message(5, STRANGER, CHAT, "/mute w1"),
        message(6, OPERATOR, CHAT + 1, "/mute w1"),
        edited,
        sticker,
    ]);
    let bot = rig.bot();
    assert_eq!(bot.poll_once().await.unwrap(), 8);

    assert_eq!(snapshot(&rig.store).await, before, "nothing may change");
    let answers = fake.calls("answerCallbackQuery");
    assert_eq!(answers.len(), 4, "every press is answered");
    assert!(answers.iter().all(|a| a.body["text"] == REFUSED));
    let replies: Vec<(i64, String)> = fake.calls("sendMessage")[1..]
        .iter()
        .map(|c| (c.body["chat_id"].as_i64().unwrap(), text_of(&c.body)))
        .collect();
    assert_eq!(
        replies,
        vec![
            (CHAT, REFUSED.to_string()),
            (CHAT + 1, REFUSED.to_string()),
            (CHAT, REFUSED.to_string()),
        ],
        "one fixed line each for the stranger, the other chat and the edit; nothing for a sticker"
    );
}

#[tokio::test]
async fn buttons_and_commands_from_the_operator_silence_judge_and_record() {
    let fake = FakeTelegram::start(TOKEN);
    let rig = rig(&fake.url, Duration::from_secs(5)).await;
    rig.enqueue(&[page(1)]).await;
    rig.dispatcher.deliver_due().await.unwrap();
    let body = fake.calls("sendMessage")[0].body.clone();
    fake.push_updates(vec![
        callback(1, OPERATOR, CHAT, &button(&body, "Snooze 1h")),
        callback(2, OPERATOR, CHAT, &button(&body, "Not actionable")),
        message(3, OPERATOR, CHAT, "/snooze w2 2h"),
        message(4, OPERATOR, CHAT, "/snooze nope 2h"),
        message(5, OPERATOR, CHAT, "/evidence ACME <Corp>"),
        message(6, OPERATOR, CHAT, "/status"),
        message(7, OPERATOR, CHAT, "/unmute w1"),
    ]);
    let bot = rig.bot();
    assert_eq!(bot.poll_once().await.unwrap(), 7);

    let now = start_time();
    let gates: Vec<String> = rig
        .store
        .gates()
        .await
        .unwrap()
        .into_iter()
        .map(|g| format!("{} {} {}", g.actor, g.action, g.target))
        .collect();
    assert_eq!(
        gates,
        [
            "telegram:111 snooze_1h w1/firing/#1",
            "telegram:111 not_actionable w1/firing/#1",
            "telegram:111 snooze w2",
            "telegram:111 evidence ACME <Corp>",
            "telegram:111 unmute w1",
        ]
    );
    assert_eq!(rig.store.verdicts().await.unwrap()[0].1, "not_actionable");
    assert_eq!(
        rig.store.evidence_requests().await.unwrap(),
        ["ACME <Corp>"]
    );
    let silences = rig.store.active_silences(now).await.unwrap();
    assert_eq!(
        silences.len(),
        1,
        "w1's snooze and mute are lifted, w2's snooze stays: {silences:?}"
    );
    assert_eq!(silences[0].watch, "w2");
    assert_eq!(silences[0].until, Some(now + chrono::Duration::hours(2)));

    let replies: Vec<String> = fake.calls("sendMessage")[1..]
        .iter()
        .map(|c| text_of(&c.body))
        .collect();
    assert!(
        replies[0].starts_with("😴 Snoozed 1h by telegram:111"),
        "{}",
        replies[0]
    );
    assert!(replies[1].starts_with("🗑 Not actionable"), "{}", replies[1]);
    assert!(
        replies[3].starts_with("No watch named “nope”. Watches: w1, w2"),
        "{}",
        replies[3]
    );
    assert!(
        replies[4].contains("ACME &lt;Corp&gt;")
            && replies[4].starts_with("📁 Building the evidence pack"),
        "{}",
        replies[4]
    );
    assert!(
        replies[5].contains("<b>Muted</b>\n• w1") && replies[5].contains("<b>Snoozed</b>\n• w1"),
        "{}",
        replies[5]
    );
    let answers: Vec<String> = fake
        .calls("answerCallbackQuery")
        .iter()
        .map(|c| c.body["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        answers,
        ["Snoozed for 1h", "Marked not actionable and muted"]
    );
}

#[tokio::test]
async fn repeated_and_shuffled_updates_are_handled_once_in_order() {
    let fake = FakeTelegram::start(TOKEN);
    let rig = rig(&fake.url, Duration::from_secs(5)).await;
    fake.push_updates(vec![
        message(12, OPERATOR, CHAT, "/investigate second"),
        message(11, OPERATOR, CHAT, "/investigate first"),
        message(12, OPERATOR, CHAT, "/investigate second"),
    ]);
    fake.push_updates(vec![
        message(11, OPERATOR, CHAT, "/investigate first"),
        message(13, OPERATOR, CHAT, "/investigate third"),
    ]);
    let bot = rig.bot();
    assert_eq!(bot.poll_once().await.unwrap(), 2);
    assert_eq!(bot.poll_once().await.unwrap(), 1);
    let questions: Vec<String> = rig
        .store
        .investigation_requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.question)
        .collect();
    assert_eq!(questions, ["first", "second", "third"]);
    let polls = fake.calls("getUpdates");
    assert_eq!(polls[0].body["offset"], 0);
    assert_eq!(
        polls[1].body["offset"], 13,
        "the offset moves past what was handled"
    );
    // A restarted loop resumes from the stored offset.
    assert_eq!(rig.bot().poll_once().await.unwrap(), 0);
    assert_eq!(fake.calls("getUpdates").last().unwrap().body["offset"], 14);
}

#[test]
fn a_rejected_bot_token_stops_start_up_naming_the_setting_an_unreachable_api_does_not() {
    let fake = FakeTelegram::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let path = write_config(
        dir.path(),
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"{}/s.db\"\n[channels.phone]\nkind = \"telegram\"\nbot_token = \"${{TELEGRAM_BOT_TOKEN}}\"\nchat_id = {CHAT}\nallowed_users = [{OPERATOR}]\napi_url = \"{}\"\n",
            dir.path().display(),
            fake.url
        ),
    );
    let out = assert_cmd::Command::new(sentinel_bin())
        .args(["run", "--config"])
        .arg(&path)
        .env("TELEGRAM_BOT_TOKEN", "999:wrong")
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("telegram bot_token is rejected by the Bot API: check TELEGRAM_BOT_TOKEN"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("999:wrong"),
        "the token must never be printed: {stderr}"
    );
}

// --- The emulator ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_through_the_emulator_page_tap_reply_and_a_stranger() {
    let emulator = Emulator::start(free_port(), TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let db = dir.path().join("s.db");
    std::fs::create_dir(dir.path().join("backups")).unwrap();
    let path = write_config(
        dir.path(),
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"{db}\"\n[engine]\ninterval = \"1s\"\n\
             [watches.backup-file]\nkind = \"freshness\"\ndescription = \"Backup file\"\npath = \"{dir}/backups/*.sql.gz\"\nmax_age = \"1h\"\n\
             [channels.phone]\nkind = \"telegram\"\nbot_token = \"${{TELEGRAM_BOT_TOKEN}}\"\nchat_id = {CHAT}\nallowed_users = [{OPERATOR}]\napi_url = \"{api}\"\npoll_timeout = \"1s\"\n",
            db = db.display(),
            dir = dir.path().display(),
            api = emulator.api_url(),
        ),
    );
    let _daemon = Daemon::start_with_env(&path, port, &[("TELEGRAM_BOT_TOKEN", TOKEN)]);
    let wait = Duration::from_secs(20);

    // The page arrives.
    let seen = emulator.wait_for_bot(CHAT, "Backup file", wait).await;
    let (page_id, page) = seen.last().unwrap().clone();
    assert!(
        text_of(&page).starts_with("🟠 <b>Backup file: no file matches"),
        "{page}"
    );
    assert_eq!(buttons_of(&page).len(), 5);

    // Investigate: acknowledged, recorded, run beside the loop, and answered as a reply to
    // the page: a progress message closed when done, then the report with its buttons.
    emulator
        .user_presses(OPERATOR, CHAT, page_id, &button(&page, "Investigate"))
        .await;
    emulator
        .wait_for_bot(CHAT, "Investigation #1 requested", wait)
        .await;
    let seen = emulator
        .wait_for_bot(CHAT, "<b>Investigation #1</b>", wait)
        .await;
    let (report_id, report) = seen.last().unwrap().clone();
    let text = text_of(&report);
    assert!(text.contains("<b>Verdict: action needed</b>"), "{text}");
    assert!(text.contains("E1 · store"), "{text}");
    assert_eq!(
        report["reply_parameters"]["message_id"], page_id,
        "{report}"
    );
    let labels: Vec<String> = buttons_of(&report).into_iter().map(|(l, _)| l).collect();
    assert_eq!(labels, ["Ask more", "Not actionable"]);
    let progress = seen
        .iter()
        .find(|(_, m)| text_of(m).starts_with("🔎 Investigating #1"))
        .map(|(id, _)| *id)
        .expect("a progress message");
    // The progress message is closed once the report is out.
    let deadline = std::time::Instant::now() + wait;
    loop {
        let history = emulator.bot_history().await;
        let (_, now) = history.iter().find(|(id, _)| *id == progress).unwrap();
        if text_of(now).starts_with("✅ Investigation #1 finished") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{now}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let store = Store::open(&db).await.unwrap();
    let requests = store.investigation_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].watch.as_deref(), Some("backup-file"));
    assert!(requests[0].requested_by.starts_with("telegram:111"));
    assert_eq!(requests[0].status, "done");
    assert!(store.report(1).await.unwrap().is_some());

    // A reply to the page: an approved question about that alert, answered in turn.
    emulator
        .user_says(
            OPERATOR,
            CHAT,
            "Did the cron job run at all?",
            Some(page_id),
        )
        .await;
    emulator
        .wait_for_bot(CHAT, "Did the cron job run at all?", wait)
        .await;
    emulator
        .wait_for_bot(CHAT, "<b>Investigation #2</b>", wait)
        .await;
    let requests = store.investigation_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].question, "Did the cron job run at all?");
    assert_eq!(requests[1].watch.as_deref(), Some("backup-file"));
    assert!(
        requests[1]
            .notice_key
            .as_deref()
            .unwrap()
            .starts_with("backup-file/firing/")
    );

    // A reply to the first report: a follow-up of that investigation, answered as a reply
    // to the report.
    emulator
        .user_says(OPERATOR, CHAT, "And before that?", Some(report_id))
        .await;
    emulator
        .wait_for_bot(CHAT, "Follow-up #3 of investigation #1", wait)
        .await;
    let seen = emulator
        .wait_for_bot(CHAT, "<b>Investigation #3</b>", wait)
        .await;
    let (_, follow_up) = seen.last().unwrap();
    assert_eq!(follow_up["reply_parameters"]["message_id"], report_id);
    let thread = store.chat_thread(3).await.unwrap();
    assert_eq!(thread.follows_up, Some(1));

    // A stranger's taps and commands: refused, nothing changes.
    let before = snapshot(&store).await;
    emulator
        .user_presses(STRANGER, CHAT, page_id, &button(&page, "Mute"))
        .await;
    emulator
        .user_says(STRANGER, CHAT, "/mute backup-file", None)
        .await;
    emulator.wait_for_bot(CHAT, "Not allowed", wait).await;
    // Updates are handled in order: once /status is answered, the stranger's were handled.
    emulator.user_says(OPERATOR, CHAT, "/status", None).await;
    let status = emulator.wait_for_bot(CHAT, "Firing", wait).await;
    let status = text_of(&status.last().unwrap().1);
    assert!(
        status.contains("backup-file") && status.contains("<b>Muted</b>: none"),
        "{status}"
    );
    assert_eq!(snapshot(&store).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_down_for_an_hour_then_every_page_arrives_once_in_order() {
    let port = free_port();
    let mut emulator = Emulator::start(port, TOKEN);
    let rig = rig(&emulator.api_url(), Duration::from_secs(2)).await;
    assert!(rig.channel.check_token().await.unwrap().is_some());
    emulator.stop();

    rig.enqueue(&[page(1), page(2), page(3), page(4)]).await;
    for _ in 0..4 {
        assert_eq!(rig.dispatcher.deliver_due().await.unwrap(), 0);
        rig.clock.advance(Duration::from_secs(15 * 60));
    }
    assert_eq!(
        rig.store.outbox_depth().await.unwrap(),
        4,
        "nothing is lost while it is down"
    );

    let emulator = Emulator::start(port, TOKEN);
    rig.clock.advance(Duration::from_secs(16 * 60));
    let mut delivered = 0;
    for _ in 0..5 {
        delivered += rig.dispatcher.deliver_due().await.unwrap();
        rig.clock.advance(Duration::from_secs(60));
    }
    assert_eq!(delivered, 4);
    let received: Vec<String> = emulator
        .new_bot_messages(CHAT)
        .await
        .into_iter()
        .map(|(_, m)| text_of(&m))
        .collect();
    assert_eq!(received.len(), 4, "{received:#?}");
    for (i, text) in received.iter().enumerate() {
        assert!(text.starts_with(&format!("🔴 <b>Page {}", i + 1)), "{text}");
    }
    assert_eq!(rig.dispatcher.deliver_due().await.unwrap(), 0);
    assert!(
        emulator.new_bot_messages(CHAT).await.is_empty(),
        "nothing is sent twice"
    );
}

#[tokio::test]
async fn a_page_longer_than_telegram_allows_is_split_on_lines_with_buttons_on_the_first_part() {
    let fake = FakeTelegram::start(TOKEN);
    let rig = rig(&fake.url, Duration::from_secs(5)).await;
    let mut long = page(1);
    long.facts = (0..5)
        .map(|i| format!("{i} {}", "a&b ".repeat(240)))
        .collect();
    rig.enqueue(&[long]).await;
    assert_eq!(rig.dispatcher.deliver_due().await.unwrap(), 1);
    let sent = fake.calls("sendMessage");
    assert_eq!(
        sent.len(),
        3,
        "about 9,700 characters once escaped: three messages"
    );
    let parts: Vec<String> = sent.iter().map(|c| text_of(&c.body)).collect();
    for part in &parts {
        assert!(part.encode_utf16().count() <= 4096);
    }
    assert!(parts[0].starts_with("🔴 <b>Page 1"));
    assert!(parts[0].ends_with(" a&amp;b "), "parts end at line ends");
    assert!(parts[1].starts_with("2 a&amp;b"), "{:.40}", parts[1]);
    assert!(parts[2].starts_with("4 a&amp;b"), "{:.40}", parts[2]);
    assert_eq!(buttons_of(&sent[0].body).len(), 5);
    assert!(sent[1].body.get("reply_markup").is_none());
    assert!(sent[2].body.get("reply_markup").is_none());
    assert_eq!(
        rig.store
            .outbox_external_id("w1/firing/#1@phone")
            .await
            .unwrap()
            .as_deref(),
        Some(format!("{CHAT}:101").as_str()),
        "the page is known by its first part"
    );
    // A reply to any part has the alert as context.
    for id in [101, 102, 103] {
        let page = rig.store.page_message(CHAT, id).await.unwrap().unwrap();
        assert_eq!(page.notice_key, "w1/firing/#1");
    }
}

#[tokio::test]
async fn a_report_too_long_for_one_message_arrives_short_with_the_whole_report_attached() {
    use sentinel::investigate::finding::{Classification, Finding, Hypothesis, Verdict};
    use sentinel::investigate::report::{Cost, Reasoning, Report};
    use sentinel::investigate::telegram::ChatReports;
    use sentinel::store::operator::About;

    let fake = FakeTelegram::start(TOKEN);
    let rig = rig(&fake.url, Duration::from_secs(5)).await;
    let now = rig.clock.now();
    let id = rig
        .store
        .add_investigation_request(
            "telegram:111",
            About {
                watch: Some("shop-api"),
                subjects: &["POST /api/cart".to_string()],
                notice_key: Some("shop-api/firing/POST /api/cart#1"),
            },
            "why <500>?",
            now,
        )
        .await
        .unwrap();
    rig.store.set_chat_thread(id, Some(77), None).await.unwrap();
    let request = rig.store.claim_investigation(now).await.unwrap().unwrap();

    let mut finding = Finding::open("POST /api/cart answers bad input with 500 & a stack trace");
    finding.verdict = Verdict::ActionNeeded;
    finding.classification = Classification::DurableCodeBug;
    for n in 0..40 {
        finding.evidence.add(
            "search_logs",
            None,
            format!("pattern {n}"),
            &format!("line {n} <b>not markup</b>\n").repeat(60),
            now,
        );
    }
    finding.hypotheses.push(Hypothesis::known(
        "The parser panics on empty bodies",
        &["E1"],
    ));
    let report = Report {
        request_id: request.id,
        question: request.question.clone(),
        asked_by: request.requested_by.clone(),
        title: "Cart answers bad input with 500".into(),
        watch: Some("shop-api".into()),
        subjects: vec!["POST /api/cart".into()],
        finding,
        reasoning: Reasoning::Offline {
            why: "no model configured".into(),
        },
        started_at: now,
        finished_at: now,
        cost: Cost::default(),
    };
    let chat = ChatReports {
        channel: rig.channel.clone(),
    };
    let message = chat.finish(None, &request, &report).await.unwrap();

    let sent = fake.calls("sendMessage");
    assert_eq!(sent.len(), 1);
    let body = &sent[0].body;
    let text = text_of(body);
    assert!(text.chars().count() <= 4096, "{}", text.chars().count());
    assert!(
        text.contains("&lt;b&gt;not markup&lt;/b&gt;"),
        "escaped: {text}"
    );
    assert!(text.contains("is attached"), "{text}");
    assert_eq!(
        body["reply_parameters"]["message_id"], 77,
        "a reply to the question"
    );
    let labels: Vec<String> = buttons_of(body).into_iter().map(|(l, _)| l).collect();
    assert_eq!(labels, ["Ask more", "Not actionable", "Open issue + fix"]);

    let documents = fake.calls("sendDocument");
    assert_eq!(documents.len(), 1);
    let document = &documents[0].body;
    assert_eq!(
        document["document"]["filename"],
        format!("investigation-{}.md", request.id)
    );
    let markdown = document["document"]["content"].as_str().unwrap();
    assert!(markdown.starts_with(&format!("# Investigation #{}", request.id)));
    assert!(
        markdown.contains("### E40: search_logs"),
        "every item is in the document"
    );
    let replied: Value =
        serde_json::from_str(document["reply_parameters"].as_str().unwrap()).unwrap();
    assert_eq!(
        replied["message_id"], message,
        "the document replies to the report"
    );
    assert_eq!(
        rig.store.request_of_report_message(message).await.unwrap(),
        Some(request.id),
        "a reply to the report is a follow-up of this request"
    );
}
