//! Five-field cron expressions: parsing with croner and the validation every stored schedule
//! passed, shared by the store (reading rows) and the scheduler (computing next runs).

use chrono::NaiveDate;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// An example appended to every cron error so the user sees the correct shape.
const CRON_EXAMPLE: &str = "A cron expression has five fields: minute hour day-of-month month \
     day-of-week, e.g. \"0 7 * * 1-5\" (07:00 on weekdays).";

/// Why a cron expression was rejected or its next run could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// The expression does not have exactly five whitespace-separated fields.
    #[error("'{expr}' has {found} field(s), not 5. {CRON_EXAMPLE}")]
    FieldCount {
        /// The expression as given.
        expr: String,
        /// How many fields it has.
        found: usize,
    },
    /// A field is malformed or out of range (the reason comes from the cron parser).
    #[error("'{expr}' is not a valid cron expression ({reason}). {CRON_EXAMPLE}")]
    Invalid {
        /// The expression as given.
        expr: String,
        /// What the parser objected to.
        reason: String,
    },
    /// The expression is well formed but matches no real date, e.g. `0 0 30 2 *`.
    #[error("'{expr}' never matches a real date. {CRON_EXAMPLE}")]
    NeverFires {
        /// The expression as given.
        expr: String,
    },
    /// The search for the next run failed unexpectedly.
    #[error("could not compute the next run of '{expr}': {reason}")]
    Search {
        /// The expression as given.
        expr: String,
        /// What went wrong.
        reason: String,
    },
}

/// Checks that `expr` is a five-field cron expression (`minute hour day-of-month month
/// day-of-week`, names like `MON` and `JAN` allowed) that matches at least one real date.
pub fn validate_cron(expr: &str) -> Result<(), CronError> {
    let cron = parse(expr)?;
    let origin = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    match cron.find_next_occurrence(&origin, false) {
        Ok(_) => Ok(()),
        Err(_) => Err(CronError::NeverFires {
            expr: expr.trim().to_string(),
        }),
    }
}

/// Parses a five-field expression with croner (no seconds, no year field).
pub(crate) fn parse(expr: &str) -> Result<Cron, CronError> {
    let expr = expr.trim();
    let found = expr.split_whitespace().count();
    if found != 5 {
        return Err(CronError::FieldCount {
            expr: expr.to_string(),
            found,
        });
    }
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(expr)
        .map_err(|err| CronError::Invalid {
            expr: expr.to_string(),
            reason: err.to_string(),
        })
}
