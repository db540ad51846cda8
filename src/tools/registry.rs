//! The tool registry: looks tools up by name and derives `/help`, the Telegram command menu and
//! the LLM tool specs from the one list, so there is no second list to forget. The
//! [`Catalogue`] is the read-only view of that list that tools themselves may see.

use std::collections::BTreeMap;

use super::{Effect, Tool, may_run};
use crate::llm::ToolSpec;
use crate::users::User;

/// A command as shown in menus.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommandInfo {
    /// Command without the slash.
    pub command: String,
    /// One-line description.
    pub description: String,
}

/// What is known about a tool without being able to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolInfo {
    /// Function name (LLM calls, schedules).
    pub name: &'static str,
    /// Chat command without the slash.
    pub command: &'static str,
    /// How to call it as a command.
    pub usage: &'static str,
    /// One line for `/help`.
    pub description: &'static str,
    /// Its strongest effect.
    pub effect: Effect,
    /// Shown by `/help` (model-only tools are not).
    pub listed: bool,
}

/// Names, usage and effects of every tool, in list order.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    tools: Vec<ToolInfo>,
}

impl Catalogue {
    /// The tool run by `/word` or called `word`.
    pub fn find(&self, word: &str) -> Option<&ToolInfo> {
        let by = |f: fn(&ToolInfo) -> &'static str| self.tools.iter().find(|t| f(t) == word);
        by(|t| t.command).or_else(|| by(|t| t.name))
    }

    /// Tools `user` may run, in list order.
    pub fn visible_to<'a>(&'a self, user: &'a User) -> impl Iterator<Item = &'a ToolInfo> + 'a {
        self.tools
            .iter()
            .filter(move |t| t.listed && may_run(user, t.effect))
    }
}

/// All tools, by name.
pub struct ToolRegistry {
    tools: Vec<Box<dyn Tool>>,
    by_name: BTreeMap<&'static str, usize>,
    by_command: BTreeMap<&'static str, usize>,
    catalogue: Catalogue,
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
        let catalogue = Catalogue {
            tools: tools
                .iter()
                .map(|t| ToolInfo {
                    name: t.name(),
                    command: t.command(),
                    usage: t.usage(),
                    description: t.description(),
                    effect: t.effect(),
                    listed: t.listed(),
                })
                .collect(),
        };
        Self {
            tools,
            by_name,
            by_command,
            catalogue,
        }
    }

    /// The tool whose function name is `name` (LLM calls, schedules, confirm buttons).
    pub fn get(&self, name: &str) -> Option<&dyn Tool> {
        self.by_name.get(name).map(|&i| self.tools[i].as_ref())
    }

    /// The tool run by `/command`.
    pub fn by_command(&self, command: &str) -> Option<&dyn Tool> {
        self.by_command
            .get(command)
            .map(|&i| self.tools[i].as_ref())
    }

    /// The read-only view tools get.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The command menu every approved user sees (admin tools left out).
    pub fn menu(&self) -> Vec<CommandInfo> {
        self.tools
            .iter()
            .filter(|t| t.effect() != Effect::Admin && t.listed())
            .map(|t| CommandInfo {
                command: t.command().to_string(),
                description: t.description().to_string(),
            })
            .collect()
    }

    /// Specs of the tools the model may be offered for `user`: never an admin tool, whoever the
    /// user is; write and outside tools are offered but may end in a confirm button.
    pub fn llm_specs(&self, user: &User) -> Vec<ToolSpec> {
        self.tools
            .iter()
            .map(AsRef::as_ref)
            .filter(|t| {
                t.llm_callable() && t.effect() != Effect::Admin && may_run(user, t.effect())
            })
            .map(|t| ToolSpec {
                name: t.name().to_string(),
                description: t.description().to_string(),
                parameters: t.parameters(),
            })
            .collect()
    }
}
