//! One `SdkConfig` for every client, built once at cold start, with explicit timeouts and a
//! small retry budget (the SDK has no timeouts by default, and a person is waiting).
//!
//! Endpoints come from the environment (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`, ...), so
//! local runs against moto use this same code. [`get`] fetches a document from an AWS host over
//! the same HTTPS client, so the connection it opens serves that host's API calls afterwards.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::os_shim_internal::Env;
use aws_types::sdk_config::SharedCredentialsProvider;
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

/// The functions' configuration, from what Lambda puts in every function's environment: the
/// region (`AWS_REGION`), the execution role's credentials (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; or the container endpoint's,
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`), and endpoints when set (`AWS_ENDPOINT_URL`,
/// `AWS_ENDPOINT_URL_<SERVICE>`: moto, locally). HTTPS trusts the roots compiled in for the
/// region ([`tls::sdk_trust_store`](crate::adapters::tls::sdk_trust_store)); timeouts and retries
/// as [`timeouts`] says.
///
/// Built without `aws_config`'s loader, whose other chains (profile files, IMDS, web identity
/// through STS) a Lambda function never uses: every function links them otherwise (the README's package sizes say how much this saves). Not read: FIPS and
/// dual-stack endpoints (`AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`), an app id for
/// the user agent, `AWS_DEFAULT_REGION`.
pub async fn load() -> SdkConfig {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    use aws_config::meta::credentials::CredentialsProviderChain;
    // The container endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`) where the variables are not
    // set: execution environments that outlive a set of credentials get theirs from there.
    let credentials = CredentialsProviderChain::first_try("Environment", EnvironmentVariableCredentialsProvider::new())
        .or_else("EcsContainer", aws_config::ecs::EcsCredentialsProvider::builder().build());
    configured(&Env::real(), SharedCredentialsProvider::new(credentials))
}

/// [`load`]'s configuration from `env`, with `credentials`.
fn configured(env: &Env, credentials: SharedCredentialsProvider) -> SdkConfig {
    let region = env.get("AWS_REGION").ok();
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region.clone().map(aws_types::region::Region::new))
        .credentials_provider(credentials)
        .http_client(https_client(crate::adapters::tls::sdk_trust_store(region.as_deref())))
        .timeout_config(timeouts())
        .retry_config(retry())
        .sleep_impl(aws_smithy_async::rt::sleep::SharedAsyncSleep::new(aws_smithy_async::rt::sleep::TokioSleep::new()))
        .time_source(aws_smithy_async::time::SharedTimeSource::default())
        .service_config(EnvEndpoints(env.clone()));
    config.set_endpoint_url(env.get("AWS_ENDPOINT_URL").ok().filter(|url| !url.is_empty()));
    config.build()
}

/// A service's own endpoint from the environment (`AWS_ENDPOINT_URL_DYNAMODB`, ...), as the
/// SDK's clients ask for it; nothing else is read.
#[derive(Debug)]
struct EnvEndpoints(Env);

impl aws_types::service_config::LoadServiceConfig for EnvEndpoints {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        let value = aws_runtime::env_config::EnvConfigValue::new().env(key.env()).service_id(key.service_id()).load(&self.0, None)?.0;
        Some(value.into_owned())
    }
}

/// The SDK's HTTPS client (rustls over aws-lc) trusting `roots` only.
pub fn https_client(roots: TrustStore) -> SharedHttpClient {
    let tls = TlsContext::builder().with_trust_store(roots).build().expect("a trust store without a path always builds");
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc)).tls_context(tls).build_https()
}

/// `GET url` through `sdk`'s HTTPS client, with its timeouts and no retry, redirects not
/// followed; the body of a 2xx answer as text.
///
/// The connection it opens joins the pool the SDK's clients draw from (one pool per HTTP client
/// and timeouts, keyed by scheme and host), so a later call to the same host reuses it: the
/// pool's JWKS, on Cognito's own host, readies the connection `InitiateAuth` takes. (A config
/// without its own HTTP client or timeouts gets the SDK's defaults, as its clients do.)
///
/// Errors: [`Failure::Transport`] naming what failed (no usable URL, no answer, a status other
/// than 2xx, a body that is not UTF-8); the cause of a failed exchange is logged at debug level.
pub async fn get(sdk: &SdkConfig, url: &str) -> Result<String, Failure> {
    let uri: http::Uri = url.parse().map_err(|_| Failure::Transport("not a URL".into()))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else { return Err(Failure::Transport("not an absolute URL".into())) };
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let mut operation = Operation::builder().service_name("bridge").operation_name("GET").endpoint_url(&format!("{scheme}://{authority}")).no_auth().no_retry();
    if let Some(client) = sdk.http_client() {
        operation = operation.http_client(client);
    }
    if let Some(timeouts) = sdk.timeout_config() {
        operation = operation.timeout_config(timeouts.clone());
    }
    if let Some(sleep) = sdk.sleep_impl() {
        operation = operation.sleep_impl(sleep);
    }
    if let Some(time) = sdk.time_source() {
        operation = operation.time_source(time);
    }
    let operation = operation
        .serializer(move |()| Ok(http::Request::get(path.as_str()).body(SdkBody::empty())?.try_into()?))
        .deserializer(|response: &HttpResponse| {
            if !response.status().is_success() {
                return Err(OrchestratorError::operation(GetError(format!("status {}", response.status().as_u16()))));
            }
            let body = response.body().bytes().unwrap_or_default();
            String::from_utf8(body.to_vec()).map_err(|_| OrchestratorError::operation(GetError("a body that is not UTF-8".into())))
        })
        .build();
    operation.invoke(()).await.map_err(|e| {
        tracing::debug!(error = %aws_smithy_types::error::display::DisplayErrorContext(&e), url, "GET through the SDK's client failed");
        match e {
            SdkError::ServiceError(e) => Failure::Transport(e.into_err().0),
            other => Failure::without_answer(&other),
        }
    })
}

