//! What the Cognito triggers decide, free of Lambda and AWS types: the claims PreTokenGeneration
//! adds, the event PostConfirmation records, which identity provider may speak for which email
//! address (at the first sign-in and every later one), and what a first federated sign-in comes
//! to (refused, linked to an existing account, or a new account). `functions/triggers` reads
//! Cognito's events and calls these.
//!
//! A person's attributes are Cognito's: names to text (`email_verified` is `"true"`).
//!
//! Triggers answer within Cognito's 5 s and are retried up to 3 times, so everything here is
//! either pure or idempotent: the registration event has an id derived from the user, and a
//! link that exists already is a link made.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

use crate::common::email::Email;
use crate::common::profile::{ORG_ATTRIBUTE, identity_providers};
use crate::common::store::StoreError;
use crate::directory::org::{ConnectionKind, EmailDomain, Organisation, SOCIAL_PROVIDERS, pool_provider_name_problem, same_provider};
use crate::directory::ports::{AccountLinker, DirectoryError, LinkTarget, OrgDirectory};
use crate::events::{EventContext, EventType, EventUser, IdentityEvent};

/// The error a sign-in ends with when [`may_assert`] refuses its provider the address (an
/// organisation's through another provider, another through a company's, or one the bridge
/// does not read). It names no organisation.
pub const NOT_ITS_PROVIDER: &str = "SIGN_IN_REFUSED: this email address signs in through its own company's sign-in";

/// The error a public flow started through the sign-in client ends with
/// ([`refuses_sign_in_client`]).
pub const NOT_THROUGH_THIS_CLIENT: &str = "NOT_ALLOWED: sign-up and password resets go through the sign-in page";

/// The name of the app client password sign-ins go through (`template.yaml`'s `SignInClient`):
/// only the admin flow (`ADMIN_USER_PASSWORD_AUTH`) is enabled on it, so IAM is its gate, and
/// its secret is in the login and account functions' configuration. The triggers find its id by
/// this name: the stack cannot give it to them (the pool names the triggers, and the client
/// names the pool).
pub const SIGN_IN_CLIENT_NAME: &str = "bridge-sign-in";

/// Whether a trigger source is one of Cognito's public flows that take any app client of the
/// pool with no more than its `SECRET_HASH`: `SignUp` (`PreSignUp_SignUp`, then its code's email),
/// `ResendConfirmationCode`, `ForgotPassword`. The bridge starts them through its own client
/// only, after its own checks (the app's `sign_up`, consent, breached passwords, its limits).
/// The sign-in client's secret is readable by whoever may read the functions' configuration, so
/// through it they are refused ([`refuses_sign_in_client`]). `ConfirmSignUp` and
/// `ConfirmForgotPassword` run no trigger before them: the client's secret alone keeps them.
pub fn public_flow(trigger_source: &str) -> bool {
    matches!(trigger_source, "PreSignUp_SignUp" | "CustomMessage_SignUp" | "CustomMessage_ResendCode" | "CustomMessage_ForgotPassword")
}

/// Whether a [`public_flow`] trigger's caller (`callerContext.clientId`) is a sign-in client,
/// which the trigger then fails ([`NOT_THROUGH_THIS_CLIENT`]); `sign_in_clients`: the ids of the
/// pool's clients named [`SIGN_IN_CLIENT_NAME`] (none: nothing is refused).
pub fn refuses_sign_in_client(caller: Option<&str>, sign_in_clients: &[String]) -> bool {
    caller.is_some_and(|caller| sign_in_clients.iter().any(|id| id == caller))
}

/// Cognito groups named `app:{app}:{role}` give the person `role` in the bridge's app `app`.
pub const APP_ROLE_GROUP_PREFIX: &str = "app:";

/// The error the first federated sign-in of a linked person ends with. Cognito cannot use a
/// link made during that same sign-in: it fails it ("Already found an entry for username"),
/// and the next attempt signs in as the existing account. The bridge fails it on purpose with
/// this recognisable message, so the sign-in can start again at once.
pub const LINKED_RETRY: &str = "ACCOUNT_LINKED: the company account was linked to the existing account; sign in again";

