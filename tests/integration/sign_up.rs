//! Creating an account on the form against moto: only for apps that allow it; one journey from
//! the form to the app (sign-up, the emailed code, signed in); no account enumeration (an
//! existing email answers as a new one, its owner is told by email, its codes confirm nothing);
//! an unconfirmed person finishing later; companies' people sent to corporate sign-in; every
//! Cognito error the journey meets, each with its own code for the form.

use crate::harness::*;
use http::StatusCode;
use serde_json::{Value, json};
use shared::tokens::app::{AppId, SignUp};

/// The test stack with its demo app open to sign-up.
async fn open_app() -> TestApp {
    let app = spawn_app().await;
    let mut demo = app.apps.get(&AppId::parse(APP).unwrap()).await.unwrap();
    demo.sign_up = SignUp::Open;
    app.apps.update(demo).await.unwrap();
    app
}

/// The pool user's attributes, by name.
async fn attributes_of(app: &TestApp, email: &str) -> std::collections::HashMap<String, String> {
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let user = idp.admin_get_user().user_pool_id(&app.stack.user_pool_id).username(email).send().await.unwrap();
    user.user_attributes().iter().filter_map(|a| Some((a.name().to_owned(), a.value()?.to_owned()))).collect()
}

fn new_account(ctx: &str, email: &str, language: &str) -> Value {
    json!({"ctx": ctx, "email": email, "password": PASSWORD, "name": "山田 花子", "language": language})
}

#[tokio::test]
async fn a_new_person_signs_up_confirms_the_emailed_code_and_lands_in_the_app_registered_once() {
    let app = spawn_app().await;
    let ctx = app.ctx().await;
    // The demo app does not allow sign-up: refused, and the form is not told to offer it.
    let closed = app.post("/signup", new_account(&ctx, "new.person@example.com", "ja")).await;
    assert_eq!((closed.status, closed.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("sign_up_closed")), "{}", closed.body);
    let entered = app.send("GET", &format!("/sso/{APP}?return_to={ZENDESK}/hc"), &[], None).await;
    assert_eq!(entered.location_param("sign_up"), None);

    let app = open_app().await;
    let entered = app.send("GET", &format!("/sso/{APP}?return_to={ZENDESK}/hc"), &[], None).await;
    assert_eq!(entered.location_param("sign_up").as_deref(), Some("open"), "the form offers it");
    let ctx = app.ctx().await;
    let started = app.post("/signup", new_account(&ctx, "new.person@example.com", "ja")).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let step = started.json();
    assert_eq!((step["status"].as_str(), step["destination"].as_str()), (Some("confirm_sign_up"), Some("n***@e***")));
    let flow = step["flow"].as_str().unwrap();
    let email = app.last_email("new.person@example.com");
    assert_eq!((email["kind"].as_str(), email["subject"].as_str()), (Some("CustomMessage_SignUp"), Some("【Acme Help】確認コードのお知らせ")));
    assert!(email["html"].as_str().unwrap().contains("new.person@example.com 様"), "the address, not a name anyone may choose");

    let wrong = app.post("/signup/confirm", json!({"flow": flow, "code": "000000", "password": PASSWORD})).await;
    assert_eq!((wrong.status, wrong.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("code_mismatch")), "{}", wrong.body);
    assert_eq!(app.post("/signup/resend", json!({"flow": flow})).await.json()["status"], "code_sent");
    let code = app.emailed_code("new.person@example.com");
    let signed_in = app.post("/signup/confirm", json!({"flow": flow, "code": code, "password": PASSWORD})).await;
    assert_eq!(signed_in.json()["status"], "signed_in", "{}", signed_in.body);
    let page = app.handoff(&signed_in).await;
    assert!(page.body.contains(&format!("action=\"{ZENDESK}/access/jwt\"")), "on to the app: {}", page.body);
    assert_eq!(app.event_types().await.iter().filter(|t| *t == "user.registered").count(), 1, "PostConfirmation, once");
    // The person is the pool's, with their language: the next email is in Japanese too.
    let attributes = attributes_of(&app, "new.person@example.com").await;
    let attribute = |name: &str| attributes.get(name).cloned();
    assert_eq!(
        (attribute("name").as_deref(), attribute("locale").as_deref(), attribute("email_verified").as_deref()),
        (Some("山田 花子"), Some("ja"), Some("true"))
    );
}

