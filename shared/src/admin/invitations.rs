//! Inviting a person from the console, as Okta's "Add person" and Auth0's "Create user" do:
//! Cognito makes the account (email verified, enabled) with a temporary password it mails in
//! the person's language (`CustomMessage_AdminCreateUser`, the operator's `invitation` template);
//! the form's first sign-in with it asks for a password of their own (the pool's rules and the
//! breach check apply). An invitation not taken up can be sent again, with a new temporary
//! password (the old one stops working). Admins only (the routes' role); never for an address
//! in a domain an organisation owns (its people come through SCIM or their company's sign-in)
//! nor one that has an account.

use serde::Deserialize;
use serde_json::json;

use super::AdminError;
use super::audit::Actor;
use super::people::{PeopleAdmin, Person, text};
use super::ports::Invitation;
use crate::common::email::Email;
use crate::common::language::Language;
use crate::directory::org::EmailDomain;
use crate::events::EventType;

/// Longest name (characters), as at sign-up.
const MAX_NAME: usize = 256;

/// `POST /admin/v1/people`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `ja` or `en` (the invitation's language and the person's); English by default.
    #[serde(default)]
    pub language: Option<String>,
}

impl NewPerson {
    /// The invitation, or what is wrong with it (`Invalid`).
    fn invitation(self) -> Result<Invitation, AdminError> {
        let email = Email::parse(&self.email).map_err(|_| AdminError::Invalid("email: not an email address".into()))?;
        let name = self.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME || n.chars().any(char::is_control)) {
            return Err(AdminError::Invalid(format!("name: at most {MAX_NAME} characters, no control characters")));
        }
        let language = match self.language.as_deref() {
            None => Language::En,
            Some(tag) => Language::parse(tag).ok_or_else(|| AdminError::Invalid("language: ja or en".into()))?,
        };
        Ok(Invitation { email, name, language })
    }
}

impl PeopleAdmin {
    /// Invites `new` (see the module): the person as they are now (status
    /// `FORCE_CHANGE_PASSWORD`). `Exists` when the address has an account; `Invalid` for an
    /// address of an organisation's domain. Recorded as `admin.user.invited`.
    pub async fn invite(&self, actor: &Actor, new: NewPerson, now: u64) -> Result<Person, AdminError> {
        let invitation = new.invitation()?;
        let domain = EmailDomain::of(&invitation.email).map_err(|_| AdminError::Invalid("email: not an email address".into()))?;
        if self.orgs.owner_of(&domain).await?.is_some() {
            return Err(AdminError::Invalid("an organisation owns this domain: its people come through SCIM or their company's sign-in".into()));
        }
        let username = self.directory.invite(&invitation).await?.ok_or_else(|| AdminError::Exists("a person with this email".into()))?;
        let (user, activity) = self.read(&username, now).await?;
        let after = json!({"email": invitation.email.as_str(), "language": invitation.language.tag()});
        self.record(EventType::AdminUserInvited, actor, &user, json!(null), after, now).await?;
        Ok(super::people::person(user, activity))
    }

    /// Sends `username`'s invitation again, with a new temporary password. `Invalid` unless it
    /// is an invitation not taken up (Cognito's `FORCE_CHANGE_PASSWORD`, enabled, not a
    /// company's person, whose account has no password of its own either). Recorded as
    /// `admin.user.invitation_resent`.
    pub async fn resend_invitation(&self, actor: &Actor, username: &str, now: u64) -> Result<Person, AdminError> {
        let (user, activity) = self.read(username, now).await?;
        let pending = user.status.as_deref() == Some("FORCE_CHANGE_PASSWORD") && text(&user, crate::common::profile::ORG_ATTRIBUTE).is_none();
        if !pending || !user.enabled {
            return Err(AdminError::Invalid("only an enabled person's invitation not taken up can be sent again".into()));
        }
        self.directory.resend_invitation(&user.username).await?;
        self.record(EventType::AdminUserInvitationResent, actor, &user, json!(null), json!({"email": text(&user, "email")}), now).await?;
        Ok(super::people::person(user, activity))
    }
}
