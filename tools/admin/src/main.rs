//! `bridge-admin`: manage the bridge's apps and their secrets, against a deployed stack (the
//! usual AWS credentials and region) or the local one (`AWS_ENDPOINT_URL` pointing at moto).

use anyhow::{Context, Result, bail};
use bridge_admin::apps::Apps;
use bridge_admin::hooks::{Hooks, PreviewUser};
use bridge_admin::keys::Keys;
use bridge_admin::local::{self, DemoUser};
use bridge_admin::orgs::{self, Orgs};
use bridge_admin::workflows::Workflows;
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use shared::adapters::cognito::directory::CognitoDirectory;
use shared::adapters::dynamo::apps::DynamoApps;
use shared::adapters::dynamo::keys::DynamoKeys;
use shared::adapters::dynamo::orgs::DynamoOrgs;
use shared::adapters::dynamo::scim::DynamoScim;
use shared::adapters::dynamo::sessions::DynamoSessions;
use shared::directory::org::{Connection, OrgPolicies, Organisation};
use shared::directory::ports::ScimStore;
use shared::directory::scim::service::ScimService;
use shared::risk::RiskPolicy;
use shared::signin::ending_sessions::EndingSessions;
use shared::telephony::hook::Hook;
use shared::telephony::hook::RequestType;
use shared::tokens::app::{App, AppId};
use shared::tokens::claims::ClaimMapping;
use shared::tokens::jws::Algorithm;
use shared::tokens::ports::AppStore;
use shared::tokens::return_to::Origin;
use shared::tokens::signing_keys::MIN_LEAD;
use shared::tokens::targets::{Target, zendesk};
use shared::workflows::connection::Auth;
use std::io::Read;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "bridge-admin", about = "Manage the identity bridge's apps, organisations, keys, workflows and telephony hooks")]
struct Cli {
    /// The bridge's DynamoDB table (the stack's `TableName` output).
    #[arg(long, env = "TABLE_NAME", global = true)]
    table: Option<String>,
    /// Prefix of the secrets this tool creates (the stack name).
    #[arg(long, env = "SECRET_PREFIX", default_value = "identity-bridge", global = true)]
    secret_prefix: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apps the bridge signs people into.
    #[command(subcommand)]
    App(AppCommand),
    /// Organisations (corporate customers), their email domains and SCIM tokens.
    #[command(subcommand)]
    Org(OrgCommand),
    /// The bridge's own signing keys (RS256, ES256), published at /.well-known/jwks.json.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Workflows: flows over identity events, their connections, failed runs.
    #[command(subcommand)]
    Flow(FlowCommand),
    /// Telephony hooks: the operator's SMS services that deliver Cognito's one-time codes.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Local runs only: create the stack's resources and demo users in moto.
    #[command(subcommand)]
    Local(LocalCommand),
}

#[derive(Subcommand)]
enum HookCommand {
    /// List the hooks (JSON lines), each with whether it is the active one.
    List,
    /// Create a hook; its secret (the header's value or the OAuth client secret) is read from
    /// standard input into Secrets Manager.
    Create {
        name: String,
        #[command(flatten)]
        fields: HookFields,
    },
    /// Change a hook; only the options given change (--secret-stdin replaces its secret).
    Update {
        name: String,
        #[command(flatten)]
        fields: HookFields,
        /// Call no fallback hook any more.
        #[arg(long, conflicts_with = "fallback")]
        no_fallback: bool,
    },
    /// Make this the active hook (whichever was active is not any more).
    Activate { name: String },
    /// Stop using this hook (it must be the active one); no codes are delivered until another
    /// hook is activated.
    Deactivate { name: String },
    /// Remove a hook that is neither active nor another hook's fallback; its secret is scheduled
    /// for deletion unless --keep-secret.
    Remove {
        name: String,
        #[arg(long)]
        keep_secret: bool,
    },
    /// The last 30 days: executions, successful, failed, average duration of the successful ones.
    Metrics { name: String },
    /// Generate the request the sender would send for a user and request type; --edit opens it
    /// in $EDITOR, --send sends it and shows the answer and its timing.
    Preview {
        name: String,
        /// The user (Cognito user name, or email where the pool signs in by email).
        #[arg(long, required_unless_present = "request")]
        user: Option<String>,
        /// pre-enrollment, mfa-verification or password-reset.
        #[arg(long, default_value = "mfa-verification")]
        r#type: String,
        /// Send this request (JSON file, e.g. an earlier preview edited) instead of generating one.
        #[arg(long)]
        request: Option<std::path::PathBuf>,
        #[arg(long)]
        edit: bool,
        #[arg(long)]
        send: bool,
        /// The user pool (the stack's `UserPoolId` output).
        #[arg(long, env = "USER_POOL_ID")]
        user_pool_id: Option<String>,
    },
}