#[tokio::test]
async fn an_existing_email_answers_as_a_new_one_and_its_owner_is_told_by_email() {
    let app = open_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let ctx = app.ctx().await;
    let existing = app.post("/signup", new_account(&ctx, "hanako@example.com", "en")).await;
    let new = app.post("/signup", new_account(&ctx, "haruka@example.com", "en")).await;
    let shape = |r: &Reply| (r.status, r.json()["status"].clone(), r.json()["destination"].clone(), r.json().as_object().map(|o| o.len()));
    assert_eq!(shape(&existing), shape(&new), "the same answer: {} / {}", existing.body, new.body);
    // The owner hears of it, with a reset code; nothing confirms or changes their account.
    let notice = app.last_email("hanako@example.com");
    assert_eq!(
        (notice["kind"].as_str(), notice["subject"].as_str()),
        (Some("CustomMessage_ForgotPassword"), Some("You already have an account with Acme Help"))
    );
    let flow = existing.json()["flow"].as_str().unwrap().to_owned();
    for code in [notice["code"].as_str().unwrap(), "123456"] {
        let tried = app.post("/signup/confirm", json!({"flow": flow, "code": code, "password": PASSWORD})).await;
        assert_eq!((tried.status, tried.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("code_mismatch")), "{}", tried.body);
    }
    assert_eq!(app.post("/signup/resend", json!({"flow": flow})).await.json()["status"], "code_sent", "the same answer");
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.status, StatusCode::OK, "the account is as it was");
}

#[tokio::test]
async fn signing_in_with_the_password_one_chose_and_guessing_codes_tell_nothing_either() {
    // Whoever signs up an address, then signs in with the password they chose, then guesses
    // codes, sees the same for an address with an account and one without.
    let app = open_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let ctx = app.ctx().await;
    const CHOSEN: &str = "Chosen-Passw0rd!";
    let mut seen = Vec::new();
    for email in ["hanako@example.com", "haruka@example.com"] {
        // Twice, with two passwords: the first stays (Cognito keeps the first sign-up).
        for password in [CHOSEN, "Second-Passw0rd!"] {
            let mut account = new_account(&ctx, email, "en");
            account["password"] = password.into();
            assert_eq!(app.post("/signup", account).await.status, StatusCode::OK);
        }
        let second = app.post("/login", json!({"ctx": ctx, "email": email, "password": "Second-Passw0rd!"})).await;
        let step = app.post("/login", json!({"ctx": ctx, "email": email, "password": CHOSEN})).await;
        let flow = step.json()["flow"].as_str().unwrap_or_else(|| panic!("{email}: {}", step.body)).to_owned();
        let mut answers = vec![
            (second.status, second.json()["error"].clone(), Value::Null),
            (step.status, step.json()["status"].clone(), step.json()["destination"].clone()),
        ];
        for _ in 0..=shared::signin::sign_up::CODE_TRIES {
            let tried = app.post("/signup/confirm", json!({"flow": flow, "code": "000000", "password": CHOSEN})).await;
            answers.push((tried.status, tried.json()["error"].clone(), json!(tried.header("retry-after"))));
        }
        let resent = app.post("/signup/resend", json!({"flow": flow})).await;
        answers.push((resent.status, resent.json()["status"].clone(), Value::Null));
        seen.push(answers);
    }
    assert_eq!(seen[0], seen[1], "the same answers, step by step");
    assert_eq!(seen[0][0], (StatusCode::UNAUTHORIZED, json!("invalid_credentials"), Value::Null));
    assert_eq!(seen[0][1], (StatusCode::OK, json!("confirm_sign_up"), json!("h***@e***")));
    assert_eq!(seen[0].last().unwrap().1, "code_sent");
    assert_eq!(seen[0][seen[0].len() - 2], (StatusCode::TOO_MANY_REQUESTS, json!("too_many_attempts"), json!("60")));
    // The owner's account is as it was, and the chosen password opens nothing.
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.status, StatusCode::OK);
}

