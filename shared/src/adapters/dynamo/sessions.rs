//! Bridge sessions, pending corporate sign-ins and identity links in the bridge's table (the latter two's ports are kept in `corporate_links`).
//!
//! | item             | `pk`                          | `sk`      | `gsi1pk`              | `gsi1sk`    | other attributes                |
//! |------------------|-------------------------------|-----------|-----------------------|-------------|---------------------------------|
//! | session          | `SESSION#{digest of cookie}`  | `SESSION` | `USERSESSIONS#{user}` | `{created}` | `data` (JSON), `expires_at`, `handoff` (until redeemed), `logout_clients` (string set) |
//! | moved session    | `SESSION#{digest of old cookie}` | `SESSION` |                  |             | `data`, `moved` (when), `moved_to` (the new key), `expires_at` (see `session_moves`) |
//! | pending sign-in  | `OIDCSTATE#{digest of state}` | `STATE`   |                       |             | `data` (JSON: the sign-in context, the digest of its binding cookie, `expires_at`), `expires_at` |
//! | last sign-in     | see `adapters::activity`      |           |                       |             |                                 |
//! | identity link    | `IDLINK#{org}`                | `{digest of issuer}#{subject}` | |           | `username`, `issuer`            |
//! | revocation       | `REVOKED#{digest of user}`    | `REVOKED` |                       |             | `revoked_at`, `expires_at`      |
//! | sign-ins' hold   | `HELD#{digest of user}`       | `HELD`    |                       |             | `held_until`, `held_by`, `expires_at` |
//!
//! A session is created in one transaction with its sign-in event (`adapters::dynamo_workflows`)
//! and the person's last sign-in (`adapters::activity`), under a check that the person's account
//! was not revoked (disabled or deleted) after the session's stamp or within `REVOCATION_WINDOW`
//! before it, and that no hold refuses its sign-in (`SessionStore::hold`). Access patterns: a
//! session by cookie, beside the revocation of the user the cookie names (`BatchGetItem`: every
//! single sign-on; a session the revocation's sweep missed, `gsi1` being eventually consistent,
//! is refused there); a user's sessions (`gsi1`: deactivation ends them all); a pending sign-in
//! taken once (`DeleteItem` returning the old item: two callbacks with one `state` cannot both
//! get it); the Cognito user for a
//! provider's subject (`GetItem`). Sessions and pending sign-ins carry `expires_at` (the table's
//! TTL attribute); the code checks expiry itself too, since TTL deletion is lazy. Only digests of
//! bearer values are stored: a table read never yields a working cookie or `state`.
//!
//! A session that ends is deleted, and only then: the table's stream shows each deletion of a
//! session item, which the session-ends function follows (its refresh tokens end, the clients in
//! its `logout_clients` are told: `openid_provider::backchannel`). So a session moved to a new
//! cookie (`rotate`) or into the browser's new one (`carry`) leaves its old item marked `moved`
//! (out of `gsi1`, read as a session by nothing: `session_moves`), rather than deleted; the TTL's
//! deletions are not ends either.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem};
use futures_util::stream::{self, StreamExt};

use crate::adapters::aws::Failure;
use crate::adapters::dynamo::activity::activity_put;
use crate::adapters::dynamo::outbox::event_put;
use crate::adapters::dynamo::{Item, Table, TxError, corrupt, data, key, n, number, query_gsi1, s, transaction_conflict, write_error};
use crate::common::store::StoreError;
use crate::events::IdentityEvent;
use crate::risk::RiskProfile;
use crate::signin::ports::SessionStore;
use crate::signin::session::{self, ENDING_AT_ONCE, Found, MAX_SESSION_TTL, REVOCATION_WINDOW, Session};
use crate::workflows::inactivity::LastSignIn;

pub struct DynamoSessions {
    pub(super) table: Table,
}

