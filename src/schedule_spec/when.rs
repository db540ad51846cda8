//! Parsing the `<when>` of `/remind <when> <text>` into an instant, in the user's timezone.
//!
//! Accepted forms (first word or two of the input; the rest is the reminder text):
//! - a duration from now: `90s`, `10m`, `2h`, `1d`, `2w`, and combinations like `1h30m`
//!   (days and weeks count on the local calendar, so `1d` is the same clock time tomorrow);
//! - `HH:MM`: the next time the user's clock shows it (today if still ahead, else tomorrow);
//! - `today HH:MM`, `tomorrow HH:MM`;
//! - `YYYY-MM-DD HH:MM`.
//!
//! A local time inside a DST gap moves to the first valid instant after it; a repeated local time
//! means its first instance (except `HH:MM`, which takes the next instance still ahead).

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};

use crate::timezone::Timezone;

/// The accepted forms, appended to every error so the user sees what works.
const FORMS: &str = "Use 10m, 2h, 1d or 1h30m from now, HH:MM (e.g. 07:30), tomorrow HH:MM, \
     or YYYY-MM-DD HH:MM (e.g. 2026-12-24 18:00).";

/// The longest duration accepted, so arithmetic never overflows and typos like `9999999d` fail.
const MAX_AHEAD: TimeDelta = TimeDelta::days(3660);

/// Why a `<when>` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    /// Nothing was given.
    #[error("tell me when. {FORMS}")]
    Missing,
    /// The first word is none of the accepted forms.
    #[error("I can't read '{input}' as a time. {FORMS}")]
    Unrecognised {
        /// The word that was not understood.
        input: String,
    },
    /// A clock time like `25:00` or `7:5`.
    #[error("'{input}' is not a valid time of day; use HH:MM, e.g. 07:30.")]
    InvalidClock {
        /// The text that was not a valid time of day.
        input: String,
    },
    /// A date like `2026-02-30`.
    #[error("'{input}' is not a valid date; use YYYY-MM-DD HH:MM, e.g. 2026-12-24 18:00.")]
    InvalidDate {
        /// The text that was not a valid date.
        input: String,
    },
    /// A day (`tomorrow`, a date) without a time of day after it.
    #[error("'{day}' needs a time of day too, e.g. '{day} 09:00'.")]
    NeedsClock {
        /// The day that was given.
        day: String,
    },
    /// The time is not after now (including a zero duration).
    #[error("that time is in the past ({local}). {FORMS}")]
    InPast {
        /// The requested time, in the user's timezone, e.g. `2026-01-01 09:00 Europe/Berlin`.
        local: String,
    },
    /// A duration or date more than about ten years ahead.
    #[error("'{input}' is too far ahead; reminders can be at most 10 years away.")]
    TooFar {
        /// The text that was too far ahead.
        input: String,
    },
}

/// Reads the `<when>` at the start of `input` in timezone `tz` relative to `now`, and returns the
/// instant (strictly after `now`) with the rest of the input (the reminder text, left-trimmed,
/// possibly empty).
pub fn parse_when(
    input: &str,
    tz: Timezone,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, &str), WhenError> {
    let (first, rest) = next_word(input);
    if first.is_empty() {
        return Err(WhenError::Missing);
    }
    match first.to_ascii_lowercase().as_str() {
        day @ ("today" | "tomorrow") => {
            let (clock, after) = clock_word(first, rest)?;
            let today = now.with_timezone(&tz.tz()).date_naive();
            let date = if day == "today" {
                today
            } else {
                today + TimeDelta::days(1)
            };
            Ok((
                in_future(tz.resolve_local(date.and_time(clock)), tz, now)?,
                after,
            ))
        }
        _ if looks_like_date(first) => on_date(first, rest, tz, now),
        _ if looks_like_clock(first) => {
            let clock = parse_clock(first).ok_or_else(|| WhenError::InvalidClock {
                input: first.to_string(),
            })?;
            Ok((next_occurrence(clock, tz, now), rest))
        }
        _ => {
            let (days, elapsed) = parse_duration(first)?;
            Ok((
                in_future(after_duration(now, tz, days, elapsed), tz, now)?,
                rest,
            ))
        }
    }
}

/// `YYYY-MM-DD HH:MM` in `tz`: must be after `now` and at most ten years ahead.
fn on_date<'a>(
    word: &str,
    rest: &'a str,
    tz: Timezone,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, &'a str), WhenError> {
    let date = NaiveDate::parse_from_str(word, "%Y-%m-%d").map_err(|_| WhenError::InvalidDate {
        input: word.to_string(),
    })?;
    let (clock, after) = clock_word(word, rest)?;
    let at = in_future(tz.resolve_local(date.and_time(clock)), tz, now)?;
    if at - now > MAX_AHEAD {
        return Err(WhenError::TooFar {
            input: word.to_string(),
        });
    }
    Ok((at, after))
}

/// Parses `HH:MM` or `H:MM` (24-hour clock) into a time of day.
pub fn parse_clock(s: &str) -> Option<NaiveTime> {
    let (hours, minutes) = s.trim().split_once(':')?;
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(hours) || hours.len() > 2 || !all_digits(minutes) || minutes.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(hours.parse().ok()?, minutes.parse().ok()?, 0)
}

