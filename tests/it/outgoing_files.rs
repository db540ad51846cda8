//! Replies that carry a file (an `/export`, a chart): stored in the outbox with their bytes
//! before they are sent, sent once by sendDocument or sendPhoto, and the bytes dropped after.

use async_trait::async_trait;
use minicrew::ids::ChatId;
use minicrew::message::{FileKind, OutgoingFile};
use minicrew::store::ChunkFormat;
use minicrew::store::{NewChunk, Store};
use minicrew::tools::{Effect, Tool, ToolContext, ToolError, ToolHandles, ToolOutput, all_tools};
use serde_json::Value;

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_telegram::FakeTelegram;

/// A tool that answers with a picture, or with a document and a caption too long for one.
struct Picture;

#[async_trait]
impl Tool for Picture {
    fn name(&self) -> &'static str {
        "picture"
    }
    fn description(&self) -> &'static str {
        "Sends a picture"
    }
    fn usage(&self) -> &'static str {
        "/picture [long]"
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn parse_command(&self, args: &str) -> Result<Value, ToolError> {
        Ok(serde_json::json!({"long": args.trim() == "long"}))
    }
    async fn call(&self, _ctx: &ToolContext<'_>, args: Value) -> Result<ToolOutput, ToolError> {
        let long = args["long"].as_bool().unwrap_or(false);
        let mut out = ToolOutput::plain(if long {
            "word ".repeat(400)
        } else {
            "Your chart".to_string()
        });
        out.file = Some(OutgoingFile {
            name: if long { "notes.txt" } else { "chart.png" }.into(),
            kind: if long {
                FileKind::Document
            } else {
                FileKind::Photo
            },
            bytes: (0..=255u8).cycle().take(3000).collect(),
        });
        Ok(out)
    }
}

fn with_picture(h: &ToolHandles) -> Vec<Box<dyn Tool>> {
    let mut tools = all_tools(h);
    tools.push(Box::new(Picture));
    tools
}

async fn start() -> TestApp {
    TestApp::start_with_tools(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &[],
        with_picture,
    )
    .await
}

#[tokio::test]
async fn a_reply_with_a_photo_is_sent_once_with_its_bytes_and_the_bytes_are_not_kept() {
    let app = start().await;
    app.fake.push_text(OWNER, "/picture");
    app.fake.wait_for_calls("sendPhoto", 1, WAIT).await;
    app.wait_for_db(
        "SELECT status FROM outbox WHERE file_kind = 'photo'",
        "sent",
    )
    .await;
    let files = app.fake.sent_files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file_name, "chart.png");
    assert_eq!(files[0].caption, "Your chart");
    assert_eq!(
        files[0].bytes,
        (0..=255u8).cycle().take(3000).collect::<Vec<_>>()
    );
    app.wait_for_db(
        "SELECT COUNT(*) FROM outbox WHERE file_bytes IS NOT NULL",
        "0",
    )
    .await;
    assert!(app.fake.calls_of("sendMessage").is_empty());
    app.fake.assert_no_violations();
}

#[tokio::test]
async fn text_too_long_for_a_caption_goes_first_and_the_document_follows() {
    let app = start().await;
    app.fake.push_text(OWNER, "/picture long");
    app.fake.wait_for_calls("sendDocument", 1, WAIT).await;
    let sent = app.fake.sent_to(OWNER);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].visible_text.starts_with("word word"));
    let files = app.fake.sent_files();
    assert_eq!(
        (files[0].file_name.as_str(), files[0].caption.as_str()),
        ("notes.txt", "")
    );
    assert_eq!(files[0].message_id, sent[1].message_id);
    app.fake.assert_no_violations();
}

#[tokio::test]
async fn a_file_stored_but_not_sent_before_a_crash_goes_out_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let chunk = NewChunk {
        chat_id: ChatId(OWNER),
        text: "Your export".into(),
        format: ChunkFormat::Plain,
        buttons: vec![],
        forget_text: false,
        reply_to_message_id: None,
        message_thread_id: None,
        edit_message_id: None,
        file: Some(OutgoingFile {
            name: "export.json".into(),
            kind: FileKind::Document,
            bytes: b"{\"a\": 1}".to_vec(),
        }),
    };
    store.queue_chunks(None, vec![chunk]).await.unwrap();
    drop(store);
    let app = TestApp::start_with(FakeTelegram::start().await, dir, &[]).await;
    app.fake.wait_for_calls("sendDocument", 1, WAIT).await;
    let files = app.fake.sent_files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].bytes, b"{\"a\": 1}");
    assert_eq!(files[0].caption, "Your export");
    app.fake.assert_no_violations();
}
