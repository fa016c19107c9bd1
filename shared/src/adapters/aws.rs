//! One `SdkConfig` for every client, built once at cold start, with explicit timeouts and a
//! small retry budget (the SDK has no timeouts by default, and a person is waiting).
//!
//! Endpoints come from the environment (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`, ...), so
//! local runs against moto use this same code.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::Duration;

use crate::common::store::StoreError;

/// Connect within 1 s, each attempt within 2 s, the whole call (with one retry) within 5 s.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .read_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build()
}

/// The functions' configuration: HTTPS trusts the roots compiled in for the function's region
/// (`AWS_REGION`; [`tls::sdk_trust_store`](crate::adapters::tls::sdk_trust_store)).
pub async fn load() -> SdkConfig {
    let region = std::env::var("AWS_REGION").ok();
    defaults().http_client(https_client(crate::adapters::tls::sdk_trust_store(region.as_deref()))).load().await
}

/// The SDK's HTTPS client (rustls over aws-lc) trusting `roots` only.
pub fn https_client(roots: TrustStore) -> SharedHttpClient {
    let tls = TlsContext::builder().with_trust_store(roots).build().expect("a trust store without a path always builds");
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc)).tls_context(tls).build_https()
}

/// The operators' CLI and the dev server: HTTPS trusts the machine's own certificate store.
pub async fn load_with_host_roots() -> SdkConfig {
    defaults().load().await
}

fn defaults() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts()).retry_config(RetryConfig::standard().with_max_attempts(2))
}

/// How an AWS call failed, in the terms every adapter maps from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The service answered with this error code (`NotAuthorizedException`, ...).
    Service { code: String },
    /// No usable answer: timeout, connection failure, unreadable response.
    Transport(String),
}

impl Failure {
    pub fn of<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Self {
        match err {
            SdkError::ServiceError(service) => Failure::Service { code: service.err().code().unwrap_or("Unknown").to_owned() },
            SdkError::TimeoutError(_) => Failure::Transport("timeout".into()),
            SdkError::DispatchFailure(_) => Failure::Transport("dispatch failure".into()),
            SdkError::ResponseError(_) => Failure::Transport("unreadable response".into()),
            SdkError::ConstructionFailure(_) => Failure::Transport("request construction failed".into()),
            _ => Failure::Transport("unknown SDK error".into()),
        }
    }

    /// Throttling codes shared by AWS services.
    pub fn is_throttling(&self) -> bool {
        matches!(self, Failure::Service { code } if matches!(code.as_str(),
            "ThrottlingException" | "TooManyRequestsException" | "ProvisionedThroughputExceededException" | "RequestLimitExceeded"))
    }

    pub fn describe(&self) -> String {
        match self {
            Failure::Service { code } => code.clone(),
            Failure::Transport(what) => what.clone(),
        }
    }
}

/// A failed call to a store (DynamoDB, Secrets Manager) in the domain's terms.
pub fn store_error(failure: Failure) -> StoreError {
    if failure.is_throttling() { StoreError::Throttled } else { StoreError::Unavailable(failure.describe()) }
}
