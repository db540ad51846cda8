//! The `groups` table: group chats the bot was added to, whether the owner approved them, and
//! the account row in `users` that keys a group's conversation, usage and budget. The account
//! is stored `disabled` so no private path ever serves it as a person; the group path builds an
//! acting user from it (see `dispatch::group`).

use std::fmt;
use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::{Store, StoreError, now_unix};
use super::{User, UserStatus};
use crate::ids::{ChatId, UserId};

/// Where a group stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    /// Added by someone other than the owner; waits for the owner's decision.
    Pending,
    /// Approved (or added by the owner): the bot answers messages addressed to it.
    Active,
    /// The owner said no (or `GROUPS=off`): the bot leaves and does not come back unasked.
    Disabled,
    /// The bot was removed from the group.
    Left,
}

impl GroupState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::Left => "left",
        }
    }
}

impl fmt::Display for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GroupState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Self::Pending),
            "active" => Ok(Self::Active),
            "disabled" => Ok(Self::Disabled),
            "left" => Ok(Self::Left),
            other => Err(format!("unknown group state '{other}'")),
        }
    }
}

/// A group chat as stored in `groups`.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Row id.
    pub id: i64,
    /// Telegram chat id (negative).
    pub chat_id: ChatId,
    /// The group's title when last seen.
    pub title: String,
    /// Pending, active, disabled or left.
    pub state: GroupState,
    /// Whether the bot is still a member.
    pub member: bool,
    /// Private chat of whoever added the bot (the same number as their Telegram user id).
    pub added_by: Option<ChatId>,
    /// Their name.
    pub added_by_name: Option<String>,
    /// Private chat of the owner who approved it (the same number as their Telegram user id).
    pub approved_by: Option<ChatId>,
    /// `users.id` of the account that keys the group's history, usage and budget.
    pub account_id: UserId,
}

/// Who added the bot to a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedBy {
    /// Their private chat (the same number as their Telegram user id).
    pub chat_id: ChatId,
    /// Display name.
    pub name: String,
    /// Whether that is the owner.
    pub is_owner: bool,
}

/// A group with its usage, for `/groups`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupUsage {
    /// The group.
    pub group: Group,
    /// Model tokens it spent since the time asked for.
    pub tokens: u64,
    /// Messages of its conversation since then (its members' and the bot's).
    pub turns: u64,
}

const COLUMNS: &str =
    "id, chat_id, title, state, member, added_by, added_by_name, approved_by, account_id";

fn group_from_row(row: &Row<'_>) -> rusqlite::Result<Group> {
    let state: String = row.get(3)?;
    Ok(Group {
        id: row.get(0)?,
        chat_id: row.get(1)?,
        title: row.get(2)?,
        state: state.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into())
        })?,
        member: row.get(4)?,
        added_by: row.get(5)?,
        added_by_name: row.get(6)?,
        approved_by: row.get(7)?,
        account_id: row.get(8)?,
    })
}

pub(super) fn group_by_chat(
    c: &rusqlite::Connection,
    chat_id: ChatId,
) -> rusqlite::Result<Option<Group>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM groups WHERE chat_id = ?1"),
        [chat_id],
        group_from_row,
    )
    .optional()
}

/// The group's account row: created, or an older row of the same chat (from before groups were
/// told apart from users) taken over and switched off as a person.
fn ensure_account(
    tx: &Transaction<'_>,
    chat_id: ChatId,
    title: &str,
    timezone: &str,
) -> rusqlite::Result<i64> {
    let now = now_unix();
    tx.execute(
        "INSERT INTO users (chat_id, display_name, status, timezone, created_at, updated_at)
         VALUES (?1, ?2, 'disabled', ?3, ?4, ?4)
         ON CONFLICT(chat_id) DO UPDATE SET status = 'disabled', display_name = ?2, updated_at = ?4",
        params![chat_id, title, timezone, now],
    )?;
    tx.query_row("SELECT id FROM users WHERE chat_id = ?1", [chat_id], |r| {
        r.get(0)
    })
}