/// The claims PreTokenGeneration adds to the ID and access tokens: `org` (the person's
/// organisation) and `app_roles` (`{app: [roles]}` from the person's `app:` groups), both only
/// when the person has them. Values are typed JSON (V2 events allow any JSON type).
pub fn token_claims(attributes: &HashMap<String, String>, groups: &[String]) -> Map<String, Value> {
    let mut claims = Map::new();
    if let Some(org) = attributes.get(ORG_ATTRIBUTE).filter(|o| !o.is_empty()) {
        claims.insert("org".into(), org.as_str().into());
    }
    let mut roles: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for group in groups {
        let app_role = group.strip_prefix(APP_ROLE_GROUP_PREFIX).and_then(|rest| rest.split_once(':'));
        if let Some((app, role)) = app_role.filter(|(app, role)| !app.is_empty() && !role.is_empty()) {
            roles.entry(app).or_default().push(role);
        }
    }
    if !roles.is_empty() {
        let object: Map<String, Value> = roles
            .into_iter()
            .map(|(app, mut list)| {
                list.sort_unstable();
                list.dedup();
                (app.to_owned(), list.into_iter().map(Value::from).collect())
            })
            .collect();
        claims.insert("app_roles".into(), Value::Object(object));
    }
    claims
}

/// `user.registered` for a confirmed sign-up. Its id is the pool and the person's `sub`, so
/// Cognito's retries record it once.
pub fn registered(pool: &str, username: &str, attributes: &HashMap<String, String>, client: Option<&str>, now: u64) -> Option<IdentityEvent> {
    let mut claims: Map<String, Value> = attributes.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
    claims.insert("cognito:username".into(), username.into());
    let user = EventUser::from_claims(&claims);
    if user.sub.is_empty() {
        return None;
    }
    let method = if federated_identity(username).is_some() { "federated" } else { "password" };
    let context = EventContext { method: Some(method.into()), ..EventContext::default() };
    let mut event = IdentityEvent { id: format!("registered-{pool}-{}", user.sub), ..IdentityEvent::new(EventType::UserRegistered, user, context, now) };
    if let Some(client) = client {
        event.detail.insert("client_id".into(), client.into());
    }
    Some(event)
}

/// The identity provider and its subject in a federated user's Cognito name (`{provider}_{sub}`).
/// Social providers' names are lower-cased there; linking needs their proper names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedIdentity {
    pub provider: String,
    pub subject: String,
}

pub fn federated_identity(username: &str) -> Option<FederatedIdentity> {
    let (prefix, subject) = username.split_once('_').filter(|(p, s)| !p.is_empty() && !s.is_empty())?;
    // Cognito's names, whatever the case the user name has them in.
    let provider = SOCIAL_PROVIDERS.iter().find(|s| s.eq_ignore_ascii_case(prefix)).copied().unwrap_or(prefix);
    Some(FederatedIdentity { provider: provider.to_owned(), subject: subject.to_owned() })
}

/// Whether a first federated sign-in may be linked to an existing account with its email: only
/// when the provider says the email is verified (Cognito passes `email_verified` as text).
pub fn linkable_email(attributes: &HashMap<String, String>) -> Option<String> {
    let verified = attributes.get("email_verified").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let email = attributes.get("email")?.trim().to_lowercase();
    (verified && email.contains('@')).then_some(email)
}

/// Who answers for the email address a provider asserts: the organisation that owns its domain,
/// if any.
#[derive(Debug, Clone)]
pub enum AddressOwner {
    /// No address asserted (a SAML provider may map none).
    NoEmail,
    /// An address the bridge does not read (two `@`, a domain that is not a host name): it could
    /// still be read elsewhere as an organisation's, so nothing trusts it.
    Unreadable,
    /// No organisation owns its domain.
    Unowned,
    Org(Arc<Organisation>),
}

