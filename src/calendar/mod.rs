//! Calendars: one [`Calendar`] trait with a provider per file (CalDAV and Google; Outlook and
//! Notion fit the same seam), the event model, rendering in the user's timezone, free slots, and
//! the per-user accounts (the owner's from `CALDAV_*`, others' from `calendar_accounts`).
//!
//! Map: [`event`] is the provider-neutral model; [`caldav`] speaks CalDAV (discovery, REPORT,
//! PUT, DELETE) with [`ical`] for the iCalendar format; [`google`] is Google Calendar v3; [`accounts`] finds a user's calendar and
//! connects new ones; [`render`] shows days and weeks; [`slots`] finds free time; [`local`]
//! turns the user's wall-clock words into instants.

pub mod accounts;
pub mod caldav;
pub mod error;
pub mod event;
pub mod google;
pub mod ical;
pub mod local;
pub mod render;
pub mod slots;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use accounts::{CalendarAccounts, CalendarLink, ConnectRequest, holds_password, parse_connect};
pub use error::CalendarError;
pub use event::{Event, EventTime, NewEvent};

/// A calendar a user can read and add to. One implementation per provider.
#[async_trait]
pub trait Calendar: Send + Sync {
    /// The calendar's name as shown to the user ("Personal", "Work").
    fn label(&self) -> &str;

    /// The events that overlap `[from, to)`, recurring ones expanded, sorted by start.
    async fn events(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Event>, CalendarError>;

    /// The busy intervals in `[from, to)`: timed events that are not marked free. A provider
    /// with a native free/busy query uses it.
    async fn busy(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, CalendarError> {
        let events = self.events(from, to).await?;
        Ok(events
            .iter()
            .filter(|e| !e.free)
            .filter_map(|e| match e.time {
                EventTime::Timed { start, end } => Some((start.max(from), end.min(to))),
                EventTime::AllDay { .. } => None,
            })
            .collect())
    }

    /// Creates `event`. Idempotent by its uid: when an event with that uid exists already,
    /// nothing is changed and `Ok(false)` says so.
    async fn create(&self, event: &NewEvent) -> Result<bool, CalendarError>;

    /// Deletes the event with `uid`; `Ok(false)` when there was none.
    async fn delete(&self, uid: &str) -> Result<bool, CalendarError>;
}
