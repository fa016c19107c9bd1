//! `bridge-admin local`: local runs only, the stack's resources and demo users in moto.

use super::Ctx;
use anyhow::Result;
use clap::Subcommand;
use shared::adapters::local_stack::{DemoUser, create_user, provision};

#[derive(Subcommand)]
pub enum LocalCommand {
    /// Create the table, user pool, app client and bridge secret; print them as KEY=VALUE lines.
    Provision {
        #[arg(long, default_value = "bridge-local")]
        name: String,
    },
    /// Create a confirmed user with a verified email.
    User {
        #[arg(long)]
        pool: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        company: Option<String>,
        /// Enable SMS MFA with this phone number.
        #[arg(long)]
        sms_phone: Option<String>,
        #[arg(long = "group")]
        groups: Vec<String>,
        /// The organisation the person belongs to.
        #[arg(long)]
        org: Option<String>,
        /// Leave the password temporary (the person must choose a new one).
        #[arg(long)]
        temporary: bool,
        /// The person's locale attribute (ja, en): the language of their SMS messages.
        #[arg(long)]
        locale: Option<String>,
    },
}

/// Runs a `local` command (no table needed: `provision` creates it).
pub async fn run(command: LocalCommand, ctx: &Ctx) -> Result<()> {
    let sdk = &ctx.sdk;
    match command {
        LocalCommand::Provision { name } => {
            for (key, value) in provision(sdk, &name).await?.env() {
                println!("{key}={value}");
            }
        }
        LocalCommand::User { pool, email, password, name, company, sms_phone, groups, org, temporary, locale } => {
            let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
            let user = DemoUser {
                email: &email,
                password: &password,
                name: &name,
                company: company.as_deref(),
                sms_mfa_phone: sms_phone.as_deref(),
                groups: &groups,
                org: org.as_deref(),
                permanent_password: !temporary,
                locale: locale.as_deref(),
            };
            println!("{}", create_user(sdk, &pool, &user).await?);
        }
    }
    Ok(())
}
