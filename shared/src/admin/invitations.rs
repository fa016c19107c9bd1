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
use super::people::{Activity, PeopleAdmin, Person, text};
use super::ports::Invitation;
use crate::common::email::Email;
use crate::common::language::Language;
use crate::directory::org::EmailDomain;
use crate::events::EventType;
use crate::signin::ports::CodeAsker;
use crate::signin::sign_up::SIGN_UP_WINDOW;

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
        // As at sign-up (and on the account page): 1 to 100 characters, no control characters.
        let name = match self.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            None => None,
            Some(raw) => Some(
                crate::signin::sign_up::person_name(raw)
                    .map_err(|_| AdminError::Invalid("name: 1 to 100 characters, no control characters".into()))?
                    .to_owned(),
            ),
        };
        let language = match self.language.as_deref() {
            None => Language::En,
            Some(tag) => Language::parse(tag).ok_or_else(|| AdminError::Invalid("language: ja or en".into()))?,
        };
        Ok(Invitation { email, name, language })
    }
}

impl PeopleAdmin {
    /// Invites `new` (see the module): the person as they are now (status
    /// `FORCE_CHANGE_PASSWORD`). `Exists` when the address has an account (the pool's own or a
    /// federated one); `Invalid` for an address of an organisation's domain. Recorded as
    /// `admin.user.invited`, as soon as the account is made.
    pub async fn invite(&self, actor: &Actor, new: NewPerson, now: u64) -> Result<Person, AdminError> {
        let invitation = new.invitation()?;
        // Cognito's uniqueness covers its own accounts; a federated one's address is looked up too.
        let (owner, existing) = tokio::join!(self.unowned(&invitation.email), self.directory.find_by_email(invitation.email.as_str()));
        owner?;
        if existing?.is_some() {
            return Err(AdminError::Exists("a person with this email".into()));
        }
        let invited = self.directory.invite(&invitation).await?.ok_or_else(|| AdminError::Exists("a person with this email".into()))?;
        // Recorded at once, from Cognito's answer (the account exists and the email is on its way).
        let after = json!({"email": invitation.email.as_str(), "language": invitation.language.tag()});
        self.record(EventType::AdminUserInvited, actor, &invited, json!(null), after, now).await?;
        // The person as the API shows one; as Cognito answered, should the read fail.
        match self.person(&invited.username, now).await {
            Ok(person) => Ok(person),
            Err(e) => {
                tracing::warn!(error = %e, "the invited person could not be read back");
                Ok(super::people::person(invited, Activity::default()))
            }
        }
    }

    /// `Invalid` when an organisation owns `email`'s domain (its people come through SCIM or
    /// their company's sign-in).
    async fn unowned(&self, email: &Email) -> Result<(), AdminError> {
        let domain = EmailDomain::of(email).map_err(|_| AdminError::Invalid("email: not an email address".into()))?;
        match self.orgs.owner_of(&domain).await? {
            Some(_) => Err(AdminError::Invalid("an organisation owns this domain: its people come through SCIM or their company's sign-in".into())),
            None => Ok(()),
        }
    }

    /// Sends `username`'s invitation again, with a new temporary password. Recorded as
    /// `admin.user.invitation_resent`.
    ///
    /// Errors: `Invalid` unless it is an invitation not taken up (Cognito's
    /// `FORCE_CHANGE_PASSWORD`, enabled, not a company's person, whose account has no password of
    /// its own either, its domain owned by no organisation); `TooMany` past the address's emails
    /// this hour (the form's 5), until the hour turns.
    pub async fn resend_invitation(&self, actor: &Actor, username: &str, now: u64) -> Result<Person, AdminError> {
        let (user, activity) = self.read(username, now).await?;
        let pending = user.status.as_deref() == Some("FORCE_CHANGE_PASSWORD") && text(&user, crate::common::profile::ORG_ATTRIBUTE).is_none();
        let email = text(&user, "email").and_then(|e| Email::parse(&e).ok());
        let (Some(email), true, true) = (email, pending, user.enabled) else {
            return Err(AdminError::Invalid("only an enabled person's invitation not taken up can be sent again".into()));
        };
        // The domain again (an organisation may have claimed it since), and the address's emails
        // counted as the form's codes are: an admin cannot fill someone's mailbox either.
        self.unowned(&email).await?;
        if !self.codes.other_code_sent(email.as_str(), CodeAsker::Anyone, now).await? {
            // The address's count is per clock hour: it may be sent again when the hour turns.
            let retry_after = SIGN_UP_WINDOW - now % SIGN_UP_WINDOW;
            return Err(AdminError::TooMany { message: "this address has had too many emails this hour; send the invitation again later".into(), retry_after });
        }
        self.directory.resend_invitation(&user.username).await?;
        self.record(EventType::AdminUserInvitationResent, actor, &user, json!(null), json!({"email": text(&user, "email")}), now).await?;
        Ok(super::people::person(user, activity))
    }
}
