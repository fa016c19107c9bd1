//! The operator's consent documents and people's decisions, for `bridge-admin consent`:
//! publish the next version of a document (checked, audited as `admin.consent.published`,
//! target `consent:{document}`), list every version, and export the records of one person (by
//! email) or of one version of a document. Published versions are never changed or removed:
//! people's records point at them.

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use super::AdminError;
use super::audit::{Actor, AuditRecord};
use super::ports::{AuditLog, AuditedConsents, RecordCursor, RecordPage};
use crate::common::store::StoreError;
use crate::consent::document::{ConsentDocument, DocumentId, Localized, MAX_DOCUMENTS, current};
use crate::consent::mirror::Accepted;
use crate::consent::ports::ConsentRecord;
use crate::directory::ports::PoolUsers;
use crate::events::EventType;

/// Most records in one page of a version's records.
pub const MAX_RECORDS_PAGE: usize = 1000;

pub struct ConsentAdmin {
    pub store: Arc<dyn AuditedConsents>,
    /// Where an export's pages are recorded.
    pub audit: Arc<dyn AuditLog>,
    /// Where a person is found by email.
    pub pool: Arc<dyn PoolUsers>,
}

/// A new version as the operator writes it (the version number and time are the bridge's).
#[derive(Debug, Clone)]
pub struct Draft {
    pub id: DocumentId,
    /// The version this publication must become (the version the operator read, plus one; 1 for
    /// a new document), so that one published meanwhile is never followed unseen; `None`: the
    /// next, whatever it is.
    pub version: Option<u32>,
    /// Whether it must be accepted; `None`: as the version before (a new document: optional).
    pub required: Option<bool>,
    pub title: Localized,
    pub url: Localized,
}

impl Draft {
    /// Checks the titles and URLs as [`ConsentDocument::validate`] does: [`AdminError::Invalid`]
    /// otherwise. Whatever the version, so a bad draft is refused before its version is looked at.
    pub fn check(&self) -> Result<(), AdminError> {
        let doc = ConsentDocument { id: self.id.clone(), version: 1, required: false, title: self.title.clone(), url: self.url.clone(), published: 0 };
        doc.validate().map_err(|e| AdminError::Invalid(e.to_string()))
    }
}

/// One person's decisions and where they stand with the current documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonConsents {
    pub username: String,
    /// Oldest first.
    pub records: Vec<ConsentRecord>,
    /// The current documents, each with the version the person accepted (none: not accepted).
    pub current: Vec<Standing>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standing {
    pub document: DocumentId,
    pub version: u32,
    pub required: bool,
    pub accepted_version: Option<u32>,
}

impl ConsentAdmin {
    /// Publishes the next version of `draft.id` (1 for a new document), required as the
    /// version before unless `draft.required` says otherwise. From then on (within a minute, the
    /// sign-in functions' cache), a required document's new version is asked of everyone at
    /// their next sign-in.
    ///
    /// Errors: [`AdminError::Stale`] (with the current version, 0 for none) when `draft.version`
    /// is not the next, or another publication took it first; [`AdminError::Invalid`] for a
    /// title or URL [`ConsentDocument::validate`] refuses, or an 11th document.
    pub async fn publish(&self, actor: &Actor, draft: Draft, now: u64) -> Result<ConsentDocument, AdminError> {
        let all = self.store.documents().await?;
        let before = all.iter().filter(|d| d.id == draft.id).max_by_key(|d| d.version).cloned();
        let names: std::collections::BTreeSet<&DocumentId> = all.iter().map(|d| &d.id).collect();
        if before.is_none() && names.len() >= MAX_DOCUMENTS {
            return Err(AdminError::Invalid(format!("at most {MAX_DOCUMENTS} documents; publish a new version of one instead")));
        }
        let version = before.as_ref().map_or(1, |d| d.version + 1);
        let required = draft.required.unwrap_or_else(|| before.as_ref().is_some_and(|d| d.required));
        draft.check()?;
        let doc = ConsentDocument { id: draft.id, version, required, title: draft.title, url: draft.url, published: now };
        if draft.version.is_some_and(|asked| asked != version) {
            return Err(AdminError::Stale { current: u64::from(version - 1) });
        }
        let audit = AuditRecord::new(EventType::AdminConsentPublished, actor, format!("consent:{}", doc.id), before.map(|d| json!(d)), Some(json!(doc)), now);
        match self.store.publish(&doc, &audit).await {
            Ok(()) => Ok(doc),
            Err(StoreError::Conflict) => Err(AdminError::Stale { current: u64::from(version) }),
            Err(e) => Err(e.into()),
        }
    }

