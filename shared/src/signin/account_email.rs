//! The email change on the account page, after the fresh sign-in step: the person's email is
//! their sign-in name, and a new one is theirs only once they enter the code Cognito mails to
//! it ([`AccountPage::start_email`], then [`AccountPage::verify_email`]).
//!
//! Until then the pool keeps the new address pending (`UserAttributeUpdateSettings:
//! AttributesRequireVerificationBeforeUpdate: [email]`): the current address stays, signs in,
//! and receives the email proof, which is a sign-in by an emailed code
//! (`SignInPorts::start_email_proof`) and never touches the pending value. A mistyped address
//! locks nobody out: the person starts again with the right one.
//!
//! Once the new address is the person's, sign-ins begun before are held and every session of
//! theirs ends, this one too: each carries the old address to the apps. People whose account a
//! company manages change nothing here ([`SignInError::ManagedByCompany`]), nor does anyone move
//! onto a domain an organisation owns (its company manages its people).
//!
//! Not here: the fresh step and the grants (`account`), the other changes (`account_changes`),
//! HTTP (`functions/login/src/routes/account.rs`).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::email::Email;
use crate::directory::org::EmailDomain;
use crate::events::{EventContext, EventType};
use crate::signin::account::{AccountPage, ELEVATED_TTL};
use crate::signin::challenge::AuthError;
use crate::signin::flow::Purpose;
use crate::signin::ports::{CodeAsker, OwnSettings};
use crate::signin::service::SignInError;

/// A change under way: the address its code went to, for the session that asked. Sealed and
/// encrypted (`Purpose::EmailChange`) for as long as a fresh step's grant lasts.
#[derive(Serialize, Deserialize)]
struct PendingEmail {
    /// The session's key.
    session: String,
    username: String,
    email: String,
}

/// [`AccountPage::start_email`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChangeStarted {
    /// Where the code went, masked as Cognito masks it.
    pub destination: Option<String>,
    /// The change, sealed: carried back with the code.
    pub change: String,
}

impl AccountPage {
    /// Asks to change the person's email to `email`: Cognito keeps it pending and mails a code
    /// to it. The code to the new address counts against it as one anyone may ask for
    /// (`CodeAsker::Anyone`, as a stranger typing it into the form), and the change against the
    /// person's own address (`PasswordHolder`): 5 an hour each.
    ///
    /// Errors: a company's account ([`SignInError::ManagedByCompany`]); `BadInput`: `"email"`
    /// (not an address), `"email_unchanged"` (theirs already), `"email_domain"` (a domain an
    /// organisation owns), `"email_in_use"` (another account's, told only after the fresh step);
    /// [`AuthError::TooManyAttempts`].
    pub async fn start_email(&self, elevated: &str, email: &str, visitor: &EventContext, now: u64) -> Result<EmailChangeStarted, SignInError> {
        let (elevation, session, token) = self.elevated(elevated, visitor, now).await?;
        let email = Email::parse(email).map_err(|_| SignInError::BadInput("email"))?;
        let current = session.profile.get("email").and_then(Value::as_str).unwrap_or_default();
        if email.as_str() == current.to_lowercase() {
            return Err(SignInError::BadInput("email_unchanged"));
        }
        self.unmanaged(&session, &token).await?;
        self.unowned(&email).await?;
        let pending = PendingEmail { session: elevation.session, username: elevation.username, email: email.as_str().to_owned() };
        let change = self.seal(Purpose::EmailChange, ELEVATED_TTL, &pending, now).await?;
        // The new address first: one that is used up spends none of the person's own.
        let codes = &self.ports.sign_ups;
        for (address, asker) in [(email.as_str(), CodeAsker::Anyone), (current, CodeAsker::PasswordHolder)] {
            if !codes.other_code_sent(address, asker, now).await? {
                return Err(AuthError::TooManyAttempts.into());
            }
        }
        let destination = match self.ports.own_account.change_email(&token, email.as_str()).await {
            Err(AuthError::AccountExists) => return Err(SignInError::BadInput("email_in_use")),
            Err(AuthError::Misconfigured(code)) if code == "InvalidParameterException" => return Err(SignInError::BadInput("email")),
            other => other?,
        };
        Ok(EmailChangeStarted { destination, change })
    }

