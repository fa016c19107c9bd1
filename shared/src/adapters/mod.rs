//! The ports implemented over AWS and HTTPS. Every conversion between SDK types and domain
//! types happens here; nothing outside this module names an SDK type.

pub mod activity;
pub mod aws;
pub mod cached_apps;
pub mod cached_orgs;
pub mod cognito;
pub mod cognito_directory;
pub mod dynamo;
pub mod dynamo_apps;
pub mod dynamo_hooks;
pub mod dynamo_keys;
pub mod dynamo_orgs;
pub mod dynamo_scim;
pub mod dynamo_sessions;
pub mod dynamo_workflows;
pub mod hook_http;
pub mod hook_metrics;
pub mod http_connectors;
pub mod jwks;
pub mod kms_keyring;
pub mod oidc_http;
pub mod outbound_auth;
pub mod secrets_manager;
pub mod workflow_runner;
