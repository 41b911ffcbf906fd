//! The rules for secrets of a recognizable shape: each a pattern, which of its groups holds the
//! secret, and which characters may not touch it (so `task-queue-...` is no `sk-` key).

use super::super::personal::is_placeholder;
use super::{Finding, SecretKind, card, entropy};
use regex::Regex;
use std::sync::OnceLock;

/// A rule as written: its pattern and how to read its matches.
struct Spec {
    kind: SecretKind,
    pattern: String,
    /// The capture groups that may hold the secret; the first that took part is redacted.
    groups: &'static [usize],
    /// Characters that may not stand right before the secret.
    not_before: fn(char) -> bool,
    /// Characters that may not stand right after the secret.
    not_after: fn(char) -> bool,
    /// Whether the text found is a secret after all.
    accept: fn(&str) -> bool,
    /// How much of the text found is the secret (a value ends before `&next=`).
    length: fn(&str) -> usize,
    /// Whether a match right after `://` is left to the URL rule (`https://token:...@host`
    /// names a user, not a key).
    not_in_userinfo: bool,
}

impl Spec {
    /// The whole match is the secret, whatever touches it.
    fn new(kind: SecretKind, pattern: impl Into<String>) -> Spec {
        Spec {
            kind,
            pattern: pattern.into(),
            groups: &[0],
            not_before: never,
            not_after: never,
            accept: always,
            length: str::len,
            not_in_userinfo: false,
        }
    }

    fn group(mut self, groups: &'static [usize]) -> Spec {
        self.groups = groups;
        self
    }

    fn alone(mut self, not_before: fn(char) -> bool, not_after: fn(char) -> bool) -> Spec {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    fn accept(mut self, accept: fn(&str) -> bool) -> Spec {
        self.accept = accept;
        self
    }

    fn length(mut self, length: fn(&str) -> usize) -> Spec {
        self.length = length;
        self
    }

    fn not_in_userinfo(mut self) -> Spec {
        self.not_in_userinfo = true;
        self
    }
}

struct Rule {
    spec: Spec,
    regex: Regex,
}

/// Credential names in `key = value` pairs, as a key ends (`db_password`, `accessToken`,
/// `PGPASSWORD`, `x-api-key`, `session_id`).
const CREDENTIAL_KEYS: &str = r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|authorization|auth|credentials?|cookie|session(?:[_-]?id)?|sessid";

/// Endings a credential's name may have after the word that names it (`secret_key_base`).
const CREDENTIAL_KEY_ENDINGS: &str =
    r"(?:[_.-]?(?:id|key|keys|value|str|string|hash|base|salt|hex|b64|base64|raw))*";

fn specs() -> Vec<Spec> {
    use SecretKind::*;
    // key, optional closing quote, `=`/`:`/`=>`/`:=`, then the value: in escaped or plain
    // double quotes, single quotes, a `${VAR}` reference, or bare up to a space or delimiter.
    let credential = format!(
        r#"(?i)([\w.-]*?(?:{CREDENTIAL_KEYS}){CREDENTIAL_KEY_ENDINGS})\\?["']?[ \t]*(?::=|=>|:|=)[ \t]*(?:\\"([^"\\\n]*)\\"|"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|(\$\{{[^}}\s]*\}}|[^\s,;"'<>(){{}}\[\]]+))"#
    );
    vec![
        Spec::new(
            PrivateKey,
            r"(?s)-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|\z)",
        ),
        Spec::new(AnthropicKey, r"sk-ant-[A-Za-z0-9_-]{20,}").alone(token_char, never),
        Spec::new(OpenAiKey, r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")
            .alone(token_char, never)
            .accept(has_letter_and_digit),
        Spec::new(
            AwsAccessKeyId,
            r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",
        )
        .alone(alphanumeric, alphanumeric),
        Spec::new(
            AwsSecretKey,
            r#"(?i)aws_?secret_?(?:access_?)?key(?:_id)?["']?[ \t]*(?::|=>|=)[ \t]*["']?([A-Za-z0-9/+=]{40})"#,
        )
        .group(&[1])
        .alone(never, base64_char),
        Spec::new(
            GithubToken,
            r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}",
        )
        .alone(token_char, never),
        Spec::new(
            SlackToken,
            r"xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,}",
        )
        .alone(token_char, never),
        Spec::new(
            SlackToken,
            r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9/_+-]+)",
        )
        .group(&[1]),
        Spec::new(
            StripeKey,
            r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{16,}",
        )
        .alone(token_char, never),
        Spec::new(GoogleApiKey, r"AIza[0-9A-Za-z_-]{35}").alone(token_char, token_char),
        Spec::new(TelegramBotToken, r"[0-9]{8,10}:[A-Za-z0-9_-]{35}").alone(digit, token_char),
        Spec::new(
            Jwt,
            r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
        )
        .alone(token_char_or_dot, never),
        // scheme://user:PASSWORD@host: the password reaches the last `@` before a space or
        // quote, so one holding `@`, `/` or `:` is taken whole.
        Spec::new(
            Password,
            r#"(?i)[a-z][a-z0-9+.-]*://[^\s:/?#@]*:([^\s"'<>]*)@[A-Za-z0-9._~%,\[\]:-]+"#,
        )
        .group(&[1])
        .accept(is_value),
        Spec::new(
            Authorization,
            r#"(?i)(?:proxy-)?authorization\\?["']?[ \t]*[:=][ \t]*\\?["']?([^\r\n"'\\]+)"#,
        )
        .group(&[1])
        .accept(is_value),
        Spec::new(
            Authorization,
            r#"(?i)\b(?:set-)?cookie\\?["']?[ \t]*:[ \t]*\\?["']?([^\r\n"'\\]+)"#,
        )
        .group(&[1])
        .accept(is_value),
        Spec::new(
            Authorization,
            r"(?i)\b(?:bearer|basic|token)[ \t]+([A-Za-z0-9._~+/-]{8,}=*)",
        )
        .group(&[1])
        .alone(never, alphanumeric)
        .accept(looks_like_credential),
        Spec::new(Credential, credential)
            .group(&[2, 3, 4, 5])
            .accept(is_value)
            .length(before_next_parameter)
            .not_in_userinfo(),
    ]
}