#[derive(Args)]
struct HookFields {
    /// The hook's URL (https; http only on loopback).
    #[arg(long)]
    url: Option<String>,
    /// Authenticate with this header carrying the secret (e.g. Authorization, X-Api-Key).
    #[arg(long, conflicts_with = "oauth_token_url")]
    header_name: Option<String>,
    /// Authenticate with OAuth 2.0 client credentials from this token URL.
    #[arg(long, requires = "oauth_client_id")]
    oauth_token_url: Option<String>,
    #[arg(long)]
    oauth_client_id: Option<String>,
    #[arg(long)]
    oauth_scope: Option<String>,
    /// The hook called when this one fails, times out or answers FAILED.
    #[arg(long)]
    fallback: Option<String>,
    /// Read the secret from standard input.
    #[arg(long)]
    secret_stdin: bool,
}

#[derive(Subcommand)]
enum AppCommand {
    /// List all apps (JSON lines).
    List,
    /// Show one app (JSON).
    Show { id: String },
    /// Create an app: a Zendesk one from the options below, or any kind from --target; store its
    /// shared secret when it has one.
    Create {
        id: String,
        #[command(flatten)]
        fields: AppFields,
        /// A JSON file with the app kind and its settings (`{"kind": "insided", ...}`, see README).
        #[arg(long, conflicts_with_all = ["subdomain", "account_url", "delivery"])]
        target: Option<std::path::PathBuf>,
        #[command(flatten)]
        secret: SecretInput,
    },
    /// Change an app; only the options given change.
    Update {
        id: String,
        #[command(flatten)]
        fields: AppFields,
    },
    /// Replace an app's signing secret.
    SetSecret {
        id: String,
        #[command(flatten)]
        secret: SecretInput,
    },
    /// Remove an app and (unless --keep-secret) schedule its secret for deletion.
    Remove {
        id: String,
        #[arg(long)]
        keep_secret: bool,
    },
}

#[derive(Args)]
struct AppFields {
    /// Display name.
    #[arg(long)]
    name: Option<String>,
    /// The Zendesk subdomain (`acme` for acme.zendesk.com).
    #[arg(long, conflicts_with = "account_url")]
    subdomain: Option<String>,
    /// The Zendesk account URL, for host-mapped accounts (https://help.example.com).
    #[arg(long)]
    account_url: Option<String>,
    /// An allowed `return_to` origin; repeat for several. Replaces the list when given.
    #[arg(long = "allow-origin")]
    allow_origins: Vec<String>,
    /// A JSON file with the claim mapping (see README).
    #[arg(long)]
    claims: Option<std::path::PathBuf>,
    /// How the browser carries the token: post (recommended) or get.
    #[arg(long)]
    delivery: Option<String>,
    /// What a high-risk sign-in does: allow (and record sign_in.high_risk), require_mfa or deny.
    #[arg(long)]
    risk_policy: Option<String>,
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Show the key set (JSON): each key's id, algorithm and publish/sign/retire times.
    List,
    /// Generate a new key. The first of an algorithm signs at once; a later one is published now,
    /// signs after --lead-seconds, and the key it replaces retires once its tokens expired.
    Rotate {
        /// RS256 or ES256.
        #[arg(long)]
        alg: String,
        /// Seconds between publishing the new key and signing with it.
        #[arg(long, default_value_t = 24 * 3600)]
        lead_seconds: u64,
    },
    /// Remove retired keys from the key set and schedule their secrets for deletion.
    Prune,
}

