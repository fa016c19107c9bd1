//! Which Cognito user a company's provider vouched for: the one linked to its subject before
//! (a link to a user since deleted counts as none), else by email (through SCIM, or found or
//! created on first sign-in, as the connection says); then checked (its organisation, SCIM's
//! `active`, Cognito's enabled state). Not the provider's checks (the parent module's).

use super::{Corporate, CorporateError};
use crate::common::email::Email;
use crate::common::profile::{ORG_ATTRIBUTE, SCIM_ATTRIBUTE};
use crate::directory::org::{Connection, ConnectionKind, Organisation, Provisioning};
use crate::directory::ports::{PoolUser, ScimEntry};
use crate::directory::scim::directory_user::DirectoryUser;
use crate::directory::scim::filter::Lookup;
use crate::directory::scim::resource::Kind;
use crate::signin::oidc::{ClaimError, Identity};
use serde_json::Value;
use std::time::Duration;

/// How long the user read ahead of the link may take ([`Corporate::guess`]); in the region a
/// read takes about 30 ms.
const GUESS_TIMEOUT: Duration = Duration::from_millis(500);

impl Corporate {
    /// The Cognito user for `identity`: linked before, else by email; then checked; its email
    /// marked verified where the provider answers for it ([`vouch_for_email`]).
    pub(super) async fn user_for(&self, org: &Organisation, connection: &Connection, identity: &Identity) -> Result<PoolUser, CorporateError> {
        // Through a pool, only from the connection's own provider: the authorize step's
        // `identity_provider` is the browser's to change.
        if let (ConnectionKind::Cognito, Some(provider)) = (connection.kind, &connection.identity_provider)
            && !identity.providers.iter().any(|p| p == provider)
        {
            return Err(CorporateError::OtherProvider);
        }
        // The link decides who this is; the user it most likely leads to is read beside it.
        let (link, guess) = tokio::join!(self.ports.links.find(&org.id, &identity.issuer, &identity.subject), self.guess(connection, identity));
        let linked_user = match link? {
            Some(username) => self.user_named(&username, guess.as_ref()).await?,
            None => None,
        };
        // No link, or one to a user since deleted (offboarded, then provisioned again as a new
        // user): the person is found as on a first sign-in, and linked anew.
        let (user, linked) = match linked_user {
            Some(user) => (user, true),
            None => (self.unlinked(org, connection, identity, guess.as_ref()).await?, false),
        };
        let adopted = match user.attributes.get(ORG_ATTRIBUTE).and_then(|v| v.as_str()) {
            Some(o) if o == org.id.as_str() => false,
            Some(_) => return Err(CorporateError::OtherOrganisation),
            None => true,
        };
        // An operator's own account (a console role's group) is never taken into a company: the
        // company's provider would then decide who holds the role. A role is granted after.
        if adopted && crate::directory::ports::holds_console_role(&user.groups) {
            return Err(CorporateError::OtherOrganisation);
        }
        if connection.provisioning == Provisioning::Scim {
            let scim_id = user.attributes.get(SCIM_ATTRIBUTE).and_then(|v| v.as_str()).ok_or(CorporateError::NotProvisioned)?;
            let entry = self.ports.scim.get(&org.id, Kind::User, scim_id).await?.ok_or(CorporateError::Deactivated)?;
            check_active(&entry)?;
        }
        if !user.enabled {
            return Err(CorporateError::Deactivated);
        }
        let mut user = user;
        // Into the organisation only once the sign-in is let through; the claims this sign-in
        // goes on with (an app's access, its token) name it too.
        if adopted {
            self.shared.pool.set_org(&user.username, &org.id).await?;
            user.attributes.insert(ORG_ATTRIBUTE.into(), Value::String(org.id.as_str().to_owned()));
        }
        if !linked {
            self.ports.links.save(&org.id, &identity.issuer, &identity.subject, &user.username).await?;
        }
        vouch_for_email(&mut user, identity, connection.kind);
        Ok(user)
    }

    /// The Cognito user of a person no link leads to: the pool's own (a pool connection), else
    /// found (or made) by the email the provider vouches for.
    async fn unlinked(&self, org: &Organisation, connection: &Connection, identity: &Identity, guess: Option<&PoolUser>) -> Result<PoolUser, CorporateError> {
        let username = match connection.kind {
            // The pool federated the person itself: the token is for its own user.
            ConnectionKind::Cognito => identity.pool_username.clone().ok_or(CorporateError::Claims(ClaimError::Subject))?,
            // Finding (or making) an account by email needs an email the provider vouches for:
            // anyone can put a colleague's address in their own profile (nOAuth).
            ConnectionKind::Oidc if !identity.email_verified => return Err(CorporateError::EmailNotVerified),
            ConnectionKind::Oidc => match connection.provisioning {
                Provisioning::Scim => self.provisioned(org, &identity.email).await?,
                // An existing user keeps its enabled state: signing in never re-enables anyone.
                // The pool's own account only: a federated one another provider made with the
                // address is never the person's.
                Provisioning::OnFirstSignIn => match self.shared.pool.own_account_with_email(identity.email.as_str()).await? {
                    Some(username) => username,
                    None => self.ports.directory.create(&directory_user(org, identity)).await?,
                },
            },
        };
        self.user_named(&username, guess).await?.ok_or(CorporateError::NotProvisioned)
    }

