//! Plain words a patient may type instead of a command.

/// "stop", "unsubscribe" and their German forms, alone in a message, mean /stop.
pub fn is_stop_word(text: &str) -> bool {
    let word = text
        .trim()
        .trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace())
        .to_lowercase();
    matches!(word.as_str(), "stop" | "unsubscribe" | "stopp" | "abmelden")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stop_words_in_english_and_german() {
        for w in [
            "stop",
            "STOP",
            " Stop! ",
            "unsubscribe",
            "Stopp",
            "abmelden.",
        ] {
            assert!(is_stop_word(w), "{w}");
        }
        for w in ["", "don't stop", "stop the itching?", "stopping", "hello"] {
            assert!(!is_stop_word(w), "{w}");
        }
    }

    proptest! {
        #[test]
        fn a_sentence_with_more_words_is_never_a_stop_word(a in "[a-z]{1,8}", b in "[a-z]{1,8}") {
            let text = format!("{a} {b}");
            prop_assert!(!is_stop_word(&text));
        }
    }
}
