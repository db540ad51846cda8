//! Self-tests of the fake Telegram server through the real teloxide `Bot`: if these pass, a
//! test that sees the fake accept a call can trust Telegram would have accepted it too.

use std::time::Duration;

use serde_json::json;
use teloxide::payloads::{GetUpdatesSetters, SendMessageSetters};
use teloxide::prelude::*;
use teloxide::types::{
    AllowedUpdate, BotCommand, CallbackQueryId, InlineKeyboardButton, InlineKeyboardMarkup,
    MessageId, ParseMode, UpdateKind,
};
use teloxide::{ApiError, RequestError};

use crate::support::fake_telegram::{BOT_ID, BOT_USERNAME, FakeTelegram, Fault};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn get_me_decodes_in_teloxide() {
    let tg = FakeTelegram::start().await;
    let me = tg.bot().get_me().await.expect("getMe");
    assert_eq!(me.id, UserId(BOT_ID as u64));
    assert_eq!(me.username(), BOT_USERNAME);
    assert!(me.can_join_groups);
    tg.assert_no_violations();
}

#[tokio::test]
async fn send_message_round_trips_and_is_recorded() {
    let tg = FakeTelegram::start().await;
    let keyboard =
        InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("Approve", "approve:7")]]);
    let message = tg
        .bot()
        .send_message(ChatId(42), "hello there")
        .reply_markup(keyboard)
        .await
        .expect("sendMessage");
    assert_eq!(message.chat.id, ChatId(42));
    assert_eq!(message.text(), Some("hello there"));

    let sent = tg.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].message_id, message.id.0 as i64);
    assert_eq!(sent[0].text, "hello there");
    let markup = sent[0]
        .reply_markup
        .as_ref()
        .expect("reply_markup recorded");
    assert_eq!(
        markup["inline_keyboard"][0][0]["callback_data"],
        "approve:7"
    );
    assert_eq!(tg.calls_of("sendMessage").len(), 1);
    tg.assert_no_violations();
}

#[tokio::test]
async fn html_is_parsed_into_visible_text_and_entities() {
    let tg = FakeTelegram::start().await;
    let html = "<b>Bold</b> &amp; <a href=\"https://x.test/?a=1&amp;b=2\">link</a> &lt;3";
    let message = tg
        .bot()
        .send_message(ChatId(1), html)
        .parse_mode(ParseMode::Html)
        .await
        .expect("send");
    assert_eq!(message.text(), Some("Bold & link <3"));
    let sent = &tg.sent_to(1)[0];
    assert_eq!(
        sent.entities[0],
        json!({"type": "bold", "offset": 0, "length": 4})
    );
    assert_eq!(sent.entities[1]["url"], "https://x.test/?a=1&b=2");

    let code = "<pre><code class=\"language-rust\">let x = 1;</code></pre>";
    let message = tg
        .bot()
        .send_message(ChatId(1), code)
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    assert_eq!(message.text(), Some("let x = 1;"));
    let pre = json!({"type": "pre", "offset": 0, "length": 10, "language": "rust"});
    assert_eq!(tg.sent_to(1)[1].entities, [pre]);
    tg.assert_no_violations();
}

#[tokio::test]
async fn invalid_html_is_rejected_as_cant_parse_entities() {
    let tg = FakeTelegram::start().await;
    for bad in [
        "<b>never closed",
        "<b><i>crossed</b></i>",
        "a < b",
        "AT&T",
        "<p>para</p>",
        "1 > 0",
    ] {
        let result = tg
            .bot()
            .send_message(ChatId(1), bad)
            .parse_mode(ParseMode::Html)
            .await;
        assert!(
            matches!(
                result,
                Err(RequestError::Api(ApiError::CantParseEntities(_)))
            ),
            "{bad:?} gave {result:?}"
        );
    }
    assert!(tg.sent_messages().is_empty());
}

#[tokio::test]
async fn too_long_or_empty_text_is_rejected_like_telegram() {
    let tg = FakeTelegram::start().await;
    let bot = tg.bot();
    bot.send_message(ChatId(1), "x".repeat(4096))
        .await
        .expect("4096 units fit");
    // An emoji is two UTF-16 code units: 2049 of them are 4098 units.
    let too_long = bot.send_message(ChatId(1), "😀".repeat(2049)).await;
    assert!(
        matches!(too_long, Err(RequestError::Api(ApiError::MessageIsTooLong))),
        "{too_long:?}"
    );
    // Tags do not count, only the visible text.
    let tagged = format!("<b>{}</b>", "y".repeat(4096));
    bot.send_message(ChatId(1), tagged)
        .parse_mode(ParseMode::Html)
        .await
        .expect("tags are free");
    let empty = bot.send_message(ChatId(1), "  ").await;
    assert!(
        matches!(empty, Err(RequestError::Api(ApiError::MessageTextIsEmpty))),
        "{empty:?}"
    );
    assert_eq!(tg.sent_messages().len(), 2);
}

