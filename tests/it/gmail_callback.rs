//! Connecting Gmail through the real app: in webhook mode Google's redirect shows a page naming the
//! Telegram account and links nothing until its Confirm button is pressed; the chat then names the
//! Google address. In polling mode the pasted address does the same, and only that address.

use std::collections::HashMap;
use std::time::Duration;

use minicrew::gmail::connect::PASTE_REDIRECT_URI;
use minicrew::ids::{ChatId, UserId};
use reqwest::StatusCode;
use url::Url;

use crate::support::app::{STRANGER, TestApp, WAIT};
use crate::support::fake_google::FakeGoogle;
use crate::support::fake_telegram::{FakeTelegram, text_update};
use crate::webhook::{WEBHOOK_ENV, deliver};

/// The Google account the user signs in with on the fake consent page.
const SAM_MAILBOX: &str = "sam.private@example.com";

struct Connecting {
    app: TestApp,
    google: FakeGoogle,
    /// users.id of Sam, the non-owner user who asks for the link.
    sam: UserId,
}

/// The app (webhook mode unless `polling`) with the fake Google, and Sam, an active user.
async fn start(mode: &[(&str, &str)]) -> Connecting {
    let google = FakeGoogle::start().await;
    let dir = tempfile::tempdir().unwrap();
    let vars = google.env(dir.path());
    let mut env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(mode);
    let app = TestApp::start_with(FakeTelegram::start().await, dir, &env).await;
    app.store
        .register_pending_user(ChatId(STRANGER), "Sam", Some("sam_t"), 0)
        .await
        .unwrap();
    app.store
        .set_user_status(ChatId(STRANGER), minicrew::users::UserStatus::Active)
        .await
        .unwrap();
    let sam = app
        .store
        .user_by_chat(ChatId(STRANGER))
        .await
        .unwrap()
        .unwrap()
        .id;
    Connecting { app, google, sam }
}

impl Connecting {
    /// Sam asks for the link and consents at Google, which redirects to the callback: the
    /// state, the code, and the callback's answer (status and page).
    async fn approved_redirect(&self) -> (String, String, StatusCode, String) {
        let consent = self.ask_for_link().await;
        let state = query_of(&consent)["state"].clone();
        let code = self.google.approve_as(&consent, SAM_MAILBOX);
        let (status, page) = self.redirect(&[("state", &state), ("code", &code)]).await;
        (state, code, status, page)
    }

    fn token_file(&self) -> std::path::PathBuf {
        self.app
            .dir
            .path()
            .join("credentials")
            .join(format!("gmail_{}.json", self.sam))
    }

    /// Sam sends /authgmail over the webhook; returns the consent URL the bot sent back.
    async fn ask_for_link(&self) -> Url {
        let addr = self.app.health.http_addr(WAIT).await.unwrap();
        let update = text_update(1, STRANGER, "/authgmail");
        assert_eq!(deliver(addr, &update).await, StatusCode::OK);
        consent_link(&self.app.fake.wait_for_sent(1, WAIT).await[0].text)
    }

