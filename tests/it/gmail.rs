//! Gmail end to end against the fake Google: `--auth-gmail` with the test as browser, the chat
//! consent flow (paste and webhook callback), encrypted tokens, refresh, revocation and reading mail.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use minicrew::config::{Config, EnvReader, Purpose};
use minicrew::gmail::connect::PASTE_REDIRECT_URI;
use minicrew::gmail::loopback::RedirectParams;
use minicrew::gmail::{
    CliAuthOptions, CliConnected, Disconnect, EmailArgs, GmailClient, GmailConnect, GmailError,
    RECONNECT_MESSAGE, SecretKey, StoredToken, TokenStore, parse_email_args, run_cli_auth,
};
use minicrew::ids::UserId;
use minicrew::store::Store;
use secrecy::ExposeSecret;
use serde_json::json;
use tempfile::TempDir;
use tokio::sync::oneshot;
use url::Url;

use crate::support::fake_google::{DEFAULT_ACCOUNT, FakeGoogle};

/// Deadline for anything a test waits on.
const WAIT: Duration = Duration::from_secs(10);

struct Env {
    _dir: TempDir,
    fake: FakeGoogle,
    config: Config,
    store: Store,
    /// users.id of a non-owner active user.
    user: i64,
}

impl Env {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeGoogle::start().await;
        let secret_file = dir.path().join("credentials.json");
        std::fs::write(&secret_file, FakeGoogle::client_secret_json()).unwrap();
        let path = |p: &str| dir.path().join(p).display().to_string();
        let vars: HashMap<String, String> = [
            (
                "GOOGLE_CLIENT_SECRET_FILE",
                secret_file.display().to_string(),
            ),
            ("CREDENTIALS_DIR", path("credentials")),
            ("DATA_DIR", path("data")),
            ("GMAIL_MAX_RESULTS", "5".into()),
            ("GMAIL_API_URL", fake.base.to_string()),
            (
                "GOOGLE_AUTH_URL",
                fake.base.join("/auth").unwrap().to_string(),
            ),
            (
                "GOOGLE_TOKEN_URL",
                fake.base.join("/token").unwrap().to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let config = Config::from_reader(&EnvReader::new(vars), Purpose::Local).unwrap();
        let store = Store::open(&config.data_dir).unwrap();
        let user = store
            .call(|c| {
                c.execute_batch(
                    "INSERT INTO users (chat_id, display_name, status, created_at, updated_at)
                     VALUES (1, 'Owner', 'owner', 0, 0), (777, 'Bea', 'active', 0, 0);",
                )?;
                c.query_row("SELECT id FROM users WHERE chat_id = 777", [], |r| r.get(0))
            })
            .await
            .unwrap();
        Self {
            _dir: dir,
            fake,
            config,
            store,
            user,
        }
    }

    fn key(&self) -> SecretKey {
        SecretKey::load_or_create(None, &self.config.data_dir).unwrap()
    }

    fn tokens(&self) -> TokenStore {
        TokenStore::new(&self.config.gmail.credentials_dir, self.key())
    }

    fn connect(&self, callback: Option<Url>) -> GmailConnect {
        GmailConnect::with_callback(
            self.config.gmail.clone(),
            self.store.clone(),
            self.key(),
            callback,
        )
    }

    fn client(&self) -> GmailClient {
        GmailClient::new(self.config.gmail.clone(), self.tokens(), self.store.clone()).unwrap()
    }

    /// Stores a token whose access token the fake does not know (stale) and whose refresh token
    /// it accepts.
    async fn store_stale_token(&self, expires_at: i64) {
        self.fake
            .state()
            .refresh_tokens
            .insert("1//old-refresh".into());
        let token = StoredToken {
            access_token: "ya29.stale".to_string().into(),
            refresh_token: "1//old-refresh".to_string().into(),
            expires_at: Some(expires_at),
            scope: None,
        };
        self.tokens().save(UserId(self.user), &token).await.unwrap();
    }

    fn add_standard_messages(&self) {
        let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
        self.fake.add_message(
            "m1",
            json!({"partId": "", "mimeType": "multipart/alternative",
            "filename": "", "headers": [{"name": "Subject", "value": "Your statement"},
                {"name": "From", "value": "Bank <no-reply@bank.example>"},
                {"name": "Date", "value": "Mon, 3 Mar 2025 08:00:00 +0000"}],
            "body": {"size": 0}, "parts": [
                {"partId": "0", "mimeType": "text/plain", "filename": "", "headers": [],
                 "body": {"size": 30, "data": b64("Balance: 120 EUR.\r\nPay by Friday.")}},
                {"partId": "1", "mimeType": "text/html", "filename": "", "headers": [],
                 "body": {"size": 40, "data": b64("<p>Balance: <b>120 EUR</b></p>")}}]}),
        );
        self.fake.add_message("m2", json!({"partId": "", "mimeType": "text/html", "filename": "",
            "headers": [{"name": "Subject", "value": "Sale"}, {"name": "From", "value": "shop@example.com"}],
            "body": {"size": 50, "data": b64("<html><style>x{}</style><h1>50% off</h1><p>Only today &amp; tomorrow</p></html>")}}));
    }
}

fn query_of(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Starts `run_cli_auth` for the owner and returns the consent URL it showed and its task.
async fn start_cli_auth(
    env: &Env,
    timeout: Duration,
) -> (
    Url,
    tokio::task::JoinHandle<Result<CliConnected, GmailError>>,
) {
    let (tx, rx) = oneshot::channel();
    let options = CliAuthOptions {
        open_browser: false,
        timeout,
        show_url: Box::new(move |url| {
            let _ = tx.send(url.clone());
        }),
    };
    let config = env.config.clone();
    let task = tokio::spawn(async move { run_cli_auth(&config, UserId(1), options).await });
    let url = tokio::time::timeout(WAIT, rx).await.unwrap().unwrap();
    (url, task)
}

/// Acts as the browser following Google's redirect.
async fn follow_redirect(consent: &Url, extra: &[(&str, &str)]) -> String {
    let mut redirect = Url::parse(&query_of(consent)["redirect_uri"]).unwrap();
    redirect.query_pairs_mut().extend_pairs(extra);
    let response = reqwest::get(redirect).await.unwrap();
    assert!(response.status().is_success());
    response.text().await.unwrap()
}

async fn finish<T>(task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(WAIT, task).await.unwrap().unwrap()
}

#[tokio::test]
async fn cli_auth_with_the_test_as_browser_stores_an_encrypted_token() {
    let env = Env::start().await;
    let (consent, task) = start_cli_auth(&env, WAIT).await;
    assert!(
        consent
            .as_str()
            .starts_with(env.fake.base.join("/auth").unwrap().as_str())
    );
    let q = query_of(&consent);
    assert!(
        q["redirect_uri"].starts_with("http://127.0.0.1:"),
        "{}",
        q["redirect_uri"]
    );
    let code = env.fake.approve(&consent);
    let page = follow_redirect(&consent, &[("code", &code), ("state", &q["state"])]).await;
    assert!(page.contains("close this tab"));

    let connected = finish(task).await.unwrap();
    let path = connected.path.clone();
    assert_eq!(path, env.config.gmail.credentials_dir.join("gmail_1.json"));
    assert_eq!(connected.email.as_deref(), Some(DEFAULT_ACCOUNT));
    assert!(
        connected.summary().contains(DEFAULT_ACCOUNT),
        "the command prints the address"
    );
    assert_eq!(env.fake.state().grants, vec!["authorization_code"]);
    let raw = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(
        !text.contains("refresh-secret") && !text.contains("refresh_token"),
        "{text}"
    );
    assert!(!text.contains("ya29"));
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&env.config.data_dir.join("secret.key")), 0o600);
    let token = env.tokens().load(UserId(1)).await.unwrap().unwrap();
    assert!(
        env.fake
            .state()
            .refresh_tokens
            .contains(token.refresh_token.expose_secret())
    );
}

