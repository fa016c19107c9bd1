//! Where the operator's email templates are kept (their changes to the shipped ones).

use async_trait::async_trait;

use super::email::{EmailKind, EmailTemplate, shipped};
use crate::common::language::Language;
use crate::common::store::StoreError;

/// A template the operator set for one kind and language, at `version` (1 for the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTemplate {
    pub kind: EmailKind,
    pub language: Language,
    pub template: EmailTemplate,
    pub version: u64,
}

/// Reads the operator's templates.
#[async_trait]
pub trait EmailTemplates: Send + Sync {
    /// Every template the operator set (the shipped ones are not stored).
    async fn all(&self) -> Result<Vec<StoredTemplate>, StoreError>;
}

/// The template an email of `kind` in `language` uses: the operator's, else the shipped one.
pub fn template_for(stored: &[StoredTemplate], kind: EmailKind, language: Language) -> EmailTemplate {
    stored.iter().find(|t| t.kind == kind && t.language == language).map_or_else(|| shipped(kind, language), |t| t.template.clone())
}
