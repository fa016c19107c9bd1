//! `/admin/v1/keys`: the bridge's own signing keys (list; rotate and prune, admin only).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use crate::state::Admin;
use crate::web::{Answer, Caller, JsonBody, now};
use shared::admin::AdminError;
use shared::admin::keys::{view, view_set};
use shared::admin::role::Action;
use shared::tokens::jws::Algorithm;
use shared::tokens::signing_keys::MIN_LEAD;

/// The longest lead a rotation may ask for (seconds): 30 days.
const MAX_LEAD: u64 = 30 * 24 * 3600;

pub fn routes() -> Router<Arc<Admin>> {
    Router::new().route("/admin/v1/keys", get(list)).route("/admin/v1/keys/rotate", post(rotate)).route("/admin/v1/keys/prune", post(prune))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotation {
    alg: Algorithm,
    /// Seconds between publishing the new key and signing with it (a day by default).
    #[serde(default = "a_day")]
    lead_seconds: u64,
}

fn a_day() -> u64 {
    24 * 3600
}

async fn list(State(admin): State<Arc<Admin>>, caller: Caller) -> Answer {
    caller.may(Action::Read)?;
    Ok(axum::Json(view_set(&admin.keys.list().await?)).into_response())
}

async fn rotate(State(admin): State<Arc<Admin>>, caller: Caller, JsonBody(rotation): JsonBody<Rotation>) -> Answer {
    let operator = caller.may(Action::Change)?;
    // Through the API the lead is never shorter than every cache of the key set and the JWKS.
    if !(MIN_LEAD..=MAX_LEAD).contains(&rotation.lead_seconds) {
        return Err(AdminError::Invalid(format!("lead_seconds is {MIN_LEAD} to {MAX_LEAD}")).into());
    }
    let key = admin.keys.rotate(&operator.actor, rotation.alg, rotation.lead_seconds, now()).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&key))).into_response())
}

async fn prune(State(admin): State<Arc<Admin>>, caller: Caller) -> Answer {
    let operator = caller.may(Action::Change)?;
    Ok(axum::Json(json!({"pruned": admin.keys.prune(&operator.actor, now()).await?})).into_response())
}