    /// Every published version, each document's oldest first.
    pub async fn list(&self) -> Result<Vec<ConsentDocument>, AdminError> {
        let mut all = self.store.documents().await?;
        all.sort_by(|a, b| (&a.id, a.version).cmp(&(&b.id, b.version)));
        Ok(all)
    }

    /// The records of the person whose email is `email`.
    pub async fn of_person(&self, email: &str) -> Result<PersonConsents, AdminError> {
        let username = self.pool.find_by_email(email).await?.ok_or_else(|| AdminError::NotFound(format!("a person with the email {email}")))?;
        self.of_username(username).await
    }

    /// The records of the person whose Cognito user name is `username` (none for a user name no
    /// one has: the caller checks the person exists). Two reads, side by side.
    pub async fn of_username(&self, username: String) -> Result<PersonConsents, AdminError> {
        let (records, documents) = tokio::join!(self.store.of_person(&username), self.store.documents());
        let records = records?;
        let accepted = Accepted::from_records(&records);
        let current = current(&documents?)
            .into_iter()
            .map(|d| Standing { accepted_version: accepted.version(&d.id), document: d.id, version: d.version, required: d.required })
            .collect();
        Ok(PersonConsents { username, records, current })
    }

    /// A page of everyone's records about `version` of `document`, oldest first: `limit` (1 to
    /// [`MAX_RECORDS_PAGE`]) from just after `cursor` (a previous page's `next_cursor`). Each
    /// page read is recorded (`admin.consent.exported`, target `consent:{document}`) before it
    /// is answered: no page leaves unrecorded.
    ///
    /// Errors: [`AdminError::Invalid`] for a limit out of range or a cursor no page gave;
    /// [`AdminError::NotFound`] for a version never published.
    pub async fn records(
        &self,
        actor: &Actor,
        document: &DocumentId,
        version: u32,
        cursor: Option<&str>,
        limit: usize,
        now: u64,
    ) -> Result<RecordPage, AdminError> {
        if !(1..=MAX_RECORDS_PAGE).contains(&limit) {
            return Err(AdminError::Invalid(format!("limit is 1 to {MAX_RECORDS_PAGE}")));
        }
        let after = cursor.map(|c| RecordCursor::parse(c).ok_or_else(|| AdminError::Invalid("cursor is not one a page gave".into()))).transpose()?;
        let (documents, page) = tokio::join!(self.store.documents(), self.store.version_page(document, version, after.as_ref(), limit));
        if !documents?.iter().any(|d| &d.id == document && d.version == version) {
            return Err(AdminError::NotFound(format!("version {version} of {document}")));
        }
        let page = page?;
        let read = json!({"version": version, "records": page.records.len(), "from_cursor": cursor.is_some()});
        self.audit.record(&AuditRecord::new(EventType::AdminConsentExported, actor, format!("consent:{document}"), None, Some(read), now), None).await?;
        Ok(page)
    }

    /// Everyone's records about `version` of `document`, oldest first.
    pub async fn of_version(&self, document: &DocumentId, version: u32) -> Result<Vec<ConsentRecord>, AdminError> {
        Ok(self.store.of_version(document, version).await?)
    }
}
