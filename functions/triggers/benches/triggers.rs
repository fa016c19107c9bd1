//! How long the trigger handler takes in-process for each trigger (Cognito allows 5 s; the
//! target is under 5 ms), over AWS's example events, with in-memory ports: the time is the
//! handler's own. AWS calls per trigger are in `handler`'s module doc. Run: `make bench-triggers`.

use serde_json::{Value, json};
use shared::common::store::StoreError;
use shared::directory::ports::{AccountLinker, AppClients, DirectoryError};
use shared::events::EventLog;
use shared::events::IdentityEvent;
use shared::testing::aws_event_fixture;
use shared::workflows::inactivity::SignInActivity;
use std::sync::Arc;
use std::time::Instant;
use triggers::handler::handle;
use triggers::state::Triggers;

/// Ports that answer at once (so only the handler is measured).
struct Instant0;

#[async_trait::async_trait]
impl EventLog for Instant0 {
    async fn record(&self, _: &IdentityEvent) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl SignInActivity for Instant0 {
    async fn signed_in(&self, _: &shared::workflows::inactivity::LastSignIn) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl shared::messages::ports::EmailTemplates for Instant0 {
    async fn all(&self) -> Result<Vec<shared::messages::ports::StoredTemplate>, StoreError> {
        Ok(Vec::new())
    }
}

#[async_trait::async_trait]
impl AccountLinker for Instant0 {
    async fn verified_user_with_email(&self, _: &str) -> Result<Option<shared::directory::ports::LinkTarget>, DirectoryError> {
        Ok(Some(shared::directory::ports::LinkTarget { username: "existing".into(), org: None }))
    }
    async fn link(&self, _: &str, _: &str, _: &str) -> Result<(), DirectoryError> {
        Ok(())
    }
    async fn disable(&self, _: &str) -> Result<(), DirectoryError> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl AppClients for Instant0 {
    async fn client_ids_named(&self, _: &str) -> Result<Vec<String>, DirectoryError> {
        Ok(vec!["sign-in-client".into()])
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let ports = Arc::new(Instant0);
    let (linker, clients) = (ports.clone(), ports.clone());
    let t = Triggers {
        events: ports.clone(),
        activity: ports.clone(),
        linkers: Box::new(move |_| linker.clone()),
        // The sign-in client's id, listed once and then held (the handler's cost on a warm instance).
        clients: Box::new(move |_| clients.clone()),
        sign_in_clients: shared::cache::TtlCache::new(std::time::Duration::from_secs(60)),
        orgs: Arc::new(shared::testing::MemoryOrgs::default().with_pool_provider("acme", "acme.test", "AcmeOIDC")),
        open_providers: Default::default(),
        email_templates: ports,
        template_cache: shared::cache::TtlCache::new(std::time::Duration::from_secs(60)),
        product: "Acme".into(),
    };
    let with = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut event = aws_event_fixture(name);
        edit(&mut event);
        event
    };
    let cases = [
        ("PreSignUp_SignUp", aws_event_fixture("presignup")),
        (
            "PreSignUp_ExternalProvider (link)",
            with("presignup", &|e| {
                e["triggerSource"] = "PreSignUp_ExternalProvider".into();
                e["userName"] = "AcmeOIDC_00u1".into();
                e["request"]["userAttributes"] = json!({"email": "a@acme.test", "email_verified": "true"});
            }),
        ),
        ("PostConfirmation_ConfirmSignUp", with("postconfirmation", &|e| e["request"]["userAttributes"]["sub"] = "s-1".into())),
        ("PostAuthentication_Authentication", with("postauthentication", &|e| e["request"]["userAttributes"]["sub"] = "s-1".into())),
        (
            "CustomMessage_SignUp (ja, shipped template)",
            with("custommessage", &|e| {
                e["triggerSource"] = "CustomMessage_SignUp".into();
                e["request"]["userAttributes"] = json!({"email": "hanako@example.com", "name": "山田 花子", "locale": "ja"});
            }),
        ),
        (
            "TokenGeneration (V2, org + 3 app roles)",
            with("pretokengen-v2-incoming", &|e| {
                e["version"] = "2".into();
                e["request"]["userAttributes"]["custom:org_id"] = "acme".into();
                e["request"]["groupConfiguration"]["groupsToOverride"] = json!(["app:support:agent", "app:support:admin", "app:community:moderator", "staff"]);
            }),
        ),
    ];
    const N: u32 = 20_000;
    println!("trigger handler time in-process ({N} events each, one thread):");
    for (name, event) in cases {
        let started = Instant::now();
        for i in 0..N {
            let _ = std::hint::black_box(handle(&t, event.clone(), u64::from(i)).await);
        }
        let each = started.elapsed() / N;
        println!("  {name:<40} {:>8.1} us", each.as_secs_f64() * 1e6);
    }
}
