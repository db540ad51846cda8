//! Voice messages through the front door: the real app downloads the recording from the fake Bot
//! API (getFile, then the file URL), sends it to the fake speech-to-text server, and answers the
//! transcript through the fake Claude like typed text. Failures give one clear reply; strangers
//! get nothing; no token or key ever reaches a message.

use std::time::Duration;

use crate::support::app::{OWNER, STRANGER, TestApp, WAIT};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_stt::{FakeStt, SttReply};
use crate::support::fake_telegram::{BOT_TOKEN, FakeTelegram};

const CLAUDE_KEY: &str = "sk-ant-test-SECRET-1";
const STT_KEY: &str = "stt-test-SECRET-3";
/// Ogg's magic followed by bytes that are not UTF-8, so the upload must be byte-exact.
const AUDIO: &[u8] = b"OggS\x00\x02\xff\xfe\x80voice-bytes";
const HEARD: &str = "What should I cook tonight?";

struct Voice {
    app: TestApp,
    claude: FakeLlm,
    stt: FakeStt,
}

/// The app with Claude and, when `transcribe`, the fake speech-to-text server configured.
async fn start(transcribe: bool, timeout_secs: &str) -> Voice {
    let (claude, stt) = (FakeLlm::start(Wire::Claude).await, FakeStt::start().await);
    let (claude_url, stt_url) = (claude.base_url().to_string(), stt.base_url().to_string());
    let mut env = vec![
        ("ANTHROPIC_API_KEY", CLAUDE_KEY),
        ("ANTHROPIC_BASE_URL", claude_url.as_str()),
        ("LLM_TIMEOUT_SECS", timeout_secs),
    ];
    if transcribe {
        env.extend([
            ("TRANSCRIBE_BASE_URL", stt_url.as_str()),
            ("TRANSCRIBE_API_KEY", STT_KEY),
            ("TRANSCRIBE_MODEL", "whisper-test"),
        ]);
    }
    let fake = FakeTelegram::start().await;
    fake.add_file("voice-1", "voice/file_1.oga", AUDIO);
    let app = TestApp::start_with(fake, tempfile::tempdir().unwrap(), &env).await;
    Voice { app, claude, stt }
}

/// The one message the owner got, after checking no secret is in anything sent.
async fn only_reply(v: &Voice) -> String {
    let sent = v.app.fake.wait_for_sent(1, WAIT).await;
    for message in &sent {
        for secret in [BOT_TOKEN, "TEST-TOKEN", STT_KEY, CLAUDE_KEY] {
            assert!(!message.text.contains(secret), "secret leaked: {message:?}");
        }
    }
    assert_eq!(sent.len(), 1, "one reply: {sent:?}");
    assert_eq!(sent[0].chat_id, OWNER);
    sent[0].visible_text.clone()
}

#[tokio::test]
async fn owner_voice_is_downloaded_transcribed_and_answered_like_typed_text() {
    let v = start(true, "5").await;
    v.stt.script([SttReply::Text(format!(" {HEARD}\n"))]);
    v.claude
        .script([Reply::text("Try a **mushroom risotto**.")]);

    v.app.fake.push_voice(OWNER, "voice-1", AUDIO.len() as u64);

    let reply = only_reply(&v).await;
    assert_eq!(
        reply,
        format!("🎤 “{HEARD}”\n\nTry a mushroom risotto."),
        "what was heard comes first, then the answer"
    );
    let get_file = v.app.fake.calls_of("getFile");
    assert_eq!(get_file.len(), 1);
    assert_eq!(get_file[0].params["file_id"], "voice-1");
    assert_eq!(v.app.fake.downloads(), ["voice/file_1.oga"]);

    let stt = v.stt.requests();
    assert_eq!(stt.len(), 1);
    assert_eq!(stt[0].path, "/v1/audio/transcriptions");
    assert_eq!(stt[0].fields["model"], "whisper-test");
    assert_eq!(stt[0].file.as_deref(), Some(AUDIO), "the exact bytes");
    assert_eq!(stt[0].file_name.as_deref(), Some("file_1.ogg"));
    assert_eq!(stt[0].authorization, format!("Bearer {STT_KEY}"));

    let claude = v.claude.requests();
    assert_eq!(claude.len(), 1);
    let messages = claude[0].body["messages"].as_array().unwrap();
    let last = messages.last().unwrap().to_string();
    assert!(
        last.contains(HEARD),
        "the transcript is the user message: {last}"
    );
    v.app
        .wait_for_db(
            "SELECT content FROM chat_history WHERE role = 'user'",
            HEARD,
        )
        .await;
    v.app.fake.assert_no_violations();
    v.app.stop().await;
}