/// A code of another kind sent to the address (an email sign-in's) starts no new tries of the
/// sign-up's code: otherwise a fifth guess would reach Cognito's own lock (five), which only an
/// unconfirmed account has, and tell the two apart.
#[tokio::test]
async fn another_kind_of_code_starts_no_new_tries_of_a_sign_up_code() {
    let app = open_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let ctx = app.ctx().await;
    let mut seen = Vec::new();
    for email in ["hanako@example.com", "haruka@example.com"] {
        let flow = app.post("/signup", new_account(&ctx, email, "en")).await.json()["flow"].clone();
        let mut answers = Vec::new();
        for _ in 0..shared::signin::sign_up::CODE_TRIES {
            answers.push(app.post("/signup/confirm", json!({"flow": flow, "code": "000000", "password": PASSWORD})).await.json()["error"].clone());
        }
        let other = app.post("/login/code", json!({"ctx": ctx, "email": email})).await;
        assert_eq!(other.status, StatusCode::OK, "{email}: {}", other.body);
        let fifth = app.post("/signup/confirm", json!({"flow": flow, "code": "000000", "password": PASSWORD})).await;
        answers.push(json!([fifth.status.as_u16(), fifth.json()["error"]]));
        seen.push(answers);
    }
    assert_eq!(seen[0], seen[1], "the same answers, step by step");
    assert_eq!(seen[0].last().unwrap(), &json!([429, "too_many_attempts"]));
}

#[tokio::test]
async fn an_unconfirmed_person_who_signs_in_later_is_taken_to_the_code_step() {
    let app = open_app().await;
    let ctx = app.ctx().await;
    assert_eq!(app.post("/signup", new_account(&ctx, "later@example.com", "en")).await.status, StatusCode::OK);
    // Signing up again: a new code to the same address (the owner finishing later).
    assert_eq!(app.post("/signup", new_account(&ctx, "later@example.com", "en")).await.status, StatusCode::OK);
    assert_eq!(app.last_email("later@example.com")["kind"], "CustomMessage_ResendCode");
    // A wrong password is a wrong password; the right one leads to the code step.
    let wrong = app.post("/login", json!({"ctx": ctx, "email": "later@example.com", "password": "Wrong-Passw0rd!"})).await;
    assert_eq!(wrong.json()["error"], "invalid_credentials");
    let step = app.post("/login", json!({"ctx": ctx, "email": "later@example.com", "password": PASSWORD})).await.json();
    assert_eq!((step["status"].as_str(), step["destination"].as_str()), (Some("confirm_sign_up"), Some("l***@e***")), "{step}");
    let code = app.emailed_code("later@example.com");
    let signed_in = app.post("/signup/confirm", json!({"flow": step["flow"], "code": code, "password": PASSWORD})).await;
    assert_eq!(signed_in.json()["status"], "signed_in", "{}", signed_in.body);
}

