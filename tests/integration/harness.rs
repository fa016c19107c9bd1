//! `spawn_app()`: a fresh table, user pool, app client, bridge secret and demo app in moto for
//! each test, and the login function built on them exactly as Lambda builds it.

use aws_config::SdkConfig;
use bridge_admin::apps::Apps;
use http::{HeaderMap, StatusCode};
use lambda_http::Body;
use login::{config::Config, routes, state::Login};
use serde_json::Value;
use shared::adapters::local_stack::{self as local, DemoUser, LocalStack};
use shared::testing::CallLog;
use shared::tokens::app::{App, AppId};
use shared::tokens::return_to::Origin;
use shared::tokens::targets::{Target, zendesk};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

pub const APP: &str = "acme-help";
pub const ZENDESK: &str = "https://acme.zendesk.com";
pub const FORM: &str = "https://login.example.com";
pub const API: &str = "https://api.example.com";
pub const PASSWORD: &str = "Corr3ct-Horse!";
/// Codes the local Cognito sends to emails starting with this are expired at once.
pub const EXPIRED_CODES: &str = "expired.";

/// moto's URL; started on first use and stopped when the test binary exits. It invokes the
/// pools' triggers through [`local_lambda`].
pub fn moto() -> &'static str {
    static MOTO: OnceLock<String> = OnceLock::new();
    MOTO.get_or_init(|| {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let (lambda, moto_url) = local_lambda();
        let (mut child, url) =
            shared::testing::start_moto(std::path::Path::new(root), &[("MOTO_LAMBDA_ENDPOINT", lambda), ("MOTO_COGNITO_EXPIRED_CODE_PREFIX", EXPIRED_CODES)])
                .unwrap_or_else(|e| panic!("starting moto (run scripts/setup.sh first): {e}"));
        let _ = moto_url.send(url.clone());
        // The child watches for this process to exit and stops itself; this thread reaps it.
        std::thread::spawn(move || child.wait());
        url
    })
}

/// Each test's user pool and its table, for the trigger function's state.
static POOLS: OnceLock<Mutex<HashMap<String, Arc<triggers::state::Triggers>>>> = OnceLock::new();

/// The local stand-in for Lambda's Invoke API (`triggers::local_invoke`) on its own thread and
/// runtime: its URL, and where to send moto's URL once moto is up (the trigger state reads the
/// test's table through it). Each pool is served with the state [`spawn_app`] registered.
fn local_lambda() -> (&'static str, std::sync::mpsc::Sender<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let url: &'static str = Box::leak(format!("http://{}", listener.local_addr().unwrap_or_else(|e| panic!("{e}"))).into_boxed_str());
    let (send, moto_url) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap_or_else(|e| panic!("{e}"));
        runtime.block_on(async move {
            let _ = moto_url.recv();
            listener.set_nonblocking(true).unwrap_or_else(|e| panic!("{e}"));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap_or_else(|e| panic!("{e}"));
            let resolve = Arc::new(|pool: &str| POOLS.get().and_then(|pools| pools.lock().ok()?.get(pool).cloned()));
            let _ = axum::serve(listener, triggers::local_invoke::router(resolve)).await;
        });
    });
    (url, send)
}

/// Serves `stack`'s pool's triggers over its table (what the stack's trigger function does).
fn register_triggers(sdk: &SdkConfig, stack: &LocalStack) {
    let env = HashMap::from([("TABLE_NAME".to_owned(), stack.table.clone()), ("PRODUCT_NAME".to_owned(), "Acme Help".to_owned())]);
    let state = triggers::state::Triggers::new(&env, &as_function(sdk, "TriggersFunction")).unwrap_or_else(|e| panic!("{e}"));
    let pools = POOLS.get_or_init(Mutex::default);
    pools.lock().unwrap_or_else(|e| e.into_inner()).insert(stack.user_pool_id.clone(), Arc::new(state));
}

pub async fn sdk_config(endpoint: &str, calls: &CallLog) -> SdkConfig {
    let sdk = shared::testing::moto_sdk(endpoint, calls).await;
    sdk.to_builder().retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2)).build()
}

