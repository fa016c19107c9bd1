//! One Cognito trigger event in, the event back with `response` filled in where the trigger
//! answers. Each event is read as its `aws_lambda_events` type, chosen by `triggerSource`; only
//! token generation writes a response, so the others return the event as Cognito sent it. What
//! each trigger does, and its AWS calls:
//!
//! - `PreSignUp_ExternalProvider` (`first_federated_sign_in`; the email domain's organisation:
//!   1 `GetItem`, 2 for an organisation's domain, kept 60 s when found):
//!   - an organisation's address through any provider but its own `cognito` connection's, another
//!     address through a provider that is neither social nor one of the operator's
//!     (`OPERATOR_PROVIDERS`), or an address the bridge does not read, is refused with
//!     [`NOT_ITS_PROVIDER`] (`may_assert`): no account is made;
//!   - a provider that vouches for the email (`email_verified`) is linked to the pool's own user
//!     with that verified email when it answers for it (`may_link`; `AdminGetUser` and
//!     `AdminListGroupsForUser` by the email, side by side; `AdminLinkProviderForUser`), and the
//!     sign-in then ends with [`LINKED_RETRY`]: Cognito cannot use a link made during the sign-in
//!     that made it ("Already found an entry for username"), so that first attempt fails on
//!     purpose and the next signs in as the existing account;
//!   - otherwise a new account (an unverified email is never linked). Other sign-ups: nothing
//!     (0 calls).
//! - `PreSignUp_SignUp`, `CustomMessage_SignUp`, `CustomMessage_ResendCode`,
//!   `CustomMessage_ForgotPassword` (`public_flow`): refused with [`NOT_THROUGH_THIS_CLIENT`]
//!   when their caller is the sign-in client, whose secret whoever may read the functions'
//!   configuration can read (`refuses_sign_in_client`; its id by name, 1 `ListUserPoolClients`
//!   per pool and hour). Then as below.
//! - `PostConfirmation_ConfirmSignUp`: records `user.registered` (1 conditional `PutItem`; its id
//!   is the user's, so Cognito's retries record it once).
//! - `PostAuthentication_Authentication`: the person's last sign-in (1 `UpdateItem`); a failure, or
//!   an event that does not read, is logged, never a failed sign-in.
//! - `CustomMessage_*`: the email in the person's language ([`shared::messages`]): the subject
//!   and HTML body from the operator's templates (1 `Query` per cache period, 60 s; if it fails
//!   or takes over 800 ms, the ones held, else the shipped ones) with Cognito's placeholders, so
//!   Cognito sends it. An event that does not read comes back unchanged (Cognito's own text). SMS texts are left
//!   to Cognito (or the telephony hook's sender).
//! - `TokenGeneration_*` (every sign-in and refresh of a person): first, an account a provider
//!   speaks for (a federated user's own, a company provider linked to it) is held to
//!   `may_assert` for the email it now holds, as its provider rewrote it (`sign_in_refusal`: the
//!   organisations read as above), and refused with [`NOT_ITS_PROVIDER`], its account disabled
//!   (`AdminDisableUser`, `AdminUserGlobalSignOut`: Cognito wrote the address to it already, and
//!   lookups by email must not take it); other accounts cost no read. Then, for the sources
//!   `aws_lambda_events` knows (`version` "1" or later): the `org` and `app_roles` claims in the
//!   ID and access tokens (0 calls). The groups Cognito put in the request are returned as they
//!   came, so the token keeps them.
//!
//! Anything else (other sources, `TokenGeneration_ClientCredentials` of machine-to-machine
//! tokens, which have no person) comes back unchanged. An event of a source we answer that does
//! not read as its type fails the trigger ([`TriggerError::Malformed`]): a token without the
//! claims it should carry is worse than a sign-in to retry.

