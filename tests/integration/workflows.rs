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
use shared::adapters::http::connectors::HttpConnectors;
use shared::adapters::workflow_runner::{StepServices, connection_secrets};
use shared::admin::ports::AuditedWorkflows;
use shared::common::secrets::SecretRef;
use shared::events::IdentityEvent;
use shared::testing::{CallLog, MemoryRuns};
use shared::workflows::connection::Connection;
use shared::workflows::flow::Flow;
use shared::workflows::runner::{RunStatus, Runner};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the service received it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub(crate) fn body(&self) -> &str {
        &self.body
    }

    /// A request header (its name in lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// A service on loopback that records every request and answers from a script per path (then
/// with its default answer).
#[derive(Clone, Default)]
pub(crate) struct Service {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
}

/// Answers to give, per path: status and JSON body.
type Script = HashMap<String, VecDeque<(u16, Value)>>;

impl Service {
    pub(crate) async fn start(&self) -> String {
        let app = Router::new().fallback(answer).with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    pub(crate) fn then(&self, path: &str, status: u16, body: Value) {
        self.script.lock().unwrap().entry(path.to_owned()).or_default().push_back((status, body));
    }

    pub(crate) fn received(&self, path: &str) -> Vec<Received> {
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
        "/services/data/v61.0/sobjects/Contact" => (201, json!({"id": "003xx000004TmiQAAS", "success": true, "errors": []})),
        "/identity/oauth/token" => (
            200,
            json!({"access_token": "cdf01657-110d-4155-99a7-f986b2ff13a0:int", "token_type": "bearer", "expires_in": 3599, "scope": "bridge@example.com"}),
        ),
        "/rest/v1/leads.json" => (200, json!({"requestId": "e42b#14272d07d78", "success": true, "result": [{"id": 318581, "status": "created"}]})),
        "/rest/v1/lists/1001/leads.json" => (200, json!({"requestId": "7a39#1511bf8a41c", "success": true, "result": [{"id": 318581, "status": "added"}]})),
        _ => (404, json!([{"errorCode": "NOT_FOUND"}])),
    });
    (StatusCode::from_u16(status).unwrap(), axum::Json(body))
}

