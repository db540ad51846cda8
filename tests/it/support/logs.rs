//! Capturing the app's log lines in a test. A subscriber is set as the default of the current
//! thread only; run the app on a current-thread runtime on that same thread (the default
//! `#[tokio::test]` flavour, or [`crate::fault_matrix`]'s one thread per cell) and every event of
//! every task it spawns lands here. The SQLite thread and `spawn_blocking` work are not seen
//! (they log only on a panic).

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::subscriber::DefaultGuard;
use tracing_subscriber::fmt::MakeWriter;

/// The lines logged so far on the capturing thread. Cheap to clone.
#[derive(Clone, Default)]
pub struct Logs {
    buffer: Arc<Mutex<Vec<u8>>>,
}

/// Writes into a [`Logs`] buffer.
pub struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter(Arc::clone(&self.buffer))
    }
}

impl Logs {
    /// Captures INFO and above logged on this thread until the guard is dropped.
    pub fn capture_this_thread() -> (Self, DefaultGuard) {
        let logs = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .without_time()
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// Every line so far (`LEVEL target: message key=value ...`).
    pub fn lines(&self) -> Vec<String> {
        let buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&buffer)
            .lines()
            .map(|l| l.trim().to_string())
            .collect()
    }

    /// The WARN and ERROR lines so far.
    pub fn problems(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with("WARN") || l.starts_with("ERROR"))
            .collect()
    }

    /// Lines holding every one of `words`.
    pub fn with_words(&self, words: &[&str]) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| words.iter().all(|w| l.contains(w)))
            .collect()
    }

    /// Asserts exactly one line holds all of `words` and returns it; lists every line if not.
    #[track_caller]
    pub fn one_line_with(&self, words: &[&str]) -> String {
        let found = self.with_words(words);
        assert!(
            found.len() == 1,
            "expected one log line with {words:?}, found {}:\n  {}\nall lines:\n  {}",
            found.len(),
            found.join("\n  "),
            self.lines().join("\n  ")
        );
        found[0].clone()
    }
}
