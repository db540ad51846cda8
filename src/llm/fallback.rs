//! One model call of the tool loop, made reliable: retries with backoff on the current
//! provider, then fallback along the attempt order. The provider that answers stays current for
//! the next round, so the conversation (tool results included) just moves on with it. Every
//! attempt is recorded in `llm_usage`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::pricing::cost_usd;
use super::retry::{Next, RetryPolicy};
use super::router_error::{ProviderFailure, RouterError};
use super::stream::StreamObserver;
use super::types::{LlmRequest, LlmResponse, Tier, Usage};
use super::{LlmError, LlmProvider, ProviderKind};
use crate::health::Health;
use crate::ids::UserId;
use crate::store::llm_usage::LlmUsageRow;
use crate::store::{StepKey, Store};

/// The most tokens one call may report, per direction. Far above any real context window; a
/// larger count from a server is cut to this, so sums over a tool loop, budgets and the
/// `llm_usage` table never overflow.
const MAX_REPORTED_TOKENS: u64 = 100_000_000;

/// `response` with its token counts cut to [`MAX_REPORTED_TOKENS`].
fn with_bounded_usage(mut response: LlmResponse) -> LlmResponse {
    response.usage = Usage {
        input_tokens: response.usage.input_tokens.min(MAX_REPORTED_TOKENS),
        output_tokens: response.usage.output_tokens.min(MAX_REPORTED_TOKENS),
    };
    response
}

/// Settings shared by every call of one router.
#[derive(Clone)]
pub(super) struct CallSettings {
    /// Upper bound of one HTTP call (the reqwest client has the same; this guards the future).
    pub timeout: Duration,
    /// Retry policy per provider.
    pub retry: RetryPolicy,
    /// Where attempts are recorded.
    pub store: Store,
    /// Where each provider's last error is kept for `/health`.
    pub health: Health,
    /// Ends the pause before a retry at shutdown.
    pub shutdown: CancellationToken,
}

/// The providers for one message and where we are in them.
pub(super) struct Fallback<'a> {
    settings: &'a CallSettings,
    order: Vec<Arc<dyn LlmProvider>>,
    current: usize,
    failures: Vec<ProviderFailure>,
    user_id: UserId,
    speaker: Option<String>,
    tier: Tier,
    /// Where the next successful call is journaled, with its usage row.
    step: Option<StepKey>,
    /// Streams answers to this observer (`None`: answers arrive whole).
    observer: Option<&'a dyn StreamObserver>,
}

/// A successful call and who made it.
pub(super) struct Answer {
    pub response: LlmResponse,
    pub provider: ProviderKind,
    pub model: String,
}

impl<'a> Fallback<'a> {
    /// Starts at the first provider of `order`.
    pub fn new(
        settings: &'a CallSettings,
        order: Vec<Arc<dyn LlmProvider>>,
        user_id: UserId,
        tier: Tier,
    ) -> Self {
        Self {
            settings,
            order,
            current: 0,
            failures: Vec::new(),
            user_id,
            speaker: None,
            tier,
            step: None,
            observer: None,
        }
    }

    /// Streams every answer from now on, its text reported to `observer` as it arrives.
    pub fn stream_to(&mut self, observer: &'a dyn StreamObserver) {
        self.observer = Some(observer);
    }

