//! Calendar checks: every calendar the bot would use (a user's connected CalDAV account, the
//! owner's `CALDAV_*` account, Google Calendar for a Gmail consent that includes the calendar)
//! is opened as the bot opens it (CalDAV discovery) and asked for the next day's events.

use chrono::{TimeDelta, Utc};

use super::check::Check;
use crate::calendar::error::CONNECT_USAGE;
use crate::calendar::google::has_calendar_scope;
use crate::calendar::{CalendarAccounts, CalendarError};
use crate::config::Config;
use crate::gmail::{SecretKey, TokenStore};
use crate::ids::UserId;
use crate::store::Store;
use crate::users::{User, UserStatus};

/// The longest one calendar's check may take (discovery and the day's list), inside doctor's
/// network limit so that the line names the calendar and its fix.
const CALENDAR_LIMIT: std::time::Duration = std::time::Duration::from_secs(12);

/// Where a user's calendar comes from, for the fix.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A `/calendar connect caldav …` account.
    Connected,
    /// The owner's `CALDAV_*` keys.
    Env,
    /// Google Calendar through the Gmail consent.
    Google,
}

/// One check per calendar in use; nothing when there is none.
pub async fn check(config: &Config, store: &Store) -> Vec<Check> {
    let mut users = match store.list_users().await {
        Ok(users) => users,
        Err(e) => {
            return vec![Check::fail(
                "calendars",
                e.to_string(),
                "see the database check",
            )];
        }
    };
    if config.calendar.owner_caldav.is_some() && !users.iter().any(User::is_owner) {
        users.push(owner_before_first_start(config));
    }
    if !any_calendar(config, store, &users).await {
        return Vec::new();
    }
    let key = match SecretKey::load_or_create(config.secret_key.as_ref(), &config.data_dir) {
        Ok(key) => key,
        Err(e) => {
            return vec![Check::fail(
                "calendars",
                e.to_string(),
                "set SECRET_KEY to the key the bot used (or restore DATA_DIR/secret.key)",
            )];
        }
    };
    let tokens = TokenStore::new(&config.gmail.credentials_dir, key.clone());
    let mut found = Vec::new();
    for user in users.into_iter().filter(User::is_active) {
        if let Some(source) = source_of(config, store, &tokens, &user).await {
            found.push((user, source));
        }
    }
    let accounts = match CalendarAccounts::new(config, store.clone(), key) {
        Ok(accounts) => accounts,
        Err(e) => return vec![Check::fail("calendars", e.to_string(), "run doctor again")],
    };
    let checks = found.iter().map(|(user, source)| {
        let accounts = &accounts;
        async move { check_one(config, accounts, user, *source).await }
    });
    futures::future::join_all(checks).await
}

/// Whether any calendar may be in use, known without the secret key (which doctor would
/// otherwise create on a fresh setup): the owner's `CALDAV_*`, a connected account, or a token
/// file that may hold a calendar consent.
async fn any_calendar(config: &Config, store: &Store, users: &[User]) -> bool {
    if config.calendar.owner_caldav.is_some() {
        return true;
    }
    for user in users {
        if matches!(store.calendar_account(user.id).await, Ok(Some(_))) {
            return true;
        }
    }
    std::fs::read_dir(&config.gmail.credentials_dir).is_ok_and(|mut entries| {
        entries.any(|e| e.is_ok_and(|e| super::files::is_token_file(&e.path())))
    })
}

/// Which calendar the bot would open for `user`, if any.
async fn source_of(
    config: &Config,
    store: &Store,
    tokens: &TokenStore,
    user: &User,
) -> Option<Source> {
    if matches!(store.calendar_account(user.id).await, Ok(Some(_))) {
        return Some(Source::Connected);
    }
    if user.is_owner() && config.calendar.owner_caldav.is_some() {
        return Some(Source::Env);
    }
    match tokens.load(user.id).await {
        Ok(Some(token)) if has_calendar_scope(&token) => Some(Source::Google),
        _ => None,
    }
}

/// The owner as the app will create them, for a database the bot never started on.
fn owner_before_first_start(config: &Config) -> User {
    User {
        id: UserId(0),
        chat_id: config.owner_chat_id,
        display_name: config.owner_display_name.clone(),
        username: None,
        status: UserStatus::Owner,
        timezone: config.timezone,
        llm_provider: None,
        context_since: 0,
    }
}

async fn check_one(
    config: &Config,
    accounts: &CalendarAccounts,
    user: &User,
    source: Source,
) -> Check {
    let kind = match source {
        Source::Connected => "CalDAV",
        Source::Env => "CalDAV from CALDAV_URL",
        Source::Google => "Google",
    };
    let name = format!("calendar {} ({kind})", user.display_name);
    let now = Utc::now();
    let listed = async {
        let link = accounts.calendar_for(user).await?;
        let events = link.calendar.events(now, now + TimeDelta::days(1)).await?;
        Ok::<_, CalendarError>((link.calendar.label().to_string(), events.len()))
    };
    let limit = CALENDAR_LIMIT.as_secs();
    let listed = tokio::time::timeout(CALENDAR_LIMIT, listed)
        .await
        .unwrap_or_else(|_| {
            Err(CalendarError::Unreachable(format!(
                "no answer within {limit} s"
            )))
        });
    match listed {
        Ok((label, count)) => Check::ok(
            name,
            format!("\"{label}\" answered ({count} event(s) in the next 24 h)"),
        ),
        Err(e) => Check::fail(name, summary(&e), fix(config, user, source, &e)),
    }
}

/// The error in a doctor's words (the user-facing messages talk to the user).
fn summary(err: &CalendarError) -> String {
    match err {
        CalendarError::WrongPassword => "the server refused the username or password".into(),
        CalendarError::Reconnect => "Google needs a new consent that includes the calendar".into(),
        CalendarError::Decrypt => {
            "the stored password cannot be decrypted (the key changed)".into()
        }
        other => other.to_string(),
    }
}

/// What to do about `err` for a calendar from `source`.
fn fix(config: &Config, user: &User, source: Source, err: &CalendarError) -> String {
    let connect_again = format!(
        "{} sends {CONNECT_USAGE} again (or /calendar disconnect)",
        user.display_name
    );
    match (source, err) {
        (Source::Google, CalendarError::Reconnect | CalendarError::WrongPassword) => format!(
            "{} sends /authgmail (or run minicrew --auth-gmail --user {}) and allows calendar access",
            user.display_name, user.chat_id
        ),
        (Source::Google, _) => format!(
            "check that this machine reaches GOOGLE_CALENDAR_API_URL ({})",
            config.calendar.google_api_url
        ),
        (Source::Env, CalendarError::WrongPassword) => format!(
            "set CALDAV_USERNAME and CALDAV_PASSWORD (an app password), or send {CONNECT_USAGE}"
        ),
        (Source::Env, CalendarError::Store(_)) => "see the database check".into(),
        (Source::Env, _) => {
            let url = config
                .calendar
                .owner_caldav
                .as_ref()
                .map(|c| c.url.as_str());
            format!(
                "check that CALDAV_URL ({}) is right and answers from this machine",
                url.unwrap_or_default()
            )
        }
        (Source::Connected, CalendarError::Unreachable(_) | CalendarError::BadResponse(_)) => {
            format!("check that the server is up; if its address changed, {connect_again}")
        }
        (Source::Connected, CalendarError::Store(_)) => "see the database check".into(),
        (Source::Connected, _) => connect_again,
    }
}
