//! Integration tests: the login function's handler and the admin tool against moto.
//! `harness` starts moto once per run (on a free port) and gives each test its own stack.
#![allow(clippy::unwrap_used)]

mod admin_apps;
mod faults;
mod harness;
mod login_flow;
mod orgs;
mod requests;
