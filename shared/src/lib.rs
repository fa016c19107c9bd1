//! The bridge's shared library, one folder per capability:
//!
//! - [`signin`]: password and challenges, corporate sign-in, sealed flows, bridge sessions.
//! - [`tokens`]: apps, claim mapping, each app kind's token, our signing keys.
//! - [`directory`]: organisations, SCIM 2.0, Cognito sync, the Cognito triggers' rules.
//! - [`risk`]: the risk engine that guards each app.
//! - [`events`]: identity events, the record every capability writes.
//! - [`workflows`]: declarative workflows over identity events and their connectors.
//! - [`telephony`]: the operator's SMS hooks and the custom SMS sender.
//! - [`messages`]: the emails Cognito sends, in the person's language, from the operator's templates.
//! - [`admin`]: the operators' rules: roles, the audit trail, changes to apps and people.
//! - [`common`]: the vocabulary they share (email, profile, secrets, the store error).
//!
//! Each capability owns its model, its rules and the ports (traits) it needs; [`adapters`]
//! implements the ports over AWS and HTTPS. [`cache`] and [`config`] are small building blocks.
//! Capabilities depend on each other without cycles (`scripts/module_cycles.py` checks it).
//! It is not a web framework: HTTP parsing and status codes live in each function crate.

pub mod adapters;
pub mod admin;
pub mod cache;
pub mod common;
pub mod config;
pub mod consent;
pub mod directory;
pub mod events;
pub mod messages;
pub mod risk;
pub mod signin;
pub mod telephony;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tokens;
pub mod workflows;
