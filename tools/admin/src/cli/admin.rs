//! `bridge-admin admin`: who may use the operators' console (`grant`, `revoke`, `show`) and the
//! audit trail of every change (`audit`). Roles are Cognito groups (`shared::admin::role`);
//! changes here are audited like the console's own.

use super::{Ctx, now, show};
use anyhow::{Context, Result};
use clap::Subcommand;
use shared::adapters::cognito::directory::CognitoDirectory;
use shared::adapters::dynamo::audit::DynamoAudit;
use shared::adapters::dynamo::sessions::DynamoSessions;
use shared::admin::audit::{Actor, AuditQuery};
use shared::admin::people::PeopleAdmin;
use shared::admin::ports::AuditLog;
use shared::admin::role::Role;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Give a person a console role (admin, operator or viewer), replacing any other.
    Grant {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Take a person's console role and end their sessions.
    Revoke {
        #[arg(long)]
        email: String,
    },
    /// Show a person: organisation, groups, console role, live sessions.
    Show {
        #[arg(long)]
        email: String,
    },
    /// The audit trail, newest first (JSON lines).
    Audit {
        #[arg(long)]
        actor: Option<String>,
        /// `app:{id}`, `user:{username}`.
        #[arg(long)]
        target: Option<String>,
        /// An event type (`admin.app.updated`).
        #[arg(long = "type")]
        kind: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| format!("a role is admin, operator or viewer, not {raw}"))
}

pub async fn run(command: AdminCommand, ctx: &Ctx, user_pool: Option<&str>) -> Result<()> {
    let table = ctx.table()?;
    let dynamo = aws_sdk_dynamodb::Client::new(&ctx.sdk);
    let audit: Arc<dyn AuditLog> = Arc::new(DynamoAudit::new(dynamo.clone(), table));
    let people = || -> Result<PeopleAdmin> {
        let pool = user_pool.context("set --user-pool or USER_POOL_ID")?;
        Ok(PeopleAdmin {
            directory: Arc::new(CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(&ctx.sdk), pool)),
            sessions: Arc::new(DynamoSessions::new(dynamo.clone(), table)),
            audit: audit.clone(),
            codes: Arc::new(shared::adapters::dynamo::sign_ups::DynamoSignUps::new(dynamo.clone(), table)),
            orgs: Arc::new(shared::adapters::dynamo::orgs::DynamoOrgs::new(dynamo.clone(), table)),
            refresh: Arc::new(shared::adapters::dynamo::refresh_tokens::DynamoRefreshFamilies::new(dynamo.clone(), table)),
            apps: Arc::new(shared::adapters::dynamo::apps::DynamoApps::new(dynamo.clone(), table)),
        })
    };
    let actor = Actor::cli();
    match command {
        AdminCommand::Grant { email, role } => {
            let people = people()?;
            let person = people.find(&email, now()).await?;
            show(&people.grant(&actor, &person.username, role, now()).await?)
        }
        AdminCommand::Revoke { email } => {
            let people = people()?;
            let person = people.find(&email, now()).await?;
            show(&people.revoke(&actor, &person.username, now()).await?)
        }
        AdminCommand::Show { email } => show(&people()?.find(&email, now()).await?),
        AdminCommand::Audit { actor, target, kind, limit } => {
            let kind =
                kind.map(|k| serde_json::from_value(serde_json::Value::String(k.clone())).with_context(|| format!("{k} is not an event type"))).transpose()?;
            let query = AuditQuery { actor, target, kind, limit: Some(limit), ..AuditQuery::default() };
            query.check()?;
            for record in audit.page(&query).await?.records {
                println!("{}", serde_json::to_string(&record)?);
            }
            Ok(())
        }
    }
}
