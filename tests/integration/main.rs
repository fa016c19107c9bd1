//! Integration tests: the login and SCIM functions' handlers and the admin tool against moto.
//! `harness` starts moto once per run (on a free port) and gives each test its own stack.
#![allow(clippy::unwrap_used)]

mod account;
mod account_email;
mod admin_api;
mod admin_apps;
mod app_access;
mod attacks;
mod backchannel_logout;
mod breached_passwords;
mod client_assertions;
mod consent;
mod corporate;
mod corporate_tokens;
mod emails;
mod faults;
mod harness;
mod invitations;
mod login_flow;
mod notices;
mod openid_provider;
mod orgs;
mod passwordless;
mod refresh_tokens;
mod requests;
mod risk;
mod saml_apps;
mod scim_clients;
mod scim_endpoints;
mod scim_harness;
mod scripted_provider;
mod sign_in_client;
mod sign_up;
mod sms_sender;
mod token_apps;
mod triggers;
mod workflows;
