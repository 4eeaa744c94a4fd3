//! The one place that talks to Telegram. Answers, reminders, check-ins, staff alerts,
//! relays, photos, documents and edits all leave through here, so pacing, retries and
//! "this chat is gone" are decided once; the files people send come in through `files`.
//!
//! Each chat with something to send has one worker task and two queues: answers to what
//! the person just did go ahead of queued messages (reminders, alerts, relays). A
//! worker takes its chat's turn (one message a second) and then a slot in the overall
//! stream (answers first, see `pacer`), and only then picks the message, so an answer
//! that arrives while a reminder waits for its turn still goes first. Just before a
//! reminder goes out it asks the database whether it is still wanted: a /stop, pause,
//! cancel or erasure committed meanwhile stops what is already queued.
//!
//! Telegram's answers: 429 pauses everyone for `retry_after` and the message is tried
//! again; 403 or "chat not found" makes the chat's patients unreachable once and drops
//! everything else queued for it unsent; 5xx and network errors are retried with
//! backoff here for answers and staff messages (the scheduler reschedules reminders
//! itself); any other 400 is logged with Telegram's reason and not retried. Sends go
//! through `wire`, not teloxide's request code, which sleeps 10 s after every 5xx; a
//! slow send holds up its own chat only.

pub mod errors;
pub mod files;
pub mod outcome;
pub mod pacer;
pub mod staff_alerts;
pub mod wire;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::requests::HasPayload;
use teloxide::types::{
    BotCommand, BotCommandScope, CallbackQueryId, FileId, InlineKeyboardMarkup, InputFile,
    InputMedia, InputMediaPhoto, MessageId, ParseMode, Recipient,
};
use teloxide::{ApiError, RequestError};
use tokio::sync::{Notify, oneshot, watch};

use crate::clock::Clock;
use crate::ops::Telemetry;
use crate::store::Store;
pub use outcome::Outcome;
pub use pacer::{Limits, Pacer, Urgency};

/// Tries for an answer or a staff message that meets a 5xx or a network error.
const TRIES: u32 = 3;
/// Tries for any message Telegram answers with 429.
const RATE_LIMITED_TRIES: u32 = 5;

/// What a message is, as far as ordering and checks go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// The answer to what the person in this chat just did: goes first.
    Answer,
    /// Alerts, relays, edits: in order with reminders.
    Message,
    /// A scheduled reminder (its row id): checked just before it goes out.
    Reminder(i64),
}

/// A picture to send.
#[derive(Debug, Clone)]
pub enum Photo {
    /// One Telegram already has (a patient's photo passed on).
    FileId(String),
    /// A PNG made here (the QR code of a link).
    Png(Vec<u8>),
}

#[derive(Debug, Clone)]
pub enum Content {
    /// HTML text.
    Text(String),
    /// A photo with an HTML caption; `fallback` is sent as text if Telegram refuses it.
    Photo {
        photo: Photo,
        caption: String,
        fallback: Option<String>,
    },
    /// A file made here (a course exported as TOML), with an HTML caption.
    Document {
        file_name: String,
        bytes: Vec<u8>,
        caption: String,
    },
    /// New HTML text for a message sent earlier (its buttons replaced by `buttons`).
    Edit { message_id: i32, text: String },
    /// New HTML caption for a photo sent earlier (its buttons replaced by `buttons`).
    EditCaption { message_id: i32, caption: String },
    /// Takes the buttons off a message sent earlier.
    RemoveButtons { message_id: i32 },
    /// Leaves a group the bot was added to, after what was queued before it.
    LeaveChat,
    /// Photos Telegram already has, sent as one album (`sendMediaGroup`): 2 to 10 of
    /// them, each with its HTML caption. Albums carry no buttons. Made by
    /// [`Outgoing::albums`], which splits any number of photos into albums.
    Album(Vec<AlbumPhoto>),
}

/// One photo of an album: a file Telegram already has, and its HTML caption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbumPhoto {
    pub file_id: String,
    pub caption: String,
}

pub use crate::store::Thread;

