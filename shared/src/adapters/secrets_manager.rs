//! `SecretStore` over AWS Secrets Manager (`GetSecretValue`). Values are never logged.

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
