//! `UserDirectory` over the Cognito user pool's admin API: `AdminCreateUser` (verified email,
//! no invitation), `AdminGetUser` (adopting an existing user with the same email),
//! `AdminUpdateUserAttributes`, `AdminDisableUser` + `AdminUserGlobalSignOut`,
//! `AdminEnableUser`, `AdminDeleteUser`; and the operators' `PeopleDirectory` (the same calls,
//! with `AdminAddUserToGroup` and `AdminRemoveUserFromGroup`).
//!
//! SCIM users carry `custom:org_id` and `custom:scim_id`; the app client cannot write them, so a
//! person cannot move themselves into an organisation.
//!
//! Every Cognito error is sorted here, once (`classify`): worth retrying later (throttling,
//! outages, the bridge's own configuration) or refused for good as asked (`Refused`, with
//! Cognito's message), which the SCIM service records instead of retrying.

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType, ProviderUserIdentifierType, UserStatusType};

use super::pool_errors::{attribute, directory_error};
use crate::adapters::aws::Failure;
use crate::admin::ports::{Invitation, PeopleDirectory};
use crate::directory::org::OrgId;
use crate::directory::ports::{
    AccountLinker, AppClients, DirectoryError, LinkTarget, PoolUser, PoolUsers, UserDirectory, UserProvisioning, holds_console_role,
};
use crate::directory::scim::directory_user::DirectoryUser;
use serde_json::Value;

pub use crate::common::profile::{ORG_ATTRIBUTE, SCIM_ATTRIBUTE};

pub struct CognitoDirectory {
    client: Client,
    pool_id: String,
}

/// For calls whose aim is already met when the user no longer exists (delete, sign-out).
fn gone_is_done<T, E: aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata, R>(
    result: Result<T, aws_sdk_cognitoidentityprovider::error::SdkError<E, R>>,
) -> Result<(), DirectoryError> {
    match result.map_err(|e| directory_error(&e)) {
        Ok(_) | Err(DirectoryError::Gone) => Ok(()),
        Err(other) => Err(other),
    }
}

/// `user`'s attributes; the email (always verified: the organisation owns its domain) only when
/// it differs from `before`'s.
fn attributes(before: Option<&DirectoryUser>, user: &DirectoryUser) -> Result<Vec<AttributeType>, DirectoryError> {
    let mut out = vec![attribute(ORG_ATTRIBUTE, &user.org)?];
    // People created by corporate sign-in have no SCIM id.
    if !user.scim_id.is_empty() {
        out.push(attribute(SCIM_ATTRIBUTE, &user.scim_id)?);
    }
    if before.is_none_or(|b| b.email != user.email) {
        out.extend([attribute("email", &user.email)?, attribute("email_verified", "true")?]);
    }
    for (name, value) in [("given_name", &user.given_name), ("family_name", &user.family_name), ("name", &user.name)] {
        if let Some(value) = value {
            out.push(attribute(name, value)?);
        }
    }
    Ok(out)
}

impl CognitoDirectory {
    /// `AdminGetUser` of `name` (a user name, or an email Cognito takes in its place); `None`
    /// when there is no such user.
    async fn admin_get_user(
        &self,
        name: &str,
    ) -> Result<Option<aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput>, DirectoryError> {
        match self.client.admin_get_user().user_pool_id(&self.pool_id).username(name).send().await {
            Ok(out) => Ok(Some(out)),
            Err(e) => match directory_error(&e) {
                DirectoryError::Gone => Ok(None),
                other => Err(other),
            },
        }
    }

    /// The pool's own (not federated) account whose email is `email`, in any case: `AdminGetUser`
    /// with the email as the user name. Cognito answers that with the pool's own account only
    /// (federated ones are found by their user names alone), so no number of federated accounts
    /// asserting an address hides it. The status and the email are checked all the same: a
    /// federated user's name can itself look like an email (`provider_` and a SAML NameID).
    async fn own_account_of(
        &self,
        email: &str,
    ) -> Result<Option<aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput>, DirectoryError> {
        let Some(user) = self.admin_get_user(email).await? else { return Ok(None) };
        let same_email = user.user_attributes().iter().any(|a| a.name() == "email" && a.value().is_some_and(|v| v.to_lowercase() == email.to_lowercase()));
        Ok((same_email && user.user_status() != Some(&UserStatusType::ExternalProvider)).then_some(user))
    }

