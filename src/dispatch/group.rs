//! Messages said in a group. Chatter that does not address the bot costs nothing: no row, no
//! model call, no reply. An addressed message in an active group runs as the group's account
//! (one conversation, one budget and one rate limit per group; see `store::groups`) in a chat of
//! kind [`ChatKind::Group`], so personal tools refuse and the model is offered only tools that
//! may run anywhere. Each turn is stored with the speaker's name; answers quote the message they
//! answer, in its forum topic. Approving a group makes none of its members a user: who speaks
//! in a group changes nothing in private.

use super::free_text::{Place, answer_in};
use super::{Dispatcher, parse_command, parse_press};
use crate::groups::gate::addressed;
use crate::groups::membership::{Rules, on_unknown_group};
use crate::groups::{GroupState, GroupsMode};
use crate::llm::OVER_BUDGET_REPLY;
use crate::message::{Content, GroupMessage, Incoming, Reply};
use crate::store::StoreError;
use crate::tools::ChatKind;
use crate::users::RateDecision;

/// What a group hears once its daily allowance is spent (the private wording says "you").
pub const GROUP_OVER_BUDGET_REPLY: &str = "This group has used today's AI allowance; it resets \
     at midnight. /commands that need no AI still work, and everyone's private chat is unaffected.";

/// Handles a message said in a group; see the module docs.
pub(super) async fn route(
    dispatcher: &Dispatcher,
    incoming: &Incoming,
    group: &GroupMessage,
) -> Result<Vec<Reply>, StoreError> {
    let services = dispatcher.services();
    let Some(me) = services.bot_identity.get() else {
        tracing::warn!("the bot's username is unknown; group messages wait for getMe");
        return Ok(Vec::new());
    };
    if !addressed(incoming, group, me) {
        return Ok(Vec::new());
    }
    let store = &services.store;
    let Some((state, account)) = store
        .group_with_account(incoming.chat_id)
        .await?
        .map(|(g, account)| (g.state, account))
    else {
        tracing::info!(
            chat_id = %incoming.chat_id,
            "a group the bot has no record of; asking the owner"
        );
        let config = &services.config;
        let timezone = config.timezone.to_string();
        let rules = Rules {
            owner_chat_id: config.owner_chat_id,
            mode: config.groups,
            timezone: &timezone,
            me: Some(me),
        };
        return on_unknown_group(store, rules, incoming.chat_id, &group.title).await;
    };
    if state != GroupState::Active {
        return Ok(Vec::new());
    }
    if services.config.groups == GroupsMode::Off {
        // `GROUPS=off` since the group was approved: the bot leaves it.
        store
            .set_group_state(incoming.chat_id, GroupState::Disabled, None)
            .await?;
        return Ok(Vec::new());
    }
    let mut replies = match services.user_rate_limit.check(account.id) {
        RateDecision::Allow => answer(dispatcher, incoming, &account).await?,
        RateDecision::Warn => vec![Reply::plain(
            account.chat_id,
            "This group is sending me messages faster than I may answer; wait a minute.",
        )],
        RateDecision::Drop => Vec::new(),
    };
    for reply in replies.iter_mut().filter(|r| r.chat_id == incoming.chat_id) {
        reply.reply_to_message_id = Some(group.message_id);
        reply.message_thread_id = group.thread_id;
        if reply.text == OVER_BUDGET_REPLY {
            reply.text = GROUP_OVER_BUDGET_REPLY.into();
        }
    }
    Ok(replies)
}

/// Answers an addressed message as the group's `account`.
async fn answer(
    dispatcher: &Dispatcher,
    incoming: &Incoming,
    account: &crate::users::User,
) -> Result<Vec<Reply>, StoreError> {
    let services = dispatcher.services();
    let text = match &incoming.content {
        Content::Text(text) => text.as_str(),
        Content::Callback { data, .. } => {
            return match parse_press(data) {
                Some(press) => super::confirm::decide(services, account, &press).await,
                None => Ok(run_line(dispatcher, incoming, account, data)
                    .await?
                    .unwrap_or_default()),
            };
        }
        _ => {
            let text = "In groups I read text only; mention me with your question.";
            return Ok(vec![Reply::plain(account.chat_id, text)]);
        }
    };
    if let Some(replies) = run_line(dispatcher, incoming, account, text).await? {
        return Ok(replies);
    }
    let place = Place {
        chat: ChatKind::Group,
        speaker: Some(&incoming.from_name),
        answers: incoming
            .group
            .as_ref()
            .map(|group| (group.message_id, group.thread_id)),
    };
    answer_in(services, account, incoming.update_id, text, place).await
}

/// Runs `line` as a command in the group; `None` when it is not a known command (free text).
/// `/start` does nothing in a group: a group never asks to become a user.
async fn run_line(
    dispatcher: &Dispatcher,
    incoming: &Incoming,
    account: &crate::users::User,
    line: &str,
) -> Result<Option<Vec<Reply>>, StoreError> {
    let Some(command) = parse_command(line) else {
        return Ok(None);
    };
    if command.name == "start" {
        return Ok(Some(Vec::new()));
    }
    dispatcher
        .run_command(account, incoming.update_id, &command, ChatKind::Group)
        .await
}
