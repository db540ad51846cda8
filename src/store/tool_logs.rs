//! The `tool_logs` table: one row per tool call, from a command, the LLM or a schedule.

use rusqlite::params;

use super::{Store, StoreError, now_unix};
use crate::ids::UserId;

/// A finished tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolLog {
    /// Who ran it.
    pub user_id: UserId,
    /// Tool name.
    pub tool: String,
    /// Arguments as JSON.
    pub arguments: String,
    /// `command`, `llm` or `schedule`.
    pub source: &'static str,
    /// The error, if it failed.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

impl Store {
    /// Records a tool call.
    pub async fn log_tool_call(&self, log: ToolLog) -> Result<(), StoreError> {
        self.call(move |c| {
            let status = if log.error.is_some() { "error" } else { "ok" };
            c.prepare_cached(
                "INSERT INTO tool_logs (user_id, tool, arguments, source, status, error, duration_ms, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?.execute(params![log.user_id, log.tool, log.arguments, log.source, status, log.error, log.duration_ms, now_unix()],
            )?;
            Ok(())
        })
        .await
    }
}
