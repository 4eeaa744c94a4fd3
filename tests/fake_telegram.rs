//! Proves that teloxide 0.17 talks to the fake Telegram server correctly.

mod support;

use std::time::{Duration, Instant};

use support::fake_telegram::{BOT_USERNAME, FakeTelegram, Fault, TOKEN, TestUser};
use teloxide::{
    ApiError, RequestError,
    prelude::*,
    types::{
        BotCommand, BotCommandScope, CallbackQueryId, InlineKeyboardButton, InlineKeyboardMarkup,
        InputFile, MediaKind, MessageId, MessageKind, ParseMode, Recipient, ReplyParameters,
        Seconds, UpdateKind,
    },
};

const T: Duration = Duration::from_secs(5);

fn keyboard(data: &str) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("Press", data)]])
}

/// A minimal PNG header + some bytes (the fake doesn't decode images).
fn png() -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    v.extend(std::iter::repeat_n(7u8, 1000));
    v
}

/// Raw HTTP POST (for checks teloxide can't express), done with blocking std IO.
async fn raw_post(fake: &FakeTelegram, path: &str, body: &str) -> (u16, String) {
    let base = fake.api_url();
    let hostport = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let path = path.to_string();
    let body = body.to_string();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&hostport).unwrap();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let code = resp[9..12].parse().unwrap();
        let body = resp
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        (code, body)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn get_me_and_paths() {
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let me = bot.get_me().await.unwrap();
    assert_eq!(me.username(), BOT_USERNAME);
    assert!(me.user.is_bot);
    assert_eq!(fake.requests("getMe"), 1);

    // Also via an explicit Url built from api_url().
    let bot2 = Bot::new(TOKEN).set_api_url(fake.api_url().parse().unwrap());
    assert_eq!(bot2.get_me().await.unwrap().username(), BOT_USERNAME);

    let (code, body) = raw_post(&fake, "/botWRONG:token/getMe", "{}").await;
    assert_eq!(code, 401, "{body}");
    let (code, body) = raw_post(&fake, &format!("/bot{TOKEN}/sendDice"), "{}").await;
    assert_eq!(code, 404);
    assert!(body.contains("\"error_code\":404"), "{body}");
    let (code, _) = raw_post(&fake, "/nothing/here/at/all", "{}").await;
    assert_eq!(code, 404);
    let err = Bot::new("999:other")
        .set_api_url(fake.api_url().parse().unwrap())
        .get_me()
        .await;
    // teloxide maps both "Unauthorized" and "Not Found" to ApiError::InvalidToken.
    assert!(
        matches!(err, Err(RequestError::Api(ApiError::InvalidToken))),
        "{err:?}"
    );
    let r = fake.bot().send_dice(ChatId(1)).await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::InvalidToken))),
        "{r:?}"
    );
    assert_eq!(fake.requests("sendDice"), 2);
}

#[tokio::test]
async fn unknown_chat_then_html_send_and_wait_for() {
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let user = TestUser::new(1001, "Ann").lang("de");

    let r = bot.send_message(ChatId(1001), "hi").await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::ChatNotFound))),
        "{r:?}"
    );
    assert_eq!(fake.rejected()[0].2, 400);

    fake.send_text(&user, "/start");
    let html = "<b>Hello</b> &amp; <i>wel&#99;ome</i> <a href=\"https://example.com/x?a=1&amp;b=2\">link</a> 🙂 <code>x&lt;y</code>";
    let msg = bot
        .send_message(ChatId(1001), html)
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard("yes"))
        .await
        .unwrap();
    assert_eq!(msg.text(), Some("Hello & welcome link 🙂 x<y"));
    assert_eq!(
        msg.from.as_ref().unwrap().username.as_deref(),
        Some(BOT_USERNAME)
    );
    assert!(msg.chat.is_private());
    let ents = msg.entities().unwrap();
    assert_eq!(ents.len(), 4, "{ents:?}");
    assert!(msg.reply_markup().is_some());

    let sent = fake.wait_for(1001, |m| m.text.contains("Hello"), T).await;
    assert_eq!(sent.plain_text(), "Hello & welcome link 🙂 x<y");
    assert_eq!(sent.button_data(), vec!["yes".to_string()]);
    assert_eq!(sent.parse_mode.as_deref(), Some("HTML"));
    assert_eq!(sent.method, "sendMessage");
    assert_eq!(sent.message_id, msg.id.0);

    // Successive wait_for calls see successive messages.
    bot.send_message(ChatId(1001), "one").await.unwrap();
    bot.send_message(ChatId(1001), "two").await.unwrap();
    assert_eq!(fake.wait_for(1001, |_| true, T).await.text, "one");
    assert_eq!(fake.wait_for(1001, |_| true, T).await.text, "two");
    fake.assert_nothing_sent_to(1001, Duration::from_millis(50))
        .await;

    // Literal text without parse_mode.
    let m = bot.send_message(ChatId(1001), "a <b> & c").await.unwrap();
    assert_eq!(m.text(), Some("a <b> & c"));
    let got = fake.wait_for_count(1001, 1, T).await;
    assert_eq!(got[0].plain_text(), "a <b> & c");
}

