//! The binary as an operator runs it: exit codes, one-line errors, signals.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::app::WAIT;
use support::fake_telegram::{FakeTelegram, TOKEN};

fn aftercare() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aftercare"));
    c.env_remove("TELOXIDE_TOKEN")
        .env_remove("TELOXIDE_API_URL")
        .env_remove("DATABASE_URL")
        .env("AFTERCARE_MESSAGES", support::app::messages_dir())
        .env("RUST_LOG", "info");
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn preview_shows_the_course_with_local_times_and_no_token() {
    let (code, out, err) = run(aftercare().args([
        "preview",
        "--timezone",
        "Europe/Berlin",
        "--session",
        "2026-11-23 14:30",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("── Mon 23 Nov, 14:30 · What's normal, and what to do now ──"),
        "{out}"
    );
    assert!(out.contains("── Tue 24 Nov, 09:00 ·"), "{out}");
    assert!(out.contains("SPF 30"), "{out}");
    assert!(!out.contains('<'), "the preview shows plain text: {out}");
}

#[test]
fn preview_across_the_spring_transition_keeps_local_clock_times() {
    let (code, out, err) = run(aftercare().args([
        "preview",
        "--timezone",
        "America/New_York",
        "--session",
        "2026-03-06 10:00",
    ]));
    assert_eq!(code, 0, "{err}");
    // 3 days later is Monday 9 March at 10:00 local, after clocks went forward on the 8th.
    assert!(out.contains("── Mon 9 Mar, 10:00 ·"), "{out}");
}

#[test]
fn bad_preview_arguments_are_explained() {
    let (code, _, err) = run(aftercare().args(["preview", "--timezone", "Mars/Olympus"]));
    assert_eq!(code, 2);
    assert!(err.contains("`Mars/Olympus` is not a time zone"), "{err}");
    let (code, _, err) = run(aftercare().args(["preview", "--session", "yesterday"]));
    assert_eq!(code, 2);
    assert!(err.contains("--session"), "{err}");
    let (code, _, err) = run(aftercare().args(["preview", "--plan", "botox"]));
    assert_eq!(code, 2);
    assert!(err.contains("no plan `botox`"), "{err}");
}

#[test]
fn running_without_a_token_says_so() {
    let (code, _, err) = run(aftercare().arg("run"));
    assert_eq!(code, 2);
    assert!(err.contains("TELOXIDE_TOKEN is not set"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn without_a_subcommand_or_a_token_it_starts_the_demo_and_removes_its_folder_at_sigterm() {
    use std::io::{BufRead, BufReader};
    let mut child = aftercare()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().and_then(Result::ok).unwrap_or_default();
    let first = next();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no loopback address in {first:?}"))
        .to_string();
    let db_line = (0..3)
        .map(|_| next())
        .find(|l| l.starts_with("The demo's database:"))
        .expect("the demo names its database");
    let db = std::path::PathBuf::from(
        db_line
            .trim_start_matches("The demo's database: ")
            .trim_end_matches(" (never your DATABASE_URL)."),
    );
    assert!(db.exists(), "{}", db.display());
    assert!(db.starts_with(std::env::temp_dir()), "{}", db.display());

    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let page = http_get(host, host);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<title>aftercare demo</title>"), "{page}");
    // A page of another site, reaching this port through a name it controls, is refused.
    let foreign = http_get(host, "demo.example.com");
    assert!(foreign.starts_with("HTTP/1.1 403"), "{foreign}");

    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("No TELOXIDE_TOKEN: starting the demo"),
        "{err}"
    );
    assert!(err.contains("aftercare preview"), "{err}");
    assert!(
        !db.parent().unwrap().exists(),
        "the temporary folder {} is left behind",
        db.display()
    );
}

/// A plain HTTP/1.1 GET of `/` from `addr`, naming `host`; the whole answer.
fn http_get(addr: &str, host: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn a_broken_messages_folder_stops_start_up_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&support::app::messages_dir(), dir.path());
    let plan = dir.path().join("plans/microneedling.toml");
    let text =
        std::fs::read_to_string(&plan)
            .unwrap()
            .replacen("after = \"0s\"", "after = \"soon\"", 1);
    std::fs::write(&plan, text).unwrap();
    let wording = dir.path().join("de/microneedling.toml");
    let text =
        std::fs::read_to_string(&wording)
            .unwrap()
            .replacen("{first_name}", "{frist_name}", 1);
    std::fs::write(&wording, text).unwrap();

    let (code, out, err) = run(aftercare().args(["messages", "check"]).arg(dir.path()));
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("plans/microneedling.toml:")
            && err.contains("after: `soon` is not a duration"),
        "{err}"
    );
    // Each problem is a line of its own that starts with the file.
    let problem_lines: Vec<&str> = err.lines().filter(|l| l.contains(".toml:")).collect();
    assert!(!problem_lines.is_empty(), "{err}");
    for line in &problem_lines {
        assert!(
            line.starts_with(&dir.path().display().to_string()),
            "{line}"
        );
    }
    assert!(err.lines().last().unwrap().contains("problem"), "{err}");
    let (code, _, err) = run(aftercare()
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("AFTERCARE_MESSAGES", dir.path())
        .arg("run"));
    assert_eq!(code, 2);
    assert!(err.contains("after: `soon`"), "{err}");

    let (code, out, _) = run(aftercare().args(["messages", "check"]));
    assert_eq!(code, 0);
    assert!(out.contains("valid"));
    let (code, _, err) = run(aftercare().args(["messages", "check", "/nonexistent/messages"]));
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent/messages"), "{err}");
}

#[test]
fn messages_check_names_what_a_new_language_still_lacks() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&support::app::messages_dir(), dir.path());
    let es = dir.path().join("es");
    std::fs::create_dir_all(&es).unwrap();
    copy_dir(&dir.path().join("en"), &es);
    let bot = es.join("bot.toml");
    let text = std::fs::read_to_string(&bot)
        .unwrap()
        .replace("stop_nothing = ", "# stop_nothing = ")
        .replace("language_name = \"English\"", "language_name = \"Español\"");
    std::fs::write(&bot, text).unwrap();
    let wording = es.join("microneedling.toml");
    let text = std::fs::read_to_string(&wording)
        .unwrap()
        .replacen("{first_name}", "{nombre}", 1);
    std::fs::write(&wording, text).unwrap();

    let (code, _, err) = run(aftercare().args(["messages", "check"]).arg(dir.path()));
    assert_eq!(code, 2, "{err}");
    let shown = dir.path().display().to_string();
    assert!(
        err.lines()
            .any(|l| l == format!("{shown}/es/bot.toml:1: missing `stop_nothing`")),
        "{err}"
    );
    assert!(
        err.lines().any(
            |l| l.starts_with(&format!("{shown}/es/microneedling.toml:"))
                && l.contains("unknown placeholder {nombre}")
        ),
        "{err}"
    );
}

