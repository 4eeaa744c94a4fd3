//! A fake Telegram Bot API server for end-to-end tests.
//!
//! It serves the Bot API over loopback HTTP (axum), keeps an update queue that
//! the bot long-polls through `getUpdates`, records everything the bot sends,
//! and validates requests the way Telegram does (unknown chat, blocked user,
//! text/caption length, strict HTML parsing, callback_data size, ...).
//!
//! Point a teloxide bot at it with
//! `Bot::new(TOKEN).set_api_url(fake.api_url().parse().unwrap())`
//! (or simply `fake.bot()`).
#![allow(dead_code)]

use std::{
    collections::{HashMap, HashSet, VecDeque},
    fmt::Write as _,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

pub const TOKEN: &str = "123456:TEST-fake-token";
pub const BOT_USERNAME: &str = "aftercare_test_bot";
pub const BOT_ID: i64 = 123456;
const BOT_FIRST_NAME: &str = "Aftercare Test Bot";

const MAX_TEXT_LEN: usize = 4096;
const MAX_CAPTION_LEN: usize = 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Public data types
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

impl TestUser {
    pub fn new(id: i64, first_name: &str) -> Self {
        TestUser {
            id,
            first_name: first_name.to_string(),
            last_name: None,
            username: None,
            language_code: None,
        }
    }

    pub fn lang(mut self, code: &str) -> Self {
        self.language_code = Some(code.to_string());
        self
    }

    pub fn last_name(mut self, last_name: &str) -> Self {
        self.last_name = Some(last_name.to_string());
        self
    }

    pub fn username(mut self, username: &str) -> Self {
        self.username = Some(username.to_string());
        self
    }

    fn user_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("is_bot".into(), json!(false));
        m.insert("first_name".into(), json!(self.first_name));
        if let Some(v) = &self.last_name {
            m.insert("last_name".into(), json!(v));
        }
        if let Some(v) = &self.username {
            m.insert("username".into(), json!(v));
        }
        if let Some(v) = &self.language_code {
            m.insert("language_code".into(), json!(v));
        }
        Value::Object(m)
    }

    fn private_chat_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("type".into(), json!("private"));
        m.insert("first_name".into(), json!(self.first_name));
        if let Some(v) = &self.last_name {
            m.insert("last_name".into(), json!(v));
        }
        if let Some(v) = &self.username {
            m.insert("username".into(), json!(v));
        }
        Value::Object(m)
    }
}

/// One successful outgoing call of the bot (a send or an edit).
#[derive(Clone, Debug)]
pub struct SentMessage {
    pub message_id: i32,
    pub chat_id: i64,
    /// "sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup".
    pub method: String,
    /// Text or caption exactly as sent (HTML source when parse_mode is HTML).
    pub text: String,
    pub parse_mode: Option<String>,
    /// The reply_markup as sent (any keyboard kind), None if absent.
    pub reply_markup: Option<Value>,
    /// Size of the uploaded photo, for multipart uploads.
    pub photo_bytes: Option<usize>,
    /// The file_id a photo was sent by (re-sending a file Telegram already has).
    pub photo_file_id: Option<String>,
    pub at: Instant,
}

impl SentMessage {
    /// The visible text: with parse_mode HTML the tags are stripped and the
    /// entities decoded (exactly as Telegram would show it); without a
    /// parse_mode the text is literal and returned unchanged.
    pub fn plain_text(&self) -> String {
        if is_html(self.parse_mode.as_deref()) {
            match parse_html(&self.text) {
                Ok(p) => p.text,
                Err(_) => strip_tags_lenient(&self.text),
            }
        } else {
            self.text.clone()
        }
    }

    /// callback_data of all inline keyboard buttons, row by row.
    pub fn button_data(&self) -> Vec<String> {
        self.buttons().into_iter().filter_map(|(_, d)| d).collect()
    }

    /// (text, callback_data) of all inline keyboard buttons, row by row.
    pub fn buttons(&self) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        if let Some(rows) = self
            .reply_markup
            .as_ref()
            .and_then(|m| m.get("inline_keyboard"))
            .and_then(Value::as_array)
        {
            for row in rows {
                for b in row.as_array().map(Vec::as_slice).unwrap_or_default() {
                    out.push((
                        b.get("text")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        b.get("callback_data")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    ));
                }
            }
        }
        out
    }
}

#[derive(Clone, Debug)]
pub enum Fault {
    /// HTTP 500 `{"ok":false,"error_code":500,"description":"Internal Server Error"}`.
    /// NB: teloxide sleeps 10 s after any 5xx before returning the error.
    ServerError,
    /// HTTP 502 with a non-JSON html body (teloxide: RequestError::InvalidJson, after 10 s).
    BadGateway,
    /// HTTP 429 with parameters.retry_after = N (teloxide: RequestError::RetryAfter).
    RetryAfter(u32),
    /// Answer correctly, but only after the delay.
    Slow(Duration),
}

// ---------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------

struct StoredMsg {
    chat_id: i64,
    from_bot: bool,
    json: Value,
    /// Source text/caption as sent by the bot (HTML source), for edit records.
    source: String,
    parse_mode: Option<String>,
    has_text: bool,
}

struct RateLimits {
    global_per_sec: u32,
    per_chat_min_interval: Duration,
}

#[derive(Default)]
struct Inner {
    next_update_id: i64,
    next_message_id: i32,
    next_callback_id: u64,
    updates: VecDeque<(i64, Value)>,
    allowed_updates: Option<Vec<String>>,
    known_chats: HashMap<i64, Value>,
    blocked: HashSet<i64>,
    /// Groups the bot left (leaveChat): it can no longer send there.
    left: HashSet<i64>,
    messages: HashMap<i32, StoredMsg>,
    sent: Vec<SentMessage>,
    cursors: HashMap<i64, usize>,
    callbacks_issued: HashSet<String>,
    callbacks_answered: HashSet<String>,
    answered_callbacks: Vec<(String, Option<String>)>,
    commands: Vec<(Value, Vec<(String, String)>)>,
    rejected: Vec<(String, i64, u16, String)>,
    count_429: usize,
    requests: HashMap<String, usize>,
    faults: VecDeque<Fault>,
    random: Option<(f64, u64)>,
    rate_limits: Option<RateLimits>,
    recent_sends: VecDeque<Instant>,
    last_send_per_chat: HashMap<i64, Instant>,
}