#[tokio::test]
async fn cli_auth_rejects_a_redirect_with_the_wrong_state() {
    let env = Env::start().await;
    let (consent, task) = start_cli_auth(&env, WAIT).await;
    let code = env.fake.approve(&consent);
    follow_redirect(&consent, &[("code", &code), ("state", "forged-state")]).await;
    let err = finish(task).await.unwrap_err();
    assert!(matches!(err, GmailError::StateMismatch), "{err:?}");
    assert!(
        env.fake.state().grants.is_empty(),
        "the code must not be exchanged"
    );
    assert!(
        !env.config
            .gmail
            .credentials_dir
            .join("gmail_1.json")
            .exists()
    );
}

#[tokio::test]
async fn cli_auth_reports_denied_consent() {
    let env = Env::start().await;
    let (consent, task) = start_cli_auth(&env, WAIT).await;
    let state = query_of(&consent)["state"].clone();
    follow_redirect(&consent, &[("error", "access_denied"), ("state", &state)]).await;
    let err = finish(task).await.unwrap_err();
    assert!(matches!(err, GmailError::Denied), "{err:?}");
    assert!(err.to_string().contains("not granted"));
}

#[tokio::test(start_paused = true)]
async fn cli_auth_times_out_without_a_redirect() {
    let env = Env::start().await;
    let (_consent, task) = start_cli_auth(&env, Duration::from_secs(300)).await;
    let err = task.await.unwrap().unwrap_err();
    assert!(
        matches!(err, GmailError::TimedOut(d) if d == Duration::from_secs(300)),
        "{err:?}"
    );
}

