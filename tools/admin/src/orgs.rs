//! The `org` commands' calls: `shared::admin::orgs` (the same rules, audit records and secret
//! handling as the admin API), as `Actor::cli()`, with errors as `anyhow` messages.

use anyhow::{Result, bail};
use secrecy::SecretString;
use shared::adapters::dynamo::orgs::DynamoOrgs;
use shared::adapters::http::oidc::HttpOidc;
use shared::adapters::secrets_manager::SecretsManager;
use shared::admin::audit::Actor;
use shared::admin::orgs::{ConnectionSettings, OrgAdmin, OrgSettings};
use shared::directory::org::{DeleteMode, EmailDomain, OrgPolicies, Organisation};
use shared::directory::scim_token::TokenRecord;
use std::sync::Arc;

pub struct Orgs {
    /// The table's organisations without the operators' rules (tests and SCIM maintenance).
    pub store: Arc<DynamoOrgs>,
    admin: OrgAdmin,
    actor: Actor,
}

fn now() -> u64 {
    shared::common::time::unix_now()
}

fn domains(raw: &[String]) -> Result<Vec<EmailDomain>> {
    Ok(raw.iter().map(|d| EmailDomain::parse(d)).collect::<Result<Vec<_>, _>>()?)
}

impl Orgs {
    /// Organisations in `table`, connection secrets named `{prefix}/connections/{org}`.
    pub fn new(sdk: &aws_config::SdkConfig, table: &str, prefix: impl Into<String>) -> Self {
        let store = Arc::new(DynamoOrgs::new(aws_sdk_dynamodb::Client::new(sdk), table));
        let vault = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(sdk)));
        // Building the client fails only if its compiled-in TLS configuration does.
        let discovery = Arc::new(HttpOidc::new().expect("the HTTPS client for providers' metadata"));
        Self { store: store.clone(), admin: OrgAdmin { store, vault, discovery, prefix: prefix.into() }, actor: Actor::cli() }
    }

    pub async fn create(&self, name: &str, domain_names: &[String], policies: OrgPolicies) -> Result<Organisation> {
        let settings = OrgSettings { name: name.to_owned(), domains: domains(domain_names)?, policies };
        Ok(self.admin.create(&self.actor, settings, now()).await?)
    }

    pub async fn list(&self) -> Result<Vec<Organisation>> {
        Ok(self.admin.list().await?)
    }

    pub async fn get(&self, id: &str) -> Result<Organisation> {
        Ok(self.admin.get(id).await?)
    }

    /// Applies `change` to the organisation's settings as stored now, over that version.
    pub async fn change(&self, id: &str, change: impl FnOnce(&mut OrgSettings) -> Result<()>) -> Result<Organisation> {
        let current = self.admin.get(id).await?;
        let mut settings = OrgSettings { name: current.name.clone(), domains: current.domains.clone(), policies: current.policies.clone() };
        change(&mut settings)?;
        Ok(self.admin.update(&self.actor, id, settings, current.version, now()).await?)
    }

    pub async fn add_domain(&self, id: &str, domain: &str) -> Result<Organisation> {
        let domain = EmailDomain::parse(domain)?;
        self.change(id, |org| {
            if org.domains.contains(&domain) {
                bail!("the organisation already owns {domain}");
            }
            org.domains.push(domain);
            Ok(())
        })
        .await
    }

    pub async fn remove_domain(&self, id: &str, domain: &str) -> Result<Organisation> {
        let domain = EmailDomain::parse(domain)?;
        self.change(id, |org| {
            let before = org.domains.len();
            org.domains.retain(|d| d != &domain);
            if org.domains.len() == before {
                bail!("the organisation does not own {domain}");
            }
            Ok(())
        })
        .await
    }

    pub async fn remove(&self, id: &str) -> Result<()> {
        let org = self.get(id).await?;
        Ok(self.admin.remove(&self.actor, id, org.version, now()).await?)
    }

    /// Sets the organisation's connection (its client secret, if given, to the vault).
    pub async fn connect(&self, id: &str, connection: ConnectionSettings) -> Result<Organisation> {
        let org = self.get(id).await?;
        Ok(self.admin.connect(&self.actor, id, connection, org.version, now()).await?)
    }

    pub async fn disconnect(&self, id: &str) -> Result<Organisation> {
        let org = self.get(id).await?;
        Ok(self.admin.disconnect(&self.actor, id, org.version, now()).await?)
    }

    /// Issues a token and returns its full value (shown once) and its record.
    pub async fn issue_token(&self, id: &str, label: &str, now: u64) -> Result<(String, TokenRecord)> {
        use secrecy::ExposeSecret;
        let (value, record): (SecretString, TokenRecord) = self.admin.issue_token(&self.actor, id, label, now).await?;
        Ok((value.expose_secret().to_owned(), record))
    }

    pub async fn tokens(&self, id: &str) -> Result<Vec<TokenRecord>> {
        Ok(self.admin.tokens(id).await?)
    }

    pub async fn revoke_token(&self, id: &str, token_id: &str) -> Result<()> {
        Ok(self.admin.revoke_token(&self.actor, id, token_id, now()).await?)
    }
}

/// `deactivate` or `delete`.
pub fn delete_mode(raw: &str) -> Result<DeleteMode> {
    match raw {
        "deactivate" => Ok(DeleteMode::Deactivate),
        "delete" => Ok(DeleteMode::Delete),
        other => bail!("--delete-mode is deactivate or delete, not {other}"),
    }
}
