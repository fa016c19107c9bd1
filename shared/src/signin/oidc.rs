//! The OpenID Connect relying party's rules, free of HTTP: PKCE, the authorization request, the
//! ID token claim checks and reading the person from the claims.
//!
//! Signature checks (JWKS, algorithm allow-list) are the adapter's (`adapters::oidc_http`); the
//! service (`signin::corporate`) strings the steps together.

use serde_json::{Map, Value};
use url::Url;

use crate::common::email::Email;
use crate::directory::org::{Connection, ConnectionKind, EmailClaim};

/// Clock skew allowed on `exp`, `iat` and `nbf` (seconds).
pub const SKEW: u64 = 60;
/// An ID token issued longer ago than this is refused even if the provider set a long `exp`.
pub const MAX_AGE: u64 = 10 * 60;

pub use crate::directory::provider::ProviderMetadata;

/// The authorization request's values chosen for one sign-in.
pub struct Authorize<'a> {
    pub connection: &'a Connection,
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    pub verifier: &'a str,
    pub login_hint: Option<&'a str>,
    /// The app asked for a fresh sign-in (an OpenID Connect client's `prompt=login` or
    /// `max_age`): the provider is asked for one too (`prompt=login`, `max_age=0`).
    pub fresh: bool,
}

/// The URL the browser is sent to: code flow, `openid email profile`, PKCE S256.
pub fn authorize_url(metadata: &ProviderMetadata, request: &Authorize<'_>) -> Result<Url, &'static str> {
    let mut url = Url::parse(&metadata.authorization_endpoint).map_err(|_| "the authorization endpoint is not a URL")?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &request.connection.client_id)
            .append_pair("redirect_uri", request.redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", request.state)
            .append_pair("nonce", request.nonce)
            .append_pair("code_challenge", &crate::common::hashing::pkce_s256(request.verifier))
            .append_pair("code_challenge_method", "S256");
        if let (true, Some(hint)) = (request.connection.login_hint, request.login_hint) {
            q.append_pair("login_hint", hint);
        }
        if let (ConnectionKind::Cognito, Some(idp)) = (request.connection.kind, &request.connection.identity_provider) {
            q.append_pair("identity_provider", idp);
        }
        if request.fresh {
            q.append_pair("prompt", "login").append_pair("max_age", "0");
        }
    }
    Ok(url)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("the ID token's issuer is not the provider's")]
    Issuer,
    #[error("the ID token is not for this client")]
    Audience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token is not valid yet or was issued in the future")]
    NotYetValid,
    #[error("the ID token's nonce does not match this sign-in")]
    Nonce,
    #[error("the ID token has no subject")]
    Subject,
    #[error("the ID token has no usable email in `{0}`")]
    Email(&'static str),
}

/// OpenID Connect Core 3.1.3.7: `iss` exactly, `aud` contains the client (and `azp` is the client
/// when present or when there are several audiences), `exp`/`iat`/`nbf` within `SKEW`, `iat` not
/// older than `MAX_AGE`, `nonce` exactly.
pub fn check_claims(claims: &Map<String, Value>, issuer: &str, client_id: &str, nonce: &str, now: u64) -> Result<(), ClaimError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    if text("iss") != Some(issuer) {
        return Err(ClaimError::Issuer);
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let azp = text("azp");
    if !audiences.contains(&client_id) || azp.is_some_and(|a| a != client_id) || (audiences.len() > 1 && azp.is_none()) {
        return Err(ClaimError::Audience);
    }
    if number("exp").is_none_or(|exp| exp + SKEW <= now) {
        return Err(ClaimError::Expired);
    }
    match number("iat") {
        Some(iat) if iat > now + SKEW => return Err(ClaimError::NotYetValid),
        Some(iat) if iat + MAX_AGE + SKEW < now => return Err(ClaimError::Expired),
        Some(_) => {}
        None => return Err(ClaimError::Expired),
    }
    if number("nbf").is_some_and(|nbf| nbf > now + SKEW) {
        return Err(ClaimError::NotYetValid);
    }
    // Constant time: the nonce is a secret bound to this browser.
    let matches = text("nonce").is_some_and(|n| subtle::ConstantTimeEq::ct_eq(n.as_bytes(), nonce.as_bytes()).into());
    if !matches {
        return Err(ClaimError::Nonce);
    }
    Ok(())
}

/// The person a provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: Email,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Cognito connections: the pool user the token is for (`cognito:username`).
    pub pool_username: Option<String>,
    /// Whether the provider vouches for the email: `email_verified` is `true` (or `"true"`)
    /// and the email is the `email` claim's, or the email is the `upn` (which a directory only
    /// issues in its own verified domains). Only a vouched-for email may find an account.
    pub email_verified: bool,
    /// Cognito connections: the names of the pool's providers the person came through
    /// (`identities[].providerName`).
    pub providers: Vec<String>,
    /// The provider says the person used more than one factor: its `amr` (RFC 8176) names
    /// `mfa`, or methods of two kinds (`pwd` and `otp`, ...; see `multi_factor`).
    pub second_factor: bool,
}

