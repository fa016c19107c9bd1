//! The outbox: identity events as items (`EVENT#{id}`, `EVENT`; `type`, `data`, `expires_at`
//! 7 days on), written in the transaction of the change that causes them, which the table's
//! stream delivers to the workflow runner (`adapters::dynamo::workflows`). Only the item; what
//! reads events back is the workflows store.

use aws_sdk_dynamodb::types::TransactWriteItem;

use crate::adapters::dynamo::{Item, Table, corrupt, key, n, name_of, s};
use crate::common::store::StoreError;
use crate::events::IdentityEvent;

/// How long an event is kept (seconds): 7 days, the replay window.
const EVENT_TTL: u64 = 7 * 24 * 3600;

/// The event's item.
pub fn event_item(event: &IdentityEvent) -> Result<Item, StoreError> {
    let mut item = key(format!("EVENT#{}", event.id), "EVENT");
    item.insert("type".into(), s(name_of(event.kind)));
    item.insert("data".into(), s(serde_json::to_string(event).map_err(corrupt)?));
    item.insert("expires_at".into(), n(event.at + EVENT_TTL));
    Ok(item)
}

/// Recording `event` as part of another change's transaction; the transaction fails on this
/// item if the event was recorded already.
pub fn event_put(table: &Table, event: &IdentityEvent) -> Result<TransactWriteItem, StoreError> {
    table.put(event_item(event)?, "attribute_not_exists(pk)", None)
}
