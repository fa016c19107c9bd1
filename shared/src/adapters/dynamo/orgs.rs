//! Organisations, their domains and their SCIM tokens in the bridge's table.
//!
//! | item                  | `pk`               | `sk`        | `gsi1pk`             | `gsi1sk` | other attributes                        |
//! |-----------------------|--------------------|-------------|----------------------|----------|-----------------------------------------|
//! | organisation          | `ORG#{id}`         | `ORG`       | `ORG`                | `{id}`   | `version`, `tokens` (N), `data` (JSON), `provider_metadata` (JSON), `sealed_secret` |
//! | domain guard          | `DOMAIN#{domain}`  | `DOMAIN`    |                      |          | `org`                                   |
//! | SCIM token (digest)   | `SCIMTOKEN#{id}`   | `SCIMTOKEN` | `ORG#{org}#TOKENS`   | `{id}`   | `org`, `data` (JSON, no secret)         |
//!
//! Access patterns: an organisation by id; all organisations (`gsi1`); the owner of a domain
//! (`GetItem` on its guard: corporate sign-in); a token by id (`GetItem`: every SCIM request); an
//! organisation's tokens (`gsi1`). A domain guard is written with `attribute_not_exists(pk)` in the
//! same transaction as the organisation, so a domain has one owner even under concurrent writes;
//! the organisation's `tokens` counter, in the same transaction as a token, caps active tokens.
//! `provider_metadata` is its connection's discovery document (`Connection::metadata`), kept out
//! of `data` so code that predates it (whose `data` allows no unknown field) still reads the item.
//! `sealed_secret` is its connection's client secret sealed by the login function
//! (`Connection::sealed_secret`), written (or removed) only over the version it was sealed for,
//! and removed by every update of the organisation.
//! An operator's change (`AuditedOrgs`) adds its audit record's items to the same transaction.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::TransactWriteItem;
use std::collections::HashMap;

use crate::adapters::aws::Failure;
use crate::adapters::dynamo::audit::audit_puts;
use crate::adapters::dynamo::{Item, Table, TxError, corrupt, data, n, query_gsi1, s, version, write_error};
use crate::admin::audit::AuditRecord;
use crate::admin::ports::AuditedOrgs;
use crate::common::store::StoreError;
use crate::directory::org::{EmailDomain, OrgId, Organisation};
use crate::directory::ports::OrgStore;
use crate::directory::provider::ProviderMetadata;
use crate::directory::scim_token::ScimTokenStore;
use crate::directory::scim_token::{MAX_ACTIVE, TokenRecord};

pub struct DynamoOrgs {
    table: Table,
}

impl DynamoOrgs {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }

    fn domain_guard(&self, domain: &EmailDomain, org: &OrgId) -> Result<TransactWriteItem, StoreError> {
        let mut item = domain_key(domain);
        item.insert("org".into(), s(org.as_str()));
        self.table.put(item, "attribute_not_exists(pk)", None)
    }

    fn domain_release(&self, domain: &EmailDomain, org: &OrgId) -> Result<TransactWriteItem, StoreError> {
        self.table.delete(domain_key(domain), "org = :org", Some(HashMap::from([(":org".into(), s(org.as_str()))])))
    }
}

fn org_key(id: &OrgId) -> Item {
    HashMap::from([("pk".into(), s(format!("ORG#{id}"))), ("sk".into(), s("ORG"))])
}

fn domain_key(domain: &EmailDomain) -> Item {
    HashMap::from([("pk".into(), s(format!("DOMAIN#{domain}"))), ("sk".into(), s("DOMAIN"))])
}

fn token_key(id: &str) -> Item {
    HashMap::from([("pk".into(), s(format!("SCIMTOKEN#{id}"))), ("sk".into(), s("SCIMTOKEN"))])
}

