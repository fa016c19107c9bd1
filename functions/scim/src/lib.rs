//! The SCIM 2.0 function (`/scim/v2/...`): organisations provision their people from Okta,
//! Entra ID or any SCIM client. [`routes`] is its API as an `axum` router; [`web`] its HTTP
//! vocabulary; `shared::directory::scim` does the work.

pub mod config;
pub mod routes;
pub mod state;
pub mod web;
