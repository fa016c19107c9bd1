//! What the SMS sender needs from the outside world: the operator's hooks, calling them, the
//! send ledger, the hook log and the KMS keyring.

use crate::common::store::StoreError;
use crate::telephony::hook::{Execution, Hook};
use async_trait::async_trait;
use secrecy::SecretString;
use serde_json::Value;

/// The operator's telephony hooks: the active one and the hook it falls back to, if any.
#[async_trait]
pub trait HookDirectory: Send + Sync {
    async fn active(&self) -> Result<Option<(Hook, Option<Hook>)>, StoreError>;
}

/// One hook's counters for one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCount {
    /// Days since the Unix epoch.
    pub day: u64,
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Milliseconds, summed over the successful calls.
    pub succeeded_ms: u64,
}

/// Why a hook call got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    #[error("the hook did not answer in time")]
    Timeout,
    #[error("the hook could not be reached: {0}")]
    Unreachable(String),
    #[error("the hook's authentication could not be prepared: {0}")]
    Auth(String),
}

/// One HTTP call of a hook (POST JSON, its own timeout, redirects not followed): the status
/// and the body (JSON, or a JSON string of the text).
#[async_trait]
pub trait HookCaller: Send + Sync {
    async fn call(&self, hook: &Hook, request: &Value, timeout: std::time::Duration) -> Result<(u16, Value), CallFailure>;
}

/// Which Cognito sender events were handled, so a retried event sends nothing twice.
///
/// A claim is a lease until the invocation's deadline: once a hook delivered the code, the
/// execution's record (`HookLog::executed` with `Execution::settles`) keeps it a day. A claim
/// whose invocation stopped before either (the function timed out or died mid-delivery) lapses,
/// so Lambda's retry of the event, a minute later at the earliest, delivers the code.
#[async_trait]
pub trait SendLedger: Send + Sync {
    /// `true` if `key` is free (never claimed, released, or a lease that lapsed before `now`,
    /// seconds since the Unix epoch); it is then claimed until `until` (same unit).
    async fn claim(&self, key: &str, now: u64, until: u64) -> Result<bool, StoreError>;
    /// Gives a claim back (nothing was delivered: Lambda's retry of the event tries again).
    async fn release(&self, key: &str) -> Result<(), StoreError>;
}

/// Each hook execution: its day's counters (executions, successes, the successes' total
/// duration) and its events, written together.
#[async_trait]
pub trait HookLog: Send + Sync {
    async fn executed(&self, execution: &Execution) -> Result<(), StoreError>;
}

/// Opens the encrypted code of a sender event (the KMS keyring).
#[async_trait]
pub trait CodeOpener: Send + Sync {
    async fn open(&self, message: &[u8]) -> Result<SecretString, String>;
}