#[tokio::test]
async fn validation_errors() {
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let user = TestUser::new(7, "Val");
    fake.send_text(&user, "hello");

    for bad in [
        "<b>unclosed",
        "<b>x</i>",
        "a < b",
        "<foo>x</foo>",
        "fish & chips",
        "&nbsp;",
        "<a>no href</a>",
        "</b>",
        "<span>x</span>",
        "<b x",
    ] {
        let r = bot
            .send_message(ChatId(7), bad)
            .parse_mode(ParseMode::Html)
            .await;
        assert!(
            matches!(r, Err(RequestError::Api(ApiError::CantParseEntities(_)))),
            "{bad}: {r:?}"
        );
    }
    for good in [
        "<strong>a</strong><em>b</em><ins>c</ins><del>d</del><strike>e</strike><s>f</s><u>g</u>",
        "<tg-spoiler>s</tg-spoiler><span class=\"tg-spoiler\">t</span>",
        "<pre><code class=\"language-rust\">fn main() {}</code></pre>",
        "<blockquote expandable>q</blockquote><blockquote>r</blockquote>",
        "<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji> &quot;&#x41;&#66;&gt;",
    ] {
        let r = bot
            .send_message(ChatId(7), good)
            .parse_mode(ParseMode::Html)
            .await;
        assert!(r.is_ok(), "{good}: {r:?}");
    }

    let r = bot.send_message(ChatId(7), "x".repeat(4097)).await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageIsTooLong))),
        "{r:?}"
    );
    // Length counted after entity parsing.
    let long_html = format!("<b>{}</b>", "x".repeat(4096));
    bot.send_message(ChatId(7), long_html)
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    // UTF-16 units: 2049 emoji = 4098 units.
    let r = bot.send_message(ChatId(7), "😀".repeat(2049)).await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageIsTooLong))),
        "{r:?}"
    );

    let r = bot.send_message(ChatId(7), "").await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageTextIsEmpty))),
        "{r:?}"
    );
    let r = bot
        .send_message(ChatId(7), "<b> </b>")
        .parse_mode(ParseMode::Html)
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageTextIsEmpty))),
        "{r:?}"
    );

    let r = bot
        .send_message(ChatId(7), "k")
        .reply_markup(keyboard(&"d".repeat(65)))
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::ButtonDataInvalid))),
        "{r:?}"
    );
    let r = bot
        .send_message(ChatId(7), "k")
        .reply_markup(keyboard(""))
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::ButtonDataInvalid))),
        "{r:?}"
    );
    bot.send_message(ChatId(7), "k")
        .reply_markup(keyboard(&"d".repeat(64)))
        .await
        .unwrap();

    let r = bot
        .send_photo(ChatId(7), InputFile::memory(png()))
        .caption("c".repeat(1025))
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::Unknown(ref s))) if s == "Bad Request: message caption is too long"),
        "{r:?}"
    );
    let r = bot
        .send_photo(ChatId(7), InputFile::memory(png()))
        .caption("<i>x")
        .parse_mode(ParseMode::Html)
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::CantParseEntities(_)))),
        "{r:?}"
    );
    let r = bot
        .send_photo(ChatId(7), InputFile::memory(Vec::<u8>::new()))
        .await;
    assert!(r.is_err(), "{r:?}");

    let rejected = fake.rejected();
    assert!(
        rejected.iter().all(|r| r.1 == 7 && r.2 == 400),
        "{rejected:?}"
    );
    assert!(
        fake.sent_to(7)
            .iter()
            .all(|m| m.text.len() < 5000 || m.text.starts_with("<b>"))
    );
}

