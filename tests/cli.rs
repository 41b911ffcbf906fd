//! The command line as an operator meets it: `config check` pointing at the exact place of
//! every kind of mistake, `init` writing a config that checks, `run` refusing to start on a bad
//! config, and the demo paging for the missed backup but not for the blips.

mod support;

use assert_cmd::Command;
use support::{free_port, sentinel_bin, write_config};

fn check(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), text);
    let out = Command::new(sentinel_bin())
        .args(["config", "check"])
        .arg(&path)
        .env_remove("WEBHOOK_TOKEN")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).replace(&path.display().to_string(), "FILE");
    (out.status.code().unwrap_or(-1), text)
}

fn assert_error_at(text: &str, line_col: &str, needle: &str) {
    let (code, stderr) = check(text);
    assert_eq!(code, 1, "expected failure for:\n{text}\n{stderr}");
    let expected = format!("FILE:{line_col}: ");
    assert!(
        stderr.contains(&expected),
        "expected location {line_col} in:\n{stderr}"
    );
    assert!(stderr.contains(needle), "expected {needle:?} in:\n{stderr}");
}

const TOKEN: &str = "0123456789abcdef0123";

#[test]
fn unknown_key_is_located_and_names_the_expected_keys() {
    assert_error_at(
        &format!(
            "[watches.backup]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nperiod = \"1d\"\ngrce = \"1h\"\n"
        ),
        "5:1",
        "unknown field `grce`",
    );
}

#[test]
fn wrong_type_is_located() {
    assert_error_at(
        "[engine]\nconcurrency = \"eight\"\n",
        "2:15",
        "invalid type",
    );
}

#[test]
fn bad_duration_says_what_a_duration_looks_like() {
    assert_error_at(
        &format!(
            "[watches.backup]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nperiod = \"daily\"\n"
        ),
        "4:10",
        "like 90s, 5m, 1h30m",
    );
}

#[test]
fn bad_cron_expression_is_located() {
    assert_error_at(
        &format!(
            "[watches.backup]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nschedule = \"0 25 * * *\"\n"
        ),
        "4:12",
        "invalid cron expression",
    );
    assert_error_at(
        &format!(
            "[watches.backup]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nschedule = \"0 3 * *\"\n"
        ),
        "4:12",
        "expected 5 fields",
    );
}

#[test]
fn bad_time_zone_is_located() {
    assert_error_at(
        &format!(
            "[watches.backup]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nschedule = \"0 3 * * *\"\ntz = \"Mars/Olympus\"\n"
        ),
        "5:6",
        "unknown time zone",
    );
}

#[test]
fn duplicate_watch_names_are_located() {
    assert_error_at(
        &format!(
            "[watches.backup]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nperiod = \"1d\"\n\n[watches.backup]\nkind = \"heartbeat\"\n"
        ),
        "6:10",
        "duplicate key: `backup` is defined twice; every watch, source and channel needs its own name",
    );
}

#[test]
fn reference_to_an_undefined_source_is_located_and_lists_the_defined_ones() {
    assert_error_at(
        "[sources.prom]\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"\n\n[watches.disk]\nkind = \"threshold\"\nsource = \"prometheus\"\nquery = \"up == 0\"\n",
        "7:10",
        "source `prometheus` is not defined (defined sources: prom)",
    );
}

#[test]
fn undefined_channel_and_inapplicable_keys_are_located() {
    assert_error_at(
        &format!(
            "[watches.backup]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nperiod = \"1d\"\nchannels = [\"phone\"]\n"
        ),
        "5:13",
        "channel `phone` is not defined",
    );
    assert_error_at(
        &format!(
            "[watches.backup]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nperiod = \"1d\"\nquery = \"up\"\n"
        ),
        "5:9",
        "`query` does not apply to heartbeat watches",
    );
}

#[test]
fn secrets_must_come_from_the_environment() {
    assert_error_at(
        "[channels.ops]\nkind = \"webhook\"\nurl = \"https://hooks.example.com/x\"\nbearer_token = \"hunter2\"\n",
        "4:16",
        "secrets come only from the environment",
    );
    assert_error_at(
        "[channels.ops]\nkind = \"webhook\"\nurl = \"https://hooks.example.com/x\"\nbearer_token = \"${WEBHOOK_TOKEN}\"\n",
        "4:16",
        "WEBHOOK_TOKEN is not set",
    );
}

const TELEGRAM: &str = "[channels.phone]\nkind = \"telegram\"\n";