/// Why [`get`] got no document.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct GetError(String);

/// The operators' CLI and the dev server: HTTPS trusts the machine's own certificate store.
pub async fn load_with_host_roots() -> SdkConfig {
    defaults().load().await
}

fn defaults() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts()).retry_config(retry())
}

/// Two attempts per call (one retry), the SDK's standard backoff.
fn retry() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(2)
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
            other => Failure::without_answer(other),
        }
    }

    /// A failure without a service's answer.
    fn without_answer<E, R>(err: &SdkError<E, R>) -> Self {
        match err {
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_http_client::test_util::infallible_client_fn;

    fn answering(status: u16, body: &'static [u8]) -> SdkConfig {
        let http = infallible_client_fn(move |request: http::Request<SdkBody>| {
            assert_eq!((request.method().as_str(), request.uri().to_string().as_str()), ("GET", "https://cognito-idp.example/pool/.well-known/jwks.json?x=1"));
            http::Response::builder().status(status).body(SdkBody::from(body)).unwrap_or_else(|e| panic!("{e}"))
        });
        SdkConfig::builder().http_client(http).timeout_config(timeouts()).behavior_version(BehaviorVersion::latest()).build()
    }

    /// The functions' configuration: region, endpoints (a service's own before the shared one)
    /// and credentials from the environment, each call signed for them.
    #[tokio::test]
    async fn the_functions_configuration_comes_from_the_environment() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let http = {
            let seen = seen.clone();
            infallible_client_fn(move |request: http::Request<SdkBody>| {
                let authorization = request.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let token = request.headers().get("x-amz-security-token").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                seen.lock().unwrap_or_else(|p| p.into_inner()).push((request.uri().to_string(), authorization, token));
                http::Response::builder().status(200).body(SdkBody::from("{}")).unwrap_or_else(|e| panic!("{e}"))
            })
        };
        let env = Env::from_slice(&[
            ("AWS_REGION", "ap-northeast-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:5001"),
        ]);
        let credentials = aws_sdk_dynamodb::config::Credentials::new("AKIDLAMBDA", "secret", Some("session".into()), None, "test");
        let config = configured(&env, SharedCredentialsProvider::new(credentials)).to_builder().http_client(http).build();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("ap-northeast-1"));
        assert_eq!(config.retry_config().map(|r| r.max_attempts()), Some(2));
        assert_eq!(config.timeout_config().and_then(|t| t.operation_timeout()), Some(Duration::from_secs(5)));

        let _ = aws_sdk_dynamodb::Client::new(&config).list_tables().send().await;
        let _ = aws_sdk_secretsmanager::Client::new(&config).list_secrets().send().await;
        let seen = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen[0].0.starts_with("http://127.0.0.1:5001"), "DynamoDB's own endpoint: {seen:?}");
        assert!(seen[1].0.starts_with("http://127.0.0.1:5000"), "the shared one for the others: {seen:?}");
        for (_, authorization, token) in &seen {
            assert!(authorization.contains("Credential=AKIDLAMBDA/") && authorization.contains("/ap-northeast-1/"), "{authorization}");
            assert_eq!(token, "session");
        }
        let bare = configured(&Env::from_slice(&[]), SharedCredentialsProvider::new(aws_sdk_dynamodb::config::Credentials::new("a", "b", None, None, "test")));
        assert_eq!((bare.region(), bare.endpoint_url()), (None, None), "nothing set, nothing assumed");
    }

    #[tokio::test]
    async fn get_gives_a_2xx_body_and_names_anything_else() {
        let url = "https://cognito-idp.example/pool/.well-known/jwks.json?x=1";
        assert_eq!(get(&answering(200, b"{\"keys\":[]}"), url).await, Ok("{\"keys\":[]}".to_owned()));
        assert_eq!(get(&answering(404, b"missing"), url).await, Err(Failure::Transport("status 404".into())));
        assert_eq!(get(&answering(200, b"\xff\xfe"), url).await, Err(Failure::Transport("a body that is not UTF-8".into())));
        assert_eq!(get(&answering(200, b""), "/relative").await, Err(Failure::Transport("not an absolute URL".into())));
    }
}
