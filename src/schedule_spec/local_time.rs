//! Showing instants to users: always in their own timezone, with the zone's abbreviation.

use chrono::{DateTime, Utc};

use crate::timezone::Timezone;

/// `at` on the wall clock of `tz`, e.g. `Mon 2026-05-04 09:00 CEST`.
pub fn format_local(at: DateTime<Utc>, tz: Timezone) -> String {
    at.with_timezone(&tz.tz())
        .format("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_are_shown_on_the_users_wall_clock() {
        let at = Utc.with_ymd_and_hms(2026, 5, 4, 7, 0, 0).unwrap();
        let berlin = Timezone::new(chrono_tz::Europe::Berlin);
        assert_eq!(format_local(at, berlin), "Mon 2026-05-04 09:00 CEST");
        assert_eq!(format_local(at, Timezone::UTC), "Mon 2026-05-04 07:00 UTC");
    }
}
