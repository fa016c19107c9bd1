//! The trigger handler over Cognito's own example events: the fixtures AWS publishes with the
//! `aws_lambda_events` crate (read from the crate's sources in Cargo's registry, unchanged
//! except where a test says so), through in-memory ports.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use serde_json::json;
use shared::cache::TtlCache;
use shared::common::language::Language;
use shared::common::store::StoreError;
use shared::directory::ports::{AccountLinker, AppClients, DirectoryError, LinkTarget};
use shared::directory::triggers::{LINKED_RETRY, NOT_ITS_PROVIDER, NOT_THROUGH_THIS_CLIENT, OpenProviders, SIGN_IN_CLIENT_NAME};
use shared::messages::email::{EmailKind, EmailTemplate};
use shared::messages::ports::{EmailTemplates, StoredTemplate};
use shared::testing::{MemoryEvents, MemoryOrgs, aws_event_fixture as aws_fixture};
use shared::workflows::inactivity::LastSignIn;
use shared::workflows::inactivity::SignInActivity;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use triggers::handler::{TriggerError, handle};
use triggers::state::Triggers;

#[derive(Default)]
struct Recorder {
    /// The operator's email templates.
    templates: Mutex<Vec<StoredTemplate>>,
    sign_ins: Mutex<Vec<LastSignIn>>,
    /// The pool's own users: (username, email, email verified).
    users: Mutex<Vec<(String, String, bool)>>,
    links: Mutex<Vec<(String, String, String)>>,
    /// The accounts disabled, in order.
    disabled: Mutex<Vec<String>>,
    down: Mutex<bool>,
    /// How many times the pool's app clients were listed.
    listed: Mutex<usize>,
    /// The pool's app clients cannot be listed.
    clients_down: Mutex<bool>,
}

/// The pool's sign-in client's id in these tests.
const SIGN_IN_CLIENT: &str = "sign-in-client-id";

#[async_trait]
impl SignInActivity for Recorder {
    async fn signed_in(&self, person: &LastSignIn) -> Result<(), StoreError> {
        if *self.down.lock().unwrap() {
            return Err(StoreError::Unavailable("down".into()));
        }
        self.sign_ins.lock().unwrap().push(person.clone());
        Ok(())
    }
}

#[async_trait]
impl EmailTemplates for Recorder {
    async fn all(&self) -> Result<Vec<StoredTemplate>, StoreError> {
        if *self.down.lock().unwrap() {
            return Err(StoreError::Unavailable("down".into()));
        }
        Ok(self.templates.lock().unwrap().clone())
    }
}

#[async_trait]
impl AccountLinker for Recorder {
    async fn verified_user_with_email(&self, email: &str) -> Result<Option<LinkTarget>, DirectoryError> {
        if *self.down.lock().unwrap() {
            return Err(DirectoryError::Throttled);
        }
        let found = self.users.lock().unwrap().iter().find(|(_, e, verified)| e == email && *verified).map(|(u, _, _)| u.clone());
        Ok(found.map(|username| LinkTarget { username, org: None }))
    }
    async fn link(&self, username: &str, provider: &str, subject: &str) -> Result<(), DirectoryError> {
        let link = (username.to_owned(), provider.to_owned(), subject.to_owned());
        let mut links = self.links.lock().unwrap();
        if !links.contains(&link) {
            links.push(link);
        }
        Ok(())
    }
    async fn disable(&self, username: &str) -> Result<(), DirectoryError> {
        self.disabled.lock().unwrap().push(username.to_owned());
        Ok(())
    }
}

#[async_trait]
impl AppClients for Recorder {
    async fn client_ids_named(&self, name: &str) -> Result<Vec<String>, DirectoryError> {
        if *self.clients_down.lock().unwrap() {
            return Err(DirectoryError::Throttled);
        }
        *self.listed.lock().unwrap() += 1;
        Ok((name == SIGN_IN_CLIENT_NAME).then(|| SIGN_IN_CLIENT.to_owned()).into_iter().collect())
    }
}

/// Acme's people sign in through the pool's AcmeOIDC, Beta's through BetaSAML.
fn acme_and_beta() -> Arc<MemoryOrgs> {
    Arc::new(MemoryOrgs::default().with_pool_provider("acme", "acme.test", "AcmeOIDC").with_pool_provider("beta", "beta.test", "BetaSAML"))
}

