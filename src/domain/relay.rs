//! Passing messages between a patient and their clinic: how much of a message fits.

/// Room for a relayed text once the "Anna Berg wrote:" line is added (Telegram: 4096).
pub const MAX_RELAYED_TEXT: usize = 3800;
/// Room for a relayed photo's caption (Telegram: 1024).
pub const MAX_RELAYED_CAPTION: usize = 800;

/// The text cut to `max` characters, marked with "…" when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_text_is_kept_and_long_text_is_marked() {
        assert_eq!(clip("hello", 10), "hello");
        assert_eq!(clip("hello world", 6), "hello…");
        assert_eq!(clip("", 6), "");
    }

    proptest! {
        #[test]
        fn clipped_text_never_exceeds_the_limit(text in ".{0,300}", max in 1usize..200) {
            let c = clip(&text, max);
            prop_assert!(c.chars().count() <= max);
            if text.chars().count() <= max {
                prop_assert_eq!(c, text);
            }
        }
    }
}
