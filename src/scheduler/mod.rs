//! Scheduler: the `schedules` table brought to life. Pure time logic (parsing `/remind`,
//! `/schedule add` and `/tz` input, DST-correct next runs, the missed-run policy) takes the
//! current instant as a parameter; [`runner`] is the loop that fires due jobs through
//! [`jobs::run_job`] into the same tool path as a user's command; [`system_jobs`] holds the daily
//! cleanup and the morning briefing; [`limits`] caps what a user may schedule.

pub mod clock;
pub mod jobs;
pub mod limits;
pub mod local_time;
pub mod missed;
pub mod next_run;
pub mod outlet;
pub mod runner;
pub mod spec;
pub mod system_jobs;
pub mod when;

pub use clock::{Clock, ManualClock};
pub use jobs::{JobOutcome, run_job};
pub use outlet::Outlet;
pub use runner::{SchedulerHandle, run_due, spawn};
