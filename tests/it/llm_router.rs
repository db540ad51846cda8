//! The LLM router against fake Claude, Gemini and OpenAI-compatible servers and a real SQLite
//! store: wire formats, the native tool loop, retry, fallback, cancellation and usage records.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::TimeZone;
use minicrew::config::{LlmConfig, ProviderConfig};
use minicrew::ids::UserId;
use minicrew::llm::{
    ChatRequest, LlmRouter, ProviderKind, RetryPolicy, Role, Tier, ToolRunner, ToolSpec,
    http_client,
};
use minicrew::store::Store;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::fake_llm::{FAKE_INPUT_TOKENS, FAKE_OUTPUT_TOKENS, FakeLlm, Reply, Wire};

pub const USER_ID: i64 = 1;

/// A store in a temp dir with one user row.
pub async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .call(|c| {
            c.execute(
                "INSERT INTO users (id, chat_id, display_name, status, created_at, updated_at)
                 VALUES (?1, 42, 'Ada', 'owner', 0, 0)",
                [USER_ID],
            )
        })
        .await
        .unwrap();
    (store, dir)
}

fn key(kind: ProviderKind) -> String {
    format!("test-key-{kind}-s3cr3t")
}

fn wire_kind(wire: Wire) -> ProviderKind {
    match wire {
        Wire::Claude => ProviderKind::Claude,
        Wire::Gemini => ProviderKind::Gemini,
        Wire::OpenAi => ProviderKind::OpenAi,
    }
}

fn provider(fake: &FakeLlm, wire: Wire) -> ProviderConfig {
    let kind = wire_kind(wire);
    let (cheap, mid) = match kind {
        ProviderKind::Claude => ("claude-haiku-4-5", "claude-sonnet-4-5"),
        ProviderKind::Gemini => ("gemini-2.5-flash", "gemini-2.5-pro"),
        ProviderKind::OpenAi => ("gpt-4.1-mini", "gpt-4.1"),
    };
    ProviderConfig {
        kind,
        api_key: Some(SecretString::from(key(kind))),
        base_url: fake.base_url(),
        model_cheap: cheap.into(),
        model_mid: mid.into(),
        vision: None,
    }
}

/// A router over `fakes` (in fallback order) with a short timeout and fast retries.
fn router(store: &Store, fakes: &[(&FakeLlm, Wire)], timeout: Duration) -> LlmRouter {
    let config = LlmConfig {
        providers: fakes.iter().map(|(f, w)| provider(f, *w)).collect(),
        default: None,
        fallback_order: fakes.iter().map(|(_, w)| wire_kind(*w)).collect(),
        timeout,
        system_prompt: Some("Test prompt.".into()),
        max_context_messages: 4,
    };
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_server_wait: Duration::from_secs(5),
    };
    LlmRouter::new(&config, store.clone(), http_client(timeout).unwrap()).with_retry_policy(policy)
}

async fn start(wire: Wire) -> FakeLlm {
    FakeLlm::start(wire).await
}

