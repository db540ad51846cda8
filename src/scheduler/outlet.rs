//! Where the scheduler's messages leave: an [`Outlet`] queues and delivers replies through the
//! channel the daemon runs (Telegram's outbox sender), so the scheduler never names the channel.

use async_trait::async_trait;

use crate::message::Reply;
use crate::store::OutboxRow;

/// A channel that stores replies in the outbox and delivers them at once.
#[async_trait]
pub trait Outlet: Send + Sync {
    /// Queues and sends `replies` (answering no update); returns the stored rows with the
    /// message ids delivery gave them, or why delivery failed (no secret in it).
    async fn send_now(&self, replies: Vec<Reply>) -> Result<Vec<OutboxRow>, String>;
}
