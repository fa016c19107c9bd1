//! `/admin/v1/apps`: list, create, read, replace, delete, and set an app's shared secret.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;

use crate::state::Admin;
use crate::web::{Answer, Caller, IfMatch, JsonBody, ResourceId, invalid_body, now, with_etag};
use shared::admin::Check;
use shared::admin::apps::{AppSettings, SecretChoice, view};
use shared::admin::role::Action;
use shared::tokens::app::AppId;

pub fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/admin/v1/apps", get(list).post(create))
        .route("/admin/v1/apps/{id}", get(read).put(replace).delete(remove))
        .route("/admin/v1/apps/{id}/secret", post(set_secret))
}

/// `POST /admin/v1/apps`: the app's id and its secret when its kind shares one, beside its
/// settings ([`AppSettings`], read from the rest of the body).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApp {
    id: String,
    #[serde(default)]
    secret: Option<SecretString>,
    #[serde(default)]
    generate_secret: bool,
}

/// The fields of [`NewApp`] in a creation's body; the others are the app's settings.
const NEW_APP_FIELDS: [&str; 3] = ["id", "secret", "generate_secret"];

/// `POST /admin/v1/apps/{id}/secret`: the new secret, or `{"generate": true}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSecret {
    #[serde(default)]
    secret: Option<SecretString>,
    #[serde(default)]
    generate: bool,
}

fn choice(secret: Option<SecretString>, generate: bool) -> Result<SecretChoice, crate::web::Problem> {
    match (secret, generate) {
        (Some(_), true) => Err(shared::admin::AdminError::Invalid("give a secret or ask for one to be generated, not both".into()).into()),
        (Some(secret), false) => Ok(SecretChoice::Given(secret)),
        (None, true) => Ok(SecretChoice::Generate),
        (None, false) => Ok(SecretChoice::None),
    }
}

async fn list(State(admin): State<Arc<Admin>>, caller: Caller) -> Answer {
    caller.may(Action::Read)?;
    let apps = admin.apps.list().await?;
    Ok(axum::Json(json!({"apps": apps.iter().map(view).collect::<Vec<_>>()})).into_response())
}

async fn create(State(admin): State<Arc<Admin>>, caller: Caller, JsonBody(mut body): JsonBody<Map<String, Value>>) -> Answer {
    let operator = caller.may(Action::Change)?;
    let head: Map<String, Value> = NEW_APP_FIELDS.iter().filter_map(|k| body.remove_entry(*k)).collect();
    let new: NewApp = serde_json::from_value(Value::Object(head)).map_err(|e| invalid_body(&e))?;
    let settings: AppSettings = serde_json::from_value(Value::Object(body)).map_err(|e| invalid_body(&e))?;
    let (app, shown) = admin.apps.create(&operator.actor, &new.id, settings, choice(new.secret, new.generate_secret)?, now()).await?;
    let mut body = json!({"app": view(&app)});
    if let Some(secret) = shown {
        body["secret"] = secret.expose_secret().into();
    }
    Ok(with_etag(StatusCode::CREATED, app.version, body))
}

async fn read(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(id): ResourceId<AppId>) -> Answer {
    caller.may(Action::Read)?;
    let app = admin.apps.get(id.as_str()).await?;
    Ok(with_etag(StatusCode::OK, app.version, view(&app)))
}

async fn replace(
    State(admin): State<Arc<Admin>>,
    caller: Caller,
    ResourceId(id): ResourceId<AppId>,
    if_match: IfMatch,
    JsonBody(settings): JsonBody<AppSettings>,
) -> Answer {
    let operator = caller.may(Action::Change)?;
    settings.check(id.as_str())?;
    let version = if_match.version()?;
    let app = admin.apps.update(&operator.actor, id.as_str(), settings, version, now()).await?;
    Ok(with_etag(StatusCode::OK, app.version, view(&app)))
}

async fn remove(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(id): ResourceId<AppId>, if_match: IfMatch) -> Answer {
    let operator = caller.may(Action::Change)?;
    let version = if_match.version()?;
    admin.apps.remove(&operator.actor, id.as_str(), version, false, now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn set_secret(State(admin): State<Arc<Admin>>, caller: Caller, ResourceId(id): ResourceId<AppId>, JsonBody(new): JsonBody<NewSecret>) -> Answer {
    let operator = caller.may(Action::Change)?;
    let shown = admin.apps.set_secret(&operator.actor, id.as_str(), choice(new.secret, new.generate)?, now()).await?;
    Ok(match shown {
        Some(secret) => axum::Json(json!({"secret": secret.expose_secret()})).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
