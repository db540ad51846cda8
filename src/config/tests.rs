//! Tests of config validation: every error names its key.

use super::*;

fn env(pairs: &[(&str, &str)]) -> EnvReader {
    EnvReader::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

const MINIMAL: &[(&str, &str)] = &[
    ("TELEGRAM_BOT_TOKEN", "123:abc"),
    ("OWNER_TELEGRAM_CHAT_ID", "42"),
];

#[test]
fn minimal_daemon_config_uses_contract_defaults() {
    let c = Config::from_reader(&env(MINIMAL), Purpose::Daemon).unwrap();
    assert_eq!(c.owner_chat_id, ChatId(42));
    assert_eq!(c.telegram.mode, BotMode::Polling);
    assert_eq!(c.telegram.api_url.as_str(), "https://api.telegram.org/");
    assert_eq!((c.telegram.rate_global, c.telegram.rate_per_chat), (30, 1));
    assert_eq!(c.llm.max_context_messages, 10);
    assert_eq!(c.timezone, crate::timezone::Timezone::UTC);
    assert_eq!(c.morning_briefing_time, NaiveTime::from_hms_opt(7, 0, 0));
    assert!(c.llm.providers.is_empty());
    assert_eq!(c.data_dir, PathBuf::from("data"));
}

#[test]
fn missing_token_names_the_key() {
    let err = Config::from_reader(&env(&[("OWNER_TELEGRAM_CHAT_ID", "42")]), Purpose::Daemon)
        .unwrap_err();
    assert_eq!(err.key, "TELEGRAM_BOT_TOKEN");
}

#[test]
fn local_purpose_needs_no_telegram_key() {
    let c = Config::from_reader(&env(&[]), Purpose::Local).unwrap();
    assert!(c.telegram.token.is_none());
    assert_eq!(c.owner_chat_id, LOCAL_OWNER_CHAT_ID);
}

#[test]
fn non_numeric_owner_names_the_key() {
    let err = Config::from_reader(
        &env(&[
            ("TELEGRAM_BOT_TOKEN", "1:a"),
            ("OWNER_TELEGRAM_CHAT_ID", "me"),
        ]),
        Purpose::Daemon,
    )
    .unwrap_err();
    assert_eq!(err.key, "OWNER_TELEGRAM_CHAT_ID");
    assert!(err.problem.contains("'me'"));
}

#[test]
fn webhook_mode_requires_https_host_and_secret() {
    let mut pairs = MINIMAL.to_vec();
    pairs.push(("BOT_MODE", "webhook"));
    let err = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap_err();
    assert_eq!(err.key, "WEBHOOK_HOST");
    pairs.push(("WEBHOOK_HOST", "http://bot.example.org"));
    let err = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap_err();
    assert_eq!(err.key, "WEBHOOK_HOST");
    pairs.pop();
    pairs.push(("WEBHOOK_HOST", "https://bot.example.org"));
    let err = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap_err();
    assert_eq!(err.key, "TELEGRAM_WEBHOOK_SECRET");
    pairs.push(("TELEGRAM_WEBHOOK_SECRET", "s3cret_value-0123456789"));
    let c = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap();
    let hook = c.telegram.webhook.unwrap();
    assert_eq!(hook.path, "/bot/webhook");
    assert_eq!(hook.listen.port(), 8443);
}

fn webhook_pairs(secret: &str) -> Vec<(&str, &str)> {
    let mut pairs = MINIMAL.to_vec();
    pairs.extend([
        ("BOT_MODE", "webhook"),
        ("WEBHOOK_HOST", "https://bot.example.org"),
        ("TELEGRAM_WEBHOOK_SECRET", secret),
    ]);
    pairs
}

#[test]
fn a_short_webhook_secret_is_refused_naming_the_key_without_its_value() {
    for short in ["Q", "short_secret_Q7"] {
        let err = Config::from_reader(&env(&webhook_pairs(short)), Purpose::Daemon).unwrap_err();
        assert_eq!(err.key, "TELEGRAM_WEBHOOK_SECRET");
        assert!(err.problem.contains("at least 16"), "{}", err.problem);
        assert!(!err.to_string().contains(short), "{err}");
        assert_eq!(err.to_string().lines().count(), 1);
    }
}

#[test]
fn a_webhook_secret_with_characters_telegram_rejects_is_refused() {
    for bad in [
        "has space in it 0123",
        "dots.are.not.allowed.x",
        "ünïcödé_0123456789",
    ] {
        let err = Config::from_reader(&env(&webhook_pairs(bad)), Purpose::Daemon).unwrap_err();
        assert_eq!(err.key, "TELEGRAM_WEBHOOK_SECRET", "{bad}");
        assert!(err.problem.contains("A-Z a-z 0-9 _ -"), "{}", err.problem);
    }
    let too_long = "a".repeat(257);
    let err = Config::from_reader(&env(&webhook_pairs(&too_long)), Purpose::Daemon).unwrap_err();
    assert!(err.problem.contains("at most 256"), "{}", err.problem);
}

#[test]
fn webhook_secrets_of_16_and_256_allowed_characters_are_accepted() {
    let longest = "A_-z9".repeat(51) + "x";
    for good in ["0123456789abcdef", "A-Z_a-z_0-9-----", longest.as_str()] {
        let c = Config::from_reader(&env(&webhook_pairs(good)), Purpose::Daemon)
            .unwrap_or_else(|e| panic!("{good}: {e}"));
        assert!(c.telegram.webhook.is_some());
    }
}

#[test]
fn providers_follow_fallback_order_and_default() {
    let mut pairs = MINIMAL.to_vec();
    pairs.extend([
        ("ANTHROPIC_API_KEY", "sk-ant"),
        ("GEMINI_API_KEY", "gk"),
        ("LLM_FALLBACK_ORDER", "gemini,claude"),
    ]);
    let c = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap();
    let kinds: Vec<_> = c.llm.providers.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [ProviderKindAlias::Gemini, ProviderKindAlias::Claude]
    );
    assert_eq!(c.llm.default, Some(ProviderKindAlias::Gemini));
}