#[derive(Subcommand)]
enum FlowCommand {
    /// Import a flow from a JSON or YAML (.yaml, .yml) file (new, or a new version of the same id).
    Import {
        file: std::path::PathBuf,
    },
    /// List the flows (JSON lines).
    List,
    /// Print a flow as JSON, or YAML with --yaml (what `import` takes).
    Export {
        id: String,
        #[arg(long)]
        yaml: bool,
    },
    Enable {
        id: String,
    },
    Disable {
        id: String,
    },
    /// Show what a flow would do for a sample event (JSON file), without doing it.
    Test {
        id: String,
        #[arg(long)]
        event: std::path::PathBuf,
    },
    /// Import a connection from a JSON file; --secret-stdin stores its secret in Secrets Manager.
    Connection {
        file: std::path::PathBuf,
        #[arg(long)]
        secret_stdin: bool,
    },
    /// List the failed runs (JSON lines).
    Failed,
    /// Run a failed run again from its failed step.
    Replay {
        run_id: String,
    },
    /// Dry run of a `user.inactive` flow: everyone it would act on now, with each step as it
    /// would be sent (JSON lines). Nothing is called or recorded.
    Report {
        id: String,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Run the daily inactivity scan now (records `user.inactive` events for the enabled flows).
    ScanInactive,
}

#[derive(Args)]
#[group(multiple = false)]
struct SecretInput {
    /// Read the secret from standard input (paste Zendesk's shared secret).
    #[arg(long)]
    secret_stdin: bool,
    /// Generate a random secret and print it once.
    #[arg(long)]
    generate_secret: bool,
}

#[derive(Subcommand)]
enum OrgCommand {
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
}

#[derive(Subcommand)]
enum LocalCommand {
    /// Create the table, user pool, app client and bridge secret; print them as KEY=VALUE lines.
    Provision {
        #[arg(long, default_value = "bridge-local")]
        name: String,
    },
    /// Create a confirmed user with a verified email.
    User {
        #[arg(long)]
        pool: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        company: Option<String>,
        /// Enable SMS MFA with this phone number.
        #[arg(long)]
        sms_phone: Option<String>,
        #[arg(long = "group")]
        groups: Vec<String>,
        /// The organisation the person belongs to.
        #[arg(long)]
        org: Option<String>,
        /// Leave the password temporary (the person must choose a new one).
        #[arg(long)]
        temporary: bool,
        /// The person's locale attribute (ja, en): the language of their SMS messages.
        #[arg(long)]
        locale: Option<String>,
    },
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let sdk = shared::adapters::aws::load().await;
    match cli.command {
        Command::Local(command) => local_command(&sdk, command).await,
        Command::Hook(command) => {
            let table = cli.table.context("set --table or TABLE_NAME")?;
            let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
            let cached = shared::adapters::workflow_runner::connection_secrets(secrets.clone(), std::time::Duration::from_secs(60));
            let hooks = Hooks {
                store: Arc::new(shared::adapters::dynamo::hooks::DynamoHooks::new(aws_sdk_dynamodb::Client::new(&sdk), table)),
                secrets,
                prefix: cli.secret_prefix,
                caller: Arc::new(shared::adapters::http::hook::HttpHookCaller::new(cached)?),
            };
            hook_command(&hooks, &sdk, command).await
        }
        Command::Org(OrgCommand::ScimPending { id }) => {
            let table = cli.table.context("set --table or TABLE_NAME")?;
            let org = Orgs { store: DynamoOrgs::new(aws_sdk_dynamodb::Client::new(&sdk), &table) }.get(&id).await?;
            for entry in DynamoScim::new(aws_sdk_dynamodb::Client::new(&sdk), table).pending(&org.id).await? {
                let name = entry.record.text("userName").unwrap_or_default().to_owned();
                let state = if entry.deleted.is_some() { "deleted" } else { "live" };
                println!("{}\t{name}\tversion {}\t{state}\t{}", entry.record.id, entry.record.version, entry.sync_error.as_deref().unwrap_or("not tried yet"));
            }
            Ok(())
        }
        Command::Org(OrgCommand::ScimSync { id, user_pool_id }) => {
            let table = cli.table.context("set --table or TABLE_NAME")?;
            let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
            let org = Orgs { store: DynamoOrgs::new(dynamo.clone(), &table) }.get(&id).await?;
            let service = ScimService::new(
                Arc::new(DynamoScim::new(dynamo.clone(), &table)),
                Arc::new(EndingSessions {
                    directory: Arc::new(CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk), user_pool_id)),
                    sessions: Arc::new(DynamoSessions::new(dynamo.clone(), &table)),
                }),
                0,
            );
            let report = service.sync_pending(&org).await?;
            println!("synced {}, still pending {}", report.synced, report.failed);
            Ok(())
        }
        Command::Org(OrgCommand::Connect {
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
        }) => {
            let table = cli.table.context("set --table or TABLE_NAME")?;
            let orgs = Orgs { store: DynamoOrgs::new(aws_sdk_dynamodb::Client::new(&sdk), table) };
            let fields = serde_json::json!({
                "kind": kind, "issuer": issuer, "client_id": client_id, "identity_provider": identity_provider,
                "email_claim": email_claim, "login_hint": !no_login_hint, "provisioning": provisioning, "single_logout": single_logout
            });
            let mut connection: Connection = serde_json::from_value(fields).context("--kind, --email-claim or --provisioning")?;
            let org = orgs.get(&id).await?;
            if client_secret_stdin {
                let secret = SecretInput { secret_stdin: true, generate_secret: false }.read()?;
                let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
                connection.client_secret = Some(orgs::store_connection_secret(&secrets, &cli.secret_prefix, &org.id, &secret).await?);
            }
            let org = orgs
                .change(&id, |o| {
                    o.connection = Some(connection);
                    Ok(())
                })
                .await?;
            println!("{}", serde_json::to_string_pretty(&org)?);
            Ok(())
        }
        Command::Org(command) => {
            let table = cli.table.context("set --table or TABLE_NAME")?;
            let orgs = Orgs { store: DynamoOrgs::new(aws_sdk_dynamodb::Client::new(&sdk), table) };
            org_command(&orgs, command).await
        }
        Command::Flow(command) => {
            let table = cli.table.context("set --table or TABLE_NAME")?;
            let pool = std::env::var("USER_POOL_ID").ok().filter(|p| !p.is_empty());
            let workflows = Workflows {
                store: Arc::new(shared::adapters::dynamo::workflows::DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&sdk), &table)),
                secrets: aws_sdk_secretsmanager::Client::new(&sdk),
                prefix: cli.secret_prefix,
                users: pool.map(|pool| shared::adapters::workflow_runner::user_actions(&sdk, &pool, &table)),
            };
            flow_command(&workflows, command).await
        }
        Command::Key(command) => {
            let table = cli.table.context("set --table or TABLE_NAME")?;
            let keys = Keys {
                store: DynamoKeys::new(aws_sdk_dynamodb::Client::new(&sdk), table, std::time::Duration::ZERO),
                secrets: aws_sdk_secretsmanager::Client::new(&sdk),
                prefix: cli.secret_prefix,
            };
            key_command(&keys, command).await
        }
        Command::App(command) => {
            let table = cli.table.context("set --table or TABLE_NAME")?;
            let apps = Apps {
                store: DynamoApps::new(aws_sdk_dynamodb::Client::new(&sdk), table),
                secrets: aws_sdk_secretsmanager::Client::new(&sdk),
                prefix: cli.secret_prefix,
            };
            app_command(&apps, command).await
        }
    }
}

