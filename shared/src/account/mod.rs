//! A signed-in person's own account: their passkeys today (the account page builds on it). It
//! works with the person's own Cognito access token, never an administrator's: Cognito has no
//! admin API for someone else's passkeys.
//!
//! Not here: HTTP, the Cognito calls (`adapters::cognito::account`).

pub mod ports;
