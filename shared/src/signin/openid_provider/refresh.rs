//! Refresh tokens of OpenID Connect clients (RFC 6749 §6, OpenID Connect Core §12), rotated
//! with reuse detection (RFC 9700 §4.14.2) for every client, and their revocation (RFC 7009).
//!
//! A sign-in whose client allows refresh tokens (`refresh_token_lifetime_seconds`) and that
//! asked for `offline_access` opens a *family* (`family::RefreshFamily`, one DynamoDB item: the
//! client, the Cognito user, the scopes, how the person signed in, the generation, its end).
//! Each refresh token is sealed and encrypted under the flow key and names its family and
//! generation; a refresh answers the next generation's token, so each token works once. A token
//! used a second time (stolen, or replayed) revokes its family: whoever holds any of its tokens
//! signs in again, and the operators see it (`user.sign_in_failed`, `refresh_token_reused`).
//!
//! Each refresh reads the person's Cognito account beside the family, their sign-out mark and
//! whether the bridge session of the sign-in ended (`RefreshFamilies::mark_session_ended`).
//! The family is revoked once the account is disabled or deleted (or another account has its
//! name), the person signed out of the bridge since the sign-in (in any browser, or everywhere:
//! a password reset, an operator, SCIM), or the client's refresh tokens were turned off,
//! shortened or the client made again since (`family::RefreshFamily::ended`). A refresh is
//! refused, the family kept, while the app's access does not list the person, they have not
//! accepted the current terms, or they lack a claim the app requires. The claims are the
//! account's as they are now.
//!
//! Not here: tokens without rotation, revoking access tokens (they
//! expire), and the list of a person's families (`family::connected`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::family::{RefreshFamily, USED, narrowed};
use super::{AccessGrant, ClientCredentials, OpenIdProvider, TokenError, TokenRequest, TokenResponse, unavailable};
use crate::common::profile::UserProfile;
use crate::common::store::StoreError;
use crate::directory::ports::PoolUser;
use crate::events::{EventContext, EventType, EventUser, IdentityEvent};
use crate::signin::flow::{self, Purpose};
use crate::tokens::app::App;
use crate::tokens::targets::oidc::{self, Authentication, AuthorizationGrant, OidcTarget};

/// What a refresh token says, sealed and encrypted into it.
#[derive(Debug, Serialize, Deserialize)]
struct Sealed {
    family: String,
    generation: u64,
    client_id: String,
    /// For the account's read beside the family's.
    username: String,
    /// The family's bridge session, whose end is read beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

/// A revocation request (RFC 7009 §2.1), each parameter as the client sent it
/// (`token_type_hint` is not needed: each kind of token opens only as itself).
#[derive(Debug, Clone, Default)]
pub struct RevocationRequest<'a> {
    pub token: Option<&'a str>,
    pub client: ClientCredentials,
}

