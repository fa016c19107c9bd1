//! The changes a person makes on their account page, each with the grant of a fresh sign-in
//! step ([`AccountPage::reauthenticate`]) and their own Cognito access token: their settings as
//! Cognito keeps them, profile (name, language), password, second factors (an authenticator
//! app, SMS codes to their verified phone), passkeys, and deleting the account.
//!
//! Every change is an identity event. Those that replace a secret or take a way in away end
//! the person's other bridge sessions (the one making the change stays): the password changed
//! (and this session moves to a new cookie value), a factor or a passkey removed; deleting the
//! account ends every session. People whose
//! account a company manages (`custom:org_id`: SCIM or corporate sign-in) change neither their
//! profile nor delete their account here ([`SignInError::ManagedByCompany`]): their company's
//! directory would overwrite the one and bring back the other.
//!
//! Not here: the email change (`account_email`), the grants, the fresh step and the sessions list (`account`), HTTP
//! (`functions/login/src/routes/account.rs`), the page (`static-form/account.html`).

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Value, json};

use crate::common::language::Language;
use crate::common::profile::ORG_ATTRIBUTE;
use crate::events::{EventContext, EventType, IdentityEvent};
use crate::signin::account::{AccountPage, Elevation};
use crate::signin::challenge::{AccessToken, AuthError};
use crate::signin::ports::{Factor, OwnSettings, Passkey};
use crate::signin::service::{SignInError, TotpSetup};
use crate::signin::session::Session;
use crate::signin::sign_up::person_name;

/// What the page shows after the fresh step: the account as Cognito keeps it now.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSettings {
    pub name: Option<String>,
    /// The `locale` attribute (`ja`, `en`).
    pub language: Option<String>,
    /// The phone number for SMS codes, masked (`+81********78`).
    pub phone: Option<String>,
    /// Whether that number is verified (SMS codes go only to a verified one).
    pub phone_verified: bool,
    /// The second factors turned on.
    pub factors: Vec<Factor>,
    /// None when Cognito cannot list them (passkeys not set up in the pool or its tier): the
    /// rest of the page still works.
    pub passkeys: Option<Vec<Passkey>>,
    /// A company manages the account: no profile changes, no deletion.
    pub managed: bool,
}

/// `+81*******78`: the country code's first digits and the last two.
fn masked_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().collect();
    if digits.len() <= 5 {
        return "*".repeat(digits.len());
    }
    let (head, tail) = (3, 2);
    digits[..head].iter().chain(std::iter::repeat_n(&'*', digits.len() - head - tail)).chain(&digits[digits.len() - tail..]).collect()
}

/// A phone number in E.164 (`+819012345678`), from what a person types (`+81 90-1234-5678`).
fn e164(raw: &str) -> Option<String> {
    let phone: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = phone.strip_prefix('+')?;
    let ok = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    ok.then_some(phone)
}

fn managed(settings: &OwnSettings) -> bool {
    settings.attributes.get(ORG_ATTRIBUTE).is_some_and(|org| !org.is_empty())
}

/// A password changed on the account page.
#[derive(Debug)]
pub struct PasswordChanged {
    /// How many of the person's other sessions ended.
    pub ended_sessions: usize,
    /// This session's new cookie value, sealed: the browser brings it to `/session/handoff`
    /// (see [`AccountPage::rotate`]). `None`: this session ended instead (it could not move).
    pub handoff: Option<String>,
}

impl AccountPage {
    /// The person's account as Cognito keeps it: `GetUser` beside `ListWebAuthnCredentials`.
    pub async fn settings(&self, elevated: &str, visitor: &EventContext, now: u64) -> Result<AccountSettings, SignInError> {
        let (_, _, token) = self.elevated(elevated, visitor, now).await?;
        let own = &self.ports.own_account;
        let (settings, passkeys) = tokio::join!(own.settings(&token), own.passkeys(&token));
        let settings = settings?;
        let passkeys = passkeys.inspect_err(|e| tracing::warn!(error = %e, "could not list a person's passkeys")).ok();
        let text = |k: &str| settings.attributes.get(k).cloned();
        let verified = settings.attributes.get("phone_number_verified").is_some_and(|v| v == "true");
        Ok(AccountSettings {
            name: text("name"),
            language: text("locale"),
            phone: text("phone_number").map(|p| masked_phone(&p)),
            phone_verified: verified,
            managed: managed(&settings),
            factors: settings.factors,
            passkeys,
        })
    }