/// Begins the paste flow for `env.user` and returns the address the browser would land on.
async fn approved_paste_address(env: &Env, connect: &GmailConnect) -> String {
    let link = connect.begin(UserId(env.user)).await.unwrap();
    assert!(link.needs_paste);
    assert!(link.instructions().contains(link.url.as_str()));
    let q = query_of(&link.url);
    assert_eq!(q["redirect_uri"], PASTE_REDIRECT_URI);
    let code = env.fake.approve(&link.url);
    let mut landed = Url::parse(PASTE_REDIRECT_URI).unwrap();
    landed
        .query_pairs_mut()
        .append_pair("state", &q["state"])
        .append_pair("code", &code)
        .append_pair("scope", "https://www.googleapis.com/auth/gmail.readonly");
    landed.to_string()
}

#[tokio::test]
async fn non_owner_connects_by_pasting_the_address_once() {
    let env = Env::start().await;
    let connect = env.connect(None);
    let landed = approved_paste_address(&env, &connect).await;
    let pasted = format!("here you go: {landed}");
    let connected = connect
        .complete_from_pasted_url(UserId(env.user), &pasted)
        .await
        .unwrap();
    assert_eq!(connected.user_id, UserId(env.user));
    assert_eq!(connected.email.as_deref(), Some(DEFAULT_ACCOUNT));
    assert!(connected.chat_message().contains(DEFAULT_ACCOUNT));
    let token = env.tokens().load(UserId(env.user)).await.unwrap().unwrap();
    assert!(
        token
            .refresh_token
            .expose_secret()
            .starts_with("1//refresh-secret")
    );
    let again = connect
        .complete_from_pasted_url(UserId(env.user), &pasted)
        .await
        .unwrap_err();
    assert!(matches!(again, GmailError::UnknownState), "{again:?}");
}

