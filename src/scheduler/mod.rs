//! Scheduler: the `schedules` table brought to life. [`runner`] is the loop that fires due jobs
//! through [`jobs::run_job`] into the same tool path as a user's command; [`missed`] is the
//! missed-run policy (it takes the current instant as a parameter); [`system_jobs`] holds the
//! daily cleanup and the morning briefing. The timing rules it shares with the tools (parsing
//! `/remind` and `/schedule add` input, DST-correct next runs, limits) are in
//! [`crate::schedule_spec`], below both.

pub mod clock;
pub mod jobs;
pub mod missed;
pub mod outlet;
pub mod runner;
pub mod system_jobs;

pub use clock::{Clock, ManualClock};
pub use jobs::{JobOutcome, run_job};
pub use outlet::Outlet;
pub use runner::{SchedulerHandle, run_due, spawn};
