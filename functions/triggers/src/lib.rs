//! The Cognito trigger Lambda: PreSignUp, PostConfirmation, PostAuthentication, CustomMessage
//! and PreTokenGeneration (V2, and V1 for pools without the Essentials plan) in one function. It
//! records and decides from data at hand; slow work is left to the workflow runner.

pub mod handler;
#[cfg(feature = "local")]
pub mod local_invoke;
pub mod state;
