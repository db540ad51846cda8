//! `minicrew doctor`: checks the configuration, the database, Telegram, each LLM provider, the
//! web search backend, the Gmail tokens and each MCP server, one line per check, so a new user
//! sees at once what is wrong. Exit 1 on any failure. Provider checks send one tiny request each
//! (a few tokens).

use std::fmt::Write as _;
use std::time::Duration;

use teloxide::prelude::*;

use crate::config::{BotMode, Config};
use crate::gmail::{ClientSecret, SecretKey, TokenStore};
use crate::llm::{self, LlmRequest, ProviderRegistry, Tier, ToolChoice, Turn};
use crate::store::Store;
use crate::telegram::{build_bot, describe_error};

/// One check's outcome.
struct Check {
    name: String,
    result: Result<String, String>,
}

/// Runs every check, writes one line each to the returned report, and says whether all passed.
pub async fn run(config: &Config) -> (String, bool) {
    let mut checks = vec![Check {
        name: "config".into(),
        result: Ok(summary(config)),
    }];
    let store = Store::open(&config.data_dir);
    checks.push(Check {
        name: "database".into(),
        result: match &store {
            Ok(_) => Ok(format!(
                "{} opened and migrated",
                config.data_dir.join("minicrew.db").display()
            )),
            Err(e) => Err(e.to_string()),
        },
    });
    checks.push(telegram(config).await);
    checks.extend(providers(config).await);
    checks.push(Check {
        name: "web search".into(),
        result: Ok(config.web_search.summary()),
    });
    if let Ok(store) = &store {
        checks.push(gmail(config, store).await);
    }
    for (name, result) in crate::mcp::check::check_all(&config.mcp).await {
        checks.push(Check { name, result });
    }
    let mut report = String::new();
    let mut ok = true;
    for c in &checks {
        let (mark, text) = match &c.result {
            Ok(t) => ("ok  ", t),
            Err(t) => {
                ok = false;
                ("FAIL", t)
            }
        };
        let _ = writeln!(report, "{mark} {}: {text}", c.name);
    }
    (report, ok)
}

fn summary(config: &Config) -> String {
    let mode = match config.telegram.mode {
        BotMode::Polling => "polling",
        BotMode::Webhook => "webhook",
    };
    let providers: Vec<&str> = config
        .llm
        .providers
        .iter()
        .map(|p| p.kind.as_str())
        .collect();
    format!(
        "mode {mode}, owner chat {}, providers [{}]",
        config.owner_chat_id,
        providers.join(", ")
    )
}

async fn telegram(config: &Config) -> Check {
    let name = "telegram".to_string();
    let Some(token) = &config.telegram.token else {
        return Check {
            name,
            result: Err("TELEGRAM_BOT_TOKEN is not set".into()),
        };
    };
    let bot = match build_bot(token, &config.telegram.api_url) {
        Ok(b) => b,
        Err(e) => {
            return Check {
                name,
                result: Err(e.to_string()),
            };
        }
    };
    let checked = async {
        let me = bot.get_me().await.map_err(|e| describe_error(&e))?;
        let info = bot
            .get_webhook_info()
            .await
            .map_err(|e| describe_error(&e))?;
        let webhook = info.url.map(|u| u.to_string()).unwrap_or_default();
        let state = match (config.telegram.mode, webhook.is_empty()) {
            (BotMode::Polling, false) => {
                format!("; a webhook is set ({webhook}) and will be removed at start")
            }
            (BotMode::Webhook, true) => "; no webhook set yet (it is set at start)".to_string(),
            _ => String::new(),
        };
        Ok(format!("@{}{state}", me.username()))
    };
    let result = tokio::time::timeout(Duration::from_secs(20), checked)
        .await
        .unwrap_or_else(|_| Err("timed out".to_string()));
    Check { name, result }
}

async fn providers(config: &Config) -> Vec<Check> {
    let http = match llm::http_client(config.llm.timeout) {
        Ok(h) => h,
        Err(_) => {
            return vec![Check {
                name: "llm".into(),
                result: Err("cannot build the HTTP client".into()),
            }];
        }
    };
    if config.llm.providers.is_empty() {
        let hint = "no provider configured (set ANTHROPIC_API_KEY, GEMINI_API_KEY or OPENAI_API_KEY to chat)";
        return vec![Check {
            name: "llm".into(),
            result: Ok(hint.into()),
        }];
    }
    let registry = ProviderRegistry::from_config(&config.llm, &http);
    let mut checks = Vec::new();
    for kind in registry.kinds() {
        let Some(provider) = registry.get(kind) else {
            continue;
        };
        let request = LlmRequest {
            system: "Reply with the word ok.".into(),
            turns: vec![Turn::User("ping".into())],
            tools: Vec::new(),
            tool_choice: ToolChoice::None,
            model: provider.model(Tier::Cheap).to_string(),
            max_tokens: 8,
        };
        let result = match provider.complete(&request).await {
            Ok(r) => Ok(format!("{} answered", r.model)),
            Err(e) => Err(format!("{e}")),
        };
        checks.push(Check {
            name: format!("llm {kind}"),
            result,
        });
    }
    checks
}

async fn gmail(config: &Config, store: &Store) -> Check {
    let name = "gmail".to_string();
    if ClientSecret::load(&config.gmail.client_secret_file).is_err() {
        let hint = format!(
            "no OAuth client at {} (only needed for /email)",
            config.gmail.client_secret_file.display()
        );
        return Check {
            name,
            result: Ok(hint),
        };
    }
    let key = match SecretKey::load_or_create(config.secret_key.as_ref(), &config.data_dir) {
        Ok(k) => k,
        Err(e) => {
            return Check {
                name,
                result: Err(e.to_string()),
            };
        }
    };
    let tokens = TokenStore::new(&config.gmail.credentials_dir, key);
    let users = store.list_users().await.unwrap_or_default();
    let (mut connected, mut broken) = (0, Vec::new());
    for user in users {
        match tokens.load(user.id).await {
            Ok(Some(_)) => connected += 1,
            Ok(None) => {}
            Err(e) => broken.push(format!("user {}: {e}", user.id)),
        }
    }
    let result = if broken.is_empty() {
        Ok(format!("client file found; {connected} user(s) connected"))
    } else {
        Err(broken.join("; "))
    };
    Check { name, result }
}
