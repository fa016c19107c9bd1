//! The SCIM service: what each request does to one organisation's users and groups, in terms of
//! the [`ScimStore`] and [`UserDirectory`] ports. The handler parses HTTP and renders replies;
//! everything SCIM means happens here.
//!
//! - Writes are optimistic: read, change, write if the version is unchanged. Without
//!   `If-Match`, a lost race is retried on a fresh read, so two racing PATCHes both land; with
//!   `If-Match`, a changed version is 412.
//! - After a user changes, the directory is brought in step at once ([`sync::converge`]); if
//!   that fails for a while (throttling, an outage) the change stays recorded with a pending sync
//!   that [`ScimService::sync_pending`] retries. If the directory refuses it for good (an address
//!   or attribute it does not take, an email another directory user has), the record is marked
//!   not provisioned with the reason and left until the user changes again. The client's
//!   request succeeds either way: DynamoDB is the truth. A sign-in email the directory can never
//!   take is refused up front instead ([`sync::check_sign_in_email`]).
//! - One request's filter work is bounded: list filters are evaluated within one
//!   [`Budget`] (past it, `tooMany`), as PATCH value paths are in [`patch::apply`].

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

use super::directory_user::Link;
use super::error::{Invalid, ScimError};
use super::events::change_event;
use super::filter::{Budget, Filter, Lookup};
use super::patch::{self, MemberChange};
use super::query::{ListQuery, list_response, sort};
use super::resource::{Attributes, Kind, Projection, Record, canonicalise, check_resource, timestamp};
use super::sync;
use crate::common::store::StoreError;
use crate::directory::org::{DeleteMode, Organisation};
use crate::directory::ports::{Deletion, ScimEntry, ScimStore, UserDirectory};

/// Attempts at a read-change-write before giving up on a busy resource.
const ATTEMPTS: u64 = 10;

/// Before a write's next attempt (`attempt` ≥ 1, after a lost race): a random 1 to 10 × `attempt`
/// ms, so racers do not collide again. Nothing before the first.
async fn back_off(attempt: u64) {
    if attempt > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(1 + crate::common::random::below(10 * attempt))).await;
    }
}

/// The organisation a request acts for, where its resources live, and the request's time.
#[derive(Debug, Clone, Copy)]
pub struct Tenant<'a> {
    pub org: &'a Organisation,
    /// `https://host/scim/v2`, for `meta.location`.
    pub base: &'a str,
    pub now: u64,
}

/// What a request did, with what the client is shown. The SCIM function turns each into a status
/// and headers (`201` and `Location`, `200`, `204`, `ETag`).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A resource was created: its representation and version.
    Created(Resource),
    /// A resource as it now is (read, replaced, patched, or left as it was).
    Current(Resource),
    /// One page of a list or search: a `ListResponse`.
    Listed(Value),
    /// The resource is gone (or, for a user under `delete: deactivate`, deactivated).
    Deleted,
}

/// A resource as the client asked to see it, and its version as an ETag (`W/"3"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub body: Value,
    pub etag: String,
}

/// What a sync sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub synced: usize,
    pub failed: usize,
    /// Left for the next sweep: the time ran short, or the organisation's pending changes could
    /// not be read.
    pub left: usize,
}

pub struct ScimService {
    store: Arc<dyn ScimStore>,
    directory: Arc<dyn UserDirectory>,
    /// Most resources a filter that is not a key lookup (or a sort) may evaluate.
    filter_limit: usize,
}

fn matches_if(entry: &ScimEntry, if_match: Option<&str>) -> bool {
    let Some(wanted) = if_match else { return true };
    let etag = entry.record.etag();
    wanted.split(',').map(str::trim).any(|w| w == "*" || w == etag || w.trim_start_matches("W/") == etag.trim_start_matches("W/"))
}

fn name(kind: Kind) -> &'static str {
    kind.resource_type().name
}

