//! A chat message as the page shows it. The HTML is rebuilt from the text and its
//! entities (what Telegram's apps draw), never passed through from the bot, so the page
//! shows exactly the formatting Telegram would and nothing else: text is escaped,
//! links are http(s) only, and bare URLs become links as Telegram's apps make them.

use serde::Serialize;
use serde_json::Value;

use crate::standin::ChatMessage;

#[derive(Debug, Serialize)]
pub struct MessageView {
    pub id: i32,
    pub chat: i64,
    pub seq: u64,
    pub from_bot: bool,
    /// Safe HTML of the text or caption.
    pub html: String,
    /// Where the picture is served, for a photo whose bytes the stand-in has.
    pub photo: Option<String>,
    /// A photo the stand-in has no bytes of (a test's placeholder).
    pub photo_missing: bool,
    /// A file (a course as `/course export` sends it): where it is served, and its name.
    pub document: Option<(String, String)>,
    pub buttons: Vec<Vec<ButtonView>>,
    pub edited: bool,
    /// The message this one answers: its id and the start of its text.
    pub reply_to: Option<(i32, String)>,
}

#[derive(Debug, Serialize)]
pub struct ButtonView {
    pub text: String,
    pub data: Option<String>,
    pub url: Option<String>,
}

pub fn view(m: &ChatMessage, has_bytes: bool) -> MessageView {
    let j = &m.json;
    let (text, entities) = match j.get("text") {
        Some(t) => (t, &j["entities"]),
        None => (&j["caption"], &j["caption_entities"]),
    };
    let text = text.as_str().unwrap_or_default();
    let entities = entities.as_array().map(Vec::as_slice).unwrap_or_default();
    MessageView {
        id: m.message_id,
        chat: m.chat_id,
        seq: m.seq,
        from_bot: m.from_bot,
        html: to_html(text, entities),
        photo: (m.has_photo && has_bytes).then(|| format!("/photo/{}", m.message_id)),
        photo_missing: m.has_photo && !has_bytes,
        document: j["document"].is_object().then(|| {
            let name = j["document"]["file_name"].as_str().unwrap_or("file");
            (format!("/file/{}", m.message_id), name.to_string())
        }),
        buttons: buttons(j),
        edited: j.get("edit_date").is_some(),
        reply_to: j.get("reply_to_message").map(|r| {
            let t = r
                .get("text")
                .or_else(|| r.get("caption"))
                .and_then(Value::as_str)
                .unwrap_or("📷");
            let short: String = t.chars().take(60).collect();
            (r["message_id"].as_i64().unwrap_or_default() as i32, short)
        }),
    }
}

fn buttons(j: &Value) -> Vec<Vec<ButtonView>> {
    let rows = j["reply_markup"]["inline_keyboard"].as_array();
    rows.into_iter()
        .flatten()
        .map(|row| {
            row.as_array()
                .into_iter()
                .flatten()
                .map(|b| ButtonView {
                    text: b["text"].as_str().unwrap_or_default().to_string(),
                    data: b["callback_data"].as_str().map(str::to_string),
                    url: b["url"].as_str().filter(|u| is_web(u)).map(str::to_string),
                })
                .collect()
        })
        .collect()
}

/// Escapes text for HTML content and quoted attributes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn is_web(url: &str) -> bool {
    let u = url.to_ascii_lowercase();
    u.starts_with("https://") || u.starts_with("http://")
}

/// One entity as a pair of tags.
struct Span {
    start: usize,
    end: usize,
    open: String,
    close: &'static str,
    link: bool,
}

fn span(e: &Value) -> Option<Span> {
    let start = e["offset"].as_u64()? as usize;
    let end = start + e["length"].as_u64()? as usize;
    let (open, close, link) = match e["type"].as_str()? {
        "bold" => ("<b>".to_string(), "</b>", false),
        "italic" => ("<i>".to_string(), "</i>", false),
        "underline" => ("<u>".to_string(), "</u>", false),
        "strikethrough" => ("<s>".to_string(), "</s>", false),
        "spoiler" => (
            "<span class=\"spoiler\" title=\"spoiler\">".to_string(),
            "</span>",
            false,
        ),
        "code" => ("<code>".to_string(), "</code>", false),
        "pre" => ("<pre>".to_string(), "</pre>", false),
        "blockquote" | "expandable_blockquote" => {
            ("<blockquote>".to_string(), "</blockquote>", false)
        }
        "text_link" => {
            let url = e["url"].as_str().filter(|u| is_web(u))?;
            (link_open(url), "</a>", true)
        }
        _ => return None,
    };
    Some(Span {
        start,
        end,
        open,
        close,
        link,
    })
}

