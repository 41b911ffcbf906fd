//! Always-on secret redaction. Finds and replaces with `[REDACTED:<kind>]`: API keys of
//! well-known formats (Anthropic `sk-ant-`, OpenAI `sk-`/`sk-proj-`, AWS access key ids and
//! `aws_secret_access_key` values, GitHub `ghp_`/`gho_`/`ghs_`/`ghu_`/`ghr_`/`github_pat_`,
//! Slack `xox?-` and webhook paths, Stripe `sk_live_`/`rk_live_`/`sk_test_`/`whsec_`, Google
//! `AIza`, Telegram bot tokens), JWTs, PEM private key blocks (whole, multi-line; one cut off
//! by the end of the text to its end), passwords in URLs and connection strings (the user and
//! host stay), `key = value` and JSON `"key": "value"` credentials, `Authorization` and `Cookie`
//! headers and bare `Bearer`/`Basic` credentials, card numbers (Luhn-valid only), long
//! high-entropy tokens (`entropy.rs` says which), and the literal secrets the configuration
//! knows, also URL-encoded, JSON-escaped and inside base64.
//!
//! Kept on purpose: UUIDs, 40-hex git commit ids (the investigator talks about commits), hashes
//! labelled with their algorithm (`sha256:...`), ISO timestamps, digit runs that fail the
//! Luhn check, and base64 that decodes to ordinary words.

mod card;
mod entropy;
mod known;
mod rules;
#[cfg(test)]
mod tests;

use super::hidden::strip_hidden;
use known::KnownSecrets;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

/// What kind of secret was found; its name is what `[REDACTED:<kind>]` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum SecretKind {
    /// A value the configuration or environment holds (an API key, the bot token, a password).
    Known,
    PrivateKey,
    AnthropicKey,
    OpenAiKey,
    AwsAccessKeyId,
    AwsSecretKey,
    GithubToken,
    SlackToken,
    StripeKey,
    GoogleApiKey,
    TelegramBotToken,
    Jwt,
    /// The password of a URL or connection string.
    Password,
    /// An `Authorization` or `Cookie` header's value, or a bare `Bearer`/`Basic` credential.
    Authorization,
    /// The value of a `key = value` pair whose key names a credential.
    Credential,
    CardNumber,
    /// A long token random enough to be a key.
    Token,
}

impl SecretKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SecretKind::Known => "known_secret",
            SecretKind::PrivateKey => "private_key",
            SecretKind::AnthropicKey => "anthropic_key",
            SecretKind::OpenAiKey => "openai_key",
            SecretKind::AwsAccessKeyId => "aws_access_key_id",
            SecretKind::AwsSecretKey => "aws_secret_key",
            SecretKind::GithubToken => "github_token",
            SecretKind::SlackToken => "slack_token",
            SecretKind::StripeKey => "stripe_key",
            SecretKind::GoogleApiKey => "google_api_key",
            SecretKind::TelegramBotToken => "telegram_bot_token",
            SecretKind::Jwt => "jwt",
            SecretKind::Password => "password",
            SecretKind::Authorization => "authorization",
            SecretKind::Credential => "credential",
            SecretKind::CardNumber => "card_number",
            SecretKind::Token => "token",
        }
    }

    /// The marker that replaces a secret of this kind.
    pub(crate) fn marker(self) -> String {
        format!("[REDACTED:{}]", self.as_str())
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text with its secrets replaced, and how many of each kind were replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Redacted {
    pub(crate) text: String,
    pub(crate) found: Vec<(SecretKind, usize)>,
}

/// A place in the text that holds a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Finding {
    pub(super) range: Range<usize>,
    pub(super) kind: SecretKind,
}

/// The redactor: the rules for well-known formats and the secrets this installation knows.
pub(crate) struct SecretScanner {
    known: KnownSecrets,
}

impl SecretScanner {
    /// `known` are literal secret values from the config/environment (API keys, bot token, DB
    /// passwords): always replaced wherever they appear (also URL-encoded, JSON-escaped and
    /// base64 forms), whatever their format. Values shorter than four characters are replaced
    /// only where they stand alone (not inside a longer word); empty ones are ignored.
    pub(crate) fn new(known: Vec<String>) -> Self {
        SecretScanner {
            known: KnownSecrets::new(known),
        }
    }

    /// `text` with every secret replaced by `[REDACTED:<kind>]`. Hidden characters (escape
    /// sequences, zero-width and bidi characters, controls but newline and tab) are removed
    /// first, so none can split a secret from the rules that recognize it. If the scanner
    /// could not be built, nothing of the text is given back.
    pub(crate) fn redact(&self, text: &str) -> Redacted {
        let clean = strip_hidden(text);
        let findings = match (self.known.find(&clean), rules::find(&clean)) {
            (Some(mut known), Some(formats)) => {
                known.extend(formats);
                known
            }
            _ => {
                return Redacted {
                    text: "[REDACTED:unscannable]".to_string(),
                    found: vec![(SecretKind::Known, 1)],
                };
            }
        };
        apply(&clean, findings)
    }
}

/// `text` with the findings replaced. Overlapping findings are joined into one, named after
/// the first kind in `SecretKind`'s order (a known secret before a format, a format before a
/// generic credential).
fn apply(text: &str, mut findings: Vec<Finding>) -> Redacted {
    findings.retain(|f| !f.range.is_empty());
    findings.sort_by_key(|f| (f.range.start, std::cmp::Reverse(f.range.end)));
    let mut counts: BTreeMap<SecretKind, usize> = BTreeMap::new();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut findings = findings.into_iter().peekable();
    while let Some(Finding {
        mut range,
        mut kind,
    }) = findings.next()
    {
        while let Some(next) = findings.peek() {
            if next.range.start < range.end {
                range.end = range.end.max(next.range.end);
                kind = kind.min(next.kind);
                findings.next();
            } else {
                break;
            }
        }
        out.push_str(&text[at..range.start]);
        out.push_str(&kind.marker());
        *counts.entry(kind).or_default() += 1;
        at = range.end;
    }
    out.push_str(&text[at..]);
    Redacted {
        text: out,
        found: counts.into_iter().collect(),
    }
}