use aws_lambda_events::event::cognito::{
    ClaimsAndScopeOverrideDetailsV2, ClaimsOverrideDetails, CognitoAccessTokenGenerationV2, CognitoEventUserPoolsCustomMessageRequest,
    CognitoEventUserPoolsPostAuthentication, CognitoEventUserPoolsPostConfirmation, CognitoEventUserPoolsPreSignup, CognitoEventUserPoolsPreTokenGen,
    CognitoEventUserPoolsPreTokenGenTriggerSource, CognitoEventUserPoolsPreTokenGenV2, CognitoIdTokenGenerationV2,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::common::store::StoreError;
use shared::directory::ports::DirectoryError;
use shared::directory::triggers::{
    FirstSignIn, LINKED_RETRY, LinkError, NOT_ITS_PROVIDER, NOT_THROUGH_THIS_CLIENT, first_federated_sign_in, public_flow, refuses_sign_in_client, registered,
    sign_in_refusal, token_claims,
};
use shared::messages::custom_message::{MessageRequest, custom_message};
use shared::messages::email::EmailKind;
use shared::workflows::inactivity::LastSignIn;

use crate::state::Triggers;

/// Why a trigger fails the Cognito operation (Cognito shows the message to the caller).
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// The first federated sign-in of a person whose accounts were just linked.
    #[error("{LINKED_RETRY}")]
    Linked,
    /// A sign-in (first or later) whose account a provider speaks for that may not hold its
    /// email (`may_assert`: an organisation's address through another provider, another through
    /// a company's, one the bridge does not read).
    #[error("{NOT_ITS_PROVIDER}")]
    NotItsProvider,
    /// Sign-up, a code sent again or a password reset, asked for through the sign-in client.
    #[error("{NOT_THROUGH_THIS_CLIENT}")]
    NotThroughThisClient,
    /// The pool's app clients could not be listed to decide a [`public_flow`].
    #[error("could not check the app client; try again")]
    AppClients(DirectoryError),
    #[error("could not check for an existing account; try again")]
    Directory(#[from] DirectoryError),
    #[error("could not record the sign-up; try again")]
    Store(#[from] StoreError),
    /// The organisations could not be read to decide a sign-in a provider speaks for.
    #[error("could not check the email's organisation; try again")]
    Organisations(StoreError),
    /// The event is not the shape its `triggerSource` promises (the field that is not).
    #[error("the trigger event could not be read: {0}")]
    Malformed(#[from] serde_json::Error),
}

impl From<LinkError> for TriggerError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Directory(e) => e.into(),
            LinkError::Store(e) => Self::Organisations(e),
        }
    }
}

/// The event as `T` (borrowed: the event itself goes back unchanged).
fn read<T: DeserializeOwned>(event: &Value) -> Result<T, serde_json::Error> {
    T::deserialize(event)
}

pub async fn handle(triggers: &Triggers, event: Value, now: u64) -> Result<Value, TriggerError> {
    let source = event.get("triggerSource").cloned().unwrap_or_default();
    if public_flow(source.as_str().unwrap_or_default()) {
        not_through_the_sign_in_client(triggers, &event).await?;
    }
    match source.as_str().unwrap_or_default() {
        "PreSignUp_ExternalProvider" => {
            let sign_up: CognitoEventUserPoolsPreSignup = read(&event)?;
            let (pool, username) = (&sign_up.cognito_event_user_pools_header.user_pool_id, &sign_up.cognito_event_user_pools_header.user_name);
            let linker = (triggers.linkers)(pool.as_deref().unwrap_or_default());
            match first_federated_sign_in(
                &*linker,
                &*triggers.orgs,
                &triggers.open_providers,
                username.as_deref().unwrap_or_default(),
                &sign_up.request.user_attributes,
            )
            .await?
            {
                FirstSignIn::NewAccount => {}
                FirstSignIn::Linked => return Err(TriggerError::Linked),
                FirstSignIn::Refused(_) => return Err(TriggerError::NotItsProvider),
            }
        }
        "PostConfirmation_ConfirmSignUp" => {
            let confirmed: CognitoEventUserPoolsPostConfirmation = read(&event)?;
            let header = &confirmed.cognito_event_user_pools_header;
            let (pool, username) = (header.user_pool_id.as_deref().unwrap_or_default(), header.user_name.as_deref().unwrap_or_default());
            if let Some(registration) = registered(pool, username, &confirmed.request.user_attributes, header.caller_context.client_id.as_deref(), now) {
                triggers.events.record(&registration).await?;
            }
        }
        "PostAuthentication_Authentication" => match read::<CognitoEventUserPoolsPostAuthentication>(&event) {
            Ok(signed_in) => {
                let attributes = &signed_in.request.user_attributes;
                let verified = attributes.get("email_verified").map(String::as_str) == Some("true");
                let person = LastSignIn {
                    username: signed_in.cognito_event_user_pools_header.user_name.clone().unwrap_or_default(),
                    sub: attributes.get("sub").cloned().unwrap_or_default(),
                    email: attributes.get("email").cloned().filter(|_| verified),
                    at: now,
                };
                if let Err(e) = triggers.activity.signed_in(&person).await {
                    tracing::warn!(error = %e, "could not record the last sign-in");
                }
            }
            Err(e) => tracing::warn!(error = %e, "a post-authentication event that does not read; the last sign-in is not recorded"),
        },
        other if let Some(kind) = EmailKind::of_trigger(other) => return message(triggers, kind, event).await,
        // Every token for a person (not `TokenGeneration_ClientCredentials`, a machine's), a
        // source `aws_lambda_events` does not know yet included: its providers rewrote the email.
        other if other.starts_with("TokenGeneration_") && other != "TokenGeneration_ClientCredentials" => {
            let username = event.get("userName").and_then(Value::as_str).unwrap_or_default();
            let email = event.pointer("/request/userAttributes/email").and_then(Value::as_str);
            let identities = event.pointer("/request/userAttributes/identities");
            let refusal = sign_in_refusal(&*triggers.orgs, &triggers.open_providers, username, email, identities).await;
            if let Some(reason) = refusal.map_err(TriggerError::Organisations)? {
                tracing::warn!(reason, "a sign-in was refused, and its account disabled: a provider that speaks for it may not hold its email");
                // Cognito has written the address to the account already: disabled, nothing
                // that finds accounts by email takes it (an operator looks, then enables it).
                let pool = event.get("userPoolId").and_then(Value::as_str).unwrap_or_default();
                if let Err(error) = (triggers.linkers)(pool).disable(username).await {
                    tracing::error!(%error, "the refused account could not be disabled");
                }
                return Err(TriggerError::NotItsProvider);
            }
            if read::<CognitoEventUserPoolsPreTokenGenTriggerSource>(&source).is_ok() {
                return token_generation(event);
            }
        }
        _ => {}
    }
    Ok(event)
}

