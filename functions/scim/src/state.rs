//! Everything the handler needs, built once at cold start: the SCIM service over DynamoDB and
//! Cognito, and short caches for tokens and organisations so a warm request costs only the
//! resource's own reads and writes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use shared::adapters::cached_orgs::CachedOrgs;
use shared::adapters::cognito::directory::CognitoDirectory;
use shared::adapters::dynamo::orgs::DynamoOrgs;
use shared::adapters::dynamo::scim::DynamoScim;
use shared::adapters::dynamo::sessions::DynamoSessions;
use shared::cache::TtlCache;
use shared::common::store::StoreError;
use shared::directory::org::Organisation;
use shared::directory::ports::{OrgDirectory, OrgStore};
use shared::directory::scim::service::{ScimService, SyncReport};
use shared::directory::scim_token;
use shared::directory::scim_token::ScimTokenStore;
use shared::directory::scim_token::TokenRecord;
use shared::signin::ending_sessions::EndingSessions;

use crate::config::Config;

pub struct Scim {
    pub service: ScimService,
    pub base_url: Option<String>,
    orgs: Arc<DynamoOrgs>,
    tokens: TtlCache<String, TokenRecord>,
    organisations: CachedOrgs,
}

impl Scim {
    pub fn new(config: &Config, sdk: &SdkConfig) -> Self {
        Self::with_clients(config, aws_sdk_dynamodb::Client::new(sdk), aws_sdk_cognitoidentityprovider::Client::new(sdk))
    }

    /// The same wiring over the given clients (tests point Cognito somewhere unreachable).
    pub fn with_clients(config: &Config, dynamo: aws_sdk_dynamodb::Client, cognito: aws_sdk_cognitoidentityprovider::Client) -> Self {
        let store = Arc::new(DynamoScim::new(dynamo.clone(), &config.table));
        let directory = Arc::new(EndingSessions {
            directory: Arc::new(CognitoDirectory::new(cognito, &config.user_pool_id)),
            sessions: Arc::new(DynamoSessions::new(dynamo.clone(), &config.table)),
        });
        let ttl = Duration::from_secs(config.auth_ttl_seconds);
        let orgs = Arc::new(DynamoOrgs::new(dynamo, &config.table));
        Self {
            service: ScimService::new(store, directory, config.filter_limit),
            base_url: config.base_url.clone(),
            organisations: CachedOrgs::new(orgs.clone(), ttl),
            orgs,
            tokens: TtlCache::new(ttl),
        }
    }

    /// The organisation a bearer token belongs to; `None` for anything but a live token.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<Arc<Organisation>>, StoreError> {
        let find = |id: String| async move { self.tokens.get_or_load(&id, || self.orgs.find(&id)).await };
        let Some(org) = scim_token::authenticate_with(presented, find).await? else { return Ok(None) };
        self.organisations.org(&org).await
    }

    /// The production wiring, from the function's environment.
    pub async fn from_env() -> Result<Self, shared::config::ConfigError> {
        let config = Config::from_env(&shared::config::Env)?;
        Ok(Self::new(&config, &shared::adapters::aws::load().await))
    }
}

/// How often the scheduler runs the sweep (seconds): each run begins at the next organisation.
const SWEEP_PERIOD: u64 = 300;

impl Scim {
    /// Retries the outstanding syncs of every organisation until `deadline`. One organisation
    /// cannot hold up the others: each run starts at another one (by `now`, seconds since the
    /// epoch, so every organisation comes first in turn), and one whose pending changes cannot be
    /// read is logged and passed over; what the time does not reach (users, or whole
    /// organisations) is `left` for the next run.
    pub async fn sweep(&self, now: u64, deadline: Instant) -> Result<SyncReport, StoreError> {
        let mut total = SyncReport::default();
        let orgs = in_turn(OrgStore::list(self.orgs.as_ref()).await?, now);
        for org in orgs {
            if Instant::now() >= deadline {
                total.left += 1;
                continue;
            }
            match self.service.sync_pending(&org, deadline).await {
                Ok(report) => {
                    total.synced += report.synced;
                    total.failed += report.failed;
                    total.left += report.left;
                }
                Err(e) => {
                    tracing::error!(org = %org.id, error = %e, "an organisation's pending syncs could not be read; passed over");
                    total.left += 1;
                }
            }
        }
        Ok(total)
    }
}

/// `orgs` in the order a sweep at `now` (seconds since the epoch) takes them: the list turned so
/// each run of the schedule begins at the next one, and every organisation comes first in turn.
fn in_turn<T>(mut orgs: Vec<T>, now: u64) -> Vec<T> {
    if !orgs.is_empty() {
        let first = (now / SWEEP_PERIOD) as usize % orgs.len();
        orgs.rotate_left(first);
    }
    orgs
}

#[cfg(test)]
mod tests {
    use super::{SWEEP_PERIOD, in_turn};

    #[test]
    fn each_run_of_the_schedule_begins_at_the_next_organisation() {
        let firsts: Vec<char> = (0..4).map(|run| in_turn(vec!['a', 'b', 'c'], 1_700_000_100 + run * SWEEP_PERIOD)[0]).collect();
        let mut seen = firsts[..3].to_vec();
        seen.sort();
        assert_eq!(seen, ['a', 'b', 'c'], "three runs, three first organisations: {firsts:?}");
        assert_eq!(firsts[3], firsts[0], "then round again");
        assert_eq!(in_turn(vec!['a', 'b', 'c'], SWEEP_PERIOD), ['b', 'c', 'a'], "the order is kept, turned");
        assert_eq!(in_turn(Vec::<char>::new(), 7), Vec::<char>::new());
    }
}
