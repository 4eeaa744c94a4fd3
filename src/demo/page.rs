//! The chat page and its small JSON API: what each chat holds, and what a person on the
//! page does (write, press a button, send a photo), passed to the stand-in as that
//! person's Telegram app would.
//!
//! Served on loopback. Requests must name the page's own host (no other site can reach
//! it through DNS rebinding) and actions come as JSON (which a form on another site
//! cannot send without the browser asking first).

use std::net::SocketAddr;
use std::time::Duration;

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Path, Query, Request, State},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use super::clock::{DemoClock, SPEEDS};
use super::people::People;
use super::render;
use crate::standin::StandIn;

const PAGE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// How long a state request waits for news before answering with the clock alone.
const LONG_POLL: Duration = Duration::from_secs(2);
/// The largest photo a person may send (Telegram's limit for photos is 10 MB).
const MAX_PHOTO: usize = 10 * 1024 * 1024;

#[derive(Clone)]
pub struct PageState {
    pub standin: StandIn,
    pub clock: DemoClock,
    pub people: People,
    /// The address the page is served on.
    pub addr: SocketAddr,
}

pub fn router(state: PageState) -> Router {
    Router::new()
        .route("/", get(|| async { html(PAGE) }))
        .route("/demo.css", get(|| async { asset("text/css", STYLE) }))
        .route(
            "/demo.js",
            get(|| async { asset("text/javascript", SCRIPT) }),
        )
        .route("/api/state", get(page_state))
        .route("/api/people", post(add_person))
        .route("/api/send", post(send))
        .route("/api/press", post(press))
        .route("/api/photo", post(photo))
        .route("/api/document", post(send_document))
        .route("/api/clock", post(set_clock))
        .route("/photo/{id}", get(picture))
        .route("/file/{id}", get(file))
        .layer(DefaultBodyLimit::max(MAX_PHOTO * 2))
        .layer(middleware::from_fn_with_state(state.clone(), same_host))
        .with_state(state)
}

fn html(body: &'static str) -> Response {
    asset("text/html; charset=utf-8", body)
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, Json(json!({ "error": why }))).into_response()
}

/// Only requests addressed to the page's own host and port get through.
async fn same_host(State(state): State<PageState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let port = state.addr.port();
    let ok = host == state.addr.to_string()
        || host == format!("localhost:{port}")
        || host == format!("127.0.0.1:{port}")
        || host == format!("[::1]:{port}");
    if !ok {
        return refuse(StatusCode::FORBIDDEN, "unknown host");
    }
    next.run(req).await
}

#[derive(Deserialize)]
struct Since {
    #[serde(default)]
    since: u64,
}

