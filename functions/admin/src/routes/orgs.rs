//! `/admin/v1/orgs`: organisations (list, create, read, replace, delete), their sign-in
//! connection (set, remove) and their SCIM tokens (list, issue shown once, revoke).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, put};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use crate::state::Admin;
use crate::web::{Answer, Caller, IfMatch, JsonBody, PathParams, ResourceId, now, with_etag};
use shared::admin::Check;
use shared::admin::orgs::{ConnectionSettings, OrgSettings, token_view, view};
use shared::admin::role::Action;
use shared::directory::org::OrgId;

pub fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/admin/v1/orgs", get(list).post(create))
        .route("/admin/v1/orgs/{id}", get(read).put(replace).delete(remove))
        .route("/admin/v1/orgs/{id}/connection", put(connect).delete(disconnect))
        .route("/admin/v1/orgs/{id}/tokens", get(tokens).post(issue_token))
        .route("/admin/v1/orgs/{id}/tokens/{token}", delete(revoke_token))
}

/// `POST /admin/v1/orgs/{id}/tokens`: the token's label (where it is used: "okta", "entra").
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    label: String,
}

async fn list(State(admin): State<Arc<Admin>>, caller: Caller) -> Answer {
    caller.may(Action::Read)?;
    let orgs = admin.orgs.list().await?;
    Ok(axum::Json(json!({"orgs": orgs.iter().map(view).collect::<Vec<_>>()})).into_response())
}

async fn create(State(admin): State<Arc<Admin>>, caller: Caller, JsonBody(settings): JsonBody<OrgSettings>) -> Answer {
    let operator = caller.may(Action::Change)?;
    let org = admin.orgs.create(&operator.actor, settings, now()).await?;
    Ok(with_etag(StatusCode::CREATED, org.version, view(&org)))
}

async fn read(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(id): ResourceId<OrgId>) -> Answer {
    caller.may(Action::Read)?;
    let org = admin.orgs.get(id.as_str()).await?;
    Ok(with_etag(StatusCode::OK, org.version, view(&org)))
}

async fn replace(
    State(admin): State<Arc<Admin>>,
    caller: Caller,
    ResourceId(id): ResourceId<OrgId>,
    if_match: IfMatch,
    JsonBody(settings): JsonBody<OrgSettings>,
) -> Answer {
    let operator = caller.may(Action::Change)?;
    settings.check(id.as_str())?;
    let version = if_match.version()?;
    let org = admin.orgs.update(&operator.actor, id.as_str(), settings, version, now()).await?;
    Ok(with_etag(StatusCode::OK, org.version, view(&org)))
}

async fn remove(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(id): ResourceId<OrgId>, if_match: IfMatch) -> Answer {
    let operator = caller.may(Action::Change)?;
    let version = if_match.version()?;
    admin.orgs.remove(&operator.actor, id.as_str(), version, now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn connect(
    State(admin): State<Arc<Admin>>,
    caller: Caller,
    ResourceId(id): ResourceId<OrgId>,
    if_match: IfMatch,
    JsonBody(settings): JsonBody<ConnectionSettings>,
) -> Answer {
    let operator = caller.may(Action::Change)?;
    settings.check(id.as_str())?;
    let version = if_match.version()?;
    let org = admin.orgs.connect(&operator.actor, id.as_str(), settings, version, now()).await?;
    Ok(with_etag(StatusCode::OK, org.version, view(&org)))
}

async fn disconnect(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(id): ResourceId<OrgId>, if_match: IfMatch) -> Answer {
    let operator = caller.may(Action::Change)?;
    let version = if_match.version()?;
    let org = admin.orgs.disconnect(&operator.actor, id.as_str(), version, now()).await?;
    Ok(with_etag(StatusCode::OK, org.version, view(&org)))
}

async fn tokens(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(id): ResourceId<OrgId>) -> Answer {
    caller.may(Action::Read)?;
    let tokens = admin.orgs.tokens(id.as_str()).await?;
    Ok(axum::Json(json!({"tokens": tokens.iter().map(token_view).collect::<Vec<_>>()})).into_response())
}

async fn issue_token(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(id): ResourceId<OrgId>, JsonBody(new): JsonBody<NewToken>) -> Answer {
    let operator = caller.may(Action::Change)?;
    let (value, record) = admin.orgs.issue_token(&operator.actor, id.as_str(), &new.label, now()).await?;
    let mut body = token_view(&record);
    body["token"] = value.expose_secret().into();
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

async fn revoke_token(State(admin): State<Arc<Admin>>, caller: Caller, PathParams((id, token)): PathParams<(String, String)>) -> Answer {
    let operator = caller.may(Action::Change)?;
    admin.orgs.revoke_token(&operator.actor, id.as_str(), &token, now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