impl DynamoSessions {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }

    pub(super) async fn take(&self, key: Item) -> Result<Option<Item>, StoreError> {
        self.take_of(key, None).await
    }

    /// Deletes the item `key` (with `owner`, only if its `gsi1pk` is that user's sessions'
    /// partition); the item, or `None` when there was none or it is another's.
    pub(super) async fn take_of(&self, key: Item, owner: Option<&str>) -> Result<Option<Item>, StoreError> {
        let t = &self.table;
        let mut call = t.client.delete_item().table_name(&t.name).set_key(Some(key)).return_values(ReturnValue::AllOld);
        if let Some(owner) = owner {
            call = call.condition_expression("gsi1pk = :owner").expression_attribute_values(":owner", s(format!("USERSESSIONS#{owner}")));
        }
        match call.send().await.map_err(|e| write_error(Failure::of(&e))) {
            Ok(out) => Ok(out.attributes),
            Err(StoreError::Conflict) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

pub(super) fn session_key(key_digest: &str) -> Item {
    key(format!("SESSION#{key_digest}"), "SESSION")
}

/// A session's item: under the digest of its cookie, in its user's partition of `gsi1`, its
/// handoff pending while `session.handoff`.
pub(super) fn session_item(key_digest: &str, session: &Session) -> Result<Item, StoreError> {
    let mut item = session_key(key_digest);
    item.insert("gsi1pk".into(), s(format!("USERSESSIONS#{}", session.username)));
    item.insert("gsi1sk".into(), s(format!("{:012}", session.created)));
    item.insert("data".into(), s(json(session)?));
    item.insert("expires_at".into(), n(session.expires_at));
    if session.handoff {
        item.insert("handoff".into(), n(1));
    }
    for (name, set) in [("logout_clients", &session.logout_clients), ("carried_sids", &session.carried_sids)] {
        if !set.is_empty() {
            item.insert(name.into(), AttributeValue::Ss(set.clone()));
        }
    }
    Ok(item)
}

fn sort_key(item: &Item) -> Option<&str> {
    item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// A session item's session, with its last use (kept beside it by `touch`) and the clients to
/// tell of its end.
pub(super) fn stored_session(item: &Item) -> Result<Session, StoreError> {
    let mut session: Session = data(item, "session")?;
    if session.authenticated == 0 {
        session.authenticated = session.created;
    }
    if let Some(seen) = number(item, "last_seen") {
        session.last_seen = seen;
    }
    if let Some(AttributeValue::Ss(clients)) = item.get("logout_clients") {
        session.logout_clients = clients.clone();
    }
    if let Some(AttributeValue::Ss(sids)) = item.get("carried_sids") {
        session.carried_sids = sids.clone();
    }
    Ok(session)
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt)
}

#[async_trait]
impl SessionStore for DynamoSessions {
    /// One transaction: the session, the sign-in's events and the person's last sign-in.
    async fn create(&self, key_digest: &str, session: &Session, events: &[IdentityEvent], risk: &RiskProfile) -> Result<(), StoreError> {
        let item = session_item(key_digest, session)?;
        let t = &self.table;
        let user = events.first().map(|e| e.user.clone()).unwrap_or_default();
        let person = LastSignIn {
            username: session.username.clone(),
            sub: user.sub,
            email: user.email.filter(|_| user.email_verified == Some(true)),
            at: session.created,
        };
        let mut items = vec![t.put(item, "attribute_not_exists(pk)", None)?, not_revoked(t, &session.username, session.created)?, not_held(t, session)?];
        items.extend(activity_put(t, &person, risk)?);
        for event in events {
            items.push(event_put(t, event)?);
        }
        t.transact(items).await.map_err(|e| match e {
            // The revocation's check (index 1): the account was disabled or deleted meanwhile;
            // the hold's (index 2): its credentials changed since the sign-in (or are changing).
            TxError::Condition(1 | 2) => StoreError::Conflict,
            TxError::Condition(i) => StoreError::Corrupt(format!("a session's write refused by its item {i}'s condition")),
            TxError::Store(e) => e,
        })
    }

    async fn rotate(&self, old: &str, new: &str, session: &Session) -> Result<bool, StoreError> {
        self.move_to(old, new, session).await
    }

    async fn get(&self, key_digest: &str, user_key: &str) -> Result<Option<Found>, StoreError> {
        let items = self.table.batch_get(vec![session_key(key_digest), revocation_key_of(user_key)]).await?;
        let Some(item) = items.iter().find(|item| sort_key(item) == Some("SESSION") && !item.contains_key("moved")) else { return Ok(None) };
        let session = stored_session(item)?;
        if session::user_key(&session.username) != user_key {
            return Ok(None);
        }
        let revoked_at = items.iter().find(|item| sort_key(item) == Some("REVOKED")).and_then(|item| number(item, "revoked_at"));
        if revoked_at.is_some_and(|at| session.revoked_by(at)) {
            // Ended here (or, unused, by `reinstate`), so that enabling the account again does
            // not bring it back. Of reads at once, the one that ended it finds it refused.
            return match self.take(session_key(key_digest)).await {
                Ok(None) => Ok(None),
                Ok(Some(_)) => Ok(Some(Found::Revoked(session))),
                Err(error) => {
                    tracing::warn!(%error, "could not end a session its account's revocation refuses");
                    Ok(Some(Found::Revoked(session)))
                }
            };
        }
        Ok(Some(Found::Kept(session)))
    }

    async fn touch(&self, key_digest: &str, now: u64) -> Result<(), StoreError> {
        // Ended meanwhile: nothing to record. A move's transaction writing it just then: the next
        // use records it.
        match self
            .table
            .update_if(session_key(key_digest), "SET last_seen = :now", "attribute_exists(pk)", Some(Item::from([(":now".to_owned(), n(now))])))
            .await
        {
            Err(e) if !transaction_conflict(&e) => Err(e),
            _ => Ok(()),
        }
    }

    async fn redeem(&self, key_digest: &str) -> Result<bool, StoreError> {
        // `false`: redeemed before, or no such session.
        self.table.update_if(session_key(key_digest), "REMOVE handoff", "attribute_exists(handoff)", None).await
    }

    async fn end(&self, key_digest: &str) -> Result<Option<Session>, StoreError> {
        self.take(session_key(key_digest)).await?.filter(|item| !item.contains_key("moved")).map(|item| stored_session(&item)).transpose()
    }

    async fn end_of(&self, username: &str, key_digest: &str) -> Result<Option<Session>, StoreError> {
        self.take_of(session_key(key_digest), Some(username)).await?.map(|item| stored_session(&item)).transpose()
    }

    async fn carry(&self, old: &str, new: &str, username: &str, device: Option<&str>) -> Result<(), StoreError> {
        self.carry_into(old, new, username, device).await
    }

    async fn discard(&self, key_digest: &str) -> Result<Option<Session>, StoreError> {
        self.table.update_if(session_key(key_digest), "REMOVE logout_clients", "attribute_exists(pk)", None).await?;
        SessionStore::end(self, key_digest).await
    }

    async fn add_logout_client(&self, key_digest: &str, client_id: &str, sid: &str) -> Result<(), StoreError> {
        self.record_client(key_digest, client_id, sid).await
    }

    async fn of_user(&self, username: &str) -> Result<Vec<(String, Session)>, StoreError> {
        let items = query_gsi1(&self.table.client, &self.table.name, &format!("USERSESSIONS#{username}")).await?;
        let of = |item: &Item| -> Result<(String, Session), StoreError> {
            let pk = item.get("pk").and_then(|v| v.as_s().ok()).ok_or_else(|| corrupt("a session without pk"))?;
            Ok((pk.trim_start_matches("SESSION#").to_owned(), stored_session(item)?))
        };
        items.iter().map(of).collect()
    }

    async fn mark_signed_out(&self, username: &str, at: u64) -> Result<(), StoreError> {
        // Kept as long as a token it refuses can live (a console token, an OpenID Connect
        // client's refresh token); never moved back by a slower, earlier one (`false`: a later one
        // stands).
        let longest = crate::tokens::signing_keys::MAX_TOKEN_LIFETIME.max(crate::tokens::targets::oidc::MAX_REFRESH_LIFETIME);
        let values = Item::from([(":at".to_owned(), n(at)), (":expires".to_owned(), n(at + longest + 60))]);
        let condition = "attribute_not_exists(not_before) OR not_before < :at";
        self.table.update_if(sign_out_mark_key(username), "SET not_before = :at, expires_at = :expires", condition, Some(values)).await.map(|_| ())
    }

    async fn end_all(&self, username: &str, now: u64) -> Result<usize, StoreError> {
        let sweep = async {
            let items = query_gsi1(&self.table.client, &self.table.name, &format!("USERSESSIONS#{username}")).await?;
            // Side by side, [`ENDING_AT_ONCE`] at a time: a person with thousands of sessions (one
            // per sign-in, which someone holding the password can make) is still signed out within
            // the request's time. Every deletion is tried; the first failure is returned.
            let keys: Vec<Item> =
                items.iter().map(|item| item.iter().filter(|(k, _)| *k == "pk" || *k == "sk").map(|(k, v)| (k.clone(), v.clone())).collect()).collect();
            let ended: Vec<_> = stream::iter(keys).map(|key| self.take(key)).buffer_unordered(ENDING_AT_ONCE).collect().await;
            ended.into_iter().find_map(Result::err).map_or(Ok(items.len()), Err)
        };
        let (ended, console) = tokio::join!(sweep, SessionStore::mark_signed_out(self, username, now));
        console?;
        ended
    }

    async fn revoke(&self, username: &str, now: u64) -> Result<usize, StoreError> {
        // First the mark, then the sweep: a session written after the mark is refused, one
        // written before it is swept. Stamped no earlier than this clock's now (the caller's may
        // be its request's, read a while ago).
        let at = now.max(crate::common::time::unix_now());
        let mut mark = revocation_key(username);
        mark.insert("revoked_at".into(), n(at));
        // Kept as long as a session it refuses can live.
        mark.insert("expires_at".into(), n(at + MAX_SESSION_TTL + REVOCATION_WINDOW));
        self.table.put_item(mark, None, None).await?;
        SessionStore::end_all(self, username, at).await
    }

    async fn reinstate(&self, username: &str, since: u64) -> Result<(), StoreError> {
        let Some(revoked_at) = self.table.get_consistent(revocation_key(username)).await?.and_then(|item| number(&item, "revoked_at")) else {
            return Ok(());
        };
        // A revocation made after the enabling began (to the second) stays. So does one whose
        // window has passed: it refuses no new session, and goes on refusing the sessions it
        // covers that its sweep missed, until it expires.
        if revoked_at > since || since > revoked_at + REVOCATION_WINDOW {
            return Ok(());
        }
        // Enabled within the window: the record goes, so that the person signs in at once, after
        // the sessions it refuses that are still kept (otherwise a missed one would come back).
        // If that sweep fails, the record stays: sign-ins wait for the window's end instead.
        let swept = async {
            for (key, session) in SessionStore::of_user(self, username).await? {
                if session.revoked_by(revoked_at) {
                    self.take(session_key(&key)).await?;
                }
            }
            Ok::<(), StoreError>(())
        };
        if let Err(error) = swept.await {
            tracing::warn!(%error, "could not end the sessions of an account enabled again; its revocation stays for its window");
            return Ok(());
        }
        let values = Item::from([(":since".to_owned(), n(since))]);
        self.table.delete_if(revocation_key(username), "attribute_not_exists(revoked_at) OR revoked_at <= :since", Some(values)).await.map(drop)
    }

    async fn hold(&self, username: &str, holder: &str, until: u64, now: u64) -> Result<bool, StoreError> {
        let values = Item::from([(":now".into(), n(now)), (":holder".into(), s(holder))]);
        let condition = "attribute_not_exists(pk) OR held_until < :now OR held_by = :holder";
        match self.table.put_item(held(username, holder, until), Some(condition), Some(values)).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn held(&self, session: &Session) -> Result<bool, StoreError> {
        let Some(item) = self.table.get_consistent(held_key(&session.username)).await? else { return Ok(false) };
        let by = item.get("held_by").and_then(|v| v.as_s().ok());
        Ok(number(&item, "held_until").is_some_and(|until| until >= session.authenticated) && by != session.claim.as_ref())
    }

    async fn settle(&self, username: &str, holder: &str, until: u64) -> Result<(), StoreError> {
        self.table.put_item(held(username, holder, until), None, None).await
    }

    async fn release(&self, username: &str, holder: &str) -> Result<(), StoreError> {
        // Another's hold since: it stays.
        self.table.delete_if(held_key(username), "held_by = :holder", Some(Item::from([(":holder".to_owned(), s(holder))]))).await.map(drop)
    }
}

/// The record of the hold on user `username`'s sign-ins ([`SessionStore::hold`]).
fn held_key(username: &str) -> Item {
    key(format!("HELD#{}", session::user_key(username)), "HELD")
}

/// `holder`'s hold on `username` until `until`, kept a day longer (its sign-ins' tokens last an
/// hour at most).
fn held(username: &str, holder: &str, until: u64) -> Item {
    let mut item = held_key(username);
    item.insert("held_until".into(), n(until));
    item.insert("held_by".into(), s(holder));
    item.insert("expires_at".into(), n(until.saturating_add(86_400)));
    item
}

/// The condition `session` is written under: no hold refuses its sign-in (authenticated at
/// `session.authenticated`), unless it is the holder's own.
fn not_held(t: &Table, session: &Session) -> Result<TransactWriteItem, StoreError> {
    let values = Item::from([
        (":created".to_owned(), n(session.authenticated)),
        // No holder's id is empty.
        (":claim".to_owned(), s(session.claim.as_deref().unwrap_or_default())),
    ]);
    t.check(held_key(&session.username), "attribute_not_exists(held_until) OR held_until < :created OR held_by = :claim", Some(values))
}

/// The revocation record of user `username`, keyed by its [`session::user_key`] (the name its
/// session cookies carry).
fn revocation_key(username: &str) -> Item {
    revocation_key_of(&session::user_key(username))
}

/// The revocation record of the user whose [`session::user_key`] is `user_key`.
fn revocation_key_of(user_key: &str) -> Item {
    key(format!("REVOKED#{user_key}"), "REVOKED")
}

/// The condition a new session of `username` created at `created` is written under: the account
/// was not revoked after it, nor within the [`REVOCATION_WINDOW`] before.
pub(super) fn not_revoked(t: &Table, username: &str, created: u64) -> Result<TransactWriteItem, StoreError> {
    let floor = created.saturating_sub(REVOCATION_WINDOW);
    t.check(revocation_key(username), "attribute_not_exists(revoked_at) OR revoked_at < :floor", Some(Item::from([(":floor".to_owned(), n(floor))])))
}

#[async_trait]
impl crate::admin::ports::PersonSessions for DynamoSessions {
    async fn of(&self, username: &str) -> Result<Vec<(String, Session)>, StoreError> {
        SessionStore::of_user(self, username).await
    }

    async fn end_of(&self, username: &str, key: &str) -> Result<Option<Session>, StoreError> {
        SessionStore::end_of(self, username, key).await
    }

    async fn end_all(&self, username: &str, now: u64) -> Result<usize, StoreError> {
        SessionStore::end_all(self, username, now).await
    }

    async fn revoke(&self, username: &str, now: u64) -> Result<usize, StoreError> {
        SessionStore::revoke(self, username, now).await
    }

    async fn reinstate(&self, username: &str, since: u64) -> Result<(), StoreError> {
        SessionStore::reinstate(self, username, since).await
    }

    async fn credentials_changed(&self, username: &str) -> Result<(), StoreError> {
        crate::signin::password::credentials_changed(self, username, &crate::common::random::token()).await
    }

    async fn last_sign_in(&self, username: &str) -> Result<Option<u64>, StoreError> {
        crate::adapters::dynamo::activity::last_sign_in(&self.table, username).await
    }

    async fn mark_signed_out(&self, username: &str, at: u64) -> Result<(), StoreError> {
        SessionStore::mark_signed_out(self, username, at).await
    }

    async fn signed_out_at(&self, username: &str) -> Result<Option<u64>, StoreError> {
        Ok(signed_out_at(self.table.get_consistent(sign_out_mark_key(username)).await?.as_ref()))
    }
}

/// `CONSOLE#{user key}` / `NOT_BEFORE`: the person's sign-out mark (named for the console tokens
/// it first ended: the key stays, so marks written before keep counting). Their console tokens
/// issued, and OpenID Connect clients' refresh tokens from sign-ins, before `not_before` are
/// refused.
pub(crate) fn sign_out_mark_key(username: &str) -> Item {
    key(format!("CONSOLE#{}", session::user_key(username)), "NOT_BEFORE")
}

/// When the sign-out mark `item` says the person last signed out (seconds since the epoch);
/// `None` for another item, or none.
pub(crate) fn signed_out_at(item: Option<&Item>) -> Option<u64> {
    item.filter(|i| i.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with("CONSOLE#"))).and_then(|i| number(i, "not_before"))
}
