//! Telegram: message formatting, splitting and send-rate limiting for the outbox sender.

pub mod format;
pub mod rate_limit;
pub mod split;
