//! How SCIM resources, their guards, email index entries, members and page cursors are keyed
//! and encoded as items, and how SDK failures read as store errors. No calls to DynamoDB here:
//! `reads` and `writes` make them.

use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

use crate::adapters::aws::{Failure, store_error};
use crate::adapters::dynamo::{Item, corrupt, data, n, s, version};
use crate::common::store::StoreError;
use crate::directory::org::OrgId;
use crate::directory::ports::{Deletion, ScimEntry};
use crate::directory::scim::directory_user::Link;
use crate::directory::scim::resource::{Kind, Record};

pub(super) fn tag(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "USER",
        Kind::Group => "GROUP",
    }
}

pub(super) fn name_attr(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "userName",
        Kind::Group => "displayName",
    }
}

pub(super) fn part(org: &OrgId) -> String {
    format!("SCIM#{org}")
}

pub(super) fn key(pk: String, sk: String) -> Item {
    HashMap::from([("pk".into(), s(pk)), ("sk".into(), s(sk))])
}

pub(super) fn resource_key(org: &OrgId, kind: Kind, id: &str) -> Item {
    key(part(org), format!("{}#{id}", tag(kind)))
}

pub(super) fn tombstone_key(org: &OrgId, id: &str) -> Item {
    key(part(org), format!("DELETED#USER#{id}"))
}

pub(super) fn name_value(org: &OrgId, kind: Kind, lower: &str) -> String {
    format!("SCIM#{org}#{}NAME#{lower}", tag(kind))
}

pub(super) fn ext_value(org: &OrgId, kind: Kind, ext: &str) -> String {
    format!("SCIM#{org}#{}EXT#{ext}", tag(kind))
}

fn guard_key(org: &OrgId, sk: String) -> Item {
    key(format!("SCIM#{org}#UNIQUE"), sk)
}

pub(super) fn name_guard(org: &OrgId, kind: Kind, lower: &str) -> Item {
    guard_key(org, format!("{}NAME#{lower}", tag(kind)))
}

pub(super) fn ext_guard(org: &OrgId, kind: Kind, ext: &str) -> Item {
    guard_key(org, format!("{}EXT#{ext}", tag(kind)))
}

pub(super) fn email_key(org: &OrgId, email: &str, id: &str) -> Item {
    key(format!("SCIM#{org}#EMAIL#{email}"), id.to_owned())
}

pub(super) fn member_key(org: &OrgId, group: &str, user: &str) -> Item {
    key(format!("SCIM#{org}#MEMBERS#{group}"), user.to_owned())
}

pub(super) fn cursor_key(org: &OrgId, kind: Kind, start: usize) -> Item {
    key(format!("SCIM#{org}#CURSOR"), format!("{}#{start}", tag(kind)))
}

/// How many of an id's first characters name its bucket: two (its first byte in hex for the
/// UUIDs the bridge assigns, so 256 buckets). Buckets are contiguous in id order.
const BUCKET_CHARS: usize = 2;

pub(super) fn bucket(id: &str) -> String {
    id.chars().take(BUCKET_CHARS).collect()
}

/// The counter of `kind`'s resources whose ids start with `bucket` (attribute `resource_count`).
pub(super) fn counter_key(org: &OrgId, kind: Kind, bucket: &str) -> Item {
    key(counters_part(org), format!("{}#{bucket}", tag(kind)))
}

pub(super) fn counters_part(org: &OrgId) -> String {
    format!("SCIM#{org}#COUNT")
}

/// The sort key of the item saying the organisation's counters count every resource: written
/// with the organisation, or by `recount` for one older than the counters.
pub(super) const COUNTED: &str = "COUNTED";

/// That item's key.
pub(super) fn counted_key(org: &OrgId) -> Item {
    key(counters_part(org), COUNTED.to_owned())
}

pub(super) fn values(pairs: &[(&str, aws_sdk_dynamodb::types::AttributeValue)]) -> Item {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// The stored item for a resource (or, with `deleted`, its tombstone).
pub(super) fn resource_item(org: &OrgId, record: &Record, link: &Link, pending: bool, deleted: Option<Deletion>) -> Result<Item, StoreError> {
    let mut item = match deleted {
        Some(_) => tombstone_key(org, &record.id),
        None => resource_key(org, record.kind, &record.id),
    };
    item.insert("version".into(), n(record.version));
    item.insert("data".into(), s(serde_json::to_string(record).map_err(corrupt)?));
    item.insert("link".into(), s(serde_json::to_string(link).map_err(corrupt)?));
    if pending {
        item.insert("sync".into(), n(record.version));
    }
    match deleted {
        Some(how) => {
            item.insert("deleted".into(), s(serde_json::to_value(how).map_err(corrupt)?.as_str().unwrap_or("purge")));
        }
        None => {
            if let Some(name) = record.unique_name() {
                item.insert("gsi1pk".into(), s(name_value(org, record.kind, &name)));
                item.insert("gsi1sk".into(), s(&record.id));
            }
            if let Some(ext) = record.external_id() {
                item.insert("gsi2pk".into(), s(ext_value(org, record.kind, ext)));
                item.insert("gsi2sk".into(), s(&record.id));
            }
        }
    }
    Ok(item)
}

pub(super) fn entry_from(item: &Item) -> Result<ScimEntry, StoreError> {
    let record: Record = data(item, "SCIM resource")?;
    let record = Record { version: version(item).unwrap_or(record.version), ..record };
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let link = match text("link") {
        Some(raw) => serde_json::from_str(&raw).map_err(corrupt)?,
        None => Link::default(),
    };
    let deleted = match text("deleted").as_deref() {
        None => None,
        Some("deactivate") => Some(Deletion::Deactivate),
        Some(_) => Some(Deletion::Purge),
    };
    Ok(ScimEntry { record, link, pending: item.contains_key("sync"), sync_error: text("sync_error"), deleted })
}

pub(super) fn sk_of(item: &Item) -> Option<String> {
    item.get("sk").and_then(|v| v.as_s().ok()).cloned()
}

pub(super) fn failed<E: aws_smithy_types::error::metadata::ProvideErrorMetadata, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> StoreError {
    store_error(Failure::of(e))
}

pub(super) fn is_condition_failure<E: aws_smithy_types::error::metadata::ProvideErrorMetadata, R>(
    e: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> bool {
    matches!(Failure::of(e), Failure::Service { code } if code == "ConditionalCheckFailedException")
}

pub(super) fn member_id(member: &Value) -> &str {
    member.get("value").and_then(Value::as_str).unwrap_or_default()
}

/// Members without repeats (a transaction may touch an item once).
pub(super) fn unique_members(members: &[Value]) -> Vec<&Value> {
    let mut seen = BTreeSet::new();
    members.iter().filter(|m| seen.insert(member_id(m).to_owned())).collect()
}
