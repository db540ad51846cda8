//! Scheduler: the `schedules` table's pure time logic. Parsing of user input (`/remind`,
//! `/schedule add`, `/tz`), timezone-aware next-run computation across DST changes, and the
//! missed-run policy after downtime. Every function takes the current instant as a parameter.

pub mod missed;
pub mod next_run;
pub mod spec;
pub mod timezone;
pub mod when;