fn triggers() -> (Triggers, Arc<MemoryEvents>, Arc<Recorder>) {
    let events = Arc::new(MemoryEvents::default());
    let recorder = Arc::new(Recorder::default());
    let (linker, clients) = (recorder.clone(), recorder.clone());
    let triggers = Triggers {
        events: events.clone(),
        activity: recorder.clone(),
        linkers: Box::new(move |_| linker.clone()),
        clients: Box::new(move |_| clients.clone()),
        sign_in_clients: TtlCache::new(Duration::from_secs(60)),
        orgs: acme_and_beta(),
        // The operator's own staff directory.
        open_providers: OpenProviders::parse("StaffSAML").unwrap(),
        email_templates: recorder.clone(),
        template_cache: TtlCache::new(Duration::ZERO),
        product: "Acme".into(),
    };
    (triggers, events, recorder)
}

#[tokio::test]
async fn a_confirmed_sign_up_is_one_registration_event_under_retries() {
    let (t, events, _) = triggers();
    let mut event = aws_fixture("postconfirmation");
    // Cognito always sends `sub`; AWS's example leaves it out.
    event["request"]["userAttributes"]["sub"] = "5f2c8e1a-sub".into();
    for attempt in 0..3 {
        let answer = handle(&t, event.clone(), 100 + attempt).await.unwrap();
        assert_eq!(answer, event, "PostConfirmation answers with the event it received");
    }
    let recorded = events.0.lock().unwrap().clone();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].id, "registered-<userPoolId>-5f2c8e1a-sub");
    assert_eq!(recorded[0].user.email.as_deref(), Some("<email>"));
    assert_eq!(recorded[0].detail["client_id"], "<apps client id>");

    let mut forgot = event.clone();
    forgot["triggerSource"] = "PostConfirmation_ConfirmForgotPassword".into();
    forgot["request"]["userAttributes"]["sub"] = "another".into();
    handle(&t, forgot, 200).await.unwrap();
    assert_eq!(events.0.lock().unwrap().len(), 1, "a password reset is no registration");
}

#[tokio::test]
async fn a_sign_in_is_the_last_sign_in_and_bookkeeping_never_fails_it() {
    let (t, _, recorder) = triggers();
    let mut event = aws_fixture("postauthentication");
    event["request"]["userAttributes"]["sub"] = "s-1".into();
    assert_eq!(handle(&t, event.clone(), 42).await.unwrap(), event);
    let unverified = LastSignIn { username: "<userName>".into(), sub: "s-1".into(), email: None, at: 42 };
    assert_eq!(*recorder.sign_ins.lock().unwrap(), [unverified], "an unverified email is not kept");
    event["request"]["userAttributes"]["email_verified"] = "true".into();
    handle(&t, event.clone(), 43).await.unwrap();
    assert_eq!(recorder.sign_ins.lock().unwrap()[1].email.as_deref(), Some("<email>"));
    *recorder.down.lock().unwrap() = true;
    assert_eq!(handle(&t, event.clone(), 43).await.unwrap(), event, "the table down: the sign-in still succeeds");
}

