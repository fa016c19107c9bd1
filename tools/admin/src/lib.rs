//! The admin tool's library: organisations, domains and SCIM tokens; our signing keys; telephony
//! hooks; app management (apps in DynamoDB, their secrets in Secrets
//! Manager); reading JSON and YAML documents. Local provisioning lives in
//! `shared::adapters::local_stack`. `main.rs`
//! (with its `cli` modules) is the command line over it.

pub mod apps;
pub mod hooks;
pub mod keys;
pub mod orgs;
pub mod workflows;

use anyhow::Context;

/// A JSON document from a file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}", path.display()))
}

/// A document in JSON, or in YAML when the file is named `.yaml` / `.yml` (flows may be either).
pub fn read_document<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> anyhow::Result<T> {
    if !path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
        return read_json(path);
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    // Through JSON values, so YAML is read by exactly the same rules (unknown fields refused).
    let value: serde_json::Value = serde_yaml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    serde_json::from_value(value).with_context(|| format!("{}", path.display()))
}

/// `value` opened in the operator's editor (`$EDITOR`, else `vi`) as JSON; the edited document.
pub fn edit_json(value: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
    let path = std::env::temp_dir().join(format!("bridge-admin-{}.json", shared::common::random::secret(9)));
    std::fs::write(&path, serde_json::to_string_pretty(value)?)?;
    let editor = std::env::var("EDITOR").unwrap_or_else(|_| "vi".into());
    let status = std::process::Command::new(&editor).arg(&path).status().with_context(|| format!("starting {editor}"));
    let edited = status.and_then(|s| if s.success() { read_json(&path) } else { anyhow::bail!("{editor} failed") });
    let _ = std::fs::remove_file(&path);
    edited
}
