//! The SCIM function's configuration, read once at cold start.

use shared::config::{ConfigError, Source, optional, parsed_or, required};

#[derive(Debug, Clone)]
pub struct Config {
    /// The bridge's DynamoDB table.
    pub table: String,
    pub user_pool_id: String,
    /// The public base of the SCIM API (`https://id.example.com/scim/v2`); by default taken
    /// from the request's `Host`.
    pub base_url: Option<String>,
    /// How long a verified token and its organisation are trusted before being read again
    /// (also how long a revoked token may still work).
    pub auth_ttl_seconds: u64,
    /// Most resources a filter that is not a key lookup, or a sort, may evaluate.
    pub filter_limit: usize,
}

impl Config {
    pub fn from_env(env: &impl Source) -> Result<Self, ConfigError> {
        Ok(Self {
            table: required(env, "TABLE_NAME")?,
            user_pool_id: required(env, "USER_POOL_ID")?,
            base_url: optional(env, "SCIM_BASE_URL")?.map(|u| u.trim_end_matches('/').to_owned()),
            auth_ttl_seconds: parsed_or(env, "SCIM_AUTH_TTL_SECONDS", 60)?,
            filter_limit: parsed_or(env, "SCIM_FILTER_LIMIT", 10_000)?,
        })
    }
}
