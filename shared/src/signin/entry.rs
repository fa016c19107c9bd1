//! Session entry and sign-out ([`SessionEntry`]): `/sso/{app}` (and an OpenID Connect client's
//! `/oauth2/authorize`) checks the app and its request, then mints at once from a live session
//! that the app's access admits and that satisfies its risk policy in the same browser, or hands
//! the form a sealed context; sign-out ends the session.

use crate::common::profile::UserProfile;
use crate::common::time::unix_now;
use crate::events::EventContext;
use crate::risk::Assurance;
use crate::signin::flow::{self, SignInContext};
use crate::signin::ports::TokenRejected;
use crate::signin::service::{Entered, Entry, SignInError, SignInPorts};
use crate::signin::session::{self, Found, ProviderLogout, Session};
use crate::tokens::app::App;
use crate::tokens::targets::Target;
use crate::tokens::targets::mint::{Delivery, MintError};
use crate::tokens::targets::oidc::AuthorizationError;
use std::sync::Arc;

/// `/sso/{app}` and sign-out.
pub struct SessionEntry {
    ports: Arc<SignInPorts>,
}

impl SessionEntry {
    pub fn new(ports: Arc<SignInPorts>) -> Self {
        Self { ports }
    }

    /// Checks the app and its request; returns the sealed context the form carries.
    pub async fn start(&self, app_id: &str, entry: Entry<'_>, now: u64) -> Result<String, SignInError> {
        let app = self.ports.app(app_id).await?;
        let ctx = self.ports.context(&app, entry).await?;
        self.ports.seal_context(&ctx, now).await
    }

    /// A SAML app's identity provider metadata (`tokens::saml::response::metadata`): our
    /// entity id (the issuer), the certificates of our published RS256 keys, and `/sso/{app}`.
    /// Another kind of app, or one not there, is `UnknownApp`; no issuer (`PublicApiUrl`
    /// unset) or no certificate, `Mint(Signing)`.
    pub async fn saml_metadata(&self, app_id: &str, now: u64) -> Result<String, SignInError> {
        let app = self.ports.app(app_id).await?;
        let Target::Saml(provider) = &app.target else { return Err(SignInError::UnknownApp) };
        let certificates = self.ports.signers.certificates(crate::tokens::jws::Algorithm::RS256, now).await?;
        if self.ports.issuer.is_empty() || certificates.is_empty() {
            tracing::error!(app = %app.id, "SAML metadata needs PublicApiUrl and an RS256 key with a certificate (rotate one with the admin tool)");
            return Err(MintError::Signing.into());
        }
        Ok(crate::tokens::saml::response::metadata(&self.ports.issuer, &certificates, &self.ports.sso_url(&app.id), provider.name_id.format()))
    }

    /// Seals `ctx` again (a fresh form for the same request, after a failed corporate sign-in),
    /// for as long as the app's request may take.
    pub async fn seal_context(&self, ctx: &SignInContext, now: u64) -> Result<String, SignInError> {
        self.ports.seal_context(ctx, now).await
    }

    /// An app sends the person here: with a live session (`cookie`), the app's token at once
    /// (single sign-on: one session read, no Cognito call); otherwise the sealed context for the
    /// form. The app and its request are checked once, either way. A session refused for its
    /// account's revocation is recorded with `visitor` (the request's IP, user agent, country).
    pub async fn enter(&self, app_id: &str, entry: Entry<'_>, cookie: Option<&str>, visitor: &EventContext, now: u64) -> Result<Entered, SignInError> {
        let cookie = session::parse_cookie(cookie);
        // With a cookie, its session (and its user's revocation) is read beside the app and what
        // minting the app's token needs: neither waits for the other.
        let (app, session) = match &cookie {
            Some(cookie) => {
                let (app, found) = tokio::join!(self.ports.app_ready_to_mint(app_id, now), self.ports.sessions.get(&cookie.key, &cookie.user_key));
                // A refusal is recorded whatever else fails: the read has ended the session.
                let app_id = app.as_ref().ok().map(|app| app.id.to_string());
                let context = EventContext { app: app_id, device: flow::device_digest(entry.device), ..visitor.clone() };
                let session = match found {
                    Ok(found) => Ok(self.ports.admitted(&cookie.key, found, &context, now).await),
                    Err(e) => Err(e),
                };
                (app, session)
            }
            None => (self.ports.app(app_id).await, Ok(None)),
        };
        let app = app?;
        let ctx = self.ports.context(&app, entry).await?;
        // An app may ask for a fresh sign-in, or for no page at all (`SignInContext::fresh`,
        // `silent`).
        let (oidc, saml) = (ctx.authorization.as_ref(), ctx.saml.as_ref());
        let (fresh, silent) = (ctx.fresh(), ctx.silent());
        let live = match (cookie, session?.filter(|s| s.live(now))) {
            (Some(cookie), Some(session)) => Some((cookie, session)),
            _ => None,
        };
        // A sign-in from the form replaces this browser's live session.
        let replaces = live.as_ref().map(|(cookie, _)| cookie.key.clone());
        let delivery = match live {
            Some((cookie, session)) if !fresh => match self.resume(&app, &ctx, &cookie.key, session, now).await {
                // What a fresh sign-in would show a page for (a claim the app needs, a step too
                // large): no page for `prompt=none` or `IsPassive`, answered below.
                Err(SignInError::Mint(_) | SignInError::Flow(_)) if silent => None,
                other => other?,
            },
            _ => None,
        };
        if let (None, Some(request), Some(redirect_uri)) = (&delivery, oidc, &ctx.return_to)
            && let Some(error) = request.login_required(redirect_uri)
        {
            return Err(AuthorizationError::Redirect(Box::new(error)).into());
        }
        if let (None, Target::Saml(provider), Some(request)) = (&delivery, &app.target, saml)
            && request.passive
            && request.id.is_some()
        {
            let (key, certificate) = self.ports.saml_signer(&app, now).await?;
            return Ok(Entered::App(provider.no_passive(request, &self.ports.issuer, now, &key, &certificate)?));
        }
        match delivery {
            Some(delivery) => Ok(Entered::App(delivery)),
            None => {
                let ctx = SignInContext { replaces, ..ctx };
                Ok(Entered::Form { ctx: self.ports.seal_context(&ctx, now).await?, sign_up: app.sign_up == crate::tokens::app::SignUp::Open })
            }
        }
    }

