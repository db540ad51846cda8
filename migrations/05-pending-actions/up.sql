-- Tool calls the model asked for that wait for the user's Confirm button (a write after untrusted
-- content entered the turn, or any action outside the bot). Single use, bound to one user,
-- expiring. Timestamps are Unix seconds (UTC).
CREATE TABLE pending_actions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_id      INTEGER NOT NULL,
    tool         TEXT    NOT NULL,
    -- the call's arguments as JSON
    arguments    TEXT    NOT NULL,
    -- what the confirm message said would happen
    preview      TEXT    NOT NULL,
    -- random word carried by the buttons, so a typed guess of an id cannot press them
    nonce        TEXT    NOT NULL,
    -- pending | confirmed | cancelled
    state        TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'confirmed', 'cancelled')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    decided_at   INTEGER
);
CREATE INDEX pending_actions_user ON pending_actions(user_id, state);
