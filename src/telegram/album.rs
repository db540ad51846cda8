//! Albums (forwarded ones too) are answered once, with all their photos. Telegram sends each photo of an album as
//! its own update; they reach the chat's worker in order, so the first one handled leads: it
//! waits until no new part has arrived for [`QUIET`] (at most [`MAX_WAIT`]), claims the parts
//! already in the inbox (`Store::claim_album`: journaled under the leader and closed as done in
//! one transaction), and is answered with every photo. When the worker reaches a claimed part,
//! it finds it closed and does nothing. A leader replayed after a crash gets the parts it
//! claimed the first time, without waiting again.

use std::time::Duration;

use tokio::time::Instant;

use super::convert::{decode_update, to_incoming};
use crate::ids::ChatId;
use crate::message::{Content, Incoming};
use crate::store::{Store, StoreError};

/// How long the leader waits after the last part arrived for another one.
const QUIET: Duration = Duration::from_millis(1000);
/// Longest the leader waits for its parts in all.
const MAX_WAIT: Duration = Duration::from_secs(3);
/// How often the inbox is looked at while waiting.
const POLL: Duration = Duration::from_millis(100);
/// Parts besides the leader after which nothing more can come (albums hold at most 10 items).
const FULL: usize = 9;

/// What became of an update that may belong to an album.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gathered {
    /// Not part of an album, or its leader: `incoming` holds every photo; answer it.
    Answer,
    /// A part another update already answered: nothing to do.
    AnsweredWithAnother,
}

/// Gathers the album `incoming` (update `update_id`) belongs to into it.
pub async fn gather(
    store: &Store,
    update_id: i64,
    incoming: &mut Incoming,
) -> Result<Gathered, StoreError> {
    let photos = match &mut incoming.content {
        Content::Photos(photos) => photos,
        Content::Forwarded { inner, .. } => match inner.as_mut() {
            Content::Photos(photos) => photos,
            _ => return Ok(Gathered::Answer),
        },
        _ => return Ok(Gathered::Answer),
    };
    let Some(group) = photos.media_group.clone() else {
        return Ok(Gathered::Answer);
    };
    if !store.update_is_pending(update_id).await? {
        return Ok(Gathered::AnsweredWithAnother);
    }
    let chat_id = incoming.chat_id;
    if !store.album_claimed(update_id).await? {
        wait_for_parts(store, chat_id, &group, update_id).await?;
    }
    let parts = store.claim_album(update_id, chat_id, &group).await?;
    let mut captions: Vec<String> = photos.caption.take().into_iter().collect();
    for part in parts {
        let content = decode_update(&part.payload)
            .ok()
            .as_ref()
            .and_then(to_incoming)
            .map(|i| i.content);
        let more = match content {
            Some(Content::Photos(more)) => more,
            Some(Content::Forwarded { inner, .. }) => match *inner {
                Content::Photos(more) => more,
                _ => continue,
            },
            _ => continue,
        };
        photos.photos.extend(more.photos);
        captions.extend(more.caption);
    }
    photos.caption = (!captions.is_empty()).then(|| captions.join("\n"));
    tracing::info!(photos = photos.photos.len(), "album gathered");
    Ok(Gathered::Answer)
}

/// Waits until no new part of the album arrived for [`QUIET`], it is full, or [`MAX_WAIT`].
async fn wait_for_parts(
    store: &Store,
    chat_id: ChatId,
    group: &str,
    leader: i64,
) -> Result<(), StoreError> {
    let started = Instant::now();
    let mut seen = store.pending_album_parts(chat_id, group, leader).await?;
    let mut last_change = started;
    while seen < FULL && last_change.elapsed() < QUIET && started.elapsed() < MAX_WAIT {
        tokio::time::sleep(POLL).await;
        let now = store.pending_album_parts(chat_id, group, leader).await?;
        if now != seen {
            seen = now;
            last_change = Instant::now();
        }
    }
    Ok(())
}
