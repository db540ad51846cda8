//! The `minicrew` binary: parse the command line, load the config, set up logging, run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use minicrew::app::App;
use minicrew::config::{Config, Purpose};
use minicrew::gmail;
use tokio_util::sync::CancellationToken;

/// The version and, when built from a git checkout, its short commit (from build.rs), e.g.
/// `0.2.0 (c097dd71d)`. Only the binary reads it, so a new commit relinks the binary alone.
const VERSION: &str = env!("MINICREW_VERSION");

/// A personal AI assistant that lives in Telegram.
#[derive(Parser)]
#[command(version = VERSION, about)]
struct Cli {
    /// Read this file instead of ./.env.
    #[arg(long, global = true, value_name = "PATH")]
    env_file: Option<PathBuf>,
    /// Connect Gmail once for the owner (or --user) and exit.
    #[arg(long)]
    auth_gmail: bool,
    /// With --auth-gmail: the user id or chat id to connect.
    #[arg(long, requires = "auth_gmail")]
    user: Option<i64>,
    /// With --auth-gmail: only print the consent URL, do not open a browser.
    #[arg(long, requires = "auth_gmail")]
    no_browser: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Talk to the bot from the terminal: each stdin line is a message, replies go to stdout.
    Chat {
        /// Chat id to speak as (default: the owner).
        #[arg(long, value_name = "CHAT_ID")]
        user: Option<i64>,
    },
    /// Check the setup (config, file permissions, database, Telegram and its webhook, LLM providers, web search, Gmail, calendars, MCP servers), each problem with its fix; exit 1 on failure.
    Doctor,
    /// Ask the running bot's /health on this machine (HTTP_LISTEN); exit 0 if healthy, else 1.
    Health {
        /// Ask this URL instead of the one HTTP_LISTEN names.
        #[arg(long, value_name = "URL")]
        url: Option<url::Url>,
    },
    /// Copy the database to FILE while the bot runs (consistent; never over a file without --force).
    Backup(minicrew::cli::backup::BackupArgs),
    /// Replace the database with a backup after checking it; the bot must be stopped.
    Restore(minicrew::cli::restore::RestoreArgs),
    /// Print every setting, its value and where it came from (env, env file, default); secrets masked.
    Config,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let purpose = match cli.command {
        None | Some(Command::Doctor | Command::Config) if !cli.auth_gmail => Purpose::Daemon,
        _ => Purpose::Local,
    };
    let config = match Config::load(cli.env_file.as_deref(), purpose) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("minicrew: config error: {e}");
            // A container health check treats exit 2 as reserved: report plain unhealthy.
            let code = if matches!(cli.command, Some(Command::Health { .. })) {
                1
            } else {
                2
            };
            return ExitCode::from(code);
        }
    };
    let default_level = if purpose == Purpose::Daemon {
        "info"
    } else {
        "warn"
    };
    minicrew::logging::init(config.log_format, default_level);
    if let Some(result) = one_off(&cli, &config) {
        return match result {
            Ok(report) => {
                print!("{report}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("minicrew: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("minicrew: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("minicrew: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    if let Some(Command::Health { url }) = &cli.command {
        let url = match url {
            Some(u) => u.clone(),
            None => minicrew::health_probe::health_url(&config)?,
        };
        let status = minicrew::health_probe::probe(&url).await?;
        println!("{status}");
        return Ok(());
    }
    if let Some(Command::Doctor) = cli.command {
        let (report, ok) = minicrew::doctor::run(&config).await;
        print!("{report}");
        anyhow::ensure!(ok, "some checks failed");
        return Ok(());
    }

    let app = App::build(config).await?;
    if cli.auth_gmail {
        return auth_gmail(&app, cli.user, !cli.no_browser).await;
    }
    match cli.command {
        Some(Command::Chat { user }) => {
            let chat_id = user
                .map(minicrew::ids::ChatId)
                .unwrap_or(app.owner().chat_id);
            let name = if chat_id == app.owner().chat_id {
                app.owner().display_name.clone()
            } else {
                "Terminal user".into()
            };
            minicrew::terminal::run_chat(app.dispatcher(), chat_id, &name).await?;
            Ok(())
        }
        // doctor and the one-off commands are handled before the app is built
        Some(_) => Ok(()),
        None => {
            let shutdown = CancellationToken::new();
            tokio::spawn(stop_on_signal(shutdown.clone()));
            app.run_until_stopped(shutdown).await
        }
    }
}

/// `backup`, `restore` and `config`: commands that run without the bot, or `None`.
fn one_off(cli: &Cli, config: &Config) -> Option<Result<String, String>> {
    use minicrew::cli;
    Some(match &cli.command {
        Some(Command::Backup(args)) => cli::backup::run(config, args).map_err(|e| e.to_string()),
        Some(Command::Restore(args)) => cli::restore::run(config, args).map_err(|e| e.to_string()),
        Some(Command::Config) => {
            cli::show_config::render(cli.env_file.as_deref(), VERSION).map_err(|e| e.to_string())
        }
        _ => return None,
    })
}

/// `--auth-gmail`: the one-time OAuth flow in the browser; the token is stored encrypted.
async fn auth_gmail(app: &App, user: Option<i64>, open_browser: bool) -> anyhow::Result<()> {
    let services = app.services();
    let user_id = gmail::resolve_cli_user(&services.store, &services.config, user).await?;
    let connected = gmail::run_cli_auth(
        &services.config,
        user_id,
        gmail::CliAuthOptions::new(open_browser),
    )
    .await?;
    println!("{}", connected.summary());
    Ok(())
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    shutdown.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("signal received");
    shutdown.cancel();
}
