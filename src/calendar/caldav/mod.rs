//! CalDAV (iCloud, Fastmail, Nextcloud, Radicale…): [`client`] speaks the protocol, [`xml`] its
//! XML; [`CalDavCalendar`] is one discovered calendar as a [`Calendar`].

pub mod client;
pub mod xml;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use url::Url;

pub use client::{CalDavClient, Collection};

use super::event::{Event, NewEvent, sort_events};
use super::{Calendar, CalendarError, ical};

/// The first calendar of a CalDAV account that holds events, read for a user in `tz`.
#[derive(Debug, Clone)]
pub struct CalDavCalendar {
    client: CalDavClient,
    url: Url,
    name: String,
    tz: Tz,
}

impl CalDavCalendar {
    /// Discovers the account's calendars and opens the first one; [`CalendarError::NotFound`]
    /// when it has none.
    pub async fn open(client: CalDavClient, tz: Tz) -> Result<Self, CalendarError> {
        let calendars = client.discover().await?;
        let Some(first) = calendars.into_iter().next() else {
            return Err(CalendarError::NotFound(
                "this account (it has no calendar for events)".into(),
            ));
        };
        Ok(Self {
            client,
            url: first.url,
            name: first.name,
            tz,
        })
    }
}

#[async_trait]
impl Calendar for CalDavCalendar {
    fn label(&self) -> &str {
        &self.name
    }

    async fn events(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Event>, CalendarError> {
        let objects = self.client.query(&self.url, from, to).await?;
        let mut events = Vec::new();
        for text in objects {
            match ical::events_in(&text, from, to, self.tz) {
                Ok(found) => events.extend(found),
                Err(e) => tracing::warn!(error = %e, "skipped a calendar object I could not read"),
            }
        }
        sort_events(&mut events, self.tz);
        Ok(events)
    }

    async fn create(&self, event: &NewEvent) -> Result<bool, CalendarError> {
        let ics = ical::calendar_object(event, Utc::now());
        self.client.put_new(&self.url, &event.uid, ics).await
    }

    async fn delete(&self, uid: &str) -> Result<bool, CalendarError> {
        self.client.delete(&self.url, uid).await
    }
}
