//! The admin tool's library: organisations, domains and SCIM tokens; our signing keys; app management (apps in DynamoDB, their secrets in Secrets
//! Manager) and local provisioning (the table, user pool and secret that `template.yaml` creates
//! in AWS, made in moto for local runs and tests). `main.rs` is the command line over it.

pub mod apps;
pub mod keys;
pub mod local;
pub mod orgs;
pub mod workflows;

/// Stores `secret` as the Secrets Manager secret `name`, creating it or replacing its value;
/// returns its reference (the ARN).
pub async fn put_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    name: &str,
    description: &str,
    secret: &secrecy::SecretString,
) -> anyhow::Result<shared::secrets::SecretRef> {
    use anyhow::Context;
    use secrecy::ExposeSecret;
    let created = secrets.create_secret().name(name).description(description).secret_string(secret.expose_secret()).send().await;
    let arn = match created {
        Ok(out) => out.arn,
        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_exists_exception()) => {
            secrets
                .put_secret_value()
                .secret_id(name)
                .secret_string(secret.expose_secret())
                .send()
                .await
                .with_context(|| format!("replacing secret {name}"))?
                .arn
        }
        Err(e) => return Err(e).with_context(|| format!("storing secret {name}")),
    };
    Ok(shared::secrets::SecretRef(arn.unwrap_or_else(|| name.to_owned())))
}

/// A random secret of `bytes` bytes, base64url without padding.
pub fn random_secret(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
