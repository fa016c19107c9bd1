//! The session-ends Lambda: what follows a bridge session's end, for each session item the
//! table's stream shows deleted (its own event source mapping, beside the workflow runner's):
//!
//! 1. its `sid` is recorded as ended and the refresh tokens of the sign-ins made in it are
//!    revoked (`RefreshFamilies::end_session`): a failure here goes back to the stream (a batch
//!    item failure), which delivers it again;
//! 2. the OpenID Connect clients it signed in to that registered a `backchannel_logout_uri` are
//!    posted a logout token (`openid_provider::backchannel`): each once, a client that fails is
//!    logged, not tried again.
//!
//! A session moved to a new cookie is not deleted but marked (`adapters::dynamo::sessions`), and
//! the TTL's deletions (`userIdentity` of the DynamoDB service) are of sessions long over:
//! neither is an end. Sessions run [`SESSIONS_AT_ONCE`] at a time; one is begun only while a
//! post's time ([`POST_TIMEOUT`]) still fits before the invocation's deadline, the rest go back
//! to the stream.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use futures_util::stream::{self, StreamExt};
use serde_dynamo::AttributeValue;
use shared::adapters::dynamo::apps::DynamoApps;
use shared::adapters::dynamo::keys::DynamoKeys;
use shared::adapters::dynamo::refresh_tokens::DynamoRefreshFamilies;
use shared::adapters::http::backchannel::HttpLogoutChannel;
use shared::adapters::workflow_runner::connection_secrets;
use shared::config::{ConfigError, Source, required};
use shared::signin::openid_provider::backchannel::BackchannelLogout;
use shared::signin::ports::RefreshFamilies;
use shared::signin::session::Session;
use shared::tokens::signing_keys::{KEY_SET_CACHE, Signers};
use shared::tokens::targets::oidc::MAX_REFRESH_LIFETIME;

/// How many ended sessions are handled side by side.
pub const SESSIONS_AT_ONCE: usize = 8;
/// The longest a post to a client takes (its connection within 2 s).
pub const POST_TIMEOUT: Duration = Duration::from_secs(5);

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
            apps: Arc::new(DynamoApps::new(dynamo.clone(), &table)),
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
    Some(session)
}

/// A batch as Lambda delivers it (JSON) through [`handle`]; the answer as JSON.
pub async fn handle_json(ends: &SessionEnds, batch: &serde_json::Value, now: u64, deadline: Option<Instant>) -> Result<serde_json::Value, serde_json::Error> {
    let batch: Event = serde_json::from_value(batch.clone())?;
    serde_json::to_value(handle(ends, &batch, now, deadline).await)
}

/// One stream batch: every ended session handled (see the module); those whose refresh tokens
/// could not be ended, or not begun before `deadline`, as batch item failures.
pub async fn handle(ends: &SessionEnds, batch: &Event, now: u64, deadline: Option<Instant>) -> DynamoDbEventResponse {
    let sessions: Vec<(String, Session)> = batch.records.iter().filter_map(|r| Some((r.change.sequence_number.clone()?, ended_session(r)?))).collect();
    let back: Vec<Option<String>> =
        stream::iter(sessions).map(|(sequence, session)| end(ends, sequence, session, now, deadline)).buffer_unordered(SESSIONS_AT_ONCE).collect().await;
    let mut response = DynamoDbEventResponse::default();
    for sequence in back.into_iter().flatten() {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(sequence);
        response.batch_item_failures.push(failure);
    }
    response
}

/// One ended session handled (see the module); its record's `sequence` when it goes back to the
/// stream.
async fn end(ends: &SessionEnds, sequence: String, session: Session, now: u64, deadline: Option<Instant>) -> Option<String> {
    if deadline.is_some_and(|d| Instant::now() + POST_TIMEOUT + Duration::from_secs(1) >= d) {
        return Some(sequence);
    }
    if let Some(sid) = &session.sid
        && let Err(error) = ends.families.end_session(&session.username, sid, now + MAX_REFRESH_LIFETIME).await
    {
        tracing::warn!(%error, "an ended session's refresh tokens could not be ended; the stream will deliver it again");
        return Some(sequence);
    }
    ends.logouts.notify(&session, now).await;
    None
}