/// Everything written after `since` (waiting briefly for news when there is none),
/// the people, and the clock.
async fn page_state(State(s): State<PageState>, Query(q): Query<Since>) -> Response {
    let (mut seq, mut messages) = s.standin.chat_messages_since(q.since);
    if messages.is_empty() {
        s.standin.wait_for_news(q.since, LONG_POLL).await;
        (seq, messages) = s.standin.chat_messages_since(q.since);
    }
    let views: Vec<render::MessageView> = messages
        .iter()
        .map(|m| render::view(m, s.standin.photo(m.message_id).is_some()))
        .collect();
    Json(json!({
        "seq": seq,
        "messages": views,
        "people": s.people.all(),
        "clock": s.clock.view(),
        "speeds": SPEEDS,
        "bot": s.standin.bot_username(),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct NewPerson {
    name: String,
    #[serde(default)]
    lang: Option<String>,
}

async fn add_person(State(s): State<PageState>, Json(p): Json<NewPerson>) -> Response {
    let name = p.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 64 {
        return refuse(StatusCode::BAD_REQUEST, "a name of 1 to 64 characters");
    }
    let lang = p
        .lang
        .as_deref()
        .filter(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    match s.people.add_patient(&name, lang) {
        Some(person) => Json(person).into_response(),
        None => refuse(StatusCode::BAD_REQUEST, "the page has enough patients"),
    }
}

#[derive(Deserialize)]
struct Say {
    person: i64,
    text: String,
    #[serde(default)]
    reply_to: Option<i32>,
}

async fn send(State(s): State<PageState>, Json(say): Json<Say>) -> Response {
    let Some(person) = s.people.get(say.person) else {
        return refuse(StatusCode::NOT_FOUND, "no such person");
    };
    let text = say.text.trim();
    if text.is_empty() || text.chars().count() > 4096 {
        return refuse(StatusCode::BAD_REQUEST, "a message of 1 to 4096 characters");
    }
    match s
        .standin
        .try_send_text(&person.person(), text, say.reply_to)
    {
        Some(id) => Json(json!({ "message_id": id })).into_response(),
        None => refuse(StatusCode::BAD_REQUEST, "that message is not in this chat"),
    }
}

#[derive(Deserialize)]
struct Press {
    person: i64,
    message_id: i32,
    data: String,
}

async fn press(State(s): State<PageState>, Json(p): Json<Press>) -> Response {
    let Some(person) = s.people.get(p.person) else {
        return refuse(StatusCode::NOT_FOUND, "no such person");
    };
    match s
        .standin
        .try_press_button(&person.person(), p.message_id, &p.data)
    {
        Some(_) => Json(json!({ "ok": true })).into_response(),
        None => refuse(StatusCode::BAD_REQUEST, "that button is not there any more"),
    }
}

#[derive(Deserialize)]
struct Photo {
    person: i64,
    /// The picture, base64 (standard alphabet).
    data: String,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    reply_to: Option<i32>,
}

async fn photo(State(s): State<PageState>, Json(p): Json<Photo>) -> Response {
    let Some(person) = s.people.get(p.person) else {
        return refuse(StatusCode::NOT_FOUND, "no such person");
    };
    let bytes = match base64::engine::general_purpose::STANDARD.decode(p.data.trim()) {
        Ok(b) if !b.is_empty() && b.len() <= MAX_PHOTO => b,
        _ => return refuse(StatusCode::BAD_REQUEST, "a picture of up to 10 MB"),
    };
    let caption = p.caption.as_deref().map(str::trim);
    match s
        .standin
        .try_send_picture(&person.person(), bytes, caption, p.reply_to)
    {
        Some(id) => Json(json!({ "message_id": id })).into_response(),
        None => refuse(StatusCode::BAD_REQUEST, "that message is not in this chat"),
    }
}

#[derive(Deserialize)]
struct Document {
    person: i64,
    file_name: String,
    /// The file, base64 (standard alphabet).
    data: String,
    #[serde(default)]
    caption: Option<String>,
}

/// A file a person sends (a course file for the bot to check), as Telegram's apps send
/// any file that is not shown as a picture.
async fn send_document(State(s): State<PageState>, Json(d): Json<Document>) -> Response {
    let Some(person) = s.people.get(d.person) else {
        return refuse(StatusCode::NOT_FOUND, "no such person");
    };
    let bytes = match base64::engine::general_purpose::STANDARD.decode(d.data.trim()) {
        Ok(b) if !b.is_empty() && b.len() <= MAX_PHOTO => b,
        _ => return refuse(StatusCode::BAD_REQUEST, "a file of up to 10 MB"),
    };
    let name: String = d.file_name.trim().chars().take(200).collect();
    if name.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "a file name");
    }
    let caption = d.caption.as_deref().map(str::trim);
    let id = s
        .standin
        .send_document(&person.person(), &name, bytes, caption);
    Json(json!({ "message_id": id })).into_response()
}

#[derive(Deserialize)]
struct ClockChange {
    #[serde(default)]
    speed: Option<u32>,
    #[serde(default)]
    jump: bool,
}

async fn set_clock(State(s): State<PageState>, Json(c): Json<ClockChange>) -> Response {
    if let Some(speed) = c.speed
        && !s.clock.set_speed(speed)
    {
        return refuse(StatusCode::BAD_REQUEST, "not one of the offered speeds");
    }
    let mut note = None;
    if c.jump {
        note = Some(match s.clock.jump_to_next().await {
            Ok(Some(_)) => "Moved to the next message due.".to_string(),
            Ok(None) => "Nothing is waiting to be sent later.".to_string(),
            Err(e) => {
                tracing::error!(error = %e, "could not read the next due time");
                "Could not read the schedule.".to_string()
            }
        });
    }
    Json(json!({ "clock": s.clock.view(), "note": note })).into_response()
}

async fn picture(State(s): State<PageState>, Path(id): Path<i32>) -> Response {
    let Some(bytes) = s.standin.photo(id) else {
        return refuse(StatusCode::NOT_FOUND, "no picture");
    };
    let kind = if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF8") {
        "image/gif"
    } else if bytes.len() > 12 && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    };
    ([(header::CONTENT_TYPE, kind)], bytes.to_vec()).into_response()
}

/// A file in a chat, as a download named as it was sent.
async fn file(State(s): State<PageState>, Path(id): Path<i32>) -> Response {
    let Some((name, bytes)) = s.standin.document(id) else {
        return refuse(StatusCode::NOT_FOUND, "no file");
    };
    // Only plain characters in the header; the page shows the real name.
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
        ],
        bytes.to_vec(),
    )
        .into_response()
}
