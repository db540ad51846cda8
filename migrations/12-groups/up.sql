-- Group chats (ARCHITECTURE.md §10). A group is not a user: its row here says whether the owner
-- approved it, and its conversation, usage and budget are kept under an account row in `users`
-- (`account_id`) that is never served as a person: that row stays 'disabled', so no private
-- path (briefings, /start, /approve of a user) ever answers it, and its id keys the group's
-- chat_history, llm_usage and tool_logs rows. A supergroup migration changes `chat_id` here
-- and on the account; the rows keyed by the account id follow without moving.
CREATE TABLE groups (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL UNIQUE,
    title           TEXT    NOT NULL,
    -- pending: waits for the owner; active: answered; disabled: the owner said no (the bot
    -- leaves); left: the bot was removed from the group
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'active', 'disabled', 'left')),
    -- whether the bot is still a member (a disabled group it is still in is left)
    member          INTEGER NOT NULL DEFAULT 1 CHECK (member IN (0, 1)),
    -- Telegram user id and name of whoever added the bot
    added_by        INTEGER,
    added_by_name   TEXT,
    -- Telegram user id of the owner who approved it (NULL until approved)
    approved_by     INTEGER,
    account_id      INTEGER NOT NULL UNIQUE REFERENCES users(id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX groups_state ON groups(state, member);

-- Replies in a group answer the message they reply to, in its forum topic.
ALTER TABLE outbox ADD COLUMN reply_to_message_id INTEGER;
ALTER TABLE outbox ADD COLUMN message_thread_id INTEGER;

-- Who spoke in a group when a model call was made for it (NULL in private chats, where the
-- user is the speaker).
ALTER TABLE llm_usage ADD COLUMN speaker TEXT;
