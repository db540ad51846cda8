-- Foundation: users, conversation memory, tool logs, the durable inbox and outbox, notes and
-- small key/value settings. Timestamps are Unix seconds (UTC).

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL UNIQUE,
    display_name     TEXT    NOT NULL,
    username         TEXT,
    -- owner | active | pending | disabled
    status           TEXT    NOT NULL CHECK (status IN ('owner', 'active', 'pending', 'disabled')),
    timezone         TEXT    NOT NULL DEFAULT 'UTC',
    llm_provider     TEXT,
    -- /new: chat_history turns with id <= this leave the context window (they stay stored)
    context_since    INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE chat_history (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- user | assistant
    role         TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    content      TEXT    NOT NULL,
    tool_used    TEXT,
    llm_model    TEXT,
    token_used   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
CREATE INDEX chat_history_user_time ON chat_history(user_id, created_at);

CREATE TABLE tool_logs (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    tool         TEXT    NOT NULL,
    arguments    TEXT    NOT NULL,
    -- command | llm | schedule
    source       TEXT    NOT NULL,
    -- ok | error
    status       TEXT    NOT NULL CHECK (status IN ('ok', 'error')),
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX tool_logs_user_time ON tool_logs(user_id, created_at);

-- Every Telegram update is written here before it is acknowledged (offset advanced / HTTP 200).
CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,
    chat_id      INTEGER,
    payload      TEXT    NOT NULL,
    -- pending | done | skipped | failed
    status       TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'done', 'skipped', 'failed')),
    error        TEXT,
    received_at  INTEGER NOT NULL,
    handled_at   INTEGER
);
CREATE INDEX inbox_pending ON inbox(status, update_id);

-- Every outgoing Telegram message (one row per chunk), written before it is sent. A row that
-- carries a message_id was delivered; after a crash only the rows without one are sent again.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    update_id    INTEGER REFERENCES inbox(update_id) ON DELETE SET NULL,
    chat_id      INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    text         TEXT    NOT NULL,
    -- plain | html
    format       TEXT    NOT NULL CHECK (format IN ('plain', 'html')),
    buttons      TEXT,
    -- pending | sent | failed
    status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    message_id   INTEGER,
    error        TEXT,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER
);
CREATE INDEX outbox_update ON outbox(update_id, seq);
CREATE INDEX outbox_pending ON outbox(status, id);

CREATE TABLE notes (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX notes_user ON notes(user_id, id);

-- Small durable facts of the process itself, e.g. the hash of the last command menu sent.
CREATE TABLE settings (
    key          TEXT PRIMARY KEY,
    value        TEXT NOT NULL
);
