//! The secrets operators set (an app's shared secret, a telephony hook's, an organisation's
//! OpenID client secret, a workflow connection's), one per change.
//!
//! A change that sets a secret writes its value as a Secrets Manager secret of its own,
//! `{path}/{UUIDv7}`, before the versioned write that names it, and never touches the secret in
//! use. So of two changes at once, the one whose write is refused (a stale version, a taken name)
//! leaves nothing live: its secret is discarded at once. The one that is written lets the secret
//! it replaced go (scheduled for deletion, 7 days' recovery). A reader that cached the record
//! before the change keeps the value it holds until it reads the record again
//! ([`crate::common::secrets::CachedSecrets`] serves a held value when a reload fails).
//!
//! Not the bridge's own secrets (its flow key, its signing keys), which are never replaced.

use secrecy::SecretString;

use super::AdminError;
use super::ports::SecretVault;
use crate::common::secrets::SecretRef;
use crate::common::store::StoreError;

/// Writes `value` as a new secret under `path` (`{prefix}/apps/{id}/signing`, ...): its
/// reference, for the change to name. Errors: the vault's.
pub(super) async fn write(vault: &dyn SecretVault, path: &str, description: &str, value: &SecretString) -> Result<SecretRef, AdminError> {
    Ok(vault.create(&format!("{path}/{}", uuid::Uuid::now_v7()), description, value).await?)
}

/// How a change's write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Written {
    Yes,
    /// Refused: a stale version, a taken name, an invalid change.
    No,
    /// The store did not answer (a timeout): the change may have been written.
    Unknown,
}

impl Written {
    pub(super) fn of<T>(result: &Result<T, AdminError>) -> Self {
        match result {
            Ok(_) => Self::Yes,
            Err(AdminError::Store(e)) => Self::of_store::<()>(&Err(e.clone())),
            Err(_) => Self::No,
        }
    }

    pub(super) fn of_store<T>(result: &Result<T, StoreError>) -> Self {
        match result {
            Ok(_) => Self::Yes,
            Err(StoreError::Unavailable(_)) => Self::Unknown,
            Err(_) => Self::No,
        }
    }
}

/// Settles the secrets of a change once its write has ended: a written change lets `before` go
/// if `after` no longer names it; a refused one discards the secret it `created`; one that may
/// have been written keeps both (logged: a secret left over, never one in use deleted). A
/// failure is logged, not answered: the change itself is decided.
pub(super) async fn settle(vault: &dyn SecretVault, written: Written, created: Option<&SecretRef>, before: Option<&SecretRef>, after: Option<&SecretRef>) {
    let (secret, never_used) = match (written, created, before) {
        (Written::Yes, _, Some(old)) if !old.0.is_empty() && after != Some(old) => (old, false),
        (Written::No, Some(new), _) => (new, true),
        (Written::Unknown, Some(new), _) => {
            tracing::warn!(secret = %new, "a change whose write did not answer: its new secret is kept (delete it by hand if the change is not there)");
            return;
        }
        _ => return,
    };
    let result = if never_used { vault.discard(secret).await } else { vault.delete(secret).await };
    if let Err(e) = result {
        tracing::error!(%secret, error = %e, never_used, "a secret no change uses could not be deleted; delete it by hand");
    }
}
