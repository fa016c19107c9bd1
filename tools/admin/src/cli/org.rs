//! `bridge-admin org`: organisations (corporate customers), their email domains, policies, SCIM
//! tokens and pending Cognito syncs, and their corporate sign-in connection.

use super::{Ctx, SecretInput, show};
use anyhow::{Context, Result};
use bridge_admin::orgs::{self, Orgs};
use clap::Subcommand;
use shared::adapters::cognito::directory::CognitoDirectory;
use shared::adapters::dynamo::scim::DynamoScim;
use shared::adapters::dynamo::sessions::DynamoSessions;
use shared::admin::orgs::ConnectionSettings;
use shared::directory::org::OrgPolicies;
use shared::directory::ports::ScimStore;
use shared::directory::scim::service::ScimService;
use shared::signin::ending_sessions::EndingSessions;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an organisation owning the given email domains (each may belong to one only).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "domain")]
        domains: Vec<String>,
        /// What a SCIM DELETE means: deactivate (keep the record, disable the user) or delete.
        #[arg(long, default_value = "deactivate")]
        delete_mode: String,
        /// Let SCIM-provisioned people also sign in with a password.
        #[arg(long)]
        password_sign_in: bool,
    },
    /// List all organisations (JSON lines).
    List,
    /// Show one organisation (JSON).
    Show {
        id: String,
    },
    AddDomain {
        id: String,
        domain: String,
    },
    RemoveDomain {
        id: String,
        domain: String,
    },
    /// Change the organisation's policies; only the options given change.
    SetPolicy {
        id: String,
        #[arg(long)]
        delete_mode: Option<String>,
        #[arg(long)]
        password_sign_in: Option<bool>,
    },
    /// Remove the organisation, its domains and its SCIM tokens.
    Remove {
        id: String,
    },
    /// Issue a SCIM bearer token (printed once; only its digest is stored).
    IssueToken {
        id: String,
        #[arg(long, default_value = "scim")]
        label: String,
    },
    /// List an organisation's tokens (ids and labels, never values).
    Tokens {
        id: String,
    },
    RevokeToken {
        id: String,
        token_id: String,
    },
    /// Connect the organisation to its OpenID provider for corporate sign-in (replaces any
    /// connection). The client secret, if any, is read from stdin into Secrets Manager.
    Connect {
        id: String,
        /// `oidc` (the provider directly) or `cognito` (an identity provider of the user pool).
        #[arg(long, default_value = "oidc")]
        kind: String,
        /// The OpenID issuer URL (for `cognito`: the pool's issuer).
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        /// Read the client secret from stdin (confidential clients).
        #[arg(long)]
        client_secret_stdin: bool,
        /// `cognito` only: the pool's identity provider name.
        #[arg(long)]
        identity_provider: Option<String>,
        /// The claim with the email: email, upn or preferred_username.
        #[arg(long, default_value = "email")]
        email_claim: String,
        /// Do not send the typed email as login_hint.
        #[arg(long)]
        no_login_hint: bool,
        /// Who may sign in: scim (provisioned people only) or on_first_sign_in.
        #[arg(long, default_value = "scim")]
        provisioning: String,
        /// Continue to the provider's end_session_endpoint on sign-out.
        #[arg(long)]
        single_logout: bool,
    },
    /// Remove the organisation's sign-in connection.
    Disconnect {
        id: String,
    },
    /// SCIM users whose Cognito sync is outstanding, with the last error.
    ScimPending {
        id: String,
    },
    /// Retry the organisation's outstanding Cognito syncs now (the scheduled sweep does this
    /// every 5 minutes).
    ScimSync {
        id: String,
        /// The user pool (the stack's `UserPoolId` output).
        #[arg(long, env = "USER_POOL_ID")]
        user_pool_id: String,
    },
    /// Build the counters that locate a SCIM page from the organisation's users and groups, and
    /// mark them complete: once, for an organisation created before the counters existed. Safe
    /// while its SCIM client writes.
    ScimRecount {
        id: String,
    },
}

