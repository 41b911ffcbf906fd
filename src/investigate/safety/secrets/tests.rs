//! One test per secret format, each with a realistic (made-up) sample and a near miss that must
//! stay; a property test that a known secret never survives, wherever it stands.

use crate::investigate::safety::SecretScanner;
use crate::investigate::safety::secrets::{Redacted, SecretKind};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const URL_SAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX: &str = "0123456789abcdef";

/// A made-up token: `n` characters of `alphabet`, the same for the same seed.
fn made_up(alphabet: &str, n: usize, seed: u64) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chars[(state % chars.len() as u64) as usize]
        })
        .collect()
}

fn redact(text: &str) -> Redacted {
    SecretScanner::new(Vec::new()).redact(text)
}

/// Asserts that `secret`, inside `line`, is replaced by the marker of `kind` and that the rest
/// of the line is kept.
fn assert_redacted(line: &str, secret: &str, kind: SecretKind) {
    let out = redact(line);
    assert!(!out.text.contains(secret), "{secret} leaked: {}", out.text);
    assert_eq!(
        out.text,
        line.replacen(secret, &kind.marker(), 1),
        "from: {line}"
    );
    assert_eq!(out.found, vec![(kind, 1)], "{line}");
}

fn assert_kept(line: &str) {
    let out = redact(line);
    assert_eq!(out.text, line);
    assert!(out.found.is_empty(), "{:?}", out.found);
}

#[test]
fn anthropic_keys() {
    let key = format!("sk-ant-api03-{}AA", made_up(URL_SAFE, 93, 1));
    assert_redacted(
        &format!("client init failed: key={key} rejected (401)"),
        &key,
        SecretKind::AnthropicKey,
    );
    let admin = format!("sk-ant-admin01-{}AA", made_up(URL_SAFE, 93, 2));
    assert_redacted(
        &format!("export X={admin}"),
        &admin,
        SecretKind::AnthropicKey,
    );
    // Too short to be a key: an ordinary flag.
    assert_kept("sk-ant-api03-short");
}

#[test]
fn openai_keys() {
    let legacy = format!(
        "sk-{}T3BlbkFJ{}",
        made_up(ALNUM, 20, 3),
        made_up(ALNUM, 20, 4)
    );
    assert_redacted(
        &format!("openai.api_key set from env: {legacy}"),
        &legacy,
        SecretKind::OpenAiKey,
    );
    let project = format!("sk-proj-{}", made_up(URL_SAFE, 120, 5));
    assert_redacted(
        &format!("curl https://api.openai.com/v1/models -H 'x: {project}'"),
        &project,
        SecretKind::OpenAiKey,
    );
    // `sk-` inside a word, and a kebab-case name without digits.
    assert_kept("worker task-queue-processing-worker-17 started");
    assert_kept("using sk-learn-preprocessing-pipeline-stages now");
}

#[test]
fn aws_access_key_ids_and_secret_keys() {
    let id = format!("AKIA{}", made_up(UPPER_DIGITS, 16, 6));
    assert_redacted(
        &format!("signing request with {id} for s3"),
        &id,
        SecretKind::AwsAccessKeyId,
    );
    let session = format!("ASIA{}", made_up(UPPER_DIGITS, 16, 7));
    assert_redacted(
        &format!("\"AccessKeyId\": \"{session}\""),
        &session,
        SecretKind::AwsAccessKeyId,
    );
    let secret = made_up(&format!("{ALNUM}/+"), 40, 8);
    assert_redacted(
        &format!("aws_secret_access_key = {secret}\nregion = eu-west-1"),
        &secret,
        SecretKind::AwsSecretKey,
    );
    // Inside a longer upper-case word it is not a key id.
    assert_kept("XAKIAABCDEFGHIJKLMNOP");
}

#[test]
fn github_tokens() {
    for (prefix, seed) in [("ghp_", 9), ("gho_", 10), ("ghs_", 11), ("ghu_", 12)] {
        let token = format!("{prefix}{}", made_up(ALNUM, 36, seed));
        assert_redacted(
            &format!("remote: https://x-access-token:{token}@github.com/acme/shop.git"),
            &token,
            SecretKind::GithubToken,
        );
    }
    let fine_grained = format!("github_pat_{}", made_up(&format!("{ALNUM}_"), 82, 13));
    assert_redacted(
        &format!("GITHUB_TOKEN {fine_grained}"),
        &fine_grained,
        SecretKind::GithubToken,
    );
    assert_kept("ghp_short is not a token");
}

