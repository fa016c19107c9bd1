//! `GET /admin/v1/overview?days=30`: the overview's daily series (sign-ins, failed and
//! high-risk sign-ins, SCIM changes, hook deliveries and failures per UTC day), one `Query` of
//! the counters the workflow runner keeps (`events::daily`).

use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use crate::state::Admin;
use crate::web::{Answer, Caller, now};
use shared::admin::AdminError;
use shared::admin::role::Action;
use shared::events::daily::series;

/// The longest series one request reads (days).
pub const MAX_DAYS: u64 = 90;
const DAY: u64 = 24 * 3600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    days: Option<u64>,
}

pub fn routes() -> Router<Arc<Admin>> {
    Router::new().route("/admin/v1/overview", get(overview))
}

async fn overview(State(admin): State<Arc<Admin>>, caller: Caller, range: Result<Query<Range>, axum::extract::rejection::QueryRejection>) -> Answer {
    caller.may(Action::Read)?;
    let days = match range {
        Ok(Query(Range { days: None })) => 30,
        Ok(Query(Range { days: Some(days @ 1..=MAX_DAYS) })) => days,
        _ => return Err(AdminError::Invalid(format!("days is 1 to {MAX_DAYS}")).into()),
    };
    let today = now() / DAY;
    let from = today.saturating_sub(days - 1);
    let stored = admin.daily.range(from, today).await.map_err(AdminError::from)?;
    let per_day: Vec<_> = series(&stored, today, days)
        .into_iter()
        .map(|(day, totals)| {
            let mut value = serde_json::to_value(totals).unwrap_or_default();
            value["date"] = shared::common::time::rfc3339(day * DAY)[..10].into();
            value
        })
        .collect();
    Ok(axum::Json(json!({"days": per_day})).into_response())
}