    /// The code mailed to the new address, with the `change` [`Self::start_email`] gave to this
    /// session; the person's email afterwards. The address is checked again first (an
    /// organisation may have claimed its domain since), and the change's code is tried at most
    /// [`EMAIL_CODE_TRIES`](crate::signin::password::EMAIL_CODE_TRIES) times. Then it becomes
    /// the person's email, verified, recorded as `user.profile_updated` (`changed: ["email"]`,
    /// `email: {before, after}`); sign-ins begun before are held, and every session of the
    /// person's ends (the others first, tried twice, then this one) with their console and OpenID Connect refresh tokens (the sign-out mark).
    ///
    /// Should the sessions not all end, the error is the store's, this session and its grant
    /// stay, and answering again finishes them: Cognito has no code left then, but the account
    /// shows the new address, verified.
    ///
    /// Errors: [`SignInError::NotSignedIn`] for a change that is not this session's or is over;
    /// as [`Self::start_email`] for the address; Cognito's for the code
    /// ([`AuthError::CodeMismatch`], [`AuthError::CodeExpired`], [`AuthError::TooManyAttempts`]).
    pub async fn verify_email(&self, elevated: &str, change: &str, code: &SecretString, visitor: &EventContext, now: u64) -> Result<String, SignInError> {
        let (elevation, session, token) = self.elevated(elevated, visitor, now).await?;
        let pending: PendingEmail = self.open(Purpose::EmailChange, change, now).await?;
        if pending.session != elevation.session || pending.username != elevation.username {
            return Err(SignInError::NotSignedIn);
        }
        let email = Email::parse(&pending.email).map_err(|_| SignInError::BadInput("email"))?;
        self.unowned(&email).await?;
        self.ports.email_code_try(change, now).await?;
        let own = &self.ports.own_account;
        let finishing = match own.verify_email(&token, code).await {
            Ok(()) => false,
            Err(AuthError::AccountExists) => return Err(SignInError::BadInput("email_in_use")),
            // An earlier answer changed it and its sign-outs failed: finish them.
            Err(e) if own.settings(&token).await.is_ok_and(|s| holds(&s, &email)) => {
                tracing::info!(error = %e, "the email had changed already; ending the sessions again");
                true
            }
            Err(e) => return Err(e.into()),
        };
        let everywhere = async {
            self.hold_earlier_sign_ins(&elevation.username, "the email changed").await;
            if let Err(e) = self.end_others_of(&elevation.session, &elevation.username, now).await {
                tracing::error!(error = %e, "the email changed; ending the other sessions failed once");
                self.end_others_of(&elevation.session, &elevation.username, now).await?;
            }
            self.ports.sessions.end(&elevation.session).await.map_err(SignInError::from)
        };
        // What Cognito made the email (the latest change's address, should an earlier change's
        // seal come with its code), read beside the sign-outs.
        let changed_to = async { if finishing { None } else { own.settings(&token).await.ok() } };
        let (ended, settings) = tokio::join!(everywhere, changed_to);
        let after = settings.and_then(|s| s.attributes.get("email").cloned()).unwrap_or_else(|| email.as_str().to_owned());
        if !finishing {
            let before = session.profile.get("email").cloned().unwrap_or(Value::Null);
            // The person's risk profile follows them to the new address (a failure is logged:
            // the change is made, and the new address starts a baseline of its own).
            let from = before.as_str().map(str::to_owned);
            let carried = async {
                if let Some(from) = from
                    && let Err(e) = self.ports.risk.carry(&from, &after).await
                {
                    tracing::warn!(error = %e, "the risk profile did not follow the email change");
                }
            };
            let details = [("changed", json!(["email"])), ("email", json!({"before": before, "after": after}))];
            tokio::join!(carried, self.record(EventType::UserProfileUpdated, &session, &details, visitor, now));
        }
        ended?;
        Ok(after)
    }

    /// `BadInput("email_domain")` when an organisation owns `email`'s domain.
    async fn unowned(&self, email: &Email) -> Result<(), SignInError> {
        let domain = EmailDomain::of(email).map_err(|_| SignInError::BadInput("email"))?;
        if self.ports.orgs.owner_of(&domain).await?.is_some() {
            return Err(SignInError::BadInput("email_domain"));
        }
        Ok(())
    }
}

/// Whether the account's email is `email`, verified (Cognito's attributes).
fn holds(settings: &OwnSettings, email: &Email) -> bool {
    let current = settings.attributes.get("email").map(|e| e.to_lowercase());
    current.as_deref() == Some(email.as_str()) && settings.attributes.get("email_verified").map(String::as_str) == Some("true")
}