    /// Refused when a company manages the account: Cognito says so now, or the claims the
    /// session began with did (either is enough).
    pub(super) async fn unmanaged(&self, session: &Session, token: &AccessToken) -> Result<(), SignInError> {
        let settings = self.ports.own_account.settings(token).await?;
        let claimed = session.profile.get(ORG_ATTRIBUTE).and_then(Value::as_str).is_some_and(|org| !org.is_empty());
        if claimed || managed(&settings) {
            return Err(SignInError::ManagedByCompany);
        }
        Ok(())
    }

    /// Sets the person's name (1 to 100 characters) and language (`ja`, `en`: their emails');
    /// `user.profile_updated`. Apps receive the new name from the person's next sign-in.
    pub async fn update_profile(&self, elevated: &str, name: &str, language: &str, visitor: &EventContext, now: u64) -> Result<(), SignInError> {
        let (_, session, token) = self.elevated(elevated, visitor, now).await?;
        let name = person_name(name)?;
        let language = Language::parse(language).ok_or(SignInError::BadInput("language"))?;
        self.unmanaged(&session, &token).await?;
        self.ports.own_account.update_attributes(&token, &[("name", name), ("locale", language.tag())]).await?;
        self.record(EventType::UserProfileUpdated, &session, &[("changed", json!(["name", "locale"]))], visitor, now).await;
        Ok(())
    }

    /// Changes the password (`previous` is asked again: Cognito's `ChangePassword` needs it);
    /// `user.password_changed`. Then this session moves to a new cookie value
    /// ([`AccountPage::rotate`]; OWASP: a new session id after a password change), so that
    /// whoever copied this browser's cookie is signed out too: the answer's handoff gives this
    /// browser the new value and opens `page` (the account page) again. A session that cannot
    /// move (no device digest to bind the handoff to, or the write failed) ends instead, and the
    /// answer has no handoff: the person signs in again. Then every other session ends (tried
    /// twice; if the store still fails, the password has changed and the error says the sessions
    /// may remain). A wrong `previous` counts against the address, as a wrong password at
    /// sign-in does, and ends nothing.
    pub async fn change_password(
        &self,
        elevated: &str,
        previous: &SecretString,
        proposed: &SecretString,
        page: &str,
        visitor: &EventContext,
        now: u64,
    ) -> Result<PasswordChanged, SignInError> {
        let (elevation, session, token) = self.elevated(elevated, visitor, now).await?;
        self.ports.check_new_password(proposed).await?;
        if previous.expose_secret() == proposed.expose_secret() {
            return Err(AuthError::PasswordPolicy.into());
        }
        match self.ports.own_account.change_password(&token, previous, proposed).await {
            Err(AuthError::InvalidCredentials) => return Err(self.failed(&session, AuthError::InvalidCredentials, visitor, now).await),
            other => other?,
        }
        self.record(EventType::UserPasswordChanged, &session, &[("via", json!("account"))], visitor, now).await;
        // A sign-in begun with the old password (paused at a step, or under way) opens nothing.
        self.hold_earlier_sign_ins(&elevation.username, "the password changed").await;
        let (handoff, keep) = match self.rotate(&elevation.session, &session, page, now).await {
            Ok((handoff, key)) => (Some(handoff), key),
            Err(e) => {
                tracing::info!(error = %e, "the password changed; this session could not move to a new cookie value, so it ends");
                self.ports.sessions.end(&elevation.session).await?;
                (None, String::new())
            }
        };
        let ended_sessions = match self.end_others_of(&keep, &elevation.username, now).await {
            Ok(ended) => ended,
            Err(e) => {
                tracing::error!(error = %e, "the password changed; ending the other sessions failed once");
                self.end_others_of(&keep, &elevation.username, now).await?
            }
        };
        Ok(PasswordChanged { ended_sessions, handoff })
    }

