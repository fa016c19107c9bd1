//! Everything the admin function needs, built once at cold start: the operators' services over
//! DynamoDB, Cognito and Secrets Manager, the console token verifier, and a short cache of each
//! console person's Cognito account (their role), so a warm request asks Cognito nothing.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use shared::adapters::cognito::directory::CognitoDirectory;
use shared::adapters::console_tokens::{ConsoleTokens, Expected};
use shared::adapters::dynamo::apps::DynamoApps;
use shared::adapters::dynamo::audit::DynamoAudit;
use shared::adapters::dynamo::consents::DynamoConsents;
use shared::adapters::dynamo::hooks::DynamoHooks;
use shared::adapters::dynamo::keys::DynamoKeys;
use shared::adapters::dynamo::orgs::DynamoOrgs;
use shared::adapters::dynamo::sessions::DynamoSessions;
use shared::adapters::http::oidc::HttpOidc;
use shared::adapters::secrets_manager::SecretsManager;
use shared::admin::AdminError;
use shared::admin::apps::AppAdmin;
use shared::admin::consent::ConsentAdmin;
use shared::admin::hooks::HooksAdmin;
use shared::admin::keys::KeysAdmin;
use shared::admin::operator::{ConsoleIdentity, Operator, Refusal};
use shared::admin::orgs::OrgAdmin;
use shared::admin::people::PeopleAdmin;
use shared::admin::ports::{AuditLog, PeopleDirectory};
use shared::admin::workflows::WorkflowsAdmin;
use shared::cache::TtlCache;
use shared::directory::ports::PoolUser;

use crate::config::Config;

pub struct Admin {
    pub apps: AppAdmin,
    pub consent: ConsentAdmin,
    pub hooks: HooksAdmin,
    pub keys: KeysAdmin,
    pub orgs: OrgAdmin,
    pub people: PeopleAdmin,
    pub workflows: WorkflowsAdmin,
    pub audit: Arc<dyn AuditLog>,
    /// The overview's daily counters.
    pub daily: Arc<dyn shared::events::daily::DailyCounts>,
    pub tokens: ConsoleTokens,
    pub console_origin: String,
    directory: Arc<dyn PeopleDirectory>,
    /// Console people's standing by user name: their account (role, enabled, `sub`) and the
    /// second before which their console tokens are revoked.
    accounts: TtlCache<String, Standing>,
}

