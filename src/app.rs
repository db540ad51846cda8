//! The one place that wires everything: [`App::build`] opens the store and builds the services;
//! [`App::run_until_stopped`] runs the Telegram daemon until the shutdown token fires.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::FutureExt as _;
use metrics_exporter_prometheus::PrometheusHandle;
use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::cancellations::Cancellations;
use crate::config::{BotMode, Config};
use crate::dispatch::Dispatcher;
use crate::gmail::{GmailClient, GmailConnect, SecretKey, TokenStore};
use crate::health::Health;
use crate::http::{self, GmailCallbackState, HttpServer, StatusState, WebhookState};
use crate::llm::{self, LlmRouter};
use crate::mcp::McpTools;
use crate::queue::ChatQueues;
use crate::scheduler;
use crate::services::{GmailServices, Services};
use crate::store::Store;
use crate::telegram::draft::DraftClient;
use crate::telegram::files::TelegramFiles;
use crate::telegram::group_preview::GroupEditor;
use crate::telegram::handle_update::UpdateHandler;
use crate::telegram::intake::Intake;
use crate::telegram::previews::TelegramPreviews;
use crate::telegram::send::TelegramSender;
use crate::telegram::{build_bot, describe_error, menu, polling, webhook};
use crate::tools::{Tool, ToolHandles, ToolRegistry, all_tools};
use crate::users::{User, UserRateLimit};
use crate::voice::Voice;

/// Chats handled at the same time; more wait their turn (each chat stays in order).
pub const MAX_PARALLEL_CHATS: usize = 16;
/// How long shutdown waits for HTTP requests in progress (webhook inserts take milliseconds).
pub const HTTP_DRAIN: Duration = Duration::from_secs(5);
/// How often the metrics recorder folds recorded samples into its histograms.
const METRICS_UPKEEP_EVERY: Duration = Duration::from_secs(10);
/// How long shutdown waits for in-flight messages before exiting (they resume at next start).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The assembled application.
pub struct App {
    services: Arc<Services>,
    owner: User,
    /// Fired when [`App::run_until_stopped`]'s shutdown comes, for the clients built before it
    /// (the LLM router, Gmail): their retry pauses end on it.
    stopping: CancellationToken,
}

