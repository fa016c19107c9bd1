//! The SCIM store's queries: whole partitions page by page, one kind's resources in id order,
//! the bucket counters that locate a position among them (and, for an organisation whose
//! counters are not complete, counting every resource), skipping within a bucket, and batch
//! gets. No writes (those are `writes`).

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::Select;

use super::items::{COUNTED, counters_part, failed, part, sk_of, tag};
use crate::adapters::dynamo::{Item, Table, s};
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
        // The table's own keys (counters, members, the email index) are read consistently: a
        // member added a moment ago is seen by the delete that follows. An index cannot be.
        let mut q = query(table)
            .set_index_name(index.map(str::to_owned))
            .consistent_read(index.is_none())
            .key_condition_expression(condition)
            .expression_attribute_values(":p", s(pk));
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

/// Resources of `kind` in id order, from the first whose id starts at `bucket` or after it
/// (`""`: from the first of all).
pub(super) fn resources(table: &Table, org: &OrgId, kind: Kind, bucket: &str) -> QueryFluentBuilder {
    query(table)
        .key_condition_expression("pk = :p AND sk BETWEEN :from AND :to")
        .expression_attribute_values(":p", s(part(org)))
        .expression_attribute_values(":from", s(format!("{}#{bucket}", tag(kind))))
        // `$` follows `#`: past every `{TAG}#...` key.
        .expression_attribute_values(":to", s(format!("{}$", tag(kind))))
}

/// `kind`'s bucket counters in id order: (bucket, resources in it); `None` when the
/// organisation's counters are not complete (it predates them and was not recounted). One query
/// of at most 513 small items, whatever the number of resources.
pub(super) async fn buckets(table: &Table, org: &OrgId, kind: Kind) -> Result<Option<Vec<(String, usize)>>, StoreError> {
    let items = query_all(table, None, "pk", &counters_part(org), None).await?;
    if !items.iter().any(|i| sk_of(i).as_deref() == Some(COUNTED)) {
        return Ok(None);
    }
    let prefix = format!("{}#", tag(kind));
    Ok(Some(
        items
            .iter()
            .filter_map(|i| {
                let bucket = sk_of(i)?.strip_prefix(&prefix)?.to_owned();
                let count = i.get("resource_count").and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
                Some((bucket, count.max(0) as usize))
            })
            .collect(),
    ))
}

/// How many resources of `kind` there are, reading every one (`Select=COUNT`, 1 MB a query): for
/// an organisation whose counters are not complete.
pub(super) async fn count(table: &Table, org: &OrgId, kind: Kind) -> Result<usize, StoreError> {
    let (mut total, mut start) = (0usize, None);
    loop {
        let out = resources(table, org, kind, "").select(Select::Count).set_exclusive_start_key(start).send().await.map_err(|e| failed(&e))?;
        total = total.saturating_add(out.count.max(0) as usize);
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(total);
        }
    }
}

/// Where the resource after the first `skip` starts: its bucket and how many of that bucket's
/// resources come before it; `None` when there are not more than `skip`.
pub(super) fn locate(buckets: &[(String, usize)], skip: usize) -> Option<(&str, usize)> {
    let mut before = 0usize;
    for (bucket, count) in buckets {
        let after = before.saturating_add(*count);
        if skip < after {
            return Some((bucket, skip - before));
        }
        before = after;
    }
    None
}

/// The key of the `skip`th resource from the start of `bucket` (`skip` ≥ 1; `""`: from the first
/// of all), reading `skip` resources (`Select=COUNT`: billed by size, 1 MB a query); `None` if
/// the resources end first.
pub(super) async fn skip_in(table: &Table, org: &OrgId, kind: Kind, bucket: &str, skip: usize) -> Result<Option<Item>, StoreError> {
    let (mut left, mut start) = (skip, None);
    while left > 0 {
        let out = resources(table, org, kind, bucket)
            .select(Select::Count)
            .limit(left.min(10_000) as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| failed(&e))?;
        left -= (out.count.max(0) as usize).min(left);
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(None);
        }
    }
    Ok(start)
}

pub(super) async fn member_ids(table: &Table, org: &OrgId, group: &str) -> Result<Vec<String>, StoreError> {
    Ok(query_all(table, None, "pk", &format!("SCIM#{org}#MEMBERS#{group}"), None).await?.iter().filter_map(sk_of).collect())
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn a_position_is_found_in_its_bucket() {
        let buckets = [("00".to_owned(), 2), ("3f".to_owned(), 0), ("a1".to_owned(), 3)];
        assert_eq!(locate(&buckets, 0), Some(("00", 0)));
        assert_eq!(locate(&buckets, 1), Some(("00", 1)));
        assert_eq!(locate(&buckets, 2), Some(("a1", 0)), "an empty bucket is passed over");
        assert_eq!(locate(&buckets, 4), Some(("a1", 2)));
        assert_eq!(locate(&buckets, 5), None, "past the last resource");
        assert_eq!(locate(&[], 0), None);
    }
}
