//! Logging setup: `LOG_FORMAT` pretty, json or logfmt, filtered by `RUST_LOG` (default `info`).
//! Logs go to stderr, so stdout stays clean for the terminal channel's replies.
//!
//! `RUST_LOG` holds comma-separated `level` and `target=level` directives
//! (`info,minicrew=debug`), read by tracing-subscriber's `Targets` filter: the full `EnvFilter`
//! (span and field directives) would bring a regex engine of its own into the binary.

use std::fmt::Write as _;
use std::str::FromStr as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::LogFormat;

/// Installs the global subscriber (once; later calls are ignored, which tests rely on).
/// `default_level` applies when `RUST_LOG` is unset, empty or not understood (`warn` keeps
/// `minicrew chat` quiet).
pub fn init(format: LogFormat, default_level: &str) {
    let filter = filter_from(std::env::var("RUST_LOG").ok().as_deref(), default_level);
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Pretty => registry.with(layer).try_init(),
        LogFormat::Json => registry
            .with(layer.json().flatten_event(true).with_current_span(false))
            .try_init(),
        LogFormat::Logfmt => registry.with(layer.event_format(Logfmt)).try_init(),
    };
    // A panic becomes one log line in the configured format (with where it happened) instead of
    // raw text on stderr; the code that catches it says what it did about it.
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(panic = %info, "a bug: code panicked");
    }));
}

/// The filter for `RUST_LOG`'s value: its directives, or `default_level` when it is unset,
/// blank or not understood.
fn filter_from(rust_log: Option<&str>, default_level: &str) -> Targets {
    rust_log
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .and_then(|v| Targets::from_str(v).ok())
        .or_else(|| Targets::from_str(default_level).ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

/// `ts=… level=… target=… msg="…" key=value` lines.
struct Logfmt;

impl<S, N> FormatEvent<S, N> for Logfmt
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut line = format!(
            "ts={ts} level={} target={}",
            meta.level().as_str().to_lowercase(),
            meta.target()
        );
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                if let Some(fields) = span
                    .extensions()
                    .get::<tracing_subscriber::fmt::FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    let _ = write!(line, " {}", fields.fields.replace(": ", "="));
                }
            }
        }
        let mut visitor = LogfmtVisitor(&mut line);
        event.record(&mut visitor);
        writeln!(writer, "{line}")
    }
}

struct LogfmtVisitor<'a>(&'a mut String);

impl Visit for LogfmtVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let key = if field.name() == "message" {
            "msg"
        } else {
            field.name()
        };
        let _ = write!(self.0, " {key}={}", quote(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

fn quote(value: &str) -> String {
    if !value.is_empty() && !value.contains([' ', '"', '=', '\n']) {
        return value.to_string();
    }
    format!(
        "\"{}\"",
        value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::filter_from;

    #[test]
    fn the_documented_rust_log_form_sets_a_default_and_a_level_per_target() {
        let filter = filter_from(Some("info,minicrew=debug"), "warn");
        assert!(filter.would_enable("minicrew::dispatch", &Level::DEBUG));
        assert!(!filter.would_enable("minicrew::dispatch", &Level::TRACE));
        assert!(filter.would_enable("hyper", &Level::INFO));
        assert!(!filter.would_enable("hyper", &Level::DEBUG));
    }

    #[test]
    fn an_unset_blank_or_unreadable_rust_log_falls_back_to_the_default_level() {
        for value in [None, Some(""), Some("  "), Some("minicrew=loud")] {
            let filter = filter_from(value, "warn");
            assert!(filter.would_enable("minicrew", &Level::WARN), "{value:?}");
            assert!(!filter.would_enable("minicrew", &Level::INFO), "{value:?}");
        }
    }
}