impl App {
    /// Opens the database (applying migrations), makes sure the owner exists, builds the tools.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_tools(config, all_tools).await
    }

    /// Like [`App::build`] with another tool list, made from the same handles (tests add a
    /// tool that always fails, or point web fetch at loopback).
    pub async fn build_with_tools(
        config: Config,
        tools: impl FnOnce(&ToolHandles) -> Vec<Box<dyn Tool>>,
    ) -> anyhow::Result<Self> {
        let store = Store::open(&config.data_dir).with_context(|| {
            format!("cannot open the database in {}", config.data_dir.display())
        })?;
        let owner = store
            .ensure_owner(
                config.owner_chat_id,
                &config.owner_display_name,
                config.timezone.name(),
            )
            .await
            .context("cannot create the owner")?;
        let stopping = CancellationToken::new();
        let services = Arc::new(build_services(config, store, &stopping, tools)?);
        Ok(Self {
            services,
            owner,
            stopping,
        })
    }

    /// The dispatcher every channel feeds.
    pub fn dispatcher(&self) -> Dispatcher {
        Dispatcher::new(Arc::clone(&self.services))
    }

    /// Shared services (store, config, tools).
    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// The owner's user row.
    pub fn owner(&self) -> &User {
        &self.owner
    }

    /// Runs the Telegram daemon until `shutdown` fires, then drains within [`SHUTDOWN_GRACE`].
    ///
    /// Polling mode polls (and serves `/health` and `/metrics` on `HTTP_LISTEN` when set);
    /// webhook mode serves the webhook route (with `/health` and `/metrics`, or with them on
    /// `HTTP_LISTEN` when set) and registers it with `setWebhook`.
    /// Dropping this future (a crash) aborts the HTTP server and the update receiver with it.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let config = &self.services.config;
        let token = config
            .telegram
            .token
            .as_ref()
            .context("TELEGRAM_BOT_TOKEN: is required")?;
        let bot = build_bot(token, &config.telegram.api_url)?;
        check_token(&bot, &self.services.bot_identity).await?;
        let files = Arc::new(TelegramFiles::new(bot.clone()).with_shutdown(shutdown.child_token()));
        self.services.voice.attach(files.clone());
        self.services.media.attach(files);
        let store = self.services.store.clone();
        let sender = TelegramSender::new(
            bot.clone(),
            store.clone(),
            config.telegram.rate_global,
            config.telegram.rate_per_chat,
        )
        .with_shutdown(shutdown.child_token());
        self.services
            .previews
            .attach(Arc::new(TelegramPreviews::new(
                DraftClient::new(&bot, sender.limiter()),
                GroupEditor::new(bot.clone(), sender.limiter()),
            )));
        let handler = UpdateHandler {
            dispatcher: self.dispatcher(),
            sender: sender.clone(),
            bot: bot.clone(),
        };
        let queues = ChatQueues::new(MAX_PARALLEL_CHATS, move |pending| {
            let handler = handler.clone();
            async move { handler.handle(pending).await }.boxed()
        });
        let intake = Intake::new(
            store.clone(),
            queues.clone(),
            self.services.cancellations.clone(),
        );
        let _menu = AbortOnDropHandle::new(tokio::spawn(menu::sync_commands_until_done(
            bot.clone(),
            store.clone(),
            self.services.tools.menu(),
            shutdown.child_token(),
        )));
        intake
            .replay_pending()
            .await
            .context("cannot read the inbox")?;
        let unsent = store.unsent_chunks_without_update().await?;
        let _resend = AbortOnDropHandle::new(tokio::spawn(resend_unsent(sender.clone(), unsent)));

        // The scheduler loop fires due schedules, each job under one of the chats' permits;
        // the same shutdown token stops it.
        let scheduler = scheduler::spawn(
            Arc::clone(&self.services),
            sender.clone(),
            scheduler::Clock::System,
            queues.permits(),
            shutdown.child_token(),
        );
        let server = self.start_http(&intake, &sender).await?;
        let receiver = AbortOnDropHandle::new(self.spawn_receiver(bot, intake, &shutdown));
        // systemd (Type=notify): ready once the database is open and updates are being received.
        let notify = crate::service_notify::Notifier::from_env();
        notify
            .ready(match config.telegram.mode {
                BotMode::Polling => "receiving updates by polling",
                BotMode::Webhook => "receiving updates by webhook",
            })
            .await;
        let _watchdog = notify.spawn_watchdog(store.clone(), shutdown.child_token());
        shutdown.cancelled().await;
        self.stopping.cancel();
        notify.stopping().await;
        tracing::info!("shutting down: no new updates; finishing messages in progress");
        if let Some(servers) = server
            && !servers.shutdown(HTTP_DRAIN).await
        {
            tracing::warn!("some HTTP requests were cut off at shutdown");
        }
        let _ = receiver.await;
        scheduler.stopped().await;
        if !queues.shutdown(SHUTDOWN_GRACE).await {
            tracing::warn!(
                "some messages were still in progress; they will resume at the next start"
            );
        }
        self.services.mcp.shutdown().await;
        tracing::info!("stopped");
        Ok(())
    }

    /// Starts the HTTP servers the mode needs, with the metrics upkeep task they need:
    /// webhook mode serves the webhook route and the Gmail callback on `WEBHOOK_LISTEN:PORT`, and
    /// `/health` and `/metrics` on `HTTP_LISTEN` when set (else beside the webhook route);
    /// polling mode serves `/health` and `/metrics` on `HTTP_LISTEN` when set.
    async fn start_http(
        &self,
        intake: &Intake,
        sender: &TelegramSender,
    ) -> anyhow::Result<Option<HttpServers>> {
        let telegram = &self.services.config.telegram;
        let public = match (telegram.mode, &telegram.webhook) {
            (BotMode::Webhook, Some(w)) => Some((
                w.listen,
                WebhookState::new(&w.path, &w.secret, intake.clone()),
            )),
            (BotMode::Webhook, None) => anyhow::bail!("WEBHOOK_HOST: is required in webhook mode"),
            (BotMode::Polling, _) => None,
        };
        if public.is_none() && telegram.http_listen.is_none() {
            return Ok(None);
        }
        let metrics = crate::metrics::install();
        let upkeep = AbortOnDropHandle::new(tokio::spawn(metrics_upkeep(metrics.clone())));
        let status = StatusState {
            store: self.services.store.clone(),
            health: self.services.health.clone(),
            bot_mode: telegram.mode,
            metrics,
        };
        let health = &self.services.health;
        let mut servers = Vec::new();
        if let Some(listen) = telegram.http_listen {
            let server = HttpServer::start(listen, http::status_router(status.clone())).await?;
            health.set_status_addr(server.addr());
            if public.is_none() {
                health.set_http_addr(server.addr());
            }
            servers.push(server);
        }
        if let Some((listen, webhook)) = public {
            // The Gmail OAuth callback lives on the public webhook server (polling uses pasting).
            let gmail = GmailCallbackState {
                services: Arc::clone(&self.services),
                sender: sender.clone(),
            };
            let router = match telegram.http_listen {
                Some(_) => http::public_router(Some(webhook), Some(gmail)),
                None => http::router(status, Some(webhook), Some(gmail)),
            };
            let server = HttpServer::start(listen, router).await?;
            health.set_http_addr(server.addr());
            if telegram.http_listen.is_none() {
                health.set_status_addr(server.addr());
            }
            servers.push(server);
        }
        Ok(Some(HttpServers {
            servers,
            _upkeep: upkeep,
        }))
    }

    /// Starts receiving updates: the poll loop, or the webhook registration.
    fn spawn_receiver(
        &self,
        bot: Bot,
        intake: Intake,
        shutdown: &CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let telegram = &self.services.config.telegram;
        let health = self.services.health.clone();
        match (telegram.mode, telegram.webhook.clone()) {
            (BotMode::Webhook, Some(config)) => {
                let stop = shutdown.child_token();
                tokio::spawn(async move {
                    webhook::register(bot, config, health, stop).await;
                })
            }
            _ => tokio::spawn(polling::run_polling(
                bot,
                self.services.store.clone(),
                intake,
                health,
                shutdown.child_token(),
            )),
        }
    }
}