/// `sdk` signing as function `name` of `template.yaml` (its logical id is the access key id), so
/// moto's call log says whose each call is (`scripts/iam_check.py` checks them against the
/// function's policy).
pub fn as_function(sdk: &SdkConfig, name: &str) -> SdkConfig {
    use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
    sdk.to_builder().credentials_provider(SharedCredentialsProvider::new(Credentials::new(name, "local", None, None, "moto"))).build()
}

pub struct TestApp {
    pub sdk: SdkConfig,
    pub calls: CallLog,
    pub stack: LocalStack,
    /// The login and account functions' routers, as Lambda runs them behind API Gateway.
    pub login: axum::Router,
    pub apps: Apps,
    pub app_secret: String,
    /// The device cookie (`__Host-bridge_device=...`) of the browser that last opened `/sso/{app}`: the
    /// one the form's browser brings to `/session/handoff`.
    pub browser: Arc<Mutex<Option<String>>>,
}

/// Waits out the hold a change of credentials (a claimed sign-up, a password reset or change, a
/// factor or a passkey removed) puts on sign-ins Cognito authenticated up to
/// `password::CLOCK_MARGIN` seconds after it, to the second (`SessionStore::settle`): a sign-in
/// of the same person at once would be refused.
pub async fn wait_out_credentials_hold() {
    tokio::time::sleep(std::time::Duration::from_millis(1_000 * (shared::signin::password::CLOCK_MARGIN + 1) + 100)).await;
}

pub async fn spawn_app() -> TestApp {
    let calls = CallLog::default();
    let sdk = sdk_config(moto(), &calls).await;
    let name = format!("t{}", uuid::Uuid::new_v4().simple());
    let stack = local::provision(&sdk, &name).await.unwrap_or_else(|e| panic!("provisioning: {e:#}"));
    register_triggers(&shared::testing::moto_sdk(moto(), &CallLog::default()).await, &stack);
    let apps = Apps::new(&sdk, &stack.table, name.clone());
    let app_secret = shared::common::random::secret(32);
    apps.create(demo_app(), Some(&app_secret.clone().into())).await.unwrap_or_else(|e| panic!("creating the app: {e:#}"));
    let login = login_for(&sdk, &stack, moto());
    calls.take();
    TestApp { sdk, calls, stack, login, apps, app_secret, browser: Arc::default() }
}

/// The login and account functions as Lambda builds them, from their environment variables,
/// behind API Gateway's routes (`api_gateway`).
pub fn login_for(sdk: &SdkConfig, stack: &LocalStack, moto: &str) -> axum::Router {
    api_with(sdk, stack, moto, &[])
}

/// The same, with `extra` environment variables set too (over the defaults).
pub fn api_with(sdk: &SdkConfig, stack: &LocalStack, moto: &str, extra: &[(&str, &str)]) -> axum::Router {
    let account = routes::account_router(function_state(sdk, stack, moto, extra, "AccountFunction"));
    api_gateway(routes::router(login_state_with(sdk, stack, moto, extra)), account)
}

/// API Gateway's routes between the two: `/account` and `/account/...` to the account
/// function, every other path to the login function.
pub fn api_gateway(login: axum::Router, account: axum::Router) -> axum::Router {
    use tower::ServiceExt;
    let dispatch = tower::service_fn(move |request: axum::extract::Request| {
        let path = request.uri().path();
        let function = if path == "/account" || path.starts_with("/account/") { account.clone() } else { login.clone() };
        function.oneshot(request)
    });
    axum::Router::new().fallback_service(dispatch)
}

/// The login function's state as its `main` builds it (before its init loads anything).
pub fn login_state_for(sdk: &SdkConfig, stack: &LocalStack, moto: &str) -> Arc<Login> {
    login_state_with(sdk, stack, moto, &[])
}

