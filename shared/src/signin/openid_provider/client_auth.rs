//! How an OpenID Connect client proves itself at the token and revocation endpoints (RFC 6749
//! §2.3, OpenID Connect Core §9): the credentials a request presented (`ClientCredentials`:
//! HTTP Basic, a form's secret, a `private_key_jwt` assertion, or none) checked against the
//! client's registration. Not the endpoints' grants (`openid_provider`, `refresh`).

use std::sync::Arc;

use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{ClientCredentials, OpenIdProvider, TokenError, unavailable};
use crate::signin::service::SignInError;
use crate::tokens::app::App;
use crate::tokens::client_assertion;
use crate::tokens::targets::Target;
use crate::tokens::targets::oidc::OidcTarget;

impl OpenIdProvider {
    /// The OpenID Connect client `id` names, and its settings; anything else is `invalid_client`.
    pub(super) async fn client(&self, id: Option<&str>) -> Result<(Arc<App>, OidcTarget), TokenError> {
        let app = match self.ports.app(id.ok_or(TokenError::InvalidClient)?).await {
            Ok(app) => app,
            Err(SignInError::UnknownApp) => return Err(TokenError::InvalidClient),
            Err(e) => return Err(unavailable(e)),
        };
        match &app.target {
            Target::Oidc(client) => Ok((app.clone(), client.clone())),
            _ => Err(TokenError::InvalidClient),
        }
    }

    /// The client authenticated the one way it registered: with its secret (compared in
    /// constant time, as SHA-256 digests so that the length is not compared), an assertion signed
    /// by a key it registered (`tokens::client_assertion::verify`, addressed to our issuer or
    /// the token or revocation endpoint; its `jti` taken once, among the sign-in steps' records,
    /// kept a day) or, for a public client, with none.
    pub(super) async fn authenticate(&self, app: &App, client: &OidcTarget, presented: &ClientCredentials, now: u64) -> Result<(), TokenError> {
        if presented.method != client.client_authentication {
            return Err(TokenError::InvalidClient);
        }
        if let (Some(assertion), Some(jwks)) = (&presented.assertion, &client.jwks) {
            let issuer = &self.ports.issuer;
            if issuer.is_empty() {
                return Err(unavailable("the issuer (PublicApiUrl) is not set"));
            }
            let audiences = [issuer.clone(), format!("{issuer}/oauth2/token"), format!("{issuer}/oauth2/revoke")];
            let audiences: Vec<&str> = audiences.iter().map(String::as_str).collect();
            let verified = client_assertion::verify(assertion, jwks, app.id.as_str(), &audiences, now).map_err(|reason| {
                tracing::info!(client = %app.id, reason, "a client assertion refused");
                TokenError::InvalidClient
            })?;
            let once = format!("client assertion {} {}", app.id, verified.jti);
            return if self.ports.use_once(&once, now).await.map_err(unavailable)? { Ok(()) } else { Err(TokenError::InvalidClient) };
        }
        if !client.shares_secret() {
            return if client.confidential() { Err(TokenError::InvalidClient) } else { Ok(()) };
        }
        let given = presented.secret.as_ref().map(ExposeSecret::expose_secret).ok_or(TokenError::InvalidClient)?;
        let expected = self.ports.shared_secret(app).await.map_err(unavailable)?;
        let same: bool = Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(&expected)).into();
        if same { Ok(()) } else { Err(TokenError::InvalidClient) }
    }
}