impl ScimService {
    pub fn new(store: Arc<dyn ScimStore>, directory: Arc<dyn UserDirectory>, filter_limit: usize) -> Self {
        Self { store, directory, filter_limit }
    }

    async fn entry(&self, t: Tenant<'_>, kind: Kind, id: &str) -> Result<ScimEntry, ScimError> {
        self.store.get(&t.org.id, kind, id).await?.ok_or_else(|| ScimError::not_found(name(kind), id))
    }

    /// The resource as the client asked to see it.
    async fn render(&self, t: Tenant<'_>, record: &Record, projection: &Projection) -> Result<Value, ScimError> {
        let rt = record.kind.resource_type();
        let mut json = record.to_json(t.base);
        match record.kind {
            Kind::Group if projection.wants("members") => {
                let members = self.store.members(&t.org.id, &record.id).await?;
                let members: Vec<Value> = members
                    .into_iter()
                    .map(|mut m| {
                        let endpoint = if m.get("type").and_then(Value::as_str) == Some("Group") { "Groups" } else { "Users" };
                        if let Some(id) = m.get("value").and_then(Value::as_str) {
                            m["$ref"] = Value::from(format!("{}/{endpoint}/{id}", t.base));
                        }
                        m
                    })
                    .collect();
                json["members"] = Value::Array(members);
            }
            Kind::User if projection.only.as_ref().is_some_and(|_| projection.wants("groups")) => {
                let groups = self.store.groups_of(&t.org.id, &record.id).await?;
                json["groups"] = groups.into_iter().map(|g| json!({"value": g, "$ref": format!("{}/Groups/{g}", t.base), "type": "direct"})).collect();
            }
            _ => {}
        }
        Ok(projection.apply(rt, json))
    }

    async fn resource(&self, t: Tenant<'_>, record: &Record, projection: &Projection) -> Result<Resource, ScimError> {
        Ok(Resource { body: self.render(t, record, projection).await?, etag: record.etag() })
    }

    pub async fn create(&self, t: Tenant<'_>, kind: Kind, body: &Value, projection: &Projection) -> Result<Reply, ScimError> {
        let rt = kind.resource_type();
        let mut data = canonicalise(rt, body)?;
        check_resource(rt, &data)?;
        let members = take_members(kind, &mut data)?;
        let now = timestamp(t.now);
        let record = Record { kind, id: uuid::Uuid::new_v4().to_string(), version: 1, created: now.clone(), last_modified: now, data };
        if kind == Kind::User {
            sync::check_sign_in_email(t.org, &record)?;
        }
        let event = change_event(t.org, None, Some(&record), &Link::default(), None, record.version, t.now);
        self.store.create(&t.org.id, &record, &members, event.as_ref()).await?;
        if kind == Kind::User {
            self.sync(t.org, ScimEntry { record: record.clone(), link: Link::default(), pending: true, sync_error: None, deleted: None }).await;
        }
        Ok(Reply::Created(self.resource(t, &record, projection).await?))
    }

    /// The resource and its ETag (the handler answers `If-None-Match` with 304).
    pub async fn get(&self, t: Tenant<'_>, kind: Kind, id: &str, projection: &Projection) -> Result<Reply, ScimError> {
        let entry = self.entry(t, kind, id).await?;
        Ok(Reply::Current(self.resource(t, &entry.record, projection).await?))
    }

    /// PUT: the body replaces every writable attribute.
    pub async fn replace(
        &self,
        t: Tenant<'_>,
        kind: Kind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
        projection: &Projection,
    ) -> Result<Reply, ScimError> {
        let rt = kind.resource_type();
        let mut data = canonicalise(rt, body)?;
        check_resource(rt, &data)?;
        let members = take_members(kind, &mut data)?;
        let changes = if kind == Kind::Group { vec![MemberChange::Replace(members)] } else { Vec::new() };
        self.write(t, kind, id, if_match, projection, |_| Ok((data.clone(), changes.clone()))).await
    }