#[tokio::test]
async fn faults_and_blocking() {
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let user = TestUser::new(42, "Bo");
    fake.send_text(&user, "hi");

    fake.push_fault(Fault::RetryAfter(2));
    let r = bot.send_message(ChatId(42), "x").await;
    assert!(
        matches!(r, Err(RequestError::RetryAfter(s)) if s == Seconds::from_seconds(2)),
        "{r:?}"
    );
    assert_eq!(fake.count_429(), 1);

    fake.push_fault(Fault::Slow(Duration::from_millis(300)));
    let t0 = Instant::now();
    bot.send_message(ChatId(42), "slow").await.unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(fake.sent_to(42).len(), 1);

    fake.block_bot(42);
    let r = bot.send_message(ChatId(42), "x").await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::BotBlocked))),
        "{r:?}"
    );
    let r = bot.send_photo(ChatId(42), InputFile::memory(png())).await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::BotBlocked))),
        "{r:?}"
    );
    assert_eq!(fake.rejected().last().unwrap().2, 403);
    assert_eq!(fake.requests("sendMessage"), 3);
}

/// The only 5xx test (teloxide waits 10 s after a 5xx).
#[tokio::test]
async fn server_error_then_recovery() {
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    fake.send_text(&TestUser::new(5, "Five"), "hi");
    fake.push_fault(Fault::ServerError);
    let r = bot.send_message(ChatId(5), "x").await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::Unknown(ref s))) if s == "Internal Server Error"),
        "{r:?}"
    );
    bot.send_message(ChatId(5), "y").await.unwrap();
    assert_eq!(fake.rejected()[0].2, 500);
    assert_eq!(fake.sent_to(5).len(), 1);
}