#[tokio::test]
async fn the_cognito_errors_of_the_journey_each_have_their_own_answer() {
    let app = open_app().await;
    let ctx = app.ctx().await;
    let mut weak = new_account(&ctx, "weak@example.com", "en");
    weak["password"] = "short".into();
    let cases = [
        (weak, StatusCode::BAD_REQUEST, "password_policy"),
        (json!({"ctx": ctx, "email": "x@example.com", "password": PASSWORD, "name": " ", "language": "en"}), StatusCode::BAD_REQUEST, "invalid_name"),
        (json!({"ctx": ctx, "email": "x@example.com", "password": PASSWORD, "name": "X", "language": "fr"}), StatusCode::BAD_REQUEST, "invalid_request"),
        (json!({"ctx": ctx, "email": "not-an-email", "password": PASSWORD, "name": "X", "language": "en"}), StatusCode::BAD_REQUEST, "invalid_email"),
        (json!({"ctx": "forged", "email": "x@example.com", "password": PASSWORD, "name": "X", "language": "en"}), StatusCode::BAD_REQUEST, "invalid_flow"),
    ];
    for (body, status, code) in cases {
        let reply = app.post("/signup", body.clone()).await;
        assert_eq!((reply.status, reply.json()["error"].as_str()), (status, Some(code)), "{body}: {}", reply.body);
    }
    // Five wrong codes: too many attempts, for the right code too, until a new one is sent.
    let flow = app.post("/signup", new_account(&ctx, "guess@example.com", "en")).await.json()["flow"].as_str().unwrap().to_owned();
    let code = app.emailed_code("guess@example.com");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let confirm = |code: &str| app.post("/signup/confirm", json!({"flow": flow, "code": code, "password": PASSWORD}));
    for _ in 0..4 {
        assert_eq!(confirm(wrong).await.json()["error"], "code_mismatch");
    }
    let limited = confirm(wrong).await;
    assert_eq!((limited.status, limited.json()["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")), "{}", limited.body);
    assert_eq!(limited.header("retry-after"), Some("60"));
    assert_eq!(confirm(&code).await.json()["error"], "too_many_attempts");
    app.post("/signup/resend", json!({"flow": flow})).await;
    assert_eq!(confirm(&app.emailed_code("guess@example.com")).await.json()["status"], "signed_in");
    // An expired code (the local Cognito expires codes to these addresses at once).
    let flow = app.post("/signup", new_account(&ctx, &format!("{EXPIRED_CODES}x@example.com"), "en")).await.json()["flow"].as_str().unwrap().to_owned();
    let code = app.emailed_code(&format!("{EXPIRED_CODES}x@example.com"));
    let expired = app.post("/signup/confirm", json!({"flow": flow, "code": code, "password": PASSWORD})).await;
    assert_eq!((expired.status, expired.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("code_expired")), "{}", expired.body);
    // A sign-up flow is not a context, nor a challenge's flow.
    let reply = app.post("/login/challenge", json!({"flow": flow, "code": "123456"})).await;
    assert_eq!(reply.json()["error"], "invalid_flow");
    assert_eq!(app.post("/signup/confirm", json!({"flow": ctx, "code": "123456", "password": PASSWORD})).await.json()["error"], "invalid_flow");
}

#[tokio::test]
async fn a_companys_people_are_sent_to_corporate_sign_in() {
    let app = open_app().await;
    let orgs = bridge_admin::orgs::Orgs::new(&app.sdk, &app.stack.table, "bridge-test");
    orgs.create("Example Corp", &["corp.example".into()], shared::directory::org::OrgPolicies::default()).await.unwrap();
    let ctx = app.ctx().await;
    let reply = app.post("/signup", new_account(&ctx, "taro@corp.example", "ja")).await;
    assert_eq!((reply.status, reply.json()["error"].as_str()), (StatusCode::CONFLICT, Some("use_corporate")), "{}", reply.body);
    let pool = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    assert!(pool.admin_get_user().user_pool_id(&app.stack.user_pool_id).username("taro@corp.example").send().await.is_err(), "no account made");
}