    /// The user the identity names, read ahead by a name Cognito takes for it: the pool's user
    /// name from a pool's token, else the email the provider gives (the pool's username
    /// attribute). It never decides who signs in: [`Self::user_named`] takes it only for the user
    /// name the link (or the email's own lookup) has already decided on, so an email naming a
    /// colleague costs two Cognito reads and nothing else. By an email, its attributes and its
    /// groups are two reads by that email (`PoolUsers::user`), which could be two users' only if
    /// the email moved from one user to another between them, within [`GUESS_TIMEOUT`]. `None`
    /// when it finds no one, fails or takes longer than that (the user is then read by user name,
    /// so a slow Cognito costs this wait once, not a whole read's timeout).
    async fn guess(&self, connection: &Connection, identity: &Identity) -> Option<PoolUser> {
        let name = match connection.kind {
            ConnectionKind::Cognito => identity.pool_username.as_deref()?,
            ConnectionKind::Oidc => identity.email.as_str(),
        };
        match tokio::time::timeout(GUESS_TIMEOUT, self.shared.pool.user(name)).await {
            Ok(Ok(user)) => user,
            Ok(Err(error)) => {
                tracing::debug!(%error, "the user read ahead failed; read by user name instead");
                None
            }
            Err(_) => None,
        }
    }

    /// User `username`: the guess when it is that user, else read.
    async fn user_named(&self, username: &str, guess: Option<&PoolUser>) -> Result<Option<PoolUser>, CorporateError> {
        match guess {
            Some(user) if user.username == username => Ok(Some(user.clone())),
            _ => self.shared.pool.user(username).await.map_err(Into::into),
        }
    }

    /// The Cognito user SCIM provisioned with this email (as an email or as the `userName`).
    async fn provisioned(&self, org: &Organisation, email: &Email) -> Result<String, CorporateError> {
        // One user only: more is not provisioned (and is not read), as it was before the limit.
        let one = |found: Result<Vec<ScimEntry>, crate::common::store::StoreError>| match found {
            Err(crate::common::store::StoreError::Limit(_)) => Err(CorporateError::NotProvisioned),
            other => other.map_err(CorporateError::from),
        };
        let mut found = one(self.ports.scim.lookup(&org.id, Kind::User, &Lookup::Email(email.as_str().to_owned()), 1).await)?;
        if found.is_empty() {
            found = one(self.ports.scim.lookup(&org.id, Kind::User, &Lookup::UserName(email.as_str().to_owned()), 1).await)?;
        }
        let [entry] = found.as_slice() else { return Err(CorporateError::NotProvisioned) };
        check_active(entry)?;
        entry.link.username.clone().ok_or(CorporateError::NotProvisioned)
    }
}

/// The organisation's provider answers for the emails of the organisation's domains (the token's
/// email was checked against them): that email, when it is the account's own, counts as verified,
/// so apps are given it. Accounts the bridge made or SCIM provisioned have `email_verified`
/// already; the pool's own federated users (a `cognito` connection) have it only where the
/// pool's attribute mapping gives it (SAML sends none).
pub(super) fn vouch_for_email(user: &mut PoolUser, identity: &Identity, kind: ConnectionKind) {
    // An OpenID provider vouches only where it says so (`email_verified`, a `upn`); the pool's
    // token comes from the connection's own identity provider.
    let vouched = identity.email_verified || kind == ConnectionKind::Cognito;
    let own = user.attributes.get("email").and_then(Value::as_str).is_some_and(|email| email.eq_ignore_ascii_case(identity.email.as_str()));
    if vouched && own {
        user.attributes.insert("email_verified".into(), Value::String("true".into()));
    }
}

fn check_active(entry: &ScimEntry) -> Result<(), CorporateError> {
    let active = entry.record.data.get("active").and_then(|v| v.as_bool()).unwrap_or(true);
    if entry.deleted.is_some() || !active { Err(CorporateError::Deactivated) } else { Ok(()) }
}

fn directory_user(org: &Organisation, identity: &Identity) -> DirectoryUser {
    DirectoryUser {
        email: identity.email.as_str().to_owned(),
        given_name: identity.given_name.clone(),
        family_name: identity.family_name.clone(),
        name: identity.name.clone(),
        org: org.id.as_str().to_owned(),
        scim_id: String::new(),
        enabled: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Only the email the provider gave, when it is the account's own, counts as verified: an
    /// account linked before whose email has since become another's keeps Cognito's word.
    #[test]
    fn the_provider_vouches_only_for_the_email_it_gave() {
        let identity = |email: &str| Identity {
            issuer: "https://idp.corp.example".into(),
            subject: "emp-1".into(),
            email: Email::parse(email).unwrap_or_else(|e| panic!("{e}")),
            name: None,
            given_name: None,
            family_name: None,
            pool_username: None,
            email_verified: false,
            providers: Vec::new(),
            second_factor: false,
        };
        let user = |email: &str| PoolUser {
            username: "u-1".into(),
            enabled: true,
            attributes: json!({"email": email}).as_object().cloned().unwrap_or_default(),
            groups: Vec::new(),
            factors: Vec::new(),
            status: None,
        };
        let mut own = user("Taro@Corp.Example");
        vouch_for_email(&mut own, &identity("taro@corp.example"), ConnectionKind::Cognito);
        assert_eq!(own.attributes.get("email_verified"), Some(&json!("true")));
        let mut other = user("someone@other.example");
        vouch_for_email(&mut other, &identity("taro@corp.example"), ConnectionKind::Cognito);
        assert_eq!(other.attributes.get("email_verified"), None);
        // An OpenID provider that does not vouch for the email (`email_verified: false`).
        let mut unvouched = user("taro@corp.example");
        vouch_for_email(&mut unvouched, &identity("taro@corp.example"), ConnectionKind::Oidc);
        assert_eq!(unvouched.attributes.get("email_verified"), None);
        let mut vouched = user("taro@corp.example");
        vouch_for_email(&mut vouched, &Identity { email_verified: true, ..identity("taro@corp.example") }, ConnectionKind::Oidc);
        assert_eq!(vouched.attributes.get("email_verified"), Some(&json!("true")));
    }
}
