//! Replies leave the core as channel-neutral Markdown; each channel renders them. Outside text
//! quoted in a reply (a group's title here) shows exactly as written in both channels, whatever
//! Markdown or HTML it contains.

use minicrew::ids::ChatId;
use minicrew::store::Store;

use crate::cli::{chat_with, minicrew};
use crate::support::app::{OWNER, TestApp, WAIT};

/// A group title that is Markdown and HTML at once.
const TITLE: &str = "*Sale* <b>now</b> _x_ [y](https://e.x) `z`";
const GROUP: i64 = -100_555;

#[tokio::test]
async fn a_quoted_title_with_markdown_and_html_shows_literally_in_telegram() {
    let app = TestApp::start().await;
    app.store
        .group_joined(ChatId(GROUP), TITLE, None, "UTC")
        .await
        .unwrap();
    app.fake.push_text(OWNER, "/groups");
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    let list = sent.iter().find(|m| m.chat_id == OWNER).unwrap();
    assert_eq!(list.parse_mode.as_deref(), Some("HTML"));
    assert_eq!(
        list.text,
        "<b>*Sale* &lt;b&gt;now&lt;/b&gt; _x_ [y](https://e.x) `z`</b> <code>-100555</code>: \
         pending; today 0 tokens, 0 messages\n\
         Approve with /approve &lt;group id&gt;; /disable &lt;group id&gt; switches a group off \
         and I leave it."
    );
    assert!(
        list.visible_text
            .starts_with(&format!("{TITLE} -100555: pending"))
    );
    let kinds: Vec<(&str, u64, u64)> = list
        .entities
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["offset"].as_u64().unwrap(),
                e["length"].as_u64().unwrap(),
            )
        })
        .collect();
    let title_len = TITLE.encode_utf16().count() as u64;
    assert_eq!(
        kinds,
        vec![("bold", 0, title_len), ("code", title_len + 1, 7)],
        "only the reply's own bold and code, nothing from the title"
    );
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn a_quoted_title_with_markdown_and_html_shows_literally_in_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).unwrap();
    store
        .group_joined(ChatId(GROUP), TITLE, None, "UTC")
        .await
        .unwrap();
    drop(store);
    let mut command = minicrew(&dir, "");
    command.arg("chat");
    let out = chat_with(command, "/groups\n").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("**{TITLE}** `-100555`: pending")),
        "the title as written, in the reply's own Markdown: {stdout}"
    );
    assert!(
        stdout.contains("Approve with /approve <group id>;"),
        "{stdout}"
    );
    assert!(!stdout.contains('\\'), "no escape shows: {stdout}");
    assert!(!stdout.contains("&lt;"), "no HTML entity shows: {stdout}");
}

#[tokio::test]
async fn an_html_chunk_stored_before_an_upgrade_still_goes_out_as_html() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // A row as the earlier version wrote it: rendered for Telegram, format `html`.
    store
        .call(|c| {
            c.execute(
                "INSERT INTO outbox (chat_id, seq, text, format, created_at)
                 VALUES (?1, 0, '<b>Today</b> &amp; <i>more</i>', 'html', 0)",
                [OWNER],
            )
        })
        .await
        .unwrap();
    drop(store);
    let fake = crate::support::fake_telegram::FakeTelegram::start().await;
    let app = TestApp::start_with(fake, dir, &[]).await;
    let sent = app.fake.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].text, "<b>Today</b> &amp; <i>more</i>");
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    assert_eq!(sent[0].visible_text, "Today & more");
    app.wait_for_db("SELECT status FROM outbox", "sent").await;
    app.fake.assert_no_violations();
    app.stop().await;
}
