//! The provider-neutral event: timed (two instants) or all-day (a range of dates, which means
//! whole days wherever the user is). Multi-day events of both kinds are a range.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::ids::UserId;
use crate::timezone::Timezone;

/// When an event happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTime {
    /// All-day, from `first` to `last` inclusive (one day when equal).
    AllDay {
        /// The first day.
        first: NaiveDate,
        /// The last day (iCalendar's exclusive `DTEND` minus one day).
        last: NaiveDate,
    },
    /// From `start` to `end` (at least `start`).
    Timed {
        /// Start instant.
        start: DateTime<Utc>,
        /// End instant.
        end: DateTime<Utc>,
    },
}

/// One event (one occurrence of a recurring event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event's uid (shared by the occurrences of a recurring event).
    pub uid: String,
    /// Its title (`SUMMARY`), possibly empty.
    pub title: String,
    /// When.
    pub time: EventTime,
    /// Where, when given.
    pub location: Option<String>,
    /// Marked free (`TRANSP:TRANSPARENT`): shown, but does not block free slots.
    pub free: bool,
}

/// An event to create: instants, shown to others in their own zones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The uid; the same uid twice is the same event (creation is idempotent).
    pub uid: String,
    /// Title.
    pub title: String,
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant (after `start`).
    pub end: DateTime<Utc>,
}

impl Event {
    /// The instants the event covers for a user in `tz` (an all-day event covers that user's
    /// local days, from midnight to midnight).
    pub fn span(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        match self.time {
            EventTime::Timed { start, end } => (start, end.max(start)),
            EventTime::AllDay { first, last } => (
                local_midnight(tz, first),
                local_midnight(tz, last + TimeDelta::days(1)),
            ),
        }
    }

    /// Whether the event overlaps `[from, to)` for a user in `tz`. A zero-length event counts
    /// when it starts inside the range.
    pub fn overlaps(&self, from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> bool {
        let (start, end) = self.span(tz);
        if start == end {
            return start >= from && start < to;
        }
        start < to && end > from
    }
}

/// The instant a local day begins in `tz` (after a DST gap when midnight does not exist).
pub fn local_midnight(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    Timezone::new(tz).resolve_local(day.and_time(NaiveTime::MIN))
}

/// The uid of an event made by the call `once` of `user_id`: the same call (a replay, a second
/// press) gives the same uid, so the event is made once. Without a key, a random uid.
pub fn event_uid(user_id: UserId, once: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    let seed = match once {
        Some(key) => format!("{user_id}:{key}"),
        None => format!(
            "{user_id}:{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        ),
    };
    let digest = Sha256::digest(seed.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{hex}@minicrew")
}

/// Sorts events by when they start for a user in `tz`, all-day events first on a tie.
pub fn sort_events(events: &mut [Event], tz: Tz) {
    events.sort_by_key(|e| {
        let timed = matches!(e.time, EventTime::Timed { .. });
        (e.span(tz).0, timed, e.title.clone())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn all_day(first: (i32, u32, u32), last: (i32, u32, u32)) -> Event {
        let d = |(y, m, day)| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        Event {
            uid: "u".into(),
            title: "Trip".into(),
            time: EventTime::AllDay {
                first: d(first),
                last: d(last),
            },
            location: None,
            free: true,
        }
    }

    #[test]
    fn an_all_day_event_covers_the_users_local_days() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let event = all_day((2026, 12, 24), (2026, 12, 26));
        let (start, end) = event.span(tz);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 12, 23, 23, 0, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 12, 26, 23, 0, 0).unwrap());
        let day_after = Utc.with_ymd_and_hms(2026, 12, 26, 23, 0, 0).unwrap();
        assert!(!event.overlaps(day_after, day_after + TimeDelta::days(1), tz));
        assert!(event.overlaps(start, start + TimeDelta::hours(1), tz));
    }
}
