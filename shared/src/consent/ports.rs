//! Where documents and people's decisions are kept: [`ConsentStore`], and the record of one
//! decision ([`ConsentRecord`]), which is what an export lists.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::common::store::StoreError;
use crate::consent::decision::{Decision, Via};
use crate::consent::document::{ConsentDocument, DocumentId};
use crate::consent::mirror::Accepted;
use crate::events::IdentityEvent;

/// One decision of one person about one version of a document: who, what, when, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The Cognito user name.
    pub username: String,
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub document: DocumentId,
    pub version: u32,
    /// `true`: accepted; `false`: an optional consent declined or withdrawn.
    pub accepted: bool,
    /// Seconds since the epoch.
    pub at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Where it was made.
    pub via: Via,
}

impl Accepted {
    /// What `records` (one person's, oldest first) leave accepted: each document's last decision.
    pub fn from_records(records: &[ConsentRecord]) -> Self {
        let mut accepted = Self::default();
        for record in records {
            accepted.apply(&Decision { document: record.document.clone(), version: record.version, accepted: record.accepted });
        }
        accepted
    }
}

/// Documents and decisions (publishing is the operator's: `admin::ports::AuditedConsents`).
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// Every published version of every document (one read).
    async fn documents(&self) -> Result<Vec<ConsentDocument>, StoreError>;
    /// Records `records` and their `events` (`user.consent_given`), all or nothing.
    async fn record(&self, records: &[ConsentRecord], events: &[IdentityEvent]) -> Result<(), StoreError>;
    /// Spends the consent step `id` (kept until `until`, seconds since the epoch): `true` the
    /// first time, `false` once spent.
    async fn spend(&self, id: &str, until: u64) -> Result<bool, StoreError>;
    /// The person's records (by Cognito user name), oldest first.
    async fn of_person(&self, username: &str) -> Result<Vec<ConsentRecord>, StoreError>;
    /// Everyone's records about one version of a document, oldest first.
    async fn of_version(&self, document: &DocumentId, version: u32) -> Result<Vec<ConsentRecord>, StoreError>;
}
