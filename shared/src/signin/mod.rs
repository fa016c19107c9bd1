//! How a person signs in: password and Cognito's challenges, corporate sign-in through a
//! company's OpenID provider, the sealed flow state carried by the form, bridge sessions, and the
//! service that ties them to risk and minting. It is not HTTP: the login function maps its
//! results to routes and statuses.

pub mod arrival;
pub mod challenge;
pub mod corporate;
pub mod ending_sessions;
pub mod entry;
pub mod flow;
pub mod oidc;
pub mod password;
pub mod ports;
pub mod service;
pub mod session;
