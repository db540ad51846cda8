//! Photos, documents and forwarded messages: what arrives ([`Photos`], [`DocumentFile`]), the
//! downloads through Telegram ([`Media`]), and turning files into something a model can read
//! (`document` sorts files by kind, `pdf` and `text_file` extract their text, `image` names an
//! image's format). The dispatcher (`dispatch::media`) puts it together; everything here is
//! bounded by `MEDIA_MAX_MB`, and everything it yields is untrusted content.

pub mod document;
mod download;
pub mod image;
pub mod pdf;
pub mod text_file;

pub use download::{FetchError, FetchedFile, FileSource, Media, MediaError};

/// One size Telegram offers of a photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoSize {
    /// Telegram's `file_id`, passed to `getFile`.
    pub file_id: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size in bytes, when Telegram said.
    pub size: Option<u64>,
}

/// One photo: the same picture in the sizes Telegram made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    /// The sizes, in any order.
    pub sizes: Vec<PhotoSize>,
}

impl Photo {
    /// The largest size (by pixels) known to fit in `limit` bytes; a size Telegram gave no byte
    /// count for is a candidate too (the download itself stops at the limit).
    pub fn largest_within(&self, limit: u64) -> Option<&PhotoSize> {
        self.sizes
            .iter()
            .filter(|s| s.size.is_none_or(|size| size <= limit))
            .max_by_key(|s| (u64::from(s.width) * u64::from(s.height), s.size))
    }
}

/// A photo message, or an album's photos gathered into one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photos {
    /// The photos, in the order they were sent.
    pub photos: Vec<Photo>,
    /// The caption (an album's captions joined), if any: the user's question.
    pub caption: Option<String>,
    /// Telegram's `media_group_id` when the photo is part of an album.
    pub media_group: Option<String>,
}

/// A file sent as a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFile {
    /// Telegram's `file_id`, passed to `getFile`.
    pub file_id: String,
    /// The file name as sent, if any.
    pub name: Option<String>,
    /// The MIME type Telegram reported, if any.
    pub mime: Option<String>,
    /// Size in bytes, when Telegram said.
    pub size: Option<u64>,
    /// The caption, if any: the user's question.
    pub caption: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(id: &str, side: u32, bytes: Option<u64>) -> PhotoSize {
        PhotoSize {
            file_id: id.into(),
            width: side,
            height: side,
            size: bytes,
        }
    }

    #[test]
    fn the_largest_photo_size_within_the_limit_is_chosen() {
        let photo = Photo {
            sizes: vec![
                size("small", 90, Some(1_000)),
                size("huge", 4000, Some(30_000_000)),
                size("big", 1280, Some(200_000)),
            ],
        };
        assert_eq!(photo.largest_within(20_000_000).unwrap().file_id, "big");
        assert_eq!(photo.largest_within(500).map(|s| &s.file_id), None);
        assert_eq!(photo.largest_within(u64::MAX).unwrap().file_id, "huge");
    }
}