#[test]
fn an_unopenable_database_stops_start_up_with_its_path() {
    let (code, _, err) = run(aftercare()
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("DATABASE_URL", "sqlite:///nonexistent-dir/x/aftercare.db")
        .arg("run"));
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent-dir/x/aftercare.db"), "{err}");
    assert!(!err.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn clinic_add_prints_an_owner_link_from_the_bot_username() {
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = support::app::db_url(&dir);
    let url = tg.api_url();
    let out = tokio::task::spawn_blocking(move || {
        run(aftercare()
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", url)
            .env("DATABASE_URL", db)
            .args([
                "clinic",
                "add",
                "--name",
                "Glow Clinic",
                "--timezone",
                "Europe/Berlin",
            ]))
    })
    .await
    .unwrap();
    let (code, out, err) = out;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!(
            "https://t.me/{}?start=",
            support::fake_telegram::BOT_USERNAME
        )),
        "{out}"
    );

    let (code, _, err) = run(aftercare().env("TELOXIDE_TOKEN", TOKEN).args([
        "clinic",
        "add",
        "--name",
        "X",
        "--timezone",
        "Berlin",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("`Berlin` is not a time zone"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_bot_within_ten_seconds_with_exit_zero() {
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Started as the README says: no subcommand, the token in the environment.
    let child = aftercare()
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", tg.api_url())
        .env("DATABASE_URL", support::app::db_url(&dir))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Running once it polls for updates.
    support::app::eventually("the bot polls", || async { tg.requests("getUpdates") > 0 }).await;
    let asked = Instant::now();
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "took {:?}",
        asked.elapsed()
    );
    assert_eq!(status.status.code(), Some(0));
    let log = String::from_utf8_lossy(&status.stderr);
    assert!(!log.contains(TOKEN), "the token leaked into the log");
    assert!(log.contains("stopped"), "{log}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_read_only_database_stops_start_up_with_a_clear_error_and_is_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("aftercare.db");
    // Create and migrate the database once, as a first start would.
    let (code, _, err) = run(aftercare()
        .env("DATABASE_URL", format!("sqlite://{}", file.display()))
        .args(["audit", "export", "--clinic", "1", "--since", "2026-01-01"]));
    assert_eq!(code, 2, "{err}");
    let before = std::fs::read(&file).unwrap();
    // The same file, read-only (as a read-only mount or file would give it).
    let read_only = format!("sqlite://{}?mode=ro", file.display());
    let (code, _, err) = run(aftercare()
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("DATABASE_URL", &read_only)
        .arg("run"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the database cannot be written"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), before, "the file changed");
    // Readable is enough for exporting the audit trail.
    let (_, _, err) = run(aftercare().env("DATABASE_URL", &read_only).args([
        "audit",
        "export",
        "--clinic",
        "1",
        "--since",
        "2026-01-01",
    ]));
    assert!(err.contains("there is no clinic #1"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn clinic_add_takes_a_contact_and_names_the_emergency_number_and_preview_shows_that_clinic() {
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = support::app::db_url(&dir);
    let (url, db2) = (tg.api_url(), db.clone());
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run(aftercare()
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", url)
            .env("DATABASE_URL", db2)
            .args([
                "clinic",
                "add",
                "--name",
                "Glow Clinic",
                "--timezone",
                "America/New_York",
                "--contact",
                "+1 212 555 0100",
            ]))
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Emergency number for patients: 911"), "{out}");
    assert!(
        out.contains("Contact for patients: +1 212 555 0100"),
        "{out}"
    );

    // The preview of that clinic: its contact, its zone's emergency number.
    let (code, out, err) = run(aftercare().env("DATABASE_URL", &db).args([
        "preview",
        "--clinic",
        "1",
        "--session",
        "2026-11-23 14:30",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(America/New_York)"), "{out}");
    assert!(out.contains("☎️ +1 212 555 0100"), "{out}");
    assert!(out.contains("Call 911 right away"), "{out}");
    assert!(!out.contains("no contact set"), "{out}");

    let (code, _, err) = run(aftercare()
        .env("DATABASE_URL", &db)
        .args(["preview", "--clinic", "7"]));
    assert_eq!(code, 2);
    assert!(err.contains("there is no clinic #7"), "{err}");
}

#[test]
fn preview_without_a_clinic_says_no_contact_is_set_rather_than_show_a_sample_number() {
    let (code, out, err) = run(aftercare().args(["preview", "--session", "2026-11-23 14:30"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("☎️ (no contact set)"), "{out}");
    assert!(!out.contains("1234567"), "{out}");
    assert!(out.contains("No makeup for 24 hours"), "{out}");
    assert!(out.contains("Call 112 right away"), "{out}");

    let (code, out, err) =
        run(aftercare().args(["preview", "--lang", "de", "--contact", "+49 30 1234567"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("☎️ +49 30 1234567"), "{out}");
    assert!(out.contains("24 Stunden lang kein Make-up"), "{out}");
    assert!(out.contains("den Notruf 112"), "{out}");
}

#[test]
fn messages_check_refuses_a_first_step_or_checkin_without_the_safety_lines() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&support::app::messages_dir(), dir.path());
    let wording = dir.path().join("de/microneedling.toml");
    let text = std::fs::read_to_string(&wording)
        .unwrap()
        .replacen("{warning_signs}", "", 1);
    std::fs::write(&wording, text).unwrap();
    let safety = dir.path().join("en/safety.toml");
    let text = std::fs::read_to_string(&safety)
        .unwrap()
        .replace("☎️ {clinic_contact}", "");
    std::fs::write(&safety, text).unwrap();

    let (code, _, err) = run(aftercare().args(["messages", "check"]).arg(dir.path()));
    assert_eq!(code, 2, "{err}");
    let shown = dir.path().display().to_string();
    assert!(
        err.lines().any(|l| l.starts_with(&format!("{shown}/de/microneedling.toml:"))
            && l.contains("normal-now: this message must contain {warning_signs}: the bot writes the warning signs")),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with(&format!("{shown}/en/safety.toml:"))
                && l.contains("warning_signs: this message must contain {clinic_contact}")),
        "{err}"
    );
}

#[test]
fn help_names_every_setting_with_its_flag_and_environment_variable() {
    let (code, out, err) = run(aftercare().arg("--help"));
    assert_eq!(code, 0, "{err}");
    for (flag, env) in [
        ("--token", "TELOXIDE_TOKEN"),
        ("--api-url", "TELOXIDE_API_URL"),
        ("--database-url", "DATABASE_URL"),
        ("--messages", "AFTERCARE_MESSAGES"),
        ("--db-connections", "AFTERCARE_DB_CONNECTIONS"),
        ("--log", "RUST_LOG"),
    ] {
        assert!(out.contains(flag), "{flag} missing: {out}");
        assert!(out.contains(&format!("env: {env}")), "{env} missing: {out}");
    }
    let (code, out, _) = run(aftercare().args(["run", "--help"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("--poll-timeout") && out.contains("env: AFTERCARE_POLL_TIMEOUT"),
        "{out}"
    );
    // The token's value is never shown, even when set.
    let (_, out, _) = run(aftercare().env("TELOXIDE_TOKEN", TOKEN).arg("--help"));
    assert!(!out.contains(TOKEN), "{out}");
}

#[test]
fn webhook_settings_are_listed_and_bad_ones_refused_before_start() {
    let (code, out, _) = run(aftercare().args(["run", "--help"]));
    assert_eq!(code, 0);
    for (flag, env) in [
        ("--webhook-url", "AFTERCARE_WEBHOOK_URL"),
        ("--webhook-listen", "AFTERCARE_WEBHOOK_LISTEN"),
        ("--webhook-secret", "AFTERCARE_WEBHOOK_SECRET"),
    ] {
        assert!(out.contains(flag), "{flag} missing: {out}");
        assert!(out.contains(&format!("env: {env}")), "{env} missing: {out}");
    }
    let (_, out, _) = run(aftercare()
        .env("AFTERCARE_WEBHOOK_SECRET", "hidden_secret_value")
        .args(["run", "--help"]));
    assert!(!out.contains("hidden_secret_value"), "{out}");

    let hook = ["run", "--webhook-url", "https://bot.example.com/tg"];
    for (args, says) in [
        (&hook[..], "--webhook-listen"),
        (
            &[
                "run",
                "--webhook-url",
                "ftp://x/tg",
                "--webhook-listen",
                "127.0.0.1:0",
            ][..],
            "https://",
        ),
        (
            &[
                &hook[..],
                &[
                    "--webhook-listen",
                    "127.0.0.1:0",
                    "--webhook-secret",
                    "has space",
                ],
            ]
            .concat()[..],
            "A-Z",
        ),
    ] {
        let (code, _, err) = run(aftercare().env("TELOXIDE_TOKEN", TOKEN).args(args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn api_url_is_a_flag_before_or_after_the_subcommand() {
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = support::app::db_url(&dir);
    let url = tg.api_url();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run(aftercare().env("DATABASE_URL", db).args([
            "--api-url",
            &url,
            "clinic",
            "add",
            "--token",
            TOKEN,
            "--name",
            "Glow Clinic",
            "--timezone",
            "Europe/Berlin",
        ]))
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("?start="), "{out}");
}

#[test]
fn a_missing_messages_folder_says_how_to_point_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let (code, _, err) = run(aftercare()
        .env("AFTERCARE_MESSAGES", &missing)
        .args(["preview"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nowhere: no messages folder here"), "{err}");
    assert!(
        err.contains("--messages") && err.contains("AFTERCARE_MESSAGES"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let (code, _, err) = run(aftercare()
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("DATABASE_URL", support::app::db_url(&dir))
        .env("AFTERCARE_MESSAGES", &missing)
        .arg("run"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("AFTERCARE_MESSAGES"), "{err}");
}

#[test]
fn a_database_url_that_is_not_sqlite_is_refused_and_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(aftercare()
        .current_dir(dir.path())
        .env("TELOXIDE_TOKEN", TOKEN)
        .env(
            "DATABASE_URL",
            "postgres://care:s3cret@db.example/aftercare",
        )
        .arg("run"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("DATABASE_URL is a postgres: URL"), "{err}");
    assert!(err.contains("sqlite://"), "{err}");
    assert!(!err.contains("s3cret"), "the password leaked: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let (code, _, err) = run(aftercare()
        .current_dir(dir.path())
        .env("DATABASE_URL", "garbage")
        .args(["clinic", "list"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("DATABASE_URL `garbage` is neither a sqlite: URL nor a path"),
        "{err}"
    );
    assert!(
        !dir.path().join("garbage").exists(),
        "a file named garbage was created"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // A plain path to a file is taken as it is.
    let file = dir.path().join("care.db");
    let (code, out, err) = run(aftercare()
        .env("DATABASE_URL", &file)
        .args(["clinic", "list"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("No clinics yet"), "{out}");
    assert!(file.exists());
}

fn clinic_add(tg_url: &str, db: &str, name: &str) -> (i32, String, String) {
    run(aftercare()
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", tg_url)
        .env("DATABASE_URL", db)
        .args([
            "clinic",
            "add",
            "--name",
            name,
            "--timezone",
            "Europe/Berlin",
        ]))
}

#[tokio::test(flavor = "multi_thread")]
async fn clinic_list_shows_each_clinic_and_a_duplicate_name_is_warned_about() {
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = support::app::db_url(&dir);
    let url = tg.api_url();
    let (db2, url2) = (db.clone(), url.clone());
    let (first, second) = tokio::task::spawn_blocking(move || {
        (
            clinic_add(&url2, &db2, "Glow Clinic"),
            clinic_add(&url2, &db2, "glow clinic"),
        )
    })
    .await
    .unwrap();
    assert_eq!(first.0, 0, "{}", first.2);
    assert!(!first.2.contains("same name"), "{}", first.2);
    assert_eq!(second.0, 0, "{}", second.2);
    assert!(
        second.2.contains("Note: clinic #1 has the same name"),
        "{}",
        second.2
    );

    let (code, out, err) = run(aftercare()
        .env("DATABASE_URL", &db)
        .args(["clinic", "list"]));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("#1 Glow Clinic · Europe/Berlin · no contact · no owner yet"),
        "{out}"
    );
    assert!(lines[1].starts_with("#2 glow clinic ·"), "{out}");
    assert!(lines[0].ends_with("0 patients"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn owner_link_makes_a_fresh_link_voids_the_earlier_one_and_is_audited() {
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = support::app::db_url(&dir);
    let url = tg.api_url();
    let (db2, url2) = (db.clone(), url.clone());
    let (added, relinked, missing) = tokio::task::spawn_blocking(move || {
        let owner_link = |id: &str| {
            run(aftercare()
                .env("TELOXIDE_TOKEN", TOKEN)
                .env("TELOXIDE_API_URL", &url2)
                .env("DATABASE_URL", &db2)
                .args(["clinic", "owner-link", id]))
        };
        (
            clinic_add(&url2, &db2, "Glow Clinic"),
            owner_link("1"),
            owner_link("9"),
        )
    })
    .await
    .unwrap();
    assert_eq!(added.0, 0, "{}", added.2);
    assert_eq!(relinked.0, 0, "{}", relinked.2);
    assert!(
        relinked
            .1
            .contains("The earlier owner link of clinic #1 no longer works."),
        "{}",
        relinked.1
    );
    let link_of = |out: &str| {
        out.lines()
            .find(|l| l.contains("?start="))
            .map(|l| l.split("?start=").nth(1).unwrap().to_string())
            .unwrap()
    };
    let (old, new) = (link_of(&added.1), link_of(&relinked.1));
    assert_ne!(old, new);
    assert_eq!(missing.0, 2);
    assert!(missing.2.contains("there is no clinic #9"), "{}", missing.2);

    // In Telegram: the old link is refused, the new one makes its opener the owner.
    let dir = std::sync::Arc::new(dir);
    let app = support::app::TestApp::start_with(
        tg,
        aftercare::clock::ManualClock::new(chrono::Utc::now()),
        dir.clone(),
    )
    .await;
    let owner = support::people::owner();
    app.tg.send_text(&owner, &format!("/start {old}"));
    app.tg
        .wait_for(
            owner.id,
            |m| m.plain_text().contains("replaced by a newer one"),
            WAIT,
        )
        .await;
    app.tg.send_text(&owner, &format!("/start {new}"));
    app.tg
        .wait_for(owner.id, |m| m.plain_text().contains("owner of"), WAIT)
        .await;
    app.stop().await;

    let (code, csv, err) = run(aftercare().env("DATABASE_URL", &db).args([
        "audit",
        "export",
        "--clinic",
        "1",
        "--since",
        "2000-01-01",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        csv.lines()
            .any(|l| l.contains(",owner link,") && l.contains("1 earlier link(s) voided")),
        "{csv}"
    );
}
