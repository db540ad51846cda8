//! The tool registry: looks tools up by name and derives `/help`, the Telegram command menu and
//! the LLM tool specs from the one list, so there is no second list to forget. The
//! [`Catalogue`] is the read-only view of that list that tools themselves may see.
//!
//! MCP servers' tools come and go while the bot runs, so they are not in that list: the registry
//! also consults the [`LiveTools`] catalogue by name and for the model's tool list. They are
//! called by the model only, so `/help` and the command menu show `/mcp` instead of each one.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;

use super::{ChatKind, Effect, LiveTools, Tool, Where, may_run};
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
    /// Where it may run.
    pub runs_in: Where,
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

/// A tool found by name: one of the built-in list, or a live MCP tool.
pub enum ToolRef<'a> {
    /// From the list the registry was built with.
    Builtin(&'a (dyn Tool + 'static)),
    /// An MCP server's tool (kept alive while the call runs, even if its server goes away).
    Shared(Arc<dyn Tool>),
}

impl Deref for ToolRef<'_> {
    type Target = dyn Tool;

    fn deref(&self) -> &Self::Target {
        match self {
            Self::Builtin(tool) => *tool,
            Self::Shared(tool) => tool.as_ref(),
        }
    }
}

/// All tools, by name.
pub struct ToolRegistry {
    tools: Vec<Box<dyn Tool>>,
    by_name: BTreeMap<&'static str, usize>,
    by_command: BTreeMap<&'static str, usize>,
    catalogue: Catalogue,
    live: Option<Arc<dyn LiveTools>>,
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
                    runs_in: t.runs_in(),
                    listed: t.listed(),
                })
                .collect(),
        };
        Self {
            tools,
            by_name,
            by_command,
            catalogue,
            live: None,
        }
    }

    /// The registry that also offers these live tools (the MCP servers').
    pub fn with_live_tools(mut self, live: Arc<dyn LiveTools>) -> Self {
        self.live = Some(live);
        self
    }

    /// The tool whose function name is `name` (LLM calls, schedules, confirm buttons): a
    /// built-in tool, else an MCP tool its server offers now.
    pub fn get(&self, name: &str) -> Option<ToolRef<'_>> {
        match self.by_name.get(name) {
            Some(&i) => Some(ToolRef::Builtin(self.tools[i].as_ref())),
            None => self.live.as_ref()?.get(name).map(ToolRef::Shared),
        }
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

    /// The tool specs offered to the model for `user` in a `chat` of this kind: never an admin
    /// tool, whoever the user is (write and outside tools are offered but may end in a confirm
    /// button); MCP tools the user may use; in a group only the tools that may run anywhere
    /// (nothing personal is even offered).
    pub fn llm_specs_in(&self, user: &User, chat: ChatKind) -> Vec<ToolSpec> {
        let offered = |t: &dyn Tool| {
            t.llm_callable()
                && t.effect() != Effect::Admin
                && may_run(user, t.effect())
                && t.offered_to(user)
                && t.runs_in().allows(chat)
        };
        let spec = |t: &dyn Tool| ToolSpec {
            name: t.name().to_string(),
            description: t.spec_description(),
            parameters: t.parameters(),
        };
        let builtin = self.tools.iter().map(AsRef::as_ref);
        let mut specs: Vec<ToolSpec> = builtin.filter(|t| offered(*t)).map(spec).collect();
        let live = self.live.as_ref().map(|l| l.tools()).unwrap_or_default();
        for tool in live {
            if offered(tool.as_ref()) {
                specs.push(spec(tool.as_ref()));
            }
        }
        specs
    }
}
