//! `GET /admin/v1/audit`: the audit trail, newest first, filtered by `actor` or `target`,
//! `type`, `since` and `until` (seconds since the epoch), a page of `limit` at a time
//! (`cursor` from the previous page's `next_cursor`).

use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;

use crate::state::Admin;
use crate::web::{Answer, Caller};
use shared::admin::AdminError;
use shared::admin::audit::AuditQuery;
use shared::admin::role::Action;

pub fn routes() -> Router<Arc<Admin>> {
    Router::new().route("/admin/v1/audit", get(list))
}

async fn list(State(admin): State<Arc<Admin>>, caller: Caller, query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>) -> Answer {
    caller.may(Action::Read)?;
    let Ok(Query(query)) = query else {
        return Err(AdminError::Invalid("the filters are actor or target, type, since, until, limit and cursor".into()).into());
    };
    query.check()?;
    Ok(axum::Json(admin.audit.page(&query).await.map_err(AdminError::from)?).into_response())
}
