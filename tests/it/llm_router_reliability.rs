//! Router reliability against the fakes: retries, `retry-after`, timeouts, no retry on auth or
//! quota errors, fallback with the tool loop's state intact, cancellation, usage rows, and that
//! no API key ever shows in an error or a request URL.

use std::time::Duration;

use minicrew::llm::{ProviderKind, RouterError};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{Runner, chat, count, key, router, start, store, usage_rows};
use crate::support::fake_llm::{FAKE_INPUT_TOKENS, FAKE_OUTPUT_TOKENS, Reply, Wire};

const SHORT: Duration = Duration::from_secs(1);

#[tokio::test]
async fn server_error_is_retried_and_every_attempt_is_recorded() {
    let (store, _dir) = store().await;
    let fake = start(Wire::Claude).await;
    fake.script([Reply::status(500), Reply::text("ok now")]);
    let router = router(&store, &[(&fake, Wire::Claude)], SHORT);
    let reply = router
        .reply(chat("hi"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.text, "ok now");
    assert_eq!(fake.requests().len(), 2);
    let rows = usage_rows(&store).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].5.as_str(), rows[0].6.as_deref()),
        ("error", Some("server"))
    );
    let ok = &rows[1];
    assert_eq!(
        (ok.0.as_str(), ok.1.as_str()),
        ("claude", "claude-haiku-4-5")
    );
    assert_eq!(
        (ok.2, ok.3),
        (FAKE_INPUT_TOKENS as i64, FAKE_OUTPUT_TOKENS as i64)
    );
    assert!(ok.4 > 0.0, "cost comes from the price table");
    assert_eq!(ok.5, "ok");
}

