//! `/email` arguments → Gmail search query: a range (`today`, `Nd`), `force`, and free Gmail
//! search terms, in any order.

/// Longest range accepted, in days; larger values are capped.
pub const MAX_DAYS: u32 = 365;

/// Parsed `/email [today|Nd] [force] [search terms]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailArgs {
    /// How many days back to look (`today` = 1).
    pub days: u32,
    /// Include unread-or-not and already summarised messages.
    pub force: bool,
    /// Free Gmail search terms, e.g. `from:bank`.
    pub terms: Vec<String>,
}

impl Default for EmailArgs {
    fn default() -> Self {
        Self {
            days: 1,
            force: false,
            terms: Vec::new(),
        }
    }
}

/// Parses the arguments of `/email` (or the tool's argument string); never fails: words that are
/// not a range or `force` are search terms.
pub fn parse_email_args(input: &str) -> EmailArgs {
    let mut args = EmailArgs::default();
    for word in input.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if lower == "today" {
            args.days = 1;
        } else if lower == "force" {
            args.force = true;
        } else if let Some(days) = parse_days(&lower) {
            args.days = days;
        } else {
            args.terms.push(word.to_string());
        }
    }
    args
}

fn parse_days(word: &str) -> Option<u32> {
    let digits = word.strip_suffix('d')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let days: u32 = digits.parse().unwrap_or(MAX_DAYS);
    Some(days.clamp(1, MAX_DAYS))
}

impl EmailArgs {
    /// The Gmail `q` parameter: `newer_than:Nd`, `is:unread` unless forced or searching, then
    /// the search terms.
    pub fn gmail_query(&self) -> String {
        let mut q = format!("newer_than:{}d", self.days);
        if !self.force && self.terms.is_empty() {
            q.push_str(" is:unread");
        }
        for term in &self.terms {
            q.push(' ');
            q.push_str(term);
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_today_mean_unread_mail_of_the_last_day() {
        assert_eq!(
            parse_email_args("").gmail_query(),
            "newer_than:1d is:unread"
        );
        assert_eq!(
            parse_email_args("today").gmail_query(),
            "newer_than:1d is:unread"
        );
    }

    #[test]
    fn force_drops_the_unread_filter_in_any_order() {
        let args = parse_email_args("force 3d");
        assert_eq!(args, parse_email_args("3d force"));
        assert!(args.force);
        assert_eq!(args.gmail_query(), "newer_than:3d");
    }

    #[test]
    fn search_terms_are_kept_and_drop_the_unread_filter() {
        let args = parse_email_args("from:bank 7d subject:\"invoice\"");
        assert_eq!(args.days, 7);
        assert!(!args.force);
        assert_eq!(
            args.gmail_query(),
            "newer_than:7d from:bank subject:\"invoice\""
        );
    }

    #[test]
    fn odd_ranges_are_bounded_or_treated_as_terms() {
        assert_eq!(parse_email_args("0d").days, 1);
        assert_eq!(parse_email_args("99999999999d").days, MAX_DAYS);
        assert_eq!(parse_email_args("d").terms, vec!["d".to_string()]);
        assert_eq!(
            parse_email_args("TODAY FORCE").gmail_query(),
            "newer_than:1d"
        );
    }
}
