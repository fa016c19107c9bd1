//! The admin tool's library: organisations, domains and SCIM tokens; our signing keys; app management (apps in DynamoDB, their secrets in Secrets
//! Manager) and local provisioning (the table, user pool and secret that `template.yaml` creates
//! in AWS, made in moto for local runs and tests). `main.rs` is the command line over it.

pub mod apps;
pub mod keys;
pub mod local;
pub mod orgs;
pub mod workflows;

/// A random secret of `bytes` bytes, base64url without padding.
pub fn random_secret(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
