//! How far one filter and one request's filter work may go ([`MAX_LEN`], [`MAX_DEPTH`],
//! [`MAX_TERMS`], [`Budget`]) and the errors a filter gets ([`FilterError`], [`OverBudget`]).
//! No parsing or evaluation here.

use crate::directory::scim::error::{Invalid, ScimError};

/// Longest filter accepted, and deepest nesting (keeps recursion bounded).
pub const MAX_LEN: usize = 4096;
pub const MAX_DEPTH: usize = 10;
/// Most comparisons (`eq`, `co`, `pr`, ...) in one filter.
pub const MAX_TERMS: usize = 50;
/// The filter work one request may do ([`Budget::default`]), in units of about one byte
/// compared: enough for the largest PATCH the other bounds allow with ordinary values
/// (100 operations x 100 values x 50 comparisons), not for long values compared with `co`.
pub const MAX_WORK: u64 = 50_000_000;

/// Where and why a filter could not be parsed (SCIM `invalidFilter`, or `tooMany` past a bound).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter at character {position}: {message}")]
pub struct FilterError {
    /// 1-based character position.
    pub position: usize,
    pub message: String,
    /// The filter passed one of the bounds ([`MAX_LEN`], [`MAX_TERMS`], [`MAX_DEPTH`]) rather
    /// than the grammar.
    pub too_many: bool,
}

impl FilterError {
    /// The rule a client is told it broke.
    pub fn rule(&self) -> Invalid {
        if self.too_many { Invalid::TooMany } else { Invalid::Filter }
    }
}

/// How much filter work one request may still do (units of about one byte compared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    left: u64,
    pub(super) spent_out: bool,
}

impl Default for Budget {
    /// One request's share: [`MAX_WORK`].
    fn default() -> Self {
        Self::new(MAX_WORK)
    }
}

impl Budget {
    pub fn new(units: u64) -> Self {
        Self { left: units, spent_out: false }
    }

    /// Takes `units`; `false` (and nothing left from then on) if there were not that many.
    pub(super) fn spend(&mut self, units: u64) -> bool {
        if self.spent_out || units > self.left {
            self.left = 0;
            self.spent_out = true;
            return false;
        }
        self.left -= units;
        true
    }
}

/// An evaluation stopped because it would have done more work than its [`Budget`] held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("evaluating the filters of this request would take more than the work one request may do")]
pub struct OverBudget;

impl From<OverBudget> for ScimError {
    fn from(_: OverBudget) -> Self {
        ScimError::invalid(
            Invalid::TooMany,
            format!(
                "evaluating the filters of this request would take more than {MAX_WORK} units of work (about one byte compared each): use fewer, simpler filters or shorter values"
            ),
        )
    }
}

pub(super) fn err(position: usize, message: impl Into<String>) -> FilterError {
    FilterError { position, message: message.into(), too_many: false }
}

/// An error for a filter past one of the bounds.
pub(super) fn too_many(position: usize, message: impl Into<String>) -> FilterError {
    FilterError { position, message: message.into(), too_many: true }
}