#[tokio::test]
async fn unknown_method_and_bad_parameters_are_violations() {
    let tg = FakeTelegram::start().await;
    let http = reqwest::Client::new();
    let post = |method: &str, body: serde_json::Value| {
        let url = format!("{}bot{}/{method}", tg.url(), tg.token());
        http.post(url).json(&body).send()
    };
    let bogus = post(
        "sendMessage",
        json!({"chat_id": 1, "text": "hi", "bogus": 1}),
    )
    .await
    .unwrap();
    assert_eq!(bogus.status(), 400);
    assert_eq!(
        post("sendMesage", json!({"chat_id": 1}))
            .await
            .unwrap()
            .status(),
        404
    );
    post("sendMessage", json!({"text": "no chat"}))
        .await
        .unwrap();
    post("sendMessage", json!({"chat_id": true, "text": "hi"}))
        .await
        .unwrap();
    let bad_markup =
        json!({"chat_id": 1, "text": "hi", "reply_markup": {"inline_keyboard": [[{"txt": "x"}]]}});
    post("sendMessage", bad_markup).await.unwrap();

    let violations = tg.violations().join("\n");
    for expected in [
        "sendMessage: unknown parameter `bogus`",
        "unknown method `sendMesage`",
        "sendMessage: missing required parameter `chat_id`",
        "sendMessage.chat_id: expected Integer or String, got a boolean",
        "unknown field `txt`",
    ] {
        assert!(
            violations.contains(expected),
            "missing {expected:?} in:\n{violations}"
        );
    }
    assert!(tg.sent_messages().is_empty());
    let panic = std::panic::catch_unwind(|| tg.assert_no_violations());
    assert!(panic.is_err());
}

#[tokio::test]
async fn long_poll_wakes_when_an_update_is_pushed() {
    let tg = FakeTelegram::start().await;
    let bot = tg.bot();
    let poll = tokio::spawn(async move { bot.get_updates().timeout(30).await });
    tg.wait_until("a getUpdates in flight", WAIT, |tg| {
        !tg.calls_of("getUpdates").is_empty()
    })
    .await;
    let id = tg.push_text(42, "/start hello");

    let updates = poll.await.unwrap().expect("getUpdates");
    assert_eq!(updates.len(), 1, "the poll returned before the push");
    assert_eq!(updates[0].id.0 as i64, id);
    let UpdateKind::Message(message) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    assert_eq!(message.text(), Some("/start hello"));
    assert_eq!(message.from.as_ref().map(|u| u.id), Some(UserId(42)));

    tg.bot()
        .get_updates()
        .offset(id as i32 + 1)
        .await
        .expect("confirm");
    tg.wait_for_confirmed(id, WAIT).await;
    assert_eq!(tg.pending_updates(), 0);
    tg.assert_no_violations();
}

#[tokio::test]
async fn unconfirmed_updates_are_delivered_again_and_limit_is_honoured() {
    let tg = FakeTelegram::start().await;
    let first = tg.push_text(1, "one");
    tg.push_text(1, "two");
    let bot = tg.bot();
    assert_eq!(bot.get_updates().limit(1).await.unwrap().len(), 1);
    assert_eq!(bot.get_updates().await.unwrap().len(), 2);
    let rest = bot.get_updates().offset(first as i32 + 1).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(tg.confirmed_offset(), Some(first + 1));
}

#[tokio::test]
async fn too_many_requests_arrives_as_retry_after() {
    let tg = FakeTelegram::start().await;
    tg.fail_next("SendMessage", Fault::TooManyRequests { retry_after: 7 });
    let result = tg.bot().send_message(ChatId(1), "hi").await;
    assert!(
        matches!(result, Err(RequestError::RetryAfter(s)) if s.seconds() == 7),
        "{result:?}"
    );
    tg.bot()
        .send_message(ChatId(1), "hi")
        .await
        .expect("the fault is one-shot");
    let statuses: Vec<_> = tg
        .calls_of("sendMessage")
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, [Some(429), Some(200)]);
}

#[tokio::test]
async fn edits_change_the_recorded_message_and_unchanged_edits_fail() {
    let tg = FakeTelegram::start().await;
    let bot = tg.bot();
    let sent = bot.send_message(ChatId(5), "draft").await.unwrap();
    let edited = bot
        .edit_message_text(ChatId(5), sent.id, "final")
        .await
        .expect("edit");
    assert_eq!(edited.text(), Some("final"));
    let same = bot.edit_message_text(ChatId(5), sent.id, "final").await;
    assert!(
        matches!(same, Err(RequestError::Api(ApiError::MessageNotModified))),
        "{same:?}"
    );
    let missing = bot.edit_message_text(ChatId(5), MessageId(1), "x").await;
    assert!(
        matches!(
            missing,
            Err(RequestError::Api(ApiError::MessageToEditNotFound))
        ),
        "{missing:?}"
    );
    let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("Ok", "ok")]]);
    bot.edit_message_reply_markup(ChatId(5), sent.id)
        .reply_markup(keyboard)
        .await
        .expect("markup");
    let now = &tg.sent_to(5)[0];
    assert_eq!((now.text.as_str(), now.edits), ("final", 2));
    tg.assert_no_violations();
}

