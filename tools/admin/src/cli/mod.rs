//! The command groups, one module each (arguments and dispatch), and what they share: the global
//! options with the AWS configuration, reading a secret, printing JSON.

pub mod admin;
pub mod app;
pub mod consent;
pub mod email_template;
pub mod flow;
pub mod hook;
pub mod key;
pub mod local;
pub mod org;

use anyhow::{Context, Result, bail};
use clap::Args;
use secrecy::SecretString;
use std::io::Read;

/// The global options and the AWS configuration every command group runs with.
pub struct Ctx {
    pub sdk: aws_config::SdkConfig,
    /// The bridge's DynamoDB table (`--table` or `TABLE_NAME`).
    pub table: Option<String>,
    /// Prefix of the secrets this tool creates (`--secret-prefix` or `SECRET_PREFIX`).
    pub secret_prefix: String,
}

impl Ctx {
    /// The table, which every group but `local` needs.
    fn table(&self) -> Result<&str> {
        self.table.as_deref().context("set --table or TABLE_NAME")
    }
}

/// Seconds since the Unix epoch.
fn now() -> u64 {
    shared::common::time::unix_now()
}

/// Prints `value` as pretty JSON.
fn show<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[derive(Args)]
#[group(multiple = false)]
pub struct SecretInput {
    /// Read the secret from standard input (paste Zendesk's shared secret, or a client secret).
    #[arg(long)]
    secret_stdin: bool,
    /// Generate a random secret and print it once.
    #[arg(long)]
    generate_secret: bool,
}

impl SecretInput {
    fn read_if_given(&self) -> Result<Option<SecretString>> {
        if self.secret_stdin || self.generate_secret { self.read().map(Some) } else { Ok(None) }
    }

    fn read(&self) -> Result<SecretString> {
        if !self.secret_stdin && !self.generate_secret {
            bail!("give --secret-stdin or --generate-secret");
        }
        if self.generate_secret {
            let secret = shared::common::random::secret(32);
            println!("generated secret (shown once): {secret}");
            return Ok(secret.into());
        }
        let mut secret = String::new();
        std::io::stdin().read_to_string(&mut secret).context("reading the secret from standard input")?;
        let secret = secret.trim().to_owned();
        if secret.len() < 16 {
            bail!("the secret on standard input is shorter than 16 characters");
        }
        Ok(secret.into())
    }
}
