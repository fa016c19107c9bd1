//! The login function: the sign-in API the form and the apps call, as one `axum` router
//! ([`routes::router`]); see [`routes`] for the routes.
//!
//! `main.rs` runs the router in Lambda (`lambda_http::run`); the dev server and the tests run the
//! very same router. Sign-in logic lives in `shared::signin`, not here: each route is a few lines
//! around one call, and [`problem`] is the one mapping from its errors to what the browser is told.

pub mod config;
mod cookies;
mod pages;
pub mod problem;
pub mod routes;
pub mod state;
mod web;
