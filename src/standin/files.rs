//! Documents: the files people and the bot send as documents, `getFile`, and the file
//! download endpoint `/file/bot<token>/<file_path>`, as strict as Telegram's: an unknown
//! file id is "invalid file_id", a file over the 20 MB download limit is "file is too
//! big", an unknown path is a 404.

use std::sync::Arc;

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::http::{Params, Reply, bad, err, finish, get_str, percent_decode};
use super::{Inner, Shared};

/// Telegram lets bots download files up to 20 MB.
const MAX_DOWNLOAD: usize = 20 * 1024 * 1024;

/// A file Telegram holds, by its file id.
pub(super) struct StoredFile {
    pub unique_id: String,
    pub file_name: String,
    pub mime_type: String,
    pub bytes: Arc<[u8]>,
    /// Where `getFile` says it can be downloaded (`documents/file_3.toml`).
    pub path: String,
}

/// Keeps `bytes` as a new document file; returns its file id and the Bot API
/// `Document` object that messages carry.
pub(super) fn register(
    inner: &mut Inner,
    owner: &str,
    file_name: &str,
    bytes: Arc<[u8]>,
) -> (String, Value) {
    inner.next_file += 1;
    let n = inner.next_file;
    let file_id = format!("{owner}-doc{n}");
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| format!(".{}", e.to_ascii_lowercase()))
        .unwrap_or_default();
    let mime_type = match extension.as_str() {
        ".txt" | ".toml" => "text/plain",
        ".pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
    .to_string();
    let file = StoredFile {
        unique_id: format!("{owner}doc{n}"),
        file_name: file_name.to_string(),
        mime_type,
        path: format!("documents/file_{n}{extension}"),
        bytes,
    };
    let document = document_json(&file_id, &file);
    inner.files.insert(file_id.clone(), file);
    (file_id, document)
}

/// The Bot API `Document` of a stored file.
pub(super) fn document_json(file_id: &str, f: &StoredFile) -> Value {
    json!({
        "file_id": file_id,
        "file_unique_id": f.unique_id,
        "file_name": f.file_name,
        "mime_type": f.mime_type,
        "file_size": f.bytes.len(),
    })
}

/// `getFile`: where a file can be downloaded, for a file id Telegram knows.
pub(super) fn get_file(shared: &Shared, p: &Params) -> Reply {
    let Some(file_id) = get_str(p, "file_id").filter(|f| !f.is_empty()) else {
        return bad("file_id not specified");
    };
    let inner = shared.lock();
    let Some(f) = inner.files.get(&file_id) else {
        return bad("invalid file_id");
    };
    if f.bytes.len() > MAX_DOWNLOAD {
        return bad("file is too big");
    }
    Reply::Ok(json!({
        "file_id": file_id,
        "file_unique_id": f.unique_id,
        "file_size": f.bytes.len(),
        "file_path": f.path,
    }))
}

/// `GET /file/bot<token>/<file_path>`: the file's bytes. `segments` are the path's
/// segments after `file`, the first being `bot<token>`; teloxide sends the file path as
/// one segment with its `/` escaped, other clients as several.
pub(super) fn download(shared: &Shared, segments: &[&str]) -> Response {
    let token = segments
        .first()
        .and_then(|b| b.strip_prefix("bot"))
        .map(percent_decode);
    if token.as_deref() != Some(shared.identity.token.as_str()) {
        return finish(shared, "file", 0, err(401, "Unauthorized"));
    }
    let path = segments[1..]
        .iter()
        .map(|s| percent_decode(s))
        .collect::<Vec<_>>()
        .join("/");
    let bytes = {
        let mut inner = shared.lock();
        *inner.requests.entry("file".into()).or_default() += 1;
        if inner.failing_downloads > 0 {
            inner.failing_downloads -= 1;
            None
        } else {
            Some(
                inner
                    .files
                    .values()
                    .find(|f| f.path == path)
                    .map(|f| f.bytes.clone()),
            )
        }
    };
    match bytes {
        None => finish(shared, "file", 0, err(500, "Internal Server Error")),
        Some(None) => finish(shared, "file", 0, err(404, "Not Found")),
        Some(Some(bytes)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            bytes.to_vec(),
        )
            .into_response(),
    }
}
