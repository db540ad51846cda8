//! The LLM router: builds the conversation (system prompt, recent memory, the current message
//! once), offers the tools, runs the tool loop natively, and returns the final text. Retries and
//! fallback live in `fallback`; the conversation is kept provider-neutral so a switch of
//! provider mid-loop keeps every executed tool result and runs no tool twice. The request's
//! [`Budget`] is checked before every model call, and one round runs at most
//! [`MAX_TOOL_CALLS_PER_ROUND`] tool calls.

use std::sync::Arc;

use crate::timezone::Timezone;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::budget::Budget;
use super::fallback::{Answer, CallSettings, Fallback};
use super::prompt::system_prompt;
use super::registry::ProviderRegistry;
use super::retry::RetryPolicy;
use super::stream::StreamObserver;
use super::types::{Image, LlmRequest, Role, Tier, ToolChoice, ToolResult, ToolSpec, Turn};
use super::{ProviderKind, ToolRunner};
use crate::config::LlmConfig;
use crate::health::Health;
use crate::ids::UserId;
use crate::store::Store;

pub use super::router_error::{ProviderFailure, RouterError};

/// Most model calls in one reply; the last one is asked to answer without tools.
pub const MAX_TOOL_ROUNDS: usize = 8;

/// Most tool calls run from one model answer; further calls get an error result and do not run.
pub const MAX_TOOL_CALLS_PER_ROUND: usize = 8;

/// Output token bound per call.
const MAX_OUTPUT_TOKENS: u32 = 4096;

/// One message to answer.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// `users.id` (for `llm_usage`).
    pub user_id: UserId,
    /// Name used in the system prompt.
    pub user_name: String,
    /// The user's timezone.
    pub timezone: Timezone,
    /// Current instant (passed in so tests and schedules control it).
    pub now: DateTime<Utc>,
    /// The user's chosen provider, tried first.
    pub preferred: Option<ProviderKind>,
    /// Stored memory, oldest first, without the current message.
    pub history: Vec<(Role, String)>,
    /// The current message (sent exactly once).
    pub message: String,
    /// Tools the model may call.
    pub tools: Vec<ToolSpec>,
    /// Model size.
    pub tier: Tier,
    /// `false` for untrusted input (email summaries): no tools are offered at all.
    pub allow_tools: bool,
    /// Whose daily allowance this spends; checked before every model call.
    pub budget: Budget,
    /// The update this answers: its completed rounds are journaled and, on a replay after a
    /// crash, read back instead of asking the model again. `None`: nothing is journaled.
    pub journal: Option<i64>,
    /// Who spoke, when `user_id` is a group's account (recorded in `llm_usage`).
    pub speaker: Option<String>,
}

/// A produced reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterReply {
    /// Final text.
    pub text: String,
    /// Provider that gave the final answer.
    pub provider: ProviderKind,
    /// Model that gave the final answer.
    pub model: String,
    /// Prompt tokens summed over the tool loop.
    pub input_tokens: u64,
    /// Generated tokens summed over the tool loop.
    pub output_tokens: u64,
    /// Names of the tools run, in order.
    pub tools_used: Vec<String>,
}

/// Cheap-to-clone handle to the router.
#[derive(Clone)]
pub struct LlmRouter {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    registry: ProviderRegistry,
    fallback_order: Vec<ProviderKind>,
    system_prompt: Option<String>,
    max_context_messages: usize,
    settings: CallSettings,
}

impl std::fmt::Debug for LlmRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmRouter")
            .field("providers", &self.inner.registry)
            .finish()
    }
}

impl LlmRouter {
    /// A router over the providers of `config`, sharing `http` (see [`super::http_client`]).
    pub fn new(config: &LlmConfig, store: Store, http: reqwest::Client) -> Self {
        Self::with_registry(ProviderRegistry::from_config(config, &http), config, store)
    }

    /// A router over ready-made providers, with `config`'s order, prompt and limits.
    pub fn with_registry(registry: ProviderRegistry, config: &LlmConfig, store: Store) -> Self {
        Self {
            inner: Arc::new(Inner {
                registry,
                fallback_order: config.fallback_order.clone(),
                system_prompt: config.system_prompt.clone(),
                max_context_messages: config.max_context_messages,
                settings: CallSettings {
                    timeout: config.timeout,
                    retry: RetryPolicy::default(),
                    store,
                    health: Health::new(),
                    shutdown: CancellationToken::new(),
                },
            }),
        }
    }

