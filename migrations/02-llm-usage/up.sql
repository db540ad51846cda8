-- Every LLM call attempt (retries and fallbacks included): who, which provider and model,
-- tokens, cost in USD from the price table, latency, and the error kind when it failed.

CREATE TABLE llm_usage (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider       TEXT    NOT NULL,
    model          TEXT    NOT NULL,
    input_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_usd       REAL    NOT NULL DEFAULT 0,
    latency_ms     INTEGER NOT NULL,
    -- ok | error
    status         TEXT    NOT NULL CHECK (status IN ('ok', 'error')),
    -- LlmError::kind(): timeout | rate_limited | overloaded | server | auth | quota | ...
    error          TEXT,
    created_at     INTEGER NOT NULL
);
CREATE INDEX llm_usage_user_time ON llm_usage(user_id, created_at);
CREATE INDEX llm_usage_time ON llm_usage(created_at);
