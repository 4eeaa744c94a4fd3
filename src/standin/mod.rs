//! A Telegram Bot API stand-in: the end-to-end tests' strict fake, and the Telegram of
//! `aftercare demo`.
//!
//! It serves the Bot API over loopback HTTP (axum), keeps an update queue that the bot
//! long-polls through `getUpdates`, records everything the bot sends, and validates
//! requests the way Telegram does (unknown chat, blocked user, text and caption length,
//! strict HTML parsing, callback_data size, flood control when enabled…). Tests and the
//! demo's chat page act as people through [`StandIn::send_text`],
//! [`StandIn::press_button`] and friends, and read what each chat holds.
//!
//! Point a teloxide bot at it with
//! `Bot::new(TOKEN).set_api_url(standin.api_url().parse().unwrap())` (or `standin.bot()`).
//! The methods that panic (`wait_for`, `press_button` on an unknown message…) are for
//! tests; the demo uses the `try_` forms.

mod files;
mod html;
mod http;
mod methods;
mod types;

use std::{
    collections::{HashMap, HashSet, VecDeque},
    fmt::Write as _,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{Router, extract::DefaultBodyLimit};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};

pub use html::{ParsedHtml, parse_html};
pub use types::{ChatMessage, Fault, Person, SentMessage, Webhook};

/// The tests' bot: its token, username and id.
pub const TOKEN: &str = "123456:TEST-fake-token";
pub const BOT_USERNAME: &str = "aftercare_test_bot";
pub const BOT_ID: i64 = 123456;
const BOT_FIRST_NAME: &str = "Aftercare Test Bot";

const MAX_TEXT_LEN: usize = 4096;
const MAX_CAPTION_LEN: usize = 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Who the stand-in's bot is: the token it accepts and what getMe answers.
#[derive(Clone, Debug)]
pub struct BotIdentity {
    pub token: String,
    pub username: String,
    pub first_name: String,
}

impl Default for BotIdentity {
    fn default() -> Self {
        BotIdentity {
            token: TOKEN.to_string(),
            username: BOT_USERNAME.to_string(),
            first_name: BOT_FIRST_NAME.to_string(),
        }
    }
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
    /// When it was last written (created or edited), for [`StandIn::chat_messages_since`].
    seq: u64,
    /// The picture's bytes, for a photo whose bytes were uploaded (by the bot or a person).
    photo: Option<Arc<[u8]>>,
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
    /// Set by setWebhook, cleared by deleteWebhook.
    webhook: Option<Webhook>,
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
    /// Counts writes to `messages`; a message's `seq` is the count when it was written.
    seq: u64,
    /// Documents sent by people or the bot, by file id.
    files: HashMap<String, files::StoredFile>,
    next_file: u64,
    /// How many file downloads to come answer 500 ([`StandIn::fail_downloads`]).
    failing_downloads: usize,
}

impl Inner {
    /// Stores a message (new or edited) under the next write number.
    fn put_message(&mut self, id: i32, mut msg: StoredMsg) -> u64 {
        self.seq += 1;
        msg.seq = self.seq;
        self.messages.insert(id, msg);
        self.seq
    }
}

struct Shared {
    inner: Mutex<Inner>,
    sent_notify: Notify,
    updates_notify: Notify,
    /// The latest write number of `messages`, for readers waiting for news.
    version: watch::Sender<u64>,
    identity: BotIdentity,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tells readers waiting in [`StandIn::wait_for_news`] that `seq` was written.
    fn publish(&self, seq: u64) {
        self.version.send_if_modified(|v| {
            let newer = seq > *v;
            if newer {
                *v = seq;
            }
            newer
        });
    }
}

/// The server. Cheap to clone; all clones share the same state.
#[derive(Clone)]
pub struct StandIn {
    shared: Arc<Shared>,
    addr: std::net::SocketAddr,
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

impl StandIn {
    /// Binds 127.0.0.1:0 and spawns the server on the current tokio runtime, as the
    /// tests' bot ([`TOKEN`], [`BOT_USERNAME`]).
    pub async fn start() -> StandIn {
        Self::start_as(BotIdentity::default())
            .await
            .expect("stand-in: bind 127.0.0.1:0")
    }

