//! What minting needs from the outside world: the apps and our signing keys.
//! Adapters (`crate::adapters`) implement these over DynamoDB; tests implement them in memory.

use crate::common::store::StoreError;
use crate::tokens::app::{App, AppId};
use async_trait::async_trait;
use std::sync::Arc;

/// Reads apps: by id (the sign-in path), or all of them (the account page's list, the admin tool).
#[async_trait]
pub trait AppDirectory: Send + Sync {
    async fn app(&self, id: &AppId) -> Result<Option<Arc<App>>, StoreError>;
    /// Every app that can be read, by id: one that cannot (saved by a newer version, damaged) is
    /// logged and left out, so it cannot empty the account page's list. The admin side's list
    /// (`admin::ports::AuditedApps`) fails instead.
    async fn list(&self) -> Result<Vec<App>, StoreError>;
}

/// Manages apps (the admin tool).
#[async_trait]
pub trait AppStore: AppDirectory {
    /// Creates `app` with version 1; `Conflict` if the id is taken.
    async fn create(&self, app: &App) -> Result<(), StoreError>;
    /// Replaces the app whose version is `app.version - 1`; `Conflict` if it changed meanwhile.
    async fn update(&self, app: &App) -> Result<(), StoreError>;
    /// Removes the app; `Missing` if there was none.
    async fn remove(&self, id: &AppId) -> Result<(), StoreError>;
}
