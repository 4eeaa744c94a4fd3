//! Telegram's strict "HTML" parse mode: the tags it knows, balanced, entities decoded.

use serde_json::{Value, json};

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
pub(super) fn strip_tags_lenient(s: &str) -> String {
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
