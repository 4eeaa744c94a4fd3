//! The subset of HTML that Telegram accepts with `parse_mode = HTML`.
//!
//! Templates are checked against it when they are loaded, so a clinic's typo is caught
//! then and not as a 400 from Telegram at three in the morning.

pub use teloxide::utils::html::escape;

/// Telegram's limit on a message's visible text, in UTF-16 code units.
pub const MAX_MESSAGE_LEN: usize = 4096;

const TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
];

/// Checks markup and returns the visible text's length in UTF-16 code units.
pub fn check(html: &str) -> Result<usize, String> {
    let mut open: Vec<String> = Vec::new();
    let mut visible = 0usize;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest
                    .find('>')
                    .ok_or("a `<` that starts no tag (write &lt;)")?;
                let inner = &rest[1..end];
                let (closing, body) = match inner.strip_prefix('/') {
                    Some(b) => (true, b),
                    None => (false, inner),
                };
                let name: String = body
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect::<String>()
                    .to_ascii_lowercase();
                if name.is_empty() {
                    return Err("a `<` that starts no tag (write &lt;)".into());
                }
                if !TAGS.contains(&name.as_str()) {
                    return Err(format!("<{name}> is not a tag Telegram allows"));
                }
                if closing {
                    match open.pop() {
                        Some(top) if top == name => {}
                        Some(top) => return Err(format!("</{name}> closes <{top}>")),
                        None => return Err(format!("</{name}> closes nothing")),
                    }
                } else {
                    if name == "a" && !body.contains("href=") {
                        return Err("<a> needs an href".into());
                    }
                    open.push(name);
                }
                rest = &rest[end + 1..];
            }
            '&' => {
                let end = rest
                    .find(';')
                    .filter(|&e| e <= 10)
                    .ok_or("an `&` that starts no entity (write &amp;)")?;
                let entity = &rest[1..end];
                let ok = matches!(entity, "lt" | "gt" | "amp" | "quot")
                    || entity
                        .strip_prefix("#x")
                        .map(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
                        .unwrap_or(false)
                    || entity
                        .strip_prefix('#')
                        .map(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
                        .unwrap_or(false);
                if !ok {
                    return Err(format!("&{entity}; is not an entity Telegram knows"));
                }
                visible += 1;
                rest = &rest[end + 1..];
            }
            _ => {
                visible += c.len_utf16();
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if let Some(top) = open.pop() {
        return Err(format!("<{top}> is never closed"));
    }
    Ok(visible)
}

/// Plain text as Telegram HTML, with each `quoted` part (a value the person typed, a
/// command, a key) shown as `<code>`: error texts mark values with backticks, which
/// Telegram would otherwise show as they are. An unpaired backtick stays.
pub fn escape_with_code(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        let inside = i % 2 == 1;
        let closed = i + 1 < parts.len();
        if inside && closed && !part.is_empty() {
            out.push_str("<code>");
            out.push_str(&escape(part));
            out.push_str("</code>");
        } else {
            if inside {
                out.push('`');
            }
            out.push_str(&escape(part));
            if inside && closed {
                out.push('`');
            }
        }
    }
    out
}

/// Plain text of Telegram HTML, for the terminal preview.
pub fn to_plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
        {
            rest = &rest[end + 1..];
            continue;
        }
        if c == '&'
            && let Some(end) = rest.find(';').filter(|&e| e <= 10)
        {
            let decoded = match &rest[1..end] {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                e => e.strip_prefix('#').and_then(|n| {
                    match n.strip_prefix('x') {
                        Some(h) => u32::from_str_radix(h, 16).ok(),
                        None => n.parse().ok(),
                    }
                    .and_then(char::from_u32)
                }),
            };
            if let Some(d) = decoded {
                out.push(d);
                rest = &rest[end + 1..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_telegram_markup() {
        assert_eq!(
            check("<b>Hi</b> &amp; <a href=\"https://x\">you</a>"),
            Ok(8)
        );
        assert!(check("<i><u>a</u></i><tg-spoiler>b</tg-spoiler>").is_ok());
    }

    #[test]
    fn refuses_what_telegram_refuses() {
        assert!(check("a < b").is_err());
        assert!(check("<div>x</div>").unwrap_err().contains("<div>"));
        assert!(check("<b>x").unwrap_err().contains("never closed"));
        assert!(check("<b><i>x</b></i>").unwrap_err().contains("closes <i>"));
        assert!(check("Tom & Jerry").is_err());
        assert!(check("&nbsp;").is_err());
        assert!(check("<a>x</a>").is_err());
    }

    #[test]
    fn counts_utf16_like_telegram() {
        assert_eq!(check("😀"), Ok(2));
        assert_eq!(check("&#128512;"), Ok(1));
    }

    #[test]
    fn plain_text_strips_and_decodes() {
        assert_eq!(to_plain("<b>A &amp; B</b> &lt;3 &#33;"), "A & B <3 !");
    }

    #[test]
    fn backticks_become_code() {
        assert_eq!(
            escape_with_code("`Auckland` is not a <zone>"),
            "<code>Auckland</code> is not a &lt;zone&gt;"
        );
        assert_eq!(escape_with_code("a ` b"), "a ` b");
        assert_eq!(escape_with_code("``"), "``");
        assert_eq!(
            escape_with_code("`a` `b` `c"),
            "<code>a</code> <code>b</code> `c"
        );
    }

    proptest! {
        #[test]
        fn text_with_code_is_always_valid_and_keeps_every_letter(s in "[a-z<&` ]{0,60}") {
            let e = escape_with_code(&s);
            prop_assert!(check(&e).is_ok(), "{}", e);
            let shown = to_plain(&e);
            prop_assert_eq!(shown.replace('`', ""), s.replace('`', ""));
        }

        #[test]
        fn escaped_text_is_always_valid_and_round_trips(s in "\\PC{0,200}") {
            let e = escape(&s);
            prop_assert!(check(&e).is_ok());
            prop_assert_eq!(to_plain(&e), s);
        }
    }
}

/// Splits plain text into pieces of at most `max` UTF-16 units, at line ends where it
/// can: for showing a long text across several messages.
pub fn split_plain(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut piece = String::new();
    let mut len = 0;
    for line in text.split_inclusive('\n') {
        let line_len: usize = line.encode_utf16().count();
        if len + line_len > max && !piece.is_empty() {
            out.push(std::mem::take(&mut piece));
            len = 0;
        }
        if line_len > max {
            for c in line.chars() {
                if len + c.len_utf16() > max {
                    out.push(std::mem::take(&mut piece));
                    len = 0;
                }
                piece.push(c);
                len += c.len_utf16();
            }
        } else {
            piece.push_str(line);
            len += line_len;
        }
    }
    if !piece.is_empty() {
        out.push(piece);
    }
    out
}

/// Joins lines of HTML (each valid on its own) into as few messages as fit in `max`
/// visible characters each.
pub fn pack_lines(lines: &[String], max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut message = String::new();
    let mut len = 0;
    for line in lines {
        let line_len = check(line).unwrap_or(line.len()) + 1;
        if len + line_len > max && !message.is_empty() {
            out.push(std::mem::take(&mut message));
            len = 0;
        }
        if !message.is_empty() {
            message.push('\n');
        }
        message.push_str(line);
        len += line_len;
    }
    if !message.is_empty() {
        out.push(message);
    }
    out
}

#[cfg(test)]
mod split_tests {
    use super::*;

    #[test]
    fn long_text_splits_at_lines_and_within_over_long_lines() {
        let text = format!("{}\n{}\n{}", "a".repeat(5), "b".repeat(5), "c".repeat(12));
        let parts = split_plain(&text, 6);
        assert!(
            parts.iter().all(|p| p.encode_utf16().count() <= 6),
            "{parts:?}"
        );
        assert_eq!(parts.concat(), text);
        assert_eq!(parts[0], "aaaaa\n");
    }

    #[test]
    fn lines_pack_into_messages_under_the_limit() {
        let lines: Vec<String> = (0..10)
            .map(|i| format!("<b>{i}</b>{}", "x".repeat(8)))
            .collect();
        let packed = pack_lines(&lines, 25);
        assert!(packed.len() > 1);
        for m in &packed {
            assert!(check(m).unwrap() <= 25, "{m}");
        }
        assert_eq!(packed.join("\n"), lines.join("\n"));
    }
}