    /// A new authenticator app: its secret (and `otpauth://` URI) for the person to add.
    /// `BadInput("authenticator_exists")` when one is on: replacing it is removing it (which
    /// ends the other sessions), then adding another.
    pub async fn start_authenticator(&self, elevated: &str, visitor: &EventContext, now: u64) -> Result<TotpSetup, SignInError> {
        let (_, session, token) = self.elevated(elevated, visitor, now).await?;
        if self.ports.own_account.settings(&token).await?.factors.contains(&Factor::SoftwareTokenMfa) {
            return Err(SignInError::BadInput("authenticator_exists"));
        }
        let secret = self.ports.auth.associate_totp(&token).await?.expose_secret().to_owned();
        let account = session.profile.get("email").and_then(Value::as_str).unwrap_or_default();
        Ok(TotpSetup::new(&self.ports.issuer, account, secret))
    }

    /// The new app's first code: verified, the app becomes the person's second factor (the
    /// preferred one); `user.factor_added`.
    pub async fn add_authenticator(&self, elevated: &str, code: &SecretString, visitor: &EventContext, now: u64) -> Result<(), SignInError> {
        let (_, session, token) = self.elevated(elevated, visitor, now).await?;
        self.ports.auth.verify_totp(&token, code).await?;
        self.record(EventType::UserFactorAdded, &session, &[("factor", json!(Factor::SoftwareTokenMfa))], visitor, now).await;
        Ok(())
    }

    /// SMS codes to the person's verified phone as their second factor (the preferred one);
    /// `user.factor_added`. `BadInput("phone_number")` without a verified phone,
    /// `BadInput("phone_number_country")` for one outside the operator's SMS destinations.
    pub async fn add_sms(&self, elevated: &str, visitor: &EventContext, now: u64) -> Result<(), SignInError> {
        let (_, session, token) = self.elevated(elevated, visitor, now).await?;
        let settings = self.ports.own_account.settings(&token).await?;
        if settings.attributes.get("phone_number_verified").is_none_or(|v| v != "true") {
            return Err(SignInError::BadInput("phone_number"));
        }
        // A number verified before the operator's list existed would get no code at sign-in.
        if !settings.attributes.get("phone_number").is_some_and(|p| self.ports.sms_destinations.allows(p)) {
            return Err(SignInError::BadInput("phone_number_country"));
        }
        self.ports.own_account.set_factor(&token, Factor::SmsMfa, true).await?;
        self.record(EventType::UserFactorAdded, &session, &[("factor", json!(Factor::SmsMfa))], visitor, now).await;
        Ok(())
    }

    /// A new phone number for SMS codes (E.164: `+` and 8 to 15 digits, spaces and hyphens
    /// dropped; `BadInput("phone_number_format")` otherwise, Cognito's refusal included;
    /// `BadInput("phone_number_country")` outside the operator's SMS destinations),
    /// unverified, and a code sent to it by SMS; the masked destination. Refused while SMS
    /// codes are the person's factor (`BadInput("sms_on")`): turning them off first is a factor
    /// removed (its event, the other sessions end), and no code ever goes to a number nobody
    /// has proved. Codes count with the person's others: 5 an hour per address
    /// (`AuthError::TooManyAttempts`), so one fresh step cannot text number after number.
    pub async fn start_phone(&self, elevated: &str, phone: &str, visitor: &EventContext, now: u64) -> Result<Option<String>, SignInError> {
        let (_, session, token) = self.elevated(elevated, visitor, now).await?;
        let phone = e164(phone).ok_or(SignInError::BadInput("phone_number_format"))?;
        if !self.ports.sms_destinations.allows(&phone) {
            return Err(SignInError::BadInput("phone_number_country"));
        }
        let own = &self.ports.own_account;
        if own.settings(&token).await?.factors.contains(&Factor::SmsMfa) {
            return Err(SignInError::BadInput("sms_on"));
        }
        let email = session.profile.get("email").and_then(Value::as_str).unwrap_or_default();
        if !self.ports.sign_ups.other_code_sent(email, crate::signin::ports::CodeAsker::PasswordHolder, now).await? {
            return Err(AuthError::TooManyAttempts.into());
        }
        match own.update_attributes(&token, &[("phone_number", &phone)]).await {
            Err(AuthError::Misconfigured(code)) if code == "InvalidParameterException" => return Err(SignInError::BadInput("phone_number_format")),
            other => other?,
        }
        Ok(own.send_phone_code(&token).await?)
    }

