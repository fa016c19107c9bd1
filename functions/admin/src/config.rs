//! The admin function's configuration, read once at cold start.

use shared::config::{ConfigError, Source, optional, parsed_or, required};

#[derive(Debug, Clone)]
pub struct Config {
    /// The bridge's DynamoDB table.
    pub table: String,
    pub user_pool_id: String,
    /// The bridge's public API URL: the `iss` of the console's tokens.
    pub issuer: String,
    /// The `audience` of the console app: the `aud` its tokens must name.
    pub console_audience: String,
    /// The console app's id: the `azp` its tokens must name.
    pub console_app: String,
    /// The console's origin (`https://console.example.com`): the only one CORS allows, and the
    /// only `Origin` a request may carry.
    pub console_origin: String,
    /// Prefix of the secrets the API creates (the stack name).
    pub secret_prefix: String,
    /// How long a person's console role is trusted before Cognito is asked again (seconds).
    pub role_ttl_seconds: u64,
    /// Who a replayed run's email steps send as (`EMAIL_FROM`, `EMAIL_IDENTITY_ARN`); none: they fail.
    pub email_sender: Option<shared::adapters::workflow_runner::EmailSender>,
}

impl Config {
    pub fn from_env(env: &impl Source) -> Result<Self, ConfigError> {
        Ok(Self {
            table: required(env, "TABLE_NAME")?,
            user_pool_id: required(env, "USER_POOL_ID")?,
            issuer: required(env, "PUBLIC_API_URL")?.trim_end_matches('/').to_owned(),
            console_audience: optional(env, "CONSOLE_AUDIENCE")?.unwrap_or_else(|| "bridge-console".into()),
            console_app: optional(env, "CONSOLE_APP_ID")?.unwrap_or_else(|| "console".into()),
            console_origin: required(env, "CONSOLE_ORIGIN")?.trim_end_matches('/').to_owned(),
            secret_prefix: optional(env, "SECRET_PREFIX")?.unwrap_or_else(|| "identity-bridge".into()),
            role_ttl_seconds: parsed_or(env, "ADMIN_ROLE_TTL_SECONDS", 30)?,
            email_sender: shared::adapters::workflow_runner::email_sender(env)?,
        })
    }
}
