-- Gmail: pending OAuth consents started from chat (/authgmail) and the emails already summarised.
-- Timestamps are Unix seconds (UTC).

-- One row per consent link handed out; single use (deleted when redeemed), expires after 15 min.
CREATE TABLE gmail_pending_auth (
    -- SHA-256 (hex) of the OAuth `state`; the state itself is only in the consent link
    state_hash    TEXT    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- PKCE code verifier, sealed with the token key (nonce || ciphertext)
    verifier      BLOB    NOT NULL,
    redirect_uri  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX gmail_pending_auth_expiry ON gmail_pending_auth(expires_at);

CREATE TABLE processed_emails (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- Gmail message id
    message_id    TEXT    NOT NULL,
    processed_at  INTEGER NOT NULL,
    UNIQUE (user_id, message_id)
);