/// Reads the person from checked claims; the email from `email_claim`.
pub fn identity(claims: &Map<String, Value>, email_claim: EmailClaim) -> Result<Identity, ClaimError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let subject = text("sub").filter(|s| s.len() <= 255).ok_or(ClaimError::Subject)?;
    let email = text(email_claim.name()).and_then(|e| Email::parse(&e).ok()).ok_or(ClaimError::Email(email_claim.name()))?;
    Ok(Identity {
        issuer: text("iss").unwrap_or_default(),
        subject,
        name: text("name"),
        given_name: text("given_name"),
        family_name: text("family_name"),
        pool_username: text("cognito:username"),
        email_verified: match email_claim {
            EmailClaim::Upn => true,
            _ => text("email").is_some_and(|e| Email::parse(&e).is_ok_and(|e| e == email)) && verified_flag(claims.get("email_verified")),
        },
        providers: crate::common::profile::identity_providers(claims.get("identities")).unwrap_or_default().into_iter().take(16).collect(),
        second_factor: multi_factor(claims.get("amr")),
        email,
    })
}

/// Whether RFC 8176 authentication methods say more than one factor was used: `mfa`, or methods
/// of two kinds among something known (`pwd`, `pin`, `kba`), something held (`hwk`, `swk`,
/// `otp`, `sms`, `tel`, `sc`, `pop`) and something the person is (`fpt`, `face`, `iris`,
/// `retina`, `vbm`). Signals that are no factor (`rba`, `geo`, `wia`, `mca`, `user`) count for
/// nothing.
fn multi_factor(amr: Option<&Value>) -> bool {
    let methods = amr.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).take(16);
    let mut kinds = [false; 3];
    for method in methods {
        match method {
            "mfa" => return true,
            "pwd" | "pin" | "kba" => kinds[0] = true,
            "hwk" | "swk" | "otp" | "sms" | "tel" | "sc" | "pop" => kinds[1] = true,
            "fpt" | "face" | "iris" | "retina" | "vbm" => kinds[2] = true,
            _ => {}
        }
    }
    kinds.iter().filter(|k| **k).count() >= 2
}