/// Refuses a [`public_flow`] whose caller is one of the pool's sign-in clients.
async fn not_through_the_sign_in_client(triggers: &Triggers, event: &Value) -> Result<(), TriggerError> {
    let pool = event.get("userPoolId").and_then(Value::as_str).unwrap_or_default();
    let caller = event.pointer("/callerContext/clientId").and_then(Value::as_str);
    let sign_in_clients = triggers.sign_in_clients(pool).await.map_err(TriggerError::AppClients)?;
    if refuses_sign_in_client(caller, &sign_in_clients) {
        tracing::warn!(source = ?event.get("triggerSource"), "refused a public flow through the sign-in client");
        return Err(TriggerError::NotThroughThisClient);
    }
    Ok(())
}

/// The event with `response.emailSubject` and `response.emailMessage` set.
async fn message(triggers: &Triggers, kind: EmailKind, mut event: Value) -> Result<Value, TriggerError> {
    // An event that does not read goes back as it came: Cognito then sends its own text rather
    // than no email at all.
    let request: CognitoEventUserPoolsCustomMessageRequest<Value> = match read(event.get("request").unwrap_or(&Value::Null)) {
        Ok(request) => request,
        Err(e) => {
            tracing::warn!(error = %e, "a CustomMessage event that does not read; Cognito's own text is sent");
            return Ok(event);
        }
    };
    let attributes = request.user_attributes.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect();
    let message_request = MessageRequest {
        attributes: &attributes,
        client_metadata: &request.client_metadata,
        code_parameter: request.code_parameter.as_deref().unwrap_or("{####}"),
        username_parameter: request.username_parameter.as_deref().unwrap_or("{username}"),
    };
    let email = custom_message(kind, &message_request, &triggers.templates().await, &triggers.product);
    let response = event.as_object_mut().map(|e| e.entry("response").or_insert_with(|| Value::Object(Default::default())));
    if let Some(Value::Object(response)) = response {
        response.insert("emailSubject".into(), email.subject.into());
        response.insert("emailMessage".into(), email.html.into());
    }
    Ok(event)
}

/// The claims for V2/V3 events (typed JSON in both tokens), or V1 (ID token, strings only).
fn token_generation(event: Value) -> Result<Value, TriggerError> {
    if event.get("version").and_then(Value::as_str).is_none_or(|v| v == "1") {
        let mut v1: CognitoEventUserPoolsPreTokenGen = read(&event)?;
        let claims = token_claims(&v1.request.user_attributes, &v1.request.group_configuration.groups_to_override);
        if claims.is_empty() {
            return Ok(event);
        }
        let mut details = ClaimsOverrideDetails::default();
        details.group_override_details = v1.request.group_configuration.clone();
        details.claims_to_add_or_override = claims.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect();
        v1.response.claims_override_details = Some(details);
        return Ok(serde_json::to_value(v1)?);
    }
    let mut v2: CognitoEventUserPoolsPreTokenGenV2 = read(&event)?;
    let claims = token_claims(&v2.request.user_attributes, &v2.request.group_configuration.groups_to_override);
    if claims.is_empty() {
        return Ok(event);
    }
    let mut id_token = CognitoIdTokenGenerationV2::default();
    id_token.claims_to_add_or_override = claims.clone().into_iter().collect();
    let mut access_token = CognitoAccessTokenGenerationV2::default();
    access_token.claims_to_add_or_override = claims.into_iter().collect();
    let mut details = ClaimsAndScopeOverrideDetailsV2::default();
    details.group_override_details = v2.request.group_configuration.clone();
    details.id_token_generation = Some(id_token);
    details.access_token_generation = Some(access_token);
    v2.response.claims_and_scope_override_details = Some(details);
    Ok(serde_json::to_value(v2)?)
}