/// Splits off the first whitespace-separated word; the rest is left-trimmed.
pub(super) fn next_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    (&s[..end], s[end..].trim_start())
}

/// Reads the `HH:MM` word that must follow a day word.
fn clock_word<'a>(day: &str, rest: &'a str) -> Result<(NaiveTime, &'a str), WhenError> {
    let (word, after) = next_word(rest);
    if word.is_empty() || !word.contains(':') {
        return Err(WhenError::NeedsClock {
            day: day.to_string(),
        });
    }
    let clock = parse_clock(word).ok_or_else(|| WhenError::InvalidClock {
        input: word.to_string(),
    })?;
    Ok((clock, after))
}

fn looks_like_date(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit()) && word.matches('-').count() == 2
}

fn looks_like_clock(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit()) && word.contains(':')
}

/// The next instant after `now` at which the clock in `tz` shows `clock`.
fn next_occurrence(clock: NaiveTime, tz: Timezone, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.with_timezone(&tz.tz()).date_naive();
    (0..=2)
        .flat_map(|days| tz.instants_of((today + TimeDelta::days(days)).and_time(clock)))
        .find(|at| *at > now)
        // Three calendar days always contain a later instance; a day ahead is a safe fallback.
        .unwrap_or(now + TimeDelta::days(1))
}

/// `now` plus `days` calendar days on the local clock (so `1d` is the same local time tomorrow,
/// also across a DST change), plus `elapsed` real time.
fn after_duration(
    now: DateTime<Utc>,
    tz: Timezone,
    days: i64,
    elapsed: TimeDelta,
) -> DateTime<Utc> {
    let base = if days == 0 {
        now
    } else {
        tz.resolve_local(now.with_timezone(&tz.tz()).naive_local() + TimeDelta::days(days))
    };
    base + elapsed
}

/// Parses `90s`, `10m`, `2h`, `1d`, `2w` and combinations like `1h30m` (case-insensitive) into
/// calendar days (`d`, `w`) and elapsed time (`h`, `m`, `s`).
fn parse_duration(word: &str) -> Result<(i64, TimeDelta), WhenError> {
    let unrecognised = || WhenError::Unrecognised {
        input: word.to_string(),
    };
    let too_far = || WhenError::TooFar {
        input: word.to_string(),
    };
    let (mut days, mut elapsed) = (0_i64, TimeDelta::zero());
    let mut digits = String::new();
    for c in word.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let amount: i64 = match digits.parse() {
            Ok(n) if digits.len() <= 7 => n,
            Ok(_) => return Err(too_far()),
            Err(_) => return Err(unrecognised()),
        };
        digits.clear();
        match c.to_ascii_lowercase() {
            's' => elapsed += TimeDelta::seconds(amount),
            'm' => elapsed += TimeDelta::minutes(amount),
            'h' => elapsed += TimeDelta::hours(amount),
            'd' => days += amount,
            'w' => days += 7 * amount,
            _ => return Err(unrecognised()),
        }
        if TimeDelta::days(days) + elapsed > MAX_AHEAD {
            return Err(too_far());
        }
    }
    if !digits.is_empty() {
        return Err(unrecognised());
    }
    Ok((days, elapsed))
}