#[tokio::test]
async fn photo_upload_edits_and_callbacks() {
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let user = TestUser::new(77, "Pic");
    fake.send_text(&user, "hi");

    let m = bot
        .send_photo(ChatId(77), InputFile::memory(png()).file_name("a.png"))
        .caption("<b>cap</b>")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard("p"))
        .await
        .unwrap();
    assert!(m.photo().is_some());
    assert_eq!(m.caption(), Some("cap"));
    let s = fake.wait_for(77, |m| m.method == "sendPhoto", T).await;
    assert_eq!(s.photo_bytes, Some(png().len()));
    assert_eq!(s.text, "<b>cap</b>");
    assert_eq!(s.button_data(), ["p"]);

    // By file_id (multipart text field), without a name: a file Telegram has seen.
    let known = m.photo().unwrap().last().unwrap().file.id.clone();
    let m2 = bot
        .send_photo(ChatId(77), InputFile::file_id(known.clone()))
        .await
        .unwrap();
    assert!(m2.photo().is_some());
    let s2 = fake.wait_for(77, |_| true, T).await;
    assert_eq!(s2.photo_bytes, None);
    assert_eq!(s2.photo_file_id.as_deref(), Some(known.0.as_str()));
    // An unknown file_id is refused, as Telegram does.
    let unknown = bot
        .send_photo(ChatId(77), InputFile::file_id("AgAD-some-id".into()))
        .await;
    assert!(unknown.is_err());

    // Edit text of a text message.
    let t = bot
        .send_message(ChatId(77), "first")
        .reply_markup(keyboard("a"))
        .await
        .unwrap();
    fake.wait_for(77, |m| m.text == "first", T).await;
    let e = bot
        .edit_message_text(ChatId(77), t.id, "<i>second</i>")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard("b"))
        .await
        .unwrap();
    assert_eq!(e.text(), Some("second"));
    assert!(e.edit_date().is_some());
    let rec = fake
        .wait_for(77, |m| m.method == "editMessageText", T)
        .await;
    assert_eq!(
        (rec.message_id, rec.plain_text()),
        (t.id.0, "second".to_string())
    );
    let r = bot
        .edit_message_text(ChatId(77), t.id, "<i>second</i>")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard("b"))
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageNotModified))),
        "{r:?}"
    );
    let r = bot
        .edit_message_text(ChatId(77), t.id, "<b>bad")
        .parse_mode(ParseMode::Html)
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::CantParseEntities(_)))),
        "{r:?}"
    );
    let r = bot
        .edit_message_text(ChatId(77), t.id, "z".repeat(4097))
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::EditedMessageIsTooLong))),
        "{r:?}"
    );
    let r = bot
        .edit_message_text(ChatId(77), MessageId(99999), "q")
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageToEditNotFound))),
        "{r:?}"
    );
    let r = bot.edit_message_text(ChatId(12345), t.id, "q").await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::ChatNotFound))),
        "{r:?}"
    );

    let e2 = bot
        .edit_message_reply_markup(ChatId(77), t.id)
        .await
        .unwrap();
    assert!(e2.reply_markup().is_none());
    let rec = fake
        .wait_for(77, |m| m.method == "editMessageReplyMarkup", T)
        .await;
    assert_eq!(rec.text, "<i>second</i>");

    // Callbacks.
    let qid = fake.press_button(&user, m.id.0, "p");
    bot.answer_callback_query(CallbackQueryId(qid.clone()))
        .text("done")
        .await
        .unwrap();
    assert_eq!(
        fake.answered_callbacks(),
        vec![(qid.clone(), Some("done".to_string()))]
    );
    let r = bot
        .answer_callback_query(CallbackQueryId("nope".into()))
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::InvalidQueryId))),
        "{r:?}"
    );

    // Commands.
    bot.set_my_commands([
        BotCommand::new("start", "Start"),
        BotCommand::new("help", "Help"),
    ])
    .await
    .unwrap();
    bot.set_my_commands([BotCommand::new("admin", "Admin")])
        .scope(BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(77)),
        })
        .await
        .unwrap();
    bot.set_my_commands([BotCommand::new("start", "Begin")])
        .await
        .unwrap();
    let cmds = fake.my_commands();
    assert_eq!(cmds.len(), 2);
    assert_eq!(cmds[0].0, serde_json::json!({"type": "default"}));
    assert_eq!(cmds[0].1, vec![("start".to_string(), "Begin".to_string())]);
    assert_eq!(
        cmds[1].0,
        serde_json::json!({"type": "chat", "chat_id": 77})
    );
    let r = bot
        .set_my_commands([BotCommand::new("Bad-Name", "x")])
        .await;
    assert!(r.is_err());
    bot.delete_my_commands().await.unwrap();
    assert_eq!(fake.my_commands().len(), 1);

    bot.send_chat_action(ChatId(77), teloxide::types::ChatAction::Typing)
        .await
        .unwrap();
    assert_eq!(fake.requests("sendChatAction"), 1);
}

