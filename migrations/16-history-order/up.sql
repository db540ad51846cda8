-- The context window and /history read a user's last turns newest first (ORDER BY id DESC
-- LIMIT n). With only (user_id, created_at) SQLite read and sorted every turn of the user, so a
-- free text cost grew with the whole history (71 ms at 10k turns, 720 ms at 100k). Ordered by id
-- within a user, the last n turns are the first n entries of this index.
CREATE INDEX chat_history_user_id ON chat_history(user_id, id);
