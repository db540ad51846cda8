-- Placeholder on the gmail branch only: migration ids must be consecutive and 02 belongs to
-- another branch. The lead drops this file when merging.
CREATE TABLE IF NOT EXISTS reserved_placeholder_02 (id INTEGER PRIMARY KEY);
DROP TABLE reserved_placeholder_02;