#[tokio::test]
async fn updates_deserialize_as_the_right_kinds() {
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let user = TestUser::new(555, "Eve").lang("ru");

    let text_id = fake.send_text(&user, "/start@aftercare_test_bot payload");
    fake.send_text_in_group(&user, -100, "in group");
    fake.send_photo(&user, Some("my photo"));
    fake.send_location(&user, 52.5, 13.4);
    let sent = bot
        .send_message(ChatId(555), "Pick")
        .reply_markup(keyboard("pick:1"))
        .await
        .unwrap();
    let reply_id = fake.send_reply(&user, "an answer", sent.id.0);
    let qid = fake.press_button(&user, sent.id.0, "pick:1");

    let ups = bot.get_updates().await.unwrap();
    assert_eq!(ups.len(), 6);
    let UpdateKind::Message(m) = &ups[0].kind else {
        panic!("{:?}", ups[0])
    };
    assert_eq!(m.id.0, text_id);
    assert_eq!(m.text(), Some("/start@aftercare_test_bot payload"));
    let from = m.from.as_ref().unwrap();
    assert_eq!(
        (from.id.0, from.language_code.as_deref()),
        (555, Some("ru"))
    );
    assert_eq!(m.chat.id, ChatId(555));
    assert!(m.chat.is_private());
    assert_eq!(
        m.entities().unwrap()[0].length,
        "/start@aftercare_test_bot".len()
    );

    let UpdateKind::Message(g) = &ups[1].kind else {
        panic!("{:?}", ups[1])
    };
    assert!(g.chat.is_group());
    assert_eq!(g.chat.id, ChatId(-100));

    let UpdateKind::Message(p) = &ups[2].kind else {
        panic!("{:?}", ups[2])
    };
    assert_eq!(p.photo().unwrap().len(), 2);
    assert_eq!(p.caption(), Some("my photo"));

    let UpdateKind::Message(l) = &ups[3].kind else {
        panic!("{:?}", ups[3])
    };
    let MessageKind::Common(c) = &l.kind else {
        panic!()
    };
    let MediaKind::Location(loc) = &c.media_kind else {
        panic!("{c:?}")
    };
    assert_eq!(
        (loc.location.latitude, loc.location.longitude),
        (52.5, 13.4)
    );

    let UpdateKind::Message(r) = &ups[4].kind else {
        panic!("{:?}", ups[4])
    };
    assert_eq!(r.id.0, reply_id);
    let replied = r.reply_to_message().unwrap();
    assert_eq!((replied.id, replied.text()), (sent.id, Some("Pick")));

    let UpdateKind::CallbackQuery(q) = &ups[5].kind else {
        panic!("{:?}", ups[5])
    };
    assert_eq!(q.id.0, qid);
    assert_eq!(q.data.as_deref(), Some("pick:1"));
    assert_eq!(q.from.id.0, 555);
    assert_eq!(q.regular_message().unwrap().id, sent.id);

    // Bot replies to the user's message (reply_parameters) -> reply_to_message filled.
    let rep = bot
        .send_message(ChatId(555), "re")
        .reply_parameters(ReplyParameters::new(MessageId(text_id)))
        .await
        .unwrap();
    assert_eq!(rep.reply_to_message().unwrap().id.0, text_id);
    let r = bot
        .send_message(ChatId(555), "re")
        .reply_parameters(ReplyParameters::new(MessageId(987654)))
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageToReplyNotFound))),
        "{r:?}"
    );

    // Group chat is now known: the bot may write there.
    bot.send_message(ChatId(-100), "hello group").await.unwrap();

    // Offset confirms updates.
    let next = ups.last().unwrap().id.as_offset();
    let ups2 = bot.get_updates().offset(next).timeout(0).await.unwrap();
    assert!(ups2.is_empty());
    assert_eq!(fake.pending_updates(), 0);
}