    /// Binds 127.0.0.1:0 and serves the Bot API for the bot `identity` describes.
    pub async fn start_as(identity: BotIdentity) -> std::io::Result<StandIn> {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                next_update_id: 1,
                next_message_id: 1,
                next_callback_id: 1,
                ..Inner::default()
            }),
            sent_notify: Notify::new(),
            updates_notify: Notify::new(),
            version: watch::Sender::new(0),
            identity,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .fallback(http::handle)
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
        Ok(StandIn { shared, addr })
    }

    /// Base URL for teloxide's `Bot::set_api_url`, e.g. `http://127.0.0.1:PORT/`.
    /// teloxide appends `bot{token}/{MethodName}` as path segments.
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// A teloxide bot pointed at this server.
    pub fn bot(&self) -> teloxide::Bot {
        teloxide::Bot::new(&self.shared.identity.token)
            .set_api_url(self.api_url().parse().expect("stand-in: api url"))
    }

    /// The bot's username, as getMe answers it.
    pub fn bot_username(&self) -> &str {
        &self.shared.identity.username
    }

    // ----- incoming updates ------------------------------------------------

    /// `from` started the bot some time ago: the bot may write to them, with no update
    /// queued now (for tests that set up their data directly in the database).
    pub fn started_earlier(&self, from: &Person) {
        let chat = from.private_chat_json();
        self.shared.lock().known_chats.insert(from.id, chat);
    }

    /// A private-chat text message from `from`. Returns its message_id.
    pub fn send_text(&self, from: &Person, text: &str) -> i32 {
        let chat = from.private_chat_json();
        self.push_user_message(from, chat, None, |m| add_text(m, text))
    }

    /// A private-chat text message with formatting, as Telegram delivers one typed with
    /// bold, italic, links…: the plain `text` plus `entities` (offsets and lengths in
    /// UTF-16 code units, e.g. `[{"type":"bold","offset":0,"length":5}]`).
    pub fn send_formatted(&self, from: &Person, text: &str, entities: Value) -> i32 {
        let chat = from.private_chat_json();
        self.push_user_message(from, chat, None, |m| {
            m.insert("text".into(), json!(text));
            if entities.as_array().is_some_and(|a| !a.is_empty()) {
                m.insert("entities".into(), entities);
            }
        })
    }

    /// A text message in a (basic) group; `group_chat_id` should be negative.
    pub fn send_text_in_group(&self, from: &Person, group_chat_id: i64, text: &str) -> i32 {
        let chat = json!({
            "id": group_chat_id,
            "type": "group",
            "title": format!("Test group {group_chat_id}"),
        });
        self.push_user_message(from, chat, None, |m| add_text(m, text))
    }

    /// `from` adds the bot to a (basic) group: a `my_chat_member` update, as Telegram
    /// sends it, with the bot's status going from "left" to "member".
    pub fn add_bot_to_group(&self, from: &Person, group_chat_id: i64) {
        let chat = json!({
            "id": group_chat_id,
            "type": "group",
            "title": format!("Test group {group_chat_id}"),
        });
        let bot = bot_user_json(&self.shared.identity);
        let mut inner = self.shared.lock();
        inner.known_chats.insert(group_chat_id, chat.clone());
        inner.left.remove(&group_chat_id);
        let update = json!({
            "chat": chat,
            "from": from.user_json(),
            "date": unix_now(),
            "old_chat_member": {"user": bot.clone(), "status": "left"},
            "new_chat_member": {"user": bot, "status": "member"},
        });
        push_update(&mut inner, "my_chat_member", update);
        drop(inner);
        self.shared.updates_notify.notify_waiters();
    }

    /// The webhook set by setWebhook, if any (deleteWebhook removes it).
    pub fn webhook(&self) -> Option<Webhook> {
        self.shared.lock().webhook.clone()
    }

    /// Groups the bot has left.
    pub fn left_chats(&self) -> Vec<i64> {
        self.shared.lock().left.iter().copied().collect()
    }

    /// A private-chat reply to an earlier message (normally one the bot sent).
    /// Panics if no message with that id exists in the user's chat.
    pub fn send_reply(&self, from: &Person, text: &str, reply_to_message_id: i32) -> i32 {
        self.try_send_text(from, text, Some(reply_to_message_id))
            .unwrap_or_else(|| {
                panic!(
                    "stand-in: send_reply: no message {reply_to_message_id} in chat {}",
                    from.id
                )
            })
    }

    /// A private-chat text message, as a reply to `reply_to` when given. None (and
    /// nothing sent) when `reply_to` is not a message of `from`'s chat.
    pub fn try_send_text(&self, from: &Person, text: &str, reply_to: Option<i32>) -> Option<i32> {
        let replied = match reply_to {
            Some(id) => Some(self.message_in_chat(from.id, id)?),
            None => None,
        };
        let chat = from.private_chat_json();
        Some(self.push_user_message(from, chat, None, |m| {
            if let Some(r) = replied {
                m.insert("reply_to_message".into(), r);
            }
            add_text(m, text);
        }))
    }

    /// A private-chat photo with its bytes (kept, so that the bot can send it on by
    /// file_id and [`StandIn::photo`] returns them), with an optional caption, as a reply
    /// to `reply_to` when given. None when `reply_to` is not in `from`'s chat.
    pub fn try_send_picture(
        &self,
        from: &Person,
        bytes: Vec<u8>,
        caption: Option<&str>,
        reply_to: Option<i32>,
    ) -> Option<i32> {
        let replied = match reply_to {
            Some(id) => Some(self.message_in_chat(from.id, id)?),
            None => None,
        };
        let chat = from.private_chat_json();
        let uniq = self.shared.lock().next_message_id;
        let size = bytes.len();
        Some(self.push_user_message(from, chat, Some(bytes.into()), |m| {
            if let Some(r) = replied {
                m.insert("reply_to_message".into(), r);
            }
            m.insert("photo".into(), photo_sizes(&format!("user{uniq}"), size));
            if let Some(c) = caption.filter(|c| !c.is_empty()) {
                m.insert("caption".into(), json!(c));
            }
        }))
    }

    /// Message `id` as embedded in a reply, if it belongs to `chat_id`.
    fn message_in_chat(&self, chat_id: i64, id: i32) -> Option<Value> {
        let inner = self.shared.lock();
        inner
            .messages
            .get(&id)
            .filter(|m| m.chat_id == chat_id)
            .map(|m| shallow(&m.json))
    }

    /// A private-chat photo message (with an optional caption).
    pub fn send_photo(&self, from: &Person, caption: Option<&str>) -> i32 {
        let chat = from.private_chat_json();
        let uniq = self.shared.lock().next_message_id;
        self.push_user_message(from, chat, None, |m| {
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
        from: &Person,
        caption: Option<&str>,
        reply_to_message_id: i32,
    ) -> i32 {
        let replied = self
            .message_in_chat(from.id, reply_to_message_id)
            .unwrap_or_else(|| {
                panic!(
                    "stand-in: send_photo_reply: no message {reply_to_message_id} in chat {}",
                    from.id
                )
            });
        let uniq = self.shared.lock().next_message_id;
        let chat = from.private_chat_json();
        self.push_user_message(from, chat, None, |m| {
            m.insert("reply_to_message".into(), replied);
            m.insert("photo".into(), photo_sizes(&format!("user{uniq}"), 12345));
            if let Some(c) = caption {
                m.insert("caption".into(), json!(c));
            }
        })
    }

    /// A private-chat document: a file called `file_name` holding `bytes`, with an
    /// optional caption. The bot can fetch it with getFile and the file download
    /// endpoint, as from Telegram. Returns its message_id.
    pub fn send_document(
        &self,
        from: &Person,
        file_name: &str,
        bytes: Vec<u8>,
        caption: Option<&str>,
    ) -> i32 {
        let chat = from.private_chat_json();
        let document = {
            let mut inner = self.shared.lock();
            files::register(
                &mut inner,
                &format!("user{}", from.id),
                file_name,
                bytes.into(),
            )
            .1
        };
        self.push_user_message(from, chat, None, |m| {
            m.insert("document".into(), document);
            if let Some(c) = caption.filter(|c| !c.is_empty()) {
                m.insert("caption".into(), json!(c));
            }
        })
    }

    /// The file name and bytes of document message `message_id` (sent by the bot or a
    /// person).
    pub fn document(&self, message_id: i32) -> Option<(String, Arc<[u8]>)> {
        let inner = self.shared.lock();
        let file_id = inner.messages.get(&message_id)?.json["document"]["file_id"]
            .as_str()?
            .to_string();
        let f = inner.files.get(&file_id)?;
        Some((f.file_name.clone(), f.bytes.clone()))
    }

    /// The next `n` file downloads answer 500, as a Telegram file server having a bad
    /// moment would.
    pub fn fail_downloads(&self, n: usize) {
        self.shared.lock().failing_downloads = n;
    }

    /// A private-chat location message.
    pub fn send_location(&self, from: &Person, latitude: f64, longitude: f64) -> i32 {
        let chat = from.private_chat_json();
        self.push_user_message(from, chat, None, |m| {
            m.insert(
                "location".into(),
                json!({"latitude": latitude, "longitude": longitude}),
            );
        })
    }

    /// The user presses an inline button of message `message_id` (must exist).
    /// Queues a callback_query update; returns the callback query id.
    pub fn press_button(&self, from: &Person, message_id: i32, data: &str) -> String {
        let mut inner = self.shared.lock();
        let (msg, chat_id) = match inner.messages.get(&message_id) {
            Some(m) => (shallow(&m.json), m.chat_id),
            None => panic!("stand-in: press_button: no message {message_id}"),
        };
        push_callback(&mut inner, &self.shared, from, msg, chat_id, data)
    }

    /// `from` presses the button with callback data `data` on message `message_id` of
    /// their own chat, as a Telegram app can: None unless that message shows that button
    /// now. Returns the callback query id.
    pub fn try_press_button(&self, from: &Person, message_id: i32, data: &str) -> Option<String> {
        let mut inner = self.shared.lock();
        let m = inner
            .messages
            .get(&message_id)
            .filter(|m| m.chat_id == from.id)?;
        let shown = m.json["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .any(|b| b["callback_data"].as_str() == Some(data));
        if !shown {
            return None;
        }
        let (msg, chat_id) = (shallow(&m.json), m.chat_id);
        Some(push_callback(
            &mut inner,
            &self.shared,
            from,
            msg,
            chat_id,
            data,
        ))
    }
}

/// Queues a callback_query update for a press on `msg`; returns the query id.
fn push_callback(
    inner: &mut MutexGuard<'_, Inner>,
    shared: &Shared,
    from: &Person,
    msg: Value,
    chat_id: i64,
    data: &str,
) -> String {
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
    push_update(inner, "callback_query", cq);
    shared.updates_notify.notify_waiters();
    id
}

impl StandIn {
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
        match self.try_wait_for(chat_id, pred, timeout).await {
            Some(m) => m,
            None => panic!(
                "stand-in: wait_for(chat {chat_id}) timed out after {timeout:?}; \
                 no unconsumed message matched.\n{}",
                self.dump_chat(chat_id)
            ),
        }
    }

    /// [`StandIn::wait_for`] that gives None on timeout instead of panicking.
    pub async fn try_wait_for(
        &self,
        chat_id: i64,
        pred: impl Fn(&SentMessage) -> bool,
        timeout: Duration,
    ) -> Option<SentMessage> {
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
                    return Some(m);
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// Every message of every chat (from people and from the bot) written (sent or
    /// edited) after write number `since`, in the order of their ids, with the latest
    /// write number: what a chat window needs to catch up.
    pub fn chat_messages_since(&self, since: u64) -> (u64, Vec<ChatMessage>) {
        let inner = self.shared.lock();
        let mut out: Vec<ChatMessage> = inner
            .messages
            .iter()
            .filter(|(_, m)| m.seq > since)
            .map(|(id, m)| ChatMessage {
                message_id: *id,
                chat_id: m.chat_id,
                from_bot: m.from_bot,
                seq: m.seq,
                json: m.json.clone(),
                has_photo: m.photo.is_some() || m.json.get("photo").is_some(),
            })
            .collect();
        out.sort_by_key(|m| m.message_id);
        (inner.seq, out)
    }

    /// Waits until something is written after `since`, or `timeout` passes.
    pub async fn wait_for_news(&self, since: u64, timeout: Duration) {
        let mut rx = self.shared.version.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|v| *v > since)).await;
    }

    /// The picture of photo message `message_id`, when its bytes were uploaded (by the
    /// bot, or by a person through [`StandIn::try_send_picture`]).
    pub fn photo(&self, message_id: i32) -> Option<Arc<[u8]>> {
        self.shared.lock().messages.get(&message_id)?.photo.clone()
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
                    "stand-in: wait_for_count(chat {chat_id}, {n}) timed out after \
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
                        "stand-in: expected nothing sent to chat {chat_id}, but got:\n{}",
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

    /// The next sendMessage/sendPhoto/sendDocument/sendMediaGroup call (any chat) gets
    /// this fault (FIFO).
    pub fn push_fault(&self, fault: Fault) {
        self.shared.lock().faults.push_back(fault);
    }

    /// Each sendMessage/sendPhoto/sendDocument/sendMediaGroup call fails with a 500 with
    /// this probability
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

    /// Enables flood control for sendMessage/sendPhoto/sendDocument/sendMediaGroup (an
    /// album counts as its photos): more than `global_per_sec` successful sends in any
    /// sliding 1 s window, or a send
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
        from: &Person,
        chat: Value,
        photo: Option<Arc<[u8]>>,
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
        let seq = inner.put_message(
            id,
            StoredMsg {
                chat_id,
                from_bot: false,
                json: msg.clone(),
                source: String::new(),
                parse_mode: None,
                has_text,
                seq: 0,
                photo,
            },
        );
        push_update(&mut inner, "message", msg);
        drop(inner);
        self.shared.updates_notify.notify_waiters();
        self.shared.publish(seq);
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

/// Whether a photo with this file_id was seen (Some), and its bytes when they were uploaded.
fn known_file(inner: &Inner, file_id: &str) -> Option<Option<Arc<[u8]>>> {
    inner
        .messages
        .values()
        .find(|m| {
            m.json
                .get("photo")
                .and_then(Value::as_array)
                .is_some_and(|sizes| sizes.iter().any(|s| s["file_id"] == file_id))
        })
        .map(|m| m.photo.clone())
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

fn bot_user_json(identity: &BotIdentity) -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": identity.first_name,
           "username": identity.username})
}

fn xorshift(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    (x >> 11) as f64 / (1u64 << 53) as f64
}
