//! The one documented window for a duplicate reply: a send whose outcome the daemon could not
//! know (a timeout, a reset, a kill between Telegram's answer and the outbox write) is sent once
//! more, and the daemon logs it with the words "outcome unknown". A repeated reply counts as
//! inside that window only when such a line names its outbox row (`outbox_id`) or, for a line
//! without one, its chat (`chat_id`); each line excuses one extra copy.

use std::path::PathBuf;

/// The phrase that marks the window in the daemon's log (compared case-insensitively).
pub const PHRASE: &str = "outcome unknown";

/// One log line that puts a resend in the window.
#[derive(Debug, Clone)]
pub struct WindowLine {
    /// The outbox row it names, if any.
    pub outbox_id: Option<i64>,
    /// The chat it names, if any.
    pub chat_id: Option<i64>,
}

/// Every window line in the daemons' logs (JSON or logfmt).
pub fn read(logs: &[PathBuf]) -> Vec<WindowLine> {
    let mut lines = Vec::new();
    for path in logs {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for line in text.lines() {
            if line.to_ascii_lowercase().contains(PHRASE) {
                lines.push(WindowLine {
                    outbox_id: field(line, "outbox_id"),
                    chat_id: field(line, "chat_id"),
                });
            }
        }
    }
    lines
}

/// The integer after `"name":` (JSON) or `name=` (logfmt) in `line`.
fn field(line: &str, name: &str) -> Option<i64> {
    [format!("\"{name}\":"), format!("{name}=")]
        .iter()
        .find_map(|key| {
            let rest = &line[line.find(key.as_str())? + key.len()..];
            let rest = rest.trim_start_matches('"');
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
}

/// How many of `extra` repeated copies to `chat` (of a text stored as `outbox_ids`) unused
/// window lines account for; the lines used are marked in `used`.
pub fn excuse(
    lines: &[WindowLine],
    used: &mut [bool],
    chat: i64,
    outbox_ids: &[i64],
    extra: usize,
) -> usize {
    let mut excused = 0;
    for (line, used) in lines.iter().zip(used.iter_mut()) {
        if excused == extra {
            break;
        }
        let names_it = match line.outbox_id {
            Some(id) => outbox_ids.contains(&id),
            None => line.chat_id == Some(chat),
        };
        if names_it && !*used {
            *used = true;
            excused += 1;
        }
    }
    excused
}
