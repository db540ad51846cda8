//! What a user may schedule: at most [`MAX_SCHEDULES`] recurring schedules and
//! [`MAX_REMINDERS`] pending reminders each (the owner is exempt from both counts), and no
//! recurring schedule whose runs come closer than [`MIN_INTERVAL_MINUTES`] (for the owner too: an
//! every-minute `/email` would spend the AI budget of a day in an hour).
//!
//! The interval is measured, not read from the expression: croner finds the runs of the next year
//! on the wall clock and the closest two consecutive runs count, so `*/5 * * * *`, `0,5 7 * * *`
//! and a run at 23:50 followed by one at 00:00 the next day are all caught. A daylight-saving
//! change can bring two runs closer once a year; that is not counted.

use chrono::{NaiveDateTime, NaiveTime, TimeDelta};
use croner::Cron;

use crate::schedule_spec::CronExpr;
use crate::schedule_spec::parse;

/// Recurring schedules (`/schedule`) one non-owner may have active.
pub const MAX_SCHEDULES: u64 = 20;
/// Pending reminders (`/remind`) one non-owner may have.
pub const MAX_REMINDERS: u64 = 50;
/// The shortest time between two runs of one recurring schedule, for everyone.
pub const MIN_INTERVAL_MINUTES: i64 = 15;

/// How far ahead runs are looked at: a year covers month ends and weekday/date pairs.
const SCAN_DAYS: i64 = 366;
/// The most runs one day can have.
const MINUTES_A_DAY: usize = 24 * 60;

/// Which count a new schedule adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// Recurring schedules.
    Schedules,
    /// One-off reminders.
    Reminders,
}

impl Quota {
    /// The most a non-owner may have active.
    pub fn cap(self) -> u64 {
        match self {
            Quota::Schedules => MAX_SCHEDULES,
            Quota::Reminders => MAX_REMINDERS,
        }
    }

    fn command(self) -> &'static str {
        match self {
            Quota::Schedules => "schedule",
            Quota::Reminders => "remind",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Quota::Schedules => "schedules",
            Quota::Reminders => "reminders",
        }
    }
}

/// Why a new schedule was refused; the message says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// The user already has as many as they may.
    #[error(
        "You already have {active} {}; the most you may have is {}. Remove one first: /{} list, then /{} remove <id>.",
        .quota.noun(), .quota.cap(), .quota.command(), .quota.command()
    )]
    TooMany {
        /// Which count.
        quota: Quota,
        /// How many are active now.
        active: u64,
    },
    /// Two runs of the expression come closer than the minimum.
    #[error(
        "'{cron}' would run {gap_minutes} minute(s) apart; schedules may run at most every \
         {MIN_INTERVAL_MINUTES} minutes, e.g. \"*/15 * * * *\" or daily 07:30. For a one-off, \
         use /remind."
    )]
    TooFrequent {
        /// The expression.
        cron: String,
        /// The first gap under the minimum found, in whole minutes.
        gap_minutes: i64,
    },
}

/// Whether a user with `active` schedules of `quota` may add one; the owner (`exempt`) always may.
pub fn check_count(quota: Quota, active: u64, exempt: bool) -> Result<(), LimitError> {
    if exempt || active < quota.cap() {
        Ok(())
    } else {
        Err(LimitError::TooMany { quota, active })
    }
}

/// Whether every two consecutive runs of `cron` in the year after `from` (a wall-clock time,
/// normally now in the user's timezone) are at least [`MIN_INTERVAL_MINUTES`] apart.
pub fn check_interval(cron: &CronExpr, from: NaiveDateTime) -> Result<(), LimitError> {
    match closest_runs(cron, from) {
        Some(gap) if gap < TimeDelta::minutes(MIN_INTERVAL_MINUTES) => {
            Err(LimitError::TooFrequent {
                cron: cron.to_string(),
                gap_minutes: gap.num_minutes(),
            })
        }
        _ => Ok(()),
    }
}

