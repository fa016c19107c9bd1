//! The workflow runner as deployed, built the same way by the runner Lambda and the operators'
//! replay ([`DeployedReplayer`], for the admin API and `bridge-admin`): connections read from the table and called over HTTPS, Cognito steps on the
//! bridge's pool and email steps through Amazon SES (each when configured: [`StepServices`]),
//! run records in the table, real waits between retries, connection secrets from Secrets Manager.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

use crate::adapters::cached_orgs::CachedOrgs;
use crate::adapters::cognito::directory::CognitoDirectory;
use crate::adapters::dynamo::orgs::DynamoOrgs;
use crate::adapters::dynamo::sessions::DynamoSessions;
use crate::adapters::dynamo::workflows::DynamoWorkflows;
use crate::adapters::http::connectors::HttpConnectors;
use crate::adapters::secrets_manager::SecretsManager;
use crate::adapters::ses::SesMailer;
use crate::common::secrets::{CachedSecrets, SecretRef};
use crate::common::store::StoreError;
use crate::config::{ConfigError, Source, optional};
use crate::workflows::email_step::EmailStep;
use crate::workflows::flow::Action;
use crate::workflows::runner::{Connectors, Pause};
use crate::workflows::runner::{Runner, StepOutcome};
use crate::workflows::user_actions::UserActions;

/// Waiting between retries: really waiting.
pub struct Sleep;

#[async_trait]
impl Pause for Sleep {
    async fn pause(&self, seconds: u64) {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
    }
}

/// Connection secrets, each kept for `ttl`. (The runner never reads the bridge's own secret.)
pub fn connection_secrets(client: aws_sdk_secretsmanager::Client, ttl: Duration) -> Arc<CachedSecrets> {
    Arc::new(CachedSecrets::new(Arc::new(SecretsManager::new(client)), SecretRef(String::new()), ttl))
}

/// The Cognito connector over the pool `pool_id` and the bridge's sessions in `table`.
pub fn user_actions(sdk: &aws_config::SdkConfig, pool_id: &str, table: &str) -> Arc<UserActions> {
    let directory = Arc::new(CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(sdk), pool_id));
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let sessions = Arc::new(DynamoSessions::new(dynamo.clone(), table));
    let orgs = Arc::new(CachedOrgs::new(Arc::new(DynamoOrgs::new(dynamo, table)), crate::adapters::cached_orgs::DEFAULT_TTL));
    Arc::new(UserActions { directory: directory.clone(), pool: directory.clone(), linker: directory, sessions, orgs })
}

/// The connectors that act on AWS rather than through a connection, each when configured: a
/// step whose service is missing fails, saying which setting it needs.
#[derive(Clone, Default)]
pub struct StepServices {
    /// Cognito steps, on the bridge's pool (`USER_POOL_ID`).
    pub users: Option<Arc<UserActions>>,
    /// Email steps, through Amazon SES (`EMAIL_FROM` on `EMAIL_IDENTITY_ARN`).
    pub mail: Option<Arc<EmailStep>>,
}

impl StepServices {
    /// What `env` configures: Cognito steps on `USER_POOL_ID` (with the bridge's sessions in
    /// `table`), email steps as [`email_sender`] reads them.
    pub fn from_env(env: &impl Source, sdk: &aws_config::SdkConfig, table: &str) -> Result<Self, ConfigError> {
        let users = optional(env, "USER_POOL_ID")?.filter(|p| !p.is_empty()).map(|pool| user_actions(sdk, &pool, table));
        Ok(Self { users, mail: email_sender(env)?.map(|sender| email_step(sdk, &sender)) })
    }
}

/// Who email steps send as: an address on a verified SES identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSender {
    /// `EMAIL_FROM`: the `From` address (`Example <no-reply@example.com>` or a bare address).
    pub from: String,
    /// `EMAIL_IDENTITY_ARN`: the SES identity `from` belongs to.
    pub identity_arn: String,
}

