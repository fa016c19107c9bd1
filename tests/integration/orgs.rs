//! Organisations, domains and SCIM tokens against moto: one owner per domain under concurrent
//! writes, nothing half-written, tokens stored only as digests, at most two live at once.

use crate::harness::*;
use bridge_admin::orgs::Orgs;
use shared::directory::org::{EmailDomain, OrgPolicies};
use shared::directory::ports::OrgStore;
use shared::directory::scim_token;
use shared::directory::scim_token::ScimTokenStore;

fn orgs(app: &TestApp) -> Orgs {
    Orgs::new(&app.sdk, &app.stack.table, "bridge-test")
}

fn domain(d: &str) -> EmailDomain {
    EmailDomain::parse(d).unwrap()
}

fn names(domains: &[&str]) -> Vec<String> {
    domains.iter().map(|d| (*d).to_owned()).collect()
}

#[tokio::test]
async fn a_domain_has_one_owner_and_a_refused_create_writes_nothing() {
    let app = spawn_app().await;
    let orgs = orgs(&app);
    let acme = orgs.create("Acme", &names(&["acme.example", "shared.example"]), OrgPolicies::default()).await.unwrap();
    let refused = orgs.create("Beta", &names(&["beta.example", "Shared.Example"]), OrgPolicies::default()).await;
    assert_eq!(refused.unwrap_err().to_string(), "the domain shared.example belongs to another organisation");

    let all = OrgStore::list(&*orgs.store).await.unwrap();
    assert_eq!(all.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), vec!["Acme"]);
    assert_eq!(OrgStore::owner_of(&*orgs.store, &domain("beta.example")).await.unwrap(), None, "no guard left behind");
    assert_eq!(OrgStore::owner_of(&*orgs.store, &domain("shared.example")).await.unwrap(), Some(acme.id.clone()));
}

#[tokio::test]
async fn concurrent_claims_on_one_domain_let_exactly_one_win() {
    let app = spawn_app().await;
    let orgs = orgs(&app);
    for round in 0..5 {
        let contested = format!("contested{round}.example");
        let (a_domains, b_domains) = (names(&[&format!("a{round}.example"), &contested]), names(&[&contested, &format!("b{round}.example")]));
        let (a, b) = tokio::join!(orgs.create("A", &a_domains, OrgPolicies::default()), orgs.create("B", &b_domains, OrgPolicies::default()));
        assert!(a.is_ok() ^ b.is_ok(), "round {round}: exactly one create wins");
        let winner = a.or(b).unwrap();
        assert_eq!(OrgStore::owner_of(&*orgs.store, &domain(&contested)).await.unwrap(), Some(winner.id));
    }
}

#[tokio::test]
async fn domains_move_in_and_out_atomically() {
    let app = spawn_app().await;
    let orgs = orgs(&app);
    let acme = orgs.create("Acme", &names(&["acme.example"]), OrgPolicies::default()).await.unwrap();
    let beta = orgs.create("Beta", &names(&["beta.example"]), OrgPolicies::default()).await.unwrap();

    let grown = orgs.add_domain(acme.id.as_str(), "acme.co.jp").await.unwrap();
    assert_eq!((grown.version, grown.domains.len()), (2, 2));
    assert_eq!(OrgStore::owner_of(&*orgs.store, &domain("acme.co.jp")).await.unwrap(), Some(acme.id.clone()));

    let taken = orgs.add_domain(acme.id.as_str(), "beta.example").await;
    assert_eq!(taken.unwrap_err().to_string(), "the domain beta.example belongs to another organisation");
    assert_eq!(orgs.get(acme.id.as_str()).await.unwrap().version, 2, "the refused change wrote nothing");

    orgs.remove_domain(acme.id.as_str(), "acme.example").await.unwrap();
    assert_eq!(OrgStore::owner_of(&*orgs.store, &domain("acme.example")).await.unwrap(), None);
    let stale = OrgStore::update(&*orgs.store, &acme, &shared::directory::org::Organisation { version: acme.version + 1, ..acme.clone() }).await;
    assert_eq!(stale, Err(shared::common::store::StoreError::Conflict));

    orgs.remove(beta.id.as_str()).await.unwrap();
    assert_eq!(OrgStore::owner_of(&*orgs.store, &domain("beta.example")).await.unwrap(), None);
    assert!(orgs.get(beta.id.as_str()).await.is_err());
}

#[tokio::test]
async fn scim_tokens_are_hashed_capped_rotated_and_revoked() {
    let app = spawn_app().await;
    let orgs = orgs(&app);
    let acme = orgs.create("Acme", &names(&["acme.example"]), OrgPolicies::default()).await.unwrap();
    let beta = orgs.create("Beta", &names(&["beta.example"]), OrgPolicies::default()).await.unwrap();
    let store: &dyn ScimTokenStore = &*orgs.store;

    let (first, first_record) = orgs.issue_token(acme.id.as_str(), "okta", 1).await.unwrap();
    let (second, _) = orgs.issue_token(acme.id.as_str(), "okta-rotation", 2).await.unwrap();
    assert_eq!(scim_token::authenticate(store, &first).await.unwrap(), Some(acme.id.clone()));
    assert_eq!(scim_token::authenticate(store, &second).await.unwrap(), Some(acme.id.clone()));
    let third = orgs.issue_token(acme.id.as_str(), "one too many", 3).await;
    assert_eq!(third.unwrap_err().to_string(), "an organisation holds at most 2 SCIM tokens; revoke one first");

    let (beta_token, _) = orgs.issue_token(beta.id.as_str(), "entra", 4).await.unwrap();
    assert_eq!(scim_token::authenticate(store, &beta_token).await.unwrap(), Some(beta.id.clone()));
    let mut wrong_secret = first.clone();
    wrong_secret.pop();
    wrong_secret.push(if first.ends_with('A') { 'B' } else { 'A' });
    for bad in [wrong_secret.as_str(), "scim_0000000000000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "", "Bearer x"] {
        assert_eq!(scim_token::authenticate(store, bad).await.unwrap(), None, "{bad}");
    }

    // Beta cannot revoke Acme's token; Acme can, and the token stops working at once.
    assert!(orgs.revoke_token(beta.id.as_str(), &first_record.id).await.is_err());
    orgs.revoke_token(acme.id.as_str(), &first_record.id).await.unwrap();
    assert_eq!(scim_token::authenticate(store, &first).await.unwrap(), None);
    assert!(orgs.issue_token(acme.id.as_str(), "okta-next", 5).await.is_ok(), "revoking frees a place");

    // No token value is stored anywhere in the table.
    let scan = aws_sdk_dynamodb::Client::new(&app.sdk).scan().table_name(&app.stack.table).send().await.unwrap();
    let dump = format!("{:?}", scan.items());
    for token in [&first, &second, &beta_token] {
        let secret = scim_token::split(token).unwrap().1;
        assert!(!dump.contains(secret), "a token secret is stored in the table");
    }

    orgs.remove(acme.id.as_str()).await.unwrap();
    assert_eq!(scim_token::authenticate(store, &second).await.unwrap(), None, "removing the organisation removes its tokens");
}
