//! The bridge from the LLM's tool calls to the tool registry: the model may call any tool the user
//! may run, through the same `run_tool` path as a command, and its output goes back as the tool
//! result. Messages a tool addresses to other chats are collected and sent with the reply.

use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use super::run_tool::run_tool;
use crate::llm::ToolRunner;
use crate::message::Reply;
use crate::services::Services;
use crate::telegram::format::{TextFormat, html_to_plain};
use crate::tools::CallSource;
use crate::users::{User, may_use};

/// Runs the model's tool calls as `user`.
pub struct RegistryRunner<'a> {
    services: &'a Services,
    user: &'a User,
    notices: Mutex<Vec<Reply>>,
}

impl<'a> RegistryRunner<'a> {
    /// A runner for `user`'s conversation.
    pub fn new(services: &'a Services, user: &'a User) -> Self {
        Self {
            services,
            user,
            notices: Mutex::new(Vec::new()),
        }
    }

    /// Messages the tools addressed to other chats.
    pub fn into_notices(self) -> Vec<Reply> {
        self.notices.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl ToolRunner for RegistryRunner<'_> {
    async fn run(&self, name: &str, arguments: Value) -> Result<String, String> {
        let tool = self
            .services
            .tools
            .get(name)
            .filter(|t| t.llm_callable() && may_use(self.user, t.access()));
        let Some(tool) = tool else {
            return Err(format!(
                "there is no tool called {name} available to this user"
            ));
        };
        match run_tool(self.services, self.user, tool, arguments, CallSource::Llm).await {
            Ok(out) => {
                self.notices
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(out.notices);
                Ok(match out.format {
                    TextFormat::Html => html_to_plain(&out.text),
                    TextFormat::Plain => out.text,
                })
            }
            Err(e) => Err(super::run_tool::error_reply(tool.name(), &e)),
        }
    }
}