struct Shared {
    inner: Mutex<Inner>,
    sent_notify: Notify,
    updates_notify: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The fake server. Cheap to clone; all clones share the same state.
#[derive(Clone)]
pub struct FakeTelegram {
    shared: Arc<Shared>,
    addr: std::net::SocketAddr,
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

impl FakeTelegram {
    /// Binds 127.0.0.1:0 and spawns the server on the current tokio runtime.
    pub async fn start() -> FakeTelegram {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                next_update_id: 1,
                next_message_id: 1,
                next_callback_id: 1,
                ..Inner::default()
            }),
            sent_notify: Notify::new(),
            updates_notify: Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake telegram: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake telegram: local_addr");
        let app = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(shared.clone());
        // Like a real server, answer without Nagle's delay: otherwise delayed ACKs on
        // loopback add ~40 ms to every exchange and swamp what benchmarks measure.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeTelegram { shared, addr }
    }

    /// Base URL for teloxide's `Bot::set_api_url`, e.g. `http://127.0.0.1:PORT/`.
    /// teloxide appends `bot{token}/{MethodName}` as path segments.
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// A teloxide bot pointed at this server.
    pub fn bot(&self) -> teloxide::Bot {
        teloxide::Bot::new(TOKEN)
            .set_api_url(self.api_url().parse().expect("fake telegram: api url"))
    }

    // ----- incoming updates ------------------------------------------------

    /// `from` started the bot some time ago: the bot may write to them, with no update
    /// queued now (for tests that set up their data directly in the database).
    pub fn started_earlier(&self, from: &TestUser) {
        let chat = from.private_chat_json();
        self.shared.lock().known_chats.insert(from.id, chat);
    }

    /// A private-chat text message from `from`. Returns its message_id.
    pub fn send_text(&self, from: &TestUser, text: &str) -> i32 {
        let chat = from.private_chat_json();
        self.push_user_message(from, chat, |m| add_text(m, text))
    }

    /// A private-chat text message with formatting, as Telegram delivers one typed with
    /// bold, italic, links…: the plain `text` plus `entities` (offsets and lengths in
    /// UTF-16 code units, e.g. `[{"type":"bold","offset":0,"length":5}]`).
    pub fn send_formatted(&self, from: &TestUser, text: &str, entities: Value) -> i32 {
        let chat = from.private_chat_json();
        self.push_user_message(from, chat, |m| {
            m.insert("text".into(), json!(text));
            if entities.as_array().is_some_and(|a| !a.is_empty()) {
                m.insert("entities".into(), entities);
            }
        })
    }

    /// A text message in a (basic) group; `group_chat_id` should be negative.
    pub fn send_text_in_group(&self, from: &TestUser, group_chat_id: i64, text: &str) -> i32 {
        let chat = json!({
            "id": group_chat_id,
            "type": "group",
            "title": format!("Test group {group_chat_id}"),
        });
        self.push_user_message(from, chat, |m| add_text(m, text))
    }

    /// `from` adds the bot to a (basic) group: a `my_chat_member` update, as Telegram
    /// sends it, with the bot's status going from "left" to "member".
    pub fn add_bot_to_group(&self, from: &TestUser, group_chat_id: i64) {
        let chat = json!({
            "id": group_chat_id,
            "type": "group",
            "title": format!("Test group {group_chat_id}"),
        });
        let mut inner = self.shared.lock();
        inner.known_chats.insert(group_chat_id, chat.clone());
        inner.left.remove(&group_chat_id);
        let update = json!({
            "chat": chat,
            "from": from.user_json(),
            "date": unix_now(),
            "old_chat_member": {"user": bot_user_json(), "status": "left"},
            "new_chat_member": {"user": bot_user_json(), "status": "member"},
        });
        push_update(&mut inner, "my_chat_member", update);
        drop(inner);
        self.shared.updates_notify.notify_waiters();
    }

    /// Groups the bot has left.
    pub fn left_chats(&self) -> Vec<i64> {
        self.shared.lock().left.iter().copied().collect()
    }

    /// A private-chat reply to an earlier message (normally one the bot sent).
    /// Panics if no message with that id exists in the user's chat.
    pub fn send_reply(&self, from: &TestUser, text: &str, reply_to_message_id: i32) -> i32 {
        let replied = {
            let inner = self.shared.lock();
            match inner.messages.get(&reply_to_message_id) {
                Some(m) if m.chat_id == from.id => shallow(&m.json),
                _ => panic!(
                    "fake telegram: send_reply: no message {reply_to_message_id} in chat {}",
                    from.id
                ),
            }
        };
        let chat = from.private_chat_json();
        self.push_user_message(from, chat, |m| {
            m.insert("reply_to_message".into(), replied);
            add_text(m, text);
        })
    }

    /// A private-chat photo message (with an optional caption).
    pub fn send_photo(&self, from: &TestUser, caption: Option<&str>) -> i32 {
        let chat = from.private_chat_json();
        let uniq = self.shared.lock().next_message_id;
        self.push_user_message(from, chat, |m| {
            m.insert("photo".into(), photo_sizes(&format!("user{uniq}"), 12345));
            if let Some(c) = caption {
                m.insert("caption".into(), json!(c));
            }
        })
    }

    /// A private-chat photo sent as a reply to an earlier message in the user's chat.
    /// Panics if no message with that id exists in the user's chat.
    pub fn send_photo_reply(
        &self,
        from: &TestUser,
        caption: Option<&str>,
        reply_to_message_id: i32,
    ) -> i32 {
        let (replied, uniq) = {
            let inner = self.shared.lock();
            match inner.messages.get(&reply_to_message_id) {
                Some(m) if m.chat_id == from.id => (shallow(&m.json), inner.next_message_id),
                _ => panic!(
                    "fake telegram: send_photo_reply: no message {reply_to_message_id} in chat {}",
                    from.id
                ),
            }
        };
        let chat = from.private_chat_json();
        self.push_user_message(from, chat, |m| {
            m.insert("reply_to_message".into(), replied);
            m.insert("photo".into(), photo_sizes(&format!("user{uniq}"), 12345));
            if let Some(c) = caption {
                m.insert("caption".into(), json!(c));
            }
        })
    }

    /// A private-chat location message.
    pub fn send_location(&self, from: &TestUser, latitude: f64, longitude: f64) -> i32 {
        let chat = from.private_chat_json();
        self.push_user_message(from, chat, |m| {
            m.insert(
                "location".into(),
                json!({"latitude": latitude, "longitude": longitude}),
            );
        })
    }

    /// The user presses an inline button of message `message_id` (must exist).
    /// Queues a callback_query update; returns the callback query id.
    pub fn press_button(&self, from: &TestUser, message_id: i32, data: &str) -> String {
        let mut inner = self.shared.lock();
        let (msg, chat_id) = match inner.messages.get(&message_id) {
            Some(m) => (shallow(&m.json), m.chat_id),
            None => panic!("fake telegram: press_button: no message {message_id}"),
        };
        let id = format!("{}{:06}", from.id, inner.next_callback_id);
        inner.next_callback_id += 1;
        inner.callbacks_issued.insert(id.clone());
        let cq = json!({
            "id": id,
            "from": from.user_json(),
            "message": msg,
            "chat_instance": format!("ci{chat_id}"),
            "data": data,
        });
        push_update(&mut inner, "callback_query", cq);
        drop(inner);
        self.shared.updates_notify.notify_waiters();
        id
    }