impl OpenIdProvider {
    /// The family of `grant`'s sign-in and its first token, recorded: for a client with refresh
    /// tokens whose sign-in asked for `offline_access`; `None` otherwise. The family's id is
    /// derived from `code`, so a code brought twice finds the family its first exchange opened.
    ///
    /// Errors: `invalid_grant` when that family exists (the code was used before: it is
    /// revoked, RFC 6749 §4.1.2); `temporarily_unavailable`. (A family of a code whose bridge
    /// session ended is revoked by the exchange, which reads that end after opening it.)
    pub(super) async fn open_family(&self, client: &OidcTarget, grant: &AuthorizationGrant, code: &str) -> Result<Option<(RefreshFamily, String)>, TokenError> {
        let a = &grant.authentication;
        let Some(lifetime) = client.refresh_token_lifetime_seconds.filter(|_| a.offline()) else { return Ok(None) };
        let (Some(username), Some(subject)) = (&grant.username, a.claims.get("sub").and_then(Value::as_str)) else {
            tracing::warn!(client = %a.client_id, "a sign-in without a Cognito user name: no refresh token");
            return Ok(None);
        };
        let family = RefreshFamily {
            id: crate::common::hashing::digest(&format!("refresh family of {code}")),
            client_id: a.client_id.clone(),
            username: username.clone(),
            subject: subject.to_owned(),
            scope: a.scope.clone(),
            auth_time: a.auth_time,
            amr: a.amr.clone(),
            signed_in_at: grant.signed_in_at,
            expires_at: grant.signed_in_at + lifetime,
            generation: 0,
            last_used: 0,
            sid: a.sid.clone(),
        };
        let token = self.seal_refresh(&family).await?;
        match self.ports.refresh.create(&family).await {
            Ok(()) => Ok(Some((family, token))),
            Err(StoreError::Conflict) => {
                tracing::warn!(client = %a.client_id, "a code brought a second time: the refresh tokens its first exchange gave are revoked");
                self.revoke_family(&family).await;
                Err(TokenError::InvalidGrant(USED))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Uses a refresh token (RFC 6749 §6) of the authenticated client `app`: new ID and access
    /// tokens with the account's claims as they are now (for `scope`, if narrower than the
    /// sign-in's), and the next refresh token. The one presented works no more.
    ///
    /// Errors: `unauthorized_client` for a client without refresh tokens; `invalid_grant` for a
    /// token not valid, expired, another client's, revoked, or used before, and for a person or a
    /// client whose standing ended it (see the module; the log says which); `invalid_scope` for
    /// a scope not granted. A refusal spends nothing, but those that end the family (the
    /// module's first list, and a token used before) revoke it.
    pub(super) async fn refresh(&self, app: &App, client: &OidcTarget, request: &TokenRequest<'_>, now: u64) -> Result<TokenResponse, TokenError> {
        if client.refresh_token_lifetime_seconds.is_none() {
            return Err(TokenError::UnauthorizedClient);
        }
        let presented: Sealed =
            self.open(Purpose::RefreshToken, request.refresh_token.unwrap_or_default(), now).await?.ok_or(TokenError::InvalidGrant(INVALID))?;
        if presented.client_id != app.id.as_str() {
            return Err(TokenError::InvalidGrant("the refresh token was issued to another client"));
        }
        let read = self.ports.refresh.get(&presented.family, &presented.username, presented.sid.as_deref());
        let (stored, user) = tokio::join!(read, self.ports.pool.user(&presented.username));
        let stored = stored.map_err(unavailable)?;
        let family = stored.family.ok_or(TokenError::InvalidGrant(INVALID))?;
        if family.generation != presented.generation {
            self.reused(&family, &request.visitor, now).await;
            return Err(TokenError::InvalidGrant(USED));
        }
        if stored.session_ended {
            return Err(self.ended(&family, "the bridge session of the sign-in ended").await);
        }
        if let Some(why) = family.ended(app, stored.signed_out_at, now) {
            return Err(self.ended(&family, why).await);
        }
        let (username, claims) = self.account(&family, user.map_err(unavailable)?).await?;
        let profile = UserProfile::from_claims(&claims).map_err(|_| refused("the account has no subject"))?;
        if !app.access.admits(&profile) {
            return Err(refused("the app's access does not list the person"));
        }
        if !self.ports.consented_as(&username, &claims).await.map_err(unavailable)? {
            return Err(refused("the person has not accepted the current terms"));
        }
        let scope = narrowed(&family.scope, request.scope).map_err(|_| TokenError::InvalidScope)?;
        let claims = oidc::claims(&profile, &app.claims, &scope).map_err(|_| refused("the person lacks a claim the app requires"))?;
        // No nonce: it belongs to the sign-in's own ID token (OpenID Connect Core §12.2).
        let authentication = Authentication {
            client_id: family.client_id.clone(),
            scope,
            nonce: None,
            auth_time: family.auth_time,
            amr: family.amr.clone(),
            claims,
            sid: family.sid.clone(),
        };
        let mut response = self.tokens(client, &authentication, now).await?;
        response.refresh_token = Some(self.seal_refresh(&RefreshFamily { generation: family.generation + 1, ..family.clone() }).await?);
        if !self.ports.refresh.advance(&family.id, family.generation, now).await.map_err(unavailable)? {
            // Another refresh with the same token went first: one of the two is not the client.
            self.reused(&family, &request.visitor, now).await;
            return Err(TokenError::InvalidGrant(USED));
        }
        Ok(response)
    }

    /// A refresh token used a second time (stolen, or replayed): its family is revoked, and the
    /// operators see `user.sign_in_failed` (`reason: refresh_token_reused`, the client and
    /// where the request came from). A failure to record it is logged.
    async fn reused(&self, family: &RefreshFamily, visitor: &EventContext, now: u64) {
        tracing::warn!(client = %family.client_id, "a refresh token used a second time: its sign-in's refresh tokens are revoked");
        self.revoke_family(family).await;
        let user = EventUser { sub: family.subject.clone(), username: Some(family.username.clone()), ..EventUser::default() };
        let context = EventContext { app: Some(family.client_id.clone()), ..visitor.clone() };
        let event = IdentityEvent::new(EventType::UserSignInFailed, user, context, now).with_detail("reason", "refresh_token_reused");
        if let Err(e) = self.ports.events.record(&event).await {
            tracing::warn!(error = %e, "could not record a refresh token's reuse");
        }
    }

    /// The account's user name and claims (its attributes, `cognito:username` and
    /// `cognito:groups`) while it is the family's (`sub`) and enabled. Otherwise the family is
    /// revoked and `invalid_grant`.
    async fn account(&self, family: &RefreshFamily, user: Option<PoolUser>) -> Result<(String, Map<String, Value>), TokenError> {
        match user {
            Some(user) if user.enabled && user.attributes.get("sub").and_then(Value::as_str) == Some(family.subject.as_str()) => {
                let mut claims = user.attributes;
                claims.insert("cognito:username".into(), user.username.clone().into());
                claims.insert("cognito:groups".into(), user.groups.into());
                Ok((user.username, claims))
            }
            _ => Err(self.ended(family, "the account is disabled or deleted").await),
        }
    }

    /// Revokes `family`, which `why` ended: `invalid_grant`.
    async fn ended(&self, family: &RefreshFamily, why: &'static str) -> TokenError {
        self.revoke_family(family).await;
        refused(why)
    }

    /// Revokes a refresh token's family for the authenticated client (RFC 7009 §2.1): every token
    /// of its sign-in stops working. A token that is not valid (or has expired) is answered as a
    /// success (§2.2).
    ///
    /// Errors: `invalid_request` without a token, the client's authentication errors,
    /// `invalid_grant` for another client's token, `unsupported_token_type` for an access token
    /// (it lives out its lifetime), `temporarily_unavailable`.
    pub async fn revoke(&self, request: RevocationRequest<'_>, now: u64) -> Result<(), TokenError> {
        let token = request.token.ok_or(TokenError::InvalidRequest("token is required"))?;
        let (app, client) = self.client(request.client.id.as_deref()).await?;
        self.authenticate(&app, &client, &request.client, now).await?;
        match self.open::<Sealed>(Purpose::RefreshToken, token, now).await? {
            Some(sealed) if sealed.client_id != app.id.as_str() => Err(TokenError::InvalidGrant("the token was issued to another client")),
            Some(sealed) => self.ports.refresh.revoke(&sealed.family).await.map_err(unavailable),
            None if self.open::<AccessGrant>(Purpose::AccessToken, token, now).await?.is_some() => Err(TokenError::UnsupportedTokenType),
            None => Ok(()),
        }
    }

    /// The current token of `family` (its generation), until the family's end.
    async fn seal_refresh(&self, family: &RefreshFamily) -> Result<String, TokenError> {
        let key = self.ports.secrets.bridge().await.map_err(unavailable)?;
        let sealed = Sealed {
            family: family.id.clone(),
            generation: family.generation,
            client_id: family.client_id.clone(),
            username: family.username.clone(),
            sid: family.sid.clone(),
        };
        flow::seal_private(&key.flow_key, Purpose::RefreshToken, family.expires_at, &sealed).map_err(unavailable)
    }

    /// Revokes `family`; a failure is logged (the refusal stands either way).
    pub(super) async fn revoke_family(&self, family: &RefreshFamily) {
        if let Err(e) = self.ports.refresh.revoke(&family.id).await {
            tracing::warn!(error = %e, "could not revoke a family of refresh tokens");
        }
    }
}

/// What a refused refresh says: the same for every standing that ended it (the holder of a token
/// learns nothing of the account); the log says which.
const ENDED: &str = "the refresh token is no longer valid: sign the person in again";
/// A token not ours, altered, expired or revoked.
const INVALID: &str = "the refresh token is not valid, or has expired";

/// `invalid_grant` for a refresh `why` refuses (logged, not said).
fn refused(why: &'static str) -> TokenError {
    tracing::info!(why, "refused a refresh");
    TokenError::InvalidGrant(ENDED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signin::ports::RefreshFamilies;
    use crate::signin::service::SignInPorts;
    use crate::testing::{EmptyPool, MemoryApps, MemoryRefreshFamilies, ScriptedAuth, sign_in_ports};
    use serde_json::json;
    use std::sync::Arc;

    const NOW: u64 = 1_800_000_000;

    /// Where a user name can be taken again (a pool without email as the user name), a later
    /// account under the family's name is someone else: refused, and the family revoked. (moto's
    /// pool takes emails as user names, so a new account gets a new name there.)
    #[tokio::test]
    async fn another_account_under_the_same_name_is_not_the_person() {
        let app: App = serde_json::from_value(json!({"id": "spa", "name": "SPA", "target": {"kind": "oidc", "redirect_uris": ["https://spa.example.com/cb"],
            "client_authentication": "none", "refresh_token_lifetime_seconds": 3600}, "allowed_origins": []}))
        .unwrap_or_else(|e| panic!("{e}"));
        let pool = Arc::new(EmptyPool::default());
        let families = Arc::new(MemoryRefreshFamilies::default());
        let ports = SignInPorts {
            apps: Arc::new(MemoryApps::with([app])),
            pool: pool.clone(),
            refresh: families.clone(),
            ..sign_in_ports(Arc::new(ScriptedAuth::default()), Default::default())
        };
        let provider = OpenIdProvider::new(Arc::new(ports));
        let family = RefreshFamily {
            id: "f".into(),
            client_id: "spa".into(),
            username: "hanako".into(),
            subject: "sub-then".into(),
            scope: "openid".into(),
            auth_time: None,
            amr: vec!["pwd".into()],
            signed_in_at: NOW - 60,
            expires_at: NOW - 60 + 3600,
            generation: 0,
            last_used: 0,
            sid: None,
        };
        let refresh = |token: String| {
            let client = ClientCredentials { id: Some("spa".into()), secret: None, assertion: None, method: oidc::ClientAuthentication::None };
            let provider = &provider;
            async move {
                provider.token(TokenRequest { grant_type: Some("refresh_token"), refresh_token: Some(&token), client, ..TokenRequest::default() }, NOW).await
            }
        };
        for (sub, refused) in [("sub-then", false), ("sub-now", true)] {
            pool.attributes.lock().unwrap_or_else(|p| p.into_inner()).insert("hanako".into(), json!({"sub": sub}).as_object().cloned().unwrap_or_default());
            families.create(&family).await.unwrap_or_else(|e| panic!("{e}"));
            let answer = refresh(provider.seal_refresh(&family).await.unwrap_or_else(|e| panic!("{e}"))).await;
            // The same account goes on to make the tokens (no signing key here: unavailable).
            let expected = if refused { Err(TokenError::InvalidGrant(ENDED)) } else { Err(TokenError::Unavailable) };
            assert_eq!(answer, expected, "{sub}");
            assert_eq!(families.families.lock().unwrap_or_else(|p| p.into_inner()).remove("f").is_none(), refused, "{sub}: revoked");
        }
    }
}
