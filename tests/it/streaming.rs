//! Streamed replies through the front door: each provider's real stream format from a fake
//! server whose pieces, pauses and gates the test controls; previews with sendMessageDraft at
//! the fake Bot API; the final text sent once through the outbox.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_llm::{FAKE_INPUT_TOKENS, FAKE_OUTPUT_TOKENS, FakeLlm, Reply, Wire};
use crate::support::fake_llm_stream::Piece;
use crate::support::fake_telegram::{FakeTelegram, Fault};
use crate::support::logs::Logs;

const WIRES: [Wire; 3] = [Wire::Claude, Wire::Gemini, Wire::OpenAi];

/// The env keys that point `wire`'s provider at `model`.
fn provider_env(wire: Wire, model: &FakeLlm) -> Vec<(&'static str, String)> {
    let url = model.base_url().to_string();
    match wire {
        Wire::Claude => vec![
            ("ANTHROPIC_API_KEY", "sk-ant-test".into()),
            ("ANTHROPIC_BASE_URL", url),
        ],
        Wire::Gemini => vec![
            ("GEMINI_API_KEY", "gemini-test".into()),
            ("GEMINI_BASE_URL", url),
        ],
        Wire::OpenAi => vec![
            ("OPENAI_API_KEY", "sk-openai-test".into()),
            ("OPENAI_BASE_URL", url),
            ("OPENAI_MODEL_CHEAP", "gpt-test".into()),
        ],
    }
}

/// The app with one provider per fake (in this order of preference) and `extra` keys.
async fn app_with(models: &[(Wire, &FakeLlm)], extra: &[(&str, &str)]) -> TestApp {
    let mut env: Vec<(&str, String)> = models
        .iter()
        .flat_map(|(wire, model)| provider_env(*wire, model))
        .collect();
    let order: Vec<&str> = models
        .iter()
        .map(|(wire, _)| match wire {
            Wire::Claude => "claude",
            Wire::Gemini => "gemini",
            Wire::OpenAi => "openai",
        })
        .collect();
    env.push(("LLM_FALLBACK_ORDER", order.join(",")));
    env.push(("LLM_TIMEOUT_SECS", "10".into()));
    let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.extend_from_slice(extra);
    TestApp::start_with(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &pairs,
    )
    .await
}

fn gate() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(0))
}

/// Waits until a draft in the owner's chat shows exactly `text`.
async fn wait_for_draft(app: &TestApp, text: &str) {
    app.fake
        .wait_until(&format!("a draft showing {text:?}"), WAIT, |f| {
            f.drafts()
                .iter()
                .any(|d| d.chat_id == OWNER && d.text == text)
        })
        .await;
}

#[tokio::test]
async fn previews_arrive_before_the_end_and_the_final_text_is_the_streamed_text_sent_once() {
    for wire in WIRES {
        let model = FakeLlm::start(wire).await;
        let app = app_with(&[(wire, &model)], &[]).await;
        let open = gate();
        model.script([Reply::Streamed(vec![
            Piece::text("Rivers "),
            Piece::text("run to "),
            Piece::Gate(Arc::clone(&open)),
            Piece::text("the sea."),
        ])]);
        app.fake.push_text(OWNER, "Where do rivers go?");
        wait_for_draft(&app, "Rivers run to ").await;
        assert!(
            app.fake.sent_to(OWNER).is_empty(),
            "{wire:?}: the answer is not sent before it ends"
        );
        open.add_permits(1);
        let sent = app.fake.wait_for_sent(1, WAIT).await;
        assert_eq!(sent[0].text, "Rivers run to the sea.", "{wire:?}");
        let drafts = app.fake.drafts();
        assert!(
            drafts.iter().all(|d| d.draft_id == drafts[0].draft_id),
            "{wire:?}: one answer is one draft: {drafts:?}"
        );
        let request = &model.requests()[0];
        match wire {
            Wire::Gemini => assert!(
                request.uri.ends_with(":streamGenerateContent?alt=sse"),
                "{}",
                request.uri
            ),
            Wire::OpenAi => assert_eq!(request.body["stream_options"]["include_usage"], true),
            Wire::Claude => assert_eq!(request.body["stream"], true),
        }
        app.wait_for_db(
            "SELECT COUNT(*) || ':' || SUM(input_tokens) || ':' || SUM(output_tokens) \
             FROM llm_usage WHERE status = 'ok'",
            &format!("1:{FAKE_INPUT_TOKENS}:{FAKE_OUTPUT_TOKENS}"),
        )
        .await;
        let (fake, _dir) = app.stop().await;
        assert_eq!(fake.sent_to(OWNER).len(), 1, "{wire:?}: sent exactly once");
        fake.assert_no_violations();
    }
}

