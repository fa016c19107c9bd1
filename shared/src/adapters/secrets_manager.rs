//! `SecretStore` (`GetSecretValue`) and the operators' `SecretVault` (create, replace, schedule
//! for deletion) over AWS Secrets Manager. Values are never logged.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use secrecy::SecretString;

use crate::adapters::aws::{Failure, store_error};
use crate::common::secrets::SecretRef;
use crate::common::secrets::SecretStore;
use crate::common::store::StoreError;

pub struct SecretsManager {
    client: Client,
}

impl SecretsManager {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl SecretStore for SecretsManager {
    async fn secret(&self, id: &SecretRef) -> Result<Option<SecretString>, StoreError> {
        match self.client.get_secret_value().secret_id(&id.0).send().await {
            Ok(out) => Ok(out.secret_string.map(SecretString::from)),
            Err(e) => match Failure::of(&e) {
                Failure::Service { code } if code == "ResourceNotFoundException" => Ok(None),
                other => Err(store_error(other)),
            },
        }
    }
}

#[async_trait]
impl crate::admin::ports::SecretVault for SecretsManager {
    async fn create(&self, name: &str, description: &str, value: &SecretString) -> Result<SecretRef, StoreError> {
        use secrecy::ExposeSecret;
        let created = self.client.create_secret().name(name).description(description).secret_string(value.expose_secret()).send().await;
        match created {
            Ok(out) => Ok(SecretRef(out.arn.unwrap_or_else(|| name.to_owned()))),
            Err(e) => match Failure::of(&e) {
                Failure::Service { code } if code == "ResourceExistsException" || code == "InvalidRequestException" => Err(StoreError::Conflict),
                other => Err(store_error(other)),
            },
        }
    }

    async fn delete(&self, secret: &SecretRef) -> Result<(), StoreError> {
        let deleted = self.client.delete_secret().secret_id(&secret.0).recovery_window_in_days(7).send().await;
        deleted.map(drop).map_err(|e| store_error(Failure::of(&e)))
    }

    async fn discard(&self, secret: &SecretRef) -> Result<(), StoreError> {
        let deleted = self.client.delete_secret().secret_id(&secret.0).force_delete_without_recovery(true).send().await;
        deleted.map(drop).map_err(|e| store_error(Failure::of(&e)))
    }
}
