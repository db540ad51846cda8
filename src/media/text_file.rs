//! Text files to text: UTF-8 (with or without a byte-order mark), else Latin-1, which maps every
//! byte to a character, so any file decodes. A file with NUL bytes is binary, not text.

/// Why a "text" file is not text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextFileError {
    /// It holds NUL bytes: a binary file with a text name.
    #[error("the file is binary, not text")]
    Binary,
}

/// The text of `bytes`: UTF-8 when it is valid UTF-8, Latin-1 otherwise.
pub fn decode(bytes: &[u8]) -> Result<String, TextFileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err(TextFileError::Binary);
    }
    Ok(match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_and_latin1_decode_and_binary_is_refused() {
        assert_eq!(decode("\u{feff}naïve".as_bytes()).unwrap(), "naïve");
        assert_eq!(decode(b"na\xefve caf\xe9").unwrap(), "naïve café");
        assert_eq!(decode(b"PK\x03\x04\x00\x00"), Err(TextFileError::Binary));
    }
}
