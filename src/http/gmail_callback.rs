//! `/auth/gmail/callback` (webhook mode): where Google sends the browser after someone allowed
//! Gmail access from an `/authgmail` link.
//!
//! - `GET` (Google's redirect) links nothing: it shows which Telegram account the mailbox would be
//!   linked to (the user who asked for the link) and one Confirm button, a form POST carrying a
//!   one-time token (see `gmail::confirm`). Someone who was sent another user's link sees a
//!   stranger's name there and can close the page.
//! - `POST` (the button) exchanges the code, stores the token encrypted and tells the user in chat
//!   which Google address was connected.
//!
//! Pages never echo the code, the state or the token outside the form, are not cached, not sent
//! as a referrer and cannot be framed.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use secrecy::ExposeSecret;

use crate::gmail::confirm::CONFIRM_TTL;
use crate::gmail::connect::CALLBACK_PATH;
use crate::gmail::loopback::RedirectParams;
use crate::gmail::{Connected, GmailError};
use crate::message::Reply;
use crate::services::Services;
use crate::telegram::format::{escape_attr, escape_html};
use crate::telegram::send::TelegramSender;
use crate::users::User;

/// Largest confirm form accepted (it holds one token).
const MAX_FORM: usize = 4 * 1024;

/// What the callback needs: the connect flow (in services) and a way to tell the user.
#[derive(Clone)]
pub struct GmailCallbackState {
    /// Shared services (Gmail connect flow, store, scheduler wake-up).
    pub services: Arc<Services>,
    /// Sends the "connected" message.
    pub sender: TelegramSender,
}

/// The callback route: the redirect (GET) and the Confirm button (POST).
pub fn routes(state: GmailCallbackState) -> Router {
    Router::new()
        .route(CALLBACK_PATH, get(redirected).post(confirmed))
        .layer(DefaultBodyLimit::max(MAX_FORM))
        .with_state(state)
}

async fn redirected(
    State(state): State<GmailCallbackState>,
    Query(params): Query<RedirectParams>,
) -> Response {
    let services = &state.services;
    let pending = match services.gmail.connect.prepare_confirmation(&params).await {
        Ok(pending) => pending,
        Err(e) => return refused(e),
    };
    let user = match services.store.user_by_id(pending.user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => return refused(GmailError::UnknownState),
        Err(e) => return refused(e.into()),
    };
    let account = escape_html(&account_label(&user));
    let minutes = CONFIRM_TTL.as_secs() / 60;
    let body = format!(
        "<p>Google allowed read-only access to a Gmail mailbox. Confirm to link it to this \
         Telegram account:</p>\
         <p class=account>{account}</p>\
         <p>Only confirm if this is <b>your own</b> Telegram account. If someone sent you this \
         link, close this page: confirming would let them read your mail.</p>\
         <form method=post action=callback>\
         <input type=hidden name=token value=\"{token}\">\
         <button type=submit>Link my Gmail to {account}</button></form>\
         <p class=note>This button works once, for {minutes} minutes.</p>",
        token = escape_attr(pending.token.expose_secret()),
    );
    page(StatusCode::OK, "Link your Gmail?", &body)
}

async fn confirmed(State(state): State<GmailCallbackState>, form: Bytes) -> Response {
    let token = url::form_urlencoded::parse(&form)
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let services = &state.services;
    let connected = match services.gmail.connect.confirm(&token).await {
        Ok(connected) => connected,
        Err(e) => return refused(e),
    };
    let user = services.store.user_by_id(connected.user_id).await;
    if let Ok(Some(user)) = &user {
        let note = Reply::plain(user.chat_id, connected.chat_message());
        if let Err(e) = state.sender.send(None, vec![note]).await {
            tracing::warn!(user_id = %user.id, error = %e, "could not tell the user Gmail is connected");
        }
    }
    let account = match &user {
        Ok(Some(user)) => account_label(user),
        _ => "your Telegram account".to_string(),
    };
    page(
        StatusCode::OK,
        "Gmail is connected",
        &format!(
            "<p>{}</p><p>You can close this tab and go back to Telegram.</p>",
            escape_html(&connected_text(&connected, &account))
        ),
    )
}

/// "Bea (@bea)", or "Bea (Telegram chat id 777)" without a username.
fn account_label(user: &User) -> String {
    match user.username.as_deref().filter(|u| !u.is_empty()) {
        Some(username) => format!("{} (@{username})", user.display_name),
        None => format!("{} (Telegram chat id {})", user.display_name, user.chat_id),
    }
}

fn connected_text(connected: &Connected, account: &str) -> String {
    match &connected.email {
        Some(email) => format!("{email} is now linked to {account}."),
        None => format!("The mailbox is now linked to {account}."),
    }
}

/// The page for a refused redirect or button: the error says what to do, never the code.
fn refused(e: GmailError) -> Response {
    tracing::info!(error = %e, "Gmail callback refused");
    page(
        StatusCode::BAD_REQUEST,
        "Gmail was not connected",
        &format!("<p>{}</p>", escape_html(&e.to_string())),
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=en><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>body{{font-family:sans-serif;max-width:36em;margin:2em auto;\
         padding:0 1em;line-height:1.5}}.account{{font-size:1.3em;font-weight:bold}}\
         .note{{color:#555}}button{{font-size:1.1em;padding:.5em 1em}}</style>\
         <h1>{t}</h1>{body}</html>",
        t = escape_html(title),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
