//! The reset path of a password sign-in: a code asked for by email (the same answer whether or
//! not the account exists), then a new password with it, which ends what the old one opened and
//! signs the person in. Not the password step itself (`signin::password`).

use secrecy::SecretString;

use crate::common::email::Email;
use crate::events::EventContext;
use crate::signin::challenge::AuthError;
use crate::signin::password::{Established, NOTHING_GIVEN, PasswordSignIn, credentials_changed};
use crate::signin::service::{Outcome, SignInError};
use crate::signin::session::Method;

/// Tries of a password-reset code before a new one must be asked for: fewer than Cognito's own
/// lock (five), which only an address with an account would reach.
pub const RESET_CODE_TRIES: u64 = 4;

impl PasswordSignIn {
    /// Asks for a reset code. Unknown accounts get the same answer as known ones.
    pub async fn forgot_password(&self, ctx: &str, email: &str, now: u64) -> Result<(), SignInError> {
        self.ports.open_context(ctx, now).await?;
        let email = Email::parse(email).map_err(|_| SignInError::BadInput("email"))?;
        // A code anyone can ask for: counted as the others (5 an hour), for every address alike;
        // its tries start again.
        if !self.ports.sign_ups.reset_code_sent(email.as_str(), now).await? {
            return Err(AuthError::TooManyAttempts.into());
        }
        match self.ports.auth.forgot_password(email.as_str()).await {
            Ok(()) | Err(AuthError::InvalidCredentials) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets a new password with the emailed code, then signs in with it.
    pub async fn reset_password(
        &self,
        ctx: &str,
        email: &str,
        code: &SecretString,
        new_password: &SecretString,
        visitor: &EventContext,
        now: u64,
    ) -> Result<Outcome, SignInError> {
        let ctx = self.ports.open_context(ctx, now).await?;
        let email = Email::parse(email).map_err(|_| SignInError::BadInput("email"))?;
        // Both checks before Cognito, for every address alike: Cognito may look at the account
        // first (a weak password, a spent limit would tell who has one).
        self.ports.check_new_password(new_password).await?;
        if !self.ports.sign_ups.reset_code_try(email.as_str(), RESET_CODE_TRIES, now).await? {
            return Err(AuthError::TooManyAttempts.into());
        }
        self.ports.auth.confirm_forgot_password(email.as_str(), code, new_password).await?;
        // A new password ends what the old one opened: the person's bridge sessions, Cognito's
        // refresh tokens, and any sign-in begun before (paused at a step, or under way): held
        // (whoever held them: the reset proves the email), all but this one's.
        let reset = crate::common::random::token();
        // The hold first, then the sweep: a sign-in the old password passed opens its session
        // before the hold (and is swept) or after it (and is refused). All three are tried (the
        // password has changed whatever fails); the first failure of the bridge's own two is
        // returned.
        if let Some(username) = self.ports.pool.own_account_with_email(email.as_str()).await? {
            let held = credentials_changed(&*self.ports.sessions, &username, &reset).await;
            let (ended, signed_out) = tokio::join!(self.ports.sessions.end_all(&username, now), self.ports.pool.sign_out(&username));
            if let Err(e) = signed_out {
                tracing::warn!(error = %e, "could not revoke the refresh tokens after a password reset");
            }
            held?;
            ended?;
        }
        let step = self.ports.auth.sign_in(email.as_str(), new_password).await?;
        let established = Established { second_factor: false, prior: None, given: NOTHING_GIVEN, method: Method::Password, claim: Some(&reset) };
        self.next(ctx, step, visitor, established, now).await
    }
}
