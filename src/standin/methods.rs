//! The Bot API methods the bot uses, each checked the way Telegram checks it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::html::parse_html;
use super::http::{Files, Params, Reply, bad, err, get_i64, get_json, get_str, scope_of, too_many};
use super::{
    Fault, Inner, MAX_CAPTION_LEN, MAX_TEXT_LEN, SentMessage, Shared, StoredMsg, Webhook,
    bot_user_json, known_file, photo_sizes, shallow, unix_now, utf16_len, xorshift,
};

pub(super) async fn get_updates(shared: &Shared, p: &Params) -> Reply {
    let offset = get_i64(p, "offset").unwrap_or(0);
    let limit = get_i64(p, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = get_i64(p, "timeout").unwrap_or(0).clamp(0, 60) as u64;
    let allowed = match get_json(p, "allowed_updates") {
        Ok(v) => v,
        Err(e) => return bad(&e),
    };
    {
        let mut inner = shared.lock();
        // Like Telegram: one way of receiving updates at a time.
        if inner.webhook.is_some() {
            return err(
                409,
                "Conflict: can't use getUpdates method while webhook is active; \
                 use deleteWebhook to delete the webhook first",
            );
        }
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

pub(super) fn set_my_commands(shared: &Shared, p: &Params) -> Reply {
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
        let name = text_field(&c, "command");
        let desc = text_field(&c, "description");
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

pub(super) fn answer_callback(shared: &Shared, p: &Params) -> Reply {
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

pub(super) fn send_chat_action(shared: &Shared, p: &Params) -> Reply {
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
/// Records the webhook like Telegram: an HTTP(S) URL (or an empty one, which removes
/// it) and a secret of 1–256 characters from `A-Z a-z 0-9 _ -`.
pub(super) fn set_webhook(shared: &Shared, p: &Params) -> Reply {
    let url = get_str(p, "url").unwrap_or_default();
    let secret_token = get_str(p, "secret_token");
    if let Some(s) = &secret_token
        && (s.is_empty()
            || s.len() > 256
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    {
        return bad("secret token contains unallowed characters");
    }
    let mut inner = shared.lock();
    if url.is_empty() {
        inner.webhook = None;
    } else if url.starts_with("https://") || url.starts_with("http://") {
        inner.webhook = Some(Webhook { url, secret_token });
    } else {
        return bad("bad webhook: An HTTPS URL must be provided for webhook");
    }
    Reply::Ok(json!(true))
}

pub(super) fn leave_chat(shared: &Shared, p: &Params) -> Reply {
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

/// The answer an injected fault makes of a send (sendMessage, sendPhoto,
/// sendMediaGroup), if one is due; a slow one only delays it.
async fn injected_fault(shared: &Shared) -> Option<Reply> {
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
    match fault? {
        Fault::ServerError => Some(err(500, "Internal Server Error")),
        Fault::BadGateway => Some(Reply::BadGateway),
        Fault::RetryAfter(n) => Some(too_many(n)),
        Fault::Slow(d) => {
            tokio::time::sleep(d).await;
            None
        }
    }
}

/// Flood control, when enabled: `messages` more sends to `chat_id` now must stay
/// within the overall limit, and the chat's previous send must be far enough back.
fn flood_control(inner: &mut Inner, chat_id: i64, now: Instant, messages: usize) -> Option<Reply> {
    let rl = inner.rate_limits.as_ref()?;
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
    (inner.recent_sends.len() + messages > global || chat_too_soon).then(|| too_many(1))
}

pub(super) async fn send(shared: &Shared, method: &str, p: &Params, files: &Files) -> Reply {
    // 1. injected faults
    if let Some(reply) = injected_fault(shared).await {
        return reply;
    }

    let is_photo = method == "sendPhoto";
    let is_document = method == "sendDocument";
    let mut picture: Option<Arc<[u8]>> = None;
    let mut inner = shared.lock();
    // 2. chat
    let (chat_id, chat) = match check_chat(&inner, p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    // 3. flood control
    let now = Instant::now();
    if let Some(reply) = flood_control(&mut inner, chat_id, now, 1) {
        return reply;
    }
    // 4. content
    let parse_mode = get_str(p, "parse_mode");
    let (source, formatted, photo) = if is_photo {
        let photo = match p.get("photo") {
            Some(Value::String(s)) if s.starts_with("attach://") => match files.get(&s[9..]) {
                Some(b) => {
                    picture = Some(Arc::from(b.as_slice()));
                    Some(b.len())
                }
                None => return bad("there is no photo in the request"),
            },
            // A file_id must name a photo Telegram has seen (sent by a user or the bot).
            Some(Value::String(s)) if !s.is_empty() => match known_file(&inner, s) {
                Some(bytes) => {
                    picture = bytes;
                    None
                }
                None => return bad("wrong file identifier/HTTP URL specified"),
            },
            None if files.contains_key("photo") => files.get("photo").map(|b| {
                picture = Some(Arc::from(b.as_slice()));
                b.len()
            }),
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
    } else if is_document {
        let caption = get_str(p, "caption").unwrap_or_default();
        let f = match format_text(&caption, parse_mode.as_deref()) {
            Ok(f) => f,
            Err(r) => return r,
        };
        if utf16_len(&f.text) > MAX_CAPTION_LEN {
            return bad("message caption is too long");
        }
        (caption, f, None)
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
    // A document: uploaded now (a multipart part with its file name) or one Telegram
    // already has (a file id).
    let document: Option<Uploaded> = if is_document {
        match uploaded_document(&inner, p, files) {
            Ok(d) => Some(d),
            Err(r) => return r,
        }
    } else {
        None
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
    m.insert("from".into(), bot_user_json(&shared.identity));
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
    } else if let Some(d) = document {
        let json = match d {
            Uploaded::New { file_name, bytes } => {
                super::files::register(&mut inner, &format!("bot{id}"), &file_name, bytes).1
            }
            Uploaded::Known(json) => json,
        };
        m.insert("document".into(), json);
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
    let seq = inner.put_message(
        id,
        StoredMsg {
            chat_id,
            from_bot: true,
            json: msg.clone(),
            source: source.clone(),
            parse_mode: parse_mode.clone(),
            has_text: !is_photo && !is_document,
            seq: 0,
            photo: picture,
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
        media_group_id: None,
        at: now,
    });
    inner.recent_sends.push_back(now);
    inner.last_send_per_chat.insert(chat_id, now);
    drop(inner);
    shared.sent_notify.notify_waiters();
    shared.publish(seq);
    Reply::Ok(msg)
}

/// The document of a sendDocument request.
enum Uploaded {
    New {
        file_name: String,
        bytes: Arc<[u8]>,
    },
    /// One Telegram already has: its `Document` object.
    Known(Value),
}

/// Bots may upload files of up to 50 MB.
const MAX_UPLOAD: usize = 50 * 1024 * 1024;

fn uploaded_document(inner: &Inner, p: &Params, files: &Files) -> Result<Uploaded, Reply> {
    let field = match p.get("document") {
        Some(Value::String(s)) if s.starts_with("attach://") => s[9..].to_string(),
        Some(Value::String(s)) if !s.is_empty() => {
            return match inner.files.get(s.as_str()) {
                Some(f) => Ok(Uploaded::Known(super::files::document_json(s, f))),
                None => Err(bad("wrong file identifier/HTTP URL specified")),
            };
        }
        None if files.contains_key("document") => "document".to_string(),
        _ => return Err(bad("there is no document in the request")),
    };
    let Some(bytes) = files.get(&field) else {
        return Err(bad("there is no document in the request"));
    };
    if bytes.is_empty() {
        return Err(bad("file must be non-empty"));
    }
    if bytes.len() > MAX_UPLOAD {
        return Err(err(413, "Request Entity Too Large"));
    }
    Ok(Uploaded::New {
        file_name: files.file_name(&field).unwrap_or("document").to_string(),
        bytes: Arc::from(bytes.as_slice()),
    })
}

pub(super) fn edit(shared: &Shared, method: &str, p: &Params) -> Reply {
    if p.contains_key("inline_message_id") {
        return Reply::Ok(json!(true));
    }
    let is_text = method == "editMessageText";
    let is_caption = method == "editMessageCaption";
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
    } else if is_caption {
        if has_text {
            return bad("there is no caption in the message to edit");
        }
        let caption = get_str(p, "caption").unwrap_or_default();
        let parse_mode = get_str(p, "parse_mode");
        let f = match format_text(&caption, parse_mode.as_deref()) {
            Ok(f) => f,
            Err(r) => return r,
        };
        if utf16_len(&f.text) > MAX_CAPTION_LEN {
            return bad("message caption is too long");
        }
        m.remove("caption");
        m.remove("caption_entities");
        if !f.text.is_empty() {
            insert_text(&mut m, "caption", "caption_entities", &f);
        }
        (caption, parse_mode)
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
    inner.seq += 1;
    let seq = inner.seq;
    if let Some(s) = inner.messages.get_mut(&message_id) {
        s.json = msg.clone();
        s.source = source.clone();
        s.parse_mode = parse_mode.clone();
        s.seq = seq;
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
        media_group_id: None,
        at: Instant::now(),
    });
    drop(inner);
    shared.sent_notify.notify_waiters();
    shared.publish(seq);
    Reply::Ok(msg)
}

fn strip_edit_date(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("edit_date");
    }
    v
}

/// One photo of an album, checked.
struct AlbumItem {
    source: String,
    formatted: Formatted,
    parse_mode: Option<String>,
    picture: Option<Arc<[u8]>>,
    /// Set when sent by file id; the upload's size otherwise.
    file_id: Option<String>,
    bytes: Option<usize>,
}

/// sendMediaGroup, for albums of photos (the only kind the bot sends): 2 to 10 items
/// as the Bot API documents (the real server sends a lone item as a plain photo; the
/// stand-in holds the bot to the documented contract), each a photo Telegram has (a
/// known file id) or an upload, each caption checked like sendPhoto's. Answers with
/// every message of the album, all carrying one `media_group_id`.
pub(super) async fn send_media_group(shared: &Shared, p: &Params, files: &Files) -> Reply {
    if let Some(reply) = injected_fault(shared).await {
        return reply;
    }
    let mut inner = shared.lock();
    let (chat_id, chat) = match check_chat(&inner, p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let media = match get_json(p, "media") {
        Ok(Some(Value::Array(a))) => a,
        Ok(None) => return bad("parameter \"media\" is required"),
        Ok(Some(_)) | Err(_) => return bad("can't parse media JSON object"),
    };
    match media.len() {
        0 => return bad("there are no messages to send"),
        1 => return bad("an album must include 2-10 items"),
        n if n > 10 => return bad("too many messages to send as an album"),
        _ => {}
    }
    let mut items = Vec::new();
    for item in &media {
        let Some(obj) = item.as_object() else {
            return bad("can't parse InputMedia JSON object");
        };
        match obj.get("type").and_then(Value::as_str) {
            Some("photo") => {}
            Some(other) => {
                return bad(&format!(
                    "can't parse InputMedia: type \"{other}\" is not modelled by this stand-in"
                ));
            }
            None => return bad("can't parse InputMedia: media type isn't specified"),
        }
        let (picture, file_id, bytes) = match obj.get("media").and_then(Value::as_str) {
            Some(s) if s.starts_with("attach://") => match files.get(&s[9..]) {
                Some(b) if b.is_empty() => return bad("file must be non-empty"),
                Some(b) => (Some(Arc::from(b.as_slice())), None, Some(b.len())),
                None => return bad("can't parse InputMedia: media not found"),
            },
            // A file_id must name a photo Telegram has seen (sent by a user or the bot).
            Some(s) if !s.is_empty() => match known_file(&inner, s) {
                Some(pic) => (pic, Some(s.to_string()), None),
                None => return bad("wrong file identifier/HTTP URL specified"),
            },
            _ => return bad("can't parse InputMedia: media isn't specified"),
        };
        let source = text_field(item, "caption");
        let parse_mode = obj
            .get("parse_mode")
            .and_then(Value::as_str)
            .map(str::to_string);
        let formatted = match format_text(&source, parse_mode.as_deref()) {
            Ok(f) => f,
            Err(r) => return r,
        };
        if utf16_len(&formatted.text) > MAX_CAPTION_LEN {
            return bad("message caption is too long");
        }
        items.push(AlbumItem {
            source,
            formatted,
            parse_mode,
            picture,
            file_id,
            bytes,
        });
    }
    let now = Instant::now();
    if let Some(reply) = flood_control(&mut inner, chat_id, now, items.len()) {
        return reply;
    }
    let group = format!("album{}", inner.next_message_id);
    let mut sent = Vec::new();
    let mut last_seq = 0;
    for item in items {
        let id = inner.next_message_id;
        inner.next_message_id += 1;
        let mut m = Map::new();
        m.insert("message_id".into(), json!(id));
        m.insert("from".into(), bot_user_json(&shared.identity));
        m.insert("chat".into(), chat.clone());
        m.insert("date".into(), json!(unix_now()));
        m.insert("media_group_id".into(), json!(group));
        m.insert(
            "photo".into(),
            photo_sizes(&format!("bot{id}"), item.bytes.unwrap_or(54321)),
        );
        if !item.formatted.text.is_empty() {
            insert_text(&mut m, "caption", "caption_entities", &item.formatted);
        }
        let msg = Value::Object(m);
        last_seq = inner.put_message(
            id,
            StoredMsg {
                chat_id,
                from_bot: true,
                json: msg.clone(),
                source: item.source.clone(),
                parse_mode: item.parse_mode.clone(),
                has_text: false,
                seq: 0,
                photo: item.picture,
            },
        );
        inner.sent.push(SentMessage {
            message_id: id,
            chat_id,
            method: "sendMediaGroup".to_string(),
            text: item.source,
            parse_mode: item.parse_mode,
            reply_markup: None,
            photo_bytes: item.bytes,
            photo_file_id: item.file_id,
            media_group_id: Some(group.clone()),
            at: now,
        });
        inner.recent_sends.push_back(now);
        sent.push(msg);
    }
    inner.last_send_per_chat.insert(chat_id, now);
    drop(inner);
    shared.sent_notify.notify_waiters();
    shared.publish(last_seq);
    Reply::Ok(Value::Array(sent))
}

/// A string field of a JSON object the bot sent, empty when missing or not a string.
fn text_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
