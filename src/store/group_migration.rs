//! A group becoming a supergroup (`migrate_to_chat_id`): the group, its account and what still
//! waits for it move to the new chat id in one transaction.

use rusqlite::params;

use super::groups::group_by_chat;
use super::{Store, StoreError, now_unix};
use crate::ids::ChatId;

impl Store {
    /// A group became a supergroup with a new chat id: its row, its account and what still
    /// waits to be sent or confirmed there move to the new id in one transaction (history and
    /// usage are keyed by the account, so they follow). A row the new chat got meanwhile (the
    /// bot saw the supergroup first), or a user row of that chat, gives way. `false` when the old chat is not a known group.
    pub async fn migrate_group(
        &self,
        old_chat: ChatId,
        new_chat: ChatId,
    ) -> Result<bool, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let Some(group) = group_by_chat(&tx, old_chat)? else {
                return Ok(false);
            };
            if let Some(newer) = group_by_chat(&tx, new_chat)? {
                tx.execute("DELETE FROM groups WHERE id = ?1", [newer.id])?;
                tx.execute("DELETE FROM users WHERE id = ?1", [newer.account_id])?;
            }
            // A row the new chat got as a "user" before groups were told apart holds nothing
            // of a person: it gives way too, or the account could not take the chat id.
            tx.execute(
                "DELETE FROM users WHERE chat_id = ?1 AND id != ?2",
                params![new_chat, group.account_id],
            )?;
            let now = now_unix();
            tx.execute(
                "UPDATE groups SET chat_id = ?2, updated_at = ?3 WHERE id = ?1",
                params![group.id, new_chat, now],
            )?;
            tx.execute(
                "UPDATE users SET chat_id = ?2, updated_at = ?3 WHERE id = ?1",
                params![group.account_id, new_chat, now],
            )?;
            tx.execute(
                "UPDATE outbox SET chat_id = ?2 WHERE chat_id = ?1 AND status = 'pending'",
                params![old_chat, new_chat],
            )?;
            tx.execute(
                "UPDATE pending_actions SET chat_id = ?2 WHERE chat_id = ?1",
                params![old_chat, new_chat],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AddedBy, GroupState};
    use super::*;

    fn by(is_owner: bool) -> Option<AddedBy> {
        Some(AddedBy {
            chat_id: ChatId(7),
            name: "Olga".into(),
            is_owner,
        })
    }

    #[tokio::test]
    async fn migration_moves_the_group_and_its_account_to_the_new_id() {
        let store = Store::open_in_memory().unwrap();
        let g = store
            .group_joined(ChatId(-5), "Club", by(true), "UTC")
            .await
            .unwrap();
        store
            .group_joined(ChatId(-1005), "Club", by(false), "UTC")
            .await
            .unwrap();
        assert!(
            store
                .migrate_group(ChatId(-5), ChatId(-1005))
                .await
                .unwrap()
        );
        let moved = store.group_by_chat(ChatId(-1005)).await.unwrap().unwrap();
        assert_eq!((moved.id, moved.state), (g.id, GroupState::Active));
        assert_eq!(store.group_by_chat(ChatId(-5)).await.unwrap(), None);
        let account = store.user_by_id(g.account_id).await.unwrap().unwrap();
        assert_eq!(account.chat_id, ChatId(-1005));
    }
}
