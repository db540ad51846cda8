//! Documents reach the model as text: a PDF's text layer or a text file (UTF-8 or Latin-1),
//! quoted as untrusted content from the file, cut to [`MODEL_CHAR_BUDGET`] characters with the
//! cut said to the model and to the user, and stored in `documents` (keyed by the update, so a
//! replay stores it once; at most `pdf::MAX_CHARS` characters) for `/recall`. Anything else,
//! and anything over `MEDIA_MAX_MB`, is refused before it is downloaded.

use super::free_text::{self, UserMessage};
use crate::media::document::{DocumentKind, kind_of};
use crate::media::{DocumentFile, pdf, text_file};
use crate::message::Reply;
use crate::services::Services;
use crate::store::{NewDocument, StoreError};
use crate::untrusted::quote;
use crate::users::User;

/// Most characters of a document sent to the model (about 10,000 tokens).
pub const MODEL_CHAR_BUDGET: usize = 40_000;

/// What the user is told when a file is of a kind minicrew cannot read.
fn cannot_read(kind: &str) -> String {
    format!(
        "I can't read {kind} yet. I can read PDFs (their text) and text files: txt, md, csv, \
         json and source code."
    )
}

/// Answers a document; `forwarded_from` names who it was forwarded from.
pub async fn answer(
    services: &Services,
    user: &User,
    update_id: Option<i64>,
    doc: &DocumentFile,
    forwarded_from: Option<&str>,
) -> Result<Vec<Reply>, StoreError> {
    let say = |text: String| Ok(vec![Reply::plain(user.chat_id, text)]);
    let name = doc.name.clone().unwrap_or_else(|| "your file".to_string());
    let kind = kind_of(doc.name.as_deref(), doc.mime.as_deref());
    if let DocumentKind::Unreadable(what) = kind {
        return say(cannot_read(what));
    }
    let bytes = match services.media.download(&doc.file_id, doc.size).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::info!(error = %e, "document not downloaded");
            return say(e.user_message("file"));
        }
    };
    let (text, pages_note) = match kind {
        DocumentKind::Pdf => match pdf::extract(bytes).await {
            Ok(pdf) if pdf.pages_read < pdf.pages => {
                let note = format!(" I read {} of its {} pages.", pdf.pages_read, pdf.pages);
                (pdf.text, note)
            }
            Ok(pdf) => (pdf.text, String::new()),
            Err(e) => {
                tracing::info!(error = %e, "PDF not read");
                return say(e.user_message(&name));
            }
        },
        _ => match text_file::decode(&bytes) {
            Ok(mut text) => {
                if let Some((cut, _)) = text.char_indices().nth(pdf::MAX_CHARS) {
                    text.truncate(cut);
                }
                (text, String::new())
            }
            Err(_) => return say(cannot_read("binary files")),
        },
    };
    services
        .store
        .add_document(NewDocument {
            user_id: user.id,
            name: name.clone(),
            mime: doc.mime.clone(),
            text: text.clone(),
            origin: update_id.map(|id| format!("{id}:document")),
        })
        .await?;
    let (quoted_text, cut_note) = within_budget(&text);
    let origin = match forwarded_from {
        Some(from) => format!("the file “{name}” forwarded from {from}"),
        None => format!("the file “{name}” the user sent"),
    };
    let ask = match doc
        .caption
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(caption) => caption.to_string(),
        None => "The user sent this file without a caption: say in a sentence what it is, then \
                 summarise it, or do what it obviously calls for."
            .to_string(),
    };
    let message = format!(
        "{ask}\n\n{}{}{}",
        quote(&origin, &quoted_text),
        model_note(&cut_note),
        model_note(&pages_note)
    );
    let stored = match doc.caption.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(caption) => format!(
            "[document: {name}: {}]",
            crate::tools::shorten(caption, 200)
        ),
        None => format!("[document: {name}]"),
    };
    let input = UserMessage {
        stored,
        message,
        images: Vec::new(),
        untrusted: true,
    };
    let mut replies = free_text::answer_with(services, user, update_id, input).await?;
    let said = format!("{cut_note}{pages_note}");
    if !said.is_empty()
        && let Some(first) = replies.iter_mut().find(|r| r.chat_id == user.chat_id)
    {
        first.text.push_str(&format!("\n\n({})", said.trim()));
    }
    Ok(replies)
}

/// `text` cut to [`MODEL_CHAR_BUDGET`] characters, and the sentence saying so (empty if whole).
fn within_budget(text: &str) -> (String, String) {
    match text.char_indices().nth(MODEL_CHAR_BUDGET) {
        None => (text.to_string(), String::new()),
        Some((cut, _)) => {
            let total = text.chars().count();
            let note =
                format!(" I read only the first {MODEL_CHAR_BUDGET} of its {total} characters.");
            (text[..cut].to_string(), note)
        }
    }
}

/// A note for the model after the quote, when there is one.
fn model_note(note: &str) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!("\n(Note for your answer: the file was cut.{note} Say so.)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_document_is_cut_to_the_budget_and_the_cut_is_said() {
        let long = "é".repeat(MODEL_CHAR_BUDGET + 5);
        let (kept, note) = within_budget(&long);
        assert_eq!(kept.chars().count(), MODEL_CHAR_BUDGET);
        assert!(note.contains(&format!(
            "first {MODEL_CHAR_BUDGET} of its {}",
            MODEL_CHAR_BUDGET + 5
        )));
        assert_eq!(within_budget("short"), ("short".to_string(), String::new()));
    }
}
