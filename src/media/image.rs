//! The format of an image, read from its first bytes (Telegram photos are JPEG, but a model API
//! must be told the truth about whatever arrives).

/// The MIME type of an image from its magic bytes, or `None` when it is no format the model
/// APIs accept (JPEG, PNG, GIF, WebP).
pub fn sniff_mime(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_formats_are_named_by_their_magic_bytes() {
        assert_eq!(sniff_mime(&[0xFF, 0xD8, 0xFF, 0xE0, 1]), Some("image/jpeg"));
        assert_eq!(sniff_mime(b"\x89PNG\r\n\x1a\nxx"), Some("image/png"));
        assert_eq!(sniff_mime(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_mime(b"%PDF-1.4"), None);
        assert_eq!(sniff_mime(b""), None);
    }
}