fn rules() -> Option<&'static [Rule]> {
    static RULES: OnceLock<Option<Vec<Rule>>> = OnceLock::new();
    RULES
        .get_or_init(|| {
            specs()
                .into_iter()
                .map(|spec| {
                    let regex = Regex::new(&spec.pattern).ok()?;
                    Some(Rule { spec, regex })
                })
                .collect()
        })
        .as_deref()
}

/// Every secret the rules recognize in `text`; `None` if the rules could not be built.
pub(super) fn find(text: &str) -> Option<Vec<Finding>> {
    let mut findings = Vec::new();
    for Rule { spec, regex } in rules()? {
        for caps in regex.captures_iter(text) {
            let Some(found) = spec.groups.iter().find_map(|&g| caps.get(g)) else {
                continue;
            };
            if spec.not_in_userinfo
                && caps
                    .get(0)
                    .is_some_and(|whole| text[..whole.start()].ends_with("://"))
            {
                continue;
            }
            let secret = &found.as_str()[..(spec.length)(found.as_str())];
            let range = found.start()..found.start() + secret.len();
            let before = text[..range.start].chars().next_back();
            let after = text[range.end..].chars().next();
            if before.is_some_and(spec.not_before)
                || after.is_some_and(spec.not_after)
                || !(spec.accept)(secret)
            {
                continue;
            }
            findings.push(Finding {
                range,
                kind: spec.kind,
            });
        }
    }
    findings.extend(card::find(text)?);
    findings.extend(entropy::find(text, &|decoded| {
        find(decoded).is_none_or(|found| !found.is_empty())
    })?);
    Some(findings)
}

/// A bare value ends before `&name=`, the next parameter of a query string; an `&` otherwise
/// belongs to it (`password=Tr0ub4dor&3`).
fn before_next_parameter(value: &str) -> usize {
    for (i, _) in value.match_indices('&') {
        let rest = &value[i + 1..];
        let name = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']'))
            .count();
        if name > 0 && rest[name..].starts_with('=') {
            return i;
        }
    }
    value.len()
}

fn never(_: char) -> bool {
    false
}

fn always(_: &str) -> bool {
    true
}

fn alphanumeric(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn digit(c: char) -> bool {
    c.is_ascii_digit()
}

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn token_char_or_dot(c: char) -> bool {
    token_char(c) || c == '.'
}

fn base64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')
}

fn has_letter_and_digit(s: &str) -> bool {
    let body = s.trim_start_matches("sk-");
    body.chars().any(|c| c.is_ascii_digit()) && body.chars().any(|c| c.is_ascii_alphabetic())
}

/// A word after `Bearer`, `Basic` or `token` is a credential, not prose, if it has a digit,
/// base64 padding, or is long and of mixed case.
fn looks_like_credential(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
        || s.ends_with('=')
        || (s.len() >= 20
            && s.chars().any(|c| c.is_ascii_uppercase())
            && s.chars().any(|c| c.is_ascii_lowercase()))
}

/// Whether a credential's value is one: not empty, not a null or boolean, not already masked,
/// not a reference to where the secret is kept (`${DB_PASSWORD}`), not a placeholder that
/// Sentinel put there (`<email-1>`, `[REDACTED:...]`).
fn is_value(value: &str) -> bool {
    let value = value.trim();
    let lower = value.to_ascii_lowercase();
    let masked = !value.is_empty() && value.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '•'));
    !(value.is_empty()
        || masked
        || matches!(
            lower.as_str(),
            "null" | "none" | "nil" | "true" | "false" | "undefined" | "?" | "%s" | "redacted"
        )
        || lower.starts_with("[redacted")
        || lower.starts_with("[filtered")
        || lower.starts_with("<redacted")
        || is_reference(value)
        || is_placeholder(value))
}

/// `${NAME}`, `$NAME`, `%NAME%`: where a secret is kept, not the secret.
fn is_reference(value: &str) -> bool {
    let name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    if let Some(inner) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
        return name(inner);
    }
    if let Some(inner) = value.strip_prefix('%').and_then(|v| v.strip_suffix('%')) {
        return name(inner);
    }
    value.strip_prefix('$').is_some_and(name)
}
