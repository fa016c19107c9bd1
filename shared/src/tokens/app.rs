//! An app: a target the bridge signs people into (`tokens::targets` has the kinds).
//!
//! It holds where the token goes, which `return_to` origins are allowed, the claim mapping, who
//! may sign in to it ([`Access`]) and, for apps that share a secret with us (HS256, DiscourseConnect), a reference to it. The secret
//! itself lives in Secrets Manager, never here. Apps signed with our own keys need none.

use crate::risk::RiskPolicy;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::common::profile::{ORG_ATTRIBUTE, UserProfile};
use crate::common::secrets::SecretRef;
use crate::directory::org::OrgId;
use crate::tokens::claims::{ClaimMapping, MappingError};
use crate::tokens::return_to::{Origin, ReturnTo};
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
    /// Who may sign in to this app (everyone with an account unless it lists some).
    #[serde(default, skip_serializing_if = "Access::is_everyone")]
    pub access: Access,
    /// The app's own start page (Keycloak's "Home URL"): set, the account page lists the app
    /// for the people its access admits (see [`App::link`]). An absolute URL on one of
    /// `allowed_origins`, checked as a `return_to` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_url: Option<String>,
    /// Incremented on every update; updates name the version they replace.
    #[serde(default)]
    pub version: u64,
    /// An OpenID Connect client's refresh tokens from sign-ins before this time (seconds since
    /// the epoch) are refused. Set by the bridge, never by the operator: when the client is
    /// made (a client made again under an old id takes none of its predecessor's), and when its
    /// refresh tokens are turned off or their lifetime shortened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_tokens_not_before: Option<u64>,
}

/// Whether the form offers "Create an account" for an app: `open`, or `off` (the default: the
/// form offers none here). It decides where accounts are made, not who may enter: any account of
/// the pool, one made at another app's sign-up included, signs in to every app that admits
/// everyone ([`Access`] decides who may).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignUp {
    Open,
    #[default]
    Off,
}

/// Who may sign in to an app (its assignments): everyone with an account when both lists are
/// empty (the default), otherwise only people in one of `groups` (their Cognito groups, the
/// `cognito:groups` claim) or of one of `organisations` (their `custom:org_id`). Checked at
/// every sign-in (password, passwordless, corporate), where anyone else is refused
/// (`SignInError::NotAssigned`) before a token or a session is made, and at a live session's
/// entry, which sends anyone else to the form (a fresh sign-in reads their groups as they are).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// Cognito group names (at most [`MAX_ASSIGNMENTS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Organisation ids (at most [`MAX_ASSIGNMENTS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organisations: Vec<OrgId>,
}

/// How many groups, and how many organisations, an app's access may list.
pub const MAX_ASSIGNMENTS: usize = 50;

impl Access {
    /// Both lists empty: everyone with an account may sign in.
    pub fn is_everyone(&self) -> bool {
        self.groups.is_empty() && self.organisations.is_empty()
    }

    /// Whether `profile` may sign in: always when the app lists no one; otherwise when one of
    /// its groups or its organisation is listed (names compared exactly, as Cognito's are).
    pub fn admits(&self, profile: &UserProfile) -> bool {
        self.is_everyone()
            || profile.groups.iter().any(|g| self.groups.contains(g))
            || profile.attributes.get(ORG_ATTRIBUTE).is_some_and(|org| self.organisations.iter().any(|o| o.as_str() == org))
    }

    fn validate(&self) -> Result<(), AppError> {
        if let Some(bad) = self.groups.iter().find(|g| !crate::directory::ports::is_cognito_name(g)) {
            return Err(AppError::Access(format!("`{bad}` is not a Cognito group name (1 to 128 characters, no spaces)")));
        }
        if self.groups.len() > MAX_ASSIGNMENTS || self.organisations.len() > MAX_ASSIGNMENTS {
            return Err(AppError::Access(format!("an app lists at most {MAX_ASSIGNMENTS} groups and {MAX_ASSIGNMENTS} organisations")));
        }
        let twice = |all: Vec<&str>| all.iter().enumerate().find(|(i, a)| all[..*i].contains(a)).map(|(_, a)| (*a).to_owned());
        if let Some(name) = twice(self.groups.iter().map(String::as_str).collect()).or_else(|| twice(self.organisations.iter().map(OrgId::as_str).collect())) {
            return Err(AppError::Access(format!("`{name}` is listed twice")));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    #[error("the app's access: {0}")]
    Access(String),
    #[error("the app needs at least one allowed return_to origin")]
    NoOrigins,
    #[error("the app's home_url must be an absolute URL on one of its allowed origins")]
    HomeUrl,
    #[error("the app's name is empty or longer than 200 characters")]
    BadName,
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error(transparent)]
    Target(#[from] TargetError),
}

impl App {
    /// Whether the app is an OpenID Connect client told when a bridge session it signed in
    /// through ends (it registered a `backchannel_logout_uri`).
    pub fn told_of_logout(&self) -> bool {
        matches!(&self.target, crate::tokens::targets::Target::Oidc(client) if client.backchannel_logout_uri.is_some())
    }

    /// How long the refresh tokens of one sign-in at this app live (seconds): its
    /// `refresh_token_lifetime_seconds`; 0 for an app that gives none (not an OpenID Connect
    /// client, or one without refresh tokens).
    pub fn refresh_token_lifetime(&self) -> u64 {
        match &self.target {
            Target::Oidc(client) => client.refresh_token_lifetime_seconds.unwrap_or(0),
            _ => 0,
        }
    }

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
        if let Some(url) = &self.home_url {
            ReturnTo::check(url, &self.allowed_origins).map_err(|_| AppError::HomeUrl)?;
        }
        self.access.validate()
    }

    /// The account page's link to this app for `profile`: `None` without a `home_url`, or when
    /// the app's access does not admit them.
    pub fn link(&self, profile: &UserProfile) -> Option<AppLink> {
        let url = self.home_url.clone().filter(|_| self.access.admits(profile))?;
        // A DiscourseConnect forum (its signed nonce), an OpenID Connect client (its state,
        // nonce and PKCE) and a SAML service provider (its request) begin their sign-ins
        // themselves: their own page sends the person to the bridge. The others take a
        // bridge-begun sign-in.
        let via = if matches!(self.target, Target::Discourse(_) | Target::Oidc(_) | Target::Saml(_)) { Via::App } else { Via::Bridge };
        Some(AppLink { id: self.id.clone(), name: self.name.clone(), url, via })
    }
}

/// An app the account page lists: its name and home page (`App::home_url`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppLink {
    pub id: AppId,
    pub name: String,
    /// The app's home page, an absolute URL on one of its allowed origins.
    pub url: String,
    pub via: Via,
}

