//! The HTTP side: routing `/bot<token>/<method>`, reading parameters (query, JSON,
//! multipart) and writing Telegram's answer envelope.

use std::collections::HashMap;
use std::sync::Arc;

use axum::{
    body::Body,
    extract::{FromRequest, Multipart, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use super::methods::{
    answer_callback, edit, get_updates, leave_chat, send, send_chat_action, send_media_group,
    set_my_commands, set_webhook,
};
use super::{BOT_ID, MAX_BODY, Shared};

pub(super) enum Reply {
    Ok(Value),
    Err {
        code: u16,
        description: String,
        retry_after: Option<u32>,
    },
    BadGateway,
}

pub(super) fn bad(description: &str) -> Reply {
    Reply::Err {
        code: 400,
        description: format!("Bad Request: {description}"),
        retry_after: None,
    }
}

pub(super) fn err(code: u16, description: &str) -> Reply {
    Reply::Err {
        code,
        description: description.to_string(),
        retry_after: None,
    }
}

pub(super) fn too_many(retry_after: u32) -> Reply {
    Reply::Err {
        code: 429,
        description: format!("Too Many Requests: retry after {retry_after}"),
        retry_after: Some(retry_after),
    }
}

pub(super) const METHODS: &[&str] = &[
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "deleteMyCommands",
    "getMyCommands",
    "sendMessage",
    "sendPhoto",
    "sendMediaGroup",
    "sendDocument",
    "getFile",
    "answerCallbackQuery",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "sendChatAction",
    "leaveChat",
];

pub(super) fn percent_decode(s: &str) -> String {
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

pub(super) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let ["file", rest @ ..] = segs.as_slice()
        && rest.len() >= 2
    {
        return super::files::download(&shared, rest);
    }
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
    if token != shared.identity.token {
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
            "id": BOT_ID, "is_bot": true, "first_name": shared.identity.first_name,
            "username": shared.identity.username,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false,
        })),
        "getUpdates" => get_updates(&shared, &params).await,
        "setWebhook" => set_webhook(&shared, &params),
        "deleteWebhook" => {
            let mut inner = shared.lock();
            if get_bool(&params, "drop_pending_updates") {
                inner.updates.clear();
            }
            inner.webhook = None;
            Reply::Ok(json!(true))
        }
        "getWebhookInfo" => {
            let inner = shared.lock();
            let url = inner
                .webhook
                .as_ref()
                .map(|w| w.url.clone())
                .unwrap_or_default();
            let n = inner.updates.len();
            Reply::Ok(
                json!({"url": url, "has_custom_certificate": false, "pending_update_count": n}),
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
        "sendMediaGroup" => send_media_group(&shared, &params, &files).await,
        "sendMessage" | "sendPhoto" | "sendDocument" => {
            send(&shared, &method, &params, &files).await
        }
        "getFile" => super::files::get_file(&shared, &params),
        "answerCallbackQuery" => answer_callback(&shared, &params),
        "editMessageText" | "editMessageCaption" | "editMessageReplyMarkup" => {
            edit(&shared, &method, &params)
        }
        "sendChatAction" => send_chat_action(&shared, &params),
        "leaveChat" => leave_chat(&shared, &params),
        _ => err(404, "Not Found"),
    };
    finish(&shared, &method, chat, reply)
}

pub(super) fn finish(shared: &Shared, method: &str, chat: i64, reply: Reply) -> Response {
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

pub(super) type Params = Map<String, Value>;

/// The uploaded parts of a multipart request, by field name, with the file name each
/// was sent under (a document keeps it; Telegram shows it).
#[derive(Default)]
pub(super) struct Files {
    bytes: HashMap<String, Vec<u8>>,
    names: HashMap<String, String>,
}

impl Files {
    pub(super) fn get(&self, field: &str) -> Option<&Vec<u8>> {
        self.bytes.get(field)
    }

    pub(super) fn contains_key(&self, field: &str) -> bool {
        self.bytes.contains_key(field)
    }

    /// The file name the part `field` was uploaded under, if it had one.
    pub(super) fn file_name(&self, field: &str) -> Option<&str> {
        self.names.get(field).map(String::as_str)
    }
}

pub(super) async fn read_params(req: Request) -> Result<(Params, Files), String> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut params = Params::new();
    let mut files = Files::default();
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
            let file_name = field.file_name().map(str::to_string);
            let is_file = file_name.is_some();
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
            if let Some(f) = file_name {
                files.names.insert(name.clone(), f);
            }
            files.bytes.insert(name, bytes.to_vec());
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

pub(super) fn get_str(p: &Params, k: &str) -> Option<String> {
    match p.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn get_i64(p: &Params, k: &str) -> Option<i64> {
    match p.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn get_bool(p: &Params, k: &str) -> bool {
    match p.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "1",
        _ => false,
    }
}

/// An object/array parameter, given inline (JSON body) or as a JSON string (multipart).
pub(super) fn get_json(p: &Params, k: &str) -> Result<Option<Value>, String> {
    match p.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|_| format!("can't parse {k} JSON object")),
        Some(v) => Ok(Some(v.clone())),
    }
}

pub(super) fn scope_of(p: &Params) -> Value {
    get_json(p, "scope")
        .ok()
        .flatten()
        .unwrap_or_else(|| json!({"type": "default"}))
}

pub(super) fn is_html(pm: Option<&str>) -> bool {
    pm.is_some_and(|p| p.eq_ignore_ascii_case("html"))
}
