//! The tests' fake Telegram: the library's stand-in (`src/standin/`), under the names
//! the tests use.

#![allow(unused_imports)]

pub use aftercare::standin::Person as TestUser;
pub use aftercare::standin::{
    BOT_ID, BOT_USERNAME, ChatMessage, Fault, ParsedHtml, SentMessage, StandIn as FakeTelegram,
    TOKEN, parse_html,
};