async fn app_command(apps: &Apps, command: AppCommand) -> Result<()> {
    match command {
        AppCommand::List => {
            for app in apps.store.list().await.context("listing apps")? {
                println!("{}", serde_json::to_string(&app)?);
            }
        }
        AppCommand::Show { id } => println!("{}", serde_json::to_string_pretty(&apps.get(&app_id(&id)?).await?)?),
        AppCommand::Create { id, fields, target, secret } => {
            let target = match target {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                    serde_json::from_str(&text).with_context(|| format!("{} is not an app kind with its settings", path.display()))?
                }
                None => {
                    let account_url = fields.account_url()?.context("give --subdomain or --account-url, or --target")?;
                    Target::Zendesk(zendesk::ZendeskTarget { account_url, delivery: fields.delivery()?.unwrap_or_default() })
                }
            };
            let app = App {
                id: app_id(&id)?,
                name: fields.name.clone().unwrap_or_else(|| id.clone()),
                target,
                allowed_origins: fields.origins()?,
                claims: fields.claims()?.unwrap_or_default(),
                signing_secret: None,
                risk_policy: fields.risk_policy()?.unwrap_or_default(),
                version: 0,
            };
            let secret = secret.read_if_given()?;
            let app = apps.create(app, secret.as_ref()).await?;
            println!("{}", serde_json::to_string_pretty(&app)?);
        }
        AppCommand::Update { id, fields } => {
            let mut app = apps.get(&app_id(&id)?).await?;
            if let Some(name) = &fields.name {
                app.name = name.clone();
            }
            match &mut app.target {
                Target::Zendesk(target) => {
                    if let Some(url) = fields.account_url()? {
                        target.account_url = url;
                    }
                    if let Some(delivery) = fields.delivery()? {
                        target.delivery = delivery;
                    }
                }
                _ if fields.account_url.is_some() || fields.subdomain.is_some() || fields.delivery.is_some() => {
                    bail!("--subdomain, --account-url and --delivery are Zendesk settings")
                }
                _ => {}
            }
            if !fields.allow_origins.is_empty() {
                app.allowed_origins = fields.origins()?;
            }
            if let Some(claims) = fields.claims()? {
                app.claims = claims;
            }
            if let Some(policy) = fields.risk_policy()? {
                app.risk_policy = policy;
            }
            println!("{}", serde_json::to_string_pretty(&apps.update(app).await?)?);
        }
        AppCommand::SetSecret { id, secret } => apps.set_secret(&app_id(&id)?, &secret.read()?).await?,
        AppCommand::Remove { id, keep_secret } => apps.remove(&app_id(&id)?, keep_secret).await?,
    }
    Ok(())
}

