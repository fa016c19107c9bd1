//! The SCIM store's queries: whole partitions page by page, one kind's resources in id order,
//! counting and skipping them by keys only, and batch gets. No writes (those are `writes`).

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{KeysAndAttributes, Select};

use super::items::{failed, part, sk_of, tag};
use crate::adapters::dynamo::{Item, Table, corrupt, s};
use crate::common::store::StoreError;
use crate::directory::org::OrgId;
use crate::directory::scim::resource::Kind;

pub(super) fn query(table: &Table) -> QueryFluentBuilder {
    table.client.query().table_name(&table.name)
}

/// Every item of a partition (or index partition), page by page.
pub(super) async fn query_all(table: &Table, index: Option<&str>, pk_name: &str, pk: &str, sk_prefix: Option<&str>) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let condition = match sk_prefix {
            Some(_) => format!("{pk_name} = :p AND begins_with(sk, :s)"),
            None => format!("{pk_name} = :p"),
        };
        let mut q = query(table).set_index_name(index.map(str::to_owned)).key_condition_expression(condition).expression_attribute_values(":p", s(pk));
        if let Some(prefix) = sk_prefix {
            q = q.expression_attribute_values(":s", s(prefix));
        }
        let out = q.set_exclusive_start_key(start).send().await.map_err(|e| failed(&e))?;
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// Resources of `kind`: the query for one partition in id order.
pub(super) fn resources(table: &Table, org: &OrgId, kind: Kind) -> QueryFluentBuilder {
    query(table)
        .key_condition_expression("pk = :p AND begins_with(sk, :s)")
        .expression_attribute_values(":p", s(part(org)))
        .expression_attribute_values(":s", s(format!("{}#", tag(kind))))
}

pub(super) async fn count(table: &Table, org: &OrgId, kind: Kind) -> Result<usize, StoreError> {
    let (mut total, mut start) = (0usize, None);
    loop {
        let out = resources(table, org, kind).select(Select::Count).set_exclusive_start_key(start).send().await.map_err(|e| failed(&e))?;
        total += out.count.max(0) as usize;
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(total);
        }
    }
}

/// The key just before the `skip + 1`th resource (`None` at the start), or `Err(())` if
/// there are not that many: reads keys only (`Select=COUNT`).
pub(super) async fn skip(table: &Table, org: &OrgId, kind: Kind, skip: usize) -> Result<Result<Option<Item>, ()>, StoreError> {
    let (mut left, mut start) = (skip, None);
    while left > 0 {
        let out = resources(table, org, kind)
            .select(Select::Count)
            .limit(left.min(10_000) as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| failed(&e))?;
        left -= (out.count.max(0) as usize).min(left);
        start = out.last_evaluated_key;
        if start.is_none() {
            // At most `skip` resources: the page after them is empty.
            return Ok(Err(()));
        }
    }
    Ok(Ok(start))
}

pub(super) async fn batch_get(table: &Table, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
    let mut found = Vec::new();
    for chunk in keys.chunks(100) {
        let mut pending = Some(KeysAndAttributes::builder().set_keys(Some(chunk.to_vec())).consistent_read(true).build().map_err(corrupt)?);
        for _ in 0..5 {
            let Some(request) = pending.take() else { break };
            let out = table.client.batch_get_item().request_items(&table.name, request).send().await.map_err(|e| failed(&e))?;
            found.extend(out.responses.and_then(|mut r| r.remove(&table.name)).unwrap_or_default());
            pending = out.unprocessed_keys.and_then(|mut u| u.remove(&table.name)).filter(|k| !k.keys.is_empty());
        }
        if pending.is_some() {
            return Err(StoreError::Throttled);
        }
    }
    Ok(found)
}

pub(super) async fn member_ids(table: &Table, org: &OrgId, group: &str) -> Result<Vec<String>, StoreError> {
    Ok(query_all(table, None, "pk", &format!("SCIM#{org}#MEMBERS#{group}"), None).await?.iter().filter_map(sk_of).collect())
}