    pub fn new(client: Client, pool_id: impl Into<String>) -> Self {
        Self { client, pool_id: pool_id.into() }
    }

    /// `AdminCreateUser` of `user` (verified email, no invitation, enabled): its user name, or
    /// `None` when the email is another user's already.
    async fn create_new(&self, user: &DirectoryUser) -> Result<Option<String>, DirectoryError> {
        let created = self
            .client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(&user.email)
            .set_user_attributes(Some(attributes(None, user)?))
            .message_action(MessageActionType::Suppress)
            .send()
            .await;
        match created {
            Ok(out) => out.user.and_then(|u| u.username).map(Some).ok_or_else(|| DirectoryError::Unavailable("no user in the answer".into())),
            Err(e) if matches!(Failure::of(&e), Failure::Service { ref code } if code == "UsernameExistsException") => Ok(None),
            Err(e) => Err(directory_error(&e)),
        }
    }

    /// The groups of `username`, every page (Cognito answers 60 at a time) from the one `next`
    /// names (`None`: the first).
    async fn groups_from(&self, username: &str, mut next: Option<String>) -> Result<Vec<String>, DirectoryError> {
        let mut groups = Vec::new();
        loop {
            let call = self.client.admin_list_groups_for_user().user_pool_id(&self.pool_id).username(username).limit(60).set_next_token(next);
            let page = call.send().await.map_err(|e| directory_error(&e))?;
            groups.extend(page.groups().iter().filter_map(|g| g.group_name().map(str::to_owned)));
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                return Ok(groups);
            }
        }
    }

    /// The existing user with `user`'s email, if this SCIM user may take it over: one of the
    /// same organisation, or of none (a person who signed up before their company connected).
    /// Not one of none that an operator disabled (the directory does not overrule an operator),
    /// nor an operator's own, in a console role's group (the role would pass to whoever controls
    /// the company's directory and its provider): both `Refused`, saying why.
    async fn adopt(&self, user: &DirectoryUser) -> Result<String, DirectoryError> {
        let existing = self.client.admin_get_user().user_pool_id(&self.pool_id).username(&user.email).send().await.map_err(|e| directory_error(&e))?;
        let org = existing.user_attributes().iter().find(|a| a.name() == ORG_ATTRIBUTE).and_then(|a| a.value());
        if org.is_some_and(|o| o != user.org) {
            return Err(DirectoryError::Claimed(user.email.clone()));
        }
        if org.is_none() {
            if !existing.enabled() {
                return Err(DirectoryError::Refused(format!(
                    "the account of {} was disabled by an operator; enable it, then change the user in the directory to provision it",
                    user.email
                )));
            }
            let groups = self.groups_from(existing.username(), None).await?;
            if holds_console_role(&groups) {
                return Err(DirectoryError::Refused(format!("the account of {} holds a console role (an operator's); it is not provisioned", user.email)));
            }
        }
        let username = existing.username().to_owned();
        let email = existing.user_attributes().iter().find(|a| a.name() == "email").and_then(|a| a.value()).unwrap_or_default();
        let before = DirectoryUser { email: email.to_owned(), ..user.clone() };
        self.update(&username, Some(&before), user).await?;
        Ok(username)
    }
}

#[async_trait]
impl UserDirectory for CognitoDirectory {
    async fn create(&self, user: &DirectoryUser) -> Result<String, DirectoryError> {
        Ok(self.create_or_adopt(user).await?.0)
    }

    async fn create_or_adopt(&self, user: &DirectoryUser) -> Result<(String, bool), DirectoryError> {
        let (username, adopted) = match self.create_new(user).await? {
            Some(username) => (username, false),
            None => {
                let username = self.adopt(user).await?;
                if user.enabled {
                    UserDirectory::set_enabled(self, &username, true).await?;
                }
                (username, true)
            }
        };
        if !user.enabled {
            UserDirectory::set_enabled(self, &username, false).await?;
        }
        Ok((username, adopted))
    }

