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
use std::time::Duration;

/// How long the user read ahead of the link may take ([`Corporate::guess`]); in the region a
/// read takes about 30 ms.
const GUESS_TIMEOUT: Duration = Duration::from_millis(500);

impl Corporate {
    /// The Cognito user for `identity`: linked before, else by email; then checked.
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
        if connection.provisioning == Provisioning::Scim {
            let scim_id = user.attributes.get(SCIM_ATTRIBUTE).and_then(|v| v.as_str()).ok_or(CorporateError::NotProvisioned)?;
            let entry = self.ports.scim.get(&org.id, Kind::User, scim_id).await?.ok_or(CorporateError::Deactivated)?;
            check_active(&entry)?;
        }
        if !user.enabled {
            return Err(CorporateError::Deactivated);
        }
        // Into the organisation only once the sign-in is let through.
        if adopted {
            self.shared.pool.set_org(&user.username, &org.id).await?;
        }
        if !linked {
            self.ports.links.save(&org.id, &identity.issuer, &identity.subject, &user.username).await?;
        }
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
                Provisioning::OnFirstSignIn => match self.shared.pool.find_by_email(identity.email.as_str()).await? {
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
        let mut found = self.ports.scim.lookup(&org.id, Kind::User, &Lookup::Email(email.as_str().to_owned())).await?;
        if found.is_empty() {
            found = self.ports.scim.lookup(&org.id, Kind::User, &Lookup::UserName(email.as_str().to_owned())).await?;
        }
        let [entry] = found.as_slice() else { return Err(CorporateError::NotProvisioned) };
        check_active(entry)?;
        entry.link.username.clone().ok_or(CorporateError::NotProvisioned)
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
