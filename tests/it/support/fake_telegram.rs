//! A fake Telegram Bot API server for integration tests: the real `teloxide::Bot` talks to it
//! over HTTP on 127.0.0.1. It checks every call against the official api.json, makes the checks
//! Telegram makes (text length, HTML, edits), serves pushed updates to getUpdates, injects
//! faults, and lets a test observe and wait for what the bot did.
//!
//! ```ignore
//! let tg = FakeTelegram::start().await;
//! tg.push_text(42, "/help");
//! let sent = tg.wait_for_sent(1, Duration::from_secs(5)).await;
//! tg.assert_no_violations();
//! ```

mod files;
mod html;
pub mod media;
mod messages;
mod methods;
mod multipart;
mod polling;
mod server;
mod state;
mod updates;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use state::{Call, Draft, Fault, SentFile, SentMessage, TextEdit};
use state::{Shared, StoredFile};
// Builders for tests that assemble their own updates.
#[allow(unused_imports)]
pub use updates::{
    BOT_ID, BOT_TOKEN, BOT_USERNAME, callback_update, group_text_message, my_chat_member_update,
    text_message, text_update, voice_update,
};

/// First message id the fake hands out (above the small ids tests give incoming messages).
const FIRST_MESSAGE_ID: i64 = 1001;

/// A running fake server; stops when dropped.
pub struct FakeTelegram {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeTelegram {
    /// Starts the fake on 127.0.0.1 with a free port.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        shared.update(|state| state.last_message_id = FIRST_MESSAGE_ID - 1);
        let (addr, task) = server::serve(Arc::clone(&shared)).await;
        Self { shared, addr, task }
    }

