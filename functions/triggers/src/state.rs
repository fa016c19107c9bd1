//! What the trigger handler needs, built at cold start. The user pool comes with each event
//! (the pool names this function as its trigger, so the function cannot name the pool), so
//! account linking is built per event over one Cognito client.

use shared::adapters::cached_orgs::CachedOrgs;
use shared::adapters::cognito::directory::CognitoDirectory;
use shared::adapters::dynamo::activity::DynamoActivity;
use shared::adapters::dynamo::email_templates::DynamoEmailTemplates;
use shared::adapters::dynamo::orgs::DynamoOrgs;
use shared::adapters::dynamo::workflows::DynamoWorkflows;
use shared::cache::TtlCache;
use shared::config::{Source, optional, required};
use shared::directory::ports::{AccountLinker, AppClients, DirectoryError, OrgDirectory};
use shared::directory::triggers::{OpenProviders, SIGN_IN_CLIENT_NAME};
use shared::events::EventLog;
use shared::messages::ports::{EmailTemplates, StoredTemplate};
use shared::workflows::inactivity::SignInActivity;
use std::sync::Arc;
use std::time::Duration;

/// How long the operator's email templates are kept (seconds): a change reaches warm
/// instances within this time.
pub const TEMPLATES_TTL: u64 = 60;
/// How long an email waits for the templates before it goes without the operator's.
pub const TEMPLATES_WAIT: Duration = Duration::from_millis(800);

/// The product name emails show when `PRODUCT_NAME` is not set.
pub const DEFAULT_PRODUCT: &str = "Identity Bridge";

/// The account linker for a user pool.
pub type Linkers = Box<dyn Fn(&str) -> Arc<dyn AccountLinker> + Send + Sync>;

/// A user pool's app clients.
pub type PoolClients = Box<dyn Fn(&str) -> Arc<dyn AppClients> + Send + Sync>;

/// How long a pool's sign-in client id is kept (seconds): it changes only if the client is
/// made again.
pub const SIGN_IN_CLIENT_TTL: u64 = 3600;

pub struct Triggers {
    pub events: Arc<dyn EventLog>,
    pub activity: Arc<dyn SignInActivity>,
    pub linkers: Linkers,
    pub clients: PoolClients,
    /// Each pool's sign-in client ids, read through [`Self::sign_in_clients`].
    pub sign_in_clients: TtlCache<String, Vec<String>>,
    /// The organisations: which provider may hold or be linked to which address.
    pub orgs: Arc<dyn OrgDirectory>,
    /// The pool providers that may speak for an address of no organisation: the social ones and
    /// the operator's own (`OPERATOR_PROVIDERS`, names separated by commas).
    pub open_providers: OpenProviders,
    /// The operator's email templates, read through [`Self::templates`].
    pub email_templates: Arc<dyn EmailTemplates>,
    pub template_cache: TtlCache<(), Vec<StoredTemplate>>,
    /// The product name emails show (`PRODUCT_NAME`).
    pub product: String,
}

impl Triggers {
    pub fn new(env: &impl Source, sdk: &aws_config::SdkConfig) -> Result<Self, shared::config::ConfigError> {
        let table = required(env, "TABLE_NAME")?;
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(sdk);
        Ok(Self {
            events: Arc::new(DynamoWorkflows::new(dynamo.clone(), &table)),
            activity: Arc::new(DynamoActivity::new(dynamo.clone(), &table)),
            linkers: Box::new({
                let cognito = cognito.clone();
                move |pool| Arc::new(CognitoDirectory::new(cognito.clone(), pool))
            }),
            clients: Box::new(move |pool| Arc::new(CognitoDirectory::new(cognito.clone(), pool))),
            sign_in_clients: TtlCache::new(Duration::from_secs(SIGN_IN_CLIENT_TTL)),
            orgs: Arc::new(CachedOrgs::new(Arc::new(DynamoOrgs::new(dynamo.clone(), &table)), shared::adapters::cached_orgs::DEFAULT_TTL)),
            open_providers: OpenProviders::parse(&optional(env, "OPERATOR_PROVIDERS")?.unwrap_or_default())
                .map_err(|problem| shared::config::ConfigError { variable: "OPERATOR_PROVIDERS".into(), problem })?,
            email_templates: Arc::new(DynamoEmailTemplates::new(dynamo, &table)),
            template_cache: TtlCache::new(Duration::from_secs(TEMPLATES_TTL)),
            product: optional(env, "PRODUCT_NAME")?.filter(|p| !p.trim().is_empty()).unwrap_or_else(|| DEFAULT_PRODUCT.into()),
        })
    }

    /// The ids of `pool`'s sign-in clients ([`SIGN_IN_CLIENT_NAME`]), kept for
    /// [`SIGN_IN_CLIENT_TTL`] once found (one `ListUserPoolClients` per pool and period; a pool
    /// without one is listed again each time). A listing that fails serves the ids held, fresh
    /// or not; with none held it is an error.
    pub async fn sign_in_clients(&self, pool: &str) -> Result<Arc<Vec<String>>, DirectoryError> {
        let key = pool.to_owned();
        let load = || async { (self.clients)(pool).client_ids_named(SIGN_IN_CLIENT_NAME).await.map(|ids| Some(ids).filter(|ids| !ids.is_empty())) };
        match self.sign_in_clients.get_or_load(&key, load).await {
            Ok(ids) => Ok(ids.unwrap_or_default()),
            Err(e) => self.sign_in_clients.held(&key).ok_or(e),
        }
    }

    /// The operator's email templates (cached for [`TEMPLATES_TTL`]). When they cannot be read
    /// within [`TEMPLATES_WAIT`], the ones this instance read last, else none (the shipped
    /// ones): an email is never held back for them (Cognito gives the trigger 5 s).
    pub async fn templates(&self) -> Arc<Vec<StoredTemplate>> {
        let load = self.template_cache.get_or_load(&(), || async { self.email_templates.all().await.map(Some) });
        let why = match tokio::time::timeout(TEMPLATES_WAIT, load).await {
            Ok(Ok(stored)) => return stored.unwrap_or_default(),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {TEMPLATES_WAIT:?}"),
        };
        tracing::warn!(error = %why, "the email templates could not be read; the ones held (or the shipped ones) are used");
        self.template_cache.held(&()).unwrap_or_default()
    }
}
