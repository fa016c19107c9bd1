//! The sign-in client (`template.yaml`'s `SignInClient`): password sign-ins go through it by the
//! admin flow, with its secret from the configuration, so nothing is fetched before the password
//! reaches Cognito. Each door Cognito opens on an app client is tried here as an outsider who
//! knows its id would: public sign-in in every flow, the admin flow without its `SECRET_HASH`,
//! `SignUp`, `ConfirmSignUp`, `ResendConfirmationCode`, `ForgotPassword`,
//! `ConfirmForgotPassword`; then as one who also read its secret from the functions'
//! configuration (the triggers refuse sign-up, resends and resets through it); and the bridge's
//! own client is no way into the admin flow.

use crate::harness::*;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType};
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
async fn the_sign_in_client_signs_no_one_in_but_the_bridge() {
    let app = spawn_app().await;
    app.user("outsider@example.com", |_| {}).await;
    let idp = Client::new(&app.sdk);
    let (client, secret) = (&app.stack.sign_in_client_id, &app.stack.sign_in_client_secret);
    let hash = secret_hash(&secret.clone().into(), "outsider@example.com", client);
    // The right password and even the client's secret, each public flow: none is enabled on it.
    for (flow, params) in [
        (AuthFlowType::UserPasswordAuth, vec![("PASSWORD", PASSWORD)]),
        (AuthFlowType::UserAuth, vec![("PREFERRED_CHALLENGE", "PASSWORD"), ("PASSWORD", PASSWORD)]),
        (AuthFlowType::UserSrpAuth, vec![("SRP_A", "abcd")]),
        (AuthFlowType::CustomAuth, vec![]),
    ] {
        let call = idp.initiate_auth().client_id(client).auth_flow(flow.clone()).auth_parameters("USERNAME", "outsider@example.com");
        let call = params.into_iter().fold(call.auth_parameters("SECRET_HASH", &hash), |call, (k, v)| call.auth_parameters(k, v));
        assert_eq!(code(call.send().await).map(drop), Err("InvalidParameterException".into()), "{flow:?}");
    }
    // The admin flow (which IAM gates) needs the client's secret too.
    let admin = |client: &str, hash: Option<String>| {
        let call = idp
            .admin_initiate_auth()
            .user_pool_id(&app.stack.user_pool_id)
            .client_id(client)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "outsider@example.com")
            .auth_parameters("PASSWORD", PASSWORD);
        match hash {
            Some(hash) => call.auth_parameters("SECRET_HASH", hash),
            None => call,
        }
        .send()
    };
    assert_eq!(code(admin(client, None).await).map(drop), Err("NotAuthorizedException".into()), "no SECRET_HASH");
    assert!(code(admin(client, Some(hash)).await).is_ok_and(|out| out.authentication_result.is_some()), "the bridge's call");
    // Nor the bridge's own client through the admin flow, secret and all.
    let bridge_hash = secret_hash(&app.client_secret().await.into(), "outsider@example.com", &app.stack.client_id);
    assert_eq!(code(admin(&app.stack.client_id, Some(bridge_hash)).await).map(drop), Err("InvalidParameterException".into()));
}

#[tokio::test]
async fn the_sign_in_clients_id_alone_signs_up_confirms_and_resets_nothing() {
    let app = spawn_app().await;
    app.user("reset-me@example.com", |_| {}).await;
    let idp = Client::new(&app.sdk);
    let client = &app.stack.sign_in_client_id;
    let name = |n: &str| AttributeType::builder().name("name").value(n).build().unwrap_or_else(|e| panic!("{e}"));
    let refused = || Err::<(), String>("NotAuthorizedException".into());

    let sign_up = idp.sign_up().client_id(client).username("walk-in@example.com").password(PASSWORD).user_attributes(name("Walk In"));
    assert_eq!(code(sign_up.send().await).map(drop), refused());
    let lookup = idp.admin_get_user().user_pool_id(&app.stack.user_pool_id).username("walk-in@example.com").send().await;
    assert_eq!(code(lookup).map(drop), Err("UserNotFoundException".into()), "no account was made");

    // An account signed up through the bridge's client, not confirmed yet: its code is neither
    // sent again nor tried through the sign-in client.
    let bridge_hash = secret_hash(&app.client_secret().await.into(), "pending@example.com", &app.stack.client_id);
    let through_bridge = idp.sign_up().client_id(&app.stack.client_id).secret_hash(bridge_hash);
    code(through_bridge.username("pending@example.com").password(PASSWORD).user_attributes(name("Pending")).send().await).unwrap_or_else(|e| panic!("{e}"));
    let sign_up_code = app.emailed_code("pending@example.com");
    let resend = idp.resend_confirmation_code().client_id(client).username("pending@example.com").send().await;
    assert_eq!(code(resend).map(drop), refused());
    let confirm = idp.confirm_sign_up().client_id(client).username("pending@example.com").confirmation_code(&sign_up_code).send().await;
    assert_eq!(code(confirm).map(drop), refused(), "not even with the right code");
    assert_eq!(emails_to(&app, "pending@example.com").len(), 1, "no second code");

    // A reset: no code sent through it, and one sent by the bridge is not taken through it.
    let forgot = idp.forgot_password().client_id(client).username("reset-me@example.com").send().await;
    assert_eq!(code(forgot).map(drop), refused());
    assert_eq!(emails_to(&app, "reset-me@example.com").len(), 0);
    let ctx = app.ctx().await;
    let asked = app.post("/password/forgot", json!({"ctx": ctx, "email": "reset-me@example.com"})).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let reset_code = app.emailed_code("reset-me@example.com");
    let confirm = idp.confirm_forgot_password().client_id(client).username("reset-me@example.com").confirmation_code(&reset_code).password("Walk-In-Passw0rd!");
    assert_eq!(code(confirm.send().await).map(drop), refused());
    assert_eq!(app.login("reset-me@example.com", PASSWORD).await.status, StatusCode::OK, "the password is unchanged");
}