    async fn update(&self, username: &str, before: Option<&DirectoryUser>, user: &DirectoryUser) -> Result<(), DirectoryError> {
        self.client
            .admin_update_user_attributes()
            .user_pool_id(&self.pool_id)
            .username(username)
            .set_user_attributes(Some(attributes(before, user)?))
            .send()
            .await
            .map_err(|e| directory_error(&e))?;
        Ok(())
    }

    async fn scim_id(&self, username: &str) -> Result<Option<String>, DirectoryError> {
        let user = self.admin_get_user(username).await?;
        Ok(user.and_then(|u| u.user_attributes().iter().find(|a| a.name() == SCIM_ATTRIBUTE).and_then(|a| a.value().map(str::to_owned))))
    }

    async fn set_enabled(&self, username: &str, enabled: bool) -> Result<(), DirectoryError> {
        if enabled {
            self.client.admin_enable_user().user_pool_id(&self.pool_id).username(username).send().await.map_err(|e| directory_error(&e))?;
            return Ok(());
        }
        self.client.admin_disable_user().user_pool_id(&self.pool_id).username(username).send().await.map_err(|e| directory_error(&e))?;
        self.client.admin_user_global_sign_out().user_pool_id(&self.pool_id).username(username).send().await.map_err(|e| directory_error(&e))?;
        Ok(())
    }

    async fn delete(&self, username: &str) -> Result<(), DirectoryError> {
        gone_is_done(self.client.admin_delete_user().user_pool_id(&self.pool_id).username(username).send().await)
    }
}

#[async_trait]
impl UserProvisioning for CognitoDirectory {
    async fn create(&self, user: &DirectoryUser) -> Result<String, DirectoryError> {
        match self.create_new(user).await? {
            Some(username) => Ok(username),
            None => self.username_of(&user.email).await?.ok_or_else(|| DirectoryError::Unavailable("the email's user is gone".into())),
        }
    }
}

#[async_trait]
impl PoolUsers for CognitoDirectory {
    async fn unconfirmed(&self, name: &str) -> Result<Option<String>, DirectoryError> {
        let got = self.admin_get_user(name).await?;
        Ok(got.filter(|out| out.user_status() == Some(&UserStatusType::Unconfirmed)).map(|out| out.username().to_owned()))
    }

    async fn username_of(&self, name: &str) -> Result<Option<String>, DirectoryError> {
        Ok(self.admin_get_user(name).await?.map(|out| out.username().to_owned()))
    }

    async fn user(&self, name: &str) -> Result<Option<PoolUser>, DirectoryError> {
        // Side by side, both by the name given (a user name or an alias).
        let (got, groups) = tokio::join!(
            self.client.admin_get_user().user_pool_id(&self.pool_id).username(name).send(),
            self.client.admin_list_groups_for_user().user_pool_id(&self.pool_id).username(name).limit(60).send()
        );
        let got = match got {
            Ok(out) => out,
            Err(e) => {
                return match directory_error(&e) {
                    DirectoryError::Gone => Ok(None),
                    other => Err(other),
                };
            }
        };
        let first = groups.map_err(|e| directory_error(&e))?;
        let mut groups: Vec<String> = first.groups().iter().filter_map(|g| g.group_name().map(str::to_owned)).collect();
        // More than a page (60): the rest, page after page (a role could be on any of them).
        if let Some(next) = first.next_token() {
            groups.extend(self.groups_from(name, Some(next.to_owned())).await?);
        }
        let attributes = got.user_attributes().iter().filter_map(|a| Some((a.name().to_owned(), Value::String(a.value()?.to_owned())))).collect();
        let status = got.user_status().map(|s| s.as_str().to_owned());
        Ok(Some(PoolUser {
            username: got.username().to_owned(),
            enabled: got.enabled(),
            attributes,
            factors: got.user_mfa_setting_list().to_vec(),
            groups,
            status,
        }))
    }

