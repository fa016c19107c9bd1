//! Everything the handler needs, built once at cold start: SDK clients, caches, the sign-in
//! service.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use shared::adapters::{
    cached_apps::CachedApps, cached_orgs::CachedOrgs, cognito::CognitoPasswordAuth, dynamo_apps::DynamoApps, dynamo_orgs::DynamoOrgs, jwks,
    secrets_manager::SecretsManager,
};
use shared::domain::return_to::Origin;
use shared::domain::signin::SignIn;
use shared::secrets::{CachedSecrets, SecretRef};
use url::Url;

use crate::config::Config;

pub struct Login {
    pub sign_in: SignIn,
    pub form_url: Url,
    pub form_origin: Origin,
}

impl Login {
    /// The production wiring: the pool's keys over HTTPS.
    pub fn new(config: &Config, sdk: &SdkConfig) -> Result<Self, String> {
        let keys = jwks::HttpKeys::new(&config.jwks_url).map_err(|e| format!("HTTPS client: {e}"))?;
        Ok(Self::with_keys(config, sdk, Box::new(keys)))
    }

    /// The same wiring with the signing keys from `keys` (benchmarks use a fixed set).
    pub fn with_keys(config: &Config, sdk: &SdkConfig, keys: Box<dyn jwks::KeySource>) -> Self {
        let secrets = Arc::new(CachedSecrets::new(
            Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(sdk))),
            SecretRef(config.bridge_secret_id.clone()),
            Duration::from_secs(config.secrets_ttl_seconds),
        ));
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let apps = DynamoApps::new(dynamo.clone(), &config.table);
        let orgs = DynamoOrgs::new(dynamo, &config.table);
        let sign_in = SignIn {
            apps: Arc::new(CachedApps::new(Arc::new(apps), Duration::from_secs(config.apps_ttl_seconds))),
            orgs: Arc::new(CachedOrgs::new(Arc::new(orgs), Duration::from_secs(config.orgs_ttl_seconds))),
            auth: Arc::new(CognitoPasswordAuth::new(aws_sdk_cognitoidentityprovider::Client::new(sdk), &config.client_id, secrets.clone())),
            tokens: Arc::new(jwks::JwksVerifier::new(&config.issuer, &config.client_id, keys)),
            secrets,
        };
        Self { sign_in, form_url: config.form_url.clone(), form_origin: config.form_origin.clone() }
    }
}
