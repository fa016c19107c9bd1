//! Why a store (DynamoDB, Secrets Manager) could not answer: the one error every store port shares.

/// Why a store (DynamoDB, Secrets Manager) could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the store is throttling requests")]
    Throttled,
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("not found: {0}")]
    Missing(String),
    #[error("the item changed since it was read (version conflict)")]
    Conflict,
    #[error("already taken: {0}")]
    Taken(String),
    #[error("limit reached: {0}")]
    Limit(String),
}
