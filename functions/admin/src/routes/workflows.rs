//! `/admin/v1/workflows`: flows (list, create, read, replace, enable, disable, test against a
//! sample event, the inactivity report (admins only, each read audited), their run history), connections (list, create, read,
//! replace; the secret is write only), and runs (`failed-runs`, one run, replay: admins and
//! operators).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;

use crate::state::Admin;
use crate::web::{Answer, Caller, IfMatch, JsonBody, PathId, ResourceId, now, with_etag};
use shared::admin::role::Action;
use shared::admin::workflows::{ConnectionSettings, MAX_REPORT, RunQuery, connection_view};
use shared::admin::{AdminError, Check};
use shared::events::IdentityEvent;
use shared::workflows::connection::AuthSettings;
use shared::workflows::flow::Flow;

pub fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/admin/v1/workflows/flows", get(flows).post(create_flow))
        .route("/admin/v1/workflows/flows/{id}", get(flow).put(replace_flow))
        .route("/admin/v1/workflows/flows/{id}/enable", post(enable))
        .route("/admin/v1/workflows/flows/{id}/disable", post(disable))
        .route("/admin/v1/workflows/flows/{id}/test", post(test))
        .route("/admin/v1/workflows/flows/{id}/report", get(report))
        .route("/admin/v1/workflows/flows/{id}/runs", get(runs))
        .route("/admin/v1/workflows/connections", get(connections).post(create_connection))
        .route("/admin/v1/workflows/connections/{id}", get(connection).put(replace_connection))
        .route("/admin/v1/workflows/failed-runs", get(failed))
        .route("/admin/v1/workflows/runs/{id}", get(run))
        .route("/admin/v1/workflows/runs/{id}/replay", post(replay))
}

/// A flow's id in the path: 1 to 64 of a-z, 0-9 and '-'.
pub struct FlowId(String);

impl PathId for FlowId {
    fn parse_id(raw: &str) -> Result<Self, String> {
        let ok = (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(shared::workflows::flow::FlowError::BadId.to_string()) }
    }
}

/// A connection's name in the path.
pub struct ConnectionName(String);

impl PathId for ConnectionName {
    fn parse_id(raw: &str) -> Result<Self, String> {
        if shared::workflows::connection::valid_name(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(shared::workflows::connection::ConnectionError::Name.to_string())
        }
    }
}

/// A run's id in the path: 32 lowercase hexadecimal digits.
pub struct RunId(String);

impl PathId for RunId {
    fn parse_id(raw: &str) -> Result<Self, String> {
        if raw.len() == 32 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(raw.to_owned()))
        } else {
            Err("a run id is 32 hexadecimal digits".into())
        }
    }
}

/// `POST /admin/v1/workflows/connections`: a name and the settings, with the secret.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewConnection {
    name: String,
    base_url: String,
    auth: AuthSettings,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    secret: Option<SecretString>,
}

/// `POST .../test`: the sample event.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    event: IdentityEvent,
}

/// `GET .../report`: how many people at most.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    #[serde(default)]
    limit: Option<usize>,
}

type Checked<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

fn query<T>(checked: Checked<T>, what: &str) -> Result<T, AdminError> {
    checked.map(|Query(q)| q).map_err(|_| AdminError::Invalid(format!("the query parameters are {what}")))
}

fn flow_answer(status: StatusCode, flow: &Flow) -> Answer {
    Ok(with_etag(status, flow.version, serde_json::to_value(flow).unwrap_or_default()))
}

async fn flows(State(admin): State<Arc<Admin>>, caller: Caller) -> Answer {
    caller.may(Action::Read)?;
    Ok(axum::Json(json!({"flows": admin.workflows.flows().await?})).into_response())
}

async fn create_flow(State(admin): State<Arc<Admin>>, caller: Caller, JsonBody(flow): JsonBody<Flow>) -> Answer {
    let operator = caller.may(Action::Change)?;
    let flow = admin.workflows.create_flow(&operator.actor, flow, now()).await?;
    flow_answer(StatusCode::CREATED, &flow)
}

async fn flow(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(FlowId(id)): ResourceId<FlowId>) -> Answer {
    caller.may(Action::Read)?;
    flow_answer(StatusCode::OK, &admin.workflows.flow(&id).await?)
}

async fn replace_flow(
    State(admin): State<Arc<Admin>>,
    caller: Caller,
    ResourceId(FlowId(id)): ResourceId<FlowId>,
    if_match: IfMatch,
    JsonBody(flow): JsonBody<Flow>,
) -> Answer {
    let operator = caller.may(Action::Change)?;
    flow.check(&id)?;
    let version = if_match.version()?;
    let flow = admin.workflows.update_flow(&operator.actor, &id, flow, version, now()).await?;
    flow_answer(StatusCode::OK, &flow)
}