#[test]
fn telegram_channel_mistakes_are_located() {
    assert_error_at(
        &format!("{TELEGRAM}bot_token = \"123:abc\"\nchat_id = 5\nallowed_users = [1]\n"),
        "3:13",
        "secrets come only from the environment",
    );
    assert_error_at(
        &format!(
            "{TELEGRAM}bot_token = \"${{TELEGRAM_BOT_TOKEN}}\"\nchat_id = 5\nallowed_users = [1]\n"
        ),
        "3:13",
        "TELEGRAM_BOT_TOKEN is not set",
    );
    assert_error_at(
        &format!("{TELEGRAM}chat_id = 5\nallowed_users = [1]\n"),
        "2:8",
        "telegram channel `phone` needs bot_token = \"${TELEGRAM_BOT_TOKEN}\"",
    );
    assert_error_at(
        &format!("{TELEGRAM}chat_id = 5\nallowed_users = []\n"),
        "4:17",
        "allowed_users must name at least one Telegram user id",
    );
    assert_error_at(
        &format!("{TELEGRAM}chat_id = \"me\"\n"),
        "3:11",
        "invalid type",
    );
    assert_error_at(
        &format!("{TELEGRAM}chat_id = 5\nallowed_users = [1]\npoll_timeout = \"5m\"\n"),
        "5:16",
        "poll_timeout must be between 1s and 50s",
    );
    assert_error_at(
        &format!("{TELEGRAM}chat_id = 5\nallowed_users = [1]\napi_url = \"telegram\"\n"),
        "5:11",
        "invalid URL",
    );
    assert_error_at(
        &format!("{TELEGRAM}chat_id = 5\nallowed_users = [1]\nurl = \"https://x.example\"\n"),
        "5:7",
        "`url` does not apply to telegram channels",
    );
    assert_error_at(
        "[channels.ops]\nkind = \"webhook\"\nurl = \"https://hooks.example.com/x\"\nchat_id = 5\n",
        "4:11",
        "`chat_id` does not apply to webhook channels",
    );
    assert_error_at(
        &format!(
            "{TELEGRAM}chat_id = 5\nallowed_users = [1]\n[channels.pager]\nkind = \"telegram\"\n"
        ),
        "5:11",
        "only one telegram channel is supported",
    );
}

#[test]
fn every_section_of_the_example_checks_once_uncommented() {
    let text = sentinel::config::EXAMPLE
        .replace("__BACKUP_TOKEN__", "0123456789abcdef0123")
        .replace("__WORKER_TOKEN__", "abcdef01234567890123");
    // Commented-out settings are `# [table]` and `# key = value` lines; prose stays a comment.
    let setting = regex::Regex::new(r"^# (\[|[a-z_]+\s*=)").unwrap();
    let uncommented: String = text
        .lines()
        .map(|l| match setting.is_match(l) {
            true => &l[2..],
            false => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let count = |section: &str| {
        uncommented
            .lines()
            .filter(|l| l.starts_with(&format!("[{section}.")))
            .count()
    };
    let expected = format!(
        "ok ({} watches, {} sources, {} channels;",
        count("watches"),
        count("sources"),
        count("channels")
    );
    let secrets = regex::Regex::new(r"\$\{([A-Z_]+)\}").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &format!("{uncommented}\n"));
    let mut check = Command::new(sentinel_bin());
    check.args(["config", "check"]).arg(&path);
    for name in secrets.captures_iter(&uncommented) {
        check.env(&name[1], "a-secret-from-the-environment");
    }
    let out = check.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&expected), "{stdout} (expected {expected})");
    assert!(count("watches") > 15 && count("channels") == 3, "{stdout}");
}

#[test]
fn guessable_ping_tokens_and_shared_tokens_are_refused() {
    assert_error_at(
        "[watches.backup]\nkind = \"heartbeat\"\ntoken = \"abc\"\nperiod = \"1d\"\n",
        "3:9",
        "unguessable",
    );
    assert_error_at(
        &format!(
            "[watches.a]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nperiod = \"1d\"\n[watches.b]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nperiod = \"1d\"\n"
        ),
        "7:9",
        "already used by watch `a`",
    );
}