#[tokio::test]
async fn long_poll_answers_promptly() {
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let user = TestUser::new(9, "Lp");
    let poll = {
        let bot = bot.clone();
        tokio::spawn(async move { bot.get_updates().timeout(10).await })
    };
    // Wait until the poll request arrived, then queue an update.
    while fake.requests("getUpdates") == 0 {
        tokio::task::yield_now().await;
    }
    let t0 = Instant::now();
    fake.send_text(&user, "wake up");
    let ups = poll.await.unwrap().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert_eq!(ups.len(), 1);
    let UpdateKind::Message(m) = &ups[0].kind else {
        panic!()
    };
    assert_eq!(m.text(), Some("wake up"));

    // With nothing queued and timeout 0, it returns empty immediately.
    let next = ups[0].id.as_offset();
    let t0 = Instant::now();
    assert!(
        bot.get_updates()
            .offset(next)
            .timeout(0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(t0.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn rate_limits() {
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let a = TestUser::new(1, "A");
    let b = TestUser::new(2, "B");
    fake.send_text(&a, "hi");
    fake.send_text(&b, "hi");
    fake.enforce_rate_limits(30, Duration::from_secs(60));
    bot.send_message(ChatId(1), "first").await.unwrap();
    let r = bot.send_message(ChatId(1), "second").await;
    assert!(
        matches!(r, Err(RequestError::RetryAfter(s)) if s == Seconds::from_seconds(1)),
        "{r:?}"
    );
    bot.send_message(ChatId(2), "other chat ok").await.unwrap();
    assert_eq!(fake.count_429(), 1);
    assert_eq!(fake.sent().len(), 2);

    // Global limit.
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    for i in 0..4 {
        fake.send_text(&TestUser::new(100 + i, "U"), "hi");
    }
    fake.enforce_rate_limits(3, Duration::ZERO);
    for i in 0..3 {
        bot.send_message(ChatId(100 + i), "x").await.unwrap();
    }
    let r = bot.send_message(ChatId(103), "x").await;
    assert!(matches!(r, Err(RequestError::RetryAfter(_))), "{r:?}");
}

#[tokio::test]
async fn dispatcher_end_to_end() {
    let fake = FakeTelegram::start().await;
    let user = TestUser::new(31337, "Disp");

    let handler = dptree::entry()
        .branch(
            Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
                bot.send_message(
                    msg.chat.id,
                    format!("echo: <b>{}</b>", msg.text().unwrap_or("")),
                )
                .parse_mode(ParseMode::Html)
                .reply_markup(keyboard("again"))
                .await?;
                Ok::<(), RequestError>(())
            }),
        )
        .branch(Update::filter_callback_query().endpoint(
            |bot: Bot, q: CallbackQuery| async move {
                bot.answer_callback_query(q.id.clone()).text("ok").await?;
                if let Some(m) = q.regular_message() {
                    bot.edit_message_text(m.chat.id, m.id, format!("chosen {}", q.data.unwrap()))
                        .await?;
                }
                Ok::<(), RequestError>(())
            },
        ));
    let mut dispatcher = Dispatcher::builder(fake.bot(), handler).build();
    let token = dispatcher.shutdown_token();
    let task = tokio::spawn(async move { dispatcher.dispatch().await });

    fake.send_text(&user, "ping");
    let echo = fake
        .wait_for(31337, |m| m.plain_text() == "echo: ping", T)
        .await;
    fake.press_button(&user, echo.message_id, "again");
    let edit = fake
        .wait_for(31337, |m| m.method == "editMessageText", T)
        .await;
    assert_eq!(edit.text, "chosen again");
    assert_eq!(fake.answered_callbacks().len(), 1);
    assert!(fake.requests("getMe") >= 1);
    assert!(fake.requests("getWebhookInfo") >= 1);

    token.shutdown().unwrap().await;
    task.await.unwrap();
    assert!(fake.rejected().is_empty(), "{:?}", fake.rejected());
    // The graceful-shutdown getUpdates confirmed everything.
    assert_eq!(fake.pending_updates(), 0);
}

#[tokio::test]
async fn a_person_presses_only_a_button_their_chat_shows_now() {
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let ann = TestUser::new(1001, "Ann");
    let bob = TestUser::new(1002, "Bob");
    fake.send_text(&ann, "hi");
    fake.send_text(&bob, "hi");
    let m = bot
        .send_message(ChatId(1001), "Pick")
        .reply_markup(keyboard("ok:1"))
        .await
        .unwrap();
    let id = m.id.0;
    assert!(
        fake.try_press_button(&ann, id, "other").is_none(),
        "not on it"
    );
    assert!(
        fake.try_press_button(&bob, id, "ok:1").is_none(),
        "not bob's chat"
    );
    assert!(
        fake.try_press_button(&ann, 999, "ok:1").is_none(),
        "no such message"
    );
    let before = fake.pending_updates();
    assert!(fake.try_press_button(&ann, id, "ok:1").is_some());
    assert_eq!(fake.pending_updates(), before + 1);
    // Once the keyboard is gone, so is the button.
    bot.edit_message_reply_markup(ChatId(1001), MessageId(id))
        .await
        .unwrap();
    assert!(fake.try_press_button(&ann, id, "ok:1").is_none());
}

#[tokio::test]
async fn chats_are_read_by_write_number_with_edits_and_pictures() {
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let ann = TestUser::new(1001, "Ann");
    let staff = TestUser::new(1002, "Sam");
    fake.started_earlier(&staff);
    let mine = fake
        .try_send_picture(&ann, png(), Some("my cheek"), None)
        .unwrap();
    assert!(
        fake.try_send_text(&ann, "about this", Some(12345))
            .is_none(),
        "a reply to a message that is not in the chat"
    );
    let (seq, all) = fake.chat_messages_since(0);
    assert_eq!(all.len(), 1);
    assert!(all[0].has_photo && !all[0].from_bot);
    assert_eq!(fake.photo(mine).as_deref(), Some(png().as_slice()));

    // The bot sends the person's picture on by file_id: the bytes go with it.
    let file_id = all[0].json["photo"][1]["file_id"]
        .as_str()
        .unwrap()
        .to_string();
    let sent = bot
        .send_photo(ChatId(1002), InputFile::file_id(file_id.into()))
        .await
        .unwrap();
    assert_eq!(fake.photo(sent.id.0).as_deref(), Some(png().as_slice()));
    let text = bot.send_message(ChatId(1001), "Got it").await.unwrap();
    let (seq2, news) = fake.chat_messages_since(seq);
    let ids: Vec<i32> = news.iter().map(|m| m.message_id).collect();
    assert_eq!(ids, vec![sent.id.0, text.id.0]);

    // An edit brings the message back, changed, under a later write number.
    bot.edit_message_text(ChatId(1001), text.id, "Got it, thanks")
        .await
        .unwrap();
    let (seq3, news) = fake.chat_messages_since(seq2);
    assert!(seq3 > seq2);
    assert_eq!(news.len(), 1);
    assert_eq!(news[0].json["text"], "Got it, thanks");
    assert!(news[0].json.get("edit_date").is_some());
    // Nothing new: a reader waits, then gets nothing.
    fake.wait_for_news(seq3, Duration::from_millis(50)).await;
    assert!(fake.chat_messages_since(seq3).1.is_empty());
}

/// sendMediaGroup as Telegram documents it: 2 to 10 photos Telegram has, one album.
#[tokio::test]
async fn albums_are_checked_like_telegram_and_answer_with_every_message() {
    use teloxide::types::{FileId, InputMedia, InputMediaPhoto};
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let ann = TestUser::new(88, "Ann");
    let first = fake.send_photo(&ann, None);
    let second = fake.send_photo(&ann, None);
    let photo = |id: String, caption: &str| {
        InputMedia::Photo(
            InputMediaPhoto::new(InputFile::file_id(FileId(id)))
                .caption(caption)
                .parse_mode(ParseMode::Html),
        )
    };
    let known = |m: i32| format!("user{m}-m");

    let sent = bot
        .send_media_group(
            ChatId(88),
            [
                photo(known(first), "<b>Day 3</b>"),
                photo(known(second), "Day 4"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].caption(), Some("Day 3"));
    assert!(sent[0].photo().is_some());
    assert_eq!(sent[0].media_group_id(), sent[1].media_group_id());
    assert!(sent[0].media_group_id().is_some());
    assert_eq!(sent[1].id.0, sent[0].id.0 + 1);
    let both = fake.wait_for_count(88, 2, T).await;
    assert!(both.iter().all(|m| m.method == "sendMediaGroup"));
    assert_eq!(both[0].text, "<b>Day 3</b>");
    assert_eq!(both[1].photo_file_id, Some(known(second)));

    // A file Telegram never saw, one photo alone, eleven, none: refused with 400.
    let unknown = bot
        .send_media_group(
            ChatId(88),
            [photo(known(first), ""), photo("AgAD-nope".into(), "")],
        )
        .await;
    assert!(
        matches!(unknown, Err(RequestError::Api(ApiError::WrongFileIdOrUrl))),
        "{unknown:?}"
    );
    for n in [1, 11] {
        let r = bot
            .send_media_group(ChatId(88), (0..n).map(|_| photo(known(first), "")))
            .await;
        assert!(r.is_err(), "{n} photos: {r:?}");
    }
    let (code, body) = raw_post(
        &fake,
        &format!("/bot{TOKEN}/sendMediaGroup"),
        r#"{"chat_id": 88, "media": []}"#,
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("there are no messages to send"), "{body}");
    let long = "x".repeat(1025);
    let r = bot
        .send_media_group(
            ChatId(88),
            [photo(known(first), &long), photo(known(second), "")],
        )
        .await;
    assert!(r.is_err(), "a caption over 1024 characters");
    // Unknown chat: 400; blocked: 403.
    let r = bot
        .send_media_group(
            ChatId(404),
            [photo(known(first), ""), photo(known(second), "")],
        )
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::ChatNotFound))),
        "{r:?}"
    );
    assert_eq!(fake.sent_to(88).len(), 2, "nothing refused was recorded");

    // The faults sendMessage and sendPhoto get: 429, and 500 (sent raw: teloxide waits
    // 10 s after a 5xx).
    fake.push_fault(Fault::RetryAfter(3));
    let r = bot
        .send_media_group(
            ChatId(88),
            [photo(known(first), ""), photo(known(second), "")],
        )
        .await;
    assert!(
        matches!(r, Err(RequestError::RetryAfter(s)) if s == Seconds::from_seconds(3)),
        "{r:?}"
    );
    fake.push_fault(Fault::ServerError);
    let media = format!(
        r#"{{"chat_id": 88, "media": [{{"type": "photo", "media": "{}"}}, {{"type": "photo", "media": "{}"}}]}}"#,
        known(first),
        known(second)
    );
    let (code, _) = raw_post(&fake, &format!("/bot{TOKEN}/sendMediaGroup"), &media).await;
    assert_eq!(code, 500);
    let (code, body) = raw_post(&fake, &format!("/bot{TOKEN}/sendMediaGroup"), &media).await;
    assert_eq!(code, 200, "{body}");
    fake.block_bot(88);
    let (code, _) = raw_post(&fake, &format!("/bot{TOKEN}/sendMediaGroup"), &media).await;
    assert_eq!(code, 403);
}