#[tokio::test]
async fn tokens_get_the_organisation_and_app_roles_as_typed_claims() {
    let (t, _, _) = triggers();
    // AWS's V2 example (its `version` says "1"; a V2 trigger sends "2").
    let mut event = aws_fixture("pretokengen-v2-incoming");
    event["version"] = "2".into();
    event["request"]["userAttributes"]["custom:org_id"] = "acme".into();
    event["request"]["groupConfiguration"]["groupsToOverride"] = json!(["app:support:agent", "app:community:moderator", "group-A"]);
    let answer = handle(&t, event.clone(), 1).await.unwrap();
    let claims = json!({"org": "acme", "app_roles": {"community": ["moderator"], "support": ["agent"]}});
    // The groups go back as they came (an empty `groupsToOverride` would take them out of the
    // token); nothing is suppressed and no scope changes.
    assert_eq!(
        answer["response"],
        json!({"claimsAndScopeOverrideDetails": {
            "groupOverrideDetails": event["request"]["groupConfiguration"],
            "idTokenGeneration": {"claimsToAddOrOverride": claims, "claimsToSuppress": []},
            "accessTokenGeneration": {"claimsToAddOrOverride": claims, "claimsToSuppress": [], "scopesToAdd": [], "scopesToSuppress": []},
        }})
    );
    assert_eq!(answer["request"], event["request"]);

    // V1 (pools without the Essentials plan): the ID token only, strings only.
    let mut v1 = aws_fixture("pretokengen-incoming");
    v1["request"]["userAttributes"]["custom:org_id"] = "acme".into();
    v1["request"]["groupConfiguration"]["groupsToOverride"] = json!(["app:support:agent"]);
    let answer = handle(&t, v1.clone(), 1).await.unwrap();
    assert_eq!(
        answer["response"],
        json!({"claimsOverrideDetails": {
            "groupOverrideDetails": v1["request"]["groupConfiguration"],
            "claimsToAddOrOverride": {"org": "acme", "app_roles": "{\"support\":[\"agent\"]}"},
            "claimsToSuppress": [],
        }})
    );

    // No organisation, no app groups (AWS's example as it is, and with no group configuration): nothing added.
    let plain = aws_fixture("pretokengen-v2-null-group-configuration");
    assert_eq!(handle(&t, plain.clone(), 1).await.unwrap(), plain);
}

