//! `bridge-admin app`: the apps the bridge signs people into, and the secrets they share with it.

use super::{Ctx, SecretInput};
use anyhow::{Context, Result, bail};
use bridge_admin::apps::Apps;
use clap::{Args, Subcommand};
use shared::directory::org::OrgId;
use shared::risk::RiskPolicy;
use shared::tokens::app::{Access, App, AppId, SignUp};
use shared::tokens::claims::ClaimMapping;
use shared::tokens::return_to::Origin;
use shared::tokens::targets::{Target, zendesk};

#[derive(Subcommand)]
pub enum AppCommand {
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
    /// Replace the secret an app shares with the bridge (its signing secret, or an OpenID Connect
    /// client's client secret).
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
pub struct AppFields {
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
    /// Whether the form offers "Create an account" for this app: open or off (the default).
    #[arg(long, value_parser = parse_sign_up)]
    sign_up: Option<SignUp>,
    /// Only people in this Cognito group may sign in to the app; repeat for several. With
    /// --access-org, people in any of them. Replaces the app's lists when given.
    #[arg(long = "access-group")]
    access_groups: Vec<String>,
    /// Only people of this organisation (its id) may sign in to the app; repeat for several.
    #[arg(long = "access-org")]
    access_orgs: Vec<String>,
    /// Everyone with an account may sign in to the app again (clears the lists).
    #[arg(long, conflicts_with_all = ["access_groups", "access_orgs"])]
    access_everyone: bool,
    /// The app's own start page, on one of its allowed origins: the account page lists the app
    /// for the people it admits, linking there.
    #[arg(long)]
    home_url: Option<String>,
    /// Take the app off the account page (clears its home URL; `update` only).
    #[arg(long, conflicts_with = "home_url")]
    no_home_url: bool,
}

fn parse_sign_up(raw: &str) -> Result<SignUp, String> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).map_err(|_| format!("--sign-up is open or off, not {raw}"))
}

/// Runs an `app` command against the table.
pub async fn run(command: AppCommand, ctx: &Ctx) -> Result<()> {
    let table = ctx.table()?;
    let apps = Apps::new(&ctx.sdk, table, ctx.secret_prefix.clone());
    match command {
        AppCommand::List => {
            for app in apps.list().await.context("listing apps")? {
                println!("{}", serde_json::to_string(&app)?);
            }
        }
        AppCommand::Show { id } => println!("{}", serde_json::to_string_pretty(&apps.get(&app_id(&id)?).await?)?),
        AppCommand::Create { id, fields, target, secret } => create(&apps, &id, &fields, target, &secret).await?,
        AppCommand::Update { id, fields } => update(&apps, &id, &fields).await?,
        AppCommand::SetSecret { id, secret } => apps.set_secret(&app_id(&id)?, &secret.read()?).await?,
        AppCommand::Remove { id, keep_secret } => apps.remove(&app_id(&id)?, keep_secret).await?,
    }
    Ok(())
}

/// Creates the app: its kind from the `--target` file, else Zendesk from the options.
async fn create(apps: &Apps, id: &str, fields: &AppFields, target: Option<std::path::PathBuf>, secret: &SecretInput) -> Result<()> {
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
    if fields.no_home_url {
        bail!("--no-home-url takes a home page off an app: use it with `app update`");
    }
    let app = App {
        id: app_id(id)?,
        name: fields.name.clone().unwrap_or_else(|| id.to_owned()),
        target,
        allowed_origins: fields.origins()?,
        claims: fields.claims()?.unwrap_or_default(),
        signing_secret: None,
        risk_policy: fields.risk_policy()?.unwrap_or_default(),
        sign_up: fields.sign_up.unwrap_or_default(),
        access: fields.access()?.unwrap_or_default(),
        home_url: fields.home_url.clone(),
        version: 0,
        refresh_tokens_not_before: None,
    };
    let secret = secret.read_if_given()?;
    let app = apps.create(app, secret.as_ref()).await?;
    println!("{}", serde_json::to_string_pretty(&app)?);
    Ok(())
}

/// Changes the app's settings given in `fields`, keeping the others.
async fn update(apps: &Apps, id: &str, fields: &AppFields) -> Result<()> {
    let mut app = apps.get(&app_id(id)?).await?;
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
    if let Some(sign_up) = fields.sign_up {
        app.sign_up = sign_up;
    }
    if let Some(access) = fields.access()? {
        app.access = access;
    }
    if fields.no_home_url {
        app.home_url = None;
    } else if let Some(url) = &fields.home_url {
        app.home_url = Some(url.clone());
    }
    println!("{}", serde_json::to_string_pretty(&apps.update(app).await?)?);
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

    /// The access lists given (`Some(everyone)` for --access-everyone), `None` to keep them.
    fn access(&self) -> Result<Option<Access>> {
        if self.access_everyone {
            return Ok(Some(Access::default()));
        }
        if self.access_groups.is_empty() && self.access_orgs.is_empty() {
            return Ok(None);
        }
        let organisations = self.access_orgs.iter().map(|o| OrgId::parse(o).with_context(|| format!("--access-org {o}"))).collect::<Result<_>>()?;
        Ok(Some(Access { groups: self.access_groups.clone(), organisations }))
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
