//! Every key of every kind, driven by the kinds' key lists and a valid sample of each key: taken
//! where it applies, refused at its value elsewhere; and the lists cover every key and kind the
//! file may contain.

use super::super::channels::CHANNELS;
use super::super::sources::SOURCES;
use super::super::watches::WATCHES;
use super::Section;
use crate::config::ConfigError;
use crate::config::raw::{
    ChannelKind, RawChannel, RawConfig, RawSource, RawWatch, SourceKind, WatchKind,
};
use crate::watch::stuck::validate::STUCK_ON;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use std::path::Path;

/// A valid value of every key, as TOML. A key without one fails the tests.
const SAMPLES: &[(&str, &str)] = &[
    // every watch
    ("description", r#""Nightly backup""#),
    ("severity", r#""critical""#),
    ("interval", r#""1m""#),
    ("timeout", r#""10s""#),
    ("for", r#""5m""#),
    ("keep_firing_for", r#""15m""#),
    ("renotify", r#""4h""#),
    ("notify_resolved", "true"),
    ("channels", r#"["ops"]"#),
    // heartbeat
    ("token", r#""0123456789abcdef0123""#),
    ("period", r#""1d""#),
    ("schedule", r#""0 3 * * *""#),
    ("tz", r#""Europe/Berlin""#),
    ("grace", r#""1h""#),
    // reading a source or files
    ("source", r#""src""#),
    ("query", r#""up == 0""#),
    ("path", r#""/var/log/app/*.log""#),
    ("max_age", r#""26h""#),
    ("format", r#""json""#),
    ("min_count", "3"),
    ("window", r#""10m""#),
    ("learn_for", r#""1h""#),
    ("history", r#""1d""#),
    ("patterns", r#"["OOMKilled"]"#),
    // stuck
    ("table", r#""jobs""#),
    ("state_column", r#""state""#),
    ("states", r#"["running"]"#),
    ("since_column", r#""updated_at""#),
    ("group_by", r#""queue""#),
    ("older_than", r#""15m""#),
    ("stalled_for", "5"),
    ("queue", r#""default""#),
    ("layout", r#""stream""#),
    ("group", r#""workers""#),
    // jump
    ("step", r#""1h""#),
    ("baseline", r#""7d""#),
    ("seasonality", r#""daily""#),
    ("direction", r#""up""#),
    ("min_change", "5.0"),
    ("sensitivity", "4.0"),
    // error_class
    ("app_log", r#""/var/log/app/app.log""#),
    ("app_query", r#"'{app="shop"}'"#),
    ("access_format", r#""combined""#),
    // slow_query
    ("ratio", "3.0"),
    ("min_increase", r#""100ms""#),
    ("min_calls", "10"),
    // http, and credentials
    ("url", r#""http://127.0.0.1:9090""#),
    ("expect_status", r#""200-299""#),
    ("body_match", r#""ok""#),
    ("max_latency", r#""2s""#),
    // certificate
    ("host", r#""shop.example.com:443""#),
    ("expires_within", r#""14d""#),
    ("bearer_token", r#""${SOME_TOKEN}""#),
    ("username", r#""sentinel""#),
    ("password", r#""${SOME_PASSWORD}""#),
    // sources
    ("tenant", r#""team-a""#),
    ("journalctl", r#""/usr/bin/journalctl""#),
    ("units", r#"["shop.service"]"#),
    ("directory", r#""/var/log/journal""#),
    ("statement_timeout", r#""5s""#),
    ("lock_timeout", r#""1s""#),
    ("max_rows", "1000"),
    ("max_bytes", r#""1MiB""#),
    ("allow_show", "true"),
    ("allow_explain", "false"),
    ("deny_functions", r#"["pg_sleep"]"#),
    ("allow_functions", r#"["app.net_price"]"#),
    ("allow_privileged_role", "false"),
    // telegram
    ("bot_token", r#""${TELEGRAM_BOT_TOKEN}""#),
    ("chat_id", "-1001234"),
    ("allowed_users", "[123456789]"),
    ("api_url", r#""https://api.telegram.org""#),
    ("poll_timeout", r#""30s""#),
];

fn sample(key: &str) -> &'static str {
    SAMPLES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, value)| *value)
        .unwrap_or_else(|| panic!("no sample value for `{key}`: add one to SAMPLES"))
}

/// The errors of `text`, every `${VAR}` set.
fn errors(text: &str) -> Vec<ConfigError> {
    let lookup = |_: &str| Some("from-the-environment".to_string());
    match super::super::parse(Path::new("t.toml"), text, &lookup) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.0,
    }
}

/// Parses `text` (a section setting `key` on its last line) and checks that `key` is refused
/// exactly when it does not apply, at its value, in those words.
fn check_key(text: &str, key: &str, applies: bool, refusal_starts: &str) {
    assert!(
        toml::from_str::<RawConfig>(text).is_ok(),
        "the sample of `{key}` is not a valid value:\n{text}"
    );
    let line = text.lines().count();
    let col = key.len() + 4;
    let found = errors(text);
    let refusals: Vec<&ConfigError> = found
        .iter()
        .filter(|e| {
            e.message
                .starts_with(&format!("`{key}` does not apply to "))
        })
        .collect();
    if applies {
        assert!(
            refusals.is_empty(),
            "`{key}` refused in:\n{text}\n{found:#?}"
        );
    } else {
        assert_eq!(
            refusals.len(),
            1,
            "`{key}` not refused once in:\n{text}\n{found:#?}"
        );
        let refusal = refusals[0];
        assert_eq!(
            (refusal.line, refusal.col),
            (line, col),
            "`{key}` refused elsewhere than its value in:\n{text}\n{refusal:#?}"
        );
        assert!(
            refusal.message.starts_with(refusal_starts),
            "{:?} does not start with {refusal_starts:?}",
            refusal.message
        );
    }
}

/// Every kind of `section` with every key of the section (`kind` aside) set on its own.
fn check_section(header: &str, section: &Section) {
    for kind in section.kinds {
        for key in section.all_keys().into_iter().filter(|k| *k != "kind") {
            let text = format!(
                "[{header}.x]\nkind = \"{}\"\n{key} = {}\n",
                kind.name,
                sample(key)
            );
            let applies = section.common.contains(&key) || kind.takes_key(key);
            let words = format!(
                "`{key}` does not apply to {}",
                section.naming.replace("{}", kind.name)
            );
            check_key(&text, key, applies, &words);
        }
    }
}

#[test]
fn every_watch_key_is_taken_where_it_applies_and_refused_elsewhere() {
    check_section("watches", &WATCHES);
}

#[test]
fn every_source_key_is_taken_where_it_applies_and_refused_elsewhere() {
    check_section("sources", &SOURCES);
}

#[test]
fn every_channel_key_is_taken_where_it_applies_and_refused_elsewhere() {
    check_section("channels", &CHANNELS);
}

/// A source of the kind that a stuck watch reads as `what`.
fn stuck_source(what: &str) -> &'static str {
    match what {
        "a SQL table" => "kind = \"postgres\"\nurl = \"postgres://ro@127.0.0.1/app\"",
        "Redis" => "kind = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"",
        "PromQL" => "kind = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"",
        other => panic!("no source for a stuck watch on {other}: add one here"),
    }
}

#[test]
fn every_stuck_key_is_taken_where_its_source_reads_it_and_refused_elsewhere() {
    for on in STUCK_ON.kinds {
        for key in STUCK_ON.all_keys() {
            if key == "source" {
                continue;
            }
            let text = format!(
                "[sources.src]\n{}\n\n[watches.x]\nkind = \"stuck\"\nsource = \"src\"\n{key} = {}\n",
                stuck_source(on.name),
                sample(key)
            );
            let applies = on.takes_key(key);
            let words = format!("`{key}` does not apply to a stuck watch on {}", on.name);
            check_key(&text, key, applies, &words);
        }
    }
}

/// What serde names as expected after an unknown `value` in `text`: the fields of a section,
/// or the variants of `kind`.
fn expected_names<T: DeserializeOwned + std::fmt::Debug>(text: &str) -> BTreeSet<String> {
    let error = toml::from_str::<T>(text).expect_err("an unknown name is refused");
    let message = error.message().to_string();
    let (_, list) = message
        .split_once("expected one of ")
        .unwrap_or_else(|| panic!("no list of expected names in {message:?}"));
    list.split(", ")
        .map(|name| name.trim().trim_matches('`').to_string())
        .collect()
}

fn listed_keys(section: &Section) -> BTreeSet<String> {
    section.all_keys().into_iter().map(String::from).collect()
}

fn listed_kinds(section: &Section) -> BTreeSet<String> {
    section.kinds.iter().map(|k| k.name.to_string()).collect()
}

#[test]
fn the_lists_name_every_key_a_section_may_set() {
    let unknown = "\nnot_a_key = 1\n";
    assert_eq!(
        expected_names::<RawWatch>(&format!("kind = \"heartbeat\"{unknown}")),
        listed_keys(&WATCHES)
    );
    assert_eq!(
        expected_names::<RawSource>(&format!("kind = \"redis\"{unknown}")),
        listed_keys(&SOURCES)
    );
    assert_eq!(
        expected_names::<RawChannel>(&format!("kind = \"console\"{unknown}")),
        listed_keys(&CHANNELS)
    );
    let stuck = WATCHES.kind("stuck").map(|k| k.keys()).unwrap_or_default();
    let mut stuck_on = listed_keys(&STUCK_ON);
    stuck_on.extend(STUCK_ON.common.iter().map(|k| k.to_string()));
    assert_eq!(
        stuck.into_iter().map(String::from).collect::<BTreeSet<_>>(),
        stuck_on
    );
}

#[derive(Debug, Deserialize)]
struct KindOnly<T> {
    #[allow(dead_code)]
    kind: T,
}

fn kind_of<T: DeserializeOwned>(name: &str) -> T {
    toml::from_str::<KindOnly<T>>(&format!("kind = \"{name}\""))
        .unwrap_or_else(|e| panic!("`{name}` is not a kind: {e}"))
        .kind
}

#[test]
fn the_lists_name_every_kind_as_written() {
    let unknown = "kind = \"not_a_kind\"";
    let watches = expected_names::<KindOnly<WatchKind>>(unknown);
    assert_eq!(watches, listed_kinds(&WATCHES));
    for name in &watches {
        assert_eq!(kind_of::<WatchKind>(name).name(), name);
    }
    let sources = expected_names::<KindOnly<SourceKind>>(unknown);
    assert_eq!(sources, listed_kinds(&SOURCES));
    for name in &sources {
        assert_eq!(kind_of::<SourceKind>(name).name(), name);
    }
    let channels = expected_names::<KindOnly<ChannelKind>>(unknown);
    assert_eq!(channels, listed_kinds(&CHANNELS));
    for name in &channels {
        assert_eq!(kind_of::<ChannelKind>(name).name(), name);
    }
}

#[test]
fn every_sample_is_of_a_listed_key() {
    let mut listed = BTreeSet::new();
    for section in [&WATCHES, &SOURCES, &CHANNELS, &STUCK_ON] {
        listed.extend(listed_keys(section));
    }
    for (key, _) in SAMPLES {
        assert!(
            listed.contains(*key),
            "sample of `{key}`, a key no kind lists"
        );
    }
}

#[test]
fn a_refusal_names_what_the_kind_takes_and_which_kinds_take_the_key() {
    assert_eq!(
        SOURCES.refusal("prometheus", "tenant").as_deref(),
        Some(
            "`tenant` does not apply to prometheus sources (they take: url, timeout, bearer_token); `tenant` applies to loki sources only"
        )
    );
    assert_eq!(
        SOURCES.refusal("loki", "allow_functions").as_deref(),
        Some(
            "`allow_functions` does not apply to loki sources (they take: url, timeout, bearer_token, tenant, username, password); `allow_functions` applies to postgres, mysql and sqlite sources only"
        )
    );
    assert_eq!(
        CHANNELS.refusal("console", "url").as_deref(),
        Some(
            "`url` does not apply to console channels (they take only kind); `url` applies to webhook channels only"
        )
    );
    assert_eq!(
        STUCK_ON.refusal("a SQL table", "stalled_for").as_deref(),
        Some(
            "`stalled_for` does not apply to a stuck watch on a SQL table (it takes: table, state_column, states, since_column, group_by, older_than); `stalled_for` applies to a stuck watch on Redis and PromQL only"
        )
    );
    assert_eq!(SOURCES.refusal("journald", "for"), None);
    assert_eq!(WATCHES.refusal("stuck", "older_than"), None);
    assert_eq!(
        STUCK_ON.refusal("Redis", "token"),
        None,
        "a key no stuck source takes is the watch's to refuse"
    );
}
