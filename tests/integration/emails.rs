//! The emails Cognito sends, as the local Cognito sends them: every code rendered by the trigger
//! function's `CustomMessage` handler in the person's language (from the operator's templates
//! where there are some), sign-up codes that are real (wrong, spent and repeated codes refused),
//! `PostConfirmation` recording the registration, and invitations naming the user.

use crate::harness::*;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::AttributeType;
use shared::adapters::cognito::auth::secret_hash;
use shared::adapters::dynamo::email_templates::DynamoEmailTemplates;
use shared::admin::audit::Actor;
use shared::admin::email_templates::EmailTemplatesAdmin;
use shared::common::language::Language;
use shared::messages::email::{EmailKind, EmailTemplate};
use std::sync::Arc;

fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder().name(name).value(value).build().unwrap()
}

/// `SignUp` as the form will call it, with the browser's language as `locale` metadata.
async fn sign_up(app: &TestApp, email: &str, attributes: Vec<AttributeType>, browser: &str) -> Result<(), String> {
    let secret = app.client_secret().await;
    let out = Client::new(&app.sdk)
        .sign_up()
        .client_id(&app.stack.client_id)
        .secret_hash(secret_hash(&secret.into(), email, &app.stack.client_id))
        .username(email)
        .password(PASSWORD)
        .set_user_attributes(Some(attributes))
        .client_metadata("locale", browser)
        .send()
        .await;
    out.map(drop).map_err(|e| e.into_service_error().meta().code().unwrap_or_default().to_owned())
}

async fn confirm(app: &TestApp, email: &str, code: &str) -> Result<(), String> {
    let secret = app.client_secret().await;
    let out = Client::new(&app.sdk)
        .confirm_sign_up()
        .client_id(&app.stack.client_id)
        .secret_hash(secret_hash(&secret.into(), email, &app.stack.client_id))
        .username(email)
        .confirmation_code(code)
        .send()
        .await;
    out.map(drop).map_err(|e| e.into_service_error().meta().code().unwrap_or_default().to_owned())
}

