//! The rows of the daemon's database the checks read, read once after the run.

use std::collections::HashMap;

use rusqlite::Connection;

/// The database rows the checks read.
pub struct Db {
    /// chat_id → users.id.
    pub users: HashMap<i64, i64>,
    /// (user_id, body) → note ids.
    pub notes: HashMap<(i64, String), Vec<i64>>,
    /// (user_id, message) → reminder count.
    pub reminders: HashMap<(i64, String), usize>,
    /// (user_id, role, content) stored more than once → how many times.
    pub turns_repeated: Vec<((i64, String, String), usize)>,
    /// `llm_usage` rows: (input_tokens, status).
    pub usage: Vec<(i64, String)>,
    /// (tool, arguments) of note/remind calls logged more than once → how many times.
    pub tools_repeated: usize,
}

/// Reads every table the checks look at.
pub fn read(conn: &Connection) -> anyhow::Result<Db> {
    let pairs = |sql: &str| -> anyhow::Result<Vec<(i64, i64, String)>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let users = pairs("SELECT chat_id, id, status FROM users")?
        .into_iter()
        .map(|(chat, id, _)| (chat, id))
        .collect();
    let mut notes: HashMap<(i64, String), Vec<i64>> = HashMap::new();
    for (user, id, body) in pairs("SELECT user_id, id, body FROM notes")? {
        notes.entry((user, body)).or_default().push(id);
    }
    let mut reminders = HashMap::new();
    for (user, _, text) in
        pairs("SELECT user_id, id, message FROM schedules WHERE message IS NOT NULL")?
    {
        *reminders.entry((user, text)).or_default() += 1;
    }
    let mut stmt = conn.prepare(
        "SELECT user_id, role, content, count(*) FROM chat_history
         GROUP BY user_id, role, content HAVING count(*) > 1",
    )?;
    let turns_repeated = stmt
        .query_map([], |r| {
            Ok((
                (r.get(0)?, r.get(1)?, r.get(2)?),
                r.get::<_, i64>(3)? as usize,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare("SELECT input_tokens, status FROM llm_usage")?;
    let usage = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let tools_repeated: i64 = conn.query_row(
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM tool_logs
         WHERE tool IN ('note', 'remind') AND status = 'ok'
         GROUP BY user_id, tool, arguments HAVING n > 1)",
        [],
        |r| r.get(0),
    )?;
    Ok(Db {
        users,
        notes,
        reminders,
        turns_repeated,
        usage,
        tools_repeated: tools_repeated as usize,
    })
}
