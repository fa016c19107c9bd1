//! Pending corporate sign-ins and identity links, kept by the sessions' store
//! ([`DynamoSessions`]; their items are in `adapters::dynamo::sessions`' table of items).

use async_trait::async_trait;

use crate::adapters::dynamo::sessions::DynamoSessions;
use crate::adapters::dynamo::{Item, corrupt, data, key, n, s};
use crate::common::hashing::digest;
use crate::common::store::StoreError;
use crate::directory::org::OrgId;
use crate::directory::ports::IdentityLinks;
use crate::signin::corporate::{PendingLogin, PendingLogins};

#[async_trait]
impl PendingLogins for DynamoSessions {
    async fn put(&self, key_digest: &str, login: &PendingLogin) -> Result<(), StoreError> {
        let mut item = key(format!("OIDCSTATE#{key_digest}"), "STATE");
        item.insert("data".into(), s(serde_json::to_string(login).map_err(corrupt)?));
        item.insert("expires_at".into(), n(login.expires_at));
        self.table.put_item(item, None, None).await
    }

    async fn take(&self, key_digest: &str) -> Result<Option<PendingLogin>, StoreError> {
        DynamoSessions::take(self, key(format!("OIDCSTATE#{key_digest}"), "STATE")).await?.map(|item| data(&item, "pending sign-in")).transpose()
    }
}

fn link_key(org: &OrgId, issuer: &str, subject: &str) -> Item {
    key(format!("IDLINK#{org}"), &format!("{}#{subject}", digest(issuer)))
}

#[async_trait]
impl IdentityLinks for DynamoSessions {
    async fn find(&self, org: &OrgId, issuer: &str, subject: &str) -> Result<Option<String>, StoreError> {
        let item = self.table.get_item(link_key(org, issuer, subject)).await?;
        Ok(item.and_then(|i| i.get("username").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn save(&self, org: &OrgId, issuer: &str, subject: &str, username: &str) -> Result<(), StoreError> {
        let mut item = link_key(org, issuer, subject);
        item.insert("username".into(), s(username));
        item.insert("issuer".into(), s(issuer));
        self.table.put_item(item, None, None).await
    }
}
