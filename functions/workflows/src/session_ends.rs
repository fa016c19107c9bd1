//! The session-ends Lambda: what follows a bridge session's end, for each session item the
//! table's stream shows deleted (its own event source mapping, beside the workflow runner's):
//!
//! 1. its `sid` is recorded as ended (`RefreshFamilies::mark_session_ended`): no refresh token
//!    of its sign-ins refreshes and no code it issued is exchanged from then on. The one step
//!    that must hold: a failure goes back to the stream (a batch item failure), which delivers
//!    the record again, and the records after it in the batch too;
//! 2. then, best-effort within the invocation's time: the refresh-token families of its
//!    sign-ins are revoked (so that lists of connected apps drop them), and the OpenID Connect
//!    clients it signed in to that registered a `backchannel_logout_uri` are posted a logout
//!    token (`openid_provider::backchannel`), each once per delivery: a client that fails is
//!    logged, not tried again. When a client's app or our signing key could not be read just
//!    then (the store unavailable or throttling), the record goes back to the stream as in 1.
//!    A record delivered again posts again to every client (at least once).
//!
//! A session moved to a new cookie is not deleted but marked (`adapters::dynamo::sessions`), and
//! the TTL's deletions (`userIdentity` of the DynamoDB service) are of sessions long over:
//! neither is an end. [`SESSIONS_AT_ONCE`] sessions are handled side by side; the second step
//! stops [`MARGIN`] before the invocation's deadline (what is left is logged).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use futures_util::stream::{self, StreamExt};
use serde_dynamo::AttributeValue;
use shared::adapters::cached_apps::CachedApps;
use shared::adapters::dynamo::apps::DynamoApps;
use shared::adapters::dynamo::keys::DynamoKeys;
use shared::adapters::dynamo::refresh_tokens::DynamoRefreshFamilies;
use shared::adapters::http::backchannel::HttpLogoutChannel;
use shared::adapters::workflow_runner::connection_secrets;
use shared::config::{ConfigError, Source, required};
use shared::signin::openid_provider::backchannel::{self, BackchannelLogout};
use shared::signin::ports::{RefreshFamilies, record_session_ended, revoke_families_of_sessions};
use shared::signin::session::Session;
use shared::tokens::signing_keys::{KEY_SET_CACHE, Signers};

/// How many ended sessions are handled side by side.
pub const SESSIONS_AT_ONCE: usize = 8;
/// The longest a post to a client takes (its connection within 2 s).
pub const POST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long before the invocation's deadline the work stops.
pub const MARGIN: Duration = Duration::from_secs(2);

/// What handling an ended session needs, built at cold start.
pub struct SessionEnds {
    pub families: Arc<dyn RefreshFamilies>,
    pub logouts: BackchannelLogout,
}

impl SessionEnds {
    /// From `TABLE_NAME` (families, apps, the key set) and `PUBLIC_API_URL` (the issuer; unset:
    /// no client is told); the signing keys from Secrets Manager.
    pub fn new(env: &impl Source, sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let table = required(env, "TABLE_NAME")?;
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let secrets = connection_secrets(aws_sdk_secretsmanager::Client::new(sdk), Duration::from_secs(300));
        let http = shared::adapters::http::client(Duration::from_secs(2), POST_TIMEOUT)
            .map_err(|e| ConfigError { variable: "(HTTPS client)".into(), problem: e.to_string() })?;
        let logouts = BackchannelLogout {
            apps: Arc::new(CachedApps::new(Arc::new(DynamoApps::new(dynamo.clone(), &table)), Duration::from_secs(60))),
            signers: Arc::new(Signers::new(Arc::new(DynamoKeys::new(dynamo.clone(), &table, Duration::from_secs(KEY_SET_CACHE))), secrets)),
            channel: Arc::new(HttpLogoutChannel::new(http)),
            issuer: shared::config::issuer(shared::config::public_api_url(env)?.as_ref()),
        };
        Ok(Self { families: Arc::new(DynamoRefreshFamilies::new(dynamo, &table)), logouts })
    }
}

