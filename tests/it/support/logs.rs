//! Capturing the app's log lines in a test. One global subscriber (installed once) writes each
//! event into the buffer of the thread that logged it, if that thread is capturing; run the app on
//! a current-thread runtime on the capturing thread (the default `#[tokio::test]` flavour, or
//! [`crate::fault_matrix`]'s one thread per cell) and every event of every task it spawns lands
//! there. The SQLite thread and `spawn_blocking` work are not seen (they log only on a panic).
//! A global subscriber, not a per-thread default: tracing caches each callsite's interest
//! globally, and with per-thread defaults an event first seen on a thread without a subscriber
//! could be cached as uninteresting and lost on the capturing thread.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use std::cell::RefCell;
use std::sync::Once;

use tracing_subscriber::fmt::MakeWriter;

thread_local! {
    /// The buffer this thread's events go to while it captures.
    static CAPTURING: RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { RefCell::new(None) };
}

/// The lines logged so far on the capturing thread. Cheap to clone.
#[derive(Clone, Default)]
pub struct Logs {
    buffer: Arc<Mutex<Vec<u8>>>,
}

/// Writes into a [`Logs`] buffer.
pub struct LogWriter(Option<Arc<Mutex<Vec<u8>>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Some(buffer) = &self.0 {
            let mut buffer = buffer.lock().unwrap_or_else(PoisonError::into_inner);
            buffer.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Hands each event the buffer of the thread that logged it (none: the event is dropped).
struct ThisThread;

impl<'a> MakeWriter<'a> for ThisThread {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter(CAPTURING.with(|c| c.borrow().clone()))
    }
}

/// Stops this thread's capture when dropped.
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURING.with(|c| c.borrow_mut().take());
    }
}

impl Logs {
    /// Captures INFO and above logged on this thread until the guard is dropped.
    pub fn capture_this_thread() -> (Self, CaptureGuard) {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(ThisThread)
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .without_time()
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the test binary");
        });
        let logs = Self::default();
        CAPTURING.with(|c| *c.borrow_mut() = Some(Arc::clone(&logs.buffer)));
        (logs, CaptureGuard(()))
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
