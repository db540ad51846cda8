//! Rounds of the tool loop that completed for an update, read back when the update is replayed
//! after a crash: the model is not asked (nor billed) twice for the same round. A round is
//! written with its `llm_usage` row in one transaction (see `Fallback`).

use serde::{Deserialize, Serialize};

use super::fallback::Answer;
use super::types::LlmResponse;
use crate::store::{StepKey, Store};

/// A completed round as stored.
#[derive(Debug, Serialize, Deserialize)]
struct Round {
    provider: String,
    model: String,
    response: LlmResponse,
}

/// The journal step of round `round` of update `update_id`.
pub(super) fn round_key(update_id: i64, round: usize) -> StepKey {
    StepKey::new(update_id, format!("round:{round}"))
}

/// The stored form of a round's answer.
pub(super) fn round_value(provider: &str, model: &str, response: &LlmResponse) -> String {
    let round = Round {
        provider: provider.to_string(),
        model: model.to_string(),
        response: response.clone(),
    };
    serde_json::to_string(&round).unwrap_or_default()
}

/// The answer of a round that completed before, if any (an unreadable entry counts as none).
pub(super) async fn replayed_round(store: &Store, key: &StepKey) -> Option<Answer> {
    let value = match store.journal_get(key).await {
        Ok(value) => value?,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the journal; asking the model again");
            return None;
        }
    };
    let round: Round = serde_json::from_str(&value).ok()?;
    Some(Answer {
        provider: round.provider.parse().ok()?,
        model: round.model,
        response: round.response,
    })
}
