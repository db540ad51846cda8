-- Calendar accounts: one per user. CalDAV rows hold the server address, the user name and the
-- app password sealed with SECRET_KEY (XChaCha20-Poly1305, bound to the user id); Google rows
-- use the Gmail OAuth token and hold no secret here. The owner's CALDAV_* account is config.
CREATE TABLE calendar_accounts (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL CHECK (provider IN ('caldav', 'google')),
    url TEXT NOT NULL DEFAULT '',
    username TEXT NOT NULL DEFAULT '',
    secret BLOB,
    created_at INTEGER NOT NULL
);
