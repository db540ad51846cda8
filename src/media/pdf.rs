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
    let work = tokio::task::spawn_blocking(move || extract_catching(&bytes));
    match tokio::time::timeout(TIME_LIMIT, work).await {
        // The blocking thread cannot be stopped; it ends on its own, bounded by the caps.
        Err(_elapsed) => Err(PdfError::TimedOut),
        Ok(Err(_join)) => Err(PdfError::ParserFailed),
        Ok(Ok(result)) => result,
    }
}

/// [`extract_blocking`] with a panic of the parser turned into [`PdfError::ParserFailed`].
pub fn extract_catching(bytes: &[u8]) -> Result<PdfText, PdfError> {
    std::panic::catch_unwind(AssertUnwindSafe(|| extract_blocking(bytes))).unwrap_or_else(|_| {
        tracing::warn!("the PDF parser panicked; the file is reported as unreadable");
        Err(PdfError::ParserFailed)
    })
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
    use proptest::prelude::*;

    /// A one-page PDF showing `sentence`, with a correct cross-reference table.
    fn minimal_pdf(sentence: &str) -> Vec<u8> {
        let stream = format!("BT /F1 12 Tf 72 720 Td ({sentence}) Tj ET");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
             /Resources << /Font << /F1 5 0 R >> >> >>"
                .to_string(),
            format!(
                "<< /Length {} >>\nstream\n{stream}\nendstream",
                stream.len()
            ),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
        ];
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).bytes());
        }
        let xref = pdf.len();
        pdf.extend(b"xref\n0 6\n0000000000 65535 f \n");
        for offset in offsets {
            pdf.extend(format!("{offset:010} 00000 n \n").bytes());
        }
        pdf.extend(
            format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").bytes(),
        );
        pdf
    }

    #[test]
    fn the_text_layer_of_a_valid_pdf_is_read() {
        let text = extract_blocking(&minimal_pdf("Hello from page one")).unwrap();
        assert!(text.text.contains("Hello from page one"), "{text:?}");
        assert_eq!((text.pages, text.pages_read), (1, 1));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn a_damaged_pdf_is_read_or_refused_quickly_with_no_panic_escaping(
            cut in 0usize..700,
            flips in proptest::collection::vec((0usize..700, any::<u8>()), 0..8),
        ) {
            let mut pdf = minimal_pdf("Damaged but maybe readable");
            for (at, byte) in flips {
                let at = at % pdf.len();
                pdf[at] = byte;
            }
            pdf.truncate(cut.max(9));
            let started = std::time::Instant::now();
            let result = extract_catching(&pdf);
            // A panic inside the parser would be caught as `ParserFailed`; none may escape.
            prop_assert!(started.elapsed() < Duration::from_secs(2), "{result:?}");
        }
    }

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
