//! Photos, documents and forwarded messages through the front door: the real app downloads
//! files from the fake Bot API (getFile, then the file URL) and the fake LLMs record what each
//! provider was sent. A photo reaches each provider in its native image form with the exact
//! bytes; providers that cannot see are skipped; an album is answered once; a PDF's text reaches
//! the model quoted and lands in `documents`; hostile or oversized files get a clear reply.
//! `photos`, `albums`, `documents` and `forwards` hold the tests; this file the shared helpers.

mod albums;
mod documents;
mod forwards;
mod photos;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_stt::{FakeStt, SttReply};
use crate::support::fake_telegram::media::{document_update, forwarded_from_user};
use crate::support::fake_telegram::{FakeTelegram, voice_update};

/// JPEG magic followed by bytes that are not UTF-8, so any re-encoding would show.
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\xff\xfe\x80receipt-pixels";
const SENTENCE: &str = "The quarterly rent is due on the fifth of March";

/// The env keys for the given fakes; `extra` adds or overrides keys.
fn env_for(fakes: &[(&FakeLlm, Wire)], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut order = Vec::new();
    for (fake, wire) in fakes {
        let url = fake.base_url().to_string();
        let (name, keys) = match wire {
            Wire::Claude => ("claude", ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"]),
            Wire::Gemini => ("gemini", ["GEMINI_API_KEY", "GEMINI_BASE_URL"]),
            Wire::OpenAi => ("openai", ["OPENAI_API_KEY", "OPENAI_BASE_URL"]),
        };
        env.push((keys[0].into(), format!("test-key-{name}")));
        env.push((keys[1].into(), url));
        if *wire == Wire::OpenAi {
            env.push(("OPENAI_MODEL_CHEAP".into(), "gpt-4.1-mini".into()));
        }
        order.push(name);
    }
    env.push(("LLM_FALLBACK_ORDER".into(), order.join(",")));
    for (k, v) in extra {
        env.push((k.to_string(), v.to_string()));
    }
    env
}

/// The app on `fake` and `dir` with `env`.
async fn start_on(fake: FakeTelegram, dir: tempfile::TempDir, env: &[(String, String)]) -> TestApp {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestApp::start_with(fake, dir, &env).await
}

/// An app with the given fakes configured; `extra` adds or overrides keys.
async fn start(fakes: &[(&FakeLlm, Wire)], extra: &[(&str, &str)]) -> TestApp {
    let env = env_for(fakes, extra);
    start_on(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &env,
    )
    .await
}

/// The text of the one reply the owner got.
async fn only_reply(app: &TestApp) -> String {
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent.len(), 1, "one reply: {sent:?}");
    assert_eq!(sent[0].chat_id, OWNER);
    sent[0].visible_text.clone()
}

/// The last user message of a recorded request, in whichever wire format it is.
fn last_user_message(wire: Wire, body: &Value) -> Value {
    let list = match wire {
        Wire::Gemini => &body["contents"],
        Wire::Claude | Wire::OpenAi => &body["messages"],
    };
    list.as_array().unwrap().last().unwrap().clone()
}

/// The image parts of a message, each as the provider's native JSON.
fn image_parts(wire: Wire, message: &Value) -> Vec<Value> {
    let (parts, kind) = match wire {
        Wire::Claude => (&message["content"], "image"),
        Wire::Gemini => (&message["parts"], "inline_data"),
        Wire::OpenAi => (&message["content"], "image_url"),
    };
    parts
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .filter(|p| p["type"] == kind || p.get(kind).is_some() && wire == Wire::Gemini)
        .cloned()
        .collect()
}

/// The native form of a JPEG with `bytes` for `wire`.
fn native_image(wire: Wire, bytes: &[u8]) -> Value {
    let data = STANDARD.encode(bytes);
    match wire {
        Wire::Claude => json!({"type": "image", "source":
            {"type": "base64", "media_type": "image/jpeg", "data": data}}),
        Wire::Gemini => json!({"inline_data": {"mime_type": "image/jpeg", "data": data}}),
        Wire::OpenAi => json!({"type": "image_url", "image_url":
            {"url": format!("data:image/jpeg;base64,{data}")}}),
    }
}

/// Every stored conversation turn as (role, content), oldest first.
async fn history(app: &TestApp) -> Vec<(String, String)> {
    app.store
        .call(|c| {
            let mut stmt = c.prepare("SELECT role, content FROM chat_history ORDER BY id")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .await
        .unwrap()
}
