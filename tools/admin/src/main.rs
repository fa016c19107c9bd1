//! `bridge-admin`: manage the bridge's apps and their secrets, against a deployed stack (the
//! usual AWS credentials and region) or the local one (`AWS_ENDPOINT_URL` pointing at moto).
//! This file parses the command line and hands each command group to its module in `cli`.

mod cli;

use anyhow::Result;
use clap::{Parser, Subcommand};
use cli::{Ctx, admin, app, consent, email_template, flow, hook, key, local, org};

#[derive(Parser)]
#[command(name = "bridge-admin", about = "Manage the identity bridge's apps, organisations, keys, workflows and telephony hooks")]
struct Cli {
    /// The bridge's DynamoDB table (the stack's `TableName` output).
    #[arg(long, env = "TABLE_NAME", global = true)]
    table: Option<String>,
    /// Prefix of the secrets this tool creates (the stack name).
    #[arg(long, env = "SECRET_PREFIX", default_value = "identity-bridge", global = true)]
    secret_prefix: String,
    /// The bridge's Cognito user pool (the stack's `UserPoolId` output), for `admin` and `consent show`.
    #[arg(long, env = "USER_POOL_ID", global = true)]
    user_pool: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apps the bridge signs people into.
    #[command(subcommand)]
    App(app::AppCommand),
    /// Organisations (corporate customers), their email domains and SCIM tokens.
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// The bridge's own signing keys (RS256, ES256), published at /.well-known/jwks.json.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Workflows: flows over identity events, their connections, failed runs.
    #[command(subcommand)]
    Flow(flow::FlowCommand),
    /// Telephony hooks: the operator's SMS services that deliver Cognito's one-time codes.
    #[command(subcommand)]
    Hook(hook::HookCommand),
    /// The documents people accept (terms, privacy) and their records.
    #[command(subcommand)]
    Consent(consent::ConsentCommand),
    /// The emails Cognito sends people (codes, invitations), in Japanese and English.
    #[command(subcommand)]
    EmailTemplate(email_template::EmailTemplateCommand),
    /// The operators' console: who may use it (roles), and the audit trail.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Local runs only: create the stack's resources and demo users in moto.
    #[command(subcommand)]
    Local(local::LocalCommand),
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(args: Cli) -> Result<()> {
    let ctx = Ctx { sdk: shared::adapters::aws::load_with_host_roots().await, table: args.table, secret_prefix: args.secret_prefix };
    match args.command {
        Command::App(command) => app::run(command, &ctx).await,
        Command::Org(command) => org::run(command, &ctx).await,
        Command::Key(command) => key::run(command, &ctx).await,
        Command::Flow(command) => flow::run(command, &ctx).await,
        Command::Hook(command) => hook::run(command, &ctx).await,
        Command::EmailTemplate(command) => email_template::run(command, &ctx).await,
        Command::Consent(command) => consent::run(command, &ctx, args.user_pool.as_deref()).await,
        Command::Local(command) => local::run(command, &ctx).await,
        Command::Admin(command) => admin::run(command, &ctx, args.user_pool.as_deref()).await,
    }
}
