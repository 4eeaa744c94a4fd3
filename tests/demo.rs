//! `aftercare demo` in a real headless browser: Chromium (Debian's package, which
//! `.ci/run` installs when missing) driven through chromedriver. The binary runs as a
//! user would start it; the test plays the owner and a patient on the chat page.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use support::webdriver::{Browser, chromium};

/// Generous: a loaded two-core machine builds, tests and runs a browser at once.
const WAIT: Duration = Duration::from_secs(60);

/// The demo's binary with its page on a free loopback port; returns it and the page's address.
/// The demo's process; killed if the test ends before stopping it.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn start_demo(dir: &std::path::Path) -> (Demo, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .args(["demo", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir)
        .env_remove("TELOXIDE_TOKEN")
        .env_remove("DATABASE_URL")
        .env(
            "AFTERCARE_MESSAGES",
            concat!(env!("CARGO_MANIFEST_DIR"), "/messages"),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("http://") {
                let url: String = line[at..].split_whitespace().next().unwrap().into();
                let _ = tx.send(url);
            }
        }
    });
    let demo = Demo(child);
    let url = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the demo printed no address within 120 s");
    (demo, url)
}

fn stop_demo(mut demo: Demo) {
    let child = &mut demo.0;
    let pid = child.id() as libc::pid_t;
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    match support::process::wait_exit(child, Duration::from_secs(20)) {
        Some(status) => assert!(status.success(), "the demo exited with {status}"),
        None => {
            let _ = child.kill();
            panic!("the demo did not stop within 20 s of SIGTERM");
        }
    }
}

#[test]
fn a_listen_address_beyond_loopback_is_refused_unless_allowed() {
    let out = Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .args(["demo", "--listen", "0.0.0.0:0"])
        .env_remove("TELOXIDE_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a loopback address"), "{err}");
    assert!(err.contains("--allow-remote"), "{err}");
}

