//! The user's wall-clock words as instants: `2026-12-24T18:00` (the model's form), `2026-12-24`,
//! `18:00`, each read in the user's timezone by the one DST rule in `scheduler::timezone`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::timezone::Timezone;

/// A local date-time such as `2026-12-24T18:00` (seconds and a space instead of `T` allowed).
pub fn parse_local_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim().replace(' ', "T");
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
}

/// A date such as `2026-12-24`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// A time of day such as `18:00` or `9:30`.
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

/// A range bound: a local date-time, or a date meaning its start (`end_of_day`: its end).
pub fn parse_bound(text: &str, tz: Tz, end_of_day: bool) -> Option<DateTime<Utc>> {
    if let Some(at) = parse_local_datetime(text) {
        return Some(at_local(tz, at));
    }
    let day = parse_date(text)?;
    let day = if end_of_day { day.succ_opt()? } else { day };
    Some(at_local(tz, day.and_time(NaiveTime::MIN)))
}

/// The instant the wall clock of `tz` reads `local`.
pub fn at_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    Timezone::new(tz).resolve_local(local)
}

/// Today's date in `tz` at `now`.
pub fn today(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn local_times_are_read_in_the_users_zone() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let at = parse_bound("2026-12-24T18:00", tz, false).unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 12, 24, 17, 0, 0).unwrap());
        let end = parse_bound("2026-12-24", tz, true).unwrap();
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 12, 24, 23, 0, 0).unwrap());
        assert!(parse_bound("tomorrow", tz, false).is_none());
        assert!(parse_time("25:00").is_none());
    }
}
