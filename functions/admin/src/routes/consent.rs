//! `/admin/v1/consent`: the documents people accept (terms, privacy policy) and the optional
//! consents they may give (marketing): list every published version, publish the next one
//! (admin only), everyone's decisions about one version a page at a time (the export: admin
//! only, each page audited), and one person's decisions (`/admin/v1/people/{username}/consents`).
//! Published versions are never changed or removed.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use crate::state::Admin;
use crate::web::{Answer, Caller, IfMatch, JsonBody, PathParams, Problem, ResourceId, with_etag};
use shared::admin::AdminError;
use shared::admin::consent::Draft;
use shared::admin::role::Action;
use shared::consent::document::{DocumentId, Localized};

pub fn routes() -> Router<Arc<Admin>> {
    Router::new()
        .route("/admin/v1/consent", get(list))
        .route("/admin/v1/consent/{document}", post(publish))
        .route("/admin/v1/consent/{document}/versions/{version}/records", get(records))
        .route("/admin/v1/people/{username}/consents", get(of_person))
}

/// A new version as the console sends it; its number is `If-Match` plus one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewVersion {
    /// `None`: as the version before (a new document: optional).
    #[serde(default)]
    required: Option<bool>,
    title: Texts,
    url: Texts,
}

/// A text per language as the API takes it: both, nothing else (the stored [`Localized`] stays
/// lenient, so an item written by a later version with another language still reads).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Texts {
    ja: String,
    en: String,
}

impl From<Texts> for Localized {
    fn from(texts: Texts) -> Self {
        Self { ja: texts.ja, en: texts.en }
    }
}

/// `GET /admin/v1/consent`: `{"documents": [...]}`, every published version, each document's
/// oldest first.
async fn list(State(admin): State<Arc<Admin>>, caller: Caller) -> Answer {
    caller.may(Action::Read)?;
    Ok(axum::Json(json!({"documents": admin.consent.list().await?})).into_response())
}

/// `POST /admin/v1/consent/{document}` with `If-Match: "{current version}"` (`"0"` for a new
/// document): `201` with the version published and its `ETag`; `412` when another was published
/// since, `400` for a title or URL the document refuses.
async fn publish(
    State(admin): State<Arc<Admin>>,
    caller: Caller,
    ResourceId(id): ResourceId<DocumentId>,
    if_match: IfMatch,
    JsonBody(new): JsonBody<NewVersion>,
) -> Answer {
    let operator = caller.may(Action::Change)?;
    let mut draft = Draft { id, version: None, required: new.required, title: new.title.into(), url: new.url.into() };
    // A bad draft is a 400 whatever If-Match says.
    draft.check()?;
    let version = u32::try_from(if_match.version()?).ok().and_then(|v| v.checked_add(1));
    draft.version =
        Some(version.ok_or_else(|| Problem::new(StatusCode::PRECONDITION_FAILED, "precondition_failed", "If-Match is not a version this API gave"))?);
    let doc = admin.consent.publish(&operator.actor, draft, crate::web::now()).await?;
    Ok(with_etag(StatusCode::CREATED, u64::from(doc.version), json!(doc)))
}

/// `?cursor=&limit=` of a version's records.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    #[serde(default)]
    cursor: Option<String>,
    /// None: 200.
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /admin/v1/consent/{document}/versions/{version}/records?cursor=&limit=`: `{"records",
/// "next_cursor"}`, everyone's decisions about that version, oldest first, `limit` (1 to 1,000;
/// 200) at a time; admins only, each page audited; `404` for a version never published.
async fn records(
    State(admin): State<Arc<Admin>>,
    caller: Caller,
    PathParams((document, version)): PathParams<(String, u32)>,
    query: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let operator = caller.may(Action::ExportPersonalData)?;
    let document = DocumentId::parse(&document).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let Ok(Query(page)) = query else {
        return Err(AdminError::Invalid("the query parameters are cursor and limit".into()).into());
    };
    let page = admin.consent.records(&operator.actor, &document, version, page.cursor.as_deref(), page.limit.unwrap_or(200), crate::web::now()).await?;
    Ok(axum::Json(page).into_response())
}

/// `GET /admin/v1/people/{username}/consents`: the person's decisions, oldest first, and where
/// they stand with each current document; `404` for a user name no one has. The path may name
/// the person by their email alias, as the other people routes do: the records are read by the
/// Cognito user name (again, when the alias was not it). Where each decision was made from
/// (address, user agent) is shown only to those who may export personal data (admins).
async fn of_person(State(admin): State<Arc<Admin>>, caller: Caller, PathParams(username): PathParams<String>) -> Answer {
    let operator = caller.may(Action::Read)?;
    shared::admin::people::check_username(&username)?;
    let (account, consents) = tokio::join!(admin.people.directory.user(&username), admin.consent.of_username(username.clone()));
    let Some(account) = account.map_err(AdminError::from)? else {
        return Err(AdminError::NotFound(format!("a person with the user name {username}")).into());
    };
    let mut consents = if account.username == username { consents? } else { admin.consent.of_username(account.username).await? };
    if !operator.role.may(Action::ExportPersonalData) {
        consents.records.iter_mut().for_each(|r| (r.ip, r.user_agent) = (None, None));
    }
    Ok(axum::Json(consents).into_response())
}
