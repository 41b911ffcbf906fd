//! The third-party Bot API emulator (npm `telegram-test-api`, v4), installed under
//! `target/telegram-test-api` on first use and started on a loopback port. Its client API
//! (plain JSON POSTs) plays the operator: it sends messages, presses buttons and reads what
//! the bot sent.

use serde_json::{Value, json};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where the emulator is installed (inside the repository's own `target/`).
pub fn install_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/telegram-test-api")
}

fn module_dir() -> PathBuf {
    install_dir().join("node_modules/telegram-test-api")
}

/// Installs the emulator with npm unless it is there already.
pub fn ensure_installed() {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if module_dir().join("package.json").exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
        .arg(install_dir())
        .arg("telegram-test-api@4")
        .status()
        .unwrap_or_else(|e| {
            panic!("these tests need node and npm to install the Telegram emulator (scripts/test.sh installs them): {e}")
        });
    assert!(status.success(), "npm install telegram-test-api@4 failed");
}

/// A running emulator; stopped when dropped (and when the test process exits).
pub struct Emulator {
    child: Child,
    pub port: u16,
    pub token: String,
}

const SCRIPT: &str = r#"
const TelegramServer = require(process.argv[1]);
const server = new TelegramServer({ port: Number(process.argv[2]), host: '127.0.0.1', storeTimeout: 3600 });
server.start().then(() => console.log('ready'));
const parent = Number(process.argv[3]);
setInterval(() => { try { process.kill(parent, 0); } catch (e) { process.exit(0); } }, 500);
"#;

impl Emulator {
    pub fn start(port: u16, token: &str) -> Emulator {
        ensure_installed();
        let child = Command::new("node")
            .arg("-e")
            .arg(SCRIPT)
            .arg(module_dir())
            .arg(port.to_string())
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node must be installed to run the Telegram emulator");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the Telegram emulator did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Emulator {
            child,
            port,
            token: token.to_string(),
        }
    }

    /// The Bot API base URL to configure as `api_url`.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        reqwest::Client::new()
            .post(format!("{}{path}", self.api_url()))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn person(user_id: i64) -> Value {
        json!({"id": user_id, "is_bot": false, "first_name": format!("User{user_id}"), "username": format!("user{user_id}")})
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    /// `user_id` writes `text` in `chat_id`, optionally as a reply to the bot's message.
    pub async fn user_says(&self, user_id: i64, chat_id: i64, text: &str, reply_to: Option<i64>) {
        let mut message = json!({
            "botToken": self.token,
            "from": Self::person(user_id),
            "chat": {"id": chat_id, "type": "group", "title": "ops"},
            "date": Self::now(),
            "text": text,
        });
        if let Some(id) = reply_to {
            message["reply_to_message"] =
                json!({"message_id": id, "chat": {"id": chat_id}, "date": Self::now()});
        }
        let answer = self.post("/sendMessage", message).await;
        assert_eq!(answer["ok"], true, "{answer}");
    }

    /// `user_id` presses a button with `data` under message `message_id` in `chat_id`.
    pub async fn user_presses(&self, user_id: i64, chat_id: i64, message_id: i64, data: &str) {
        let press = json!({
            "botToken": self.token,
            "from": Self::person(user_id),
            "message": {"message_id": message_id, "chat": {"id": chat_id, "type": "group"}, "date": Self::now()},
            "data": data,
            "date": Self::now(),
        });
        let answer = self.post("/sendCallback", press).await;
        assert_eq!(answer["ok"], true, "{answer}");
    }

    /// Messages the bot sent to `chat_id` that were not read yet: (message id, the sent body).
    pub async fn new_bot_messages(&self, chat_id: i64) -> Vec<(i64, Value)> {
        let answer = self
            .post(
                "/getUpdates",
                json!({"token": self.token, "chatId": chat_id}),
            )
            .await;
        answer["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|u| (u["messageId"].as_i64().unwrap(), u["message"].clone()))
            .collect()
    }

    /// Every message the bot sent, as it stands now (edits applied): (message id, body).
    pub async fn bot_history(&self) -> Vec<(i64, Value)> {
        let answer = self
            .post("/getUpdatesHistory", json!({"token": self.token}))
            .await;
        answer["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|u| u["message"].get("chat_id").is_some())
            .map(|u| (u["messageId"].as_i64().unwrap(), u["message"].clone()))
            .collect()
    }

    /// Waits until the bot sent something to `chat_id` whose text contains `needle`; returns
    /// every message read meanwhile (in order) up to and including that one.
    pub async fn wait_for_bot(
        &self,
        chat_id: i64,
        needle: &str,
        within: Duration,
    ) -> Vec<(i64, Value)> {
        let deadline = Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            for (id, message) in self.new_bot_messages(chat_id).await {
                let hit = message["text"].as_str().unwrap_or("").contains(needle);
                seen.push((id, message));
                if hit {
                    return seen;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no bot message containing {needle:?} within {within:?}; saw {seen:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}
