//! Property tests of the `/remind` time parser: no input panics, and an accepted time is after
//! `now`, at most about ten years ahead, with the rest of the input returned as its tail.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;

/// Zones with unusual offsets and DST rules: 30- and 45-minute offsets, a skipped day, ±14 h.
fn timezone() -> impl Strategy<Value = Timezone> {
    prop::sample::select(vec![
        Tz::UTC,
        Tz::Europe__Berlin,
        Tz::America__New_York,
        Tz::Pacific__Apia,
        Tz::Pacific__Kiritimati,
        Tz::Pacific__Pago_Pago,
        Tz::Asia__Kathmandu,
        Tz::Australia__Lord_Howe,
        Tz::America__St_Johns,
    ])
    .prop_map(Timezone::new)
}

/// Any instant from 1970 to 2200.
fn now() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..7_258_118_400).prop_map(|secs| DateTime::from_timestamp(secs, 0).unwrap_or_default())
}

/// Text shaped like each accepted form, with numbers far out of range, plus any text at all.
fn when_text() -> impl Strategy<Value = String> {
    let digits = "[0-9]{0,12}";
    prop_oneof![
        // Durations: runs of digits and unit letters, valid or not.
        prop::collection::vec((digits, "[smhdwSMHDWx]"), 1..5)
            .prop_map(|parts| parts.into_iter().map(|(n, u)| n + &u).collect::<String>()),
        // Clock times.
        "[0-9]{1,3}:[0-9]{0,3}",
        // Dates, with signed and huge years.
        "[+-]?[0-9]{1,7}-[0-9]{1,3}-[0-9]{1,3} [0-9]{1,2}:[0-9]{2}",
        // A day word and a clock.
        "(today|tomorrow|TODAY|Tomorrow) ?[0-9]{0,3}:?[0-9]{0,3}",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn any_when_is_read_without_panic_and_an_accepted_time_is_ahead(
        when in when_text(),
        tail in "[ \t]{0,2}[a-z ]{0,8}",
        tz in timezone(),
        now in now(),
    ) {
        let input = format!("{when}{tail}");
        match parse_when(&input, tz, now) {
            Ok((at, rest)) => {
                prop_assert!(at > now, "{input:?} gave {at}, not after {now}");
                prop_assert!(
                    at - now <= MAX_AHEAD + TimeDelta::days(2),
                    "{input:?} gave {at}, too far after {now}"
                );
                prop_assert!(input.ends_with(rest), "{rest:?} is not the tail of {input:?}");
                prop_assert_eq!(rest, rest.trim_start());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn dates_at_the_ends_of_the_calendar_are_refused_without_panic() {
    let now = Utc::now();
    for input in [
        "262143-12-31 23:59 x",
        "262144-01-01 00:00 x",
        "0000-01-01 00:00 x",
        "0-1-1 0:00 x",
        "99999999999999999999-01-01 00:00 x",
    ] {
        for tz in [Tz::Pacific__Kiritimati, Tz::Pacific__Pago_Pago, Tz::UTC] {
            let result = parse_when(input, Timezone::new(tz), now);
            assert!(result.is_err(), "{input} in {tz}: {result:?}");
        }
    }
}
