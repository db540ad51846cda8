//! Parsing the `<when>` of `/schedule add <when> <tool> [args]` into a normalised cron
//! expression (the types it produces live in `crate::schedule_spec`).
//!
//! The `<when>` forms:
//! - `daily HH:MM`, `weekdays HH:MM` (Mon–Fri), `weekends HH:MM`, `weekly <day> HH:MM` with `day`
//!   one of `mon`..`sun` or a longer prefix of the full name (`monday`, `thurs`);
//! - a five-field cron expression, either in quotes (`"0 7 * * 1-5"`; straight or typographic
//!   quotes) or as the first five words when the first word starts with a digit or `*`. A tool
//!   name never starts that way, so the rule is unambiguous. `cron` may prefix either form.

use chrono::Timelike;

use super::when::{next_word, parse_clock};
use super::{CronExpr, SpecError};

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
    use crate::schedule_spec::CronError;

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
}