/// The sender `env` names: `EMAIL_FROM` on `EMAIL_IDENTITY_ARN`. Without `EMAIL_FROM` there are
/// no email steps (a pool may send through an identity with no `From` of its own: the template
/// passes the identity alone then); `EMAIL_FROM` without an identity to send it on is an error.
pub fn email_sender(env: &impl Source) -> Result<Option<EmailSender>, ConfigError> {
    let set = |name| optional(env, name).map(|v| v.filter(|v| !v.trim().is_empty()));
    match (set("EMAIL_FROM")?, set("EMAIL_IDENTITY_ARN")?) {
        (Some(from), Some(identity_arn)) => Ok(Some(EmailSender { from, identity_arn })),
        (None, _) => Ok(None),
        (Some(_), None) => {
            Err(ConfigError { variable: "EMAIL_IDENTITY_ARN".into(), problem: "is needed with EMAIL_FROM (the SES identity it sends on)".into() })
        }
    }
}

/// The email connector sending as `sender` through Amazon SES.
pub fn email_step(sdk: &aws_config::SdkConfig, sender: &EmailSender) -> Arc<EmailStep> {
    Arc::new(EmailStep { mailer: Arc::new(SesMailer::new(sdk, &sender.from, &sender.identity_arn)) })
}

/// A step's connector: HTTP ones, and Cognito and email when configured.
struct StepConnectors {
    http: HttpConnectors,
    services: StepServices,
}

#[async_trait]
impl Connectors for StepConnectors {
    async fn call(&self, action: &Action) -> StepOutcome {
        match (action, &self.services.users, &self.services.mail) {
            (Action::Cognito { .. }, Some(users), _) => UserActions::call(users, action).await,
            (Action::Cognito { .. }, None, _) => StepOutcome::Failed("no user pool is configured for Cognito steps (USER_POOL_ID)".into()),
            (Action::Email { .. }, _, Some(mail)) => mail.call(action).await,
            (Action::Email { .. }, _, None) => StepOutcome::Failed("no sender is configured for email steps (EMAIL_FROM, EMAIL_IDENTITY_ARN)".into()),
            _ => self.http.call(action).await,
        }
    }
}

/// A runner over the connections the table holds now.
pub async fn runner(store: Arc<DynamoWorkflows>, secrets: Arc<CachedSecrets>, pause: Arc<dyn Pause>, services: StepServices) -> Result<Runner, StoreError> {
    let http = HttpConnectors::new(store.connections().await?, secrets).map_err(|e| StoreError::Unavailable(format!("HTTPS client: {e}")))?;
    Ok(Runner { connectors: Arc::new(StepConnectors { http, services }), runs: store.clone(), dead_letters: store, pause, deadline: None })
}

/// Replays over the connections the table holds at the time of each replay.
pub struct DeployedReplayer {
    pub store: Arc<DynamoWorkflows>,
    pub secrets: Arc<CachedSecrets>,
    /// Cognito and email steps, where configured.
    pub services: StepServices,
}

#[async_trait]
impl crate::admin::ports::Replayer for DeployedReplayer {
    async fn replay(
        &self,
        flow: &crate::workflows::flow::Flow,
        event: &crate::events::IdentityEvent,
        run: crate::workflows::runner::RunRecord,
        now: u64,
    ) -> Result<crate::workflows::runner::RunRecord, StoreError> {
        let runner = runner(self.store.clone(), self.secrets.clone(), Arc::new(Sleep), self.services.clone()).await?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(crate::admin::workflows::REPLAY_SECONDS);
        Runner { deadline: Some(deadline), ..runner }.replay(flow, event, run, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_sender_needs_its_address_and_an_identity_alone_is_no_error() {
        let env = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>();
        let arn = "arn:aws:ses:ap-northeast-1:1:identity/acme.example";
        let both = email_sender(&env(&[("EMAIL_FROM", "no-reply@acme.example"), ("EMAIL_IDENTITY_ARN", arn)]));
        assert_eq!(both.ok().flatten(), Some(EmailSender { from: "no-reply@acme.example".into(), identity_arn: arn.into() }));
        // The template's pool sending through SES without an EmailFrom of its own: no email steps, and the function starts.
        assert!(matches!(email_sender(&env(&[("EMAIL_FROM", ""), ("EMAIL_IDENTITY_ARN", arn)])), Ok(None)));
        assert!(matches!(email_sender(&env(&[])), Ok(None)));
        assert!(email_sender(&env(&[("EMAIL_FROM", "no-reply@acme.example")])).is_err_and(|e| e.variable == "EMAIL_IDENTITY_ARN"));
    }
}