/// Whoever may read the functions' configuration can read the sign-in client's secret: with it,
/// the triggers still refuse sign-up, a code sent again and a password reset through the client.
#[tokio::test]
async fn with_the_sign_in_clients_secret_too_sign_up_and_resets_are_refused() {
    let app = spawn_app().await;
    app.user("reset-me@example.com", |_| {}).await;
    let idp = Client::new(&app.sdk);
    let (client, secret) = (&app.stack.sign_in_client_id, &app.stack.sign_in_client_secret);
    let hash = |who: &str| secret_hash(&secret.clone().into(), who, client);
    let refused = || Err::<(), String>("UserLambdaValidationException".into());

    let name = AttributeType::builder().name("name").value("Walk In").build().unwrap_or_else(|e| panic!("{e}"));
    let sign_up = idp.sign_up().client_id(client).secret_hash(hash("walk-in@example.com")).username("walk-in@example.com").password(PASSWORD);
    assert_eq!(code(sign_up.user_attributes(name.clone()).send().await).map(drop), refused());
    let lookup = idp.admin_get_user().user_pool_id(&app.stack.user_pool_id).username("walk-in@example.com").send().await;
    assert_eq!(code(lookup).map(drop), Err("UserNotFoundException".into()), "no account was made");

    let bridge_hash = secret_hash(&app.client_secret().await.into(), "pending@example.com", &app.stack.client_id);
    let through_bridge = idp.sign_up().client_id(&app.stack.client_id).secret_hash(bridge_hash).username("pending@example.com").password(PASSWORD);
    code(through_bridge.user_attributes(name).send().await).unwrap_or_else(|e| panic!("the bridge's client signs up: {e}"));
    let resend = idp.resend_confirmation_code().client_id(client).secret_hash(hash("pending@example.com")).username("pending@example.com");
    assert_eq!(code(resend.send().await).map(drop), refused());
    assert_eq!(emails_to(&app, "pending@example.com").len(), 1, "no second code");

    let forgot = idp.forgot_password().client_id(client).secret_hash(hash("reset-me@example.com")).username("reset-me@example.com");
    assert_eq!(code(forgot.send().await).map(drop), refused());
    assert_eq!(emails_to(&app, "reset-me@example.com").len(), 0, "no reset code sent");
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

/// A stale or wrong `SIGN_IN_CLIENT_SECRET` (a client made again, a configuration not updated) is
/// the bridge's fault: every sign-in answers `unavailable`, and none counts against the person as
/// a wrong password would, which would lock everyone out.
#[tokio::test]
async fn a_sign_in_client_secret_cognito_refuses_is_an_outage_not_a_wrong_password() {
    let app = spawn_app().await;
    app.user("stale@example.com", |_| {}).await;
    let stale = TestApp { login: api_with(&app.sdk, &app.stack, moto(), &[("SIGN_IN_CLIENT_SECRET", "not-the-secret")]), ..app.another_instance() };
    let ctx = stale.ctx().await;
    let refused = stale.post("/login", json!({"ctx": ctx, "email": "stale@example.com", "password": PASSWORD})).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")), "{}", refused.body);
    assert_eq!(app.items_under("FAILURES#").await, 0, "not counted against the person");
}