/// The same, with `extra` environment variables set too (over the defaults).
pub fn login_state_with(sdk: &SdkConfig, stack: &LocalStack, moto: &str, extra: &[(&str, &str)]) -> Arc<Login> {
    function_state(sdk, stack, moto, extra, "LoginFunction")
}

/// The state of the login or the account function (`function`: its name in `template.yaml`,
/// which its AWS calls are signed as), from the environment both have.
fn function_state(sdk: &SdkConfig, stack: &LocalStack, moto: &str, extra: &[(&str, &str)], function: &str) -> Arc<Login> {
    let mut env: HashMap<String, String> = stack.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.insert("FORM_URL".into(), format!("{FORM}/index.html"));
    env.insert("PUBLIC_API_URL".into(), API.into());
    env.insert("SMS_ALLOWED_PREFIXES".into(), "+81".into());
    env.insert("COGNITO_JWKS_URL".into(), format!("{moto}/{}/.well-known/jwks.json", stack.user_pool_id));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_env(&env).unwrap_or_else(|e| panic!("{e}"));
    let sdk = &as_function(sdk, function);
    Arc::new(Login::new(&config, sdk, Login::secrets(&config, sdk)).unwrap_or_else(|e| panic!("{e}")))
}

pub fn demo_app() -> App {
    let origin = |s: &str| Origin::parse(s).unwrap_or_else(|e| panic!("{e}"));
    let claims = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/claims.json")).unwrap_or_else(|e| panic!("{e}"));
    App {
        id: AppId::parse(APP).unwrap_or_else(|e| panic!("{e}")),
        name: "Acme Help Center".into(),
        target: Target::Zendesk(zendesk::ZendeskTarget { account_url: origin(ZENDESK), delivery: zendesk::DeliveryMethod::Post }),
        allowed_origins: vec![origin(ZENDESK)],
        claims: serde_json::from_str(&claims).unwrap_or_else(|e| panic!("{e}")),
        signing_secret: None,
        risk_policy: Default::default(),
        sign_up: Default::default(),
        access: Default::default(),
        home_url: None,
        version: 0,
        refresh_tokens_not_before: None,
    }
}

/// A request to a login function instance, as API Gateway hands it over.
pub async fn send_to(login: &axum::Router, method: &str, path: &str, headers: &[(&str, &str)], body: Option<String>) -> Reply {
    let mut request = http::Request::builder().method(method).uri(format!("https://api.example.com{path}"));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let body = body.map(Body::Text).unwrap_or(Body::Empty);
    let response = shared::testing::oneshot(login, request.body(body).unwrap_or_else(|e| panic!("{e}"))).await;
    let (parts, body) = response.into_parts();
    Reply { status: parts.status, headers: parts.headers, body: String::from_utf8_lossy(body.as_ref()).into_owned() }
}

/// A handler response, read.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter of the `Location` header.
    pub fn location_param(&self, name: &str) -> Option<String> {
        let location = url::Url::parse(self.header("location")?).ok()?;
        location.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
}

/// The attribute value that starts right after `marker` in an HTML page.
pub fn attribute_after(page: &str, marker: &str) -> Option<String> {
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].replace("&amp;", "&"))
}

/// A field of a self-submitting form page.
pub fn form_field(page: &str, name: &str) -> Option<String> {
    attribute_after(page, &format!("name=\"{name}\" value=\""))
}

/// Each `name=<value>` a reply's `Set-Cookie` headers set, in order (clearing ones included).
fn set_cookies<'a>(reply: &'a Reply, name: &'a str) -> impl Iterator<Item = String> + 'a {
    let prefix = format!("{name}=");
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(move |c| c.starts_with(&prefix))
        .map(|c| c.split(';').next().unwrap_or(c).to_owned())
}

/// The first `name=<value>` from a reply's `Set-Cookie`, if it sets `name` (a clearing one
/// included).
pub fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    set_cookies(reply, name).next()
}

/// `__Host-bridge_session=<value>` from a reply's `Set-Cookie` (the first that is not a
/// clearing one), as a `Cookie` header.
pub fn session_cookie(reply: &Reply) -> String {
    let name = shared::signin::session::COOKIE;
    set_cookies(reply, name).find(|c| c.len() > name.len() + 1).unwrap_or_else(|| panic!("no session cookie in {:?}", reply.headers))
}

