//! The operator's email templates, the same for the admin API and `bridge-admin email-template`:
//! list (each kind and language, the operator's or the shipped one), set (checked by
//! `EmailTemplate::validate`, over the version read), reset (back to the shipped one), and
//! preview (rendered with sample values, as the `CustomMessage` trigger would). Each change is
//! written with its audit record (`admin.email_template.saved` or `.reset`, target
//! `email_template:{kind}/{language}`) in one transaction.

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use super::AdminError;
use super::audit::{Actor, AuditRecord};
use super::ports::AuditedEmailTemplates;
use crate::common::language::Language;
use crate::common::store::StoreError;
use crate::events::EventType;
use crate::messages::email::{EmailKind, EmailTemplate, RenderedEmail, Values};
use crate::messages::ports::{StoredTemplate, template_for};

pub struct EmailTemplatesAdmin {
    pub store: Arc<dyn AuditedEmailTemplates>,
}

/// One kind and language as operators see it: the template in use and whether it is theirs
/// (`version` 0: the shipped one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateView {
    pub kind: EmailKind,
    pub language: Language,
    pub subject: String,
    pub html: String,
    pub custom: bool,
    pub version: u64,
}

impl EmailTemplatesAdmin {
    /// Every kind in both languages (one `Query`).
    pub async fn list(&self) -> Result<Vec<TemplateView>, AdminError> {
        let stored = self.store.all().await?;
        let views = EmailKind::ALL.into_iter().flat_map(|kind| Language::ALL.map(|language| (kind, language)));
        Ok(views.map(|(kind, language)| view(&stored, kind, language)).collect())
    }

    pub async fn get(&self, kind: EmailKind, language: Language) -> Result<TemplateView, AdminError> {
        Ok(view(&self.store.all().await?, kind, language))
    }

    /// Sets the template of `kind` in `language`, over `version` (0: the shipped one was read).
    pub async fn set(
        &self,
        actor: &Actor,
        kind: EmailKind,
        language: Language,
        template: EmailTemplate,
        version: u64,
        now: u64,
    ) -> Result<TemplateView, AdminError> {
        template.validate(kind).map_err(|e| AdminError::Invalid(e.to_string()))?;
        let current = self.get(kind, language).await?;
        if current.version != version {
            return Err(AdminError::Stale { current: current.version });
        }
        let next = StoredTemplate { kind, language, template, version: version + 1 };
        let after = view(std::slice::from_ref(&next), kind, language);
        let audit = AuditRecord::new(EventType::AdminEmailTemplateSaved, actor, target(kind, language), Some(json!(current)), Some(json!(after)), now);
        self.store.save(&next, &audit).await.map_err(|e| stale(e, version))?;
        Ok(after)
    }

    /// Puts the shipped template of `kind` in `language` back, over `version`.
    pub async fn reset(&self, actor: &Actor, kind: EmailKind, language: Language, version: u64, now: u64) -> Result<TemplateView, AdminError> {
        let current = self.get(kind, language).await?;
        if current.version != version {
            return Err(AdminError::Stale { current: current.version });
        }
        if !current.custom {
            return Ok(current);
        }
        let after = view(&[], kind, language);
        let audit = AuditRecord::new(EventType::AdminEmailTemplateReset, actor, target(kind, language), Some(json!(current)), Some(json!(after)), now);
        self.store.remove(kind, language, version, &audit).await.map_err(|e| stale(e, version))?;
        Ok(after)
    }

    /// The email as a person would get it: the template in use (or `draft`, checked first),
    /// rendered with a sample code and user name and `values`' product, name and email.
    pub async fn preview(&self, kind: EmailKind, language: Language, draft: Option<EmailTemplate>, values: Values) -> Result<RenderedEmail, AdminError> {
        let template = match draft {
            Some(draft) => {
                draft.validate(kind).map_err(|e| AdminError::Invalid(e.to_string()))?;
                draft
            }
            None => template_for(&self.store.all().await?, kind, language),
        };
        // As Cognito fills them: a code, and in an invitation the pool's own name for the user
        // (in a pool that signs in by email, a generated id, not the address).
        let rendered = template.render(&Values { code: "123456".into(), username: "2f6c1a8e-4b7d-4e0f-9c3a-5d8e7f6a1b2c".into(), ..values });
        rendered.ok_or_else(|| AdminError::Invalid("the email would be longer than the 20,000 characters Cognito sends".into()))
    }
}

fn view(stored: &[StoredTemplate], kind: EmailKind, language: Language) -> TemplateView {
    let own = stored.iter().find(|t| t.kind == kind && t.language == language);
    let template = template_for(stored, kind, language);
    TemplateView { kind, language, subject: template.subject, html: template.html, custom: own.is_some(), version: own.map_or(0, |t| t.version) }
}

fn target(kind: EmailKind, language: Language) -> String {
    format!("email_template:{}/{}", kind.name(), language.tag())
}

fn stale(e: StoreError, version: u64) -> AdminError {
    match e {
        StoreError::Conflict => AdminError::Stale { current: version + 1 },
        other => other.into(),
    }
}
