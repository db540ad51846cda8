//! Events as text in the user's timezone: a day or a week, one line per event, all-day and
//! multi-day events said as such. Channel-neutral plain text.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use super::event::{Event, EventTime, local_midnight};

/// `Thu 24 Dec`.
pub fn day_name(day: NaiveDate) -> String {
    day.format("%a %-d %b").to_string()
}

/// `Thu 24 Dec 18:00` for an instant in `tz`.
pub fn moment_name(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%a %-d %b %H:%M").to_string()
}

/// The events of `days` days from `first`, grouped by day; empty days are left out.
pub fn agenda(events: &[Event], first: NaiveDate, days: u32, tz: Tz) -> String {
    let mut out = String::new();
    for offset in 0..days {
        let day = first + TimeDelta::days(i64::from(offset));
        let lines = day_lines(events, day, tz);
        if lines.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&day_name(day));
        out.push('\n');
        for line in lines {
            out.push_str("  ");
            out.push_str(&line);
            out.push('\n');
        }
    }
    out.trim_end().to_string()
}

/// One line per event that touches `day` in `tz`.
pub fn day_lines(events: &[Event], day: NaiveDate, tz: Tz) -> Vec<String> {
    let (from, to) = (
        local_midnight(tz, day),
        local_midnight(tz, day + TimeDelta::days(1)),
    );
    events
        .iter()
        .filter(|e| e.overlaps(from, to, tz))
        .map(|e| format!("{} {}", when_on(e, day, tz), what(e)))
        .collect()
}

/// The event's time as seen on `day`.
fn when_on(event: &Event, day: NaiveDate, tz: Tz) -> String {
    match event.time {
        EventTime::AllDay { first, last } if first == last => "all day".to_string(),
        EventTime::AllDay { first, last } => {
            format!("all day ({} – {})", short_day(first), short_day(last))
        }
        EventTime::Timed { start, end } => {
            let (s, e) = (start.with_timezone(&tz), end.with_timezone(&tz));
            match (s.date_naive() == day, e.date_naive() == day || end == start) {
                (true, true) if start == end => s.format("%H:%M").to_string(),
                (true, true) => format!("{}–{}", s.format("%H:%M"), e.format("%H:%M")),
                (true, false) => format!("{} – {}", s.format("%H:%M"), short_moment(end, tz)),
                (false, true) => format!("until {}", e.format("%H:%M")),
                (false, false) => format!("all day (until {})", short_moment(end, tz)),
            }
        }
    }
}

/// The title and place.
pub fn what(event: &Event) -> String {
    let title = if event.title.is_empty() {
        "(no title)"
    } else {
        &event.title
    };
    match &event.location {
        Some(place) => format!("{title} @ {place}"),
        None => title.to_string(),
    }
}

/// An event in one line with its full date and time, for previews and conflicts.
pub fn one_line(event: &Event, tz: Tz) -> String {
    let when = match event.time {
        EventTime::AllDay { first, last } if first == last => {
            format!("{} (all day)", day_name(first))
        }
        EventTime::AllDay { first, last } => {
            format!("{} – {} (all day)", day_name(first), day_name(last))
        }
        EventTime::Timed { start, end } => format!(
            "{} – {}",
            moment_name(start, tz),
            short_moment_same_day(start, end, tz)
        ),
    };
    format!("{when} {}", what(event))
}

fn short_day(day: NaiveDate) -> String {
    format!("{} {}", day.day(), day.format("%b"))
}

fn short_moment(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%a %H:%M").to_string()
}

fn short_moment_same_day(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    let (s, e) = (start.with_timezone(&tz), end.with_timezone(&tz));
    if s.date_naive() == e.date_naive() {
        e.format("%H:%M").to_string()
    } else {
        moment_name(end, tz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn timed(title: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Event {
        Event {
            uid: title.into(),
            title: title.into(),
            time: EventTime::Timed { start, end },
            location: None,
            free: false,
        }
    }

    #[test]
    fn a_day_shows_times_in_the_users_zone_and_a_night_event_on_both_days() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let at = |d, h| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap();
        let d = |day| NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
        let events = vec![
            timed("Dinner", at(24, 17), at(24, 19)),
            timed("Party", at(24, 21), at(25, 2)),
            Event {
                time: EventTime::AllDay {
                    first: d(24),
                    last: d(26),
                },
                ..timed("Holidays", at(1, 0), at(1, 0))
            },
        ];
        let text = agenda(&events, d(24), 2, tz);
        assert_eq!(
            text,
            "Thu 24 Dec\n  18:00–20:00 Dinner\n  22:00 – Fri 03:00 Party\n  all day (24 Dec – 26 Dec) Holidays\n\
             \nFri 25 Dec\n  until 03:00 Party\n  all day (24 Dec – 26 Dec) Holidays"
        );
    }
}
