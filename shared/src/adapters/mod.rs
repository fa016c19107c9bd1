//! The ports implemented over AWS and HTTPS. Every conversion between SDK types and domain
//! types happens here; nothing outside this module names an SDK type.
//!
//! Grouped by AWS service (`cognito`, `dynamo`, `http` and single files for KMS and Secrets
//! Manager), not by capability: each group shares its SDK client and conversions (for example
//! `dynamo`'s item helpers), and one capability's stores often share one table.

pub mod aws;
pub mod cached_apps;
pub mod cached_orgs;
pub mod cognito;
pub mod console_tokens;
pub mod dynamo;
pub mod hook_metrics;
pub mod http;
pub mod kms_keyring;
#[cfg(feature = "lambda-edge")]
pub mod lambda_edge;
#[cfg(feature = "local")]
pub mod local_stack;
pub mod logs;
pub mod secrets_manager;
pub mod ses;
pub mod tls;
pub mod workflow_runner;