async fn hook_command(hooks: &Hooks, sdk: &aws_config::SdkConfig, command: HookCommand) -> Result<()> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    match command {
        HookCommand::List => {
            for line in hooks.list().await? {
                println!("{line}");
            }
        }
        HookCommand::Create { name, fields } => {
            let url = fields.url.clone().context("give --url")?;
            let auth = fields.auth()?.context("give --header-name or --oauth-token-url")?;
            let hook = Hook { name, url, auth, fallback: fields.fallback.clone(), version: 0 };
            let secret = SecretInput { secret_stdin: true, generate_secret: false }.read().context("the hook's secret (--secret-stdin)")?;
            show(&hooks.create(hook, &secret, now).await?)?;
        }
        HookCommand::Update { name, fields, no_fallback } => {
            let secret = SecretInput { secret_stdin: fields.secret_stdin, generate_secret: false }.read_if_given()?;
            let auth = fields.auth()?;
            let hook = hooks
                .update(
                    &name,
                    |hook| {
                        if let Some(url) = fields.url {
                            hook.url = url;
                        }
                        if let Some(auth) = auth {
                            hook.auth = auth;
                        }
                        if no_fallback {
                            hook.fallback = None;
                        } else if let Some(fallback) = fields.fallback {
                            hook.fallback = Some(fallback);
                        }
                    },
                    secret.as_ref(),
                    now,
                )
                .await?;
            show(&hook)?;
        }
        HookCommand::Activate { name } => {
            hooks.activate(&name, now).await?;
            println!("hook {name} is active");
        }
        HookCommand::Deactivate { name } => {
            hooks.deactivate(&name, now).await?;
            println!("hook {name} is deactivated; no hook is active");
        }
        HookCommand::Remove { name, keep_secret } => {
            hooks.remove(&name, keep_secret, now).await?;
            println!("hook {name} removed");
        }
        HookCommand::Metrics { name } => show(&hooks.metrics(&name, now).await?)?,
        HookCommand::Preview { name, user, r#type, request, edit, send, user_pool_id } => {
            let mut request: serde_json::Value = match (request, user) {
                (Some(path), _) => bridge_admin::read_json(&path)?,
                (None, Some(user)) => {
                    let kind = RequestType::parse(&r#type).context("--type is pre-enrollment, mfa-verification or password-reset")?;
                    let pool = user_pool_id.context("set --user-pool-id or USER_POOL_ID")?;
                    let person = PreviewUser::from_pool(&aws_sdk_cognitoidentityprovider::Client::new(sdk), &pool, &user).await?;
                    hooks.preview_request(&name, &person, kind, now).await?
                }
                (None, None) => bail!("give --user or --request"),
            };
            if edit {
                request = bridge_admin::edit_json(&request)?;
            }
            println!("request:\n{}", serde_json::to_string_pretty(&request)?);
            if send {
                let answer = hooks.preview_send(&name, &request).await?;
                println!("answer in {} ms (HTTP {}): {}", answer.millis, answer.status.map_or("none".into(), |s| s.to_string()), answer.outcome);
                println!("{}", serde_json::to_string_pretty(&answer.body)?);
            }
        }
    }
    Ok(())
}

