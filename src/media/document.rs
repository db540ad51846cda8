//! What kind of file a document is, from its name and MIME type, decided before anything is
//! downloaded: a PDF, a text file, or something minicrew cannot read yet (named for the reply).

/// How a document will be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// A PDF: its text layer is extracted.
    Pdf,
    /// Plain text (txt, md, csv, json, source code), UTF-8 or Latin-1.
    Text,
    /// Anything else, named in words for the "can't read this kind of file yet" reply.
    Unreadable(&'static str),
}

/// File name endings read as text.
const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "text",
    "md",
    "markdown",
    "rst",
    "csv",
    "tsv",
    "json",
    "jsonl",
    "ndjson",
    "yaml",
    "yml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "env",
    "log",
    "xml",
    "html",
    "htm",
    "css",
    "scss",
    "sql",
    "rs",
    "py",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "go",
    "java",
    "kt",
    "kts",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cs",
    "rb",
    "php",
    "swift",
    "scala",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "lua",
    "pl",
    "r",
    "dart",
    "ex",
    "exs",
    "erl",
    "hs",
    "ml",
    "clj",
    "vue",
    "svelte",
    "tex",
    "srt",
    "vtt",
    "gitignore",
    "dockerfile",
    "makefile",
];

/// MIME types read as text besides `text/*`.
const TEXT_MIMES: &[&str] = &[
    "application/json",
    "application/x-ndjson",
    "application/xml",
    "application/x-yaml",
    "application/yaml",
    "application/toml",
    "application/x-sh",
    "application/javascript",
    "application/sql",
];

/// Sorts a document by its name's extension first (Telegram's MIME types for code are often
/// `application/octet-stream`), then by its MIME type.
pub fn kind_of(name: Option<&str>, mime: Option<&str>) -> DocumentKind {
    let name = name.unwrap_or_default().to_ascii_lowercase();
    let ext = name.rsplit_once('.').map_or(name.as_str(), |(_, e)| e);
    let mime = mime.unwrap_or_default().to_ascii_lowercase();
    if ext == "pdf" || mime == "application/pdf" {
        return DocumentKind::Pdf;
    }
    if TEXT_EXTENSIONS.contains(&ext)
        || mime.starts_with("text/")
        || TEXT_MIMES.contains(&mime.as_str())
    {
        return DocumentKind::Text;
    }
    DocumentKind::Unreadable(unreadable_name(ext, &mime))
}

/// The kind of an unreadable file in words.
fn unreadable_name(ext: &str, mime: &str) -> &'static str {
    match ext {
        "zip" | "rar" | "7z" | "tar" | "gz" | "tgz" | "bz2" | "xz" => "archives (zip and the like)",
        "doc" | "docx" | "odt" | "rtf" | "pages" => "word-processor files (docx and the like)",
        "xls" | "xlsx" | "ods" | "numbers" => "spreadsheets (xlsx and the like)",
        "ppt" | "pptx" | "odp" | "key" => "presentations",
        "epub" | "mobi" => "e-books",
        _ if mime.starts_with("image/") => "images sent as files (send it as a photo instead)",
        _ if mime.starts_with("audio/") => "audio files",
        _ if mime.starts_with("video/") => "videos",
        _ => "this kind of file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_sorted_by_extension_then_mime() {
        assert_eq!(kind_of(Some("Report.PDF"), None), DocumentKind::Pdf);
        assert_eq!(kind_of(None, Some("application/pdf")), DocumentKind::Pdf);
        let octet = Some("application/octet-stream");
        assert_eq!(kind_of(Some("main.rs"), octet), DocumentKind::Text);
        assert_eq!(kind_of(Some("data"), Some("text/csv")), DocumentKind::Text);
        assert_eq!(kind_of(Some("x.json"), None), DocumentKind::Text);
        assert!(
            matches!(kind_of(Some("a.zip"), None), DocumentKind::Unreadable(k) if k.contains("zip"))
        );
        assert!(
            matches!(kind_of(Some("a.docx"), None), DocumentKind::Unreadable(k) if k.contains("docx"))
        );
        assert!(
            matches!(kind_of(Some("p.jpg"), Some("image/jpeg")), DocumentKind::Unreadable(k) if k.contains("photo"))
        );
        assert!(matches!(
            kind_of(Some("s.mp3"), Some("audio/mpeg")),
            DocumentKind::Unreadable("audio files")
        ));
    }
}
