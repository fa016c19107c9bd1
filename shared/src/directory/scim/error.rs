//! What can go wrong with a SCIM request, in the directory's words ([`ScimError`]). No HTTP
//! here: the SCIM function maps each variant to a status and a `scimType` (RFC 7644 §3.12) in
//! one exhaustive `match` (`functions/scim/src/web.rs`).
//!
//! The `Display` text of an error is safe to show the client; what went wrong on our side (the
//! `cause` of [`ScimError::Unavailable`] and [`ScimError::Corrupt`]) is for the operator's log
//! only ([`ScimError::cause`]).

use crate::common::store::StoreError;

/// Which rule of the protocol or the schema a request breaks (each is one of RFC 7644's
/// `scimType` values for a `400`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// A filter that does not parse, or selects what cannot be selected (`invalidFilter`).
    Filter,
    /// More than a bound allows: a filter, a request, a resource, a list (`tooMany`).
    TooMany,
    /// A change to a read-only or immutable attribute (`mutability`).
    Mutability,
    /// A body or query that is not a SCIM request (`invalidSyntax`).
    Syntax,
    /// A PATCH path that does not parse or names nothing in the schema (`invalidPath`).
    Path,
    /// A PATCH path whose filter matches nothing, or a `remove` without a path (`noTarget`).
    NoTarget,
    /// A value of the wrong type, form or range, or a required one missing (`invalidValue`).
    Value,
}

/// Why a SCIM request was not done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    /// The request breaks a rule; `detail` says which, for the client.
    #[error("{detail}")]
    Invalid { rule: Invalid, detail: String },
    /// No such resource in this organisation.
    #[error("{what} {id} not found")]
    NotFound { what: String, id: String },
    /// Another resource of this organisation already holds a value that must be unique.
    #[error("another resource of this organisation has this {what}")]
    Taken { what: String },
    /// The resource is no longer at the version the client named (`If-Match`).
    #[error("the resource changed: its version does not match If-Match")]
    Stale,
    /// The resource kept changing under every attempt at this change.
    #[error("the resource is being changed by other requests; retry")]
    Busy,
    /// The store asked us to slow down.
    #[error("too many requests; retry after a moment")]
    Throttled,
    /// The store could not be reached or did not finish; `cause` is for the log.
    #[error("the service is busy; retry shortly")]
    Unavailable { cause: String },
    /// What the store holds cannot be read; `cause` is for the log.
    #[error("internal error")]
    Corrupt { cause: String },
}

impl ScimError {
    /// A broken rule, with the detail the client is shown.
    pub fn invalid(rule: Invalid, detail: impl Into<String>) -> Self {
        Self::Invalid { rule, detail: detail.into() }
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Self::NotFound { what: what.to_owned(), id: id.to_owned() }
    }

    /// The rule broken, for an [`ScimError::Invalid`].
    pub fn rule(&self) -> Option<Invalid> {
        match self {
            Self::Invalid { rule, .. } => Some(*rule),
            _ => None,
        }
    }

    /// What went wrong on our side (logged, never sent), for the errors that are ours.
    pub fn cause(&self) -> Option<&str> {
        match self {
            Self::Unavailable { cause } | Self::Corrupt { cause } => Some(cause),
            _ => None,
        }
    }
}

impl From<StoreError> for ScimError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Throttled => Self::Throttled,
            StoreError::Unavailable(_) | StoreError::Conflict => Self::Unavailable { cause: e.to_string() },
            StoreError::Taken(what) => Self::Taken { what },
            StoreError::Missing(id) => Self::invalid(Invalid::Value, format!("no user with id {id} in this organisation")),
            StoreError::Limit(what) => Self::invalid(Invalid::TooMany, what),
            StoreError::Corrupt(_) => Self::Corrupt { cause: e.to_string() },
        }
    }
}
