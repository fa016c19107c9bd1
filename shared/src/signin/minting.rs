//! Minting: the one place an app's token is made (`SignInPorts::mint`), from a sign-in or a
//! session's entry, with what each kind signs with (the app's shared secret, our current key, a
//! SAML response's key and certificate, an OpenID Connect client's sealed code), and when: a
//! SAML app's response after a sign-in on the form is made as its handoff is redeemed
//! ([`Pending`]). Not here: how each kind's token is shaped (`tokens::targets`).

use std::sync::Arc;

use crate::common::profile::UserProfile;
use crate::signin::flow::{self, Purpose, SignInContext};
use crate::signin::ports::TokenRejected;
use crate::signin::service::{SignInError, SignInPorts};
use crate::signin::session::Session;
use crate::tokens::app::App;
use crate::tokens::jws::{Algorithm, SigningKey};
use crate::tokens::signing_keys::SignerError;
use crate::tokens::targets::Target;
use crate::tokens::targets::mint::{Delivery, MintError, MintInput};
use crate::tokens::targets::oidc::{self, OidcTarget};

/// The app's token for a sign-in handed to the browser: made now, or made when the handoff is
/// redeemed, from the session then open (a SAML app's response: signed twice with our
/// certificate in each signature, it seals to about 10 KB, and with many attributes or a long
/// `RelayState` would not fit a handoff's 16,000 bytes).
#[derive(Debug)]
pub(super) enum Pending {
    Now(Delivery),
    /// Minted by [`SignInPorts::mint_in_session`] for this context.
    AtRedemption(Box<SignInContext>),
}

impl SignInPorts {
    /// [`Self::mint`] for a sign-in the browser takes up through a handoff. A SAML app's
    /// response is made now too, so that a sign-in whose token cannot be made (the app's access,
    /// a claim it requires, a verified email for its name id, our key's certificate, the issuer)
    /// is refused before its session exists; it is dropped and made again at the redemption
    /// ([`Pending::AtRedemption`]: 555 µs more, two RSA signatures).
    pub(super) async fn mint_or_defer(
        &self,
        app: &App,
        profile: &UserProfile,
        ctx: &SignInContext,
        session: &Session,
        amr: &[&str],
        now: u64,
    ) -> Result<Pending, SignInError> {
        let delivery = self.mint(app, profile, ctx, session, amr, now).await?;
        Ok(match app.target {
            Target::Saml(_) => Pending::AtRedemption(Box::new(ctx.clone())),
            _ => Pending::Now(delivery),
        })
    }

    /// The token of the app `ctx` names, for the person of the open `session` as read from the
    /// store: their profile as at its sign-in, its method and second factor (`amr`), its `sid`
    /// and when Cognito authenticated them (`authenticated`).
    pub(super) async fn mint_in_session(&self, ctx: &SignInContext, session: &Session, now: u64) -> Result<Delivery, SignInError> {
        let app = self.app(ctx.app.as_str()).await?;
        let profile = UserProfile::from_claims(&session.profile).map_err(|_| TokenRejected::Invalid("no subject"))?;
        self.mint(&app, &profile, ctx, session, session.method.amr(session.assurance.second_factor), now).await
    }

    /// The app's token for `profile`, from the bridge session `session` (the one the sign-in
    /// opens, or the one entering the app): `amr` says how the sign-in behind it was made
    /// ([`crate::signin::session::Method::amr`]).
    pub(super) async fn mint(
        &self,
        app: &App,
        profile: &UserProfile,
        ctx: &SignInContext,
        session: &Session,
        amr: &[&str],
        now: u64,
    ) -> Result<Delivery, SignInError> {
        // Every sign-in checks the app's access before it gets here (`admit`, which records the
        // refusal), and a session's entry too (to the form); this is the last guard of the one
        // place tokens are minted.
        if !app.access.admits(profile) {
            return Err(SignInError::NotAssigned);
        }
        let input = MintInput {
            app: app.id.as_str(),
            profile,
            claims: &app.claims,
            return_to: ctx.return_to.as_ref(),
            nonce: ctx.nonce.as_deref(),
            issuer: &self.issuer,
            now,
            jti: uuid::Uuid::new_v4(),
            amr,
            sid: session.sid.as_deref(),
            authenticated: session.authenticated,
            saml: ctx.saml.as_ref(),
        };
        let delivery = match (&app.target, app.target.algorithm()) {
            (Target::Oidc(client), _) => return self.authorization_code(client, input, ctx).await,
            (Target::Saml(provider), _) => {
                let (key, certificate) = self.saml_signer(app, now).await?;
                provider.mint(input, &key, &certificate)
            }
            (_, Algorithm::HS256) => app.target.mint(input, &SigningKey::Hs256(self.shared_secret(app).await?)),
            (_, ours) => app.target.mint(input, &*self.signers.current(ours, now).await?),
        };
        delivery.map_err(|e| {
            // The operator learns which app and which data (never the person's values).
            tracing::warn!(app = %app.id, error = %e, "could not mint the app's token");
            e.into()
        })
    }

