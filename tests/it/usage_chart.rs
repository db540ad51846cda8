//! `/usage` sends today's summary as the caption of a PNG chart of the last 30 days (only the
//! user's own rows, per day in their timezone); with no usage in 30 days, and for `/usage all`,
//! the text goes alone.

use chrono::{Duration, Utc};
use minicrew::ids::ChatId;
use minicrew::store::Store;
use minicrew::store::llm_usage::LlmUsageRow;
use minicrew::users::UserStatus;

use crate::support::app::{OWNER, TestApp, WAIT};

/// Another approved user.
const PAT: i64 = 4343;

/// Records a call of `tokens` by the user of `chat_id`, `days_ago` days back.
async fn spend(store: &Store, chat_id: i64, tokens: u64, days_ago: i64) {
    let user = store.user_by_chat(ChatId(chat_id)).await.unwrap().unwrap();
    let row = LlmUsageRow {
        user_id: user.id,
        provider: "claude".into(),
        model: "claude-haiku-4-5".into(),
        input_tokens: tokens,
        output_tokens: 0,
        cost_usd: 0.01,
        latency_ms: 1,
        error: None,
        created_at: (Utc::now() - Duration::days(days_ago)).timestamp(),
        speaker: None,
    };
    store.record_llm_usage(row).await.unwrap();
}

/// Decodes a PNG; returns its width, height and RGB pixels.
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("PNG pixels");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    (info.width, info.height, buf)
}

/// Height of the bar of day `slot` (0 = 29 days ago, 29 = today): the layout of
/// `minicrew::chart` puts slot `i` at x = 60 + 20·i and the plot's bottom at y = 320.
fn bar_height(rgb: &[u8], width: u32, slot: u32) -> u32 {
    let x = 60 + 20 * slot + 6;
    let bar = minicrew::chart::BAR;
    (0..=320u32)
        .find(|&y| {
            let at = ((y * width + x) * 3) as usize;
            rgb[at..at + 3] == [bar.0, bar.1, bar.2]
        })
        .map_or(0, |top| 320 - top)
}

#[tokio::test]
async fn usage_sends_the_summary_with_a_png_chart_of_only_the_users_own_days() {
    let app = TestApp::start().await;
    app.store
        .register_pending_user(ChatId(PAT), "Pat", None, 0)
        .await
        .unwrap();
    app.store
        .set_user_status(ChatId(PAT), UserStatus::Active)
        .await
        .unwrap();
    spend(&app.store, OWNER, 3_000, 0).await;
    spend(&app.store, OWNER, 1_000, 3).await;
    // Pat's big day would dwarf the owner's today if it were counted.
    spend(&app.store, PAT, 100_000, 3).await;
    app.fake.push_text(OWNER, "/usage");
    app.fake.wait_for_calls("sendPhoto", 1, WAIT).await;
    let files = app.fake.sent_files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].method, "sendPhoto");
    assert!(
        files[0].file_name.ends_with(".png"),
        "{}",
        files[0].file_name
    );
    let caption = &files[0].caption;
    assert!(
        caption.starts_with("Today: 1 calls, 3000 tokens"),
        "{caption}"
    );
    assert!(
        caption.contains("Last 30 days: 2 calls, 4000 tokens"),
        "{caption}"
    );
    assert!(caption.contains("bars are tokens per day"), "{caption}");
    let (width, height, rgb) = decode(&files[0].bytes);
    assert_eq!((width, height), (720, 360));
    assert_eq!(bar_height(&rgb, width, 29), 300, "today is the tallest");
    assert_eq!(bar_height(&rgb, width, 26), 100, "3 days ago: a third");
    assert_eq!(bar_height(&rgb, width, 20), 0, "a day without usage");
    assert!(app.fake.calls_of("sendMessage").is_empty());
    app.fake.assert_no_violations();
}

#[tokio::test]
async fn usage_with_nothing_in_30_days_sends_the_text_without_a_chart() {
    let app = TestApp::start().await;
    spend(&app.store, OWNER, 5_000, 40).await;
    app.fake.push_text(OWNER, "/usage");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(
        sent[0].visible_text,
        "Today: no AI calls\nLast 30 days: no AI calls"
    );
    assert!(app.fake.calls_of("sendPhoto").is_empty());
    assert!(app.fake.sent_files().is_empty());
    app.fake.assert_no_violations();
}

#[tokio::test]
async fn usage_all_stays_text_for_the_owner() {
    let app = TestApp::start().await;
    spend(&app.store, OWNER, 3_000, 0).await;
    app.fake.push_text(OWNER, "/usage all");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert!(
        sent[0].visible_text.contains("3000 tokens"),
        "{:?}",
        sent[0]
    );
    assert!(app.fake.calls_of("sendPhoto").is_empty());
    app.fake.assert_no_violations();
}
