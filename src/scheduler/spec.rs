//! What a schedule's timing is (`cron` or `once`), and parsing the `<when>` of
//! `/schedule add <when> <tool> [args]` into a normalised cron expression.
//!
//! The `<when>` forms:
//! - `daily HH:MM`, `weekdays HH:MM` (Mon–Fri), `weekends HH:MM`, `weekly <day> HH:MM` with `day`
//!   one of `mon`..`sun` or a longer prefix of the full name (`monday`, `thurs`);
//! - a five-field cron expression, either in quotes (`"0 7 * * 1-5"`; straight or typographic
//!   quotes) or as the first five words when the first word starts with a digit or `*`. A tool
//!   name never starts that way, so the rule is unambiguous. `cron` may prefix either form.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Timelike, Utc};

use super::next_run::{CronError, validate_cron};
use super::when::{next_word, parse_clock};

/// How to use `/schedule add`, appended to errors about its `<when>`.
const USAGE: &str = "Use daily HH:MM, weekdays HH:MM, weekends HH:MM, weekly <day> HH:MM, or a \
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

/// Reads the `<when>` at the start of `input` (the text after `/schedule add`) into a cron
/// expression, and returns it with the rest of the input: the tool and its arguments, never empty.
pub fn parse_recurrence(input: &str) -> Result<(CronExpr, &str), SpecError> {
    let (first, rest) = next_word(input);
    let (cron, rest) = match first.to_ascii_lowercase().as_str() {
        "" => return Err(SpecError::Missing),
        "daily" => at_clock(rest, "*")?,
        "weekdays" => at_clock(rest, "1-5")?,
        "weekends" => at_clock(rest, "0,6")?,
        "weekly" => {
            let (day, rest) = next_word(rest);
            at_clock(rest, &weekday_number(day)?.to_string())?
        }
        "cron" => cron_words(rest)?,
        _ => cron_words(input)?,
    };
    if rest.is_empty() {
        return Err(SpecError::MissingTool);
    }
    Ok((cron, rest))
}

/// `HH:MM` at the start of `rest`, as a cron expression on the given day-of-week field.
fn at_clock<'a>(rest: &'a str, days: &str) -> Result<(CronExpr, &'a str), SpecError> {
    let (word, rest) = next_word(rest);
    let clock = parse_clock(word).ok_or_else(|| SpecError::BadClock {
        input: word.to_string(),
    })?;
    let expr = format!("{} {} * * {days}", clock.minute(), clock.hour());
    Ok((CronExpr::parse(&expr)?, rest))
}

/// A quoted expression, or the first five words when the first starts with a digit or `*`.
fn cron_words(input: &str) -> Result<(CronExpr, &str), SpecError> {
    let input = input.trim_start();
    let mut chars = input.chars();
    if let Some(open @ ('"' | '\'' | '“' | '‘')) = chars.next() {
        let close = match open {
            '“' => '”',
            '‘' => '’',
            other => other,
        };
        let body = chars.as_str();
        let end = body.find(close).ok_or(SpecError::UnclosedQuote)?;
        let rest = body[end + close.len_utf8()..].trim_start();
        return Ok((CronExpr::parse(&body[..end])?, rest));
    }
    if !input.starts_with(|c: char| c.is_ascii_digit() || c == '*') {
        let (first, _) = next_word(input);
        return Err(SpecError::Unrecognised {
            input: first.to_string(),
        });
    }
    let mut rest = input;
    for _ in 0..5 {
        rest = next_word(rest).1;
    }
    let expr = &input[..input.len() - rest.len()];
    Ok((CronExpr::parse(expr)?, rest))
}

/// Cron's day-of-week number (Sunday = 0) for `mon`, `Tuesday`, `thurs`, ...
fn weekday_number(word: &str) -> Result<u32, SpecError> {
    const DAYS: [&str; 7] = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    let lower = word.to_ascii_lowercase();
    DAYS.iter()
        .position(|day| lower.len() >= 3 && day.starts_with(&lower))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| SpecError::BadDay {
            input: word.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cron(input: &str) -> Result<(String, &str), SpecError> {
        parse_recurrence(input).map(|(c, rest)| (c.to_string(), rest))
    }

    #[test]
    fn named_recurrences_become_cron_expressions() {
        assert_eq!(
            cron("daily 07:00 email today"),
            Ok(("0 7 * * *".into(), "email today"))
        );
        assert_eq!(
            cron("weekdays 7:30 briefing"),
            Ok(("30 7 * * 1-5".into(), "briefing"))
        );
        assert_eq!(
            cron("weekends 10:05 briefing"),
            Ok(("5 10 * * 0,6".into(), "briefing"))
        );
        assert_eq!(
            cron("weekly mon 09:00 note list"),
            Ok(("0 9 * * 1".into(), "note list"))
        );
        assert_eq!(
            cron("Weekly Sunday 18:00 x"),
            Ok(("0 18 * * 0".into(), "x"))
        );
        assert_eq!(cron("weekly thurs 18:00 x"), Ok(("0 18 * * 4".into(), "x")));
    }

    #[test]
    fn cron_expression_is_read_quoted_or_as_five_leading_words() {
        let expected = Ok(("0 7 * * 1-5".into(), "email today"));
        assert_eq!(cron("\"0 7 * * 1-5\" email today"), expected);
        assert_eq!(cron("cron '0  7 * * 1-5' email today"), expected);
        assert_eq!(cron("“0 7 * * 1-5” email today"), expected);
        assert_eq!(cron("0 7 * * 1-5 email today"), expected);
        assert_eq!(cron("cron 0 7 * * 1-5   email today"), expected);
        assert_eq!(
            cron("*/15 * * * * ping"),
            Ok(("*/15 * * * *".into(), "ping"))
        );
    }

    #[test]
    fn invalid_schedules_explain_with_an_example() {
        let err = cron("daily 25:00 email").unwrap_err();
        assert_eq!(
            err,
            SpecError::BadClock {
                input: "25:00".into()
            }
        );
        assert!(err.to_string().contains("daily 07:30"));
        assert!(matches!(
            cron("weekly funday 09:00 x"),
            Err(SpecError::BadDay { .. })
        ));
        assert!(matches!(
            cron("weekly mo 09:00 x"),
            Err(SpecError::BadDay { .. })
        ));
        let bad_cron = cron("61 7 * * * email").unwrap_err();
        assert!(matches!(
            bad_cron,
            SpecError::Cron(CronError::Invalid { .. })
        ));
        assert!(
            bad_cron.to_string().contains("\"0 7 * * 1-5\""),
            "{bad_cron}"
        );
        assert!(matches!(cron("\"0 7 * * x"), Err(SpecError::UnclosedQuote)));
        assert!(matches!(
            cron("sometimes email"),
            Err(SpecError::Unrecognised { .. })
        ));
        assert_eq!(cron("daily 07:00"), Err(SpecError::MissingTool));
        assert_eq!(cron(""), Err(SpecError::Missing));
        assert!(
            cron("")
                .unwrap_err()
                .to_string()
                .contains("/schedule add weekdays 07:00")
        );
    }

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
