//! What a tool does to the world ([`Effect`]), where it may run ([`Where`]), and the one access
//! rule built on them: who may run an effect at all. The invocation path in `dispatch::invoke`
//! adds the rest (who is asking: a typed command, the model, a schedule, a confirm button).

use std::fmt;

use crate::users::User;

/// What running a tool does. Ordered from harmless to powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    /// Only reads (help, usage, fetch a page, summarise email).
    Read,
    /// Changes the user's own data in the bot (notes, reminders, schedules, timezone, model).
    Write,
    /// Acts for the user in the world outside the bot (calendar events, MCP tools).
    Outside,
    /// Owner powers (approve, disable, list users, everyone's usage). Never offered to the model.
    Admin,
}

impl Effect {
    /// The name used in logs and the README.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Outside => "outside",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a tool may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    /// Only in the user's private chat with the bot: anything touching their own data.
    Private,
    /// Also in approved groups.
    Any,
}

/// The kind of chat a call comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    /// A user's private chat with the bot (and the terminal channel).
    Private,
    /// A group or supergroup.
    Group,
}

impl Where {
    /// Whether a tool with this rule may run in `chat`.
    pub fn allows(self, chat: ChatKind) -> bool {
        matches!(
            (self, chat),
            (Self::Any, _) | (Self::Private, ChatKind::Private)
        )
    }
}

/// Whether `user` may run a tool with `effect` at all: admin tools are the owner's, everything
/// else needs an active user. The one place this rule is written.
pub fn may_run(user: &User, effect: Effect) -> bool {
    match effect {
        Effect::Admin => user.is_owner(),
        Effect::Read | Effect::Write | Effect::Outside => user.is_active(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_tools_do_not_run_in_groups() {
        assert!(Where::Private.allows(ChatKind::Private));
        assert!(!Where::Private.allows(ChatKind::Group));
        assert!(Where::Any.allows(ChatKind::Group));
    }

    #[test]
    fn effects_are_ordered_by_power() {
        assert!(Effect::Read < Effect::Write);
        assert!(Effect::Write < Effect::Outside);
        assert!(Effect::Outside < Effect::Admin);
    }
}
