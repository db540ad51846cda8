-- Schedules: reminders (`/remind`, kind once, a text to send), recurring tool runs
-- (`/schedule add`, kind cron, a tool with its command arguments) and per-user system jobs (the
-- morning briefing). Timestamps are Unix seconds (UTC); `timezone` is an IANA name.

CREATE TABLE schedules (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- cron | once
    kind             TEXT    NOT NULL CHECK (kind IN ('cron', 'once')),
    -- five-field cron expression, or the RFC 3339 instant of a one-off run
    expression       TEXT    NOT NULL,
    timezone         TEXT    NOT NULL,
    -- what to run: a tool (function name + the text after its /command) or a text to send
    tool             TEXT,
    arguments        TEXT,
    message          TEXT,
    -- NULL for a user's own schedule; 'briefing' for the morning briefing system job
    system           TEXT,
    -- NULL once a schedule is finished (a one-off that ran)
    next_run_at      INTEGER,
    last_run_at      INTEGER,
    active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    -- outcome of the last run: the Telegram message_id it delivered, or why it failed
    last_message_id  INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    CHECK ((tool IS NULL) != (message IS NULL))
);
CREATE INDEX schedules_due ON schedules(active, next_run_at);
CREATE INDEX schedules_user ON schedules(user_id, id);
CREATE UNIQUE INDEX schedules_system_job ON schedules(user_id, system) WHERE system IS NOT NULL;
