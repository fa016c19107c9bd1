//! Workflows end to end through the real HTTP connector: the shipped templates run against
//! services on loopback that speak ServiceNow's Table API and Salesforce's REST API (OAuth 2.0
//! client credentials), with the connections' secrets in Secrets Manager (moto). The tests check
//! the exact requests those services would receive, auth included, and the runner's retries,
//! dead letters and duplicate deliveries.

use crate::harness::{moto, sdk_config};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use base64::Engine;
use serde_json::{Value, json};
use shared::adapters::http_connectors::HttpConnectors;
use shared::adapters::workflow_runner::connection_secrets;
use shared::domain::events::IdentityEvent;
use shared::domain::workflow::connection::Connection;
use shared::domain::workflow::flow::Flow;
use shared::domain::workflow::runner::{RunStatus, Runner};
use shared::secrets::SecretRef;
use shared::testing::{CallLog, MemoryRuns};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the service received it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A service on loopback that records every request and answers from a script per path (then
/// with its default answer).
#[derive(Clone, Default)]
struct Service {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
}

/// Answers to give, per path: status and JSON body.
type Script = HashMap<String, VecDeque<(u16, Value)>>;

impl Service {
    async fn start(&self) -> String {
        let app = Router::new().fallback(answer).with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn then(&self, path: &str, status: u16, body: Value) {
        self.script.lock().unwrap().entry(path.to_owned()).or_default().push_back((status, body));
    }

    fn received(&self, path: &str) -> Vec<Received> {
        self.received.lock().unwrap().iter().filter(|r| r.path == path).cloned().collect()
    }
}

async fn answer(State(service): State<Service>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> (StatusCode, axum::Json<Value>) {
    let path = uri.path().to_owned();
    let headers = headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
    service.received.lock().unwrap().push(Received { method: method.to_string(), path: path.clone(), headers, body: String::from_utf8_lossy(&body).into() });
    let scripted = service.script.lock().unwrap().get_mut(&path).and_then(VecDeque::pop_front);
    let (status, body) = scripted.unwrap_or_else(|| match path.as_str() {
        "/api/now/table/incident" => (201, json!({"result": {"sys_id": "9d385017c611228701d22104cc95c371", "number": "INC0010001"}})),
        "/services/oauth2/token" => (
            200,
            json!({"access_token": "00Dxx0000001gPL!AR8AQJXg", "instance_url": "https://acme.my.salesforce.com",
                                                  "token_type": "Bearer", "issued_at": "1700000000000"}),
        ),
        "/services/data/v60.0/sobjects/Contact" => (201, json!({"id": "003xx000004TmiQAAS", "success": true, "errors": []})),
        _ => (404, json!([{"errorCode": "NOT_FOUND"}])),
    });
    (StatusCode::from_u16(status).unwrap(), axum::Json(body))
}

fn template(name: &str) -> Flow {
    let text = std::fs::read_to_string(format!("{}/../workflows/templates/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let flow: Flow = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    flow.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
    flow
}

fn event(id: &str, kind: &str) -> IdentityEvent {
    serde_json::from_value(json!({
        "id": id, "type": kind, "at": 1_700_000_000,
        "user": {"sub": "5f0c2a9e-1111", "email": "hanako@example.com", "email_verified": true, "given_name": "花子", "family_name": "山田"},
        "context": {"app": "support", "method": "password", "ip": "203.0.113.7", "country": "FR"},
        "detail": {"signals": ["new_device", "new_country"]}
    }))
    .unwrap()
}

/// Secrets in moto, connections to `service`, and a runner that records its pauses instead of
/// sleeping.
async fn runner(base: &str) -> (Runner, Arc<MemoryRuns>) {
    let sdk = sdk_config(moto(), &CallLog::default()).await;
    let secrets_client = aws_sdk_secretsmanager::Client::new(&sdk);
    let store = |name: &str, value: &str| {
        let client = secrets_client.clone();
        let name = format!("wf-{}/{name}", uuid::Uuid::new_v4().simple());
        let value = value.to_owned();
        async move { SecretRef(client.create_secret().name(&name).secret_string(value).send().await.unwrap().arn.unwrap()) }
    };
    let servicenow = store("servicenow", "sn-Passw0rd!").await;
    let salesforce = store("salesforce", "sf-client-secret").await;
    let connections: Vec<Connection> = serde_json::from_value(json!([
        {"name": "servicenow", "base_url": base, "auth": {"type": "basic", "username": "bridge.integration", "secret": servicenow}},
        {"name": "salesforce", "base_url": base,
         "auth": {"type": "oauth2", "token_url": format!("{base}/services/oauth2/token"), "client_id": "3MVG9bridge", "secret": salesforce}}
    ]))
    .unwrap();
    let secrets = connection_secrets(secrets_client, Duration::from_secs(300));
    let runs = Arc::new(MemoryRuns::default());
    let connectors = Arc::new(HttpConnectors::new(connections, secrets).unwrap());
    (Runner { connectors, runs: runs.clone(), dead_letters: runs.clone(), pause: runs.clone() }, runs)
}

#[tokio::test]
async fn a_high_risk_sign_in_opens_one_servicenow_incident() {
    let service = Service::default();
    let base = service.start().await;
    let (runner, runs) = runner(&base).await;
    let flows = [template("high-risk-sign-in-servicenow"), template("new-user-salesforce-contact")];

    let out = runner.handle(&event("evt-1", "sign_in.high_risk"), &flows, 1).await.unwrap();
    assert_eq!(out.len(), 1, "only the flow for this event type runs");
    assert_eq!(out[0].status, RunStatus::Succeeded);
    let incident = service.received("/api/now/table/incident");
    assert_eq!(incident.len(), 1);
    let request = &incident[0];
    assert_eq!(request.method, "POST");
    let basic = base64::engine::general_purpose::STANDARD.encode("bridge.integration:sn-Passw0rd!");
    assert_eq!(request.headers["authorization"], format!("Basic {basic}"));
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["accept"], "application/json");
    assert_eq!(
        request.json(),
        json!({"short_description": "High-risk sign-in: hanako@example.com",
               "description": "App support, method password, network 203.0.113.7, country FR, signals: new_device, new_country. Event evt-1.",
               "category": "security", "urgency": "2", "impact": "2", "correlation_id": "evt-1"})
    );
    assert_eq!(out[0].steps[0].output["body"]["result"]["number"], "INC0010001");

    // The stream delivers the same event again: no second incident.
    assert!(runner.handle(&event("evt-1", "sign_in.high_risk"), &flows, 2).await.unwrap().is_empty());
    assert_eq!(service.received("/api/now/table/incident").len(), 1);
    assert!(!serde_json::to_string(&*runs.runs.lock().unwrap()).unwrap().contains("hanako"), "run records hold no personal data");
}

#[tokio::test]
async fn a_new_user_becomes_a_salesforce_contact_with_one_token_for_many_calls() {
    let service = Service::default();
    let base = service.start().await;
    let (runner, _) = runner(&base).await;
    let flows = [template("new-user-salesforce-contact")];

    for id in ["evt-a", "evt-b"] {
        let out = runner.handle(&event(id, "user.registered"), &flows, 1).await.unwrap();
        assert_eq!(out[0].status, RunStatus::Succeeded, "{out:?}");
    }
    let token = service.received("/services/oauth2/token");
    assert_eq!(token.len(), 1, "the access token is reused");
    let form: HashMap<String, String> = url::form_urlencoded::parse(token[0].body.as_bytes()).into_owned().collect();
    assert_eq!(
        form,
        HashMap::from([
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_id".to_owned(), "3MVG9bridge".to_owned()),
            ("client_secret".to_owned(), "sf-client-secret".to_owned()),
        ])
    );
    let contacts = service.received("/services/data/v60.0/sobjects/Contact");
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts[0].headers["authorization"], "Bearer 00Dxx0000001gPL!AR8AQJXg");
    assert_eq!(contacts[0].json(), json!({"FirstName": "花子", "LastName": "山田", "Email": "hanako@example.com", "LeadSource": "Identity bridge"}));

    // A refused token (expired early) is replaced and the step retried.
    service.then("/services/data/v60.0/sobjects/Contact", 401, json!([{"errorCode": "INVALID_SESSION_ID"}]));
    let out = runner.handle(&event("evt-c", "user.registered"), &flows, 1).await.unwrap();
    assert_eq!((out[0].status, out[0].steps[0].attempts), (RunStatus::Succeeded, 2));
    assert_eq!(service.received("/services/oauth2/token").len(), 2);

    // An unverified email never reaches the CRM (the template's condition).
    let mut unverified = event("evt-d", "user.registered");
    unverified.user.email_verified = Some(false);
    assert!(runner.handle(&unverified, &flows, 1).await.unwrap().is_empty());
}

#[tokio::test]
async fn throttling_and_outages_are_retried_then_dead_lettered_and_bad_requests_are_not() {
    let service = Service::default();
    let base = service.start().await;
    let (runner, runs) = runner(&base).await;
    let flows = [template("high-risk-sign-in-servicenow")];
    let path = "/api/now/table/incident";

    service.then(path, 429, json!({"error": {"message": "Rate limit exceeded"}}));
    service.then(path, 503, json!({}));
    let out = runner.handle(&event("evt-1", "sign_in.high_risk"), &flows, 1).await.unwrap();
    assert_eq!((out[0].status, out[0].steps[0].attempts), (RunStatus::Succeeded, 3));
    assert_eq!(*runs.pauses.lock().unwrap(), vec![2, 4]);

    for _ in 0..4 {
        service.then(path, 500, json!({"error": {"message": "Internal error"}}));
    }
    let out = runner.handle(&event("evt-2", "sign_in.high_risk"), &flows, 1).await.unwrap();
    assert_eq!((out[0].status, out[0].steps[0].attempts), (RunStatus::Failed, 4));
    assert_eq!(out[0].steps[0].error.as_deref(), Some("HTTP 500"));
    assert_eq!(runs.dead.lock().unwrap().len(), 1, "the failed run is in the dead-letter queue");

    service.then(path, 400, json!({"error": {"message": "Invalid table"}}));
    let out = runner.handle(&event("evt-3", "sign_in.high_risk"), &flows, 1).await.unwrap();
    assert_eq!((out[0].status, out[0].steps[0].attempts), (RunStatus::Failed, 1));
    assert!(out[0].steps[0].error.as_deref().unwrap_or_default().starts_with("HTTP 400: "), "{:?}", out[0].steps[0].error);
    assert_eq!(service.received(path).len(), 3 + 4 + 1);
}

#[tokio::test]
async fn events_recorded_in_the_table_reach_their_flows_through_the_stream_once() {
    use shared::adapters::dynamo_workflows::DynamoWorkflows;
    let test = crate::harness::spawn_app().await;
    let service = Service::default();
    let base = service.start().await;
    let store = Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&test.sdk), &test.stack.table));
    let secrets_client = aws_sdk_secretsmanager::Client::new(&test.sdk);
    let name = format!("wf-{}/servicenow", uuid::Uuid::new_v4().simple());
    let arn = secrets_client.create_secret().name(&name).secret_string("sn-Passw0rd!").send().await.unwrap().arn.unwrap();
    let connection: Connection =
        serde_json::from_value(json!({"name": "servicenow", "base_url": base, "auth": {"type": "basic", "username": "bridge.integration", "secret": arn}}))
            .unwrap();
    store.save_connection(&connection).await.unwrap();
    let mut flow = template("high-risk-sign-in-servicenow");
    flow.version = 1;
    store.save_flow(&flow).await.unwrap();
    assert!(store.save_flow(&flow).await.is_err(), "a second import must name the version it replaces");

    // The same event recorded twice is one item, so one stream record.
    store.record(&event("evt-1", "sign_in.high_risk")).await.unwrap();
    store.record(&event("evt-1", "sign_in.high_risk")).await.unwrap();
    store.record(&event("evt-2", "user.registered")).await.unwrap();
    let mut stream = workflows::local_stream::StreamPoller::new(&test.sdk, &test.stack.table).await.unwrap();
    let batch = stream.next_batch().await.unwrap();
    let events: Vec<&Value> =
        batch["Records"].as_array().unwrap().iter().filter(|r| r["dynamodb"]["NewImage"]["pk"]["S"].as_str().unwrap_or("").starts_with("EVENT#")).collect();
    assert_eq!(events.len(), 2, "{batch}");

    let runs = Arc::new(MemoryRuns::default());
    let workflows =
        workflows::state::Workflows { store: store.clone(), secrets: connection_secrets(secrets_client, Duration::from_secs(300)), pause: runs.clone() };
    let answer = workflows::handler::handle(&workflows, &batch, 10).await;
    assert_eq!(answer, json!({"batchItemFailures": []}));
    assert_eq!(service.received("/api/now/table/incident").len(), 1);
    let run_id = shared::domain::workflow::runner::run_id(&flow, &event("evt-1", "sign_in.high_risk"));
    assert_eq!(store.run(&run_id).await.unwrap().map(|r| r.status), Some(RunStatus::Succeeded));

    // The stream delivers the batch again: nothing new happens.
    assert_eq!(workflows::handler::handle(&workflows, &batch, 11).await, json!({"batchItemFailures": []}));
    assert_eq!(service.received("/api/now/table/incident").len(), 1);

    // A run that fails is listed for the operator; a replay after the fix succeeds and leaves the list.
    for _ in 0..4 {
        service.then("/api/now/table/incident", 503, json!({}));
    }
    store.record(&event("evt-3", "sign_in.high_risk")).await.unwrap();
    let batch = stream.next_batch().await.unwrap();
    let new_events =
        batch["Records"].as_array().unwrap().iter().filter(|r| r["dynamodb"]["NewImage"]["pk"]["S"].as_str().unwrap_or("").starts_with("EVENT#")).count();
    assert_eq!(new_events, 1, "only the new event: {batch}");
    assert_eq!(workflows::handler::handle(&workflows, &batch, 12).await, json!({"batchItemFailures": []}), "a failed run is not a batch failure");
    let failed = store.failed_runs().await.unwrap();
    assert_eq!(failed.len(), 1);
    let (flows, runner) = workflows.load().await.unwrap();
    let replayed = runner.replay(&flows[0], &store.event("evt-3").await.unwrap().unwrap(), failed[0].clone(), 13).await.unwrap();
    assert_eq!(replayed.status, RunStatus::Succeeded);
    assert!(store.failed_runs().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_admin_tool_imports_checks_previews_and_toggles_flows() {
    use bridge_admin::workflows::Workflows;
    use shared::adapters::dynamo_workflows::DynamoWorkflows;
    let test = crate::harness::spawn_app().await;
    let admin = Workflows {
        store: Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&test.sdk), &test.stack.table)),
        secrets: aws_sdk_secretsmanager::Client::new(&test.sdk),
        prefix: test.apps.prefix.clone(),
    };
    let flow = template("high-risk-sign-in-servicenow");
    let refused = admin.import(flow.clone()).await.unwrap_err().to_string();
    assert!(refused.contains("connection `servicenow`"), "{refused}");

    let connection: Connection = serde_json::from_value(json!({"name": "servicenow", "base_url": "https://acme.service-now.com",
        "auth": {"type": "basic", "username": "bridge.integration", "secret": "to be replaced"}}))
    .unwrap();
    let stored = admin.import_connection(connection, Some(&"sn-Passw0rd!".to_owned().into())).await.unwrap();
    let shared::domain::workflow::connection::Auth::Basic { secret, .. } = &stored.auth else { panic!() };
    assert!(secret.0.starts_with("arn:aws:secretsmanager:"), "the table names the secret, never holds it");
    assert!(!serde_json::to_string(&admin.store.connections().await.unwrap()).unwrap().contains("sn-Passw0rd!"));

    assert_eq!(admin.import(flow.clone()).await.unwrap().version, 1);
    assert_eq!(admin.import(flow).await.unwrap().version, 2, "a re-import is a new version");
    let preview = admin.test("high-risk-sign-in-servicenow", &event("evt-9", "sign_in.high_risk")).await.unwrap();
    assert!(preview.applies);
    let shared::domain::workflow::flow::Action::Http { body, .. } = &preview.steps[0].1;
    assert_eq!(body["short_description"], "High-risk sign-in: hanako@example.com");
    assert!(admin.failed().await.unwrap().is_empty(), "a preview records nothing");

    let disabled = admin.set_enabled("high-risk-sign-in-servicenow", false).await.unwrap();
    assert_eq!((disabled.enabled, disabled.version), (false, 3));
    assert!(!admin.test("high-risk-sign-in-servicenow", &event("evt-9", "sign_in.high_risk")).await.unwrap().applies);
}