/// `email_verified` as providers send it: a boolean, or (Cognito, some SAML bridges) a string.
fn verified_flag(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Bool(true))) || value.and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISS: &str = "https://idp.corp.example";
    const NOW: u64 = 1_700_000_000;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn good() -> Value {
        json!({"iss": ISS, "aud": "bridge", "sub": "emp-1", "exp": NOW + 300, "iat": NOW - 5, "nonce": "n-1", "email": "Taro@Corp.example"})
    }

    fn check(v: Value) -> Result<(), ClaimError> {
        check_claims(&claims(v), ISS, "bridge", "n-1", NOW)
    }

    #[test]
    fn only_an_email_the_provider_vouches_for_is_verified() {
        let verified = |v: Value, claim: EmailClaim| identity(&claims(v), claim).map(|i| i.email_verified).unwrap_or_else(|e| panic!("{e}"));
        let taro = |extra: Value| {
            let mut c = json!({"sub": "s", "email": "Taro@Corp.example"});
            c.as_object_mut().into_iter().for_each(|o| o.extend(extra.as_object().cloned().unwrap_or_default()));
            c
        };
        assert!(verified(taro(json!({"email_verified": true})), EmailClaim::Email));
        assert!(verified(taro(json!({"email_verified": "True"})), EmailClaim::Email), "Cognito and SAML bridges send a string");
        for no in [json!({}), json!({"email_verified": false}), json!({"email_verified": "false"}), json!({"email_verified": 1})] {
            assert!(!verified(taro(no.clone()), EmailClaim::Email), "{no}");
        }
        // `email_verified` speaks of the `email` claim, not of another that holds an address.
        let other = json!({"sub": "s", "email": "me@corp.example", "email_verified": true, "preferred_username": "taro@corp.example"});
        assert!(!verified(other, EmailClaim::PreferredUsername));
        assert!(verified(json!({"sub": "s", "upn": "taro@corp.example"}), EmailClaim::Upn), "a directory issues UPNs in its verified domains");
        let factors = |amr: Value| identity(&claims(json!({"sub": "s", "email": "t@corp.example", "amr": amr})), EmailClaim::Email).map(|i| i.second_factor);
        assert_eq!(factors(json!(["pwd", "mfa"])), Ok(true), "Entra");
        assert_eq!(factors(json!(["pwd", "otp"])), Ok(true), "something known and something held");
        assert_eq!(factors(json!(["hwk", "fpt"])), Ok(true), "a key with a fingerprint");
        assert_eq!(factors(json!(["pwd"])), Ok(false));
        assert_eq!(factors(json!(["pwd", "pwd"])), Ok(false), "one method twice is one factor");
        for no in [json!(["pwd", "rba"]), json!(["pwd", "geo"]), json!(["pwd", "kba"]), json!(["pwd", "Pwd"]), json!(["pwd", ""]), json!(["mca"])] {
            assert_eq!(factors(no.clone()), Ok(false), "{no}: no second kind of factor");
        }
        assert_eq!(factors(json!("mfa")), Ok(false), "amr is an array");
        assert_eq!(factors(Value::Null), Ok(false), "no amr: no second factor we can see");
        let pool = json!({"sub": "s", "email": "t@corp.example", "identities": "[{\"providerName\":\"CorpSAML\"}]"});
        assert_eq!(identity(&claims(pool), EmailClaim::Email).map(|i| i.providers).unwrap_or_default(), ["CorpSAML"]);
    }

    #[test]
    fn claim_checks_follow_openid_core() {
        assert_eq!(check(good()), Ok(()));
        let with = |k: &str, v: Value| {
            let mut c = good();
            c[k] = v;
            c
        };
        assert_eq!(check(with("iss", json!(format!("{ISS}/")))), Err(ClaimError::Issuer), "exact issuer only");
        assert_eq!(check(with("aud", json!("other"))), Err(ClaimError::Audience));
        assert_eq!(check(with("aud", json!(["other", "bridge"]))), Err(ClaimError::Audience), "several audiences need azp");
        assert_eq!(check(with("azp", json!("other"))), Err(ClaimError::Audience));
        let mut multi = with("aud", json!(["other", "bridge"]));
        multi["azp"] = json!("bridge");
        assert_eq!(check(multi), Ok(()));
        assert_eq!(check(with("exp", json!(NOW - SKEW))), Err(ClaimError::Expired));
        assert_eq!(check(with("exp", json!(NOW - SKEW + 1))), Ok(()), "within skew");
        assert_eq!(check(with("iat", json!(NOW + SKEW + 1))), Err(ClaimError::NotYetValid));
        assert_eq!(check(with("iat", json!(NOW - MAX_AGE - SKEW - 1))), Err(ClaimError::Expired), "too old");
        assert_eq!(check(with("nbf", json!(NOW + SKEW + 1))), Err(ClaimError::NotYetValid));
        assert_eq!(check(with("nonce", json!("n-2"))), Err(ClaimError::Nonce));
        let mut no_nonce = good();
        no_nonce.as_object_mut().map(|o| o.remove("nonce"));
        assert_eq!(check(no_nonce), Err(ClaimError::Nonce));
    }

    #[test]
    fn the_email_comes_from_the_configured_claim() {
        let c = claims(json!({"iss": ISS, "sub": "s", "email": "a@corp.example", "upn": "B@Corp.Example", "name": "Taro"}));
        assert_eq!(identity(&c, EmailClaim::Email).map(|i| i.email.as_str().to_owned()), Ok("a@corp.example".into()));
        assert_eq!(identity(&c, EmailClaim::Upn).map(|i| i.email.as_str().to_owned()), Ok("b@corp.example".into()));
        assert_eq!(identity(&c, EmailClaim::PreferredUsername), Err(ClaimError::Email("preferred_username")));
        assert_eq!(identity(&claims(json!({"email": "a@corp.example"})), EmailClaim::Email), Err(ClaimError::Subject));
    }

    #[test]
    fn the_authorization_request_carries_pkce_state_nonce_and_the_hint() {
        let meta = ProviderMetadata {
            issuer: ISS.into(),
            authorization_endpoint: format!("{ISS}/authorize?tenant=1"),
            token_endpoint: format!("{ISS}/token"),
            jwks_uri: format!("{ISS}/jwks"),
            end_session_endpoint: None,
        };
        let mut connection: Connection =
            serde_json::from_value(json!({"kind": "oidc", "issuer": ISS, "client_id": "bridge"})).unwrap_or_else(|e| panic!("{e}"));
        let request = |c: &Connection, fresh: bool| {
            let r = Authorize {
                connection: c,
                redirect_uri: "https://api.example/corporate/callback",
                state: "s",
                nonce: "n",
                verifier: "v",
                login_hint: Some("taro@corp.example"),
                fresh,
            };
            let url = authorize_url(&meta, &r).unwrap_or_else(|e| panic!("{e}"));
            url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect::<std::collections::BTreeMap<_, _>>()
        };
        let q = request(&connection, false);
        assert_eq!(q["tenant"], "1", "the endpoint's own query is kept");
        assert!(!q.contains_key("prompt") && !q.contains_key("max_age"));
        assert_eq!(q["code_challenge"], crate::common::hashing::pkce_s256("v"));
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!((q["state"].as_str(), q["nonce"].as_str(), q["login_hint"].as_str()), ("s", "n", "taro@corp.example"));
        connection.login_hint = false;
        connection.kind = ConnectionKind::Cognito;
        connection.identity_provider = Some("CorpSAML".into());
        let q = request(&connection, true);
        assert!(!q.contains_key("login_hint"));
        assert_eq!(q["identity_provider"], "CorpSAML");
        // An app that asked for a fresh sign-in has the provider asked for one.
        assert_eq!((q["prompt"].as_str(), q["max_age"].as_str()), ("login", "0"));
    }
}