#[tokio::test]
async fn a_429_on_a_preview_neither_loses_nor_delays_the_final_message() {
    let model = FakeLlm::start(Wire::Claude).await;
    let app = app_with(&[(Wire::Claude, &model)], &[]).await;
    for _ in 0..5 {
        app.fake.fail_next(
            "sendMessageDraft",
            Fault::TooManyRequests { retry_after: 30 },
        );
    }
    let open = gate();
    model.script([Reply::Streamed(vec![
        Piece::text("Slow "),
        Piece::Gate(Arc::clone(&open)),
        Piece::text("but sure."),
    ])]);
    app.fake.push_text(OWNER, "hello");
    app.fake.wait_for_call("sendMessageDraft", WAIT).await;
    let opened = Instant::now();
    open.add_permits(1);
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].text, "Slow but sure.");
    assert!(
        opened.elapsed() < Duration::from_secs(3),
        "the final message did not wait for the preview's 30 s: {:?}",
        opened.elapsed()
    );
    let (fake, _dir) = app.stop().await;
    assert_eq!(fake.sent_to(OWNER).len(), 1);
    assert!(fake.drafts().is_empty(), "every preview was refused");
}

#[tokio::test]
async fn a_stream_cut_in_the_middle_falls_back_and_the_user_sees_one_complete_answer() {
    let (claude, gemini) = (
        FakeLlm::start(Wire::Claude).await,
        FakeLlm::start(Wire::Gemini).await,
    );
    let app = app_with(&[(Wire::Claude, &claude), (Wire::Gemini, &gemini)], &[]).await;
    let cut = gate();
    claude.script([Reply::Streamed(vec![
        Piece::text("The first half of"),
        Piece::Gate(Arc::clone(&cut)),
        Piece::Cut,
    ])]);
    claude.always(Reply::status(401));
    let open = gate();
    gemini.script([Reply::Streamed(vec![
        Piece::text("A whole answer"),
        Piece::Gate(Arc::clone(&open)),
        Piece::text(", from Gemini."),
    ])]);
    app.fake.push_text(OWNER, "tell me");
    wait_for_draft(&app, "The first half of").await;
    cut.add_permits(1);
    wait_for_draft(&app, "A whole answer").await;
    open.add_permits(1);
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].text, "A whole answer, from Gemini.");
    let drafts = app.fake.drafts();
    let first = drafts
        .iter()
        .find(|d| d.text == "The first half of")
        .unwrap();
    let fresh = drafts.iter().find(|d| d.text == "A whole answer").unwrap();
    assert_ne!(
        first.draft_id, fresh.draft_id,
        "the fallback starts a fresh preview"
    );
    app.wait_for_db(
        "SELECT group_concat(x, ',') FROM \
         (SELECT provider || ':' || status AS x FROM llm_usage ORDER BY id)",
        "claude:error,claude:error,gemini:ok",
    )
    .await;
    let (fake, _dir) = app.stop().await;
    assert_eq!(fake.sent_to(OWNER).len(), 1, "one complete answer, once");
}

#[tokio::test]
async fn tool_calls_in_a_stream_work_for_every_provider_and_the_preview_says_what_runs() {
    for wire in WIRES {
        let model = FakeLlm::start(wire).await;
        let app = app_with(&[(wire, &model)], &[]).await;
        let open = gate();
        let url = "http://127.0.0.1:9/menu";
        model.script([
            Reply::tool("web_fetch", json!({"url": url})),
            Reply::Streamed(vec![
                Piece::Gate(Arc::clone(&open)),
                Piece::text("The page is out of reach."),
            ]),
        ]);
        app.fake
            .push_text(OWNER, &format!("What is on {url} today?"));
        wait_for_draft(&app, "Reading 127.0.0.1…").await;
        open.add_permits(1);
        let sent = app.fake.wait_for_sent(1, WAIT).await;
        assert_eq!(sent[0].text, "The page is out of reach.", "{wire:?}");
        let second = model.requests()[1].body.to_string();
        let (call_id, result) = match wire {
            Wire::Claude => ("toolu_1_0", "tool_result"),
            Wire::Gemini => ("sig-1", "functionResponse"),
            Wire::OpenAi => ("call_1_0", "\"role\":\"tool\""),
        };
        assert!(
            second.contains(call_id) && second.contains(result),
            "{wire:?}: the assembled call went back with its result: {second}"
        );
        assert!(second.contains("menu"), "{wire:?}: arguments assembled");
        app.wait_for_db(
            "SELECT COUNT(*) || ':' || SUM(input_tokens) || ':' || SUM(output_tokens) \
             FROM llm_usage WHERE status = 'ok'",
            &format!("2:{}:{}", 2 * FAKE_INPUT_TOKENS, 2 * FAKE_OUTPUT_TOKENS),
        )
        .await;
        let (fake, _dir) = app.stop().await;
        assert_eq!(fake.sent_to(OWNER).len(), 1, "{wire:?}");
        fake.assert_no_violations();
    }
}