/// One message for the outbox.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub chat: i64,
    pub content: Content,
    pub buttons: Option<InlineKeyboardMarkup>,
    pub lane: Lane,
    pub thread: Option<Thread>,
}

impl Outgoing {
    fn new(chat: i64, lane: Lane, content: Content) -> Self {
        Outgoing {
            chat,
            content,
            buttons: None,
            lane,
            thread: None,
        }
    }

    /// An HTML answer to the person in `chat`.
    pub fn answer(chat: i64, html: String) -> Self {
        Self::new(chat, Lane::Answer, Content::Text(html))
    }

    /// An HTML message that waits its turn behind what is queued for `chat`.
    pub fn message(chat: i64, html: String) -> Self {
        Self::new(chat, Lane::Message, Content::Text(html))
    }

    /// A scheduled reminder (row `id`).
    pub fn reminder(chat: i64, id: i64, html: String) -> Self {
        Self::new(chat, Lane::Reminder(id), Content::Text(html))
    }

    /// A photo with an HTML caption, in `lane`.
    pub fn photo(chat: i64, lane: Lane, photo: Photo, caption: String) -> Self {
        Self::new(
            chat,
            lane,
            Content::Photo {
                photo,
                caption,
                fallback: None,
            },
        )
    }

    /// A file called `file_name` holding `bytes`, with an HTML caption, as the answer
    /// to the person in `chat`.
    pub fn document(chat: i64, file_name: String, bytes: Vec<u8>, caption: String) -> Self {
        Self::new(
            chat,
            Lane::Answer,
            Content::Document {
                file_name,
                bytes,
                caption,
            },
        )
    }

    /// New text (and buttons, if set) for a message sent earlier.
    pub fn edit(chat: i64, message_id: i32, html: String) -> Self {
        Self::new(
            chat,
            Lane::Message,
            Content::Edit {
                message_id,
                text: html,
            },
        )
    }

    /// A new caption (and buttons, if set) for a photo sent earlier.
    pub fn edit_caption(chat: i64, message_id: i32, html: String) -> Self {
        Self::new(
            chat,
            Lane::Message,
            Content::EditCaption {
                message_id,
                caption: html,
            },
        )
    }

    /// `photos` as albums, in order: as few as Telegram allows (10 photos each at most),
    /// evenly filled; a single photo goes as a plain photo (an album needs two).
    pub fn albums(chat: i64, lane: Lane, photos: Vec<AlbumPhoto>) -> Vec<Outgoing> {
        let mut rest = photos.into_iter();
        crate::domain::photos::album_sizes(rest.len())
            .into_iter()
            .map(|n| {
                let mut group: Vec<AlbumPhoto> = rest.by_ref().take(n).collect();
                let content = if group.len() == 1 {
                    let one = group.remove(0);
                    Content::Photo {
                        photo: Photo::FileId(one.file_id),
                        caption: one.caption,
                        fallback: None,
                    }
                } else {
                    Content::Album(group)
                };
                Self::new(chat, lane, content)
            })
            .collect()
    }

    /// Leaves the (group) chat once the answer queued before it has gone out.
    pub fn leave(chat: i64) -> Self {
        Self::new(chat, Lane::Answer, Content::LeaveChat)
    }

    /// Takes the buttons off a message sent earlier.
    pub fn remove_buttons(chat: i64, message_id: i32) -> Self {
        Self::new(chat, Lane::Message, Content::RemoveButtons { message_id })
    }

    pub fn with_buttons(mut self, buttons: InlineKeyboardMarkup) -> Self {
        self.buttons = Some(buttons);
        self
    }

    pub fn in_lane(mut self, lane: Lane) -> Self {
        self.lane = lane;
        self
    }

    pub fn about(mut self, thread: Thread) -> Self {
        self.thread = Some(thread);
        self
    }

    /// For a photo: the text to send instead if Telegram refuses the picture.
    pub fn or_text(mut self, fallback: String) -> Self {
        if let Content::Photo { fallback: f, .. } = &mut self.content {
            *f = Some(fallback);
        }
        self
    }
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent {
        message_id: i32,
    },
    /// A reminder no longer wanted when its turn came (stopped, paused, erased…).
    NotWanted,
    /// Telegram's last answer, after any retries here.
    Failed(Outcome),
    /// Not sent: the bot is shutting down (a reminder's row goes out after restart).
    Abandoned,
}

