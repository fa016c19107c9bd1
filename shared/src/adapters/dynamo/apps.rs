//! Apps in the bridge's DynamoDB table.
//!
//! The table is shared by every feature: generic keys `pk`/`sk`, one generic index `gsi1`
//! (`gsi1pk`/`gsi1sk`), and a TTL attribute `expires_at`. Apps are stored as:
//!
//! | item | `pk`       | `sk`  | `gsi1pk` | `gsi1sk` | other attributes                      |
//! |------|------------|-------|----------|----------|---------------------------------------|
//! | app  | `APP#{id}` | `APP` | `APP`    | `{id}`   | `kind`, `version` (N), `data` (JSON)  |
//!
//! Access patterns: an app by id (`GetItem`, the sign-in path); all apps in id order (`Query`
//! on `gsi1`: the admin API and tool, which fail on an app that does not read and name it, and
//! the account page, which leaves it out). `version` guards every write (optimistic locking). An
//! operator's change is one transaction with its audit record (`AuditedApps`).

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
use std::sync::Arc;

use crate::adapters::aws::Failure;
use crate::adapters::dynamo::audit::audit_puts;
use crate::adapters::dynamo::{Item, Table, corrupt, data, n, query_gsi1, s, version, version_condition, write_error};
use crate::admin::audit::AuditRecord;
use crate::admin::ports::AuditedApps;
use crate::common::store::StoreError;
use crate::tokens::app::{App, AppId};
use crate::tokens::ports::{AppDirectory, AppStore};
use crate::tokens::targets::Target;

const APP_SK: &str = "APP";

pub struct DynamoApps {
    client: Client,
    table: String,
}

impl DynamoApps {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn key(id: &AppId) -> Item {
    HashMap::from([("pk".into(), s(format!("APP#{id}"))), ("sk".into(), s(APP_SK))])
}

fn kind(app: &App) -> &'static str {
    match app.target {
        Target::Zendesk(_) => "zendesk",
        Target::Insided(_) => "insided",
        Target::Discourse(_) => "discourse",
        Target::Jwt(_) => "jwt",
        Target::Oidc(_) => "oidc",
        Target::Saml(_) => "saml",
    }
}

fn to_item(app: &App) -> Result<Item, StoreError> {
    let data = serde_json::to_string(app).map_err(corrupt)?;
    let mut item = key(&app.id);
    item.insert("gsi1pk".into(), s(APP_SK));
    item.insert("gsi1sk".into(), s(app.id.as_str()));
    item.insert("kind".into(), s(kind(app)));
    item.insert("version".into(), n(app.version));
    item.insert("data".into(), s(data));
    Ok(item)
}

fn from_item(item: &Item) -> Result<App, StoreError> {
    let app: App = data(item, "app")?;
    Ok(App { version: version(item).unwrap_or(app.version), ..app })
}

#[async_trait]
impl AppDirectory for DynamoApps {
    async fn app(&self, id: &AppId) -> Result<Option<Arc<App>>, StoreError> {
        let out = self.client.get_item().table_name(&self.table).set_key(Some(key(id))).send().await.map_err(|e| write_error(Failure::of(&e)))?;
        out.item.as_ref().map(from_item).transpose().map(|app| app.map(Arc::new))
    }

    async fn list(&self) -> Result<Vec<App>, StoreError> {
        let items = query_gsi1(&self.client, &self.table, APP_SK).await?;
        let readable = items.iter().filter_map(|item| match from_item(item) {
            Ok(app) => Some(app),
            Err(error) => {
                let key = item.get("pk").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_default();
                tracing::warn!(key, %error, "an app that does not read is left out of the list");
                None
            }
        });
        Ok(readable.collect())
    }
}

#[async_trait]
impl AppStore for DynamoApps {
    async fn create(&self, app: &App) -> Result<(), StoreError> {
        let item = to_item(&App { version: 1, ..app.clone() })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| write_error(Failure::of(&e)))?;
        Ok(())
    }

    async fn update(&self, app: &App) -> Result<(), StoreError> {
        let previous = app.version.checked_sub(1).ok_or(StoreError::Conflict)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(app)?))
            .condition_expression("version = :previous")
            .expression_attribute_values(":previous", n(previous))
            .send()
            .await
            .map_err(|e| write_error(Failure::of(&e)))?;
        Ok(())
    }

    async fn remove(&self, id: &AppId) -> Result<(), StoreError> {
        let result = self.client.delete_item().table_name(&self.table).set_key(Some(key(id))).condition_expression("attribute_exists(pk)").send().await;
        match result.map_err(|e| write_error(Failure::of(&e))) {
            Err(StoreError::Conflict) => Err(StoreError::Missing(id.to_string())),
            other => other.map(|_| ()),
        }
    }
}

impl DynamoApps {
    /// `change` and the items recording `audit`, in one transaction.
    async fn audited(&self, change: aws_sdk_dynamodb::types::TransactWriteItem, audit: &AuditRecord) -> Result<(), StoreError> {
        let table = self.table();
        let mut items = vec![change];
        items.extend(audit_puts(&table, audit, None)?);
        table.transact(items).await.map_err(|e| e.or_conflict())
    }

    fn table(&self) -> Table {
        Table::new(self.client.clone(), &self.table)
    }
}

#[async_trait]
impl AuditedApps for DynamoApps {
    async fn get(&self, id: &AppId) -> Result<Option<App>, StoreError> {
        Ok(self.app(id).await?.map(Arc::unwrap_or_clone))
    }

    /// Strict, unlike the sign-in side's list: the operators are told which app does not read.
    async fn list(&self) -> Result<Vec<App>, StoreError> {
        let items = query_gsi1(&self.client, &self.table, APP_SK).await?;
        let read = |item: &Item| {
            from_item(item).map_err(|e| {
                let key = item.get("pk").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_default();
                StoreError::Corrupt(format!("{key} ({e})"))
            })
        };
        items.iter().map(read).collect()
    }

    async fn create(&self, app: &App, audit: &AuditRecord) -> Result<(), StoreError> {
        let put = self.table().put(to_item(&App { version: 1, ..app.clone() })?, "attribute_not_exists(pk)", None)?;
        self.audited(put, audit).await
    }

    async fn update(&self, app: &App, audit: &AuditRecord) -> Result<(), StoreError> {
        let (condition, values) = version_condition(app.version)?;
        let put = self.table().put(to_item(app)?, condition, values)?;
        self.audited(put, audit).await
    }

    async fn remove(&self, app: &App, audit: &AuditRecord) -> Result<(), StoreError> {
        let values = HashMap::from([(":v".to_owned(), n(app.version))]);
        let delete = self.table().delete(key(&app.id), "version = :v", Some(values))?;
        self.audited(delete, audit).await
    }
}
