//! What the trigger handler needs, built at cold start. The user pool comes with each event
//! (the pool names this function as its trigger, so the function cannot name the pool), so
//! account linking is built per event over one Cognito client.

use shared::adapters::cognito::directory::CognitoDirectory;
use shared::adapters::dynamo::activity::DynamoActivity;
use shared::adapters::dynamo::workflows::DynamoWorkflows;
use shared::config::{Source, required};
use shared::directory::ports::AccountLinker;
use shared::events::EventLog;
use shared::workflows::inactivity::SignInActivity;
use std::sync::Arc;

/// The account linker for a user pool.
pub type Linkers = Box<dyn Fn(&str) -> Arc<dyn AccountLinker> + Send + Sync>;

pub struct Triggers {
    pub events: Arc<dyn EventLog>,
    pub activity: Arc<dyn SignInActivity>,
    pub linkers: Linkers,
}

impl Triggers {
    pub fn new(env: &impl Source, sdk: &aws_config::SdkConfig) -> Result<Self, shared::config::ConfigError> {
        let table = required(env, "TABLE_NAME")?;
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(sdk);
        Ok(Self {
            events: Arc::new(DynamoWorkflows::new(dynamo.clone(), &table)),
            activity: Arc::new(DynamoActivity::new(dynamo, &table)),
            linkers: Box::new(move |pool| Arc::new(CognitoDirectory::new(cognito.clone(), pool))),
        })
    }
}
