//! Turning a tool's error into the one short reply a user (or the model) sees.

use crate::tools::ToolError;

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