    /// Base URL for `TELEGRAM_API_URL` / `Bot::set_api_url` (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> reqwest::Url {
        reqwest::Url::parse(&format!("http://{}/", self.addr))
            .expect("a socket address is a valid URL host")
    }

    /// The token the fake accepts (any other gets 401 and a violation).
    pub fn token(&self) -> &'static str {
        BOT_TOKEN
    }

    /// A real teloxide bot pointed at the fake.
    pub fn bot(&self) -> teloxide::Bot {
        teloxide::Bot::new(BOT_TOKEN).set_api_url(self.url())
    }

    // ---- updates -------------------------------------------------------------------------

    /// Queues an update for getUpdates and wakes a waiting long poll.
    pub fn push_update(&self, update: Value) {
        self.shared.update(|state| {
            let id = update["update_id"]
                .as_i64()
                .expect("an update needs an integer update_id");
            state.last_update_id = state.last_update_id.max(id);
            if let Some(query_id) = update["callback_query"]["id"].as_str() {
                state.open_callbacks.insert(query_id.to_owned());
            }
            state.updates.push_back(update);
        });
        self.shared.pushed.notify_waiters();
    }

    /// Every draft preview the bot showed, in order.
    pub fn drafts(&self) -> Vec<Draft> {
        self.shared.state().drafts.clone()
    }

    /// Every accepted editMessageText of a message, in order (with when it was accepted).
    pub fn text_edits(&self) -> Vec<TextEdit> {
        self.shared.state().text_edits.clone()
    }

    /// Pushes a private text message from `chat_id` with the next update id; returns that id.
    pub fn push_text(&self, chat_id: i64, text: &str) -> i64 {
        let id = self.next_update_id();
        self.push_update(text_update(id, chat_id, text));
        id
    }

    /// Pushes a press on the inline button `data` of the bot's message `message_id`; returns the
    /// update id. The callback query id is `cb<update_id>`.
    pub fn push_callback(&self, chat_id: i64, data: &str, message_id: i64) -> i64 {
        let id = self.next_update_id();
        self.push_update(callback_update(id, chat_id, data, message_id));
        id
    }

    /// Pushes a text message from user `from` in group `chat_id` (message_id = update id), with
    /// the `bot_command` and `mention` entities Telegram adds; returns the update id.
    pub fn push_group_text(&self, chat_id: i64, from: i64, text: &str) -> i64 {
        let id = self.next_update_id();
        let message = group_text_message(id, chat_id, from, text);
        self.push_update(serde_json::json!({"update_id": id, "message": message}));
        id
    }

    /// Pushes a `my_chat_member` update: user `by` added the bot to group `chat_id` (`joined`)
    /// or removed it; returns the update id.
    pub fn push_my_chat_member(&self, chat_id: i64, by: i64, joined: bool) -> i64 {
        let id = self.next_update_id();
        self.push_update(my_chat_member_update(id, chat_id, by, joined));
        id
    }

    /// Sets what getChatMemberCount answers for `chat_id`.
    pub fn set_member_count(&self, chat_id: i64, count: i64) {
        self.shared
            .update(|state| state.member_counts.insert(chat_id, count));
    }

    /// Makes `bytes` downloadable as `file_id` (getFile answers with `file_path`).
    pub fn add_file(&self, file_id: &str, file_path: &str, bytes: &[u8]) {
        let file = StoredFile {
            path: file_path.to_owned(),
            bytes: bytes.to_vec(),
        };
        self.shared
            .update(|state| state.files.insert(file_id.to_owned(), file));
    }

    /// Pushes a voice message `file_id` of `size` bytes from `chat_id`; returns the update id.
    pub fn push_voice(&self, chat_id: i64, file_id: &str, size: u64) -> i64 {
        let id = self.next_update_id();
        self.push_update(voice_update(id, chat_id, file_id, size));
        id
    }

    /// One more than the highest update id pushed so far.
    pub fn next_update_id(&self) -> i64 {
        self.shared.state().last_update_id + 1
    }

    /// Highest `offset` the bot passed to getUpdates: updates below it are confirmed.
    pub fn confirmed_offset(&self) -> Option<i64> {
        self.shared.state().offsets.iter().copied().max()
    }

    /// Pushed updates not confirmed yet.
    pub fn pending_updates(&self) -> usize {
        self.shared.state().updates.len()
    }

    // ---- faults and settings -------------------------------------------------------------

    /// Makes the next call of `method` (any case) fail or stall once; faults queue up in order.
    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.shared.update(|state| {
            state
                .faults
                .entry(method.to_ascii_lowercase())
                .or_default()
                .push_back(fault)
        });
    }

    /// Makes getWebhookInfo report a failed delivery at `date` (Unix time) with `message`, as
    /// Telegram does when it cannot reach the webhook (only while one is set).
    pub fn set_webhook_error(&self, date: i64, message: &str) {
        self.shared
            .update(|state| state.webhook_error = Some((date, message.to_owned())));
    }

    /// Parameters of the active webhook (`None` when unset or deleted).
    pub fn webhook(&self) -> Option<Value> {
        self.shared.state().webhook.clone()
    }

    /// `(command, description)` pairs of the last setMyCommands.
    pub fn my_commands(&self) -> Vec<(String, String)> {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let state = self.shared.state();
        state
            .commands
            .iter()
            .map(|c| (text(&c["command"]), text(&c["description"])))
            .collect()
    }

    // ---- observation ---------------------------------------------------------------------

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.state().calls.clone()
    }

    /// Calls of `method` (any case, e.g. "sendMessage").
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        let state = self.shared.state();
        state
            .calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .cloned()
            .collect()
    }

    /// `file_path` of every file the bot downloaded, in order.
    pub fn downloads(&self) -> Vec<String> {
        self.shared.state().downloads.clone()
    }

    /// Messages the bot sent, in order, with later edits applied.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.shared.state().sent.clone()
    }

    /// Files the bot sent (sendDocument, sendPhoto), in order, with their bytes.
    pub fn sent_files(&self) -> Vec<SentFile> {
        self.shared.state().files_sent.clone()
    }

    /// Messages the bot sent to `chat_id`.
    pub fn sent_to(&self, chat_id: i64) -> Vec<SentMessage> {
        self.sent_messages()
            .into_iter()
            .filter(|m| m.chat_id == chat_id)
            .collect()
    }

    /// Every way a call broke the Bot API contract, one sentence each.
    pub fn violations(&self) -> Vec<String> {
        self.shared.state().violations.clone()
    }

    /// Panics listing the violations, if any.
    #[track_caller]
    pub fn assert_no_violations(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "Bot API violations:\n  {}",
            violations.join("\n  ")
        );
    }

    // ---- waiting -------------------------------------------------------------------------

    /// Waits until `done` holds (checked after every change), or panics after `within`
    /// naming `what` and listing the calls that arrived.
    pub async fn wait_until(
        &self,
        what: &str,
        within: Duration,
        mut done: impl FnMut(&Self) -> bool,
    ) {
        let deadline = Instant::now() + within;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if done(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() && !done(self) {
                panic!(
                    "fake telegram: timed out after {within:?} waiting for {what}\n{}",
                    self.summary()
                );
            }
        }
    }

    /// Waits until the bot has sent at least `count` messages; returns all of them.
    pub async fn wait_for_sent(&self, count: usize, within: Duration) -> Vec<SentMessage> {
        let what = format!("{count} sent message(s)");
        self.wait_until(&what, within, |tg| tg.shared.state().sent.len() >= count)
            .await;
        self.sent_messages()
    }

    /// Waits for the first answered call of `method`.
    pub async fn wait_for_call(&self, method: &str, within: Duration) -> Call {
        self.wait_for_calls(method, 1, within).await.remove(0)
    }

    /// Waits until `count` calls of `method` were answered; returns all answered ones.
    pub async fn wait_for_calls(&self, method: &str, count: usize, within: Duration) -> Vec<Call> {
        let answered = |tg: &Self| -> Vec<Call> {
            tg.calls_of(method)
                .into_iter()
                .filter(|c| c.status.is_some())
                .collect()
        };
        let what = format!("{count} answered {method} call(s)");
        self.wait_until(&what, within, |tg| answered(tg).len() >= count)
            .await;
        answered(self)
    }

    /// Waits until the bot confirmed update `update_id` (called getUpdates with a higher offset).
    pub async fn wait_for_confirmed(&self, update_id: i64, within: Duration) {
        let what = format!("getUpdates offset > {update_id}");
        self.wait_until(&what, within, |tg| tg.confirmed_offset() > Some(update_id))
            .await;
    }

    /// Negative check: waits the whole `within` window and panics as soon as a message to
    /// `chat_id` beyond those already sent arrives.
    pub async fn assert_no_messages_to(&self, chat_id: i64, within: Duration) {
        let before = self.sent_to(chat_id).len();
        let deadline = Instant::now() + within;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = self.sent_to(chat_id);
            assert!(
                now.len() == before,
                "unexpected message(s) to {chat_id}: {:?}",
                &now[before..]
            );
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return;
            }
        }
    }

    /// Calls, sent messages and violations, for failure messages.
    pub fn summary(&self) -> String {
        let state = self.shared.state();
        let calls: Vec<String> = state
            .calls
            .iter()
            .map(|c| format!("  {} {:?} {}", c.method, c.status, c.params))
            .collect();
        let sent: Vec<String> = state
            .sent
            .iter()
            .map(|m| format!("  to {} #{}: {:?}", m.chat_id, m.message_id, m.visible_text))
            .collect();
        format!(
            "calls:\n{}\nsent:\n{}\nviolations:\n  {}",
            calls.join("\n"),
            sent.join("\n"),
            state.violations.join("\n  ")
        )
    }
}
