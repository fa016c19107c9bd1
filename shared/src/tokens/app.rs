//! An app: a target the bridge signs people into (`tokens::targets` has the kinds).
//!
//! It holds where the token goes, which `return_to` origins are allowed, the claim mapping and,
//! for apps that share a secret with us (HS256, DiscourseConnect), a reference to it. The secret
//! itself lives in Secrets Manager, never here. Apps signed with our own keys need none.

use crate::risk::RiskPolicy;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::common::secrets::SecretRef;
use crate::tokens::claims::{ClaimMapping, MappingError};
use crate::tokens::return_to::Origin;
use crate::tokens::targets::Target;
use crate::tokens::targets::mint::TargetError;

/// An app's id: 1 to 64 characters of `a-z`, `0-9` and `-`, starting with a letter or digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppId(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an app id is 1 to 64 characters of a-z, 0-9 and '-', starting with a letter or digit")]
pub struct InvalidAppId;

impl AppId {
    pub fn parse(raw: &str) -> Result<Self, InvalidAppId> {
        let ok = (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') && !raw.starts_with('-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(InvalidAppId) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AppId {
    type Error = InvalidAppId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<AppId> for String {
    fn from(id: AppId) -> Self {
        id.0
    }
}

impl fmt::Debug for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppId({})", self.0)
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub id: AppId,
    /// A name for operators and for the form's heading.
    pub name: String,
    /// The kind of app and its kind-specific settings.
    pub target: Target,
    /// `return_to` must have exactly one of these origins.
    pub allowed_origins: Vec<Origin>,
    #[serde(default)]
    pub claims: ClaimMapping,
    /// The Secrets Manager secret holding the key this app shares with the bridge, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<SecretRef>,
    /// What a high-risk sign-in to this app does (`risk`).
    #[serde(default)]
    pub risk_policy: RiskPolicy,
    /// Whether people may create their own account on the form for this app.
    #[serde(default)]
    pub sign_up: SignUp,
    /// Incremented on every update; updates name the version they replace.
    #[serde(default)]
    pub version: u64,
}

/// Whether the form offers "Create an account" for an app: `open`, or `off` (the default: the
/// form offers none here). It decides where accounts are made, not who may enter: any account of
/// the pool, one made at another app's sign-up included, signs in to every app (a `required`
/// claim only some people have is how an app admits only them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignUp {
    Open,
    #[default]
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    #[error("the app needs at least one allowed return_to origin")]
    NoOrigins,
    #[error("the app's name is empty or longer than 200 characters")]
    BadName,
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error(transparent)]
    Target(#[from] TargetError),
}

impl App {
    /// Checks what serde cannot: cross-field rules an operator could get wrong.
    pub fn validate(&self) -> Result<(), AppError> {
        if self.allowed_origins.is_empty() {
            return Err(AppError::NoOrigins);
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(AppError::BadName);
        }
        self.claims.validate(self.target.reserved_claims())?;
        self.target.validate()?;
        Ok(())
    }
}
