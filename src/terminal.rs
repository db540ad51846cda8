//! The terminal channel (`minicrew chat`): each stdin line is a message from one chat, replies go
//! to stdout, through the same dispatcher as Telegram. Works piped; EOF ends it. stdin is read on
//! a plain thread, since tokio's stdin would keep the runtime from shutting down.

use std::io::{BufRead, IsTerminal, Write};

use tokio::sync::mpsc;

use crate::dispatch::Dispatcher;
use crate::ids::ChatId;
use crate::markup::Markup;
use crate::message::{Incoming, OutgoingFile, Reply};

mod markdown;

pub use markdown::markdown_for_terminal;

/// Reads lines from stdin until EOF and answers each as a message from `chat_id`.
pub async fn run_chat(dispatcher: Dispatcher, chat_id: ChatId, name: &str) -> std::io::Result<()> {
    let interactive = std::io::stdin().is_terminal();
    let (tx, mut rx) = mpsc::channel::<String>(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    let mut out = std::io::stdout();
    prompt(interactive);
    while let Some(line) = rx.recv().await {
        if line.trim().is_empty() {
            prompt(interactive);
            continue;
        }
        let replies = dispatcher
            .handle(&Incoming::text(chat_id, name, &line))
            .await;
        out.write_all(render(chat_id, &replies).as_bytes())?;
        for reply in &replies {
            if let Some(file) = &reply.file {
                out.write_all(save_file(file).as_bytes())?;
            }
        }
        out.flush()?;
        prompt(interactive);
    }
    Ok(())
}

/// Shows replies as terminal text: Markdown stays readable Markdown, buttons are listed with their commands,
/// and messages meant for another chat are marked with it.
pub fn render(chat_id: ChatId, replies: &[Reply]) -> String {
    let mut text = String::new();
    for reply in replies {
        let body = match reply.format {
            Markup::Markdown => markdown_for_terminal(&reply.text),
            Markup::Plain => reply.text.clone(),
        };
        if reply.chat_id != chat_id {
            text.push_str(&format!("[to chat {}] ", reply.chat_id));
        }
        text.push_str(body.trim_end());
        text.push('\n');
        for button in reply.buttons.iter().flatten() {
            text.push_str(&format!("  [{}: {}]\n", button.label, button.command));
        }
        if let Some(file) = &reply.file {
            text.push_str(&format!(
                "  [{} {}, {} bytes]\n",
                file.kind.as_str(),
                file.name,
                file.bytes.len()
            ));
        }
    }
    text
}

/// Writes a file a reply carried to the temp directory (readable by this user only) and says
/// where, since a terminal cannot show an attachment.
fn save_file(file: &OutgoingFile) -> String {
    let safe: String = file
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = std::env::temp_dir().join(format!("minicrew-{}-{safe}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options
        .open(&path)
        .and_then(|mut f| f.write_all(&file.bytes));
    match written {
        Ok(()) => format!("  [saved to {}]\n", path.display()),
        Err(e) => format!("  [could not save it to {}: {e}]\n", path.display()),
    }
}

fn prompt(interactive: bool) {
    if interactive {
        eprint!("> ");
        let _ = std::io::stderr().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::FileKind;

    #[test]
    fn a_reply_with_a_file_names_it_and_its_size() {
        let mut reply = Reply::plain(ChatId(1), "Your data");
        reply.file = Some(OutgoingFile {
            name: "export.json".into(),
            kind: FileKind::Document,
            bytes: b"{}\n".to_vec(),
        });
        assert_eq!(
            render(ChatId(1), &[reply]),
            "Your data\n  [document export.json, 3 bytes]\n"
        );
    }
}
