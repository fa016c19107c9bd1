//! The login function's configuration, read once at cold start.

use secrecy::SecretString;
use shared::common::sms_destinations::SmsDestinations;
use shared::config::{ConfigError, Source, optional, parsed_or, required};
use shared::signin::session::{MAX_SESSION_TTL, SessionPolicy};
use shared::tokens::return_to::Origin;
use url::Url;

#[derive(Debug, Clone)]
pub struct Config {
    /// The bridge's DynamoDB table.
    pub table: String,
    pub user_pool_id: String,
    /// The bridge's app client (`USER_POOL_CLIENT_ID`, with a secret): sign-up, password resets,
    /// passwordless sign-in.
    pub client_id: String,
    /// The app client password sign-ins go through by the admin API (`SIGN_IN_CLIENT_ID`) and
    /// its secret (`SIGN_IN_CLIENT_SECRET`, for `SECRET_HASH`; unset: a client without one);
    /// unset or empty, they go through `client_id`.
    pub sign_in_client: Option<(String, Option<SecretString>)>,
    /// The Secrets Manager secret holding `flow_key` (and `cognito_client_secret`).
    pub bridge_secret_id: String,
    /// The login form's page; `/sso/{app}` redirects here.
    pub form_url: Url,
    /// The form's origin: the only origin allowed to call the JSON endpoints.
    pub form_origin: Origin,
    /// The ID tokens' `iss`; by default Cognito's for the pool.
    pub issuer: String,
    /// Where the pool's signing keys are; by default `{issuer}/.well-known/jwks.json`.
    pub jwks_url: String,
    /// The API's public base URL; the corporate callback is `{api_url}/corporate/callback`.
    /// Without it corporate sign-in is off.
    pub api_url: Option<Url>,
    pub session: SessionPolicy,
    pub apps_ttl_seconds: u64,
    /// How long an organisation's policies are cached.
    pub orgs_ttl_seconds: u64,
    pub secrets_ttl_seconds: u64,
    /// A request header a trusted proxy in front of the API sets to the visitor's country
    /// (CloudFront's `CloudFront-Viewer-Country`); without it events carry no country.
    pub country_header: Option<String>,
    /// The passkeys' relying party (`PASSKEY_RP_ID`, the pool's `WebAuthnRelyingPartyID`); by
    /// default the form's host.
    pub relying_party: String,
    /// The E.164 prefixes the account page accepts for SMS codes (`SMS_ALLOWED_PREFIXES`,
    /// `+81,+1604`); unset, any number.
    pub sms_destinations: SmsDestinations,
    /// The Pwned Passwords range API a new password is looked up in (`BREACHED_PASSWORDS_URL`,
    /// `https://api.pwnedpasswords.com`: https, or http on loopback); unset or empty, none.
    pub breached_passwords_url: Option<Url>,
}

