//! Keeping the user directory (the Cognito user pool) in step with SCIM users.
//!
//! DynamoDB holds the truth. After each change the service works out the [`Desired`] directory
//! state from the record and the organisation's domains, and [`converge`]s: it makes only the
//! directory calls the difference needs, compared with what was last applied ([`Link`]). Every
//! step is idempotent, so a retry after a crash or a failed call is always safe.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::resource::Record;
use crate::domain::org::Organisation;
use crate::ports::{DirectoryError, UserDirectory};

/// The directory user a SCIM user should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryUser {
    pub email: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
    pub org: String,
    pub scim_id: String,
    pub enabled: bool,
}

impl DirectoryUser {
    fn same_attributes(&self, other: &Self) -> bool {
        Self { enabled: other.enabled, ..self.clone() } == *other
    }
}

/// What the directory should hold for one SCIM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desired {
    Present(DirectoryUser),
    /// The email is outside the organisation's domains: no directory user may sign in as it.
    /// An existing one is disabled; none is created.
    Outside {
        email: Option<String>,
    },
    /// Deleted with the `delete` policy.
    Absent,
}

/// What the directory holds, as last applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The directory's user name (Cognito's `sub`-shaped user name), once created.
    pub username: Option<String>,
    pub applied: Option<DirectoryUser>,
    /// Kept as a SCIM record only: its email is not in the organisation's domains.
    #[serde(default)]
    pub outside_domain: bool,
}

/// The directory state `record` calls for. `deleted`: the record was deleted (`purge`: with the
/// `delete` policy).
pub fn desired(org: &Organisation, record: &Record, deleted: bool, purge: bool) -> Desired {
    if deleted && purge {
        return Desired::Absent;
    }
    let email = record.primary_email();
    let in_domain = email.as_deref().and_then(|e| e.rsplit_once('@')).is_some_and(|(_, d)| org.domains.iter().any(|o| o.as_str().eq_ignore_ascii_case(d)));
    let email = match email {
        Some(email) if in_domain => email,
        email => return Desired::Outside { email },
    };
    let name = record.data.get("name");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned).filter(|s| !s.trim().is_empty());
    let given_name = text(name.and_then(|n| n.get("givenName")));
    let family_name = text(name.and_then(|n| n.get("familyName")));
    let full = text(record.data.get("displayName")).or_else(|| text(name.and_then(|n| n.get("formatted")))).or_else(|| match (&given_name, &family_name) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (g, f) => g.clone().or(f.clone()),
    });
    Desired::Present(DirectoryUser {
        email: email.to_lowercase(),
        given_name,
        family_name,
        name: full,
        org: org.id.as_str().to_owned(),
        scim_id: record.id.clone(),
        enabled: record.active() && !deleted,
    })
}

/// Makes the directory match `desired`, starting from `link`; returns the new link.
pub async fn converge(directory: &dyn UserDirectory, link: &Link, desired: &Desired) -> Result<Link, DirectoryError> {
    match desired {
        Desired::Absent => {
            if let Some(username) = &link.username {
                directory.delete(username).await?;
            }
            Ok(Link::default())
        }
        Desired::Outside { .. } => {
            let applied = match (&link.username, &link.applied) {
                (Some(username), Some(applied)) if applied.enabled => {
                    directory.set_enabled(username, false).await?;
                    Some(DirectoryUser { enabled: false, ..applied.clone() })
                }
                (_, applied) => applied.clone(),
            };
            Ok(Link { username: link.username.clone(), applied, outside_domain: true })
        }
        Desired::Present(user) => {
            let username = match &link.username {
                Some(username) => match update(directory, username, link.applied.as_ref(), user).await {
                    // Deleted outside the bridge: provision it again.
                    Err(DirectoryError::Gone) => directory.create(user).await?,
                    other => other.map(|()| username.clone())?,
                },
                None => directory.create(user).await?,
            };
            Ok(Link { username: Some(username), applied: Some(user.clone()), outside_domain: false })
        }
    }
}

/// The calls that take `username` from `applied` to `user`.
async fn update(directory: &dyn UserDirectory, username: &str, applied: Option<&DirectoryUser>, user: &DirectoryUser) -> Result<(), DirectoryError> {
    if applied.is_none_or(|a| !a.same_attributes(user)) {
        directory.update(username, applied, user).await?;
    }
    if applied.is_none_or(|a| a.enabled != user.enabled) {
        directory.set_enabled(username, user.enabled).await?;
    }
    Ok(())
}
