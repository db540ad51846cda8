//! A server-sent events decoder (the `text/event-stream` format of the WHATWG HTML standard):
//! bytes in, events out. Short and strict about size: a line or an event's data longer than the
//! cap is an error, so a hostile server cannot make us buffer without end. Written by hand
//! because the format is a few lines and the crates for it want a second HTTP stack or a
//! byte-stream adapter we do not otherwise need.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field (empty when the server sent none, which means "message").
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Why a stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A line or an event's data exceeded the cap (bytes).
    #[error("an event of the stream is over {0} bytes")]
    EventTooLarge(usize),
}

/// Incremental decoder; feed it chunks as they arrive, in order.
#[derive(Debug)]
pub struct SseDecoder {
    max_event_bytes: usize,
    line: Vec<u8>,
    /// The previous byte was `\r`: a following `\n` belongs to the same line end.
    after_cr: bool,
    event: String,
    data: String,
    has_data: bool,
}

impl SseDecoder {
    /// A decoder refusing lines and events over `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            max_event_bytes,
            line: Vec::new(),
            after_cr: false,
            event: String::new(),
            data: String::new(),
            has_data: false,
        }
    }

    /// Decodes `chunk`, appending every event it completes to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        for &byte in chunk {
            let after_cr = std::mem::replace(&mut self.after_cr, false);
            match byte {
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    self.end_line(out)?;
                }
                _ => {
                    if self.line.len() >= self.max_event_bytes {
                        return Err(SseError::EventTooLarge(self.max_event_bytes));
                    }
                    self.line.push(byte);
                }
            }
        }
        Ok(())
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            if self.has_data {
                if self.data.ends_with('\n') {
                    self.data.pop();
                }
                out.push(SseEvent {
                    event: std::mem::take(&mut self.event),
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event.clear();
            self.data.clear();
            self.has_data = false;
            return Ok(());
        }
        let line = String::from_utf8_lossy(&line);
        if line.starts_with(':') {
            return Ok(()); // a comment (keep-alive)
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (&*line, ""),
        };
        match field {
            "data" => {
                if self.data.len() + value.len() + 1 > self.max_event_bytes {
                    return Err(SseError::EventTooLarge(self.max_event_bytes));
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "event" => self.event = value.to_string(),
            _ => {} // `id`, `retry` and unknown fields mean nothing to us
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &str, piece: usize) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new(1024);
        let mut out = Vec::new();
        for chunk in input.as_bytes().chunks(piece) {
            decoder.push(chunk, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn events_decode_the_same_whatever_the_chunk_boundaries() {
        let input = "event: a\ndata: {\"x\":1}\n\n: keep-alive\n\ndata: one\r\ndata:two\r\n\r\nevent: b\rdata: é\r\r";
        let want = vec![
            SseEvent {
                event: "a".into(),
                data: "{\"x\":1}".into(),
            },
            SseEvent {
                event: String::new(),
                data: "one\ntwo".into(),
            },
            SseEvent {
                event: "b".into(),
                data: "é".into(),
            },
        ];
        for piece in 1..input.len() {
            assert_eq!(decode_in_pieces(input, piece), want, "pieces of {piece}");
        }
    }

    #[test]
    fn an_event_without_its_blank_line_is_not_dispatched() {
        assert!(decode_in_pieces("data: cut", 4).is_empty());
        assert!(decode_in_pieces("data: cut\n", 4).is_empty());
    }

    #[test]
    fn a_line_or_event_over_the_cap_is_an_error_not_a_growing_buffer() {
        let mut decoder = SseDecoder::new(16);
        let mut out = Vec::new();
        let long_line = vec![b'x'; 17];
        assert_eq!(
            decoder.push(&long_line, &mut out),
            Err(SseError::EventTooLarge(16))
        );
        let mut decoder = SseDecoder::new(16);
        let many_lines = "data: 0123456789\n".repeat(3);
        assert!(decoder.push(many_lines.as_bytes(), &mut out).is_err());
    }
}