async fn flow_command(workflows: &Workflows, command: FlowCommand) -> Result<()> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    match command {
        FlowCommand::Import { file } => show(&workflows.import(bridge_admin::read_document(&file)?).await?)?,
        FlowCommand::List => {
            for flow in workflows.store.flows().await? {
                println!("{}", serde_json::to_string(&flow)?);
            }
        }
        FlowCommand::Export { id, yaml: false } => show(&workflows.flow(&id).await?)?,
        FlowCommand::Export { id, yaml: true } => print!("{}", serde_yaml::to_string(&workflows.flow(&id).await?)?),
        FlowCommand::Enable { id } => show(&workflows.set_enabled(&id, true).await?)?,
        FlowCommand::Disable { id } => show(&workflows.set_enabled(&id, false).await?)?,
        FlowCommand::Test { id, event } => show(&workflows.test(&id, &bridge_admin::read_json(&event)?).await?)?,
        FlowCommand::Connection { file, secret_stdin } => {
            let secret = SecretInput { secret_stdin, generate_secret: false }.read_if_given()?;
            show(&workflows.import_connection(bridge_admin::read_json(&file)?, secret.as_ref()).await?)?
        }
        FlowCommand::Failed => {
            for run in workflows.failed().await? {
                println!("{}", serde_json::to_string(&run)?);
            }
        }
        FlowCommand::Replay { run_id } => show(&workflows.replay(&run_id, now).await?)?,
        FlowCommand::Report { id, limit } => {
            for line in workflows.report(&id, now, limit).await? {
                println!("{}", serde_json::to_string(&line)?);
            }
        }
        FlowCommand::ScanInactive => show(&workflows.store.record_inactive(now).await?)?,
    }
    Ok(())
}

/// Prints `value` as pretty JSON.
fn show<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

async fn key_command(keys: &Keys, command: KeyCommand) -> Result<()> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    match command {
        KeyCommand::List => println!("{}", serde_json::to_string_pretty(&keys.list().await?)?),
        KeyCommand::Rotate { alg, lead_seconds } => {
            let alg: Algorithm = serde_json::from_value(serde_json::Value::String(alg.to_uppercase())).context("--alg is RS256 or ES256")?;
            if lead_seconds < MIN_LEAD {
                eprintln!("warning: a lead under {MIN_LEAD} s lets the new key sign before every verifier can have fetched it");
            }
            println!("{}", serde_json::to_string_pretty(&keys.rotate(alg, lead_seconds, now).await?)?);
        }
        KeyCommand::Prune => {
            for kid in keys.prune(now).await? {
                println!("pruned {kid}");
            }
        }
    }
    Ok(())
}

async fn org_command(orgs: &Orgs<DynamoOrgs>, command: OrgCommand) -> Result<()> {
    let show = |org: &Organisation| serde_json::to_string_pretty(org).map(|json| println!("{json}"));
    match command {
        OrgCommand::Create { name, domains, delete_mode, password_sign_in } => {
            let policies = OrgPolicies { delete: orgs::delete_mode(&delete_mode)?, password_sign_in };
            show(&orgs.create(&name, &domains, policies).await?)?;
        }
        OrgCommand::List => {
            for org in shared::directory::ports::OrgStore::list(&orgs.store).await? {
                println!("{}", serde_json::to_string(&org)?);
            }
        }
        OrgCommand::Show { id } => show(&orgs.get(&id).await?)?,
        OrgCommand::AddDomain { id, domain } => show(&orgs.add_domain(&id, &domain).await?)?,
        OrgCommand::RemoveDomain { id, domain } => show(&orgs.remove_domain(&id, &domain).await?)?,
        OrgCommand::SetPolicy { id, delete_mode, password_sign_in } => {
            let delete = delete_mode.as_deref().map(orgs::delete_mode).transpose()?;
            let org = orgs
                .change(&id, |org| {
                    if let Some(delete) = delete {
                        org.policies.delete = delete;
                    }
                    if let Some(allowed) = password_sign_in {
                        org.policies.password_sign_in = allowed;
                    }
                    Ok(())
                })
                .await?;
            show(&org)?;
        }
        OrgCommand::Remove { id } => orgs.remove(&id).await?,
        OrgCommand::IssueToken { id, label } => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
            let (token, record) = orgs.issue_token(&id, &label, now).await?;
            println!("token {} for {} (shown once; store it in the identity provider now):\n{token}", record.id, record.org);
        }
        OrgCommand::Tokens { id } => {
            for t in orgs.tokens(&id).await? {
                println!("{}", serde_json::json!({"id": t.id, "label": t.label, "created_at": t.created_at}));
            }
        }
        OrgCommand::RevokeToken { id, token_id } => orgs.revoke_token(&id, &token_id).await?,
        OrgCommand::Disconnect { id } => show(
            &orgs
                .change(&id, |o| {
                    o.connection = None;
                    Ok(())
                })
                .await?,
        )?,
        OrgCommand::ScimPending { .. } | OrgCommand::ScimSync { .. } | OrgCommand::Connect { .. } => unreachable!("handled in run()"),
    }
    Ok(())
}

