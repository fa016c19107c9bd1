//! `bridge-admin hook`: the telephony hooks (the operator's SMS services that deliver Cognito's
//! one-time codes), their metrics and request previews.

use super::{Ctx, SecretInput, show};
use anyhow::{Context, Result, bail};
use bridge_admin::hooks::Hooks;
use clap::{Args, Subcommand};
use shared::telephony::hook::{Hook, RequestType};
use shared::workflows::connection::Auth;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum HookCommand {
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
pub struct HookFields {
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

/// Runs a `hook` command against the table (and, for previews, the user pool).
pub async fn run(command: HookCommand, ctx: &Ctx) -> Result<()> {
    let table = ctx.table()?;
    let secrets = aws_sdk_secretsmanager::Client::new(&ctx.sdk);
    let cached = shared::adapters::workflow_runner::connection_secrets(secrets.clone(), std::time::Duration::from_secs(60));
    let hooks = Hooks::new(&ctx.sdk, table, &ctx.secret_prefix, Arc::new(shared::adapters::http::hook::HttpHookCaller::new(cached)?));
    dispatch(&hooks, &ctx.sdk, command).await
}

async fn dispatch(hooks: &Hooks, sdk: &aws_config::SdkConfig, command: HookCommand) -> Result<()> {
    let now = super::now();
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
        HookCommand::Update { name, fields, no_fallback } => update(hooks, &name, fields, no_fallback, now).await?,
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
                    let person = bridge_admin::hooks::preview_user(&aws_sdk_cognitoidentityprovider::Client::new(sdk), &pool, &user).await?;
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

/// Changes the hook's settings given in `fields` (and its secret with --secret-stdin).
async fn update(hooks: &Hooks, name: &str, fields: HookFields, no_fallback: bool, now: u64) -> Result<()> {
    let secret = SecretInput { secret_stdin: fields.secret_stdin, generate_secret: false }.read_if_given()?;
    let auth = fields.auth()?;
    let hook = hooks
        .update(
            name,
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
    show(&hook)
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
