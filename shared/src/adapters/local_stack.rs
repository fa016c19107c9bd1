//! Local provisioning: in moto, the resources `template.yaml` declares in AWS (the table with
//! its index, TTL and stream; the user pool and app client; the bridge secret; a verified SES
//! identity for email steps), and demo users.
//! Used by `make dev` and by the integration tests; never against a real account.

use crate::adapters::dynamo::{GSI1, GSI2};
use anyhow::{Context, Result};
use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider as cognito;
use aws_sdk_dynamodb as dynamodb;
use dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType, StreamSpecification,
    StreamViewType, TimeToLiveSpecification,
};
use serde_json::json;

/// What was created, as the login function's environment variables name it.
#[derive(Debug, Clone)]
pub struct LocalStack {
    pub table: String,
    pub user_pool_id: String,
    pub client_id: String,
    /// The password sign-in's client (the admin flow only) and its secret: `template.yaml`'s
    /// `SignInClient`.
    pub sign_in_client_id: String,
    pub sign_in_client_secret: String,
    pub bridge_secret_id: String,
    /// The sender of email steps, on [`EMAIL_DOMAIN`] (verified in the local SES).
    pub email_from: String,
    pub email_identity_arn: String,
}

/// The local SES identity's domain.
pub const EMAIL_DOMAIN: &str = "mail.bridge.example";

impl LocalStack {
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TABLE_NAME", self.table.clone()),
            ("USER_POOL_ID", self.user_pool_id.clone()),
            ("USER_POOL_CLIENT_ID", self.client_id.clone()),
            ("SIGN_IN_CLIENT_ID", self.sign_in_client_id.clone()),
            ("SIGN_IN_CLIENT_SECRET", self.sign_in_client_secret.clone()),
            ("BRIDGE_SECRET_ID", self.bridge_secret_id.clone()),
            ("PASSKEY_RP_ID", RELYING_PARTY.to_owned()),
            ("EMAIL_FROM", self.email_from.clone()),
            ("EMAIL_IDENTITY_ARN", self.email_identity_arn.clone()),
        ]
    }
}

/// The local pool's passkey relying party: the host the local form is served from.
pub const RELYING_PARTY: &str = "localhost";

/// Creates the table, pool, its two clients (the bridge's; the password sign-in's, by the admin
/// flow only) and the bridge secret, all named after `name`.
pub async fn provision(sdk: &SdkConfig, name: &str) -> Result<LocalStack> {
    let table = format!("{name}-table");
    create_table(&dynamodb::Client::new(sdk), &table).await?;
    let idp = cognito::Client::new(sdk);
    let region = sdk.region().map_or_else(|| "ap-northeast-1".to_owned(), ToString::to_string);
    let triggers = format!("arn:aws:lambda:{region}:000000000000:function:{name}-triggers");
    let pool = idp
        .create_user_pool()
        .pool_name(format!("{name}-users"))
        .username_attributes(cognito::types::UsernameAttributeType::Email)
        .auto_verified_attributes(cognito::types::VerifiedAttributeType::Email)
        .user_attribute_update_settings(
            cognito::types::UserAttributeUpdateSettingsType::builder()
                .attributes_require_verification_before_update(cognito::types::VerifiedAttributeType::Email)
                .build(),
        )
        .mfa_configuration(cognito::types::UserPoolMfaType::Optional)
        .username_configuration(cognito::types::UsernameConfigurationType::builder().case_sensitive(false).build()?)
        .set_schema(Some(
            ["company", "org_id", "scim_id", "consents"]
                .iter()
                .map(|name| {
                    cognito::types::SchemaAttributeType::builder()
                        .name(*name)
                        .attribute_data_type(cognito::types::AttributeDataType::String)
                        .mutable(true)
                        .build()
                })
                .collect(),
        ))
        // Cognito invokes these, as the stack's pool does; locally the local Cognito invokes the
        // trigger handler through `MOTO_LAMBDA_ENDPOINT` (scripts/moto_server.py).
        .lambda_config(
            cognito::types::LambdaConfigType::builder()
                .pre_sign_up(triggers.clone())
                .custom_message(triggers.clone())
                .post_confirmation(triggers.clone())
                .build(),
        )
        // Choice-based sign-in, as the stack's pool allows it.
        .user_pool_tier(cognito::types::UserPoolTierType::Essentials)
        .policies(cognito::types::UserPoolPolicyType::builder().sign_in_policy(first_factors()).build())
        .send()
        .await
        .context("creating the user pool")?;
    let pool_id = pool.user_pool.and_then(|p| p.id).context("the pool has no id")?;
    // Passkeys for the local form's host (a browser accepts `localhost` as a relying party over
    // plain HTTP; never an IP address).
    let web_authn = cognito::types::WebAuthnConfigurationType::builder()
        .relying_party_id(RELYING_PARTY)
        .user_verification(cognito::types::UserVerificationType::Required)
        .build();
    idp.set_user_pool_mfa_config().user_pool_id(&pool_id).web_authn_configuration(web_authn).send().await.context("setting the relying party")?;
    // The console's role groups, as the stack's template creates them.
    for role in crate::admin::role::Role::ALL {
        idp.create_group().user_pool_id(&pool_id).group_name(role.group()).send().await.context("creating the console's groups")?;
    }
    let ([client_id, client_secret], [sign_in_client_id, sign_in_client_secret]) = create_clients(&idp, &pool_id, name).await?;
    let bridge_secret = json!({"flow_key": crate::common::random::secret(48), "cognito_client_secret": client_secret});
    let secret = aws_sdk_secretsmanager::Client::new(sdk)
        .create_secret()
        .name(format!("{name}/bridge"))
        .secret_string(bridge_secret.to_string())
        .send()
        .await
        .context("creating the bridge secret")?;
    let (email_from, email_identity_arn) = email_identity(sdk, &region).await?;
    Ok(LocalStack {
        table,
        user_pool_id: pool_id,
        client_id,
        sign_in_client_id,
        sign_in_client_secret,
        bridge_secret_id: secret.arn.context("the secret has no ARN")?,
        email_from,
        email_identity_arn,
    })
}