impl AddressOwner {
    /// Reads the owner of `email`'s domain (`OrgDirectory::owner_of`). The domain is taken as a
    /// mail system would deliver to it: IDNA (UTS #46) maps a Unicode form (full-width letters,
    /// an owned `xn--` domain written in Unicode) to the ASCII one organisations own.
    ///
    /// Errors: the organisations cannot be read.
    pub async fn of(orgs: &dyn OrgDirectory, email: Option<&str>) -> Result<Self, StoreError> {
        let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) else { return Ok(Self::NoEmail) };
        let domain = Email::parse(email).ok().and_then(|e| match url::Host::parse(e.as_str().rsplit('@').next().unwrap_or_default()) {
            Ok(url::Host::Domain(ascii)) => EmailDomain::parse(&ascii).ok(),
            _ => None,
        });
        let Some(domain) = domain else { return Ok(Self::Unreadable) };
        Ok(orgs.owner_of(&domain).await?.map_or(Self::Unowned, Self::Org))
    }
}

/// `provider` as `org`'s own `cognito` connection spells it, when it is that provider.
fn own_provider<'a>(org: &'a Organisation, provider: &str) -> Option<&'a str> {
    let connection = org.connection.as_ref().filter(|c| c.kind == ConnectionKind::Cognito)?;
    connection.identity_provider.as_deref().filter(|p| same_provider(p, provider))
}

/// Whether `provider` is one of the pool's social providers ([`SOCIAL_PROVIDERS`], Cognito's
/// names exactly).
fn is_social(provider: &str) -> bool {
    SOCIAL_PROVIDERS.contains(&provider)
}

/// The pool providers that may speak for an address of no organisation: the social ones
/// ([`SOCIAL_PROVIDERS`], anyone's) and those the operator names as its own (a staff
/// directory; the triggers' `OPERATOR_PROVIDERS`). Any other provider is taken for a company's,
/// which speaks for its organisation's domains alone: one no organisation names (yet, or any
/// more) too, so a provider is trusted only where someone said whose it is.
#[derive(Debug, Clone, Default)]
pub struct OpenProviders(Vec<String>);

impl OpenProviders {
    /// From the operator's list: names separated by commas (blanks ignored). Errors (naming the
    /// name): one [`pool_provider_name_problem`] refuses (with `_`, which would never match, or
    /// a social provider's, which is anyone's already).
    pub fn parse(list: &str) -> Result<Self, String> {
        let names: Vec<String> = list.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect();
        if let Some((bad, problem)) = names.iter().find_map(|n| pool_provider_name_problem(n).map(|problem| (n, problem))) {
            return Err(format!("{bad}: {problem}"));
        }
        Ok(Self(names))
    }

    fn contains(&self, provider: &str) -> bool {
        is_social(provider) || self.0.iter().any(|p| same_provider(p, provider))
    }
}

/// Whether a federated identity through `provider` may hold an account with an address `owner`
/// answers for, on its first sign-in or any later one (Cognito rewrites mapped attributes from
/// the provider at every sign-in). A provider speaks for whoever controls it (a company's admin
/// can make it assert any address, verified), and the account carries the address into every
/// app client of the pool, so:
///
/// - an organisation's address only through its own provider (so an organisation with no
///   `cognito` connection, none yet or `oidc`, whose people the bridge signs in itself, has no
///   pool provider at all);
/// - an address of no organisation only through an [`OpenProviders`] one;
/// - an address the bridge does not read, never; no address at all, always.
///
/// `Err` says why not.
pub fn may_assert(owner: &AddressOwner, provider: &str, open: &OpenProviders) -> Result<(), &'static str> {
    match owner {
        AddressOwner::Org(org) if own_provider(org, provider).is_none() => Err("the email is an organisation's, and this is not its provider"),
        AddressOwner::Unowned if !open.contains(provider) => Err("a company's provider speaks for its own organisation's domains only"),
        AddressOwner::Unreadable => Err("the email is not an address the bridge reads"),
        _ => Ok(()),
    }
}