    /// From now on every send/edit/chat action to this chat answers 403.
    pub fn block_bot(&self, user_id: i64) {
        self.shared.lock().blocked.insert(user_id);
    }

    pub fn unblock_bot(&self, user_id: i64) {
        self.shared.lock().blocked.remove(&user_id);
    }

    /// Number of queued updates not yet confirmed by the bot (getUpdates offset).
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().updates.len()
    }

    // ----- observation -----------------------------------------------------

    /// Everything successfully sent (and edited), in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    pub fn sent_to(&self, chat_id: i64) -> Vec<SentMessage> {
        let inner = self.shared.lock();
        inner
            .sent
            .iter()
            .filter(|m| m.chat_id == chat_id)
            .cloned()
            .collect()
    }

    /// Waits until a message to `chat_id` located after the chat's cursor
    /// satisfies `pred`; returns it and moves the cursor just past it (so
    /// messages skipped over are consumed too). Panics with a dump on timeout.
    pub async fn wait_for(
        &self,
        chat_id: i64,
        pred: impl Fn(&SentMessage) -> bool,
        timeout: Duration,
    ) -> SentMessage {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.sent_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.shared.lock();
                let cursor = inner.cursors.get(&chat_id).copied().unwrap_or(0);
                let found = inner
                    .sent
                    .iter()
                    .filter(|m| m.chat_id == chat_id)
                    .enumerate()
                    .skip(cursor)
                    .find(|(_, m)| pred(m))
                    .map(|(i, m)| (i, m.clone()));
                if let Some((i, m)) = found {
                    inner.cursors.insert(chat_id, i + 1);
                    return m;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "fake telegram: wait_for(chat {chat_id}) timed out after {timeout:?}; \
                     no unconsumed message matched.\n{}",
                    self.dump_chat(chat_id)
                );
            }
        }
    }

    /// Waits until at least `n` unconsumed messages to `chat_id` exist; returns
    /// the next `n` of them and consumes them.
    pub async fn wait_for_count(
        &self,
        chat_id: i64,
        n: usize,
        timeout: Duration,
    ) -> Vec<SentMessage> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.sent_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.shared.lock();
                let cursor = inner.cursors.get(&chat_id).copied().unwrap_or(0);
                let msgs: Vec<SentMessage> = inner
                    .sent
                    .iter()
                    .filter(|m| m.chat_id == chat_id)
                    .skip(cursor)
                    .take(n)
                    .cloned()
                    .collect();
                if msgs.len() == n {
                    inner.cursors.insert(chat_id, cursor + n);
                    return msgs;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "fake telegram: wait_for_count(chat {chat_id}, {n}) timed out after \
                     {timeout:?}.\n{}",
                    self.dump_chat(chat_id)
                );
            }
        }
    }

    /// Marks everything sent to `chat_id` so far as consumed.
    pub fn skip_sent(&self, chat_id: i64) {
        let mut inner = self.shared.lock();
        let n = inner.sent.iter().filter(|m| m.chat_id == chat_id).count();
        inner.cursors.insert(chat_id, n);
    }

    /// Panics if any unconsumed message to `chat_id` exists now or shows up
    /// within `within` (fails as soon as one appears).
    pub async fn assert_nothing_sent_to(&self, chat_id: i64, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.shared.sent_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let inner = self.shared.lock();
                let cursor = inner.cursors.get(&chat_id).copied().unwrap_or(0);
                let total = inner.sent.iter().filter(|m| m.chat_id == chat_id).count();
                if total > cursor {
                    drop(inner);
                    panic!(
                        "fake telegram: expected nothing sent to chat {chat_id}, but got:\n{}",
                        self.dump_chat(chat_id)
                    );
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    pub fn answered_callbacks(&self) -> Vec<(String, Option<String>)> {
        self.shared.lock().answered_callbacks.clone()
    }

    /// Latest setMyCommands per scope (scope is `{"type":"default"}` if absent).
    pub fn my_commands(&self) -> Vec<(Value, Vec<(String, String)>)> {
        self.shared.lock().commands.clone()
    }

    /// Every error answer given: (method, chat id or 0, error_code, description).
    pub fn rejected(&self) -> Vec<(String, i64, u16, String)> {
        self.shared.lock().rejected.clone()
    }

    pub fn count_429(&self) -> usize {
        self.shared.lock().count_429
    }

    /// How many calls of a method were received (case-insensitive name).
    pub fn requests(&self, method: &str) -> usize {
        let inner = self.shared.lock();
        inner
            .requests
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(method))
            .map(|(_, v)| *v)
            .sum()
    }

    // ----- faults ----------------------------------------------------------

    /// The next sendMessage/sendPhoto call (any chat) gets this fault (FIFO).
    pub fn push_fault(&self, fault: Fault) {
        self.shared.lock().faults.push_back(fault);
    }

    /// Each sendMessage/sendPhoto call fails with a 500 with this probability
    /// (deterministic xorshift PRNG). Ratio 0 turns it off.
    pub fn set_random_faults(&self, server_error_ratio: f64, seed: u64) {
        let mut inner = self.shared.lock();
        inner.random = if server_error_ratio > 0.0 {
            let state = seed ^ 0x9E37_79B9_7F4A_7C15;
            Some((server_error_ratio, if state == 0 { 1 } else { state }))
        } else {
            None
        };
    }

    /// Enables flood control for sendMessage/sendPhoto: more than
    /// `global_per_sec` successful sends in any sliding 1 s window, or a send
    /// to a chat sooner than `per_chat_min_interval` after the previous
    /// successful send to it, gets 429 with retry_after = 1.
    pub fn enforce_rate_limits(&self, global_per_sec: u32, per_chat_min_interval: Duration) {
        self.shared.lock().rate_limits = Some(RateLimits {
            global_per_sec,
            per_chat_min_interval,
        });
    }

    pub fn disable_rate_limits(&self) {
        self.shared.lock().rate_limits = None;
    }

    // ----- internals -------------------------------------------------------

    fn push_user_message(
        &self,
        from: &TestUser,
        chat: Value,
        fill: impl FnOnce(&mut Map<String, Value>),
    ) -> i32 {
        let chat_id = chat["id"].as_i64().unwrap_or_default();
        let mut inner = self.shared.lock();
        let id = inner.next_message_id;
        inner.next_message_id += 1;
        let mut m = Map::new();
        m.insert("message_id".into(), json!(id));
        m.insert("from".into(), from.user_json());
        m.insert("chat".into(), chat.clone());
        m.insert("date".into(), json!(unix_now()));
        fill(&mut m);
        let has_text = m.contains_key("text");
        let msg = Value::Object(m);
        inner.known_chats.insert(chat_id, chat);
        inner.messages.insert(
            id,
            StoredMsg {
                chat_id,
                from_bot: false,
                json: msg.clone(),
                source: String::new(),
                parse_mode: None,
                has_text,
            },
        );
        push_update(&mut inner, "message", msg);
        drop(inner);
        self.shared.updates_notify.notify_waiters();
        id
    }

    fn dump_chat(&self, chat_id: i64) -> String {
        let inner = self.shared.lock();
        let cursor = inner.cursors.get(&chat_id).copied().unwrap_or(0);
        let mut s = format!("--- sent to chat {chat_id} (cursor at {cursor}) ---\n");
        for (i, m) in inner
            .sent
            .iter()
            .filter(|m| m.chat_id == chat_id)
            .enumerate()
        {
            let _ = writeln!(
                s,
                "{} [{i}] #{} {} {:?} buttons={:?}",
                if i < cursor { "consumed" } else { "NEW     " },
                m.message_id,
                m.method,
                m.plain_text(),
                m.button_data()
            );
        }
        let rej: Vec<_> = inner.rejected.iter().filter(|r| r.1 == chat_id).collect();
        if !rej.is_empty() {
            let _ = writeln!(s, "--- rejected for chat {chat_id} ---");
            for r in rej {
                let _ = writeln!(s, "{} -> {} {}", r.0, r.2, r.3);
            }
        }
        s
    }
}

