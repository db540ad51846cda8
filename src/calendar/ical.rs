//! The iCalendar format (RFC 5545) through the `icalendar` crate: calendar objects from a server
//! become [`Event`]s in a time range, recurring ones expanded (`RRULE`, `RDATE`, `EXDATE` by the
//! `rrule` crate, overridden occurrences by `RECURRENCE-ID`); a [`NewEvent`] becomes a
//! `VCALENDAR` with one `VEVENT`. Times without a known zone are read in the user's zone.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use icalendar::{
    CalendarComponent, CalendarDateTime, Component, DatePerhapsTime, EventLike, EventStatus,
};

use super::event::{Event, EventTime, NewEvent};
use crate::timezone::Timezone;

/// Most occurrences of one recurring event expanded into one range.
const MAX_OCCURRENCES: usize = 400;
/// Most occurrences of one rule stepped through, counting those before the range: a rule that
/// repeats every second since 1970 costs this much and no more (it then shows nothing).
const MAX_STEPS: usize = 100_000;

/// One `DTSTART`/`DTEND` value, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Moment {
    Day(NaiveDate),
    At(DateTime<Utc>),
}

/// The events of one calendar object (one resource: an event, its overrides) that overlap
/// `[from, to)` for a user in `tz`. A malformed object gives an error; the caller skips it.
pub fn events_in(
    text: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    tz: Tz,
) -> Result<Vec<Event>, String> {
    let calendar: icalendar::Calendar = text.parse()?;
    let vevents: Vec<&icalendar::Event> = calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .filter(|e| e.get_status() != Some(EventStatus::Cancelled))
        .collect();
    let overridden: HashSet<(String, Moment)> = vevents
        .iter()
        .filter_map(|e| {
            let id = e.get_recurrence_id()?;
            Some((e.get_uid()?.to_string(), moment(&id, tz)))
        })
        .collect();
    let mut out = Vec::new();
    for vevent in vevents {
        let Some(start) = vevent.get_start().map(|s| moment(&s, tz)) else {
            continue;
        };
        let base = base_event(vevent, start, tz);
        let recurring = vevent.get_recurrence_id().is_none()
            && (vevent.property_value("RRULE").is_some()
                || vevent.multi_properties().contains_key("RDATE"));
        if recurring {
            out.extend(
                occurrences(vevent, &base, tz, from, to)
                    .into_iter()
                    .filter(|e| !overridden.contains(&(e.uid.clone(), first_moment(e)))),
            );
        } else {
            out.push(base);
        }
    }
    out.retain(|e| e.overlaps(from, to, tz));
    Ok(out)
}

/// The event as written: its first (or only) occurrence.
fn base_event(vevent: &icalendar::Event, start: Moment, tz: Tz) -> Event {
    let end = vevent.get_end().map(|e| moment(&e, tz));
    let duration = vevent
        .property_value("DURATION")
        .and_then(|d| iso8601::duration(d).ok())
        .and_then(|d| TimeDelta::from_std(std::time::Duration::from(d)).ok());
    let time = match (start, end) {
        (Moment::Day(first), Some(Moment::Day(end))) if end > first => EventTime::AllDay {
            first,
            last: end - TimeDelta::days(1),
        },
        (Moment::Day(first), _) => {
            let days = duration.map_or(1, |d| d.num_days().max(1));
            EventTime::AllDay {
                first,
                last: first + TimeDelta::days(days - 1),
            }
        }
        (Moment::At(start), Some(Moment::At(end))) => EventTime::Timed {
            start,
            end: end.max(start),
        },
        (Moment::At(start), _) => EventTime::Timed {
            start,
            end: start + duration.unwrap_or(TimeDelta::zero()),
        },
    };
    Event {
        uid: vevent.get_uid().unwrap_or_default().to_string(),
        title: vevent.get_summary().unwrap_or_default().trim().to_string(),
        time,
        location: vevent
            .get_location()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty()),
        free: vevent.property_value("TRANSP") == Some("TRANSPARENT"),
    }
}