    /// The code sent to the new number: it is verified; `user.profile_updated`
    /// (`changed: ["phone_number"]`). SMS codes stay off until the person turns them on.
    pub async fn verify_phone(&self, elevated: &str, code: &SecretString, visitor: &EventContext, now: u64) -> Result<(), SignInError> {
        let (_, session, token) = self.elevated(elevated, visitor, now).await?;
        self.ports.own_account.verify_phone(&token, code).await?;
        self.record(EventType::UserProfileUpdated, &session, &[("changed", json!(["phone_number"]))], visitor, now).await;
        Ok(())
    }

    /// Turns `factor` off; `user.factor_removed`, and the person's other sessions end
    /// ([`Self::taking_away`]: first, so a failure leaves the factor on for a retry). How many
    /// ended. `BadInput("factor")` when it is not on.
    pub async fn remove_factor(&self, elevated: &str, factor: Factor, visitor: &EventContext, now: u64) -> Result<usize, SignInError> {
        let (elevation, session, token) = self.elevated(elevated, visitor, now).await?;
        if !self.ports.own_account.settings(&token).await?.factors.contains(&factor) {
            return Err(SignInError::BadInput("factor"));
        }
        let own = &self.ports.own_account;
        let gone = async { Ok(!own.settings(&token).await?.factors.contains(&factor)) };
        let ended = self.taking_away(&elevation, own.set_factor(&token, factor, false), gone, now).await?;
        self.record(EventType::UserFactorRemoved, &session, &[("factor", json!(factor))], visitor, now).await;
        Ok(ended)
    }

    /// The creation options for a new passkey (`navigator.credentials.create`).
    pub async fn start_passkey(&self, elevated: &str, visitor: &EventContext, now: u64) -> Result<Value, SignInError> {
        let (_, _, token) = self.elevated(elevated, visitor, now).await?;
        Ok(self.ports.own_account.start_passkey_registration(&token).await?)
    }

    /// Registers the browser's answer to those options; `user.passkey_added`.
    pub async fn add_passkey(&self, elevated: &str, credential: &Value, visitor: &EventContext, now: u64) -> Result<(), SignInError> {
        let (_, session, token) = self.elevated(elevated, visitor, now).await?;
        self.ports.own_account.complete_passkey_registration(&token, credential).await?;
        let id = credential.get("id").and_then(Value::as_str).unwrap_or_default();
        self.record(EventType::UserPasskeyAdded, &session, &[("passkey", json!(id))], visitor, now).await;
        Ok(())
    }

    /// Removes the passkey `id`; `user.passkey_removed`, and the person's other sessions end
    /// ([`Self::taking_away`]: first, so a failure leaves the passkey for a retry). How many
    /// ended.
    pub async fn remove_passkey(&self, elevated: &str, id: &str, visitor: &EventContext, now: u64) -> Result<usize, SignInError> {
        let (elevation, session, token) = self.elevated(elevated, visitor, now).await?;
        let own = &self.ports.own_account;
        // There first: then an error after which it is gone (the SDK's retry of a removal whose
        // answer was lost finds nothing) is the removal made.
        if !own.passkeys(&token).await?.iter().any(|p| p.id == id) {
            return Err(AuthError::CodeMismatch.into());
        }
        let gone = async { Ok(!own.passkeys(&token).await?.iter().any(|p| p.id == id)) };
        let ended = self.taking_away(&elevation, own.delete_passkey(&token, id), gone, now).await?;
        self.record(EventType::UserPasskeyRemoved, &session, &[("passkey", json!(id))], visitor, now).await;
        Ok(ended)
    }