#[tokio::test]
async fn a_consent_link_cannot_be_redeemed_by_another_user() {
    let env = Env::start().await;
    let connect = env.connect(None);
    let landed = approved_paste_address(&env, &connect).await;
    let err = connect
        .complete_from_pasted_url(UserId(1), &landed)
        .await
        .unwrap_err();
    assert!(matches!(err, GmailError::UnknownState), "{err:?}");
    connect
        .complete_from_pasted_url(UserId(env.user), &landed)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_expired_consent_link_is_rejected() {
    let env = Env::start().await;
    let connect = env.connect(None);
    let landed = approved_paste_address(&env, &connect).await;
    let rows = env
        .store
        .call(|c| c.execute("UPDATE gmail_pending_auth SET expires_at = created_at", []))
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let err = connect
        .complete_from_pasted_url(UserId(env.user), &landed)
        .await
        .unwrap_err();
    assert!(matches!(err, GmailError::StateExpired), "{err:?}");
    assert!(env.fake.state().grants.is_empty());
    assert!(env.tokens().load(UserId(env.user)).await.unwrap().is_none());
}

#[tokio::test]
async fn webhook_callback_connects_the_user_the_state_was_issued_to_only_once_confirmed() {
    let env = Env::start().await;
    let callback = Url::parse("https://bot.example.com/auth/gmail/callback").unwrap();
    let connect = env.connect(Some(callback.clone()));
    let link = connect.begin(UserId(env.user)).await.unwrap();
    assert!(!link.needs_paste);
    let q = query_of(&link.url);
    assert_eq!(q["redirect_uri"], callback.as_str());
    let code = env.fake.approve(&link.url);
    let redirect = RedirectParams {
        code: Some(code),
        state: Some(q["state"].clone()),
        error: None,
    };
    let pending = connect.prepare_confirmation(&redirect).await.unwrap();
    assert_eq!(pending.user_id, UserId(env.user));
    assert!(
        env.fake.state().grants.is_empty(),
        "nothing exchanged before the confirm"
    );
    assert!(env.tokens().load(UserId(env.user)).await.unwrap().is_none());
    let token = pending.token.expose_secret().to_string();
    let connected = connect.confirm(&token).await.unwrap();
    assert_eq!(connected.user_id, UserId(env.user));
    assert_eq!(connected.email.as_deref(), Some(DEFAULT_ACCOUNT));
    assert!(env.tokens().load(UserId(env.user)).await.unwrap().is_some());
    let again = connect.confirm(&token).await.unwrap_err();
    assert!(matches!(again, GmailError::UnknownState), "{again:?}");
}

#[tokio::test]
async fn a_webhook_consent_cannot_be_completed_by_pasting_its_address() {
    let env = Env::start().await;
    let callback = Url::parse("https://bot.example.com/auth/gmail/callback").unwrap();
    let link = env
        .connect(Some(callback))
        .begin(UserId(env.user))
        .await
        .unwrap();
    let q = query_of(&link.url);
    let code = env.fake.approve(&link.url);
    let mut landed = Url::parse(PASTE_REDIRECT_URI).unwrap();
    landed
        .query_pairs_mut()
        .append_pair("state", &q["state"])
        .append_pair("code", &code);
    let err = env
        .connect(None)
        .complete_from_pasted_url(UserId(env.user), landed.as_str())
        .await
        .unwrap_err();
    assert!(matches!(err, GmailError::UnknownState), "{err:?}");
    assert!(
        env.fake.state().grants.is_empty(),
        "the confirm page is not skipped"
    );
}

#[tokio::test]
async fn fetch_reads_plain_and_html_mail_with_the_built_query() {
    let env = Env::start().await;
    let connect = env.connect(None);
    let landed = approved_paste_address(&env, &connect).await;
    connect
        .complete_from_pasted_url(UserId(env.user), &landed)
        .await
        .unwrap();
    env.add_standard_messages();
    let messages = env
        .client()
        .fetch_recent(UserId(env.user), &EmailArgs::default())
        .await
        .unwrap();
    assert_eq!(
        env.fake.state().list_queries,
        vec![("newer_than:1d is:unread".to_string(), "5".to_string())]
    );
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].subject, "Your statement");
    assert_eq!(messages[0].from, "Bank <no-reply@bank.example>");
    assert_eq!(messages[0].body, "Balance: 120 EUR.\nPay by Friday.");
    assert_eq!(messages[1].body, "50% off\n\nOnly today & tomorrow");
    assert_eq!(
        env.fake.state().grants,
        vec!["authorization_code"],
        "no refresh needed"
    );
}

#[tokio::test]
async fn a_401_refreshes_once_and_keeps_the_old_refresh_token() {
    let env = Env::start().await;
    env.store_stale_token(i64::MAX / 4).await;
    env.add_standard_messages();
    let messages = env
        .client()
        .fetch_recent(UserId(env.user), &parse_email_args("from:bank 7d"))
        .await
        .unwrap();
    assert_eq!(messages.len(), 2);
    {
        let s = env.fake.state();
        assert_eq!(s.grants, vec!["refresh_token"]);
        assert_eq!(s.bearers[0], "ya29.stale");
        assert!(
            s.bearers[1..].iter().all(|b| b == "ya29.access-1"),
            "{:?}",
            s.bearers
        );
        assert_eq!(s.list_queries[0].0, "newer_than:7d from:bank");
    }
    let stored = env.tokens().load(UserId(env.user)).await.unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "ya29.access-1");
    assert_eq!(stored.refresh_token.expose_secret(), "1//old-refresh");
}

