//! Next-run computation for cron schedules, in the local time of the schedule's timezone.
//!
//! Rules across DST changes (checked against the real 2026 dates in the tests below):
//! - a job at a fixed local time keeps that local time, so its UTC instant moves by an hour;
//! - scheduled local times that do not exist that day (clocks going forward) run once, at the
//!   first valid instant after the gap (02:30 on Berlin's spring-forward day runs at 03:00 CEST);
//! - a fixed local time in a repeated hour (clocks going back) runs once, at its first instance.
//!   Patterns with several times per hour (`*/15 * * * *`) follow elapsed time through the
//!   repeated hour, so they keep running every 15 minutes.
//!
//! croner 4 implements all of this for fixed-time patterns; for patterns with several times it
//! skips a nonexistent time instead, which `gap_run` below corrects.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use croner::Cron;
use croner::errors::CronError as CronerError;

use crate::schedule_spec::CronError;
use crate::schedule_spec::parse;
use crate::timezone::Timezone;

/// Bound on the wall-clock matches inspected while looking for one inside a DST gap; a gap is at
/// most a day, so even an every-minute pattern stays far below it.
const MAX_GAP_SCAN: usize = 3_000;

/// The first run of `cron` strictly after `after`, computed in the local time of `tz` (see the
/// module docs for the DST rules). `Ok(None)` means the pattern never fires again.
pub fn next_run_after(
    cron: &str,
    tz: Timezone,
    after: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, CronError> {
    let parsed = parse(cron)?;
    let zoned = after.with_timezone(&tz.tz());
    let by_clock = match parsed.find_next_occurrence(&zoned, false) {
        Ok(next) => next.with_timezone(&Utc),
        Err(CronerError::TimeSearchLimitExceeded) => return Ok(None),
        Err(err) => {
            return Err(CronError::Search {
                expr: cron.trim().to_string(),
                reason: err.to_string(),
            });
        }
    };
    Ok(Some(
        gap_run(&parsed, tz, after, by_clock).unwrap_or(by_clock),
    ))
}

/// A run owed to a scheduled wall-clock time that falls in a DST gap between `after` and
/// `limit` (croner's answer), moved to the first instant after that gap.
///
/// Walks the pattern's wall-clock matches from `after`'s wall clock up to `limit`'s. Any match in
/// that range that resolves to a real instant after `after` would have been croner's answer, so
/// the walk only meets gap times and the few repeated-hour times already behind `after`.
fn gap_run(
    cron: &Cron,
    tz: Timezone,
    after: DateTime<Utc>,
    limit: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let limit_local = limit.with_timezone(&tz.tz()).naive_local();
    let mut cursor: NaiveDateTime = after.with_timezone(&tz.tz()).naive_local();
    for _ in 0..MAX_GAP_SCAN {
        cursor = cron.find_next_occurrence(&cursor, false).ok()?;
        if cursor >= limit_local {
            return None;
        }
        if let LocalResult::None = tz.tz().from_local_datetime(&cursor) {
            let run = tz.resolve_local(cursor);
            return (run > after && run < limit).then_some(run);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule_spec::validate_cron;
    use chrono::Timelike;
    use chrono_tz::{America::New_York, Europe::Berlin};

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    /// Every run of `cron` in `(from, until)`, by iterating `next_run_after`.
    fn runs(
        cron: &str,
        tz: chrono_tz::Tz,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut at = from;
        while let Some(next) = next_run_after(cron, Timezone::new(tz), at).unwrap() {
            if next >= until {
                break;
            }
            assert!(next > at, "{cron}: {next} is not after {at}");
            out.push(next);
            at = next;
        }
        out
    }

    #[test]
    fn daily_seven_am_stays_seven_local_across_berlin_changes() {
        let spring = runs(
            "0 7 * * *",
            Berlin,
            utc(2026, 3, 27, 0, 0),
            utc(2026, 3, 31, 0, 0),
        );
        let fall = runs(
            "0 7 * * *",
            Berlin,
            utc(2026, 10, 23, 0, 0),
            utc(2026, 10, 27, 0, 0),
        );
        let expected = [
            utc(2026, 3, 27, 6, 0),
            utc(2026, 3, 28, 6, 0),
            utc(2026, 3, 29, 5, 0),
            utc(2026, 3, 30, 5, 0),
            utc(2026, 10, 23, 5, 0),
            utc(2026, 10, 24, 5, 0),
            utc(2026, 10, 25, 6, 0),
            utc(2026, 10, 26, 6, 0),
        ];
        assert_eq!([spring, fall].concat(), expected);
    }

    #[test]
    fn daily_seven_am_stays_seven_local_across_new_york_changes() {
        let spring = runs(
            "0 7 * * *",
            New_York,
            utc(2026, 3, 7, 0, 0),
            utc(2026, 3, 10, 0, 0),
        );
        let fall = runs(
            "0 7 * * *",
            New_York,
            utc(2026, 10, 31, 0, 0),
            utc(2026, 11, 3, 0, 0),
        );
        let expected = [
            utc(2026, 3, 7, 12, 0),
            utc(2026, 3, 8, 11, 0),
            utc(2026, 3, 9, 11, 0),
            utc(2026, 10, 31, 11, 0),
            utc(2026, 11, 1, 12, 0),
            utc(2026, 11, 2, 12, 0),
        ];
        assert_eq!([spring, fall].concat(), expected);
    }

    #[test]
    fn nonexistent_local_time_runs_once_at_the_end_of_the_gap() {
        // Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let berlin = runs(
            "30 2 * * *",
            Berlin,
            utc(2026, 3, 28, 0, 0),
            utc(2026, 3, 31, 0, 0),
        );
        assert_eq!(
            berlin,
            [
                utc(2026, 3, 28, 1, 30),
                utc(2026, 3, 29, 1, 0),
                utc(2026, 3, 30, 0, 30)
            ]
        );
        // New York 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
        let ny = runs(
            "30 2 * * *",
            New_York,
            utc(2026, 3, 7, 0, 0),
            utc(2026, 3, 10, 0, 0),
        );
        assert_eq!(
            ny,
            [
                utc(2026, 3, 7, 7, 30),
                utc(2026, 3, 8, 7, 0),
                utc(2026, 3, 9, 6, 30)
            ]
        );
    }

    #[test]
    fn repeated_local_time_runs_once_not_twice() {
        // Berlin 2026-10-25: 02:30 happens at 00:30 UTC (CEST) and 01:30 UTC (CET).
        let berlin = runs(
            "30 2 * * *",
            Berlin,
            utc(2026, 10, 24, 12, 0),
            utc(2026, 10, 27, 0, 0),
        );
        assert_eq!(berlin, [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]);
        // New York 2026-11-01: 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST).
        let ny = runs(
            "30 1 * * *",
            New_York,
            utc(2026, 10, 31, 12, 0),
            utc(2026, 11, 3, 0, 0),
        );
        assert_eq!(ny, [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]);
    }

    #[test]
    fn start_inside_the_second_pass_of_the_repeated_hour_skips_to_tomorrow() {
        // 01:10 UTC on 2026-10-25 is 02:10 CET, the second pass; today's 02:30 already ran.
        let next = next_run_after(
            "30 2 * * *",
            Timezone::new(Berlin),
            utc(2026, 10, 25, 1, 10),
        );
        assert_eq!(next, Ok(Some(utc(2026, 10, 26, 1, 30))));
    }

    #[test]
    fn several_times_a_day_pattern_keeps_a_time_lost_in_the_gap() {
        let runs = runs(
            "30 2,14 * * *",
            Berlin,
            utc(2026, 3, 29, 0, 0),
            utc(2026, 3, 30, 0, 0),
        );
        assert_eq!(runs, [utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 12, 30)]);
    }

    #[test]
    fn quarter_hourly_pattern_runs_once_after_the_gap_and_by_elapsed_time_in_the_repeat() {
        let spring = runs(
            "*/15 * * * *",
            Berlin,
            utc(2026, 3, 29, 0, 30),
            utc(2026, 3, 29, 1, 20),
        );
        assert_eq!(
            spring,
            [
                utc(2026, 3, 29, 0, 45),
                utc(2026, 3, 29, 1, 0),
                utc(2026, 3, 29, 1, 15)
            ]
        );
        // Berlin's repeated 02:00-03:00 spans 00:00-02:00 UTC: 8 quarter hours, none doubled.
        let fall = runs(
            "*/15 * * * *",
            Berlin,
            utc(2026, 10, 24, 23, 59),
            utc(2026, 10, 25, 2, 0),
        );
        assert_eq!(fall.len(), 8);
        assert!(
            fall.windows(2)
                .all(|w| w[1] - w[0] == chrono::TimeDelta::minutes(15))
        );
    }

    #[test]
    fn a_whole_year_of_daily_runs_is_strictly_increasing_and_complete() {
        for (cron, tz) in [
            ("0 7 * * *", Berlin),
            ("30 2 * * *", Berlin),
            ("30 1 * * *", New_York),
        ] {
            let year = runs(cron, tz, utc(2026, 1, 1, 0, 0), utc(2027, 1, 1, 0, 0));
            assert_eq!(year.len(), 365, "{cron} in {tz}");
        }
        let sevens = runs(
            "0 7 * * *",
            New_York,
            utc(2026, 1, 1, 0, 0),
            utc(2027, 1, 1, 0, 0),
        );
        assert!(
            sevens
                .iter()
                .all(|t| t.with_timezone(&New_York).hour() == 7)
        );
    }

    #[test]
    fn weekday_pattern_skips_weekends_in_local_time() {
        // 2026-03-27 is a Friday; the next weekday 07:00 in Berlin is Monday the 30th (CEST).
        let next = next_run_after("0 7 * * 1-5", Timezone::new(Berlin), utc(2026, 3, 27, 6, 0));
        assert_eq!(next, Ok(Some(utc(2026, 3, 30, 5, 0))));
    }

    #[test]
    fn malformed_expressions_get_a_reason_and_an_example() {
        assert_eq!(validate_cron("0 7 * * 1-5"), Ok(()));
        assert_eq!(validate_cron("0 7 * * MON-FRI"), Ok(()));
        let short = validate_cron("0 7 * *").unwrap_err();
        assert!(matches!(short, CronError::FieldCount { found: 4, .. }));
        assert!(short.to_string().contains("\"0 7 * * 1-5\""), "{short}");
        assert!(matches!(
            validate_cron("61 7 * * *"),
            Err(CronError::Invalid { .. })
        ));
        assert!(matches!(
            validate_cron("0 0 0 * * *"),
            Err(CronError::FieldCount { found: 6, .. })
        ));
        let never = validate_cron("0 0 30 2 *").unwrap_err();
        assert_eq!(
            never,
            CronError::NeverFires {
                expr: "0 0 30 2 *".into()
            }
        );
        assert!(next_run_after("nonsense", Timezone::UTC, utc(2026, 1, 1, 0, 0)).is_err());
    }
}