/// Why the user `username` may not sign in with the `email` it now holds, if it may not: for
/// token generation, which Cognito runs at every sign-in and refresh, after it rewrote the
/// attributes a provider maps. Held to [`may_assert`]: a federated user's own provider (from its
/// name), and every company provider linked to the account (`identities`, Cognito's attribute, a
/// JSON string: a linked provider rewrites the account's email when its person signs in through
/// it). An `identities` that does not read is refused. A social provider linked to an account is
/// not held to it: it asserts only addresses it verified with their mailbox, and a refusal would
/// lock its person out of their own account.
///
/// `None` at no cost for an account no provider speaks for (the pool's own names have no `_`).
///
/// Errors: the organisations cannot be read.
pub async fn sign_in_refusal(
    orgs: &dyn OrgDirectory,
    open: &OpenProviders,
    username: &str,
    email: Option<&str>,
    identities: Option<&Value>,
) -> Result<Option<&'static str>, StoreError> {
    let Some(linked) = identity_providers(identities) else { return Ok(Some("the account's linked providers do not read")) };
    let own = federated_identity(username).map(|i| i.provider);
    let providers: Vec<String> = own.into_iter().chain(linked.into_iter().filter(|p| !is_social(p))).collect();
    if providers.is_empty() {
        return Ok(None);
    }
    let owner = AddressOwner::of(orgs, email).await?;
    Ok(providers.iter().find_map(|p| may_assert(&owner, p, open).err()))
}

/// Whether `provider` may be linked to `target`, the account with the verified email `owner`
/// answers for: `Ok` with the provider's name to link as, or `Err` saying why not. A provider
/// that vouches for an email speaks for whoever controls it, and an organisation's admin controls
/// its own provider, so:
///
/// - an address of an organisation's domain is linked only from that organisation's own provider
///   (its `cognito` connection's `identity_provider`, in any case; linked as the connection spells
///   it), and only to an account of that organisation or of none (one it then adopts at sign-in);
/// - any other address, only from a social provider ([`SOCIAL_PROVIDERS`]), and only to an
///   account of no organisation: a company's provider speaks for its own domains alone, and an
///   organisation's person signs in through its provider, not a social one.
pub fn may_link(owner: &AddressOwner, provider: &str, target: &LinkTarget) -> Result<String, &'static str> {
    match owner {
        AddressOwner::NoEmail | AddressOwner::Unreadable => Err("the email has no domain the bridge reads"),
        AddressOwner::Org(org) => match own_provider(org, provider) {
            None => Err("the email is an organisation's, and this is not its provider"),
            Some(_) if target.org.as_deref().is_some_and(|o| o != org.id.as_str()) => Err("the account is another organisation's"),
            Some(own) => Ok(own.to_owned()),
        },
        AddressOwner::Unowned if target.org.is_some() => Err("the account is an organisation's; only its own provider is linked to it"),
        AddressOwner::Unowned if !is_social(provider) => Err("a company's provider is linked only to its own domains' addresses"),
        AddressOwner::Unowned => Ok(provider.to_owned()),
    }
}

/// What a first federated sign-in (Cognito's `PreSignUp_ExternalProvider`) comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstSignIn {
    /// A new account of its own (nothing to link, or a link [`may_link`] refuses).
    NewAccount,
    /// Linked to the pool's own account with its verified email: the sign-in must then fail
    /// once with [`LINKED_RETRY`] (see the triggers handler).
    Linked,
    /// No account at all ([`may_assert`]'s reason): the sign-in fails.
    Refused(&'static str),
}

