//! The operators' rules, the same whichever door a change comes through (the admin API or
//! `bridge-admin`): who may do what ([`role`]), what every change records ([`audit`]), and the
//! changes themselves ([`apps`], [`hooks`], [`keys`], [`orgs`], [`people`], [`workflows`], [`email_templates`]; the
//! secrets they set, one per change: [`secret_change`]), over ports ([`ports`]). Not HTTP and not AWS: the
//! admin function maps these to routes, the adapters to DynamoDB, Cognito and Secrets Manager.

pub mod apps;
pub mod audit;
pub mod consent;
pub mod email_templates;
pub mod hooks;
pub mod invitations;
pub mod keys;
pub mod operator;
pub mod orgs;
pub mod people;
pub mod ports;
pub mod role;
mod secret_change;
pub mod workflows;

/// `value` (a hook or a connection) with `auth.secret`, the secret's reference, replaced by
/// `auth.has_secret`: operators see that a secret is set, never where it is.
pub fn secret_as_flag(mut value: serde_json::Value) -> serde_json::Value {
    if let Some(auth) = value.get_mut("auth").and_then(serde_json::Value::as_object_mut) {
        let had = auth.remove("secret").is_some_and(|s| s.as_str().is_some_and(|s| !s.is_empty()));
        auth.insert("has_secret".into(), had.into());
    }
    value
}

/// A change's body checked on its own, before anything is read: a body that could never be
/// valid is refused (400) whatever else the request names (its `If-Match`, its target). The
/// change itself checks again, with what is stored.
pub trait Check {
    /// `id`: the id or name of what the body is for (the path's).
    fn check(&self, id: &str) -> Result<(), AdminError>;
}

/// Refuses a secret that is given but empty or blank (`what`: "the hook's secret").
pub(crate) fn non_blank(secret: Option<&secrecy::SecretString>, what: &str) -> Result<(), AdminError> {
    use secrecy::ExposeSecret;
    match secret {
        Some(value) if value.expose_secret().trim().is_empty() => Err(AdminError::Invalid(format!("{what} is empty"))),
        _ => Ok(()),
    }
}

/// Why an operator's request did not happen. Each maps to one status of the admin API (in
/// brackets) and one message of the CLI.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The request is not valid (400), with a message an operator can act on.
    #[error("{0}")]
    Invalid(String),
    /// The operator's role does not allow it (403).
    #[error("your role does not allow this")]
    Forbidden,
    /// No such thing (404).
    #[error("{0} not found")]
    NotFound(String),
    /// It exists already, or a name is taken (409).
    #[error("{0}")]
    Exists(String),
    /// Too many of these for now (429): `retry_after` is the seconds until one may be tried again.
    #[error("{message}")]
    TooMany { message: String, retry_after: u64 },
    /// It changed since the version the request names (412).
    #[error("it changed since it was read (version {current}); read it again and retry")]
    Stale { current: u64 },
    /// AWS failed or throttled (503).
    #[error(transparent)]
    Store(#[from] crate::common::store::StoreError),
}

impl From<crate::directory::ports::DirectoryError> for AdminError {
    fn from(e: crate::directory::ports::DirectoryError) -> Self {
        use crate::common::store::StoreError;
        use crate::directory::ports::DirectoryError as D;
        match e {
            D::Throttled => Self::Store(StoreError::Throttled),
            D::Gone => Self::NotFound("the person".into()),
            D::Refused(why) => {
                tracing::info!(reason = %why, "the user pool refused an operator's change");
                Self::Invalid("the user pool refused the change".into())
            }
            other => Self::Store(StoreError::Unavailable(other.to_string())),
        }
    }
}