#[test]
fn every_error_in_a_file_is_reported_at_once() {
    let (code, stderr) = check(&format!(
        "[watches.a]\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\nschedule = \"bad\"\n[watches.b]\nkind = \"threshold\"\nsource = \"nope\"\nquery = \"up\"\n"
    ));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("FILE:4:12") && stderr.contains("FILE:7:10"),
        "{stderr}"
    );
    assert!(stderr.contains("2 errors in configuration"), "{stderr}");
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let out = Command::new(sentinel_bin())
        .args(["config", "check", "/nonexistent/sentinel.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the configuration file"));
}

#[test]
fn init_writes_a_config_that_checks_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sentinel.toml");
    Command::new(sentinel_bin())
        .arg("init")
        .arg(&path)
        .assert()
        .success();
    let out = Command::new(sentinel_bin())
        .args(["config", "check"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (6 watches, 1 source, 1 channel"));
    let again = Command::new(sentinel_bin())
        .arg("init")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not overwriting"));
}

#[test]
fn run_with_a_bad_config_starts_nothing_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let path = write_config(
        dir.path(),
        &format!("[server]\nlisten = \"127.0.0.1:{port}\"\n[engine]\nintervall = \"1m\"\n"),
    );
    let out = Command::new(sentinel_bin())
        .args(["run", "--config"])
        .arg(&path)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(":4:1: unknown field `intervall`"));
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "nothing may listen after a config error"
    );
}