    async fn own_account_with_email(&self, email: &str) -> Result<Option<String>, DirectoryError> {
        if crate::common::email::Email::parse(email).is_err() {
            return Ok(None);
        }
        Ok(self.own_account_of(email).await?.map(|own| own.username().to_owned()))
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<String>, DirectoryError> {
        if crate::common::email::Email::parse(email).is_err() {
            return Ok(None);
        }
        if let Some(own) = self.own_account_of(email).await? {
            return Ok(Some(own.username().to_owned()));
        }
        // A person with a federated account only: `ListUsers` (exact email; none for an address
        // that could change the filter).
        if email.contains('"') || email.contains('\\') {
            return Ok(None);
        }
        let filter = format!("email = \"{email}\"");
        let out = self.client.list_users().user_pool_id(&self.pool_id).filter(filter).limit(1).send().await.map_err(|e| directory_error(&e))?;
        Ok(out.users().first().and_then(|u| u.username()).map(str::to_owned))
    }

    async fn set_org(&self, username: &str, org: &OrgId) -> Result<(), DirectoryError> {
        self.client
            .admin_update_user_attributes()
            .user_pool_id(&self.pool_id)
            .username(username)
            .user_attributes(attribute(ORG_ATTRIBUTE, org.as_str())?)
            .send()
            .await
            .map_err(|e| directory_error(&e))?;
        Ok(())
    }

    async fn claim(&self, username: &str, password: &secrecy::SecretString, attributes: &[(&str, &str)]) -> Result<(), DirectoryError> {
        use secrecy::ExposeSecret;
        let attributes = attributes.iter().map(|(name, value)| attribute(name, value)).collect::<Result<Vec<_>, _>>()?;
        let set_password =
            self.client.admin_set_user_password().user_pool_id(&self.pool_id).username(username).password(password.expose_secret()).permanent(true);
        let set_attributes = self.client.admin_update_user_attributes().user_pool_id(&self.pool_id).username(username).set_user_attributes(Some(attributes));
        let (password, attributes) = tokio::join!(set_password.send(), set_attributes.send());
        password.map_err(|e| directory_error(&e))?;
        attributes.map_err(|e| directory_error(&e))?;
        Ok(())
    }

    async fn set_attributes(&self, username: &str, attributes: &[(&str, &str)]) -> Result<(), DirectoryError> {
        let attributes = attributes.iter().map(|(name, value)| attribute(name, value)).collect::<Result<Vec<_>, _>>()?;
        let out = self.client.admin_update_user_attributes().user_pool_id(&self.pool_id).username(username).set_user_attributes(Some(attributes)).send().await;
        out.map_err(|e| directory_error(&e))?;
        Ok(())
    }

    async fn sign_out(&self, username: &str) -> Result<(), DirectoryError> {
        gone_is_done(self.client.admin_user_global_sign_out().user_pool_id(&self.pool_id).username(username).send().await)
    }

    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), DirectoryError> {
        let out = self.client.admin_add_user_to_group().user_pool_id(&self.pool_id).username(username).group_name(group).send().await;
        out.map_err(|e| directory_error(&e))?;
        Ok(())
    }
}

#[async_trait]
impl AppClients for CognitoDirectory {
    async fn client_ids_named(&self, name: &str) -> Result<Vec<String>, DirectoryError> {
        let mut pages = self.client.list_user_pool_clients().user_pool_id(&self.pool_id).max_results(60).into_paginator().send();
        let mut ids = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| directory_error(&e))?;
            ids.extend(page.user_pool_clients().iter().filter(|c| c.client_name() == Some(name)).filter_map(|c| c.client_id().map(str::to_owned)));
        }
        Ok(ids)
    }
}

#[async_trait]
impl AccountLinker for CognitoDirectory {
    async fn verified_user_with_email(&self, email: &str) -> Result<Option<LinkTarget>, DirectoryError> {
        // Side by side, both by the email where a user name goes (the pool signs in by email).
        let (got, groups) = tokio::join!(self.own_account_of(email), self.groups_from(email, None));
        let Some(user) = got? else { return Ok(None) };
        let text = |name: &str| user.user_attributes().iter().find(|a| a.name() == name).and_then(|a| a.value());
        // A disabled account is an operator's to decide on (the triggers disable one a provider
        // made hold an address it may not): no provider is joined to it.
        if text("email_verified") != Some("true") || !user.enabled() {
            return Ok(None);
        }
        // An operator's own account is never another provider's to sign in to.
        if holds_console_role(&groups?) {
            tracing::warn!("a federated identity was not linked: the account with its email holds a console role");
            return Ok(None);
        }
        let org = text(ORG_ATTRIBUTE).filter(|o| !o.is_empty()).map(str::to_owned);
        Ok(Some(LinkTarget { username: user.username().to_owned(), org }))
    }

