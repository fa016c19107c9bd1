//! The sign-in client (`template.yaml`'s `SignInClient`): password sign-ins go through it by the
//! admin flow, with no secret, so nothing is read before the password reaches Cognito. It has no
//! secret to keep the pool closed, so each door Cognito leaves open on such a client is tried
//! here as an outsider would, with its id, against the local Cognito and the trigger function:
//! public sign-in in every flow, `SignUp`, `ResendConfirmationCode`, `ForgotPassword`. And the
//! bridge's own client is no way into the admin flow.

use crate::harness::*;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use http::StatusCode;
use serde_json::{Value, json};
use shared::adapters::cognito::auth::secret_hash;

/// Cognito's error code of a failed call (the call's answer when it succeeded).
fn code<T, E: ProvideErrorMetadata>(
    out: Result<T, aws_sdk_cognitoidentityprovider::error::SdkError<E, aws_sdk_cognitoidentityprovider::config::http::HttpResponse>>,
) -> Result<T, String> {
    out.map_err(|e| e.code().unwrap_or_default().to_owned())
}

/// Every email the local Cognito sent to `email` in this test's pool.
fn emails_to(app: &TestApp, email: &str) -> Vec<Value> {
    let port = moto().rsplit(':').next().unwrap_or_default();
    let text = std::fs::read_to_string(std::env::temp_dir().join(format!("moto-outbox-{port}.jsonl"))).unwrap_or_default();
    let mails = text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok());
    mails.filter(|m| m["pool"] == app.stack.user_pool_id.as_str() && m["destination"] == email).collect()
}

