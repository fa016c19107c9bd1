//! Who belongs where: organisations and their email domains, the SCIM 2.0 service and its
//! resources, SCIM tokens, keeping Cognito users in step with SCIM, and the Cognito triggers'
//! rules (account linking, token claims). It does not sign anyone in.

pub mod org;
pub mod ports;
pub mod provider;
pub mod scim;
pub mod scim_token;
pub mod triggers;