    /// The app's token from the live session `key` names, or `None` when that session is not
    /// enough for the app.
    async fn resume(&self, app: &App, ctx: &SignInContext, key: &str, session: Session, now: u64) -> Result<Option<Delivery>, SignInError> {
        let profile = UserProfile::from_claims(&session.profile).map_err(|_| TokenRejected::Invalid("no subject"))?;
        // The app's access, on the claims as at the session's sign-in: a person it does not list
        // signs in afresh, which reads their groups and organisation as they are now (added to
        // a listed group meanwhile: admitted; still not listed: refused there, and recorded).
        if !app.access.admits(&profile) {
            tracing::info!(app = %app.id, "a session whose person the app's access does not list: to the form");
            return Ok(None);
        }
        // The app's own policy, on what the session's sign-in proved; in another browser than
        // the one that signed in, the session proves nothing. Not admitted: a fresh sign-in.
        let same_browser = session.device.is_some() && session.device == ctx.device;
        let assurance = if same_browser { session.assurance } else { Assurance::unknown() };
        if !app.risk_policy.admits(assurance) {
            tracing::info!(app = %app.id, ?assurance, same_browser, "a session not enough for the app's risk policy: to the form");
            return Ok(None);
        }
        // A person who has not accepted the current documents is asked at a fresh sign-in.
        if !self.ports.consented(&session).await? {
            tracing::info!(app = %app.id, "a session whose person has not accepted the current documents: to the form");
            return Ok(None);
        }
        let delivery = match self.ports.mint(app, &profile, ctx, &session, session.method.amr(assurance.second_factor), now).await {
            // A session begun before apps were given only verified emails (a company's SAML user
            // through the pool, whose email its provider answers for): a fresh sign-in brings the
            // account as it is now.
            Err(SignInError::Mint(MintError::MissingEmail)) => {
                tracing::info!(app = %app.id, "a session without a verified email for the app: to the form");
                return Ok(None);
            }
            other => other?,
        };
        // A client told of the session's end learns of it from now on; use is recorded now and
        // then. Side by side.
        // (A session from before sessions had a `sid` tells no one: a logout token without one
        // would end every session of the person at the client.)
        let tell = session.sid.as_deref().filter(|_| app.told_of_logout() && !session.logout_clients.iter().any(|c| c.as_str() == app.id.as_str()));
        let told = async { if let Some(sid) = tell { self.ports.sessions.add_logout_client(key, app.id.as_str(), sid).await } else { Ok(()) } };
        let touched = async { if session.needs_touch(now) { self.ports.sessions.touch(key, now).await } else { Ok(()) } };
        let (told, touched) = tokio::join!(told, touched);
        told?;
        touched?;
        Ok(Some(delivery))
    }

    /// Ends the session `cookie` names and revokes the person's Cognito refresh tokens, console
    /// tokens and OpenID Connect clients' refresh tokens (the sign-out mark); returns where to
    /// continue for the provider's own sign-out, if the session has one.
    ///
    /// The session is read first and the mark written before it ends: a failure to write the
    /// mark is an error with the session still open, so that trying again signs out. A failure to
    /// revoke the Cognito refresh tokens is logged.
    pub async fn logout(&self, cookie: Option<&str>) -> Result<Option<ProviderLogout>, SignInError> {
        let Some(cookie) = session::parse_cookie(cookie) else { return Ok(None) };
        let Some(Found::Kept(session) | Found::Revoked(session)) = self.ports.sessions.get(&cookie.key, &cookie.user_key).await? else { return Ok(None) };
        let (refresh, mark) = tokio::join!(self.ports.pool.sign_out(&session.username), self.ports.sessions.mark_signed_out(&session.username, unix_now()));
        if let Err(e) = refresh {
            tracing::warn!(error = %e, "could not revoke the refresh tokens at sign-out");
        }
        mark?;
        self.ports.sessions.end(&cookie.key).await?;
        Ok(session.provider_logout)
    }
}
