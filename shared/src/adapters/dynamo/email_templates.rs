//! The operator's email templates in the bridge's table:
//!
//! | item     | `pk`             | `sk`               | other attributes                              |
//! |----------|------------------|--------------------|-----------------------------------------------|
//! | template | `EMAIL_TEMPLATE` | `{kind}#{language}` | `subject`, `html`, `version` (N), `updated_at` |
//!
//! All of them (at most 14) are one `Query` of one partition: the `CustomMessage` trigger reads
//! them once per cache period. A change is one transaction with its audit record, guarded by
//! `version`.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;

use crate::adapters::dynamo::audit::audit_puts;
use crate::adapters::dynamo::{Item, Table, corrupt, key, n, s, version, version_condition};
use crate::admin::audit::AuditRecord;
use crate::admin::ports::AuditedEmailTemplates;
use crate::common::language::Language;
use crate::common::store::StoreError;
use crate::messages::email::{EmailKind, EmailTemplate};
use crate::messages::ports::{EmailTemplates, StoredTemplate};

const PK: &str = "EMAIL_TEMPLATE";

pub struct DynamoEmailTemplates {
    table: Table,
}

impl DynamoEmailTemplates {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }

    /// `change` and the items recording `audit`, in one transaction.
    async fn audited(&self, change: aws_sdk_dynamodb::types::TransactWriteItem, audit: &AuditRecord) -> Result<(), StoreError> {
        let mut items = vec![change];
        items.extend(audit_puts(&self.table, audit, None)?);
        self.table.transact(items).await.map_err(|e| e.or_conflict())
    }
}

fn sort_key(kind: EmailKind, language: Language) -> String {
    format!("{}#{}", kind.name(), language.tag())
}

fn text(item: &Item, name: &str) -> Result<String, StoreError> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().ok_or_else(|| corrupt(format!("an email template without `{name}`")))
}

fn from_item(item: &Item) -> Result<StoredTemplate, StoreError> {
    let sk = text(item, "sk")?;
    let (kind, language) = sk.split_once('#').ok_or_else(|| corrupt(format!("an email template's key `{sk}`")))?;
    let (Some(kind), Some(language)) = (EmailKind::parse(kind), Language::parse(language)) else {
        return Err(corrupt(format!("an email template's key `{sk}`")));
    };
    let template = EmailTemplate { subject: text(item, "subject")?, html: text(item, "html")? };
    Ok(StoredTemplate { kind, language, template, version: version(item).unwrap_or(1) })
}

#[async_trait]
impl EmailTemplates for DynamoEmailTemplates {
    async fn all(&self) -> Result<Vec<StoredTemplate>, StoreError> {
        self.table.sort_key_range(PK, "0", "~").await?.iter().map(from_item).collect()
    }
}

#[async_trait]
impl AuditedEmailTemplates for DynamoEmailTemplates {
    async fn save(&self, template: &StoredTemplate, audit: &AuditRecord) -> Result<(), StoreError> {
        let mut item = key(PK.into(), &sort_key(template.kind, template.language));
        item.insert("subject".into(), s(&template.template.subject));
        item.insert("html".into(), s(&template.template.html));
        item.insert("version".into(), n(template.version));
        item.insert("updated_at".into(), n(audit.at));
        let (condition, values) = version_condition(template.version)?;
        self.audited(self.table.put(item, condition, values)?, audit).await
    }

    async fn remove(&self, kind: EmailKind, language: Language, version: u64, audit: &AuditRecord) -> Result<(), StoreError> {
        let values = std::collections::HashMap::from([(":version".to_owned(), n(version))]);
        self.audited(self.table.delete(key(PK.into(), &sort_key(kind, language)), "version = :version", Some(values))?, audit).await
    }
}
