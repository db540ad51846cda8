//! Whether a message in a group addresses the bot: it mentions `@botname` (anywhere in the
//! text), names the bot by a `text_mention`, replies to one of the bot's messages, or is a
//! command that is not addressed to another bot (`/help` and `/help@botname` are; `/help@other`
//! is not). Button presses on the bot's messages are addressed too. Everything else is chatter,
//! which costs nothing: it is not stored, answered or sent to a model.

use super::BotIdentity;
use crate::message::{Content, GroupMessage, Incoming};

/// Whether `incoming`, said in a group, addresses the bot `me`.
pub fn addressed(incoming: &Incoming, group: &GroupMessage, me: &BotIdentity) -> bool {
    let text = match &incoming.content {
        Content::Callback { .. } => return true,
        Content::Text(text) => text.as_str(),
        _ => "",
    };
    if let Some(target) = command_target(text) {
        return target.is_none_or(|bot| bot.eq_ignore_ascii_case(&me.username));
    }
    group.mentions.contains(&me.username)
        || group.text_mentions.contains(&me.id)
        || group.reply_to_user == Some(me.id)
        || mentions_in_text(text, &me.username)
}

/// For a `/command[@bot]` text: `Some(None)` for a bare command, `Some(Some(bot))` for one
/// addressed to `bot`; `None` when the text is not a command.
fn command_target(text: &str) -> Option<Option<&str>> {
    let head = text.trim_start().strip_prefix('/')?;
    let head = head.split(char::is_whitespace).next().unwrap_or(head);
    let (name, bot) = match head.split_once('@') {
        Some((name, bot)) => (name, Some(bot)),
        None => (head, None),
    };
    let is_command =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_command.then_some(bot)
}

/// Whether `@username` appears in `text` as a word of its own (a message forwarded without its
/// entities still counts; `@username_fan` does not).
fn mentions_in_text(text: &str, username: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let needle = format!("@{username}");
    lower.match_indices(&needle).any(|(at, _)| {
        let after = lower[at + needle.len()..].chars().next();
        !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChatId;

    fn me() -> BotIdentity {
        BotIdentity::new(99, "Mini_Bot")
    }

    fn said(text: &str, group: GroupMessage) -> bool {
        let mut incoming = Incoming::text(ChatId(-1), "Ada", text);
        incoming.group = Some(group.clone());
        addressed(&incoming, &group, &me())
    }

    #[test]
    fn chatter_is_not_addressed() {
        assert!(!said("dinner at eight?", GroupMessage::default()));
        assert!(!said("ask @mini_bot_fan", GroupMessage::default()));
        assert!(!said(
            "a reply to Bob",
            GroupMessage {
                reply_to_user: Some(5),
                ..GroupMessage::default()
            }
        ));
    }

    #[test]
    fn mentions_replies_and_text_mentions_are_addressed() {
        let mention = GroupMessage {
            mentions: vec!["mini_bot".into()],
            ..GroupMessage::default()
        };
        assert!(said("what is 2+2, @Mini_Bot?", mention));
        assert!(said("hey @MINI_BOT, hi", GroupMessage::default()));
        assert!(said(
            "this",
            GroupMessage {
                reply_to_user: Some(99),
                ..GroupMessage::default()
            }
        ));
        assert!(said(
            "Mini, hi",
            GroupMessage {
                text_mentions: vec![99],
                ..GroupMessage::default()
            }
        ));
    }

    #[test]
    fn commands_for_this_bot_or_no_bot_are_addressed_and_others_are_not() {
        assert!(said("/help", GroupMessage::default()));
        assert!(said("/help@mini_bot", GroupMessage::default()));
        assert!(!said("/help@otherbot", GroupMessage::default()));
        assert!(!said("/help@otherbot @mini_bot", GroupMessage::default()));
    }
}
