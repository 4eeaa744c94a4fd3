//! A Telegram message's text and formatting entities, turned into the HTML the bot sends.
//!
//! Staff write a new template as an ordinary Telegram message with bold, italic, links…
//! Telegram hands us plain text plus entities (offsets in UTF-16 code units). teloxide's
//! `Renderer` does this conversion too, but it falls short for templates: entities that
//! overlap (`**bo__ld**it__`) come out as crossed tags (`<b>bo<i>ld</b>it</i>`), which
//! Telegram refuses; two entities starting at one offset nest by list order, not by
//! length; and a link's URL goes into `href="…"` unescaped. Here every run of text gets
//! exactly the formats that cover it, with tags closed and reopened so they always nest.

use super::html::escape;

/// A format that survives into a template. Other entity kinds (mentions, hashtags,
/// bot commands, custom emoji) stay as their plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Bold,
    Italic,
    Underline,
    Strikethrough,
    Spoiler,
    Code,
    Pre,
    Blockquote,
    Link(String),
}

/// One entity: `offset` and `length` in UTF-16 code units, as Telegram counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub format: Format,
    pub offset: usize,
    pub length: usize,
}

impl Format {
    fn open(&self) -> String {
        match self {
            Format::Link(url) => format!("<a href=\"{}\">", escape_attr(url)),
            other => format!("<{}>", other.tag()),
        }
    }

    fn close(&self) -> String {
        format!("</{}>", self.tag())
    }

    fn tag(&self) -> &'static str {
        match self {
            Format::Bold => "b",
            Format::Italic => "i",
            Format::Underline => "u",
            Format::Strikethrough => "s",
            Format::Spoiler => "tg-spoiler",
            Format::Code => "code",
            Format::Pre => "pre",
            Format::Blockquote => "blockquote",
            Format::Link(_) => "a",
        }
    }
}

/// Telegram HTML for `text` with `spans`. Text is escaped; spans outside the text are
/// clipped; empty spans are dropped.
pub fn to_html(text: &str, spans: &[Span]) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    let total = units.len();
    // Clip and keep each span's index so ties keep a stable order.
    let spans: Vec<(usize, usize, usize, &Format)> = spans
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let start = snap(&units, s.offset);
            let end = snap(&units, s.offset.saturating_add(s.length));
            (start < end).then_some((start, end, i, &s.format))
        })
        .collect();
    // Where the set of formats can change.
    let mut cuts: Vec<usize> = spans.iter().flat_map(|s| [s.0, s.1]).collect();
    cuts.push(0);
    cuts.push(total);
    cuts.sort_unstable();
    cuts.dedup();

    let mut out = String::with_capacity(text.len() + 16 * spans.len());
    // Open tags, outermost first, as indexes into `spans`.
    let mut open: Vec<usize> = Vec::new();
    for pair in cuts.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        // The formats covering this run, outermost first: earlier start, then later
        // end, then list order.
        let mut want: Vec<usize> = (0..spans.len())
            .filter(|&k| spans[k].0 <= from && to <= spans[k].1)
            .collect();
        want.sort_by_key(|&k| (spans[k].0, std::cmp::Reverse(spans[k].1), spans[k].2));
        let keep = open.iter().zip(&want).take_while(|(a, b)| a == b).count();
        while open.len() > keep {
            let k = open.pop().expect("len > keep");
            out.push_str(&spans[k].3.close());
        }
        for &k in &want[keep..] {
            out.push_str(&spans[k].3.open());
            open.push(k);
        }
        out.push_str(&escape(&String::from_utf16_lossy(&units[from..to])));
    }
    while let Some(k) = open.pop() {
        out.push_str(&spans[k].3.close());
    }
    out
}

/// A UTF-16 offset clipped to the text and moved off the middle of a surrogate pair
/// (Telegram never sends one there, but a bad offset must not split a character).
fn snap(units: &[u16], offset: usize) -> usize {
    let offset = offset.min(units.len());
    if offset < units.len() && (0xDC00..0xE000).contains(&units[offset]) {
        offset + 1
    } else {
        offset
    }
}