#[tokio::test]
async fn a_transcription_error_gives_one_clear_reply_and_no_llm_call() {
    let v = start(true, "5").await;
    v.stt.script([SttReply::Status(500)]);

    v.app.fake.push_voice(OWNER, "voice-1", AUDIO.len() as u64);

    let reply = only_reply(&v).await;
    assert!(
        reply.contains("couldn't transcribe") && reply.contains("500"),
        "{reply}"
    );
    assert_eq!(v.stt.requests().len(), 1);
    assert!(v.claude.requests().is_empty(), "no LLM call");
    v.app
        .wait_for_db("SELECT COUNT(*) FROM chat_history", "0")
        .await;
    v.app.stop().await;
}

#[tokio::test]
async fn a_transcription_that_times_out_says_so() {
    let v = start(true, "1").await;
    let slow = SttReply::Delayed(
        Duration::from_secs(3),
        Box::new(SttReply::Text(HEARD.into())),
    );
    v.stt.script([slow]);

    v.app.fake.push_voice(OWNER, "voice-1", AUDIO.len() as u64);

    let reply = only_reply(&v).await;
    assert!(reply.contains("didn't answer in time"), "{reply}");
    assert!(v.claude.requests().is_empty(), "no LLM call");
    v.app.stop().await;
}

#[tokio::test]
async fn a_failed_download_gives_one_clear_reply_and_nothing_is_transcribed() {
    let v = start(true, "5").await;

    v.app.fake.push_voice(OWNER, "expired-file", 2048);

    let reply = only_reply(&v).await;
    assert!(reply.contains("couldn't download"), "{reply}");
    assert_eq!(v.app.fake.calls_of("getFile")[0].status, Some(400));
    assert!(v.stt.requests().is_empty());
    assert!(v.claude.requests().is_empty());
    v.app.stop().await;
}

#[tokio::test]
async fn a_recording_over_twenty_megabytes_is_refused_without_downloading() {
    let v = start(true, "5").await;

    v.app.fake.push_voice(OWNER, "voice-1", 25 * 1024 * 1024);

    let reply = only_reply(&v).await;
    assert!(reply.contains("over 20 MB"), "{reply}");
    assert!(v.app.fake.calls_of("getFile").is_empty());
    assert!(v.stt.requests().is_empty());
    v.app.stop().await;
}

#[tokio::test]
async fn without_transcription_configured_the_reply_says_how_to_enable_it() {
    let v = start(false, "5").await;

    v.app.fake.push_voice(OWNER, "voice-1", AUDIO.len() as u64);

    let reply = only_reply(&v).await;
    assert!(
        reply.contains("TRANSCRIBE_API_KEY") && reply.contains("OPENAI_API_KEY"),
        "{reply}"
    );
    assert!(
        v.app.fake.calls_of("getFile").is_empty(),
        "nothing downloaded"
    );
    assert!(v.stt.requests().is_empty());
    assert!(v.claude.requests().is_empty());
    v.app.stop().await;
}

#[tokio::test]
async fn a_strangers_voice_message_gets_nothing_and_is_not_downloaded() {
    let v = start(true, "5").await;

    v.app
        .fake
        .push_voice(STRANGER, "voice-1", AUDIO.len() as u64);

    v.app
        .wait_for_db("SELECT status FROM inbox WHERE chat_id = 555000", "done")
        .await;
    assert!(v.app.fake.sent_messages().is_empty());
    assert!(v.app.fake.calls_of("getFile").is_empty());
    assert!(v.app.fake.downloads().is_empty());
    assert!(v.stt.requests().is_empty());
    v.app.stop().await;
}
