-- Streamed replies in groups (ARCHITECTURE.md §3 STREAM_REPLIES): the answer is shown as one
-- message edited while the model writes, continued in new messages at the split points.
--
-- `stream_messages` records every message a stream created, by the update it answers, as soon
-- as Telegram gave its message_id: a restart that replays the update edits these messages
-- again instead of creating new ones, and the final text is stored against them.
CREATE TABLE stream_messages (
    update_id    INTEGER NOT NULL,
    -- position of the message within the answer (0: the first, which quotes the question)
    seq          INTEGER NOT NULL,
    chat_id      INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (update_id, seq)
);

-- An outbox row with `edit_message_id` is not sent as a new message: it finalises that
-- (streamed) message by editing it to the row's text. An edit is idempotent, so a crash before
-- its outcome was recorded is completed on restart by the same edit, never by a second message.
ALTER TABLE outbox ADD COLUMN edit_message_id INTEGER;
