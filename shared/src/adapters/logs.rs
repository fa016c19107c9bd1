//! The functions' log lines, set up once at cold start from Lambda's advanced logging controls:
//! the level from `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`, else `INFO`) and JSON lines when
//! `AWS_LAMBDA_LOG_FORMAT` is `JSON`, as `lambda_runtime`'s own default subscriber reads them.
//!
//! Not that subscriber: it also takes per-module directives (`RUST_LOG=shared=debug,...`), whose
//! filter brings a regular-expression engine (`regex-automata`, `regex-syntax`) into every
//! package; a level is all the logging controls set. A value that is not a level logs at INFO,
//! and says so.

use tracing_subscriber::filter::LevelFilter;

/// Installs the global subscriber (stdout, no timestamps: Lambda adds them). Call once, first.
pub fn init() {
    let raw = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).ok();
    let level = level_of(raw.as_deref());
    let lines = tracing_subscriber::fmt().with_target(false).without_time().with_max_level(level.unwrap_or(LevelFilter::INFO));
    if std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        lines.json().init();
    } else {
        lines.init();
    }
    if level.is_none() && raw.is_some() {
        tracing::warn!(level = raw.as_deref().unwrap_or_default(), "not a log level (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF); logging at INFO");
    }
}

/// `TRACE` ... `ERROR`, `FATAL` (Lambda's, as `ERROR`) or `OFF`, in any case; `INFO` for nothing;
/// `None` for anything else.
fn level_of(raw: Option<&str>) -> Option<LevelFilter> {
    match raw.map(str::trim) {
        None | Some("") => Some(LevelFilter::INFO),
        Some(l) if l.eq_ignore_ascii_case("fatal") => Some(LevelFilter::ERROR),
        Some(l) => l.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambdas_levels_are_read_and_anything_else_is_not() {
        assert_eq!(level_of(Some("DEBUG")), Some(LevelFilter::DEBUG));
        assert_eq!(level_of(Some("warn")), Some(LevelFilter::WARN));
        assert_eq!(level_of(Some("FATAL")), Some(LevelFilter::ERROR));
        assert_eq!(level_of(None), Some(LevelFilter::INFO));
        assert_eq!(level_of(Some("shared=debug,info")), None);
    }
}