async fn set_enabled(admin: &Admin, caller: &Caller, id: &str, if_match: IfMatch, enabled: bool) -> Answer {
    let operator = caller.may(Action::Change)?;
    let version = if_match.version()?;
    let flow = admin.workflows.set_enabled(&operator.actor, id, enabled, Some(version), now()).await?;
    flow_answer(StatusCode::OK, &flow)
}

async fn enable(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(FlowId(id)): ResourceId<FlowId>, if_match: IfMatch) -> Answer {
    set_enabled(&admin, &caller, &id, if_match, true).await
}

async fn disable(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(FlowId(id)): ResourceId<FlowId>, if_match: IfMatch) -> Answer {
    set_enabled(&admin, &caller, &id, if_match, false).await
}

async fn test(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(FlowId(id)): ResourceId<FlowId>, JsonBody(sample): JsonBody<Sample>) -> Answer {
    caller.may(Action::Read)?;
    Ok(axum::Json(admin.workflows.test(&id, &sample.event).await?).into_response())
}

async fn report(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(FlowId(id)): ResourceId<FlowId>, checked: Checked<ReportQuery>) -> Answer {
    let operator = caller.may(Action::ExportPersonalData)?;
    let limit = query(checked, "limit")?.limit.unwrap_or(100);
    if !(1..=MAX_REPORT).contains(&limit) {
        return Err(AdminError::Invalid(format!("limit is 1 to {MAX_REPORT}")).into());
    }
    Ok(axum::Json(json!({"people": admin.workflows.report(&operator.actor, &id, now(), limit).await?})).into_response())
}

async fn runs(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(FlowId(id)): ResourceId<FlowId>, checked: Checked<RunQuery>) -> Answer {
    caller.may(Action::Read)?;
    let page = query(checked, "cursor and limit")?;
    Ok(axum::Json(admin.workflows.runs(&id, &page).await?).into_response())
}

async fn connections(State(admin): State<Arc<Admin>>, caller: Caller) -> Answer {
    caller.may(Action::Read)?;
    let all = admin.workflows.connections().await?;
    Ok(axum::Json(json!({"connections": all.iter().map(connection_view).collect::<Vec<_>>()})).into_response())
}

async fn create_connection(State(admin): State<Arc<Admin>>, caller: Caller, JsonBody(new): JsonBody<NewConnection>) -> Answer {
    let operator = caller.may(Action::Change)?;
    let settings = ConnectionSettings { base_url: new.base_url, auth: new.auth, headers: new.headers, secret: new.secret };
    let saved = admin.workflows.save_connection(&operator.actor, &new.name, settings, None, now()).await?;
    Ok(with_etag(StatusCode::CREATED, saved.version, connection_view(&saved)))
}

async fn connection(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(ConnectionName(name)): ResourceId<ConnectionName>) -> Answer {
    caller.may(Action::Read)?;
    let found = admin.workflows.connection(&name).await?;
    Ok(with_etag(StatusCode::OK, found.version, connection_view(&found)))
}

async fn replace_connection(
    State(admin): State<Arc<Admin>>,
    caller: Caller,
    ResourceId(ConnectionName(name)): ResourceId<ConnectionName>,
    if_match: IfMatch,
    JsonBody(settings): JsonBody<ConnectionSettings>,
) -> Answer {
    let operator = caller.may(Action::Change)?;
    settings.check(&name)?;
    let version = if_match.version()?;
    let saved = admin.workflows.save_connection(&operator.actor, &name, settings, Some(version), now()).await?;
    Ok(with_etag(StatusCode::OK, saved.version, connection_view(&saved)))
}

async fn failed(State(admin): State<Arc<Admin>>, caller: Caller, checked: Checked<RunQuery>) -> Answer {
    caller.may(Action::Read)?;
    let page = query(checked, "cursor and limit")?;
    Ok(axum::Json(admin.workflows.failed(&page).await?).into_response())
}

async fn run(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(RunId(id)): ResourceId<RunId>) -> Answer {
    caller.may(Action::Read)?;
    Ok(axum::Json(admin.workflows.run(&id).await?).into_response())
}

async fn replay(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(RunId(id)): ResourceId<RunId>) -> Answer {
    let operator = caller.may(Action::ReplayRun)?;
    Ok(axum::Json(admin.workflows.replay(&operator.actor, &id, now()).await?).into_response())
}