    /// Replaces the retry policy (tests use short delays).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        Arc::make_mut(&mut self.inner).settings.retry = retry;
        self
    }

    /// Stops waiting before a retry when `shutdown` fires: the reply ends with
    /// [`RouterError::Stopped`] and the message stays pending for the next start.
    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> Self {
        Arc::make_mut(&mut self.inner).settings.shutdown = shutdown;
        self
    }

    /// Reports each provider's last error to `health` (the app's shared one, for `/health`).
    pub fn with_health(mut self, health: Health) -> Self {
        Arc::make_mut(&mut self.inner).settings.health = health;
        self
    }

    /// The configured providers, in fallback order.
    pub fn configured(&self) -> Vec<ProviderKind> {
        self.inner.registry.kinds()
    }

    /// Whether some configured model can see images: `Err` says why not
    /// ([`RouterError::NoProviders`] or [`RouterError::NoVision`]), so no photo is downloaded
    /// for nothing.
    pub fn vision_check(&self, tier: Tier) -> Result<(), RouterError> {
        let providers = self.inner.registry.attempt_order(None, &[]);
        if providers.is_empty() {
            return Err(RouterError::NoProviders);
        }
        if providers.iter().any(|p| p.accepts_images(tier)) {
            return Ok(());
        }
        Err(RouterError::NoVision(
            providers.iter().map(|p| p.kind()).collect(),
        ))
    }

    /// Answers `req`, running the tools the model calls through `runner`.
    pub async fn reply(
        &self,
        req: ChatRequest,
        runner: &dyn ToolRunner,
        cancel: &CancellationToken,
    ) -> Result<RouterReply, RouterError> {
        self.reply_with(req, Vec::new(), runner, cancel, None).await
    }

    /// Answers `req` with `images` sent along with its message, running the tools the model
    /// calls through `runner`. With images, only providers whose model accepts them are tried;
    /// when none does, [`RouterError::NoVision`] names the configured ones. With an `observer`,
    /// every model call streams and the observer sees the text as it arrives, each new call, and
    /// each tool round.
    #[tracing::instrument(skip_all, fields(user_id = %req.user_id, images = images.len()))]
    pub async fn reply_with(
        &self,
        req: ChatRequest,
        images: Vec<Image>,
        runner: &dyn ToolRunner,
        cancel: &CancellationToken,
        observer: Option<&dyn StreamObserver>,
    ) -> Result<RouterReply, RouterError> {
        let inner = &self.inner;
        let mut order = inner
            .registry
            .attempt_order(req.preferred, &inner.fallback_order);
        if order.is_empty() {
            return Err(RouterError::NoProviders);
        }
        if !images.is_empty() {
            let kinds: Vec<ProviderKind> = order.iter().map(|p| p.kind()).collect();
            order.retain(|p| p.accepts_images(req.tier));
            if order.is_empty() {
                return Err(RouterError::NoVision(kinds));
            }
        }
        let mut fallback = Fallback::new(&inner.settings, order, req.user_id, req.tier)
            .with_speaker(req.speaker.clone());
        if let Some(observer) = observer {
            fallback.stream_to(observer);
        }
        let spend = Spend {
            budget: req.budget,
            store: &inner.settings.store,
            user_id: req.user_id,
            journal: req.journal,
        };
        let system = system_prompt(
            inner.system_prompt.as_deref(),
            &req.user_name,
            req.timezone,
            req.now,
        );
        let mut turns = context_turns(&req.history, inner.max_context_messages);
        turns.push(if images.is_empty() {
            Turn::User(req.message)
        } else {
            Turn::UserWithImages {
                text: req.message,
                images,
            }
        });
        let request = LlmRequest {
            system,
            turns,
            tools: if req.allow_tools {
                req.tools
            } else {
                Vec::new()
            },
            tool_choice: ToolChoice::Auto,
            model: String::new(), // set per provider by `Fallback`
            max_tokens: MAX_OUTPUT_TOKENS,
        };
        tool_loop(&mut fallback, &spend, request, runner, cancel).await
    }
}

/// The allowance a reply spends, where its usage is read, and the update it is journaled under.
struct Spend<'a> {
    budget: Budget,
    store: &'a Store,
    user_id: UserId,
    journal: Option<i64>,
}

impl Spend<'_> {
    /// Round `round`'s answer: read back from the journal when a replayed update completed it
    /// before, otherwise asked (within the allowance) and journaled.
    async fn round(
        &self,
        fallback: &mut Fallback<'_>,
        request: &LlmRequest,
        round: usize,
        cancel: &CancellationToken,
    ) -> Result<Answer, RouterError> {
        let key = self.journal.map(|id| super::journal::round_key(id, round));
        if let Some(key) = &key
            && let Some(answer) = super::journal::replayed_round(self.store, key).await
        {
            tracing::info!(round, "round completed before the restart; not asked again");
            return Ok(answer);
        }
        self.budget.check(self.store, self.user_id).await?;
        fallback.journal_as(key);
        fallback.call(request.clone(), cancel).await
    }
}

