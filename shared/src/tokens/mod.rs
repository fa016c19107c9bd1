//! The apps people sign in to and the tokens the bridge mints for them: the app model and its
//! allowed origins, the claim mapping, each app kind's token (`targets`), JWS signing and our own
//! signing keys. It knows nothing of how a person signed in.

pub mod app;
pub mod claims;
pub mod client_assertion;
pub mod jws;
pub mod ports;
pub mod return_to;
pub mod saml;
pub mod signing_keys;
pub mod targets;