/// `at` if it is after `now`, else [`WhenError::InPast`] naming it in local time.
fn in_future(
    at: DateTime<Utc>,
    tz: Timezone,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, WhenError> {
    if at > now {
        return Ok(at);
    }
    let local = at.with_timezone(&tz.tz()).format("%Y-%m-%d %H:%M");
    Err(WhenError::InPast {
        local: format!("{local} {tz}"),
    })
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::{America::New_York, Europe::Berlin};

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn berlin() -> Timezone {
        Timezone::new(Berlin)
    }

    #[test]
    fn durations_count_from_now_and_leave_the_text() {
        let now = utc(2026, 5, 1, 10, 0);
        let cases = [
            ("10m tea", utc(2026, 5, 1, 10, 10)),
            ("2h tea", utc(2026, 5, 1, 12, 0)),
            ("1d tea", utc(2026, 5, 2, 10, 0)),
            ("1h30m tea", utc(2026, 5, 1, 11, 30)),
            ("90s tea", now + TimeDelta::seconds(90)),
            ("1W tea", utc(2026, 5, 8, 10, 0)),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_when(input, berlin(), now),
                Ok((expected, "tea")),
                "{input}"
            );
        }
    }

    #[test]
    fn a_day_from_now_keeps_the_local_time_across_a_dst_change() {
        // 2026-03-28 07:00 CET is 06:00 UTC; the next day 07:00 CEST is 05:00 UTC.
        let now = utc(2026, 3, 28, 6, 0);
        assert_eq!(
            parse_when("1d x", berlin(), now),
            Ok((utc(2026, 3, 29, 5, 0), "x"))
        );
        assert_eq!(
            parse_when("1d2h x", berlin(), now),
            Ok((utc(2026, 3, 29, 7, 0), "x"))
        );
        assert_eq!(
            parse_when("24h x", berlin(), now),
            Ok((utc(2026, 3, 29, 6, 0), "x"))
        );
    }

    #[test]
    fn clock_time_means_today_if_ahead_else_tomorrow_in_local_time() {
        // 10:00 UTC is 12:00 CEST.
        let now = utc(2026, 5, 1, 10, 0);
        assert_eq!(
            parse_when("13:15  call mum", berlin(), now),
            Ok((utc(2026, 5, 1, 11, 15), "call mum"))
        );
        assert_eq!(
            parse_when("7:00 gym", berlin(), now),
            Ok((utc(2026, 5, 2, 5, 0), "gym"))
        );
        assert_eq!(
            parse_when("12:00 now-ish", berlin(), now),
            Ok((utc(2026, 5, 2, 10, 0), "now-ish"))
        );
    }

    #[test]
    fn clock_time_in_the_spring_gap_moves_to_the_end_of_the_gap() {
        // 2026-03-29 00:00 UTC is 01:00 CET; 02:30 does not exist that night.
        let now = utc(2026, 3, 29, 0, 0);
        assert_eq!(
            parse_when("02:30 x", berlin(), now),
            Ok((utc(2026, 3, 29, 1, 0), "x"))
        );
    }

    #[test]
    fn clock_time_in_the_repeated_hour_takes_the_next_instance_still_ahead() {
        // New York 2026-11-01: 01:30 is 05:30 UTC (EDT) and 06:30 UTC (EST). At 05:45 UTC the
        // first one has passed, so the second is next.
        let ny = Timezone::new(New_York);
        assert_eq!(
            parse_when("01:30 x", ny, utc(2026, 11, 1, 5, 0)),
            Ok((utc(2026, 11, 1, 5, 30), "x"))
        );
        assert_eq!(
            parse_when("01:30 x", ny, utc(2026, 11, 1, 5, 45)),
            Ok((utc(2026, 11, 1, 6, 30), "x"))
        );
    }

    #[test]
    fn date_and_time_are_read_in_the_users_timezone() {
        let now = utc(2026, 5, 1, 10, 0);
        let ny = Timezone::new(New_York);
        assert_eq!(
            parse_when("2026-12-24 18:00 gifts", ny, now),
            Ok((utc(2026, 12, 24, 23, 0), "gifts"))
        );
        assert_eq!(
            parse_when("tomorrow 09:00 dentist", berlin(), now),
            Ok((utc(2026, 5, 2, 7, 0), "dentist"))
        );
        assert_eq!(
            parse_when("today 23:00", berlin(), now),
            Ok((utc(2026, 5, 1, 21, 0), ""))
        );
    }

    #[test]
    fn past_date_is_rejected_with_the_local_time() {
        let err = parse_when("2026-01-01 09:00 x", berlin(), utc(2026, 5, 1, 10, 0)).unwrap_err();
        assert_eq!(
            err,
            WhenError::InPast {
                local: "2026-01-01 09:00 Europe/Berlin".into()
            }
        );
        assert!(err.to_string().starts_with("that time is in the past"));
        assert!(matches!(
            parse_when("today 08:00 x", berlin(), utc(2026, 5, 1, 10, 0)),
            Err(WhenError::InPast { .. })
        ));
        assert!(matches!(
            parse_when("0m x", berlin(), utc(2026, 5, 1, 10, 0)),
            Err(WhenError::InPast { .. })
        ));
    }

    #[test]
    fn bad_input_names_the_accepted_forms() {
        let now = utc(2026, 5, 1, 10, 0);
        let err = parse_when("soon tea", berlin(), now).unwrap_err();
        assert_eq!(
            err,
            WhenError::Unrecognised {
                input: "soon".into()
            }
        );
        assert!(err.to_string().contains("YYYY-MM-DD HH:MM"), "{err}");
        assert_eq!(parse_when("   ", berlin(), now), Err(WhenError::Missing));
        assert!(matches!(
            parse_when("25:00 x", berlin(), now),
            Err(WhenError::InvalidClock { .. })
        ));
        assert!(matches!(
            parse_when("7:5 x", berlin(), now),
            Err(WhenError::InvalidClock { .. })
        ));
        assert!(matches!(
            parse_when("2026-02-30 10:00 x", berlin(), now),
            Err(WhenError::InvalidDate { .. })
        ));
        assert_eq!(
            parse_when("tomorrow tea", berlin(), now),
            Err(WhenError::NeedsClock {
                day: "tomorrow".into()
            })
        );
        assert!(matches!(
            parse_when("10 x", berlin(), now),
            Err(WhenError::Unrecognised { .. })
        ));
        assert!(matches!(
            parse_when("10x tea", berlin(), now),
            Err(WhenError::Unrecognised { .. })
        ));
        assert!(matches!(
            parse_when("99999999d x", berlin(), now),
            Err(WhenError::TooFar { .. })
        ));
        assert!(matches!(
            parse_when("4000d x", berlin(), now),
            Err(WhenError::TooFar { .. })
        ));
    }
}
