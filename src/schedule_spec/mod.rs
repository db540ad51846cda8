//! What a schedule's timing is (`cron` or `once`) and why a timing was rejected: the leaf types
//! the store reads and writes and the scheduler computes with, so neither imports the other.
//! The timing rules live here too, below both the tools that parse a user's input and the
//! scheduler loop that runs jobs: [`when`] reads a `/remind` time, [`recurrence`] a
//! `/schedule add` time, [`next_run`] computes DST-correct next runs, [`limits`] caps what a
//! user may schedule and [`local_time`] shows an instant in a user's timezone.

mod cron;
pub mod limits;
pub mod local_time;
pub mod next_run;
pub mod recurrence;
pub mod when;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

pub(crate) use cron::parse;
pub use cron::{CronError, validate_cron};

/// How to use `/schedule add`, appended to errors about its `<when>`.
pub(crate) const USAGE: &str = "Use daily HH:MM, weekdays HH:MM, weekends HH:MM, weekly <day> HH:MM, or a \
     quoted cron expression, then the tool. Example: /schedule add weekdays 07:00 email today";

/// A validated five-field cron expression, fields separated by single spaces.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CronExpr(String);

impl CronExpr {
    /// Validates `expr` (see [`validate_cron`]) and normalises its spacing.
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        validate_cron(expr)?;
        Ok(CronExpr(
            expr.split_whitespace().collect::<Vec<_>>().join(" "),
        ))
    }

    /// The expression as stored in the `schedules` table.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `kind` column of the `schedules` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScheduleKind {
    /// Recurs by a cron expression.
    Cron,
    /// Runs once at a fixed instant (a `/remind`).
    Once,
}

impl ScheduleKind {
    /// The stored name: `cron` or `once`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleKind::Cron => "cron",
            ScheduleKind::Once => "once",
        }
    }
}

impl FromStr for ScheduleKind {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cron" => Ok(ScheduleKind::Cron),
            "once" => Ok(ScheduleKind::Once),
            other => Err(SpecError::UnknownKind {
                kind: other.to_string(),
            }),
        }
    }
}

/// When a schedule runs: by a cron expression (in the schedule's timezone) or once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduleSpec {
    /// Recurring, by a cron expression read in the schedule's timezone.
    Cron(CronExpr),
    /// Once, at this instant.
    Once(DateTime<Utc>),
}

impl ScheduleSpec {
    /// The `kind` column for this spec.
    pub fn kind(&self) -> ScheduleKind {
        match self {
            ScheduleSpec::Cron(_) => ScheduleKind::Cron,
            ScheduleSpec::Once(_) => ScheduleKind::Once,
        }
    }

    /// The `expression` column: the cron expression, or the instant in RFC 3339 (UTC).
    pub fn expression(&self) -> String {
        match self {
            ScheduleSpec::Cron(cron) => cron.to_string(),
            ScheduleSpec::Once(at) => at.to_rfc3339(),
        }
    }

    /// Rebuilds a spec from the `kind` and `expression` columns.
    pub fn from_stored(kind: &str, expression: &str) -> Result<Self, SpecError> {
        match kind.parse()? {
            ScheduleKind::Cron => Ok(ScheduleSpec::Cron(CronExpr::parse(expression)?)),
            ScheduleKind::Once => DateTime::parse_from_rfc3339(expression)
                .map(|at| ScheduleSpec::Once(at.with_timezone(&Utc)))
                .map_err(|_| SpecError::BadStoredTime {
                    input: expression.to_string(),
                }),
        }
    }
}

/// Why a schedule's `<when>` (or a stored spec) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Nothing was given after `/schedule add`.
    #[error("tell me when it should run. {USAGE}")]
    Missing,
    /// The first word is none of the accepted forms.
    #[error("I can't read '{input}' as a schedule. {USAGE}")]
    Unrecognised {
        /// The word that was not understood.
        input: String,
    },
    /// The time of day after `daily`/`weekdays`/`weekly <day>` is missing or invalid.
    #[error("'{input}' is not a valid time of day; use HH:MM, e.g. daily 07:30.")]
    BadClock {
        /// The text that was not a time of day.
        input: String,
    },
    /// The day after `weekly` is not a day of the week.
    #[error("'{input}' is not a day of the week; use mon..sun, e.g. weekly mon 09:00.")]
    BadDay {
        /// The text that was not a day.
        input: String,
    },
    /// A quoted cron expression has no closing quote.
    #[error("the cron expression has no closing quote, e.g. \"0 7 * * 1-5\" email today.")]
    UnclosedQuote,
    /// The cron expression is invalid (the message includes an example).
    #[error(transparent)]
    Cron(#[from] CronError),
    /// The schedule is fine but no tool follows it.
    #[error("say what to run after the schedule. {USAGE}")]
    MissingTool,
    /// A stored `kind` other than `cron` or `once`.
    #[error("unknown schedule kind '{kind}' (expected cron or once)")]
    UnknownKind {
        /// The stored kind.
        kind: String,
    },
    /// A stored `once` expression that is not an RFC 3339 instant.
    #[error("stored one-off time '{input}' is not an RFC 3339 instant")]
    BadStoredTime {
        /// The stored expression.
        input: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn stored_specs_round_trip() {
        let at = Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap();
        for spec in [
            ScheduleSpec::Once(at),
            ScheduleSpec::Cron(CronExpr::parse("0 7 * * *").unwrap()),
        ] {
            let back = ScheduleSpec::from_stored(spec.kind().as_str(), &spec.expression());
            assert_eq!(back, Ok(spec));
        }
        assert!(matches!(
            ScheduleSpec::from_stored("weekly", "x"),
            Err(SpecError::UnknownKind { .. })
        ));
        assert!(matches!(
            ScheduleSpec::from_stored("once", "tomorrow"),
            Err(SpecError::BadStoredTime { .. })
        ));
    }
}