/// A first federated sign-in: refused where [`may_assert`] refuses (whether or not the provider
/// says the email is verified); linked to the pool's own user with that verified email where
/// [`may_link`] lets it; otherwise a new account. The organisations read, the account read (two
/// calls side by side), and the link when made.
///
/// Errors: the organisations or the directory cannot be read, or the link fails (the trigger
/// then fails and Cognito retries it, rather than make a second account).
pub async fn first_federated_sign_in(
    linker: &dyn AccountLinker,
    orgs: &dyn OrgDirectory,
    open: &OpenProviders,
    username: &str,
    attributes: &HashMap<String, String>,
) -> Result<FirstSignIn, LinkError> {
    let Some(identity) = federated_identity(username) else { return Ok(FirstSignIn::Refused("not a federated user's name")) };
    let owner = AddressOwner::of(orgs, attributes.get("email").map(String::as_str)).await?;
    if let Err(reason) = may_assert(&owner, &identity.provider, open) {
        tracing::warn!(provider = %identity.provider, reason, "a first federated sign-in was refused");
        return Ok(FirstSignIn::Refused(reason));
    }
    let Some(email) = linkable_email(attributes) else {
        tracing::info!("first federated sign-in without a verified email: a new account, not linked");
        return Ok(FirstSignIn::NewAccount);
    };
    let Some(existing) = linker.verified_user_with_email(&email).await? else { return Ok(FirstSignIn::NewAccount) };
    let provider = match may_link(&owner, &identity.provider, &existing) {
        Ok(provider) => provider,
        Err(reason) => {
            tracing::warn!(provider = %identity.provider, reason, "a first federated sign-in was not linked to the account with its email");
            return Ok(FirstSignIn::NewAccount);
        }
    };
    linker.link(&existing.username, &provider, &identity.subject).await?;
    tracing::info!(%provider, "linked a first federated sign-in to the existing account");
    Ok(FirstSignIn::Linked)
}