#[tokio::test]
async fn a_one_off_401_with_a_valid_token_refreshes_and_retries_the_call() {
    let env = Env::start().await;
    let connect = env.connect(None);
    let landed = approved_paste_address(&env, &connect).await;
    connect
        .complete_from_pasted_url(UserId(env.user), &landed)
        .await
        .unwrap();
    env.add_standard_messages();
    let client = env.client();
    let args = parse_email_args("force");
    client.fetch_recent(UserId(env.user), &args).await.unwrap();
    env.fake.state().fail_next_with_401 = true;
    let messages = client.fetch_recent(UserId(env.user), &args).await.unwrap();
    assert_eq!(messages.len(), 2);
    let refreshed = {
        let s = env.fake.state();
        assert_eq!(s.grants, vec!["authorization_code", "refresh_token"]);
        let refreshed = s.bearers.last().unwrap().clone();
        assert_ne!(refreshed, s.bearers[0]);
        refreshed
    };
    let stored = env.tokens().load(UserId(env.user)).await.unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), refreshed);
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_before_calling_gmail() {
    let env = Env::start().await;
    env.store_stale_token(0).await;
    env.client()
        .fetch_recent(UserId(env.user), &EmailArgs::default())
        .await
        .unwrap();
    let s = env.fake.state();
    assert_eq!(s.grants, vec!["refresh_token"]);
    assert_eq!(
        s.bearers,
        vec!["ya29.access-1"],
        "the stale token is never sent"
    );
}

#[tokio::test]
async fn a_revoked_refresh_token_asks_to_connect_again() {
    let env = Env::start().await;
    env.store_stale_token(0).await;
    env.fake.state().invalid_grant = true;
    let err = env
        .client()
        .fetch_recent(UserId(env.user), &EmailArgs::default())
        .await
        .unwrap_err();
    assert!(matches!(err, GmailError::ReconnectNeeded), "{err:?}");
    assert_eq!(err.to_string(), RECONNECT_MESSAGE);
}

#[tokio::test]
async fn processed_messages_are_skipped_unless_forced() {
    let env = Env::start().await;
    env.store_stale_token(i64::MAX / 4).await;
    env.add_standard_messages();
    let client = env.client();
    let first = client
        .fetch_recent(UserId(env.user), &EmailArgs::default())
        .await
        .unwrap();
    client
        .mark_processed(UserId(env.user), &first[..1])
        .await
        .unwrap();
    let second = client
        .fetch_recent(UserId(env.user), &EmailArgs::default())
        .await
        .unwrap();
    assert_eq!(
        second.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["m2"]
    );
    let forced = client
        .fetch_recent(UserId(env.user), &parse_email_args("3d force"))
        .await
        .unwrap();
    assert_eq!(forced.len(), 2);
    assert_eq!(
        env.fake.state().list_queries.last().unwrap().0,
        "newer_than:3d"
    );
}

#[tokio::test]
async fn disconnect_revokes_at_google_and_deletes_the_file() {
    let env = Env::start().await;
    env.store_stale_token(0).await;
    let connect = env.connect(None);
    assert_eq!(
        connect.disconnect(UserId(env.user)).await.unwrap(),
        Disconnect::Revoked
    );
    assert_eq!(env.fake.state().revoked, vec!["1//old-refresh"]);
    assert!(!env.tokens().path(UserId(env.user)).exists());
    assert_eq!(
        connect.disconnect(UserId(env.user)).await.unwrap(),
        Disconnect::NotConnected
    );
    let err = env
        .client()
        .fetch_recent(UserId(env.user), &EmailArgs::default())
        .await
        .unwrap_err();
    assert!(matches!(err, GmailError::NotConnected), "{err:?}");
}
