//! What the trigger handler needs, built at cold start. The user pool comes with each event
//! (the pool names this function as its trigger, so the function cannot name the pool), so
//! account linking is built per event over one Cognito client.

use shared::adapters::cognito::directory::CognitoDirectory;
use shared::adapters::dynamo::activity::DynamoActivity;
use shared::adapters::dynamo::email_templates::DynamoEmailTemplates;
use shared::adapters::dynamo::workflows::DynamoWorkflows;
use shared::cache::TtlCache;
use shared::config::{Source, optional, required};
use shared::directory::ports::AccountLinker;
use shared::events::EventLog;
use shared::messages::ports::{EmailTemplates, StoredTemplate};
use shared::workflows::inactivity::SignInActivity;
use std::sync::Arc;
use std::time::Duration;

/// How long the operator's email templates are kept (seconds): a change reaches warm
/// instances within this time.
pub const TEMPLATES_TTL: u64 = 60;

/// The product name emails show when `PRODUCT_NAME` is not set.
pub const DEFAULT_PRODUCT: &str = "Identity Bridge";

/// The account linker for a user pool.
pub type Linkers = Box<dyn Fn(&str) -> Arc<dyn AccountLinker> + Send + Sync>;

pub struct Triggers {
    pub events: Arc<dyn EventLog>,
    pub activity: Arc<dyn SignInActivity>,
    pub linkers: Linkers,
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
            linkers: Box::new(move |pool| Arc::new(CognitoDirectory::new(cognito.clone(), pool))),
            email_templates: Arc::new(DynamoEmailTemplates::new(dynamo, &table)),
            template_cache: TtlCache::new(Duration::from_secs(TEMPLATES_TTL)),
            product: optional(env, "PRODUCT_NAME")?.filter(|p| !p.trim().is_empty()).unwrap_or_else(|| DEFAULT_PRODUCT.into()),
        })
    }

    /// The operator's email templates (cached for [`TEMPLATES_TTL`]); none, so the shipped ones,
    /// when they cannot be read: an email is never held back for them.
    pub async fn templates(&self) -> Arc<Vec<StoredTemplate>> {
        match self.template_cache.get_or_load(&(), || async { self.email_templates.all().await.map(Some) }).await {
            Ok(Some(stored)) => stored,
            Ok(None) => Arc::default(),
            Err(e) => {
                tracing::warn!(error = %e, "the email templates could not be read; the shipped ones are used");
                Arc::default()
            }
        }
    }
}
