//! `sentinel init --evidence`: the presets listed with what they read, an unknown one refused
//! with the names there are, and a chosen one appended to the example with its SQL source,
//! which `sentinel config check` accepts.

mod support;

use assert_cmd::Command;
use sentinel::evidence::presets::Preset;
use support::sentinel_bin;

#[test]
fn evidence_list_describes_every_preset_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sentinel.toml");
    let out = Command::new(sentinel_bin())
        .arg("init")
        .arg(&path)
        .args(["--evidence", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let listing = String::from_utf8_lossy(&out.stdout);
    for preset in Preset::ALL {
        assert!(listing.contains(preset.name()), "{listing}");
        assert!(listing.contains(preset.description()), "{listing}");
    }
    assert!(!path.exists());
}

#[test]
fn an_unknown_preset_is_refused_with_the_names_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sentinel.toml");
    let out = Command::new(sentinel_bin())
        .arg("init")
        .arg(&path)
        .args(["--evidence", "laravel"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("laravel") && message.contains("supabase, devise"),
        "{message}"
    );
    assert!(!path.exists());
}

#[test]
fn a_chosen_preset_is_written_after_the_example_with_its_source_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sentinel.toml");
    Command::new(sentinel_bin())
        .arg("init")
        .arg(&path)
        .args(["--evidence", "supabase"])
        .assert()
        .success();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# Sentinel configuration."));
    assert!(text.ends_with(&Preset::Supabase.text("app")));
    let value: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(value["sources"]["app"]["kind"].as_str(), Some("postgres"));
    assert_eq!(value["evidence"]["source"].as_str(), Some("app"));
    let checked = Command::new(sentinel_bin())
        .args(["config", "check"])
        .arg(&path)
        .env("APP_DATABASE_URL", "postgres://reader@127.0.0.1:5432/app")
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}
