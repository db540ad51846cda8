//! The missed-run policy: what to do with a schedule whose `next_run_at` has come, on time or
//! after downtime.
//!
//! A run missed by at most the grace period (default one hour) runs once, now; older misses are
//! skipped (the caller logs them). Either way the new `next_run_at` is the first occurrence
//! strictly after `now`, so a job gets at most one catch-up run however many occurrences the
//! downtime swallowed. The same decision serves the on-time case: a run due exactly now is
//! "missed by zero" and runs.

use chrono::{DateTime, TimeDelta, Utc};

use crate::schedule_spec::CronError;
use crate::schedule_spec::ScheduleSpec;
use crate::schedule_spec::next_run::next_run_after;
use crate::timezone::Timezone;

/// How late a missed run may still be made up, unless configured otherwise.
pub const DEFAULT_GRACE: TimeDelta = TimeDelta::hours(1);

/// What to do with a schedule now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissedRun {
    /// `next_run_at` is still ahead: nothing to do.
    NotDue,
    /// Run once, now. `scheduled_for` is the occurrence being made up: the stored `next_run_at`
    /// when that is within grace, else the first occurrence inside the grace window (older ones
    /// were skipped; the caller may log that when it differs from the stored `next_run_at`).
    RunNow {
        /// The occurrence this run stands for.
        scheduled_for: DateTime<Utc>,
    },
    /// The run is older than the grace period and no occurrence falls inside it: log and skip.
    Skip {
        /// The stored `next_run_at` that was missed.
        missed_at: DateTime<Utc>,
    },
}

/// A decision and the schedule's new `next_run_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueDecision {
    /// Run, skip or wait.
    pub action: MissedRun,
    /// The new `next_run_at`, strictly after `now` when the schedule was due; `None` means the
    /// schedule is finished (a `once` that ran or was skipped, or a cron that never fires again)
    /// and should be deactivated.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// Decides what to do with a schedule whose stored next run is `next_run_at`, at `now`.
///
/// Lateness counts from the scheduled instant: a run late by at most `grace` is made up.
/// `tz` is the schedule's timezone, used to read a cron expression.
pub fn decide(
    spec: &ScheduleSpec,
    tz: Timezone,
    next_run_at: DateTime<Utc>,
    now: DateTime<Utc>,
    grace: TimeDelta,
) -> Result<DueDecision, CronError> {
    if next_run_at > now {
        return Ok(DueDecision {
            action: MissedRun::NotDue,
            next_run_at: Some(next_run_at),
        });
    }
    let within_grace = |at: DateTime<Utc>| now - at <= grace;
    let cron = match spec {
        ScheduleSpec::Once(_) => return Ok(decide_once(within_grace(next_run_at), next_run_at)),
        ScheduleSpec::Cron(cron) => cron.as_str(),
    };
    let recent = if within_grace(next_run_at) {
        Some(next_run_at)
    } else {
        // Occurrences are whole minutes; starting a hair before the window's edge includes it.
        let window_start = now - grace - TimeDelta::nanoseconds(1);
        next_run_after(cron, tz, window_start)?.filter(|at| *at <= now)
    };
    let action = match recent {
        Some(scheduled_for) => MissedRun::RunNow { scheduled_for },
        None => MissedRun::Skip {
            missed_at: next_run_at,
        },
    };
    Ok(DueDecision {
        action,
        next_run_at: next_run_after(cron, tz, now)?,
    })
}

