//! The sender, built at cold start: hooks, ledger and counters in the bridge's table, the KMS
//! keyring for the pool's key (`KMS_KEY_ARN`), the HTTP caller with the hooks' secrets (cached
//! for a minute), the numbers codes may go to (`SMS_ALLOWED_PREFIXES`), and each execution also
//! written as a CloudWatch metric (embedded metric format: a log line, no API call).

use shared::adapters::dynamo::hooks::DynamoHooks;
use shared::adapters::hook_metrics::CloudWatchMetrics;
use shared::adapters::http::hook::HttpHookCaller;
use shared::adapters::kms_keyring::KmsKeyring;
use shared::common::sms_destinations::SmsDestinations;
use shared::config::{ConfigError, Source, parsed_or, required};
use shared::telephony::sms_sender::SmsSender;
use std::sync::Arc;
use std::time::Duration;

pub fn sender(env: &impl Source, sdk: &aws_config::SdkConfig) -> Result<SmsSender, ConfigError> {
    let table = required(env, "TABLE_NAME")?;
    let key = required(env, "KMS_KEY_ARN")?;
    let hooks = Arc::new(DynamoHooks::new(aws_sdk_dynamodb::Client::new(sdk), &table));
    let secrets = shared::adapters::workflow_runner::connection_secrets(aws_sdk_secretsmanager::Client::new(sdk), Duration::from_secs(60));
    let caller = HttpHookCaller::new(secrets).map_err(|e| ConfigError { variable: "(the HTTP client)".into(), problem: e.to_string() })?;
    Ok(SmsSender {
        hooks: hooks.clone(),
        caller: Arc::new(caller),
        ledger: hooks.clone(),
        log: Arc::new(CloudWatchMetrics(hooks)),
        opener: Arc::new(KmsKeyring::new(aws_sdk_kms::Client::new(sdk), vec![key])),
        destinations: parsed_or(env, "SMS_ALLOWED_PREFIXES", SmsDestinations::default())?,
    })
}
