//! How a whole reply can fail, and the one short sentence a user sees for it.

use super::ProviderKind;
use super::error::LlmError;

/// One provider that gave up during a reply, and its last error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFailure {
    /// The provider.
    pub kind: ProviderKind,
    /// Its last error (retries exhausted or not retryable).
    pub error: LlmError,
}

/// A reply that could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouterError {
    /// No provider is configured at all.
    #[error("no LLM provider is configured")]
    NoProviders,
    /// Every provider failed, in the order tried.
    #[error("all LLM providers failed: {}", describe(.0))]
    AllFailed(Vec<ProviderFailure>),
    /// The cancellation token fired (`/cancel`). Shutdown does not cancel a running request: it
    /// gets the shutdown grace to finish, else it resumes at the next start.
    #[error("cancelled")]
    Cancelled,
    /// Shutdown came while waiting to try a provider again: the message stays pending and is
    /// answered at the next start.
    #[error(transparent)]
    Stopped(#[from] crate::shutdown_pause::Stopped),
    /// The model kept calling tools past the round limit.
    #[error("tool loop stopped after {0} rounds")]
    ToolLoopLimit(usize),
    /// The model answered with no text at all.
    #[error("the model returned an empty answer")]
    EmptyReply,
    /// The user has spent today's allowance (`USER_DAILY_TOKEN_LIMIT`); no model was called.
    #[error("the daily token allowance is used up")]
    OverBudget,
    /// Today's usage could not be read, so no model was called (the cause is logged).
    #[error("today's token usage could not be read")]
    BudgetUnknown,
    /// The message has images and no configured provider's model accepts them (the configured
    /// providers, whose `*_VISION` setting would turn it on).
    #[error("no configured model accepts images")]
    NoVision(Vec<ProviderKind>),
}

/// What a user over their daily allowance is told, whichever command or message spent it.
pub const OVER_BUDGET_REPLY: &str = "You've used today's AI allowance; it resets at midnight. \
     Your messages are kept, and /commands that need no AI still work.";

fn describe(failures: &[ProviderFailure]) -> String {
    let parts: Vec<String> = failures
        .iter()
        .map(|f| format!("{}: {}", f.kind, f.error))
        .collect();
    parts.join("; ")
}

impl RouterError {
    /// One short sentence for the user: never a raw error, JSON or key.
    pub fn user_message(&self) -> String {
        match self {
            Self::NoProviders => {
                "No AI provider is configured yet, so I can only run /commands.".into()
            }
            Self::AllFailed(failures) => all_failed_message(failures),
            Self::Cancelled => "Cancelled.".into(),
            Self::Stopped(_) => "I'm restarting; please ask again in a minute.".into(),
            Self::ToolLoopLimit(_) => {
                "That needed too many tool steps, so I stopped; please try a simpler request."
                    .into()
            }
            Self::EmptyReply => "The AI returned an empty answer; please rephrase.".into(),
            Self::OverBudget => OVER_BUDGET_REPLY.into(),
            Self::BudgetUnknown => {
                "I couldn't check today's AI allowance; please try again in a minute.".into()
            }
            Self::NoVision(kinds) => no_vision_message(kinds),
        }
    }
}

fn no_vision_message(kinds: &[ProviderKind]) -> String {
    let keys: Vec<String> = kinds
        .iter()
        .map(|k| format!("{}=true", k.vision_key()))
        .collect();
    format!(
        "None of the configured AI models can see images, so I can't look at your photo. If \
         your model can, the owner can turn it on with {} in .env (then restart); or add a \
         provider whose model can, such as Claude (ANTHROPIC_API_KEY) or Gemini \
         (GEMINI_API_KEY).",
        keys.join(" or ")
    )
}

fn all_failed_message(failures: &[ProviderFailure]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for f in failures {
        if !names.contains(&f.kind.display_name()) {
            names.push(f.kind.display_name());
        }
    }
    let (subject, verb) = match names.as_slice() {
        [] => ("The AI provider".to_string(), "is"),
        [one] => (one.to_string(), "is"),
        [a, b] => (format!("{a} and {b}"), "are both"),
        [rest @ .., last] => (format!("{} and {last}", rest.join(", ")), "are all"),
    };
    let permanent = failures
        .iter()
        .all(|f| matches!(f.error, LlmError::Auth(_) | LlmError::Quota(_)));
    if permanent {
        format!(
            "{subject} {verb} refusing our API key or quota; your message is saved, the owner needs to check the settings."
        )
    } else {
        format!(
            "{subject} {verb} unavailable right now; your message is saved, try again in a minute."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(kinds: &[(ProviderKind, LlmError)]) -> RouterError {
        RouterError::AllFailed(
            kinds
                .iter()
                .map(|(kind, error)| ProviderFailure {
                    kind: *kind,
                    error: error.clone(),
                })
                .collect(),
        )
    }

    #[test]
    fn outage_message_names_the_providers() {
        let err = failed(&[
            (ProviderKind::Claude, LlmError::Overloaded),
            (ProviderKind::Gemini, LlmError::Timeout),
        ]);
        assert_eq!(
            err.user_message(),
            "Claude and Gemini are both unavailable right now; your message is saved, try again in a minute."
        );
        let three = failed(&[
            (ProviderKind::Claude, LlmError::Overloaded),
            (ProviderKind::Gemini, LlmError::Auth(401)),
            (ProviderKind::OpenAi, LlmError::Server(502)),
        ]);
        assert!(
            three
                .user_message()
                .starts_with("Claude, Gemini and OpenAI-compatible are all")
        );
    }

    #[test]
    fn key_problems_point_at_the_settings() {
        let err = failed(&[(ProviderKind::Claude, LlmError::Auth(401))]);
        assert!(err.user_message().contains("refusing our API key"));
    }
}
