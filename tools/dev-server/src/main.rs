//! The local stand-in for API Gateway and S3: serves `static-form/` (plus a generated
//! `config.js` naming the API) on one port, and the API on another, where every request is
//! turned into an API Gateway HTTP API (payload 2.0) event and run through `lambda_http`'s own
//! adapter into the login function's router (or the SCIM function's, for `/scim/...`, the
//! admin function's, for `/admin/...`, or the account function's, for `/account...`) — the
//! same path a deployed request takes. It also stands in for the stream's event source mapping:
//! every second it reads the table's stream and hands new records to the workflow runner's
//! handler (`workflows::local_stream`). And it stands in for Lambda's Invoke API for the trigger
//! function (`triggers::local_invoke`, on the API's port), which the local Cognito calls for
//! the pool's `CustomMessage` and `PostConfirmation` triggers.
//!
//! Configuration: the login function's environment variables, plus `DEV_API_ADDR`,
//! `DEV_FORM_ADDR` (host:port, port 0 for a free one), `DEV_STATIC_DIR` and `DEV_CONSOLE_DIR`
//! (the operators' console as built, `console/dist`, served under `/console/` beside the form as
//! the form's bucket serves it).
//! Prints `READY api=<url> form=<url>` once both listen.

use anyhow::{Context, Result};
use axum::Router;
use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::lambda_runtime::LambdaEvent;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context as LambdaContext, Service};
use login::{config::Config, routes, state::Login};
use scim::state::Scim;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

#[derive(Clone)]
struct Api {
    /// The login, account, SCIM and admin functions' routers, the ones Lambda runs.
    login: Router,
    account: Router,
    scim: Router,
    admin: Router,
}