/// The occurrences of a recurring event near `[from, to)`; the base event alone when its rule
/// cannot be read (an unknown zone name, a broken rule).
fn occurrences(
    vevent: &icalendar::Event,
    base: &Event,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Event> {
    let set = match vevent.get_recurrence() {
        Ok(set) => set,
        Err(e) => {
            tracing::debug!(error = %e, "unreadable recurrence rule; showing the first occurrence");
            return vec![base.clone()];
        }
    };
    let (start, end) = base.span(tz);
    let length = end - start;
    // Widened by the event's length and a day, so all-day occurrences in any zone are found;
    // the caller keeps only those that overlap.
    let after = from - length - TimeDelta::days(1);
    let before = to + TimeDelta::days(1);
    // The crate's own `after` filter steps through every earlier occurrence without a bound,
    // so the steps are counted here.
    let mut found = Vec::new();
    for (step, at) in (&set).into_iter().enumerate() {
        let utc = at.with_timezone(&Utc);
        if step >= MAX_STEPS || utc > before || found.len() >= MAX_OCCURRENCES {
            break;
        }
        if utc >= after {
            found.push(at);
        }
    }
    found
        .into_iter()
        .map(|at| {
            let time = match base.time {
                EventTime::AllDay { first, last } => {
                    let day = at.date_naive();
                    EventTime::AllDay {
                        first: day,
                        last: day + (last - first),
                    }
                }
                EventTime::Timed { .. } => {
                    let start = at.with_timezone(&Utc);
                    EventTime::Timed {
                        start,
                        end: start + length,
                    }
                }
            };
            Event {
                time,
                ..base.clone()
            }
        })
        .collect()
}

/// The start of an event as a [`Moment`], to match overridden occurrences.
fn first_moment(e: &Event) -> Moment {
    match e.time {
        EventTime::AllDay { first, .. } => Moment::Day(first),
        EventTime::Timed { start, .. } => Moment::At(start),
    }
}

/// A `DATE` or `DATE-TIME` value as a day or an instant; a floating time or an unknown zone is
/// read in `tz`.
fn moment(value: &DatePerhapsTime, tz: Tz) -> Moment {
    match value {
        DatePerhapsTime::Date(day) => Moment::Day(*day),
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(at)) => Moment::At(*at),
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(local)) => {
            Moment::At(in_zone(tz, *local))
        }
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
            Moment::At(in_zone(zone_named(tzid).unwrap_or(tz), *date_time))
        }
    }
}

/// A `TZID` as an IANA zone: the name itself, or its last two path parts
/// (`/freeassociation.sourceforge.net/Europe/Berlin`).
fn zone_named(tzid: &str) -> Option<Tz> {
    let tzid = tzid.trim().trim_matches('"');
    tzid.parse().ok().or_else(|| {
        let parts: Vec<&str> = tzid.rsplitn(3, '/').collect();
        match parts.as_slice() {
            [city, area, _] => format!("{area}/{city}").parse().ok(),
            _ => None,
        }
    })
}

fn in_zone(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    Timezone::new(tz).resolve_local(local)
}

/// A `VCALENDAR` holding `event` as one `VEVENT` (times in UTC, so no `VTIMEZONE` is needed).
pub fn calendar_object(event: &NewEvent, now: DateTime<Utc>) -> String {
    let vevent = icalendar::Event::new()
        .uid(&event.uid)
        .summary(&event.title)
        .starts(event.start)
        .ends(event.end)
        .timestamp(now)
        .done();
    icalendar::Calendar::new().push(vevent).done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap()
    }

    #[test]
    fn a_weekly_event_is_expanded_in_the_range_with_its_exception_left_out() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:w\r\n\
            SUMMARY:Yoga\r\nDTSTART;TZID=Europe/Berlin:20261201T180000\r\n\
            DTEND;TZID=Europe/Berlin:20261201T190000\r\nRRULE:FREQ=WEEKLY\r\n\
            EXDATE;TZID=Europe/Berlin:20261215T180000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let events = events_in(text, utc(7, 0), utc(29, 0), chrono_tz::UTC).unwrap();
        let starts: Vec<_> = events
            .iter()
            .map(|e| match e.time {
                EventTime::Timed { start, .. } => start,
                EventTime::AllDay { .. } => panic!("timed"),
            })
            .collect();
        assert_eq!(starts, vec![utc(8, 17), utc(22, 17)]);
    }

    #[test]
    fn an_all_day_multi_day_event_keeps_its_days() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:a\r\n\
            SUMMARY:Ski trip\r\nDTSTART;VALUE=DATE:20261227\r\nDTEND;VALUE=DATE:20261230\r\n\
            END:VEVENT\r\nEND:VCALENDAR\r\n";
        let events = events_in(text, utc(28, 0), utc(29, 0), chrono_tz::UTC).unwrap();
        let d = |day| NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
        assert_eq!(
            events[0].time,
            EventTime::AllDay {
                first: d(27),
                last: d(29)
            }
        );
    }

    #[test]
    fn a_hostile_rule_that_repeats_every_second_since_1970_costs_bounded_time() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:h\r\n\
            SUMMARY:Spam\r\nDTSTART:19700101T000000Z\r\nDTEND:19700101T000001Z\r\n\
            RRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let started = std::time::Instant::now();
        let events = events_in(text, utc(24, 0), utc(25, 0), chrono_tz::UTC).unwrap();
        assert!(events.len() <= MAX_OCCURRENCES, "{}", events.len());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_created_event_reads_back_the_same() {
        let new = NewEvent {
            uid: "x@minicrew".into(),
            title: "Dinner with Ana; bring wine, cheese".into(),
            start: utc(24, 17),
            end: utc(24, 19),
        };
        let text = calendar_object(&new, utc(1, 0));
        let events = events_in(&text, utc(24, 0), utc(25, 0), chrono_tz::UTC).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].title, new.title);
        assert_eq!(
            events[0].time,
            EventTime::Timed {
                start: new.start,
                end: new.end
            }
        );
    }
}