#[tokio::test]
async fn claude_overloaded_529_is_retried() {
    let (store, _dir) = store().await;
    let fake = start(Wire::Claude).await;
    fake.script([
        Reply::status(529),
        Reply::status(529),
        Reply::text("finally"),
    ]);
    let router = router(&store, &[(&fake, Wire::Claude)], SHORT);
    let reply = router
        .reply(chat("hi"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.text, "finally");
    assert_eq!(usage_rows(&store).await[0].6.as_deref(), Some("overloaded"));
}

#[tokio::test]
async fn rate_limit_with_retry_after_is_honoured_then_succeeds() {
    let (store, _dir) = store().await;
    let fake = start(Wire::OpenAi).await;
    fake.script([Reply::rate_limited(1), Reply::text("after the wait")]);
    let router = router(&store, &[(&fake, Wire::OpenAi)], SHORT);
    let reply = router
        .reply(chat("hi"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.text, "after the wait");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_moves_on_to_the_next_provider() {
    let (store, _dir) = store().await;
    let claude = start(Wire::Claude).await;
    let gemini = start(Wire::Gemini).await;
    claude.always(Reply::rate_limited(600));
    gemini.script([Reply::text("gemini here")]);
    let router = router(
        &store,
        &[(&claude, Wire::Claude), (&gemini, Wire::Gemini)],
        SHORT,
    );
    let reply = router
        .reply(chat("hi"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.provider, ProviderKind::Gemini);
    assert_eq!(claude.requests().len(), 1);
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let (store, _dir) = store().await;
    let fake = start(Wire::Gemini).await;
    fake.script([
        Reply::delayed(Duration::from_secs(3), Reply::text("too late")),
        Reply::text("in time"),
    ]);
    let router = router(&store, &[(&fake, Wire::Gemini)], SHORT);
    let reply = router
        .reply(chat("hi"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.text, "in time");
    assert_eq!(usage_rows(&store).await[0].6.as_deref(), Some("timeout"));
}

#[tokio::test]
async fn unauthorized_is_not_retried_and_falls_back() {
    let (store, _dir) = store().await;
    let claude = start(Wire::Claude).await;
    let openai = start(Wire::OpenAi).await;
    claude.always(Reply::status(401));
    openai.script([Reply::text("from openai")]);
    let router = router(
        &store,
        &[(&claude, Wire::Claude), (&openai, Wire::OpenAi)],
        SHORT,
    );
    let reply = router
        .reply(chat("hi"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.text, "from openai");
    assert_eq!(claude.requests().len(), 1, "401 is not retried");
}

#[tokio::test]
async fn openai_insufficient_quota_is_not_retried() {
    let (store, _dir) = store().await;
    let openai = start(Wire::OpenAi).await;
    openai.always(Reply::Raw {
        status: 429,
        body: json!({"error": {"message": "You exceeded your current quota",
            "type": "insufficient_quota", "code": "insufficient_quota"}}),
    });
    let router = router(&store, &[(&openai, Wire::OpenAi)], SHORT);
    let err = router
        .reply(chat("hi"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(openai.requests().len(), 1);
    assert!(
        err.user_message().contains("quota"),
        "{}",
        err.user_message()
    );
}

#[tokio::test]
async fn claude_outage_mid_conversation_falls_back_to_gemini_with_tool_results_intact() {
    let (store, _dir) = store().await;
    let claude = start(Wire::Claude).await;
    let gemini = start(Wire::Gemini).await;
    claude.script([Reply::tool("get_weather", json!({"city": "Oslo"}))]);
    claude.always(Reply::status(503));
    gemini.script([Reply::text("Sunny in Oslo (via Gemini).")]);
    let runner = Runner::default();
    let router = router(
        &store,
        &[(&claude, Wire::Claude), (&gemini, Wire::Gemini)],
        SHORT,
    );
    let reply = router
        .reply(chat("weather in Oslo?"), &runner, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.provider, ProviderKind::Gemini);
    assert_eq!(reply.tools_used, vec!["get_weather"]);
    assert_eq!(runner.calls.lock().unwrap().len(), 1, "the tool ran once");
    assert_eq!(
        claude.requests().len(),
        4,
        "one answer, then three attempts"
    );
    let body = &gemini.requests()[0].body;
    assert_eq!(count(body, "weather in Oslo?"), 1);
    let contents = body["contents"].as_array().unwrap();
    let call = &contents[contents.len() - 2]["parts"][0];
    assert_eq!(call["functionCall"]["name"], "get_weather");
    assert_eq!(call["functionCall"]["args"]["city"], "Oslo");
    assert!(
        call["thoughtSignature"].is_string(),
        "foreign calls carry the documented placeholder"
    );
    let result = &contents[contents.len() - 1]["parts"][0]["functionResponse"];
    assert_eq!(result["response"]["result"], "sunny, 21C in Oslo");
}

#[tokio::test]
async fn the_preferred_provider_is_tried_first() {
    let (store, _dir) = store().await;
    let claude = start(Wire::Claude).await;
    let gemini = start(Wire::Gemini).await;
    gemini.script([Reply::text("gemini first")]);
    let router = router(
        &store,
        &[(&claude, Wire::Claude), (&gemini, Wire::Gemini)],
        SHORT,
    );
    let mut req = chat("hi");
    req.preferred = Some(ProviderKind::Gemini);
    let reply = router
        .reply(req, &Runner::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.text, "gemini first");
    assert!(claude.requests().is_empty());
}

#[tokio::test]
async fn all_providers_down_gives_one_sentence_naming_them_and_no_key() {
    let (store, _dir) = store().await;
    let claude = start(Wire::Claude).await;
    let gemini = start(Wire::Gemini).await;
    claude.always(Reply::status(500));
    gemini.always(Reply::Raw {
        status: 401,
        body: json!({"error": {"code": 401, "status": "UNAUTHENTICATED",
            "message": format!("key {} is invalid", key(ProviderKind::Gemini))}}),
    });
    let router = router(
        &store,
        &[(&claude, Wire::Claude), (&gemini, Wire::Gemini)],
        SHORT,
    );
    let err = router
        .reply(chat("hi"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, RouterError::AllFailed(ref f) if f.len() == 2));
    assert_eq!(
        err.user_message(),
        "Claude and Gemini are both unavailable right now; your message is saved, try again in a minute."
    );
    for text in [err.to_string(), format!("{err:?}"), err.user_message()] {
        for kind in [ProviderKind::Claude, ProviderKind::Gemini] {
            assert!(!text.contains(&key(kind)), "key leaked: {text}");
        }
    }
    for req in claude.requests().iter().chain(gemini.requests().iter()) {
        assert!(!req.uri.contains("s3cr3t"));
    }
}

#[tokio::test]
async fn cancellation_stops_a_slow_call_promptly() {
    let (store, _dir) = store().await;
    let fake = start(Wire::Claude).await;
    fake.always(Reply::delayed(
        Duration::from_secs(30),
        Reply::text("never"),
    ));
    let router = router(&store, &[(&fake, Wire::Claude)], Duration::from_secs(60));
    let cancel = CancellationToken::new();
    let task = {
        let (router, cancel) = (router.clone(), cancel.clone());
        tokio::spawn(async move { router.reply(chat("hi"), &Runner::default(), &cancel).await })
    };
    fake.wait_for_requests(1).await;
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("prompt")
        .unwrap();
    assert_eq!(result.unwrap_err(), RouterError::Cancelled);
}

#[tokio::test]
async fn tools_disabled_sends_no_tools_and_history_is_bounded() {
    let (store, _dir) = store().await;
    let fake = start(Wire::Claude).await;
    fake.script([Reply::text("summary")]);
    let router = router(&store, &[(&fake, Wire::Claude)], SHORT);
    let mut req = chat("summarise this email");
    req.allow_tools = false;
    req.history = (0..9)
        .map(|i| {
            let role = if i % 2 == 0 {
                minicrew::llm::Role::User
            } else {
                minicrew::llm::Role::Assistant
            };
            (role, format!("line-{i}"))
        })
        .collect();
    router
        .reply(req, &Runner::default(), &CancellationToken::new())
        .await
        .unwrap();
    let body = &fake.requests()[0].body;
    assert!(body.get("tools").is_none());
    assert_eq!(
        count(body, "line-4"),
        0,
        "only the last 4 lines are context"
    );
    assert_eq!(count(body, "line-5"), 0, "context starts with a user line");
    assert_eq!(count(body, "line-6"), 1);
    assert_eq!(count(body, "line-8"), 1);
}

#[tokio::test]
async fn an_endless_tool_loop_is_bounded_and_the_last_round_forbids_tools() {
    let (store, _dir) = store().await;
    let fake = start(Wire::Claude).await;
    fake.always(Reply::tool("get_weather", json!({"city": "Oslo"})));
    let router = router(&store, &[(&fake, Wire::Claude)], SHORT);
    let err = router
        .reply(chat("loop"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        RouterError::ToolLoopLimit(minicrew::llm::router::MAX_TOOL_ROUNDS)
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), minicrew::llm::router::MAX_TOOL_ROUNDS);
    assert!(requests[0].body.get("tool_choice").is_none());
    assert_eq!(requests.last().unwrap().body["tool_choice"]["type"], "none");
}

#[tokio::test]
async fn a_timeout_moves_to_the_next_provider_instead_of_waiting_again() {
    let (store, _dir) = store().await;
    let (claude, gemini) = (start(Wire::Claude).await, start(Wire::Gemini).await);
    claude.always(Reply::delayed(
        Duration::from_secs(3),
        Reply::text("too late"),
    ));
    gemini.script([Reply::text("from gemini")]);
    let router = router(
        &store,
        &[(&claude, Wire::Claude), (&gemini, Wire::Gemini)],
        SHORT,
    );
    let reply = router
        .reply(chat("hi"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.text, "from gemini");
    assert_eq!(
        claude.requests().len(),
        1,
        "the hung provider is not asked twice"
    );
}

/// Bound for a reply that must not wait on a hostile retry hint (the fakes answer at once).
const PROMPTLY: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_retry_after_of_1e20_or_inf_falls_back_at_once_without_panicking() {
    for hostile in ["1e20", "inf", "99999999999999999999"] {
        let (store, _dir) = store().await;
        let claude = start(Wire::Claude).await;
        let openai = start(Wire::OpenAi).await;
        claude.always(Reply::rate_limited_raw(hostile));
        openai.script([Reply::text("openai answers")]);
        let router = router(
            &store,
            &[(&claude, Wire::Claude), (&openai, Wire::OpenAi)],
            SHORT,
        );
        let reply = tokio::time::timeout(
            PROMPTLY,
            router.reply(chat("hi"), &Runner::default(), &CancellationToken::new()),
        )
        .await
        .unwrap_or_else(|_| panic!("retry-after {hostile} made the router wait"))
        .unwrap();
        assert_eq!(reply.text, "openai answers", "retry-after {hostile}");
        assert_eq!(
            claude.requests().len(),
            1,
            "retry-after {hostile}: no retry"
        );
    }
}

#[tokio::test]
async fn a_negative_retry_after_is_no_hint_and_our_own_short_backoff_applies() {
    let (store, _dir) = store().await;
    let fake = start(Wire::OpenAi).await;
    fake.script([
        Reply::rate_limited_raw("-1"),
        Reply::rate_limited_raw("NaN"),
        Reply::text("third time lucky"),
    ]);
    let router = router(&store, &[(&fake, Wire::OpenAi)], SHORT);
    let reply = tokio::time::timeout(
        PROMPTLY,
        router.reply(chat("hi"), &Runner::default(), &CancellationToken::new()),
    )
    .await
    .expect("no wait beyond the policy's backoff")
    .unwrap();
    assert_eq!(reply.text, "third time lucky");
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_gemini_retry_delay_of_1e20s_falls_back_at_once() {
    let (store, _dir) = store().await;
    let gemini = start(Wire::Gemini).await;
    let claude = start(Wire::Claude).await;
    gemini.always(Reply::Raw {
        status: 429,
        body: json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "slow down",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                         "retryDelay": "1e20s"}]}}),
    });
    claude.script([Reply::text("claude answers")]);
    let router = router(
        &store,
        &[(&gemini, Wire::Gemini), (&claude, Wire::Claude)],
        SHORT,
    );
    let reply = tokio::time::timeout(
        PROMPTLY,
        router.reply(chat("hi"), &Runner::default(), &CancellationToken::new()),
    )
    .await
    .expect("a 1e20 s retry delay is not slept")
    .unwrap();
    assert_eq!(reply.provider, ProviderKind::Claude);
    assert_eq!(gemini.requests().len(), 1);
}

#[tokio::test]
async fn a_huge_retry_after_on_the_only_provider_fails_fast_instead_of_sleeping() {
    let (store, _dir) = store().await;
    let fake = start(Wire::Claude).await;
    fake.always(Reply::rate_limited_raw("1e20"));
    let router = router(&store, &[(&fake, Wire::Claude)], SHORT);
    let result = tokio::time::timeout(
        PROMPTLY,
        router.reply(chat("hi"), &Runner::default(), &CancellationToken::new()),
    )
    .await
    .expect("the router gives up at once");
    assert!(
        matches!(&result, Err(RouterError::AllFailed(f)) if f.len() == 1),
        "{result:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn absurd_token_counts_are_cut_instead_of_overflowing() {
    let (store, _dir) = store().await;
    let fake = start(Wire::Gemini).await;
    let max = u64::MAX;
    fake.script([Reply::Raw {
        status: 200,
        body: json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "big"}]},
            "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": max, "candidatesTokenCount": max,
                "thoughtsTokenCount": max}}),
    }]);
    let router = router(&store, &[(&fake, Wire::Gemini)], SHORT);
    let reply = router
        .reply(chat("hi"), &Runner::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply.text, "big");
    assert_eq!(
        (reply.input_tokens, reply.output_tokens),
        (100_000_000, 100_000_000)
    );
    let rows = usage_rows(&store).await;
    assert_eq!((rows[0].2, rows[0].3), (100_000_000, 100_000_000));
}
