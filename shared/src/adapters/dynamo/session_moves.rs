//! Bridge sessions that move, in the bridge's table: to a new cookie (`SessionStore::rotate`), or
//! into the browser's new session (`SessionStore::carry`), and an OpenID Connect client recorded
//! on a session that may have just moved (`SessionStore::add_logout_client`). The sessions' other
//! reads and writes, and the items' layout, are in `sessions`.
//!
//! A moved item keeps `moved_to`, the key of the session it went to (the digest of a cookie, which
//! opens nothing), for as long as a sign-in begun before the move can take ([`MOVED_KEPT`]). A
//! write that comes after the move follows it (at most three moves): a client recorded by an
//! entry that read the session just before it moved, or a carry from a form opened in the same
//! browser before its session changed (two tabs both signing in afresh). A carry follows a move
//! only to a session of the carrying browser's device: a form opened with a copied cookie never
//! reaches the session a password change moved away from it.
//!
//! A move is conditioned on the clients and `sid`s it read (string sets that only grow while the
//! session lives: their sizes pin them) and made again from a new read when one was added
//! meanwhile, so a client recorded between the read and the move goes along.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::sessions::{DynamoSessions, not_revoked, session_item, session_key, stored_session};
use super::{Item, Table, TxError, n, number, s, transaction_conflict};
use crate::common::store::StoreError;
use crate::signin::service::{CHALLENGE_TTL, CONTEXT_TTL};
use crate::signin::session::Session;

/// The most `sid`s a session carries from the browser's earlier ones: an earlier session carrying
/// this many ends instead (its clients told), so that repeated fresh sign-ins cannot grow an
/// item without bound.
const MAX_CARRIED: usize = 16;

/// How many times a move is tried, and one more than the moves a later write follows.
const MAX_TRIES: usize = 4;

/// How long a moved item is kept after its move (seconds): a sign-in's form and its steps, begun
/// before the move, may still carry from it.
const MOVED_KEPT: u64 = CONTEXT_TTL + CHALLENGE_TTL;

/// A session's item as a move or a later write finds it.
enum Held {
    Live(Box<Session>),
    /// Moved to the session of that key.
    MovedTo(String),
    /// Ended, or moved before moves kept where to, or longer ago than [`MOVED_KEPT`].
    Gone,
}

impl DynamoSessions {
    async fn held(&self, key_digest: &str) -> Result<Held, StoreError> {
        let Some(item) = self.table.get_consistent(session_key(key_digest)).await? else { return Ok(Held::Gone) };
        if !item.contains_key("moved") {
            return stored_session(&item).map(|session| Held::Live(Box::new(session)));
        }
        // The TTL deletes an expired item late: it is gone from its expiry.
        if number(&item, "expires_at").is_none_or(|at| at <= crate::common::time::unix_now()) {
            return Ok(Held::Gone);
        }
        Ok(item.get("moved_to").and_then(|v| v.as_s().ok()).map_or(Held::Gone, |to| Held::MovedTo(to.clone())))
    }

    /// [`SessionStore::rotate`](crate::signin::ports::SessionStore::rotate): one transaction
    /// (the old item marked moved, the new one written, the revocation's check), made again with
    /// the clients and `sid`s read anew when one was recorded on `old` since `session` was read.
    pub(super) async fn move_to(&self, old: &str, new: &str, session: &Session) -> Result<bool, StoreError> {
        let t = &self.table;
        let mut session = session.clone();
        for _ in 0..MAX_TRIES {
            let items = vec![
                moved(t, old, new, session.last_seen, &session)?,
                t.put(session_item(new, &session)?, "attribute_not_exists(pk)", None)?,
                not_revoked(t, &session.username, session.created)?,
            ];
            match t.transact(items).await {
                Ok(()) => return Ok(true),
                // Ended or moved (`false`), or a client or `sid` was recorded since the read (or
                // was being recorded: a conflict).
                Err(e) if matches!(e, TxError::Condition(0)) || e.conflicted() => match self.held(old).await? {
                    Held::Live(now) => (session.logout_clients, session.carried_sids) = (now.logout_clients, now.carried_sids),
                    Held::MovedTo(_) | Held::Gone => return Ok(false),
                },
                Err(TxError::Condition(2)) => return Err(StoreError::Conflict),
                Err(TxError::Condition(i)) => return Err(StoreError::Corrupt(format!("a session's move refused by its item {i}'s condition"))),
                Err(TxError::Store(e)) => return Err(e),
            }
        }
        Err(StoreError::Unavailable("a session's clients kept changing while it moved".into()))
    }