fn push_update(inner: &mut Inner, kind: &str, payload: Value) {
    let id = inner.next_update_id;
    inner.next_update_id += 1;
    let mut m = Map::new();
    m.insert("update_id".into(), json!(id));
    m.insert(kind.into(), payload);
    inner.updates.push_back((id, Value::Object(m)));
}

fn add_text(m: &mut Map<String, Value>, text: &str) {
    m.insert("text".into(), json!(text));
    if let Some(rest) = text.strip_prefix('/') {
        let word_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let len = utf16_len(&text[..1 + word_len]);
        if len > 1 {
            m.insert(
                "entities".into(),
                json!([{"type": "bot_command", "offset": 0, "length": len}]),
            );
        }
    }
}

/// A copy of a message without nested reply_to_message (as Telegram embeds).
fn shallow(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("reply_to_message");
    }
    v
}

fn photo_sizes(prefix: &str, size: usize) -> Value {
    json!([
        {"file_id": format!("{prefix}-s"), "file_unique_id": format!("{prefix}s"),
         "width": 90, "height": 90, "file_size": size.min(1500)},
        {"file_id": format!("{prefix}-m"), "file_unique_id": format!("{prefix}m"),
         "width": 800, "height": 800, "file_size": size},
    ])
}

fn knows_file(inner: &Inner, file_id: &str) -> bool {
    inner.messages.values().any(|m| {
        m.json
            .get("photo")
            .and_then(Value::as_array)
            .is_some_and(|sizes| sizes.iter().any(|s| s["file_id"] == file_id))
    })
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(1_700_000_000)
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

fn bot_user_json() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME})
}

fn xorshift(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

// ---------------------------------------------------------------------------
// HTTP layer
// ---------------------------------------------------------------------------

enum Reply {
    Ok(Value),
    Err {
        code: u16,
        description: String,
        retry_after: Option<u32>,
    },
    BadGateway,
}

fn bad(description: &str) -> Reply {
    Reply::Err {
        code: 400,
        description: format!("Bad Request: {description}"),
        retry_after: None,
    }
}

fn err(code: u16, description: &str) -> Reply {
    Reply::Err {
        code,
        description: description.to_string(),
        retry_after: None,
    }
}

fn too_many(retry_after: u32) -> Reply {
    Reply::Err {
        code: 429,
        description: format!("Too Many Requests: retry after {retry_after}"),
        retry_after: Some(retry_after),
    }
}

const METHODS: &[&str] = &[
    "getMe",
    "getUpdates",
    "deleteWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "deleteMyCommands",
    "getMyCommands",
    "sendMessage",
    "sendPhoto",
    "answerCallbackQuery",
    "editMessageText",
    "editMessageReplyMarkup",
    "sendChatAction",
    "leaveChat",
];

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (token, method_raw) = match segs.as_slice() {
        [bot, method] if bot.starts_with("bot") => (percent_decode(&bot[3..]), method.to_string()),
        _ => return finish(&shared, "", 0, err(404, "Not Found")),
    };
    let method = METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(&method_raw))
        .map(|m| m.to_string())
        .unwrap_or_else(|| {
            let mut c = method_raw.chars();
            c.next()
                .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
                .unwrap_or_default()
        });
    if token != TOKEN {
        return finish(&shared, &method, 0, err(401, "Unauthorized"));
    }
    *shared.lock().requests.entry(method.clone()).or_default() += 1;

    let (params, files) = match read_params(req).await {
        Ok(p) => p,
        Err(e) => return finish(&shared, &method, 0, bad(&e)),
    };
    let chat = get_i64(&params, "chat_id").unwrap_or(0);

    let reply = match method.as_str() {
        "getMe" => Reply::Ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false,
        })),
        "getUpdates" => get_updates(&shared, &params).await,
        "deleteWebhook" => {
            if get_bool(&params, "drop_pending_updates") {
                shared.lock().updates.clear();
            }
            Reply::Ok(json!(true))
        }
        "getWebhookInfo" => {
            let n = shared.lock().updates.len();
            Reply::Ok(
                json!({"url": "", "has_custom_certificate": false, "pending_update_count": n}),
            )
        }
        "setMyCommands" => set_my_commands(&shared, &params),
        "deleteMyCommands" => {
            let scope = scope_of(&params);
            shared.lock().commands.retain(|(s, _)| *s != scope);
            Reply::Ok(json!(true))
        }
        "getMyCommands" => {
            let scope = scope_of(&params);
            let inner = shared.lock();
            let cmds: Vec<Value> = inner
                .commands
                .iter()
                .find(|(s, _)| *s == scope)
                .map(|(_, c)| {
                    c.iter()
                        .map(|(n, d)| json!({"command": n, "description": d}))
                        .collect()
                })
                .unwrap_or_default();
            Reply::Ok(Value::Array(cmds))
        }
        "sendMessage" | "sendPhoto" => send(&shared, &method, &params, &files).await,
        "answerCallbackQuery" => answer_callback(&shared, &params),
        "editMessageText" | "editMessageReplyMarkup" => edit(&shared, &method, &params),
        "sendChatAction" => send_chat_action(&shared, &params),
        "leaveChat" => leave_chat(&shared, &params),
        _ => err(404, "Not Found"),
    };
    finish(&shared, &method, chat, reply)
}

