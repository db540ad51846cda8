//! The tool registry: looks tools up by name and derives `/help`, the Telegram command menu and
//! the LLM tool specs from the one list, so there is no second list to forget.

use std::collections::BTreeMap;

use super::Tool;
use crate::llm::ToolSpec;
use crate::users::{User, may_use};

/// A command as shown in menus.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommandInfo {
    /// Command without the slash.
    pub command: String,
    /// One-line description.
    pub description: String,
}

/// All tools, by name.
pub struct ToolRegistry {
    tools: Vec<Box<dyn Tool>>,
    by_name: BTreeMap<&'static str, usize>,
    by_command: BTreeMap<&'static str, usize>,
}

impl ToolRegistry {
    /// Builds the registry from a list (normally [`super::all_tools`]).
    pub fn new(tools: Vec<Box<dyn Tool>>) -> Self {
        let index = |key: fn(&dyn Tool) -> &'static str| {
            tools
                .iter()
                .enumerate()
                .map(|(i, t)| (key(t.as_ref()), i))
                .collect()
        };
        let (by_name, by_command) = (index(|t| t.name()), index(|t| t.command()));
        Self {
            tools,
            by_name,
            by_command,
        }
    }

    /// The tool whose function name is `name` (LLM calls, schedules).
    pub fn get(&self, name: &str) -> Option<&dyn Tool> {
        self.by_name.get(name).map(|&i| self.tools[i].as_ref())
    }

    /// The tool run by `/command`.
    pub fn by_command(&self, command: &str) -> Option<&dyn Tool> {
        self.by_command
            .get(command)
            .map(|&i| self.tools[i].as_ref())
    }

    /// Tools `user` may run, in list order.
    pub fn visible_to<'a>(&'a self, user: &'a User) -> impl Iterator<Item = &'a dyn Tool> + 'a {
        self.tools
            .iter()
            .map(AsRef::as_ref)
            .filter(move |t| may_use(user, t.access()))
    }

    /// The command menu every approved user sees (owner-only tools left out).
    pub fn menu(&self) -> Vec<CommandInfo> {
        self.tools
            .iter()
            .filter(|t| t.access() == crate::users::Access::User)
            .map(|t| CommandInfo {
                command: t.command().to_string(),
                description: t.description().to_string(),
            })
            .collect()
    }

    /// Specs of the tools the LLM may call for `user`.
    pub fn llm_specs(&self, user: &User) -> Vec<ToolSpec> {
        self.visible_to(user)
            .filter(|t| t.llm_callable())
            .map(|t| ToolSpec {
                name: t.name().to_string(),
                description: t.description().to_string(),
                parameters: t.parameters(),
            })
            .collect()
    }
}