/// Escapes a value for a double-quoted attribute.
fn escape_attr(s: &str) -> String {
    escape(s).replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::html::{check, to_plain};
    use proptest::prelude::*;

    fn span(format: Format, offset: usize, length: usize) -> Span {
        Span {
            format,
            offset,
            length,
        }
    }

    #[test]
    fn plain_text_is_escaped_and_placeholders_survive() {
        assert_eq!(
            to_html("Hi {first_name} <3 & \"you\"", &[]),
            "Hi {first_name} &lt;3 &amp; \"you\""
        );
    }

    #[test]
    fn nested_formats_nest() {
        // "bold italic": bold over all, italic over "italic".
        let html = to_html(
            "bold italic",
            &[span(Format::Bold, 0, 11), span(Format::Italic, 5, 6)],
        );
        assert_eq!(html, "<b>bold <i>italic</i></b>");
        // Same start, listed inner first: the longer one still goes outside.
        let html = to_html(
            "abcdef",
            &[span(Format::Italic, 0, 3), span(Format::Bold, 0, 6)],
        );
        assert_eq!(html, "<b><i>abc</i>def</b>");
    }

    #[test]
    fn overlapping_formats_are_closed_and_reopened() {
        let html = to_html(
            "abcdefgh",
            &[span(Format::Bold, 0, 5), span(Format::Italic, 3, 5)],
        );
        assert_eq!(html, "<b>abc<i>de</i></b><i>fgh</i>");
        assert!(check(&html).is_ok());
    }

    #[test]
    fn links_spoilers_and_escaping() {
        let text = "see <here> & {clinic_name}";
        let html = to_html(
            text,
            &[
                span(Format::Link("https://x.test/?a=1&b=\"2\"".into()), 4, 6),
                span(Format::Spoiler, 13, 13),
                span(Format::Underline, 0, 3),
                span(Format::Strikethrough, 11, 1),
            ],
        );
        assert_eq!(
            html,
            "<u>see</u> <a href=\"https://x.test/?a=1&amp;b=&quot;2&quot;\">&lt;here&gt;</a> <s>&amp;</s> <tg-spoiler>{clinic_name}</tg-spoiler>"
        );
        assert!(check(&html).is_ok());
        assert_eq!(to_plain(&html), text);
    }

    #[test]
    fn offsets_count_utf16_units() {
        // 😀 is two UTF-16 units: "b" starts at 3.
        let html = to_html("😀 b", &[span(Format::Bold, 3, 1)]);
        assert_eq!(html, "😀 <b>b</b>");
    }

    #[test]
    fn spans_past_the_end_are_clipped_and_empty_ones_dropped() {
        let html = to_html(
            "ab",
            &[span(Format::Bold, 1, 10), span(Format::Italic, 0, 0)],
        );
        assert_eq!(html, "a<b>b</b>");
    }

    /// Why we do not use teloxide's `Renderer`: the same inputs come out as crossed
    /// tags there, which Telegram refuses.
    #[test]
    fn teloxide_renderer_crosses_tags_where_this_nests_them() {
        use teloxide::types::MessageEntity;
        use teloxide::utils::render::Renderer;
        let overlap = [MessageEntity::bold(0, 5), MessageEntity::italic(3, 5)];
        let theirs = Renderer::new("abcdefgh", &overlap).as_html();
        assert!(check(&theirs).is_err(), "{theirs}");
        // Two entities from one offset, the shorter listed first.
        let same_start = [MessageEntity::italic(0, 3), MessageEntity::bold(0, 6)];
        let theirs = Renderer::new("abcdef", &same_start).as_html();
        assert!(check(&theirs).is_err(), "{theirs}");
        let ours = to_html(
            "abcdef",
            &[span(Format::Italic, 0, 3), span(Format::Bold, 0, 6)],
        );
        assert!(check(&ours).is_ok(), "{ours}");
    }

    /// Reads our own output back: the formats covering each UTF-16 unit.
    fn formats_per_unit(html: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut open: Vec<String> = Vec::new();
        let mut rest = html;
        while !rest.is_empty() {
            if rest.starts_with('<') {
                let end = rest.find('>').unwrap();
                let tag = &rest[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    let top = open.pop().unwrap();
                    assert!(top.starts_with(name), "{top} closed by {name}");
                } else {
                    open.push(tag.to_string());
                }
                rest = &rest[end + 1..];
            } else {
                let next = rest.find('<').unwrap_or(rest.len());
                for c in to_plain(&rest[..next]).chars() {
                    let mut set = open.clone();
                    set.sort();
                    set.dedup();
                    for _ in 0..c.len_utf16() {
                        out.push(set.clone());
                    }
                }
                rest = &rest[next..];
            }
        }
        out
    }

    fn format_strategy() -> impl Strategy<Value = Format> {
        prop_oneof![
            Just(Format::Bold),
            Just(Format::Italic),
            Just(Format::Underline),
            Just(Format::Strikethrough),
            Just(Format::Spoiler),
            "[a-z&\"<]{1,8}".prop_map(|u| Format::Link(format!("https://x.test/{u}"))),
        ]
    }

    proptest! {
        #[test]
        fn any_entities_give_valid_html_with_the_same_text_and_formats(
            text in "[a-z {}<>&😀é\n]{0,40}",
            raw in proptest::collection::vec((format_strategy(), 0usize..45, 0usize..45), 0..6),
        ) {
            let spans: Vec<Span> = raw
                .into_iter()
                .map(|(format, offset, length)| Span { format, offset, length })
                .collect();
            let html = to_html(&text, &spans);
            prop_assert!(check(&html).is_ok(), "{html}");
            prop_assert_eq!(to_plain(&html), text.clone());
            let got = formats_per_unit(&html);
            let total = text.encode_utf16().count();
            prop_assert_eq!(got.len(), total);
            let units: Vec<u16> = text.encode_utf16().collect();
            for (i, formats) in got.iter().enumerate() {
                let mut want: Vec<String> = spans
                    .iter()
                    .filter(|s| {
                        snap(&units, s.offset) <= i
                            && i < snap(&units, s.offset.saturating_add(s.length))
                    })
                    .map(|s| s.format.open().trim_start_matches('<').trim_end_matches('>').to_string())
                    .collect();
                want.sort();
                want.dedup();
                prop_assert_eq!(formats, &want, "unit {} of {}", i, html);
            }
        }
    }
}
