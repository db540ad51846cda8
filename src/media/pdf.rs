//! The text layer of a PDF, with lopdf. PDFs are hostile input: parsing runs on a blocking
//! thread (never on the async workers) inside `catch_unwind`, under a time limit, with every
//! stream's decompressed size, the pages read and the characters kept bounded. An encrypted,
//! corrupt or scanned (image-only) PDF is an error with its own reply, never a panic.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use lopdf::{Document, LoadOptions};

/// Most pages read; the rest are left out (and the reply says so).
pub const MAX_PAGES: usize = 300;
/// Most characters of text kept from one PDF.
pub const MAX_CHARS: usize = 1_000_000;
/// Most bytes one stream (or one page's content) may decompress to: a small file cannot
/// inflate into gigabytes.
const MAX_DECOMPRESSED: usize = 32 * 1024 * 1024;
/// Longest a PDF may take to read.
pub const TIME_LIMIT: Duration = Duration::from_secs(20);

/// Why a PDF gave no text. Each variant has a reply for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// It is encrypted with a password.
    #[error("the PDF is encrypted")]
    Encrypted,
    /// It is not a PDF, or too damaged to read (the parser's reason).
    #[error("the PDF cannot be read: {0}")]
    Corrupt(String),
    /// It has pages but no text layer (a scan).
    #[error("the PDF has no text layer")]
    NoText,
    /// Reading it took longer than [`TIME_LIMIT`].
    #[error("reading the PDF took too long")]
    TimedOut,
    /// The parser panicked on it (a bug in the parser, caught here).
    #[error("the PDF parser failed on this file")]
    ParserFailed,
}

impl PdfError {
    /// One short reply for the user about the file `name`.
    pub fn user_message(&self, name: &str) -> String {
        match self {
            Self::Encrypted => format!(
                "“{name}” is an encrypted (password-protected) PDF, so I can't read it. Please \
                 send a copy without the password."
            ),
            Self::Corrupt(_) | Self::ParserFailed => format!(
                "I couldn't read “{name}”: it looks damaged or isn't a valid PDF. If it opens on \
                 your side, try saving or printing it to a new PDF and send that."
            ),
            Self::NoText => format!(
                "“{name}” has no text layer (it looks like a scan), so there is nothing for me \
                 to read. Send the pages as photos instead and I can look at them."
            ),
            Self::TimedOut => format!(
                "Reading “{name}” took too long, so I stopped. Please send a smaller PDF or the \
                 part you need."
            ),
        }
    }
}

/// The text of a PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfText {
    /// The text of the pages read, page by page.
    pub text: String,
    /// Pages in the document.
    pub pages: usize,
    /// Pages whose text was read (fewer when a limit was reached).
    pub pages_read: usize,
}

/// Extracts the text of `bytes` off the async workers, within [`TIME_LIMIT`].
pub async fn extract(bytes: Vec<u8>) -> Result<PdfText, PdfError> {
    let work = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(AssertUnwindSafe(|| extract_blocking(&bytes)))
    });
    match tokio::time::timeout(TIME_LIMIT, work).await {
        // The blocking thread cannot be stopped; it ends on its own, bounded by the caps.
        Err(_elapsed) => Err(PdfError::TimedOut),
        Ok(Err(_)) | Ok(Ok(Err(_))) => {
            tracing::warn!("the PDF parser panicked; the file is reported as unreadable");
            Err(PdfError::ParserFailed)
        }
        Ok(Ok(Ok(result))) => result,
    }
}

/// The blocking part of [`extract`] (public for benchmarks and tests of hostile files).
pub fn extract_blocking(bytes: &[u8]) -> Result<PdfText, PdfError> {
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(PdfError::Corrupt("no PDF header".into()));
    }
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_DECOMPRESSED),
        ..LoadOptions::default()
    };
    let declares_encryption = declares_encryption(bytes);
    let doc = Document::load_mem_with_options(bytes, options).map_err(|e| match e {
        lopdf::Error::Decryption(_) => PdfError::Encrypted,
        _ if declares_encryption => PdfError::Encrypted,
        e => PdfError::Corrupt(e.to_string()),
    })?;
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let mut text = String::new();
    let mut pages_read = 0;
    for page in pages.iter().take(MAX_PAGES) {
        if text.len() >= MAX_CHARS {
            break;
        }
        pages_read += 1;
        match doc.extract_text_with_limit(&[*page], MAX_DECOMPRESSED) {
            Ok(page_text) => text.push_str(&page_text),
            Err(e) => tracing::debug!(page, error = %e, "a PDF page has no readable text"),
        }
    }
    if let Some((cut, _)) = text.char_indices().nth(MAX_CHARS) {
        text.truncate(cut);
    }
    if text.trim().is_empty() {
        return Err(if doc.was_encrypted() || declares_encryption {
            PdfError::Encrypted
        } else if pages.is_empty() {
            PdfError::Corrupt("no pages".into())
        } else {
            PdfError::NoText
        });
    }
    Ok(PdfText {
        text,
        pages: pages.len(),
        pages_read,
    })
}

/// Whether the file names an `/Encrypt` dictionary (in its trailer or cross-reference stream).
fn declares_encryption(bytes: &[u8]) -> bool {
    bytes.windows(8).any(|w| w == b"/Encrypt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_a_truncated_pdf_are_corrupt_not_a_panic() {
        assert!(matches!(
            extract_blocking(b"hello"),
            Err(PdfError::Corrupt(_))
        ));
        let cut = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R";
        assert!(matches!(extract_blocking(cut), Err(PdfError::Corrupt(_))));
    }
}