/// Resolves once the message is sent or given up.
pub struct Receipt(oneshot::Receiver<Delivery>);

impl Receipt {
    pub async fn delivery(self) -> Delivery {
        self.0.await.unwrap_or(Delivery::Abandoned)
    }
}

struct Job {
    msg: Outgoing,
    done: oneshot::Sender<Delivery>,
}

impl Job {
    fn finish(self, delivery: Delivery) {
        // Nobody waiting is fine: most answers are fire and forget.
        let _ = self.done.send(delivery);
    }
}

/// A chat's messages not yet sent; present in the map while its worker runs.
#[derive(Default)]
struct ChatQueue {
    answers: VecDeque<Job>,
    queued: VecDeque<Job>,
    /// Handlers still working on an answer for this chat (`Outbox::reserve`): until
    /// they queue it or finish, nothing else goes to the chat.
    reserved: usize,
    /// Wakes the worker when a reservation ends.
    released: Arc<Notify>,
}

impl ChatQueue {
    fn pop(&mut self) -> Option<Job> {
        self.answers.pop_front().or_else(|| self.queued.pop_front())
    }
}

/// What a chat's worker does next.
enum Next {
    Send(Urgency),
    /// A handler is still working on this chat's answer.
    Wait(Arc<Notify>),
    Done,
}

/// A place at the head of a chat's queue for an answer still being worked out: from
/// the moment an update arrives until its handler has queued its first answer (or
/// finished), nothing else is sent to that chat. A reminder the handler's own action
/// made due, which the scheduler may queue within milliseconds, so never overtakes
/// the answer to what the person just did. Released on drop.
pub struct Reservation {
    outbox: Outbox,
    chat: i64,
    released: bool,
}

impl Reservation {
    /// Lets the chat's queue go on (the answer is queued, or there will be none).
    pub fn release(&mut self) {
        if std::mem::replace(&mut self.released, true) {
            return;
        }
        if let Some(q) = self.outbox.inner.chats().get_mut(&self.chat) {
            q.reserved = q.reserved.saturating_sub(1);
            q.released.notify_one();
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.release();
    }
}

/// The sender. Cheap to clone; every clone is the same outbox.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    bot: Bot,
    /// The outbox's own requests for what it sends (see `wire`).
    wire: wire::Wire,
    store: Store,
    clock: Arc<dyn Clock>,
    pacer: Pacer,
    chats: Mutex<HashMap<i64, ChatQueue>>,
    /// Notified whenever a chat's worker ends.
    idle: Notify,
    shutdown: watch::Receiver<bool>,
    /// The bot's counters and heartbeats: every sender holds the outbox, so they live here.
    telemetry: Arc<Telemetry>,
}

impl Outbox {
    /// Starts the pacer; must be called inside the tokio runtime.
    pub fn new(
        bot: Bot,
        store: Store,
        clock: Arc<dyn Clock>,
        limits: Limits,
        shutdown: watch::Receiver<bool>,
    ) -> Outbox {
        Outbox {
            inner: Arc::new(Inner {
                wire: wire::Wire::new(&bot),
                bot,
                store,
                clock,
                pacer: Pacer::new(limits),
                chats: Mutex::new(HashMap::new()),
                idle: Notify::new(),
                shutdown,
                telemetry: Arc::new(Telemetry::default()),
            }),
        }
    }

    /// Queues a message; it goes out at its chat's turn. Never waits.
    pub fn send(&self, msg: Outgoing) -> Receipt {
        let (done, receipt) = oneshot::channel();
        let chat = msg.chat;
        let job = Job { msg, done };
        self.with_queue(chat, |queue| {
            if job.msg.lane == Lane::Answer {
                queue.answers.push_back(job);
            } else {
                queue.queued.push_back(job);
            }
        });
        Receipt(receipt)
    }

