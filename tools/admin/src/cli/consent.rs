//! `bridge-admin consent`: the documents people accept (terms of service, privacy policy) and
//! the optional consents they may give (marketing): publish a new version, list them, and
//! export the records of one person or of one version of a document (JSON lines).

use super::{Ctx, now, show};
use anyhow::{Context, Result};
use clap::Subcommand;
use shared::adapters::cognito::directory::CognitoDirectory;
use shared::adapters::dynamo::consents::DynamoConsents;
use shared::admin::audit::Actor;
use shared::admin::consent::{ConsentAdmin, Draft};
use shared::consent::document::{DocumentId, Localized};
use std::sync::Arc;

#[derive(Subcommand)]
pub enum ConsentCommand {
    /// Publish the next version of a document (version 1 for a new one), required or optional as
    /// the version before unless told. A required document's new version is asked of everyone at
    /// their next sign-in (within a minute).
    Publish {
        /// The document's name: 1 to 32 of a-z, 0-9 and -, such as terms, privacy, marketing.
        #[arg(value_parser = parse_document)]
        document: DocumentId,
        /// Must be accepted to reach any app. Neither this nor --optional: as the version
        /// before (a new document: optional).
        #[arg(long, conflicts_with = "optional")]
        required: bool,
        /// A consent people may give or withdraw (marketing).
        #[arg(long)]
        optional: bool,
        #[arg(long)]
        title_ja: String,
        #[arg(long)]
        title_en: String,
        /// Where the Japanese text is read (https).
        #[arg(long)]
        url_ja: String,
        #[arg(long)]
        url_en: String,
    },
    /// Every published version of every document (JSON lines).
    List,
    /// One person's records (by email) and where they stand with the current documents.
    Show { email: String },
    /// Everyone's records about one version of a document (JSON lines), oldest first.
    Export {
        #[arg(value_parser = parse_document)]
        document: DocumentId,
        version: u32,
    },
}

fn parse_document(raw: &str) -> Result<DocumentId, String> {
    DocumentId::parse(raw).map_err(|e| e.to_string())
}

pub async fn run(command: ConsentCommand, ctx: &Ctx, user_pool: Option<&str>) -> Result<()> {
    let dynamo = aws_sdk_dynamodb::Client::new(&ctx.sdk);
    let store = Arc::new(DynamoConsents::new(dynamo.clone(), ctx.table()?));
    let audit = Arc::new(shared::adapters::dynamo::audit::DynamoAudit::new(dynamo, ctx.table()?));
    let pool = aws_sdk_cognitoidentityprovider::Client::new(&ctx.sdk);
    let admin = ConsentAdmin { store, audit, pool: Arc::new(CognitoDirectory::new(pool, user_pool.unwrap_or_default())) };
    match command {
        ConsentCommand::Publish { document, required, optional, title_ja, title_en, url_ja, url_en } => {
            let required = (required || optional).then_some(required);
            let draft =
                Draft { id: document, version: None, required, title: Localized { ja: title_ja, en: title_en }, url: Localized { ja: url_ja, en: url_en } };
            show(&admin.publish(&Actor::cli(), draft, now()).await?)
        }
        ConsentCommand::List => lines(admin.list().await?),
        ConsentCommand::Show { email } => {
            user_pool.context("set --user-pool or USER_POOL_ID")?;
            show(&admin.of_person(&email).await?)
        }
        ConsentCommand::Export { document, version } => lines(admin.of_version(&document, version).await?),
    }
}

fn lines<T: serde::Serialize>(values: Vec<T>) -> Result<()> {
    for value in values {
        println!("{}", serde_json::to_string(&value)?);
    }
    Ok(())
}