/// Cognito rewrites the attributes a provider maps at every sign-in through it, and runs
/// PreSignUp only at the first: a provider let in with its own address could assert a company's
/// at the next, for its federated user or an account it is linked to. Token generation (every
/// sign-in and refresh, whatever its source) holds each to the same rule.
#[tokio::test]
async fn a_later_sign_in_with_an_address_its_provider_may_not_hold_gets_no_token() {
    let (t, _, recorder) = triggers();
    let orgs = acme_and_beta();
    let t = Triggers { orgs: orgs.clone(), ..t };
    let token = |username: &str, email: &str, identities: Option<&str>| {
        let mut event = aws_fixture("pretokengen-v2-incoming");
        event["version"] = "2".into();
        event["userName"] = username.into();
        event["request"]["userAttributes"]["email"] = email.into();
        if let Some(providers) = identities {
            event["request"]["userAttributes"]["identities"] = providers.into();
        }
        event
    };
    let beta_linked = Some(r#"[{"userId":"eve","providerName":"BetaSAML","providerType":"SAML","primary":"true"}]"#);
    for (username, email, identities) in [
        ("betasaml_eve", "hanako@acme.test", None),
        ("google_666", "Hanako@ACME.test", None),
        ("BetaSAML_eve", "hanako@ａｃｍｅ.test", None),
        ("google_7", "x@acme.test@evil.test", None),
        ("betasaml_eve", "jiro@gmail.test", None),
        // An account of the pool linked to Beta's provider, which now asserts an Acme address.
        ("6f1c0e7a-4b2d-uuid", "hanako@acme.test", beta_linked),
        // Linked providers that do not read.
        ("7a2b0c1d-uuid", "eve@beta.test", Some("not json")),
        ("7a2b0c1d-uuid", "eve@beta.test", Some(r#"[{"userId":"eve"}]"#)),
    ] {
        let out = handle(&t, token(username, email, identities), 1).await;
        assert!(matches!(out, Err(TriggerError::NotItsProvider)), "{username} as {email}: {out:?}");
    }
    // Cognito wrote the address to the account already: each refused one is disabled, so no
    // lookup by email takes it.
    assert_eq!(
        *recorder.disabled.lock().unwrap(),
        ["betasaml_eve", "google_666", "BetaSAML_eve", "google_7", "betasaml_eve", "6f1c0e7a-4b2d-uuid", "7a2b0c1d-uuid", "7a2b0c1d-uuid"]
    );
    recorder.disabled.lock().unwrap().clear();
    for (username, email, identities) in [
        ("acmeoidc_00u1", "hanako@acme.test", None),
        ("betasaml_eve", "eve@beta.test", None),
        ("google_7", "jiro@gmail.test", None),
        ("staffsaml_jiro", "jiro@gmail.test", None),
        ("6f1c0e7a-4b2d-uuid", "eve@beta.test", beta_linked),
        ("userName", "hanako@acme.test", None),
    ] {
        assert!(handle(&t, token(username, email, identities), 1).await.is_ok(), "{username} as {email}");
    }
    // A token source `aws_lambda_events` does not know yet is held to it too (and otherwise
    // comes back unchanged); a machine's token (no person) is not.
    let mut future = token("betasaml_eve", "hanako@acme.test", None);
    future["triggerSource"] = "TokenGeneration_Future".into();
    assert!(matches!(handle(&t, future.clone(), 1).await, Err(TriggerError::NotItsProvider)));
    future["request"]["userAttributes"]["email"] = "eve@beta.test".into();
    assert_eq!(handle(&t, future.clone(), 1).await.unwrap(), future);
    let mut machine = token("betasaml_eve", "hanako@acme.test", None);
    machine["triggerSource"] = "TokenGeneration_ClientCredentials".into();
    assert_eq!(handle(&t, machine.clone(), 1).await.unwrap(), machine);
    assert_eq!(*recorder.disabled.lock().unwrap(), ["betasaml_eve"], "only the refused one");
    // The organisations down: an account a provider speaks for waits (fails); the pool's own
    // users never read them.
    orgs.down.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(matches!(handle(&t, token("acmeoidc_00u1", "hanako@acme.test", None), 1).await, Err(TriggerError::Organisations(_))));
    assert!(handle(&t, token("6f1c0e7a-4b2d-uuid", "hanako@acme.test", None), 1).await.is_ok());
    assert_eq!(recorder.disabled.lock().unwrap().len(), 1, "an outage disables no one");
}

#[tokio::test]
async fn a_first_federated_sign_in_with_a_verified_email_is_linked_then_retried() {
    let (t, _, recorder) = triggers();
    let orgs = acme_and_beta();
    let t = Triggers { orgs: orgs.clone(), ..t };
    recorder.users.lock().unwrap().push(("7d1e-native".into(), "hanako@acme.test".into(), true));
    recorder.users.lock().unwrap().push(("9a2b-unverified".into(), "taro@acme.test".into(), false));
    let sign_up = |username: &str, email: &str, verified: Option<&str>| {
        let mut event = aws_fixture("presignup");
        event["triggerSource"] = "PreSignUp_ExternalProvider".into();
        event["userName"] = username.into();
        event["request"]["userAttributes"] = json!({"email": email});
        if let Some(v) = verified {
            event["request"]["userAttributes"]["email_verified"] = v.into();
        }
        event
    };

    // The provider vouches for the email and the pool has that person: linked, and this first
    // attempt ends on purpose so the next signs in as the existing account. Cognito's retry of
    // the trigger links nothing twice and ends the same way.
    for _ in 0..2 {
        let out = handle(&t, sign_up("AcmeOIDC_00u1abc", "Hanako@Acme.test", Some("true")), 1).await;
        assert!(matches!(out, Err(TriggerError::Linked)), "{out:?}");
    }
    assert_eq!(*recorder.links.lock().unwrap(), [("7d1e-native".to_owned(), "AcmeOIDC".to_owned(), "00u1abc".to_owned())]);
    assert!(TriggerError::Linked.to_string().starts_with("ACCOUNT_LINKED"), "{LINKED_RETRY}");

    // A case-insensitive pool sends the provider's name lower-cased: linked as the
    // organisation's connection spells it.
    recorder.users.lock().unwrap().push(("8e4f-native".into(), "ichiro@acme.test".into(), true));
    assert!(matches!(handle(&t, sign_up("acmeoidc_00u4", "ichiro@acme.test", Some("true")), 1).await, Err(TriggerError::Linked)));
    assert_eq!(recorder.links.lock().unwrap()[1], ("8e4f-native".to_owned(), "AcmeOIDC".to_owned(), "00u4".to_owned()));

    // An organisation's address through a provider that is not the organisation's gets no
    // account at all, whatever it says of the email: another company's (its admin could assert
    // anyone's email), or a social one.
    for event in [
        sign_up("AcmeSAML_hanako@acme.test", "hanako@acme.test", None),
        sign_up("google_1234", "nobody@acme.test", Some("true")),
        sign_up("BetaSAML_eve", "Hanako@acme.test", Some("true")),
        sign_up("google_666", "hanako@acme.test", Some("true")),
        sign_up("BetaSAML_eve3", "taro@acme.test", Some("false")),
    ] {
        let out = handle(&t, event, 1).await;
        assert!(matches!(out, Err(TriggerError::NotItsProvider)), "{out:?}");
    }
    assert!(TriggerError::NotItsProvider.to_string().starts_with("SIGN_IN_REFUSED"), "{NOT_ITS_PROVIDER}");

    // Never linked on an unverified email, either side: a new account.
    for event in [sign_up("AcmeOIDC_00u2", "hanako@acme.test", Some("false")), sign_up("AcmeOIDC_00u3", "taro@acme.test", Some("true"))] {
        assert_eq!(handle(&t, event.clone(), 1).await.unwrap(), event);
    }
    assert_eq!(recorder.links.lock().unwrap().len(), 2);
    // An address of no organisation: a social provider's name is its proper one; a company's
    // provider is linked to its own domains' addresses only.
    recorder.users.lock().unwrap().push(("5c3d-native".into(), "jiro@gmail.test".into(), true));
    assert!(matches!(handle(&t, sign_up("google_777", "jiro@gmail.test", Some("true")), 1).await, Err(TriggerError::Linked)));
    assert_eq!(recorder.links.lock().unwrap()[2], ("5c3d-native".to_owned(), "Google".to_owned(), "777".to_owned()));
    // A company's provider speaks for its own domains only, and one no one said whose it is is
    // taken for a company's: no account for another address. The operator's own staff
    // directory gets a new account, not linked.
    for username in ["BetaSAML_eve2", "NewCorpOIDC_x"] {
        let out = handle(&t, sign_up(username, "jiro@gmail.test", Some("true")), 1).await;
        assert!(matches!(out, Err(TriggerError::NotItsProvider)), "{username}: {out:?}");
    }
    let staff = sign_up("StaffSAML_jiro", "jiro@gmail.test", Some("true"));
    assert_eq!(handle(&t, staff.clone(), 1).await.unwrap(), staff);
    assert_eq!(recorder.links.lock().unwrap().len(), 3);

    // The organisations unavailable: the sign-in fails (Cognito retries) rather than make an
    // account or a link it could not decide; no link is made.
    orgs.down.store(true, std::sync::atomic::Ordering::Relaxed);
    let out = handle(&t, sign_up("AcmeOIDC_00u8", "ichiro@acme.test", Some("true")), 1).await;
    assert!(matches!(out, Err(TriggerError::Organisations(_))), "{out:?}");
    assert_eq!(recorder.links.lock().unwrap().len(), 3);
    orgs.down.store(false, std::sync::atomic::Ordering::Relaxed);

    // The directory unavailable: the sign-in fails (Cognito retries) rather than make a second account.
    *recorder.down.lock().unwrap() = true;
    assert!(matches!(handle(&t, sign_up("AcmeOIDC_00u9", "hanako@acme.test", Some("true")), 1).await, Err(TriggerError::Directory(_))));
}

#[tokio::test]
async fn other_sign_ups_and_unknown_triggers_come_back_unchanged() {
    let (t, events, recorder) = triggers();
    let sign_up = aws_fixture("presignup");
    assert_eq!(handle(&t, sign_up.clone(), 1).await.unwrap(), sign_up);
    assert!(events.0.lock().unwrap().is_empty() && recorder.links.lock().unwrap().is_empty());
}

/// AWS's example `CustomMessage` event as `source`, for a person with `attributes`.
fn custom_message(source: &str, attributes: serde_json::Value) -> serde_json::Value {
    let mut event = aws_fixture("custommessage");
    event["triggerSource"] = source.into();
    event["request"]["userAttributes"] = attributes;
    event["request"]["codeParameter"] = "{####}".into();
    event["response"] = json!({"smsMessage": null, "emailMessage": null, "emailSubject": null});
    event
}

#[tokio::test]
async fn a_custom_message_is_the_persons_email_in_their_language_from_the_operators_templates() {
    let (t, events, recorder) = triggers();
    let person = json!({"sub": "s-1", "email": "hanako@example.com", "email_verified": "true", "name": "山田 <花子>", "locale": "ja-JP"});
    let answer = handle(&t, custom_message("CustomMessage_SignUp", person.clone()), 1).await.unwrap();
    let (subject, html) = (answer["response"]["emailSubject"].as_str().unwrap(), answer["response"]["emailMessage"].as_str().unwrap());
    assert_eq!(subject, "【Acme】確認コードのお知らせ");
    assert!(html.contains("<strong>{####}</strong>") && html.contains("hanako@example.com 様"), "{html}");
    assert!(!html.contains("山田"), "a sign-up email greets the address, not a name its sender chose");
    let reset = handle(&t, custom_message("CustomMessage_ForgotPassword", person.clone()), 1).await.unwrap();
    assert!(reset["response"]["emailMessage"].as_str().unwrap().contains("山田 &lt;花子&gt; 様"), "other emails greet the person, escaped");
    assert_eq!(answer["response"]["smsMessage"], json!(null), "SMS texts stay Cognito's (or the sender's)");

    // No locale yet (a sign-up): the language the form passed; an invitation names the user.
    let mut invited = custom_message("CustomMessage_AdminCreateUser", json!({"email": "new@example.com"}));
    invited["request"]["clientMetadata"] = json!({"locale": "en-US"});
    let answer = handle(&t, invited, 1).await.unwrap();
    let html = answer["response"]["emailMessage"].as_str().unwrap();
    assert!(html.contains("Hello new@example.com,") && html.contains("{username}") && html.contains("{####}"), "{html}");

    // The operator's template, in its language only; the shipped one when the store is down.
    let own = EmailTemplate { subject: "Welcome to {{product}}".into(), html: "<p>Code: {{code}}</p>".into() };
    recorder.templates.lock().unwrap().push(StoredTemplate { kind: EmailKind::SignUp, language: Language::Ja, template: own, version: 1 });
    let answer = handle(&t, custom_message("CustomMessage_SignUp", person.clone()), 1).await.unwrap();
    assert_eq!(
        (answer["response"]["emailSubject"].as_str(), answer["response"]["emailMessage"].as_str()),
        (Some("Welcome to Acme"), Some("<p>Code: {####}</p>"))
    );
    let english = handle(&t, custom_message("CustomMessage_SignUp", json!({"email": "e@example.com"})), 1).await.unwrap();
    assert_eq!(english["response"]["emailSubject"], "Your Acme verification code");
    // The store down: the templates this instance read last; none read yet: the shipped ones.
    *recorder.down.lock().unwrap() = true;
    let answer = handle(&t, custom_message("CustomMessage_SignUp", person.clone()), 1).await.unwrap();
    assert_eq!(answer["response"]["emailSubject"], "Welcome to Acme");
    let (fresh, _, fresh_store) = triggers();
    *fresh_store.down.lock().unwrap() = true;
    let answer = handle(&fresh, custom_message("CustomMessage_SignUp", person), 1).await.unwrap();
    assert_eq!(answer["response"]["emailSubject"], "【Acme】確認コードのお知らせ");
    // An event that does not read goes back unchanged: Cognito sends its own text.
    let mut broken = custom_message("CustomMessage_SignUp", json!({}));
    broken["request"]["userAttributes"] = json!("not an object");
    assert_eq!(handle(&t, broken.clone(), 1).await.unwrap(), broken);
    assert!(events.0.lock().unwrap().is_empty(), "a message records nothing");

    // AWS's own example (booleans among the attributes) reads.
    let example = handle(&t, aws_fixture("custommessage"), 1).await.unwrap();
    assert!(example["response"]["emailMessage"].as_str().unwrap().contains("####"));
}

#[tokio::test]
async fn every_example_event_of_a_trigger_we_answer_reads_and_a_malformed_one_is_refused() {
    let (t, _, _) = triggers();
    // (AWS's V2 examples say version "1"; a V2 trigger sends "2".)
    for (name, version) in [
        ("postauthentication", "1"),
        ("postconfirmation", "1"),
        ("pretokengen", "1"),
        ("pretokengen-incoming", "1"),
        ("pretokengen-null-group-configuration", "1"),
        ("pretokengen-v2", "2"),
        ("pretokengen-v2-incoming", "2"),
        ("pretokengen-v2-null-group-configuration", "2"),
    ] {
        let mut event = aws_fixture(name);
        event["version"] = version.into();
        event["request"]["userAttributes"]["custom:org_id"] = "acme".into();
        let out = handle(&t, event, 1).await;
        assert!(out.is_ok(), "{name} v{version}: {out:?}");
    }
    let mut linking = aws_fixture("presignup");
    linking["triggerSource"] = "PreSignUp_ExternalProvider".into();
    // Its placeholders (`<userName>`, `<email>`) are no federated name and no address: refused.
    assert!(matches!(handle(&t, linking.clone(), 1).await, Err(TriggerError::NotItsProvider)));
    linking["userName"] = "google_1234".into();
    linking["request"]["userAttributes"]["email"] = "jiro@gmail.test".into();
    assert!(handle(&t, linking, 1).await.is_ok());

    // A token event that does not read fails the sign-in rather than mint a token without its
    // claims; a post-authentication one is logged and the sign-in goes on.
    let mut broken = aws_fixture("pretokengen-v2-incoming");
    broken["version"] = "2".into();
    broken["request"]["userAttributes"] = json!({"custom:org_id": ["acme"]});
    assert!(matches!(handle(&t, broken, 1).await, Err(TriggerError::Malformed(_))));
    let mut broken = aws_fixture("postauthentication");
    broken["request"]["userAttributes"] = json!("not an object");
    assert_eq!(handle(&t, broken.clone(), 1).await.unwrap(), broken);

    // Machine-to-machine tokens (V3) have no person: unchanged.
    let mut m2m = aws_fixture("pretokengen-v2-incoming");
    m2m["version"] = "3".into();
    m2m["triggerSource"] = "TokenGeneration_ClientCredentials".into();
    assert_eq!(handle(&t, m2m.clone(), 1).await.unwrap(), m2m);
}

#[tokio::test]
async fn sign_up_codes_and_resets_are_refused_through_the_sign_in_client_and_only_those() {
    let (t, _, recorder) = triggers();
    let through = |mut event: serde_json::Value, client: &str| {
        event["callerContext"]["clientId"] = client.into();
        event
    };
    let person = json!({"sub": "s-1", "email": "hanako@example.com", "email_verified": "true"});
    let public = [
        aws_fixture("presignup"),
        custom_message("CustomMessage_SignUp", person.clone()),
        custom_message("CustomMessage_ResendCode", person.clone()),
        custom_message("CustomMessage_ForgotPassword", person.clone()),
    ];
    for event in &public {
        let refused = handle(&t, through(event.clone(), SIGN_IN_CLIENT), 1).await;
        assert!(matches!(refused, Err(TriggerError::NotThroughThisClient)), "{}: {refused:?}", event["triggerSource"]);
        assert_eq!(refused.unwrap_err().to_string(), NOT_THROUGH_THIS_CLIENT);
        assert!(handle(&t, through(event.clone(), "bridge-client-id"), 1).await.is_ok(), "{}", event["triggerSource"]);
    }
    // The pool's clients were listed once, for all of these.
    assert_eq!(*recorder.listed.lock().unwrap(), 1);
    // What the sign-in client's own tokens cause (a changed email's code, a sign-in) goes on.
    for event in [custom_message("CustomMessage_UpdateUserAttribute", person.clone()), aws_fixture("postauthentication")] {
        assert!(handle(&t, through(event.clone(), SIGN_IN_CLIENT), 1).await.is_ok(), "{}", event["triggerSource"]);
    }
    // Clients that cannot be listed: the ids held, fresh or not (here, past their time at once)...
    let (fresh, _, recorder) = triggers();
    let t = Triggers { sign_in_clients: TtlCache::new(Duration::ZERO), ..fresh };
    assert!(handle(&t, through(public[0].clone(), "bridge-client-id"), 1).await.is_ok());
    *recorder.clients_down.lock().unwrap() = true;
    let refused = handle(&t, through(public[0].clone(), SIGN_IN_CLIENT), 1).await;
    assert!(matches!(refused, Err(TriggerError::NotThroughThisClient)), "{refused:?}");
    assert!(handle(&t, through(public[0].clone(), "bridge-client-id"), 1).await.is_ok());
    // ...and with none held, the public flows are refused (a fresh instance).
    let (t, _, recorder) = triggers();
    *recorder.clients_down.lock().unwrap() = true;
    let refused = handle(&t, through(public[0].clone(), "bridge-client-id"), 1).await;
    assert!(matches!(refused, Err(TriggerError::AppClients(_))), "{refused:?}");
}