fn finish(shared: &Shared, method: &str, chat: i64, reply: Reply) -> Response {
    match reply {
        Reply::Ok(v) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            json!({"ok": true, "result": v}).to_string(),
        )
            .into_response(),
        Reply::Err {
            code,
            description,
            retry_after,
        } => {
            {
                let mut inner = shared.lock();
                if code == 429 {
                    inner.count_429 += 1;
                }
                inner
                    .rejected
                    .push((method.to_string(), chat, code, description.clone()));
            }
            let mut body = json!({"ok": false, "error_code": code, "description": description});
            if let Some(r) = retry_after {
                body["parameters"] = json!({"retry_after": r});
            }
            (
                StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }
        Reply::BadGateway => {
            shared
                .lock()
                .rejected
                .push((method.to_string(), chat, 502, "Bad Gateway".to_string()));
            (
                StatusCode::BAD_GATEWAY,
                [(header::CONTENT_TYPE, "text/html")],
                Body::from(
                    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                     <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
                     </body>\r\n</html>\r\n",
                ),
            )
                .into_response()
        }
    }
}

type Params = Map<String, Value>;
type Files = HashMap<String, Vec<u8>>;

async fn read_params(req: Request) -> Result<(Params, Files), String> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut params = Params::new();
    let mut files = Files::new();
    if let Some(q) = req.uri().query() {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.insert(
                percent_decode(k),
                Value::String(percent_decode(&v.replace('+', " "))),
            );
        }
    }
    if ctype.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| format!("invalid multipart: {e}"))?;
        while let Some(field) = mp
            .next_field()
            .await
            .map_err(|e| format!("invalid multipart: {e}"))?
        {
            let name = field.name().unwrap_or_default().to_string();
            let is_file = field.file_name().is_some();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| format!("invalid multipart: {e}"))?;
            if !is_file {
                params.insert(
                    name.clone(),
                    Value::String(String::from_utf8_lossy(&bytes).into()),
                );
            }
            files.insert(name, bytes.to_vec());
        }
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|e| format!("can't read body: {e}"))?;
        if !bytes.is_empty() {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(o)) => params.extend(o),
                _ if ctype.starts_with("application/json") => {
                    return Err("can't parse JSON object".into());
                }
                _ => {}
            }
        }
    }
    Ok((params, files))
}

fn get_str(p: &Params, k: &str) -> Option<String> {
    match p.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn get_i64(p: &Params, k: &str) -> Option<i64> {
    match p.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn get_bool(p: &Params, k: &str) -> bool {
    match p.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "1",
        _ => false,
    }
}

/// An object/array parameter, given inline (JSON body) or as a JSON string (multipart).
fn get_json(p: &Params, k: &str) -> Result<Option<Value>, String> {
    match p.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|_| format!("can't parse {k} JSON object")),
        Some(v) => Ok(Some(v.clone())),
    }
}

fn scope_of(p: &Params) -> Value {
    get_json(p, "scope")
        .ok()
        .flatten()
        .unwrap_or_else(|| json!({"type": "default"}))
}

fn is_html(pm: Option<&str>) -> bool {
    pm.is_some_and(|p| p.eq_ignore_ascii_case("html"))
}

// ---------------------------------------------------------------------------
// Methods
// ---------------------------------------------------------------------------

async fn get_updates(shared: &Shared, p: &Params) -> Reply {
    let offset = get_i64(p, "offset").unwrap_or(0);
    let limit = get_i64(p, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = get_i64(p, "timeout").unwrap_or(0).clamp(0, 60) as u64;
    let allowed = match get_json(p, "allowed_updates") {
        Ok(v) => v,
        Err(e) => return bad(&e),
    };
    {
        let mut inner = shared.lock();
        if let Some(Value::Array(a)) = allowed {
            let list: Vec<String> = a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            inner.allowed_updates = if list.is_empty() { None } else { Some(list) };
        }
        if offset > 0 {
            inner.updates.retain(|(id, _)| *id >= offset);
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while inner.updates.len() > keep {
                inner.updates.pop_front();
            }
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = shared.updates_notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut inner = shared.lock();
            if let Some(allowed) = inner.allowed_updates.clone() {
                inner.updates.retain(|(_, u)| {
                    u.as_object()
                        .and_then(|o| o.keys().find(|k| *k != "update_id"))
                        .is_some_and(|k| allowed.iter().any(|a| a == k))
                });
            }
            if !inner.updates.is_empty() {
                let out: Vec<Value> = inner
                    .updates
                    .iter()
                    .take(limit)
                    .map(|(_, u)| u.clone())
                    .collect();
                return Reply::Ok(Value::Array(out));
            }
        }
        if timeout == 0 || tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Reply::Ok(json!([]));
        }
    }
}

fn set_my_commands(shared: &Shared, p: &Params) -> Reply {
    let cmds = match get_json(p, "commands") {
        Ok(Some(Value::Array(a))) => a,
        Ok(_) => return bad("parameter \"commands\" is required"),
        Err(e) => return bad(&e),
    };
    if cmds.len() > 100 {
        return bad("BOT_COMMANDS_TOO_MUCH");
    }
    let mut list = Vec::new();
    for c in cmds {
        let name = c
            .get("command")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let desc = c
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let name_ok = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return bad("BOT_COMMAND_INVALID");
        }
        if desc.is_empty() || desc.chars().count() > 256 {
            return bad("command description is empty or too long");
        }
        list.push((name, desc));
    }
    let scope = scope_of(p);
    let mut inner = shared.lock();
    if let Some(e) = inner.commands.iter_mut().find(|(s, _)| *s == scope) {
        e.1 = list;
    } else {
        inner.commands.push((scope, list));
    }
    Reply::Ok(json!(true))
}

fn answer_callback(shared: &Shared, p: &Params) -> Reply {
    let id = get_str(p, "callback_query_id").unwrap_or_default();
    let text = get_str(p, "text");
    if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return bad("MESSAGE_TOO_LONG");
    }
    let mut inner = shared.lock();
    if !inner.callbacks_issued.contains(&id) || inner.callbacks_answered.contains(&id) {
        return bad("query is too old and response timeout expired or query id is invalid");
    }
    inner.callbacks_answered.insert(id.clone());
    inner.answered_callbacks.push((id, text));
    Reply::Ok(json!(true))
}

fn send_chat_action(shared: &Shared, p: &Params) -> Reply {
    const ACTIONS: &[&str] = &[
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ];
    let inner = shared.lock();
    if let Err(r) = check_chat(&inner, p) {
        return r;
    }
    let action = get_str(p, "action").unwrap_or_default();
    if !ACTIONS.contains(&action.as_str()) {
        return bad("wrong parameter action in request");
    }
    Reply::Ok(json!(true))
}

