//! The SCIM 2.0 function (`/scim/v2/...`): organisations provision their people from Okta,
//! Entra ID or any SCIM client. `handler` speaks HTTP; `shared::directory::scim` does the work.

pub mod config;
pub mod handler;
pub mod state;
