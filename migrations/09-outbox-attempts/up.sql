-- How many processes started sending a chunk. A chunk a previous process started but never
-- marked sent (a crash between Telegram accepting it and the message_id being written) has an
-- unknown outcome: it is resent once, never more.
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