    async fn link(&self, username: &str, provider: &str, subject: &str) -> Result<(), DirectoryError> {
        let destination = ProviderUserIdentifierType::builder().provider_name("Cognito").provider_attribute_value(username).build();
        let source =
            ProviderUserIdentifierType::builder().provider_name(provider).provider_attribute_name("Cognito_Subject").provider_attribute_value(subject).build();
        let result = self.client.admin_link_provider_for_user().user_pool_id(&self.pool_id).destination_user(destination).source_user(source).send().await;
        match result {
            Ok(_) => Ok(()),
            // A retry of a link that was made: the source is already linked (to this user; linked
            // to another user is a refusal).
            Err(e) if e.code() == Some("InvalidParameterException") && e.message().is_some_and(|m| m.contains("already") && !m.contains("another")) => Ok(()),
            Err(e) => Err(directory_error(&e)),
        }
    }

    async fn disable(&self, username: &str) -> Result<(), DirectoryError> {
        UserDirectory::set_enabled(self, username, false).await
    }
}

#[async_trait]
impl PeopleDirectory for CognitoDirectory {
    async fn find_by_email(&self, email: &str) -> Result<Option<String>, DirectoryError> {
        PoolUsers::find_by_email(self, email).await
    }

    async fn user(&self, username: &str) -> Result<Option<PoolUser>, DirectoryError> {
        PoolUsers::user(self, username).await
    }

    async fn set_enabled(&self, username: &str, enabled: bool) -> Result<(), DirectoryError> {
        UserDirectory::set_enabled(self, username, enabled).await
    }

    async fn sign_out(&self, username: &str) -> Result<(), DirectoryError> {
        PoolUsers::sign_out(self, username).await
    }

    async fn reset_factors(&self, username: &str) -> Result<(), DirectoryError> {
        use aws_sdk_cognitoidentityprovider::types::{SmsMfaSettingsType, SoftwareTokenMfaSettingsType};
        let sms = SmsMfaSettingsType::builder().enabled(false).preferred_mfa(false).build();
        let totp = SoftwareTokenMfaSettingsType::builder().enabled(false).preferred_mfa(false).build();
        let call = self.client.admin_set_user_mfa_preference().user_pool_id(&self.pool_id).username(username);
        call.sms_mfa_settings(sms).software_token_mfa_settings(totp).send().await.map(drop).map_err(|e| directory_error(&e))
    }

    async fn require_password_reset(&self, username: &str) -> Result<(), DirectoryError> {
        match self.client.admin_reset_user_password().user_pool_id(&self.pool_id).username(username).send().await {
            Ok(_) => Ok(()),
            // Here Cognito's "not authorized" is the account's state: not confirmed, or disabled.
            Err(e) if e.code() == Some("NotAuthorizedException") => {
                Err(DirectoryError::Refused(format!("NotAuthorizedException: {}", e.message().unwrap_or_default())))
            }
            Err(e) => Err(directory_error(&e)),
        }
    }

    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), DirectoryError> {
        PoolUsers::add_to_group(self, username, group).await
    }

    async fn remove_from_group(&self, username: &str, group: &str) -> Result<(), DirectoryError> {
        let out = self.client.admin_remove_user_from_group().user_pool_id(&self.pool_id).username(username).group_name(group).send().await;
        out.map(drop).map_err(|e| directory_error(&e))
    }

    async fn invite(&self, invitation: &Invitation) -> Result<Option<PoolUser>, DirectoryError> {
        super::invitations::invite(&self.client, &self.pool_id, invitation).await
    }

    async fn resend_invitation(&self, username: &str) -> Result<(), DirectoryError> {
        super::invitations::resend(&self.client, &self.pool_id, username).await
    }
}
