//! A directory user as the SCIM service wants it, and what was last applied to the directory.

use serde::{Deserialize, Serialize};

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
    pub(crate) fn same_attributes(&self, other: &Self) -> bool {
        Self { enabled: other.enabled, ..self.clone() } == *other
    }
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
