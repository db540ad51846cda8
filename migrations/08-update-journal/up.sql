-- The steps of an update's work that have completed (the user's turn stored, each LLM round's
-- answer, each tool call's result, the transcript of a voice message), so that an update
-- replayed after a crash resumes where it stopped instead of running tools or asking the model
-- again. Values are JSON. Rows go with the cleanup a week later.
CREATE TABLE update_journal (
    update_id   INTEGER NOT NULL,
    step        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (update_id, step)
) WITHOUT ROWID;
CREATE INDEX update_journal_time ON update_journal(created_at);
