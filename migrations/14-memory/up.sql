-- Memory that can be searched: notes by title, a full-text index over each user's history,
-- notes and documents for /recall, and files in the outbox (an /export, later a chart).

-- When a note was last replaced by `/note save` of the same title (NULL: never).
ALTER TABLE notes ADD COLUMN updated_at INTEGER;

-- One row per history turn, note and document. The rowid says where the row came from, so the
-- triggers below find it by key (never by a scan): a chat_history turn keeps its id, a note is
-- 2^60 + its id and a document 2^61 + its id. `user_id` is never matched as text; every query
-- filters on it. `kind`: you | assistant | note | document. Two- and three-letter prefixes are
-- indexed so that `word*` searches stay fast.
CREATE VIRTUAL TABLE memory_fts USING fts5(
    text,
    user_id UNINDEXED,
    kind UNINDEXED,
    created_at UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE TRIGGER memory_fts_history_insert AFTER INSERT ON chat_history BEGIN
    INSERT INTO memory_fts (rowid, text, user_id, kind, created_at)
    VALUES (new.id, new.content, new.user_id,
            CASE new.role WHEN 'user' THEN 'you' ELSE 'assistant' END, new.created_at);
END;
CREATE TRIGGER memory_fts_history_delete AFTER DELETE ON chat_history BEGIN
    DELETE FROM memory_fts WHERE rowid = old.id;
END;
CREATE TRIGGER memory_fts_history_update AFTER UPDATE ON chat_history BEGIN
    DELETE FROM memory_fts WHERE rowid = old.id;
    INSERT INTO memory_fts (rowid, text, user_id, kind, created_at)
    VALUES (new.id, new.content, new.user_id,
            CASE new.role WHEN 'user' THEN 'you' ELSE 'assistant' END, new.created_at);
END;

CREATE TRIGGER memory_fts_note_insert AFTER INSERT ON notes BEGIN
    INSERT INTO memory_fts (rowid, text, user_id, kind, created_at)
    VALUES ((1 << 60) + new.id, new.title || char(10) || new.body, new.user_id, 'note',
            coalesce(new.updated_at, new.created_at));
END;
CREATE TRIGGER memory_fts_note_delete AFTER DELETE ON notes BEGIN
    DELETE FROM memory_fts WHERE rowid = (1 << 60) + old.id;
END;
CREATE TRIGGER memory_fts_note_update AFTER UPDATE ON notes BEGIN
    DELETE FROM memory_fts WHERE rowid = (1 << 60) + old.id;
    INSERT INTO memory_fts (rowid, text, user_id, kind, created_at)
    VALUES ((1 << 60) + new.id, new.title || char(10) || new.body, new.user_id, 'note',
            coalesce(new.updated_at, new.created_at));
END;

CREATE TRIGGER memory_fts_document_insert AFTER INSERT ON documents BEGIN
    INSERT INTO memory_fts (rowid, text, user_id, kind, created_at)
    VALUES ((1 << 61) + new.id, new.name || char(10) || new.text, new.user_id, 'document',
            new.created_at);
END;
CREATE TRIGGER memory_fts_document_delete AFTER DELETE ON documents BEGIN
    DELETE FROM memory_fts WHERE rowid = (1 << 61) + old.id;
END;
CREATE TRIGGER memory_fts_document_update AFTER UPDATE ON documents BEGIN
    DELETE FROM memory_fts WHERE rowid = (1 << 61) + old.id;
    INSERT INTO memory_fts (rowid, text, user_id, kind, created_at)
    VALUES ((1 << 61) + new.id, new.name || char(10) || new.text, new.user_id, 'document',
            new.created_at);
END;

-- What was stored before this migration.
INSERT INTO memory_fts (rowid, text, user_id, kind, created_at)
    SELECT id, content, user_id, CASE role WHEN 'user' THEN 'you' ELSE 'assistant' END, created_at
    FROM chat_history;
INSERT INTO memory_fts (rowid, text, user_id, kind, created_at)
    SELECT (1 << 60) + id, title || char(10) || body, user_id, 'note', created_at FROM notes;
INSERT INTO memory_fts (rowid, text, user_id, kind, created_at)
    SELECT (1 << 61) + id, name || char(10) || text, user_id, 'document', created_at FROM documents;

-- A reply may carry a file (an /export, a chart): its bytes are stored with the chunk before it
-- is sent, like text, and dropped once Telegram has it. `text` is then its caption.
ALTER TABLE outbox ADD COLUMN file_name TEXT;
-- document | photo
ALTER TABLE outbox ADD COLUMN file_kind TEXT CHECK (file_kind IN ('document', 'photo'));
ALTER TABLE outbox ADD COLUMN file_bytes BLOB;

-- Chats whose /forget ran while the update asking for it was still being handled: when that
-- update is finished, what is left of the chat's finished updates (inbox, journal, sent replies)
-- is deleted too, and the chat leaves this table.
CREATE TABLE forget_after_update (
    chat_id INTEGER PRIMARY KEY
);