    /// Holds the head of `chat`'s queue for an answer being worked out (see
    /// `Reservation`).
    pub fn reserve(&self, chat: i64) -> Reservation {
        self.with_queue(chat, |queue| queue.reserved += 1);
        Reservation {
            outbox: self.clone(),
            chat,
            released: false,
        }
    }

    /// Changes `chat`'s queue, starting its worker if it had none.
    fn with_queue(&self, chat: i64, change: impl FnOnce(&mut ChatQueue)) {
        let start_worker = {
            let mut chats = self.inner.chats();
            let mut start = false;
            let queue = chats.entry(chat).or_insert_with(|| {
                start = true;
                ChatQueue::default()
            });
            change(queue);
            start
        };
        if start_worker {
            tokio::spawn(self.inner.clone().work(chat));
        }
    }

    /// Answers a button press (stops its spinner, shows `text` if any). Not a chat
    /// message, so not paced; a failure costs the person a spinner, and is logged.
    pub fn answer_button(&self, id: CallbackQueryId, text: Option<String>) {
        let bot = self.inner.bot.clone();
        tokio::spawn(async move {
            let mut request = bot.answer_callback_query(id);
            if let Some(text) = text.filter(|t| !t.is_empty()) {
                request = request.text(text);
            }
            if let Err(e) = request.await {
                tracing::warn!(
                    error = errors::describe_request(&e),
                    "could not answer a button press"
                );
            }
        });
    }

    /// Sets a command menu: for every private chat (`chat` None) or one chat. Not a
    /// message, so not paced; a failure costs a menu, not a function, and is logged.
    /// The handle resolves once Telegram has answered.
    pub fn set_menu(
        &self,
        chat: Option<i64>,
        commands: Vec<BotCommand>,
    ) -> tokio::task::JoinHandle<()> {
        let bot = self.inner.bot.clone();
        tokio::spawn(async move {
            let scope = match chat {
                None => BotCommandScope::AllPrivateChats,
                Some(chat) => BotCommandScope::Chat {
                    chat_id: Recipient::Id(ChatId(chat)),
                },
            };
            if let Err(e) = bot.set_my_commands(commands).scope(scope).await {
                tracing::warn!(
                    chat,
                    error = errors::describe_request(&e),
                    "could not set a command menu"
                );
            }
        })
    }

    /// The running bot's metrics and heartbeats.
    pub fn telemetry(&self) -> &Arc<Telemetry> {
        &self.inner.telemetry
    }

    /// How many chats have messages waiting or on the wire.
    pub fn busy_chats(&self) -> usize {
        self.inner.chats().len()
    }

    /// Waits until nothing is queued or on the wire. After shutdown, queued reminders
    /// are given up at once (their rows go out after a restart); answers still go.
    pub async fn drained(&self) {
        loop {
            let idle = self.inner.idle.notified();
            if self.inner.chats().is_empty() {
                return;
            }
            idle.await;
        }
    }
}

impl Inner {
    fn chats(&self) -> std::sync::MutexGuard<'_, HashMap<i64, ChatQueue>> {
        self.chats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// What the worker should do next; `Done` (and the worker's end) when the chat has
    /// nothing left. On shutdown, queued reminders are given up here.
    fn next(&self, chat: i64) -> Next {
        let mut chats = self.chats();
        let Some(queue) = chats.get_mut(&chat) else {
            return Next::Done;
        };
        if self.shutting_down() {
            queue
                .queued
                .retain(|j| !matches!(j.msg.lane, Lane::Reminder(_)));
        }
        if !queue.answers.is_empty() {
            return Next::Send(Urgency::Answer);
        }
        if queue.reserved > 0 {
            return Next::Wait(queue.released.clone());
        }
        if queue.queued.is_empty() {
            chats.remove(&chat);
            drop(chats);
            self.idle.notify_waiters();
            return Next::Done;
        }
        Next::Send(Urgency::Queued)
    }

    /// Waits for the chat to be free and a slot in the overall stream.
    async fn turn(&self, chat: i64, urgency: Urgency) {
        if let Some(free) = self.pacer.chat_free_at(chat) {
            tokio::time::sleep_until(free).await;
        }
        self.pacer.slot(urgency).await;
    }

