//! Organisations: the corporate customers whose people the bridge provisions (SCIM) and signs
//! in through their own identity provider. An organisation owns one or more verified email
//! domains; a domain belongs to at most one organisation (enforced by the store, atomically).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::common::email::Email;
use crate::common::secrets::SecretRef;
use crate::directory::provider::ProviderMetadata;

/// How many domains one organisation may own (keeps every change within one DynamoDB transaction).
pub const MAX_DOMAINS: usize = 50;

/// An organisation's id: `org-` and 20 random lowercase hex digits when generated; any 1 to 64
/// characters of `a-z`, `0-9`, `-` when parsed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    #[error("an organisation id is 1 to 64 characters of a-z, 0-9 and '-'")]
    BadId,
    #[error("`{0}` is not a domain name (ASCII letters, digits and '-', at least two labels; IDNs in punycode)")]
    BadDomain(String),
    #[error("the organisation's name is empty or longer than 200 characters")]
    BadName,
    #[error("an organisation owns at most {MAX_DOMAINS} domains")]
    TooManyDomains,
    #[error("the domain {0} is listed twice")]
    DuplicateDomain(String),
    #[error("the connection is not valid: {0}")]
    BadConnection(&'static str),
}

impl OrgId {
    pub fn generate() -> Self {
        Self(format!("org-{}", &uuid::Uuid::new_v4().simple().to_string()[..20]))
    }

    pub fn parse(raw: &str) -> Result<Self, OrgError> {
        let ok = (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(OrgError::BadId) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrgId {
    type Error = OrgError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<OrgId> for String {
    fn from(id: OrgId) -> Self {
        id.0
    }
}

impl fmt::Debug for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrgId({})", self.0)
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email domain, lower case, without a trailing dot.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailDomain(String);

impl EmailDomain {
    pub fn parse(raw: &str) -> Result<Self, OrgError> {
        let domain = raw.trim().trim_end_matches('.').to_ascii_lowercase();
        let label_ok =
            |l: &str| (1..=63).contains(&l.len()) && !l.starts_with('-') && !l.ends_with('-') && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let labels: Vec<&str> = domain.split('.').collect();
        let ok = domain.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|l| label_ok(l))
            && !labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()));
        if ok { Ok(Self(domain)) } else { Err(OrgError::BadDomain(raw.trim().to_owned())) }
    }

    /// The domain of an email address.
    pub fn of(email: &Email) -> Result<Self, OrgError> {
        Self::parse(email.as_str().rsplit('@').next().unwrap_or_default())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailDomain {
    type Error = OrgError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<EmailDomain> for String {
    fn from(d: EmailDomain) -> Self {
        d.0
    }
}

impl fmt::Debug for EmailDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailDomain({})", self.0)
    }
}

impl fmt::Display for EmailDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a SCIM DELETE of a user means for this organisation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteMode {
    /// Keep the SCIM record, disable the Cognito user (the default).
    #[default]
    Deactivate,
    /// Remove both.
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgPolicies {
    #[serde(default)]
    pub delete: DeleteMode,
    /// Whether SCIM-provisioned people may also sign in with a password.
    #[serde(default)]
    pub password_sign_in: bool,
}

impl Default for OrgPolicies {
    fn default() -> Self {
        Self { delete: DeleteMode::Deactivate, password_sign_in: false }
    }
}

/// Where an organisation's people sign in: their company's OpenID provider, reached directly
/// (`oidc`) or through an identity provider configured in the Cognito user pool (`cognito`:
/// SAML, OIDC, Google...; the pool is then the OpenID provider and `identity_provider` names the
/// pool's provider). Both take the same relying-party path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub kind: ConnectionKind,
    /// The OpenID issuer; its metadata is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// The client secret, in Secrets Manager. None for a public client (PKCE only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretRef>,
    /// `cognito` only: the pool's identity provider name, sent as `identity_provider`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
    /// The claim holding the person's email.
    #[serde(default)]
    pub email_claim: EmailClaim,
    /// Send the typed email as `login_hint` (off for companies that sign in with a user name).
    #[serde(default = "enabled")]
    pub login_hint: bool,
    #[serde(default)]
    pub provisioning: Provisioning,
    /// On sign-out, continue to the provider's `end_session_endpoint` when it has one.
    #[serde(default)]
    pub single_logout: bool,
    /// The provider's discovery document as read when the connection was saved, so a sign-in
    /// goes straight to its endpoints; `None` if it could not be read then (or the connection
    /// was saved before the bridge kept it): sign-in reads it then, cached for an hour. Not part
    /// of the connection's JSON: the store keeps it beside it, so code that predates it still
    /// reads the organisation.
    #[serde(skip)]
    pub metadata: Option<ProviderMetadata>,
    /// The client secret's value as the login function sealed it for its next cold start
    /// (`signin::corporate::client_secret`): opened with the bridge's key instead of a Secrets
    /// Manager read. Kept beside the connection by the store, never in its JSON, so never in an
    /// operator's view or the audit trail; it opens only at the organisation's version it was
    /// sealed for, and every update of the organisation removes it.
    #[serde(skip)]
    pub sealed_secret: Option<String>,
}

fn enabled() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    Oidc,
    Cognito,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailClaim {
    #[default]
    Email,
    Upn,
    PreferredUsername,
}

impl EmailClaim {
    pub fn name(self) -> &'static str {
        match self {
            EmailClaim::Email => "email",
            EmailClaim::Upn => "upn",
            EmailClaim::PreferredUsername => "preferred_username",
        }
    }
}

/// Who may sign in through the connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provisioning {
    /// Only people the organisation provisioned through SCIM (and has not deactivated).
    #[default]
    Scim,
    /// Anyone the provider vouches for whose email is in the organisation's domains; a Cognito
    /// user is created on their first sign-in.
    OnFirstSignIn,
}