/// Runs an `org` command against the table (and, for `scim-sync`, the user pool).
pub async fn run(command: OrgCommand, ctx: &Ctx) -> Result<()> {
    let table = ctx.table()?;
    let dynamo = aws_sdk_dynamodb::Client::new(&ctx.sdk);
    let orgs = Orgs::new(&ctx.sdk, table, &ctx.secret_prefix);
    match command {
        OrgCommand::Create { name, domains, delete_mode, password_sign_in } => {
            let policies = OrgPolicies { delete: orgs::delete_mode(&delete_mode)?, password_sign_in };
            show(&orgs.create(&name, &domains, policies).await?)?;
        }
        OrgCommand::List => {
            for org in orgs.list().await? {
                println!("{}", serde_json::to_string(&org)?);
            }
        }
        OrgCommand::Show { id } => show(&orgs.get(&id).await?)?,
        OrgCommand::AddDomain { id, domain } => show(&orgs.add_domain(&id, &domain).await?)?,
        OrgCommand::RemoveDomain { id, domain } => show(&orgs.remove_domain(&id, &domain).await?)?,
        OrgCommand::SetPolicy { id, delete_mode, password_sign_in } => set_policy(&orgs, &id, delete_mode.as_deref(), password_sign_in).await?,
        OrgCommand::Remove { id } => orgs.remove(&id).await?,
        OrgCommand::IssueToken { id, label } => {
            let (token, record) = orgs.issue_token(&id, &label, super::now()).await?;
            println!("token {} for {} (shown once; store it in the identity provider now):\n{token}", record.id, record.org);
        }
        OrgCommand::Tokens { id } => {
            for t in orgs.tokens(&id).await? {
                println!("{}", serde_json::json!({"id": t.id, "label": t.label, "created_at": t.created_at}));
            }
        }
        OrgCommand::RevokeToken { id, token_id } => orgs.revoke_token(&id, &token_id).await?,
        OrgCommand::Connect {
            id,
            kind,
            issuer,
            client_id,
            client_secret_stdin,
            identity_provider,
            email_claim,
            no_login_hint,
            provisioning,
            single_logout,
        } => {
            let fields = serde_json::json!({
                "kind": kind, "issuer": issuer, "client_id": client_id, "identity_provider": identity_provider,
                "email_claim": email_claim, "login_hint": !no_login_hint, "provisioning": provisioning, "single_logout": single_logout
            });
            let mut connection: ConnectionSettings = serde_json::from_value(fields).context("--kind, --email-claim or --provisioning")?;
            if client_secret_stdin {
                connection.client_secret = Some(SecretInput { secret_stdin: true, generate_secret: false }.read()?);
            }
            // As the admin API shows it: whether the provider's metadata was read and kept.
            show(&shared::admin::orgs::view(&orgs.connect(&id, connection).await?))?;
        }
        OrgCommand::Disconnect { id } => show(&shared::admin::orgs::view(&orgs.disconnect(&id).await?))?,
        OrgCommand::ScimPending { id } => scim_pending(&orgs, &DynamoScim::new(dynamo, table), &id).await?,
        OrgCommand::ScimSync { id, user_pool_id } => scim_sync(&orgs, &ctx.sdk, dynamo, table, &id, user_pool_id).await?,
        OrgCommand::ScimRecount { id } => {
            let org = orgs.get(&id).await?;
            let (users, groups) = DynamoScim::new(dynamo, table).recount(&org.id).await?;
            println!("counted {users} users and {groups} groups");
        }
    }
    Ok(())
}

/// Changes the policies given, keeping the others.
async fn set_policy(orgs: &Orgs, id: &str, delete_mode: Option<&str>, password_sign_in: Option<bool>) -> Result<()> {
    let delete = delete_mode.map(orgs::delete_mode).transpose()?;
    let org = orgs
        .change(id, |org| {
            if let Some(delete) = delete {
                org.policies.delete = delete;
            }
            if let Some(allowed) = password_sign_in {
                org.policies.password_sign_in = allowed;
            }
            Ok(())
        })
        .await?;
    show(&org)
}

/// Prints the organisation's SCIM users whose Cognito sync is outstanding, one per line.
async fn scim_pending(orgs: &Orgs, scim: &DynamoScim, id: &str) -> Result<()> {
    let org = orgs.get(id).await?;
    for entry in scim.pending(&org.id).await? {
        let name = entry.record.text("userName").unwrap_or_default().to_owned();
        let state = if entry.deleted.is_some() { "deleted" } else { "live" };
        println!("{}\t{name}\tversion {}\t{state}\t{}", entry.record.id, entry.record.version, entry.sync_error.as_deref().unwrap_or("not tried yet"));
    }
    Ok(())
}

/// Retries the organisation's outstanding Cognito syncs and prints how many went through.
async fn scim_sync(orgs: &Orgs, sdk: &aws_config::SdkConfig, dynamo: aws_sdk_dynamodb::Client, table: &str, id: &str, user_pool_id: String) -> Result<()> {
    let org = orgs.get(id).await?;
    let service = ScimService::new(
        Arc::new(DynamoScim::new(dynamo.clone(), table)),
        Arc::new(EndingSessions {
            directory: Arc::new(CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(sdk), user_pool_id)),
            sessions: Arc::new(DynamoSessions::new(dynamo, table)),
        }),
        0,
    );
    // An operator's run takes the time it needs.
    let report = service.sync_pending(&org, std::time::Instant::now() + std::time::Duration::from_secs(24 * 3600)).await?;
    println!("synced {}, still pending {}", report.synced, report.failed);
    Ok(())
}