/// Unknown chat → 400, blocked → 403. Returns the chat id and chat JSON.
fn check_chat(inner: &Inner, p: &Params) -> Result<(i64, Value), Reply> {
    let Some(chat_id) = get_i64(p, "chat_id") else {
        return Err(match p.get("chat_id") {
            None => bad("chat_id is empty"),
            Some(_) => bad("chat not found"),
        });
    };
    let Some(chat) = inner.known_chats.get(&chat_id) else {
        return Err(bad("chat not found"));
    };
    if inner.blocked.contains(&chat_id) {
        return Err(err(403, "Forbidden: bot was blocked by the user"));
    }
    if inner.left.contains(&chat_id) {
        return Err(err(403, "Forbidden: bot is not a member of the group chat"));
    }
    Ok((chat_id, chat.clone()))
}

/// leaveChat: only a group or channel the bot is in can be left.
fn leave_chat(shared: &Shared, p: &Params) -> Reply {
    let mut inner = shared.lock();
    let chat_id = match check_chat(&inner, p) {
        Ok((id, chat)) if chat["type"] != "private" => id,
        Ok(_) => return bad("chat member status can't be changed in private chats"),
        Err(r) => return r,
    };
    inner.left.insert(chat_id);
    Reply::Ok(json!(true))
}

struct Formatted {
    text: String,
    entities: Vec<Value>,
}

fn format_text(text: &str, parse_mode: Option<&str>) -> Result<Formatted, Reply> {
    match parse_mode {
        None => Ok(Formatted {
            text: text.to_string(),
            entities: vec![],
        }),
        Some(pm) if pm.eq_ignore_ascii_case("html") => parse_html(text)
            .map(|p| Formatted {
                text: p.text,
                entities: p.entities,
            })
            .map_err(|e| bad(&format!("can't parse entities: {e}"))),
        // Not parsed by this fake: taken literally.
        Some(pm)
            if pm.eq_ignore_ascii_case("markdown") || pm.eq_ignore_ascii_case("markdownv2") =>
        {
            Ok(Formatted {
                text: text.to_string(),
                entities: vec![],
            })
        }
        Some(_) => Err(bad("unsupported parse_mode")),
    }
}

/// Validates reply_markup; returns (raw markup, markup to echo in the Message).
fn check_markup(p: &Params) -> Result<(Option<Value>, Option<Value>), Reply> {
    let markup = get_json(p, "reply_markup").map_err(|e| bad(&e))?;
    let Some(m) = markup else {
        return Ok((None, None));
    };
    let Some(rows) = m.get("inline_keyboard") else {
        // reply keyboards / remove / force_reply: accepted, not echoed.
        return Ok((Some(m), None));
    };
    let Some(rows) = rows.as_array() else {
        return Err(bad("can't parse inline keyboard markup JSON object"));
    };
    for row in rows {
        let Some(buttons) = row.as_array() else {
            return Err(bad(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object",
            ));
        };
        for b in buttons {
            if b.get("text").and_then(Value::as_str).is_none() {
                return Err(bad(
                    "can't parse inline keyboard button: Field \"text\" must be of type String",
                ));
            }
            const ACTIONS: &[&str] = &[
                "url",
                "callback_data",
                "web_app",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "callback_game",
                "pay",
            ];
            if !ACTIONS.iter().any(|a| b.get(*a).is_some()) {
                return Err(bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                ));
            }
            if let Some(d) = b.get("callback_data") {
                let len = d.as_str().map(str::len).unwrap_or(0);
                if !(1..=64).contains(&len) {
                    return Err(bad("BUTTON_DATA_INVALID"));
                }
            }
        }
    }
    Ok((Some(m.clone()), Some(m)))
}

fn insert_text(m: &mut Map<String, Value>, key: &str, ekey: &str, f: &Formatted) {
    m.insert(key.into(), json!(f.text));
    if f.entities.is_empty() {
        m.remove(ekey);
    } else {
        m.insert(ekey.into(), Value::Array(f.entities.clone()));
    }
}

async fn send(shared: &Shared, method: &str, p: &Params, files: &Files) -> Reply {
    // 1. injected faults
    let fault = {
        let mut inner = shared.lock();
        match inner.faults.pop_front() {
            Some(f) => Some(f),
            None => match inner.random.as_mut() {
                Some((ratio, state)) => {
                    let ratio = *ratio;
                    (xorshift(state) < ratio).then_some(Fault::ServerError)
                }
                None => None,
            },
        }
    };
    match fault {
        None => {}
        Some(Fault::ServerError) => return err(500, "Internal Server Error"),
        Some(Fault::BadGateway) => return Reply::BadGateway,
        Some(Fault::RetryAfter(n)) => return too_many(n),
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
    }

    let is_photo = method == "sendPhoto";
    let mut inner = shared.lock();
    // 2. chat
    let (chat_id, chat) = match check_chat(&inner, p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    // 3. flood control
    let now = Instant::now();
    if let Some(rl) = &inner.rate_limits {
        let per_chat = rl.per_chat_min_interval;
        let global = rl.global_per_sec as usize;
        while inner
            .recent_sends
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            inner.recent_sends.pop_front();
        }
        let chat_too_soon = inner
            .last_send_per_chat
            .get(&chat_id)
            .is_some_and(|t| now.duration_since(*t) < per_chat);
        if inner.recent_sends.len() >= global || chat_too_soon {
            return too_many(1);
        }
    }
    // 4. content
    let parse_mode = get_str(p, "parse_mode");
    let (source, formatted, photo) = if is_photo {
        let photo = match p.get("photo") {
            Some(Value::String(s)) if s.starts_with("attach://") => match files.get(&s[9..]) {
                Some(b) => Some(b.len()),
                None => return bad("there is no photo in the request"),
            },
            // A file_id must name a photo Telegram has seen (sent by a user or the bot).
            Some(Value::String(s)) if !s.is_empty() => {
                if !knows_file(&inner, s) {
                    return bad("wrong file identifier/HTTP URL specified");
                }
                None
            }
            None if files.contains_key("photo") => files.get("photo").map(Vec::len),
            _ => return bad("there is no photo in the request"),
        };
        if photo == Some(0) {
            return bad("file must be non-empty");
        }
        let caption = get_str(p, "caption").unwrap_or_default();
        let f = match format_text(&caption, parse_mode.as_deref()) {
            Ok(f) => f,
            Err(r) => return r,
        };
        if utf16_len(&f.text) > MAX_CAPTION_LEN {
            return bad("message caption is too long");
        }
        (caption, f, Some(photo))
    } else {
        let text = get_str(p, "text").unwrap_or_default();
        let f = match format_text(&text, parse_mode.as_deref()) {
            Ok(f) => f,
            Err(r) => return r,
        };
        if f.text.trim().is_empty() {
            return bad("message text is empty");
        }
        if utf16_len(&f.text) > MAX_TEXT_LEN {
            return bad("message is too long");
        }
        (text, f, None)
    };
    let (raw_markup, echo_markup) = match check_markup(p) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let reply_to = get_json(p, "reply_parameters")
        .ok()
        .flatten()
        .and_then(|r| r.get("message_id").and_then(Value::as_i64))
        .or_else(|| get_i64(p, "reply_to_message_id"));
    let allow_without = get_json(p, "reply_parameters")
        .ok()
        .flatten()
        .and_then(|r| {
            r.get("allow_sending_without_reply")
                .and_then(Value::as_bool)
        })
        .unwrap_or(false);
    let reply_json = match reply_to {
        Some(rid) => match inner.messages.get(&(rid as i32)) {
            Some(m) if m.chat_id == chat_id => Some(shallow(&m.json)),
            _ if allow_without => None,
            _ => return bad("message to be replied not found"),
        },
        None => None,
    };

    // 5. commit
    let id = inner.next_message_id;
    inner.next_message_id += 1;
    let mut m = Map::new();
    m.insert("message_id".into(), json!(id));
    m.insert("from".into(), bot_user_json());
    m.insert("chat".into(), chat);
    m.insert("date".into(), json!(unix_now()));
    if let Some(r) = reply_json {
        m.insert("reply_to_message".into(), r);
    }
    if let Some(photo) = photo {
        m.insert(
            "photo".into(),
            photo_sizes(&format!("bot{id}"), photo.unwrap_or(54321)),
        );
        if !formatted.text.is_empty() {
            insert_text(&mut m, "caption", "caption_entities", &formatted);
        }
    } else {
        insert_text(&mut m, "text", "entities", &formatted);
    }
    if let Some(mk) = echo_markup {
        m.insert("reply_markup".into(), mk);
    }
    let msg = Value::Object(m);
    inner.messages.insert(
        id,
        StoredMsg {
            chat_id,
            from_bot: true,
            json: msg.clone(),
            source: source.clone(),
            parse_mode: parse_mode.clone(),
            has_text: !is_photo,
        },
    );
    inner.sent.push(SentMessage {
        message_id: id,
        chat_id,
        method: method.to_string(),
        text: source,
        parse_mode,
        reply_markup: raw_markup,
        photo_bytes: photo.flatten(),
        photo_file_id: if is_photo {
            p.get("photo")
                .and_then(Value::as_str)
                .filter(|f| !f.starts_with("attach://"))
                .map(str::to_string)
        } else {
            None
        },
        at: now,
    });
    inner.recent_sends.push_back(now);
    inner.last_send_per_chat.insert(chat_id, now);
    drop(inner);
    shared.sent_notify.notify_waiters();
    Reply::Ok(msg)
}