fn chat(message: &str) -> ChatRequest {
    ChatRequest {
        user_id: UserId(USER_ID),
        user_name: "Ada".into(),
        timezone: minicrew::timezone::Timezone::new(chrono_tz::Europe::Berlin),
        now: chrono::Utc.with_ymd_and_hms(2025, 3, 4, 8, 15, 0).unwrap(),
        preferred: None,
        history: vec![
            (Role::User, "old question".into()),
            (Role::Assistant, "old answer".into()),
        ],
        message: message.into(),
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            description: "Weather for a city".into(),
            parameters: json!({"type": "object",
                "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        }],
        tier: Tier::Cheap,
        speaker: None,
        allow_tools: true,
        journal: None,
        budget: minicrew::llm::Budget::unlimited(),
    }
}

/// Runs tools for real-ish: records every call; `get_weather` answers, others fail.
#[derive(Default)]
struct Runner {
    calls: Mutex<Vec<(String, Value)>>,
}

#[async_trait]
impl ToolRunner for Runner {
    async fn run(&self, name: &str, arguments: Value) -> Result<String, String> {
        self.calls
            .lock()
            .unwrap()
            .push((name.into(), arguments.clone()));
        match name {
            "get_weather" => Ok(format!(
                "sunny, 21C in {}",
                arguments["city"].as_str().unwrap_or("?")
            )),
            _ => Err(format!("no tool {name}")),
        }
    }
}

fn count(haystack: &Value, needle: &str) -> usize {
    haystack.to_string().matches(needle).count()
}

async fn usage_rows(store: &Store) -> Vec<(String, String, i64, i64, f64, String, Option<String>)> {
    store
        .call(|c| {
            let mut s = c.prepare(
                "SELECT provider, model, input_tokens, output_tokens, cost_usd, status, error
                 FROM llm_usage WHERE user_id = 1 ORDER BY id",
            )?;
            let rows = s.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?;
            rows.collect()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn each_provider_answers_text_in_its_own_wire_format() {
    for wire in [Wire::Claude, Wire::Gemini, Wire::OpenAi] {
        let (store, _dir) = store().await;
        let fake = start(wire).await;
        fake.script([Reply::text("Hello Ada")]);
        let router = router(&store, &[(&fake, wire)], Duration::from_secs(2));
        let reply = router
            .reply(
                chat("unique-message-xyz"),
                &Runner::default(),
                &CancellationToken::new(),
            )
            .await
            .unwrap();
        assert_eq!(reply.text, "Hello Ada");
        assert_eq!(reply.provider, wire_kind(wire));
        assert_eq!(
            (reply.input_tokens, reply.output_tokens),
            (FAKE_INPUT_TOKENS, FAKE_OUTPUT_TOKENS)
        );
        let req = &fake.requests()[0];
        let secret = key(wire_kind(wire));
        assert!(
            !req.uri.contains(&secret),
            "key leaked into the URL: {}",
            req.uri
        );
        assert_eq!(
            count(&req.body, "unique-message-xyz"),
            1,
            "current message sent once"
        );
        assert_eq!(count(&req.body, "old question"), 1);
        assert_eq!(
            count(
                &req.body,
                "Ada. Their local date and time is Tuesday 2025-03-04 09:15"
            ),
            1
        );
        match wire {
            Wire::Claude => {
                assert_eq!(req.uri, "/v1/messages");
                assert_eq!(req.header("x-api-key"), secret);
                assert_eq!(req.header("anthropic-version"), "2023-06-01");
                assert_eq!(req.body["tools"][0]["name"], "get_weather");
            }
            Wire::Gemini => {
                assert_eq!(req.uri, "/v1beta/models/gemini-2.5-flash:generateContent");
                assert_eq!(req.header("x-goog-api-key"), secret);
                assert!(req.body["systemInstruction"]["parts"][0]["text"].is_string());
                assert_eq!(
                    req.body["tools"][0]["functionDeclarations"][0]["name"],
                    "get_weather"
                );
            }
            Wire::OpenAi => {
                assert_eq!(req.uri, "/v1/chat/completions");
                assert_eq!(req.header("authorization"), format!("Bearer {secret}"));
                assert_eq!(req.body["tools"][0]["function"]["name"], "get_weather");
                assert_eq!(req.body["messages"][0]["role"], "system");
            }
        }
    }
}

#[tokio::test]
async fn claude_tool_call_is_answered_with_a_native_tool_result() {
    let (store, _dir) = store().await;
    let fake = start(Wire::Claude).await;
    fake.script([
        Reply::tool("get_weather", json!({"city": "Oslo"})),
        Reply::text("It is sunny in Oslo."),
    ]);
    let runner = Runner::default();
    let router = router(&store, &[(&fake, Wire::Claude)], Duration::from_secs(2));
    let reply = router
        .reply(chat("weather?"), &runner, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.text, "It is sunny in Oslo.");
    assert_eq!(reply.tools_used, vec!["get_weather"]);
    assert_eq!(reply.input_tokens, 2 * FAKE_INPUT_TOKENS);
    assert_eq!(
        runner.calls.lock().unwrap().as_slice(),
        &[("get_weather".to_string(), json!({"city": "Oslo"}))]
    );
    let second = &fake.requests()[1].body;
    let messages = second["messages"].as_array().unwrap();
    let last = messages.last().unwrap();
    assert_eq!(last["role"], "user");
    assert_eq!(last["content"][0]["type"], "tool_result");
    assert_eq!(last["content"][0]["tool_use_id"], "toolu_1_0");
    assert_eq!(last["content"][0]["content"], "sunny, 21C in Oslo");
    assert_eq!(
        messages[messages.len() - 2]["content"][0]["type"],
        "tool_use"
    );
    assert_eq!(count(second, "weather?"), 1, "current message sent once");
}

#[tokio::test]
async fn gemini_two_calls_in_one_round_echo_the_thought_signature() {
    let (store, _dir) = store().await;
    let fake = start(Wire::Gemini).await;
    fake.script([
        Reply::Tools(vec![
            ("get_weather".into(), json!({"city": "Oslo"})),
            ("get_weather".into(), json!({"city": "Rome"})),
        ]),
        Reply::text("Oslo sunny, Rome sunny."),
    ]);
    let runner = Runner::default();
    let router = router(&store, &[(&fake, Wire::Gemini)], Duration::from_secs(2));
    let reply = router
        .reply(chat("two cities"), &runner, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.text, "Oslo sunny, Rome sunny.");
    assert_eq!(runner.calls.lock().unwrap().len(), 2);
    let contents = fake.requests()[1].body["contents"]
        .as_array()
        .unwrap()
        .clone();
    let model = &contents[contents.len() - 2];
    assert_eq!(model["role"], "model");
    assert_eq!(model["parts"][0]["thoughtSignature"], "sig-1");
    assert!(model["parts"][1].get("thoughtSignature").is_none());
    let results = &contents[contents.len() - 1];
    assert_eq!(results["role"], "user");
    assert_eq!(
        results["parts"][0]["functionResponse"]["response"]["result"],
        "sunny, 21C in Oslo"
    );
    assert_eq!(
        results["parts"][1]["functionResponse"]["response"]["result"],
        "sunny, 21C in Rome"
    );
}

#[tokio::test]
async fn openai_tool_calls_get_role_tool_results_with_call_ids() {
    let (store, _dir) = store().await;
    let fake = start(Wire::OpenAi).await;
    fake.script([
        Reply::Tools(vec![
            ("get_weather".into(), json!({"city": "Oslo"})),
            ("missing_tool".into(), json!({})),
        ]),
        Reply::tool("get_weather", json!({"city": "Rome"})),
        Reply::text("done"),
    ]);
    let router = router(&store, &[(&fake, Wire::OpenAi)], Duration::from_secs(2));
    let reply = router
        .reply(chat("go"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.text, "done");
    assert_eq!(
        reply.tools_used,
        vec!["get_weather", "missing_tool", "get_weather"]
    );
    let messages = fake.requests()[2].body["messages"]
        .as_array()
        .unwrap()
        .clone();
    let tool_msgs: Vec<&Value> = messages.iter().filter(|m| m["role"] == "tool").collect();
    assert_eq!(tool_msgs.len(), 3);
    assert_eq!(tool_msgs[0]["tool_call_id"], "call_1_0");
    assert_eq!(tool_msgs[1]["content"], "no tool missing_tool");
    assert_eq!(tool_msgs[2]["tool_call_id"], "call_2_0");
    let assistant = messages
        .iter()
        .find(|m| m["tool_calls"].is_array())
        .unwrap();
    assert_eq!(
        assistant["tool_calls"][0]["function"]["arguments"],
        "{\"city\":\"Oslo\"}"
    );
    assert_eq!(count(&Value::Array(messages), "\"go\""), 1);
}

#[path = "llm_router_reliability.rs"]
mod reliability;