#[test]
fn openai_compatible_server_needs_no_key_but_a_model() {
    let mut pairs = MINIMAL.to_vec();
    pairs.push(("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"));
    let err = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap_err();
    assert_eq!(err.key, "OPENAI_MODEL_CHEAP");
    pairs.push(("OPENAI_MODEL_CHEAP", "llama3.1"));
    let c = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap();
    let p = c.llm.provider(ProviderKindAlias::OpenAi).unwrap();
    assert!(p.api_key.is_none());
    assert_eq!(p.model_mid, "llama3.1");
}

#[test]
fn a_provider_gives_the_model_configured_for_each_tier() {
    let mut pairs = MINIMAL.to_vec();
    pairs.extend([
        ("ANTHROPIC_API_KEY", "sk-ant-x"),
        ("CLAUDE_MODEL_CHEAP", "small-one"),
        ("CLAUDE_MODEL_MID", "big-one"),
    ]);
    let c = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap();
    let p = c.llm.provider(ProviderKindAlias::Claude).unwrap();
    assert_eq!(p.model(super::Tier::Cheap), "small-one");
    assert_eq!(p.model(super::Tier::Mid), "big-one");
}

#[test]
fn default_llm_must_be_configured() {
    let mut pairs = MINIMAL.to_vec();
    pairs.push(("DEFAULT_LLM", "gemini"));
    let err = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap_err();
    assert_eq!(err.key, "DEFAULT_LLM");
}

