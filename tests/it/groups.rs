//! Group chats through the front door: the real app against the fake Bot API posting group and
//! supergroup updates (`my_chat_member`, mentions, `text_mention`, replies, forum topics) and a
//! fake model. Groups are approved by the owner, answer only when addressed, keep one
//! conversation and one budget, and never see anyone's private data.

use std::time::Duration;

use minicrew::app::App;
use minicrew::config::{Config, Purpose};
use minicrew::dispatch::{Caller, Outcome, invoke};
use minicrew::tools::{CallSource, ChatKind};
use serde_json::{Value, json};

use crate::support::app::{OWNER, STRANGER, TestApp, WAIT, test_env};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_telegram::{BOT_ID, BOT_USERNAME, FakeTelegram, group_text_message};

/// A group the tests use (a basic group's id).
const GROUP: i64 = -4_001;
/// A forum supergroup.
const FORUM: i64 = -1_000_000_004_002;
/// A member of the groups who is no user of the bot.
const MEMBER: i64 = 555_111;

struct Setup {
    app: TestApp,
    llm: FakeLlm,
}

async fn start(extra: &[(&str, &str)]) -> Setup {
    let llm = FakeLlm::start(Wire::Claude).await;
    let url = llm.base_url().to_string();
    let mut env = vec![
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", url.as_str()),
        ("LLM_TIMEOUT_SECS", "3"),
    ];
    env.extend_from_slice(extra);
    let app = TestApp::start_with(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &env,
    )
    .await;
    Setup { app, llm }
}