/// A new organisation's item, holding no tokens yet.
fn new_org_item(org: &Organisation) -> Result<Item, StoreError> {
    let mut item = org_key(&org.id);
    item.insert("gsi1pk".into(), s("ORG"));
    item.insert("gsi1sk".into(), s(org.id.as_str()));
    item.insert("version".into(), n(org.version));
    item.insert("data".into(), s(serde_json::to_string(org).map_err(corrupt)?));
    item.insert("tokens".into(), n(0));
    Ok(item)
}

fn org_from(item: &Item) -> Result<Organisation, StoreError> {
    let mut org: Organisation = data(item, "organisation")?;
    if let (Some(connection), Some(raw)) = (org.connection.as_mut(), item.get(METADATA).and_then(|v| v.as_s().ok())) {
        // Only the connection's own issuer's: code that predates the attribute may have changed
        // the issuer without removing it. Anything else is left for sign-in to discover.
        match serde_json::from_str::<ProviderMetadata>(raw) {
            Ok(metadata) if metadata.check(&connection.issuer).is_ok() => connection.metadata = Some(metadata),
            _ => tracing::warn!(org = %org.id, "the kept provider metadata is not the connection's issuer's; sign-in discovers it"),
        }
    }
    if let (Some(connection), Some(sealed)) = (org.connection.as_mut(), item.get(SEALED_SECRET).and_then(|v| v.as_s().ok())) {
        connection.sealed_secret = Some(sealed.clone());
    }
    Ok(Organisation { version: version(item).unwrap_or(org.version), ..org })
}

/// The organisation item's attribute holding its connection's discovery document.
const METADATA: &str = "provider_metadata";
/// The organisation item's attribute holding its connection's client secret, sealed.
const SEALED_SECRET: &str = "sealed_secret";