fn link_open(url: &str) -> String {
    format!(
        "<a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\">",
        escape(url)
    )
}

/// Text plus entities (offsets in UTF-16 code units) to safe HTML.
pub fn to_html(text: &str, entities: &[Value]) -> String {
    let mut spans: Vec<Span> = entities.iter().filter_map(span).collect();
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut out = String::with_capacity(text.len() + 32);
    let mut open: Vec<usize> = Vec::new();
    let mut next = 0;
    let mut run = String::new();
    let mut pos = 0usize;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    loop {
        let closing = open.iter().any(|&s| spans[s].end <= pos);
        let opening = next < spans.len() && spans[next].start <= pos;
        if closing || opening {
            flush(&mut out, &mut run, in_link(&open, &spans));
        }
        if closing {
            // Close down to the innermost span that ends here, and reopen the others
            // (entities may overlap without nesting).
            let mut reopen = Vec::new();
            while let Some(s) = open.pop() {
                out.push_str(spans[s].close);
                if spans[s].end > pos {
                    reopen.push(s);
                }
                if !open.iter().any(|&o| spans[o].end <= pos) {
                    break;
                }
            }
            for s in reopen.into_iter().rev() {
                out.push_str(&spans[s].open);
                open.push(s);
            }
        }
        while next < spans.len() && spans[next].start <= pos {
            if spans[next].end > pos {
                out.push_str(&spans[next].open);
                open.push(next);
            }
            next += 1;
        }
        let Some(&c) = chars.get(i) else { break };
        run.push(c);
        pos += c.len_utf16();
        i += 1;
    }
    flush(&mut out, &mut run, in_link(&open, &spans));
    for s in open.into_iter().rev() {
        out.push_str(spans[s].close);
    }
    out
}

fn in_link(open: &[usize], spans: &[Span]) -> bool {
    open.iter().any(|&s| spans[s].link)
}

/// Writes a run of plain text, escaped; bare URLs become links unless inside one.
fn flush(out: &mut String, run: &mut String, in_link: bool) {
    if in_link {
        out.push_str(&escape(run));
        run.clear();
        return;
    }
    let mut rest = run.as_str();
    while let Some(at) = find_url(rest) {
        out.push_str(&escape(&rest[..at]));
        let tail = &rest[at..];
        let len = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(tail.len());
        let url = tail[..len].trim_end_matches(['.', ',', ')', '!', '?', ':', ';']);
        out.push_str(&link_open(url));
        out.push_str(&escape(url));
        out.push_str("</a>");
        rest = &tail[url.len()..];
    }
    out.push_str(&escape(rest));
    run.clear();
}

fn find_url(s: &str) -> Option<usize> {
    let a = s.find("https://");
    let b = s.find("http://");
    a.into_iter().chain(b).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entities_become_the_tags_telegram_draws_and_text_is_escaped() {
        let html = to_html(
            "Hi Anna <3 & bye",
            &[json!({"type": "bold", "offset": 3, "length": 4})],
        );
        assert_eq!(html, "Hi <b>Anna</b> &lt;3 &amp; bye");
    }

    #[test]
    fn offsets_count_utf16_units_so_emoji_keep_the_bold_in_place() {
        // ⚠️ is two units (with its variation selector), 🙂 two more: "Anna" is at 6.
        let html = to_html(
            "⚠️ 🙂 Anna wrote",
            &[json!({"type": "bold", "offset": 6, "length": 4})],
        );
        assert_eq!(html, "⚠️ 🙂 <b>Anna</b> wrote");
    }

    #[test]
    fn nested_and_overlapping_entities_stay_balanced() {
        let html = to_html(
            "abcdef",
            &[
                json!({"type": "bold", "offset": 0, "length": 4}),
                json!({"type": "italic", "offset": 2, "length": 4}),
            ],
        );
        assert_eq!(html, "<b>ab<i>cd</i></b><i>ef</i>");
    }

    #[test]
    fn bare_urls_become_links_and_only_web_links_are_kept() {
        let html = to_html("Open https://t.me/bot?start=a_b-1.", &[]);
        assert_eq!(
            html,
            "Open <a href=\"https://t.me/bot?start=a_b-1\" target=\"_blank\" \
             rel=\"noopener noreferrer\">https://t.me/bot?start=a_b-1</a>."
        );
        let html = to_html(
            "click",
            &[json!({"type": "text_link", "offset": 0, "length": 5, "url": "javascript:alert(1)"})],
        );
        assert_eq!(html, "click");
    }
}