#[tokio::test]
async fn each_step_makes_only_the_aws_calls_it_needs() {
    let app = open_app().await;
    app.user("warm@example.com", |_| {}).await;
    let ctx = app.ctx().await;
    // A first sign-in warms what every sign-in shares (the app's secret, the bridge secret).
    assert_eq!(app.login("warm@example.com", PASSWORD).await.status, StatusCode::OK);
    app.calls.take();
    let step = |what: &str| {
        let mut calls = app.calls.take();
        calls.sort();
        println!("{what:>22}: {} AWS calls {calls:?}", calls.len());
        calls
    };
    let started = app.post("/signup", new_account(&ctx, "counted@example.com", "en")).await;
    // Side by side: which organisation owns the domain (not cached for a domain nobody owns) and
    // the address's count of sign-ups and codes (and the network's, when the request has an
    // address: not here); then SignUp.
    let signed_up = ["AWSCognitoIdentityProviderService.SignUp", "DynamoDB_20120810.GetItem", "DynamoDB_20120810.UpdateItem"];
    assert_eq!(step("POST /signup"), signed_up);
    let flow = started.json()["flow"].as_str().unwrap().to_owned();
    app.post("/signup/resend", json!({"flow": flow})).await;
    // The address's code count first: over it, nothing is sent.
    assert_eq!(step("POST /signup/resend"), ["AWSCognitoIdentityProviderService.ResendConfirmationCode", "DynamoDB_20120810.UpdateItem"]);
    let code = app.emailed_code("counted@example.com");
    let signed_in = app.post("/signup/confirm", json!({"flow": flow, "code": code, "password": PASSWORD})).await;
    assert_eq!(signed_in.json()["status"], "signed_in");
    // The account read (not confirmed yet) and its sign-ins held; ConfirmSignUp; the account made
    // the confirmer's (two calls side by side); the hold settled (sign-ins authenticated before
    // stay refused, the confirmer's goes through); then a password sign-in: a
    // first one reads the (empty) history of the email beside AdminInitiateAuth, then the new
    // account's own; a later one finds the email's.
    let sign_in = [
        "AWSCognitoIdentityProviderService.AdminInitiateAuth",
        "DynamoDB_20120810.BatchGetItem",
        "DynamoDB_20120810.BatchGetItem",
        "DynamoDB_20120810.TransactWriteItems",
    ];
    let mut first = vec![
        "AWSCognitoIdentityProviderService.AdminGetUser",
        "DynamoDB_20120810.PutItem",
        "AWSCognitoIdentityProviderService.AdminSetUserPassword",
        "AWSCognitoIdentityProviderService.AdminUpdateUserAttributes",
        "AWSCognitoIdentityProviderService.ConfirmSignUp",
        "DynamoDB_20120810.PutItem",
        "DynamoDB_20120810.UpdateItem",
    ];
    first.extend(sign_in);
    first.sort();
    assert_eq!(step("POST /signup/confirm"), first);
    wait_out_credentials_hold().await;
    assert_eq!(app.login("counted@example.com", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(step("POST /login (warm)"), [sign_in[0], sign_in[1], sign_in[3]]);
}

#[tokio::test]
async fn an_account_someone_else_started_with_your_email_becomes_yours_when_you_confirm_it() {
    let app = open_app().await;
    let ctx = app.ctx().await;
    // The attacker signs up the victim's email first, with a password and name of their own.
    let mut first = new_account(&ctx, "victim@example.com", "en");
    first["password"] = "Attacker-Passw0rd!".into();
    first["name"] = "Attacker".into();
    assert_eq!(app.post("/signup", first).await.status, StatusCode::OK);
    // The victim signs up later: the same step; the code goes to their mailbox.
    let step = app.post("/signup", new_account(&ctx, "victim@example.com", "ja")).await.json();
    assert_eq!(step["status"], "confirm_sign_up");
    let code = app.emailed_code("victim@example.com");
    let signed_in = app.post("/signup/confirm", json!({"flow": step["flow"], "code": code, "password": PASSWORD})).await;
    assert_eq!(signed_in.json()["status"], "signed_in", "{}", signed_in.body);
    // The account is the victim's: their password, their name and language; not the attacker's.
    assert_eq!(app.login("victim@example.com", "Attacker-Passw0rd!").await.status, StatusCode::UNAUTHORIZED);
    wait_out_credentials_hold().await;
    assert_eq!(app.login("victim@example.com", PASSWORD).await.status, StatusCode::OK);
    let attributes = attributes_of(&app, "victim@example.com").await;
    let attribute = |name: &str| attributes.get(name).cloned();
    assert_eq!((attribute("name").as_deref(), attribute("locale").as_deref()), (Some("山田 花子"), Some("ja")));
}

/// The moment `ConfirmSignUp` confirms an account someone else started, its first password works
/// in Cognito until the confirmer's is set. The confirmation holds the account's sign-ins from
/// before that call (`SessionStore::hold`): here the state between its two Cognito steps (or
/// after a claim that failed), through the bridge's own adapters and Cognito's own call.
#[tokio::test]
async fn while_an_account_is_claimed_its_first_password_opens_no_session() {
    use shared::directory::ports::PoolUsers;
    use shared::signin::ports::SessionStore;
    let app = open_app().await;
    let ctx = app.ctx().await;
    let mut first = new_account(&ctx, "victim@example.com", "en");
    first["password"] = "Attacker-Passw0rd!".into();
    assert_eq!(app.post("/signup", first).await.status, StatusCode::OK);
    assert_eq!(app.post("/signup", new_account(&ctx, "victim@example.com", "ja")).await.status, StatusCode::OK);
    let code = app.emailed_code("victim@example.com");
    // What the confirmation reads first: the account, not confirmed, under its user name.
    let pool = shared::adapters::cognito::directory::CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(&app.sdk), &app.stack.user_pool_id);
    let username = pool.unconfirmed("victim@example.com").await.unwrap().expect("the account someone else started, not confirmed");
    let store = shared::adapters::dynamo::sessions::DynamoSessions::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    let now = shared::common::time::unix_now();
    assert!(store.hold(&username, "claim", now + 600, now).await.unwrap());
    assert!(!store.hold(&username, "another", now + 600, now).await.unwrap(), "one confirmation at a time");
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let hash = shared::adapters::cognito::auth::secret_hash(&app.client_secret().await.into(), "victim@example.com", &app.stack.client_id);
    let confirm = idp.confirm_sign_up().client_id(&app.stack.client_id).secret_hash(hash).username("victim@example.com").confirmation_code(code);
    confirm.send().await.unwrap();
    assert_eq!(pool.unconfirmed("victim@example.com").await.unwrap(), None, "confirmed");
    // Cognito takes the first password now; the bridge opens nothing for it.
    let refused = app.login("victim@example.com", "Attacker-Passw0rd!").await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("account_deactivated")), "{}", refused.body);
    store.release(&username, "another").await.unwrap();
    assert_eq!(app.login("victim@example.com", "Attacker-Passw0rd!").await.status, StatusCode::FORBIDDEN, "another claim's release ends nothing");
    assert_eq!(app.items_under("SESSION#").await, 0);
    // Released without the confirmer's password (as no confirmation does), it would sign in.
    store.release(&username, "claim").await.unwrap();
    assert_eq!(app.login("victim@example.com", "Attacker-Passw0rd!").await.status, StatusCode::OK);
    // A hold settled now (a claim ended, a reset): a sign-in Cognito authenticated before (its
    // ID token's `auth_time`, resumed from a step) opens nothing; the holder's own does.
    let authenticated = shared::common::time::unix_now();
    store.settle(&username, "reset", authenticated + 5).await.unwrap();
    let refused = app.login("victim@example.com", "Attacker-Passw0rd!").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