/// The user pool's social providers (Cognito's names for them): anyone's, no organisation's.
pub const SOCIAL_PROVIDERS: [&str; 4] = ["Google", "Facebook", "LoginWithAmazon", "SignInWithApple"];

/// Whether two pool provider names are one (Cognito's names ignore case in a case-insensitive
/// pool, which sends the federated user name lower-cased: `corpsaml_...`; compared in Unicode
/// lower case).
pub fn same_provider(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// Why `name` cannot stand for a company's or the operator's own pool provider, if it cannot:
/// Cognito names a federated user `{provider}_{subject}` and the triggers read the provider up
/// to the first `_`, so a name with `_` (or edge spaces, or over Cognito's 32 characters) would
/// never be recognised as itself; a social provider's is anyone's.
pub fn pool_provider_name_problem(name: &str) -> Option<&'static str> {
    if name.contains('_') || name.trim() != name || !(1..=32).contains(&name.chars().count()) {
        return Some("the identity provider's name is 1 to 32 characters, without `_` or edge spaces (Cognito names a federated user `{provider}_{subject}`)");
    }
    SOCIAL_PROVIDERS.iter().any(|s| same_provider(s, name)).then_some("the identity provider is a social one (anyone's); name the organisation's own")
}

impl Connection {
    pub fn validate(&self) -> Result<(), OrgError> {
        let issuer = url::Url::parse(&self.issuer).map_err(|_| OrgError::BadConnection("the issuer is not a URL"))?;
        if !crate::common::secure_url::secure(&issuer) {
            return Err(OrgError::BadConnection("the issuer must be an https URL"));
        }
        if issuer.query().is_some() || issuer.fragment().is_some() {
            return Err(OrgError::BadConnection("the issuer has no query or fragment"));
        }
        if self.client_id.trim().is_empty() || self.client_id.len() > 256 {
            return Err(OrgError::BadConnection("the client id is empty or too long"));
        }
        match (self.kind, &self.identity_provider) {
            (ConnectionKind::Cognito, None) => Err(OrgError::BadConnection("a cognito connection names the pool's identity provider")),
            (ConnectionKind::Oidc, Some(_)) => Err(OrgError::BadConnection("identity_provider is for cognito connections")),
            // A social provider would let any account of it speak for the organisation's addresses.
            (ConnectionKind::Cognito, Some(name)) => pool_provider_name_problem(name).map_or(Ok(()), |problem| Err(OrgError::BadConnection(problem))),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    pub domains: Vec<EmailDomain>,
    #[serde(default)]
    pub policies: OrgPolicies,
    /// How its people sign in; none until the organisation connects its provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<Connection>,
    /// Incremented on every update; updates name the version they replace.
    #[serde(default)]
    pub version: u64,
}

impl Organisation {
    pub fn validate(&self) -> Result<(), OrgError> {
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(OrgError::BadName);
        }
        if self.domains.len() > MAX_DOMAINS {
            return Err(OrgError::TooManyDomains);
        }
        let mut seen = std::collections::BTreeSet::new();
        for d in &self.domains {
            if !seen.insert(d) {
                return Err(OrgError::DuplicateDomain(d.to_string()));
            }
        }
        self.connection.as_ref().map_or(Ok(()), Connection::validate)
    }

    pub fn owns(&self, domain: &EmailDomain) -> bool {
        self.domains.contains(domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised_and_checked() {
        assert_eq!(EmailDomain::parse(" Example.CO.JP. ").map(|d| d.0), Ok("example.co.jp".into()));
        assert_eq!(EmailDomain::parse("xn--eckwd4c7c.xn--zckzah").map(|d| d.0), Ok("xn--eckwd4c7c.xn--zckzah".into()));
        for bad in ["", "localhost", "*.example.com", "example..com", "-a.com", "a-.com", "exa mple.com", "例え.jp", "1.2.3.4", "a.com:443", "a@b.com"] {
            assert!(EmailDomain::parse(bad).is_err(), "{bad}");
        }
        let email = Email::parse("Taro@Sub.Example.com").unwrap();
        assert_eq!(EmailDomain::of(&email).map(|d| d.0), Ok("sub.example.com".into()));
    }

    #[test]
    fn organisations_are_validated() {
        let d = |s: &str| EmailDomain::parse(s).unwrap();
        let mut org = Organisation {
            id: OrgId::generate(),
            name: "Acme".into(),
            domains: vec![d("acme.co.jp"), d("acme.com")],
            policies: OrgPolicies::default(),
            connection: None,
            version: 0,
        };
        assert_eq!(org.validate(), Ok(()));
        assert!(org.id.as_str().starts_with("org-") && org.id.as_str().len() == 24);
        org.domains.push(d("ACME.com"));
        assert_eq!(org.validate(), Err(OrgError::DuplicateDomain("acme.com".into())));
        org.domains = (0..=MAX_DOMAINS).map(|i| d(&format!("d{i}.example"))).collect();
        assert_eq!(org.validate(), Err(OrgError::TooManyDomains));
        org.domains.clear();
        org.name = " ".into();
        assert_eq!(org.validate(), Err(OrgError::BadName));
    }

    #[test]
    fn a_pool_connections_provider_is_one_the_bridge_can_recognise() {
        let pool = |provider: &str| -> Connection {
            serde_json::from_value(
                serde_json::json!({"kind": "cognito", "issuer": "https://cognito-idp.example/pool", "client_id": "bridge", "identity_provider": provider}),
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(pool("CorpSAML").validate(), Ok(()));
        assert!(matches!(pool("A_cme").validate(), Err(OrgError::BadConnection(_))), "read back as `A`, never its own");
        assert!(matches!(pool(" ").validate(), Err(OrgError::BadConnection(_))));
        assert!(matches!(pool(" CorpSAML").validate(), Err(OrgError::BadConnection(_))));
        assert!(matches!(pool(&"x".repeat(33)).validate(), Err(OrgError::BadConnection(_))));
        assert!(matches!(pool("google").validate(), Err(OrgError::BadConnection(_))), "a social provider is anyone's");
        assert!(matches!(pool("Faceboo\u{212A}").validate(), Err(OrgError::BadConnection(_))), "a Kelvin sign lower-cases to `k`");
    }

    #[test]
    fn a_connections_metadata_is_not_part_of_its_json() {
        let issuer = "https://idp.acme.example";
        let connection: Connection = serde_json::from_value(serde_json::json!({"kind": "oidc", "issuer": issuer, "client_id": "bridge"})).unwrap();
        let metadata = ProviderMetadata {
            issuer: issuer.into(),
            authorization_endpoint: format!("{issuer}/authorize"),
            token_endpoint: format!("{issuer}/token"),
            jwks_uri: format!("{issuer}/jwks"),
            end_session_endpoint: None,
        };
        // The store keeps it beside the JSON: code that predates it reads on.
        let json = serde_json::to_value(Connection { metadata: Some(metadata), ..connection }).unwrap();
        assert!(json.get("metadata").is_none(), "{json}");
    }
}