/// Waits until update `update_id` left the inbox's pending state.
async fn handled(app: &TestApp, update_id: i64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let status: Option<String> = app
            .store
            .call(move |c| {
                c.query_row(
                    "SELECT status FROM inbox WHERE update_id = ?1",
                    [update_id],
                    |r| r.get(0),
                )
                .or(Ok(None))
            })
            .await
            .unwrap();
        if status.as_deref().is_some_and(|s| s != "pending") {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "update {update_id} not handled: {status:?}\n{}",
            app.fake.summary()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.store
        .call(move |c| c.query_row(sql, [], |r| r.get(0)))
        .await
        .unwrap()
}

async fn group_state(app: &TestApp, chat: i64) -> (String, i64) {
    app.store
        .call(move |c| {
            c.query_row(
                "SELECT state, member FROM groups WHERE chat_id = ?1",
                [chat],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .await
        .unwrap()
}

/// The owner adds the bot to `chat`; returns once the greeting is sent.
async fn owner_adds(app: &TestApp, chat: i64) {
    let id = app.fake.push_my_chat_member(chat, OWNER, true);
    handled(app, id).await;
    assert_eq!(group_state(app, chat).await, ("active".into(), 1));
}

fn mention(text: &str) -> String {
    format!("@{BOT_USERNAME} {text}")
}

/// The params of every sendMessage to `chat`.
fn sends_to(app: &TestApp, chat: i64) -> Vec<Value> {
    app.fake
        .calls_of("sendMessage")
        .into_iter()
        .map(|c| c.params)
        .filter(|p| p["chat_id"].as_i64() == Some(chat))
        .collect()
}

#[tokio::test]
async fn a_group_the_owner_adds_the_bot_to_is_active_at_once() {
    let s = start(&[]).await;
    owner_adds(&s.app, GROUP).await;
    let greeting = s.app.fake.sent_to(GROUP);
    assert_eq!(greeting.len(), 1, "{}", s.app.fake.summary());
    assert!(greeting[0].text.contains(&format!("@{BOT_USERNAME}")));
    assert!(s.app.fake.sent_to(OWNER).is_empty(), "nothing to approve");
    let users = count(&s.app, "SELECT COUNT(*) FROM users WHERE status = 'active'").await;
    assert_eq!(users, 0, "a group is no user");
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn a_stranger_adding_the_bot_asks_the_owner_naming_the_group_and_approval_makes_no_user() {
    let s = start(&[]).await;
    s.app.fake.set_member_count(GROUP, 5);
    let id = s.app.fake.push_my_chat_member(GROUP, STRANGER, true);
    handled(&s.app, id).await;
    assert_eq!(group_state(&s.app, GROUP).await, ("pending".into(), 1));
    let ask = s.app.fake.sent_to(OWNER);
    assert_eq!(ask.len(), 1, "{}", s.app.fake.summary());
    let text = &ask[0].visible_text;
    assert!(text.contains(&format!("Group{GROUP}")), "{text}");
    assert!(text.contains("5 members"), "{text}");
    assert!(text.contains(&format!("User{STRANGER}")), "{text}");
    let markup = ask[0].reply_markup.clone().unwrap().to_string();
    assert!(markup.contains(&format!("/approve {GROUP}")), "{markup}");
    assert!(markup.contains(&format!("/disable {GROUP}")), "{markup}");
    assert!(
        s.app.fake.sent_to(GROUP).is_empty(),
        "silent until approved"
    );
    let mention_before = s.app.fake.push_group_text(GROUP, STRANGER, &mention("hi"));
    handled(&s.app, mention_before).await;
    assert!(
        s.app.fake.sent_to(GROUP).is_empty(),
        "a pending group is not answered"
    );

    let press = s
        .app
        .fake
        .push_callback(OWNER, &format!("/approve {GROUP}"), ask[0].message_id);
    handled(&s.app, press).await;
    assert_eq!(group_state(&s.app, GROUP).await, ("active".into(), 1));
    assert_eq!(s.app.fake.sent_to(GROUP).len(), 1, "the group hears it");
    let private = s.app.fake.push_text(STRANGER, "hello, I'm in your group");
    handled(&s.app, private).await;
    assert!(
        s.app.fake.sent_to(STRANGER).is_empty(),
        "approving the group made the stranger no user"
    );
    assert_eq!(s.llm.requests().len(), 0);
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn deny_makes_the_bot_leave_and_a_stranger_cannot_bring_it_back() {
    let s = start(&[]).await;
    let id = s.app.fake.push_my_chat_member(GROUP, STRANGER, true);
    handled(&s.app, id).await;
    let ask = s.app.fake.sent_to(OWNER);
    let press = s
        .app
        .fake
        .push_callback(OWNER, &format!("/disable {GROUP}"), ask[0].message_id);
    let leave = s.app.fake.wait_for_call("leaveChat", WAIT).await;
    assert_eq!(leave.params["chat_id"], json!(GROUP));
    handled(&s.app, press).await;
    assert_eq!(group_state(&s.app, GROUP).await, ("disabled".into(), 0));

    let again = s.app.fake.push_my_chat_member(GROUP, STRANGER, true);
    s.app.fake.wait_for_calls("leaveChat", 2, WAIT).await;
    handled(&s.app, again).await;
    assert_eq!(
        s.app.fake.sent_to(OWNER).len(),
        2,
        "the ask and the answer to Deny only"
    );
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn groups_off_makes_the_bot_leave_even_a_group_the_owner_adds() {
    let s = start(&[("GROUPS", "off")]).await;
    s.app.fake.push_my_chat_member(GROUP, OWNER, true);
    let leave = s.app.fake.wait_for_call("leaveChat", WAIT).await;
    assert_eq!(leave.params["chat_id"], json!(GROUP));
    assert!(s.app.fake.sent_to(GROUP).is_empty());
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn unaddressed_chatter_costs_nothing_and_a_mention_is_answered() {
    let s = start(&[]).await;
    owner_adds(&s.app, GROUP).await;
    s.llm.script([Reply::text("Four.")]);
    s.app
        .fake
        .push_group_text(GROUP, MEMBER, "dinner at eight?");
    s.app
        .fake
        .push_group_text(GROUP, OWNER, "sure, ask the bot later");
    let mut reply_to_other = group_text_message(0, GROUP, OWNER, "yes, Bob");
    reply_to_other["reply_to_message"] = group_text_message(1, GROUP, MEMBER, "Olga?");
    let id = s.app.fake.next_update_id();
    reply_to_other["message_id"] = json!(id);
    s.app
        .fake
        .push_update(json!({"update_id": id, "message": reply_to_other}));
    let asked = s
        .app
        .fake
        .push_group_text(GROUP, MEMBER, &mention("what is 2+2?"));
    handled(&s.app, asked).await;

    assert_eq!(s.llm.requests().len(), 1, "one model call, for the mention");
    let body = s.llm.requests()[0].body.to_string();
    assert!(!body.contains("dinner"), "chatter never reaches the model");
    assert!(
        body.contains(&format!("User{MEMBER}: @{BOT_USERNAME} what is 2+2?")),
        "{body}"
    );
    let sent = sends_to(&s.app, GROUP);
    assert_eq!(sent.len(), 2, "the greeting and one answer");
    assert_eq!(sent[1]["reply_parameters"]["message_id"], json!(asked));
    let history = count(&s.app, "SELECT COUNT(*) FROM chat_history").await;
    assert_eq!(history, 2, "only the mention and its answer are stored");
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn a_reply_to_the_bot_and_a_text_mention_in_a_forum_topic_are_answered_in_that_topic() {
    let s = start(&[]).await;
    owner_adds(&s.app, FORUM).await;
    s.llm
        .script([Reply::text("First."), Reply::text("Second.")]);
    let greeting_id = s.app.fake.sent_to(FORUM)[0].message_id;

    let id = s.app.fake.next_update_id();
    let mut reply = group_text_message(id, FORUM, MEMBER, "and tomorrow?");
    reply["message_thread_id"] = json!(7);
    reply["is_topic_message"] = json!(true);
    reply["reply_to_message"] = json!({"message_id": greeting_id, "date": 1_700_000_000,
        "chat": reply["chat"].clone(), "text": "Hi everyone!",
        "from": {"id": BOT_ID, "is_bot": true, "first_name": "Minicrew Test", "username": BOT_USERNAME}});
    s.app
        .fake
        .push_update(json!({"update_id": id, "message": reply}));
    handled(&s.app, id).await;

    let id2 = s.app.fake.next_update_id();
    let mut named = group_text_message(id2, FORUM, MEMBER, "Mini, your view?");
    named["entities"] = json!([{"type": "text_mention", "offset": 0, "length": 4,
        "user": {"id": BOT_ID, "is_bot": true, "first_name": "Minicrew Test"}}]);
    named["message_thread_id"] = json!(9);
    named["is_topic_message"] = json!(true);
    s.app
        .fake
        .push_update(json!({"update_id": id2, "message": named}));
    handled(&s.app, id2).await;

    let sent = sends_to(&s.app, FORUM);
    assert_eq!(sent.len(), 3, "{}", s.app.fake.summary());
    assert_eq!(sent[1]["message_thread_id"], json!(7));
    assert_eq!(sent[1]["reply_parameters"]["message_id"], json!(id));
    assert_eq!(sent[2]["message_thread_id"], json!(9));
    assert_eq!(sent[2]["reply_parameters"]["message_id"], json!(id2));
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn a_command_for_another_bot_is_ignored_and_one_for_this_bot_is_run() {
    let s = start(&[]).await;
    owner_adds(&s.app, GROUP).await;
    s.app.fake.push_group_text(GROUP, MEMBER, "/help@otherbot");
    let ours = s
        .app
        .fake
        .push_group_text(GROUP, MEMBER, &format!("/help@{BOT_USERNAME}"));
    let bare = s.app.fake.push_group_text(GROUP, MEMBER, "/help");
    handled(&s.app, bare).await;
    let sent = sends_to(&s.app, GROUP);
    assert_eq!(
        sent.len(),
        3,
        "greeting and two help answers: {}",
        s.app.fake.summary()
    );
    assert_eq!(sent[1]["reply_parameters"]["message_id"], json!(ours));
    assert_eq!(sent[2]["reply_parameters"]["message_id"], json!(bare));
    let help = sent[1]["text"].as_str().unwrap_or_default();
    assert!(
        help.contains("/new") && !help.contains("/email"),
        "only what works here: {help}"
    );
    assert_eq!(s.llm.requests().len(), 0);
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn personal_commands_in_a_group_run_nothing_and_point_to_the_private_chat() {
    let s = start(&[]).await;
    owner_adds(&s.app, GROUP).await;
    s.app.fake.push_group_text(GROUP, OWNER, "/email");
    s.app.fake.push_group_text(GROUP, OWNER, "/note list");
    let last = s.app.fake.push_group_text(GROUP, OWNER, "/users");
    handled(&s.app, last).await;
    let sent = s.app.fake.sent_to(GROUP);
    assert_eq!(sent.len(), 4, "{}", s.app.fake.summary());
    for (answer, command) in sent[1..].iter().zip(["/email", "/note", "/users"]) {
        assert_eq!(
            answer.visible_text,
            format!("{command} is personal: use this in our private chat.")
        );
    }
    assert_eq!(
        count(&s.app, "SELECT COUNT(*) FROM tool_logs").await,
        0,
        "nothing ran"
    );
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn the_owners_private_note_never_reaches_the_group_even_when_the_model_asks_for_it() {
    let s = start(&[]).await;
    let saved = s
        .app
        .fake
        .push_text(OWNER, "/note save vault the code is 4711");
    handled(&s.app, saved).await;
    owner_adds(&s.app, GROUP).await;
    s.llm.script([
        Reply::tool("note", json!({"action": "get", "title": "vault"})),
        Reply::text("I can't share that here."),
    ]);
    let asked =
        s.app
            .fake
            .push_group_text(GROUP, MEMBER, &mention("what is in Olga's vault note?"));
    handled(&s.app, asked).await;

    let requests = s.llm.requests();
    assert_eq!(requests.len(), 2);
    let tools: Vec<&str> = requests[0].body["tools"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        !tools.contains(&"note"),
        "no personal tool is offered: {tools:?}"
    );
    let second = requests[1].body.to_string();
    assert!(!second.contains("4711"), "{second}");
    assert!(second.contains("use this in our private chat"), "{second}");
    for m in s.app.fake.sent_to(GROUP) {
        assert!(!m.text.contains("4711"));
    }
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn group_memory_is_separate_from_each_members_private_memory() {
    let s = start(&[]).await;
    owner_adds(&s.app, GROUP).await;
    s.llm.always(Reply::text("Noted."));
    let private = s.app.fake.push_text(OWNER, "My cat is called Miso.");
    handled(&s.app, private).await;
    let group = s
        .app
        .fake
        .push_group_text(GROUP, MEMBER, &mention("the picnic is on Sunday"));
    handled(&s.app, group).await;
    let in_group = s
        .app
        .fake
        .push_group_text(GROUP, OWNER, &mention("what is my cat called?"));
    handled(&s.app, in_group).await;
    let in_private = s.app.fake.push_text(OWNER, "When is the picnic?");
    handled(&s.app, in_private).await;

    let requests = s.llm.requests();
    assert_eq!(requests.len(), 4);
    let group_ask = requests[2].body.to_string();
    assert!(!group_ask.contains("Miso"), "private memory stays private");
    assert!(
        group_ask.contains("the picnic is on Sunday"),
        "the group remembers"
    );
    let private_ask = requests[3].body.to_string();
    assert!(private_ask.contains("Miso"));
    assert!(
        !private_ask.contains("picnic is on Sunday"),
        "group talk stays in the group"
    );
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn new_in_a_group_resets_the_groups_conversation_only() {
    let s = start(&[]).await;
    owner_adds(&s.app, GROUP).await;
    s.llm.always(Reply::text("Noted."));
    let private = s.app.fake.push_text(OWNER, "My cat is called Miso.");
    handled(&s.app, private).await;
    let said = s
        .app
        .fake
        .push_group_text(GROUP, MEMBER, &mention("the picnic is on Sunday"));
    handled(&s.app, said).await;
    let reset = s.app.fake.push_group_text(GROUP, MEMBER, "/new");
    handled(&s.app, reset).await;
    let asked = s.app.fake.push_group_text(GROUP, MEMBER, &mention("when?"));
    handled(&s.app, asked).await;
    let private_again = s.app.fake.push_text(OWNER, "And my cat?");
    handled(&s.app, private_again).await;
    let requests = s.llm.requests();
    assert_eq!(requests.len(), 4);
    assert!(!requests[2].body.to_string().contains("picnic is on Sunday"));
    assert!(
        requests[3].body.to_string().contains("Miso"),
        "the owner's memory is untouched"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn the_group_budget_stops_the_group_not_its_members_in_private() {
    // Every fake answer costs 18 tokens: one call spends the whole allowance.
    let s = start(&[("USER_DAILY_TOKEN_LIMIT", "10")]).await;
    s.llm.always(Reply::text("Sure."));
    let start = s.app.fake.push_text(MEMBER, "/start");
    handled(&s.app, start).await;
    let approve = s.app.fake.push_text(OWNER, &format!("/approve {MEMBER}"));
    handled(&s.app, approve).await;
    owner_adds(&s.app, GROUP).await;

    let first = s.app.fake.push_group_text(GROUP, MEMBER, &mention("one"));
    handled(&s.app, first).await;
    let second = s.app.fake.push_group_text(GROUP, OWNER, &mention("two"));
    handled(&s.app, second).await;
    assert_eq!(
        s.llm.requests().len(),
        1,
        "the group's allowance is spent, even for the owner"
    );
    let refusal = s
        .app
        .fake
        .sent_to(GROUP)
        .last()
        .unwrap()
        .visible_text
        .clone();
    assert!(
        refusal.starts_with("This group has used today's AI allowance"),
        "{refusal}"
    );

    let private = s.app.fake.push_text(MEMBER, "three");
    handled(&s.app, private).await;
    assert_eq!(
        s.llm.requests().len(),
        2,
        "the member's own allowance is untouched"
    );
    let speaker = count(
        &s.app,
        "SELECT COUNT(*) FROM llm_usage u JOIN groups g ON g.account_id = u.user_id
         WHERE u.speaker = 'User555111'",
    )
    .await;
    assert_eq!(speaker, 1, "the usage row names the group and the speaker");
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn a_group_that_becomes_a_supergroup_keeps_its_conversation() {
    let s = start(&[]).await;
    owner_adds(&s.app, GROUP).await;
    s.llm.always(Reply::text("Got it."));
    let said = s
        .app
        .fake
        .push_group_text(GROUP, MEMBER, &mention("the code word is pineapple"));
    handled(&s.app, said).await;
    let id = s.app.fake.next_update_id();
    s.app.fake.push_update(json!({"update_id": id, "message": {
        "message_id": id, "date": 1_700_000_000, "chat": {"id": GROUP, "type": "group", "title": "Group"},
        "from": {"id": MEMBER, "is_bot": false, "first_name": "Member"},
        "migrate_to_chat_id": FORUM}}));
    handled(&s.app, id).await;
    let asked = s
        .app
        .fake
        .push_group_text(FORUM, MEMBER, &mention("what is the code word?"));
    handled(&s.app, asked).await;

    assert_eq!(group_state(&s.app, FORUM).await, ("active".into(), 1));
    let requests = s.llm.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].body.to_string().contains("pineapple"));
    assert_eq!(
        sends_to(&s.app, FORUM).len(),
        1,
        "the answer goes to the new chat"
    );
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn the_owner_lists_groups_with_state_and_usage() {
    let s = start(&[]).await;
    owner_adds(&s.app, GROUP).await;
    let pending = s.app.fake.push_my_chat_member(FORUM, STRANGER, true);
    handled(&s.app, pending).await;
    let list = s.app.fake.push_text(OWNER, "/groups");
    handled(&s.app, list).await;
    let text = s
        .app
        .fake
        .sent_to(OWNER)
        .last()
        .unwrap()
        .visible_text
        .clone();
    assert!(
        text.contains(&format!("Group{GROUP} {GROUP}: active")),
        "{text}"
    );
    assert!(text.contains(&format!("{FORUM}: pending")), "{text}");
    assert!(text.contains("today 0 tokens"), "{text}");
    let users = s.app.fake.push_text(OWNER, "/users");
    handled(&s.app, users).await;
    let text = s
        .app
        .fake
        .sent_to(OWNER)
        .last()
        .unwrap()
        .visible_text
        .clone();
    assert!(
        !text.contains("Group"),
        "a group is not listed as a user: {text}"
    );
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn a_group_the_bot_has_no_record_of_is_not_answered_but_put_to_the_owner() {
    let s = start(&[]).await;
    let asked = s
        .app
        .fake
        .push_group_text(GROUP, MEMBER, &mention("hello?"));
    handled(&s.app, asked).await;
    assert_eq!(group_state(&s.app, GROUP).await, ("pending".into(), 1));
    assert!(s.app.fake.sent_to(GROUP).is_empty());
    let ask = s.app.fake.sent_to(OWNER);
    assert_eq!(ask.len(), 1, "{}", s.app.fake.summary());
    assert!(ask[0].visible_text.contains(&format!("Group{GROUP}")));
    let chatter = s.app.fake.push_group_text(-4_999, MEMBER, "just talking");
    handled(&s.app, chatter).await;
    assert_eq!(
        count(&s.app, "SELECT COUNT(*) FROM groups").await,
        1,
        "chatter records nothing"
    );
    assert_eq!(s.llm.requests().len(), 0);
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn a_confirm_button_is_never_shown_in_a_group_where_any_member_could_press_it() {
    let (fake, dir) = (FakeTelegram::start().await, tempfile::tempdir().unwrap());
    let config = Config::from_reader(&test_env(&fake, &dir, &[]), Purpose::Daemon).unwrap();
    let app = App::build(config).await.unwrap();
    let services = app.services();
    let owner = app.owner().clone();
    // After a page entered the turn, fetching an address nobody said needs a Confirm button.
    let fetch = |chat| {
        let caller = Caller {
            user: &owner,
            chat,
            source: CallSource::Llm,
            untrusted_turn: true,
            seen_text: "a page",
            once: None,
        };
        let tool = services.tools.get("web_fetch").unwrap();
        let args = json!({"url": "https://example.org/?q=secret"});
        async move { invoke(services, &caller, &*tool, args).await }
    };
    assert!(matches!(
        fetch(ChatKind::Private).await,
        Outcome::NeedsConfirm { .. }
    ));
    match fetch(ChatKind::Group).await {
        Outcome::NotRun(text) => assert!(text.contains("only in private chats"), "{text}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let pending = services
        .store
        .call(|c| {
            c.query_row("SELECT COUNT(*) FROM pending_actions", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .await
        .unwrap();
    assert_eq!(pending, 1, "only the private chat's button exists");
}

#[tokio::test]
async fn a_family_of_three_talks_to_the_bot_by_mention_and_nothing_private_shows_up() {
    const KID: i64 = 555_222;
    let s = start(&[]).await;
    s.llm.always(Reply::text("Happy to help."));
    let saved = s
        .app
        .fake
        .push_text(OWNER, "/note save diary private thoughts 9917");
    handled(&s.app, saved).await;
    let private = s.app.fake.push_text(OWNER, "My bank PIN hint is mango.");
    handled(&s.app, private).await;
    owner_adds(&s.app, GROUP).await;
    for n in 0..50 {
        s.app
            .fake
            .push_group_text(GROUP, [OWNER, MEMBER, KID][n % 3], &format!("chatter {n}"));
    }
    let mut asked = Vec::new();
    for (who, text) in [
        (OWNER, "plan dinner"),
        (MEMBER, "any dessert?"),
        (KID, "and games?"),
    ] {
        asked.push(s.app.fake.push_group_text(GROUP, who, &mention(text)));
    }
    handled(&s.app, *asked.last().unwrap()).await;

    let requests = s.llm.requests();
    assert_eq!(
        requests.len(),
        1 + 3,
        "one call for the private message and one per mention"
    );
    let last = requests[3].body.to_string();
    for said in [
        format!("User{OWNER}: @{BOT_USERNAME} plan dinner"),
        format!("User{MEMBER}: @{BOT_USERNAME} any dessert?"),
        format!("User{KID}: @{BOT_USERNAME} and games?"),
    ] {
        assert!(last.contains(&said), "each turn names its speaker: {said}");
    }
    assert!(last.contains("the members of a group chat"), "{last}");
    assert!(
        !last.contains(&format!("Group{GROUP}")),
        "the title is not an instruction"
    );
    for secret in ["9917", "mango", "chatter"] {
        assert!(
            !last.contains(secret),
            "{secret} reached the group's model call"
        );
    }
    let answers = sends_to(&s.app, GROUP);
    assert_eq!(answers.len(), 4, "the greeting and three answers");
    for (answer, id) in answers[1..].iter().zip(&asked) {
        assert_eq!(answer["reply_parameters"]["message_id"], json!(id));
    }
    let rows = count(
        &s.app,
        "SELECT COUNT(*) FROM chat_history h JOIN groups g ON g.account_id = h.user_id",
    )
    .await;
    assert_eq!(
        rows, 6,
        "three turns and three answers; the chatter left no row"
    );
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn the_group_rate_limit_slows_the_group_not_its_members_in_private() {
    let s = start(&[("USER_RATE_LIMIT_PER_MIN", "2")]).await;
    s.llm.always(Reply::text("Sure."));
    let start = s.app.fake.push_text(MEMBER, "/start");
    handled(&s.app, start).await;
    let approve = s.app.fake.push_text(OWNER, &format!("/approve {MEMBER}"));
    handled(&s.app, approve).await;
    owner_adds(&s.app, GROUP).await;
    let mut last = 0;
    for n in 0..4 {
        last = s
            .app
            .fake
            .push_group_text(GROUP, MEMBER, &mention(&format!("question {n}")));
    }
    handled(&s.app, last).await;
    let texts: Vec<String> = s
        .app
        .fake
        .sent_to(GROUP)
        .into_iter()
        .map(|m| m.visible_text)
        .collect();
    assert_eq!(
        texts.len(),
        1 + 2 + 1,
        "greeting, two answers, one warning: {texts:?}"
    );
    assert!(texts[3].contains("faster than I may answer"), "{texts:?}");
    assert_eq!(s.llm.requests().len(), 2);
    let private = s.app.fake.push_text(MEMBER, "still there?");
    handled(&s.app, private).await;
    assert_eq!(
        s.llm.requests().len(),
        3,
        "the member's own rate is untouched"
    );
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}

#[tokio::test]
async fn typing_for_a_slow_answer_in_a_forum_topic_is_shown_in_that_topic() {
    let s = start(&[]).await;
    owner_adds(&s.app, FORUM).await;
    s.llm.script([Reply::delayed(
        Duration::from_millis(1500),
        Reply::text("Thought it over."),
    )]);
    let id = s.app.fake.next_update_id();
    let mut asked = group_text_message(id, FORUM, MEMBER, &mention("think hard"));
    asked["message_thread_id"] = json!(7);
    asked["is_topic_message"] = json!(true);
    s.app
        .fake
        .push_update(json!({"update_id": id, "message": asked}));
    let action = s.app.fake.wait_for_call("sendChatAction", WAIT).await;
    assert_eq!(action.params["action"], "typing");
    assert_eq!(action.params["chat_id"], json!(FORUM));
    assert_eq!(action.params["message_thread_id"], json!(7));
    handled(&s.app, id).await;
    s.app.fake.assert_no_violations();
    s.app.stop().await;
}