async fn resend(app: &TestApp, email: &str, browser: &str) -> Result<(), String> {
    let secret = app.client_secret().await;
    let out = Client::new(&app.sdk)
        .resend_confirmation_code()
        .client_id(&app.stack.client_id)
        .secret_hash(secret_hash(&secret.into(), email, &app.stack.client_id))
        .username(email)
        .client_metadata("locale", browser)
        .send()
        .await;
    out.map(drop).map_err(|e| e.into_service_error().meta().code().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_sign_up_code_arrives_in_the_persons_language_and_only_it_confirms_them_once() {
    let app = spawn_app().await;
    // No locale yet: the browser's language (Japanese) chooses; the name is escaped.
    sign_up(&app, "hanako.new@example.com", vec![attribute("name", "山田 <花子>")], "ja-JP").await.unwrap();
    let email = app.last_email("hanako.new@example.com");
    assert_eq!((email["kind"].as_str(), email["subject"].as_str()), (Some("CustomMessage_SignUp"), Some("【Acme Help】確認コードのお知らせ")));
    let (code, html) = (email["code"].as_str().unwrap().to_owned(), email["html"].as_str().unwrap());
    assert!(code.len() == 6 && html.contains(&format!("<strong>{code}</strong>")) && html.contains("hanako.new@example.com 様"), "{html}");

    // A wrong code is refused; a new code replaces the first; the new one confirms, once.
    assert_eq!(confirm(&app, "hanako.new@example.com", "not-it").await, Err("CodeMismatchException".into()));
    resend(&app, "hanako.new@example.com", "ja").await.unwrap();
    let again = app.last_email("hanako.new@example.com");
    assert_eq!((again["kind"].as_str(), again["subject"].as_str()), (Some("CustomMessage_ResendCode"), Some("【Acme Help】確認コードの再送")));
    let second = again["code"].as_str().unwrap().to_owned();
    if second != code {
        assert_eq!(confirm(&app, "hanako.new@example.com", &code).await, Err("CodeMismatchException".into()), "the first code is spent");
    }
    confirm(&app, "hanako.new@example.com", &second).await.unwrap();
    assert_eq!(confirm(&app, "hanako.new@example.com", &second).await, Err("NotAuthorizedException".into()), "confirmed already");
    assert_eq!(resend(&app, "hanako.new@example.com", "ja").await, Err("InvalidParameterException".into()));
    // Confirmed: verified, able to sign in, and registered once (PostConfirmation, run by the
    // trigger function itself).
    let user = Client::new(&app.sdk).admin_get_user().user_pool_id(&app.stack.user_pool_id).username("hanako.new@example.com").send().await.unwrap();
    assert_eq!(user.user_status().map(|s| s.as_str()), Some("CONFIRMED"));
    assert!(user.user_attributes().iter().any(|a| a.name() == "email_verified" && a.value() == Some("true")));
    assert_eq!(app.event_types().await.iter().filter(|t| *t == "user.registered").count(), 1);
    assert_eq!(app.login("hanako.new@example.com", PASSWORD).await.status, http::StatusCode::OK);

    // An existing account, and an unknown one, as Cognito answers them (the form hides both).
    assert_eq!(sign_up(&app, "hanako.new@example.com", vec![], "ja").await, Err("UsernameExistsException".into()));
    assert_eq!(confirm(&app, "nobody@example.com", "123456").await, Err("CodeMismatchException".into()), "no user to find");
}

#[tokio::test]
async fn five_wrong_codes_lock_the_code_until_a_new_one_is_sent() {
    let app = spawn_app().await;
    sign_up(&app, "guesser@example.com", vec![attribute("locale", "en")], "ja").await.unwrap();
    let email = app.last_email("guesser@example.com");
    assert_eq!(email["subject"], "Your Acme Help verification code", "the person's own locale wins over the browser's");
    let code = email["code"].as_str().unwrap().to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        assert_eq!(confirm(&app, "guesser@example.com", wrong).await, Err("CodeMismatchException".into()));
    }
    assert_eq!(confirm(&app, "guesser@example.com", wrong).await, Err("LimitExceededException".into()));
    assert_eq!(confirm(&app, "guesser@example.com", &code).await, Err("LimitExceededException".into()), "locked, even for the right code");
    resend(&app, "guesser@example.com", "en").await.unwrap();
    confirm(&app, "guesser@example.com", &app.emailed_code("guesser@example.com")).await.unwrap();
}

#[tokio::test]
async fn the_operators_template_is_what_people_get_and_invitations_name_the_user() {
    let app = spawn_app().await;
    let admin = EmailTemplatesAdmin { store: Arc::new(DynamoEmailTemplates::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table)) };
    let own = EmailTemplate { subject: "Welcome to {{product}}, {{name}}".into(), html: "<p>{{name}}: {{code}}</p>".into() };
    let refused = EmailTemplate { subject: "Hi".into(), html: "<p>no code</p>".into() };
    assert!(admin.set(&Actor::cli(), EmailKind::SignUp, Language::En, refused, 0, 1).await.is_err(), "a body without the code");
    admin.set(&Actor::cli(), EmailKind::SignUp, Language::En, own, 0, 1).await.unwrap();
    sign_up(&app, "pat@example.com", vec![attribute("name", "Pat <b>")], "en-GB").await.unwrap();
    let email = app.last_email("pat@example.com");
    let code = email["code"].as_str().unwrap();
    assert_eq!(
        (email["subject"].as_str(), email["html"].as_str()),
        (Some("Welcome to Acme Help, Pat <b>"), Some(format!("<p>Pat &lt;b&gt;: {code}</p>").as_str()))
    );

    // An invitation (AdminCreateUser without SUPPRESS) names the address to sign in with, the
    // temporary password, and the user's id in the pool (Cognito's generated name).
    let created = Client::new(&app.sdk)
        .admin_create_user()
        .user_pool_id(&app.stack.user_pool_id)
        .username("invited@example.com")
        .temporary_password("Temp-Passw0rd!x")
        .user_attributes(attribute("email", "invited@example.com"))
        .user_attributes(attribute("locale", "ja"))
        .send()
        .await
        .unwrap();
    let id = created.user.and_then(|u| u.username).unwrap();
    let invitation = app.last_email("invited@example.com");
    let html = invitation["html"].as_str().unwrap();
    assert_eq!(invitation["subject"], "【Acme Help】アカウントのご案内");
    assert!(html.contains("<strong>invited@example.com</strong>") && html.contains("<strong>Temp-Passw0rd!x</strong>"), "{html}");
    assert!(id != "invited@example.com" && html.contains(&format!("ユーザー ID: {id}")), "{html}");
    let trail = app.event_types().await;
    assert!(trail.contains(&"admin.email_template.saved".to_owned()), "{trail:?}");
}