/// The smallest gap between consecutive runs in the scanned year, or the first gap under the
/// minimum (the scan stops there); `None` when fewer than two runs fall in it.
///
/// Every matching day of a five-field expression has the same times (hours × minutes), so the
/// gaps inside one day are listed once, on the first matching day, and then each matching day
/// adds one gap: from the last run of the matching day before it. That is two croner searches a
/// day instead of listing every run of a year.
fn closest_runs(cron: &CronExpr, from: NaiveDateTime) -> Option<TimeDelta> {
    // A stored `CronExpr` was validated by the same parser, so this does not fail.
    let parsed = parse(cron.as_str()).ok()?;
    let start = from.date().and_time(NaiveTime::MIN);
    let until = start + TimeDelta::days(SCAN_DAYS);
    let minimum = TimeDelta::minutes(MIN_INTERVAL_MINUTES);
    let mut closest: Option<TimeDelta> = None;
    let mut previous_last: Option<NaiveDateTime> = None;
    let mut cursor = start;
    for _ in 0..=SCAN_DAYS {
        let first = match parsed.find_next_occurrence(&cursor, previous_last.is_none()) {
            Ok(first) if first < until => first,
            _ => break,
        };
        let next_midnight = first.date().succ_opt()?.and_time(NaiveTime::MIN);
        let last = parsed
            .find_previous_occurrence(&next_midnight, false)
            .ok()?;
        let gap = match previous_last {
            Some(previous) => Some(first - previous),
            None => gap_within_day(&parsed, first, last),
        };
        if let Some(gap) = gap {
            closest = Some(closest.map_or(gap, |c| c.min(gap)));
        }
        if closest.is_some_and(|c| c < minimum) {
            break;
        }
        previous_last = Some(last);
        cursor = last;
    }
    closest
}

/// The smallest gap between the runs from `first` to `last` (one day), or the first gap under the
/// minimum; at most a day's minutes are listed.
fn gap_within_day(cron: &Cron, first: NaiveDateTime, last: NaiveDateTime) -> Option<TimeDelta> {
    let minimum = TimeDelta::minutes(MIN_INTERVAL_MINUTES);
    let mut closest: Option<TimeDelta> = None;
    let mut previous = first;
    for run in cron.iter_after(first).take(MINUTES_A_DAY) {
        if run > last {
            break;
        }
        let gap = run - previous;
        closest = Some(closest.map_or(gap, |c| c.min(gap)));
        if gap < minimum {
            break;
        }
        previous = run;
    }
    closest
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn from() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 1, 10)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap()
    }

    fn interval(expr: &str) -> Result<(), LimitError> {
        check_interval(&CronExpr::parse(expr).unwrap(), from())
    }

    #[test]
    fn every_few_minutes_is_refused_with_the_minimum_named() {
        for (expr, gap) in [("* * * * *", 1), ("*/5 * * * *", 5), ("*/14 * * * *", 14)] {
            let err = interval(expr).unwrap_err();
            assert_eq!(
                err,
                LimitError::TooFrequent {
                    cron: expr.into(),
                    gap_minutes: gap
                },
                "{expr}"
            );
            assert!(err.to_string().contains("every 15 minutes"), "{err}");
        }
    }

    #[test]
    fn close_pairs_are_found_wherever_they_are() {
        // Two runs five minutes apart once a day.
        assert!(interval("0,5 7 * * *").is_err());
        // 23:50 and 00:00 the next day.
        assert!(interval("0,50 0,23 * * *").is_err());
        // Only across a month end: the 31st at 23:50, then the 1st at 00:00.
        assert!(interval("0,50 0,23 1,31 * *").is_err());
    }

    #[test]
    fn quarter_hours_and_daily_times_are_allowed() {
        for expr in [
            "*/15 * * * *",
            "0,15,30,45 * * * *",
            "0 7 * * 1-5",
            "30 7 29 2 *",
        ] {
            assert_eq!(interval(expr), Ok(()), "{expr}");
        }
    }

    #[test]
    fn the_count_stops_at_the_cap_except_for_the_owner() {
        assert_eq!(check_count(Quota::Schedules, 19, false), Ok(()));
        let err = check_count(Quota::Schedules, 20, false).unwrap_err();
        assert!(
            err.to_string().contains("the most you may have is 20"),
            "{err}"
        );
        assert!(err.to_string().contains("/schedule remove <id>"), "{err}");
        assert!(check_count(Quota::Reminders, 50, false).is_err());
        assert_eq!(check_count(Quota::Reminders, 49, false), Ok(()));
        assert_eq!(check_count(Quota::Schedules, 500, true), Ok(()));
    }
}
