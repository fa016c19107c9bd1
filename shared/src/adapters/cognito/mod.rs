//! The ports implemented over Amazon Cognito: password authentication and the user pool
//! (`auth`), the SCIM-driven user directory (`directory`), and a person's own passkeys
//! (`account`).

pub mod account;
pub mod auth;
pub mod directory;
mod invitations;
mod pool_errors;