    /// One chat's worker: sends its messages in order, answers first, until none are left.
    async fn work(self: Arc<Self>, chat: i64) {
        loop {
            let urgency = match self.next(chat) {
                Next::Done => return,
                // `notify_one` keeps a permit, so a release just before this is not lost.
                Next::Wait(released) => {
                    released.notified().await;
                    continue;
                }
                Next::Send(urgency) => urgency,
            };
            // At shutdown a reminder stops waiting for its turn: it is given up at once
            // (its row goes out after the restart), so the drain is not held by the queue.
            let mut shutdown = self.shutdown.clone();
            tokio::select! {
                _ = self.turn(chat, urgency) => {}
                _ = shutdown.wait_for(|s| *s), if !self.shutting_down() => continue,
            }
            let Some(job) = self.chats().get_mut(&chat).and_then(|q| {
                // Still held while the turn came: only an answer may go now.
                if q.reserved > 0 && q.answers.is_empty() {
                    None
                } else {
                    q.pop()
                }
            }) else {
                continue;
            };
            if let Lane::Reminder(id) = job.msg.lane {
                if self.shutting_down() {
                    job.finish(Delivery::Abandoned);
                    continue;
                }
                match self.store.still_wanted(id).await {
                    Ok(true) => {}
                    Ok(false) => {
                        self.telemetry.metrics.skipped("no longer wanted");
                        job.finish(Delivery::NotWanted);
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(reminder = id, error = %e, "could not check a reminder before sending");
                        self.telemetry.metrics.failed("database");
                        job.finish(Delivery::Failed(Outcome::Transient("database".into())));
                        continue;
                    }
                }
            }
            self.deliver(chat, job).await;
        }
    }

    /// Sends one message, retrying where that is this module's job, and settles it.
    async fn deliver(&self, chat: i64, mut job: Job) {
        let urgency = if job.msg.lane == Lane::Answer {
            Urgency::Answer
        } else {
            Urgency::Queued
        };
        let retries_errors = !matches!(job.msg.lane, Lane::Reminder(_));
        let (mut tries, mut rate_limited) = (0, 0);
        // An album is that many messages for Telegram's overall limit: its turn took
        // one slot, the other photos take theirs now.
        if let Content::Album(photos) = &job.msg.content {
            for _ in 1..photos.len() {
                self.pacer.slot(urgency).await;
            }
        }
        let outcome = loop {
            self.pacer.sent(chat);
            let outcome = self.transmit(&job.msg).await;
            if let Outcome::RetryAfter(wait) = &outcome {
                self.telemetry.metrics.rate_limited(*wait);
            }
            // Telegram counts when a message arrives, somewhere between our request and
            // its answer: the chat's next turn counts from the answer, so a slow request
            // never lands the next one less than a gap after it.
            self.pacer.sent(chat);
            match &outcome {
                Outcome::RetryAfter(wait) if rate_limited + 1 < RATE_LIMITED_TRIES => {
                    rate_limited += 1;
                    tracing::warn!(
                        chat,
                        retry_after_s = wait.as_secs(),
                        "Telegram asked us to wait"
                    );
                    self.pacer.pause_until(tokio::time::Instant::now() + *wait);
                }
                Outcome::Transient(why) if retries_errors && tries + 1 < TRIES => {
                    tries += 1;
                    let pause = Duration::from_secs(1 << (tries - 1));
                    tracing::warn!(chat, reason = %why, retry_in_s = pause.as_secs(), "send failed, will retry");
                    tokio::time::sleep(pause).await;
                }
                Outcome::Rejected(_) | Outcome::Transient(_) if has_fallback(&job.msg) => {
                    let Content::Photo { fallback, .. } = &mut job.msg.content else {
                        unreachable!("has_fallback checked the content")
                    };
                    let text = fallback.take().unwrap_or_default();
                    tracing::warn!(chat, "could not send a picture, sending its text instead");
                    job.msg.content = Content::Text(text);
                }
                _ => break outcome,
            }
            self.turn(chat, urgency).await;
        };
        let metrics = &self.telemetry.metrics;
        match &outcome {
            Outcome::Sent { .. } => metrics.sent(match job.msg.lane {
                Lane::Answer => "answer",
                Lane::Message => "message",
                Lane::Reminder(_) => "reminder",
            }),
            Outcome::Unreachable(_) => metrics.failed("unreachable"),
            Outcome::Rejected(_) => metrics.failed("refused by Telegram"),
            Outcome::Transient(_) => metrics.failed("network or server error"),
            Outcome::RetryAfter(_) => metrics.failed("rate limited"),
        }
        match &outcome {
            Outcome::Sent { message_id } => {
                if let Some(t) = job.msg.thread {
                    match self
                        .store
                        .remember_thread(chat, *message_id, &t, self.clock.now())
                        .await
                    {
                        // The patient erased their data while this copy of their message
                        // waited its turn: it loses the name and the words like the rest.
                        Ok(true) if t.relay.is_some() => {
                            let photo = t.relay.is_some_and(|r| r.photo);
                            let text = staff_alerts::erased_relay_text(t.patient_id, photo);
                            let edit = if photo {
                                Outgoing::edit_caption(chat, *message_id, text)
                            } else {
                                Outgoing::edit(chat, *message_id, text)
                            };
                            self.queue_after(chat, edit);
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::error!(error = %e, chat, "could not remember a staff thread")
                        }
                    }
                }
                job.finish(Delivery::Sent {
                    message_id: *message_id,
                });
            }
            Outcome::Unreachable(why) => {
                job.finish(Delivery::Failed(outcome.clone()));
                self.unreachable(chat, why).await;
            }
            Outcome::Rejected(why) if edits_a_gone_message(&job.msg, why) => {
                tracing::debug!(chat, reason = %why, "Telegram no longer lets us edit a message");
                job.finish(Delivery::Failed(outcome));
            }
            Outcome::Rejected(why) => {
                tracing::error!(chat, reason = %why, "Telegram refused a message");
                job.finish(Delivery::Failed(outcome));
            }
            Outcome::Transient(_) | Outcome::RetryAfter(_) => {
                job.finish(Delivery::Failed(outcome));
            }
        }
    }

