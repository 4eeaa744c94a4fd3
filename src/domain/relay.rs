//! Passing messages between a patient and their clinic: how much of a message fits in
//! one Telegram message, and how a longer one is split (never cut).

/// Room for one part of a relayed text once the "Anna Berg wrote:" line or the clinic's
/// heading is added (Telegram: 4096).
pub const MAX_RELAYED_TEXT: usize = 3800;
/// Room for a relayed photo's caption (Telegram: 1024); a longer one follows the photo
/// as text.
pub const MAX_RELAYED_CAPTION: usize = 800;

/// `text` in parts of at most `max` characters, together exactly `text` once each
/// part's break is put back. A part ends at a paragraph break, else a line break, else
/// a space, in its last quarter when there is one there; otherwise it is cut mid-word.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut rest: &str = text;
    while rest.chars().count() > max {
        // Byte index just past the first `max` characters.
        let end = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let window = &rest[..end];
        let floor = window
            .char_indices()
            .nth(max - max / 4)
            .map_or(0, |(i, _)| i);
        let cut = ["\n\n", "\n", " "].iter().find_map(|sep| {
            window
                .rfind(sep)
                .filter(|&i| i >= floor && i > 0)
                .map(|i| (i, sep.len()))
        });
        let (head, skip) = cut.unwrap_or((end, 0));
        parts.push(rest[..head].to_string());
        rest = &rest[head + skip..];
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_text_is_one_part_and_long_text_breaks_between_words() {
        assert_eq!(split("hello", 10), ["hello"]);
        assert_eq!(split("", 10), [""]);
        assert_eq!(split("hello world again", 12), ["hello world", "again"]);
        assert_eq!(split("one\n\ntwo three", 10), ["one\n\ntwo", "three"]);
        assert_eq!(split("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    }

    proptest! {
        #[test]
        fn parts_fit_and_lose_nothing_but_their_breaks(
            text in "[a-zé \n]{0,400}",
            max in 4usize..100,
        ) {
            let parts = split(&text, max);
            for p in &parts {
                prop_assert!(p.chars().count() <= max);
            }
            let kept: String = parts.concat().chars().filter(|c| !c.is_whitespace()).collect();
            let all: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            prop_assert_eq!(kept, all);
        }
    }
}