#[tokio::test]
async fn a_password_sign_in_goes_through_the_sign_in_clients_admin_flow() {
    let app = spawn_app().await;
    app.user("admin-flow@example.com", |_| {}).await;
    app.calls.take();
    let reply = app.login("admin-flow@example.com", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let calls = app.calls.take();
    let cognito: Vec<&str> = calls.iter().filter(|c| c.starts_with("AWSCognitoIdentityProviderService.")).map(String::as_str).collect();
    assert_eq!(cognito, ["AWSCognitoIdentityProviderService.AdminInitiateAuth"], "one Cognito call, the admin flow's: {calls:?}");
}

#[tokio::test]
async fn the_sign_in_client_signs_no_one_in_through_the_public_api() {
    let app = spawn_app().await;
    app.user("outsider@example.com", |_| {}).await;
    let idp = Client::new(&app.sdk);
    let client = &app.stack.sign_in_client_id;
    // The right password, each public flow: none is enabled on the client.
    for (flow, params) in [
        (AuthFlowType::UserPasswordAuth, vec![("PASSWORD", PASSWORD)]),
        (AuthFlowType::UserAuth, vec![("PREFERRED_CHALLENGE", "PASSWORD"), ("PASSWORD", PASSWORD)]),
        (AuthFlowType::UserSrpAuth, vec![("SRP_A", "abcd")]),
        (AuthFlowType::CustomAuth, vec![]),
    ] {
        let call = idp.initiate_auth().client_id(client).auth_flow(flow.clone()).auth_parameters("USERNAME", "outsider@example.com");
        let call = params.into_iter().fold(call, |call, (k, v)| call.auth_parameters(k, v));
        assert_eq!(code(call.send().await).map(drop), Err("InvalidParameterException".into()), "{flow:?}");
    }
    // Nor the bridge's own client through the admin flow, secret and all.
    let secret = app.client_secret().await;
    let admin = idp
        .admin_initiate_auth()
        .user_pool_id(&app.stack.user_pool_id)
        .client_id(&app.stack.client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "outsider@example.com")
        .auth_parameters("PASSWORD", PASSWORD)
        .auth_parameters("SECRET_HASH", secret_hash(&secret.into(), "outsider@example.com", &app.stack.client_id));
    assert_eq!(code(admin.send().await).map(drop), Err("InvalidParameterException".into()));
}

#[tokio::test]
async fn sign_up_and_its_codes_are_refused_through_the_sign_in_client() {
    let app = spawn_app().await;
    let idp = Client::new(&app.sdk);
    let client = &app.stack.sign_in_client_id;
    let name = |n: &str| aws_sdk_cognitoidentityprovider::types::AttributeType::builder().name("name").value(n).build().unwrap_or_else(|e| panic!("{e}"));

    // SignUp: refused by the PreSignUp trigger before any account exists, and no code is sent.
    let sign_up = idp.sign_up().client_id(client).username("walk-in@example.com").password(PASSWORD).user_attributes(name("Walk In"));
    assert_eq!(code(sign_up.send().await).map(drop), Err("UserLambdaValidationException".into()));
    let lookup = idp.admin_get_user().user_pool_id(&app.stack.user_pool_id).username("walk-in@example.com").send().await;
    assert_eq!(code(lookup).map(drop), Err("UserNotFoundException".into()), "no account was made");
    assert_eq!(emails_to(&app, "walk-in@example.com").len(), 0);

    // An account signed up through the bridge's client, not confirmed: its code again, not sent.
    let secret = app.client_secret().await;
    let hash = |who: &str| secret_hash(&secret.clone().into(), who, &app.stack.client_id);
    let through_bridge = idp.sign_up().client_id(&app.stack.client_id).secret_hash(hash("pending@example.com"));
    code(through_bridge.username("pending@example.com").password(PASSWORD).user_attributes(name("Pending")).send().await).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(emails_to(&app, "pending@example.com").len(), 1, "the bridge's client signs up");
    let resend = idp.resend_confirmation_code().client_id(client).username("pending@example.com").send().await;
    assert_eq!(code(resend).map(drop), Err("UserLambdaValidationException".into()));
    assert_eq!(emails_to(&app, "pending@example.com").len(), 1, "no second code");
}

#[tokio::test]
async fn a_password_reset_is_refused_through_the_sign_in_client() {
    let app = spawn_app().await;
    app.user("reset-me@example.com", |_| {}).await;
    let idp = Client::new(&app.sdk);
    let forgot = idp.forgot_password().client_id(&app.stack.sign_in_client_id).username("reset-me@example.com").send().await;
    assert_eq!(code(forgot).map(drop), Err("UserLambdaValidationException".into()));
    assert_eq!(emails_to(&app, "reset-me@example.com").len(), 0, "no reset code sent");
    // The bridge's own reset still sends one.
    let ctx = app.ctx().await;
    let asked = app.post("/password/forgot", json!({"ctx": ctx, "email": "reset-me@example.com"})).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert_eq!(emails_to(&app, "reset-me@example.com").len(), 1);
}

/// On a cold start the password check does not wait for the context's key: a context that does
/// not open costs that check, and is refused whatever it answered; a wrong password still
/// counts against the email, and a right one opens nothing. Warm, it costs no call at all.
#[tokio::test]
async fn a_context_that_does_not_open_is_refused_cold_after_the_password_check_and_warm_before_any_call() {
    let app = spawn_app().await;
    app.user("forged-ctx@example.com", |_| {}).await;
    let forged = format!("{}x", app.ctx().await);
    let body = |password: &str| json!({"ctx": forged, "email": "forged-ctx@example.com", "password": password});
    for (password, failures) in [("Wrong-Passw0rd!", 1), (PASSWORD, 1)] {
        let cold = app.another_instance();
        app.calls.take();
        let refused = cold.post("/login", body(password)).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_flow")), "{}", refused.body);
        let calls = app.calls.take();
        assert!(calls.iter().any(|c| c.ends_with(".AdminInitiateAuth")), "cold, the check ran beside the key's load: {calls:?}");
        assert!(!calls.iter().any(|c| c.ends_with(".TransactWriteItems")), "no session: {calls:?}");
        assert_eq!(app.items_under("FAILURES#").await, failures, "{password}: a wrong password counted, a right one not");
    }
    assert_eq!(app.items_under("SESSION#").await, 0);
    // Warm (the key held since `/sso`): refused before any call.
    app.calls.take();
    let refused = app.post("/login", body(PASSWORD)).await;
    assert_eq!(refused.json()["error"], "invalid_flow");
    assert_eq!(app.calls.take(), Vec::<String>::new());
}