#[test]
fn empty_briefing_time_disables_it_and_bad_time_names_key() {
    let mut pairs = MINIMAL.to_vec();
    pairs.push(("MORNING_BRIEFING_TIME", ""));
    assert_eq!(
        Config::from_reader(&env(&pairs), Purpose::Daemon)
            .unwrap()
            .morning_briefing_time,
        None
    );
    pairs.pop();
    pairs.push(("MORNING_BRIEFING_TIME", "7am"));
    assert_eq!(
        Config::from_reader(&env(&pairs), Purpose::Daemon)
            .unwrap_err()
            .key,
        "MORNING_BRIEFING_TIME"
    );
}

#[test]
fn bad_timezone_names_the_key() {
    let mut pairs = MINIMAL.to_vec();
    pairs.push(("TIMEZONE", "Mars/Olympus"));
    assert_eq!(
        Config::from_reader(&env(&pairs), Purpose::Daemon)
            .unwrap_err()
            .key,
        "TIMEZONE"
    );
}

#[test]
fn debug_output_hides_secrets() {
    let mut pairs = MINIMAL.to_vec();
    pairs.push(("ANTHROPIC_API_KEY", "sk-ant-very-secret"));
    let c = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap();
    let printed = format!("{c:?}");
    assert!(!printed.contains("sk-ant-very-secret"));
    assert!(!printed.contains("123:abc"));
}

use super::ProviderKind as ProviderKindAlias;

#[test]
fn env_example_loads_once_the_two_required_keys_are_filled() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example");
    let mut values: std::collections::HashMap<String, String> = dotenvy::from_path_iter(path)
        .unwrap()
        .map(|kv| kv.unwrap())
        .collect();
    for key in KNOWN_KEYS.iter().filter(|k| !k.starts_with("RUST_")) {
        assert!(values.contains_key(*key), ".env.example documents {key}");
    }
    let local = Config::from_reader(&EnvReader::new(values.clone()), Purpose::Local).unwrap();
    assert!(
        local.llm.providers.is_empty(),
        "no provider until a key is filled in"
    );
    values.insert("TELEGRAM_BOT_TOKEN".into(), "123:abc".into());
    values.insert("OWNER_TELEGRAM_CHAT_ID".into(), "42".into());
    let daemon = Config::from_reader(&EnvReader::new(values), Purpose::Daemon).unwrap();
    assert_eq!(daemon.telegram.mode, BotMode::Polling);
}

#[test]
fn groups_defaults_to_approved_accepts_off_and_names_the_key_otherwise() {
    let load = |value: Option<&str>| {
        let mut pairs = MINIMAL.to_vec();
        pairs.extend(value.map(|v| ("GROUPS", v)));
        Config::from_reader(&env(&pairs), Purpose::Daemon)
    };
    assert_eq!(load(None).unwrap().groups, super::GroupsMode::Approved);
    assert_eq!(load(Some("OFF")).unwrap().groups, super::GroupsMode::Off);
    let err = load(Some("sometimes")).unwrap_err();
    assert_eq!(err.key, "GROUPS");
    assert!(err.to_string().contains("approved or off"), "{err}");
}

#[test]
fn media_and_vision_keys_are_validated_and_name_their_key() {
    let c = Config::from_reader(&env(MINIMAL), Purpose::Daemon).unwrap();
    assert_eq!(c.media_max_bytes, 20 * 1024 * 1024);
    for bad in ["0", "21", "lots"] {
        let mut pairs = MINIMAL.to_vec();
        pairs.push(("MEDIA_MAX_MB", bad));
        let err = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap_err();
        assert_eq!(err.key, "MEDIA_MAX_MB", "{bad}");
    }
    let mut pairs = MINIMAL.to_vec();
    pairs.extend([
        ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
        ("OPENAI_MODEL_CHEAP", "llava"),
    ]);
    pairs.push(("OPENAI_VISION", "maybe"));
    let err = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap_err();
    assert_eq!(err.key, "OPENAI_VISION");
    pairs.pop();
    pairs.push(("OPENAI_VISION", "true"));
    let c = Config::from_reader(&env(&pairs), Purpose::Daemon).unwrap();
    assert_eq!(c.llm.providers[0].vision, Some(true));
}
