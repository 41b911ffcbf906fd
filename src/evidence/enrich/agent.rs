//! User agents in words: "Chrome 120 on macOS" and the kind of device it ran on, read with
//! `woothee` (its patterns are compiled in, so no file is needed at run time). Each distinct
//! user agent is read once.

use rustc_hash::FxHashMap;

/// The kind of device a user agent ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormFactor {
    Desktop,
    Mobile,
    Tablet,
    /// A game console, TV or other appliance.
    Appliance,
    /// A crawler or monitoring robot.
    Bot,
    /// A command-line tool or HTTP library (curl, wget, python).
    Script,
    Unknown,
}

impl FormFactor {
    fn word(self) -> Option<&'static str> {
        match self {
            FormFactor::Desktop => Some("desktop"),
            FormFactor::Mobile => Some("mobile"),
            FormFactor::Tablet => Some("tablet"),
            FormFactor::Appliance => Some("appliance"),
            FormFactor::Bot => Some("bot"),
            FormFactor::Script => Some("script"),
            FormFactor::Unknown => None,
        }
    }
}

/// One user agent, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Agent {
    /// "Chrome 120 on macOS", "Googlebot", "curl 8.5.0", "unknown browser".
    pub(crate) browser: String,
    pub(crate) form: FormFactor,
    /// "Chrome 120 on macOS (desktop)": the browser and the kind of device.
    pub(crate) device_label: String,
}

impl Agent {
    fn new(browser: String, form: FormFactor) -> Agent {
        let device_label = match form.word() {
            Some(word) => format!("{browser} ({word})"),
            None => browser.clone(),
        };
        Agent {
            browser,
            form,
            device_label,
        }
    }
}

const UNKNOWN: &str = woothee::woothee::VALUE_UNKNOWN;

/// What a user agent nothing can be read from is called.
pub(crate) const UNKNOWN_BROWSER: &str = "unknown browser";

/// Reads one user agent.
pub(crate) fn read_agent(text: &str) -> Agent {
    let text = text.trim();
    let unknown = Agent::new(UNKNOWN_BROWSER.to_owned(), FormFactor::Unknown);
    if text.is_empty() {
        return unknown;
    }
    let parsed = woothee::parser::Parser::new()
        .parse(text)
        .filter(|parsed| parsed.name != UNKNOWN || parsed.os != UNKNOWN);
    let Some(parsed) = parsed else {
        return if is_product_token(text) {
            Agent::new(tool_name(text), FormFactor::Script)
        } else {
            unknown
        };
    };
    if parsed.name == "HTTP Library" {
        return Agent::new(tool_name(text), FormFactor::Script);
    }
    if parsed.category == "crawler" {
        return Agent::new(parsed.name.to_owned(), FormFactor::Bot);
    }
    let os = os_name(parsed.os);
    let form = match parsed.category {
        "pc" => FormFactor::Desktop,
        "smartphone" if is_tablet(parsed.os, text) => FormFactor::Tablet,
        "smartphone" | "mobilephone" => FormFactor::Mobile,
        "appliance" => FormFactor::Appliance,
        _ => FormFactor::Unknown,
    };
    let name = if parsed.name == UNKNOWN {
        UNKNOWN_BROWSER.to_owned()
    } else {
        match parsed.version.split('.').next().filter(|major| {
            !major.is_empty() && *major != UNKNOWN && major.bytes().all(|b| b.is_ascii_digit())
        }) {
            Some(major) => format!("{} {major}", parsed.name),
            None => parsed.name.to_owned(),
        }
    };
    let browser = match os {
        Some(os) => format!("{name} on {os}"),
        None => name,
    };
    Agent::new(browser, form)
}

/// The operating system as people call it.
fn os_name(os: &str) -> Option<&str> {
    match os {
        UNKNOWN | "" => None,
        "Mac OSX" => Some("macOS"),
        "iPhone" | "iPod" => Some("iOS"),
        "iPad" => Some("iPadOS"),
        other => Some(other),
    }
}

/// iPads, and Android devices whose user agent does not say "Mobile".
fn is_tablet(os: &str, text: &str) -> bool {
    os == "iPad" || (os == "Android" && !text.contains("Mobile"))
}

/// A lone `name/version` token, as libraries and tools send ("python-requests/2.31.0",
/// "Go-http-client/1.1"); browsers send several tokens and comments.
fn is_product_token(text: &str) -> bool {
    let Some((name, version)) = text.split_once('/') else {
        return false;
    };
    let plain = |part: &str| {
        part.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && version.starts_with(|c: char| c.is_ascii_digit())
        && plain(name)
        && plain(version)
}

/// "curl 8.5.0" from "curl/8.5.0": the tool's own product token.
fn tool_name(text: &str) -> String {
    let product = text.split_whitespace().next().unwrap_or(text);
    match product.split_once('/') {
        Some((name, version)) if !version.is_empty() => format!("{name} {version}"),
        _ => product.to_owned(),
    }
}

/// Reads each distinct user agent once.
#[derive(Default)]
pub(crate) struct AgentCache {
    known: FxHashMap<String, Agent>,
}

impl AgentCache {
    pub(crate) fn read(&mut self, text: &str) -> &Agent {
        if !self.known.contains_key(text) {
            self.known.insert(text.to_owned(), read_agent(text));
        }
        &self.known[text]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str) -> String {
        read_agent(text).device_label
    }

    #[test]
    fn desktop_browsers() {
        assert_eq!(
            label(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, \
                 like Gecko) Chrome/120.0.0.0 Safari/537.36"
            ),
            "Chrome 120 on macOS (desktop)"
        );
        assert_eq!(
            label(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
            ),
            "Firefox 121 on Windows 10 (desktop)"
        );
    }

    #[test]
    fn phones_and_tablets() {
        assert_eq!(
            label(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
            ),
            "Safari 17 on iOS (mobile)"
        );
        assert_eq!(
            label(
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like \
                 Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"
            ),
            "Chrome 120 on Android (mobile)"
        );
        assert_eq!(
            label(
                "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like \
                 Gecko) Chrome/119.0.0.0 Safari/537.36"
            ),
            "Chrome 119 on Android (tablet)"
        );
    }

    #[test]
    fn bots_and_tools_are_named_as_such() {
        assert_eq!(
            label("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
            "Googlebot (bot)"
        );
        assert_eq!(label("curl/8.5.0"), "curl 8.5.0 (script)");
        assert_eq!(
            label("python-requests/2.31.0"),
            "python-requests 2.31.0 (script)"
        );
    }

    #[test]
    fn empty_and_garbage_are_unknown() {
        assert_eq!(label(""), "unknown browser");
        assert_eq!(label("   "), "unknown browser");
        assert_eq!(label("zzzz 1234 ((("), "unknown browser");
        assert_eq!(label("not/a version"), "unknown browser");
    }

    #[test]
    fn the_cache_gives_the_same_reading() {
        let mut cache = AgentCache::default();
        let first = cache.read("curl/8.5.0").clone();
        assert_eq!(cache.read("curl/8.5.0"), &first);
        assert_eq!(first.browser, "curl 8.5.0");
    }
}