    /// Queues `msg` for `chat` from inside its worker (whose queue exists until it ends),
    /// behind what is queued already; nobody waits for its receipt.
    fn queue_after(&self, chat: i64, msg: Outgoing) {
        let (done, _) = oneshot::channel();
        if let Some(q) = self.chats().get_mut(&chat) {
            q.queued.push_back(Job { msg, done });
        }
    }

    /// Telegram will not deliver to `chat`: its patients become unreachable (once), and
    /// everything else queued for it is dropped unsent.
    async fn unreachable(&self, chat: i64, why: &'static str) {
        match self.store.mark_chat_unreachable(chat, why).await {
            Ok(patients) => tracing::info!(chat, patients, reason = why, "chat unreachable"),
            Err(e) => tracing::error!(chat, error = %e, "could not mark a chat unreachable"),
        }
        let dropped: Vec<Job> = match self.chats().get_mut(&chat) {
            Some(q) => q.answers.drain(..).chain(q.queued.drain(..)).collect(),
            None => Vec::new(),
        };
        if !dropped.is_empty() {
            tracing::info!(
                chat,
                dropped = dropped.len(),
                "dropped messages queued for an unreachable chat"
            );
        }
        for job in dropped {
            self.telemetry.metrics.skipped("chat unreachable");
            job.finish(Delivery::Failed(Outcome::Unreachable(why)));
        }
    }

