//! Organisation, domain and SCIM token commands over `OrgStore` and `ScimTokenStore`, with
//! messages an operator can act on.

use anyhow::{Context, Result, bail};
use shared::common::store::StoreError;
use shared::directory::org::{DeleteMode, EmailDomain, OrgId, OrgPolicies, Organisation};
use shared::directory::ports::OrgStore;
use shared::directory::scim_token;
use shared::directory::scim_token::ScimTokenStore;
use shared::directory::scim_token::TokenRecord;

pub struct Orgs<S> {
    pub store: S,
}

fn explain(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Taken(domain) => anyhow::anyhow!("the domain {domain} belongs to another organisation"),
        StoreError::Conflict => anyhow::anyhow!("the organisation changed since it was read; try again"),
        StoreError::Limit(why) => anyhow::anyhow!(why),
        other => anyhow::Error::new(other),
    }
}

impl<S: OrgStore + ScimTokenStore> Orgs<S> {
    pub async fn create(&self, name: &str, domains: &[String], policies: OrgPolicies) -> Result<Organisation> {
        let domains = domains.iter().map(|d| EmailDomain::parse(d)).collect::<Result<Vec<_>, _>>()?;
        let org = Organisation { id: OrgId::generate(), name: name.trim().to_owned(), domains, policies, connection: None, version: 1 };
        org.validate()?;
        OrgStore::create(&self.store, &org).await.map_err(explain)?;
        Ok(org)
    }

    pub async fn get(&self, id: &str) -> Result<Organisation> {
        let id = OrgId::parse(id)?;
        self.store.get(&id).await?.with_context(|| format!("no organisation `{id}`"))
    }

    /// Applies `change` to the organisation and writes it over the version it was read at.
    pub async fn change(&self, id: &str, change: impl FnOnce(&mut Organisation) -> Result<()>) -> Result<Organisation> {
        let current = self.get(id).await?;
        let mut next = current.clone();
        change(&mut next)?;
        next.version = current.version + 1;
        next.validate()?;
        self.store.update(&current, &next).await.map_err(explain)?;
        Ok(next)
    }

    pub async fn add_domain(&self, id: &str, domain: &str) -> Result<Organisation> {
        let domain = EmailDomain::parse(domain)?;
        self.change(id, |org| {
            if org.owns(&domain) {
                bail!("{} already owns {domain}", org.id);
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
                bail!("{} does not own {domain}", org.id);
            }
            Ok(())
        })
        .await
    }

    pub async fn remove(&self, id: &str) -> Result<()> {
        let org = self.get(id).await?;
        OrgStore::remove(&self.store, &org).await.map_err(explain)
    }

    /// Issues a token and returns its full value (shown once) and its record.
    pub async fn issue_token(&self, id: &str, label: &str, now: u64) -> Result<(String, TokenRecord)> {
        let org = self.get(id).await?;
        let issued = scim_token::issue(&org.id, label, now);
        self.store.add(&issued.record).await.map_err(explain)?;
        Ok((issued.value().to_owned(), issued.record))
    }

    pub async fn tokens(&self, id: &str) -> Result<Vec<TokenRecord>> {
        Ok(ScimTokenStore::list(&self.store, &OrgId::parse(id)?).await?)
    }

    pub async fn revoke_token(&self, id: &str, token_id: &str) -> Result<()> {
        self.store.revoke(&OrgId::parse(id)?, token_id).await.map_err(explain)
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

/// Stores an organisation's OpenID client secret at `{prefix}/connections/{org}` (creating or
/// replacing it) and returns its reference.
pub async fn store_connection_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    prefix: &str,
    org: &OrgId,
    secret: &secrecy::SecretString,
) -> Result<shared::common::secrets::SecretRef> {
    crate::put_secret(secrets, &format!("{prefix}/connections/{org}"), &format!("OpenID client secret of organisation {org}"), secret).await
}
