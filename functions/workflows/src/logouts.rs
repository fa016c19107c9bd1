//! Ended bridge sessions from the table's stream: each session item deleted while it listed
//! OpenID Connect clients to tell (`logout_clients`) is told to them
//! (`shared::signin::openid_provider::backchannel`). A session moved to a new cookie is not
//! deleted (`adapters::dynamo::sessions`), and the TTL's deletions (`userIdentity` of the
//! DynamoDB service) are of sessions long over: neither tells anyone.
//!
//! A client that cannot be told is not a batch failure: each is tried once (and logged), so one
//! client that does not answer holds back none of the stream's other records.

use aws_lambda_events::event::dynamodb::EventRecord;
use serde_dynamo::AttributeValue;
use shared::signin::openid_provider::backchannel::{BackchannelLogout, Told};
use shared::signin::session::Session;

/// The session a record shows deleted with clients to tell, if it is one.
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
    let Some(AttributeValue::Ss(clients)) = image.get("logout_clients") else { return None };
    let mut session: Session =
        serde_json::from_str(text("data")?).inspect_err(|e| tracing::warn!(error = %e, "an ended session's record could not be read")).ok()?;
    session.logout_clients = clients.clone();
    Some(session)
}

/// Tells the clients of every session `records` show ended, one session after another; what
/// each client was told.
pub async fn tell(logouts: &BackchannelLogout, records: &[EventRecord], now: u64) -> Vec<Told> {
    let mut told = Vec::new();
    for session in records.iter().filter_map(ended_session) {
        told.extend(logouts.notify(&session, now).await);
    }
    told
}
