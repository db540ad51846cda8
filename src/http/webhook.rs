//! The webhook route: Telegram POSTs each update here. The secret header is checked first (in
//! constant time) and nothing else happens without it; then the body is read (at most 1 MiB),
//! stored in the inbox through `Intake::accept` — the same door polling uses, so dedupe and
//! per-chat ordering are identical — and answered. The answer never waits for handling: only
//! for the insert. If the insert fails, the answer is 500 so Telegram delivers it again.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::routing::post;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::telegram::intake::Intake;
use crate::telegram::webhook::parse_update;

/// Largest body accepted; Telegram's updates are far smaller.
pub const MAX_BODY: usize = 1024 * 1024;

/// The header Telegram sets to the `secret_token` given in `setWebhook`.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// What the webhook route needs. Cheap to clone.
#[derive(Clone)]
pub struct WebhookState {
    inner: Arc<Inner>,
}

struct Inner {
    path: String,
    /// SHA-256 of the secret: comparing digests takes the same time whatever the header's length.
    secret_digest: [u8; 32],
    intake: Intake,
}

impl WebhookState {
    /// The route at `path`, accepting requests that carry `secret`, storing through `intake`.
    pub fn new(path: &str, secret: &SecretString, intake: Intake) -> Self {
        Self {
            inner: Arc::new(Inner {
                path: path.to_string(),
                secret_digest: Sha256::digest(secret.expose_secret().as_bytes()).into(),
                intake,
            }),
        }
    }

    fn secret_matches(&self, header: &[u8]) -> bool {
        let digest: [u8; 32] = Sha256::digest(header).into();
        digest.ct_eq(&self.inner.secret_digest).into()
    }
}

/// The webhook route (POST only) with its body limit.
pub fn routes(state: WebhookState) -> Router {
    let path = state.inner.path.clone();
    Router::new()
        .route(&path, post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn receive(State(state): State<WebhookState>, request: Request) -> StatusCode {
    let status = answer(&state, request).await;
    crate::metrics::webhook_request(status.as_u16());
    status
}

async fn answer(state: &WebhookState, request: Request) -> StatusCode {
    match request.headers().get(SECRET_HEADER) {
        None => {
            tracing::debug!("webhook request without the secret header rejected");
            return StatusCode::UNAUTHORIZED;
        }
        Some(value) if !state.secret_matches(value.as_bytes()) => {
            tracing::warn!("webhook request with a wrong secret rejected");
            return StatusCode::FORBIDDEN;
        }
        Some(_) => {}
    }
    let body = match Bytes::from_request(request, &()).await {
        Ok(body) => body,
        Err(rejection) => {
            tracing::warn!(status = %rejection.status(), "webhook body rejected");
            return rejection.status();
        }
    };
    let update = match parse_update(&body) {
        Ok(update) => update,
        Err(e) => {
            tracing::warn!(error = %e, bytes = body.len(), "webhook body is not an update");
            return StatusCode::BAD_REQUEST;
        }
    };
    let update_id = update.update_id;
    match state.inner.intake.accept(update).await {
        Ok(_) => StatusCode::OK,
        Err(e) => {
            tracing::error!(error = %e, update_id, "cannot store the update; Telegram will send it again");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
