-- The call that created a note or a schedule (an update's command or the model's n-th tool
-- call). A call replayed after a crash finds its row instead of creating a second one.
ALTER TABLE notes ADD COLUMN origin TEXT;
CREATE UNIQUE INDEX notes_origin ON notes(origin) WHERE origin IS NOT NULL;
ALTER TABLE schedules ADD COLUMN origin TEXT;
CREATE UNIQUE INDEX schedules_origin ON schedules(origin) WHERE origin IS NOT NULL;
