//! `spawn_scim()`: a fresh stack (as `spawn_app`), an organisation owning `example.com` with a
//! SCIM token, and the SCIM function built on them exactly as Lambda builds it.

use crate::harness::*;
use bridge_admin::orgs::Orgs;
use http::StatusCode;
use lambda_http::Body;
use scim::{config::Config, routes, state::Scim};
use serde_json::Value;
use shared::adapters::dynamo::scim::DynamoScim;
use shared::directory::org::{OrgPolicies, Organisation};
use std::collections::HashMap;
use std::sync::Arc;

pub const BASE: &str = "https://api.example.com/scim/v2";
pub const SCIM_JSON: &str = "application/scim+json";

pub struct ScimTest {
    pub app: TestApp,
    pub scim: Arc<Scim>,
    pub org: Organisation,
    pub token: String,
}

pub async fn spawn_scim() -> ScimTest {
    spawn_scim_with(OrgPolicies::default(), &[]).await
}

/// With the organisation's `policies` and extra function environment.
pub async fn spawn_scim_with(policies: OrgPolicies, env: &[(&str, &str)]) -> ScimTest {
    let app = spawn_app().await;
    let orgs = Orgs::new(&app.sdk, &app.stack.table, "bridge-test");
    let org = orgs.create("Example Corp", &["example.com".into(), "example.co.jp".into()], policies).await.unwrap();
    let (token, _) = orgs.issue_token(org.id.as_str(), "okta", 0).await.unwrap();
    let scim = scim_for(&app, env);
    app.calls.take();
    ScimTest { app, scim, org, token }
}

/// The SCIM function as Lambda builds it from its environment.
pub fn scim_for(app: &TestApp, extra: &[(&str, &str)]) -> Arc<Scim> {
    let mut env: HashMap<String, String> = app.stack.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Arc::new(Scim::new(&Config::from_env(&env).unwrap_or_else(|e| panic!("{e}")), &crate::harness::as_function(&app.sdk, "ScimFunction")))
}

impl ScimTest {
    /// Another organisation (owning `other.example`) and its token.
    pub async fn other_org(&self) -> (Organisation, String) {
        let orgs = Orgs::new(&self.app.sdk, &self.app.stack.table, "bridge-test");
        let org = orgs.create("Other Inc", &["other.example".into()], OrgPolicies::default()).await.unwrap();
        let (token, _) = orgs.issue_token(org.id.as_str(), "entra", 0).await.unwrap();
        (org, token)
    }

    pub fn store(&self) -> DynamoScim {
        DynamoScim::new(aws_sdk_dynamodb::Client::new(&self.app.sdk), &self.app.stack.table)
    }

    pub async fn send_with(&self, scim: &Arc<Scim>, method: &str, path: &str, headers: &[(&str, &str)], body: Option<String>) -> Reply {
        let mut request = http::Request::builder().method(method).uri(format!("https://api.example.com/scim/v2{path}")).header("host", "api.example.com");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let body = body.map(Body::Text).unwrap_or(Body::Empty);
        let response = shared::testing::oneshot(&routes::router(scim.clone()), request.body(body).unwrap()).await;
        let (parts, body) = response.into_parts();
        Reply { status: parts.status, headers: parts.headers, body: String::from_utf8_lossy(body.as_ref()).into_owned() }
    }

    /// A request with this organisation's token; `body` as `application/scim+json`.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.call_as(&self.token, method, path, body).await
    }

    pub async fn call_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
        let auth = format!("Bearer {token}");
        self.send_with(&self.scim, method, path, &[("authorization", &auth), ("content-type", SCIM_JSON)], body.map(|b| b.to_string())).await
    }

    /// Creates a user, asserting 201; returns its id.
    pub async fn create_user(&self, user_name: &str, extra: Value) -> String {
        let mut body = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, "active": true,
            "name": {"givenName": "Taro", "familyName": "Yamada"}, "emails": [{"value": user_name, "type": "work", "primary": true}]});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        let reply = self.call("POST", "/Users", Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.json()["id"].as_str().unwrap().to_owned()
    }

    /// The Cognito user with this email: (enabled, attributes).
    pub async fn cognito_user(&self, email: &str) -> Option<(bool, HashMap<String, String>)> {
        let idp = aws_sdk_cognitoidentityprovider::Client::new(&self.app.sdk);
        let out = idp.admin_get_user().user_pool_id(&self.app.stack.user_pool_id).username(email).send().await.ok()?;
        let attrs = out.user_attributes().iter().map(|a| (a.name().to_owned(), a.value().unwrap_or_default().to_owned())).collect();
        self.app.calls.take();
        Some((out.enabled(), attrs))
    }
}

/// `/Users?filter=...` for this filter, encoded.
pub fn users_where(filter: &str) -> String {
    format!("/Users?filter={}", url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>())
}

/// The SCIM error body's `status` and `scimType`.
pub fn scim_error(reply: &Reply) -> (String, Option<String>) {
    let body = reply.json();
    assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{}", reply.body);
    assert_eq!(body["status"].as_str(), Some(reply.status.as_str()), "status is the HTTP status, as a string");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    (body["status"].as_str().unwrap().to_owned(), body["scimType"].as_str().map(str::to_owned))
}
