//! The identity event: one model for everything that happens to an identity, which workflows
//! (`workflows`) react to. An event names its person, where it happened (app, method,
//! network, device) and a free-form `detail`; conditions and templates see it as JSON
//! ([`IdentityEvent::to_value`]), for example `{{user.email}}` or `context.country != "JP"`.
//!
//! Events are recorded in the same DynamoDB transaction as the change that causes them where
//! there is one (a session, a SCIM write; see [`crate::signin::ports::SessionStore::create`] and
//! [`crate::directory::ports::ScimStore`]), or alone through [`crate::events::EventLog`] where nothing else
//! changes (a failed sign-in). This module is the model only.

pub mod daily;

use crate::common::store::StoreError;
use async_trait::async_trait;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "user.registered")]
    UserRegistered,
    #[serde(rename = "user.signed_in")]
    UserSignedIn,
    #[serde(rename = "user.sign_in_failed")]
    UserSignInFailed,
    #[serde(rename = "user.provisioned")]
    UserProvisioned,
    #[serde(rename = "user.deactivated")]
    UserDeactivated,
    #[serde(rename = "user.reactivated")]
    UserReactivated,
    #[serde(rename = "user.deleted")]
    UserDeleted,
    #[serde(rename = "sign_in.high_risk")]
    SignInHighRisk,
    #[serde(rename = "user.inactive")]
    UserInactive,
    /// A second factor was enrolled during a sign-in (`detail.factor`: `software_token`; the
    /// person first proved control of their verified email).
    #[serde(rename = "user.mfa_enrolled")]
    UserMfaEnrolled,
    /// A person accepted, declined or withdrew one version of a consent document (`detail`:
    /// `document`, `version`, `accepted`, `via`), recorded with the decision itself.
    #[serde(rename = "user.consent_given")]
    UserConsentGiven,
    /// A person added a passkey on their account page (`detail.passkey`: its id).
    #[serde(rename = "user.passkey_added")]
    UserPasskeyAdded,
    /// A person removed a passkey (`detail.passkey`); their other sessions end with it.
    #[serde(rename = "user.passkey_removed")]
    UserPasskeyRemoved,
    /// A person changed their password on their account page; their other sessions end.
    #[serde(rename = "user.password_changed")]
    UserPasswordChanged,
    /// A person turned on a second factor on their account page (`detail.factor`:
    /// `software_token_mfa` or `sms_mfa`).
    #[serde(rename = "user.factor_added")]
    UserFactorAdded,
    /// A person turned a second factor off (`detail.factor`); their other sessions end.
    #[serde(rename = "user.factor_removed")]
    UserFactorRemoved,
    /// A person changed their name or language (`detail.changed`: the attributes' names).
    #[serde(rename = "user.profile_updated")]
    UserProfileUpdated,
    /// A telephony hook was called for a one-time code (`detail`: hook, request_type, outcome,
    /// reason, duration_ms, calls, http_status).
    #[serde(rename = "hook.executed")]
    HookExecuted,
    /// A telephony hook's 2xx answer was read (`detail`: hook, outcome, status `SUCCESSFUL`,
    /// `PENDING` or `FAILED`, provider, transaction_id, reason).
    #[serde(rename = "hook.response_processed")]
    HookResponseProcessed,
    /// Telephony hook lifecycle (`detail`: hook, version, url, fallback).
    #[serde(rename = "hook.created")]
    HookCreated,
    #[serde(rename = "hook.updated")]
    HookUpdated,
    #[serde(rename = "hook.activated")]
    HookActivated,
    #[serde(rename = "hook.deactivated")]
    HookDeactivated,
    #[serde(rename = "hook.deleted")]
    HookDeleted,
    /// An operator sent a request to a hook by hand (the console's or `bridge-admin`'s
    /// preview): `detail.after` has the number it was for (masked) and the request type; never
    /// the message or the code. Written before the request goes out.
    #[serde(rename = "hook.test_sent")]
    HookTestSent,
    /// An operator's change through the admin API or `bridge-admin` (`crate::admin::audit`):
    /// `detail` has `actor` (`id`, `email`, `ip`, `via`), `target`, and `before` and `after`
    /// without secrets. `user` is the person changed, or else the operator.
    #[serde(rename = "admin.app.created")]
    AdminAppCreated,
    #[serde(rename = "admin.app.updated")]
    AdminAppUpdated,
    #[serde(rename = "admin.app.deleted")]
    AdminAppDeleted,
    /// An app's shared secret was replaced (the value is never recorded).
    #[serde(rename = "admin.app.secret_set")]
    AdminAppSecretSet,
    /// A new signing key (`detail.before` and `after`: the key set, public halves only).
    #[serde(rename = "admin.key.rotated")]
    AdminKeyRotated,
    /// Retired keys taken out of the key set.
    #[serde(rename = "admin.key.pruned")]
    AdminKeysPruned,
    #[serde(rename = "admin.org.created")]
    AdminOrgCreated,
    /// Name, domains or policies changed.
    #[serde(rename = "admin.org.updated")]
    AdminOrgUpdated,
    /// Removed with its domains and SCIM tokens.
    #[serde(rename = "admin.org.deleted")]
    AdminOrgDeleted,
    /// Its sign-in connection set (`detail.after.connection`; the client secret never).
    #[serde(rename = "admin.org.connected")]
    AdminOrgConnected,
    #[serde(rename = "admin.org.disconnected")]
    AdminOrgDisconnected,
    /// A SCIM token issued (`detail.after`: its id, label and time; never its value).
    #[serde(rename = "admin.org.token_issued")]
    AdminOrgTokenIssued,
    #[serde(rename = "admin.org.token_revoked")]
    AdminOrgTokenRevoked,
    /// A workflow imported as a new flow (`detail.after`: the flow).
    #[serde(rename = "admin.flow.created")]
    AdminFlowCreated,
    /// A new version of a flow (`detail.before` and `after`: the flow).
    #[serde(rename = "admin.flow.updated")]
    AdminFlowUpdated,
    #[serde(rename = "admin.flow.enabled")]
    AdminFlowEnabled,
    #[serde(rename = "admin.flow.disabled")]
    AdminFlowDisabled,
    /// A `user.inactive` flow's dry run was read: who it would act on, with their emails
    /// (`detail.after`: `people`, the number listed, and `limit`). Through the API (admins only)
    /// or `bridge-admin flow report`.
    #[serde(rename = "admin.flow.reported")]
    AdminFlowReported,
    /// A workflow connection stored (its secret never; `has_secret` instead).
    #[serde(rename = "admin.connection.saved")]
    AdminConnectionSaved,
    /// A failed workflow run replayed (`detail.after`: the run's status and steps, redacted).
    #[serde(rename = "admin.run.replayed")]
    AdminRunReplayed,
    /// An email template set (`detail.after`: kind, language, subject, body).
    #[serde(rename = "admin.email_template.saved")]
    AdminEmailTemplateSaved,
    /// An email template back to the shipped one.
    #[serde(rename = "admin.email_template.reset")]
    AdminEmailTemplateReset,
    /// A new version of a consent document (`detail.after`: the document).
    #[serde(rename = "admin.consent.published")]
    AdminConsentPublished,
    /// A page of a consent version's records read through the admin API (the export;
    /// `detail.after`: `version`, `records`, the number read, and `from_cursor`).
    #[serde(rename = "admin.consent.exported")]
    AdminConsentExported,
    #[serde(rename = "admin.user.disabled")]
    AdminUserDisabled,
    #[serde(rename = "admin.user.enabled")]
    AdminUserEnabled,
    /// Every session and refresh token of the person ended.
    #[serde(rename = "admin.user.signed_out")]
    AdminUserSignedOut,
    /// The person's second factors turned off (`detail.before.factors`; `after.factors` is
    /// empty).
    #[serde(rename = "admin.user.factors_reset")]
    AdminUserFactorsReset,
    /// The person must choose a new password (`detail.before.sessions`, ended with it).
    #[serde(rename = "admin.user.password_reset_required")]
    AdminUserPasswordResetRequired,
    /// A person invited by an admin (`detail.after`: `email`, `language`): Cognito mails them a
    /// temporary password.
    #[serde(rename = "admin.user.invited")]
    AdminUserInvited,
    /// An invitation not taken up sent again, with a new temporary password.
    #[serde(rename = "admin.user.invitation_resent")]
    AdminUserInvitationResent,
    /// A console role given or taken (`detail.after.role`, `detail.before.role`).
    #[serde(rename = "admin.role.granted")]
    AdminRoleGranted,
    #[serde(rename = "admin.role.revoked")]
    AdminRoleRevoked,
}

