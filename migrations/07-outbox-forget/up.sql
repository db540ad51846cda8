-- Messages that carry a one-time secret (the Gmail consent link with its OAuth `state`) keep
-- their text only until Telegram accepts them; then the text is replaced, so the secret is not
-- stored in clear.
ALTER TABLE outbox ADD COLUMN forget_text INTEGER NOT NULL DEFAULT 0;
