//! `/admin/v1/hooks`: telephony hooks (list, create, read, replace, delete), activate and
//! deactivate (admins and operators), 30-day metrics, and the preview: generate the request the
//! sender would send for a person, then send it (edited or not) and see the answer and its time.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::state::Admin;
use crate::web::{Answer, Caller, IfMatch, JsonBody, PathId, ResourceId, now, with_etag};
use shared::admin::hooks::{AuthSettings, HookSettings, PreviewUser, view};
use shared::admin::role::Action;
use shared::admin::{AdminError, Check};
use shared::telephony::hook::{Hook, RequestType};

pub fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/admin/v1/hooks", get(list).post(create))
        .route("/admin/v1/hooks/{id}", get(read).put(replace).delete(remove))
        .route("/admin/v1/hooks/{id}/activate", post(activate))
        .route("/admin/v1/hooks/{id}/deactivate", post(deactivate))
        .route("/admin/v1/hooks/{id}/metrics", get(metrics))
        .route("/admin/v1/hooks/{id}/preview", post(preview))
        .route("/admin/v1/hooks/{id}/send", post(send))
}

/// A hook's name in the path: what `Hook::validate` accepts.
pub struct HookName(String);

impl PathId for HookName {
    fn parse_id(raw: &str) -> Result<Self, String> {
        if shared::telephony::hook::valid_name(raw) { Ok(Self(raw.to_owned())) } else { Err(shared::telephony::hook::HookError::Name.to_string()) }
    }
}

/// `POST /admin/v1/hooks`: a name and the settings, with the secret.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewHook {
    name: String,
    url: String,
    auth: AuthSettings,
    #[serde(default)]
    fallback: Option<String>,
    secret: SecretString,
}

/// `POST .../preview`: the person (user name or email) and the request type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewFor {
    user: String,
    #[serde(default = "mfa")]
    r#type: String,
}

fn mfa() -> String {
    "mfa-verification".into()
}

/// `POST .../send`: the request to send, as previewed or edited.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Send {
    request: Value,
}

fn with_active(hook: &Hook, active: Option<&str>) -> Value {
    let mut value = view(hook);
    value["active"] = (active == Some(hook.name.as_str())).into();
    value
}

async fn list(State(admin): State<Arc<Admin>>, caller: Caller) -> Answer {
    caller.may(Action::Read)?;
    let (hooks, active) = admin.hooks.list().await?;
    Ok(axum::Json(json!({"hooks": hooks.iter().map(|h| with_active(h, active.as_deref())).collect::<Vec<_>>()})).into_response())
}

async fn create(State(admin): State<Arc<Admin>>, caller: Caller, JsonBody(new): JsonBody<NewHook>) -> Answer {
    let operator = caller.may(Action::Change)?;
    let settings = HookSettings { url: new.url, auth: new.auth, fallback: new.fallback, secret: Some(new.secret) };
    let hook = admin.hooks.create(&operator.actor, &new.name, settings, now()).await?;
    Ok(with_etag(StatusCode::CREATED, hook.version, with_active(&hook, None)))
}

async fn read(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(HookName(name)): ResourceId<HookName>) -> Answer {
    caller.may(Action::Read)?;
    let (hooks, active) = admin.hooks.list().await?;
    let hook = hooks.iter().find(|h| h.name == name).ok_or_else(|| AdminError::NotFound(format!("hook `{name}`")))?;
    Ok(with_etag(StatusCode::OK, hook.version, with_active(hook, active.as_deref())))
}

async fn replace(
    State(admin): State<Arc<Admin>>,
    caller: Caller,
    ResourceId(HookName(name)): ResourceId<HookName>,
    if_match: IfMatch,
    JsonBody(settings): JsonBody<HookSettings>,
) -> Answer {
    let operator = caller.may(Action::Change)?;
    settings.check(&name)?;
    let version = if_match.version()?;
    let hook = admin.hooks.update(&operator.actor, &name, settings, version, now()).await?;
    Ok(with_etag(StatusCode::OK, hook.version, view(&hook)))
}

async fn remove(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(HookName(name)): ResourceId<HookName>, if_match: IfMatch) -> Answer {
    let operator = caller.may(Action::Change)?;
    let version = if_match.version()?;
    admin.hooks.remove(&operator.actor, &name, Some(version), false, now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn activate(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(HookName(name)): ResourceId<HookName>) -> Answer {
    let operator = caller.may(Action::ActivateHook)?;
    admin.hooks.activate(&operator.actor, &name, now()).await?;
    Ok(axum::Json(json!({"active": name})).into_response())
}

async fn deactivate(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(HookName(name)): ResourceId<HookName>) -> Answer {
    let operator = caller.may(Action::ActivateHook)?;
    admin.hooks.deactivate(&operator.actor, &name, now()).await?;
    Ok(axum::Json(json!({"active": null})).into_response())
}

async fn metrics(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(HookName(name)): ResourceId<HookName>) -> Answer {
    caller.may(Action::Read)?;
    Ok(axum::Json(admin.hooks.metrics(&name, now()).await?).into_response())
}

async fn preview(
    State(admin): State<Arc<Admin>>,
    caller: Caller,
    ResourceId(HookName(name)): ResourceId<HookName>,
    JsonBody(body): JsonBody<PreviewFor>,
) -> Answer {
    caller.may(Action::Change)?;
    let kind = RequestType::parse(&body.r#type).ok_or_else(|| AdminError::Invalid("type is pre-enrollment, mfa-verification or password-reset".into()))?;
    let user = if body.user.contains('@') {
        let username = admin.people.directory.find_by_email(&body.user).await.map_err(AdminError::from)?;
        username.ok_or_else(|| AdminError::NotFound(format!("a person with email {}", body.user)))?
    } else {
        body.user.clone()
    };
    let person = admin.people.directory.user(&user).await.map_err(AdminError::from)?.ok_or_else(|| AdminError::NotFound("the person".into()))?;
    let request = admin.hooks.preview_request(&name, &PreviewUser::of(&person), kind, now()).await?;
    Ok(axum::Json(json!({"request": request})).into_response())
}

async fn send(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(HookName(name)): ResourceId<HookName>, JsonBody(body): JsonBody<Send>) -> Answer {
    let operator = caller.may(Action::Change)?;
    if !body.request.is_object() {
        return Err(AdminError::Invalid("the request is a JSON object".into()).into());
    }
    let answer = admin.hooks.preview_send(&operator.actor, &name, &body.request, now()).await?;
    Ok(axum::Json(answer).into_response())
}
