//! Running one tool: access check, timing, the `tool_logs` row, and turning errors into replies.

use std::time::Instant;

use serde_json::Value;

use crate::services::Services;
use crate::store::ToolLog;
use crate::tools::{CallSource, Tool, ToolContext, ToolError, ToolOutput};
use crate::users::User;

/// Runs `tool` for `user`, records it in `tool_logs`, and returns its output or the error.
#[tracing::instrument(skip_all, fields(tool = tool.name(), user_id = user.id, source = source.as_str()))]
pub async fn run_tool(
    services: &Services,
    user: &User,
    tool: &dyn Tool,
    args: Value,
    source: CallSource,
) -> Result<ToolOutput, ToolError> {
    let started = Instant::now();
    let ctx = ToolContext {
        user,
        services,
        source,
    };
    let arguments = args.to_string();
    let result = tool.call(&ctx, args).await;
    let error = result.as_ref().err().map(ToString::to_string);
    let log = ToolLog {
        user_id: user.id,
        tool: tool.name().to_string(),
        arguments,
        source: source.as_str(),
        error,
        duration_ms: started.elapsed().as_millis() as i64,
    };
    if let Err(e) = services.store.log_tool_call(log).await {
        tracing::warn!(error = %e, "could not record tool call");
    }
    result
}

/// The one short reply a user sees for a failed tool call. Internal errors are logged here, once.
pub fn error_reply(tool: &str, err: &ToolError) -> String {
    match err {
        ToolError::InvalidArguments(msg) | ToolError::Failed(msg) => msg.clone(),
        ToolError::Store(e) => {
            tracing::error!(tool, error = %e, "tool failed on the database");
            "I couldn't reach my database just now. Please try again in a moment.".to_string()
        }
        ToolError::Unexpected(e) => {
            tracing::error!(tool, error = %e, "tool failed");
            format!("Something went wrong running /{tool}. It has been logged.")
        }
    }
}
