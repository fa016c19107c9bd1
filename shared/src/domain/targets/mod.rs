//! App kinds: what token each kind of app takes and how the browser carries it there.
//!
//! Adding a kind means a variant of [`Target`], a module beside `zendesk`, and one arm in each
//! `match` below; the compiler lists every place that must learn about it.

pub mod zendesk;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::claims::ClaimMapping;
use super::profile::UserProfile;
use super::return_to::ReturnTo;

/// The kind of an app and its kind-specific settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Zendesk(zendesk::ZendeskTarget),
}

/// How the browser takes the token to the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "UPPERCASE")]
pub enum Delivery {
    /// An auto-submitting form posting `fields` to `action` (keeps tokens out of URLs and logs).
    Post { action: String, fields: Vec<(String, String)> },
    /// A plain redirect to `url`.
    Get { url: String },
}

/// What minting needs to know about this sign-in.
#[derive(Debug, Clone, Copy)]
pub struct MintInput<'a> {
    pub profile: &'a UserProfile,
    pub claims: &'a ClaimMapping,
    pub return_to: Option<&'a ReturnTo>,
    /// Seconds since the Unix epoch.
    pub now: u64,
    /// A fresh random token id.
    pub jti: uuid::Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    #[error("the user has no email address, which this app requires")]
    MissingEmail,
    #[error("the user has no name, which this app requires")]
    MissingName,
    #[error("the token could not be signed with the app's secret")]
    Signing,
}

impl Target {
    /// Claims the kind sets itself; a claim mapping may not name them.
    pub fn reserved_claims(&self) -> &'static [&'static str] {
        match self {
            Self::Zendesk(_) => zendesk::RESERVED_CLAIMS,
        }
    }

    pub fn mint(&self, input: MintInput<'_>, secret: &SecretString) -> Result<Delivery, MintError> {
        match self {
            Self::Zendesk(zendesk) => zendesk.mint(input, secret),
        }
    }
}
