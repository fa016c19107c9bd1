//! OpenID Connect clients' refresh-token families in the bridge's table
//! (`signin::ports::RefreshFamilies`).
//!
//! | item           | `pk`           | `sk`      | `gsi1pk`             | `gsi1sk`         | other attributes |
//! |----------------|----------------|-----------|----------------------|------------------|------------------|
//! | refresh family | `REFRESH#{id}` | `REFRESH` | `USERREFRESH#{user}` | `{signed_in_at}` | `data` (JSON), `generation`, `last_used`, `username`, `expires_at` (the TTL) |
//! | ended session  | `ENDEDSID#{sid}` | `ENDED` |                    |                  | `expires_at` (the TTL)   |
//!
//! `generation` and `last_used` are authoritative over the copies in `data`: a refresh moves
//! them on with one conditional `UpdateItem`. A family is read beside the person's sign-out mark
//! (`CONSOLE#{user key}`, `adapters::dynamo::sessions`) and its bridge session's end record
//! (`ENDEDSID#{sid}`) in one `BatchGetItem`; a person's
//! families by `gsi1`, beside the mark (their account page). The id is not a bearer value: a token is sealed and
//! encrypted, and names its generation too.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;

use crate::adapters::aws::{Failure, store_error};
use crate::adapters::dynamo::sessions::{sign_out_mark_key, signed_out_at};
use crate::adapters::dynamo::{Item, Table, corrupt, data, key, n, number, query_gsi1, s};
use crate::common::store::StoreError;
use crate::signin::openid_provider::family::RefreshFamily;
use crate::signin::ports::{FamilyRead, RefreshFamilies};

pub struct DynamoRefreshFamilies {
    table: Table,
}

impl DynamoRefreshFamilies {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }
}

fn family_key(id: &str) -> Item {
    key(format!("REFRESH#{id}"), "REFRESH")
}

/// The record that the bridge session `sid` ended.
fn ended_key(sid: &str) -> Item {
    key(format!("ENDEDSID#{sid}"), "ENDED")
}

/// The family an item holds, its `generation` the item's own.
fn stored(item: &Item) -> Result<RefreshFamily, StoreError> {
    let mut family: RefreshFamily = data(item, "refresh family")?;
    family.generation = number(item, "generation").ok_or_else(|| corrupt("a refresh family without a generation"))?;
    family.last_used = number(item, "last_used").unwrap_or_default();
    Ok(family)
}

#[async_trait]
impl RefreshFamilies for DynamoRefreshFamilies {
    async fn create(&self, family: &RefreshFamily) -> Result<(), StoreError> {
        let mut item = family_key(&family.id);
        item.insert("data".into(), s(serde_json::to_string(family).map_err(corrupt)?));
        item.insert("generation".into(), n(family.generation));
        item.insert("username".into(), s(&family.username));
        item.insert("gsi1pk".into(), s(format!("USERREFRESH#{}", family.username)));
        item.insert("gsi1sk".into(), s(family.signed_in_at.to_string()));
        item.insert("expires_at".into(), n(family.expires_at));
        self.table.put_item(item, Some("attribute_not_exists(pk)"), None).await
    }

    async fn get(&self, id: &str, username: &str, sid: Option<&str>) -> Result<FamilyRead, StoreError> {
        let mut keys = vec![family_key(id), sign_out_mark_key(username)];
        keys.extend(sid.map(ended_key));
        let items = self.table.batch_get(keys).await?;
        let pk = |item: &Item| item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        Ok(FamilyRead {
            family: items.iter().find(|i| pk(i).starts_with("REFRESH#")).map(stored).transpose()?,
            signed_out_at: items.iter().find_map(|i| signed_out_at(Some(i))),
            session_ended: items.iter().any(|i| pk(i).starts_with("ENDEDSID#")),
        })
    }

    async fn of_user(&self, username: &str) -> Result<(Vec<RefreshFamily>, Option<u64>), StoreError> {
        let partition = format!("USERREFRESH#{username}");
        let (families, mark) =
            tokio::join!(query_gsi1(&self.table.client, &self.table.name, &partition), self.table.get_consistent(sign_out_mark_key(username)));
        Ok((families?.iter().map(stored).collect::<Result<_, _>>()?, signed_out_at(mark?.as_ref())))
    }

    async fn revoke_of(&self, username: &str, id: &str) -> Result<bool, StoreError> {
        self.table.delete_if(family_key(id), "username = :username", Some(Item::from([(":username".to_owned(), s(username))]))).await
    }

    async fn advance(&self, id: &str, generation: u64, now: u64) -> Result<bool, StoreError> {
        let values = Item::from([(":current".to_owned(), n(generation)), (":next".to_owned(), n(generation + 1)), (":now".to_owned(), n(now))]);
        self.table.update_if(family_key(id), "SET generation = :next, last_used = :now", "generation = :current", Some(values)).await
    }

    async fn mark_session_ended(&self, sid: &str, until: u64) -> Result<(), StoreError> {
        let mut ended = ended_key(sid);
        ended.insert("expires_at".into(), n(until));
        self.table.put_item(ended, None, None).await
    }

    async fn session_ended(&self, sid: &str) -> Result<bool, StoreError> {
        Ok(self.table.get_consistent(ended_key(sid)).await?.is_some())
    }

    async fn revoke(&self, id: &str) -> Result<(), StoreError> {
        let t = &self.table;
        t.client.delete_item().table_name(&t.name).set_key(Some(family_key(id))).send().await.map_err(|e| store_error(Failure::of(&e)))?;
        Ok(())
    }
}