/// The person an event is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventUser {
    /// Cognito's `sub`; empty when there is no Cognito user (yet), as for a SCIM user before
    /// its first sync or a failed sign-in with an unknown address.
    #[serde(default)]
    pub sub: String,
    /// Cognito's user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The organisation the person belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

impl EventUser {
    /// The person as an ID token or a session names them (Cognito's claims).
    pub fn from_claims(claims: &Map<String, Value>) -> Self {
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        Self {
            sub: text("sub").unwrap_or_default(),
            username: text("cognito:username"),
            email: text("email"),
            email_verified: claims.get("email_verified").and_then(|v| v.as_bool().or_else(|| v.as_str().map(|s| s == "true"))),
            given_name: text("given_name"),
            family_name: text("family_name"),
            locale: text("locale"),
            org: text(crate::common::profile::ORG_ATTRIBUTE),
        }
    }
}

/// Where and how it happened, as far as it is known. The login function fills in what the
/// request says (`ip`, `user_agent`, `country`, `device`); the domain adds `app` and `method`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// `password` or `corporate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// From a header a trusted proxy sets (CloudFront's `CloudFront-Viewer-Country`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityEvent {
    /// Unique; derived from the cause where it has an id, so recording it twice is one event.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// Seconds since the Unix epoch.
    pub at: u64,
    pub user: EventUser,
    #[serde(default)]
    pub context: EventContext,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub detail: Map<String, Value>,
}

impl IdentityEvent {
    /// A new event with a random id, for events that have no cause with an id of its own.
    pub fn new(kind: EventType, user: EventUser, context: EventContext, at: u64) -> Self {
        Self { id: uuid::Uuid::new_v4().to_string(), kind, at, user, context, detail: Map::new() }
    }

    /// The same event with one more detail.
    pub fn with_detail(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.detail.insert(name.into(), value.into());
        self
    }

    /// The event as conditions and templates see it.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Identity events recorded where no other change causes them (a failed sign-in). Recording
/// an event twice (same id) is one event.
#[async_trait]
pub trait EventLog: Send + Sync {
    async fn record(&self, event: &IdentityEvent) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_and_writes_the_documented_shape() {
        let raw = json!({"id": "e-1", "type": "sign_in.high_risk", "at": 1_700_000_000,
                         "user": {"sub": "s-1", "email": "a@b.co"}, "context": {"app": "support", "country": "FR"},
                         "detail": {"signals": ["new_device"]}});
        let event: IdentityEvent = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(event.kind, EventType::SignInHighRisk);
        assert_eq!(event.to_value(), raw);
        assert!(serde_json::from_value::<IdentityEvent>(json!({"id": "e", "type": "user.exploded", "at": 1, "user": {"sub": "s"}})).is_err());
    }
}
