//! A voice message every part of the pipeline can answer: the fake speech-to-text server hears
//! [`HEARD`] in [`AUDIO`], and Claude answers [`ANSWER`], so a test only adds the fault it is about.

use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_stt::{FakeStt, SttReply};
use crate::support::fake_telegram::FakeTelegram;

/// The recording the user "sends".
pub const AUDIO: &[u8] = b"OggS\x00\x02voice";
/// What the fake speech-to-text server hears in it.
pub const HEARD: &str = "Remind me of the dentist";
/// Claude's answer to it.
pub const ANSWER: &str = "Sure, when is the appointment?";
/// The Telegram file id of the recording.
pub const FILE_ID: &str = "voice-1";

/// Starts speech-to-text and Claude fakes that hear and answer the voice message, and returns the
/// env that points an app at them (the fakes' servers live as long as the test's runtime).
pub async fn voice_env() -> Vec<(&'static str, String)> {
    let (claude, stt) = (FakeLlm::start(Wire::Claude).await, FakeStt::start().await);
    claude.always(Reply::text(ANSWER));
    stt.script([SttReply::Text(HEARD.into())]);
    vec![
        ("ANTHROPIC_API_KEY", "sk-ant-test".into()),
        ("ANTHROPIC_BASE_URL", claude.base_url().to_string()),
        ("TRANSCRIBE_BASE_URL", stt.base_url().to_string()),
        ("TRANSCRIBE_API_KEY", "stt-test".into()),
    ]
}

/// Puts the recording on `fake`, for `getFile` and its download.
pub fn add_recording(fake: &FakeTelegram) {
    fake.add_file(FILE_ID, "voice/file_1.oga", AUDIO);
}

/// The answer to the voice message: what was heard, then Claude's answer.
pub fn heard_answer() -> String {
    format!("🎤 “{HEARD}”\n\n{ANSWER}")
}
