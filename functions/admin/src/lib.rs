//! The admin API (`/admin/v1/...`): what the operators' console calls, one Lambda function
//! with its own role. `routes` maps each route to one call of `shared::admin`; `web` holds the
//! HTTP vocabulary (the caller, bodies, versions, problems); `state` the wiring; `config` the
//! environment. The contract is `docs/admin-openapi.yaml`.

pub mod config;
pub mod routes;
pub mod state;
pub mod web;
