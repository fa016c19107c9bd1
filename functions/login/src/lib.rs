//! The login function: `GET /sso/{app_id}`, `GET /sso/{app_id}/logout`, `POST /login`,
//! `POST /login/challenge`, `POST /password/forgot`, `POST /password/reset`, `POST /logout`,
//! `GET /logout/done`, `POST /corporate/start`, `GET /corporate/go`, `GET /corporate/callback`.
//!
//! `main.rs` wires it to Lambda; the dev server and the tests call [`handler::handle`] the same
//! way Lambda does. Sign-in logic lives in `shared::signin::service`, not here.

pub mod config;
mod cookies;
pub mod handler;
mod pages;
mod problem;
pub mod state;