pub(crate) fn template(name: &str) -> Flow {
    let text = std::fs::read_to_string(format!("{}/../workflows/templates/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let flow: Flow = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    flow.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
    flow
}

pub(crate) fn event(id: &str, kind: &str) -> IdentityEvent {
    serde_json::from_value(json!({
        "id": id, "type": kind, "at": 1_700_000_000,
        "user": {"sub": "5f0c2a9e-1111", "email": "hanako@example.com", "email_verified": true, "given_name": "花子", "family_name": "山田"},
        "context": {"app": "support", "method": "password", "ip": "203.0.113.7", "country": "FR"},
        "detail": {"signals": ["new_device", "new_country"], "outcome": "allowed"}
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
    let marketo = store("marketo", "mk-client-secret").await;
    let connections: Vec<Connection> = serde_json::from_value(json!([
        {"name": "marketo", "base_url": base,
         "auth": {"type": "oauth2", "token_url": format!("{base}/identity/oauth/token"), "client_id": "5f9c-marketo", "secret": marketo}},
        {"name": "servicenow", "base_url": base, "auth": {"type": "basic", "username": "bridge.integration", "secret": servicenow}},
        {"name": "salesforce", "base_url": base,
         "auth": {"type": "oauth2", "token_url": format!("{base}/services/oauth2/token"), "client_id": "3MVG9bridge", "secret": salesforce}}
    ]))
    .unwrap();
    let secrets = connection_secrets(aws_sdk_secretsmanager::Client::new(&crate::harness::as_function(&sdk, "WorkflowsFunction")), Duration::from_secs(300));
    let runs = Arc::new(MemoryRuns::default());
    let connectors = Arc::new(HttpConnectors::new(connections, secrets).unwrap());
    (Runner { connectors, runs: runs.clone(), dead_letters: runs.clone(), pause: runs.clone(), deadline: None }, runs)
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
               "description": "App support, method password, network 203.0.113.7, country FR, signals: new_device, new_country, outcome: allowed. Event evt-1.",
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
    let contacts = service.received("/services/data/v61.0/sobjects/Contact");
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts[0].headers["authorization"], "Bearer 00Dxx0000001gPL!AR8AQJXg");
    assert_eq!(contacts[0].json(), json!({"FirstName": "花子", "LastName": "山田", "Email": "hanako@example.com", "LeadSource": "Identity bridge"}));

    // A refused token (expired early) is replaced and the step retried.
    service.then("/services/data/v61.0/sobjects/Contact", 401, json!([{"errorCode": "INVALID_SESSION_ID"}]));
    let out = runner.handle(&event("evt-c", "user.registered"), &flows, 1).await.unwrap();
    assert_eq!((out[0].status, out[0].steps[0].attempts), (RunStatus::Succeeded, 2));
    assert_eq!(service.received("/services/oauth2/token").len(), 2);

    // An unverified email never reaches the CRM (the template's condition).
    let mut unverified = event("evt-d", "user.registered");
    unverified.user.email_verified = Some(false);
    assert!(runner.handle(&unverified, &flows, 1).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_new_user_becomes_a_marketo_lead_and_marketos_errors_inside_http_200_are_read() {
    let service = Service::default();
    let base = service.start().await;
    let (runner, runs) = runner(&base).await;
    let flows = [template("new-user-marketo-lead")];
    let leads = "/rest/v1/leads.json";

    let out = runner.handle(&event("evt-1", "user.registered"), &flows, 1).await.unwrap();
    assert_eq!(out[0].status, RunStatus::Succeeded, "{out:?}");
    assert_eq!(out[0].steps[0].output["body"]["result"][0]["id"], 318581);
    let token = service.received("/identity/oauth/token");
    assert_eq!(token.len(), 1);
    let form: HashMap<String, String> = url::form_urlencoded::parse(token[0].body.as_bytes()).into_owned().collect();
    assert_eq!((form["client_id"].as_str(), form["client_secret"].as_str()), ("5f9c-marketo", "mk-client-secret"));
    let sent = service.received(leads);
    assert_eq!(sent[0].headers["authorization"], "Bearer cdf01657-110d-4155-99a7-f986b2ff13a0:int");
    assert_eq!(
        sent[0].json(),
        json!({"action": "createOrUpdate", "lookupField": "email",
               "input": [{"email": "hanako@example.com", "firstName": "花子", "lastName": "山田", "leadSource": "Identity bridge"}]})
    );

    // Marketo says "busy" and "token expired" with HTTP 200: retried, the second with a new token.
    service.then(
        leads,
        200,
        json!({"requestId": "1", "success": false, "errors": [{"code": "606", "message": "Max rate limit '100' exceeded with in '20' secs"}]}),
    );
    service.then(leads, 200, json!({"requestId": "2", "success": false, "errors": [{"code": "602", "message": "Access token expired"}]}));
    let out = runner.handle(&event("evt-2", "user.registered"), &flows, 1).await.unwrap();
    assert_eq!((out[0].status, out[0].steps[0].attempts), (RunStatus::Succeeded, 3));
    assert_eq!(service.received("/identity/oauth/token").len(), 2, "a new token after 602");

    // A record Marketo skipped is a failed step (HTTP 200 notwithstanding), not retried.
    service.then(
        leads,
        200,
        json!({"requestId": "3", "success": true, "result": [{"status": "skipped", "reasons": [{"code": "1006", "message": "Field 'leadSource' not found"}]}]}),
    );
    let out = runner.handle(&event("evt-3", "user.registered"), &flows, 1).await.unwrap();
    assert_eq!((out[0].status, out[0].steps[0].attempts), (RunStatus::Failed, 1));
    assert!(out[0].steps[0].error.as_deref().unwrap_or_default().contains("1006"), "{:?}", out[0].steps[0].error);
    assert_eq!(runs.dead.lock().unwrap().len(), 1);

    // Adding the lead to a static list, with the lead id from an earlier step.
    let list = template("inactive-user-marketo-list");
    let mut inactive = event("evt-4", "user.inactive");
    inactive.detail = serde_json::from_value(json!({"inactive_days": 90, "last_sign_in": 1_690_000_000})).unwrap();
    let out = runner.handle(&inactive, &[list], 1).await.unwrap();
    assert_eq!(out[0].status, RunStatus::Succeeded, "{out:?}");
    assert_eq!(service.received("/rest/v1/lists/1001/leads.json")[0].json(), json!({"input": [{"id": 318581}]}), "the id keeps its type");
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

    // A request that cannot be made (a header value from the event with a line break in it) is
    // no outage: it fails at once, sends nothing, and is not retried.
    let flow: Flow = serde_json::from_value(json!({"id": "hdr", "name": "hdr", "trigger": "sign_in.high_risk", "steps": [
        {"id": "call", "connector": "http", "connection": "servicenow", "path": "/api/now/table/incident",
         "headers": {"X-Ref": "{{detail.ref}}"}, "body": {}, "retry": {"max_attempts": 5, "backoff_seconds": 1}}]}))
    .unwrap();
    let mut hostile = event("evt-4", "sign_in.high_risk");
    hostile.detail.insert("ref".into(), json!("a\r\nX-Injected: 1"));
    let out = runner.handle(&hostile, &[flow], 1).await.unwrap();
    assert_eq!((out[0].status, out[0].steps[0].attempts), (RunStatus::Failed, 1), "{:?}", out[0].steps[0].error);
    assert_eq!(service.received(path).len(), 3 + 4 + 1, "nothing sent");
}

#[tokio::test]
async fn events_recorded_in_the_table_reach_their_flows_through_the_stream_once() {
    use shared::adapters::dynamo::workflows::DynamoWorkflows;
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
    store.seed_connection(&connection).await.unwrap();
    let mut flow = template("high-risk-sign-in-servicenow");
    flow.version = 1;
    store.seed_flow(&flow).await.unwrap();
    assert!(store.seed_flow(&flow).await.is_err(), "a second import must name the version it replaces");

    // The same event recorded twice is one item, so one stream record.
    store.record(&event("evt-1", "sign_in.high_risk")).await.unwrap();
    store.record(&event("evt-1", "sign_in.high_risk")).await.unwrap();
    store.record(&event("evt-2", "user.registered")).await.unwrap();
    let mut stream = workflows::local_stream::StreamPoller::new(&test.sdk, &test.stack.table).await.unwrap();
    let batch = stream.next_batch().await.unwrap();
    let events: Vec<&Value> =
        batch["Records"].as_array().unwrap().iter().filter(|r| r["dynamodb"]["NewImage"]["pk"]["S"].as_str().unwrap_or("").starts_with("EVENT#")).collect();
    // (and the audited creation of the harness's demo app)
    assert_eq!(events.len(), 3, "{batch}");

    let runs = Arc::new(MemoryRuns::default());
    let workflows = workflows_function(&test, runs.clone(), false);
    // An invocation whose time is nearly out begins no event: each goes back to the stream,
    // none is left half run.
    let late = workflows::handler::handle_json(&workflows, &batch, 9, Some(std::time::Instant::now())).await.unwrap();
    assert_eq!(late["batchItemFailures"].as_array().map(Vec::len), Some(3), "{late}");
    assert_eq!(service.received("/api/now/table/incident").len(), 0);
    let answer = workflows::handler::handle_json(&workflows, &batch, 10, None).await.unwrap();
    assert_eq!(answer, json!({"batchItemFailures": []}));
    assert_eq!(service.received("/api/now/table/incident").len(), 1);
    let run_id = shared::workflows::runner::run_id(&flow, &event("evt-1", "sign_in.high_risk"));
    assert_eq!(store.run(&run_id).await.unwrap().map(|r| r.status), Some(RunStatus::Succeeded));

    // The stream delivers the batch again: nothing new happens.
    assert_eq!(workflows::handler::handle_json(&workflows, &batch, 11, None).await.unwrap(), json!({"batchItemFailures": []}));
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
    assert_eq!(
        workflows::handler::handle_json(&workflows, &batch, 12, None).await.unwrap(),
        json!({"batchItemFailures": []}),
        "a failed run is not a batch failure"
    );
    let failed = AuditedWorkflows::failed_runs(&*store, None, 100).await.unwrap().runs;
    assert_eq!(failed.len(), 1);
    let (flows, runner) = workflows.load().await.unwrap();
    let replayed = runner.replay(&flows[0], &store.event("evt-3").await.unwrap().unwrap(), failed[0].clone(), 13).await.unwrap();
    assert_eq!(replayed.status, RunStatus::Succeeded);
    assert!(AuditedWorkflows::failed_runs(&*store, None, 100).await.unwrap().runs.is_empty());
}

#[tokio::test]
async fn the_admin_tool_imports_checks_previews_and_toggles_flows() {
    use bridge_admin::workflows::Workflows;
    let test = crate::harness::spawn_app().await;
    let admin = Workflows::new(&test.sdk, &test.stack.table, test.apps.prefix(), Default::default());
    let flow = template("high-risk-sign-in-servicenow");
    let refused = admin.import(flow.clone(), 1).await.unwrap_err().to_string();
    assert!(refused.contains("connection `servicenow`"), "{refused}");

    let connection: Connection = serde_json::from_value(json!({"name": "servicenow", "base_url": "https://acme.service-now.com",
        "auth": {"type": "basic", "username": "bridge.integration", "secret": "to be replaced"}}))
    .unwrap();
    let stored = admin.import_connection(connection, Some(&"sn-Passw0rd!".to_owned().into()), 1).await.unwrap();
    let shared::workflows::connection::Auth::Basic { secret, .. } = &stored.auth else { panic!() };
    assert!(secret.0.starts_with("arn:aws:secretsmanager:"), "the table names the secret, never holds it");
    assert!(!serde_json::to_string(&admin.store.connections().await.unwrap()).unwrap().contains("sn-Passw0rd!"));

    assert_eq!(admin.import(flow.clone(), 1).await.unwrap().version, 1);
    assert_eq!(admin.import(flow, 2).await.unwrap().version, 2, "a re-import is a new version");
    let preview = admin.test("high-risk-sign-in-servicenow", &event("evt-9", "sign_in.high_risk")).await.unwrap();
    assert!(preview.applies);
    let shared::workflows::flow::Action::Servicenow { fields, .. } = &preview.steps[0].1 else { panic!("{:?}", preview.steps) };
    assert_eq!(fields["short_description"], "High-risk sign-in: hanako@example.com");
    assert!(admin.failed().await.unwrap().is_empty(), "a preview records nothing");

    let disabled = admin.set_enabled("high-risk-sign-in-servicenow", false, 3).await.unwrap();
    assert_eq!((disabled.enabled, disabled.version), (false, 3));
    assert!(!admin.test("high-risk-sign-in-servicenow", &event("evt-9", "sign_in.high_risk")).await.unwrap().applies);
}

/// The outbox: a sign-in records its event in the session's transaction, a SCIM user change in
/// the change's own; a write that fails records nothing; the stream (read as Lambda's event
/// source mapping would, by `local_stream`) runs the flows for them, once.
#[tokio::test]
async fn sign_ins_and_scim_changes_record_their_events_with_the_change_and_run_flows_once() {
    use shared::adapters::dynamo::workflows::DynamoWorkflows;
    let test = crate::scim_harness::spawn_scim().await;
    let app = &test.app;
    let service = Service::default();
    let base = service.start().await;
    let store = Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table));
    store.seed_connection(&serde_json::from_value(json!({"name": "audit", "base_url": base, "auth": {"type": "none"}})).unwrap()).await.unwrap();
    for (trigger, path, body) in [
        ("user.signed_in", "/signed-in", json!({"email": "{{user.email}}", "app": "{{context.app}}", "method": "{{context.method}}"})),
        ("user.deactivated", "/deactivated", json!({"email": "{{user.email}}", "org": "{{user.org}}", "scim_id": "{{detail.scim_id}}"})),
    ] {
        let flow: Flow = serde_json::from_value(json!({"id": path.trim_start_matches('/'), "name": trigger, "trigger": trigger,
            "steps": [{"id": "tell", "connector": "http", "connection": "audit", "method": "POST", "path": path, "body": body}]}))
        .unwrap();
        store.seed_flow(&Flow { version: 1, ..flow }).await.unwrap();
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
    // The harness's app, organisation and SCIM token are operators' changes, recorded as such.
    let operators = ["admin.app.created", "admin.org.created", "admin.org.token_issued"];
    assert_eq!(kinds, [&operators[..], &["user.deactivated", "user.deleted", "user.provisioned", "user.sign_in_failed", "user.signed_in"]].concat());
    assert_eq!(app.items_under("ACTIVITY#").await, 1, "the last sign-in is kept with the session");

    let runs = Arc::new(MemoryRuns::default());
    let workflows = workflows_function(app, runs, false);
    let mut stream = workflows::local_stream::StreamPoller::new(&app.sdk, &app.stack.table).await.unwrap();
    // What the stream holds, read by a second reader: the events the runner is delivered.
    let delivered = workflows::local_stream::StreamPoller::new(&app.sdk, &app.stack.table).await.unwrap().next_batch().await.unwrap();
    let delivered: Vec<shared::events::IdentityEvent> = delivered["Records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["eventName"] == "INSERT" && r["dynamodb"]["NewImage"]["pk"]["S"].as_str().is_some_and(|pk| pk.starts_with("EVENT#")))
        .map(|r| serde_json::from_str(r["dynamodb"]["NewImage"]["data"]["S"].as_str().unwrap()).unwrap())
        .collect();
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
    // The overview's counters: each processed event once, on its day.
    let counted = shared::events::daily::DailyCounts::range(&*daily(&app.sdk, &app.stack.table), 0, 999_999).await.unwrap();
    assert_eq!(counted, shared::events::daily::tally(&delivered).into_iter().collect::<Vec<_>>());
    // The transaction the taken userName cancelled left no stream record (as in DynamoDB; the
    // local moto's launcher trims what moto's own rollback would leave).
    let provisioned = delivered.iter().filter(|e| e.kind == shared::events::EventType::UserProvisioned).count();
    assert_eq!(provisioned, 1, "{:?}", delivered.iter().map(|e| e.kind).collect::<Vec<_>>());
    assert!(counted[0].1.sign_ins == 1 && counted[0].1.failed_sign_ins == 1 && counted[0].1.scim_changes >= 3, "{counted:?}");
}

/// The Cognito connector against moto: each action on the pool, and bridge sessions ended with
/// a sign-out or a disable. (moto has no `AdminLinkProviderForUser`; the merge is tested in
/// `shared::workflows::user_actions`.)
#[tokio::test]
async fn cognito_steps_act_on_the_pool_and_end_the_bridge_sessions() {
    use shared::workflows::flow::Action;
    let app = crate::harness::spawn_app().await;
    let username = app.user("hanako@example.com", |_| {}).await;
    let signed_in = app.login("hanako@example.com", crate::harness::PASSWORD).await;
    app.handoff(&signed_in).await;
    assert_eq!(app.items_under("SESSION#").await, 1);
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    idp.create_group().user_pool_id(&app.stack.user_pool_id).group_name("app:support:agent").send().await.unwrap();
    let users =
        shared::adapters::workflow_runner::user_actions(&crate::harness::as_function(&app.sdk, "WorkflowsFunction"), &app.stack.user_pool_id, &app.stack.table);
    let step = |action: &str, extra: Value| {
        let mut v = json!({"connector": "cognito", "action": action, "username": username});
        v.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
        serde_json::from_value::<Action>(v).unwrap()
    };
    let user = || async {
        let out = idp.admin_get_user().user_pool_id(&app.stack.user_pool_id).username(&username).send().await;
        out.ok().map(|u| u.enabled())
    };

    let added = users.call(&step("add_to_group", json!({"group": "app:support:agent"}))).await;
    assert!(matches!(added, shared::workflows::runner::StepOutcome::Done(_)), "{added:?}");
    // A flow never hands out a console role, whatever its template makes of an event.
    for console_group in ["bridge-admin", "bridge-operator", "bridge-viewer", "bridge-any-later-role"] {
        let refused = users.call(&step("add_to_group", json!({"group": console_group}))).await;
        assert!(matches!(refused, shared::workflows::runner::StepOutcome::Failed(_)), "{refused:?}");
    }
    let groups = idp.admin_list_groups_for_user().user_pool_id(&app.stack.user_pool_id).username(&username).send().await.unwrap();
    assert_eq!(groups.groups().iter().filter_map(|g| g.group_name()).collect::<Vec<_>>(), ["app:support:agent"]);

    // A step may name the person by their email, which Cognito takes for the name: the bridge's
    // sessions (kept under the name) end all the same, and the revocation is under the name.
    let by_email =
        |action: &str| serde_json::from_value::<Action>(json!({"connector": "cognito", "action": action, "username": "hanako@example.com"})).unwrap();
    let signed_out_at = shared::common::time::unix_now();
    let signed_out = users.call(&by_email("sign_out")).await;
    assert!(matches!(&signed_out, shared::workflows::runner::StepOutcome::Done(out) if out["sessions_ended"] == 1), "{signed_out:?}");
    assert_eq!(app.items_under("SESSION#").await, 0, "the bridge session ended with the sign-out");
    assert!(app.console_not_before(&username).await >= Some(signed_out_at), "the console tokens revoked with it");
    let signed_in = app.login("hanako@example.com", crate::harness::PASSWORD).await;
    app.handoff(&signed_in).await;
    assert_eq!(app.items_under("SESSION#").await, 1);
    let disabled = users.call(&by_email("disable_user")).await;
    assert!(matches!(&disabled, shared::workflows::runner::StepOutcome::Done(out) if out["sessions_ended"] == 1), "{disabled:?}");
    assert_eq!(user().await, Some(false));
    assert_eq!(app.items_under("SESSION#").await, 0, "the bridge session ended with the disable");
    let revoked_under = |name: &str| format!("REVOKED#{}", shared::signin::session::user_key(name));
    assert_eq!(app.items_under(&revoked_under(&username)).await, 1, "revoked under the pool's own name");
    assert_eq!(app.items_under(&revoked_under("hanako@example.com")).await, 0);

    let deleted = users.call(&by_email("delete_user")).await;
    assert!(matches!(deleted, shared::workflows::runner::StepOutcome::Done(_)), "{deleted:?}");
    assert_eq!(app.items_under(&revoked_under("hanako@example.com")).await, 0, "revoked under the pool's own name");
    assert_eq!(user().await, None);
    for _ in 0..2 {
        let deleted = users.call(&step("delete_user", json!({}))).await;
        assert!(matches!(deleted, shared::workflows::runner::StepOutcome::Done(_)), "a user already gone is done: {deleted:?}");
    }
    let refused = users.call(&step("add_to_group", json!({"group": "app:support:agent"}))).await;
    assert!(matches!(refused, shared::workflows::runner::StepOutcome::Failed(_)), "{refused:?}");

    // An operator's account is the admins' to disable or delete: a flow acting on an event's
    // user (a typed email, an inactive account) leaves it and its sessions alone.
    let boss = app.user("boss@example.com", |u| u.groups = &["bridge-admin"]).await;
    let signed_in = app.login("boss@example.com", crate::harness::PASSWORD).await;
    app.handoff(&signed_in).await;
    for action in ["disable_user", "delete_user"] {
        let refused =
            users.call(&serde_json::from_value::<Action>(json!({"connector": "cognito", "action": action, "username": "boss@example.com"})).unwrap()).await;
        assert!(matches!(&refused, shared::workflows::runner::StepOutcome::Failed(why) if why.contains("console role")), "{action}: {refused:?}");
    }
    let boss_user = idp.admin_get_user().user_pool_id(&app.stack.user_pool_id).username(&boss).send().await.unwrap();
    assert!(boss_user.enabled());
    assert_eq!(app.items_under(&revoked_under(&boss)).await, 0, "no revocation either");
    assert_eq!(app.items_under("SESSION#").await, 1, "the operator's session stays");
}

#[test]
fn every_shipped_template_is_a_valid_flow() {
    let dir = format!("{}/../workflows/templates", env!("CARGO_MANIFEST_DIR"));
    let names: Vec<String> = std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json").map(str::to_owned)).collect();
    assert!(names.len() >= 6, "{names:?}");
    for name in names {
        assert_eq!(template(&name).id, name, "a template's id is its file name");
    }
}

/// The daily inactivity schedule over seeded people: the dry run, one `user.inactive` per person
/// and threshold, the remarketing list (Marketo) and the clean-up (Cognito) through the stream,
/// and a second scan that finds nothing new.
#[tokio::test]
async fn the_inactivity_schedule_reaches_the_right_people_once() {
    use shared::adapters::dynamo::workflows::DynamoWorkflows;
    use shared::workflows::inactivity::{DAY, LastSignIn};
    let app = crate::harness::spawn_app().await;
    let service = Service::default();
    let base = service.start().await;
    let store = Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table));
    let secrets_client = aws_sdk_secretsmanager::Client::new(&app.sdk);
    let secret =
        secrets_client.create_secret().name(format!("wf-{}/marketo", uuid::Uuid::new_v4().simple())).secret_string("mk").send().await.unwrap().arn.unwrap();
    let marketo = json!({"name": "marketo", "base_url": base,
                         "auth": {"type": "oauth2", "token_url": format!("{base}/identity/oauth/token"), "client_id": "mk", "secret": secret}});
    store.seed_connection(&serde_json::from_value(marketo).unwrap()).await.unwrap();
    let users =
        shared::adapters::workflow_runner::user_actions(&crate::harness::as_function(&app.sdk, "WorkflowsFunction"), &app.stack.user_pool_id, &app.stack.table);
    let admin = bridge_admin::workflows::Workflows::new(&app.sdk, &app.stack.table, app.apps.prefix(), StepServices { users: Some(users.clone()), mail: None });
    for name in ["inactive-user-marketo-list", "inactive-user-cleanup", "inactive-user-cleanup-delete"] {
        admin.import(template(name), 1).await.unwrap();
    }

    // People and their last sign-ins: a year and more, 380 days, 100 days, 10 days ago.
    let now = 2_000_000_000;
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let table = shared::adapters::dynamo::Table::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    let mut names = HashMap::new();
    for (email, days) in [("old@example.com", 400), ("lapsed@example.com", 380), ("quiet@example.com", 100), ("recent@example.com", 10)] {
        app.user(email, |_| {}).await;
        let username = idp.admin_get_user().user_pool_id(&app.stack.user_pool_id).username(email).send().await.unwrap().username().to_owned();
        let person = LastSignIn { username: username.clone(), sub: format!("sub-{days}"), email: Some(email.to_owned()), at: now - days * DAY };
        let put = shared::adapters::dynamo::activity::activity_put(&table, &person, &Default::default()).unwrap();
        assert!(table.transact(put).await.is_ok());
        names.insert(email, username);
    }
    let enabled = |email: &str| {
        let idp = idp.clone();
        let (pool, name) = (app.stack.user_pool_id.clone(), names[email].clone());
        async move { idp.admin_get_user().user_pool_id(pool).username(name).send().await.ok().map(|u| u.enabled()) }
    };

    // The dry run lists who the clean-up would disable, and changes nothing.
    let report = admin.report("inactive-user-cleanup", now, 100).await.unwrap();
    let listed: Vec<&str> = report.iter().map(|l| l["email"].as_str().unwrap()).collect();
    assert_eq!(listed, ["old@example.com", "lapsed@example.com"]);
    let audit = shared::adapters::dynamo::audit::DynamoAudit::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    let query = shared::admin::audit::AuditQuery { target: Some("flow:inactive-user-cleanup".into()), ..Default::default() };
    let recorded = shared::admin::ports::AuditLog::page(&audit, &query).await.unwrap();
    let reads: Vec<_> = recorded.records.iter().map(|r| (r.kind, r.actor.id.starts_with("cli:"), r.after.clone())).collect();
    let read = (shared::events::EventType::AdminFlowReported, true, Some(json!({"people": 2, "limit": 100})));
    assert_eq!(reads.first(), Some(&read), "the command line's read is recorded too: {reads:?}");
    assert_eq!(report[0]["steps"][0][1], json!({"connector": "cognito", "action": "disable_user", "username": names["old@example.com"]}));
    assert_eq!(enabled("old@example.com").await, Some(true));
    for id in ["inactive-user-cleanup", "inactive-user-cleanup-delete"] {
        admin.set_enabled(id, true, now).await.unwrap();
    }

    let runs = Arc::new(MemoryRuns::default());
    let workflows = workflows_function(&app, runs, true);
    let scanned = workflows::handler::scheduled(&workflows, &json!({"scan": "inactive_users"}), now).await.unwrap();
    assert_eq!(scanned, json!({"scanned": [{"inactive_days": 90, "people": 3}, {"inactive_days": 365, "people": 2}, {"inactive_days": 395, "people": 1}]}));
    let mut stream = workflows::local_stream::StreamPoller::new(&app.sdk, &app.stack.table).await.unwrap();
    stream.deliver(&workflows, now).await.unwrap();

    let mut listed: Vec<String> = service.received("/rest/v1/leads.json").iter().map(|r| r.json()["input"][0]["email"].as_str().unwrap().to_owned()).collect();
    listed.sort();
    assert_eq!(listed, ["lapsed@example.com", "old@example.com", "quiet@example.com"]);
    assert_eq!(service.received("/rest/v1/lists/1001/leads.json").len(), 3);
    assert_eq!(enabled("old@example.com").await, None, "disabled, then deleted after the grace period");
    assert_eq!(enabled("lapsed@example.com").await, Some(false), "disabled, still in its grace period");
    assert_eq!((enabled("quiet@example.com").await, enabled("recent@example.com").await), (Some(true), Some(true)));

    // The next scans find no one new: each person crossed each threshold once.
    for later in [now, now + DAY] {
        let again = workflows::handler::scheduled(&workflows, &json!({"scan": "inactive_users"}), later).await.unwrap();
        assert!(again["scanned"].as_array().unwrap().iter().all(|s| s["people"] == 0), "{again}");
    }
    stream.deliver(&workflows, now + DAY).await.unwrap();
    assert_eq!(service.received("/rest/v1/leads.json").len(), 3);
}

#[test]
fn flows_may_be_written_in_yaml_by_the_same_rules() {
    let dir = std::env::temp_dir().join(format!("flows-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let yaml = dir.join("risky.yaml");
    std::fs::write(
        &yaml,
        r#"id: high-risk-sign-in-servicenow
name: A high-risk sign-in opens a ServiceNow incident for the security team
trigger: sign_in.high_risk
steps:
  - id: incident
    connector: servicenow
    connection: servicenow
    table: incident
    fields:
      short_description: "High-risk sign-in: {{user.email}}"
      description: "App {{context.app}}, method {{context.method}}, network {{context.ip}}, country {{context.country}}, signals: {{detail.signals}}, outcome: {{detail.outcome}}. Event {{id}}."
      category: security
      urgency: "2"
      impact: "2"
      correlation_id: "{{id}}"
    retry: { max_attempts: 4, backoff_seconds: 2 }
"#,
    )
    .unwrap();
    let flow: Flow = bridge_admin::read_document(&yaml).unwrap();
    assert_eq!(flow, template("high-risk-sign-in-servicenow"));
    std::fs::write(dir.join("bad.yml"), "id: x\nname: x\ntrigger: user.registered\nsteps: []\nsurprise: 1\n").unwrap();
    assert!(bridge_admin::read_document::<Flow>(&dir.join("bad.yml")).is_err(), "unknown fields are refused in YAML too");
    std::fs::remove_dir_all(dir).unwrap();
}

/// The overview's daily counters in the test's table.
/// The workflows function's state as its `main` builds it, over `app`'s table and SES identity
/// (and its user pool, with `pool`), its AWS calls signed as `WorkflowsFunction`.
pub(crate) fn workflows_function(app: &crate::harness::TestApp, pause: Arc<MemoryRuns>, pool: bool) -> workflows::state::Workflows {
    let mut env = HashMap::from([
        ("TABLE_NAME".to_owned(), app.stack.table.clone()),
        ("EMAIL_FROM".to_owned(), app.stack.email_from.clone()),
        ("EMAIL_IDENTITY_ARN".to_owned(), app.stack.email_identity_arn.clone()),
    ]);
    if pool {
        env.insert("USER_POOL_ID".into(), app.stack.user_pool_id.clone());
    }
    workflows::state::Workflows::new(&env, &crate::harness::as_function(&app.sdk, "WorkflowsFunction"), pause).unwrap_or_else(|e| panic!("{e}"))
}

fn daily(sdk: &aws_config::SdkConfig, table: &str) -> Arc<shared::adapters::dynamo::daily::DynamoDailyCounts> {
    Arc::new(shared::adapters::dynamo::daily::DynamoDailyCounts::new(aws_sdk_dynamodb::Client::new(sdk), table))
}

/// A service for ordering tests: `/wait/{gate}` answers 200 once `/go/{gate}` has been called
/// (504 if that takes over 5 s); `/ordered/{id}` answers after 300 ms. Each request's start and
/// end are logged in order.
#[derive(Clone, Default)]
struct Gates {
    gates: Arc<Mutex<HashMap<String, Arc<tokio::sync::Notify>>>>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Gates {
    fn gate(&self, name: &str) -> Arc<tokio::sync::Notify> {
        self.gates.lock().unwrap().entry(name.to_owned()).or_default().clone()
    }

    fn log(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }
}

async fn gated(State(gates): State<Gates>, uri: Uri) -> StatusCode {
    let path = uri.path().to_owned();
    gates.log(format!("start {path}"));
    let status = match path.split('/').collect::<Vec<_>>()[..] {
        ["", "wait", gate] => match tokio::time::timeout(Duration::from_secs(5), gates.gate(gate).notified()).await {
            Ok(()) => StatusCode::OK,
            Err(_) => StatusCode::GATEWAY_TIMEOUT,
        },
        ["", "go", gate] => {
            gates.gate(gate).notify_one();
            StatusCode::OK
        }
        ["", "ordered", _] => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            StatusCode::OK
        }
        _ => StatusCode::NOT_FOUND,
    };
    gates.log(format!("end {path}"));
    status
}

#[tokio::test]
async fn a_slow_service_holds_back_only_what_calls_it_and_a_persons_events_keep_their_order() {
    use shared::adapters::dynamo::workflows::DynamoWorkflows;
    let test = crate::harness::spawn_app().await;
    let gates = Gates::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(gated).with_state(gates.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let store = Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&test.sdk), &test.stack.table));
    store.seed_connection(&serde_json::from_value(json!({"name": "svc", "base_url": base, "auth": {"type": "none"}})).unwrap()).await.unwrap();
    let flow = |id: &str, trigger: &str, condition: &str, path: &str| -> Flow {
        let mut flow: Flow = serde_json::from_value(json!({"id": id, "name": id, "trigger": trigger, "condition": condition,
            "steps": [{"id": "call", "connector": "http", "connection": "svc", "method": "POST", "path": path, "body": {},
                       "retry": {"max_attempts": 1, "backoff_seconds": 1}}]}))
        .unwrap();
        flow.validate().unwrap();
        flow.version = 1;
        flow
    };
    let flows = [
        // One person's event waits for another person's (they are in the same batch, in this order).
        flow("a-first-person-waits", "user.signed_in", "user.sub == \"p-1\"", "/wait/people"),
        flow("b-second-person-goes", "user.signed_in", "user.sub == \"p-2\"", "/go/people"),
        // One event's first flow waits for its second.
        flow("c-flow-waits", "user.registered", "true", "/wait/flows"),
        flow("d-flow-goes", "user.registered", "true", "/go/flows"),
        // One person's two events, each 300 ms at the service.
        flow("e-ordered", "user.profile_updated", "true", "/ordered/{{id}}"),
    ];
    for flow in &flows {
        store.seed_flow(flow).await.unwrap();
    }
    let event = |id: &str, kind: &str, user: Value| -> IdentityEvent {
        serde_json::from_value(json!({"id": id, "type": kind, "at": 1_700_000_000, "user": user})).unwrap()
    };
    let events = [
        event("ev-1", "user.signed_in", json!({"sub": "p-1"})),
        event("ev-2", "user.signed_in", json!({"sub": "p-2"})),
        event("ev-3", "user.registered", json!({"sub": "p-3"})),
        event("ev-4", "user.profile_updated", json!({"sub": "p-4"})),
        event("ev-5", "user.profile_updated", json!({"sub": "p-4"})),
        // One person named two ways: a user name, then the sub with it.
        event("ev-6", "user.profile_updated", json!({"username": "u-6"})),
        event("ev-7", "user.profile_updated", json!({"sub": "p-6", "username": "u-6"})),
        // An email only (as SCIM before the account is linked), then the user name with it.
        event("ev-8", "user.profile_updated", json!({"email": "Ichiro@Example.com"})),
        event("ev-9", "user.profile_updated", json!({"username": "u-8", "email": "ichiro@example.com"})),
    ];
    for event in &events {
        store.record(event).await.unwrap();
    }
    let mut stream = workflows::local_stream::StreamPoller::new(&test.sdk, &test.stack.table).await.unwrap();
    let batch = stream.next_batch().await.unwrap();
    let workflows = workflows_function(&test, Arc::new(MemoryRuns::default()), false);
    let answer = workflows::handler::handle_json(&workflows, &batch, 10, None).await.unwrap();
    assert_eq!(answer, json!({"batchItemFailures": []}));

    let log = gates.log.lock().unwrap().clone();
    for (flow, event) in [(0, 0), (1, 1), (2, 2), (3, 2), (4, 3), (4, 4), (4, 5), (4, 6), (4, 7), (4, 8)] {
        let run = store.run(&shared::workflows::runner::run_id(&flows[flow], &events[event])).await.unwrap().unwrap();
        assert_eq!(run.status, RunStatus::Succeeded, "{} for {}: {run:?}\n{log:?}", flows[flow].id, events[event].id);
    }
    for (first, then) in [("ev-4", "ev-5"), ("ev-6", "ev-7"), ("ev-8", "ev-9")] {
        let lines: Vec<&String> = log.iter().filter(|l| l.ends_with(&format!("/ordered/{first}")) || l.ends_with(&format!("/ordered/{then}"))).collect();
        let expected = [format!("start /ordered/{first}"), format!("end /ordered/{first}"), format!("start /ordered/{then}"), format!("end /ordered/{then}")];
        assert_eq!(lines, expected.iter().collect::<Vec<_>>(), "one person's events in order");
    }
}
