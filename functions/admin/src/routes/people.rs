//! `/admin/v1/people`: invite a person (and send the invitation again), find one by email, see
//! one, disable, enable, sign out everywhere, of one session or of one OpenID Connect app that
//! keeps them signed in, reset their second factors,
//! require a new password, and give or take a console role.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use serde::Deserialize;
use std::sync::Arc;

use crate::state::Admin;
use crate::web::{Answer, Caller, JsonBody, PathParams, now};
use shared::admin::invitations::NewPerson;
use shared::admin::people::Person;
use shared::admin::role::{Action, Role};

pub fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/admin/v1/people", get(find).post(invite))
        .route("/admin/v1/people/{username}/invitation", post(resend_invitation))
        .route("/admin/v1/people/{username}", get(read))
        .route("/admin/v1/people/{username}/disable", post(disable))
        .route("/admin/v1/people/{username}/enable", post(enable))
        .route("/admin/v1/people/{username}/sign-out", post(sign_out))
        .route("/admin/v1/people/{username}/sessions/{id}/sign-out", post(end_session))
        .route("/admin/v1/people/{username}/apps/{sign_in}/sign-out", post(sign_out_app))
        .route("/admin/v1/people/{username}/factors/reset", post(reset_factors))
        .route("/admin/v1/people/{username}/password/reset", post(require_password_reset))
        .route("/admin/v1/people/{username}/role", put(grant).delete(revoke))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ByEmail {
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRole {
    role: Role,
}

/// The person after a change to their account, role or sessions, whose cached standing (their
/// console role, their console tokens' revocation) this instance forgets.
fn changed(admin: &Admin, person: Person) -> Answer {
    admin.forget(&person.username);
    Ok(axum::Json(person).into_response())
}

async fn find(State(admin): State<Arc<Admin>>, caller: Caller, query: Result<Query<ByEmail>, axum::extract::rejection::QueryRejection>) -> Answer {
    caller.may(Action::Read)?;
    let Ok(Query(ByEmail { email })) = query else {
        return Err(shared::admin::AdminError::Invalid("give ?email=".into()).into());
    };
    Ok(axum::Json(admin.people.find(&email, now()).await?).into_response())
}

/// `POST /admin/v1/people`: invites a person (admins); `201` with the person.
async fn invite(State(admin): State<Arc<Admin>>, caller: Caller, JsonBody(new): JsonBody<NewPerson>) -> Answer {
    let operator = caller.may(Action::Change)?;
    let person = admin.people.invite(&operator.actor, new, now()).await?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(person)).into_response())
}

/// `POST /admin/v1/people/{username}/invitation`: sends an invitation not taken up again (admins).
async fn resend_invitation(State(admin): State<Arc<Admin>>, caller: Caller, PathParams(username): PathParams<String>) -> Answer {
    let operator = caller.may(Action::Change)?;
    changed(&admin, admin.people.resend_invitation(&operator.actor, &username, now()).await?)
}

async fn read(State(admin): State<Arc<Admin>>, caller: Caller, PathParams(username): PathParams<String>) -> Answer {
    caller.may(Action::Read)?;
    Ok(axum::Json(admin.people.person(&username, now()).await?).into_response())
}

async fn disable(State(admin): State<Arc<Admin>>, caller: Caller, PathParams(username): PathParams<String>) -> Answer {
    let operator = caller.may(Action::Change)?;
    changed(&admin, admin.people.disable(&operator.actor, &username, now()).await?)
}

async fn enable(State(admin): State<Arc<Admin>>, caller: Caller, PathParams(username): PathParams<String>) -> Answer {
    let operator = caller.may(Action::Change)?;
    changed(&admin, admin.people.enable(&operator.actor, &username, now()).await?)
}

async fn sign_out(State(admin): State<Arc<Admin>>, caller: Caller, PathParams(username): PathParams<String>) -> Answer {
    let operator = caller.may(Action::SignOutPerson)?;
    changed(&admin, admin.people.sign_out(&operator.actor, &username, now()).await?)
}

/// `POST /admin/v1/people/{username}/sessions/{id}/sign-out`: ends that one session.
async fn end_session(State(admin): State<Arc<Admin>>, caller: Caller, PathParams((username, id)): PathParams<(String, String)>) -> Answer {
    let operator = caller.may(Action::SignOutPerson)?;
    changed(&admin, admin.people.end_session(&operator.actor, &username, &id, now()).await?)
}

/// `POST /admin/v1/people/{username}/apps/{sign_in}/sign-out`: ends one sign-in's refresh tokens at
/// an OpenID Connect app (one of the person's `connected`).
async fn sign_out_app(State(admin): State<Arc<Admin>>, caller: Caller, PathParams((username, id)): PathParams<(String, String)>) -> Answer {
    let operator = caller.may(Action::SignOutPerson)?;
    changed(&admin, admin.people.sign_out_app(&operator.actor, &username, &id, now()).await?)
}

/// `POST /admin/v1/people/{username}/factors/reset`: turns the person's second factors off
/// (admins; operators of people without a console role).
async fn reset_factors(State(admin): State<Arc<Admin>>, caller: Caller, PathParams(username): PathParams<String>) -> Answer {
    let operator = caller.may(Action::ResetCredentials)?;
    changed(&admin, admin.people.reset_factors(operator, &username, now()).await?)
}

/// `POST /admin/v1/people/{username}/password/reset`: the person must choose a new password
/// (admins; operators of people without a console role).
async fn require_password_reset(State(admin): State<Arc<Admin>>, caller: Caller, PathParams(username): PathParams<String>) -> Answer {
    let operator = caller.may(Action::ResetCredentials)?;
    changed(&admin, admin.people.require_password_reset(operator, &username, now()).await?)
}

async fn grant(State(admin): State<Arc<Admin>>, caller: Caller, PathParams(username): PathParams<String>, JsonBody(new): JsonBody<NewRole>) -> Answer {
    let operator = caller.may(Action::Change)?;
    changed(&admin, admin.people.grant(&operator.actor, &username, new.role, now()).await?)
}

async fn revoke(State(admin): State<Arc<Admin>>, caller: Caller, PathParams(username): PathParams<String>) -> Answer {
    let operator = caller.may(Action::Change)?;
    changed(&admin, admin.people.revoke(&operator.actor, &username, now()).await?)
}