/// Chat ids of disabled groups the bot is still in.
pub(super) fn groups_to_leave(c: &Connection) -> rusqlite::Result<Vec<ChatId>> {
    let mut stmt = c.prepare_cached(
        "SELECT chat_id FROM groups WHERE state = 'disabled' AND member = 1 ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

impl Store {
    /// Records that the bot was added to a group and returns it. A new group, or one the bot
    /// had left, becomes active when the owner added the bot and pending otherwise; a group the
    /// owner disabled stays disabled unless the owner adds the bot again (the bot then leaves).
    pub async fn group_joined(
        &self,
        chat_id: ChatId,
        title: &str,
        added_by: Option<AddedBy>,
        timezone: &str,
    ) -> Result<Group, StoreError> {
        let (title, timezone) = (title.to_string(), timezone.to_string());
        self.call(move |c| {
            let tx = c.transaction()?;
            let now = now_unix();
            let by_owner = added_by.as_ref().is_some_and(|a| a.is_owner);
            let before = group_by_chat(&tx, chat_id)?;
            let state = match before.as_ref().map(|g| g.state) {
                _ if by_owner => GroupState::Active,
                Some(GroupState::Active) => GroupState::Active,
                Some(GroupState::Disabled) => GroupState::Disabled,
                Some(GroupState::Pending | GroupState::Left) | None => GroupState::Pending,
            };
            let approved_by = added_by.as_ref().filter(|a| a.is_owner).map(|a| a.chat_id);
            let account = ensure_account(&tx, chat_id, &title, &timezone)?;
            tx.execute(
                "INSERT INTO groups (chat_id, title, state, member, added_by, added_by_name,
                     approved_by, account_id, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?8)
                 ON CONFLICT(chat_id) DO UPDATE SET title = ?2, state = ?3, member = 1,
                     added_by = COALESCE(?4, added_by), added_by_name = COALESCE(?5, added_by_name),
                     approved_by = COALESCE(?6, approved_by), updated_at = ?8",
                params![
                    chat_id,
                    title,
                    state.as_str(),
                    added_by.as_ref().map(|a| a.chat_id),
                    added_by.as_ref().map(|a| a.name.clone()),
                    approved_by,
                    account,
                    now
                ],
            )?;
            let group = group_by_chat(&tx, chat_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            tx.commit()?;
            Ok(group)
        })
        .await
    }

    /// Records that the bot is no longer in a group (removed, or it left): a disabled group
    /// stays disabled, any other becomes `left`.
    pub async fn group_gone(&self, chat_id: ChatId) -> Result<Option<Group>, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE groups SET member = 0, updated_at = ?2,
                     state = CASE state WHEN 'disabled' THEN 'disabled' ELSE 'left' END
                 WHERE chat_id = ?1",
                params![chat_id, now_unix()],
            )?;
            group_by_chat(c, chat_id)
        })
        .await
    }

    /// The group of a chat, if the bot knows it.
    pub async fn group_by_chat(&self, chat_id: ChatId) -> Result<Option<Group>, StoreError> {
        self.call(move |c| group_by_chat(c, chat_id)).await
    }

    /// A group with the acting user its turns run as: the account row, shown as active while
    /// the group is (it is never stored so: no private path may serve it).
    pub async fn group_with_account(
        &self,
        chat_id: ChatId,
    ) -> Result<Option<(Group, User)>, StoreError> {
        let Some(group) = self.group_by_chat(chat_id).await? else {
            return Ok(None);
        };
        let Some(mut account) = self.user_by_id(group.account_id).await? else {
            return Ok(None);
        };
        account.status = if group.state == GroupState::Active {
            UserStatus::Active
        } else {
            UserStatus::Disabled
        };
        account.display_name.clone_from(&group.title);
        Ok(Some((group, account)))
    }

    /// Sets a group's state (`approved_by` is recorded when given); `None` if the chat is not
    /// a known group.
    pub async fn set_group_state(
        &self,
        chat_id: ChatId,
        state: GroupState,
        approved_by: Option<ChatId>,
    ) -> Result<Option<Group>, StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE groups SET state = ?2, approved_by = COALESCE(?3, approved_by),
                     updated_at = ?4 WHERE chat_id = ?1",
                params![chat_id, state.as_str(), approved_by, now_unix()],
            )?;
            group_by_chat(c, chat_id)
        })
        .await
    }

    /// Chat ids of disabled groups the bot is still in: it should leave them.
    pub async fn groups_to_leave(&self) -> Result<Vec<ChatId>, StoreError> {
        self.call(|c| groups_to_leave(c)).await
    }

    /// How many groups asked for the owner's approval since `since_unix` (to bound the notices
    /// strangers can cause by adding the bot to groups).
    pub async fn groups_pending_since(&self, since_unix: i64) -> Result<u64, StoreError> {
        self.call(move |c| {
            c.query_row(
                "SELECT COUNT(*) FROM groups WHERE state = 'pending' AND updated_at >= ?1",
                [since_unix],
                |r| r.get::<_, i64>(0),
            )
        })
        .await
        .map(|n| u64::try_from(n).unwrap_or(0))
    }

    /// Every group, newest first, with the tokens and turns since `since_unix`.
    pub async fn list_groups(&self, since_unix: i64) -> Result<Vec<GroupUsage>, StoreError> {
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS},
                    (SELECT COALESCE(SUM(input_tokens + output_tokens), 0) FROM llm_usage u
                     WHERE u.user_id = groups.account_id AND u.created_at >= ?1),
                    (SELECT COUNT(*) FROM chat_history h
                     WHERE h.user_id = groups.account_id AND h.created_at >= ?1)
                 FROM groups ORDER BY id DESC"
            ))?;
            let rows = stmt.query_map([since_unix], |r| {
                Ok(GroupUsage {
                    group: group_from_row(r)?,
                    tokens: u64::try_from(r.get::<_, i64>(9)?).unwrap_or(0),
                    turns: u64::try_from(r.get::<_, i64>(10)?).unwrap_or(0),
                })
            })?;
            rows.collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stranger() -> Option<AddedBy> {
        Some(AddedBy {
            chat_id: ChatId(42),
            name: "Eve".into(),
            is_owner: false,
        })
    }

    fn owner() -> Option<AddedBy> {
        Some(AddedBy {
            chat_id: ChatId(7),
            name: "Olga".into(),
            is_owner: true,
        })
    }

    #[tokio::test]
    async fn a_group_added_by_a_stranger_waits_and_one_added_by_the_owner_is_active() {
        let store = Store::open_in_memory().unwrap();
        let g = store
            .group_joined(ChatId(-1), "Club", stranger(), "UTC")
            .await
            .unwrap();
        assert_eq!((g.state, g.approved_by), (GroupState::Pending, None));
        let g = store
            .group_joined(ChatId(-2), "Family", owner(), "UTC")
            .await
            .unwrap();
        assert_eq!(
            (g.state, g.approved_by),
            (GroupState::Active, Some(ChatId(7)))
        );
    }

    #[tokio::test]
    async fn the_account_is_never_an_active_user_and_a_disabled_group_stays_disabled() {
        let store = Store::open_in_memory().unwrap();
        store
            .group_joined(ChatId(-1), "Club", stranger(), "UTC")
            .await
            .unwrap();
        store
            .set_group_state(ChatId(-1), GroupState::Disabled, None)
            .await
            .unwrap();
        assert_eq!(store.groups_to_leave().await.unwrap(), vec![ChatId(-1)]);
        store.group_gone(ChatId(-1)).await.unwrap();
        let g = store
            .group_joined(ChatId(-1), "Club", stranger(), "UTC")
            .await
            .unwrap();
        assert_eq!(g.state, GroupState::Disabled, "a stranger cannot undo a no");
        let account = store.user_by_chat(ChatId(-1)).await.unwrap().unwrap();
        assert_eq!(account.status, UserStatus::Disabled);
        assert!(
            store
                .active_users()
                .await
                .unwrap()
                .iter()
                .all(|u| u.chat_id != ChatId(-1))
        );
    }
}
