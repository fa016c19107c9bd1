//! `bridge-admin email-template`: the emails Cognito sends people (codes, invitations), in
//! Japanese and English: list them, show one, set one from files, put the shipped one back,
//! and preview one as a person would get it. Changes are audited like the console's own and
//! reach the trigger function within a minute.

use super::{Ctx, now, show};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use shared::adapters::dynamo::email_templates::DynamoEmailTemplates;
use shared::admin::audit::Actor;
use shared::admin::email_templates::EmailTemplatesAdmin;
use shared::common::language::Language;
use shared::messages::email::{EmailKind, EmailTemplate, Values};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum EmailTemplateCommand {
    /// Every kind in both languages (JSON lines): subject, whether it is yours, its version.
    List,
    /// One template in full (subject and HTML body).
    Show {
        #[command(flatten)]
        which: Which,
    },
    /// Set a template: the subject, and the HTML body from a file. Placeholders: {{code}}
    /// (required), {{username}} (required in `invitation`), {{product}}, {{name}}, {{email}}.
    Set {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        html_file: PathBuf,
    },
    /// Put the shipped template back.
    Reset {
        #[command(flatten)]
        which: Which,
    },
    /// The email as a person would get it (a sample code), from the template in use or from
    /// --subject/--html-file (checked, not saved); --out writes the HTML to a file to open.
    Preview {
        #[command(flatten)]
        which: Which,
        #[arg(long, requires = "html_file")]
        subject: Option<String>,
        #[arg(long, requires = "subject")]
        html_file: Option<PathBuf>,
        /// The product name (the stack's ProductName).
        #[arg(long, env = "PRODUCT_NAME", default_value = "Identity Bridge")]
        product: String,
        #[arg(long, default_value = "Hanako Yamada")]
        name: String,
        #[arg(long, default_value = "hanako@example.com")]
        email: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Which template: a kind and a language.
#[derive(Args)]
pub struct Which {
    /// sign-up, resend-code, forgot-password, update-attribute, verify-attribute, invitation,
    /// sign-in-code or account-exists.
    #[arg(value_parser = parse_kind)]
    kind: EmailKind,
    /// ja or en.
    #[arg(long, value_parser = parse_language)]
    lang: Language,
}

fn parse_kind(raw: &str) -> Result<EmailKind, String> {
    EmailKind::parse(raw).ok_or_else(|| format!("a kind is one of {}", EmailKind::ALL.map(EmailKind::name).join(", ")))
}

fn parse_language(raw: &str) -> Result<Language, String> {
    Language::parse(raw).ok_or_else(|| "a language is ja or en".into())
}

fn template(subject: String, html_file: &PathBuf) -> Result<EmailTemplate> {
    let html = std::fs::read_to_string(html_file).with_context(|| format!("reading {}", html_file.display()))?;
    Ok(EmailTemplate { subject, html })
}

pub async fn run(command: EmailTemplateCommand, ctx: &Ctx) -> Result<()> {
    let admin = EmailTemplatesAdmin { store: Arc::new(DynamoEmailTemplates::new(aws_sdk_dynamodb::Client::new(&ctx.sdk), ctx.table()?)) };
    let actor = Actor::cli();
    match command {
        EmailTemplateCommand::List => {
            for view in admin.list().await? {
                let line =
                    serde_json::json!({"kind": view.kind, "lang": view.language, "subject": view.subject, "custom": view.custom, "version": view.version});
                println!("{line}");
            }
            Ok(())
        }
        EmailTemplateCommand::Show { which } => show(&admin.get(which.kind, which.lang).await?),
        EmailTemplateCommand::Set { which, subject, html_file } => {
            let current = admin.get(which.kind, which.lang).await?;
            show(&admin.set(&actor, which.kind, which.lang, template(subject, &html_file)?, current.version, now()).await?)
        }
        EmailTemplateCommand::Reset { which } => {
            let current = admin.get(which.kind, which.lang).await?;
            show(&admin.reset(&actor, which.kind, which.lang, current.version, now()).await?)
        }
        EmailTemplateCommand::Preview { which, subject, html_file, product, name, email, out } => {
            let draft = match (subject, html_file) {
                (Some(subject), Some(file)) => Some(template(subject, &file)?),
                _ => None,
            };
            let values = Values { product, name, email, ..Values::default() };
            let rendered = admin.preview(which.kind, which.lang, draft, values).await?;
            if let Some(out) = out {
                std::fs::write(&out, &rendered.html).with_context(|| format!("writing {}", out.display()))?;
            }
            show(&rendered)
        }
    }
}
