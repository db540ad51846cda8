//! A user's IANA timezone: parsing (case-insensitive, with a suggestion for a near miss) and the
//! one rule for turning a local wall-clock time into an instant across DST changes.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

/// How far past a nonexistent local time we look for the end of its DST gap. The longest gap in
/// the tz database is a whole skipped day (Pacific/Apia, 2011-12-30).
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// A validated IANA timezone such as `Europe/Berlin`. Displays as its IANA name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timezone(Tz);

/// Why a timezone name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimezoneError {
    /// The input was empty or only whitespace.
    #[error("no timezone given. Use an IANA name like Europe/Berlin or America/New_York.")]
    Empty,
    /// The input is not a known IANA name; `suggestion` is the closest name when one is close.
    #[error(
        "unknown timezone '{input}'{} Use an IANA name like Europe/Berlin or America/New_York.",
        suggestion.map_or_else(|| ".".to_string(), |s| format!(" — did you mean {s}?"))
    )]
    Unknown {
        /// What the user typed (trimmed).
        input: String,
        /// The nearest valid IANA name, if one is close enough to be a likely typo.
        suggestion: Option<&'static str>,
    },
}

impl Timezone {
    /// Coordinated Universal Time, the default of new users when `TIMEZONE` is unset.
    pub const UTC: Timezone = Timezone(Tz::UTC);

    /// Wraps a `chrono_tz` zone.
    pub fn new(tz: Tz) -> Self {
        Timezone(tz)
    }

    /// The underlying `chrono_tz` zone, for conversions.
    pub fn tz(self) -> Tz {
        self.0
    }

    /// The IANA name, e.g. `Europe/Berlin`; this is what the `schedules` and `users` tables store.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The instant at which the wall clock of this zone reads `local`.
    ///
    /// A repeated local time (clocks going back) resolves to its earlier instant; a local time that
    /// does not exist (clocks going forward) resolves to the first instant after the gap, e.g.
    /// 02:30 on Berlin's spring-forward day becomes 03:00 CEST.
    pub fn resolve_local(self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => self.end_of_gap(local),
        }
    }

    /// Every instant at which the wall clock reads `local`: one, two in a repeated hour, or, when
    /// `local` falls in a DST gap, the first instant after the gap.
    pub fn instants_of(self, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
            LocalResult::Ambiguous(a, b) => vec![a.with_timezone(&Utc), b.with_timezone(&Utc)],
            LocalResult::None => vec![self.end_of_gap(local)],
        }
    }

    /// The first valid instant after the DST gap that contains `local`. Transitions happen on whole
    /// minutes, so stepping minute by minute from the start of `local`'s minute finds it exactly.
    fn end_of_gap(self, local: NaiveDateTime) -> DateTime<Utc> {
        let start = local
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(local);
        for step in 1..=MAX_GAP_MINUTES {
            let candidate = start + TimeDelta::minutes(step);
            if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) =
                self.0.from_local_datetime(&candidate)
            {
                return t.with_timezone(&Utc);
            }
        }
        // No zone has a gap this long; reading the wall clock as UTC keeps the answer sane.
        Utc.from_utc_datetime(&local)
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Timezone {
    type Err = TimezoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_timezone(s)
    }
}

/// Parses an IANA timezone name, ignoring case and accepting spaces for underscores
/// (`europe/berlin`, `America/New York`, `utc`). An unknown name yields
/// [`TimezoneError::Unknown`] with the nearest valid name when there is a likely one.
pub fn parse_timezone(s: &str) -> Result<Timezone, TimezoneError> {
    let input = s.trim();
    if input.is_empty() {
        return Err(TimezoneError::Empty);
    }
    let wanted = normalise(input);
    if let Some(tz) = TZ_VARIANTS.iter().find(|tz| normalise(tz.name()) == wanted) {
        return Ok(Timezone(*tz));
    }
    Err(TimezoneError::Unknown {
        input: input.to_string(),
        suggestion: suggest(&wanted),
    })
}

/// Lower case, spaces as underscores: the form names are compared in.
fn normalise(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
        .to_ascii_lowercase()
}