#[tokio::test]
async fn documents_go_both_ways_and_unknown_files_are_refused() {
    use teloxide::net::Download;
    let fake = FakeTelegram::start().await;
    let bot = fake.bot();
    let user = TestUser::new(78, "Doc");
    fake.send_text(&user, "hi");

    // The bot sends a file: kept with its name and bytes, the caption parsed as HTML.
    let body = b"name = \"Peel\"\n".to_vec();
    let m = bot
        .send_document(
            ChatId(78),
            InputFile::memory(body.clone()).file_name("peel.toml"),
        )
        .caption("<b>the course</b>")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    let doc = m.document().expect("a document message");
    assert_eq!(doc.file_name.as_deref(), Some("peel.toml"));
    assert_eq!(doc.file.size as usize, body.len());
    assert_eq!(m.caption(), Some("the course"));
    let sent = fake.wait_for(78, |m| m.method == "sendDocument", T).await;
    assert_eq!(sent.plain_text(), "the course");
    let (name, bytes) = fake.document(sent.message_id).unwrap();
    assert_eq!((name.as_str(), &bytes[..]), ("peel.toml", &body[..]));
    // Strict like Telegram: a caption over 1024 characters, an empty file.
    let long = bot
        .send_document(ChatId(78), InputFile::memory(body.clone()).file_name("a"))
        .caption("x".repeat(1025))
        .await;
    assert!(long.is_err(), "{long:?}");
    let empty = bot
        .send_document(ChatId(78), InputFile::memory(Vec::new()).file_name("a"))
        .await;
    assert!(empty.is_err(), "{empty:?}");
    // Faults reach sendDocument as they reach sendMessage.
    fake.push_fault(Fault::RetryAfter(1));
    let limited = bot
        .send_document(ChatId(78), InputFile::memory(body.clone()).file_name("a"))
        .await;
    assert!(
        matches!(limited, Err(RequestError::RetryAfter(_))),
        "{limited:?}"
    );

    // A person sends a file: the bot finds it with getFile and downloads it.
    let id = fake.send_document(&user, "laser.toml", b"[[step]]\n".to_vec(), Some("new"));
    let update = bot.get_updates().await.unwrap().pop().unwrap();
    let UpdateKind::Message(msg) = update.kind else {
        panic!("not a message: {update:?}");
    };
    assert_eq!(msg.id.0, id);
    assert_eq!(msg.caption(), Some("new"));
    let doc = msg.document().unwrap();
    assert_eq!(doc.file_name.as_deref(), Some("laser.toml"));
    let file = bot.get_file(doc.file.id.clone()).await.unwrap();
    assert_eq!(file.meta.size, 9);
    let mut got = Vec::new();
    bot.download_file(&file.path, &mut got).await.unwrap();
    assert_eq!(got, b"[[step]]\n");
    assert_eq!(fake.document(id).unwrap().0, "laser.toml");

    // An unknown file id, an unknown path, a download that fails once.
    let unknown = bot.get_file("BQAC-unknown".into()).await;
    assert!(
        matches!(&unknown, Err(RequestError::Api(ApiError::Unknown(d))) if d == "Bad Request: invalid file_id"),
        "{unknown:?}"
    );
    let mut sink = Vec::new();
    assert!(
        bot.download_file("documents/none.toml", &mut sink)
            .await
            .is_err()
    );
    fake.fail_downloads(1);
    assert!(bot.download_file(&file.path, &mut sink).await.is_err());
    bot.download_file(&file.path, &mut sink).await.unwrap();
    assert_eq!(sink, b"[[step]]\n");
}