/// A due `once` schedule runs if within grace, else is skipped; either way it is finished.
fn decide_once(within_grace: bool, next_run_at: DateTime<Utc>) -> DueDecision {
    let action = if within_grace {
        MissedRun::RunNow {
            scheduled_for: next_run_at,
        }
    } else {
        MissedRun::Skip {
            missed_at: next_run_at,
        }
    };
    DueDecision {
        action,
        next_run_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule_spec::CronExpr;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn cron(expr: &str) -> ScheduleSpec {
        ScheduleSpec::Cron(CronExpr::parse(expr).unwrap())
    }

    fn berlin() -> Timezone {
        Timezone::new(chrono_tz::Europe::Berlin)
    }

    /// A daily 07:00 Berlin job; in May 07:00 CEST is 05:00 UTC.
    fn daily_seven(next_run_at: DateTime<Utc>, now: DateTime<Utc>) -> DueDecision {
        decide(
            &cron("0 7 * * *"),
            berlin(),
            next_run_at,
            now,
            DEFAULT_GRACE,
        )
        .unwrap()
    }

    #[test]
    fn schedule_not_yet_due_keeps_its_next_run() {
        let next = utc(2026, 5, 4, 5, 0);
        let decision = daily_seven(next, utc(2026, 5, 4, 4, 59));
        assert_eq!(
            decision,
            DueDecision {
                action: MissedRun::NotDue,
                next_run_at: Some(next)
            }
        );
    }

    #[test]
    fn run_due_exactly_now_runs_and_moves_to_tomorrow() {
        let at = utc(2026, 5, 4, 5, 0);
        let decision = daily_seven(at, at);
        assert_eq!(decision.action, MissedRun::RunNow { scheduled_for: at });
        assert_eq!(decision.next_run_at, Some(utc(2026, 5, 5, 5, 0)));
    }

    #[test]
    fn run_missed_by_less_than_grace_runs_once_and_older_is_skipped() {
        let at = utc(2026, 5, 4, 5, 0);
        let late = daily_seven(at, utc(2026, 5, 4, 5, 30));
        assert_eq!(late.action, MissedRun::RunNow { scheduled_for: at });
        let edge = daily_seven(at, utc(2026, 5, 4, 6, 0));
        assert_eq!(edge.action, MissedRun::RunNow { scheduled_for: at });
        let too_late = daily_seven(at, utc(2026, 5, 4, 6, 1));
        assert_eq!(too_late.action, MissedRun::Skip { missed_at: at });
        assert_eq!(too_late.next_run_at, Some(utc(2026, 5, 5, 5, 0)));
    }

    #[test]
    fn days_of_downtime_give_one_catch_up_for_the_run_within_grace() {
        // Down from Monday before 07:00 until Thursday 07:20 (CEST).
        let monday = utc(2026, 5, 4, 5, 0);
        let now = utc(2026, 5, 7, 5, 20);
        let decision = daily_seven(monday, now);
        assert_eq!(
            decision.action,
            MissedRun::RunNow {
                scheduled_for: utc(2026, 5, 7, 5, 0)
            }
        );
        assert_eq!(decision.next_run_at, Some(utc(2026, 5, 8, 5, 0)));
        // Deciding again with the new next run at the same instant runs nothing more.
        let again = daily_seven(utc(2026, 5, 8, 5, 0), now);
        assert_eq!(again.action, MissedRun::NotDue);
    }

    #[test]
    fn frequent_job_after_long_downtime_runs_once_and_resumes_after_now() {
        let spec = cron("*/5 * * * *");
        let now = utc(2026, 5, 4, 12, 2);
        let decision = decide(&spec, berlin(), utc(2026, 5, 4, 6, 0), now, DEFAULT_GRACE).unwrap();
        assert_eq!(
            decision.action,
            MissedRun::RunNow {
                scheduled_for: utc(2026, 5, 4, 11, 5)
            }
        );
        assert_eq!(decision.next_run_at, Some(utc(2026, 5, 4, 12, 5)));
        let next = decision.next_run_at.unwrap();
        let again = decide(&spec, berlin(), next, now, DEFAULT_GRACE).unwrap();
        assert_eq!(again.action, MissedRun::NotDue);
    }

    #[test]
    fn once_runs_within_grace_and_is_finished_either_way() {
        let at = utc(2026, 5, 4, 9, 0);
        let spec = ScheduleSpec::Once(at);
        let run = decide(&spec, berlin(), at, utc(2026, 5, 4, 9, 45), DEFAULT_GRACE).unwrap();
        assert_eq!(
            run,
            DueDecision {
                action: MissedRun::RunNow { scheduled_for: at },
                next_run_at: None
            }
        );
        let skip = decide(&spec, berlin(), at, utc(2026, 5, 4, 11, 0), DEFAULT_GRACE).unwrap();
        assert_eq!(
            skip,
            DueDecision {
                action: MissedRun::Skip { missed_at: at },
                next_run_at: None
            }
        );
        let wait = decide(&spec, berlin(), at, utc(2026, 5, 4, 8, 0), DEFAULT_GRACE).unwrap();
        assert_eq!(
            wait,
            DueDecision {
                action: MissedRun::NotDue,
                next_run_at: Some(at)
            }
        );
    }

    #[test]
    fn zero_grace_runs_on_time_but_skips_any_lateness() {
        let at = utc(2026, 5, 4, 5, 0);
        let spec = cron("0 7 * * *");
        let on_time = decide(&spec, berlin(), at, at, TimeDelta::zero()).unwrap();
        assert_eq!(on_time.action, MissedRun::RunNow { scheduled_for: at });
        let late = decide(
            &spec,
            berlin(),
            at,
            utc(2026, 5, 4, 5, 1),
            TimeDelta::zero(),
        )
        .unwrap();
        assert_eq!(late.action, MissedRun::Skip { missed_at: at });
    }

    #[test]
    fn run_moved_by_the_spring_gap_is_caught_up_in_local_time() {
        // 02:30 Berlin on 2026-03-29 runs at 03:00 CEST (01:00 UTC); back up at 01:20 UTC.
        let spec = cron("30 2 * * *");
        let decision = decide(
            &spec,
            berlin(),
            utc(2026, 3, 29, 1, 0),
            utc(2026, 3, 29, 1, 20),
            DEFAULT_GRACE,
        )
        .unwrap();
        assert_eq!(
            decision.action,
            MissedRun::RunNow {
                scheduled_for: utc(2026, 3, 29, 1, 0)
            }
        );
        assert_eq!(decision.next_run_at, Some(utc(2026, 3, 30, 0, 30)));
    }
}
