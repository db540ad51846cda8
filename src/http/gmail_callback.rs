//! `GET /auth/gmail/callback` (webhook mode): where Google sends the browser after a user allowed
//! Gmail access from an `/authgmail` link. The code is exchanged for the user the `state` was
//! issued to, the token stored encrypted, and the user told in chat. The page says what happened
//! without echoing the code or state.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::gmail::connect::CALLBACK_PATH;
use crate::gmail::loopback::RedirectParams;
use crate::message::Reply;
use crate::services::Services;
use crate::telegram::send::TelegramSender;

/// What the callback needs: the connect flow (in services) and a way to tell the user.
#[derive(Clone)]
pub struct GmailCallbackState {
    /// Shared services (Gmail connect flow, store, scheduler wake-up).
    pub services: Arc<Services>,
    /// Sends the "connected" message.
    pub sender: TelegramSender,
}

/// The callback route.
pub fn routes(state: GmailCallbackState) -> Router {
    Router::new()
        .route(CALLBACK_PATH, get(callback))
        .with_state(state)
}

async fn callback(
    State(state): State<GmailCallbackState>,
    Query(params): Query<RedirectParams>,
) -> Response {
    let services = &state.services;
    match services.gmail.connect.complete_from_redirect(&params).await {
        Ok(user_id) => {
            services.schedule_changed.notify_one(); // the morning briefing now has mail to read
            if let Ok(Some(user)) = services.store.user_by_id(user_id).await {
                let note = Reply::plain(user.chat_id, "Gmail is connected. Try /email today.");
                if let Err(e) = state.sender.send(None, vec![note]).await {
                    tracing::warn!(user_id, error = %e, "could not tell the user Gmail is connected");
                }
            }
            page(
                StatusCode::OK,
                "Gmail is connected",
                "You can close this tab and go back to Telegram.",
            )
        }
        Err(e) => {
            tracing::info!(error = %e, "Gmail callback rejected");
            page(
                StatusCode::BAD_REQUEST,
                "Gmail was not connected",
                &e.to_string(),
            )
        }
    }
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let escape = crate::telegram::format::escape_html;
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>{t}</title><h1>{t}</h1><p>{x}</p>",
        t = escape(title),
        x = escape(text)
    );
    (status, Html(body)).into_response()
}