async fn local_command(sdk: &aws_config::SdkConfig, command: LocalCommand) -> Result<()> {
    match command {
        LocalCommand::Provision { name } => {
            for (key, value) in local::provision(sdk, &name).await?.env() {
                println!("{key}={value}");
            }
        }
        LocalCommand::User { pool, email, password, name, company, sms_phone, groups, org, temporary, locale } => {
            let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
            let user = DemoUser {
                email: &email,
                password: &password,
                name: &name,
                company: company.as_deref(),
                sms_mfa_phone: sms_phone.as_deref(),
                groups: &groups,
                org: org.as_deref(),
                permanent_password: !temporary,
                locale: locale.as_deref(),
            };
            println!("{}", local::create_user(sdk, &pool, &user).await?);
        }
    }
    Ok(())
}

fn app_id(raw: &str) -> Result<AppId> {
    Ok(AppId::parse(raw)?)
}

impl AppFields {
    fn account_url(&self) -> Result<Option<Origin>> {
        Ok(match (&self.subdomain, &self.account_url) {
            (Some(sub), _) => Some(zendesk::ZendeskTarget::for_subdomain(sub).context("--subdomain")?),
            (None, Some(url)) => Some(Origin::parse(url).context("--account-url")?),
            (None, None) => None,
        })
    }

    fn origins(&self) -> Result<Vec<Origin>> {
        self.allow_origins.iter().map(|o| Origin::parse(o).with_context(|| format!("--allow-origin {o}"))).collect()
    }

    fn claims(&self) -> Result<Option<ClaimMapping>> {
        let Some(path) = &self.claims else { return Ok(None) };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(Some(serde_json::from_str(&text).with_context(|| format!("{} is not a claim mapping", path.display()))?))
    }

    fn delivery(&self) -> Result<Option<zendesk::DeliveryMethod>> {
        Ok(match self.delivery.as_deref() {
            None => None,
            Some("post") => Some(zendesk::DeliveryMethod::Post),
            Some("get") => Some(zendesk::DeliveryMethod::Get),
            Some(other) => bail!("--delivery is post or get, not {other}"),
        })
    }

    fn risk_policy(&self) -> Result<Option<RiskPolicy>> {
        self.risk_policy
            .as_deref()
            .map(|p| {
                serde_json::from_value(serde_json::Value::String(p.to_owned()))
                    .map_err(|_| anyhow::anyhow!("--risk-policy is allow, require_mfa or deny, not {p}"))
            })
            .transpose()
    }
}

impl HookFields {
    /// The authentication the options describe (its secret is set when it is stored).
    fn auth(&self) -> Result<Option<Auth>> {
        let placeholder = shared::common::secrets::SecretRef(String::new());
        Ok(match (&self.header_name, &self.oauth_token_url) {
            (Some(name), None) => Some(Auth::Header { name: name.clone(), secret: placeholder }),
            (None, Some(token_url)) => Some(Auth::Oauth2 {
                token_url: token_url.clone(),
                client_id: self.oauth_client_id.clone().context("--oauth-client-id")?,
                secret: placeholder,
                scope: self.oauth_scope.clone(),
            }),
            _ => None,
        })
    }
}

impl SecretInput {
    fn read_if_given(&self) -> Result<Option<SecretString>> {
        if self.secret_stdin || self.generate_secret { self.read().map(Some) } else { Ok(None) }
    }

    fn read(&self) -> Result<SecretString> {
        if !self.secret_stdin && !self.generate_secret {
            bail!("give --secret-stdin or --generate-secret");
        }
        if self.generate_secret {
            let secret = bridge_admin::random_secret(32);
            println!("generated secret (shown once): {secret}");
            return Ok(secret.into());
        }
        let mut secret = String::new();
        std::io::stdin().read_to_string(&mut secret).context("reading the secret from standard input")?;
        let secret = secret.trim().to_owned();
        if secret.len() < 16 {
            bail!("the secret on standard input is shorter than 16 characters");
        }
        Ok(secret.into())
    }
}