#[test]
fn slack_tokens_and_webhooks() {
    let bot = format!(
        "xoxb-{}-{}-{}",
        made_up("0123456789", 12, 14),
        made_up("0123456789", 13, 15),
        made_up(ALNUM, 24, 16)
    );
    assert_redacted(
        &format!("slack: posting as {bot}"),
        &bot,
        SecretKind::SlackToken,
    );
    let path = format!(
        "T{}/B{}/{}",
        made_up(UPPER_DIGITS, 8, 17),
        made_up(UPPER_DIGITS, 10, 18),
        made_up(ALNUM, 24, 19)
    );
    assert_redacted(
        &format!("POST https://hooks.slack.com/services/{path} 200"),
        &path,
        SecretKind::SlackToken,
    );
    assert_kept("xoxo hugs");
}

#[test]
fn stripe_keys() {
    for (prefix, seed) in [
        ("sk_live_", 20),
        ("rk_live_", 21),
        ("sk_test_", 22),
        ("whsec_", 23),
    ] {
        let key = format!("{prefix}{}", made_up(ALNUM, 32, seed));
        assert_redacted(
            &format!("stripe client {key} loaded"),
            &key,
            SecretKind::StripeKey,
        );
    }
    // Publishable keys are public.
    assert_kept("pk_live_51Hq is public");
}

#[test]
fn google_api_keys() {
    let key = format!("AIza{}", made_up(URL_SAFE, 35, 24));
    assert_redacted(
        &format!("GET /maps/api/geocode/json?address=x&key={key} 403"),
        &key,
        SecretKind::GoogleApiKey,
    );
    assert_kept("AIzaShortValue stays");
}

#[test]
fn telegram_bot_tokens() {
    let token = format!("7012345678:AA{}", made_up(URL_SAFE, 33, 25));
    assert_redacted(
        &format!("POST https://api.telegram.org/bot{token}/sendMessage 429"),
        &token,
        SecretKind::TelegramBotToken,
    );
    // A clock time and a ratio are not tokens.
    assert_kept("took 1234567890:12 ratio 20261124:103000");
}

#[test]
fn jwts() {
    let header = STANDARD
        .encode(r#"{"alg":"HS256","typ":"JWT"}"#)
        .trim_end_matches('=')
        .to_string();
    let payload = STANDARD
        .encode(r#"{"sub":"1234567890","name":"x","iat":1516239022}"#)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_");
    let jwt = format!("{header}.{payload}.{}", made_up(URL_SAFE, 43, 26));
    assert_redacted(
        &format!("session restored from {jwt} for user 17"),
        &jwt,
        SecretKind::Jwt,
    );
    assert_kept("version eyJ.1.2 of the schema");
}

#[test]
fn pem_private_key_blocks_go_whole() {
    let body: Vec<String> = (0..5).map(|i| made_up(ALNUM, 64, 30 + i)).collect();
    let block = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
        body.join("\n")
    );
    let text = format!("loaded key:\n{block}\nlistening on :8443");
    let out = redact(&text);
    assert_eq!(
        out.text,
        "loaded key:\n[REDACTED:private_key]\nlistening on :8443"
    );
    // A block the text cuts off is redacted to the end.
    let cut = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n{}",
        body[0], body[1]
    );
    assert_eq!(
        redact(&format!("dump: {cut}")).text,
        "dump: [REDACTED:private_key]"
    );
    // A public key is no private key (its body, random-looking, may still go as a token).
    let public = redact("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----");
    assert_eq!(
        public.text,
        "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"
    );
}

#[test]
fn passwords_in_urls_keep_the_user_and_host() {
    let out = redact(
        "connecting to postgres://shop_app:Sup3r-S3cret@db.internal:5432/shop?sslmode=require",
    );
    assert_eq!(
        out.text,
        "connecting to postgres://shop_app:[REDACTED:password]@db.internal:5432/shop?sslmode=require"
    );
    // A password holding `@`, `/` and `:` is taken whole.
    let out = redact("REDIS_URL=redis://:p@ss/w:rd@cache-1:6379/0 ok");
    assert_eq!(
        out.text,
        "REDIS_URL=redis://:[REDACTED:password]@cache-1:6379/0 ok"
    );
    assert_kept("GET https://shop.example.com:443/orders/17 200");
    assert_kept("mailto:orders@shop");
}

#[test]
fn passwords_in_key_value_connection_strings() {
    assert_redacted(
        "dsn: host=db port=5432 user=shop password=Tr0ub4dor&3 dbname=shop",
        "Tr0ub4dor&3",
        SecretKind::Credential,
    );
    assert_redacted(
        "GET /login?user=bo&password=hunter2&next=/cart 302",
        "hunter2",
        SecretKind::Credential,
    );
    assert_redacted(
        "env PGPASSWORD=hunter2hunter2 psql -h db",
        "hunter2hunter2",
        SecretKind::Credential,
    );
    assert_redacted(
        "Server=db;Database=shop;User Id=sa;Pwd=Winter2026!;",
        "Winter2026!",
        SecretKind::Credential,
    );
}