impl Admin {
    /// Fails only when the HTTP client for hook previews cannot be built (no TLS roots).
    pub fn new(config: &Config, sdk: &SdkConfig) -> Result<Self, String> {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let cognito = Arc::new(CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(sdk), &config.user_pool_id));
        let directory: Arc<dyn PeopleDirectory> = cognito.clone();
        let audit: Arc<dyn AuditLog> = Arc::new(DynamoAudit::new(dynamo.clone(), &config.table));
        let vault = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(sdk)));
        let key_set = Arc::new(DynamoKeys::new(dynamo.clone(), &config.table, Duration::from_secs(60)));
        let hook_secrets = shared::adapters::workflow_runner::connection_secrets(aws_sdk_secretsmanager::Client::new(sdk), Duration::from_secs(60));
        let caller = Arc::new(shared::adapters::http::hook::HttpHookCaller::new(hook_secrets.clone()).map_err(|e| e.to_string())?);
        let workflows = Arc::new(shared::adapters::dynamo::workflows::DynamoWorkflows::new(dynamo.clone(), &config.table));
        let replayer = Arc::new(shared::adapters::workflow_runner::DeployedReplayer {
            store: workflows.clone(),
            secrets: hook_secrets,
            services: shared::adapters::workflow_runner::StepServices {
                users: Some(shared::adapters::workflow_runner::user_actions(sdk, &config.user_pool_id, &config.table)),
                mail: config.email_sender.as_ref().map(|sender| shared::adapters::workflow_runner::email_step(sdk, sender)),
            },
        });
        Ok(Self {
            apps: AppAdmin { store: Arc::new(DynamoApps::new(dynamo.clone(), &config.table)), vault: vault.clone(), prefix: config.secret_prefix.clone() },
            consent: ConsentAdmin { store: Arc::new(DynamoConsents::new(dynamo.clone(), &config.table)), audit: audit.clone(), pool: cognito },
            hooks: HooksAdmin {
                store: Arc::new(DynamoHooks::new(dynamo.clone(), &config.table)),
                audit: audit.clone(),
                vault: vault.clone(),
                caller,
                prefix: config.secret_prefix.clone(),
            },
            keys: KeysAdmin { store: key_set.clone(), vault: vault.clone(), prefix: config.secret_prefix.clone() },
            orgs: OrgAdmin {
                store: Arc::new(DynamoOrgs::new(dynamo.clone(), &config.table)),
                vault: vault.clone(),
                discovery: Arc::new(HttpOidc::new().map_err(|e| e.to_string())?),
                prefix: config.secret_prefix.clone(),
            },
            workflows: WorkflowsAdmin { store: workflows, vault, replayer, audit: audit.clone(), prefix: config.secret_prefix.clone() },
            people: PeopleAdmin {
                directory: directory.clone(),
                sessions: Arc::new(DynamoSessions::new(dynamo.clone(), &config.table)),
                audit: audit.clone(),
                codes: Arc::new(shared::adapters::dynamo::sign_ups::DynamoSignUps::new(dynamo.clone(), &config.table)),
                orgs: Arc::new(DynamoOrgs::new(dynamo.clone(), &config.table)),
                refresh: Arc::new(shared::adapters::dynamo::refresh_tokens::DynamoRefreshFamilies::new(dynamo.clone(), &config.table)),
                // A minute's cache, as the login function's: the names, and whether a sign-in's
                // refresh tokens still count, by the app as it was up to a minute ago.
                apps: Arc::new(shared::adapters::cached_apps::CachedApps::new(
                    Arc::new(DynamoApps::new(dynamo.clone(), &config.table)),
                    Duration::from_secs(60),
                )),
            },
            audit,
            daily: Arc::new(shared::adapters::dynamo::daily::DynamoDailyCounts::new(dynamo.clone(), &config.table)),
            tokens: ConsoleTokens::new(
                key_set,
                Expected { issuer: config.issuer.clone(), audience: config.console_audience.clone(), app: config.console_app.clone() },
            ),
            console_origin: config.console_origin.clone(),
            directory,
            accounts: TtlCache::new(Duration::from_secs(config.role_ttl_seconds)),
        })
    }

    /// The production wiring, from the function's environment.
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let config = Config::from_env(&shared::config::Env)?;
        Ok(Self::new(&config, &shared::adapters::aws::load().await)?)
    }

    /// Forgets `username`'s cached standing (account, role, console tokens' revocation), after a
    /// change to any of them.
    pub fn forget(&self, username: &str) {
        self.accounts.invalidate(&username.to_owned());
    }

    /// The operator a verified token names, by their Cognito account as it is now and the second
    /// before which their console tokens are revoked, read side by side (cached for
    /// `ADMIN_ROLE_TTL_SECONDS`; read again, and cached anew, when `fresh`: every change is
    /// allowed by the standing of the moment, on whatever instance).
    pub async fn operator(&self, identity: ConsoleIdentity, ip: Option<String>, fresh: bool) -> Result<Result<Operator, Refusal>, AdminError> {
        let load = || async {
            let (account, not_before) = tokio::join!(self.directory.user(&identity.username), self.people.sessions.signed_out_at(&identity.username));
            let not_before = not_before?;
            Ok::<_, AdminError>(account?.map(|account| Standing { account, not_before }))
        };
        // Anew for a change: neither the cache nor a read's load under way (begun before).
        let standing = if fresh {
            let loaded = load().await?;
            self.forget(&identity.username);
            loaded.map(|standing| self.accounts.put(&identity.username, standing))
        } else {
            self.accounts.get_or_load(&identity.username, load).await?
        };
        Ok(Operator::admit(identity, standing.as_ref().map(|s| &s.account), standing.as_ref().and_then(|s| s.not_before), ip))
    }
}

/// A console person as the admin API last read them.
struct Standing {
    account: PoolUser,
    /// Their console tokens issued before this are revoked.
    not_before: Option<u64>,
}