/// The outbox: a sign-in records its event in the session's transaction, a SCIM user change in
/// the change's own; a write that fails records nothing; the stream (read as Lambda's event
/// source mapping would, by `local_stream`) runs the flows for them, once.
#[tokio::test]
async fn sign_ins_and_scim_changes_record_their_events_with_the_change_and_run_flows_once() {
    use shared::adapters::dynamo_workflows::DynamoWorkflows;
    let test = crate::scim_harness::spawn_scim().await;
    let app = &test.app;
    let service = Service::default();
    let base = service.start().await;
    let store = Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table));
    store.save_connection(&serde_json::from_value(json!({"name": "audit", "base_url": base, "auth": {"type": "none"}})).unwrap()).await.unwrap();
    for (trigger, path, body) in [
        ("user.signed_in", "/signed-in", json!({"email": "{{user.email}}", "app": "{{context.app}}", "method": "{{context.method}}"})),
        ("user.deactivated", "/deactivated", json!({"email": "{{user.email}}", "org": "{{user.org}}", "scim_id": "{{detail.scim_id}}"})),
    ] {
        let flow: Flow = serde_json::from_value(json!({"id": path.trim_start_matches('/'), "name": trigger, "trigger": trigger,
            "steps": [{"id": "tell", "connector": "http", "connection": "audit", "method": "POST", "path": path, "body": body}]}))
        .unwrap();
        store.save_flow(&Flow { version: 1, ..flow }).await.unwrap();
    }

    app.user("hanako@example.com", |_| {}).await;
    assert_eq!(app.login("hanako@example.com", "wrong-Passw0rd!").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("hanako@example.com", crate::harness::PASSWORD).await.status, StatusCode::OK);
    let id = test.create_user("taro@example.com", json!({})).await;
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    assert_eq!(test.call("PATCH", &format!("/Users/{id}"), Some(patch)).await.status, StatusCode::OK);
    let rename =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "Taro"}]});
    assert_eq!(test.call("PATCH", &format!("/Users/{id}"), Some(rename)).await.status, StatusCode::OK, "an attribute change: no event");
    let taken = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "TARO@example.com"});
    assert_eq!(test.call("POST", "/Users", Some(taken)).await.status, StatusCode::CONFLICT, "a failed write records nothing");
    assert_eq!(test.call("DELETE", &format!("/Users/{id}"), None).await.status, StatusCode::NO_CONTENT);

    let scan = aws_sdk_dynamodb::Client::new(&app.sdk).scan().table_name(&app.stack.table).filter_expression("begins_with(pk, :p)");
    let items = scan.expression_attribute_values(":p", aws_sdk_dynamodb::types::AttributeValue::S("EVENT#".into())).send().await.unwrap();
    let mut kinds: Vec<String> = items.items().iter().map(|i| i["type"].as_s().unwrap().clone()).collect();
    kinds.sort();
    assert_eq!(kinds, ["user.deactivated", "user.deleted", "user.provisioned", "user.sign_in_failed", "user.signed_in"]);
    assert_eq!(app.items_under("ACTIVITY#").await, 1, "the last sign-in is kept with the session");

    let runs = Arc::new(MemoryRuns::default());
    let secrets = connection_secrets(aws_sdk_secretsmanager::Client::new(&app.sdk), Duration::from_secs(300));
    let workflows = workflows::state::Workflows { store: store.clone(), secrets, pause: runs };
    let mut stream = workflows::local_stream::StreamPoller::new(&app.sdk, &app.stack.table).await.unwrap();
    assert!(stream.deliver(&workflows, 20).await.unwrap() > 0);
    let signed_in = service.received("/signed-in");
    assert_eq!(signed_in.len(), 1);
    assert_eq!(signed_in[0].json(), json!({"email": "hanako@example.com", "app": crate::harness::APP, "method": "password"}));
    let deactivated = service.received("/deactivated");
    assert_eq!(deactivated.len(), 1);
    assert_eq!(deactivated[0].json(), json!({"email": "taro@example.com", "org": test.org.id.as_str(), "scim_id": id}));

    // The runs' own records come through the stream too; they start nothing, and nothing runs twice.
    stream.deliver(&workflows, 21).await.unwrap();
    assert_eq!((service.received("/signed-in").len(), service.received("/deactivated").len()), (1, 1));
}