#[test]
fn credentials_in_key_value_and_json() {
    for (line, secret) in [
        ("api_key=abc123def456 region=eu", "abc123def456"),
        (
            r#"{"user":"bo","client_secret":"s3cr3t \"quoted\" value"}"#,
            r#"s3cr3t \"quoted\" value"#,
        ),
        ("  token: tok_live_998877\n", "tok_live_998877"),
        ("accessToken => 'Zm9vYmFy'", "Zm9vYmFy"),
        ("set session_id=4f1d2e9a; path=/", "4f1d2e9a"),
        (r#"payload={\"password\":\"opensesame\"}"#, "opensesame"),
        (
            "DB_PASSWORD: \"correct horse battery staple\"",
            "correct horse battery staple",
        ),
        ("private_key = 'k-1-2-3'", "k-1-2-3"),
    ] {
        assert_redacted(line, secret, SecretKind::Credential);
    }
    // Counts, nulls, booleans, references and placeholders are not credentials.
    for line in [
        "prompt_tokens=1200 completion_tokens=80",
        "token_type: Bearer expires_in=3600",
        "session_timeout=30 author=Bob",
        r#"{"password": null, "token": "", "secret": false}"#,
        "password = ${DB_PASSWORD}",
        "api_key: <email-1>",
        "password=[REDACTED:known_secret]",
    ] {
        assert_kept(line);
    }
}

#[test]
fn authorization_and_cookie_headers() {
    let bearer = made_up(URL_SAFE, 40, 40);
    let out = redact(&format!("> Authorization: Bearer {bearer}\n> Accept: */*"));
    assert_eq!(
        out.text,
        "> Authorization: [REDACTED:authorization]\n> Accept: */*"
    );
    let basic = STANDARD.encode("admin:letmein1");
    assert_redacted(
        &format!("proxy sent basic {basic} upstream"),
        &basic,
        SecretKind::Authorization,
    );
    let out = redact("Cookie: _shop_session=abc; csrf=def\nHost: shop");
    assert_eq!(out.text, "Cookie: [REDACTED:authorization]\nHost: shop");
    assert_kept("bearer tokens expire; basic authentication is off");
}

#[test]
fn card_numbers_pass_luhn() {
    for (line, card) in [
        (
            "charge card 4111 1111 1111 1111 exp 12/29",
            "4111 1111 1111 1111",
        ),
        ("card=5555-5555-5555-4444;", "5555-5555-5555-4444"),
        ("amex 378282246310005 declined", "378282246310005"),
        ("order 2024 4111111111111111", "4111111111111111"),
    ] {
        assert_redacted(line, card, SecretKind::CardNumber);
    }
    // A 16-digit order id that fails Luhn, a millisecond timestamp, a long id.
    assert_kept("order 4111111111111112 shipped");
    assert_kept("at 1764950400002 ms");
    assert_kept("trace 41111111111111110000000000");
}

#[test]
fn long_random_tokens() {
    let mixed = made_up(ALNUM, 40, 41);
    assert_redacted(
        &format!("internal call with {mixed} failed"),
        &mixed,
        SecretKind::Token,
    );
    let lower = made_up("abcdefghijklmnopqrstuvwxyz0123456789", 32, 42);
    assert_redacted(&format!("invite {lower} used"), &lower, SecretKind::Token);
    let hex64 = made_up(HEX, 64, 43);
    assert_redacted(
        &format!("webhook secret {hex64}"),
        &hex64,
        SecretKind::Token,
    );
    let hex32 = made_up(HEX, 32, 44);
    assert_redacted(&format!("ping /p/{hex32}"), &hex32, SecretKind::Token);
}

#[test]
fn near_misses_stay() {
    let commit = made_up(HEX, 40, 45);
    for line in [
        "request 550e8400-e29b-41d4-a716-446655440000 failed".to_string(),
        format!("deployed commit {commit} to production"),
        "2026-11-24T10:04:00.123456Z ERROR request_id=1a6c67719c591cb3 timeout".to_string(),
        format!("layer sha256:{}", made_up(HEX, 64, 46)),
        format!("etag \"md5:{}\"", made_up(HEX, 32, 47)),
        "order 4111111111111112 shipped".to_string(),
        // base64 of ordinary words.
        format!(
            "note={}",
            STANDARD.encode("The quick brown fox jumps over the lazy dog")
        ),
        "at com_example_service_OrderHandler2Impl.handle(OrderHandler.java:42)".to_string(),
        "ThisIsAnOrdinaryCamelCaseIdentifier1 called".to_string(),
        "open /home/User/Projects/MyApp2/src/main.rs".to_string(),
        "GET_/api/v2/Orders/12345/Items/67890/Details".to_string(),
        "pod app-7d9f8b6c5d-x2k4m-container-log-2024 restarted".to_string(),
        "MAX_CONNECTIONS_PER_HOST_EXCEEDED_ERROR raised".to_string(),
        "0000000000000000000000000000000000000000000000".to_string(),
    ] {
        assert_kept(&line);
    }
}

#[test]
fn base64_that_decodes_to_text_holding_a_secret_is_redacted() {
    let inner = format!(
        "config dump with key sk-ant-api03-{}AA inside",
        made_up(URL_SAFE, 93, 48)
    );
    let blob = STANDARD.encode(&inner);
    assert_redacted(&format!("data: {blob}"), &blob, SecretKind::Token);
}

#[test]
fn known_secrets_go_whatever_their_format() {
    let scanner = SecretScanner::new(vec![
        "plain words are the password".to_string(),
        "db-pass/with+chars".to_string(),
        String::new(),
    ]);
    let out = scanner.redact(
        "said plain words are the password; url=db-pass%2Fwith%2Bchars; b64=ZGItcGFzcy93aXRoK2NoYXJz",
    );
    assert_eq!(
        out.text,
        "said [REDACTED:known_secret]; url=[REDACTED:known_secret]; b64=[REDACTED:known_secret]"
    );
    assert_eq!(out.found, vec![(SecretKind::Known, 3)]);
}

#[test]
fn hidden_characters_cannot_split_a_secret() {
    let key = format!("sk-ant-api03-{}AA", made_up(URL_SAFE, 93, 49));
    let (head, tail) = key.split_at(30);
    let hidden = format!("key {head}\u{200b}\u{1b}[0m{tail} end");
    let out = redact(&hidden);
    assert_eq!(out.text, "key [REDACTED:anthropic_key] end");
}

#[test]
fn placeholders_and_markers_are_left_alone() {
    let text = "user <email-1> from <ip-2> sent [REDACTED:jwt] and [REDACTED:card_number]";
    assert_kept(text);
    let once = redact("password=hunter22 token sk_live_abcdefghijklmnop1234");
    assert_eq!(redact(&once.text).text, once.text);
}

#[test]
fn overlapping_findings_are_one_redaction_named_by_the_most_specific_kind() {
    let key = format!("sk-ant-api03-{}AA", made_up(URL_SAFE, 93, 50));
    // The key is also a credential's value: one marker, the key's kind.
    let out = redact(&format!("ANTHROPIC_API_KEY={key}"));
    assert_eq!(out.text, "ANTHROPIC_API_KEY=[REDACTED:anthropic_key]");
    assert_eq!(out.found, vec![(SecretKind::AnthropicKey, 1)]);
}

/// The ways a log line may hold a value: bare, quoted, after `=` or `: `, JSON-escaped,
/// URL-encoded.
fn formatted(secret: &str, style: u8) -> (String, String) {
    let json = serde_json::to_string(secret).unwrap_or_default();
    let encoded: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    match style % 7 {
        0 => (secret.to_string(), secret.to_string()),
        1 => (format!("\"{secret}\""), secret.to_string()),
        2 => (format!("'{secret}'"), secret.to_string()),
        3 => (format!("value={secret}"), secret.to_string()),
        4 => (format!("note: {secret}"), secret.to_string()),
        5 => (
            format!("{{\"v\":{json}}}"),
            json.trim_matches('"').to_string(),
        ),
        _ => (format!("q={encoded}&x=1"), encoded),
    }
}

proptest! {
    #[test]
    fn a_known_secret_never_survives(
        secret in "[A-Za-z0-9_+/=.@!#%*-]{8,40}",
        line in "\\PC{0,80}",
        at in any::<prop::sample::Index>(),
        style in 0u8..7,
    ) {
        let scanner = SecretScanner::new(vec![secret.clone()]);
        let (piece, form) = formatted(&secret, style);
        let bounds: Vec<usize> = line
            .char_indices()
            .map(|(i, _)| i)
            .chain([line.len()])
            .collect();
        let split = bounds[at.index(bounds.len())];
        let line = format!("{}{piece}{}", &line[..split], &line[split..]);
        let out = scanner.redact(&line).text;
        prop_assert!(!out.contains(&secret), "secret in {out:?}");
        prop_assert!(!out.contains(&form), "{form} in {out:?}");
    }
}