/// Calls the model, runs the tools it asks for, and repeats until it answers in text; the last
/// allowed round asks for text only.
async fn tool_loop(
    fallback: &mut Fallback<'_>,
    spend: &Spend<'_>,
    mut request: LlmRequest,
    runner: &dyn ToolRunner,
    cancel: &CancellationToken,
) -> Result<RouterReply, RouterError> {
    let (mut input_tokens, mut output_tokens) = (0, 0);
    let mut tools_used = Vec::new();
    for round in 1..=MAX_TOOL_ROUNDS {
        let last_round = round == MAX_TOOL_ROUNDS;
        if last_round {
            request.tool_choice = ToolChoice::None;
        }
        let answer = spend.round(fallback, &request, round, cancel).await?;
        let response = answer.response;
        input_tokens += response.usage.input_tokens;
        output_tokens += response.usage.output_tokens;
        if response.tool_calls.is_empty() || request.tools.is_empty() || last_round {
            if response.text.trim().is_empty() {
                return Err(if response.tool_calls.is_empty() {
                    RouterError::EmptyReply
                } else {
                    RouterError::ToolLoopLimit(round)
                });
            }
            return Ok(RouterReply {
                text: response.text,
                provider: answer.provider,
                model: answer.model,
                input_tokens,
                output_tokens,
                tools_used,
            });
        }
        if let Some(observer) = fallback.observer() {
            observer.tools_running(&response.tool_calls);
        }
        let results = run_tools(&response.tool_calls, runner, cancel).await?;
        tools_used.extend(
            response
                .tool_calls
                .iter()
                .take(MAX_TOOL_CALLS_PER_ROUND)
                .map(|c| c.name.clone()),
        );
        request.turns.push(Turn::Assistant {
            text: response.text,
            tool_calls: response.tool_calls,
        });
        request.turns.push(Turn::ToolResults(results));
    }
    Err(RouterError::ToolLoopLimit(MAX_TOOL_ROUNDS))
}

/// The last `max` history lines as turns, starting with a user line (providers expect that).
fn context_turns(history: &[(Role, String)], max: usize) -> Vec<Turn> {
    let start = history.len().saturating_sub(max);
    history[start..]
        .iter()
        .skip_while(|(role, _)| *role == Role::Assistant)
        .map(|(role, text)| match role {
            Role::User => Turn::User(text.clone()),
            Role::Assistant => Turn::Assistant {
                text: text.clone(),
                tool_calls: Vec::new(),
            },
        })
        .collect()
}

/// Runs the calls of one round in order; each result goes back as a native tool result. Calls
/// past [`MAX_TOOL_CALLS_PER_ROUND`] do not run: each gets an error result saying why.
async fn run_tools(
    calls: &[super::types::ToolCall],
    runner: &dyn ToolRunner,
    cancel: &CancellationToken,
) -> Result<Vec<ToolResult>, RouterError> {
    let mut results = Vec::with_capacity(calls.len());
    for (i, call) in calls.iter().enumerate() {
        if i >= MAX_TOOL_CALLS_PER_ROUND {
            results.push(ToolResult {
                call_id: call.id.clone(),
                name: call.name.clone(),
                content: format!(
                    "too many tool calls in one round: at most {MAX_TOOL_CALLS_PER_ROUND} run; \
                     this one did not"
                ),
                is_error: true,
            });
            continue;
        }
        let outcome = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(RouterError::Cancelled),
            r = runner.run(&call.name, call.arguments.clone()) => r,
        };
        let (content, is_error) = match outcome {
            Ok(text) => (text, false),
            Err(text) => (text, true),
        };
        results.push(ToolResult {
            call_id: call.id.clone(),
            name: call.name.clone(),
            content,
            is_error,
        });
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolCall;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the tool calls it runs.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    #[async_trait::async_trait]
    impl ToolRunner for Counting {
        async fn run(&self, name: &str, _: serde_json::Value) -> Result<String, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(format!("{name} ran"))
        }
    }

    #[tokio::test]
    async fn calls_past_the_round_cap_get_an_error_result_without_running() {
        let calls: Vec<ToolCall> = (0..MAX_TOOL_CALLS_PER_ROUND + 3)
            .map(|i| ToolCall {
                id: format!("call_{i}"),
                name: "note".into(),
                arguments: serde_json::json!({}),
                provider_meta: None,
            })
            .collect();
        let runner = Counting::default();
        let results = run_tools(&calls, &runner, &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(runner.0.load(Ordering::SeqCst), MAX_TOOL_CALLS_PER_ROUND);
        assert_eq!(results.len(), calls.len(), "every call gets a result");
        let (ran, refused) = results.split_at(MAX_TOOL_CALLS_PER_ROUND);
        assert!(ran.iter().all(|r| !r.is_error && r.content == "note ran"));
        assert!(
            refused
                .iter()
                .all(|r| r.is_error && r.content.starts_with("too many tool calls in one round"))
        );
        assert_eq!(
            refused[0].call_id,
            format!("call_{MAX_TOOL_CALLS_PER_ROUND}")
        );
    }

    #[test]
    fn context_keeps_the_last_lines_and_starts_with_the_user() {
        let history = vec![
            (Role::User, "1".to_string()),
            (Role::Assistant, "2".to_string()),
            (Role::User, "3".to_string()),
            (Role::Assistant, "4".to_string()),
        ];
        assert_eq!(
            context_turns(&history, 3),
            vec![
                Turn::User("3".into()),
                Turn::Assistant {
                    text: "4".into(),
                    tool_calls: vec![]
                },
            ]
        );
        assert_eq!(context_turns(&history, 10).len(), 4);
    }
}
