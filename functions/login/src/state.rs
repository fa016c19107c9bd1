//! Everything the handler needs, built once at cold start: SDK clients, caches, the sign-in
//! and corporate sign-in services.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use shared::adapters::cached_apps::CachedApps;
use shared::adapters::cached_orgs::CachedOrgs;
use shared::adapters::cognito::auth::{CognitoPasswordAuth, SignInClient};
use shared::adapters::cognito::directory::CognitoDirectory;
use shared::adapters::dynamo::activity::DynamoActivity;
use shared::adapters::dynamo::apps::DynamoApps;
use shared::adapters::dynamo::consents::DynamoConsents;
use shared::adapters::dynamo::keys::DynamoKeys;
use shared::adapters::dynamo::orgs::DynamoOrgs;
use shared::adapters::dynamo::scim::DynamoScim;
use shared::adapters::dynamo::sessions::DynamoSessions;
use shared::adapters::dynamo::workflows::DynamoWorkflows;
use shared::adapters::http::jwks;
use shared::adapters::http::oidc::HttpOidc;
use shared::adapters::http::pwned_passwords::PwnedPasswords;
use shared::adapters::secrets_manager::SecretsManager;
use shared::common::secrets::{CachedSecrets, SecretRef};
use shared::consent::current::CurrentDocuments;
use shared::signin::SignIn;
use shared::signin::corporate::{Corporate, CorporatePorts};
use shared::signin::ports::OidcProvider;
use shared::signin::ports::PasswordBreaches;
use shared::signin::service::SignInPorts;
use shared::tokens::return_to::Origin;
use shared::tokens::signing_keys::{KEY_SET_CACHE, Signers};
use url::Url;

use crate::config::Config;

pub struct Login {
    pub sign_in: SignIn,
    pub corporate: Corporate,
    /// The API's public base URL (no trailing slash); empty when corporate sign-in is off.
    pub api_url: String,
    pub form_url: Url,
    pub form_origin: Origin,
    /// The trusted header naming the visitor's country (lower case), if any.
    pub country_header: Option<String>,
}