#[test]
fn a_folder_holding_an_earlier_demo_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aftercare-demo.db");
    std::fs::write(&db, b"earlier").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .args(["demo", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir.path())
        .env_remove("TELOXIDE_TOKEN")
        .env(
            "AFTERCARE_MESSAGES",
            concat!(env!("CARGO_MANIFEST_DIR"), "/messages"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already holds a demo database"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), b"earlier", "left as it was");
}

/// The text a person's column shows, by their Telegram id.
fn column_text(person: i64) -> String {
    format!(
        "const c = document.querySelector('section.column[data-person=\"{person}\"] .chat');\
         return c ? c.innerText : '';"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_enrolls_a_patient_plays_the_course_and_alerts_the_owner() {
    if std::env::var_os("AFTERCARE_SKIP_BROWSER_TEST").is_some() {
        eprintln!("AFTERCARE_SKIP_BROWSER_TEST is set: the browser test did not run");
        return;
    }
    let (browser_bin, driver_bin) = chromium().expect(
        "the demo's browser test needs Chromium and chromedriver: \
         apt-get install -y chromium chromium-driver (.ci/run does), \
         or set AFTERCARE_SKIP_BROWSER_TEST=1 to skip it",
    );
    let dir = tempfile::tempdir().unwrap();
    let (demo, url) = start_demo(dir.path());
    let browser = Browser::start(&browser_bin, &driver_bin).await;
    browser.goto(&url).await;

    // The owner (Olga, 1001) and the staff member (Sam, 1002) joined at start-up.
    browser
        .wait_until(
            "the owner's and the staff member's columns show their welcome",
            &format!(
                "const a = (function(){{ {} }})(); const b = (function(){{ {} }})();\
                 return a.includes('Welcome') && b.includes('Welcome');",
                column_text(1001),
                column_text(1002)
            ),
            WAIT,
        )
        .await;

    // The owner enrolls Anna by typing the command.
    let input = browser
        .find(
            "//section[@data-person='1001']//input[contains(@class,'text')]",
            WAIT,
        )
        .await;
    browser.type_into(&input, "/enroll Anna Berg").await;
    let send = browser
        .find(
            "//section[@data-person='1001']//button[@class='send']",
            WAIT,
        )
        .await;
    browser.click(&send).await;
    let link = browser
        .find(
            "(//section[@data-person='1001']//div[contains(@class,'msg') and contains(.,'Anna')]\
             //a[contains(@href,'?start=')])[last()]",
            WAIT,
        )
        .await;
    browser
        .wait_until(
            "the QR picture of the link is shown",
            "return [...document.querySelectorAll('section[data-person=\"1001\"] .msg img')]\
             .some(i => i.complete && i.naturalWidth > 100);",
            WAIT,
        )
        .await;

    // Clicking the t.me link opens it in "Telegram" as a new patient.
    browser.click(&link).await;
    let as_new = browser
        .find("//div[@id='link-menu']//button[@data-new]", WAIT)
        .await;
    browser.click(&as_new).await;
    browser
        .wait_until(
            "Anna (2001) is greeted by first name",
            &format!(
                "return (function(){{ {} }})().includes('Anna');",
                column_text(2001)
            ),
            WAIT,
        )
        .await;

    // The clock jumps from message to message until the first check-in arrives.
    let checkin = "//section[@data-person='2001']//button[contains(@class,'kb') and \
                   starts-with(normalize-space(.),'Signs of infection')]";
    let mut jumps = 0;
    while browser.find_all(checkin).await.is_empty() {
        assert!(jumps < 15, "no check-in after 15 jumps");
        let before = browser
            .run(
                "return document.querySelectorAll('section[data-person=\"2001\"] .msg').length",
                json!([]),
            )
            .await;
        let jump = browser.find("//button[@id='jump']", WAIT).await;
        browser.click(&jump).await;
        jumps += 1;
        // A step may be skipped (past its `expires`) rather than sent: then the next
        // jump moves on, and the 15 jumps bound the loop.
        browser
            .wait_while_not(
                &format!(
                    "return document.querySelectorAll('section[data-person=\"2001\"] .msg')\
                     .length > {before};"
                ),
                Duration::from_secs(20),
            )
            .await;
    }
    let anna = browser
        .run(&column_text(2001), json!([]))
        .await
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        anna.contains("mild sunburn"),
        "the course's first message came before the check-in: {anna}"
    );
    assert!(anna.contains("SPF 30"), "{anna}");

    // Anna answers "Signs of infection": she gets advice, the owner an alert.
    let buttons = browser.find_all(checkin).await;
    browser.click(buttons.last().unwrap()).await;
    browser
        .wait_until(
            "Anna is told signs of infection need a look soon",
            &format!(
                "return (function(){{ {} }})().includes('Signs of infection need a look soon');",
                column_text(2001)
            ),
            WAIT,
        )
        .await;
    browser
        .find(
            "//section[@data-person='1001']//div[contains(@class,'msg') and contains(.,'Anna Berg') \
             and contains(.,'Signs of infection')]/following-sibling::div[@class='keyboard']\
             //button[normalize-space(.)='Handled']",
            WAIT,
        )
        .await;

    let png = browser.screenshot().await;
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
    if let Some(path) = std::env::var_os("AFTERCARE_DEMO_SCREENSHOT") {
        std::fs::write(&path, &png).unwrap();
    }
    browser.quit().await;
    stop_demo(demo);
    assert!(
        dir.path().join("aftercare-demo.db").exists(),
        "the demo kept its database in the folder it was given"
    );
}

/// The page's state: what was written after write number `since` (the page's long poll:
/// it answers at once when there is news, else after a short wait), people and clock.
async fn page_state(http: &reqwest::Client, url: &str, since: u64) -> serde_json::Value {
    http.get(format!("{url}api/state?since={since}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits, on the page's own long poll (its state answers when something new is
/// written), for a message the page shows that matches `wanted`.
async fn page_message(
    http: &reqwest::Client,
    url: &str,
    what: &str,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut since = 0;
    loop {
        let state = page_state(http, url, since).await;
        let messages = state["messages"].as_array().cloned().unwrap_or_default();
        if let Some(m) = messages.into_iter().find(|m| wanted(m)) {
            return m;
        }
        since = state["seq"].as_u64().unwrap_or(since);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the page shows no {what}"
        );
    }
}

/// Waits until the bot wrote a message in `chat` whose page HTML contains `needle`.
async fn bot_wrote(http: &reqwest::Client, url: &str, chat: i64, needle: &str) {
    page_message(http, url, needle, |m| {
        m["from_bot"] == true
            && m["chat"] == chat
            && m["html"].as_str().is_some_and(|h| h.contains(needle))
    })
    .await;
}

/// Course files on the page: `/course export` shows a file to download, and the file
/// sent back with 📎 reaches the bot as a document (no browser needed: the page's API).
#[tokio::test]
async fn the_page_downloads_an_exported_course_and_sends_it_back_as_a_file() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let (demo, url) = start_demo(dir.path());
    let url = if url.ends_with('/') {
        url
    } else {
        format!("{url}/")
    };
    let http = reqwest::Client::new();
    let owner = page_state(&http, &url, 0).await["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "owner")
        .expect("the demo has an owner")["id"]
        .as_i64()
        .unwrap();
    let say = |text: &str| {
        http.post(format!("{url}api/send"))
            .json(&json!({ "person": owner, "text": text }))
            .send()
    };
    assert!(
        say("/course new \"Laser care\" from microneedling")
            .await
            .unwrap()
            .status()
            .is_success()
    );
    bot_wrote(&http, &url, owner, "created").await;
    say("/course export laser-care").await.unwrap();
    let exported = page_message(&http, &url, "file", |m| {
        m["from_bot"] == true && m["chat"] == owner && m["document"].is_array()
    })
    .await;
    assert_eq!(exported["document"][1], "laser-care.toml");
    let file = http
        .get(format!(
            "{url}{}",
            exported["document"][0]
                .as_str()
                .unwrap()
                .trim_start_matches('/')
        ))
        .send()
        .await
        .unwrap();
    assert!(file.status().is_success());
    let disposition = file.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(disposition, "attachment; filename=\"laser-care.toml\"");
    let bytes = file.bytes().await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains("name = \"Laser care\""), "{text}");

    // Sent back unchanged with 📎: the bot fetches it, checks it, and says so.
    let sent = http
        .post(format!("{url}api/document"))
        .json(&json!({
            "person": owner,
            "file_name": "laser-care.toml",
            "data": base64::engine::general_purpose::STANDARD.encode(&bytes),
        }))
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success());
    bot_wrote(&http, &url, owner, "Nothing to save").await;
    // An empty file is refused by the page, before the bot.
    let empty = http
        .post(format!("{url}api/document"))
        .json(&json!({ "person": owner, "file_name": "x.toml", "data": "" }))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
    stop_demo(demo);
}
