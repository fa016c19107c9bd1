//! What the bridge does, in its own words: apps and where they may send people, the person's
//! profile, the claim mapping, sealed sign-in flows, token minting per app kind, and the
//! sign-in service that ties them together. Nothing here names an AWS SDK type or HTTP.

pub mod app;
pub mod claims;
pub mod corporate;
pub mod email;
pub mod encryption_sdk;
pub mod events;
pub mod flow;
pub mod hashing;
pub mod jws;
pub mod oidc;
pub mod org;
pub mod profile;
pub mod return_to;
pub mod risk;
pub mod scim;
pub mod scim_token;
pub mod session;
pub mod signin;
pub mod signing_keys;
pub mod sms_sender;
pub mod targets;
pub mod telephony;
pub mod time;
pub mod triggers;
pub mod workflow;