/// The session a record shows ended, if it is one (see the module).
pub fn ended_session(record: &EventRecord) -> Option<Session> {
    let image = &record.change.old_image;
    let by_ttl = record.user_identity.as_ref().is_some_and(|u| u.type_ == "Service");
    let text = |name: &str| match image.get(name) {
        Some(AttributeValue::S(s)) => Some(s.as_str()),
        _ => None,
    };
    if record.event_name != "REMOVE" || by_ttl || !text("pk").is_some_and(|pk| pk.starts_with("SESSION#")) || image.contains_key("moved") {
        return None;
    }
    let mut session: Session =
        serde_json::from_str(text("data")?).inspect_err(|e| tracing::warn!(error = %e, "an ended session's record could not be read")).ok()?;
    if let Some(AttributeValue::Ss(clients)) = image.get("logout_clients") {
        session.logout_clients = clients.clone();
    }
    if let Some(AttributeValue::Ss(sids)) = image.get("carried_sids") {
        session.carried_sids = sids.clone();
    }
    Some(session)
}

/// A batch as Lambda delivers it (JSON) through [`handle`]; the answer as JSON.
pub async fn handle_json(ends: &SessionEnds, batch: &serde_json::Value, now: u64, deadline: Option<Instant>) -> Result<serde_json::Value, serde_json::Error> {
    let batch: Event = serde_json::from_value(batch.clone())?;
    serde_json::to_value(handle(ends, &batch, now, deadline).await)
}

/// One stream batch (see the module): the records whose session's end could not be recorded, or
/// was not begun before `deadline` less [`MARGIN`], as batch item failures.
pub async fn handle(ends: &SessionEnds, batch: &Event, now: u64, deadline: Option<Instant>) -> DynamoDbEventResponse {
    let sessions: Vec<(String, Session)> = batch.records.iter().filter_map(|r| Some((r.change.sequence_number.clone()?, ended_session(r)?))).collect();
    let out_of_time = deadline.is_some_and(|d| Instant::now() + MARGIN >= d);
    let marked: Vec<Result<(String, Session), String>> = if out_of_time {
        sessions.into_iter().map(|(sequence, _)| Err(sequence)).collect()
    } else {
        stream::iter(sessions).map(|(sequence, session)| mark(ends, sequence, session, now)).buffer_unordered(SESSIONS_AT_ONCE).collect().await
    };
    let (ended, back): (Vec<_>, Vec<_>) = marked.into_iter().partition(Result::is_ok);
    let followed = stream::iter(ended.into_iter().flatten())
        .map(|(sequence, session)| follow(ends, sequence, session, now))
        .buffer_unordered(SESSIONS_AT_ONCE)
        .collect::<Vec<Option<String>>>();
    let again = match deadline {
        Some(d) => match tokio::time::timeout_at(tokio::time::Instant::from_std(d.checked_sub(MARGIN).unwrap_or(d)), followed).await {
            Ok(again) => again,
            Err(_) => {
                tracing::warn!("the invocation's time ran out before every ended session's clients were told");
                Vec::new()
            }
        },
        None => followed.await,
    };
    let mut response = DynamoDbEventResponse::default();
    for sequence in back.into_iter().filter_map(Result::err).chain(again.into_iter().flatten()) {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(sequence);
        response.batch_item_failures.push(failure);
    }
    response
}

/// Records `session`'s end: its `sid` and those carried into it (a session from before sessions
/// had one has none to record); its record's `sequence` when that fails.
async fn mark(ends: &SessionEnds, sequence: String, session: Session, now: u64) -> Result<(String, Session), String> {
    match record_session_ended(ends.families.as_ref(), &session, now).await {
        Ok(()) => Ok((sequence, session)),
        Err(error) => {
            tracing::warn!(%error, "an ended session's end could not be recorded; the stream will deliver it again");
            Err(sequence)
        }
    }
}

/// Revokes `session`'s families and tells its clients, best-effort (failures are logged); its
/// record's `sequence` when a client is worth telling again (`backchannel::worth_again`).
async fn follow(ends: &SessionEnds, sequence: String, session: Session, now: u64) -> Option<String> {
    let sids: Vec<&str> = session.sids().collect();
    if let Err(error) = revoke_families_of_sessions(ends.families.as_ref(), &session.username, &sids).await {
        tracing::warn!(%error, "an ended session's refresh-token families could not be revoked (its end, recorded, refuses them)");
    }
    let told = ends.logouts.notify(&session, now).await;
    backchannel::worth_again(&told).then(|| {
        tracing::warn!("a client's app or our key could not be read; the stream will deliver the ended session again");
        sequence
    })
}