impl TestApp {
    /// The last email the local Cognito sent to `email` in this test's pool
    /// (`scripts/moto_server.py` writes what Cognito would send to its outbox file): `kind`,
    /// `code`, `subject`, `html`, ...
    pub fn last_email(&self, email: &str) -> Value {
        let port = moto().rsplit(':').next().unwrap_or_default();
        let outbox = std::env::temp_dir().join(format!("moto-outbox-{port}.jsonl"));
        let text = std::fs::read_to_string(&outbox).unwrap_or_else(|e| panic!("{}: {e}", outbox.display()));
        let mails = text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok());
        mails.filter(|m| m["pool"] == self.stack.user_pool_id.as_str()).rfind(|m| m["destination"] == email).unwrap_or_else(|| panic!("no email to {email}"))
    }

    /// Every email the local SES sent to `email` (`scripts/moto_server.py` appends each to the
    /// outbox): `from`, `subject`, `text`, ... (addresses are unique to a test: SES has no pool).
    pub fn ses_emails(&self, email: &str) -> Vec<Value> {
        let port = moto().rsplit(':').next().unwrap_or_default();
        let outbox = std::env::temp_dir().join(format!("moto-outbox-{port}.jsonl"));
        let text = std::fs::read_to_string(&outbox).unwrap_or_else(|e| panic!("{}: {e}", outbox.display()));
        text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|m| m["kind"] == "SES" && m["destination"] == email).collect()
    }

    /// The code in the last email the local Cognito sent to `email` in this test's pool.
    pub fn emailed_code(&self, email: &str) -> String {
        self.last_email(email)["code"].as_str().map(str::to_owned).unwrap_or_else(|| panic!("no code to {email}"))
    }

    /// The app client's secret (for `SECRET_HASH`).
    pub async fn client_secret(&self) -> String {
        let idp = aws_sdk_cognitoidentityprovider::Client::new(&self.sdk);
        let out = idp.describe_user_pool_client().user_pool_id(&self.stack.user_pool_id).client_id(&self.stack.client_id).send().await;
        out.unwrap_or_else(|e| panic!("{e}")).user_pool_client.and_then(|c| c.client_secret).unwrap_or_default()
    }

    /// The `not_before` of the console tokens' mark (`CONSOLE#{user key}` / `NOT_BEFORE`) of the
    /// person whose user name or email is `who`, if they have one (seconds since the epoch).
    pub async fn console_not_before(&self, who: &str) -> Option<u64> {
        use aws_sdk_dynamodb::types::AttributeValue as V;
        let idp = aws_sdk_cognitoidentityprovider::Client::new(&self.sdk);
        let user = idp.admin_get_user().user_pool_id(&self.stack.user_pool_id).username(who).send().await.unwrap_or_else(|e| panic!("{who}: {e}"));
        let pk = format!("CONSOLE#{}", shared::signin::session::user_key(user.username()));
        let key = [("pk", V::S(pk)), ("sk", V::S("NOT_BEFORE".into()))].map(|(k, v)| (k.to_owned(), v));
        let item = aws_sdk_dynamodb::Client::new(&self.sdk).get_item().table_name(&self.stack.table).set_key(Some(key.into())).send().await;
        item.unwrap_or_else(|e| panic!("{e}")).item?.get("not_before")?.as_n().ok()?.parse().ok()
    }

    pub async fn user<'a>(&self, email: &'a str, configure: impl FnOnce(&mut DemoUser<'a>)) -> String {
        let mut user = DemoUser {
            email,
            password: PASSWORD,
            name: "Hanako Yamada",
            company: Some("Acme"),
            sms_mfa_phone: None,
            groups: &[],
            org: None,
            permanent_password: true,
            locale: None,
        };
        configure(&mut user);
        let sub = local::create_user(&self.sdk, &self.stack.user_pool_id, &user).await.unwrap_or_else(|e| panic!("{e:#}"));
        self.calls.take();
        sub
    }

    /// The account revocation's record for the Cognito user `username` (revoked now), written
    /// as if its sweep had missed the user's sessions.
    pub async fn revoke_without_sweep(&self, username: &str) {
        use aws_sdk_dynamodb::types::AttributeValue;
        let pk = format!("REVOKED#{}", shared::signin::session::user_key(username));
        let now = shared::common::time::unix_now();
        let record = HashMap::from([
            ("pk".to_owned(), AttributeValue::S(pk)),
            ("sk".to_owned(), AttributeValue::S("REVOKED".into())),
            ("revoked_at".to_owned(), AttributeValue::N(now.to_string())),
        ]);
        let put = aws_sdk_dynamodb::Client::new(&self.sdk).put_item().table_name(&self.stack.table).set_item(Some(record)).send().await;
        put.unwrap_or_else(|e| panic!("{e}"));
    }

    /// Another instance of the functions over the same stack (its caches empty), sharing this
    /// one's call log and browser.
    pub fn another_instance(&self) -> TestApp {
        TestApp {
            sdk: self.sdk.clone(),
            calls: self.calls.clone(),
            stack: self.stack.clone(),
            login: login_for(&self.sdk, &self.stack, moto()),
            apps: Apps::new(&self.sdk, &self.stack.table, self.apps.prefix()),
            app_secret: self.app_secret.clone(),
            browser: self.browser.clone(),
        }
    }

    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<String>) -> Reply {
        let reply = send_to(&self.login, method, path, headers, body).await;
        if (path.starts_with("/sso/") && !path.contains("/logout")) || path.starts_with("/oauth2/authorize") {
            let sent = headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("cookie")).flat_map(|(_, v)| v.split(';'));
            let set = reply.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).filter_map(|c| c.split(';').next());
            let device = set
                .map(str::to_owned)
                .chain(sent.map(|c| c.trim().to_owned()))
                .find(|c| c.strip_prefix("__Host-bridge_device=").is_some_and(|v| !v.is_empty()));
            *self.browser.lock().unwrap_or_else(|p| p.into_inner()) = device;
        }
        reply
    }

    /// `__Host-bridge_device=...` of the browser that last opened `/sso/{app}` (empty if it had none).
    pub fn browser_cookie(&self) -> String {
        self.browser.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_default()
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, &[("content-type", "application/json"), ("origin", FORM)], Some(body.to_string())).await
    }

    /// A sealed context from `GET /sso/{app}`, as the form receives it.
    pub async fn ctx(&self) -> String {
        let reply = self.send("GET", &format!("/sso/{APP}?return_to={ZENDESK}/hc/ja&brand_id=1"), &[], None).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
        reply.location_param("ctx").unwrap_or_else(|| panic!("no ctx in {:?}", reply.header("location")))
    }

    /// What the form's browser does with a signed-in step: brings the handoff to the API, from
    /// the form's origin. The reply takes the browser to the app and sets the session.
    pub async fn handoff(&self, step: &Reply) -> Reply {
        assert_eq!(step.status, StatusCode::OK, "{}", step.body);
        let body = step.json();
        assert_eq!(body["status"], "signed_in", "{body}");
        let form = url::form_urlencoded::Serializer::new(String::new()).append_pair("handoff", body["handoff"].as_str().unwrap_or_default()).finish();
        self.post_handoff(&form, &self.browser_cookie()).await
    }

    /// `POST /session/handoff` with the form-encoded `form`, from the form's origin, by a
    /// browser sending `cookie`.
    pub async fn post_handoff(&self, form: &str, cookie: &str) -> Reply {
        let headers = [("content-type", "application/x-www-form-urlencoded"), ("origin", FORM), ("cookie", cookie)];
        self.send("POST", "/session/handoff", &headers, Some(form.to_owned())).await
    }

    /// How many items of the stack's table have a `pk` starting with `prefix` (`SESSION#`, ...).
    pub async fn items_under(&self, prefix: &str) -> usize {
        let out = aws_sdk_dynamodb::Client::new(&self.sdk)
            .scan()
            .table_name(&self.stack.table)
            .filter_expression("begins_with(pk, :p)")
            .expression_attribute_values(":p", aws_sdk_dynamodb::types::AttributeValue::S(prefix.into()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        out.items().len()
    }

    /// The events in the stack's table.
    pub async fn events(&self) -> Vec<shared::events::IdentityEvent> {
        let out = aws_sdk_dynamodb::Client::new(&self.sdk)
            .scan()
            .table_name(&self.stack.table)
            .filter_expression("begins_with(pk, :p)")
            .expression_attribute_values(":p", aws_sdk_dynamodb::types::AttributeValue::S("EVENT#".into()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let data = out.items().iter().filter_map(|i| i.get("data").and_then(|v| v.as_s().ok()));
        data.map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}"))).collect()
    }

    /// The types of the events in the stack's table, sorted (`hook.created`, ...).
    pub async fn event_types(&self) -> Vec<String> {
        let mut types: Vec<String> = self.events().await.iter().map(|e| e.to_value()["type"].as_str().unwrap_or_default().to_owned()).collect();
        types.sort();
        types
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        let ctx = self.ctx().await;
        self.calls.take();
        self.post("/login", serde_json::json!({"ctx": ctx, "email": email, "password": password})).await
    }

    /// A password sign-in entered at `sso_path` (`/sso/{app}?...`): the form's signed-in step.
    pub async fn login_at(&self, sso_path: &str, email: &str, password: &str) -> Reply {
        let reply = self.send("GET", sso_path, &[], None).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
        let ctx = reply.location_param("ctx").unwrap_or_else(|| panic!("no ctx in {:?}", reply.header("location")));
        self.post("/login", serde_json::json!({"ctx": ctx, "email": email, "password": password})).await
    }

    /// Writes app `id` as a newer version of the bridge might (a kind this one does not know).
    pub async fn put_unreadable_app(&self, id: &str) {
        use aws_sdk_dynamodb::types::AttributeValue::{N, S};
        let data = serde_json::json!({"id": id, "name": id, "target": {"kind": "ws_federation"}, "allowed_origins": [ZENDESK], "version": 1}).to_string();
        let item = [
            ("pk", format!("APP#{id}")),
            ("sk", "APP".into()),
            ("gsi1pk", "APP".into()),
            ("gsi1sk", id.into()),
            ("kind", "ws_federation".into()),
            ("data", data),
        ];
        let put = aws_sdk_dynamodb::Client::new(&self.sdk).put_item().table_name(&self.stack.table);
        let put = item.into_iter().fold(put, |put, (k, v)| put.item(k, S(v)));
        put.item("version", N("1".into())).send().await.unwrap_or_else(|e| panic!("{e}"));
    }

    /// Our signing keys in this stack, as the admin tool manages them.
    pub fn keys(&self) -> bridge_admin::keys::Keys {
        bridge_admin::keys::Keys::new(&self.sdk, &self.stack.table, self.apps.prefix())
    }
}

/// Runs `tests/verifiers/verify.py MODE` (PyJWT, or the DiscourseConnect check) on `input`:
/// the verified claims, or the verifier's reason for refusing.
pub fn verify(mode: &str, input: &Value) -> Result<Value, String> {
    verifier("verify.py", mode, input)
}

/// Runs `tests/verifiers/saml_sp.py MODE` (a SAML service provider: pysaml2 and xmlsec1) on
/// `input`: its answer, or its reason for refusing.
pub fn saml_sp(mode: &str, input: &Value) -> Result<Value, String> {
    verifier("saml_sp.py", mode, input)
}

fn verifier(script: &str, mode: &str, input: &Value) -> Result<Value, String> {
    use std::io::Write;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut child = Command::new("python3")
        .args([&format!("tests/verifiers/{script}"), mode])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    child.stdin.take().map(|mut stdin| stdin.write_all(input.to_string().as_bytes()));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}")))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}