    pub async fn patch(&self, t: Tenant<'_>, kind: Kind, id: &str, body: &Value, if_match: Option<&str>, projection: &Projection) -> Result<Reply, ScimError> {
        let rt = kind.resource_type();
        let ops = patch::parse(body)?;
        self.write(t, kind, id, if_match, projection, |current| {
            let mut data = current.data.clone();
            let changes = patch::apply(rt, &mut data, &ops)?;
            check_resource(rt, &data)?;
            Ok((data, changes))
        })
        .await
    }

    /// Read, `change`, write with the version checked; retried on a lost race unless `If-Match`.
    async fn write(
        &self,
        t: Tenant<'_>,
        kind: Kind,
        id: &str,
        if_match: Option<&str>,
        projection: &Projection,
        change: impl Fn(&Record) -> Result<(Attributes, Vec<MemberChange>), ScimError>,
    ) -> Result<Reply, ScimError> {
        for attempt in 0..ATTEMPTS {
            back_off(attempt).await;
            let current = self.entry(t, kind, id).await?;
            if !matches_if(&current, if_match) {
                return Err(ScimError::Stale);
            }
            let (data, changes) = change(&current.record)?;
            if changes.iter().any(|c| c.names(id)) {
                return Err(ScimError::invalid(Invalid::Value, "a group cannot be a member of itself"));
            }
            if data == current.record.data && changes.is_empty() {
                return Ok(Reply::Current(self.resource(t, &current.record, projection).await?));
            }
            let next = Record { version: current.record.version + 1, last_modified: timestamp(t.now), data, ..current.record.clone() };
            // Only a new sign-in email is checked: a user kept with an old one can still be
            // deactivated or renamed.
            if kind == Kind::User && next.sign_in_email() != current.record.sign_in_email() {
                sync::check_sign_in_email(t.org, &next)?;
            }
            let written = match kind {
                Kind::Group => self.store.update_group(&t.org.id, &current, &next, &changes).await,
                Kind::User => {
                    let event = change_event(t.org, Some(&current.record), Some(&next), &current.link, None, next.version, t.now);
                    self.store.replace(&t.org.id, &current, &next, event.as_ref()).await
                }
            };
            match written {
                Ok(()) => {
                    if kind == Kind::User {
                        self.sync(t.org, ScimEntry { record: next.clone(), pending: true, ..current }).await;
                    }
                    return Ok(Reply::Current(self.resource(t, &next, projection).await?));
                }
                Err(StoreError::Conflict) if if_match.is_some() => return Err(ScimError::Stale),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ScimError::Busy)
    }

    /// Deletes at the version read; a lost race is redone on a fresh read unless `If-Match`.
    pub async fn delete(&self, t: Tenant<'_>, kind: Kind, id: &str, if_match: Option<&str>) -> Result<Reply, ScimError> {
        for attempt in 0..ATTEMPTS {
            back_off(attempt).await;
            let current = self.entry(t, kind, id).await?;
            if !matches_if(&current, if_match) {
                return Err(ScimError::Stale);
            }
            let how = match (kind, t.org.policies.delete) {
                (Kind::User, DeleteMode::Deactivate) => Deletion::Deactivate,
                _ => Deletion::Purge,
            };
            let event = change_event(t.org, Some(&current.record), None, &current.link, Some(how), current.record.version + 1, t.now);
            match self.store.delete(&t.org.id, &current, how, event.as_ref()).await {
                Ok(()) => {}
                Err(StoreError::Conflict) if if_match.is_some() => return Err(ScimError::Stale),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
            if kind == Kind::User {
                let record = Record { version: current.record.version + 1, last_modified: timestamp(t.now), ..current.record.clone() };
                self.sync(t.org, ScimEntry { record, pending: true, deleted: Some(how), ..current }).await;
            }
            return Ok(Reply::Deleted);
        }
        Err(ScimError::Busy)
    }

    pub async fn list(&self, t: Tenant<'_>, kind: Kind, query: &ListQuery) -> Result<Reply, ScimError> {
        let lookup = query.filter.as_ref().and_then(|f| f.lookup()).filter(|l| applies(kind, l));
        let too_many = |e: StoreError| match e {
            StoreError::Limit(what) => ScimError::invalid(
                Invalid::TooMany,
                format!(
                    "this filter or sort would evaluate {what} (at most {}); filter by userName, externalId, id, emails or displayName with eq",
                    self.filter_limit
                ),
            ),
            e => e.into(),
        };
        let (records, total) = match (&query.filter, lookup) {
            (Some(filter), Some(key)) => {
                let found = match &key {
                    Lookup::Id(id) => self.store.get(&t.org.id, kind, id).await?.into_iter().collect(),
                    key => self.store.lookup(&t.org.id, kind, key, self.filter_limit).await.map_err(too_many)?,
                };
                let matching = matching(found.into_iter().map(|e| e.record), Some(filter), t.base)?;
                self.evaluated(matching, query, t.base)
            }
            (None, _) if query.sort_by.is_none() => {
                let (page, total) = self.store.page(&t.org.id, kind, query.start, query.count, t.now).await?;
                (page.into_iter().map(|e| e.record).collect(), total)
            }
            (filter, _) => {
                let all = self.store.all(&t.org.id, kind, self.filter_limit).await.map_err(too_many)?;
                let matching = matching(all.into_iter().map(|e| e.record), filter.as_ref(), t.base)?;
                self.evaluated(matching, query, t.base)
            }
        };
        let mut resources = Vec::with_capacity(records.len());
        let mut bytes = 0;
        for record in &records {
            let resource = self.render(t, record, &query.projection).await?;
            bytes += serde_json::to_vec(&resource).map_or(0, |b| b.len());
            if bytes > crate::directory::scim::resource::MAX_PAGE_BYTES && !resources.is_empty() {
                break; // the rest on the next page
            }
            resources.push(resource);
        }
        Ok(Reply::Listed(list_response(resources, total, query.start)))
    }

    /// Sorts (by `sortBy`, else by id: stable) and cuts one page out of resources in memory.
    fn evaluated(&self, mut records: Vec<Record>, query: &ListQuery, base: &str) -> (Vec<Record>, usize) {
        records.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(path) = &query.sort_by {
            let mut keyed: Vec<Value> = records.iter().map(|r| r.to_json(base)).collect();
            sort(&mut keyed, path, query.descending);
            let order: Vec<&str> = keyed.iter().filter_map(|v| v.get("id").and_then(Value::as_str)).collect();
            let mut sorted: Vec<Record> = Vec::with_capacity(records.len());
            for id in order {
                if let Some(r) = records.iter().find(|r| r.id == id) {
                    sorted.push(r.clone());
                }
            }
            records = sorted;
        }
        let total = records.len();
        let page = records.into_iter().skip(query.start - 1).take(query.count).collect();
        (page, total)
    }

    /// Brings the directory in step with `entry`; a failure is recorded with the entry, and
    /// the answer says whether this attempt left it in step (or to a newer writer).
    async fn sync(&self, org: &Organisation, entry: ScimEntry) -> bool {
        let mut entry = entry;
        for _ in 0..3 {
            let purge = entry.deleted == Some(Deletion::Purge);
            let desired = sync::desired(org, &entry.record, entry.deleted.is_some(), purge);
            let converged = match self.taken_over(&entry).await {
                Ok(true) => Ok(Link::default()),
                Ok(false) => sync::converge(self.directory.as_ref(), &entry.link, &desired).await,
                Err(e) => Err(e),
            };
            let link = match converged {
                Ok(link) => link,
                Err(e) if e.is_transient() => {
                    tracing::warn!(org = %org.id, id = %entry.record.id, error = %e, "directory sync failed; left pending");
                    if let Err(e) = self.store.sync_failed(&org.id, &entry, &e.to_string()).await {
                        tracing::warn!(error = %e, "could not record the sync failure");
                    }
                    return false;
                }
                Err(e) => {
                    // Retrying would be refused the same way: not provisioned until the user changes.
                    tracing::warn!(org = %org.id, id = %entry.record.id, error = %e, "the directory refused the user; not provisioned");
                    if let Err(e) = self.store.sync_refused(&org.id, &entry, &e.to_string()).await {
                        tracing::warn!(error = %e, "could not record the refusal");
                    }
                    return false;
                }
            };
            match self.store.synced(&org.id, &entry, &link).await {
                Ok(true) => return true,
                Ok(false) => {
                    // A newer version was written meanwhile and may have reached the directory
                    // before this one: apply the newest over what this attempt left there.
                    match self.store.get(&org.id, Kind::User, &entry.record.id).await {
                        Ok(Some(newer)) => entry = ScimEntry { link: Link { applied: link.applied, ..newer.link.clone() }, ..newer },
                        _ => return true,
                    }
                }
                Err(e) => {
                    tracing::warn!(org = %org.id, id = %entry.record.id, error = %e, "could not record the sync; left pending");
                    return false;
                }
            }
        }
        // Still racing newer writers after three rounds: they sync their own versions.
        true
    }

    /// Whether `entry` is a deletion whose directory user another SCIM user has taken over (a
    /// create with the same email adopted it, before this deletion or since it failed): the
    /// deletion then leaves that user alone. One `AdminGetUser` per deletion attempt; a failure
    /// to tell is the sync's failure (transient: left pending, retried).
    async fn taken_over(&self, entry: &ScimEntry) -> Result<bool, crate::directory::ports::DirectoryError> {
        let (Some(_), Some(username)) = (entry.deleted, &entry.link.username) else { return Ok(false) };
        Ok(self.directory.scim_id(username).await?.is_some_and(|owner| owner != entry.record.id))
    }

    /// Retries every outstanding directory sync of `org` (the operator's and the scheduler's
    /// sweep) until `deadline`, the rest counted as `left`; users the directory refused are left
    /// until they change.
    pub async fn sync_pending(&self, org: &Organisation, deadline: Instant) -> Result<SyncReport, StoreError> {
        let mut report = SyncReport::default();
        for entry in self.store.pending(&org.id).await?.into_iter().filter(|e| e.pending) {
            if Instant::now() >= deadline {
                report.left += 1;
            } else if self.sync(org, entry).await {
                report.synced += 1
            } else {
                report.failed += 1
            }
        }
        Ok(report)
    }
}

/// Whether a key lookup applies to this kind of resource.
fn applies(kind: Kind, lookup: &Lookup) -> bool {
    match lookup {
        Lookup::UserName(_) | Lookup::Email(_) => kind == Kind::User,
        Lookup::DisplayName(_) => kind == Kind::Group,
        Lookup::Id(_) | Lookup::ExternalId(_) => true,
    }
}

/// A group's members leave the attributes: they are stored one item each.
fn take_members(kind: Kind, data: &mut Attributes) -> Result<Vec<Value>, ScimError> {
    let mut members = match (kind, data.remove("members")) {
        (Kind::Group, Some(Value::Array(members))) => members,
        _ => Vec::new(),
    };
    patch::check_members(&mut members)?;
    Ok(members)
}

/// The records `filter` (if any) matches, evaluated within one request's [`Budget`].
fn matching(records: impl Iterator<Item = Record>, filter: Option<&Filter>, base: &str) -> Result<Vec<Record>, ScimError> {
    let Some(filter) = filter else { return Ok(records.collect()) };
    let mut budget = Budget::default();
    let mut out = Vec::new();
    for record in records {
        if filter.matches_within(&record.to_json(base), &mut budget)? {
            out.push(record);
        }
    }
    Ok(out)
}