#[tokio::test]
async fn cancel_during_a_stream_stops_it_at_once_and_says_so() {
    let model = FakeLlm::start(Wire::OpenAi).await;
    let app = app_with(&[(Wire::OpenAi, &model)], &[]).await;
    let never = gate();
    model.script([Reply::Streamed(vec![
        Piece::text("Once upon a time"),
        Piece::Gate(Arc::clone(&never)),
        Piece::text(" there was no end."),
    ])]);
    app.fake.push_text(OWNER, "write me a novel");
    wait_for_draft(&app, "Once upon a time").await;
    let asked = Instant::now();
    app.fake.push_text(OWNER, "/cancel");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert!(sent[0].text.starts_with("Stopped"), "{}", sent[0].text);
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "stopped at once: {:?}",
        asked.elapsed()
    );
    app.wait_for_db(
        "SELECT COUNT(*) FROM chat_history WHERE role = 'assistant'",
        "0",
    )
    .await;
    let (fake, _dir) = app.stop().await;
    assert!(
        fake.sent_to(OWNER)
            .iter()
            .all(|m| !m.text.contains("Once upon")),
        "no half answer is sent"
    );
}

#[tokio::test]
async fn with_stream_replies_off_no_drafts_are_sent_and_the_answer_arrives_whole() {
    for wire in WIRES {
        let model = FakeLlm::start(wire).await;
        let app = app_with(&[(wire, &model)], &[("STREAM_REPLIES", "false")]).await;
        model.script([Reply::text("Whole, as before.")]);
        app.fake.push_text(OWNER, "hi");
        let sent = app.fake.wait_for_sent(1, WAIT).await;
        assert_eq!(sent[0].text, "Whole, as before.");
        let request = &model.requests()[0];
        assert!(request.body.get("stream").is_none(), "{wire:?}");
        assert!(!request.uri.contains("stream"), "{wire:?}: {}", request.uri);
        let (fake, _dir) = app.stop().await;
        assert!(fake.calls_of("sendMessageDraft").is_empty(), "{wire:?}");
    }
}

#[tokio::test]
async fn a_preview_that_fails_in_any_way_never_touches_the_final_message() {
    let (logs, _guard) = Logs::capture_this_thread();
    let model = FakeLlm::start(Wire::Gemini).await;
    let app = app_with(&[(Wire::Gemini, &model)], &[]).await;
    let faults = [
        Fault::server_error(),
        Fault::ResetMidResponse,
        Fault::MalformedJson,
        Fault::Delay(Duration::from_secs(8)),
        Fault::Status {
            code: 400,
            description: "Bad Request: TEXTDRAFT_PEER_INVALID".into(),
        },
    ];
    for (n, fault) in faults.into_iter().enumerate() {
        let label = format!("{fault:?}");
        app.fake.fail_next("sendMessageDraft", fault);
        let open = gate();
        model.script([Reply::Streamed(vec![
            Piece::text(&format!("Answer {n}")),
            Piece::Gate(Arc::clone(&open)),
            Piece::text(", complete."),
        ])]);
        let drafts_before = app.fake.calls_of("sendMessageDraft").len();
        app.fake.push_text(OWNER, &format!("question {n}"));
        app.fake
            .wait_until("the faulty preview", WAIT, |f| {
                f.calls_of("sendMessageDraft").len() > drafts_before
            })
            .await;
        let opened = Instant::now();
        open.add_permits(1);
        let sent = app.fake.wait_for_sent(n + 1, WAIT).await;
        assert_eq!(sent[n].text, format!("Answer {n}, complete."), "{label}");
        assert!(
            opened.elapsed() < Duration::from_secs(3),
            "{label}: the final message did not wait for the preview: {:?}",
            opened.elapsed()
        );
    }
    let (fake, _dir) = app.stop().await;
    assert_eq!(fake.sent_to(OWNER).len(), 5, "each answer exactly once");
    let failures = logs.with_words(&["preview not shown"]);
    assert!(failures.len() >= 3, "{:#?}", logs.lines());
    assert!(
        logs.lines().iter().all(|l| !l.contains(fake.token())),
        "the draft URL's token never reaches a log line: {failures:#?}"
    );
}

#[tokio::test]
async fn a_compatible_server_that_refuses_to_stream_is_asked_for_a_whole_answer() {
    let model = FakeLlm::start(Wire::OpenAi).await;
    let app = app_with(&[(Wire::OpenAi, &model)], &[]).await;
    let refusal = json!({"error": {"message": "Unrecognized request argument supplied: \
        stream_options", "type": "invalid_request_error", "code": null}});
    model.script([
        Reply::Raw {
            status: 400,
            body: refusal,
        },
        Reply::text("Whole, from an older server."),
    ]);
    app.fake.push_text(OWNER, "hi");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].text, "Whole, from an older server.");
    let requests = model.requests();
    assert_eq!(requests[0].body["stream"], true);
    assert!(requests[1].body.get("stream").is_none());
    app.stop().await;
}