    /// Where answers are streamed, if they are.
    pub fn observer(&self) -> Option<&'a dyn StreamObserver> {
        self.observer
    }

    /// Names the group member the calls are made for (recorded with each usage row).
    pub fn with_speaker(mut self, speaker: Option<String>) -> Self {
        self.speaker = speaker;
        self
    }

    /// Journals the next successful call as `step` (with its usage row, in one transaction).
    pub fn journal_as(&mut self, step: Option<StepKey>) {
        self.step = step;
    }

    /// Sends `req` (its `model` is set per provider) to the current provider, retrying and
    /// falling back until one answers, all have failed, or `cancel` fires.
    pub async fn call(
        &mut self,
        mut req: LlmRequest,
        cancel: &CancellationToken,
    ) -> Result<Answer, RouterError> {
        while let Some(provider) = self.order.get(self.current).cloned() {
            req.model = provider.model(self.tier).to_string();
            match self.with_retries(provider.as_ref(), &req, cancel).await? {
                Ok(response) => {
                    return Ok(Answer {
                        response,
                        provider: provider.kind(),
                        model: req.model,
                    });
                }
                Err(error) => {
                    let kind = provider.kind();
                    if let LlmError::Auth(_) = error {
                        tracing::warn!(provider = %kind, %error, key = kind.key_name(),
                            "the provider refused our API key: check {} in .env", kind.key_name());
                    } else {
                        tracing::warn!(provider = %kind, %error, "LLM provider failed, trying the next one");
                    }
                    self.failures.push(ProviderFailure {
                        kind: provider.kind(),
                        error,
                    });
                    self.current += 1;
                }
            }
        }
        Err(RouterError::AllFailed(self.failures.clone()))
    }

    /// Attempts on one provider: `Ok(Err(e))` means give up on it with `e`.
    async fn with_retries(
        &self,
        provider: &dyn LlmProvider,
        req: &LlmRequest,
        cancel: &CancellationToken,
    ) -> Result<Result<LlmResponse, LlmError>, RouterError> {
        let mut attempt = 1;
        loop {
            let started = Instant::now();
            let answer = async {
                match self.observer {
                    Some(observer) => {
                        observer.call_started();
                        provider.stream(req, observer).await
                    }
                    None => provider.complete(req).await,
                }
            };
            let result = tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(RouterError::Cancelled),
                r = tokio::time::timeout(self.settings.timeout, answer) => {
                    r.unwrap_or(Err(LlmError::Timeout))
                }
            }
            .map(with_bounded_usage);
            self.record(provider.kind(), &req.model, &result, started.elapsed())
                .await;
            let error = match result {
                Ok(response) => return Ok(Ok(response)),
                Err(error) => error,
            };
            // A provider that just hung for the whole timeout will likely hang again: when
            // another provider is left, go there instead of making the user wait once more.
            let another_left = self.current + 1 < self.order.len();
            if matches!(error, LlmError::Timeout) && another_left {
                return Ok(Err(error));
            }
            match self.settings.retry.next(&error, attempt) {
                Next::NextProvider => return Ok(Err(error)),
                Next::Retry(wait) => {
                    tracing::info!(provider = %provider.kind(), %error, ?wait, attempt, "retrying LLM call");
                    let pause = tokio::time::sleep(wait);
                    tokio::select! {
                        biased;
                        () = cancel.cancelled() => return Err(RouterError::Cancelled),
                        paused = crate::shutdown_pause::pause(&self.settings.shutdown, pause) => paused?,
                    }
                }
            }
            attempt += 1;
        }
    }

    /// Writes one `llm_usage` row; a failed write is logged, never fails the reply.
    async fn record(
        &self,
        kind: ProviderKind,
        model: &str,
        result: &Result<LlmResponse, LlmError>,
        latency: Duration,
    ) {
        let (usage, error) = match result {
            Ok(r) => (r.usage, None),
            Err(e) => (Default::default(), Some(e.kind().to_string())),
        };
        let outcome = error.clone().unwrap_or_else(|| "ok".into());
        crate::metrics::llm_request(
            kind.as_str(),
            &outcome,
            latency,
            usage.input_tokens,
            usage.output_tokens,
        );
        self.settings
            .health
            .provider_result(kind.as_str(), error.as_deref());
        let row = LlmUsageRow {
            user_id: self.user_id,
            speaker: self.speaker.clone(),
            provider: kind.as_str().to_string(),
            model: model.to_string(),
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cost_usd: cost_usd(model, usage),
            latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            error,
            created_at: crate::store::now_unix(),
        };
        let recorded = match (result, &self.step) {
            (Ok(response), Some(step)) => {
                let value = super::journal::round_value(kind.as_str(), model, response);
                let store = &self.settings.store;
                store
                    .record_llm_round(row, step.update_id, step.step.clone(), value)
                    .await
            }
            _ => self.settings.store.record_llm_usage(row).await,
        };
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "could not record LLM usage");
        }
    }
}