fn edit(shared: &Shared, method: &str, p: &Params) -> Reply {
    if p.contains_key("inline_message_id") {
        return Reply::Ok(json!(true));
    }
    let is_text = method == "editMessageText";
    let mut inner = shared.lock();
    let (chat_id, _) = match check_chat(&inner, p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(message_id) = get_i64(p, "message_id").map(|v| v as i32) else {
        return bad("message identifier is not specified");
    };
    let (old_json, old_source, old_pm, from_bot, has_text) = match inner.messages.get(&message_id) {
        Some(m) if m.chat_id == chat_id => (
            m.json.clone(),
            m.source.clone(),
            m.parse_mode.clone(),
            m.from_bot,
            m.has_text,
        ),
        _ => return bad("message to edit not found"),
    };
    if !from_bot {
        return bad("message can't be edited");
    }
    let (raw_markup, echo_markup) = match check_markup(p) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let mut m = old_json.as_object().cloned().unwrap_or_default();
    let (source, parse_mode) = if is_text {
        if !has_text {
            return bad("there is no text in the message to edit");
        }
        let text = get_str(p, "text").unwrap_or_default();
        let parse_mode = get_str(p, "parse_mode");
        let f = match format_text(&text, parse_mode.as_deref()) {
            Ok(f) => f,
            Err(r) => return r,
        };
        if f.text.trim().is_empty() {
            return bad("message text is empty");
        }
        if utf16_len(&f.text) > MAX_TEXT_LEN {
            return bad("MESSAGE_TOO_LONG");
        }
        insert_text(&mut m, "text", "entities", &f);
        (text, parse_mode)
    } else {
        (old_source, old_pm)
    };
    match echo_markup {
        Some(mk) => {
            m.insert("reply_markup".into(), mk);
        }
        None => {
            m.remove("reply_markup");
        }
    }
    let old_cmp = strip_edit_date(&old_json);
    let new_cmp = strip_edit_date(&Value::Object(m.clone()));
    if old_cmp == new_cmp {
        return bad(
            "message is not modified: specified new message content and reply markup are \
             exactly the same as a current content and reply markup of the message",
        );
    }
    m.insert("edit_date".into(), json!(unix_now()));
    let msg = Value::Object(m);
    if let Some(s) = inner.messages.get_mut(&message_id) {
        s.json = msg.clone();
        s.source = source.clone();
        s.parse_mode = parse_mode.clone();
    }
    inner.sent.push(SentMessage {
        message_id,
        chat_id,
        method: method.to_string(),
        text: source,
        parse_mode,
        reply_markup: raw_markup,
        photo_bytes: None,
        photo_file_id: None,
        at: Instant::now(),
    });
    drop(inner);
    shared.sent_notify.notify_waiters();
    Reply::Ok(msg)
}

fn strip_edit_date(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("edit_date");
    }
    v
}

// ---------------------------------------------------------------------------
// Strict Telegram-style HTML parsing
// ---------------------------------------------------------------------------

pub struct ParsedHtml {
    pub text: String,
    pub entities: Vec<Value>,
}

struct OpenTag {
    name: String,
    start: usize,
    entity: Option<Value>,
}