/// The pool's two app clients, as `template.yaml` makes them, each with a secret: the bridge's
/// and the password sign-in's (`SignInClient`: the admin flow only). Each one's id and secret.
async fn create_clients(idp: &cognito::Client, pool_id: &str, name: &str) -> Result<([String; 2], [String; 2])> {
    // As template.yaml: what people may write themselves (never custom:org_id, scim_id, consents).
    let writable = Some(["email", "name", "given_name", "family_name", "locale", "phone_number"].map(String::from).to_vec());
    let client = idp
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name(format!("{name}-bridge"))
        .generate_secret(true)
        .explicit_auth_flows(cognito::types::ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(cognito::types::ExplicitAuthFlowsType::AllowUserAuth)
        .explicit_auth_flows(cognito::types::ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .prevent_user_existence_errors(cognito::types::PreventUserExistenceErrorTypes::Enabled)
        .set_write_attributes(writable.clone())
        .send()
        .await
        .context("creating the app client")?
        .user_pool_client
        .context("no app client")?;
    let sign_in_client = idp
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name(crate::directory::triggers::SIGN_IN_CLIENT_NAME)
        .generate_secret(true)
        .explicit_auth_flows(cognito::types::ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(cognito::types::ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .prevent_user_existence_errors(cognito::types::PreventUserExistenceErrorTypes::Enabled)
        .set_write_attributes(writable)
        .send()
        .await
        .context("creating the sign-in client")?
        .user_pool_client
        .context("no sign-in client")?;
    let id_and_secret =
        |c: cognito::types::UserPoolClientType| Ok::<_, anyhow::Error>([c.client_id.context("an app client has no id")?, c.client_secret.unwrap_or_default()]);
    Ok((id_and_secret(client)?, id_and_secret(sign_in_client)?))
}

/// A password, an email code or a passkey, as the stack's pool allows.
fn first_factors() -> cognito::types::SignInPolicyType {
    use cognito::types::AuthFactorType::{EmailOtp, Password, WebAuthn};
    [Password, EmailOtp, WebAuthn].into_iter().fold(cognito::types::SignInPolicyType::builder(), |b, f| b.allowed_first_auth_factors(f)).build()
}

async fn create_table(client: &dynamodb::Client, table: &str) -> Result<()> {
    let attr = |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();
    let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(vec![attr("pk")?, attr("sk")?, attr("gsi1pk")?, attr("gsi1sk")?, attr("gsi2pk")?, attr("gsi2sk")?]))
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(GSI1)
                .key_schema(key("gsi1pk", KeyType::Hash)?)
                .key_schema(key("gsi1sk", KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()?,
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(GSI2)
                .key_schema(key("gsi2pk", KeyType::Hash)?)
                .key_schema(key("gsi2sk", KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()?,
        )
        .stream_specification(StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::NewAndOldImages).build()?)
        .send()
        .await;
    match created {
        Ok(_) => {}
        // The SDK's retry of an attempt that timed out (a cold local moto on a busy machine) after
        // the table was made: it is there.
        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(e) => return Err(e).context("creating the table"),
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(TimeToLiveSpecification::builder().enabled(true).attribute_name("expires_at").build()?)
        .send()
        .await
        .context("enabling TTL")?;
    Ok(())
}

/// The stack's `EmailFrom` and `EmailIdentityArn`: [`EMAIL_DOMAIN`] verified in SES (moto
/// verifies it at once; verifying it again is harmless).
async fn email_identity(sdk: &SdkConfig, region: &str) -> Result<(String, String)> {
    aws_sdk_sesv2::Client::new(sdk).create_email_identity().email_identity(EMAIL_DOMAIN).send().await.context("verifying the SES identity")?;
    Ok((format!("no-reply@{EMAIL_DOMAIN}"), format!("arn:aws:ses:{region}:000000000000:identity/{EMAIL_DOMAIN}")))
}

/// A person in the local pool.
#[derive(Debug, Clone)]
pub struct DemoUser<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub name: &'a str,
    pub company: Option<&'a str>,
    /// A phone number enables SMS MFA for the user.
    pub sms_mfa_phone: Option<&'a str>,
    pub groups: &'a [&'a str],
    /// The organisation the person belongs to (`custom:org_id`).
    pub org: Option<&'a str>,
    /// `false` leaves the user in FORCE_CHANGE_PASSWORD (the new-password step).
    pub permanent_password: bool,
    /// The `locale` attribute (`ja`, `en`): the language of their SMS messages.
    pub locale: Option<&'a str>,
}

/// Creates a confirmed user with a verified email (no invitation message). Returns the `sub`.
pub async fn create_user(sdk: &SdkConfig, pool_id: &str, user: &DemoUser<'_>) -> Result<String> {
    use cognito::types::{AttributeType, MessageActionType, SmsMfaSettingsType};
    let idp = cognito::Client::new(sdk);
    let attr = |n: &str, v: &str| AttributeType::builder().name(n).value(v).build();
    let mut attributes = vec![attr("email", user.email)?, attr("email_verified", "true")?, attr("name", user.name)?];
    if let Some(company) = user.company {
        attributes.push(attr("custom:company", company)?);
    }
    if let Some(org) = user.org {
        attributes.push(attr(crate::common::profile::ORG_ATTRIBUTE, org)?);
    }
    if let Some(locale) = user.locale {
        attributes.push(attr("locale", locale)?);
    }
    if let Some(phone) = user.sms_mfa_phone {
        attributes.push(attr("phone_number", phone)?);
        attributes.push(attr("phone_number_verified", "true")?);
    }
    let created = idp
        .admin_create_user()
        .user_pool_id(pool_id)
        .username(user.email)
        .set_user_attributes(Some(attributes))
        .temporary_password(user.password)
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .with_context(|| format!("creating user {}", user.email))?;
    if user.permanent_password {
        idp.admin_set_user_password().user_pool_id(pool_id).username(user.email).password(user.password).permanent(true).send().await?;
    }
    if user.sms_mfa_phone.is_some() {
        idp.admin_set_user_mfa_preference()
            .user_pool_id(pool_id)
            .username(user.email)
            .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).preferred_mfa(true).build())
            .send()
            .await?;
    }
    for group in user.groups {
        let exists = idp.get_group().user_pool_id(pool_id).group_name(*group).send().await.is_ok();
        if !exists {
            idp.create_group().user_pool_id(pool_id).group_name(*group).send().await?;
        }
        idp.admin_add_user_to_group().user_pool_id(pool_id).username(user.email).group_name(*group).send().await?;
    }
    let sub = created.user.and_then(|u| u.attributes).unwrap_or_default().into_iter().find(|a| a.name == "sub").and_then(|a| a.value);
    sub.context("the user has no sub")
}