    /// A way in taken away (`removal`: a factor or a passkey, perhaps lost to someone else),
    /// with the person's other sessions ended around it: first, so that if either fails nothing
    /// is left half done and the person's retry does it all (the way in is still there to
    /// remove); then, once it is gone, the sign-ins Cognito authenticated before are held
    /// (`credentials_changed`) and the other sessions end once more (one written between the two
    /// passes). `gone` tells whether the way in is gone, asked only when the removal failed (its
    /// answer may have been lost). A failure of either of those two is logged, not answered: the way in is gone
    /// (a retry would find nothing to remove), and what they catch is a sign-in under way
    /// during the removal. How many sessions ended.
    async fn taking_away(
        &self,
        elevation: &Elevation,
        removal: impl Future<Output = Result<(), AuthError>>,
        gone: impl Future<Output = Result<bool, AuthError>>,
        now: u64,
    ) -> Result<usize, SignInError> {
        let ended = self.end_others_of(&elevation.session, &elevation.username, now).await?;
        if let Err(e) = removal.await {
            // An answer lost on the way (a timeout, an outage, or the SDK's retry that then found
            // nothing to remove) may hide a removal Cognito made: ask whether the way in is
            // still there.
            if !matches!(gone.await, Ok(true)) {
                return Err(e.into());
            }
        }
        self.hold_earlier_sign_ins(&elevation.username, "a way in was removed").await;
        match self.end_others_of(&elevation.session, &elevation.username, now).await {
            Ok(again) => Ok(ended + again),
            Err(e) => {
                tracing::error!(error = %e, "a way in was removed; ending the other sessions a second time failed");
                Ok(ended)
            }
        }
    }

    /// Deletes the account (`DeleteUser`) once the person has typed their email as `confirm`
    /// (`BadInput("confirm")` otherwise): every session of the person ends first, so a failure
    /// leaves a signed-out person with their account, never sessions without one;
    /// `user.deleted` (`detail.via`: `account`). Refused when a company manages the account.
    /// Kept: the consent records (the operator's proof of what was agreed) and the address's
    /// sign-in history (risk), as the README says.
    pub async fn delete_account(&self, elevated: &str, confirm: &str, visitor: &EventContext, now: u64) -> Result<(), SignInError> {
        let (elevation, session, token) = self.elevated(elevated, visitor, now).await?;
        let email = session.profile.get("email").and_then(Value::as_str).unwrap_or_default();
        if email.is_empty() || !confirm.trim().eq_ignore_ascii_case(email) {
            return Err(SignInError::BadInput("confirm"));
        }
        self.unmanaged(&session, &token).await?;
        self.ports.sessions.revoke(&elevation.username, now).await?;
        self.ports.own_account.delete_user(&token).await?;
        self.record(EventType::UserDeleted, &session, &[("via", json!("account"))], visitor, now).await;
        // Once more: a session begun between the first pass and the deletion.
        if let Err(e) = self.ports.sessions.end_all(&elevation.username, now).await {
            tracing::warn!(error = %e, "could not end a deleted person's sessions a second time");
        }
        Ok(())
    }

    /// Holds `username`'s sign-ins Cognito authenticated until now (`credentials_changed`, with
    /// a holder no sign-in carries); a failure is logged with `what` happened (the change is made).
    pub(super) async fn hold_earlier_sign_ins(&self, username: &str, what: &str) {
        let holder = crate::common::random::token();
        if let Err(e) = crate::signin::password::credentials_changed(&*self.ports.sessions, username, &holder).await {
            tracing::error!(error = %e, what, "holding the sign-ins begun before failed");
        }
    }

    /// Records a change of the person's (a failure is logged: the change is made).
    pub(super) async fn record(&self, kind: EventType, session: &Session, details: &[(&str, Value)], visitor: &EventContext, now: u64) {
        let context = EventContext { method: Some("account".into()), ..visitor.clone() };
        let event = details.iter().fold(IdentityEvent::new(kind, session.event_user(), context, now), |e, (name, value)| e.with_detail(name, value.clone()));
        if let Err(e) = self.ports.events.record(&event).await {
            tracing::warn!(error = %e, "could not record an account change");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{e164, masked_phone};

    #[test]
    fn a_phone_number_shows_its_country_code_and_last_two_digits() {
        assert_eq!(masked_phone("+819012345678"), "+81********78");
        assert_eq!(masked_phone("+1234"), "*****");
    }

    #[test]
    fn a_typed_phone_number_becomes_e164_or_nothing() {
        assert_eq!(e164(" +81 90-1234-5678 ").as_deref(), Some("+819012345678"));
        assert_eq!(e164("+1 (415) 555-0100").as_deref(), Some("+14155550100"));
        for bad in ["09012345678", "+81", "+0812345678", "+81 90 1234 5678 9999", "+81abc12345", "", "+"] {
            assert_eq!(e164(bad), None, "{bad}");
        }
    }
}
