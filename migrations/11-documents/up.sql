-- The text of files a user sent (PDF text layers, text files), kept for `/recall` and `/export`.
-- `origin` is the update that brought the file, so a replay after a crash stores it once.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    mime TEXT,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    origin TEXT
);
CREATE INDEX documents_user ON documents(user_id, id);
CREATE UNIQUE INDEX documents_origin ON documents(origin) WHERE origin IS NOT NULL;