#[tokio::test]
async fn callback_queries_decode_and_only_known_ids_can_be_answered() {
    let tg = FakeTelegram::start().await;
    let id = tg.push_callback(42, "approve:9", 1001);
    let updates = tg.bot().get_updates().await.unwrap();
    let UpdateKind::CallbackQuery(query) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    assert_eq!(query.data.as_deref(), Some("approve:9"));
    assert_eq!(query.id.0, format!("cb{id}"));
    tg.bot()
        .answer_callback_query(query.id.clone())
        .await
        .expect("known id");
    let again = tg
        .bot()
        .answer_callback_query(CallbackQueryId("cb999".into()))
        .await;
    assert!(
        matches!(again, Err(RequestError::Api(ApiError::InvalidQueryId))),
        "{again:?}"
    );
}

#[tokio::test]
async fn webhook_settings_are_reflected_and_block_polling() {
    let tg = FakeTelegram::start().await;
    let bot = tg.bot();
    let url = reqwest::Url::parse("https://bot.example.com/bot/webhook").unwrap();
    bot.set_webhook(url)
        .secret_token("s3cret")
        .await
        .expect("setWebhook");
    let info = bot.get_webhook_info().await.expect("getWebhookInfo");
    assert_eq!(
        info.url.map(String::from).as_deref(),
        Some("https://bot.example.com/bot/webhook")
    );
    assert_eq!(tg.webhook().unwrap()["secret_token"], "s3cret");
    let conflict = bot.get_updates().await;
    assert!(
        matches!(conflict, Err(RequestError::Api(_))),
        "{conflict:?}"
    );
    bot.delete_webhook().await.expect("deleteWebhook");
    bot.get_updates().await.expect("polling works again");
    let plain_http = bot
        .set_webhook(reqwest::Url::parse("http://bot.example.com/").unwrap())
        .await;
    assert!(plain_http.is_err());
}

#[tokio::test]
async fn commands_are_stored_and_invalid_names_rejected() {
    let tg = FakeTelegram::start().await;
    let bot = tg.bot();
    bot.set_my_commands([BotCommand::new("help", "Show help")])
        .await
        .expect("setMyCommands");
    assert_eq!(
        tg.my_commands(),
        [("help".to_owned(), "Show help".to_owned())]
    );
    assert_eq!(bot.get_my_commands().await.unwrap()[0].command, "help");
    let invalid = bot
        .set_my_commands([BotCommand::new("web-fetch", "Fetch")])
        .await;
    assert!(invalid.is_err(), "{invalid:?}");
    bot.send_chat_action(ChatId(1), teloxide::types::ChatAction::Typing)
        .await
        .expect("typing");
    tg.assert_no_violations();
}

#[tokio::test]
async fn status_and_delay_faults_apply_once_in_order() {
    let tg = FakeTelegram::start().await;
    let conflict = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
    let status = Fault::Status {
        code: 409,
        description: conflict.to_owned(),
    };
    tg.fail_next("getUpdates", status);
    tg.fail_next("getUpdates", Fault::Delay(Duration::from_secs(1)));
    let bot = tg.bot();
    let first = bot.get_updates().await;
    assert!(
        matches!(
            first,
            Err(RequestError::Api(ApiError::TerminatedByOtherGetUpdates))
        ),
        "{first:?}"
    );
    let delayed = tokio::spawn(async move { bot.get_updates().await });
    tg.wait_until("a delayed getUpdates in flight", WAIT, |tg| {
        tg.calls_of("getUpdates").iter().any(|c| c.status.is_none())
    })
    .await;
    delayed
        .await
        .unwrap()
        .expect("a delay then a normal answer");
    let statuses: Vec<_> = tg.calls_of("getUpdates").iter().map(|c| c.status).collect();
    assert_eq!(statuses, [Some(409), Some(200)]);
}

#[tokio::test]
async fn wrong_token_is_unauthorized() {
    let tg = FakeTelegram::start().await;
    let bot = teloxide::Bot::new("999:WRONG").set_api_url(tg.url());
    let result = bot.get_me().await;
    assert!(
        matches!(result, Err(RequestError::Api(ApiError::InvalidToken))),
        "{result:?}"
    );
    assert_eq!(tg.violations(), ["getMe: wrong bot token"]);
}

#[tokio::test]
async fn updates_outside_allowed_updates_are_dropped_and_reported() {
    let tg = FakeTelegram::start().await;
    let bot = tg.bot();
    bot.get_updates()
        .allowed_updates([AllowedUpdate::Message])
        .await
        .unwrap();
    tg.push_callback(42, "approve:1", 1001);
    assert!(bot.get_updates().await.unwrap().is_empty());
    let violations = tg.violations();
    assert!(
        violations[0].contains("(callback_query) never delivered"),
        "{violations:?}"
    );
}