/// The city part of a zone name: `America/Argentina/Buenos_Aires` → `buenos_aires`.
fn city(normalised: &str) -> &str {
    normalised.rsplit('/').next().unwrap_or(normalised)
}

/// Only `Area/City` names are suggested, so a near miss never points at a legacy alias such as
/// `US/Eastern` or `Cuba`.
fn is_area_city(name: &str) -> bool {
    name.contains('/') && !name.starts_with("Etc/") && !name.starts_with("US/")
}

/// The nearest `Area/City` name by edit distance, on the whole name or on the city alone; a
/// distance of at most a third of the input's length (and at most 3) counts as a near miss.
fn suggest(wanted: &str) -> Option<&'static str> {
    let wanted_city = city(wanted);
    let limit = (wanted.len() / 3).clamp(1, 3);
    TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|name| is_area_city(name))
        .map(|name| {
            let full = normalise(name);
            let by_name = edit_distance(wanted, &full);
            let by_city = edit_distance(wanted_city, city(&full));
            (by_name.min(by_city), name)
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance between two ASCII-ish strings, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.and_hms_opt(h, min, 0))
            .expect("test date is valid")
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.from_utc_datetime(&local(y, m, d, h, min))
    }

    #[test]
    fn lowercase_iana_name_is_accepted_and_displays_canonically() {
        let tz = parse_timezone("europe/berlin").expect("valid zone");
        assert_eq!(tz.to_string(), "Europe/Berlin");
        assert_eq!(tz.tz(), chrono_tz::Europe::Berlin);
    }

    #[test]
    fn utc_and_spaces_for_underscores_are_accepted() {
        assert_eq!(parse_timezone(" utc ").expect("valid"), Timezone::UTC);
        let tz = parse_timezone("America/New York").expect("valid");
        assert_eq!(tz.name(), "America/New_York");
    }

    #[test]
    fn typo_in_city_suggests_the_real_zone() {
        let err = parse_timezone("Europe/Berlim").expect_err("typo");
        assert_eq!(
            err.to_string(),
            "unknown timezone 'Europe/Berlim' — did you mean Europe/Berlin? \
             Use an IANA name like Europe/Berlin or America/New_York."
        );
        let err = parse_timezone("Berlim").expect_err("typo");
        assert!(matches!(
            err,
            TimezoneError::Unknown {
                suggestion: Some("Europe/Berlin"),
                ..
            }
        ));
    }

    #[test]
    fn bare_city_name_suggests_its_area() {
        for input in ["New York", "new_york"] {
            let err = parse_timezone(input).expect_err("not a full IANA name");
            assert!(
                matches!(
                    err,
                    TimezoneError::Unknown {
                        suggestion: Some("America/New_York"),
                        ..
                    }
                ),
                "{input}: {err:?}"
            );
        }
    }

    #[test]
    fn nonsense_gets_no_suggestion_but_an_example() {
        let err = parse_timezone("Mars/Olympus_Mons_Base").expect_err("unknown");
        assert!(matches!(
            err,
            TimezoneError::Unknown {
                suggestion: None,
                ..
            }
        ));
        assert!(err.to_string().contains("Europe/Berlin"));
        assert_eq!(parse_timezone("  "), Err(TimezoneError::Empty));
    }

    #[test]
    fn nonexistent_local_time_resolves_to_end_of_gap() {
        let berlin = Timezone::new(chrono_tz::Europe::Berlin);
        // 2026-03-29 02:30 does not exist in Berlin; 03:00 CEST is 01:00 UTC.
        assert_eq!(
            berlin.resolve_local(local(2026, 3, 29, 2, 30)),
            utc(2026, 3, 29, 1, 0)
        );
    }

    #[test]
    fn repeated_local_time_resolves_to_its_earlier_instant() {
        let berlin = Timezone::new(chrono_tz::Europe::Berlin);
        // 2026-10-25 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
        let at = local(2026, 10, 25, 2, 30);
        assert_eq!(berlin.resolve_local(at), utc(2026, 10, 25, 0, 30));
        assert_eq!(
            berlin.instants_of(at),
            vec![utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)]
        );
    }
}
