//! `${VAR}` references: how configuration reaches secrets without holding them.

/// Replaces every `${NAME}` in `text` with the environment variable `NAME`.
/// `lookup` is the environment (injected so tests need not touch the process's).
pub(crate) fn expand(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("unclosed `${{` in {text:?}: write ${{NAME}}"));
        };
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "invalid environment variable name {name:?}: use letters, digits and _"
            ));
        }
        match lookup(name) {
            Some(value) => out.push_str(&value),
            None => return Err(format!("environment variable {name} is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A secret must come from the environment: the whole value is one `${NAME}` reference.
pub(crate) fn secret(
    text: &str,
    setting: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let trimmed = text.trim();
    let is_reference =
        trimmed.starts_with("${") && trimmed.ends_with('}') && trimmed.matches("${").count() == 1;
    if !is_reference {
        return Err(format!(
            "secrets come only from the environment: write {setting} = \"${{SOME_VARIABLE}}\" and set SOME_VARIABLE where sentinel runs"
        ));
    }
    let value = expand(trimmed, lookup)?;
    if value.is_empty() {
        return Err(format!(
            "the environment variable behind {setting} is empty"
        ));
    }
    Ok(value)
}

/// The process environment as a lookup.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.local".into()),
            "TOKEN" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_references_anywhere_in_a_value() {
        assert_eq!(
            expand("http://${HOST}:9090/x", &env).unwrap(),
            "http://db.local:9090/x"
        );
        assert_eq!(expand("no refs", &env).unwrap(), "no refs");
    }

    #[test]
    fn missing_or_malformed_references_are_errors() {
        assert!(
            expand("${NOPE}", &env)
                .unwrap_err()
                .contains("NOPE is not set")
        );
        assert!(expand("${HOST", &env).unwrap_err().contains("unclosed"));
        assert!(expand("${a-b}", &env).unwrap_err().contains("invalid"));
    }

    #[test]
    fn secrets_must_be_a_single_reference() {
        assert_eq!(secret("${TOKEN}", "bearer_token", &env).unwrap(), "s3cret");
        let literal = secret("s3cret", "bearer_token", &env).unwrap_err();
        assert!(literal.contains("only from the environment"), "{literal}");
        assert!(secret("Bearer ${TOKEN}", "bearer_token", &env).is_err());
        assert!(
            secret("${EMPTY}", "bearer_token", &env)
                .unwrap_err()
                .contains("empty")
        );
    }
}