impl Config {
    pub fn from_env(env: &impl Source) -> Result<Self, ConfigError> {
        let user_pool_id = required(env, "USER_POOL_ID")?;
        let region = user_pool_id
            .split_once('_')
            .map(|(region, _)| region.to_owned())
            .ok_or_else(|| ConfigError { variable: "USER_POOL_ID".into(), problem: "is not of the form {region}_{id}".into() })?;
        let issuer = optional(env, "COGNITO_ISSUER")?.unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"));
        let jwks_url = optional(env, "COGNITO_JWKS_URL")?.unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
        let form_url: Url = shared::config::parsed(env, "FORM_URL")?;
        let form_origin = Origin::of(&form_url).map_err(|e| ConfigError { variable: "FORM_URL".into(), problem: e.to_string() })?;
        let api_url = shared::config::public_api_url(env)?;
        let breached_passwords_url = match optional(env, "BREACHED_PASSWORDS_URL")?.filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(raw) => {
                let plain = |u: &Url| u.query().is_none() && u.fragment().is_none() && u.username().is_empty() && u.password().is_none();
                let url = Url::parse(&raw).ok().filter(|u| shared::common::secure_url::secure(u) && plain(u));
                Some(url.ok_or_else(|| ConfigError {
                    variable: "BREACHED_PASSWORDS_URL".into(),
                    problem: "must be an https URL (or http on loopback) without a query, fragment or user name".into(),
                })?)
            }
        };
        let defaults = SessionPolicy::default();
        let session = SessionPolicy { ttl: parsed_or(env, "SESSION_TTL_SECONDS", defaults.ttl)?, idle: parsed_or(env, "SESSION_IDLE_SECONDS", defaults.idle)? };
        if session.ttl > MAX_SESSION_TTL {
            // An account's revocation is kept only this long: a longer session could outlive it.
            return Err(ConfigError { variable: "SESSION_TTL_SECONDS".into(), problem: format!("must be at most {MAX_SESSION_TTL} (30 days)") });
        }
        Ok(Self {
            table: required(env, "TABLE_NAME")?,
            api_url,
            session,
            client_id: required(env, "USER_POOL_CLIENT_ID")?,
            sign_in_client: optional(env, "SIGN_IN_CLIENT_ID")?
                .filter(|c| !c.trim().is_empty())
                .map(|id| Ok::<_, ConfigError>((id, optional(env, "SIGN_IN_CLIENT_SECRET")?.filter(|s| !s.is_empty()).map(SecretString::from))))
                .transpose()?,
            bridge_secret_id: required(env, "BRIDGE_SECRET_ID")?,
            user_pool_id,
            form_origin,
            issuer,
            jwks_url,
            apps_ttl_seconds: parsed_or(env, "APPS_TTL_SECONDS", 60)?,
            orgs_ttl_seconds: parsed_or(env, "ORGS_TTL_SECONDS", 60)?,
            secrets_ttl_seconds: parsed_or(env, "SECRETS_TTL_SECONDS", 300)?,
            country_header: optional(env, "COUNTRY_HEADER")?.filter(|h| !h.is_empty()).map(|h| h.to_ascii_lowercase()),
            relying_party: optional(env, "PASSKEY_RP_ID")?.filter(|r| !r.is_empty()).unwrap_or_else(|| form_url.host_str().unwrap_or_default().to_owned()),
            sms_destinations: parsed_or(env, "SMS_ALLOWED_PREFIXES", SmsDestinations::default())?,
            breached_passwords_url,
            form_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_breached_password_service_is_a_plain_https_url() {
        let base = [
            ("TABLE_NAME", "t"),
            ("USER_POOL_ID", "ap-northeast-1_AbC"),
            ("USER_POOL_CLIENT_ID", "c"),
            ("BRIDGE_SECRET_ID", "s"),
            ("FORM_URL", "https://login.example.com/index.html"),
        ];
        let with = |url: &str| {
            let env: std::collections::HashMap<String, String> =
                base.iter().chain([("BREACHED_PASSWORDS_URL", url)].iter()).map(|(k, v)| (k.to_string(), v.to_string())).collect();
            Config::from_env(&env).map(|c| c.breached_passwords_url.map(|u| u.to_string()))
        };
        assert_eq!(with("https://api.pwnedpasswords.com").ok().flatten().as_deref(), Some("https://api.pwnedpasswords.com/"));
        assert_eq!(with("").ok().flatten(), None, "empty: off");
        for bad in ["http://api.pwnedpasswords.com", "https://api.pwnedpasswords.com/?x=1", "https://u:p@api.pwnedpasswords.com", "https://h/#f", "ftp://h"] {
            assert!(with(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn derives_issuer_and_keys_from_the_pool() {
        let env = [
            ("TABLE_NAME", "t"),
            ("USER_POOL_ID", "ap-northeast-1_AbC"),
            ("USER_POOL_CLIENT_ID", "c"),
            ("BRIDGE_SECRET_ID", "s"),
            ("FORM_URL", "https://login.example.com/index.html"),
            ("PUBLIC_API_URL", "https://api.example.com/"),
        ];
        let c = Config::from_env(&env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.issuer, "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_AbC");
        assert_eq!(c.jwks_url, "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_AbC/.well-known/jwks.json");
        assert_eq!(c.form_origin.as_str(), "https://login.example.com");
    }

    #[test]
    fn names_what_is_missing_or_wrong() {
        let e = Config::from_env(&[("USER_POOL_ID", "nounderscore")]).unwrap_err();
        assert_eq!(e.variable, "USER_POOL_ID");
        let e = Config::from_env(&[("USER_POOL_ID", "r_x")]).unwrap_err();
        assert_eq!(e.to_string(), "configuration variable FORM_URL: is not set");
        let e = Config::from_env(&[("USER_POOL_ID", "r_x"), ("FORM_URL", "http://login.example.com/")]).unwrap_err();
        assert_eq!(e.variable, "FORM_URL");
        // A session may not outlive the record of its account's revocation.
        let month = [("USER_POOL_ID", "r_x"), ("FORM_URL", "https://login.example.com/"), ("SESSION_TTL_SECONDS", "2592001")];
        assert_eq!(Config::from_env(&month).unwrap_err().variable, "SESSION_TTL_SECONDS");
    }
}
