//! Invitations over the pool's admin API (`PeopleDirectory::invite`, `resend_invitation`):
//! `AdminCreateUser` with the email verified and the invitation mailed (Cognito makes the
//! temporary password), and with `MessageAction: RESEND` for an invitation not taken up.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{DeliveryMediumType, MessageActionType};
use serde_json::Value;

use super::pool_errors::{attribute, directory_error};
use crate::admin::ports::Invitation;
use crate::directory::ports::{DirectoryError, PoolUser};

/// The invited user as `AdminCreateUser` answers (no groups, no factors); `None` when the
/// address is another user's already.
pub(super) async fn invite(client: &Client, pool_id: &str, invitation: &Invitation) -> Result<Option<PoolUser>, DirectoryError> {
    let email = invitation.email.as_str();
    let mut attributes = vec![attribute("email", email)?, attribute("email_verified", "true")?, attribute("locale", invitation.language.tag())?];
    if let Some(name) = &invitation.name {
        attributes.push(attribute("name", name)?);
    }
    let call = client.admin_create_user().user_pool_id(pool_id).username(email).set_user_attributes(Some(attributes));
    let user = match call.desired_delivery_mediums(DeliveryMediumType::Email).send().await {
        Ok(out) => out.user.ok_or_else(|| DirectoryError::Unavailable("no user in the answer".into()))?,
        Err(e) if matches!(e.code(), Some("UsernameExistsException" | "AliasExistsException")) => return Ok(None),
        Err(e) => return Err(directory_error(&e)),
    };
    let attributes = user.attributes().iter().filter_map(|a| Some((a.name().to_owned(), Value::String(a.value()?.to_owned())))).collect();
    Ok(Some(PoolUser {
        username: user.username.clone().ok_or_else(|| DirectoryError::Unavailable("no user name in the answer".into()))?,
        enabled: user.enabled(),
        attributes,
        groups: Vec::new(),
        factors: Vec::new(),
        status: user.user_status().map(|s| s.as_str().to_owned()),
    }))
}

/// A new temporary password mailed to `username`'s invitation not taken up; `Refused` in any
/// other state (Cognito's `UnsupportedUserStateException`).
pub(super) async fn resend(client: &Client, pool_id: &str, username: &str) -> Result<(), DirectoryError> {
    let call = client.admin_create_user().user_pool_id(pool_id).username(username).message_action(MessageActionType::Resend);
    match call.desired_delivery_mediums(DeliveryMediumType::Email).send().await {
        Ok(_) => Ok(()),
        // The account has taken up its invitation, or has a password of its own.
        Err(e) if e.code() == Some("UnsupportedUserStateException") => Err(DirectoryError::Refused("UnsupportedUserStateException".into())),
        Err(e) => Err(directory_error(&e)),
    }
}
