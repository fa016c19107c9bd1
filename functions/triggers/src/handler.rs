//! One Cognito trigger event in, the same event with `response` filled in out. Events are read
//! as JSON (`aws_lambda_events` models PreTokenGeneration claims as strings only; V2 claims may
//! be any JSON type). What each trigger does, and its AWS calls:
//!
//! - `PreSignUp_ExternalProvider`: a first federated sign-in whose provider vouches for the email
//!   (`email_verified`) is linked to the pool's own user with that verified email (`ListUsers`,
//!   `AdminLinkProviderForUser`) and then ends with [`LINKED_RETRY`]: Cognito cannot use a link
//!   made during the sign-in that made it ("Already found an entry for username"), so that first
//!   attempt fails on purpose and the next signs in as the existing account. An unverified email
//!   is never linked. Other sign-ups: nothing (0 calls).
//! - `PostConfirmation_ConfirmSignUp`: records `user.registered` (1 conditional `PutItem`; its id
//!   is the user's, so Cognito's retries record it once).
//! - `PostAuthentication_*`: the person's last sign-in (1 `PutItem`); a failure is logged, never
//!   a failed sign-in.
//! - `TokenGeneration_*`: the `org` and `app_roles` claims in the ID and access tokens (0 calls).
//!
//! Anything else comes back unchanged.

use serde_json::{Map, Value, json};
use shared::common::store::StoreError;
use shared::directory::ports::DirectoryError;
use shared::directory::triggers::{LINKED_RETRY, link_first_federated_sign_in, registered, token_claims};
use shared::workflows::inactivity::LastSignIn;

use crate::state::Triggers;

/// Why a trigger fails the Cognito operation (Cognito shows the message to the caller).
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// The first federated sign-in of a person whose accounts were just linked.
    #[error("{LINKED_RETRY}")]
    Linked,
    #[error("could not check for an existing account; try again")]
    Directory(#[from] DirectoryError),
    #[error("could not record the sign-up; try again")]
    Store(#[from] StoreError),
}

pub async fn handle(triggers: &Triggers, mut event: Value, now: u64) -> Result<Value, TriggerError> {
    let source = event["triggerSource"].as_str().unwrap_or_default().to_owned();
    let attributes = event["request"]["userAttributes"].as_object().cloned().unwrap_or_default();
    let username = event["userName"].as_str().unwrap_or_default().to_owned();
    let pool = event["userPoolId"].as_str().unwrap_or_default().to_owned();
    match source.as_str() {
        "PreSignUp_ExternalProvider" if link_first_federated_sign_in(&*(triggers.linkers)(&pool), &username, &attributes).await? => {
            return Err(TriggerError::Linked);
        }
        "PostConfirmation_ConfirmSignUp" => {
            if let Some(registration) = registered(&pool, &username, &attributes, event["callerContext"]["clientId"].as_str(), now) {
                triggers.events.record(&registration).await?;
            }
        }
        s if s.starts_with("PostAuthentication_") => {
            let text = |k: &str| attributes.get(k).and_then(Value::as_str).map(str::to_owned);
            let verified = text("email_verified").as_deref() == Some("true");
            let person = LastSignIn { username: username.clone(), sub: text("sub").unwrap_or_default(), email: text("email").filter(|_| verified), at: now };
            if let Err(e) = triggers.activity.signed_in(&person).await {
                tracing::warn!(error = %e, "could not record the last sign-in");
            }
        }
        s if s.starts_with("TokenGeneration_") => add_claims(&mut event, &attributes),
        _ => {}
    }
    Ok(event)
}

/// The claims for V2/V3 events (typed JSON in both tokens), or V1 (ID token, strings only).
fn add_claims(event: &mut Value, attributes: &Map<String, Value>) {
    let groups: Vec<String> =
        event["request"]["groupConfiguration"]["groupsToOverride"].as_array().into_iter().flatten().filter_map(|g| g.as_str().map(str::to_owned)).collect();
    let claims = token_claims(attributes, &groups);
    if claims.is_empty() {
        return;
    }
    let response = match event["version"].as_str() {
        Some("1") | None => {
            let strings: Map<String, Value> = claims.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned).into())).collect();
            json!({"claimsOverrideDetails": {"claimsToAddOrOverride": strings}})
        }
        Some(_) => json!({"claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {"claimsToAddOrOverride": claims},
            "accessTokenGeneration": {"claimsToAddOrOverride": claims},
        }}),
    };
    event["response"] = response;
}