impl Login {
    /// The bridge's secrets, read through a cache. Cold start builds this first and starts
    /// reading the bridge secret at once: every sign-in needs it before its Cognito call.
    pub fn secrets(config: &Config, sdk: &SdkConfig) -> Arc<CachedSecrets> {
        Arc::new(CachedSecrets::new(
            Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(sdk))),
            SecretRef(config.bridge_secret_id.clone()),
            Duration::from_secs(config.secrets_ttl_seconds),
        ))
    }

    /// A function's init (the login and account functions'): its configuration from the
    /// environment, the SDK's, and its state, with the bridge secret's load begun first and not
    /// waited for (every request needs it: it runs beside the rest of init and the Runtime API's
    /// first `next`; a load that fails is loaded again by the request that needs it).
    pub async fn init() -> Result<(Config, SdkConfig, Arc<Self>), String> {
        let config = Config::from_env(&shared::config::Env).map_err(|e| e.to_string())?;
        let sdk = shared::adapters::aws::load().await;
        let secrets = Self::secrets(&config, &sdk);
        let early = secrets.clone();
        tokio::spawn(async move {
            if let Err(error) = early.bridge().await {
                tracing::warn!(%error, "could not load the bridge secret ahead of the first request");
            }
        });
        let login = Arc::new(Self::new(&config, &sdk, secrets)?);
        Ok((config, sdk, login))
    }

    /// The production wiring: the pool's keys over HTTPS.
    pub fn new(config: &Config, sdk: &SdkConfig, secrets: Arc<CachedSecrets>) -> Result<Self, String> {
        // The pool's keys through the SDK's client, on the connection Cognito calls then take;
        // one HTTPS client for the companies' providers.
        let http = shared::adapters::http::client(Duration::from_secs(1), Duration::from_secs(3)).map_err(|e| format!("HTTPS client: {e}"))?;
        let keys = jwks::HttpKeys::new(&config.jwks_url, sdk);
        let breaches = config.breached_passwords_url.clone().map(|url| Arc::new(PwnedPasswords::new(http.clone(), url)) as Arc<dyn PasswordBreaches>);
        Ok(Self::with(config, sdk, secrets, Box::new(keys), Arc::new(HttpOidc::with(http)), breaches))
    }

    /// The same wiring with the pool's signing keys from `keys` (benchmarks use a fixed set), the
    /// given corporate provider client and breached-password lookup (none: the pool's rules alone).
    pub fn with(
        config: &Config,
        sdk: &SdkConfig,
        secrets: Arc<CachedSecrets>,
        keys: Box<dyn jwks::KeySource>,
        oidc: Arc<dyn OidcProvider>,
        breaches: Option<Arc<dyn PasswordBreaches>>,
    ) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(sdk);
        let apps = DynamoApps::new(dynamo.clone(), &config.table);
        let orgs = Arc::new(CachedOrgs::new(Arc::new(DynamoOrgs::new(dynamo.clone(), &config.table)), Duration::from_secs(config.orgs_ttl_seconds)));
        let sessions = Arc::new(DynamoSessions::new(dynamo.clone(), &config.table));
        let signers = Arc::new(Signers::new(Arc::new(DynamoKeys::new(dynamo.clone(), &config.table, Duration::from_secs(KEY_SET_CACHE))), secrets.clone()));
        let directory = Arc::new(CognitoDirectory::new(cognito.clone(), &config.user_pool_id));
        let api_url = shared::config::issuer(config.api_url.as_ref());
        let sign_in_client =
            config.sign_in_client.clone().map(|(client_id, secret)| SignInClient { user_pool_id: config.user_pool_id.clone(), client_id, secret });
        let audiences = [Some(&config.client_id), sign_in_client.as_ref().map(|c| &c.client_id)].into_iter().flatten().cloned().collect();
        let sign_in = SignIn::new(SignInPorts {
            apps: Arc::new(CachedApps::new(Arc::new(apps), Duration::from_secs(config.apps_ttl_seconds))),
            orgs,
            auth: Arc::new(CognitoPasswordAuth::new(cognito.clone(), &config.client_id, secrets.clone()).with_sign_in_client(sign_in_client)),
            own_account: Arc::new(shared::adapters::cognito::account::CognitoAccount::new(cognito)),
            tokens: Arc::new(jwks::JwksVerifier::new(&config.issuer, audiences, keys)),
            secrets,
            sessions: sessions.clone(),
            refresh: Arc::new(shared::adapters::dynamo::refresh_tokens::DynamoRefreshFamilies::new(dynamo.clone(), &config.table)),
            events: Arc::new(DynamoWorkflows::new(dynamo.clone(), &config.table)),
            risk: Arc::new(DynamoActivity::new(dynamo.clone(), &config.table)),
            sign_ups: Arc::new(shared::adapters::dynamo::sign_ups::DynamoSignUps::new(dynamo.clone(), &config.table)),
            consents: Arc::new(CurrentDocuments::new(
                Arc::new(DynamoConsents::new(dynamo.clone(), &config.table)),
                Duration::from_secs(config.apps_ttl_seconds),
            )),
            pool: directory.clone(),
            session_policy: config.session,
            signers,
            issuer: api_url.clone(),
            relying_party: config.relying_party.clone(),
            sms_destinations: config.sms_destinations.clone(),
            breaches,
        });
        let corporate = sign_in.corporate(CorporatePorts {
            provider: oidc,
            pending: sessions.clone(),
            links: sessions,
            scim: Arc::new(DynamoScim::new(dynamo.clone(), &config.table)),
            directory,
            redirect_uri: if api_url.is_empty() { String::new() } else { format!("{api_url}/corporate/callback") },
        });
        Self {
            sign_in,
            corporate,
            api_url,
            form_url: config.form_url.clone(),
            form_origin: config.form_origin.clone(),
            country_header: config.country_header.clone(),
        }
    }
}
