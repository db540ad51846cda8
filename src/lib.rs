//! minicrew: a personal AI assistant that lives in Telegram, one async binary and one SQLite file.
//!
//! Data flow: channel → inbox → per-chat queue → dispatcher → tool | LLM → outbox → Telegram.
//!
//! Layers, bottom to top, in an order where a module names only modules listed before it, never
//! one after (`tests/it/layering.rs` fails on any cycle among the top-level modules).
//! 1. leaves: [`ids`], [`timezone`], [`markup`], [`untrusted`], [`command_line`], [`outbound`],
//!    [`health`], [`media`], [`cancellations`], [`queue`], [`shutdown_pause`];
//! 2. [`config`], [`message`], [`schedule_spec`]; then [`store`]; then [`metrics`], [`chart`],
//!    [`logging`], [`service_notify`];
//! 3. [`llm`], [`gmail`], [`groups`], [`users`], [`voice`], [`calendar`];
//! 4. [`tools`]; above it [`mcp`] and [`live_preview`];
//! 5. [`services`], [`dispatch`], [`scheduler`];
//! 6. channels: [`terminal`], [`telegram`], [`http`];
//! 7. [`app`], [`doctor`], [`cli`], [`health_probe`].
//!
//! - [`app`]: builds everything from the config and runs the daemon until a shutdown signal.
//! - [`calendar`]: one `Calendar` trait (CalDAV now), events in the user's timezone, accounts.
//! - [`cancellations`]: each chat's running request, so `/cancel` (and shutdown) can stop it.
//! - [`chart`]: the `/usage` picture: a PNG drawn with plotters and a built-in bitmap font.
//! - [`cli`]: one-off commands: `backup`, `restore`, `config`, and the `--version` text.
//! - [`command_line`]: parsing a `/name[@bot] args` line, for every place that reads commands.
//! - [`config`]: `.env` + environment → validated [`config::Config`]; secrets never print. Owns
//!   the leaf names `ProviderKind` and `Tier`, so it imports nothing from [`llm`], and reads the
//!   MCP servers file (`config::mcp_servers`), so it imports nothing from [`mcp`].
//! - [`dispatch`]: routes a message to a tool (`/command`) or the LLM (free text).
//! - [`doctor`]: `minicrew doctor`, one line per health check of the setup.
//! - [`health`]: shared runtime health (last update, poll state, provider errors, MCP server
//!   states) for `/health`.
//! - [`health_probe`]: `minicrew health`, asks the running daemon's `/health` (container checks).
//! - [`ids`]: the `ChatId` and `UserId` newtypes, so a swapped id does not compile.
//! - [`http`]: the HTTP server: webhook route, `/health`, `/metrics`.
//! - [`groups`]: group chats: approval, mention gating, one conversation and budget per group.
//! - [`gmail`]: Gmail OAuth (loopback + PKCE, chat consent links), encrypted tokens, REST client.
//! - [`live_preview`]: live previews of a reply being written, as the core asks for them; a
//!   channel (Telegram) attaches the one that shows them.
//! - [`llm`]: LLM providers (each takes its models from its `ProviderConfig`), registry, router.
//! - [`mcp`]: MCP servers (stdio and streamable HTTP) whose tools join the tool list.
//! - [`media`]: photos, documents and forwarded messages: downloads, PDF and text extraction.
//! - [`logging`]: tracing setup (pretty, json, logfmt).
//! - [`markup`]: channel-neutral reply text (plain or Markdown); channels render it at their edge.
//! - [`metrics`]: Prometheus metric names and one-line recording functions.
//! - [`message`]: channel-neutral [`message::Incoming`] and [`message::Reply`].
//! - [`outbound`]: the SSRF guard (address policy, guarded DNS resolver) of every client that
//!   calls an address a user named (web fetch, users' CalDAV servers).
//! - [`queue`]: per-chat ordered, cross-chat concurrent work queues.
//! - [`schedule_spec`]: a schedule's timing (`cron` or `once`), cron validation and the timing
//!   rules: `/remind` and `/schedule` parsing, timezone-correct next runs, limits.
//! - [`scheduler`]: the loop that fires due jobs through the tool path, missed runs, system jobs.
//! - [`services`]: the shared handles (config, store, tools, MCP servers, previews).
//! - [`service_notify`]: systemd readiness, watchdog and stopping notifications (`sd_notify`).
//! - [`shutdown_pause`]: retry pauses that end at shutdown, leaving their work pending.
//! - [`store`]: SQLite (WAL), migrations, typed repository methods; all SQL lives here.
//! - [`telegram`]: polling, update conversion, the outbox sender, the command menu.
//! - [`terminal`]: `minicrew chat`, the terminal channel.
//! - [`timezone`]: the one `Timezone` type (IANA), its parsing and DST-correct local times.
//! - [`tools`]: the `Tool` trait, the registry, one file per tool.
//! - [`untrusted`]: outside content quoted for the model as data it cannot mistake for instructions.
//! - [`users`]: the user manager and access rules (the `User` row itself is the store's).
//! - [`voice`]: voice messages → download through the channel → speech-to-text → transcript.

pub mod app;
pub mod calendar;
pub mod cancellations;
pub mod chart;
pub mod cli;
pub mod command_line;
pub mod config;
pub mod dispatch;
pub mod doctor;
pub mod gmail;
pub mod groups;
pub mod health;
pub mod health_probe;
pub mod http;
pub mod ids;
pub mod live_preview;
pub mod llm;
pub mod logging;
pub mod markup;
pub mod mcp;
pub mod media;
pub mod message;
pub mod metrics;
pub mod outbound;
pub mod queue;
pub mod schedule_spec;
pub mod scheduler;
pub mod service_notify;
pub mod services;
pub mod shutdown_pause;
pub mod store;
pub mod telegram;
pub mod terminal;
pub mod timezone;
pub mod tools;
pub mod untrusted;
pub mod users;
pub mod voice;