    /// [`SessionStore::carry`](crate::signin::ports::SessionStore::carry), following `old`'s
    /// moves to sessions of `device` only.
    pub(super) async fn carry_into(&self, old: &str, new: &str, username: &str, device: Option<&str>) -> Result<(), StoreError> {
        let t = &self.table;
        let mut at = old.to_owned();
        for _ in 0..MAX_TRIES {
            let earlier = match self.held(&at).await? {
                Held::Live(earlier) => *earlier,
                Held::MovedTo(next) if next != new => {
                    at = next;
                    continue;
                }
                Held::MovedTo(_) | Held::Gone => return Ok(()),
            };
            if at != old && (device.is_none() || earlier.device.as_deref() != device) {
                tracing::info!("nothing carried: the earlier session moved to another browser's");
                return Ok(());
            }
            // Another person's (the browser switched accounts), or one carrying too much already:
            // it ends (told), conditioned on its still being that person's.
            if earlier.username != username || earlier.carried_sids.len() >= MAX_CARRIED {
                return self.take_of(session_key(&at), Some(&earlier.username)).await.map(drop);
            }
            let mut items = vec![moved(t, &at, new, crate::common::time::unix_now(), &earlier)?];
            let clients: Vec<String> = earlier.carried_entries().collect();
            let sids: Vec<String> = earlier.sids().map(str::to_owned).collect();
            let adds: Vec<(&str, &str, Vec<String>)> =
                [("logout_clients", ":clients", clients), ("carried_sids", ":sids", sids)].into_iter().filter(|(_, _, set)| !set.is_empty()).collect();
            if !adds.is_empty() {
                let update = format!("ADD {}", adds.iter().map(|(name, value, _)| format!("{name} {value}")).collect::<Vec<_>>().join(", "));
                let values = adds.into_iter().map(|(_, value, set)| (value.to_owned(), AttributeValue::Ss(set))).collect();
                items.push(t.update(session_key(new), &update, "attribute_exists(pk) AND attribute_not_exists(moved)", values)?);
            }
            match t.transact(items).await {
                Ok(()) => return Ok(()),
                // The earlier one moved, ended or gained a client or `sid` meanwhile (or was
                // gaining one: a conflict): read again.
                Err(e) if matches!(e, TxError::Condition(0)) || e.conflicted() => {}
                Err(TxError::Condition(_)) => {
                    tracing::info!("nothing carried: the new session moved or ended meanwhile");
                    return Ok(());
                }
                Err(TxError::Store(e)) => return Err(e),
            }
        }
        tracing::warn!("nothing carried: the earlier session kept changing");
        Ok(())
    }

    /// [`SessionStore::add_logout_client`](crate::signin::ports::SessionStore::add_logout_client):
    /// on the session `key`, the client alone (it knows that session's `sid`); on a session it has
    /// moved to since, the client and `sid`.
    pub(super) async fn record_client(&self, key: &str, client_id: &str, sid: &str) -> Result<(), StoreError> {
        let mut at = key.to_owned();
        for _ in 0..MAX_TRIES {
            let entry = if at == key { client_id.to_owned() } else { format!("{client_id} {sid}") };
            let values = Item::from([(":client".to_owned(), AttributeValue::Ss(vec![entry]))]);
            let live = "attribute_exists(pk) AND attribute_not_exists(moved)";
            match self.table.update_if(session_key(&at), "ADD logout_clients :client", live, Some(values)).await {
                Ok(true) => return Ok(()),
                // Ended or moved meanwhile, or a move's transaction was writing it just then.
                Ok(false) => {}
                Err(e) if transaction_conflict(&e) => {}
                Err(e) => return Err(e),
            }
            match self.held(&at).await? {
                Held::MovedTo(next) => at = next,
                // Still there: the conflict's transaction was not a move. Again.
                Held::Live(_) => {}
                Held::Gone => return Ok(()),
            }
        }
        Ok(())
    }
}

/// The write that marks the session `old`, read as `read`, moved to `to` at `at`: out of `gsi1`,
/// read as a session by nothing, its clients and `sid`s gone with its move (not told: the
/// session goes on), kept [`MOVED_KEPT`]; only while its clients and `sid`s are those of `read`.
fn moved(t: &Table, old: &str, to: &str, at: u64, read: &Session) -> Result<TransactWriteItem, StoreError> {
    let update = "SET moved = :now, moved_to = :to, expires_at = :kept REMOVE gsi1pk, gsi1sk, handoff, logout_clients, carried_sids";
    let mut condition = "attribute_exists(pk) AND attribute_not_exists(moved)".to_owned();
    let mut values = Item::from([(":now".to_owned(), n(at)), (":to".to_owned(), s(to)), (":kept".to_owned(), n(at + MOVED_KEPT))]);
    for (name, set) in [("logout_clients", &read.logout_clients), ("carried_sids", &read.carried_sids)] {
        if set.is_empty() {
            condition.push_str(&format!(" AND attribute_not_exists({name})"));
        } else {
            condition.push_str(&format!(" AND size({name}) = :{name}"));
            values.insert(format!(":{name}"), n(set.len() as u64));
        }
    }
    t.update(session_key(old), update, &condition, values)
}
