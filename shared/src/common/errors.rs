//! Errors as the operator's log shows them: the whole cause chain, outermost first.

use std::error::Error;

/// `error` and each of its sources, joined by `": "` (sources a `#[error(transparent)]` wrapper
/// already shows are not repeated).
pub fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let shown = cause.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("the store is unavailable")]
    struct Store(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("could not read the app")]
    struct Read(#[source] Store);

    #[test]
    fn every_cause_once_outermost_first() {
        let error = Read(Store(std::io::Error::other("connection refused")));
        assert_eq!(chain(&error), "could not read the app: the store is unavailable: connection refused");
    }
}