/// Why a link could not be decided or made.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> HashMap<String, String> {
        serde_json::from_value(v).unwrap_or_default()
    }

    #[test]
    fn token_claims_are_the_organisation_and_roles_per_app() {
        let groups: Vec<String> = ["app:support:agent", "app:support:admin", "app:support:agent", "app:community:moderator", "staff", "app::x", "app:nope"]
            .map(String::from)
            .to_vec();
        let claims = token_claims(&map(json!({"custom:org_id": "acme", "email": "a@acme.test"})), &groups);
        assert_eq!(Value::Object(claims), json!({"org": "acme", "app_roles": {"community": ["moderator"], "support": ["admin", "agent"]}}));
        assert!(token_claims(&map(json!({"email": "a@b.test"})), &[]).is_empty());
    }

    #[test]
    fn registration_is_one_event_per_person() {
        let attrs = map(json!({"sub": "s-1", "email": "a@b.test", "email_verified": "true"}));
        let event = registered("pool", "s-1", &attrs, Some("client"), 5).unwrap_or_else(|| panic!("no event"));
        assert_eq!(event.id, "registered-pool-s-1");
        assert_eq!(event.user.email_verified, Some(true));
        assert_eq!(event.context.method.as_deref(), Some("password"));
        let federated = registered("pool", "acme-oidc_abc", &attrs, None, 5).unwrap_or_else(|| panic!("no event"));
        assert_eq!(federated.context.method.as_deref(), Some("federated"));
        assert!(registered("pool", "x", &map(json!({"email": "a@b.test"})), None, 5).is_none(), "no sub: nothing to name");
    }

    /// Each door a provider could use to an account that is not its to sign in to.
    #[tokio::test]
    async fn only_a_provider_that_answers_for_the_address_is_linked() {
        let orgs =
            crate::testing::MemoryOrgs::default().with_pool_provider("acme", "acme.test", "AcmeOIDC").with_pool_provider("beta", "beta.test", "BetaSAML");
        let target = |org: Option<&str>| LinkTarget { username: "u".into(), org: org.map(str::to_owned) };
        let decide = |provider: &'static str, email: &'static str, org: Option<&'static str>| {
            let orgs = &orgs;
            async move { may_link(&AddressOwner::of(orgs, Some(email)).await.unwrap_or_else(|e| panic!("{e}")), provider, &target(org)) }
        };
        // The organisation's own provider, for its own address, to its account or one of none;
        // linked as its connection spells it.
        assert_eq!(decide("AcmeOIDC", "hanako@acme.test", Some("acme")).await.as_deref(), Ok("AcmeOIDC"));
        assert_eq!(decide("AcmeOIDC", "hanako@acme.test", None).await.as_deref(), Ok("AcmeOIDC"));
        assert_eq!(decide("acmeoidc", "hanako@acme.test", None).await.as_deref(), Ok("AcmeOIDC"), "as a case-insensitive pool names it");
        // Another organisation's provider asserting an Acme address (its admin controls it).
        assert!(decide("BetaSAML", "hanako@acme.test", Some("acme")).await.is_err());
        assert!(decide("BetaSAML", "hanako@acme.test", None).await.is_err());
        // A social provider asserting an organisation's address: its people sign in through it.
        assert!(decide("Google", "hanako@acme.test", Some("acme")).await.is_err());
        assert!(decide("Google", "hanako@acme.test", None).await.is_err());
        // An Acme address whose account another organisation holds.
        assert!(decide("AcmeOIDC", "hanako@acme.test", Some("beta")).await.is_err());
        // An address no organisation owns: a social provider, to an account of no organisation.
        assert_eq!(decide("Google", "jiro@gmail.test", None).await.as_deref(), Ok("Google"));
        assert!(decide("Google", "jiro@gmail.test", Some("acme")).await.is_err(), "an organisation's member (a contractor's address)");
        assert!(decide("BetaSAML", "jiro@gmail.test", None).await.is_err(), "a company's provider speaks for its own domains only");
        assert!(decide("google", "jiro@gmail.test", None).await.is_err(), "Cognito's names, exactly");
        assert!(decide("Google", "no-domain", None).await.is_err());
    }

    /// An organisation's address, in any form a mail system delivers to it, is held by no
    /// account of another provider; a company's provider holds no other address; an address
    /// the bridge does not read is held by none.
    #[tokio::test]
    async fn only_its_own_provider_holds_an_organisations_address() {
        let orgs =
            crate::testing::MemoryOrgs::default().with_pool_provider("acme", "acme.test", "AcmeOIDC").with_pool_provider("beta", "beta.test", "BetaSAML");
        let open = OpenProviders::parse(" StaffSAML, ,").unwrap_or_else(|e| panic!("{e}"));
        for bad in ["Staff_SAML", "google", "Google", "Faceboo\u{212A}"] {
            assert!(OpenProviders::parse(&format!("StaffSAML,{bad}")).is_err(), "{bad}");
        }
        let decide = |provider: &'static str, email: Option<&'static str>| {
            let (orgs, open) = (&orgs, &open);
            async move { may_assert(&AddressOwner::of(orgs, email).await.unwrap_or_else(|e| panic!("{e}")), provider, open) }
        };
        for email in ["hanako@acme.test", " Hanako@ACME.test ", "hanako@ａｃｍｅ.test", "hanako@Ａcme.TEST"] {
            assert_eq!(decide("acmeoidc", Some(email)).await, Ok(()), "{email}");
            for other in ["BetaSAML", "Google", "StaffSAML", "NewCorpOIDC"] {
                assert!(decide(other, Some(email)).await.is_err(), "{other} as {email}");
            }
        }
        // An address of no organisation: a social provider, or one the operator names as its
        // own; not a company's, nor one no one said whose it is.
        assert_eq!(decide("Google", Some("jiro@gmail.test")).await, Ok(()));
        assert_eq!(decide("staffsaml", Some("jiro@gmail.test")).await, Ok(()), "in any case");
        assert!(decide("BetaSAML", Some("jiro@gmail.test")).await.is_err(), "a company's provider speaks for its own domains only");
        assert!(decide("NewCorpOIDC", Some("jiro@gmail.test")).await.is_err(), "nobody said whose it is");
        assert!(decide("google", Some("jiro@gmail.test")).await.is_err(), "social providers by Cognito's names, exactly");
        assert_eq!(decide("BetaSAML", None).await, Ok(()), "no email: nothing asserted");
        assert_eq!(decide("BetaSAML", Some("")).await, Ok(()));
        for unread in ["no-domain", "x@acme.test@evil.test", "hanako@acme。test", "hanako@[10.0.0.1]", "hanako@acme..test", "hanako@acme.test."] {
            assert!(decide("StaffSAML", Some(unread)).await.is_err(), "{unread}");
        }
    }

    /// Every sign-in and refresh: the provider in a federated user's name, and every company
    /// provider linked to an account, are held to the rule for the email the account now holds.
    #[tokio::test]
    async fn a_later_sign_in_is_held_to_the_address_rule_by_each_provider_that_speaks_for_it() {
        let orgs =
            crate::testing::MemoryOrgs::default().with_pool_provider("acme", "acme.test", "AcmeOIDC").with_pool_provider("beta", "beta.test", "BetaSAML");
        let open = OpenProviders::default();
        let refusal = |username: &'static str, email: &'static str, identities: Value| {
            let (orgs, open) = (&orgs, &open);
            async move { sign_in_refusal(orgs, open, username, Some(email), Some(&identities)).await }
        };
        // The pool's own users cost no read (the organisations down answer nothing).
        orgs.down.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(refusal("6f1c0e7a-4b2d-uuid", "hanako@acme.test", Value::Null).await.ok(), Some(None));
        assert!(refusal("betasaml_eve", "hanako@acme.test", Value::Null).await.is_err(), "the organisations down: no answer");
        orgs.down.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(refusal("betasaml_eve", "hanako@acme.test", Value::Null).await.ok().flatten().is_some());
        assert!(refusal("betasaml_eve", "jiro@gmail.test", Value::Null).await.ok().flatten().is_some());
        assert_eq!(refusal("acmeoidc_00u1", "hanako@acme.test", json!("[{\"providerName\":\"AcmeOIDC\"}]")).await.ok(), Some(None));
        // An account of the pool linked to Beta's provider, now asserting an Acme address.
        let beta_linked = json!("[{\"providerName\":\"BetaSAML\",\"userId\":\"eve\"}]");
        assert!(refusal("6f1c0e7a-4b2d-uuid", "hanako@acme.test", beta_linked.clone()).await.ok().flatten().is_some());
        assert_eq!(refusal("6f1c0e7a-4b2d-uuid", "eve@beta.test", beta_linked).await.ok(), Some(None));
        // Linked to Google (it asserts only addresses it verified): the person is not locked out.
        assert_eq!(refusal("6f1c0e7a-4b2d-uuid", "taro@acme.test", json!("[{\"providerName\":\"Google\"}]")).await.ok(), Some(None));
        assert!(
            refusal("6f1c0e7a-4b2d-uuid", "taro@acme.test", json!("[{\"providerName\":")).await.ok().flatten().is_some(),
            "linked providers that do not read"
        );
    }

    #[test]
    fn federated_names_and_verified_emails() {
        assert_eq!(federated_identity("google_1234"), Some(FederatedIdentity { provider: "Google".into(), subject: "1234".into() }));
        assert_eq!(federated_identity("AcmeSAML_ann@acme.test"), Some(FederatedIdentity { provider: "AcmeSAML".into(), subject: "ann@acme.test".into() }));
        assert_eq!(federated_identity("6f1c0e7a-uuid"), None);
        assert_eq!(linkable_email(&map(json!({"email": "Ann@Acme.test", "email_verified": "true"}))), Some("ann@acme.test".into()));
        assert_eq!(linkable_email(&map(json!({"email": "ann@acme.test", "email_verified": "false"}))), None);
        assert_eq!(linkable_email(&map(json!({"email": "ann@acme.test"}))), None, "SAML sends no email_verified: never linked");
    }
}