#[test]
fn check_once_exit_codes_follow_what_is_firing() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    std::fs::write(backups.join("shop.sql.gz"), b"x").unwrap();
    let config = |max_age: &str| {
        format!(
            "[store]\npath = \"{}/s.db\"\n[watches.backup-files]\nkind = \"freshness\"\npath = \"{}/*.sql.gz\"\nmax_age = \"{max_age}\"\n",
            dir.path().display(),
            backups.display()
        )
    };
    let path = write_config(dir.path(), &config("1h"));
    let fresh = Command::new(sentinel_bin())
        .args(["check", "--once", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        fresh.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );

    let stale_file = backups.join("shop.sql.gz");
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&stale_file)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    let stale = Command::new(sentinel_bin())
        .args(["check", "--once", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(stale.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&stale.stdout);
    assert!(
        stdout.contains("backup files is stale: newest file is 2h old (limit 1h)"),
        "{stdout}"
    );

    // The page was delivered once; a second pass while still firing says nothing new.
    let again = Command::new(sentinel_bin())
        .args(["check", "--once", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        !String::from_utf8_lossy(&again.stdout).contains("stale"),
        "one page per incident"
    );

    let broken = write_config(dir.path(), "[engine]\nconcurrency = 0\n");
    let cannot = Command::new(sentinel_bin())
        .args(["check", "--once", "--config"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(cannot.status.code(), Some(2));
}

#[test]
fn demo_pages_for_each_fault_once_and_stays_quiet_on_blips_and_noise() {
    let out = Command::new(sentinel_bin())
        .args(["demo", "--for", "4s", "--json"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let (investigations, notices): (Vec<_>, Vec<_>) = lines
        .into_iter()
        .partition(|line| line.get("investigation").is_some());
    // The operator asks about the slow query as soon as it pages: the offline investigator
    // names the missing index, with its table and column, and the statement that adds it.
    assert_eq!(investigations.len(), 1, "{stdout}");
    let report = &investigations[0]["investigation"];
    assert_eq!(report["watch"], "shop-queries");
    assert_eq!(report["finding"]["verdict"], "action_needed");
    let steps = report["finding"]["steps"].to_string();
    assert!(
        steps.contains("CREATE INDEX CONCURRENTLY") && steps.contains("orders (customer_email)"),
        "{steps}"
    );
    let watches: Vec<&str> = notices
        .iter()
        .map(|n| n["watch"].as_str().unwrap())
        .collect();
    assert_eq!(
        watches,
        vec![
            "shop-api",
            "shop-queries",
            "shop-queries",
            "jobs",
            "jobs",
            "api-spend",
            "app-errors",
            "nightly-backup"
        ],
        "exactly these pages, in this order:\n{stdout}"
    );
    let states: Vec<&str> = notices
        .iter()
        .map(|n| n["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "firing", "firing", "resolved", "firing", "resolved", "firing", "firing", "firing"
        ],
        "the slow query resolves when the index is back, the stuck jobs when the worker is restarted"
    );
    let bad_input = notices[0]["title"].as_str().unwrap();
    assert!(
        bad_input
            .starts_with("POST /api/cart answers bad input with a server error: JSON parse error"),
        "{bad_input}"
    );
    let slow = notices[1]["title"].as_str().unwrap();
    assert!(
        slow.contains("a query got slow")
            && slow.ends_with("likely missing index on orders(customer_email)"),
        "{slow}"
    );
    let stuck = notices[3]["title"].as_str().unwrap();
    assert!(stuck.contains("invoice job"), "{stuck}");
    assert!(
        !stdout.contains("45.155.205.17") && !stdout.contains("wp-login"),
        "the scanner must never page:\n{stdout}"
    );

    let new_error = notices[6]["title"].as_str().unwrap();
    assert!(
        new_error.starts_with(
            "New error in app log: ERROR invalid input syntax for type uuid: \"<*>\" (GET <*>, customer <*>)"
        ),
        "the template, with the quotes and brackets its example has: {new_error}"
    );
    assert!(
        !stdout.contains("bob@example.com"),
        "the example must be redacted:\n{stdout}"
    );
    assert!(
        !stdout.contains("payment gateway"),
        "the known, recurring error must never page:\n{stdout}"
    );

    let backup = &notices[7];
    assert_eq!(backup["subject"], "");
    let title = backup["title"].as_str().unwrap();
    assert!(
        title.starts_with("Nightly backup didn't run: expected by today 04:00"),
        "{title}"
    );
    assert!(
        !stdout.contains("\"app-log\"") && !stdout.contains("queue-worker"),
        "blips must stay quiet:\n{stdout}"
    );
}

#[test]
fn logs_templates_prints_one_csv_row_per_line_with_shared_templates() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("app.log");
    std::fs::write(
        &input,
        b"connection to 10.0.0.1:5432 refused after 3 retries\nuser \"bob\" logged in\nconnection to 10.0.0.7:5432 refused after 12 retries\n\n\xff\xfe binary\n",
    )
    .unwrap();
    let out = Command::new(sentinel_bin())
        .args(["logs", "templates"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows[0], "line,template_id,template");
    assert_eq!(rows.len(), 6, "{stdout}");
    let id = |row: &str| row.split(',').nth(1).unwrap().to_string();
    assert!(rows[1].starts_with("1,") && rows[3].starts_with("3,"));
    assert_eq!(
        id(rows[1]),
        id(rows[3]),
        "same shape, same template:\n{stdout}"
    );
    assert_ne!(id(rows[1]), id(rows[2]));
    assert!(
        rows[2].contains("\"user \"\"bob\"\" logged in\"") || rows[2].contains("logged in"),
        "{stdout}"
    );

    let stdin = Command::new(sentinel_bin())
        .args(["logs", "templates", "-"])
        .write_stdin("a b c\n")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&stdin.stdout).lines().count(), 2);
}

#[test]
fn logs_learn_then_new_shows_only_what_was_never_seen() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let old = dir.path().join("old.log");
    let today = dir.path().join("today.log");
    std::fs::write(&old, "ERROR payment gateway timeout after 30000ms\nERROR payment gateway timeout after 12000ms\n").unwrap();
    std::fs::write(&today, "ERROR payment gateway timeout after 9000ms\nERROR invalid input syntax for type uuid: \"abc\"\n").unwrap();
    let learn = Command::new(sentinel_bin())
        .args(["logs", "learn", "--source", "app", "--store"])
        .arg(&store)
        .arg(&old)
        .output()
        .unwrap();
    assert!(
        learn.status.success(),
        "{}",
        String::from_utf8_lossy(&learn.stderr)
    );
    assert!(
        String::from_utf8_lossy(&learn.stdout).contains("1 templates known (1 new)"),
        "{}",
        String::from_utf8_lossy(&learn.stdout)
    );
    let new = Command::new(sentinel_bin())
        .args(["logs", "new", "--source", "app", "--store"])
        .arg(&store)
        .arg(&today)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&new.stdout);
    assert!(stdout.contains("1 template never seen before"), "{stdout}");
    assert!(
        stdout.contains("invalid input syntax") && !stdout.contains("payment"),
        "{stdout}"
    );
}

#[test]
fn new_error_watches_are_validated() {
    assert_error_at(
        "[watches.errors]\nkind = \"new_error\"\nmin_count = 3\n",
        "2:8",
        "new_error watch `errors` needs path",
    );
    assert_error_at(
        "[watches.errors]\nkind = \"new_error\"\npath = \"/var/log/*.log\"\nmin_count = 0\n",
        "4:13",
        "min_count must be at least 1",
    );
    assert_error_at(
        "[watches.errors]\nkind = \"new_error\"\npath = \"/var/log/*.log\"\nformat = \"xml\"\n",
        "4:10",
        "unknown variant `xml`",
    );
    let (code, stderr) = check(
        "[watches.errors]\nkind = \"new_error\"\npath = \"/var/log/app/*.log\"\nformat = \"json\"\nwindow = \"30m\"\npatterns = [\"OOMKilled\"]\n",
    );
    assert_eq!(code, 0, "{stderr}");
    let loki = "[sources.logs]\nkind = \"loki\"\nurl = \"http://127.0.0.1:3100\"\n\n";
    let journal = "[sources.journal]\nkind = \"journald\"\nunits = [\"shop.service\"]\n\n";
    assert_error_at(
        &format!("{loki}[watches.errors]\nkind = \"new_error\"\nsource = \"logs\"\n"),
        "6:8",
        "new_error watch `errors` needs query",
    );
    assert_error_at(
        &format!(
            "{loki}[watches.errors]\nkind = \"new_error\"\nsource = \"logs\"\nquery = \"rate(x[5m])\"\n"
        ),
        "8:9",
        "needs a log query: a stream selector",
    );
    assert_error_at(
        &format!(
            "{journal}[watches.errors]\nkind = \"new_error\"\nsource = \"journal\"\nquery = \"{{app=\\\"x\\\"}}\"\n"
        ),
        "8:9",
        "a journald source takes no `query`",
    );
    assert_error_at(
        &format!(
            "{journal}[watches.errors]\nkind = \"new_error\"\nsource = \"journal\"\npath = \"/var/log/*.log\"\n"
        ),
        "8:8",
        "either files (`path`) or a log source (`source`)",
    );
    assert_error_at(
        "[watches.errors]\nkind = \"new_error\"\npath = \"/var/log/*.log\"\nhistory = \"1d\"\n",
        "4:11",
        "`history` is for a Loki or journald `source`; files are read from their start",
    );
    assert_error_at(
        "[sources.prom]\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"\ntenant = \"a\"\n",
        "4:10",
        "`tenant` applies to loki sources only",
    );
    assert_error_at(
        "[sources.prom]\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"\nallow_privileged_role = true\n",
        "4:25",
        "`allow_privileged_role` applies to postgres, mysql and sqlite sources only",
    );
    assert_error_at(
        "[sources.queues]\nkind = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\nmax_rows = 5\n",
        "4:12",
        "`max_rows` applies to postgres, mysql and sqlite sources only",
    );
    assert_error_at(
        "[sources.logs]\nkind = \"loki\"\nurl = \"http://127.0.0.1:3100\"\nusername = \"sentinel\"\n",
        "4:12",
        "`username` needs password",
    );
    for feed in [
        format!(
            "{loki}[watches.errors]\nkind = \"new_error\"\nsource = \"logs\"\nquery = '{{app=\"shop\"}} |= \"level=error\"'\n"
        ),
        format!("{journal}[watches.errors]\nkind = \"new_error\"\nsource = \"journal\"\n"),
        format!(
            "{journal}[watches.errors]\nkind = \"new_error\"\nsource = \"journal\"\nhistory = \"7d\"\n"
        ),
    ] {
        let (code, stderr) = check(&feed);
        assert_eq!(code, 0, "{feed}\n{stderr}");
    }
}

#[test]
fn http_watches_are_validated() {
    let head = "[watches.shop]\nkind = \"http\"\n";
    assert_error_at(head, "2:8", "http watch `shop` needs url");
    assert_error_at(
        &format!("{head}url = \"ftp://shop.example\"\n"),
        "3:7",
        "expected http:// or https://",
    );
    assert_error_at(
        &format!("{head}url = \"http://127.0.0.1/healthz\"\nexpect_status = \"200-299, 700\"\n"),
        "4:17",
        "is not an HTTP status",
    );
    assert_error_at(
        &format!("{head}url = \"http://127.0.0.1/healthz\"\nbody_match = \"(unclosed\"\n"),
        "4:14",
        "invalid body_match pattern",
    );
    assert_error_at(
        &format!(
            "{head}url = \"http://127.0.0.1/healthz\"\ntimeout = \"5s\"\nmax_latency = \"10s\"\n"
        ),
        "5:15",
        "max_latency must be shorter than the watch's timeout",
    );
    assert_error_at(
        &format!("{head}url = \"http://127.0.0.1/healthz\"\nquery = \"up\"\n"),
        "4:9",
        "`query` does not apply to http watches",
    );
    let (code, stderr) = check(&format!(
        "{head}url = \"https://shop.example/healthz\"\nexpect_status = \"200-299, 401\"\nbody_match = '\"db\":\\s*\"ok\"'\nmax_latency = \"2s\"\n"
    ));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn stuck_and_jump_settings_are_checked_where_they_are_written() {
    let db = "[sources.app]\nkind = \"postgres\"\nurl = \"postgres://ro@127.0.0.1/app\"\n\n";
    assert_error_at(
        &format!(
            "{db}[watches.jobs]\nkind = \"stuck\"\nsource = \"app\"\ntable = \"jobs; drop table jobs\"\nsince_column = \"updated_at\"\n"
        ),
        "8:9",
        "is not a plain table or column name",
    );
    assert_error_at(
        &format!(
            "{db}[watches.jobs]\nkind = \"stuck\"\nsource = \"app\"\ntable = \"jobs\"\nsince_column = \"updated_at\"\nstalled_for = 3\n"
        ),
        "10:15",
        "`stalled_for` does not apply to a stuck watch on a SQL table",
    );
    assert_error_at(
        &format!(
            "{db}[watches.spend]\nkind = \"jump\"\nsource = \"app\"\nquery = \"SELECT 1\"\nmin_change = -5.0\n"
        ),
        "9:14",
        "invalid jump settings: min_abs_change must be >= 0",
    );
    assert_error_at(
        &format!("{db}[watches.spend]\nkind = \"jump\"\nsource = \"app\"\ntoken = \"x\"\n"),
        "8:9",
        "`token` does not apply to jump watches",
    );
}

#[test]
fn query_names_the_sources_it_can_read_and_refuses_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &format!(
            "[store]\npath = \"{}/s.db\"\n[sources.queues]\nkind = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\n[sources.shop]\nkind = \"sqlite\"\nurl = \"sqlite://{}/shop.db\"\n",
            dir.path().display(),
            dir.path().display()
        ),
    );
    let query = |source: &str| {
        let out = Command::new(sentinel_bin())
            .args(["query", "--config"])
            .arg(&path)
            .args([source, "SELECT 1"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = query("nope");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("sources `sentinel query` reads in"),
        "{stderr}"
    );
    assert!(stderr.trim_end().ends_with(": shop"), "{stderr}");
    let (code, stderr) = query("queues");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("reads SQL, Prometheus and Loki sources"),
        "{stderr}"
    );
}

#[test]
fn error_class_reads_files_or_loki_and_says_which_keys_go_together() {
    let loki = "[sources.logs]\nkind = \"loki\"\nurl = \"http://127.0.0.1:3100\"\n\n";
    let head = "[watches.api]\nkind = \"error_class\"\n";
    assert_error_at(
        head,
        "2:8",
        "error_class watch `api` needs path = \"/var/log/nginx/access.log\"",
    );
    assert_error_at(
        &format!("{head}path = \"/var/log/nginx/access.log\"\napp_query = '{{app=\"shop\"}}'\n"),
        "4:13",
        "app_query reads the app's log from the same Loki `source`",
    );
    assert_error_at(
        &format!(
            "{loki}{head}source = \"logs\"\nquery = '{{job=\"nginx\"}}'\napp_query = 'rate(x[5m])'\n"
        ),
        "9:13",
        "app_query is a LogQL log query",
    );
    assert_error_at(
        &format!(
            "{loki}{head}source = \"logs\"\nquery = '{{job=\"nginx\"}}'\napp_log = \"/var/log/app.log\"\napp_query = '{{app=\"shop\"}}'\n"
        ),
        "9:11",
        "from files (app_log) or from Loki (app_query), not both",
    );
    for good in [
        format!("{head}path = \"/var/log/nginx/access.log\"\napp_log = \"/var/log/app/*.log\"\n"),
        format!(
            "{loki}{head}source = \"logs\"\nquery = '{{job=\"nginx\"}}'\napp_query = '{{app=\"shop\"}}'\nhistory = \"1d\"\n"
        ),
        format!(
            "{loki}{head}source = \"logs\"\nquery = '{{job=\"nginx\"}}'\napp_log = \"/var/log/app/*.log\"\n"
        ),
    ] {
        let (code, stderr) = check(&good);
        assert_eq!(code, 0, "{good}\n{stderr}");
    }
}