/// The writes, each with its audit record's items when an operator made it.
impl DynamoOrgs {
    async fn create_org(&self, org: &Organisation, audit: Option<&AuditRecord>) -> Result<(), StoreError> {
        let org = Organisation { version: 1, ..org.clone() };
        let mut items = vec![self.table.put(new_org_item(&org)?, "attribute_not_exists(pk)", None)?];
        for domain in &org.domains {
            items.push(self.domain_guard(domain, &org.id)?);
        }
        // It has no SCIM resources yet: its page counters are complete from the start.
        items.push(crate::adapters::dynamo::scim::counters_complete(&self.table, &org.id)?);
        match self.table.transact(self.audited(items, audit)?).await {
            Ok(()) => Ok(()),
            Err(TxError::Condition(0)) => Err(StoreError::Conflict),
            Err(TxError::Condition(i)) => Err(StoreError::Taken(org.domains[i - 1].to_string())),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    async fn update_org(&self, current: &Organisation, next: &Organisation, audit: Option<&AuditRecord>) -> Result<(), StoreError> {
        if next.id != current.id || next.version != current.version + 1 {
            return Err(StoreError::Conflict);
        }
        let mut values = HashMap::from([
            (":previous".to_owned(), n(current.version)),
            (":version".to_owned(), n(next.version)),
            (":data".to_owned(), s(serde_json::to_string(next).map_err(corrupt)?)),
        ]);
        let expression = match next.connection.as_ref().and_then(|c| c.metadata.as_ref()) {
            Some(metadata) => {
                values.insert(":metadata".to_owned(), s(serde_json::to_string(metadata).map_err(corrupt)?));
                format!("SET version = :version, #data = :data, {METADATA} = :metadata REMOVE {SEALED_SECRET}")
            }
            None => format!("SET version = :version, #data = :data REMOVE {METADATA}, {SEALED_SECRET}"),
        };
        let mut items = vec![self.table.update(org_key(&next.id), &expression, "version = :previous", values)?];
        let added: Vec<&EmailDomain> = next.domains.iter().filter(|d| !current.owns(d)).collect();
        for domain in &added {
            items.push(self.domain_guard(domain, &next.id)?);
        }
        for domain in current.domains.iter().filter(|d| !next.owns(d)) {
            items.push(self.domain_release(domain, &next.id)?);
        }
        match self.table.transact(self.audited(items, audit)?).await {
            Ok(()) => Ok(()),
            Err(TxError::Condition(0)) => Err(StoreError::Conflict),
            Err(TxError::Condition(i)) if i <= added.len() => Err(StoreError::Taken(added[i - 1].to_string())),
            Err(TxError::Condition(_)) => Err(StoreError::Conflict),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    async fn remove_org(&self, org: &Organisation, audit: Option<&AuditRecord>) -> Result<(), StoreError> {
        let tokens = ScimTokenStore::list(self, &org.id).await?;
        // The token count must still be what was listed: a token issued meanwhile fails the
        // removal rather than outliving its organisation.
        let unchanged = HashMap::from([(":v".into(), n(org.version)), (":t".into(), n(tokens.len()))]);
        let mut items = vec![self.table.delete(org_key(&org.id), "version = :v AND tokens = :t", Some(unchanged))?];
        for domain in &org.domains {
            items.push(self.domain_release(domain, &org.id)?);
        }
        for token in &tokens {
            items.push(self.table.delete(token_key(&token.id), "attribute_exists(pk)", None)?);
        }
        self.table.transact(self.audited(items, audit)?).await.map_err(TxError::or_conflict)
    }

    /// `items`, then the items recording `audit`.
    fn audited(&self, mut items: Vec<TransactWriteItem>, audit: Option<&AuditRecord>) -> Result<Vec<TransactWriteItem>, StoreError> {
        if let Some(audit) = audit {
            items.extend(audit_puts(&self.table, audit, None)?);
        }
        Ok(items)
    }
}

#[async_trait]
impl OrgStore for DynamoOrgs {
    async fn create(&self, org: &Organisation) -> Result<(), StoreError> {
        self.create_org(org, None).await
    }

    async fn get(&self, id: &OrgId) -> Result<Option<Organisation>, StoreError> {
        self.table.get_item(org_key(id)).await?.as_ref().map(org_from).transpose()
    }

    async fn list(&self) -> Result<Vec<Organisation>, StoreError> {
        query_gsi1(&self.table.client, &self.table.name, "ORG").await?.iter().map(org_from).collect()
    }

    async fn update(&self, current: &Organisation, next: &Organisation) -> Result<(), StoreError> {
        self.update_org(current, next, None).await
    }

    async fn remove(&self, org: &Organisation) -> Result<(), StoreError> {
        self.remove_org(org, None).await
    }

    async fn owner_of(&self, domain: &EmailDomain) -> Result<Option<OrgId>, StoreError> {
        let item = self.table.get_item(domain_key(domain)).await?;
        let owner = item.as_ref().and_then(|i| i.get("org")).and_then(|v| v.as_s().ok());
        owner.map(|o| OrgId::parse(o).map_err(corrupt)).transpose()
    }

    async fn set_sealed_secret(&self, org: &OrgId, version: u64, sealed: Option<&str>) -> Result<(), StoreError> {
        let update = self.table.client.update_item().table_name(&self.table.name).set_key(Some(org_key(org))).condition_expression("version = :v");
        let update = match sealed {
            Some(sealed) => update.update_expression(format!("SET {SEALED_SECRET} = :sealed")).expression_attribute_values(":sealed", s(sealed)),
            None => update.update_expression(format!("REMOVE {SEALED_SECRET}")),
        };
        let update = update.expression_attribute_values(":v", n(version)).send().await;
        match update.map_err(|e| write_error(Failure::of(&e))) {
            // Changed (or removed) since: its next read seals again.
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl DynamoOrgs {
    async fn add_token_with(&self, record: &TokenRecord, audit: Option<&AuditRecord>) -> Result<(), StoreError> {
        let mut item = token_key(&record.id);
        item.insert("gsi1pk".into(), s(format!("ORG#{}#TOKENS", record.org)));
        item.insert("gsi1sk".into(), s(&record.id));
        item.insert("org".into(), s(record.org.as_str()));
        item.insert("data".into(), s(serde_json::to_string(record).map_err(corrupt)?));
        let count = self.table.update(
            org_key(&record.org),
            "SET tokens = tokens + :one",
            "attribute_exists(pk) AND tokens < :max",
            HashMap::from([(":one".into(), n(1)), (":max".into(), n(MAX_ACTIVE))]),
        )?;
        match self.table.transact(self.audited(vec![count, self.table.put(item, "attribute_not_exists(pk)", None)?], audit)?).await {
            Ok(()) => Ok(()),
            Err(TxError::Condition(0)) => match self.table.get_item(org_key(&record.org)).await? {
                Some(_) => Err(StoreError::Limit(format!("an organisation holds at most {MAX_ACTIVE} SCIM tokens; revoke one first"))),
                None => Err(StoreError::Missing(record.org.to_string())),
            },
            Err(TxError::Condition(_)) => Err(StoreError::Conflict),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    async fn revoke_with(&self, org: &OrgId, id: &str, audit: Option<&AuditRecord>) -> Result<(), StoreError> {
        let delete = self.table.delete(token_key(id), "org = :org", Some(HashMap::from([(":org".into(), s(org.as_str()))])))?;
        let count = self.table.update(org_key(org), "SET tokens = tokens - :one", "attribute_exists(pk)", HashMap::from([(":one".into(), n(1))]))?;
        match self.table.transact(self.audited(vec![delete, count], audit)?).await {
            Ok(()) => Ok(()),
            Err(TxError::Condition(_)) => Err(StoreError::Missing(format!("token {id} of {org}"))),
            Err(TxError::Store(e)) => Err(e),
        }
    }
}

#[async_trait]
impl ScimTokenStore for DynamoOrgs {
    async fn add(&self, record: &TokenRecord) -> Result<(), StoreError> {
        self.add_token_with(record, None).await
    }

    async fn find(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.table.get_item(token_key(id)).await?.as_ref().map(|i| data(i, "token")).transpose()
    }

    async fn list(&self, org: &OrgId) -> Result<Vec<TokenRecord>, StoreError> {
        query_gsi1(&self.table.client, &self.table.name, &format!("ORG#{org}#TOKENS")).await?.iter().map(|i| data(i, "token")).collect()
    }

    async fn revoke(&self, org: &OrgId, id: &str) -> Result<(), StoreError> {
        self.revoke_with(org, id, None).await
    }
}

#[async_trait]
impl AuditedOrgs for DynamoOrgs {
    async fn get(&self, id: &OrgId) -> Result<Option<Organisation>, StoreError> {
        OrgStore::get(self, id).await
    }

    async fn list(&self) -> Result<Vec<Organisation>, StoreError> {
        OrgStore::list(self).await
    }

    async fn create(&self, org: &Organisation, audit: &AuditRecord) -> Result<(), StoreError> {
        self.create_org(org, Some(audit)).await
    }

    async fn update(&self, current: &Organisation, next: &Organisation, audit: &AuditRecord) -> Result<(), StoreError> {
        self.update_org(current, next, Some(audit)).await
    }

    async fn remove(&self, org: &Organisation, audit: &AuditRecord) -> Result<(), StoreError> {
        self.remove_org(org, Some(audit)).await
    }

    async fn tokens(&self, org: &OrgId) -> Result<Vec<TokenRecord>, StoreError> {
        ScimTokenStore::list(self, org).await
    }

    async fn add_token(&self, record: &TokenRecord, audit: &AuditRecord) -> Result<(), StoreError> {
        self.add_token_with(record, Some(audit)).await
    }

    async fn revoke_token(&self, org: &OrgId, id: &str, audit: &AuditRecord) -> Result<(), StoreError> {
        self.revoke_with(org, id, Some(audit)).await
    }
}