#[tokio::test]
async fn sign_ups_are_limited_per_address_the_same_for_new_and_existing_emails() {
    let app = open_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let ctx = app.ctx().await;
    for email in ["busy@example.com", "hanako@example.com"] {
        for _ in 0..shared::signin::sign_up::SIGN_UPS_PER_EMAIL {
            assert_eq!(app.post("/signup", new_account(&ctx, email, "en")).await.status, StatusCode::OK, "{email}");
        }
        let refused = app.post("/signup", new_account(&ctx, email, "en")).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")), "{email}: {}", refused.body);
    }
    let mails = |email: &str| {
        let port = moto().rsplit(':').next().unwrap_or_default().to_owned();
        let text = std::fs::read_to_string(std::env::temp_dir().join(format!("moto-outbox-{port}.jsonl"))).unwrap_or_default();
        text.lines().filter(|l| l.contains(&app.stack.user_pool_id) && l.contains(&format!("\"destination\": \"{email}\""))).count()
    };
    assert_eq!(mails("busy@example.com"), 3, "no email beyond the limit");
    assert_eq!(mails("hanako@example.com"), 3, "nor to an account's owner");
}

#[tokio::test]
async fn sign_ups_from_one_network_are_limited_and_the_window_moves_on() {
    use shared::signin::ports::SignUpLedger;
    use shared::signin::sign_up::{SIGN_UP_WINDOW, SIGN_UPS_PER_NETWORK};
    let app = spawn_app().await;
    let store = shared::adapters::dynamo::sign_ups::DynamoSignUps::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    let now = 1_800_000_000;
    for i in 0..SIGN_UPS_PER_NETWORK {
        assert!(store.sign_up_attempt(&format!("p{i}@example.com"), Some("203.0.113.0/24"), now).await.unwrap());
    }
    assert!(!store.sign_up_attempt("one-more@example.com", Some("203.0.113.0/24"), now).await.unwrap(), "the network's limit");
    assert!(store.sign_up_attempt("one-more@example.com", Some("198.51.100.0/24"), now).await.unwrap(), "another network");
    assert!(store.sign_up_attempt("p0@example.com", Some("203.0.113.0/24"), now + SIGN_UP_WINDOW).await.unwrap(), "the next window");
}
