//! One-time deep-link payloads (`https://t.me/<bot>?start=<payload>`).
//!
//! A payload carries 128 bits from the OS's cryptographic generator, written in
//! base64url (22 characters of `A-Z a-z 0-9 _ -`, inside Telegram's 64). Only its
//! SHA-256 is stored, so a copy of the database cannot be used to link anyone.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh payload and the hash to store for it.
pub struct NewLink {
    pub payload: String,
    pub hash: String,
}

pub fn generate() -> NewLink {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let payload = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&payload);
    NewLink { payload, hash }
}

/// The stored form of a payload.
pub fn hash(payload: &str) -> String {
    let digest = Sha256::digest(payload.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Telegram's rule for `start` parameters: 1 to 64 of `A-Z a-z 0-9 _ -`.
pub fn is_well_formed(payload: &str) -> bool {
    (1..=64).contains(&payload.len())
        && payload
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The link a person taps.
pub fn url(bot_username: &str, payload: &str) -> String {
    format!("https://t.me/{bot_username}?start={payload}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn payloads_fit_telegram_and_carry_128_bits() {
        let l = generate();
        assert_eq!(l.payload.len(), 22);
        assert!(is_well_formed(&l.payload));
        assert_eq!(URL_SAFE_NO_PAD.decode(&l.payload).unwrap().len(), 16);
        assert_eq!(l.hash, hash(&l.payload));
        assert_eq!(l.hash.len(), 64);
    }

    #[test]
    fn payloads_do_not_repeat() {
        let seen: HashSet<String> = (0..10_000).map(|_| generate().payload).collect();
        assert_eq!(seen.len(), 10_000);
    }

    #[test]
    fn malformed_payloads_are_recognised() {
        assert!(!is_well_formed(""));
        assert!(!is_well_formed(&"a".repeat(65)));
        assert!(!is_well_formed("abc def"));
        assert!(!is_well_formed("<script>"));
        assert!(is_well_formed("abc_DEF-123"));
    }
}
