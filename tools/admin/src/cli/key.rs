//! `bridge-admin key`: the bridge's own signing keys (list, rotate, prune).

use super::Ctx;
use anyhow::{Context, Result};
use bridge_admin::keys::Keys;
use clap::Subcommand;
use shared::tokens::jws::Algorithm;
use shared::tokens::signing_keys::MIN_LEAD;

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Show the key set (JSON): each key's id, algorithm and publish/sign/retire times.
    List,
    /// Generate a new key. The first of an algorithm signs at once; a later one is published now,
    /// signs after --lead-seconds, and the key it replaces retires once its tokens expired.
    Rotate {
        /// RS256 or ES256.
        #[arg(long)]
        alg: String,
        /// Seconds between publishing the new key and signing with it.
        #[arg(long, default_value_t = 24 * 3600)]
        lead_seconds: u64,
    },
    /// Remove retired keys from the key set and schedule their secrets for deletion.
    Prune,
}

/// Runs a `key` command against the table.
pub async fn run(command: KeyCommand, ctx: &Ctx) -> Result<()> {
    let table = ctx.table()?;
    let keys = Keys::new(&ctx.sdk, table, ctx.secret_prefix.clone());
    let now = super::now();
    match command {
        KeyCommand::List => println!("{}", serde_json::to_string_pretty(&keys.list().await?)?),
        KeyCommand::Rotate { alg, lead_seconds } => {
            let alg: Algorithm = serde_json::from_value(serde_json::Value::String(alg.to_uppercase())).context("--alg is RS256 or ES256")?;
            if lead_seconds < MIN_LEAD {
                eprintln!("warning: a lead under {MIN_LEAD} s lets the new key sign before every verifier can have fetched it");
            }
            println!("{}", serde_json::to_string_pretty(&keys.rotate(alg, lead_seconds, now).await?)?);
        }
        KeyCommand::Prune => {
            for kid in keys.prune(now).await? {
                println!("pruned {kid}");
            }
        }
    }
    Ok(())
}
