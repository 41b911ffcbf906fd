//! Redaction of production text before it leaves the box: e-mail addresses, credentials in
//! `key=value` and `Authorization` form, long tokens, and card-like digit runs become markers.

use regex::Regex;
use std::sync::OnceLock;

struct Rules {
    email: Regex,
    credential: Regex,
    bearer: Regex,
    token: Regex,
    card: Regex,
}

fn rules() -> Option<&'static Rules> {
    static RULES: OnceLock<Option<Rules>> = OnceLock::new();
    RULES
        .get_or_init(|| {
            Some(Rules {
                email: Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}").ok()?,
                credential: Regex::new(r#"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth|session|cookie)(["']?\s*[=:]\s*["']?)[^\s"'&,;]+"#).ok()?,
                bearer: Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}").ok()?,
                token: Regex::new(r"\b[A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*[A-Za-z][A-Za-z0-9_-]{22,}\b|\b[A-Fa-f0-9]{32,}\b").ok()?,
                card: Regex::new(r"\b(?:\d[ -]?){13,19}\b").ok()?,
            })
        })
        .as_ref()
}

/// `text` with secrets and personal data replaced by markers.
pub(crate) fn redact(text: &str) -> String {
    let Some(rules) = rules() else {
        return "<redacted>".to_string();
    };
    let text = rules.email.replace_all(text, "<email>");
    let text = rules.credential.replace_all(&text, "$1$2<redacted>");
    let text = rules.bearer.replace_all(&text, "$1 <redacted>");
    let text = rules.token.replace_all(&text, "<token>");
    rules.card.replace_all(&text, "<number>").into_owned()
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn personal_data_and_secrets_are_masked() {
        let line = "login failed for alice@example.com password=hunter2 token: abc Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload card 4111 1111 1111 1111";
        let clean = redact(line);
        for secret in [
            "alice@example.com",
            "hunter2",
            "eyJhbGciOiJIUzI1NiJ9",
            "4111 1111",
        ] {
            assert!(!clean.contains(secret), "{secret} leaked: {clean}");
        }
        assert!(clean.contains("login failed for <email>"), "{clean}");
        assert!(clean.contains("password=<redacted>"), "{clean}");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let line = "invalid input syntax for type uuid: \"abc\" at /orders/abc (took 12ms)";
        assert_eq!(redact(line), line);
        assert_eq!(
            redact("key a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6 expired"),
            "key <token> expired"
        );
    }
}
