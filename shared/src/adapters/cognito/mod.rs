//! The ports implemented over Amazon Cognito: password authentication and the user pool
//! (`auth`), and the SCIM-driven user directory (`directory`).

pub mod auth;
pub mod directory;