    /// The browser following Google's redirect to the callback with `query`.
    async fn redirect(&self, query: &[(&str, &str)]) -> (StatusCode, String) {
        let addr = self.app.health.http_addr(WAIT).await.unwrap();
        let mut url = Url::parse(&format!("http://{addr}/auth/gmail/callback")).unwrap();
        url.query_pairs_mut().extend_pairs(query);
        let response = client().get(url).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// The browser pressing the page's Confirm button (a form POST).
    async fn press_confirm(&self, token: &str) -> (StatusCode, String) {
        let addr = self.app.health.http_addr(WAIT).await.unwrap();
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .finish();
        let response = client()
            .post(format!("http://{addr}/auth/gmail/callback"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    fn exchanges(&self) -> usize {
        let grants = &self.google.state().grants;
        grants.iter().filter(|g| *g == "authorization_code").count()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(WAIT).build().unwrap()
}

fn consent_link(text: &str) -> Url {
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .expect("a consent link");
    Url::parse(link).unwrap()
}

fn query_of(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// The hidden token of the confirm form.
fn form_token(page: &str) -> String {
    let marker = "name=token value=\"";
    let start = page.find(marker).expect("a confirm form") + marker.len();
    let len = page[start..].find('"').unwrap();
    page[start..start + len].to_string()
}

#[tokio::test]
async fn the_redirect_names_the_telegram_account_and_links_nothing_without_the_confirm() {
    let c = start(&WEBHOOK_ENV).await;
    let (state, code, status, page) = c.approved_redirect().await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Sam (@sam_t)"), "{page}");
    assert!(page.contains("<form method=post"), "{page}");
    assert!(
        !page.contains(&code) && !page.contains(&state),
        "no code or state in the page"
    );
    assert_eq!(
        c.exchanges(),
        0,
        "the code is not exchanged before the confirm"
    );
    assert!(!c.token_file().exists(), "nothing is linked");
    c.app
        .fake
        .assert_no_messages_to(STRANGER, Duration::from_millis(300))
        .await;
    assert_eq!(c.app.fake.sent_to(STRANGER).len(), 1, "only the link");
    c.app.stop().await;
}

#[tokio::test]
async fn the_confirm_links_the_mailbox_once_and_the_chat_names_the_google_address() {
    let c = start(&WEBHOOK_ENV).await;
    let (state, code, _, page) = c.approved_redirect().await;
    let token = form_token(&page);
    let (status, page) = c.press_confirm(&token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(SAM_MAILBOX) && page.contains("Sam (@sam_t)"),
        "{page}"
    );
    assert!(c.token_file().exists());
    assert_eq!(c.exchanges(), 1);
    let sent = c.app.fake.wait_for_sent(2, WAIT).await;
    assert_eq!(sent[1].chat_id, STRANGER);
    assert!(sent[1].text.contains(SAM_MAILBOX), "{}", sent[1].text);

    // A replayed button and a reloaded redirect are refused with a clear page.
    let (status, page) = c.press_confirm(&token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("already used"), "{page}");
    let (status, page) = c.redirect(&[("state", &state), ("code", &code)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("already used"), "{page}");
    assert_eq!(c.exchanges(), 1, "the code is exchanged once");
    c.app
        .fake
        .assert_no_messages_to(STRANGER, Duration::from_millis(300))
        .await;
    c.app.stop().await;
}

#[tokio::test]
async fn a_forged_or_expired_confirmation_is_refused_and_links_nothing() {
    let c = start(&WEBHOOK_ENV).await;
    let consent = c.ask_for_link().await;
    let state = query_of(&consent)["state"].clone();
    let code = c.google.approve_as(&consent, SAM_MAILBOX);
    let (status, page) = c
        .redirect(&[("state", "forged-state"), ("code", &code)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!page.contains(&code), "the page never echoes the code");
    let (_, page) = c.redirect(&[("state", &state), ("code", &code)]).await;
    let token = form_token(&page);
    let (status, _) = c.press_confirm("made-up-token").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let expired = "UPDATE gmail_pending_auth SET expires_at = 0";
    let rows = c
        .app
        .store
        .call(move |db| db.execute(expired, []))
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let (status, page) = c.press_confirm(&token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("expired"), "{page}");
    assert_eq!(c.exchanges(), 0);
    assert!(!c.token_file().exists());
    c.app.stop().await;
}

#[tokio::test]
async fn a_declined_consent_is_forgotten() {
    let c = start(&WEBHOOK_ENV).await;
    let consent = c.ask_for_link().await;
    let state = query_of(&consent)["state"].clone();
    let (status, page) = c
        .redirect(&[("state", &state), ("error", "access_denied")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("not granted"), "{page}");
    c.app
        .wait_for_db("SELECT COUNT(*) FROM gmail_pending_auth", "0")
        .await;
    c.app.stop().await;
}

/// The consent's secrets at rest: the pending row holds only the state's hash, the sealed code
/// and the token's hash; the code and the token appear nowhere in the database files. (The sent
/// consent link's text is replaced once Telegram has it: see
/// `the_consent_link_and_the_pasted_address_are_not_kept_once_used`.)
#[tokio::test]
async fn the_state_code_and_confirm_token_are_not_stored_in_clear() {
    let c = start(&WEBHOOK_ENV).await;
    let (state, code, _, page) = c.approved_redirect().await;
    let token = form_token(&page);
    let row: Vec<Vec<u8>> = c
        .app
        .store
        .call(|db| {
            db.query_row(
                "SELECT state_hash, verifier, redirect_uri, sealed_code, confirm_hash
                 FROM gmail_pending_auth",
                [],
                |r| {
                    (0..5)
                        .map(|i| match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Text(t) => Ok(t.to_vec()),
                            rusqlite::types::ValueRef::Blob(b) => Ok(b.to_vec()),
                            other => panic!("unexpected column {i}: {other:?}"),
                        })
                        .collect()
                },
            )
        })
        .await
        .unwrap();
    assert_eq!(row[0].len(), 64, "the state as a SHA-256 in hex");
    assert_eq!(row[4].len(), 64, "the token as a SHA-256 in hex");
    let holds = |haystack: &[u8], needle: &str| {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    for secret in [&state, &code, &token] {
        assert!(
            !row.iter().any(|col| holds(col, secret)),
            "{secret} in the row"
        );
    }
    let mut on_disk = Vec::new();
    for name in ["minicrew.db", "minicrew.db-wal"] {
        if let Ok(bytes) = std::fs::read(c.app.dir.path().join(name)) {
            on_disk.extend(bytes);
        }
    }
    assert!(holds(&on_disk, &hex_prefix(&row[0])), "the files were read");
    for secret in [&code, &token] {
        assert!(!holds(&on_disk, secret), "{secret} is stored in clear");
    }
    c.app.stop().await;
}

/// The first 16 characters of a stored hex hash, to find it in the raw files.
fn hex_prefix(hash: &[u8]) -> String {
    String::from_utf8_lossy(&hash[..16]).into_owned()
}

#[tokio::test]
async fn pasting_the_address_in_polling_mode_names_the_connected_google_address() {
    let c = start(&[]).await;
    c.app.fake.push_text(STRANGER, "/authgmail");
    let consent = consent_link(&c.app.fake.wait_for_sent(1, WAIT).await[0].text);
    let state = query_of(&consent)["state"].clone();
    let code = c.google.approve_as(&consent, SAM_MAILBOX);
    // A message that merely holds a link with `state=` is not taken for the address.
    c.app.fake.push_text(
        STRANGER,
        "is https://shop.example.com/track?state=shipped&code=1 mine?",
    );
    let sent = c.app.fake.wait_for_sent(2, WAIT).await;
    assert!(!sent[1].text.contains("Gmail"), "{}", sent[1].text);
    let landed = format!("{PASTE_REDIRECT_URI}?state={state}&code={code}&scope=gmail.readonly");
    c.app.fake.push_text(STRANGER, &landed);
    let sent = c.app.fake.wait_for_sent(3, WAIT).await;
    assert!(sent[2].text.contains(SAM_MAILBOX), "{}", sent[2].text);
    assert!(c.token_file().exists());
    c.app.stop().await;
}

#[tokio::test]
async fn a_gmail_error_in_chat_does_not_show_server_file_paths() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("client.json");
    let missing = missing.display().to_string();
    let env = [("GOOGLE_CLIENT_SECRET_FILE", missing.as_str())];
    let app = TestApp::start_with(FakeTelegram::start().await, dir, &env).await;
    app.store
        .register_pending_user(ChatId(STRANGER), "Sam", None, 0)
        .await
        .unwrap();
    app.store
        .set_user_status(ChatId(STRANGER), minicrew::users::UserStatus::Active)
        .await
        .unwrap();
    app.fake.push_text(STRANGER, "/authgmail");
    let reply = &app.fake.wait_for_sent(1, WAIT).await[0].text;
    assert!(reply.contains("GOOGLE_CLIENT_SECRET_FILE"), "{reply}");
    assert!(
        !reply.contains("no-such-dir") && !reply.contains("client.json"),
        "{reply}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_consent_link_and_the_pasted_address_are_not_kept_once_used() {
    let c = start(&[]).await;
    c.app.fake.push_text(STRANGER, "/authgmail");
    let consent = consent_link(&c.app.fake.wait_for_sent(1, WAIT).await[0].text);
    let state = query_of(&consent)["state"].clone();
    let code = c.google.approve_as(&consent, SAM_MAILBOX);
    let landed = format!("{PASTE_REDIRECT_URI}?state={state}&code={code}&scope=gmail.readonly");
    let pasted = c.app.fake.push_text(STRANGER, &landed);
    let sent = c.app.fake.wait_for_sent(2, WAIT).await;
    assert!(sent[1].text.contains(SAM_MAILBOX), "{}", sent[1].text);
    c.app
        .wait_for_db(
            "SELECT status FROM inbox ORDER BY update_id DESC LIMIT 1",
            "done",
        )
        .await;
    let texts: Vec<String> = c
        .app
        .store
        .call(|conn| {
            let mut stmt = conn.prepare(
                "SELECT text FROM outbox UNION ALL SELECT payload FROM inbox
                 UNION ALL SELECT content FROM chat_history",
            )?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect()
        })
        .await
        .unwrap();
    for text in &texts {
        assert!(!text.contains(&state), "the state is kept in clear: {text}");
        assert!(!text.contains(&code), "the code is kept in clear: {text}");
    }
    let payload: String = c
        .app
        .store
        .call(move |conn| {
            conn.query_row(
                "SELECT payload FROM inbox WHERE update_id = ?1",
                [pasted],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert!(
        payload.contains("removed after use"),
        "the stored update stays decodable with its text replaced: {payload}"
    );
    c.app.stop().await;
}

/// The writer wakes the scheduler: the pasted address connects Gmail, and the loop (asleep until
/// tomorrow's cleanup) plans Sam's first morning briefing at once instead of at its next pass.
#[tokio::test]
async fn a_pasted_gmail_address_schedules_the_first_morning_briefing_at_once() {
    let c = start(&[("MORNING_BRIEFING_TIME", "07:00")]).await;
    c.app
        .wait_for_db(
            "SELECT count(*) FROM schedules WHERE system = 'briefing'",
            "0",
        )
        .await;
    c.app.fake.push_text(STRANGER, "/authgmail");
    let consent = consent_link(&c.app.fake.wait_for_sent(1, WAIT).await[0].text);
    let state = query_of(&consent)["state"].clone();
    let code = c.google.approve_as(&consent, SAM_MAILBOX);
    let landed = format!("{PASTE_REDIRECT_URI}?state={state}&code={code}&scope=gmail.readonly");
    c.app.fake.push_text(STRANGER, &landed);
    let sent = c.app.fake.wait_for_sent(2, WAIT).await;
    assert!(sent[1].text.contains(SAM_MAILBOX), "{}", sent[1].text);
    c.app
        .wait_for_db(
            "SELECT count(*) FROM schedules WHERE system = 'briefing' AND active = 1",
            "1",
        )
        .await;
    let briefings = c.app.store.briefing_schedules().await.unwrap();
    assert_eq!(briefings[0].user_id, c.sam, "the briefing is Sam's");
    assert!(briefings[0].next_run_at.is_some());
    c.app.stop().await;
}
