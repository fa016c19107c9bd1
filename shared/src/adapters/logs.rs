//! The functions' log lines, set up once at cold start from Lambda's advanced logging controls:
//! the level from `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`, else `INFO`) and JSON lines when
//! `AWS_LAMBDA_LOG_FORMAT` is `JSON`, as `lambda_runtime`'s own default subscriber reads them.
//!
//! Not that subscriber: it also takes per-module directives (`RUST_LOG=shared=debug,...`), whose
//! filter brings a regular-expression engine (`regex-automata`, `regex-syntax`) into every
//! package; a level is all the logging controls set. A `RUST_LOG` that is not a level is
//! ignored (INFO).

use tracing_subscriber::filter::LevelFilter;

/// Installs the global subscriber (stdout, no timestamps: Lambda adds them). Call once, first.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).ok();
    let lines = tracing_subscriber::fmt().with_target(false).without_time().with_max_level(level_of(level.as_deref()));
    if std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        lines.json().init();
    } else {
        lines.init();
    }
}

/// `TRACE` ... `ERROR` or `OFF` in any case; anything else (or nothing) is `INFO`.
fn level_of(raw: Option<&str>) -> LevelFilter {
    raw.and_then(|l| l.trim().parse().ok()).unwrap_or(LevelFilter::INFO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_is_read_and_anything_else_is_info() {
        assert_eq!(level_of(Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(level_of(Some("warn")), LevelFilter::WARN);
        assert_eq!(level_of(Some("shared=debug,info")), LevelFilter::INFO);
        assert_eq!(level_of(None), LevelFilter::INFO);
    }
}