#[tokio::main]
async fn main() -> Result<()> {
    shared::adapters::logs::init();
    let api_listener = tokio::net::TcpListener::bind(var("DEV_API_ADDR", "127.0.0.1:3000")).await.context("binding the API port")?;
    let form_listener = tokio::net::TcpListener::bind(var("DEV_FORM_ADDR", "127.0.0.1:8080")).await.context("binding the form port")?;
    let api_url = format!("http://{}", api_listener.local_addr()?);
    // The form is `localhost`, not the loopback address: browsers accept `localhost` (never an
    // IP address) as a passkey's relying party over plain HTTP.
    let form_addr = form_listener.local_addr()?;
    let form_url = if form_addr.ip().is_loopback() { format!("http://localhost:{}", form_addr.port()) } else { format!("http://{form_addr}") };
    // The form's URL is known only now (the port may have been chosen by the OS).
    let config = Config::from_env(&WithDefaults { form_url: format!("{form_url}/index.html"), api_url: api_url.clone() })?;
    let sdk = shared::adapters::aws::load_with_host_roots().await;
    let login = Arc::new(Login::new(&config, &sdk, Login::secrets(&config, &sdk)).map_err(anyhow::Error::msg)?);
    // The account function is a Lambda of its own: its own state and caches, as there.
    let account = Arc::new(Login::new(&config, &sdk, Login::secrets(&config, &sdk)).map_err(anyhow::Error::msg)?);

    let scim = Arc::new(Scim::new(&scim::config::Config::from_env(&shared::config::Env)?, &sdk));
    let defaults = WithDefaults { form_url: form_url.clone(), api_url: api_url.clone() };
    let admin = Arc::new(admin::state::Admin::new(&admin::config::Config::from_env(&defaults)?, &sdk).map_err(anyhow::Error::msg)?);
    let api = Router::new().fallback(api_gateway).with_state(Api {
        account: routes::account_router(account),
        login: routes::router(login),
        scim: scim::routes::router(scim),
        admin: admin::routes::router(admin),
    });
    let trigger = Arc::new(triggers::state::Triggers::new(&shared::config::Env, &sdk)?);
    let api = triggers::local_invoke::router(Arc::new(move |_pool: &str| Some(trigger.clone()))).merge(api);
    let dirs =
        Arc::new(StaticDirs { form: PathBuf::from(var("DEV_STATIC_DIR", "static-form")), console: PathBuf::from(var("DEV_CONSOLE_DIR", "console/dist")) });
    let config_js = format!("window.BRIDGE_CONFIG = {};\n", json!({"apiUrl": api_url}));
    let form = Router::new().fallback(move |request: Request| serve_static(dirs.clone(), config_js.clone(), request));

    let workflows = workflows::state::Workflows::new(&shared::config::Env, &sdk, Arc::new(shared::adapters::workflow_runner::Sleep))?;
    let mut poller = workflows::local_stream::StreamPoller::new(&sdk, &var("TABLE_NAME", "")).await.map_err(anyhow::Error::msg)?;
    tokio::spawn(async move {
        loop {
            let now = shared::common::time::unix_now();
            if let Err(e) = poller.deliver(&workflows, now).await {
                tracing::warn!(error = %e, "could not read the table's stream");
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });

    // The session-ends function's own reader of the stream (locally, a batch that fails is
    // logged, not delivered again).
    let ends = workflows::session_ends::SessionEnds::new(&defaults, &sdk)?;
    let mut ends_poller = workflows::local_stream::StreamPoller::new(&sdk, &var("TABLE_NAME", "")).await.map_err(anyhow::Error::msg)?;
    tokio::spawn(async move {
        loop {
            let now = shared::common::time::unix_now();
            let answer = match ends_poller.next_batch().await {
                Ok(batch) => workflows::session_ends::handle_json(&ends, &batch, now, None).await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match answer {
                Ok(answer) if answer["batchItemFailures"].as_array().is_some_and(|f| !f.is_empty()) => tracing::warn!(%answer, "ended sessions not handled"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the table's stream"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });

    println!("READY api={api_url} form={form_url}");
    let api_server = axum::serve(api_listener, api);
    let form_server = axum::serve(form_listener, form);
    tokio::try_join!(async { api_server.await }, async { form_server.await })?;
    Ok(())
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// The process environment, with `FORM_URL` and `PUBLIC_API_URL` defaulting to this server's.
struct WithDefaults {
    form_url: String,
    api_url: String,
}

impl shared::config::Source for WithDefaults {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().or_else(|| match name {
            "FORM_URL" => Some(self.form_url.clone()),
            "PUBLIC_API_URL" => Some(self.api_url.clone()),
            // The console is served beside the form.
            "CONSOLE_ORIGIN" => Some(self.form_url.trim_end_matches("/index.html").to_owned()),
            _ => None,
        })
    }
}

/// One HTTP request through an API Gateway HTTP API event and back.
async fn api_gateway(State(api): State<Api>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, 10 * 1024 * 1024).await else {
        return (http::StatusCode::PAYLOAD_TOO_LARGE, "request too large").into_response();
    };
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let value = value.to_str().unwrap_or_default().to_owned();
        if name == http::header::COOKIE {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()));
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(serde_json::Value::String(existing)) => *existing = format!("{existing},{value}"),
            _ => {
                headers.insert(name.as_str().to_owned(), value.into());
            }
        }
    }
    // API Gateway terminates TLS and says so; this server speaks plain HTTP.
    headers.entry("x-forwarded-proto").or_insert_with(|| "http".into());
    let text = String::from_utf8(bytes.to_vec());
    let (body, base64) = match text {
        Ok(text) => (text, false),
        Err(_) => (base64_encode(&bytes), true),
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.uri.path(),
        "rawQueryString": parts.uri.query().unwrap_or(""),
        "cookies": cookies,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000", "apiId": "local", "domainName": parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost"),
            "domainPrefix": "local", "requestId": format!("{:032x}", now.as_nanos()), "routeKey": "$default", "stage": "$default",
            "time": "", "timeEpoch": now.as_millis() as u64,
            "http": {"method": parts.method.as_str(), "path": parts.uri.path(), "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": parts.headers.get("user-agent").and_then(|h| h.to_str().ok()).unwrap_or("")}
        },
        "body": if body.is_empty() { serde_json::Value::Null } else { body.into() },
        "isBase64Encoded": base64,
    });
    let request: LambdaRequest = match serde_json::from_value(event) {
        Ok(r) => r,
        Err(e) => return (http::StatusCode::BAD_REQUEST, format!("not a valid API Gateway event: {e}")).into_response(),
    };
    let event = LambdaEvent::new(request, LambdaContext::default());
    // API Gateway's routes: `/scim/v2/...` to the SCIM function, `/admin/...` to the admin
    // function, `/account` and `/account/...` to the account function, everything else to login.
    let function = match parts.uri.path() {
        path if path.starts_with("/scim/") => api.scim.clone(),
        path if path.starts_with("/admin/") => api.admin.clone(),
        path if path == "/account" || path.starts_with("/account/") => api.account.clone(),
        _ => api.login.clone(),
    };
    // The router's body, read whole first (axum's body is not `Sync`, which an axum handler's
    // future needs); `lambda_http` then converts it exactly as in Lambda.
    let function = ServiceExt::<lambda_http::Request>::and_then(function, |response: Response| async move {
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
        Ok::<_, std::convert::Infallible>(http::Response::from_parts(parts, http_body_util::Full::new(bytes)))
    });
    let response = Adapter::from(function).call(event).await.map_err(|e: std::convert::Infallible| match e {});
    let response = match response {
        Ok(r) => r,
        Err(e) => return (http::StatusCode::BAD_GATEWAY, format!("the function failed: {e}")).into_response(),
    };
    let Ok(response) = serde_json::to_value(&response).and_then(serde_json::from_value::<ApiGatewayV2httpResponse>) else {
        return (http::StatusCode::BAD_GATEWAY, "the function returned an invalid response").into_response();
    };
    to_http(response)
}

fn to_http(response: ApiGatewayV2httpResponse) -> Response {
    let mut builder = Response::builder().status(response.status_code as u16);
    for (name, value) in &response.headers {
        builder = builder.header(name, value);
    }
    for cookie in &response.cookies {
        builder = builder.header(http::header::SET_COOKIE, cookie);
    }
    let body = match response.body {
        Some(lambda_http::Body::Text(t)) => AxumBody::from(t),
        Some(lambda_http::Body::Binary(b)) => AxumBody::from(b),
        _ => AxumBody::empty(),
    };
    builder.body(body).unwrap_or_else(|_| (http::StatusCode::BAD_GATEWAY, "bad response").into_response())
}

/// What the form's bucket holds: the form at its root, the console under `console/`.
struct StaticDirs {
    form: PathBuf,
    console: PathBuf,
}

async fn serve_static(dirs: Arc<StaticDirs>, config_js: String, request: Request) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    let index = format!("{path}index.html");
    let path = if path.is_empty() || path.ends_with('/') { index.as_str() } else { path };
    if path == "config.js" {
        return ([(http::header::CONTENT_TYPE, "text/javascript")], config_js).into_response();
    }
    if path.split('/').any(|p| p == ".." || p.starts_with('.')) {
        return http::StatusCode::NOT_FOUND.into_response();
    }
    let content_type = match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    let file = match path.strip_prefix("console/") {
        Some(rest) => dirs.console.join(rest),
        None => dirs.form.join(path),
    };
    match tokio::fs::read(file).await {
        Ok(bytes) => ([(http::header::CONTENT_TYPE, content_type), (http::header::CACHE_CONTROL, "no-store")], bytes).into_response(),
        Err(_) => http::StatusCode::NOT_FOUND.into_response(),
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