    /// One request to Telegram, through `wire` (no pause after a 5xx; see there).
    async fn transmit(&self, msg: &Outgoing) -> Outcome {
        let chat = ChatId(msg.chat);
        let (bot, wire) = (&self.bot, &self.wire);
        let id = |m: wire::Sent| m.message_id;
        let sent: Result<i32, RequestError> = match &msg.content {
            Content::Text(html) => {
                let mut req = bot
                    .send_message(chat, html.clone())
                    .parse_mode(ParseMode::Html);
                if let Some(b) = &msg.buttons {
                    req = req.reply_markup(b.clone());
                }
                wire.json("sendMessage", req.payload_ref()).await.map(id)
            }
            Content::Photo { photo, caption, .. } => match photo {
                Photo::FileId(file) => {
                    let mut req = bot
                        .send_photo(chat, InputFile::file_id(FileId(file.clone())))
                        .caption(caption.clone())
                        .parse_mode(ParseMode::Html);
                    if let Some(b) = &msg.buttons {
                        req = req.reply_markup(b.clone());
                    }
                    wire.json("sendPhoto", req.payload_ref()).await.map(id)
                }
                Photo::Png(png) => {
                    let form = wire::upload_form(msg.chat, caption, msg.buttons.as_ref())
                        .part("photo", wire::file_part(png.clone(), "link.png"));
                    wire.multipart("sendPhoto", form).await.map(id)
                }
            },
            Content::Document {
                file_name,
                bytes,
                caption,
            } => {
                let form = wire::upload_form(msg.chat, caption, msg.buttons.as_ref())
                    .part("document", wire::file_part(bytes.clone(), file_name));
                wire.multipart("sendDocument", form).await.map(id)
            }
            Content::Edit { message_id, text } => {
                let mut req = bot
                    .edit_message_text(chat, MessageId(*message_id), text.clone())
                    .parse_mode(ParseMode::Html);
                if let Some(b) = &msg.buttons {
                    req = req.reply_markup(b.clone());
                }
                let sent = wire.json("editMessageText", req.payload_ref()).await;
                not_modified_is_fine(sent.map(id), *message_id)
            }
            Content::EditCaption {
                message_id,
                caption,
            } => {
                let mut req = bot
                    .edit_message_caption(chat, MessageId(*message_id))
                    .caption(caption.clone())
                    .parse_mode(ParseMode::Html);
                if let Some(b) = &msg.buttons {
                    req = req.reply_markup(b.clone());
                }
                let sent = wire.json("editMessageCaption", req.payload_ref()).await;
                not_modified_is_fine(sent.map(id), *message_id)
            }
            Content::RemoveButtons { message_id } => {
                let req = bot.edit_message_reply_markup(chat, MessageId(*message_id));
                let sent = wire.json("editMessageReplyMarkup", req.payload_ref()).await;
                not_modified_is_fine(sent.map(id), *message_id)
            }
            Content::LeaveChat => {
                let req = bot.leave_chat(chat);
                wire.json::<_, bool>("leaveChat", req.payload_ref())
                    .await
                    .map(|_| 0)
            }
            Content::Album(photos) => {
                let media = photos.iter().map(|p| {
                    InputMedia::Photo(
                        InputMediaPhoto::new(InputFile::file_id(FileId(p.file_id.clone())))
                            .caption(p.caption.clone())
                            .parse_mode(ParseMode::Html),
                    )
                });
                let req = bot.send_media_group(chat, media);
                // Telegram answers with every message of the album: the first stands
                // for it.
                wire.json::<_, Vec<wire::Sent>>("sendMediaGroup", req.payload_ref())
                    .await
                    .map(|sent| sent.first().map_or(0, |m| m.message_id))
            }
        };
        outcome::classify(sent, |m| *m)
    }
}

fn has_fallback(msg: &Outgoing) -> bool {
    matches!(
        &msg.content,
        Content::Photo {
            fallback: Some(_),
            ..
        }
    )
}

/// Whether `msg` edits an earlier message that Telegram no longer lets us edit (too old,
/// or deleted by the person in that chat): nothing to fix, so not worth an error line.
fn edits_a_gone_message(msg: &Outgoing, why: &str) -> bool {
    let is_edit = matches!(
        msg.content,
        Content::Edit { .. } | Content::EditCaption { .. } | Content::RemoveButtons { .. }
    );
    is_edit
        && [
            ApiError::MessageCantBeEdited,
            ApiError::MessageToEditNotFound,
        ]
        .iter()
        .any(|gone| why == gone.to_string())
}

/// An edit that changes nothing (the copy was edited already) has done its job.
fn not_modified_is_fine(
    result: Result<i32, RequestError>,
    message_id: i32,
) -> Result<i32, RequestError> {
    match result {
        Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(message_id),
        other => other,
    }
}
