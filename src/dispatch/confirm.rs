//! Confirm buttons: the message that says exactly what the model asked to do, and what happens
//! when its Confirm or Cancel button is pressed. A decision is single use, bound to the user it
//! was shown to, and valid for ten minutes (`store::pending_actions` decides atomically). The
//! outcome is written to the conversation so the model knows what happened on the next turn.

use chrono::Utc;
use serde_json::Value;

use super::invoke::{Caller, Outcome, invoke};
use crate::ids::ChatId;
use crate::message::{Button, Reply};
use crate::services::Services;
use crate::store::{Decision, NewTurn, Speaker, StoreError, Taken};
use crate::tools::{CallSource, ChatKind, ToolOutput};
use crate::users::User;

/// A pressed (or typed) `/confirm <id> <word>` or `/decline <id> <word>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Press {
    /// Confirm or cancel.
    pub decision: Decision,
    /// The pending action's id.
    pub id: i64,
    /// The random word the button carried.
    pub nonce: String,
}

/// Reads a button's command line; `None` when it is something else.
pub fn parse_press(text: &str) -> Option<Press> {
    let mut words = text.split_whitespace();
    let decision = match words.next()? {
        "/confirm" => Decision::Confirm,
        "/decline" => Decision::Cancel,
        _ => return None,
    };
    let id = words.next()?.parse().ok()?;
    let nonce = words.next()?.to_string();
    words.next().is_none().then_some(Press {
        decision,
        id,
        nonce,
    })
}

/// The message that asks the user to confirm `preview` (asked for by the model, or typed by the
/// user), with its two buttons.
pub fn confirm_message(
    chat_id: ChatId,
    id: i64,
    nonce: &str,
    preview: &str,
    by_model: bool,
) -> Reply {
    let text = if by_model {
        format!(
            "The assistant wants to do this for you:\n\n{preview}\n\nPress Confirm only if you \
             asked for it. Nothing happens otherwise; the buttons expire in 10 minutes."
        )
    } else {
        format!(
            "Please confirm:\n\n{preview}\n\nNothing happens unless you press Confirm; the \
             buttons expire in 10 minutes."
        )
    };
    Reply::plain(chat_id, text).with_buttons(vec![vec![
        Button::new("✅ Confirm", format!("/confirm {id} {nonce}")),
        Button::new("✖️ Cancel", format!("/decline {id} {nonce}")),
    ]])
}

/// Handles a press by `user`: runs or drops the action if it is theirs and still open, otherwise
/// says why nothing happened.
pub async fn decide(
    services: &Services,
    user: &User,
    press: &Press,
) -> Result<Vec<Reply>, StoreError> {
    let store = &services.store;
    let taken = store
        .take_pending_action(
            press.id,
            user.id,
            &press.nonce,
            press.decision,
            Utc::now().timestamp(),
        )
        .await?;
    let action = match taken {
        Taken::Decided(action) => action,
        refused => {
            tracing::info!(action_id = press.id, outcome = ?refused, "confirm button refused");
            return Ok(vec![Reply::plain(user.chat_id, refusal(&refused))]);
        }
    };
    let (text, note) = match press.decision {
        Decision::Cancel => (
            "Cancelled: nothing was done.".to_string(),
            format!(
                "(The user pressed Cancel; this was not done: {})",
                action.preview
            ),
        ),
        Decision::Confirm => {
            let (reply, result) =
                run_confirmed(services, user, action.id, &action.tool, &action.arguments).await;
            if services
                .tools
                .get(&action.tool)
                .is_some_and(|t| t.leaves_no_trace())
            {
                // It erased the conversation (and maybe the user): nothing is written after it.
                return Ok(reply);
            }
            let note = format!(
                "(The user pressed Confirm and this was done: {}. Result: {result})",
                action.preview
            );
            return record(services, user, note, reply).await;
        }
    };
    record(services, user, note, vec![Reply::plain(user.chat_id, text)]).await
}

/// Runs a confirmed call through the one invocation path; the replies and a one-line result.
async fn run_confirmed(
    services: &Services,
    user: &User,
    action_id: i64,
    name: &str,
    arguments: &str,
) -> (Vec<Reply>, String) {
    let Some(tool) = services.tools.get(name) else {
        let text = format!("The {name} tool no longer exists; nothing was done.");
        return (vec![Reply::plain(user.chat_id, text.clone())], text);
    };
    let args: Value = serde_json::from_str(arguments).unwrap_or(Value::Null);
    let caller = Caller {
        user,
        chat: ChatKind::Private,
        source: CallSource::Confirm,
        untrusted_turn: false,
        seen_text: "",
        once: Some(&format!("confirm:{action_id}")),
    };
    match invoke(services, &caller, &*tool, args).await {
        Outcome::Ran(out) => {
            let summary = summary_of(&out);
            (out.into_replies(user.chat_id), summary)
        }
        Outcome::NotRun(text) => (vec![Reply::plain(user.chat_id, text.clone())], text),
        Outcome::NeedsConfirm { reply, preview } => (vec![reply], preview),
    }
}

/// The first lines of a tool's answer, for the conversation note.
fn summary_of(out: &ToolOutput) -> String {
    crate::tools::shorten(out.text.trim(), 300)
}

/// Writes `note` to the conversation as the assistant's turn, then returns `replies`.
async fn record(
    services: &Services,
    user: &User,
    note: String,
    replies: Vec<Reply>,
) -> Result<Vec<Reply>, StoreError> {
    let turn = NewTurn {
        content: note,
        ..NewTurn::default()
    };
    services
        .store
        .add_turn(user.id, Speaker::Assistant, turn)
        .await?;
    Ok(replies)
}

/// What a refused press is told.
fn refusal(taken: &Taken) -> &'static str {
    match taken {
        Taken::NotYours => "This button is for someone else; nothing was done.",
        Taken::AlreadyDecided(_) => "This was already decided; nothing more happens.",
        Taken::Expired => {
            "This request expired after 10 minutes; nothing was done. Ask again if you still want it."
        }
        Taken::Unknown | Taken::Decided(_) => "This button is no longer valid; nothing was done.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_lines_parse_and_anything_else_does_not() {
        assert_eq!(
            parse_press("/confirm 12 abcDEF123456"),
            Some(Press {
                decision: Decision::Confirm,
                id: 12,
                nonce: "abcDEF123456".into()
            })
        );
        assert_eq!(
            parse_press("/decline 3 x").map(|p| p.decision),
            Some(Decision::Cancel)
        );
        assert_eq!(parse_press("/confirm"), None);
        assert_eq!(parse_press("/confirm x y"), None);
        assert_eq!(parse_press("/confirm 1 a extra"), None);
        assert_eq!(parse_press("/confirmed 1 a"), None);
    }

    #[test]
    fn the_buttons_fit_telegrams_64_byte_limit() {
        let reply = confirm_message(ChatId(1), i64::MAX, "abcdefghijkl", "Save a note", true);
        for button in reply.buttons.iter().flatten() {
            assert!(button.command.len() <= 64, "{}", button.command);
        }
    }
}
