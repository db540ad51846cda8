//! Free time: the gaps of at least a given length between busy intervals in a range.

use chrono::{DateTime, TimeDelta, Utc};

/// Most free slots returned.
pub const MAX_SLOTS: usize = 20;

/// The free intervals of at least `length` in `[from, to)` around `busy` (any order, may
/// overlap), earliest first, at most [`MAX_SLOTS`].
pub fn free_slots(
    mut busy: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    length: TimeDelta,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    busy.sort();
    let mut free = Vec::new();
    let mut cursor = from;
    for (start, end) in busy {
        if start > cursor && start - cursor >= length {
            free.push((cursor, start.min(to)));
        }
        cursor = cursor.max(end);
        if cursor >= to {
            break;
        }
    }
    if to > cursor && to - cursor >= length {
        free.push((cursor, to));
    }
    free.retain(|(s, e)| *e - *s >= length);
    free.truncate(MAX_SLOTS);
    free
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn overlapping_busy_times_leave_only_long_enough_gaps() {
        let at = |h, m| Utc.with_ymd_and_hms(2026, 12, 24, h, m, 0).unwrap();
        let busy = vec![
            (at(13, 0), at(14, 0)),
            (at(13, 30), at(15, 0)),
            (at(15, 30), at(16, 0)),
        ];
        let free = free_slots(busy, at(12, 0), at(18, 0), TimeDelta::hours(1));
        assert_eq!(free, vec![(at(12, 0), at(13, 0)), (at(16, 0), at(18, 0))]);
    }
}