/// Parses Telegram "HTML" parse mode. Returns the visible text and entities
/// (offsets/lengths in UTF-16 code units), or the short reason of failure.
pub fn parse_html(src: &str) -> Result<ParsedHtml, String> {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut pos16 = 0usize;
    let mut stack: Vec<OpenTag> = Vec::new();
    let mut entities: Vec<Value> = Vec::new();
    let mut i = 0usize;
    while i < b.len() {
        match b[i] {
            b'&' => {
                let (c, next) = decode_entity(src, i)?;
                out.push(c);
                pos16 += c.len_utf16();
                i = next;
            }
            b'<' if b.get(i + 1) == Some(&b'/') => {
                let start = i;
                let mut j = i + 2;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-') {
                    j += 1;
                }
                let name = src[i + 2..j].to_ascii_lowercase();
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j >= b.len() || b[j] != b'>' {
                    return Err(format!("Unclosed end tag at byte offset {start}"));
                }
                let Some(top) = stack.pop() else {
                    return Err(format!("Unexpected end tag at byte offset {start}"));
                };
                if top.name != name {
                    return Err(format!(
                        "Unmatched end tag at byte offset {start}, expected \"</{}>\", found \"</{}>\"",
                        top.name, name
                    ));
                }
                if let Some(mut e) = top.entity
                    && pos16 > top.start
                {
                    e["offset"] = json!(top.start);
                    e["length"] = json!(pos16 - top.start);
                    entities.push(e);
                }
                i = j + 1;
            }
            b'<' => {
                let start = i;
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-') {
                    j += 1;
                }
                let name = src[i + 1..j].to_ascii_lowercase();
                const TAGS: &[&str] = &[
                    "a",
                    "b",
                    "strong",
                    "i",
                    "em",
                    "u",
                    "ins",
                    "s",
                    "strike",
                    "del",
                    "code",
                    "pre",
                    "tg-spoiler",
                    "span",
                    "blockquote",
                    "tg-emoji",
                ];
                if !TAGS.contains(&name.as_str()) {
                    return Err(format!(
                        "Unsupported start tag \"{name}\" at byte offset {start}"
                    ));
                }
                // attributes
                let mut attrs: Vec<(String, String)> = Vec::new();
                loop {
                    while j < b.len() && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if j >= b.len() {
                        return Err(format!("Unclosed start tag at byte offset {start}"));
                    }
                    if b[j] == b'>' {
                        j += 1;
                        break;
                    }
                    let an_start = j;
                    while j < b.len()
                        && (b[j].is_ascii_alphanumeric() || b[j] == b'-' || b[j] == b'_')
                    {
                        j += 1;
                    }
                    if j == an_start {
                        return Err(format!(
                            "Empty attribute name in the tag \"{name}\" at byte offset {start}"
                        ));
                    }
                    let an = src[an_start..j].to_ascii_lowercase();
                    while j < b.len() && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if j < b.len() && b[j] == b'=' {
                        j += 1;
                        while j < b.len() && b[j].is_ascii_whitespace() {
                            j += 1;
                        }
                        if j >= b.len() {
                            return Err(format!("Unclosed start tag at byte offset {start}"));
                        }
                        let raw = if b[j] == b'"' || b[j] == b'\'' {
                            let q = b[j];
                            let vs = j + 1;
                            let Some(rel) = b[vs..].iter().position(|c| *c == q) else {
                                return Err(format!("Unclosed start tag at byte offset {start}"));
                            };
                            j = vs + rel + 1;
                            &src[vs..vs + rel]
                        } else {
                            let vs = j;
                            while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                                j += 1;
                            }
                            &src[vs..j]
                        };
                        attrs.push((an, decode_attr(raw)?));
                    } else {
                        attrs.push((an, String::new()));
                    }
                }
                let attr = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                let entity = match name.as_str() {
                    "b" | "strong" => Some(json!({"type": "bold"})),
                    "i" | "em" => Some(json!({"type": "italic"})),
                    "u" | "ins" => Some(json!({"type": "underline"})),
                    "s" | "strike" | "del" => Some(json!({"type": "strikethrough"})),
                    "tg-spoiler" => Some(json!({"type": "spoiler"})),
                    "span" => {
                        if attr("class").as_deref() != Some("tg-spoiler") {
                            return Err("Tag \"span\" must have class \"tg-spoiler\"".into());
                        }
                        Some(json!({"type": "spoiler"}))
                    }
                    "a" => {
                        let Some(href) = attr("href") else {
                            return Err(format!(
                                "Tag \"a\" must have attribute \"href\" at byte offset {start}"
                            ));
                        };
                        let h = href.to_ascii_lowercase();
                        if h.starts_with("http://") || h.starts_with("https://") {
                            Some(json!({"type": "text_link", "url": href}))
                        } else {
                            None
                        }
                    }
                    "code" => {
                        if let Some(pre) = stack.last_mut().filter(|t| t.name == "pre") {
                            if let (Some(lang), Some(e)) = (
                                attr("class")
                                    .and_then(|c| c.strip_prefix("language-").map(String::from)),
                                pre.entity.as_mut(),
                            ) {
                                e["language"] = json!(lang);
                            }
                            None
                        } else {
                            Some(json!({"type": "code"}))
                        }
                    }
                    "pre" => Some(json!({"type": "pre"})),
                    "blockquote" => {
                        if attr("expandable").is_some() {
                            Some(json!({"type": "expandable_blockquote"}))
                        } else {
                            Some(json!({"type": "blockquote"}))
                        }
                    }
                    "tg-emoji" => {
                        let Some(id) = attr("emoji-id")
                            .filter(|v| !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit()))
                        else {
                            return Err(
                                "Custom emoji entity must contain a valid custom emoji identifier"
                                    .into(),
                            );
                        };
                        Some(json!({"type": "custom_emoji", "custom_emoji_id": id}))
                    }
                    _ => None,
                };
                stack.push(OpenTag {
                    name,
                    start: pos16,
                    entity,
                });
                i = j;
            }
            _ => {
                let c = src[i..].chars().next().unwrap_or_default();
                out.push(c);
                pos16 += c.len_utf16();
                i += c.len_utf8().max(1);
            }
        }
    }
    if let Some(top) = stack.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            top.name
        ));
    }
    entities.sort_by(|a, b| {
        let key = |e: &Value| {
            (
                e["offset"].as_u64().unwrap_or(0),
                std::cmp::Reverse(e["length"].as_u64().unwrap_or(0)),
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(ParsedHtml {
        text: out,
        entities,
    })
}

/// Decodes the character entity starting at byte `i` (which is '&').
/// Returns the char and the index after ';'.
fn decode_entity(src: &str, i: usize) -> Result<(char, usize), String> {
    let rest = &src[i + 1..];
    let end = rest.bytes().take(12).position(|c| c == b';');
    let Some(end) = end else {
        return Err(format!(
            "Character entity expected at byte offset {i} (use &amp; for '&')"
        ));
    };
    let name = &rest[..end];
    let c = match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        _ => {
            if let Some(h) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                u32::from_str_radix(h, 16).ok().and_then(char::from_u32)
            } else if let Some(d) = name.strip_prefix('#') {
                d.parse::<u32>().ok().and_then(char::from_u32)
            } else {
                None
            }
        }
    };
    match c {
        Some(c) if c != '\0' => Ok((c, i + 1 + end + 1)),
        _ => Err(format!(
            "Unsupported character entity \"&{name};\" at byte offset {i}"
        )),
    }
}

fn decode_attr(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut i = 0;
    while i < raw.len() {
        if raw.as_bytes()[i] == b'&' {
            let (c, n) = decode_entity(raw, i)?;
            out.push(c);
            i = n;
        } else {
            let c = raw[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8().max(1);
        }
    }
    Ok(out)
}

/// Best-effort tag stripping for text that is not valid Telegram HTML.
fn strip_tags_lenient(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