/// How the account page opens an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// `GET /sso/{id}?return_to={url}`: the bridge session signs the person in and sends them there.
    Bridge,
    /// `url` itself: the app begins its own sign-in, which comes to the bridge.
    App,
}

#[cfg(test)]
mod tests {
    use super::{Access, AppError, MAX_ASSIGNMENTS, Via};
    use crate::common::profile::UserProfile;
    use crate::directory::org::OrgId;

    fn person(groups: &[&str], org: Option<&str>) -> UserProfile {
        let mut claims = serde_json::json!({"sub": "s-1", "cognito:groups": groups});
        if let Some(org) = org {
            claims["custom:org_id"] = org.into();
        }
        UserProfile::from_claims(claims.as_object().unwrap()).unwrap()
    }

    #[test]
    fn an_app_admits_everyone_until_it_lists_someone_then_only_those_it_lists() {
        let acme = OrgId::parse("org-acme").unwrap();
        assert!(Access::default().admits(&person(&[], None)));
        let access = Access { groups: vec!["agents".into()], organisations: vec![acme] };
        assert!(access.admits(&person(&["staff", "agents"], None)));
        assert!(access.admits(&person(&[], Some("org-acme"))));
        for (groups, org) in [(&["Agents", "agents-eu", "agent"][..], None), (&[], Some("org-acme2")), (&[], Some("")), (&[], None)] {
            assert!(!access.admits(&person(groups, org)), "{groups:?} {org:?}");
        }
        // Stored as before when it admits everyone: an app saved by this version reads in one
        // that knows no `access`.
        assert_eq!(serde_json::to_value(Access::default()).unwrap(), serde_json::json!({}));
    }

    #[test]
    fn an_apps_access_lists_cognito_group_names_and_organisations_once_each() {
        let groups = |names: &[&str]| Access { groups: names.iter().map(|n| (*n).to_owned()).collect(), organisations: vec![] }.validate();
        assert_eq!(groups(&["agents", "エージェント", &"g".repeat(128)]), Ok(()));
        for bad in ["", "two words", "tab\there", "new\nline", &"g".repeat(129)] {
            assert!(matches!(groups(&[bad]), Err(AppError::Access(_))), "{bad:?}");
        }
        assert!(matches!(groups(&["agents", "agents"]), Err(AppError::Access(m)) if m.contains("twice")));
        let many: Vec<String> = (0..=MAX_ASSIGNMENTS).map(|i| format!("g{i}")).collect();
        assert!(matches!(groups(&many.iter().map(String::as_str).collect::<Vec<_>>()), Err(AppError::Access(_))));
        let org = OrgId::parse("org-a").unwrap();
        assert!(Access { groups: vec![], organisations: vec![org.clone(), org] }.validate().is_err());
        assert!(serde_json::from_value::<Access>(serde_json::json!({"groups": ["a"], "users": ["b"]})).is_err(), "unknown fields refused");
    }

    #[test]
    fn a_home_url_is_on_one_of_the_apps_origins_and_is_listed_for_those_its_access_admits() {
        let mut app = crate::testing::demo_app();
        for bad in [
            "https://evil.example.com/",
            "javascript:alert(1)",
            "//acme.zendesk.com/",
            "/hc/en-us",
            "https://user@acme.zendesk.com/",
            "https://acme.zendesk.com.evil.example/",
            "http://acme.zendesk.com/",
        ] {
            app.home_url = Some(bad.into());
            assert_eq!(app.validate(), Err(AppError::HomeUrl), "{bad}");
        }
        app.home_url = Some("https://acme.zendesk.com/hc/ja".into());
        assert_eq!(app.validate(), Ok(()));
        let link = app.link(&person(&[], None)).unwrap();
        assert_eq!((link.url.as_str(), link.via), ("https://acme.zendesk.com/hc/ja", Via::Bridge));
        app.access = Access { groups: vec!["agents".into()], organisations: vec![] };
        assert!(app.link(&person(&["customers"], None)).is_none(), "not listed to someone the app does not admit");
        assert!(app.link(&person(&["agents"], None)).is_some());
        app.home_url = None;
        assert!(app.link(&person(&["agents"], None)).is_none(), "no home page: not listed");
        // A forum begins its own sign-in: the page links to it directly.
        app.target = serde_json::from_value(serde_json::json!({"kind": "discourse", "forum_url": "https://acme.zendesk.com"})).unwrap();
        app.home_url = Some("https://acme.zendesk.com/latest".into());
        assert_eq!(app.link(&person(&["agents"], None)).unwrap().via, Via::App);
    }
}