    /// What signs a SAML app's responses: our current RS256 key and its certificate (Base64
    /// DER). A key without one (made before the admin tool made them), or no issuer to name
    /// (`PublicApiUrl` unset), is `Mint(Signing)`.
    pub(super) async fn saml_signer(&self, app: &App, now: u64) -> Result<(Arc<SigningKey>, String), SignInError> {
        if self.issuer.is_empty() {
            tracing::warn!(app = %app.id, "SAML responses name the bridge's public URL as their issuer: set PublicApiUrl");
            return Err(MintError::Signing.into());
        }
        match self.signers.current_with_certificate(Algorithm::RS256, now).await? {
            (key, Some(certificate)) => Ok((key, certificate)),
            (_, None) => {
                tracing::warn!(app = %app.id, "the current RS256 key has no certificate, which SAML needs: rotate it with the admin tool");
                Err(MintError::Signing.into())
            }
        }
    }

    /// An OpenID Connect client's sign-in ends with a code: the grant sealed and encrypted under
    /// the flow key for [`CODE_TTL`](crate::tokens::targets::oidc::CODE_TTL) seconds, sent to
    /// its `redirect_uri` (`signin::openid_provider` redeems it).
    async fn authorization_code(&self, client: &OidcTarget, input: MintInput<'_>, ctx: &SignInContext) -> Result<Delivery, SignInError> {
        let (Some(redirect_uri), Some(request)) = (&ctx.return_to, &ctx.authorization) else { return Err(MintError::MissingRequest.into()) };
        let grant =
            client.grant(&input, redirect_uri, request).inspect_err(|e| tracing::warn!(app = input.app, error = %e, "could not make the app's code"))?;
        let key = self.secrets.bridge().await?;
        let code = flow::seal_private(&key.flow_key, Purpose::AuthorizationCode, input.now + oidc::CODE_TTL, &grant)?;
        Ok(Delivery::Get { url: oidc::code_response(redirect_uri, &code, request.state.as_deref(), input.issuer)? })
    }

    /// The app, with what minting its token needs loaded into the caches (its shared secret, or
    /// our current key for its algorithm). A key that does not load is the mint's error to
    /// report, not this one's.
    pub(super) async fn app_ready_to_mint(&self, raw_id: &str, now: u64) -> Result<Arc<App>, SignInError> {
        let app = self.app(raw_id).await?;
        let loaded = match app.target.algorithm() {
            Algorithm::HS256 => self.shared_secret(&app).await.map(drop),
            ours => self.signers.current(ours, now).await.map(drop).map_err(SignInError::from),
        };
        if let Err(e) = loaded {
            tracing::debug!(app = %app.id, error = %e, "the app's signing key did not load ahead of the mint");
        }
        Ok(app)
    }

    /// The secret this app shares with us (HS256 apps, DiscourseConnect, an OpenID Connect
    /// client's `client_secret`).
    pub(super) async fn shared_secret(&self, app: &App) -> Result<Vec<u8>, SignInError> {
        let secret_ref = app.signing_secret.as_ref().ok_or(SignerError::NoKey(Algorithm::HS256))?;
        Ok(secrecy::ExposeSecret::expose_secret(&*self.secrets.value(secret_ref).await?).as_bytes().to_vec())
    }
}
