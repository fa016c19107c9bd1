//! `bridge-admin flow`: workflows (flows over identity events), their connections and failed runs.

use super::{Ctx, SecretInput, show};
use anyhow::Result;
use bridge_admin::workflows::Workflows;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum FlowCommand {
    /// Import a flow from a JSON or YAML (.yaml, .yml) file (new, or a new version of the same id).
    Import {
        file: std::path::PathBuf,
    },
    /// List the flows (JSON lines).
    List,
    /// Print a flow as JSON, or YAML with --yaml (what `import` takes).
    Export {
        id: String,
        #[arg(long)]
        yaml: bool,
    },
    Enable {
        id: String,
    },
    Disable {
        id: String,
    },
    /// Show what a flow would do for a sample event (JSON file), without doing it.
    Test {
        id: String,
        #[arg(long)]
        event: std::path::PathBuf,
    },
    /// Import a connection from a JSON file; --secret-stdin stores its secret in Secrets Manager.
    Connection {
        file: std::path::PathBuf,
        #[arg(long)]
        secret_stdin: bool,
    },
    /// List the failed runs (JSON lines).
    Failed,
    /// Run a failed run again from its failed step.
    Replay {
        run_id: String,
    },
    /// Dry run of a `user.inactive` flow: everyone it would act on now, with each step as it
    /// would be sent (JSON lines). Nothing is called or recorded.
    Report {
        id: String,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Run the daily inactivity scan now (records `user.inactive` events for the enabled flows).
    ScanInactive,
}

/// Runs a `flow` command against the table (replays act on `USER_POOL_ID` and send email as
/// `EMAIL_FROM` on `EMAIL_IDENTITY_ARN`, each if set).
pub async fn run(command: FlowCommand, ctx: &Ctx) -> Result<()> {
    let table = ctx.table()?;
    let services = shared::adapters::workflow_runner::StepServices::from_env(&shared::config::Env, &ctx.sdk, table)?;
    let workflows = Workflows::new(&ctx.sdk, table, ctx.secret_prefix.clone(), services);
    let now = super::now();
    match command {
        FlowCommand::Import { file } => show(&workflows.import(bridge_admin::read_document(&file)?, now).await?)?,
        FlowCommand::List => {
            for flow in workflows.store.flows().await? {
                println!("{}", serde_json::to_string(&flow)?);
            }
        }
        FlowCommand::Export { id, yaml: false } => show(&workflows.flow(&id).await?)?,
        FlowCommand::Export { id, yaml: true } => print!("{}", serde_yaml::to_string(&workflows.flow(&id).await?)?),
        FlowCommand::Enable { id } => show(&workflows.set_enabled(&id, true, now).await?)?,
        FlowCommand::Disable { id } => show(&workflows.set_enabled(&id, false, now).await?)?,
        FlowCommand::Test { id, event } => show(&workflows.test(&id, &bridge_admin::read_json(&event)?).await?)?,
        FlowCommand::Connection { file, secret_stdin } => {
            let secret = SecretInput { secret_stdin, generate_secret: false }.read_if_given()?;
            show(&shared::admin::workflows::connection_view(&workflows.import_connection(bridge_admin::read_json(&file)?, secret.as_ref(), now).await?))?
        }
        FlowCommand::Failed => {
            for run in workflows.failed().await? {
                println!("{}", serde_json::to_string(&run)?);
            }
        }
        FlowCommand::Replay { run_id } => show(&workflows.replay(&run_id, now).await?)?,
        FlowCommand::Report { id, limit } => {
            for line in workflows.report(&id, now, limit).await? {
                println!("{}", serde_json::to_string(&line)?);
            }
        }
        FlowCommand::ScanInactive => show(&workflows.store.record_inactive(now).await?)?,
    }
    Ok(())
}