/// The running HTTP servers (one or two listeners) and the metrics upkeep they share.
struct HttpServers {
    servers: Vec<HttpServer>,
    _upkeep: AbortOnDropHandle<()>,
}

impl HttpServers {
    /// Drains every server at once; whether all drained within `grace`.
    async fn shutdown(self, grace: Duration) -> bool {
        let drained =
            futures::future::join_all(self.servers.into_iter().map(|s| s.shutdown(grace))).await;
        drained.into_iter().all(|ok| ok)
    }
}

/// Sends scheduled messages and notices that a previous run stored but did not get out.
async fn resend_unsent(sender: TelegramSender, rows: Vec<crate::store::OutboxRow>) {
    if rows.is_empty() {
        return;
    }
    tracing::info!(
        count = rows.len(),
        "sending messages left unsent by the previous run"
    );
    if let Err(e) = sender.deliver(&rows).await {
        tracing::warn!(error = %e, "some messages from the previous run could not be delivered");
    }
}

/// Keeps histograms bounded between scrapes.
async fn metrics_upkeep(handle: Option<PrometheusHandle>) {
    let Some(handle) = handle else { return };
    let mut tick = tokio::time::interval(METRICS_UPKEEP_EVERY);
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

/// The shared handles: LLM router and Gmail over one HTTP stack each, with timeouts.
fn build_services(
    config: Config,
    store: Store,
    stopping: &CancellationToken,
    tools: impl FnOnce(&ToolHandles) -> Vec<Box<dyn Tool>>,
) -> anyhow::Result<Services> {
    let llm_http =
        llm::http_client(config.llm.timeout).context("cannot build the HTTP client for the LLM")?;
    let health = Health::new();
    let llm = LlmRouter::new(&config.llm, store.clone(), llm_http)
        .with_health(health.clone())
        .with_shutdown(stopping.clone());
    let key = SecretKey::load_or_create(config.secret_key.as_ref(), &config.data_dir)
        .map_err(|e| anyhow::anyhow!("SECRET_KEY: {e}"))?;
    let connect = GmailConnect::new(&config, store.clone(), key.clone());
    let calendar = crate::calendar::CalendarAccounts::new(&config, store.clone(), key.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let tokens = TokenStore::new(&config.gmail.credentials_dir, key);
    let client = GmailClient::new(config.gmail.clone(), tokens, store.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_shutdown(stopping.clone());
    let voice = Voice::new(&config.transcribe, config.llm.timeout)?;
    // A server that fails to start is retried in the background; it never stops the bot.
    let mcp = McpTools::start(&config.mcp, health.clone());
    let media = crate::media::Media::new(config.media_max_bytes);
    let handles = ToolHandles {
        config: Arc::new(config),
        store,
        llm,
        gmail: GmailServices { connect, client },
        calendar,
        cancellations: Cancellations::default(),
        live_tools: Arc::new(mcp.clone()),
    };
    let tools = ToolRegistry::new(tools(&handles)).with_live_tools(Arc::clone(&handles.live_tools));
    let ToolHandles {
        config,
        store,
        llm,
        gmail,
        calendar,
        cancellations,
        live_tools: _,
    } = handles;
    Ok(Services {
        user_rate_limit: UserRateLimit::new(config.user_rate_limit_per_min),
        previews: crate::live_preview::Previews::new(config.stream_replies),
        config,
        store,
        tools,
        llm,
        gmail,
        calendar,
        cancellations,
        health,
        voice,
        bot_identity: crate::groups::BotIdentityCell::default(),
        media,
        mcp,
    })
}

/// Fails fast on a token Telegram rejects; a network problem only warns (polling retries).
/// Remembers who the bot is, so group messages can address it.
async fn check_token(bot: &Bot, identity: &crate::groups::BotIdentityCell) -> anyhow::Result<()> {
    match bot.get_me().await {
        Ok(me) => {
            tracing::info!(bot = %me.username(), "connected to Telegram");
            crate::telegram::group_events::remember_identity(identity, &me);
            Ok(())
        }
        Err(RequestError::Api(ApiError::InvalidToken)) => {
            anyhow::bail!(
                "TELEGRAM_BOT_TOKEN: Telegram rejected the token; copy it again from @BotFather"
            )
        }
        Err(e) => {
            tracing::warn!(error = %describe_error(&e), "cannot reach Telegram yet; will keep trying");
            Ok(())
        }
    }
}
